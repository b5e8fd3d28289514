import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { MarketStore } from '../../src/data/index.js';
import { barRows, fundingRows, loadBybitServerData } from '../support/bybit-test-data.js';
import { BybitV5Server } from '../support/bybit-v5-server.js';
import { captureIo, withStoreAt } from '../support/cli.js';
import { tempDir } from '../support/shared-data.js';

const utc = (iso: string) => Date.parse(iso);
const KLINE = '/v5/market/kline';

async function storedBars(store: MarketStore, symbol: string): Promise<number[][]> {
  const rows = await store.query(
    `SELECT epoch_ms(ts)::DOUBLE AS t, open, high, low, close, volume FROM bars WHERE venue = 'bybit' AND symbol = ? AND timeframe = '4h' ORDER BY ts`,
    [symbol],
  );
  return rows.map((r) => [r['t'], r['open'], r['high'], r['low'], r['close'], r['volume']] as number[]);
}

async function storedFunding(store: MarketStore, symbol: string): Promise<number[][]> {
  const rows = await store.query(`SELECT epoch_ms(ts)::DOUBLE AS t, rate FROM funding_rates WHERE venue = 'bybit' AND symbol = ? ORDER BY ts`, [symbol]);
  return rows.map((r) => [r['t'], r['rate']] as number[]);
}

