import { describe, expect, it } from 'vitest';
import type { BacktestResult } from '../backtest/backtest-result.js';
import { InstrumentFeeModel } from '../backtest/execution-models.js';
import { computeMetrics, tierAttribution } from '../backtest/metrics.js';
import { summarize } from '../backtest/report.js';
import { runBacktest, type BacktestSpec } from '../backtest/run-backtest.js';
import { parseBacktestConfig } from '../config/backtest-config.js';
import { BYBIT_LINEAR_PERPETUALS } from '../core/instrument.js';
import { normalDraw, seededRandom } from '../core/random.js';
import { HOUR_MS } from '../core/time.js';
import type { BarFrame } from '../data/index.js';
import type { FittedRegime } from '../engine/strategy.js';
import { FEATURES } from '../features/index.js';
import { labelStates, makeMsGarchModel, type MsGarchModel } from '../regime/index.js';
import { NO_SIGNAL_REASON, regimeKelly, STRATEGIES } from './index.js';
import { backtestSpec } from '../../test/support/engine-scenarios.js';
import { makeFrame, type Ohlcv } from '../../test/support/frames.js';

const BTC = BYBIT_LINEAR_PERPETUALS['BTCUSDT']!;
const STEP = 4 * HOUR_MS;
const START = Date.UTC(2024, 0, 1);

/** Flat bars (open = previous close) following `close`; not market data. */
function frameOf(close: readonly number[]): BarFrame {
  const bars: Ohlcv[] = close.map((c, k) => {
    const o = k === 0 ? c : close[k - 1]!;
    return [o, Math.max(o, c), Math.min(o, c), c, 1000];
  });
  return makeFrame({ timeframe: '4h', start: '2024-01-01T00:00:00Z', bars, symbols: ['BTCUSDT'] });
}

function spec(frame: BarFrame, signal: Float64Array, zeroFees = true): BacktestSpec {
  return backtestSpec(frame, [BTC], { name: 'regime-kelly-test', columns: { signal: [signal] }, leverage: 2, dataSources: [], seed: 1, ...(zeroFees ? { fees: new InstrumentFeeModel({ maker: 0, taker: 0 }) } : {}) });
}

/** A fitted-regime record for a hand-made model (as runExperiment hands the factory). */
function regimeOf(model: MsGarchModel, initialVariance = 1e-4): FittedRegime {
  return {
    instrument: BTC.id,
    symbol: 'BTCUSDT',
    model,
    labels: labelStates(model),
    initialVariance,
    returnScale: 1,
    fitStart: START - 100 * STEP,
    fitEnd: START,
    returns: 99,
    logLikelihood: 0,
    converged: true,
    seed: 1,
  };
}

/** One state (labelled neutral, regime fraction 0.5), constant variance 1e-4 per bar: σ²_H = H · 1e-4 whatever the returns. */
const ONE_STATE = makeMsGarchModel({ mean: [0], omega: [1e-4], transition: [[1]] });

const close = (k: number) => START + (k + 1) * STEP;

