/**
 * featureInputsFromStore and featureInputsFromFrame on a small hand-made store (DuckDB in memory): every expected value
 * below is written out by hand from the rows inserted. The real-data tests (feature-pipeline, causality) load the same
 * way at scale; these pin the edges: the reference's bridge and its maximum age, funding and DVOL rows up to the last
 * bar's close (inclusive), the defaults and the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../data/data-error.js';
import { loadBars, MarketStore } from '../data/index.js';
import { DVOL_SERIES, featureInputsFromFrame, featureInputsFromStore } from './load-feature-inputs.js';

const H = 3_600_000;
const DAY = 24 * H;
/** Bar 0 opens at 2024-12-31 18:00; bar 5 (the last) closes at 2025-01-01 00:00. */
const T0 = Date.UTC(2024, 11, 31, 18);
const LAST_CLOSE = T0 + 6 * H;

/** OHLCV columns of bars opening at `T0 + hours[k] h` with close `closes[k]` (open/high/low around it, volume 1). */
function bars(hours: readonly number[], closes: readonly number[]) {
  const f = (g: (c: number) => number): Float64Array => Float64Array.from(closes, g);
  return { ts: Float64Array.from(hours, (h) => T0 + h * H), open: f((c) => c - 1), high: f((c) => c + 2), low: f((c) => c - 2), close: f((c) => c), volume: f(() => 1) };
}

let store: MarketStore;
beforeAll(async () => {
  store = await MarketStore.open(':memory:');
  // ETH: hours 0-5, hour 3 missing.
  await store.upsertBars('v', 'ETHUSDT', '1h', bars([0, 1, 2, 4, 5], [10, 11, 12, 14, 15]));
  // The reference starts an hour later and misses hours 3 and 4; one bar after ETH's last.
  await store.upsertBars('v', 'BTCUSDT', '1h', bars([1, 2, 5, 6], [101, 102, 105, 106]));
  // The same reference on another venue, with hour 0 (to tell the venues apart).
  await store.upsertBars('w', 'BTCUSDT', '1h', bars([0, 1, 2, 3, 4, 5], [200, 201, 202, 203, 204, 205]));
  // Venue n: a reference bar stored with a NaN close (present, but no price) at hour 2.
  await store.upsertBars('n', 'ETHUSDT', '1h', bars([0, 1, 2, 3], [10, 11, 12, 13]));
  await store.upsertBars('n', 'BTCUSDT', '1h', bars([0, 1, 2, 3], [300, 301, NaN, 303]));
  // Funding: 8 h apart; the one at the last bar's close counts, the next does not.
  const fts = [T0 - 10 * H, T0 - 2 * H, LAST_CLOSE, LAST_CLOSE + 8 * H];
  await store.upsertFunding('fv', 'ETHUSDT', Float64Array.from(fts), Float64Array.from([1e-4, 2e-4, 3e-4, 4e-4]));
  await store.upsertFunding('fv', 'ETHPERP', Float64Array.from(fts.slice(0, 2)), Float64Array.from([5e-4, 6e-4]));
  // Daily series: a day is usable once it has closed (day + 24 h <= the last bar's close).
  const days = Float64Array.from([LAST_CLOSE - 2 * DAY, LAST_CLOSE - DAY, LAST_CLOSE]);
  await store.upsertSeries('deribit', 'BTC-DVOL', '1d', days, Float64Array.from([50, 51, 52])); // DVOL_SERIES, spelled out
  await store.upsertSeries('x', 'OTHER', '1d', days, Float64Array.from([7, 8, 9]));
  await store.upsertSeries('x', 'HOURLY', '1h', days, Float64Array.from([7, 8, 9]));
  await store.upsertSeries('x', 'LATE', '1d', Float64Array.of(LAST_CLOSE), Float64Array.of(1));
});
afterAll(() => store?.close());

const hours = (ts: Float64Array): number[] => Array.from(ts, (t) => (t - T0) / H);
const base = { venue: 'v', symbol: 'ETHUSDT', timeframe: '1h' } as const;