describe('tm data fetch (in-process, against the local Bybit v5 server)', () => {
  const data = loadBybitServerData();
  const dir = tempDir('tm-cli-fetch-');
  let server: BybitV5Server;
  let n = 0;
  const dbFile = () => join(dir, `market-${n++}.duckdb`);

  beforeAll(async () => {
    server = await BybitV5Server.start({
      klines: Object.fromEntries(Object.entries(data.bars).map(([s, b]) => [s, { '240': b }])),
      funding: data.funding,
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.clearFaults();
    server.requests.length = 0;
  });

  const since = '2025-05-01';
  const until = '2025-08-01';
  const fetchArgs = (db: string, ...extra: string[]) => [
    'node', 'tm', 'data', 'fetch', '--exchange', 'bybit', '--symbols', 'BTC/USDT:USDT,ETH/USDT:USDT,SOL/USDT:USDT',
    '--timeframe', '4h', '--since', since, '--until', until, '--db', db, '--api-url', server.url, ...extra,
  ];

  it('fills the store for three symbols with bars and funding and prints a summary table', { timeout: 60_000 }, async () => {
    const db = dbFile();
    const io = captureIo();
    const code = await main(fetchArgs(db, '--page-limit', '200'), io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    const table = io.stdout[0]!.split('\n');
    expect(table[0]).toMatch(/^symbol\s+tf\s+pages\s+bars\s+inserted\s+first\s+last\s+resumed_after\s+funding\s+funding_last$/);
    // 92 days x 6 bars = 552 bars in 3 pages of 200; 92 x 3 = 276 funding settlements.
    for (const [k, symbol] of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'].entries()) {
      expect(table[2 + k]!.split(/\s+/)).toEqual([symbol, '4h', '3', '552', '552', '2025-05-01T00:00:00Z', '2025-07-31T20:00:00Z', '276', '2025-07-31T16:00:00Z']);
    }
    expect(io.stdout[1]).toMatch(/^fetched 1656 bars and 828 funding rates for 3 symbols from bybit in \d+\.\d\d s$/);
    await withStoreAt(db, async (store) => {
      for (const symbol of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) {
        expect(await storedBars(store, symbol)).toEqual(barRows(data.bars[symbol]!, utc(since), utc(until)));
        expect(await storedFunding(store, symbol)).toEqual(fundingRows(data.funding[symbol]!, utc(since), utc(until)));
      }
    });
    expect(server.requestsTo(KLINE)).toHaveLength(9);
  });

  it('resumes a stored series and skips funding with --no-funding (api URL from TM_FETCH_API_URL)', { timeout: 60_000 }, async () => {
    const db = dbFile();
    const first = captureIo();
    expect(await main(['node', 'tm', 'data', 'fetch', '--symbols', 'BTCUSDT', '--timeframe', '4h', '--since', since, '--until', '2025-06-01', '--db', db, '--api-url', server.url, '--no-funding'], first)).toBe(0);
    server.requests.length = 0;
    const io = captureIo();
    const previous = process.env['TM_FETCH_API_URL'];
    process.env['TM_FETCH_API_URL'] = server.url;
    try {
      expect(await main(['node', 'tm', 'data', 'fetch', '--symbols', 'BTCUSDT', '--timeframe', '4h', '--since', since, '--until', until, '--db', db, '--no-funding', '--json'], io)).toBe(0);
    } finally {
      if (previous === undefined) delete process.env['TM_FETCH_API_URL'];
      else process.env['TM_FETCH_API_URL'] = previous;
    }
    const [result] = JSON.parse(io.stdout[0]!) as { symbol: string; bars: Record<string, unknown>; funding?: unknown }[];
    expect(result).toEqual({
      symbol: 'BTCUSDT',
      bars: { pages: 1, fetched: 366, inserted: 366, updated: 0, first: utc('2025-06-01T00:00:00Z'), last: utc('2025-07-31T20:00:00Z'), start: utc('2025-06-01T00:00:00Z'), resumedAfter: utc('2025-05-31T20:00:00Z') },
    });
    expect(server.requestsTo(KLINE).map((r) => r.query['start'])).toEqual([String(utc('2025-06-01T00:00:00Z'))]);
    expect(server.requestsTo('/v5/market/funding/history')).toHaveLength(0);
    await withStoreAt(db, async (store) => {
      expect(await storedBars(store, 'BTCUSDT')).toEqual(barRows(data.bars['BTCUSDT']!, utc(since), utc(until)));
      expect(await storedFunding(store, 'BTCUSDT')).toEqual([]);
    });
  });

  it('exits 2 with a message naming the value for an unknown exchange, a bad symbol, timeframe or date', async () => {
    const cases: [string[], RegExp][] = [
      [['--exchange', 'nosuchexchange'], /^tm: exchange must be a ccxt exchange id \(\d+ known\), was "nosuchexchange"/],
      [['--symbols', 'BTC/USDT:USDT,BTC-USDT'], /^tm: --symbols: symbol must be a Bybit USDT linear perpetual like BTCUSDT, was "BTC-USDT"/],
      [['--timeframe', '1w'], /^tm: --timeframe: timeframe must be one of 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d, was "1w"/],
      [['--since', '2025-13-01'], /^tm: --since must be an ISO-8601 UTC date like 2022-01-01 or 2022-01-01T00:00:00Z, was "2025-13-01"/],
      [['--until', '2025-01-01'], /^tm: --until must be after --since \(2025-05-01\), was "2025-01-01"/],
      [['--page-limit', '5000'], /^tm: --page-limit must be an integer in \[1, 1000\], was "5000"/],
      [['--api-url', 'ftp://example'], /^tm: api URL must use http or https, was "ftp:\/\/example"/],
    ];
    for (const [extra, message] of cases) {
      const io = captureIo();
      const code = await main([...fetchArgs(dbFile()), ...extra], io);
      expect(code, extra.join(' ')).toBe(2);
      expect(io.stderr.join('\n'), extra.join(' ')).toMatch(message);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('exits 2 naming the failure when the venue keeps failing, and lists the command in help', async () => {
    server.inject({ path: KLINE, count: 1, fault: { kind: 'http_status', status: 503, body: 'maintenance' } });
    const io = captureIo();
    expect(await main(fetchArgs(dbFile()), io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/^tm: Bybit answered HTTP 503: /);

    const help = captureIo();
    expect(await main(['node', 'tm', 'data', 'fetch', '--help'], help)).toBe(0);
    const text = help.stdout.join('');
    for (const flag of ['--exchange <id>', '--dvol <currencies>', '--venue <name>', '--symbols <list>', '--timeframe <tf>', '--since <date>', '--until <date>', '--no-funding', '--db <file>', '--api-url <url>', 'TM_FETCH_API_URL']) {
      expect(text).toContain(flag);
    }
  });
});
