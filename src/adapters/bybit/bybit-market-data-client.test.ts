import { describe, expect, it } from 'vitest';
import { BybitV5Server, FAULTS } from '../../../test/support/bybit-v5-server.js';
import { barRows, fundingRows, readSharedBars, readSharedFunding } from '../../../test/support/bybit-test-data.js';
import { marketDataServer } from '../../../test/support/market-data-server.js';
import { BybitError } from './bybit-error.js';
import { BybitMarketDataClient, checkBybitTimeframe } from './bybit-market-data-client.js';

const H4 = 4 * 3_600_000;
const JAN_2022 = Date.UTC(2022, 0, 1);

describe('BybitMarketDataClient against the local Bybit v5 server', () => {
  const btc = readSharedBars('bybit/BTCUSDT-4h.csv.gz');
  const funding = readSharedFunding('binance-futures/BTCUSDT-funding.csv.gz');
  // The API URL written with a trailing slash, as a user may write it.
  const local = marketDataServer({ klines: { BTCUSDT: { '240': btc } }, funding: { BTCUSDT: funding } }, { apiUrl: (url) => `${url}/` });

  it('loads linear markets once, then pages klines with category, symbol, interval, start, end and limit', async () => {
    const until = JAN_2022 + 10 * H4 - 1;
    const page = await local.client.fetchBarsPage('BTCUSDT', '4h', JAN_2022, 10, until);
    const rows = Array.from({ length: page.length }, (_, i) => [page.ts[i], page.open[i], page.high[i], page.low[i], page.close[i], page.volume[i]]);
    expect(rows).toEqual(barRows(btc, JAN_2022, JAN_2022 + 10 * H4));
    expect(rows[0]).toEqual([JAN_2022, 46200.5, 46929.5, 46200.5, 46811.5, 4523.524]);
    expect(local.server.requests.map((r) => [r.path, r.query])).toEqual([
      ['/v5/market/instruments-info', { category: 'linear', limit: '1000' }],
      ['/v5/market/instruments-info', { category: 'linear', limit: '1000', status: 'PreLaunch' }],
      ['/v5/market/kline', { symbol: 'BTCUSDT', start: String(JAN_2022), limit: '10', end: String(until), interval: '240', category: 'linear' }],
    ]);
    await local.client.fetchBarsPage('BTCUSDT', '4h', JAN_2022, 1);
    expect(local.server.requests.filter((r) => r.path === '/v5/market/instruments-info')).toHaveLength(2);
  });

  it('reads funding history from /v5/market/funding/history', async () => {
    const until = JAN_2022 + 5 * 8 * 3_600_000 - 1;
    const page = await local.client.fetchFundingPage('BTCUSDT', JAN_2022, 200, until);
    expect(Array.from({ length: page.length }, (_, i) => [page.ts[i], page.rate[i]])).toEqual(fundingRows(funding, JAN_2022, until + 1));
    expect(page.length).toBe(5);
    expect(local.server.requests.map((r) => [r.path, r.query])).toEqual([
      ['/v5/market/funding/history', { limit: '200', symbol: 'BTCUSDT', category: 'linear', startTime: String(JAN_2022), endTime: String(until) }],
    ]);
  });

  it('reads the spread of the best bid and ask from /v5/market/tickers', async () => {
    // The local server quotes 2 bps around the last close it holds.
    expect(await local.client.spreadBasisPoints('BTCUSDT')).toBeCloseTo(2, 9);
    expect(local.server.requests.filter((r) => r.path === '/v5/market/tickers').map((r) => r.query)).toEqual([{ symbol: 'BTCUSDT', category: 'linear' }]);
  });

  it('reports the instrument launch time and funding interval from instruments-info', async () => {
    expect(await local.client.instrument('ETHUSDT')).toEqual({ symbol: 'ETHUSDT', launchTs: 1615766400000, fundingIntervalMs: 8 * 3_600_000 });
    await expect(local.client.instrument('DOGEUSDT')).rejects.toMatchObject({ code: 'venue_rejected', message: 'Bybit does not list the linear perpetual DOGEUSDT (DOGE/USDT:USDT)' });
  });

  it.each([
    ['HTTP 429', FAULTS.tooManyRequests, 'rate_limited', { status: 429 }],
    ['retCode 10006', FAULTS.tooManyVisits, 'rate_limited', { retCode: 10006 }],
    ['retCode 10018', FAULTS.ipRateLimit, 'rate_limited', { retCode: 10018 }],
    ['HTTP 500', { kind: 'http_status', status: 500, body: 'upstream failed' } as const, 'unexpected_status', { status: 500 }],
    ['HTTP 404', { kind: 'http_status', status: 404, body: 'not here' } as const, 'unexpected_status', { status: 404 }],
    ['retCode 10001', { kind: 'ret_code', retCode: 10001, retMsg: 'params error' } as const, 'venue_rejected', { retCode: 10001 }],
    ['a dropped connection', FAULTS.drop, 'network', {}],
  ])('maps %s to BybitError %s', async (_name, fault, code, extra) => {
    local.server.inject({ path: '/v5/market/kline', fault });
    const e = await local.client.fetchBarsPage('BTCUSDT', '4h', JAN_2022, 10).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BybitError);
    expect((e as BybitError).code).toBe(code);
    expect((e as BybitError).context).toMatchObject({ symbol: 'BTCUSDT', request: 'kline', since: JAN_2022, ...extra });
    // The fault was used up: the next request succeeds.
    expect((await local.client.fetchBarsPage('BTCUSDT', '4h', JAN_2022, 10)).length).toBe(10);
  });

  it('loads markets again after a failed load instead of keeping the failure', async () => {
    const fresh = new BybitMarketDataClient({ apiUrl: local.server.url });
    try {
      local.server.inject({ path: '/v5/market/instruments-info', count: 2, fault: FAULTS.tooManyRequests });
      await expect(fresh.fetchBarsPage('BTCUSDT', '4h', JAN_2022, 3)).rejects.toMatchObject({ code: 'rate_limited' });
      expect((await fresh.fetchBarsPage('BTCUSDT', '4h', JAN_2022, 3)).length).toBe(3);
    } finally {
      await fresh.close();
    }
  });

  it('rejects corrupt bars instead of passing them on', async () => {
    const bad = { ...btc, high: Float64Array.from(btc.high) };
    const i = Array.from(btc.ts).indexOf(JAN_2022);
    bad.high[i + 1] = bad.low[i + 1]! - 1;
    const corrupt = await BybitV5Server.start({ klines: { BTCUSDT: { '240': bad } } });
    const c = new BybitMarketDataClient({ apiUrl: corrupt.url });
    try {
      await expect(c.fetchBarsPage('BTCUSDT', '4h', JAN_2022, 5)).rejects.toMatchObject({ code: 'invalid_response', context: { symbol: 'BTCUSDT', row: 1 } });
    } finally {
      await c.close();
      await corrupt.close();
    }
  });

  it('validates its arguments before any request', async () => {
    await expect(local.client.fetchBarsPage('BTCUSDT', '4h', JAN_2022, 1001)).rejects.toThrow('limit must be an integer in [1, 1000], was 1001');
    await expect(local.client.fetchFundingPage('BTCUSDT', JAN_2022, 201)).rejects.toThrow('limit must be an integer in [1, 200], was 201');
    await expect(local.client.fetchBarsPage('BTC-USDT', '4h', JAN_2022, 10)).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(() => new BybitMarketDataClient({ apiUrl: 'ftp://127.0.0.1:8080' })).toThrow('api URL must use http or https, was "ftp://127.0.0.1:8080"');
    expect(() => new BybitMarketDataClient({ apiUrl: 'not a url' })).toThrow('api URL must be an absolute http(s) URL like http://127.0.0.1:8080, was "not a url"');
    expect(() => checkBybitTimeframe('1w')).toThrow('timeframe must be one of 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d, was "1w"');
    expect(local.server.requests).toHaveLength(0);
  });
});
