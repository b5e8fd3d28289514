import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MarketStore } from '../../data/index.js';
import { BybitV5Server, FAULTS, type RequestLogEntry } from '../../../test/support/bybit-v5-server.js';
import { barRows, fundingRows, loadBybitServerData } from '../../../test/support/bybit-test-data.js';
import { tempDir } from '../../../test/support/shared-data.js';
import { BybitError } from './bybit-error.js';
import { BybitMarketDataClient } from './bybit-market-data-client.js';
import { fetchHistory, type FetchHistoryOptions } from './fetch-history.js';

const H4 = 4 * 3_600_000;
const H8 = 8 * 3_600_000;
const KLINE = '/v5/market/kline';
const FUNDING = '/v5/market/funding/history';
const utc = (iso: string) => Date.parse(iso);
/** The shared data ends with the 2025-08-31T20:00Z 4h bar, which closes at this instant. */
const END_OF_DATA = utc('2025-09-01T00:00:00Z');

async function storedBars(store: MarketStore, symbol: string, timeframe = '4h'): Promise<number[][]> {
  const rows = await store.query(
    `SELECT epoch_ms(ts)::DOUBLE AS t, open, high, low, close, volume FROM bars WHERE venue = 'bybit' AND symbol = ? AND timeframe = ? ORDER BY ts`,
    [symbol, timeframe],
  );
  return rows.map((r) => [r['t'], r['open'], r['high'], r['low'], r['close'], r['volume']] as number[]);
}

async function storedFunding(store: MarketStore, symbol: string): Promise<number[][]> {
  const rows = await store.query(`SELECT epoch_ms(ts)::DOUBLE AS t, rate FROM funding_rates WHERE venue = 'bybit' AND symbol = ? ORDER BY ts`, [symbol]);
  return rows.map((r) => [r['t'], r['rate']] as number[]);
}

const klineStarts = (log: readonly RequestLogEntry[], symbol: string) => log.filter((r) => r.path === KLINE && r.query['symbol'] === symbol).map((r) => Number(r.query['start']));

