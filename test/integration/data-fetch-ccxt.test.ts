/**
 * `tm data fetch` through the generic ccxt adapter (src/adapters/ccxt): bars and funding from ccxt's bybit class
 * against the local Bybit v5 server, capability checks of other exchanges from ccxt's own metadata (no request), and
 * the Deribit DVOL index against a local Deribit server into the same external_series rows the importer writes.
 */
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccxtCapabilities, checkCcxtTimeframe, closeCcxtExchange, createCcxtExchange, fetchCcxtHistory } from '../../src/adapters/ccxt/index.js';
import { importPath, MarketStore } from '../../src/data/index.js';
import { barRows, fundingRows, loadBybitServerData } from '../support/bybit-test-data.js';
import { BybitV5Server } from '../support/bybit-v5-server.js';
import { DeribitDvolServer, type DvolCandle } from '../support/deribit-dvol-server.js';
import { tm, withStoreAt } from '../support/cli.js';
import { sharedDataDir, tempDir } from '../support/shared-data.js';

const utc = (iso: string) => Date.parse(iso);

const dir = tempDir('tm-fetch-ccxt-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generic ccxt adapter: ccxt metadata checks (no request)', () => {
  it('names unknown exchange ids and unsupported timeframes, and reads capabilities from ccxt', async () => {
    expect(() => createCcxtExchange('binanse')).toThrow(/^exchange must be a ccxt exchange id \(\d+ known, e\.g\. binance/);
    const binance = createCcxtExchange('binance');
    expect(ccxtCapabilities(binance)).toMatchObject({ exchange: 'binance', ohlcv: true, funding: true });
    expect(() => checkCcxtTimeframe(binance, '7m')).toThrow(/^timeframe must be one binance serves \(1s, 1m, .*1d.*\), was "7m"$/);
    expect(() => checkCcxtTimeframe(binance, '4h')).not.toThrow();
    const coinbase = createCcxtExchange('coinbase');
    expect(ccxtCapabilities(coinbase).funding).toBe(false);
    await closeCcxtExchange(binance);
    await closeCcxtExchange(coinbase);

    const r = await tm('data', 'fetch', '--exchange', 'binance', '--symbols', 'BTC/USDT', '--timeframe', '7m', '--since', '2024-01-01', '--db', join(dir, 'none.duckdb'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tm: timeframe must be one binance serves \(.*\), was "7m"/);
  });
});

describe('generic ccxt adapter against the local Bybit v5 server', () => {
  const data = loadBybitServerData();
  let server: BybitV5Server;
  beforeAll(async () => {
    server = await BybitV5Server.start({ klines: { BTCUSDT: { '240': data.bars['BTCUSDT']! } }, funding: { BTCUSDT: data.funding['BTCUSDT']! } });
  });
  afterAll(() => server.close());

  it('pages bars and funding forward into the store under the market id, and resumes after the last row', { timeout: 60_000 }, async () => {
    const db = join(dir, 'generic.duckdb');
    const since = utc('2025-05-01');
    const until = utc('2025-08-01');
    const exchange = createCcxtExchange('bybit', { apiUrl: server.url, options: { defaultType: 'swap', defaultSubType: 'linear', fetchMarkets: { types: ['linear'] } } });
    try {
      const now = () => utc('2025-09-01');
      const first = await withStoreAt(db, (store) => fetchCcxtHistory(store, exchange, { venue: 'bybit-ccxt', symbols: ['BTC/USDT:USDT'], timeframe: '4h', since, until: utc('2025-06-01'), funding: true, pageLimit: 200, now }));
      expect(first[0]).toMatchObject({ unified: 'BTC/USDT:USDT', symbol: 'BTCUSDT', bars: { fetched: 31 * 6, resumedAfter: null } });
      const second = await withStoreAt(db, (store) => fetchCcxtHistory(store, exchange, { venue: 'bybit-ccxt', symbols: ['BTCUSDT'], timeframe: '4h', since, until, funding: true, pageLimit: 200, now }));
      expect(second[0]!.bars).toMatchObject({ fetched: 61 * 6, resumedAfter: utc('2025-05-31T20:00:00Z'), first: utc('2025-06-01T00:00:00Z'), last: utc('2025-07-31T20:00:00Z') });
      await withStoreAt(db, async (store) => {
        const bars = await store.query(`SELECT epoch_ms(ts)::DOUBLE AS t, open, high, low, close, volume FROM bars WHERE venue = 'bybit-ccxt' AND symbol = 'BTCUSDT' AND timeframe = '4h' ORDER BY ts`);
        expect(bars.map((r) => [r['t'], r['open'], r['high'], r['low'], r['close'], r['volume']])).toEqual(barRows(data.bars['BTCUSDT']!, since, until));
        const funding = await store.query(`SELECT epoch_ms(ts)::DOUBLE AS t, rate FROM funding_rates WHERE venue = 'bybit-ccxt' AND symbol = 'BTCUSDT' ORDER BY ts`);
        expect(funding.map((r) => [r['t'], r['rate']])).toEqual(fundingRows(data.funding['BTCUSDT']!, since, until));
      });
    } finally {
      await closeCcxtExchange(exchange);
    }
  });

  it('rejects a symbol the exchange does not list, naming it', { timeout: 30_000 }, async () => {
    const exchange = createCcxtExchange('bybit', { apiUrl: server.url, options: { defaultType: 'swap', fetchMarkets: { types: ['linear'] } } });
    try {
      await expect(withStoreAt(join(dir, 'bad.duckdb'), (store) => fetchCcxtHistory(store, exchange, { symbols: ['NOPE/USDT:USDT'], timeframe: '4h', since: 0, funding: false, now: () => utc('2025-09-01') }))).rejects.toThrow(
        'bybit lists no market "NOPE/USDT:USDT" (give a ccxt unified symbol like BTC/USDT or a market id like BTCUSDT)',
      );
    } finally {
      await closeCcxtExchange(exchange);
    }
  });
});

describe('tm data fetch --exchange deribit --dvol (local Deribit server)', () => {
  const csv = join(sharedDataDir(), 'deribit', 'BTC-DVOL-1d.csv.gz');
  const rows = gunzipSync(readFileSync(csv)).toString('utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const candles: DvolCandle[] = rows.map(([ts, close]) => [Date.parse(ts!), Number(close), Number(close), Number(close), Number(close)]);
  let server: DeribitDvolServer;
  beforeAll(async () => {
    server = await DeribitDvolServer.start({ BTC: candles }, 100);
  });
  afterAll(() => server.close());

  const since = '2023-01-01';
  const until = '2024-01-01';
  const dvolRows = (store: MarketStore) =>
    store.query(`SELECT source, series, timeframe, epoch_ms(ts)::DOUBLE AS t, value FROM external_series WHERE ts >= TIMESTAMP '2023-01-01' AND ts < TIMESTAMP '2024-01-01' ORDER BY ts`);

  it('stores the daily DVOL closes as deribit/BTC-DVOL/1d, the rows the importer writes from the CSV, paging on continuation', { timeout: 60_000 }, async () => {
    const db = join(dir, 'dvol.duckdb');
    const r = await tm('data', 'fetch', '--exchange', 'deribit', '--dvol', 'BTC', '--since', since, '--until', until, '--api-url', server.url, '--db', db);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/deribit\s+BTC-DVOL\s+1d\s+4\s+365\s+365\s+2023-01-01T00:00:00Z\s+2023-12-31T00:00:00Z/);
    // 365 days in answers of at most 100, newest first, each next request ending before the previous answer.
    const ends = server.requests.map((q) => Number(q['end_timestamp']));
    expect(ends).toHaveLength(4);
    expect(server.requests.every((q) => q['currency'] === 'BTC' && q['resolution'] === '1D' && q['start_timestamp'] === String(utc(since)))).toBe(true);
    for (let i = 1; i < ends.length; i++) expect(ends[i]!).toBeLessThan(ends[i - 1]!);

    const imported = join(dir, 'imported.duckdb');
    const folder = join(dir, 'csv', 'deribit');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'BTC-DVOL-1d.csv.gz'), readFileSync(csv));
    await withStoreAt(imported, (store) => importPath(store, folder));
    const fetched = await withStoreAt(db, dvolRows);
    expect(fetched).toHaveLength(365);
    expect(fetched).toEqual(await withStoreAt(imported, dvolRows));

    server.requests.length = 0;
    const again = await tm('data', 'fetch', '--exchange', 'deribit', '--dvol', 'BTC', '--since', since, '--until', until, '--api-url', server.url, '--db', db, '--json');
    expect(again.code).toBe(0);
    const [result] = JSON.parse(again.out) as { fetched: number; resumedAfter: number }[];
    expect(result).toMatchObject({ fetched: 0, resumedAfter: utc('2023-12-31') });
    expect(server.requests).toHaveLength(0);
  });

  it('refuses DVOL from another exchange and names a bad currency', async () => {
    const a = await tm('data', 'fetch', '--exchange', 'binance', '--dvol', 'BTC', '--since', since, '--db', join(dir, 'x.duckdb'));
    expect(a.code).toBe(2);
    expect(a.err).toBe('tm: the DVOL index is a Deribit series: use --exchange deribit, was "binance"');
    const b = await tm('data', 'fetch', '--exchange', 'deribit', '--dvol', 'BTC', '--timeframe', '4h', '--since', since, '--api-url', server.url, '--db', join(dir, 'x.duckdb'));
    expect(b.err).toBe('tm: DVOL timeframe must be one of 1m, 1h, 12h, 1d, was "4h"');
  });
});
