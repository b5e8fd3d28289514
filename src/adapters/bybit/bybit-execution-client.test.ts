import { afterEach, describe, expect, it } from 'vitest';
import { EventRecorder, order } from '../../../test/contract/execution-client.contract.js';
import { settleClient, startBybitPair } from '../../../test/support/bybit-execution-harness.js';
import type { BybitV5Venue } from '../../../test/support/bybit-v5-venue.js';
import { BybitError } from './bybit-error.js';
import type { BybitExecutionClient } from './bybit-execution-client.js';

/** The Bybit execution client against the local v5 venue (real ccxt, signed requests): its rules beyond the contract. */
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

async function pair(...args: Parameters<typeof startBybitPair>): Promise<{ venue: BybitV5Venue; client: BybitExecutionClient; rec: EventRecorder }> {
  const p = await startBybitPair(...args);
  closers.push(() => p.close());
  const rec = new EventRecorder();
  p.client.connect(rec);
  await p.client.prepare();
  return { venue: p.venue, client: p.client, rec };
}

const creates = (venue: BybitV5Venue, id: string) => venue.privateLog.filter((e) => e.path === '/v5/order/create' && e.orderLinkId === id);
const paths = (venue: BybitV5Venue, id: string) => venue.privateLog.filter((e) => e.orderLinkId === id).map((e) => `${e.path}:${e.outcome}`);

describe('BybitExecutionClient: never a blind retry', () => {
  it('placed but unanswered: looks the order up by orderLinkId and adopts it, never sends it again', async () => {
    const { venue, client, rec } = await pair({}, { timeoutMs: 300 });
    venue.injectFault('never_answered', { path: '/v5/order/create' });
    client.submit(order('buy', 'market', 0.1, { clientOrderId: 'nb_1' }));
    await settleClient(client);
    expect(paths(venue, 'nb_1')).toEqual(['/v5/order/create:done_unanswered', '/v5/order/realtime:ok']);
    venue.trade(100);
    await client.poll();
    expect(rec.kinds('nb_1')).toEqual(['accepted', 'fill']);
    expect(venue.orders().length).toBe(1);
  });

  it('not placed (dropped before the venue): queried, absent, sent once more with the same orderLinkId', async () => {
    const { venue, client, rec } = await pair();
    venue.injectFault('dropped_connection', { path: '/v5/order/create' });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'nb_2' }));
    await settleClient(client);
    expect(paths(venue, 'nb_2')).toEqual(['/v5/order/create:fault', '/v5/order/realtime:ok', '/v5/order/history:ok', '/v5/order/create:ok']);
    expect(rec.kinds('nb_2')).toEqual(['accepted']);
  });

  it('the lookup misses a placed order (a stale listing): sent once more with the same orderLinkId, 110072 → adopted, one order', async () => {
    const { venue, client, rec } = await pair({}, { timeoutMs: 300 });
    venue.injectFault('never_answered', { path: '/v5/order/create' });
    venue.injectFault('stale_read', { path: '/v5/order/realtime' });
    venue.injectFault('stale_read', { path: '/v5/order/history' });
    client.submit(order('sell', 'limit', 0.1, { price: 101, clientOrderId: 'nb_3' }));
    await settleClient(client);
    expect(paths(venue, 'nb_3')).toEqual(['/v5/order/create:done_unanswered', '/v5/order/realtime:ok', '/v5/order/history:ok', '/v5/order/create:ret_110072', '/v5/order/realtime:ok']);
    expect(venue.faultCounts()['duplicate_order_link_id']).toBe(1);
    expect(venue.orders().length).toBe(1);
    expect(rec.kinds('nb_3')).toEqual(['accepted']);
  });

  it('a new client re-issuing a decision the venue already has (a restart): 110072 → adopted with its fills', async () => {
    const first = await pair();
    first.client.submit(order('buy', 'market', 0.1, { clientOrderId: 'nb_4' }));
    await settleClient(first.client);
    first.venue.trade(100);
    await first.client.poll();
    // A second client on the same account (the restarted runner) issues the same decision again.
    const { BybitExecutionClient } = await import('./bybit-execution-client.js');
    const { BYBIT_TEST_INSTRUMENTS, wallClock } = await import('../../../test/support/bybit-execution-harness.js');
    const { TEST_API_KEY, TEST_API_SECRET } = await import('../../../test/support/bybit-v5-venue.js');
    const second = new BybitExecutionClient({ apiUrl: first.venue.url, rateLimitMs: 0 }, { instruments: BYBIT_TEST_INSTRUMENTS, keys: { apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET }, clock: wallClock, env: {} });
    closers.push(() => second.close());
    const rec = new EventRecorder();
    second.connect(rec);
    second.submit(order('buy', 'market', 0.1, { clientOrderId: 'nb_4' }));
    await settleClient(second);
    expect(first.venue.faultCounts()['duplicate_order_link_id']).toBe(1);
    expect(rec.kinds('nb_4')).toEqual(['accepted', 'fill']);
    expect(first.venue.orders().length).toBe(1);
    expect(first.venue.position()).toBeCloseTo(0.1, 12);
  });

  it('unknown after 3 failed lookups: lost (event and list), found again by a later poll', async () => {
    const lost: string[] = [];
    const { venue, client, rec } = await pair({}, { timeoutMs: 300 }, { onOrderLost: (e) => lost.push(e.clientOrderId) });
    venue.injectFault('never_answered', { path: '/v5/order/create' });
    venue.injectFault('server_error', { path: '/v5/order/realtime', count: 3 });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'nb_5' }));
    await client.flush();
    expect(lost).toEqual(['nb_5']);
    expect(client.lostOrders().map((l) => l.clientOrderId)).toEqual(['nb_5']);
    expect(client.pending()).toBe(0);
    expect(creates(venue, 'nb_5').length).toBe(1);
    await client.poll();
    expect(client.lostOrders()).toEqual([]);
    expect(rec.kinds('nb_5')).toEqual(['accepted']);
  });
});

