import { afterEach, describe, expect, it } from 'vitest';
import { EventRecorder, order } from '../../../test/contract/execution-client.contract.js';
import { BYBIT_TEST_INSTRUMENTS, settleClient, startBybitPair, wallClock } from '../../../test/support/bybit-execution-harness.js';
import { TEST_API_KEY, TEST_API_SECRET, type BybitV5Venue } from '../../../test/support/bybit-v5-venue.js';
import { BYBIT_LINEAR_PERPETUALS, type Instrument } from '../../core/instrument.js';
import { BybitError } from './bybit-error.js';
import { BybitExecutionClient, type BybitExecutionConfigInput } from './bybit-execution-client.js';

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

/** A pair whose limit buy `id` (0.1 at 99) was placed but declared lost: its create unanswered, 3 lookups failed. */
async function lostOrder(id: string): Promise<Awaited<ReturnType<typeof pair>>> {
  const p = await pair({}, { timeoutMs: 300 });
  await lostOrderOn(p.venue, p.client, id);
  return p;
}

/** Places limit buy `id` (0.1 at 99) through `client` and has it declared lost as {@link lostOrder} does. */
async function lostOrderOn(venue: BybitV5Venue, client: BybitExecutionClient, id: string): Promise<void> {
  venue.injectFault('never_answered', { path: '/v5/order/create' });
  venue.injectFault('server_error', { path: '/v5/order/realtime', count: 3 });
  client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: id }));
  await client.flush();
  expect(client.orderState(id)).toBe('lost');
}

/** Submits limit buy `id` (0.1 at 99, instrument 0) and waits until the client has done all it does for the command. */
async function placeLimitBuy(client: BybitExecutionClient, id: string): Promise<void> {
  client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: id }));
  await client.flush();
}

/** A pair (submit timeout 300 ms) whose lost orders' reasons are collected in `lost`, in order. */
async function pairNotingLosses(): Promise<Awaited<ReturnType<typeof pair>> & { lost: string[] }> {
  const lost: string[] = [];
  const p = await pair({}, { timeoutMs: 300 }, { onOrderLost: (e) => lost.push(e.reason) });
  return { ...p, lost };
}

/** Cancels `id` (instrument 0) with neither of its two cancel requests nor the lookup between them answered. */
async function cancelUnconfirmed(venue: BybitV5Venue, client: BybitExecutionClient, id: string): Promise<void> {
  venue.injectFault('dropped_connection', { path: '/v5/order/cancel', count: 2 });
  venue.injectFault('server_error', { path: '/v5/order/realtime', count: 2 });
  client.cancel(id, 0);
  await client.flush();
}

/** Another client on `venue`'s test account (a restarted runner, or one trading other instruments), connected to a recorder. */
function clientOn(venue: BybitV5Venue, instruments: readonly Instrument[] = BYBIT_TEST_INSTRUMENTS): { client: BybitExecutionClient; rec: EventRecorder } {
  const client = new BybitExecutionClient({ apiUrl: venue.url, rateLimitMs: 0, timeoutMs: 2_000, backoffBaseMs: 5, backoffMaxMs: 50 }, { instruments, keys: { apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET }, clock: wallClock, env: {} });
  closers.push(() => client.close());
  const rec = new EventRecorder();
  client.connect(rec);
  return { client, rec };
}

