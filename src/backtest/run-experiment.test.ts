import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBacktestConfig, type BacktestConfigInput } from '../config/backtest-config.js';
import { AppError } from '../core/app-error.js';
import { HOUR_MS } from '../core/time.js';
import { MarketStore } from '../data/index.js';
import type { Strategy } from '../engine/strategy.js';
import { ExperimentError, runExperiment, type ExperimentConfig, type StrategyFactory } from './run-experiment.js';

const T0 = Date.UTC(2024, 0, 1);
const STEP = 4 * HOUR_MS;
const N = 60;

/** A small hand-made price path (not market data): 60 4h bars per symbol. */
function bars(scale: number) {
  const ts = Float64Array.from({ length: N }, (_, k) => T0 + k * STEP);
  const close = Float64Array.from({ length: N }, (_, k) => scale * (100 + 10 * Math.sin(k / 4)));
  const open = Float64Array.from(close, (c, k) => (k === 0 ? c : close[k - 1]!));
  const high = Float64Array.from(close, (c, k) => Math.max(c, open[k]!) * 1.01);
  const low = Float64Array.from(close, (c, k) => Math.min(c, open[k]!) * 0.99);
  return { ts, open, high, low, close, volume: new Float64Array(N).fill(1000) };
}

/** Records, at every bar, the `signal` value the strategy can see and how long its history is. */
function probe(seen: { instrument: number; index: number; value: number; visible: number }[]): StrategyFactory {
  return (): Strategy => ({
    name: 'probe',
    onBar(ctx, bar) {
      const h = ctx.history(bar.instrument);
      seen.push({ instrument: bar.instrument, index: bar.index, value: h.columns['signal']![bar.index]!, visible: h.length });
    },
  });
}

const holdOne: StrategyFactory = () => ({
  name: 'hold',
  onBar(ctx, bar) {
    if (bar.index === 0) ctx.submitOrder({ instrument: bar.instrument, side: 'buy', type: 'market', quantity: ctx.roundQuantity(bar.instrument, 1000 / bar.close) });
  },
});

