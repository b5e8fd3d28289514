/**
 * loadBars on a small hand-made store (DuckDB in memory): the common grid, each missing-bar policy, the window, the
 * symbols' order and the errors. Every expected value is written out by hand from the rows inserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUtc } from '../core/time.js';
import type { MissingBarPolicy } from './bar-frame.js';
import { DataError } from './data-error.js';
import { loadBars } from './load-bars.js';
import { MarketStore } from './market-store.js';

const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);

/** Bars opening at `T0 + hours[k] h`: close c, open c − 1, high c + 2, low c − 2, volume c / 10. */
function bars(hours: readonly number[], closes: readonly number[]) {
  const f = (g: (c: number) => number): Float64Array => Float64Array.from(closes, g);
  return { ts: Float64Array.from(hours, (h) => T0 + h * H), open: f((c) => c - 1), high: f((c) => c + 2), low: f((c) => c - 2), close: f((c) => c), volume: f((c) => c / 10) };
}

let store: MarketStore;
beforeAll(async () => {
  store = await MarketStore.open(':memory:');
  // The grid of A and B together is hours 0-5: A lacks 2 and 5, B lacks 0 and 4.
  // Stored out of time order (later hours first): the grid's ends are the smallest and greatest times, not the rows' ends.
  await store.upsertBars('v', 'A', '1h', bars([3, 4], [13, 14]));
  await store.upsertBars('v', 'A', '1h', bars([0, 1], [10, 11]));
  await store.upsertBars('v', 'B', '1h', bars([1, 2, 3, 5], [20, 21, 22, 23]));
  await store.upsertBars('w', 'A', '1h', bars([0, 1, 2], [30, 31, 32])); // another venue
  await store.upsertBars('v', 'A', '4h', bars([0, 4], [40, 44])); // another timeframe
  await store.upsertBars('v', 'D', '1h', bars([2, 3], [50, 51])); // starts two hours after A
  // Venue dup: a bar stored twice (bar_data has no unique key; `tm data check` reports such rows).
  await store.upsertBars('dup', 'A', '1h', bars([0, 1], [60, 61]));
  await store.query(`INSERT INTO bar_data SELECT * FROM bar_data WHERE series_id = (SELECT id FROM bar_series WHERE venue = 'dup') AND ts = epoch_ms(?::BIGINT)`, [T0 + H]);
});
afterAll(() => store?.close());

const load = (missing: MissingBarPolicy, symbols = ['A', 'B'], window: { start?: number; end?: number } = {}) => loadBars(store, { venue: 'v', symbols, timeframe: '1h', missing, ...window });
const hours = (ts: Float64Array): number[] => Array.from(ts, (t) => (t - T0) / H);
const list = (a: ArrayLike<number>): number[] => Array.from(a);