describe('fetchHistory from the local Bybit v5 server into an empty DuckDB store', () => {
  const data = loadBybitServerData();
  const dir = tempDir('tm-fetch-');
  let server: BybitV5Server;
  let client: BybitMarketDataClient;
  let store: MarketStore;
  let sleeps: number[];
  let fileNo = 0;

  beforeAll(async () => {
    server = await BybitV5Server.start({
      klines: Object.fromEntries(Object.entries(data.bars).map(([s, b]) => [s, { '240': b }])),
      funding: data.funding,
    });
    // ccxt spaces Bybit market-data requests 100 ms apart (cost 5 x 20 ms); the local server needs no throttle.
    client = new BybitMarketDataClient({ apiUrl: server.url, rateLimitMs: 1 });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });
  beforeEach(async () => {
    server.clearFaults();
    server.requests.length = 0;
    sleeps = [];
    store = await MarketStore.open(join(dir, `market-${fileNo++}.duckdb`));
  });
  afterEach(() => store.close());

  const options = (o: Partial<FetchHistoryOptions> = {}): FetchHistoryOptions => ({
    symbols: ['BTC/USDT:USDT'],
    timeframe: '4h',
    since: utc('2022-01-01T00:00:00Z'),
    funding: false,
    now: () => END_OF_DATA,
    sleep: async (ms) => void sleeps.push(ms),
    baseDelayMs: 100,
    ...o,
  });

  it('fills BTCUSDT and ETHUSDT 4h from 2022-01-01 page by page, equal to the source rows', { timeout: 60_000 }, async () => {
    const progress: [string, number, number][] = [];
    const results = await fetchHistory(store, client, options({ symbols: ['BTC/USDT:USDT', 'ETHUSDT'], onProgress: (s, n, total) => progress.push([s, n, total]) }));
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
      const expected = barRows(data.bars[symbol]!, utc('2022-01-01T00:00:00Z'), END_OF_DATA);
      expect(expected.length).toBe(8034); // 1339 days x 6 bars
      expect(await storedBars(store, symbol)).toEqual(expected);
      // Nine windows of 1000 bar slots, each starting right after the previous page's last bar.
      expect(klineStarts(server.requests, symbol)).toEqual(Array.from({ length: 9 }, (_, k) => utc('2022-01-01T00:00:00Z') + k * 1000 * H4));
    }
    expect(results.map((r) => [r.symbol, r.bars.pages, r.bars.fetched, r.bars.inserted, r.bars.updated, r.bars.first, r.bars.last, r.bars.resumedAfter])).toEqual([
      ['BTCUSDT', 9, 8034, 8034, 0, utc('2022-01-01T00:00:00Z'), utc('2025-08-31T20:00:00Z'), null],
      ['ETHUSDT', 9, 8034, 8034, 0, utc('2022-01-01T00:00:00Z'), utc('2025-08-31T20:00:00Z'), null],
    ]);
    expect(results[0]!.funding).toBeUndefined();
    expect(progress.filter(([s]) => s === 'BTCUSDT').map(([, n]) => n)).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 8034]);
    expect(new Set(progress.map(([, , total]) => total))).toEqual(new Set([8034]));
    const kline = server.requests.find((r) => r.path === KLINE)!;
    expect(kline.query).toEqual({ symbol: 'BTCUSDT', start: String(utc('2022-01-01T00:00:00Z')), limit: '1000', end: String(utc('2022-01-01T00:00:00Z') + 1000 * H4 - 1), interval: '240', category: 'linear' });
    expect(new Set(server.requests.map((r) => r.path))).toEqual(new Set(['/v5/market/instruments-info', KLINE]));
  });

  it('resumes after an interruption: keeps completed pages, then continues from the last stored bar + 1 bar', { timeout: 60_000 }, async () => {
    const o = options({ until: utc('2023-01-01T00:00:00Z'), pageLimit: 500 });
    const expected = barRows(data.bars['BTCUSDT']!, o.since, o.until!);
    expect(expected.length).toBe(2190);
    server.inject({ path: KLINE, after: 3, count: 1, fault: FAULTS.drop });
    const e = await fetchHistory(store, client, o).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BybitError);
    expect((e as BybitError).code).toBe('network');
    expect(server.requestsTo(KLINE).map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok', 'drop']);
    expect(await storedBars(store, 'BTCUSDT')).toEqual(expected.slice(0, 1500));

    server.requests.length = 0;
    const [r] = await fetchHistory(store, client, o);
    const lastStored = expected[1499]![0]!;
    expect(klineStarts(server.requests, 'BTCUSDT')).toEqual([lastStored + H4, lastStored + H4 + 500 * H4]);
    expect(r!.bars).toEqual({ pages: 2, fetched: 690, inserted: 690, updated: 0, first: lastStored + H4, last: utc('2022-12-31T20:00:00Z'), start: lastStored + H4, resumedAfter: lastStored });
    expect(await storedBars(store, 'BTCUSDT')).toEqual(expected);

    // A third run finds nothing to do and sends no kline request.
    server.requests.length = 0;
    const [again] = await fetchHistory(store, client, o);
    expect(again!.bars.pages).toBe(0);
    expect(server.requestsTo(KLINE)).toHaveLength(0);
    expect(await storedBars(store, 'BTCUSDT')).toEqual(expected);
  });

  it('drops the still-open last bar according to the injected clock', async () => {
    const now = utc('2025-08-31T22:00:00Z'); // the 20:00 bar is open until 2025-09-01T00:00Z
    const [r] = await fetchHistory(store, client, options({ since: utc('2025-08-30T00:00:00Z'), now: () => now }));
    expect(r!.bars.last).toBe(utc('2025-08-31T16:00:00Z'));
    expect(await storedBars(store, 'BTCUSDT')).toEqual(barRows(data.bars['BTCUSDT']!, utc('2025-08-30T00:00:00Z'), utc('2025-08-31T20:00:00Z')));
    expect(server.requestsTo(KLINE)[0]!.query['end']).toBe(String(utc('2025-08-31T16:00:00Z')));
  });

  it.each([
    ['HTTP 429', FAULTS.tooManyRequests, 3, [100, 200, 400]],
    ['retCode 10006', FAULTS.tooManyVisits, 3, [100, 200, 400]],
    ['retCode 10018', FAULTS.ipRateLimit, 2, [100, 200]],
  ])('backs off exponentially on %s and then succeeds', async (_name, fault, count, delays) => {
    server.inject({ path: KLINE, after: 1, count, fault });
    const o = options({ until: utc('2022-07-01T00:00:00Z'), pageLimit: 400 });
    const [r] = await fetchHistory(store, client, o);
    expect(sleeps).toEqual(delays);
    expect(server.requestsTo(KLINE).map((x) => x.outcome)).toEqual(['ok', ...Array(count).fill(fault.kind), 'ok', 'ok']);
    expect(r!.bars.pages).toBe(3);
    expect(await storedBars(store, 'BTCUSDT')).toEqual(barRows(data.bars['BTCUSDT']!, o.since, o.until!));
  });

  it('fails with rate_limited after the maximum number of retries, keeping the pages stored before', async () => {
    server.inject({ path: KLINE, after: 1, count: 100, fault: FAULTS.tooManyVisits });
    const o = options({ until: utc('2022-07-01T00:00:00Z'), pageLimit: 400, maxRetries: 3 });
    const e = await fetchHistory(store, client, o).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BybitError);
    expect((e as BybitError).code).toBe('rate_limited');
    expect((e as BybitError).context).toMatchObject({ attempts: 4, retCode: 10006, symbol: 'BTCUSDT' });
    expect((e as BybitError).message).toMatch(/^Bybit kept answering with a rate limit after 3 retries: /);
    expect(sleeps).toEqual([100, 200, 400]);
    expect(server.requestsTo(KLINE)).toHaveLength(5);
    expect(await storedBars(store, 'BTCUSDT')).toEqual(barRows(data.bars['BTCUSDT']!, o.since, o.since + 400 * H4));
  });

  it('fetches and stores funding history, and resumes it after the last stored settlement', { timeout: 30_000 }, async () => {
    const since = utc('2022-01-01T00:00:00Z');
    const until = utc('2024-01-01T00:00:00Z');
    const [r] = await fetchHistory(store, client, options({ since, until, funding: true, pageLimit: 1000 }));
    const expected = fundingRows(data.funding['BTCUSDT']!, since, until);
    expect(expected.length).toBe(2190); // 730 days x 3 settlements
    expect(await storedFunding(store, 'BTCUSDT')).toEqual(expected);
    // Windows of 199 intervals: 2190 settlements take 12 requests, each starting just after the last stored one.
    const funding = server.requestsTo(FUNDING);
    expect(funding.map((x) => Number(x.query['startTime']))).toEqual(Array.from({ length: 12 }, (_, k) => (k === 0 ? since : since + k * 199 * H8 - H8 + 1)));
    expect(funding.every((x) => Number(x.query['endTime']) - Number(x.query['startTime']) <= 199 * H8 - 1 && x.query['limit'] === '200')).toBe(true);
    expect(r!.funding).toEqual({ pages: 12, fetched: 2190, inserted: 2190, updated: 0, first: since, last: utc('2023-12-31T16:00:00Z'), start: since, resumedAfter: null });

    server.requests.length = 0;
    const [more] = await fetchHistory(store, client, options({ since, until: utc('2024-02-01T00:00:00Z'), funding: true }));
    expect(more!.funding).toMatchObject({ pages: 1, fetched: 93, resumedAfter: utc('2023-12-31T16:00:00Z'), start: utc('2023-12-31T16:00:00Z') + 1 });
    expect(await storedFunding(store, 'BTCUSDT')).toEqual(fundingRows(data.funding['BTCUSDT']!, since, utc('2024-02-01T00:00:00Z')));
  });

  it('starts no earlier than the contract launch and skips funding windows before the first settlement', { timeout: 30_000 }, async () => {
    const launch = utc('2021-10-07T00:00:00Z'); // SOLUSDT launchTime in instruments-info
    const [r] = await fetchHistory(store, client, options({ symbols: ['SOL/USDT:USDT'], since: utc('2020-01-01T00:00:00Z'), funding: true }));
    expect(klineStarts(server.requests, 'SOLUSDT')[0]).toBe(launch);
    expect(Number(server.requestsTo(FUNDING)[0]!.query['startTime'])).toBe(launch);
    expect(await storedBars(store, 'SOLUSDT')).toEqual(barRows(data.bars['SOLUSDT']!, launch, END_OF_DATA));
    // The stand-in SOLUSDT funding starts 2025-02-01.
    expect(await storedFunding(store, 'SOLUSDT')).toEqual(fundingRows(data.funding['SOLUSDT']!, launch, END_OF_DATA));
    expect(r!.funding).toMatchObject({ fetched: 636, first: utc('2025-02-01T00:00:00Z'), last: utc('2025-08-31T16:00:00Z') });
  });

  it('halves the funding window when a page comes back full (settlements more often than fundingInterval says)', async () => {
    // 4-hourly settlements while instruments-info says 480 minutes.
    const src = data.funding['BTCUSDT']!;
    const n = 600;
    const start = utc('2024-01-01T00:00:00Z');
    const ts = Float64Array.from({ length: n }, (_, i) => start + i * H4);
    const rate = src.rate.slice(0, n);
    const dense = await BybitV5Server.start({ funding: { BTCUSDT: { ts, rate } } });
    const c = new BybitMarketDataClient({ apiUrl: dense.url });
    try {
      const [r] = await fetchHistory(store, c, options({ since: start, until: start + n * H4, funding: true }));
      expect(await storedFunding(store, 'BTCUSDT')).toEqual(Array.from(ts, (t, i) => [t, rate[i]]));
      expect(r!.funding!.fetched).toBe(n);
      const full = dense.requestsTo(FUNDING).filter((x) => x.outcome === 'ok');
      expect(Number(full[1]!.query['endTime']) - Number(full[1]!.query['startTime']) + 1).toBe((199 * H8) / 2);
    } finally {
      await c.close();
      await dense.close();
    }
  });

  it('rejects bad arguments before any request', async () => {
    await expect(fetchHistory(store, client, options({ symbols: ['BTC/USDT'] }))).rejects.toThrow('symbol must be a ccxt unified linear perpetual symbol like BTC/USDT:USDT, was "BTC/USDT"');
    await expect(fetchHistory(store, client, options({ timeframe: '7h' }))).rejects.toMatchObject({ code: 'invalid_argument', context: { timeframe: '7h' } });
    await expect(fetchHistory(store, client, options({ until: utc('2021-01-01T00:00:00Z') }))).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(fetchHistory(store, client, options({ pageLimit: 1001 }))).rejects.toThrow('pageLimit must be an integer in [1, 1000], was 1001');
    expect(server.requests).toHaveLength(0);
  });
});