/** What constructing a client with `config` (and `keys`) throws, or undefined when it constructs. */
function constructionError(config: BybitExecutionConfigInput, keys = { apiKey: 'k'.repeat(12), apiSecret: 's'.repeat(12) }): BybitError | undefined {
  try {
    new BybitExecutionClient(config, { instruments: [], keys, clock: wallClock, env: {} });
  } catch (e) {
    expect(e).toBeInstanceOf(BybitError);
    return e as BybitError;
  }
  return undefined;
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
    const { client: second, rec } = clientOn(first.venue);
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

  it('a cancel rate limited past the allowed retries: refused with the reason at once, not looked up, the order still works', async () => {
    const { venue, client, rec } = await pair({}, { rateLimitRetries: 1 });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'va_2c' }));
    await settleClient(client);
    venue.injectFault('rate_limit', { path: '/v5/order/cancel', count: 2 });
    client.cancel('va_2c', 0);
    await settleClient(client);
    expect(rec.kinds('va_2c')).toEqual(['accepted', 'cancel-rejected']);
    expect(paths(venue, 'va_2c').filter((p) => !p.startsWith('/v5/order/create'))).toEqual(['/v5/order/cancel:fault', '/v5/order/cancel:fault']); // 10006 twice, no lookup
    expect(venue.orders()[0]!['orderStatus']).toBe('New');
  });

  it('a venue clock 30 s ahead: prepare() syncs to it (no 10002); a later jump of 30 s is met by one resync (GET /v5/market/time) and goes through', async () => {
    let skew = 30_000;
    const { venue, client, rec } = await pair({ now: () => Date.now() + skew });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'va_3' }));
    await settleClient(client);
    expect(rec.kinds('va_3')).toEqual(['accepted']);
    expect(venue.privateLog.filter((e) => e.outcome === 'ret_10002')).toEqual([]);
    skew = 60_000;
    client.submit(order('buy', 'limit', 0.1, { price: 98, clientOrderId: 'va_3b' }));
    await settleClient(client);
    expect(creates(venue, 'va_3b').map((e) => e.outcome)).toEqual(['ret_10002', 'ok']);
    expect(rec.kinds('va_3b')).toEqual(['accepted']);
    expect(venue.orders().length).toBe(2);
  });

  it('prepare() rejects with the BybitError when the venue time cannot be read', async () => {
    const { venue } = await pair();
    const { client } = clientOn(venue);
    venue.server.inject({ path: '/v5/market/time', fault: { kind: 'http_status', status: 502, body: 'Bad Gateway' } });
    await expect(client.prepare()).rejects.toBeInstanceOf(BybitError);
    await expect(client.prepare()).resolves.toBeUndefined();
  });

  it('110007 insufficient balance: rejected with the reason', async () => {
    const { client, rec } = await pair({ accounts: [{ apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET, balance: 10 }] });
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

  it('a query the venue fails (a 5xx on a listing page, on the lookup’s history, on the server time) rejects with the redacted BybitError, never answers empty', async () => {
    const { venue, client } = await pair();
    const failing = async (path: string, query: () => Promise<unknown>) => {
      venue.injectFault('server_error', { path });
      const e = await query().then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e, path).toBeInstanceOf(BybitError);
      expect((e as BybitError).code, path).toBe('unexpected_status');
    };
    await failing('/v5/order/realtime', () => client.openOrders(''));
    await failing('/v5/position/list', () => client.positions());
    await failing('/v5/account/wallet-balance', () => client.balance());
    await failing('/v5/execution/list', () => client.executionsSince(Date.now() - 60_000));
    await failing('/v5/order/history', () => client.queryOrder('never_placed', 0));
    venue.server.inject({ path: '/v5/market/time', fault: { kind: 'http_status', status: 502, body: 'Bad Gateway' } });
    await expect(client.executionsSince(Date.now() - 60_000)).rejects.toBeInstanceOf(BybitError);
    // With the venue healthy every query answers.
    expect(await client.openOrders('')).toEqual([]);
    expect(await client.executionsSince(Date.now() - 60_000)).toEqual([]);
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

describe('BybitExecutionClient: cancels without a clear answer, and orders the listings lose', () => {
  const reasons = (rec: EventRecorder, id: string, kind: string) => rec.events.filter((e) => e.clientOrderId === id && e.kind === kind).map((e) => (e as { reason?: string }).reason);
  /** A resting limit buy, accepted and working. */
  async function working(id: string, ...args: Parameters<typeof pair>): Promise<Awaited<ReturnType<typeof pair>>> {
    const p = await pair(...args);
    p.client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: id }));
    await settleClient(p.client);
    expect(p.rec.kinds(id)).toEqual(['accepted']);
    return p;
  }

  it('the cancel went through but its answer never came: looked up, Cancelled, reported by the poll', async () => {
    const { venue, client, rec } = await working('cx_1', {}, { timeoutMs: 300 });
    venue.injectFault('never_answered', { path: '/v5/order/cancel' });
    client.cancel('cx_1', 0);
    await settleClient(client);
    expect(paths(venue, 'cx_1').filter((p) => !p.startsWith('/v5/order/create'))).toEqual(['/v5/order/cancel:done_unanswered', '/v5/order/realtime:ok', '/v5/order/realtime:ok']); // the cancel's lookup, then the poll's
    expect(rec.kinds('cx_1')).toEqual(['accepted', 'canceled']);
    expect(client.pending()).toBe(0);
  });

  it('the cancel never reached the venue: looked up, still working, canceled by a second request', async () => {
    const { venue, client, rec } = await working('cx_2');
    venue.injectFault('dropped_connection', { path: '/v5/order/cancel' });
    client.cancel('cx_2', 0);
    await settleClient(client);
    expect(paths(venue, 'cx_2').filter((p) => !p.startsWith('/v5/order/create'))).toEqual(['/v5/order/cancel:fault', '/v5/order/realtime:ok', '/v5/order/cancel:ok', '/v5/order/realtime:ok']); // the cancel's lookup; the poll's
    expect(rec.kinds('cx_2')).toEqual(['accepted', 'canceled']);
    expect(venue.orders()[0]!['orderStatus']).toBe('Cancelled');
  });

  it('a partly filled order whose cancel never reached the venue: looked up, PartiallyFilled (still working), canceled by a second request', async () => {
    const { venue, client, rec } = await working('cx_2p', { participation: 1 });
    venue.trade(98, 0.04);
    venue.injectFault('dropped_connection', { path: '/v5/order/cancel' });
    client.cancel('cx_2p', 0);
    await settleClient(client);
    expect(paths(venue, 'cx_2p').filter((p) => !p.startsWith('/v5/order/create')).slice(0, 3)).toEqual(['/v5/order/cancel:fault', '/v5/order/realtime:ok', '/v5/order/cancel:ok']);
    expect(rec.kinds('cx_2p')).toEqual(['accepted', 'fill', 'canceled']);
    expect(rec.fills('cx_2p')[0]!.quantity).toBeCloseTo(0.04, 12);
    expect(client.pending()).toBe(0);
  });

  it('no answer to two cancels nor to the lookups: the cancel is refused as not confirmed, the order still works', async () => {
    const { venue, client, rec } = await working('cx_3');
    await cancelUnconfirmed(venue, client, 'cx_3');
    expect(rec.kinds('cx_3')).toEqual(['accepted', 'cancel-rejected']);
    expect(reasons(rec, 'cx_3', 'cancel-rejected')).toEqual(['cancel not confirmed: no answer from the venue']);
    expect(client.pending()).toBe(0);
    expect(venue.orders()[0]!['orderStatus']).toBe('New');
  });

  it('the cancel never reached the venue and the lookup finds the order filled: refused, naming the status', async () => {
    const { venue, client, rec } = await working('cx_4');
    venue.trade(98); // fills the resting buy at the venue; the client has not polled it yet
    venue.injectFault('dropped_connection', { path: '/v5/order/cancel' });
    client.cancel('cx_4', 0);
    await settleClient(client);
    expect(reasons(rec, 'cx_4', 'cancel-rejected')).toEqual(['order is no longer working (Filled)']);
    expect(rec.kinds('cx_4').sort()).toEqual(['accepted', 'cancel-rejected', 'fill']);
    expect(client.pending()).toBe(0);
  });

  it('a cancel arriving after the fill (110001): refused after the fill is reported', async () => {
    const { venue, client, rec } = await working('cx_5');
    venue.trade(98);
    client.cancel('cx_5', 0);
    await settleClient(client);
    expect(paths(venue, 'cx_5').filter((p) => p.startsWith('/v5/order/cancel'))).toEqual(['/v5/order/cancel:ret_110001']);
    expect(rec.kinds('cx_5')).toEqual(['accepted', 'fill', 'cancel-rejected']);
    expect(reasons(rec, 'cx_5', 'cancel-rejected')).toEqual(['order is not working at the venue (110001: filled, canceled or unknown)']);
  });

  it('a cancel answered 110001 while the order still works (Bybit can miss a just-created order): refused by the next poll, the order works on; a second cancel cancels it', async () => {
    const { venue, client, rec } = await working('cx_nf');
    venue.injectFault('cancel_not_found', { path: '/v5/order/cancel' });
    client.cancel('cx_nf', 0);
    await settleClient(client);
    expect(rec.kinds('cx_nf')).toEqual(['accepted', 'cancel-rejected']);
    expect(reasons(rec, 'cx_nf', 'cancel-rejected')).toEqual(['order is not working at the venue (110001: filled, canceled or unknown)']);
    expect(client.pending()).toBe(0);
    expect(client.orderState('cx_nf')).toBe('working');
    expect(venue.orders()[0]!['orderStatus']).toBe('New');
    client.cancel('cx_nf', 0);
    await settleClient(client);
    expect(rec.kinds('cx_nf')).toEqual(['accepted', 'cancel-rejected', 'canceled']);
    expect(venue.orders()[0]!['orderStatus']).toBe('Cancelled');
  });

  it('a cancel of an id the venue never had: refused at once, by its answer or by the lookup', async () => {
    const { venue, client, rec } = await pair();
    client.cancel('cx_never_1', 0);
    await client.flush();
    expect(rec.kinds('cx_never_1')).toEqual(['cancel-rejected']);
    expect(reasons(rec, 'cx_never_1', 'cancel-rejected')).toEqual(['order is not working at the venue (110001: filled, canceled or unknown)']);
    venue.injectFault('dropped_connection', { path: '/v5/order/cancel' });
    client.cancel('cx_never_2', 1);
    await client.flush();
    expect(paths(venue, 'cx_never_2')).toEqual(['/v5/order/cancel:fault', '/v5/order/realtime:ok', '/v5/order/history:ok']);
    expect(reasons(rec, 'cx_never_2', 'cancel-rejected')).toEqual(['order unknown at the venue']);
    expect(client.pending()).toBe(0);
  });

  it('an acknowledged order no listing shows for 3 polls: lost, with the reason; found by a later poll and followed', async () => {
    const lost: { id: string; reason: string }[] = [];
    const { venue, client, rec } = await pair({}, {}, { onOrderLost: (e) => lost.push({ id: e.clientOrderId, reason: e.reason }) });
    // Each poll reads the open orders (realtime) and then looks the order up (realtime, history): all stale.
    venue.injectFault('stale_read', { path: '/v5/order/realtime', count: 6 });
    venue.injectFault('stale_read', { path: '/v5/order/history', count: 3 });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'cx_6' }));
    await client.flush();
    expect(client.pending()).toBe(1);
    await client.poll();
    await client.poll();
    expect(lost).toEqual([]);
    expect(client.orderState('cx_6')).toBe('acknowledged');
    await client.poll();
    expect(lost).toEqual([{ id: 'cx_6', reason: 'acknowledged by the venue but not found by 3 polls' }]);
    expect(client.orderState('cx_6')).toBe('lost');
    expect(client.pending()).toBe(0);
    expect(rec.kinds('cx_6')).toEqual([]);
    await client.poll();
    expect(client.orderState('cx_6')).toBe('working');
    expect(client.lostOrders()).toEqual([]);
    expect(rec.kinds('cx_6')).toEqual(['accepted']);
  });

  it('the same decision sent again while its first submit is lost: one order, followed, the loss withdrawn', async () => {
    const { venue, client, rec } = await lostOrder('cx_7');
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'cx_7' }));
    await settleClient(client);
    expect(creates(venue, 'cx_7').map((e) => e.outcome)).toEqual(['done_unanswered', 'ret_110072']);
    expect(client.lostOrders()).toEqual([]);
    expect(rec.kinds('cx_7')).toEqual(['accepted']);
    expect(venue.orders().length).toBe(1);
  });

  it('of two lost orders, the decision of the second sent again: that one is followed, the first stays lost', async () => {
    const { venue, client, rec } = await lostOrder('cx_8');
    await lostOrderOn(venue, client, 'cx_9');
    expect(client.lostOrders().map((l) => l.clientOrderId)).toEqual(['cx_8', 'cx_9']);
    await placeLimitBuy(client, 'cx_9'); // 110072: the venue has it; adopted
    expect(client.lostOrders().map((l) => l.clientOrderId)).toEqual(['cx_8']);
    expect(rec.kinds('cx_9')).toEqual(['accepted']);
    expect(rec.kinds('cx_8')).toEqual([]);
  });

  it('a decision the venue refused (110007) sent again is placed: no order holds its orderLinkId', async () => {
    const { venue, client, rec } = await pair();
    venue.injectFault('insufficient_balance', { path: '/v5/order/create' });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'cx_10' }));
    await settleClient(client);
    expect(rec.kinds('cx_10')).toEqual(['rejected']);
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'cx_10' }));
    await settleClient(client);
    expect(creates(venue, 'cx_10').map((e) => e.outcome)).toEqual(['ret_110007', 'ok']);
    expect(rec.kinds('cx_10')).toEqual(['rejected', 'accepted']);
    expect(venue.orders().length).toBe(1);
  });
});

