import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BybitError, BybitExecutionClient, loadBybitKeys } from './index.js';
import { EventRecorder, order } from '../../../test/contract/execution-client.contract.js';
import { BYBIT_TEST_INSTRUMENTS, settleClient, wallClock } from '../../../test/support/bybit-execution-harness.js';
import { BybitV5Venue, TEST_API_KEY, TEST_API_SECRET } from '../../../test/support/bybit-v5-venue.js';

/**
 * Secrets at the adapter boundary: every error path of the Bybit execution client is forced against the local venue
 * with known test keys, and neither the key nor the secret (nor a request signature, nor an X-BAPI-* header value)
 * may appear in any error (message, stack, context, cause chain, JSON, inspect) or event, or on stdout/stderr.
 */
const WRONG_SECRET = 'tmWRONGsecretZ8x2Vq5Lm3';
const SECRETS = [TEST_API_KEY, TEST_API_SECRET, WRONG_SECRET];

function everything(e: unknown, depth = 0): string {
  if (depth > 6 || e === undefined || e === null) return '';
  if (!(e instanceof Error)) return typeof e === 'string' ? e : JSON.stringify(e) ?? '';
  return [e.message, e.stack ?? '', JSON.stringify(e), JSON.stringify((e as { context?: unknown }).context ?? {}), inspect(e, { depth: 10 }), everything(e.cause, depth + 1)].join('\n');
}

function expectClean(text: string, where: string): void {
  for (const s of SECRETS) expect(text.includes(s), `${where} contains a secret`).toBe(false);
  expect(text, `${where} carries a signature`).not.toMatch(/\b[0-9a-f]{64}\b/);
  expect(text, `${where} carries an X-BAPI header value`).not.toMatch(/X-BAPI-(?:SIGN|API-KEY)['"]?\s*[:=]\s*['"]?(?!\[REDACTED\])[A-Za-z0-9]/i);
}

describe('Bybit execution adapter: no key, secret or signature leaves the adapter', () => {
  let output = '';
  let venue: BybitV5Venue;
  const clients: BybitExecutionClient[] = [];
  beforeEach(async () => {
    output = '';
    const capture = (chunk: unknown) => {
      output += String(chunk);
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
    for (const m of ['log', 'error', 'warn', 'info', 'debug'] as const) vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void capture(a.map((x) => (typeof x === 'string' ? x : inspect(x))).join(' ')));
    venue = await BybitV5Venue.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await venue.close();
    vi.restoreAllMocks();
    expectClean(output, 'stdout/stderr');
  });

  const client = (secret = TEST_API_SECRET, apiKey = TEST_API_KEY, extra: Record<string, unknown> = {}) => {
    const errors: BybitError[] = [];
    const c = new BybitExecutionClient({ apiUrl: venue.url, rateLimitMs: 0, timeoutMs: 300, backoffBaseMs: 1, backoffMaxMs: 5, ...extra }, { instruments: BYBIT_TEST_INSTRUMENTS, keys: { apiKey, apiSecret: secret }, clock: wallClock, env: {}, onError: (e) => errors.push(e) });
    clients.push(c);
    const rec = new EventRecorder();
    c.connect(rec);
    return { c, rec, errors };
  };

  async function failure(p: Promise<unknown>): Promise<BybitError> {
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(BybitError);
      return e as BybitError;
    }
    throw new Error('expected a failure');
  }

  it('authentication failures (wrong secret: Bybit echoes the signed string with the key; unknown key)', async () => {
    const { c, rec, errors } = client(WRONG_SECRET);
    const e = await failure(c.balance());
    expect(e.code).toBe('authentication');
    expect(e.context['retCode']).toBe(10004);
    expect(e.message).toContain('[REDACTED]');
    expectClean(everything(e), 'wrong-secret error');
    c.submit(order('buy', 'market', 0.1, { clientOrderId: 'rd_1' }));
    c.cancel('rd_1', 0);
    await c.flush();
    expect(rec.kinds('rd_1')).toEqual(['rejected', 'cancel-rejected']);
    expectClean(JSON.stringify(rec.events), 'events');
    const unknown = client(TEST_API_SECRET, 'tmUNKNOWNkeyQ4w7');
    const e2 = await failure(unknown.c.positions());
    expect(e2.context['retCode']).toBe(10003);
    expectClean(everything(e2) + errors.map((x) => everything(x)).join(''), 'unknown-key error');
  });

  it('5xx, timeouts, dropped connections, rate limits past the retries, 10002 twice', async () => {
    const { c } = client(TEST_API_SECRET, TEST_API_KEY, { rateLimitRetries: 0 });
    const path = '/v5/account/wallet-balance';
    const cases: [Parameters<BybitV5Venue['injectFault']>[0], string, number][] = [
      ['server_error', 'unexpected_status', 1],
      ['never_answered', 'network', 1],
      ['dropped_connection', 'network', 1],
      ['rate_limit', 'rate_limited', 1],
      ['http_429', 'rate_limited', 1],
      ['http_403', 'rate_limited', 1],
      ['timestamp', 'venue_rejected', 2],
    ];
    for (const [kind, code, count] of cases) {
      venue.injectFault(kind, { path, count });
      const e = await failure(c.balance());
      expect(e.code, kind).toBe(code);
      expectClean(everything(e), `${kind} error`);
    }
  });

  it('venue rejects as events: 110072, 110007, 110001, and a poll that fails', async () => {
    const { c, rec, errors } = client();
    c.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rd_2' }));
    c.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rd_2' }));
    await c.flush();
    venue.injectFault('insufficient_balance', { path: '/v5/order/create' });
    c.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rd_3' }));
    c.cancel('rd_unknown', 0);
    await settleClient(c);
    expect(rec.kinds('rd_2')).toEqual(['accepted', 'rejected']);
    expect(rec.kinds('rd_3')).toEqual(['rejected']);
    expect(rec.kinds('rd_unknown')).toEqual(['cancel-rejected']);
    expectClean(JSON.stringify(rec.events), 'events');
    venue.injectFault('server_error', { path: '/v5/order/realtime' });
    const e = await failure(c.poll());
    expectClean(everything(e) + errors.map((x) => everything(x)).join(''), 'poll error');
  });

  it('key loading and config errors', () => {
    const errors: unknown[] = [];
    try {
      loadBybitKeys({ BYBIT_API_KEY: TEST_API_KEY });
    } catch (e) {
      errors.push(e);
    }
    try {
      new BybitExecutionClient({ mainnet: true }, { instruments: [], keys: { apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET }, clock: wallClock, env: {} });
    } catch (e) {
      errors.push(e);
    }
    expect(errors.length).toBe(2);
    for (const e of errors) expectClean(everything(e), 'config error');
  });
});
