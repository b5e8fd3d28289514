import { bybit as CcxtBybit } from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { BybitV5Venue, signed, TEST_API_KEY, TEST_API_SECRET, type BybitV5VenueOptions } from '../support/bybit-v5-venue.js';

/** The local Bybit v5 venue itself: signatures on the raw bytes, Bybit's listing rules, matching, seeded faults, ccxt's unified calls. */
let venues: BybitV5Venue[] = [];
afterEach(async () => {
  for (const v of venues) await v.close();
  venues = [];
});
async function start(options: BybitV5VenueOptions = {}): Promise<BybitV5Venue> {
  const v = await BybitV5Venue.start(options);
  venues.push(v);
  return v;
}

const create = (venue: BybitV5Venue, body: Record<string, unknown>) => signed(venue, 'POST', '/v5/order/create', JSON.stringify({ category: 'linear', symbol: 'BTCUSDT', ...body }));

describe('local Bybit v5 venue: authentication on the raw bytes', () => {
  it('GET: signs the query string exactly as sent; any other bytes, key or time are refused with Bybit codes', async () => {
    const venue = await start();
    const query = 'category=linear&settleCoin=USDT';
    expect((await signed(venue, 'GET', '/v5/order/realtime', query)).retCode).toBe(0);
    // Same parameters, other order: another string, another signature.
    expect((await signed(venue, 'GET', '/v5/order/realtime', query, { signed: 'settleCoin=USDT&category=linear' })).retCode).toBe(10004);
    expect((await signed(venue, 'GET', '/v5/order/realtime', query, { secret: 'not-the-secret' })).retCode).toBe(10004);
    expect((await signed(venue, 'GET', '/v5/order/realtime', query, { apiKey: 'someone-else' })).retCode).toBe(10003);
    expect((await signed(venue, 'GET', '/v5/order/realtime', query, { timestamp: Date.now() - 6_000 })).retCode).toBe(10002);
    expect((await signed(venue, 'GET', '/v5/order/realtime', query, { timestamp: Date.now() - 6_000, recvWindow: '20000' })).retCode).toBe(0);
    expect((await signed(venue, 'GET', '/v5/order/realtime', query, { timestamp: Date.now() + 3_000 })).retCode).toBe(10002);
  });

  it('POST: signs the raw body; the same JSON re-serialized is another payload', async () => {
    const venue = await start();
    const body = '{ "category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.1", "price": "99" }';
    expect((await signed(venue, 'POST', '/v5/order/create', body, { signed: JSON.stringify(JSON.parse(body)) })).retCode).toBe(10004);
    expect(venue.orders()).toEqual([]);
    expect((await signed(venue, 'POST', '/v5/order/create', body)).retCode).toBe(0);
    expect(venue.orders().length).toBe(1);
  });
});