describe('BybitExecutionClient: what a poll reports, in venue order', () => {
  it('polls called together share one round (one listing of the working orders); an id never seen has no state', async () => {
    const { venue, client, rec } = await pair();
    await placeLimitBuy(client, 'dv_0');
    const before = venue.privateLog.length;
    await Promise.all([client.poll(), client.poll(), client.poll()]);
    expect(venue.privateLog.slice(before).map((e) => e.path)).toEqual(['/v5/order/realtime']);
    expect(rec.kinds('dv_0')).toEqual(['accepted']);
    expect(client.orderState('never_seen')).toBeUndefined();
  });

  it('partial fills: each execution once, in order, however often the order is polled', async () => {
    const { venue, client, rec } = await pair({ participation: 1 });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'dv_1' }));
    await settleClient(client);
    venue.trade(98, 0.03);
    await client.poll();
    await client.poll();
    venue.trade(98.5, 0.05);
    await client.poll();
    expect(rec.kinds('dv_1')).toEqual(['accepted', 'fill', 'fill']);
    expect(rec.fills('dv_1').map((f) => [f.quantity, f.price, f.liquidity])).toEqual([
      [0.03, 99, 'maker'],
      [0.05, 99, 'maker'],
    ]);
    expect(client.orderState('dv_1')).toBe('working');
    venue.trade(98, 1);
    await client.poll();
    await client.poll();
    expect(rec.fills('dv_1').map((f) => f.quantity)).toEqual([0.03, 0.05, 0.02]);
    expect(new Set(rec.fills('dv_1').map((f) => f.executionId)).size).toBe(3);
    expect(client.orderState('dv_1')).toBe('done');
  });

  it('executions lagging the order: no fill and no end until the executions show, then both', async () => {
    const { venue, client, rec } = await pair();
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'dv_2' }));
    await settleClient(client);
    venue.trade(98);
    venue.injectFault('stale_read', { path: '/v5/execution/list' });
    await client.poll();
    expect(rec.kinds('dv_2')).toEqual(['accepted']);
    expect(client.orderState('dv_2')).toBe('working');
    await client.poll();
    expect(rec.kinds('dv_2')).toEqual(['accepted', 'fill']);
    expect(client.orderState('dv_2')).toBe('done');
  });

  it('a partly filled order canceled: its fills first, then canceled', async () => {
    const { venue, client, rec } = await pair({ participation: 1 });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'dv_3' }));
    await settleClient(client);
    venue.trade(98, 0.04);
    client.cancel('dv_3', 0);
    await settleClient(client);
    expect(rec.kinds('dv_3')).toEqual(['accepted', 'fill', 'canceled']);
    expect(rec.fills('dv_3')[0]!.quantity).toBeCloseTo(0.04, 12);
    expect(client.pending()).toBe(0);
  });

  it('commands before the first poll: a cancel of a just-placed order is reported after its accepted', async () => {
    const { client, rec } = await pair();
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'dv_4' }));
    client.cancel('dv_4', 0);
    await client.flush();
    expect(rec.kinds('dv_4')).toEqual([]);
    expect(client.pending()).toBe(2); // the submit and the cancel, both unanswered to the engine
    await settleClient(client);
    expect(rec.kinds('dv_4')).toEqual(['accepted', 'canceled']);
  });

  it('commands before the first poll: a cancel refused (filled meanwhile) is reported after the order’s accepted and fill', async () => {
    const { venue, client, rec } = await pair();
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'dv_5' }));
    await client.flush();
    venue.trade(98);
    client.cancel('dv_5', 0);
    await client.flush();
    expect(rec.kinds('dv_5')).toEqual([]);
    await settleClient(client);
    expect(rec.kinds('dv_5')).toEqual(['accepted', 'fill', 'cancel-rejected']);
    expect(client.pending()).toBe(0);
  });

  /** A pair whose limit buy `id` (0.1 at 99) the venue answered, not yet polled (acknowledged). */
  async function acknowledged(id: string): Promise<Awaited<ReturnType<typeof pair>>> {
    const p = await pair();
    await placeLimitBuy(p.client, id);
    expect(p.client.orderState(id)).toBe('acknowledged');
    return p;
  }

  it('commands before the first poll: a cancel not confirmed (no answers) is reported after the order’s accepted', async () => {
    const { venue, client, rec } = await acknowledged('dv_5b');
    await cancelUnconfirmed(venue, client, 'dv_5b');
    expect(rec.kinds('dv_5b')).toEqual([]);
    await settleClient(client);
    expect(rec.kinds('dv_5b')).toEqual(['accepted', 'cancel-rejected']);
    expect(rec.events.find((e) => e.clientOrderId === 'dv_5b' && e.kind === 'cancel-rejected')).toMatchObject({ reason: 'cancel not confirmed: no answer from the venue' });
    expect(client.pending()).toBe(0);
  });

  it('an order the venue answers and then refuses (Rejected) before the first poll: rejected with the reason, never accepted', async () => {
    const { venue, client, rec } = await acknowledged('dv_7');
    venue.rejectOrder('dv_7', 'EC_PositionLimitExceeded');
    await settleClient(client);
    expect(rec.kinds('dv_7')).toEqual(['rejected']);
    expect(rec.events.find((e) => e.clientOrderId === 'dv_7')).toMatchObject({ reason: 'EC_PositionLimitExceeded' });
    expect(client.orderState('dv_7')).toBe('rejected');
    expect(client.pending()).toBe(0);
  });

  it('an order partly filled and then refused (Rejected) before the first poll: accepted, its fill, then canceled with the reason; no fill lost', async () => {
    const { venue, client, rec } = await pair({ participation: 1 });
    await placeLimitBuy(client, 'dv_7b');
    venue.trade(98, 0.04);
    venue.rejectOrder('dv_7b', 'EC_PositionLimitExceeded');
    await settleClient(client);
    expect(rec.kinds('dv_7b')).toEqual(['accepted', 'fill', 'canceled']);
    expect(rec.fills('dv_7b')[0]!.quantity).toBeCloseTo(0.04, 12);
    expect(rec.events.find((e) => e.clientOrderId === 'dv_7b' && e.kind === 'canceled')).toMatchObject({ reason: 'EC_PositionLimitExceeded' });
  });

  it('a working order the venue then refuses (Rejected): its end is reported, canceled with the reason, and a cancel of it refused', async () => {
    const { venue, client, rec } = await pair();
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'dv_8' }));
    await settleClient(client);
    venue.rejectOrder('dv_8', 'EC_PositionLimitExceeded');
    client.cancel('dv_8', 0);
    await settleClient(client);
    expect(rec.kinds('dv_8')).toEqual(['accepted', 'canceled', 'cancel-rejected']);
    expect(rec.events.find((e) => e.clientOrderId === 'dv_8' && e.kind === 'canceled')).toMatchObject({ reason: 'EC_PositionLimitExceeded' });
    expect(client.orderState('dv_8')).toBe('done');
    expect(client.pending()).toBe(0);
  });

  it('a post-only order the venue cancels for taking liquidity: rejected with the reason, a cancel of it refused after', async () => {
    const { venue, client, rec } = await pair();
    venue.trade(100);
    client.submit(order('buy', 'limit', 0.1, { price: 101, postOnly: true, clientOrderId: 'dv_6' }));
    client.cancel('dv_6', 0);
    await settleClient(client);
    expect(rec.kinds('dv_6')).toEqual(['rejected', 'cancel-rejected']);
    expect(rec.events.find((e) => e.clientOrderId === 'dv_6' && e.kind === 'rejected')).toMatchObject({ reason: 'post-only order would take liquidity' });
    expect(client.orderState('dv_6')).toBe('rejected');
    expect(client.pending()).toBe(0);
  });
});

