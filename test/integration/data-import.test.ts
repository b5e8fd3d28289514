import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStore, detectFileKind, importPath, loadBars, MarketStore, resampleBars, type SeriesCheck } from '../../src/data/index.js';
import { sharedDataDir, tempDir } from '../support/shared-data.js';

interface ReadmeRow {
  file: string;
  rows: number;
  first: string;
  last: string;
  gaps: number;
}

/** Parses the file table of ../shared/data/README.md: | file | market | tf | rows | first ts | last ts | gaps |. */
function readmeTable(dir: string): ReadmeRow[] {
  const rows: ReadmeRow[] = [];
  for (const line of readFileSync(join(dir, 'README.md'), 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 8 || !/\.csv\.gz$/.test(cells[1]!)) continue;
    rows.push({ file: cells[1]!, rows: Number(cells[4]), first: cells[5]!, last: cells[6]!, gaps: Number(/^\d+/.exec(cells[7]!)![0]) });
  }
  return rows;
}

const STORE_TABLE: Record<string, SeriesCheck['table']> = { bars: 'bars', funding: 'funding_rates', series: 'external_series', trades: 'bars' };

async function tableDigest(store: MarketStore): Promise<string> {
  const parts: string[] = [];
  for (const t of ['bars', 'funding_rates', 'external_series', 'trade_ticks', 'predictions']) {
    const r = await store.query(`SELECT count(*)::VARCHAR AS n, coalesce(sum(hash(COLUMNS(*)))::VARCHAR, '') AS h FROM ${t}`);
    parts.push(`${t}:${JSON.stringify(r[0])}`);
  }
  return parts.join(';');
}

describe('tm data import of ../shared/data', () => {
  const dir = sharedDataDir();
  const dbFile = join(tempDir(), 'market.duckdb');
  let store: MarketStore;
  let checks: SeriesCheck[];
  const readme = readmeTable(dir);

  beforeAll(async () => {
    store = await MarketStore.open(dbFile);
    await importPath(store, dir);
    checks = await checkStore(store);
  });
  afterAll(() => store.close());

  it('parses the README file table (guards the test itself)', () => {
    expect(readme.length).toBe(19);
  });

  it('loads every file with the venue taken from its folder', async () => {
    const venues = (await store.query(`SELECT DISTINCT venue FROM bars ORDER BY 1`)).map((r) => r['venue']);
    expect(venues).toEqual(['binance-futures', 'binance-spot', 'bybit']);
    const total = readme.reduce((a, r) => a + r.rows, 0);
    const stored = await store.query(`SELECT (SELECT count(*) FROM bars) + (SELECT count(*) FROM funding_rates) + (SELECT count(*) FROM external_series) AS n`);
    expect(Number(stored[0]!['n'])).toBe(total);
  });

  it('reports rows, first/last bar and gaps exactly as the README states, per file', async () => {
    for (const row of readme) {
      const kind = detectFileKind(join(dir, row.file));
      const venue = 'venue' in kind ? kind.venue : kind.source;
      const symbol = 'symbol' in kind ? kind.symbol : kind.series;
      const timeframe = kind.kind === 'funding' ? '8h' : 'timeframe' in kind ? kind.timeframe : '';
      // Two 1m files share one series: check each file's own window.
      const sameSeries = readme.filter((r) => {
        const k = detectFileKind(join(dir, r.file));
        return JSON.stringify(k) === JSON.stringify(kind);
      });
      const windowed = sameSeries.length > 1
        ? await checkStore(store, { since: Date.parse(row.first), until: Date.parse(row.last) + 1 })
        : checks;
      const c = windowed.find((x) => x.table === STORE_TABLE[kind.kind] && x.venue === venue && x.symbol === symbol && x.timeframe === timeframe);
      expect(c, row.file).toBeDefined();
      expect({ file: row.file, rows: c!.rows, first: c!.first, last: c!.last, gaps: c!.gaps, dup: c!.duplicates, bad: c!.ohlcInconsistent + c!.nonPositive }).toEqual({
        file: row.file, rows: row.rows, first: row.first, last: row.last, gaps: row.gaps, dup: 0, bad: 0,
      });
    }
  });

  it('reports the binance-spot gaps at the timestamps the README lists', () => {
    const btc = checks.find((c) => c.venue === 'binance-spot' && c.symbol === 'BTCUSDT')!;
    expect(btc.gapRanges).toEqual([
      { from: '2019-03-12T04:00:00Z', missing: 1 },
      { from: '2019-05-15T04:00:00Z', missing: 2 },
      { from: '2019-08-15T04:00:00Z', missing: 1 },
      { from: '2020-02-19T12:00:00Z', missing: 1 },
    ]);
  });

  it('importing again changes nothing (row-for-row)', async () => {
    const before = await tableDigest(store);
    const again = await importPath(store, dir);
    expect(again.reduce((a, r) => a + r.inserted + r.updated, 0)).toBe(0);
    expect(await tableDigest(store)).toBe(before);
  });

  it('loads 3 symbols × 2022-01-01..2025-08-31 4h bars from binance-spot into aligned typed arrays with no gaps', async () => {
    const frame = await loadBars(store, { venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], timeframe: '4h', start: Date.parse('2022-01-01T00:00:00Z'), end: Date.parse('2025-09-01T00:00:00Z'), missing: 'error' });
    expect(frame.ts.length).toBe(8034);
    expect(frame.ts[0]).toBe(Date.parse('2022-01-01T00:00:00Z'));
    expect(frame.open[0]![0]).toBe(46216.93); // Binance spot's first trade of 2022 (README)
    expect(frame.close.every((c) => c instanceof Float64Array && c.length === 8034 && c.every(Number.isFinite))).toBe(true);
  });

  it('resamples 1h → 4h in SQL to the same bars as the README 4h file (made from the 1h)', async () => {
    const other = await MarketStore.open(':memory:');
    try {
      await importPath(other, join(dir, 'binance-futures/ETHUSDT-1h.csv.gz'));
      await importPath(other, join(dir, 'binance-futures/ETHUSDT-4h.csv.gz'), { venue: 'reference' });
      const r = await resampleBars(other, { venue: 'binance-futures', symbol: 'ETHUSDT', from: '1h', to: '4h' });
      // The 4h file holds complete buckets only; one partial bucket at the series start was left out (README).
      expect(r).toMatchObject({ inserted: 12628, updated: 0, partial: 1 });
      const diff = await other.query(`
        SELECT count(*) AS n, count(*) FILTER (WHERE f.open <> m.open OR f.high <> m.high OR f.low <> m.low OR f.close <> m.close OR abs(f.volume - m.volume) > 5e-9) AS bad
        FROM bars m JOIN bars f ON f.venue = 'reference' AND f.timeframe = '4h' AND f.ts = m.ts
        WHERE m.venue = 'binance-futures' AND m.timeframe = '4h'`);
      // Volumes in the file were rounded to 8 decimals after summing (README), hence the 5e-9 tolerance.
      expect({ n: Number(diff[0]!['n']), bad: Number(diff[0]!['bad']) }).toEqual({ n: 12628, bad: 0 });
      const again = await resampleBars(other, { venue: 'binance-futures', symbol: 'ETHUSDT', from: '1h', to: '4h' });
      expect(again).toMatchObject({ inserted: 0, updated: 0 });
    } finally {
      other.close();
    }
  });
});