describe('regime-kelly strategy', () => {
  it('is registered and validates its params, naming risk-config paths', () => {
    expect(STRATEGIES['regime-kelly']).toBe(regimeKelly);
    expect(() => regimeKelly({ signalScal: 1 })).toThrow('$.params.signalScal: unknown parameter "signalScal" of strategy regime-kelly');
    expect(() => regimeKelly({ risk: { kelly: { maxLeverage: -1 } } })).toThrow(/strategy regime-kelly: \$\.params\.risk\.kelly\.maxLeverage: .*was -1/);
    expect(() => regimeKelly({ risk: { kely: {} } })).toThrow('strategy regime-kelly: $.params.risk.kely: unknown key "kely": remove it or fix its spelling');
    expect(() => regimeKelly({ risk: { kely: {} } })).toThrow(expect.objectContaining({ code: 'invalid_strategy_params', context: expect.objectContaining({ path: '$.params.risk.kely' }) }));
    expect(regimeKelly(undefined).name).toBe('regime-kelly');
  });

  it('refuses to start without fitted regimes or without its column', () => {
    const f = frameOf([100, 100, 100]);
    expect(() => runBacktest(spec(f, new Float64Array(3)), regimeKelly({}))).toThrow(/no fitted regime for BTCUSDT-LINEAR\.BYBIT .*add a `regime` section/);
    expect(() => runBacktest({ ...spec(f, new Float64Array(3)), columns: {} }, regimeKelly({}, { regimes: [regimeOf(ONE_STATE)] }))).toThrow('column "signal" is not provided');
  });

  it('sizes by regime-weighted Kelly (hand-computed) and goes flat on a NaN signal with reason no_signal', () => {
    // μ = 2e-5, σ² = 1e-4 (H = 1) → f = 0.2, × neutral 0.5 = 0.1 of 10,000 USDT at 100 → 10 BTC; zero fees, flat price.
    const signal = Float64Array.of(NaN, 2e-5, 2e-5, 2e-5, NaN, -2e-5, -2e-5, 4e-5, 4e-5);
    const f = frameOf(Array.from(signal, () => 100));
    const r = runBacktest(spec(f, signal), regimeKelly({ minRebalance: 0 }, { regimes: [regimeOf(ONE_STATE)] }));
    // orders decided at close k fill at open k + 1: the position at close k + 1 reflects signal k
    expect(Array.from(r.bars[0]!.position)).toEqual([0, 0, 10, 10, 10, 0, -10, -10, 20]);
    expect(r.fills.map((x) => [x.side, x.quantity])).toEqual([['buy', 10], ['sell', 10], ['sell', 10], ['buy', 30]]);
    expect(r.annotations?.tiers).toEqual([
      { instrument: BTC.id, ts: close(0), tier: 'PURE_KELLY', reason: NO_SIGNAL_REASON },
      { instrument: BTC.id, ts: close(1), tier: 'PURE_KELLY', reason: 'no_rl_sizer' },
      { instrument: BTC.id, ts: close(4), tier: 'PURE_KELLY', reason: NO_SIGNAL_REASON },
      { instrument: BTC.id, ts: close(5), tier: 'PURE_KELLY', reason: 'no_rl_sizer' },
    ]);
    const regime = r.annotations!.regimeProbabilities!;
    expect(regime).toHaveLength(1);
    expect(regime[0]!.labels).toEqual(['neutral']);
    expect(Array.from(regime[0]!.ts)).toEqual(Array.from(signal, (_, k) => close(k)));
    expect(Array.from(regime[0]!.probabilities[0]!)).toEqual(Array.from(signal, () => 1));
  });

  it('uses the horizon and the regime: H = 4 and a 2-state model certain of bear give 8e-5 / 4e-4 × 0.25 = 0.05', () => {
    // 3 states labelled crisis (highest variance, mean below the long-run mean), bear, bull; every row of the
    // transition matrix goes to bear, so the filter (ergodic start) is certain of bear on every bar and σ²_4 = 4 × 1e-4.
    const model = makeMsGarchModel({
      mean: [-0.002, -0.001, 0.001],
      omega: [9e-4, 1e-4, 1e-4],
      transition: [[0, 1, 0], [0, 1, 0], [0, 1, 0]],
    });
    expect(labelStates(model)).toEqual(['crisis', 'bear', 'bull']);
    const signal = new Float64Array(4).fill(8e-5);
    const r = runBacktest(spec(frameOf([100, 100, 100, 100]), signal), regimeKelly({ minRebalance: 0, risk: { horizonBars: 4 } }, { regimes: [regimeOf(model)] }));
    // f = min(8e-5 / 4e-4, 1) × bear 0.25 = 0.05 → 500 USDT at 100 → 5 BTC
    expect(Array.from(r.bars[0]!.position)).toEqual([0, 5, 5, 5]);
  });

  it('circuit breaker (default, no probe position): a drawdown opens it → EMERGENCY_FLAT, flat until the probe bar passes → PURE_KELLY', () => {
    // f = min(2e-4 / 1e-4, 1) × 0.5 = 0.5 → 50 BTC at 100. Bar 4 closes at 80: equity 9,000 = 10 % below the peak.
    const prices = [100, 100, 100, 100, 80, 80, 80, 80, 80, 80, 80, 80, 80];
    const signal = new Float64Array(prices.length).fill(2e-4);
    const risk = { breaker: { drawdown: { limit: 0.05 }, cooldownMs: 6 * STEP, consecutiveLosses: { enabled: false } } };
    const r = runBacktest(spec(frameOf(prices), signal), regimeKelly({ minRebalance: 0, risk }, { regimes: [regimeOf(ONE_STATE)] }));
    const position = Array.from(r.bars[0]!.position);
    expect(position.slice(0, 5)).toEqual([0, 50, 50, 50, 50]);
    // opened at close 4 → sold at open 5; flat through the 6-bar cooldown (closes 5..9) AND the half-open bar (close 10)
    expect(position.slice(5, 12)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    // the probe bar passes at close 11 → closed → full Kelly 0.5 × 9,000 / 80 = 56.25
    expect(position[12]).toBeCloseTo(56.25, 9);
    expect(r.annotations?.tiers?.map((t) => [(t.ts - START) / STEP - 1, t.tier, t.reason])).toEqual([
      [0, 'PURE_KELLY', 'no_rl_sizer'],
      [4, 'EMERGENCY_FLAT', 'breaker_open'],
      [10, 'EMERGENCY_FLAT', 'breaker_half_open'],
      [11, 'PURE_KELLY', 'no_rl_sizer'],
    ]);
    // every bar in EMERGENCY_FLAT after the flattening fill holds nothing; no PROBE row when the tier never occurred
    const tiers = r.annotations!.tiers!;
    const tierAt = (t: number) => tiers.filter((x) => x.ts <= r.bars[0]!.ts[t]!).at(-1)?.tier;
    for (let t = 0; t < prices.length; t++) if (tierAt(t) === 'EMERGENCY_FLAT') expect(position[t]).toBe(0);
    const a = tierAttribution(r)!;
    const row = (tier: string) => a.total.find((s) => s.tier === tier)!;
    expect(a.total.map((s) => s.tier)).toEqual(['FULL_RL', 'BLENDED', 'PURE_KELLY', 'EMERGENCY_FLAT', 'none']);
    // bars 1..4 PURE_KELLY (−1,000 on bar 4), bars 5..11 EMERGENCY_FLAT (0: flat, no fees), bar 12 PURE_KELLY
    expect(row('EMERGENCY_FLAT').bars).toBe(7);
    expect(row('PURE_KELLY').bars).toBe(5);
    expect(row('EMERGENCY_FLAT').pnl).toBeCloseTo(0, 9);
  });

  it('circuit breaker with halfOpenProbeScale 0.25: the half-open bar is the PROBE tier at 0.25 × Kelly, EMERGENCY_FLAT stays flat', () => {
    const prices = [100, 100, 100, 100, 80, 80, 80, 80, 80, 80, 80, 80, 80];
    const signal = new Float64Array(prices.length).fill(2e-4);
    const risk = { cascade: { halfOpenProbeScale: 0.25 }, breaker: { drawdown: { limit: 0.05 }, cooldownMs: 6 * STEP, consecutiveLosses: { enabled: false } } };
    const r = runBacktest(spec(frameOf(prices), signal), regimeKelly({ minRebalance: 0, risk }, { regimes: [regimeOf(ONE_STATE)] }));
    const position = Array.from(r.bars[0]!.position);
    expect(position.slice(0, 11)).toEqual([0, 50, 50, 50, 50, 0, 0, 0, 0, 0, 0]);
    // half-open at close 10 (24 h after opening): probe 0.5 × 0.25 × 9,000 / 80 = 14.0625 → 14.062 (lot 0.001)
    expect(position[11]).toBeCloseTo(14.062, 9);
    // one probe bar passes at close 11 → closed → full Kelly 0.5 × 9,000 / 80 = 56.25
    expect(position[12]).toBeCloseTo(56.25, 9);
    expect(r.annotations?.tiers?.map((t) => [(t.ts - START) / STEP - 1, t.tier, t.reason])).toEqual([
      [0, 'PURE_KELLY', 'no_rl_sizer'],
      [4, 'EMERGENCY_FLAT', 'breaker_open'],
      [10, 'PROBE', 'breaker_probe'],
      [11, 'PURE_KELLY', 'no_rl_sizer'],
    ]);
    // attribution: bars 5..10 EMERGENCY_FLAT (0), bar 11 PROBE (listed before EMERGENCY_FLAT), bar 12 PURE_KELLY
    const a = tierAttribution(r)!;
    const row = (tier: string) => a.total.find((s) => s.tier === tier)!;
    expect(a.total.map((s) => s.tier)).toEqual(['FULL_RL', 'BLENDED', 'PURE_KELLY', 'PROBE', 'EMERGENCY_FLAT', 'none']);
    expect(row('EMERGENCY_FLAT').bars).toBe(6);
    expect(row('PROBE').bars).toBe(1);
    expect(row('EMERGENCY_FLAT').pnl).toBeCloseTo(0, 9);
  });

  it('feeds the breaker closed-trade PnL: 2 losing round trips in a row open it (limit 2)', () => {
    // long 10 at 100 (signal +), price falls to 99, signal − → reverse to short floor(0.1 × 9,990 / 99) = 10.09 at 99
    // (trip 1: −10), price rises to 100, signal + → reverse (trip 2: −10.09) → 2 losses in a row → open → flat
    // (trip 3, the long opened by the reversal, closes at 100: 0).
    const prices = [100, 100, 99, 99, 100, 100, 100];
    const signal = Float64Array.of(2e-5, 2e-5, -2e-5, -2e-5, 2e-5, 2e-5, 2e-5);
    const risk = { breaker: { consecutiveLosses: { limit: 2 }, drawdown: { enabled: false }, cooldownMs: 30 * STEP } };
    const r = runBacktest(spec(frameOf(prices), signal), regimeKelly({ minRebalance: 0, risk }, { regimes: [regimeOf(ONE_STATE)] }));
    expect(r.trades).toHaveLength(3);
    r.trades.forEach((t, k) => expect(t.pnl).toBeCloseTo([-10, -10.09, 0][k]!, 9));
    const open = r.annotations!.tiers!.find((t) => t.tier === 'EMERGENCY_FLAT')!;
    expect(open.reason).toBe('breaker_open');
    expect(r.bars[0]!.position.at(-1)).toBe(0);
  });

  it('is causal: regime probabilities, tiers and orders up to bar t do not change when later bars are perturbed', () => {
    const n = 400, t = 250;
    const random = seededRandom(7);
    const base: number[] = [];
    let p = 100;
    for (let k = 0; k < n; k++) base.push((p *= Math.exp(0.01 * normalDraw(random))));
    const perturbed = base.map((c, k) => (k > t ? c * Math.exp(0.05 * normalDraw(random)) : c));
    const model = makeMsGarchModel({ mean: [-0.002, 0, 0.002], omega: [4e-4, 5e-5, 5e-5], alpha: [0.1, 0.05, 0.05], beta: [0.8, 0.9, 0.9], transition: [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]] });
    const run = (closes: number[]) => {
      const frame = frameOf(closes);
      const signal = FEATURES['log-momentum']!.compute({ open: frame.open[0]!, high: frame.high[0]!, low: frame.low[0]!, close: frame.close[0]!, volume: frame.volume[0]! }, { lookback: 12 });
      return runBacktest(spec(frame, signal, false), regimeKelly({ signalScale: 0.01, risk: { horizonBars: 3, ic: { window: 50, minPairs: 10 } } }, { regimes: [regimeOf(model)] }));
    };
    const a = run(base), b = run(perturbed);
    const cut = close(t);
    const ra = a.annotations!.regimeProbabilities![0]!, rb = b.annotations!.regimeProbabilities![0]!;
    for (let s = 0; s < 3; s++) expect(Array.from(rb.probabilities[s]!.subarray(0, t + 1))).toEqual(Array.from(ra.probabilities[s]!.subarray(0, t + 1)));
    // …and the perturbation does reach later bars (the test would be vacuous otherwise)
    expect(Array.from(rb.probabilities[0]!.subarray(t + 2))).not.toEqual(Array.from(ra.probabilities[0]!.subarray(t + 2)));
    expect(b.annotations!.tiers!.filter((x) => x.ts <= cut)).toEqual(a.annotations!.tiers!.filter((x) => x.ts <= cut));
    // decisions at closes <= t fill at opens <= t + 1 (the open of t + 1 is the unperturbed close t)
    const decided = (r: BacktestResult) => r.fills.filter((x) => x.ts <= cut).map((x) => [x.ts, x.side, x.quantity, x.price]);
    expect(decided(b)).toEqual(decided(a));
    expect(decided(a).length).toBeGreaterThan(5);
    expect(Array.from(b.equity.value.subarray(0, t + 1))).toEqual(Array.from(a.equity.value.subarray(0, t + 1)));
  });
});

