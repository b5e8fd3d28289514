import { describe, expect, it } from 'vitest';
import { BybitError } from './bybit-error.js';
import { toExecutionError } from './bybit-execution-client.js';
import { AuthenticationError, DDoSProtection, ExchangeError, InvalidNonce, NetworkError, RateLimitExceeded } from './ccxt-bybit.js';

/**
 * How a ccxt or transport error becomes the adapter's BybitError: its code (what the client's retry rules and the
 * runner's metrics go by), the retCode and HTTP status read from ccxt's message, the quoted message (truncated) and
 * the redaction of keys. The message forms are ccxt's: `bybit <body>` for a venue answer, `bybit <METHOD> <url>
 * <status> <reason> <body>` for an HTTP failure.
 */
const SECRET = 'sEcReT0123456789abcdef';
const KEY = 'kEy0123456789ab';
const url = 'https://api-demo.bybit.com/v5/order/realtime?category=linear&orderLinkId=r_s_0_1_0';

describe('toExecutionError', () => {
  it('a venue answer: venue_rejected with the retCode in the context', () => {
    const e = toExecutionError(new ExchangeError('bybit {"retCode":110072,"retMsg":"OrderLinkedID is duplicate","result":{}}'), []);
    expect(e).toBeInstanceOf(BybitError);
    expect(e.code).toBe('venue_rejected');
    expect(e.context).toEqual({ ccxtError: 'ExchangeError', retCode: 110072 });
    expect(e.message).toBe('Bybit rejected the request: bybit {"retCode":110072,"retMsg":"OrderLinkedID is duplicate","result":{}}');
  });

  it('reads the retCode in both of Bybit’s spellings, quoted or not, with spaces around the colon', () => {
    expect(toExecutionError(new ExchangeError('bybit {"ret_code":"10006","ret_msg":"too many visits"}'), []).context['retCode']).toBe(10006);
    expect(toExecutionError(new ExchangeError('bybit {"retCode" : -1,"retMsg":"x"}'), []).context['retCode']).toBe(-1);
    expect(toExecutionError(new ExchangeError('bybit {"retMsg":"no code"}'), []).context).toEqual({ ccxtError: 'ExchangeError' });
  });

  it('classifies by ccxt class: rate limits, credentials, nonce, HTTP status, transport', () => {
    const code = (e: unknown) => {
      const mapped = toExecutionError(e, []);
      // What was thrown stays reachable (redacted) as the cause.
      expect(mapped.cause).toBeDefined();
      return mapped.code;
    };
    expect(code(new RateLimitExceeded('bybit {"retCode":10006}'))).toBe('rate_limited');
    expect(code(new DDoSProtection('bybit GET https://x 403 Forbidden'))).toBe('rate_limited');
    // AuthenticationError is an ExchangeError, InvalidNonce a NetworkError: each keeps its own code.
    expect(code(new AuthenticationError('bybit {"retCode":10003,"retMsg":"API key is invalid."}'))).toBe('authentication');
    expect(code(new InvalidNonce('bybit {"retCode":10002,"retMsg":"invalid request, please check your server timestamp"}'))).toBe('venue_rejected');
    expect(code(new NetworkError('bybit GET https://x request timed out (10000 ms)'))).toBe('network');
    expect(code(new TypeError('fetch failed'))).toBe('unexpected_status');
    expect(code('a thrown string')).toBe('unexpected_status');
  });

  it('an HTTP failure: unexpected_status naming the status, read only from ccxt’s leading `<id> <METHOD> <url> <status> `', () => {
    const e = toExecutionError(new NetworkError(`bybit GET ${url} 503 Service Unavailable upstream connect error`), []);
    expect(e.code).toBe('unexpected_status');
    expect(e.context).toEqual({ ccxtError: 'NetworkError', status: 503 });
    expect(e.message).toBe(`Bybit answered HTTP 503: bybit GET ${url} 503 Service Unavailable upstream connect error`);
    // The same words later in a message are not a status line.
    const later = toExecutionError(new NetworkError(`request failed: bybit GET ${url} 503 Service Unavailable`), []);
    expect(later.code).toBe('network');
    expect(later.context).toEqual({ ccxtError: 'NetworkError' });
    expect(later.message).toBe(`Bybit request failed: request failed: bybit GET ${url} 503 Service Unavailable`);
  });

  it('names what was thrown and quotes it', () => {
    expect(toExecutionError(new TypeError('fetch failed'), [])).toMatchObject({ message: 'Bybit request failed: fetch failed', context: { ccxtError: 'TypeError' } });
    expect(toExecutionError('socket hang up', [])).toMatchObject({ message: 'Bybit request failed: socket hang up', context: { ccxtError: 'string' } });
    expect(toExecutionError(new RateLimitExceeded('bybit {"retCode":10006}'), [])).toMatchObject({ message: 'Bybit rate limit hit: bybit {"retCode":10006}', context: { ccxtError: 'RateLimitExceeded', retCode: 10006 } });
    expect(toExecutionError(new AuthenticationError('bybit {"retCode":10003}'), [])).toMatchObject({ message: 'Bybit refused the credentials: bybit {"retCode":10003}', context: { retCode: 10003 } });
  });

  it('a BybitError passes through as it is', () => {
    const own = new BybitError('invalid_response', 'Bybit order: field qty: bad', { field: 'qty' });
    expect(toExecutionError(own, [SECRET])).toBe(own);
  });

  it('quotes at most 400 characters of the message', () => {
    const exactly = 'x'.repeat(400 - 'bybit '.length);
    expect(toExecutionError(new NetworkError(`bybit ${exactly}`), []).message).toBe(`Bybit request failed: bybit ${exactly}`);
    const long = toExecutionError(new NetworkError(`bybit ${exactly}yz`), []).message;
    expect(long).toBe(`Bybit request failed: bybit ${exactly}…`);
  });

  it('never quotes a key, the secret, a signature or an X-BAPI header value, in the message or its cause', () => {
    const raw = `bybit POST https://api-demo.bybit.com/v5/order/create 401 Unauthorized {"retCode":10004,"retMsg":"error sign! origin_string[${KEY}${SECRET}]"} headers {"X-BAPI-API-KEY":"${KEY}","X-BAPI-SIGN":"0a1b2c3d4e5f60718293a4b5c6d7e8f9"}`;
    const e = toExecutionError(new AuthenticationError(raw), [KEY, SECRET]);
    expect(e.code).toBe('authentication');
    expect(e.context).toEqual({ ccxtError: 'AuthenticationError', retCode: 10004, status: 401 });
    const text = `${e.message} ${JSON.stringify(e.context)} ${String((e.cause as Error).message)} ${String((e.cause as Error).stack)}`;
    for (const s of [KEY, SECRET, '0a1b2c3d4e5f60718293a4b5c6d7e8f9']) expect(text).not.toContain(s);
    expect(e.message).toContain('[REDACTED]');
    expect(e.cause).toBeInstanceOf(Error);
  });
});