describe('BybitExecutionClient: request rules', () => {
  it('rate limits back off by seeded jitter (base · 2^attempt · [0.5, 1.5), capped), slept and reported to onRateLimitWait', async () => {
    const run = async (id: string) => {
      const sleeps: number[] = [];
      const waits: number[] = [];
      const extra = { sleep: async (ms: number) => void sleeps.push(ms), onRateLimitWait: (seconds: number) => waits.push(seconds * 1000) };
      const { venue, client, rec } = await pair({}, { backoffBaseMs: 40, backoffMaxMs: 100, seed: 7 }, extra);
      venue.injectFault('rate_limit', { path: '/v5/order/create', count: 3 });
      client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: id }));
      await settleClient(client);
      expect(rec.kinds(id)).toEqual(['accepted']);
      expect(creates(venue, id).map((e) => e.outcome)).toEqual(['fault', 'fault', 'fault', 'ok']);
      for (const w of waits) expect(sleeps).toContain(w);
      return waits;
    };
    const waits = await run('rq_1');
    expect(waits.length).toBe(3);
    expect(waits[0]).toBeGreaterThanOrEqual(20);
    expect(waits[0]).toBeLessThan(60);
    expect(waits[1]).toBeGreaterThanOrEqual(40);
    expect(waits[1]).toBeLessThan(120);
    expect(waits[2]).toBeGreaterThanOrEqual(50); // 40 · 4 capped at backoffMaxMs 100, then the jitter
    expect(waits[2]).toBeLessThan(150);
    // The same seed, the same waits.
    expect(await run('rq_1b')).toEqual(waits);
  });

  it('a second 10002 after one clock resync is the venue’s refusal: rejected, sent twice', async () => {
    const { venue, client, rec } = await pair();
    venue.injectFault('timestamp', { path: '/v5/order/create', count: 2 });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rq_2' }));
    await settleClient(client);
    expect(creates(venue, 'rq_2').map((e) => e.outcome)).toEqual(['fault', 'fault']);
    expect((rec.events[0] as { reason: string }).reason).toMatch(/10002/);
    expect(rec.kinds('rq_2')).toEqual(['rejected']);
    expect(venue.orders()).toEqual([]);
  });

  it('refuses a bad setting naming it, and missing keys', () => {
    const bad = constructionError({ lostAfterQueries: 0 })!;
    expect(bad.code).toBe('invalid_argument');
    expect(bad.message).toMatch(/^Bybit execution config: `lostAfterQueries` /);
    expect(bad.context).toEqual({ field: 'lostAfterQueries' });
    for (const keys of [{ apiKey: '', apiSecret: 's'.repeat(12) }, { apiKey: 'k'.repeat(12), apiSecret: '' }]) {
      expect(constructionError({}, keys)?.message).toMatch(/needs an API key and secret/);
    }
  });
});

