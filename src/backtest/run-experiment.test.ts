import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unitExperimentConfig } from '../../test/support/experiment-config.js';
import type { BacktestConfigInput } from '../config/backtest-config.js';
import { seededRandom } from '../core/random.js';
import { formatUtc, HOUR_MS } from '../core/time.js';
import { MarketStore } from '../data/index.js';
import type { Strategy } from '../engine/strategy.js';
import type { FeaturePipeline } from '../features/index.js';
import { makeMsGarchModel } from '../regime/ms-garch-model.js';
import { simulateMsGarch } from '../regime/simulate-ms-garch.js';
import { ExperimentError, experimentSetup, runExperiment, type ExperimentConfig, type ExperimentModel, type StrategyFactory } from './run-experiment.js';

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

const config = (overrides: Partial<BacktestConfigInput> = {}): ExperimentConfig => unitExperimentConfig('hold', overrides);

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
  await store.upsertFunding('binance-futures', 'SOLUSDT', fundingTs, new Float64Array(10).fill(0.0002));
  // 'regimes': 130 4h bars of BTCUSDT from 2024-01-01 whose log returns switch between a calm (±0.5 %) and a wild
  // (±5 %) regime every 20 bars (seeded), bar 60 missing: enough returns for a quick 2-state regime fit.
  const rand = seededRandom(1);
  const close = new Float64Array(130);
  let price = 100;
  for (let k = 0; k < 130; k++) {
    price *= Math.exp((Math.floor(k / 20) % 2 === 0 ? 0.003 : 0.03) * (rand() - 0.5) * 3.4);
    close[k] = price;
  }
  const open = Float64Array.from(close, (c, k) => (k === 0 ? c : close[k - 1]!));
  const keep = (a: Float64Array) => a.filter((_, k) => k !== 60);
  await store.upsertBars('regimes', 'BTCUSDT', '4h', {
    ts: keep(Float64Array.from(close, (_, k) => T0 + k * STEP)),
    open: keep(open),
    high: keep(Float64Array.from(close, (c, k) => Math.max(c, open[k]!))),
    low: keep(Float64Array.from(close, (c, k) => Math.min(c, open[k]!))),
    close: keep(close),
    volume: new Float64Array(129).fill(1000),
  });
  // 'sound': 610 4h bars of BTCUSDT whose log returns are a path of a clear 2-state MS-GARCH (unconditional vols 2 %
  // and 0.8 % per bar, stays 0.96 and 0.98; seeded): its fit on the first 601 bars (600 returns) is sound and converges.
  const path = simulateMsGarch(
    makeMsGarchModel({ mean: [-0.1, 0.05], omega: [0.8, 0.128], alpha: [0.1, 0.05], beta: [0.7, 0.75], transition: [[0.96, 0.04], [0.02, 0.98]] }),
    609,
    seededRandom(5),
  );
  const soundClose = new Float64Array(610);
  soundClose[0] = 100;
  for (let k = 1; k < 610; k++) soundClose[k] = soundClose[k - 1]! * Math.exp(path.returns[k - 1]! / 100);
  const soundOpen = Float64Array.from(soundClose, (c, k) => (k === 0 ? c : soundClose[k - 1]!));
  await store.upsertBars('sound', 'BTCUSDT', '4h', {
    ts: Float64Array.from(soundClose, (_, k) => T0 + k * STEP),
    open: soundOpen,
    high: Float64Array.from(soundClose, (c, k) => Math.max(c, soundOpen[k]!)),
    low: Float64Array.from(soundClose, (c, k) => Math.min(c, soundOpen[k]!)),
    close: soundClose,
    volume: new Float64Array(610).fill(1000),
  });
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

  it('a symbol without predictions gets NaN throughout while another symbol has some, and the note counts both', async () => {
    const seen: { instrument: number; index: number; value: number; visible: number }[] = [];
    const c = config({ strategy: 'probe', data: { venue: 'test-spot', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-01-08' }, columns: { signal: { source: 'predictions', model: 'm1' } } });
    const result = await runExperiment(c, { store, strategies: { probe: probe(seen) } });
    expect(seen.filter((s) => s.instrument === 1).every((s) => Number.isNaN(s.value))).toBe(true);
    expect(seen.filter((s) => s.instrument === 0 && !Number.isNaN(s.value))).toHaveLength(14);
    expect(result.notes).toContain('column signal: predictions of model m1 version v1 (test-spot 4h); bars covered: BTCUSDT 14/42, ETHUSDT 0/42; uncovered bars are NaN');
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
    await expect(ambiguous).rejects.toMatchObject({ code: 'missing_predictions', context: { path: '$.columns.signal.version', model: 'm2', versions: ['a', 'b'] } });
    const unknown = runExperiment(config({ strategy: 'probe', columns: { signal: { source: 'predictions', model: 'm2', version: 'c' } } }), { store, strategies: { probe: probe([]) } });
    await expect(unknown).rejects.toMatchObject({ code: 'missing_predictions', context: { path: '$.columns.signal.version', model: 'm2', version: 'c', versions: ['a', 'b'] } });
    await expect(unknown).rejects.toThrow(/^column signal: model "m2" has no version "c" in the store \(stored: a, b\); produce them with `tm train`/);
  });

  it('predictions that cover none of the bars are refused, never a column of NaN', async () => {
    // m2@a has rows at 2024-01-01 00:00 and 12:00 only; the frame starts 2024-01-02
    const c = config({ strategy: 'probe', data: { venue: 'test-spot', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-02', end: '2024-01-03' }, columns: { signal: { source: 'predictions', model: 'm2', version: 'a' } } });
    const run = runExperiment(c, { store, strategies: { probe: probe([]) } });
    await expect(run).rejects.toMatchObject({ code: 'missing_predictions', context: { path: '$.columns.signal', model: 'm2', version: 'a' } });
    await expect(run).rejects.toThrow(/^column signal: predictions of model "m2" version "a" cover none of the 6 4h bars from 2024-01-02T00:00:00Z; produce them with `tm train`/);
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

  it('notes the funding settlements found per perpetual (a Bybit funding venue is no substitution) and their range', async () => {
    // frame 2024-01-02 00:00 … 20:00 (6 bars): settlements in [first open, last close] = 00:00, 08:00, 16:00, 00:00
    const window = { venue: 'bybit', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-02', end: '2024-01-03' };
    const binance = await runExperiment(config({ data: window }), { store, strategies: { hold: holdOne } });
    expect(binance.notes).toEqual(['BTCUSDT-LINEAR.BYBIT: funding rates from binance-futures BTCUSDT (4 settlements from 2024-01-02T00:00:00Z to 2024-01-03T00:00:00Z), applied to the Bybit contract']);
    const bybit = await runExperiment(config({ data: window, funding: { venue: 'bybit' } }), { store, strategies: { hold: holdOne } });
    expect(bybit.notes[0]).toBe('BTCUSDT-LINEAR.BYBIT: funding rates from bybit BTCUSDT (no settlements in the backtest range)');
  });

  it('funding.strict: runs when every funding time from the first close to the last has a settlement, else names the first gap', async () => {
    // 2024-01-01 … 01-04: funding times 08:00 on day 1 … 00:00 on day 4 (9), all in the table (it holds 08:00 day 1 … 08:00 day 4)
    const ok = await runExperiment(config({ data: { venue: 'bybit', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-01-04' }, funding: { strict: true } }), { store, strategies: { hold: holdOne } });
    expect(ok.funding.map((f) => f.source)).toEqual(new Array(9).fill('table'));
    // to 01-05: 12 funding times, 16:00 and 00:00 of day 4 missing
    const late = runExperiment(config({ data: { venue: 'bybit', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-01-05' }, funding: { strict: true } }), { store, strategies: { hold: holdOne } });
    await expect(late).rejects.toMatchObject({
      code: 'missing_funding',
      message:
        'funding.strict: binance-futures BTCUSDT has no settlement at 2 of 12 funding times of the backtest (first missing 2024-01-04T16:00:00Z); fetch them (tm data fetch ... --funding) or leave strict off to apply funding.fallback',
      context: { path: '$.funding.strict', venue: 'binance-futures', symbol: 'BTCUSDT', missing: 2, firstMissing: '2024-01-04T16:00:00Z' },
    });
    // ETHUSDT has no funding at all
    const eth = runExperiment(config({ data: { venue: 'bybit', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-01-04' }, funding: { strict: true } }), { store, strategies: { hold: holdOne } });
    await expect(eth).rejects.toMatchObject({ code: 'missing_funding', context: { symbol: 'ETHUSDT', missing: 9, firstMissing: '2024-01-01T08:00:00Z' } });
  });

  it('notes the bars a missing-bar policy filled, per symbol that had any', async () => {
    const data = { venue: 'test-spot', symbols: ['BTCUSDT', 'SOLUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-01-10' };
    const nan = await runExperiment(config({ instruments: 'spot', data: { ...data, missingBars: 'nan' } }), { store, strategies: { hold: holdOne } });
    expect(nan.notes).toEqual(['SOLUSDT: 24 missing 4h bars handled by the nan policy']);
    const ffill = await runExperiment(config({ instruments: 'spot', data: { ...data, missingBars: 'forward-fill' } }), { store, strategies: { hold: holdOne } });
    expect(ffill.notes).toEqual(['SOLUSDT: 24 missing 4h bars handled by the forward-fill policy']);
  });

  it('warm-up: loads the bars before data.start, says when the store holds fewer than wanted, and names them in a missing-bars error', async () => {
    const window = { venue: 'bybit', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-02', end: '2024-01-03' };
    // 12h = 3 bars: 2024-01-01 12:00, 16:00, 20:00
    const setup = await experimentSetup(config({ instruments: 'spot', data: window, warmup: '12h' }), { store, strategies: { hold: holdOne } });
    expect(setup.spec.warmupBars).toBe(3);
    expect(setup.spec.frame.ts[0]).toBe(Date.parse('2024-01-01T12:00:00Z'));
    expect(setup.spec.frame.ts).toHaveLength(9);
    expect(setup.spec.notes).toEqual([]);
    expect(setup.regimes).toBeUndefined();
    expect(setup.signals).toBeUndefined();
    // 10 wanted, the store starts 6 bars before data.start
    const short = await experimentSetup(config({ instruments: 'spot', data: window, warmup: 10 }), { store, strategies: { hold: holdOne } });
    expect(short.spec.warmupBars).toBe(6);
    expect(short.spec.notes).toEqual(['warm-up: 10 bars wanted before 2024-01-02, the store holds 6']);
    const none = runExperiment(config({ data: { ...window, venue: 'nowhere' }, warmup: 3 }), { store, strategies: { hold: holdOne } });
    await expect(none).rejects.toThrow(
      'data section: nowhere has no 4h bars of BTCUSDT in [2024-01-01T12:00:00Z, 2024-01-03T00:00:00Z) (data.start minus 3 warm-up bars to data.end); import or fetch them (tm data import / tm data fetch), or change data.venue, data.symbols or the dates',
    );
  });

  it('passes columns, risk limits and the config to the spec only when present', async () => {
    const window = { venue: 'bybit', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-02', end: '2024-01-03' };
    const plain = await experimentSetup(config({ instruments: 'spot', data: window }), { store, strategies: { hold: holdOne } });
    expect('columns' in plain.spec).toBe(false);
    expect('risk' in plain.spec).toBe(false);
    const c = config({ instruments: 'spot', data: window, columns: { mom: { source: 'feature', feature: 'log-momentum', params: { lookback: 2 } } }, risk: { maxOrderNotional: 500 } });
    const full = await experimentSetup(c, { store, strategies: { hold: holdOne } });
    expect(Object.keys(full.spec.columns ?? {})).toEqual(['mom']);
    expect(full.spec.risk).toEqual(c.risk);
    expect(full.spec.config).toBe(c);
    expect(full.spec.notes).toEqual(['column mom: feature log-momentum {"lookback":2} (ln(close[t] / close[t - lookback])) of bybit 4h bars, computed causally']);
  });

  it('a regime section: fits one model per symbol on bars before data.start, rebuilds the strategy with it and states the fit', async () => {
    const built: unknown[] = [];
    const factory: StrategyFactory = (_params, setup) => {
      built.push(setup?.regimes?.map((r) => r.instrument));
      return { name: 'hold' };
    };
    // fit window: bars opening in [2024-01-01, 2024-01-21 08:00), 122 grid times with bar 60 missing → 121 bars and
    // 119 returns (the two straddling the missing bar are left out)
    const data = { venue: 'regimes', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-21T08:00:00Z', end: '2024-01-22' };
    const regime = { fitStart: '2024-01-01', fitEnd: '2024-01-21T08:00:00Z', states: 2, seed: 3 };
    const setup = await experimentSetup(config({ instruments: 'spot', data, regime: { ...regime, onDegenerate: 'report' } }), { store, strategies: { hold: factory } });
    expect(built).toEqual([undefined, ['BTCUSDT-SPOT.REGIMES']]); // a params check, then the run's strategy
    expect(setup.regimes).toHaveLength(1);
    const r = setup.regimes![0]!;
    expect([r.instrument, r.symbol, r.returns, r.returnScale, r.fitStart, r.fitEnd, r.seed]).toEqual(['BTCUSDT-SPOT.REGIMES', 'BTCUSDT', 119, 1, T0, T0 + 122 * STEP, 3]);
    // the note restates the fit: per state its mean, unconditional volatility √(ω / (1 − α − β)) and stay probability
    const m = r.model;
    const sig4 = (x: number) => String(Number(x.toPrecision(4)));
    const states = r.labels.map((label, k) => `${label} mean ${sig4(m.mean[k]!)} unconditional vol ${sig4(Math.sqrt(m.omega[k]! / (1 - m.alpha[k]! - m.beta[k]!)))} stay ${sig4(m.transition[3 * k]!)}`);
    // this series is fitted as degenerate: kept (onDegenerate "report") with the reasons in the note
    expect(r.degenerate?.length).toBeGreaterThan(0);
    expect(setup.spec.notes).toEqual([
      `BTCUSDT-SPOT.REGIMES: regime = 2-state MS-GARCH(1,1) fitted on 119 BTCUSDT 4h log returns of bars opening in [${formatUtc(T0)}, ${formatUtc(T0 + 122 * STEP)}) (before the backtest; seed 3, ${r.converged ? 'converged' : 'NOT converged'}): ${states.join('; ')} — DEGENERATE fit, kept because regime.onDegenerate is "report": ${r.degenerate!.join('; ')}`,
    ]);
    // raw log returns of this series: calm ±0.5 %, wild ±5 % per bar (a wrong return formula would be far off)
    for (let k = 0; k < 2; k++) {
      expect(Math.abs(m.mean[k]!)).toBeLessThan(0.05);
      expect(Math.sqrt(m.omega[k]! / (1 - m.alpha[k]! - m.beta[k]!))).toBeLessThan(0.1);
    }
    expect(r.degenerate!.every((reason) => typeof reason === 'string' && reason.length > 0)).toBe(true);
    // without onDegenerate (a config built in code; the parser writes the default) the same fit is refused
    const refused = experimentSetup({ ...config({ instruments: 'spot', data }), regime }, { store, strategies: { hold: factory } });
    await expect(refused).rejects.toMatchObject({ code: 'regime_fit_failed', context: { path: '$.regime', symbol: 'BTCUSDT' } });
    await expect(refused).rejects.toThrow(/^regime fit of regimes BTCUSDT 4h on \[2024-01-01, 2024-01-21T08:00:00Z\): .*degenerate/);
  });

  it('a sound regime fit: converged, no degenerate reasons, and a note that says so', async () => {
    const fitEnd = formatUtc(T0 + 601 * STEP);
    const data = { venue: 'sound', symbols: ['BTCUSDT'], timeframe: '4h', start: fitEnd, end: formatUtc(T0 + 610 * STEP) };
    const setup = await experimentSetup(config({ instruments: 'spot', data, regime: { fitStart: '2024-01-01', fitEnd, states: 2, seed: 3 } }), { store, strategies: { hold: holdOne } });
    const r = setup.regimes![0]!;
    expect([r.returns, r.converged, 'degenerate' in r]).toEqual([600, true, false]);
    const m = r.model;
    const sig4 = (x: number) => String(Number(x.toPrecision(4)));
    const states = r.labels.map((label, k) => `${label} mean ${sig4(m.mean[k]!)} unconditional vol ${sig4(Math.sqrt(m.omega[k]! / (1 - m.alpha[k]! - m.beta[k]!)))} stay ${sig4(m.transition[3 * k]!)}`);
    expect(setup.spec.notes).toEqual([
      `BTCUSDT-SPOT.SOUND: regime = 2-state MS-GARCH(1,1) fitted on 600 BTCUSDT 4h log returns of bars opening in [${formatUtc(T0)}, ${fitEnd}) (before the backtest; seed 3, converged): ${states.join('; ')}`,
    ]);
    // the fit separates the two simulated regimes (vols 0.8 % and 2 % per bar; 600 returns estimate the wild one loosely)
    const vols = [0, 1].map((k) => Math.sqrt(m.omega[k]! / (1 - m.alpha[k]! - m.beta[k]!))).sort((x, y) => x - y);
    expect(vols[0]).toBeGreaterThan(0.005);
    expect(vols[0]).toBeLessThan(0.012);
    expect(vols[1]).toBeGreaterThan(0.014);
    expect(vols[1]).toBeLessThan(0.05);
  });

  it('a regime fit the estimator rejects (too few returns) or without returns is a regime_fit_failed naming the window', async () => {
    const data = { venue: 'test-spot', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-06', end: '2024-01-10' };
    const few = runExperiment(config({ data, regime: { fitStart: '2024-01-01', fitEnd: '2024-01-06', states: 2, seed: 1 } }), { store, strategies: { hold: holdOne } });
    await expect(few).rejects.toMatchObject({ code: 'regime_fit_failed', context: { path: '$.regime', symbol: 'BTCUSDT' }, cause: expect.any(Error) as Error });
    await expect(few).rejects.toThrow(/^regime fit of test-spot BTCUSDT 4h on \[2024-01-01, 2024-01-06\): `returns` must hold/);
    // SOLUSDT's first bar opens 2024-01-05 00:00: a window holding that bar only has no return
    const one = runExperiment(
      config({ data: { ...data, symbols: ['SOLUSDT'] }, regime: { fitStart: '2024-01-01', fitEnd: '2024-01-05T04:00:00Z', states: 2, seed: 1 } }),
      { store, strategies: { hold: holdOne } },
    );
    await expect(one).rejects.toMatchObject({ code: 'regime_fit_failed', context: { path: '$.regime', symbol: 'SOLUSDT', venue: 'test-spot' } });
    await expect(one).rejects.toThrow('regime section: the regime fit needs test-spot 4h bars of SOLUSDT in its fit window [2024-01-01, 2024-01-05T04:00:00Z) and the store has none there');
  });
});

describe('runExperiment with a model column', () => {
  /** A stand-in model package: predicts the first feature of each row ÷ 1000 (kept in `outputs`), logs loads and closes. */
  function loader(card: ExperimentModel['card'], log: string[], outputs: number[] = []) {
    return (ref: string, symbol: string, pipeline: FeaturePipeline): Promise<ExperimentModel> => {
      log.push(`load ${ref} ${symbol}`);
      const first = (row: ArrayLike<number>) => {
        outputs.push(row[0]! / 1000);
        return row[0]! / 1000;
      };
      return Promise.resolve({
        model: {
          featureNames: pipeline.names,
          predictOne: (row) => Promise.resolve(first(row)),
          predictOneNow: first,
          predict: (rows) => Promise.resolve(Float32Array.from({ length: rows.length / pipeline.names.length }, (_, k) => rows[k * pipeline.names.length]! / 1000)),
        },
        card,
        version: 'local-00ff',
        close: () => {
          log.push(`close ${symbol}`);
          return Promise.resolve();
        },
      });
    };
  }
  const outOfSample = { name: 'direction', dataRange: { from: '2023-01-01', to: '2023-12-01' }, gatesPassed: true };
  const window = { venue: 'test-spot', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-01-08' };
  const modelColumn = { source: 'model' as const, model: 'pkg', dvol: false };

  it('streams the model per bar into the column, notes the card and closes the models after the run', async () => {
    const log: string[] = [];
    const seen: { instrument: number; index: number; value: number; visible: number }[] = [];
    const c = config({ strategy: 'probe', warmup: 0, data: window, columns: { signal: modelColumn } });
    const outputs: number[] = [];
    const result = await runExperiment(c, { store, strategies: { probe: probe(seen) }, loadModel: loader(outOfSample, log, outputs) });
    expect(log).toEqual(['load pkg BTCUSDT', 'close BTCUSDT']);
    // the strategy sees at each bar the model's prediction for that bar
    expect(seen).toHaveLength(42);
    expect(seen.map((s) => s.value)).toEqual(outputs);
    expect(outputs.filter(Number.isFinite).length).toBeGreaterThan(0);
    expect(result.notes).toContain(
      'column signal: model direction (local-00ff, trained on [2023-01-01, 2023-12-01), gates passed) streamed for BTCUSDT through the signal stage (features → ONNX per bar)',
    );
  });

  it('refuses a second model column, a missing loader, and a card the column does not allow (closing what it loaded)', async () => {
    const log: string[] = [];
    const deps = { store, strategies: { hold: holdOne }, loadModel: loader(outOfSample, log) };
    await expect(runExperiment(config({ data: window, columns: { a: modelColumn, b: modelColumn } }), deps)).rejects.toMatchObject({
      code: 'invalid_model',
      message: 'columns: one model column per experiment (the signal stage writes one), found a, b',
      context: { path: '$.columns' },
    });
    await expect(runExperiment(config({ data: window, columns: { sig: modelColumn } }), { store, strategies: { hold: holdOne } })).rejects.toMatchObject({
      code: 'invalid_model',
      message: 'column sig: a model column needs a model loader (tm backtest provides one; pass deps.loadModel)',
      context: { path: '$.columns.sig' },
    });
    expect(log).toEqual([]);
    const inSample = { ...deps, loadModel: loader({ ...outOfSample, dataRange: { from: '2023-01-01', to: '2024-06-01' } }, log) };
    await expect(runExperiment(config({ data: { ...window, symbols: ['BTCUSDT', 'ETHUSDT'] }, columns: { sig: modelColumn } }), inSample)).rejects.toMatchObject({
      code: 'invalid_model',
      message: 'column sig: model direction was trained on [2023-01-01, 2024-06-01), which overlaps the backtest [2024-01-01, 2024-01-08); set $.columns.sig.allowInSample to run it in-sample',
      context: { path: '$.columns.sig.allowInSample' },
    });
    expect(log).toEqual(['load pkg BTCUSDT', 'close BTCUSDT']);
  });

  it("refuses feature inputs off the backtest's bar grid", async () => {
    const log: string[] = [];
    // under 'nan' the frame of BTC + SOL starts 2024-01-01; SOLUSDT's own inputs start 4 days later
    const c = config({ instruments: 'spot', data: { ...window, symbols: ['BTCUSDT', 'SOLUSDT'], missingBars: 'nan' }, columns: { sig: modelColumn } });
    const run = runExperiment(c, { store, strategies: { hold: holdOne }, loadModel: loader(outOfSample, log) });
    await expect(run).rejects.toMatchObject({ code: 'invalid_model', context: { path: '$.columns.sig' } });
    await expect(run).rejects.toThrow("column sig: the feature inputs of SOLUSDT are not on the backtest's bar grid (18 bars vs 42); use data.missingBars 'error' or fill the gaps");
    expect(log).toEqual(['load pkg BTCUSDT', 'load pkg SOLUSDT', 'close BTCUSDT', 'close SOLUSDT']);
  });
});