describe('loadBars', () => {
  it('nan: keeps every grid point, NaN and present 0 where a symbol has no bar', async () => {
    const f = await load('nan');
    expect(f).toMatchObject({ venue: 'v', timeframe: '1h', symbols: ['A', 'B'], missing: { policy: 'nan', filled: [2, 2] } });
    expect(hours(f.ts)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(list(f.close[0]!)).toEqual([10, 11, NaN, 13, 14, NaN]);
    expect(list(f.close[1]!)).toEqual([NaN, 20, 21, 22, NaN, 23]);
    expect(list(f.open[0]!)).toEqual([9, 10, NaN, 12, 13, NaN]);
    expect(list(f.high[1]!)).toEqual([NaN, 22, 23, 24, NaN, 25]);
    expect(list(f.low[0]!)).toEqual([8, 9, NaN, 11, 12, NaN]);
    expect(list(f.volume[1]!)).toEqual([NaN, 2, 2.1, 2.2, NaN, 2.3]);
    expect(list(f.present[0]!)).toEqual([1, 1, 0, 1, 1, 0]);
    expect(list(f.present[1]!)).toEqual([0, 1, 1, 1, 0, 1]);
  });

  it('forward-fill: a missing bar is the previous close with volume 0; NaN before the first bar', async () => {
    const f = await load('forward-fill');
    expect(f.missing).toEqual({ policy: 'forward-fill', filled: [2, 2] });
    expect(list(f.close[0]!)).toEqual([10, 11, 11, 13, 14, 14]);
    for (const field of [f.open, f.high, f.low]) expect([field[0]![2], field[0]![5]]).toEqual([11, 14]);
    expect(list(f.volume[0]!)).toEqual([1, 1.1, 0, 1.3, 1.4, 0]);
    expect(list(f.close[1]!)).toEqual([NaN, 20, 21, 22, 22, 23]);
    expect(list(f.volume[1]!)).toEqual([NaN, 2, 2.1, 2.2, 0, 2.3]); // before its first bar: NaN, not 0
    expect(list(f.open[1]!)).toEqual([NaN, 19, 20, 21, 22, 22]);
    expect(list(f.present[1]!)).toEqual([0, 1, 1, 1, 0, 1]); // filled bars stay marked as not present
  });

  it('forward-fill: a symbol starting later stays NaN, volume too, until its first bar', async () => {
    const f = await load('forward-fill', ['A', 'D']);
    expect(hours(f.ts)).toEqual([0, 1, 2, 3, 4]);
    expect(list(f.close[1]!)).toEqual([NaN, NaN, 50, 51, 51]);
    expect(list(f.volume[1]!)).toEqual([NaN, NaN, 5, 5.1, 0]);
    expect(f.missing.filled).toEqual([1, 3]);
  });

  it('intersect: only the grid points where every symbol has a bar', async () => {
    const f = await load('intersect');
    expect(hours(f.ts)).toEqual([1, 3]);
    expect(list(f.close[0]!)).toEqual([11, 13]);
    expect(list(f.close[1]!)).toEqual([20, 22]);
    expect(list(f.volume[1]!)).toEqual([2, 2.2]);
    expect(f.present.map(list)).toEqual([[1, 1], [1, 1]]);
    expect(f.missing).toEqual({ policy: 'intersect', filled: [0, 0] });
  });

  it('error (the default): names the first symbol with a gap, its count and first missing time', async () => {
    const failure = loadBars(store, { venue: 'v', symbols: ['A', 'B'], timeframe: '1h' });
    await expect(failure).rejects.toBeInstanceOf(DataError);
    await expect(failure).rejects.toMatchObject({
      code: 'missing_bars',
      message: `A (v, 1h) has 2 missing bars on the common grid, the first at ${formatUtc(T0 + 2 * H)}; choose a missing-bar policy (nan, forward-fill, intersect) or a range without gaps`,
      context: { venue: 'v', symbol: 'A', timeframe: '1h', missing: 2, first: formatUtc(T0 + 2 * H) },
    });
    // One symbol alone has no gap on its own grid (hours 1-3 of B).
    const b = await loadBars(store, { venue: 'v', symbols: ['B'], timeframe: '1h', end: T0 + 4 * H });
    expect(hours(b.ts)).toEqual([1, 2, 3]);
    expect(b.missing).toEqual({ policy: 'error', filled: [0] });
  });

  it('reads [start, end) of the venue and timeframe asked, in the order of the symbols asked', async () => {
    const f = await load('nan', ['B', 'A'], { start: T0 + H, end: T0 + 4 * H });
    expect(hours(f.ts)).toEqual([1, 2, 3]);
    expect(f.symbols).toEqual(['B', 'A']);
    expect(list(f.close[0]!)).toEqual([20, 21, 22]);
    expect(list(f.close[1]!)).toEqual([11, NaN, 13]);
    const w = await loadBars(store, { venue: 'w', symbols: ['A'], timeframe: '1h' });
    expect(list(w.close[0]!)).toEqual([30, 31, 32]);
    const h4 = await loadBars(store, { venue: 'v', symbols: ['A'], timeframe: '4h' });
    expect(hours(h4.ts)).toEqual([0, 4]);
    expect(list(h4.close[0]!)).toEqual([40, 44]);
  });

  it('refuses a bar stored twice, naming it and pointing to tm data check', async () => {
    const failure = loadBars(store, { venue: 'dup', symbols: ['A'], timeframe: '1h' });
    await expect(failure).rejects.toBeInstanceOf(DataError);
    await expect(failure).rejects.toMatchObject({ code: 'store', message: `A (dup, 1h) has two bars at ${formatUtc(T0 + H)}; run \`tm data check\``, context: { venue: 'dup', symbol: 'A', timeframe: '1h' } });
  });

  it('refuses no symbols, a symbol without bars in the range, and a policy it does not know', async () => {
    await expect(load('nan', [])).rejects.toMatchObject({ code: 'not_found', message: 'loadBars: `symbols` must name at least one symbol, was []', context: { symbols: [] } });
    await expect(load('nan', ['A', 'C'])).rejects.toMatchObject({ code: 'not_found', message: 'no 1h bars for C on v in the requested range', context: { venue: 'v', symbol: 'C', timeframe: '1h' } });
    await expect(load('nan', ['A', 'B'], { start: T0 + 5 * H })).rejects.toMatchObject({ code: 'not_found', context: { symbol: 'A' } });
    const bad = load('forwardfill' as MissingBarPolicy);
    await expect(bad).rejects.toBeInstanceOf(DataError);
    await expect(bad).rejects.toMatchObject({ code: 'invalid_value', message: 'loadBars: `missing` must be one of error, nan, forward-fill, intersect, was "forwardfill"', context: { missing: 'forwardfill' } });
  });
});