describe('BybitExecutionClient: spacing, error hooks, instruments', () => {
  it('after a rate limit, requests are spaced by the widened interval, which halves on each success', async () => {
    const sleeps: number[] = [];
    const waits: number[] = [];
    const { venue, client, rec } = await pair({}, { backoffBaseMs: 2_000, backoffMaxMs: 5_000, seed: 3 }, { sleep: async (ms) => void sleeps.push(ms), onRateLimitWait: (s) => waits.push(s * 1000) });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'sp_0' }));
    await settleClient(client);
    expect(sleeps).toEqual([]); // no rate limit yet: nothing waits (ccxt's own throttle is off in these tests)
    venue.injectFault('rate_limit', { path: '/v5/order/create' });
    client.submit(order('buy', 'limit', 0.1, { price: 98, clientOrderId: 'sp_1' }));
    await settleClient(client);
    expect(rec.kinds('sp_1')).toEqual(['accepted']);
    await client.poll(); // more requests (the working orders' listing)
    await client.poll();
    expect(waits.length).toBe(1);
    // The sleeps that space requests (not the back-off). Each request reserves its slot, the last one's plus the
    // interval: 2 s after the limit, then 1 s, 0.5 s, … as requests succeed (long enough that a slow machine's request times stay far inside the bounds). These sleeps return at once, so the
    // reserved slots run ahead of the clock and each wait is the sum of the intervals so far less the time elapsed.
    const spacing = sleeps.filter((ms) => ms !== waits[0]);
    expect(spacing.length).toBeGreaterThanOrEqual(3);
    expect(spacing[0]).toBeGreaterThan(1_000);
    expect(spacing[0]).toBeLessThanOrEqual(2_000);
    expect(spacing[1]! - spacing[0]!).toBeGreaterThan(500);
    expect(spacing[1]! - spacing[0]!).toBeLessThanOrEqual(1_000);
    expect(spacing[2]! - spacing[1]!).toBeGreaterThan(0);
    expect(spacing[2]! - spacing[1]!).toBeLessThanOrEqual(500);
  });

  it('rate limits in a row double the spacing each time (2 s, 4 s, then the 5 s cap); a success halves it', async () => {
    const sleeps: number[] = [];
    const waits: number[] = [];
    const { venue, client, rec } = await pair({}, { backoffBaseMs: 2_000, backoffMaxMs: 5_000, seed: 3 }, { sleep: async (ms) => void sleeps.push(ms), onRateLimitWait: (s) => waits.push(s * 1000) });
    venue.injectFault('rate_limit', { path: '/v5/order/create', count: 3 });
    client.submit(order('buy', 'limit', 0.1, { price: 98, clientOrderId: 'sp_2' }));
    await settleClient(client);
    expect(rec.kinds('sp_2')).toEqual(['accepted']);
    expect(waits.length).toBe(3);
    // As above, the slots run ahead of the clock: each spacing sleep is the sum of the intervals so far less the time elapsed.
    const spacing = sleeps.filter((ms) => !waits.includes(ms));
    expect(spacing.length).toBeGreaterThanOrEqual(4);
    const steps = spacing.slice(0, 4).map((ms, k) => ms - (k === 0 ? 0 : spacing[k - 1]!));
    expect(steps[0]).toBeGreaterThan(1_000);
    expect(steps[0]).toBeLessThanOrEqual(2_000);
    expect(steps[1]).toBeGreaterThan(3_000);
    expect(steps[1]).toBeLessThanOrEqual(4_000);
    expect(steps[2]).toBeGreaterThan(4_000);
    expect(steps[2]).toBeLessThanOrEqual(5_000);
    expect(steps[3]).toBeGreaterThan(1_500);
    expect(steps[3]).toBeLessThanOrEqual(2_500);
  });

  it('tells onVenueError each failure: the retCode when the venue gave one, else the error code', async () => {
    const seen: string[] = [];
    const { venue, client } = await pair({}, { timeoutMs: 300 }, { onVenueError: (code) => seen.push(code) });
    venue.injectFault('rate_limit', { path: '/v5/order/create' });
    venue.injectFault('http_429', { path: '/v5/order/create' });
    venue.injectFault('server_error', { path: '/v5/order/create' });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 've_1' }));
    await settleClient(client);
    expect(seen.slice(0, 3)).toEqual(['10006', 'rate_limited', 'unexpected_status']);
  });

  it('a hook that throws during a submit (the owner\'s bug): the order, its fate unknown, is declared lost naming the failure, the error goes to onError, and a poll finds the order at the venue', async () => {
    const lost: string[] = [], errors: string[] = [];
    let thrown = false;
    const hooks = {
      onOrderLost: (e: { reason: string }) => void lost.push(e.reason),
      onError: (e: Error) => void errors.push(e.message),
      onVenueError: () => {
        if (thrown) return;
        thrown = true;
        throw new Error('metrics hook broke');
      },
    };
    const { venue, client, rec } = await pair({}, { timeoutMs: 300 }, hooks);
    venue.injectFault('never_answered', { path: '/v5/order/create' });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'hk_1' }));
    await client.flush();
    expect(lost).toEqual(['submit failed: Bybit request failed: metrics hook broke']);
    expect(errors).toEqual(['Bybit request failed: metrics hook broke']);
    expect(client.orderState('hk_1')).toBe('lost');
    expect(rec.kinds('hk_1')).toEqual([]);
    await settleClient(client);
    expect(rec.kinds('hk_1')).toEqual(['accepted']); // the venue had it: found by the poll, followed
    expect(venue.orders().filter((o) => o['orderLinkId'] === 'hk_1')).toHaveLength(1);
  });

  it('a hook that throws during a cancel: the cancel refused naming the failure (its outcome unknown), the error to onError; the poll then reports what the venue did', async () => {
    const errors: string[] = [];
    let armed = false;
    const hooks = {
      onError: (e: Error) => void errors.push(e.message),
      onVenueError: () => {
        if (!armed) return;
        armed = false;
        throw new Error('metrics hook broke');
      },
    };
    const { venue, client, rec } = await pair({}, { timeoutMs: 300 }, hooks);
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'hk_2' }));
    await settleClient(client);
    armed = true;
    venue.injectFault('never_answered', { path: '/v5/order/cancel' }); // the venue cancels it; the answer never comes
    client.cancel('hk_2', 0);
    await client.flush();
    expect(rec.kinds('hk_2')).toEqual(['accepted', 'cancel-rejected']);
    expect((rec.events.at(-1) as { reason: string }).reason).toBe('cancel failed: Bybit request failed: metrics hook broke');
    expect(errors).toEqual(['Bybit request failed: metrics hook broke']);
    expect(client.pending()).toBe(0);
    await settleClient(client);
    expect(rec.kinds('hk_2')).toEqual(['accepted', 'cancel-rejected', 'canceled']);
  });

  it('refuses orders for an instrument the venue does not list, naming it; lists, looks up and counts only its own instruments', async () => {
    const { venue, client: other } = await pair();
    const unlisted = { ...BYBIT_LINEAR_PERPETUALS['SOLUSDT']!, symbol: 'XYZUSDT', base: 'XYZ' };
    const bad = clientOn(venue, [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!, unlisted]);
    bad.client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'in_1' }));
    await bad.client.flush();
    expect(bad.rec.kinds('in_1')).toEqual(['rejected']);
    expect((bad.rec.events[0] as { reason: string }).reason).toMatch(/^venue unavailable: Bybit does not list the linear perpetual XYZUSDT/);
    // The same account trades BTCUSDT (another client); one trading ETHUSDT only sees its own.
    other.submit(order('buy', 'market', 0.2, { clientOrderId: 'in_btc' }));
    other.submit(order('buy', 'limit', 0.2, { price: 90, clientOrderId: 'in_btc_rest' }));
    await settleClient(other);
    venue.trade(100);
    await settleClient(other);
    const eth = clientOn(venue, [BYBIT_LINEAR_PERPETUALS['ETHUSDT']!]);
    eth.client.submit(order('buy', 'market', 0.5, { clientOrderId: 'in_eth' }));
    await settleClient(eth.client);
    venue.trade(2000, Infinity, 'ETHUSDT');
    await settleClient(eth.client);
    expect((await eth.client.positions()).map((p) => [p.instrument, p.quantity])).toEqual([[0, 0.5]]);
    expect((await eth.client.executionsSince(Date.now() - 60_000)).map((e) => [e.instrument, e.clientOrderId])).toEqual([[0, 'in_eth']]);
    expect(await eth.client.openOrders('in_')).toEqual([]);
    expect((await other.openOrders('in_')).map((o) => o.clientOrderId)).toEqual(['in_btc_rest']);
    const balance = await eth.client.balance();
    expect(balance.currency).toBe('USDT');
    expect(balance.tsEvent).toBeGreaterThan(0);
  });

  it('funding payments in the execution list (execType Funding, no order) are no fills: executionsSince and the polls leave them out; fundingSince lists them', async () => {
    const { venue, client, rec } = await pair();
    client.submit(order('buy', 'market', 0.2, { clientOrderId: 'fd_1' }));
    client.submit(order('buy', 'limit', 0.1, { price: 90, clientOrderId: 'fd_2' }));
    await settleClient(client);
    venue.trade(100);
    await settleClient(client);
    const wallet = venue.walletBalance();
    venue.settleFunding(0.0001);
    expect(venue.walletBalance()).toBeCloseTo(wallet - 0.2 * 100 * 0.0001, 9);
    await settleClient(client);
    expect(rec.kinds('fd_1')).toEqual(['accepted', 'fill']);
    expect(rec.kinds('fd_2')).toEqual(['accepted']);
    expect(rec.events.filter((e) => e.kind === 'fill')).toHaveLength(1);
    const rows = await client.executionsSince(Date.now() - 60_000);
    expect(rows.map((e) => [e.clientOrderId, e.quantity])).toEqual([['fd_1', 0.2]]);
    const funding = await client.fundingSince(Date.now() - 60_000);
    expect(funding).toHaveLength(1);
    expect(funding[0]).toMatchObject({ instrument: 0, quantity: 0.2, rate: 0.0001, markPrice: 100 });
    expect(funding[0]!.payment).toBeCloseTo(0.2 * 100 * 0.0001, 12);
    expect(await client.fundingSince(funding[0]!.tsEvent + 1)).toEqual([]);
    // Asked at once, the fills and the payments from the same time or later are one listing (one time, one page): the
    // same answers as asked apart. The payments from earlier than an ask in flight are a listing of their own.
    const listings = () => venue.server.requests.filter((r) => r.path === '/v5/execution/list' || r.path === '/v5/market/time').length;
    const before = listings();
    const from = Date.now() - 60_000;
    const [fills, payments] = await Promise.all([client.executionsSince(from), client.fundingSince(from + 1)]);
    expect(listings() - before).toBe(2);
    const asked = <T extends { tsInit?: number }>(xs: readonly T[]) => xs.map(({ tsInit: _, ...x }) => x); // the local time asked differs
    expect(asked(fills)).toEqual(asked(rows));
    expect(payments).toEqual(funding);
    expect(await Promise.all([client.fundingSince(funding[0]!.tsEvent + 1), client.fundingSince(from)])).toEqual([[], funding]);
    expect(listings() - before).toBe(6);
    // An ask made once a listing has asked the venue's time lists apart (it could miss what the venue listed in between).
    const first = client.executionsSince(from);
    await new Promise((resolve) => setImmediate(resolve));
    const later = client.fundingSince(from);
    expect([asked(await first), await later]).toEqual([asked(rows), funding]);
    expect(listings() - before).toBe(10);
  });

  it('loads the markets once: later commands, polls and queries ask the venue for no instrument list', async () => {
    const { venue, client } = await pair();
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'dv_m' }));
    client.cancel('dv_m', 0);
    await settleClient(client);
    await client.positions();
    await client.setLeverage(0, 3);
    // One loading: ccxt reads the linear list and its PreLaunch part.
    expect(venue.server.requests.filter((r) => r.path === '/v5/market/instruments-info').map((r) => r.query['status'] ?? '')).toEqual(['', 'PreLaunch']);
  });

  it('an instrument index it does not have: the submit rejected and the cancel refused at once, naming the index; nothing sent, nothing lost', async () => {
    const { venue, client, rec } = await pair();
    const sent = venue.privateLog.length;
    client.submit({ ...order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'in_7' }), instrument: 7 });
    client.cancel('in_9', 9);
    await client.flush();
    expect(rec.kinds('in_7')).toEqual(['rejected']);
    expect(rec.events.find((e) => e.clientOrderId === 'in_7')).toMatchObject({ reason: 'instrument must be an index in [0, 2), was 7' });
    expect(rec.events.find((e) => e.clientOrderId === 'in_9')).toMatchObject({ kind: 'cancel-rejected', reason: 'instrument must be an index in [0, 2), was 9' });
    expect(client.lostOrders()).toEqual([]);
    expect(client.pending()).toBe(0);
    expect(venue.privateLog.length).toBe(sent);
    await expect(client.setLeverage(5, 3)).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('lists open orders by prefix, oldest first; the accepted event carries the venue’s creation time', async () => {
    let now = Date.UTC(2026, 2, 1);
    const { client, rec } = await pair({ now: () => now, recvWindowCheck: false });
    // Creation order op_b, op_a, op_c: neither the ids' order nor the venue's (newest first).
    for (const [id, at] of [['op_b', 1], ['op_a', 2], ['op_c', 3], ['zz_d', 4]] as const) {
      now = Date.UTC(2026, 2, 1) + at * 60_000;
      client.submit(order('buy', 'limit', 0.1, { price: 90 + at, clientOrderId: id }));
      await client.flush();
    }
    now += 60_000;
    await settleClient(client);
    expect((await client.openOrders('op_')).map((o) => o.clientOrderId)).toEqual(['op_b', 'op_a', 'op_c']);
    expect(rec.events.filter((e) => e.kind === 'accepted').map((e) => [e.clientOrderId, e.tsEvent])).toEqual([
      ['op_b', Date.UTC(2026, 2, 1) + 60_000],
      ['op_a', Date.UTC(2026, 2, 1) + 2 * 60_000],
      ['op_c', Date.UTC(2026, 2, 1) + 3 * 60_000],
      ['zz_d', Date.UTC(2026, 2, 1) + 4 * 60_000],
    ]);
  });
});