describe('tierAttribution (hand-computed)', () => {
  it('puts each bar in the tier in force at its start and attributes the bar’s mark-to-market PnL to it', () => {
    // 4 bars of one instrument; cumulative PnL at the closes 0, 10, 5, 25.
    // Annotations: PURE_KELLY from close 0 (= open of bar 1), EMERGENCY_FLAT from close 2 (= open of bar 3).
    // Bar 0: none (0); bars 1, 2: PURE_KELLY (+10, −5); bar 3: EMERGENCY_FLAT (+20).
    const ts = Float64Array.from({ length: 4 }, (_, k) => START + k * STEP);
    const result: Pick<BacktestResult, 'instruments' | 'bars' | 'annotations'> = {
      instruments: ['X'],
      bars: [{ ts, open: ts, high: ts, low: ts, close: ts, position: new Float64Array(4), pnl: Float64Array.of(0, 10, 5, 25) }],
      annotations: {
        tiers: [
          { instrument: 'X', ts: close(0), tier: 'PURE_KELLY', reason: 'no_rl_sizer' },
          { instrument: 'X', ts: close(2), tier: 'EMERGENCY_FLAT', reason: 'breaker_open' },
        ],
      },
    };
    const a = tierAttribution(result)!;
    expect(a.total).toEqual([
      { tier: 'FULL_RL', bars: 0, timeFraction: 0, pnl: 0 },
      { tier: 'BLENDED', bars: 0, timeFraction: 0, pnl: 0 },
      { tier: 'PURE_KELLY', bars: 2, timeFraction: 0.5, pnl: 5 },
      { tier: 'EMERGENCY_FLAT', bars: 1, timeFraction: 0.25, pnl: 20 },
      { tier: 'none', bars: 1, timeFraction: 0.25, pnl: 0 },
    ]);
    expect(a.byInstrument).toEqual([{ instrument: 'X', tiers: a.total }]);
    expect(tierAttribution({ ...result, annotations: {} })).toBeNull();
    // without the PnL column only time is attributed
    const noPnl = tierAttribution({ ...result, bars: [{ ...result.bars[0]!, pnl: undefined as unknown as Float64Array }] })!;
    expect(noPnl.total.map((s) => s.pnl)).toEqual([null, null, null, null, null]);
  });

  it('sums time fractions to 1 and PnL to the equity change of a run, and summarizes only annotated runs', () => {
    const signal = Float64Array.of(NaN, 2e-5, 2e-5, -2e-5, -2e-5, 2e-5);
    const prices = [100, 101, 103, 102, 99, 100];
    const r = runBacktest(spec(frameOf(prices), signal, false), regimeKelly({ minRebalance: 0 }, { regimes: [regimeOf(ONE_STATE)] }));
    const a = tierAttribution(r)!;
    expect(a.total.reduce((s, x) => s + x.timeFraction, 0)).toBeCloseTo(1, 12);
    const m = computeMetrics(r);
    expect(a.total.reduce((s, x) => s + x.pnl!, 0)).toBeCloseTo(m.finalEquity - r.initialCash, 9);
    // bar 0 has no tier at its start (the first decision is at its close)
    expect(summarize(r, m).tierAttribution?.total.map((x) => x.tier)).toEqual(['FULL_RL', 'BLENDED', 'PURE_KELLY', 'EMERGENCY_FLAT', 'none']);
    const plain = { ...r, annotations: undefined } as BacktestResult;
    expect('tierAttribution' in summarize(plain, m)).toBe(false);
  });
});

