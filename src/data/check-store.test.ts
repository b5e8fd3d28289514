/**
 * checkStore (what `tm data check` reports) on a small hand-made store (DuckDB in memory): every count below is
 * worked out by hand from the rows inserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStore, hasProblems, type SeriesCheck } from './check-store.js';
import { MarketStore } from './market-store.js';

const H = 3_600_000;
const DAY = 24 * H;
const T0 = Date.UTC(2025, 0, 1);
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Bars opening at `T0 + hours[k] h` (close c, open c − 1, high c + 2, low c − 2, volume 1), then `edit` on the columns. */
function bars(hours: readonly number[], edit: (cols: Record<'open' | 'high' | 'low' | 'close' | 'volume', Float64Array>) => void = () => {}) {
  const c = hours.map((h) => 100 + h);
  const cols = {
    open: Float64Array.from(c, (x) => x - 1),
    high: Float64Array.from(c, (x) => x + 2),
    low: Float64Array.from(c, (x) => x - 2),
    close: Float64Array.from(c),
    volume: Float64Array.from(c, () => 1),
  };
  edit(cols);
  return { ts: Float64Array.from(hours, (h) => T0 + h * H), ...cols };
}

let store: MarketStore;
beforeAll(async () => {
  store = await MarketStore.open(':memory:');
  // A: hours 3 and 4 missing; hour 7 high below its close; hour 8 a zero low; hour 9 a NaN volume; hour 6 stored twice.
  await store.upsertBars('v', 'A', '1h', bars([0, 1, 2, 5, 6, 7, 8, 9], (b) => {
    b.high[5] = b.close[5]! - 1;
    b.low[6] = 0;
    b.volume[7] = NaN;
  }));
  await store.query(`INSERT INTO bar_data SELECT * FROM bar_data WHERE series_id = (SELECT id FROM bar_series WHERE symbol = 'A') AND ts = epoch_ms(?::BIGINT)`, [T0 + 6 * H]);
  await store.upsertBars('v', 'B', '1h', bars([0, 1, 2, 3])); // clean
  await store.upsertBars('v', 'C', '1h', bars(Array.from({ length: 26 }, (_, k) => 2 * k))); // every other hour: 25 gaps
  // Funding: every 8 h, at a 4 h interval for a while (12:00), then 32:00 and 40:00 missing.
  await store.upsertFunding('fv', 'X', Float64Array.from([0, 8, 12, 16, 24, 48], (h) => T0 + h * H), Float64Array.from([1, 2, 3, 4, 5, NaN], (r) => r * 1e-4));
  // A daily series without day 2.
  await store.upsertSeries('src', 'S', '1d', Float64Array.from([0, 1, 3], (d) => T0 + d * DAY), Float64Array.from([1, 2, 3]));
});
afterAll(() => store?.close());

const find = (checks: readonly SeriesCheck[], symbol: string): SeriesCheck => checks.find((c) => c.symbol === symbol)!;

describe('checkStore', () => {
  it('counts rows, gaps, duplicates, OHLC inconsistencies and non-positive or non-finite values of a bar series', async () => {
    const a = find(await checkStore(store), 'A');
    expect(a).toEqual({
      table: 'bars', venue: 'v', symbol: 'A', timeframe: '1h', rows: 9, first: iso(T0), last: iso(T0 + 9 * H),
      gaps: 2, gapRanges: [{ from: iso(T0 + 3 * H), missing: 2 }], duplicates: 1, ohlcInconsistent: 1, nonPositive: 2,
    });
    expect(hasProblems(a, false)).toBe(true);
  });

  it('lists the series of every table in order; a clean one has no problem, gaps are one only when strict', async () => {
    const checks = await checkStore(store);
    expect(checks.map((c) => `${c.table} ${c.venue} ${c.symbol} ${c.timeframe}`)).toEqual(['bars v A 1h', 'bars v B 1h', 'bars v C 1h', 'funding_rates fv X 8h', 'external_series src S 1d']);
    const b = find(checks, 'B');
    expect([b.gaps, b.duplicates, b.ohlcInconsistent, b.nonPositive, hasProblems(b, true)]).toEqual([0, 0, 0, 0, false]);
    const s = find(checks, 'S');
    expect([s.rows, s.gaps, s.gapRanges, hasProblems(s, false), hasProblems(s, true)]).toEqual([3, 1, [{ from: iso(T0 + 2 * DAY), missing: 1 }], false, true]);
  });

  it('counts every gap but lists the first 20', async () => {
    const c = find(await checkStore(store), 'C');
    expect(c.gaps).toBe(25);
    expect(c.gapRanges).toHaveLength(20);
    expect(c.gapRanges[0]).toEqual({ from: iso(T0 + H), missing: 1 });
    expect(c.gapRanges[19]).toEqual({ from: iso(T0 + 39 * H), missing: 1 });
  });

  it('counts funding gaps on the settlement interval; settling more often for a while is not a negative gap', async () => {
    const x = find(await checkStore(store), 'X');
    // (48 − 0) / 8 + 1 − 6 rows = 1 by the grid count: the extra settlement at 12:00 hid one of the two missing.
    expect([x.rows, x.gaps, x.gapRanges, x.nonPositive]).toEqual([6, 2, [{ from: iso(T0 + 32 * H), missing: 2 }], 1]);
    const four = find(await checkStore(store, { fundingInterval: '4h' }), 'X');
    // Every 4 h: 4:00, 20:00 and 28:00-44:00 missing.
    expect([four.timeframe, four.gaps, four.gapRanges]).toEqual(['4h', 7, [{ from: iso(T0 + 4 * H), missing: 1 }, { from: iso(T0 + 20 * H), missing: 1 }, { from: iso(T0 + 28 * H), missing: 5 }]]);
    const short = (await checkStore(store, { until: T0 + 14 * H })).find((c) => c.symbol === 'X')!;
    expect(short.gaps).toBe(0); // 0, 8, 12: was −1 by the grid count
  });

  it('fails a series on any one problem (gaps only when strict), and refuses a funding interval it cannot read', async () => {
    const clean = find(await checkStore(store), 'B');
    const one = (problem: Partial<SeriesCheck>): [boolean, boolean] => [hasProblems({ ...clean, ...problem }, false), hasProblems({ ...clean, ...problem }, true)];
    expect(one({})).toEqual([false, false]);
    expect(one({ duplicates: 1 })).toEqual([true, true]);
    expect(one({ ohlcInconsistent: 1 })).toEqual([true, true]);
    expect(one({ nonPositive: 1 })).toEqual([true, true]);
    expect(one({ gaps: 1 })).toEqual([false, true]);
    await expect(checkStore(store, { fundingInterval: "8h' AS timeframe, ts FROM bars --" })).rejects.toThrow(/8h' AS timeframe/);
  });

  it('checks only [since, until)', async () => {
    const checks = await checkStore(store, { since: T0 + 5 * H, until: T0 + 9 * H });
    const a = find(checks, 'A');
    expect([a.rows, a.first, a.last, a.gaps, a.duplicates, a.ohlcInconsistent, a.nonPositive]).toEqual([5, iso(T0 + 5 * H), iso(T0 + 8 * H), 0, 1, 1, 1]);
    expect(find(checks, 'B')).toBeUndefined(); // no row in the window
    expect(checks.map((c) => c.symbol)).toEqual(['A', 'C', 'X']); // X: the settlement at 8:00
  });
});