function config(overrides: Partial<BacktestConfigInput> = {}): ExperimentConfig {
  const r = parseBacktestConfig(
    {
      name: 'unit',
      strategy: 'hold',
      data: { venue: 'test-spot', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-02-01' },
      slippage: { model: 'fixed', bps: 1 },
      ...overrides,
    },
    'unit',
  );
  if (!r.success) throw r.error;
  return r.data;
}

let store: MarketStore;
beforeAll(async () => {
  store = await MarketStore.open(':memory:');
  for (const venue of ['test-spot', 'bybit']) {
    await store.upsertBars(venue, 'BTCUSDT', '4h', bars(400));
    await store.upsertBars(venue, 'ETHUSDT', '4h', bars(20));
  }
  // SOLUSDT on test-spot only, from bar 24 (4 days in) on
  const late = bars(5);
  await store.upsertBars('test-spot', 'SOLUSDT', '4h', { ts: late.ts.subarray(24), open: late.open.subarray(24), high: late.high.subarray(24), low: late.low.subarray(24), close: late.close.subarray(24), volume: late.volume.subarray(24) });
  // Funding for BTC only, on the first half of the 8h settlements.
  const fundingTs = Float64Array.from({ length: 10 }, (_, k) => T0 + (k + 1) * 8 * HOUR_MS);
  await store.upsertFunding('binance-futures', 'BTCUSDT', fundingTs, new Float64Array(10).fill(0.0003));
  // Predictions of model m1 for every 3rd bar (and one row outside the frame).
  const pts = Float64Array.from({ length: 21 }, (_, k) => T0 + 3 * k * STEP);
  await store.upsertPredictions({ model: 'm1', modelVersion: 'v1', venue: 'test-spot', symbol: 'BTCUSDT', timeframe: '4h' }, pts, Float64Array.from(pts, (_, k) => k / 10));
  await store.upsertPredictions({ model: 'm2', modelVersion: 'a', venue: 'test-spot', symbol: 'BTCUSDT', timeframe: '4h' }, pts.subarray(0, 2), Float64Array.of(1, 2));
  await store.upsertPredictions({ model: 'm2', modelVersion: 'b', venue: 'test-spot', symbol: 'BTCUSDT', timeframe: '4h' }, pts.subarray(0, 2), Float64Array.of(1, 2));
});
afterAll(() => store.close());

describe('runExperiment', () => {
  it('states the substitution of Bybit rules on another venue, maps funding per symbol and falls back where missing', async () => {
    const result = await runExperiment(config(), { store, strategies: { hold: holdOne } });
    expect(result.instruments).toEqual(['BTCUSDT-LINEAR.BYBIT', 'ETHUSDT-LINEAR.BYBIT']);
    expect(result.dataSources.map((d) => d.note)).toEqual(['Bybit USDT perp rules on test-spot BTCUSDT prices', 'Bybit USDT perp rules on test-spot ETHUSDT prices']);
    expect(result.notes.some((n) => n.includes('Bybit USDT perp rules on test-spot BTCUSDT prices'))).toBe(true);
    const btc = result.funding.filter((f) => f.instrument === 'BTCUSDT-LINEAR.BYBIT');
    const eth = result.funding.filter((f) => f.instrument === 'ETHUSDT-LINEAR.BYBIT');
    expect(btc.filter((f) => f.source === 'table').map((f) => f.rate)).toEqual(new Array(10).fill(0.0003));
    expect(btc.filter((f) => f.source === 'fallback').every((f) => f.rate === 0.0001)).toBe(true);
    expect(eth.length).toBeGreaterThan(0);
    expect(eth.every((f) => f.source === 'fallback')).toBe(true);
    expect(result.notes.some((n) => n.startsWith('funding fallback for ETHUSDT-LINEAR.BYBIT'))).toBe(true);
    expect(result.notes).toContain('ETHUSDT-LINEAR.BYBIT: funding rates from binance-futures ETHUSDT (no settlements in the backtest range), applied to the Bybit contract');
    expect(result.periodsPerYear).toBe(2190);
    expect(result.config['name']).toBe('unit');
  });

  it('adds no substitution note on Bybit prices and builds spot instruments without funding', async () => {
    const bybit = await runExperiment(config({ data: { venue: 'bybit', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-02-01' } }), { store, strategies: { hold: holdOne } });
    expect(bybit.dataSources).toEqual([{ instrument: 'BTCUSDT-LINEAR.BYBIT', venue: 'bybit', symbol: 'BTCUSDT', timeframe: '4h' }]);
    const spot = await runExperiment(config({ instruments: 'spot' }), { store, strategies: { hold: holdOne } });
    expect(spot.instruments).toEqual(['BTCUSDT-SPOT.TEST-SPOT', 'ETHUSDT-SPOT.TEST-SPOT']);
    expect(spot.funding).toEqual([]);
    expect(spot.dataSources.every((d) => d.note === undefined)).toBe(true);
  });

  it('is deterministic', async () => {
    const a = await runExperiment(config(), { store, strategies: { hold: holdOne } });
    const b = await runExperiment(config(), { store, strategies: { hold: holdOne } });
    expect(Array.from(b.equity.value)).toEqual(Array.from(a.equity.value));
    expect(b.fills).toEqual(a.fills);
    expect(b.notes).toEqual(a.notes);
  });

  it('aligns predictions to the frame (NaN where missing) and the strategy sees only the past', async () => {
    const seen: { instrument: number; index: number; value: number; visible: number }[] = [];
    const c = config({ strategy: 'probe', data: { venue: 'test-spot', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-01-08' }, columns: { signal: { source: 'predictions', model: 'm1' } } });
    const result = await runExperiment(c, { store, strategies: { probe: probe(seen) } });
    expect(seen).toHaveLength(42);
    for (const s of seen) {
      expect(s.visible).toBe(s.index + 1);
      if (s.index % 3 === 0) expect(s.value).toBeCloseTo(s.index / 3 / 10, 12);
      else expect(s.value).toBeNaN();
    }
    expect(result.notes).toContain('column signal: predictions of model m1 version v1 (test-spot 4h); bars covered: BTCUSDT 14/42; uncovered bars are NaN');
  });

  it('computes feature columns causally', async () => {
    const seen: { instrument: number; index: number; value: number; visible: number }[] = [];
    const c = config({ strategy: 'probe', columns: { signal: { source: 'feature', feature: 'log-momentum', params: { lookback: 5 } } } });
    await runExperiment(c, { store, strategies: { probe: probe(seen) } });
    const close = bars(400).close;
    for (const s of seen.filter((x) => x.instrument === 0)) {
      if (s.index < 5) expect(s.value).toBeNaN();
      else expect(s.value).toBeCloseTo(Math.log(close[s.index]! / close[s.index - 5]!), 12);
    }
  });

  it('fails with a clear message naming the model and `tm train` when predictions are missing, never inventing a signal', async () => {
    const c = config({ strategy: 'probe', columns: { signal: { source: 'predictions', model: 'direction-classifier' } } });
    const run = runExperiment(c, { store, strategies: { probe: probe([]) } });
    await expect(run).rejects.toBeInstanceOf(ExperimentError);
    await expect(run).rejects.toMatchObject({ code: 'missing_predictions', context: { model: 'direction-classifier', path: '$.columns.signal' } });
    await expect(run).rejects.toThrow(/no predictions of model "direction-classifier" for test-spot 4h BTCUSDT, ETHUSDT; produce them with `tm train`/);
  });

  it('asks for a version when a model has several, and names unknown versions', async () => {
    const ambiguous = runExperiment(config({ strategy: 'probe', columns: { signal: { source: 'predictions', model: 'm2' } } }), { store, strategies: { probe: probe([]) } });
    await expect(ambiguous).rejects.toThrow('model "m2" has 2 versions in the store (a, b); set columns.signal.version to one of them');
    const unknown = runExperiment(config({ strategy: 'probe', columns: { signal: { source: 'predictions', model: 'm2', version: 'c' } } }), { store, strategies: { probe: probe([]) } });
    await expect(unknown).rejects.toMatchObject({ code: 'missing_predictions', context: { path: '$.columns.signal.version' } });
  });

  it('names config-shaped problems by JSON path before loading data', async () => {
    await expect(runExperiment(config({ strategy: 'nope' }), { store, strategies: { hold: holdOne } })).rejects.toMatchObject({ code: 'unknown_strategy', context: { path: '$.strategy' } });
    await expect(
      runExperiment(config({ data: { venue: 'test-spot', symbols: ['BTCUSDT', 'DOGEUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-02-01' } }), { store, strategies: { hold: holdOne } }),
    ).rejects.toMatchObject({ code: 'unknown_instrument', context: { path: '$.data.symbols[1]' } });
    await expect(runExperiment(config({ columns: { signal: { source: 'feature', feature: 'nope', params: {} } } }), { store, strategies: { hold: holdOne } })).rejects.toMatchObject({
      code: 'unknown_feature',
      context: { path: '$.columns.signal.feature' },
    });
    await expect(runExperiment(config({ columns: { signal: { source: 'feature', feature: 'log-momentum', params: { lookback: 0 } } } }), { store, strategies: { hold: holdOne } })).rejects.toMatchObject({
      code: 'invalid_feature_params',
      context: { path: '$.columns.signal.params.lookback' },
    });
  });

  it('no bars for a symbol: the error names the data section, the venue, the series and the range (the store error as cause)', async () => {
    const run = runExperiment(config({ data: { venue: 'nowhere', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-02-01' } }), { store, strategies: { hold: holdOne } });
    await expect(run).rejects.toBeInstanceOf(ExperimentError);
    await expect(run).rejects.toMatchObject({ code: 'missing_bars', context: { path: '$.data.symbols[0]', venue: 'nowhere', symbol: 'BTCUSDT' }, cause: { code: 'not_found' } });
    // bybit holds BTC and ETH only: SOLUSDT (the second symbol) is the missing series
    const sol = runExperiment(config({ data: { venue: 'bybit', symbols: ['BTCUSDT', 'SOLUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-02-01' } }), { store, strategies: { hold: holdOne } });
    await expect(sol).rejects.toMatchObject({ code: 'missing_bars', context: { path: '$.data.symbols[1]', symbol: 'SOLUSDT' } });
    await expect(sol).rejects.toThrow(
      /^data section: bybit has no 4h bars of SOLUSDT in \[2024-01-01.*, 2024-02-01.*\) \(data\.start to data\.end\); import or fetch them \(tm data import \/ tm data fetch\), or change data\.venue, data\.symbols or the dates$/,
    );
  });

  it('gaps under missingBars "error": the error names the data section and its policy (code bar_gaps)', async () => {
    const c = config({ data: { venue: 'test-spot', symbols: ['BTCUSDT', 'SOLUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-01-10', missingBars: 'error' } });
    const run = runExperiment(c, { store, strategies: { hold: holdOne } });
    await expect(run).rejects.toMatchObject({ code: 'bar_gaps', context: { path: '$.data.missingBars', symbol: 'SOLUSDT' } });
    await expect(run).rejects.toThrow(/^data section \(data\.missingBars "error", range \[2024-01-01.*, 2024-01-10.*\)\): SOLUSDT \(test-spot, 4h\) has 24 missing bars/);
  });

  it('a regime fit window without bars of a symbol: the error says the regime fit is the cause, not the backtest data', async () => {
    // SOLUSDT on test-spot starts 4 days in (beforeAll): the backtest window has it, the regime fit window before it does not
    const c = config({
      data: { venue: 'test-spot', symbols: ['SOLUSDT', 'BTCUSDT'], timeframe: '4h', start: '2024-01-06', end: '2024-01-10' },
      regime: { fitStart: '2024-01-01', fitEnd: '2024-01-05', states: 2, seed: 1 },
    });
    const run = runExperiment(c, { store, strategies: { hold: holdOne } });
    await expect(run).rejects.toMatchObject({ code: 'regime_fit_failed', context: { path: '$.regime', venue: 'test-spot', symbol: 'SOLUSDT' } });
    await expect(run).rejects.toThrow(
      'regime section: the regime fit needs test-spot 4h bars of SOLUSDT in its fit window [2024-01-01, 2024-01-05) and the store has none there; move $.regime.fitStart/fitEnd to where the venue has SOLUSDT, or trade it on another venue',
    );
  });
});