describe('experiment config: regime section', () => {
  const raw = {
    name: 'demo',
    strategy: 'regime-kelly',
    data: { venue: 'binance-spot', symbols: ['BTCUSDT'], timeframe: '4h', start: '2022-01-01', end: '2023-01-01' },
    slippage: { model: 'fixed', bps: 2 },
  };

  it('defaults states 4, seed 1 and onDegenerate refuse, and is absent unless given', () => {
    const parsed = parseBacktestConfig({ ...raw, regime: { fitStart: '2020-09-01', fitEnd: '2022-01-01' } }, 'demo.json');
    if (!parsed.success) throw parsed.error;
    expect(parsed.data.regime).toEqual({ fitStart: '2020-09-01', fitEnd: '2022-01-01', states: 4, seed: 1, onDegenerate: 'refuse' });
    const none = parseBacktestConfig(raw, 'demo.json');
    expect(none.success && none.data.regime).toBeUndefined();
  });

  it('rejects a fit window reaching into the backtest or an empty window, naming the path and value', () => {
    const late = parseBacktestConfig({ ...raw, regime: { fitStart: '2020-09-01', fitEnd: '2022-01-02' } }, 'demo.json');
    expect(late.success).toBe(false);
    if (late.success) return;
    expect(late.error.context['path']).toBe('$.regime.fitEnd');
    expect(late.error.message).toBe('demo.json: $.regime.fitEnd: must be <= data.start (the regime is fitted only on bars before the backtest), was "2022-01-02"');
    const empty = parseBacktestConfig({ ...raw, regime: { fitStart: '2021-01-01', fitEnd: '2021-01-01' } }, 'demo.json');
    expect(empty.success || empty.error.context['path']).toBe('$.regime.fitEnd');
    const unknown = parseBacktestConfig({ ...raw, regime: { fitStart: '2020-09-01', fitEnd: '2022-01-01', state: 3 } }, 'demo.json');
    expect(unknown.success || unknown.error.context['path']).toBe('$.regime.state');
  });
});