describe('BybitExecutionClient: orders it did not place, lost orders and repeated commands', () => {
  it('cancels an order another client placed (a restarted runner): canceled at once, on the venue’s answer', async () => {
    const { venue, client: first } = await pair();
    first.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rs_1' }));
    await settleClient(first);
    const { client: second, rec } = clientOn(venue, [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!]);
    second.cancel('rs_1', 0);
    await second.flush();
    expect(rec.events).toMatchObject([{ kind: 'canceled', clientOrderId: 'rs_1', reason: 'canceled on request' }]);
    expect(second.pending()).toBe(0);
    expect(venue.orders()[0]!['orderStatus']).toBe('Cancelled');
  });

  it('110072 but the order cannot be read: lost, naming why; followed once a poll finds it', async () => {
    const { venue, client, rec, lost } = await pairNotingLosses();
    venue.injectFault('never_answered', { path: '/v5/order/create' });
    venue.injectFault('stale_read', { path: '/v5/order/realtime', count: 2 });
    venue.injectFault('stale_read', { path: '/v5/order/history', count: 2 });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rs_2' }));
    await client.flush();
    expect(creates(venue, 'rs_2').map((e) => e.outcome)).toEqual(['done_unanswered', 'ret_110072']);
    expect(lost).toEqual(['the venue answered 110072 (orderLinkId exists) but the order could not be read (absent)']);
    expect(client.orderState('rs_2')).toBe('lost');
    await client.poll();
    expect(rec.kinds('rs_2')).toEqual(['accepted']);
    expect(client.lostOrders()).toEqual([]);
  });

  it('110072 and every lookup fails: lost, naming it (unknown); never adopted from nothing', async () => {
    const { venue, client, rec, lost } = await pairNotingLosses();
    venue.injectFault('never_answered', { path: '/v5/order/create' });
    venue.injectFault('stale_read', { path: '/v5/order/realtime' });
    venue.injectFault('stale_read', { path: '/v5/order/history' });
    venue.injectFault('server_error', { path: '/v5/order/realtime', count: 3 });
    // The create unanswered, its lookup absent (stale listings), sent once more: 110072; the 3 lookups after it fail.
    await placeLimitBuy(client, 'rs_u');
    expect(creates(venue, 'rs_u').map((e) => e.outcome)).toEqual(['done_unanswered', 'ret_110072']);
    expect(lost).toEqual(['the venue answered 110072 (orderLinkId exists) but the order could not be read (unknown)']);
    expect(rec.kinds('rs_u')).toEqual([]);
    await client.poll();
    expect(rec.kinds('rs_u')).toEqual(['accepted']);
  });

  it('the create dropped twice, absent at each lookup: sent once more only, then lost naming it', async () => {
    const { venue, client, rec, lost } = await pairNotingLosses();
    venue.injectFault('dropped_connection', { path: '/v5/order/create', count: 3 });
    await placeLimitBuy(client, 'rs_d');
    expect(creates(venue, 'rs_d').map((e) => e.outcome)).toEqual(['fault', 'fault']);
    expect(lost).toEqual(['no answer to the submit, sent once more with the same orderLinkId, still not found at the venue']);
    expect(client.orderState('rs_d')).toBe('lost');
    expect(rec.kinds('rs_d')).toEqual([]);
    expect(venue.orders()).toEqual([]);
  });

  it('a cancel of a lost order the venue has: canceled once the poll finds the order, after its accepted', async () => {
    const { client, rec } = await lostOrder('rs_3');
    client.cancel('rs_3', 0);
    await client.flush();
    expect(rec.kinds('rs_3')).toEqual([]);
    expect(client.pending()).toBe(1);
    await settleClient(client);
    expect(rec.kinds('rs_3')).toEqual(['accepted', 'canceled']);
    expect(client.pending()).toBe(0);
  });

  it('the same id sent again before the first is reported: refused by the venue (110072), reported after the accepted', async () => {
    const { venue, client, rec } = await pair();
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rs_4' }));
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rs_4' }));
    await client.flush();
    expect(rec.kinds('rs_4')).toEqual([]);
    expect(client.pending()).toBe(2);
    await settleClient(client);
    expect(rec.kinds('rs_4')).toEqual(['accepted', 'rejected']);
    expect(rec.events.find((e) => e.kind === 'rejected')).toMatchObject({ reason: 'duplicate client order id (orderLinkId already used at the venue)' });
    expect(creates(venue, 'rs_4').map((e) => e.outcome)).toEqual(['ok', 'ret_110072']);
    expect(venue.orders().length).toBe(1);
  });

  it('the same id sent again without an answer: refused without a lookup or a resend; the first order is unaffected', async () => {
    const { venue, client, rec } = await pair();
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rs_5' }));
    await settleClient(client);
    venue.injectFault('dropped_connection', { path: '/v5/order/create' });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rs_5' }));
    await settleClient(client);
    expect(rec.kinds('rs_5')).toEqual(['accepted', 'rejected']);
    expect((rec.events[1] as { reason: string }).reason).toMatch(/^duplicate client order id; the venue did not answer: /);
    expect(paths(venue, 'rs_5').filter((p) => p.startsWith('/v5/order/create'))).toEqual(['/v5/order/create:ok', '/v5/order/create:fault']);
    expect(client.orderState('rs_5')).toBe('working');
  });

  it('executions of one time are reported in execution-id order', async () => {
    const { venue, client, rec } = await pair({ participation: 1, now: () => Date.UTC(2026, 3, 1), recvWindowCheck: false });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rs_6' }));
    await settleClient(client);
    venue.trade(98, 0.03);
    venue.trade(98, 0.05);
    venue.trade(98, 0.01);
    await client.poll();
    const fills = rec.fills('rs_6');
    expect(fills.map((f) => f.quantity)).toEqual([0.03, 0.05, 0.01]);
    expect(new Set(fills.map((f) => f.tsEvent)).size).toBe(1);
    expect(fills.map((f) => f.executionId)).toEqual([...fills.map((f) => f.executionId!)].sort());
  });
});