describe('local Bybit v5 venue: listing and order rules', () => {
  it('orderLinkId is unique per account (110072, counted); cancel of a closed order → 110001; amend', async () => {
    const venue = await start();
    expect((await create(venue, { side: 'Buy', orderType: 'Limit', qty: '0.1', price: '99', orderLinkId: 'v_1' })).retCode).toBe(0);
    expect((await create(venue, { side: 'Sell', orderType: 'Limit', qty: '0.2', price: '101', orderLinkId: 'v_1' })).retCode).toBe(110072);
    expect(venue.faultCounts()['duplicate_order_link_id']).toBe(1);
    const amend = await signed(venue, 'POST', '/v5/order/amend', JSON.stringify({ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'v_1', qty: '0.3', price: '98.5' }));
    expect(amend.retCode).toBe(0);
    expect(venue.orders()[0]).toMatchObject({ qty: '0.3', price: '98.5' });
    const cancel = () => signed(venue, 'POST', '/v5/order/cancel', JSON.stringify({ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'v_1' }));
    expect((await cancel()).retCode).toBe(0);
    expect((await cancel()).retCode).toBe(110001);
  });

  it('realtime keeps the last 500 closed orders; history keeps all; a restart forgets the closed ones only', async () => {
    const venue = await start();
    for (let i = 0; i < 502; i++) await create(venue, { side: 'Buy', orderType: 'Limit', qty: '0.1', price: '99', timeInForce: 'IOC', orderLinkId: `c_${i}` });
    venue.trade(100); // every IOC order is canceled unfilled
    expect((await create(venue, { side: 'Buy', orderType: 'Limit', qty: '0.1', price: '90', orderLinkId: 'open_1' })).retCode).toBe(0);
    const byId = (path: string, id: string) => signed(venue, 'GET', path, `category=linear&orderLinkId=${id}`);
    expect((await byId('/v5/order/realtime', 'c_0')).result.list).toEqual([]);
    expect((await byId('/v5/order/realtime', 'c_2')).result.list?.[0]).toMatchObject({ orderLinkId: 'c_2', orderStatus: 'Cancelled', rejectReason: 'EC_NoImmediateQtyToFill' });
    expect((await byId('/v5/order/history', 'c_0')).result.list?.[0]).toMatchObject({ orderLinkId: 'c_0', orderStatus: 'Cancelled' });
    let closed = 0;
    for (let cursor = ''; ; ) {
      const page = await signed(venue, 'GET', '/v5/order/realtime', `category=linear&settleCoin=USDT&openOnly=1&limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      closed += page.result.list!.length;
      cursor = page.result.nextPageCursor ?? '';
      if (!cursor) break;
    }
    expect(closed).toBe(500);
    venue.restart();
    expect((await byId('/v5/order/realtime', 'c_2')).result.list).toEqual([]);
    expect((await byId('/v5/order/realtime', 'open_1')).result.list?.[0]).toMatchObject({ orderStatus: 'New' });
    expect((await byId('/v5/order/history', 'c_2')).result.list?.length).toBe(1);
  });

  /** A venue whose clock is at 2026-01-01 + each of `days` in turn when a market order `<prefix>_<day>` fills there; its execution/list by orderLinkId. */
  async function executionsOnDays(prefix: string, days: readonly number[]) {
    const t0 = Date.UTC(2026, 0, 1);
    let now = t0;
    const venue = await start({ now: () => now, recvWindowCheck: false });
    for (const day of days) {
      now = t0 + day * 86_400_000;
      await create(venue, { side: 'Buy', orderType: 'Market', qty: '0.1', orderLinkId: `${prefix}_${day}` });
      venue.trade(100);
    }
    const ids = async (q: string) => (await signed(venue, 'GET', '/v5/execution/list', `category=linear&${q}`)).result.list?.map((e) => e['orderLinkId']);
    return { venue, t0, ids };
  }

  it('execution/list answers at most a 7-day window (Bybit defaults when a bound is absent)', async () => {
    const { venue, t0, ids } = await executionsOnDays('x', [0, 6, 9]);
    expect((await signed(venue, 'GET', '/v5/execution/list', `category=linear&startTime=${t0}&endTime=${t0 + 8 * 86_400_000}`)).retCode).toBe(10001);
    expect(await ids(`startTime=${t0}`)).toEqual(['x_6', 'x_0']); // [start, start + 7 d], newest first
    expect(await ids(`endTime=${t0 + 9 * 86_400_000}`)).toEqual(['x_9', 'x_6']);
    expect(await ids('limit=100')).toEqual(['x_9', 'x_6']); // the last 7 days
  });

  it('execution/list of a clock that went back: every row of the window, newest made first', async () => {
    // Rows made in time order are found by binary search on their time; made out of order, all are filtered.
    const { t0, ids } = await executionsOnDays('y', [6, 0, 9]);
    expect(await ids(`startTime=${t0 + 86_400_000}`)).toEqual(['y_6']);
    expect(await ids(`startTime=${t0}`)).toEqual(['y_0', 'y_6']);
    expect(await ids(`startTime=${t0 + 3 * 86_400_000}`)).toEqual(['y_9', 'y_6']);
  });

  it('realtime by orderId or orderLinkId: the one order, if open or recently closed and of the symbol asked', async () => {
    const venue = await start();
    await create(venue, { side: 'Buy', orderType: 'Limit', qty: '0.1', price: '99', orderLinkId: 'k_1' });
    await create(venue, { side: 'Buy', orderType: 'Limit', qty: '0.1', price: '99', timeInForce: 'IOC', orderLinkId: 'k_2' });
    venue.trade(100); // k_2 canceled, k_1 working
    const [k1, k2] = venue.orders().map((o) => String(o['orderId']));
    const list = async (q: string) => (await signed(venue, 'GET', '/v5/order/realtime', `category=linear&${q}`)).result.list?.map((o) => [o['orderLinkId'], o['orderStatus']]);
    expect(await list(`orderId=${k1}`)).toEqual([['k_1', 'New']]);
    expect(await list(`orderId=${k2}`)).toEqual([['k_2', 'Cancelled']]);
    expect(await list(`orderLinkId=k_2&orderId=${k2}`)).toEqual([['k_2', 'Cancelled']]);
    expect(await list(`orderLinkId=k_1&orderId=${k2}`)).toEqual([]); // both must match
    expect(await list('orderLinkId=k_1&symbol=ETHUSDT')).toEqual([]);
    expect(await list('orderLinkId=k_3')).toEqual([]);
    expect(await list('settleCoin=USDT')).toEqual([['k_1', 'New']]); // working orders only
    venue.restart();
    expect(await list(`orderId=${k2}`)).toEqual([]);
    expect(await list(`orderId=${k1}`)).toEqual([['k_1', 'New']]);
  });
});

describe('local Bybit v5 venue: matching and books', () => {
  it('market orders on arrival at the last price plus slippage; position, fees and wallet booked', async () => {
    const venue = await start({ marketOrders: 'arrival', slippageBps: 10 });
    venue.trade(200);
    await create(venue, { side: 'Buy', orderType: 'Market', qty: '1', orderLinkId: 'm_1' });
    expect(venue.executions()[0]).toMatchObject({ execPrice: '200.2', execQty: '1', isMaker: false });
    expect(venue.position()).toBe(1);
    await create(venue, { side: 'Sell', orderType: 'Market', qty: '1', orderLinkId: 'm_2' });
    expect(venue.executions()[1]).toMatchObject({ execPrice: '199.8' });
    expect(venue.position()).toBe(0);
    const fees = 200.2 * 0.00055 + 199.8 * 0.00055;
    expect(venue.walletBalance()).toBeCloseTo(100_000 + (199.8 - 200.2) - fees, 9);
  });

  it('a bar trades open, the nearer extreme, the other, close: a resting buy fills at its limit as maker', async () => {
    const venue = await start();
    await create(venue, { side: 'Buy', orderType: 'Limit', qty: '0.5', price: '97', orderLinkId: 'b_1' });
    await create(venue, { side: 'Buy', orderType: 'Market', qty: '0.5', orderLinkId: 'b_2' });
    venue.bar({ open: 101, high: 103, low: 96, close: 102, volume: 1_000 });
    expect(venue.executions().map((e) => [e['orderLinkId'], e['execPrice'], e['isMaker']])).toEqual([
      ['b_2', '101', false],
      ['b_1', '97', true],
    ]);
  });

  it('post-only orders that would take liquidity are created Cancelled; 110007 when the margin is not there', async () => {
    const venue = await start({ accounts: [{ apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET, balance: 50 }] });
    expect((await create(venue, { side: 'Buy', orderType: 'Limit', qty: '0.1', price: '100.5', timeInForce: 'PostOnly', orderLinkId: 'p_1' })).retCode).toBe(0);
    expect(venue.orders()[0]).toMatchObject({ orderStatus: 'Cancelled', rejectReason: 'EC_PostOnlyWillTakeLiquidity' });
    expect((await create(venue, { side: 'Buy', orderType: 'Limit', qty: '10', price: '99', orderLinkId: 'p_2' })).retCode).toBe(110007);
  });
});

describe('local Bybit v5 venue: what tests make it do', () => {
  it('rejectOrder closes a working order Rejected with its reason (then cancel → 110001); a non-working one throws', async () => {
    const venue = await start();
    expect((await create(venue, { side: 'Buy', orderType: 'Limit', qty: '0.1', price: '99', orderLinkId: 'r_1' })).retCode).toBe(0);
    venue.rejectOrder('r_1', 'EC_PositionLimitExceeded');
    expect(venue.orders()[0]).toMatchObject({ orderStatus: 'Rejected', rejectReason: 'EC_PositionLimitExceeded' });
    const cancel = await signed(venue, 'POST', '/v5/order/cancel', JSON.stringify({ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'r_1' }));
    expect(cancel.retCode).toBe(110001);
    expect(() => venue.rejectOrder('r_1', 'EC_PositionLimitExceeded')).toThrow(/no working order r_1/);
    expect(() => venue.rejectOrder('r_none', 'x')).toThrow(/no working order r_none/);
  });

  it('a forced cancel_not_found waits for a cancel or amend, answers it 110001 and leaves the order working', async () => {
    const venue = await start();
    venue.injectFault('cancel_not_found');
    expect((await create(venue, { side: 'Buy', orderType: 'Limit', qty: '0.1', price: '99', orderLinkId: 'n_1' })).retCode).toBe(0);
    expect((await signed(venue, 'GET', '/v5/order/realtime', 'category=linear&settleCoin=USDT')).retCode).toBe(0);
    const cancel = () => signed(venue, 'POST', '/v5/order/cancel', JSON.stringify({ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'n_1' }));
    expect(await cancel()).toMatchObject({ retCode: 110001, retMsg: 'order not exists or too late to cancel' });
    expect(venue.orders()[0]).toMatchObject({ orderStatus: 'New' });
    expect(venue.faultCounts()['cancel_not_found']).toBe(1);
    expect((await cancel()).retCode).toBe(0);
    expect(venue.orders()[0]).toMatchObject({ orderStatus: 'Cancelled' });
  });
});

describe('local Bybit v5 venue: seeded faults and ccxt', () => {
  it('the same seed and requests give the same faults; every applied fault is counted', async () => {
    const run = async () => {
      const venue = await start({ faults: { seed: 5, rates: { server_error: 0.2, rate_limit: 0.2, dropped_connection: 0.1, latency: 0.1 }, latencyMs: [1, 3] } });
      const outcomes: string[] = [];
      for (let i = 0; i < 40; i++) {
        try {
          outcomes.push(String((await signed(venue, 'GET', '/v5/position/list', 'category=linear&symbol=BTCUSDT')).retCode));
        } catch {
          outcomes.push('dropped');
        }
      }
      return { outcomes, counts: venue.faultCounts(), log: venue.privateLog.map((e) => e.fault ?? '-') };
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    const counted = Object.values(a.counts).reduce((x, y) => x + (y ?? 0), 0);
    expect(counted).toBe(a.log.filter((f) => f !== '-').length);
    expect(counted).toBeGreaterThan(10);
  });

  it("answers ccxt's unified calls in demo mode (no /v5/user/query-api, /v5/account/info or coin list)", async () => {
    const venue = await start();
    const exchange = new CcxtBybit({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET, options: { defaultType: 'swap', fetchMarkets: { types: ['linear'] } } });
    exchange.enableDemoTrading(true);
    exchange.urls['api'] = Object.fromEntries(Object.keys(exchange.urls['api'] as Record<string, string>).map((k) => [k, venue.url])) as typeof exchange.urls['api'];
    try {
      expect(Math.abs((await exchange.fetchTime())! - Date.now())).toBeLessThan(5_000);
      await exchange.loadMarkets();
      const placed = await exchange.createOrder('BTC/USDT:USDT', 'limit', 'buy', 0.1, 99, { clientOrderId: 'cc_1' });
      expect(placed.clientOrderId).toBe('cc_1');
      expect((await exchange.fetchOpenOrders('BTC/USDT:USDT')).map((o) => [o.clientOrderId, o.status, o.amount, o.price])).toEqual([['cc_1', 'open', 0.1, 99]]);
      expect((await exchange.fetchOpenOrder(placed.id!, 'BTC/USDT:USDT')).clientOrderId).toBe('cc_1');
      await exchange.cancelOrder(placed.id!, 'BTC/USDT:USDT');
      await exchange.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.2, undefined, { clientOrderId: 'cc_2' });
      venue.trade(100);
      const trades = await exchange.fetchMyTrades('BTC/USDT:USDT');
      expect(trades.map((t) => [t.amount, t.price, t.takerOrMaker])).toEqual([[0.2, 100, 'taker']]);
      const closed = await exchange.fetchClosedOrders('BTC/USDT:USDT');
      expect(closed.map((o) => o.clientOrderId)).toEqual(['cc_2']);
      const positions = await exchange.fetchPositions(['BTC/USDT:USDT']);
      expect(positions.map((p) => [p.side, p.contracts, p.entryPrice])).toEqual([['long', 0.2, 100]]);
      const balance = await exchange.fetchBalance();
      expect(balance['USDT']?.total).toBeCloseTo(100_000 - 0.2 * 100 * 0.00055, 6);
      await exchange.setLeverage(5, 'BTC/USDT:USDT');
      await expect(exchange.setLeverage(5, 'BTC/USDT:USDT')).rejects.toThrow(/110043/);
      const paths = new Set(venue.server.requests.map((r) => r.path));
      for (const p of ['/v5/user/query-api', '/v5/account/info', '/v5/asset/coin/query-info']) expect(paths.has(p)).toBe(false);
    } finally {
      await exchange.close();
    }
  });
});