describe('BybitExecutionClient: venue answers', () => {
  it('10006 and HTTP 429/403: backs off and succeeds, one order', async () => {
    const { venue, client, rec } = await pair();
    venue.injectFault('rate_limit', { path: '/v5/order/create' });
    venue.injectFault('http_429', { path: '/v5/order/create' });
    venue.injectFault('http_403', { path: '/v5/order/create' });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'va_1' }));
    await settleClient(client);
    expect(creates(venue, 'va_1').map((e) => e.outcome)).toEqual(['fault', 'fault', 'fault', 'ok']);
    expect(rec.kinds('va_1')).toEqual(['accepted']);
  });

  it('rate limited past the allowed retries: rejected (it never reached the book)', async () => {
    const { venue, client, rec } = await pair({}, { rateLimitRetries: 1 });
    venue.injectFault('rate_limit', { path: '/v5/order/create', count: 2 });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'va_2' }));
    await settleClient(client);
    expect(rec.kinds('va_2')).toEqual(['rejected']);
    expect(venue.orders()).toEqual([]);
  });

  it('10002 from a venue clock 30 s ahead: resyncs once (GET /v5/market/time) and goes through', async () => {
    const { venue, client, rec } = await pair({ now: () => Date.now() + 30_000 });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'va_3' }));
    await settleClient(client);
    expect(rec.kinds('va_3')).toEqual(['accepted']);
    expect(venue.orders().length).toBe(1);
  });

  it('110007 insufficient balance: rejected with the reason', async () => {
    const { client, rec } = await pair({ accounts: [{ apiKey: (await import('../../../test/support/bybit-v5-venue.js')).TEST_API_KEY, apiSecret: (await import('../../../test/support/bybit-v5-venue.js')).TEST_API_SECRET, balance: 10 }] });
    client.submit(order('buy', 'limit', 10, { price: 99, clientOrderId: 'va_4' }));
    await settleClient(client);
    expect(rec.kinds('va_4')).toEqual(['rejected']);
    expect((rec.events[0] as { reason: string }).reason).toMatch(/110007|not enough/);
  });

  it('set-leverage: changes it, and "not modified" (110043) counts as done', async () => {
    const { venue, client } = await pair();
    await client.setLeverage(0, 5);
    await client.setLeverage(0, 5);
    expect(venue.privateLog.filter((e) => e.path === '/v5/position/set-leverage').map((e) => e.outcome)).toEqual(['ok', 'ret_110043']);
    await expect(client.setLeverage(0, 500)).rejects.toBeInstanceOf(BybitError);
  });

  it('a venue restart forgets closed orders in realtime: the lookup falls back to history', async () => {
    const { venue, client } = await pair();
    client.submit(order('buy', 'market', 0.1, { clientOrderId: 'va_5' }));
    await settleClient(client);
    venue.trade(100);
    await client.poll();
    venue.restart();
    const report = await client.queryOrder('va_5', 0);
    expect(report).toMatchObject({ clientOrderId: 'va_5', status: 'FILLED', filledQuantity: 0.1 });
    expect(venue.privateLog.slice(-2).map((e) => `${e.path}:${e.outcome}`)).toEqual(['/v5/order/realtime:ok', '/v5/order/history:ok']);
    expect(await client.queryOrder('va_never', 0)).toBeUndefined();
  });
});

describe('BybitExecutionClient: venue queries', () => {
  it('open orders by prefix, positions of every instrument, balance', async () => {
    const { venue, client } = await pair();
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'runA_1' }));
    client.submit(order('buy', 'limit', 0.2, { price: 98, clientOrderId: 'runB_1' }));
    client.submit(order('buy', 'market', 0.3, { clientOrderId: 'runA_2' }));
    await settleClient(client);
    venue.trade(100);
    await client.poll();
    expect((await client.openOrders('runA_')).map((o) => [o.clientOrderId, o.status, o.quantity])).toEqual([['runA_1', 'ACCEPTED', 0.1]]);
    const positions = await client.positions();
    expect(positions.map((p) => [p.instrument, p.quantity])).toEqual([
      [0, 0.3],
      [1, 0],
    ]);
    expect(positions[0]!.averagePrice).toBe(100);
    const balance = await client.balance();
    expect(balance.currency).toBe('USDT');
    expect(balance.walletBalance).toBeCloseTo(100_000 - 0.3 * 100 * 0.00055, 9);
    expect(balance.walletBalance).toBeCloseTo(venue.walletBalance(), 9);
  });

  it('executions since a time more than 7 days back: split into 7-day windows, oldest first', async () => {
    let now = Date.UTC(2026, 0, 1);
    const { venue, client } = await pair({ now: () => now, recvWindowCheck: false });
    const fills: number[] = [];
    for (let day = 0; day < 20; day += 4) {
      now = Date.UTC(2026, 0, 1) + day * 86_400_000;
      client.submit(order('buy', 'market', 0.1, { clientOrderId: `ex_${day}` }));
      await client.flush();
      venue.trade(100 + day);
      fills.push(now);
    }
    now += 1000;
    const executions = await client.executionsSince(Date.UTC(2025, 11, 31));
    expect(executions.map((e) => e.tsEvent)).toEqual(fills);
    expect(executions.map((e) => e.price)).toEqual([100, 104, 108, 112, 116]);
    const windows = venue.privateLog.filter((e) => e.path === '/v5/execution/list').length;
    expect(windows).toBeGreaterThanOrEqual(3);
  });
});