describe('BybitExecutionClient: settings and the poll loop', () => {
  const refusedField = (config: BybitExecutionConfigInput): unknown => {
    const e = constructionError(config);
    if (e !== undefined) expect(e.code).toBe('invalid_argument');
    return e?.context['field'];
  };

  it('takes every setting inside its bounds (the defaults given explicitly too) and refuses one outside, naming it', () => {
    const bounds: [string, number, number, number][] = [
      // field, lowest, default, highest
      ['timeoutMs', 1, 10_000, 600_000],
      ['recvWindowMs', 1, 5_000, 60_000],
      ['rateLimitMs', 0, 20, 10_000],
      ['rateLimitBurst', 0, 50, 500],
      ['rateLimitRetries', 0, 5, 20],
      ['backoffBaseMs', 0, 250, 60_000],
      ['backoffMaxMs', 0, 8_000, 600_000],
      ['lostAfterQueries', 1, 3, 10],
      ['pollIntervalMs', 10, 1_000, 600_000],
    ];
    for (const [field, low, usual, high] of bounds) {
      for (const value of [low, usual, high]) expect(refusedField({ [field]: value }), `${field} ${value}`).toBeUndefined();
      for (const value of [low - 1, high + 1]) expect(refusedField({ [field]: value }), `${field} ${value}`).toBe(field);
    }
  });

  it('start() polls on its own every pollIntervalMs (a second start changes nothing); stop() ends it', async () => {
    const { venue, client, rec } = await pair({}, { pollIntervalMs: 10 });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'lp_1' }));
    await client.flush();
    client.start();
    client.start();
    for (let k = 0; k < 200 && rec.kinds('lp_1').length === 0; k++) await new Promise((r) => setTimeout(r, 10));
    expect(rec.kinds('lp_1')).toEqual(['accepted']);
    client.stop();
    await new Promise((r) => setTimeout(r, 30)); // a round already under way ends
    const listings = () => venue.privateLog.filter((e) => e.path === '/v5/order/realtime').length;
    const before = listings();
    await new Promise((r) => setTimeout(r, 100));
    expect(listings()).toBe(before);
    // Started again after a stop: polls again.
    client.start();
    for (let k = 0; k < 200 && listings() === before; k++) await new Promise((r) => setTimeout(r, 10));
    client.stop();
    expect(listings()).toBeGreaterThan(before);
  });

  it('close() ends the polling loop and waits for the round under way; a second close() does nothing', async () => {
    const { venue, client, rec } = await pair({}, { pollIntervalMs: 10 });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'lp_2' }));
    await client.flush();
    client.start();
    for (let k = 0; k < 200 && rec.kinds('lp_2').length === 0; k++) await new Promise((r) => setTimeout(r, 10));
    await client.close();
    const requests = venue.privateLog.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(venue.privateLog.length).toBe(requests);
    await client.close();
    expect(venue.privateLog.length).toBe(requests);
  });
});

describe('BybitExecutionClient: working orders the listings lose', () => {
  it('accepted orders lost by 3 polls leave nothing pending; lost orders are found one by one, the rest stay lost', async () => {
    const lost: string[] = [];
    const { venue, client, rec } = await pair({}, {}, { onOrderLost: (e) => lost.push(e.clientOrderId) });
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'wl_a' }));
    client.submit(order('buy', 'limit', 0.1, { price: 98, clientOrderId: 'wl_b' }));
    await settleClient(client);
    expect(client.pending()).toBe(0);
    // Three polls: each reads the open orders, then looks both up (realtime, history), all stale.
    venue.injectFault('stale_read', { path: '/v5/order/realtime', count: 9 });
    venue.injectFault('stale_read', { path: '/v5/order/history', count: 6 });
    for (let k = 0; k < 3; k++) await client.poll();
    expect(lost).toEqual(['wl_a', 'wl_b']);
    expect(client.pending()).toBe(0); // they were answered (accepted) before: nothing more is owed
    // The next poll finds wl_a and misses wl_b (the open orders and wl_b's lookup stale): the first of the lost list
    // leaves it, the last stays.
    venue.injectFault('stale_read', { path: '/v5/order/realtime', count: 1 });
    venue.injectFault('stale_read', { path: '/v5/order/realtime', orderLinkId: 'wl_b' });
    venue.injectFault('stale_read', { path: '/v5/order/history', orderLinkId: 'wl_b' });
    await client.poll();
    expect(client.lostOrders().map((l) => l.clientOrderId)).toEqual(['wl_b']);
    expect(client.orderState('wl_b')).toBe('lost');
    expect(client.orderState('wl_a')).toBe('working');
    // Found again, an order is acknowledged again (the kernel takes a repeated acknowledgement as nothing new).
    expect(rec.kinds('wl_a')).toEqual(['accepted', 'accepted']);
    expect(client.pending()).toBe(0);
    await client.poll();
    expect(client.lostOrders()).toEqual([]);
    expect(client.orderState('wl_b')).toBe('working');
    expect(client.pending()).toBe(0);
  });
});

describe('BybitExecutionClient: listings longer than one page', () => {
  // The venue pages order listings by 50 and executions by 100 (nextPageCursor), as Bybit does.
  it('55 working orders (two pages of /v5/order/realtime): every one listed and followed, none looked up one by one', async () => {
    const { venue, client, rec } = await pair();
    const ids = Array.from({ length: 55 }, (_, k) => `pg_${String(k).padStart(2, '0')}`);
    ids.forEach((id, k) => client.submit(order('buy', 'limit', 0.01, { price: 50 + k, clientOrderId: id })));
    await settleClient(client);
    expect(rec.events.filter((e) => e.kind === 'accepted').map((e) => e.clientOrderId)).toEqual(ids);
    expect((await client.openOrders('pg_')).map((o) => o.clientOrderId).sort()).toEqual(ids);
    const from = venue.privateLog.length;
    await client.poll();
    // Both pages, and no lookup by orderLinkId: an order missing from a listing would be looked up (and, after 3 polls, lost).
    expect(venue.privateLog.slice(from).map((e) => `${e.path} ${e.orderLinkId ?? 'list'}`)).toEqual(['/v5/order/realtime list', '/v5/order/realtime list']);
    expect(ids.filter((id) => client.orderState(id) !== 'working')).toEqual([]);
  });

  it('an order filled by 105 executions (two pages of /v5/execution/list): each fill once, in order, then done; executionsSince lists all 105', async () => {
    const t0 = Date.UTC(2026, 4, 1);
    let now = t0;
    const { venue, client, rec } = await pair({ participation: 1, now: () => now, recvWindowCheck: false });
    client.submit(order('buy', 'limit', 1.05, { price: 99, clientOrderId: 'pg_fill' }));
    await settleClient(client);
    for (let k = 1; k <= 105; k++) {
      now = t0 + k;
      venue.trade(98, 0.01);
    }
    await client.poll();
    const fills = rec.fills('pg_fill');
    expect(fills.length).toBe(105);
    expect(fills.map((f) => f.tsEvent)).toEqual(Array.from({ length: 105 }, (_, k) => t0 + k + 1));
    expect(new Set(fills.map((f) => f.executionId)).size).toBe(105);
    expect(client.orderState('pg_fill')).toBe('done');
    await client.poll();
    expect(rec.fills('pg_fill').length).toBe(105);
    const executions = await client.executionsSince(t0);
    expect(executions.map((e) => e.executionId)).toEqual(fills.map((f) => f.executionId));
  });
});

const T0 = Date.UTC(2026, 5, 1);
const DAY_MS = 86_400_000;

