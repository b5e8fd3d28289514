/**
 * Redaction on real error objects: axios against a local 127.0.0.1 server and ccxt's bybit against the local Bybit v5
 * test server, both sending a fake API key, secret-derived signature and bearer token. A plain pino logger leaks them
 * (so the errors really carry the secrets); the root logger of src/monitoring/logger.ts does not.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import axios from 'axios';
import { bybit as CcxtBybit } from 'ccxt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, REDACT_CENSOR } from '../../src/monitoring/logger.js';
import { BybitV5Reject, BybitV5Server } from '../support/bybit-v5-server.js';

const API_KEY = 'TESTKEY-7f3a9c1e55';
const API_SECRET = 'TESTSECRET-b81d2e6f0a9c44';
const SIGNATURE = 'f00dfacecafe0123456789abcdef0123456789abcdef0123456789abcdef0011';
const TOKEN = 'bearer-token-3c2b1a';
const SECRETS = [API_KEY, API_SECRET, SIGNATURE, TOKEN];

/** A pino destination collecting lines. */
function sink(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join(''), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const leaked = (text: string) => SECRETS.filter((s) => text.includes(s));

let http: Server;
let httpUrl = '';
beforeAll(async () => {
  // Answers like Bybit: an error envelope that does not echo the request (free-text echoes are the message redactor's job).
  http = createServer((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ retCode: 10003, retMsg: 'API key is invalid.' }));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => http.close(() => r())));

async function axiosError(): Promise<unknown> {
  try {
    await axios.get(`${httpUrl}/v5/order/realtime`, {
      params: { category: 'linear', symbol: 'BTCUSDT', api_key: API_KEY, sign: SIGNATURE },
      headers: { 'X-BAPI-API-KEY': API_KEY, 'X-BAPI-SIGN': SIGNATURE, 'X-BAPI-TIMESTAMP': '1700000000000', Authorization: `Bearer ${TOKEN}` },
      timeout: 5_000,
    });
  } catch (e) {
    return e;
  }
  throw new Error('the local server must answer 401');
}

describe('log redaction: axios errors', () => {
  it('a plain pino logger leaks the key, signature and token carried by the axios error', async () => {
    const out = sink();
    pino(out.stream).error({ err: await axiosError() }, 'venue request failed');
    expect(leaked(out.text())).toEqual(expect.arrayContaining([API_KEY, SIGNATURE, TOKEN]));
  });

  it('the root logger keeps method, path, status and venue answer, and no secret', async () => {
    const e = (await axiosError()) as { config: { headers: unknown } };
    const out = sink();
    const logger = createLogger({ level: 'info', runner: 'paper-1' }, out.stream);
    const child = logger.child({ instrument: 'BTCUSDT-LINEAR.BYBIT' });
    child.error({ err: e, event: 'venue_request_failed' }, 'venue request failed');
    child.warn({ event: 'retry', request: { headers: e.config.headers }, config: e.config }, 'retrying');
    child.info({ event: 'credentials_loaded', credentials: { apiKey: API_KEY, secret: API_SECRET } }, 'credentials loaded');
    expect(leaked(out.text())).toEqual([]);
    const [error, retry, loaded] = out.lines();
    expect(error).toMatchObject({ level: 'error', msg: 'venue request failed', runner: 'paper-1', instrument: 'BTCUSDT-LINEAR.BYBIT', event: 'venue_request_failed' });
    expect(typeof error!['time']).toBe('string');
    expect(new Date(error!['time'] as string).toISOString()).toBe(error!['time']);
    expect(error!['err']).toMatchObject({ type: 'AxiosError', code: 'ERR_BAD_REQUEST', method: 'GET', url: `${httpUrl}/v5/order/realtime`, status: 401, responseBody: { retCode: 10003, retMsg: 'API key is invalid.' } });
    expect((retry!['request'] as { headers: Record<string, unknown> }).headers['X-BAPI-API-KEY']).toBe(REDACT_CENSOR);
    expect((retry!['request'] as { headers: Record<string, unknown> }).headers['X-BAPI-SIGN']).toBe(REDACT_CENSOR);
    expect((retry!['config'] as { headers: Record<string, unknown> }).headers['Authorization']).toBe(REDACT_CENSOR);
    expect((retry!['request'] as { headers: Record<string, unknown> }).headers['X-BAPI-TIMESTAMP']).toBe('1700000000000');
    expect(loaded!['credentials']).toEqual({ apiKey: REDACT_CENSOR, secret: REDACT_CENSOR });
  });
});

describe('log redaction: ccxt errors', () => {
  let venue: BybitV5Server;
  let exchange: InstanceType<typeof CcxtBybit>;
  beforeAll(async () => {
    venue = await BybitV5Server.start();
    for (const path of ['/v5/account/wallet-balance', '/v5/user/query-api', '/v5/account/info', '/v5/asset/coin/query-info']) {
      venue.route('GET', path, () => {
        throw new BybitV5Reject(10003, 'API key is invalid.');
      });
    }
    const url = venue.url;
    exchange = new CcxtBybit({
      apiKey: API_KEY,
      secret: API_SECRET,
      timeout: 5_000,
      urls: { api: { spot: url, futures: url, v2: url, public: url, private: url } },
      options: { defaultType: 'swap', defaultSubType: 'linear', fetchMarkets: { types: ['linear'] } },
    });
  });
  afterAll(async () => {
    await exchange.close();
    await venue.close();
  });

  async function ccxtError(): Promise<unknown> {
    try {
      await exchange.fetchBalance();
    } catch (e) {
      return e;
    }
    throw new Error('the local Bybit server must reject the key');
  }

  it('ccxt signed the request with the key (a plain logger of its request leaks it) and threw AuthenticationError', async () => {
    const e = await ccxtError();
    expect((e as Error).constructor.name).toBe('AuthenticationError');
    const out = sink();
    pino(out.stream).error({ err: e, request: { headers: exchange.last_request_headers } }, 'balance failed');
    expect(leaked(out.text())).toContain(API_KEY);
    expect(venue.requests.some((r) => r.path.startsWith('/v5/') && r.outcome === 'rejected')).toBe(true);
  });

  it('the root logger keeps the ccxt error and drops key, secret and signature', async () => {
    const e = await ccxtError();
    const out = sink();
    const logger = createLogger({ level: 'info', runner: 'paper-1' }, out.stream);
    logger.error({ err: e, event: 'venue_rejected', request: { url: exchange.last_request_url, headers: exchange.last_request_headers } }, 'balance failed');
    logger.error({ event: 'exchange_config', exchange: { apiKey: exchange.apiKey, secret: exchange.secret } }, 'exchange config');
    const text = out.text();
    expect(leaked(text)).toEqual([]);
    const signed = exchange.last_request_headers as Record<string, string>;
    expect(Object.keys(signed)).toEqual(expect.arrayContaining(['X-BAPI-API-KEY', 'X-BAPI-SIGN']));
    expect(text).not.toContain(signed['X-BAPI-SIGN']!);
    const [line] = out.lines();
    expect(line!['err']).toMatchObject({ type: 'AuthenticationError' });
    expect(String((line!['err'] as { message: string }).message)).toContain('API key is invalid.');
    expect((line!['request'] as { headers: Record<string, unknown> }).headers['X-BAPI-API-KEY']).toBe(REDACT_CENSOR);
  });
});