describe('featureInputsFromStore', () => {
  it('loads the bars forward-filled by default, with nothing else unless asked', async () => {
    const x = await featureInputsFromStore(store, base);
    expect(hours(x.ts)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(x.timeframeMs).toBe(H);
    expect(Array.from(x.close)).toEqual([10, 11, 12, 12, 14, 15]);
    expect(Array.from(x.open)).toEqual([9, 10, 11, 12, 13, 14]); // a filled bar: open = high = low = the previous close
    expect(Array.from(x.high)).toEqual([12, 13, 14, 12, 16, 17]);
    expect(Array.from(x.low)).toEqual([8, 9, 10, 12, 12, 13]);
    expect(Array.from(x.volume)).toEqual([1, 1, 1, 0, 1, 1]);
    expect(Array.from(x.present!)).toEqual([1, 1, 1, 0, 1, 1]);
    expect(Object.keys(x).sort()).toEqual(['close', 'high', 'low', 'open', 'present', 'timeframeMs', 'ts', 'volume']);
  });

  it('passes the missing-bar policy and the window on to the bars', async () => {
    const x = await featureInputsFromStore(store, { ...base, missing: 'nan', start: T0 + H, end: T0 + 5 * H });
    expect(hours(x.ts)).toEqual([1, 2, 3, 4]);
    expect(Array.from(x.close)).toEqual([11, 12, NaN, 14]);
    await expect(featureInputsFromStore(store, { ...base, missing: 'error' })).rejects.toMatchObject({ code: 'missing_bars' });
  });

  it('aligns the reference close: the latest one at or before each bar, bridged one bar at most, NaN before its first', async () => {
    const x = await featureInputsFromStore(store, { ...base, reference: 'BTCUSDT' });
    // hour 0: before the reference's first bar; 3: hour 2's close, one bar old; 4: two bars old; 6 (after ETH's last bar) unused.
    expect(Array.from(x.referenceClose!)).toEqual([NaN, 101, 102, 102, NaN, 105]);
  });

  it('bridges as many bars as referenceMaxAgeBars allows, and reads the reference venue', async () => {
    const two = await featureInputsFromStore(store, { ...base, reference: 'BTCUSDT', referenceMaxAgeBars: 2 });
    expect(Array.from(two.referenceClose!)).toEqual([NaN, 101, 102, 102, 102, 105]);
    const none = await featureInputsFromStore(store, { ...base, reference: 'BTCUSDT', referenceMaxAgeBars: 0 });
    expect(Array.from(none.referenceClose!)).toEqual([NaN, 101, 102, NaN, NaN, 105]);
    const w = await featureInputsFromStore(store, { ...base, reference: 'BTCUSDT', referenceVenue: 'w' });
    expect(Array.from(w.referenceClose!)).toEqual([200, 201, 202, 203, 204, 205]);
  });

  it('loads every funding settlement up to the last bar’s close, that one included', async () => {
    const x = await featureInputsFromStore(store, { ...base, fundingVenue: 'fv' });
    expect(hours(x.funding!.ts)).toEqual([-10, -2, 6]);
    expect(Array.from(x.funding!.rate)).toEqual([1e-4, 2e-4, 3e-4]);
    const other = await featureInputsFromStore(store, { ...base, fundingVenue: 'fv', fundingSymbol: 'ETHPERP' });
    expect(Array.from(other.funding!.rate)).toEqual([5e-4, 6e-4]);
    // A shorter window ends earlier: its last close is hour 3, so the settlement at hour 6 is not known yet.
    const early = await featureInputsFromStore(store, { ...base, fundingVenue: 'fv', end: T0 + 3 * H });
    expect(hours(early.funding!.ts)).toEqual([-10, -2]);
  });

  it('loads the daily series days that closed by the last bar’s close (day + 24 h <= it)', async () => {
    expect(DVOL_SERIES).toEqual({ source: 'deribit', series: 'BTC-DVOL', timeframe: '1d' });
    const x = await featureInputsFromStore(store, { ...base, dvol: true });
    expect(Array.from(x.dvol!.ts)).toEqual([LAST_CLOSE - 2 * DAY, LAST_CLOSE - DAY]);
    expect(Array.from(x.dvol!.value)).toEqual([50, 51]);
    const other = await featureInputsFromStore(store, { ...base, dvol: { source: 'x', series: 'OTHER' } });
    expect(Array.from(other.dvol!.value)).toEqual([7, 8]);
    const early = await featureInputsFromStore(store, { ...base, dvol: true, end: T0 + 5 * H });
    expect(Array.from(early.dvol!.value)).toEqual([50]); // last close 23:00: yesterday's day is still open
    expect(Object.keys(await featureInputsFromStore(store, { ...base, dvol: false }))).not.toContain('dvol');
  });

  it('names what is missing: the symbol, the funding settlements, the daily series (a series of another timeframe is not it)', async () => {
    await expect(featureInputsFromStore(store, { ...base, symbol: 'SOLUSDT' })).rejects.toMatchObject({ code: 'not_found' });
    const funding = featureInputsFromStore(store, { ...base, fundingVenue: 'fv', fundingSymbol: 'SOLUSDT' });
    await expect(funding).rejects.toBeInstanceOf(DataError);
    await expect(funding).rejects.toMatchObject({ code: 'not_found', message: "no funding settlements for SOLUSDT on fv up to the last bar's close", context: { venue: 'fv', symbol: 'SOLUSDT' } });
    // Settlements exist, but none by the last close (the window ends before the first).
    await expect(featureInputsFromStore(store, { ...base, fundingVenue: 'fv', fundingSymbol: 'ETHPERP', start: T0 - 20 * H, end: T0 - 11 * H })).rejects.toMatchObject({ code: 'not_found' });
    const series = featureInputsFromStore(store, { ...base, dvol: { source: 'x', series: 'HOURLY' } });
    await expect(series).rejects.toBeInstanceOf(DataError);
    await expect(series).rejects.toMatchObject({ code: 'not_found', message: 'no x HOURLY (1d) series in the store', context: { source: 'x', series: 'HOURLY' } });
  });

  it('gives an empty daily series, not an error, when the series exists but no day of it has closed yet', async () => {
    const x = await featureInputsFromStore(store, { ...base, dvol: { source: 'x', series: 'LATE' } });
    expect(x.dvol!.ts.length).toBe(0);
  });
});

describe('featureInputsFromFrame', () => {
  it('shares the frame’s columns and bridges the reference by the loader’s rule', async () => {
    const frame = await loadBars(store, { venue: 'v', symbols: ['ETHUSDT', 'BTCUSDT'], timeframe: '1h', end: T0 + 6 * H, missing: 'forward-fill' });
    const x = featureInputsFromFrame(frame, 'ETHUSDT', { reference: 'BTCUSDT' });
    expect(x.close).toBe(frame.close[0]);
    expect(x.present).toBe(frame.present[0]);
    expect(x.timeframeMs).toBe(H);
    // The frame forward-fills BTC's missing hours 3 and 4 (present 0): one bar bridged, the second NaN; hour 0 before its first.
    expect(Array.from(x.referenceClose!)).toEqual([NaN, 101, 102, 102, NaN, 105]);
    const fromStore = await featureInputsFromStore(store, { ...base, reference: 'BTCUSDT' });
    expect(Array.from(x.referenceClose!)).toEqual(Array.from(fromStore.referenceClose!));
    expect(Object.keys(featureInputsFromFrame(frame, 'BTCUSDT'))).not.toContain('referenceClose');
  });

  it('bridges over a present reference bar without a price, as the store loader does', async () => {
    const frame = await loadBars(store, { venue: 'n', symbols: ['ETHUSDT', 'BTCUSDT'], timeframe: '1h', missing: 'error' });
    expect(frame.present[1]![2]).toBe(1);
    const x = featureInputsFromFrame(frame, 'ETHUSDT', { reference: 'BTCUSDT' });
    expect(Array.from(x.referenceClose!)).toEqual([300, 301, 301, 303]);
    const fromStore = await featureInputsFromStore(store, { venue: 'n', symbol: 'ETHUSDT', timeframe: '1h', reference: 'BTCUSDT' });
    expect(Array.from(fromStore.referenceClose!)).toEqual([300, 301, 301, 303]);
  });

  it('takes the funding and daily series given, and names a symbol or reference the frame lacks', async () => {
    const frame = await loadBars(store, { venue: 'v', symbols: ['ETHUSDT'], timeframe: '1h', missing: 'forward-fill' });
    const funding = { ts: Float64Array.of(T0), rate: Float64Array.of(1e-4) };
    const dvol = { ts: Float64Array.of(T0 - DAY), value: Float64Array.of(50) };
    const x = featureInputsFromFrame(frame, 'ETHUSDT', { funding, dvol });
    expect(x.funding).toBe(funding);
    expect(x.dvol).toBe(dvol);
    expect(() => featureInputsFromFrame(frame, 'SOLUSDT')).toThrow("`symbol` must be one of the frame's symbols ETHUSDT, was \"SOLUSDT\"");
    expect(() => featureInputsFromFrame(frame, 'ETHUSDT', { reference: 'BTCUSDT' })).toThrow(
      expect.objectContaining({ code: 'missing_feature_input', message: "`reference` must be one of the frame's symbols ETHUSDT, was \"BTCUSDT\"", context: { reference: 'BTCUSDT' } }),
    );
    const two = await loadBars(store, { venue: 'v', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '1h', missing: 'nan' });
    expect(() => featureInputsFromFrame(two, 'ETHUSDT', { reference: 'SOLUSDT' })).toThrow("`reference` must be one of the frame's symbols BTCUSDT, ETHUSDT, was \"SOLUSDT\"");
  });
});