/** A pair on a virtual clock at {@link T0} (`at(ms)` moves it to T0 + ms) whose limit buy `id` (0.1 at 99) was submitted. */
async function limitBuyOnVirtualClock(id: string, venueOptions: Parameters<typeof pair>[0] = {}) {
  let now = T0;
  const p = await pair({ participation: 1, now: () => now, recvWindowCheck: false, ...venueOptions });
  p.client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: id }));
  return { ...p, at: (ms: number) => void (now = T0 + ms) };
}

describe('BybitExecutionClient: orders that rest for weeks', () => {
  // Bybit's execution list answers at most 7 days: from startTime to startTime + 7 days when only startTime is given.
  it.each(['window', 'ignored'] as const)('a limit order filled 9 and 17 days after it was placed: both fills reported once, then done (orderId and the time window: %s)', async (executionsById) => {
    const { venue, client, rec, at } = await limitBuyOnVirtualClock('wk_1', { executionsById });
    await settleClient(client);
    at(9 * DAY_MS);
    venue.trade(98, 0.04);
    await client.poll();
    at(17 * DAY_MS);
    venue.trade(98, 1);
    await client.poll();
    expect(rec.kinds('wk_1')).toEqual(['accepted', 'fill', 'fill']);
    expect(rec.fills('wk_1').map((f) => [f.quantity, f.tsEvent])).toEqual([
      [0.04, T0 + 9 * DAY_MS],
      [0.06, T0 + 17 * DAY_MS],
    ]);
    expect(client.orderState('wk_1')).toBe('done');
  });
});

describe('BybitExecutionClient: event times', () => {
  it('an order first polled after it filled in part: accepted at its creation time, the fill at its execution time', async () => {
    const { venue, client, rec, at } = await limitBuyOnVirtualClock('et_1');
    await client.flush();
    at(5_000);
    venue.trade(98, 0.04);
    at(9_000);
    await client.poll();
    expect(rec.events.filter((e) => e.clientOrderId === 'et_1').map((e) => [e.kind, e.tsEvent])).toEqual([
      ['accepted', T0],
      ['fill', T0 + 5_000],
    ]);
  });
});

describe('BybitExecutionClient: a fill first polled more than 7 days after it', () => {
  // A runner down for 9 days: the fill of its working order is older than the execution list's default 7-day window.
  it('a limit order filled 2 days after it was placed and first polled 11 days after: its fill reported once, then done', async () => {
    const { venue, client, rec, at } = await limitBuyOnVirtualClock('wk_2');
    await settleClient(client);
    at(2 * DAY_MS);
    venue.trade(98, 1);
    at(11 * DAY_MS);
    await client.poll();
    expect(rec.kinds('wk_2')).toEqual(['accepted', 'fill']);
    expect(rec.fills('wk_2').map((f) => [f.quantity, f.tsEvent])).toEqual([[0.1, T0 + 2 * DAY_MS]]);
    expect(client.orderState('wk_2')).toBe('done');
  });
});

describe('BybitExecutionClient: a poll and a cancel in flight', () => {
  /** Resolves once the venue has received a request to `path` (for `id`, when given) and, a few ms later, processed it. */
  async function reached(venue: BybitV5Venue, path: string, id?: string): Promise<void> {
    while (!venue.privateLog.some((e) => e.path === path && (id === undefined || e.orderLinkId === id))) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 10));
  }

  /** A pair whose limit buy `id` (0.1 at 99) was accepted and works. */
  async function working(id: string, ...args: Parameters<typeof pair>): Promise<Awaited<ReturnType<typeof pair>>> {
    const p = await pair(...args);
    p.client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: id }));
    await settleClient(p.client);
    return p;
  }

  /** `cancels` cancels of `id`: the venue carries the first out at once and answers it after a poll; then one more poll. */
  async function cancelAnsweredAfterPoll({ venue, client }: Awaited<ReturnType<typeof pair>>, id: string, cancels = 1): Promise<void> {
    const release = venue.holdAnswer('/v5/order/cancel');
    for (let k = 0; k < cancels; k++) client.cancel(id, 0);
    await reached(venue, '/v5/order/cancel', id);
    await client.poll();
    release();
    await client.flush();
    await client.poll();
  }

  it('the poll sees the order canceled before the cancel is answered: canceled once, nothing pending', async () => {
    const p = await working('rc_1');
    await cancelAnsweredAfterPoll(p, 'rc_1');
    const { client, rec } = p;
    expect(rec.kinds('rc_1')).toEqual(['accepted', 'canceled']);
    expect(client.pending()).toBe(0);
  });

  it('the cancel’s answer never comes and a poll saw the order canceled meanwhile: the lookup finds it Cancelled, nothing more is reported', async () => {
    const { venue, client, rec } = await working('rc_2', {}, { timeoutMs: 300 });
    const release = venue.holdAnswer('/v5/order/cancel');
    client.cancel('rc_2', 0);
    await reached(venue, '/v5/order/cancel', 'rc_2');
    await client.poll();
    await client.flush(); // the cancel times out, then looks the order up
    release();
    await client.poll();
    // The poll's lookup (the order left the working list), then the cancel's after its timeout.
    expect(paths(venue, 'rc_2')).toEqual(['/v5/order/create:ok', '/v5/order/cancel:ok', '/v5/order/realtime:ok', '/v5/order/realtime:ok']);
    expect(rec.kinds('rc_2')).toEqual(['accepted', 'canceled']);
    expect(client.pending()).toBe(0);
  });

  it('an order adopted after an unanswered submit, followed by a poll while its executions are read: filled and ended once', async () => {
    const { venue, client, rec } = await pair({ participation: 1 }, { timeoutMs: 300 });
    const answerCreate = venue.holdAnswer('/v5/order/create');
    client.submit(order('buy', 'limit', 0.1, { price: 100, timeInForce: 'IOC', clientOrderId: 'rc_4' }));
    await reached(venue, '/v5/order/create', 'rc_4');
    venue.trade(99.5, 0.04); // fills 0.04 of the IOC order; the venue cancels the rest
    // The submit times out, looks the order up and adopts it: its executions' answer is held while a poll runs.
    const answerExecutions = venue.holdAnswer('/v5/execution/list');
    await reached(venue, '/v5/execution/list');
    await client.poll();
    answerExecutions();
    await client.flush();
    answerCreate();
    await client.poll();
    expect(rec.kinds('rc_4')).toEqual(['accepted', 'fill', 'canceled']);
    expect(rec.fills('rc_4').map((f) => f.quantity)).toEqual([0.04]);
    expect(client.pending()).toBe(0);
  });

  it('a lost order sent again while a poll looks it up: adopted by the resend, and the poll’s late find changes nothing', async () => {
    const { venue, client, rec } = await lostOrder('rc_5');
    await lostOrderOn(venue, client, 'rc_6');
    venue.trade(98); // both fill at the venue: no longer working, so a poll looks each up by orderLinkId
    const answerLookup = venue.holdAnswer('/v5/order/realtime', 'rc_5');
    venue.injectFault('server_error', { path: '/v5/order/realtime', orderLinkId: 'rc_6' }); // this poll does not find rc_6
    const polled = client.poll();
    await reached(venue, '/v5/order/realtime', 'rc_5');
    client.submit(order('buy', 'limit', 0.1, { price: 99, clientOrderId: 'rc_5' })); // the decision again: 110072, adopted
    await client.flush();
    answerLookup();
    await polled;
    expect(client.lostOrders().map((l) => l.clientOrderId)).toEqual(['rc_6']);
    await client.poll();
    expect(rec.kinds('rc_5')).toEqual(['accepted', 'fill']);
    expect(rec.kinds('rc_6')).toEqual(['accepted', 'fill']);
    expect(client.lostOrders()).toEqual([]);
    expect(client.pending()).toBe(0);
  });

  it('a second cancel while the first is in flight: the poll reports canceled once and refuses the second (110001)', async () => {
    const p = await working('rc_3');
    await cancelAnsweredAfterPoll(p, 'rc_3', 2);
    const { client, rec } = p;
    expect(rec.kinds('rc_3')).toEqual(['accepted', 'canceled', 'cancel-rejected']);
    expect(client.pending()).toBe(0);
  });
});
