import { describe, expect, it } from 'vitest';
import { InvariantError } from '../core/app-error.js';
import { DAY_MS } from '../core/time.js';
import type { BacktestResult, TradeRecord } from './backtest-result.js';
import {
  annualTurnover,
  annualVolatility,
  cagr,
  calmarRatio,
  computeMetrics,
  drawdownSeries,
  exposure,
  grossProfitAndLoss,
  kRatio,
  maxDrawdown,
  MetricsError,
  monthlyReturns,
  profitFactor,
  rollingSharpe,
  sharpeRatio,
  simpleReturns,
  sortinoRatio,
  spanYears,
  totalReturn,
  turnover,
  winRate,
  YEAR_MS,
} from './metrics.js';

const f64 = (xs: readonly number[]): Float64Array => Float64Array.from(xs);
const P = 2190;
const T0 = Date.UTC(2024, 0, 1);
/** Timestamps `T0 + i × stepMs`. */
const times = (n: number, stepMs: number): Float64Array => f64(Array.from({ length: n }, (_, i) => T0 + i * stepMs));
const trades = (pnls: readonly number[]): Pick<TradeRecord, 'pnl'>[] => pnls.map((pnl) => ({ pnl }));

/*
 * Main fixture: equity [100, 110, 99, 120].
 *   returns  r = [110/100 - 1, 99/110 - 1, 120/99 - 1] = [0.1, -0.1, 21/99 = 7/33 ≈ 0.212121]
 *   mean     = (0.1 - 0.1 + 7/33) / 3 = 7/99 ≈ 0.070707
 *   deviations from the mean, in 99ths: 0.1 = 9.9/99 → 2.9/99; -0.1 = -9.9/99 → -16.9/99; 21/99 → 14/99
 *   sum of squares = (2.9² + 16.9² + 14²) / 99² = (8.41 + 285.61 + 196) / 9801 = 490.02 / 9801
 *   sample variance = 490.02 / 9801 / 2 = 245.01 / 9801  → stdev = sqrt(245.01) / 99 ≈ 0.158109
 *   per-bar Sharpe = (7/99) / (sqrt(245.01)/99) = 7 / sqrt(245.01) ≈ 0.447214
 *   downside: min(r,0)² = [0, 0.01, 0], mean over all 3 bars = 0.01/3 → DD = 0.1/sqrt(3)
 *   per-bar Sortino = (7/99) / (0.1/sqrt(3)) = 70·sqrt(3)/99 ≈ 1.224695
 *   drawdown: running peak [100, 110, 110, 120] → dd [0, 0, 99/110 - 1 = -0.1, 0]; peak idx 1, trough 2, recovered idx 3
 */
const EQ = f64([100, 110, 99, 120]);

describe('simpleReturns / totalReturn', () => {
  it('computes per-bar simple returns', () => {
    const r = simpleReturns(EQ);
    expect(r.length).toBe(3);
    expect(r[0]).toBeCloseTo(0.1, 14);
    expect(r[1]).toBeCloseTo(-0.1, 14);
    expect(r[2]).toBeCloseTo(7 / 33, 14);
  });

  it('returns an empty array for 0 or 1 sample and 0 after a wiped-out account', () => {
    expect(simpleReturns(f64([])).length).toBe(0);
    expect(simpleReturns(f64([100])).length).toBe(0);
    // 100 → 0: -100 %; 0 → 0: defined as 0.
    expect(Array.from(simpleReturns(f64([100, 0, 0])))).toEqual([-1, 0]);
  });

  it('rejects non-finite equity', () => {
    expect(() => simpleReturns(f64([100, NaN]))).toThrow(InvariantError);
    expect(() => simpleReturns(f64([100, Infinity]))).toThrow(/equity must be finite, was Infinity at index 1/);
  });

  it('total return = last / first - 1', () => {
    expect(totalReturn(EQ)).toBeCloseTo(120 / 100 - 1, 14); // 0.2
    expect(totalReturn(f64([100]))).toBe(0);
    expect(() => totalReturn(f64([]))).toThrow(InvariantError);
  });
});

describe('cagr', () => {
  it('over exactly one 365.25-day year equals the total return', () => {
    const ts = f64([T0, T0 + YEAR_MS / 3, T0 + (2 * YEAR_MS) / 3, T0 + YEAR_MS]);
    expect(spanYears(ts)).toBeCloseTo(1, 14);
    expect(cagr(ts, EQ)).toBeCloseTo(0.2, 12);
  });

  it('over two years is sqrt(1.2) - 1 ≈ 0.095445', () => {
    const ts = times(4, (2 * YEAR_MS) / 3);
    expect(cagr(ts, EQ)).toBeCloseTo(Math.sqrt(1.2) - 1, 12);
  });

  it('over half a year is 1.2² - 1 = 0.44', () => {
    const ts = times(4, YEAR_MS / 6);
    expect(cagr(ts, EQ)).toBeCloseTo(0.44, 12);
  });

  it('is null for a zero span and -1 when wiped out', () => {
    expect(cagr(f64([T0]), f64([100]))).toBeNull();
    expect(cagr(times(2, DAY_MS), f64([100, 0]))).toBe(-1);
  });

  it('rejects unsorted time and mismatched lengths', () => {
    expect(() => cagr(f64([T0, T0]), f64([100, 101]))).toThrow(/strictly increasing/);
    expect(() => cagr(f64([T0]), f64([100, 101]))).toThrow(/same length, were 1 and 2/);
  });
});

describe('volatility, Sharpe, Sortino', () => {
  const r = simpleReturns(EQ);

  it('annual volatility = sample stdev × sqrt(P) = sqrt(245.01)/99 × sqrt(2190)', () => {
    expect(annualVolatility(r, P)).toBeCloseTo((Math.sqrt(245.01) / 99) * Math.sqrt(P), 12); // ≈ 7.3993
  });

  it('Sharpe = mean / sample stdev × sqrt(P) = 7/sqrt(245.01) × sqrt(2190) ≈ 20.928', () => {
    expect(sharpeRatio(r, P)).toBeCloseTo((7 / Math.sqrt(245.01)) * Math.sqrt(P), 10);
    expect(sharpeRatio(r, P)).toBeCloseTo(20.928022438, 8);
  });

  it('Sortino = mean / sqrt(mean(min(r,0)²)) × sqrt(P) = 70·sqrt(3)/99 × sqrt(2190)', () => {
    expect(sortinoRatio(r, P)).toBeCloseTo(((70 * Math.sqrt(3)) / 99) * Math.sqrt(P), 10);
  });

  it('flat curve: volatility 0, Sharpe 0 and Sortino 0 (not NaN)', () => {
    const flat = simpleReturns(f64([100, 100, 100, 100]));
    expect(annualVolatility(flat, P)).toBe(0);
    expect(sharpeRatio(flat, P)).toBe(0);
    expect(sortinoRatio(flat, P)).toBe(0);
  });

  it('constant non-zero return: zero deviation → Sharpe null; no losing bar → Sortino null', () => {
    // [100, 110, 121, 133.1]: every return is 0.1 up to rounding noise (~1e-16), which must not explode the ratio.
    const steady = simpleReturns(f64([100, 110, 121, 133.1]));
    expect(sharpeRatio(steady, P)).toBeNull();
    expect(sortinoRatio(steady, P)).toBeNull();
  });

  it('too few returns → null', () => {
    expect(sharpeRatio(f64([0.1]), P)).toBeNull();
    expect(annualVolatility(f64([0.1]), P)).toBeNull();
    expect(sortinoRatio(f64([]), P)).toBeNull();
    // One losing return: mean -0.1, DD = sqrt(0.01/1) = 0.1 → -1 per bar.
    expect(sortinoRatio(f64([-0.1]), P)).toBeCloseTo(-Math.sqrt(P), 12);
  });

  it('rejects a bad periodsPerYear with a typed error naming the value', () => {
    expect(() => sharpeRatio(r, 0)).toThrow(MetricsError);
    expect(() => sharpeRatio(r, NaN)).toThrow('`periodsPerYear` must be a finite number > 0, was NaN');
  });
});

describe('drawdown', () => {
  it('drawdown series relative to the running peak', () => {
    const dd = drawdownSeries(EQ);
    expect(dd[0]).toBe(0);
    expect(dd[1]).toBe(0);
    expect(dd[2]).toBeCloseTo(99 / 110 - 1, 14); // -0.1
    expect(dd[3]).toBe(0);
  });

  it('recovered drawdown: peak 110 (idx 1) → 99 (idx 2) → 120 ≥ 110 at idx 3; duration 3 - 1 = 2 bars', () => {
    const ts = times(4, 4 * 3_600_000); // 4h bars
    const s = maxDrawdown(ts, EQ);
    expect(s.maxDrawdown).toBeCloseTo(-0.1, 14);
    expect([s.peakIndex, s.troughIndex, s.recoveryIndex, s.durationBars, s.recovered]).toEqual([1, 2, 3, 2, true]);
    expect(s.durationDays).toBeCloseTo((2 * 4) / 24, 14); // 2 bars × 4h = 1/3 day
  });

  it('picks the deepest of several drawdowns', () => {
    // [100, 90, 100, 130, 91, 95, 130, 140]: first dip 90/100 - 1 = -0.1 (recovered at idx 2);
    // second 91/130 - 1 = -0.3 from peak idx 3, recovered at idx 6 (130 ≥ 130) → 3 bars = 3 days.
    const s = maxDrawdown(times(8, DAY_MS), f64([100, 90, 100, 130, 91, 95, 130, 140]));
    expect(s.maxDrawdown).toBeCloseTo(-0.3, 14);
    expect([s.peakIndex, s.troughIndex, s.recoveryIndex, s.durationBars, s.durationDays]).toEqual([3, 4, 6, 3, 3]);
  });

  it('unrecovered drawdown runs to the end', () => {
    // [100, 120, 90, 100]: peak 120 idx 1, trough 90/120 - 1 = -0.25, never back to 120 → 3 - 1 = 2 bars.
    const s = maxDrawdown(times(4, DAY_MS), f64([100, 120, 90, 100]));
    expect(s.maxDrawdown).toBeCloseTo(-0.25, 14);
    expect([s.peakIndex, s.troughIndex, s.recoveryIndex, s.durationBars, s.durationDays, s.recovered]).toEqual([1, 2, -1, 2, 2, false]);
  });

  it('starts the underwater period at the latest touch of the peak', () => {
    // [100, 110, 105, 110, 99]: running max 110 touched again at idx 3 → peak idx 3, 1 bar to the end.
    const s = maxDrawdown(times(5, DAY_MS), f64([100, 110, 105, 110, 99]));
    expect(s.maxDrawdown).toBeCloseTo(-0.1, 14);
    expect([s.peakIndex, s.troughIndex, s.durationBars]).toEqual([3, 4, 1]);
  });

  it('no drawdown on a rising or flat curve', () => {
    for (const eq of [f64([100, 101, 102]), f64([100, 100, 100])]) {
      const s = maxDrawdown(times(3, DAY_MS), eq);
      expect(s).toEqual({ maxDrawdown: 0, peakIndex: -1, troughIndex: -1, recoveryIndex: -1, durationBars: 0, durationDays: 0, recovered: true });
    }
  });

  it('Calmar = CAGR / |max drawdown|', () => {
    expect(calmarRatio(0.2, -0.1)).toBeCloseTo(2, 14);
    expect(calmarRatio(-0.05, -0.25)).toBeCloseTo(-0.2, 14);
    expect(calmarRatio(0.2, 0)).toBeNull();
    expect(calmarRatio(null, -0.1)).toBeNull();
  });
});

describe('kRatio (Kestner 2003)', () => {
  it('ln(equity) = [0, 1, 3] → slope 1.5, SE sqrt(1/12), K = 1.5 / sqrt(1/12) / sqrt(3) = 3', () => {
    // x = [0,1,2], x̄ = 1, Sxx = 2; y = [0,1,3], ȳ = 4/3; Sxy = (-1)(-4/3) + 0 + (1)(5/3) = 3 → b = 3/2.
    // fitted = 4/3 + 1.5(x - 1) = [-1/6, 4/3, 17/6]; residuals [1/6, -1/3, 1/6]; SSR = (1 + 4 + 1)/36 = 1/6.
    // SE(b) = sqrt(SSR / (n - 2) / Sxx) = sqrt((1/6) / 1 / 2) = sqrt(1/12); t = 1.5·sqrt(12) = 3·sqrt(3); K = t / sqrt(3) = 3.
    expect(kRatio(f64([100, 100 * Math.E, 100 * Math.E ** 3]))).toBeCloseTo(3, 10);
  });

  it('is invariant to scaling the equity (log shift) and sign-flips for a mirrored curve', () => {
    expect(kRatio(f64([5, 5 * Math.E, 5 * Math.E ** 3]))).toBeCloseTo(3, 10);
    // y = [3, 2, 0]: slope -1.5, same residuals → K = -3.
    expect(kRatio(f64([Math.E ** 3, Math.E ** 2, 1]))).toBeCloseTo(-3, 10);
  });

  it('edge cases: flat → 0; perfectly log-linear → null; < 3 samples or equity <= 0 → null', () => {
    expect(kRatio(f64([100, 100, 100, 100]))).toBe(0);
    expect(kRatio(f64([100, 110, 121, 133.1]))).toBeNull();
    expect(kRatio(f64([100, 110]))).toBeNull();
    expect(kRatio(f64([100, 0, 50]))).toBeNull();
  });
});

describe('trade statistics', () => {
  // pnl [10, -5, 0, 20, -15]: wins 10 and 20 → 2 of 5 = 0.4 (0 is not a win);
  // gross profit 10 + 20 = 30, gross loss -5 - 15 = -20 → profit factor 30 / 20 = 1.5.
  const t = trades([10, -5, 0, 20, -15]);

  it('win rate', () => {
    expect(winRate(t)).toBeCloseTo(0.4, 14);
    expect(winRate([])).toBeNull();
    expect(winRate(trades([0, 0]))).toBe(0);
  });

  it('profit factor and gross profit/loss', () => {
    expect(grossProfitAndLoss(t)).toEqual({ grossProfit: 30, grossLoss: -20 });
    expect(profitFactor(t)).toBeCloseTo(1.5, 14);
    expect(profitFactor(trades([-1, -2]))).toBe(0);
  });

  it('profit factor is null without a losing trade (and without trades)', () => {
    expect(profitFactor(trades([5, 0, 7]))).toBeNull();
    expect(profitFactor([])).toBeNull();
  });
});

describe('turnover and exposure', () => {
  it('turnover = notional / mean equity; annualised by calendar years', () => {
    // mean equity of [100, 110, 99, 120] = 429 / 4 = 107.25; 1000 / 107.25 ≈ 9.324
    const tv = turnover(1000, EQ);
    expect(tv).toBeCloseTo(1000 / 107.25, 12);
    expect(annualTurnover(tv, 0.5)).toBeCloseTo(2000 / 107.25, 12);
    expect(annualTurnover(tv, 0)).toBeNull();
    expect(turnover(0, f64([0]))).toBe(0);
  });

  it('exposure = bars with any non-zero position / all bars', () => {
    // Two instruments on one grid: positions [0, 1, 0, 0] and [0, 0, 0, -2] → bars 1 and 3 exposed → 2/4.
    expect(exposure([f64([0, 1, 0, 0]), f64([0, 0, 0, -2])])).toBe(0.5);
    // Both exposed on the same bar counts once: [1, 0, 0] and [2, 0, 0] → 1/3.
    expect(exposure([f64([1, 0, 0]), f64([2, 0, 0])])).toBeCloseTo(1 / 3, 14);
    // NaN (no bar for that instrument) is not a position.
    expect(exposure([f64([NaN, 0]), f64([0, 0])])).toBe(0);
  });

  it('exposure is null without bars and rejects columns of different length', () => {
    expect(exposure([])).toBeNull();
    expect(exposure([f64([])])).toBeNull();
    expect(() => exposure([f64([1, 0]), f64([1])])).toThrow(/instrument 0 has 2 and instrument 1 has 1/);
  });
});

describe('monthlyReturns', () => {
  it('compounds returns per UTC month; a close at 00:00 on the 1st belongs to the previous month', () => {
    const ts = f64([
      Date.UTC(2024, 0, 1), // 100   (starting point, no return)
      Date.UTC(2024, 0, 15), // 110  Jan: ×1.1
      Date.UTC(2024, 1, 1), // 121   closes exactly at Feb 1 00:00 → still Jan: ×1.1 → Jan = 1.21 - 1 = 0.21
      Date.UTC(2024, 1, 10), // 108.9 Feb: 108.9/121 = 0.9 → -0.1
      Date.UTC(2024, 3, 1, 12), // 119.79 Apr: 119.79/108.9 = 1.1 → 0.1 (Mar has no bar → null)
      Date.UTC(2025, 0, 5), // 131.769 2025 Jan: ×1.1 → 0.1
    ]);
    const eq = f64([100, 110, 121, 108.9, 119.79, 131.769]);
    const rows = monthlyReturns(ts, eq);
    expect(rows.map((r) => r.year)).toEqual([2024, 2025]);
    const [y24, y25] = rows;
    expect(y24!.months[0]).toBeCloseTo(0.21, 12);
    expect(y24!.months[1]).toBeCloseTo(-0.1, 12);
    expect(y24!.months[2]).toBeNull();
    expect(y24!.months[3]).toBeCloseTo(0.1, 12);
    expect(y24!.months.slice(4)).toEqual(new Array(8).fill(null));
    // 2024 total: 119.79 / 100 - 1 = 1.21 × 0.9 × 1.1 - 1 = 0.1979
    expect(y24!.total).toBeCloseTo(0.1979, 12);
    expect(y25!.months[0]).toBeCloseTo(0.1, 12);
    expect(y25!.total).toBeCloseTo(0.1, 12);
  });

  it('is empty with fewer than 2 samples', () => {
    expect(monthlyReturns(f64([T0]), f64([100]))).toEqual([]);
  });
});

describe('rollingSharpe', () => {
  // returns [0.1, -0.1, 7/33, 0, 0, 0, 0], window 3
  const r = f64([0.1, -0.1, 7 / 33, 0, 0, 0, 0]);

  it('is NaN until the window fills, then the Sharpe of the trailing window', () => {
    const out = rollingSharpe(r, 3, P);
    expect(out.length).toBe(7);
    expect(Number.isNaN(out[0])).toBe(true);
    expect(Number.isNaN(out[1])).toBe(true);
    // Window [0.1, -0.1, 7/33] is the main fixture: 7 / sqrt(245.01) × sqrt(2190).
    expect(out[2]).toBeCloseTo((7 / Math.sqrt(245.01)) * Math.sqrt(P), 10);
    // Window [-0.1, 7/33, 0]: mean = (7/33 - 0.1)/3 = (7/33 - 3.3/33)/3 = 3.7/99;
    // deviations in 99ths: -9.9 - 3.7 = -13.6, 21 - 3.7 = 17.3, -3.7; squares 184.96 + 299.29 + 13.69 = 497.94
    // sample variance 497.94/2/99² → stdev sqrt(248.97)/99; per-bar Sharpe = 3.7 / sqrt(248.97).
    expect(out[3]).toBeCloseTo((3.7 / Math.sqrt(248.97)) * Math.sqrt(P), 10);
    expect(out[4]).toBeCloseTo(sharpeRatio(r.subarray(2, 5), P)!, 12);
    // All-zero window → 0, as for a flat curve.
    expect(out[6]).toBe(0);
  });

  it('rejects a window < 2 or non-integer with a typed error', () => {
    expect(() => rollingSharpe(r, 1, P)).toThrow('`window` must be an integer >= 2, was 1');
    expect(() => rollingSharpe(r, 2.5, P)).toThrow(MetricsError);
  });

  it('is all NaN when the series is shorter than the window', () => {
    expect(Array.from(rollingSharpe(r, 10, P)).every(Number.isNaN)).toBe(true);
  });
});

describe('computeMetrics', () => {
  const ts = f64([T0, T0 + YEAR_MS / 3, T0 + (2 * YEAR_MS) / 3, T0 + YEAR_MS]);
  const result: BacktestResult = {
    name: 'fixture',
    instruments: ['BTCUSDT-LINEAR.BYBIT'],
    dataSources: [],
    timeframe: '4h',
    periodsPerYear: P,
    initialCash: 100,
    equity: { ts, value: EQ },
    bars: [{ ts, open: EQ, high: EQ, low: EQ, close: EQ, position: f64([0, 1, 1, 0]) }],
    fills: [],
    trades: [
      { instrument: 'BTCUSDT-LINEAR.BYBIT', direction: 'long', entryTs: T0, exitTs: T0 + 1, entryPrice: 1, exitPrice: 2, quantity: 1, pnl: 30, fees: 1, funding: 0, returnPct: 1 },
      { instrument: 'BTCUSDT-LINEAR.BYBIT', direction: 'short', entryTs: T0, exitTs: T0 + 1, entryPrice: 2, exitPrice: 3, quantity: 1, pnl: -10, fees: 1, funding: 0, returnPct: -0.5 },
    ],
    funding: [],
    notes: [],
    turnoverNotional: 1000,
    feesPaid: 2,
    fundingPaid: 0.5,
    liquidations: 0,
    seed: 1,
    config: {},
  };

  it('assembles every metric from the fixture', () => {
    const m = computeMetrics(result);
    const perBarSharpe = 7 / Math.sqrt(245.01);
    expect(m.bars).toBe(4);
    expect([m.startMs, m.endMs, m.initialEquity, m.finalEquity]).toEqual([T0, T0 + YEAR_MS, 100, 120]);
    expect(m.years).toBeCloseTo(1, 14);
    expect(m.totalReturn).toBeCloseTo(0.2, 14);
    expect(m.cagr).toBeCloseTo(0.2, 12);
    expect(m.sharpe).toBeCloseTo(perBarSharpe * Math.sqrt(P), 10);
    expect(m.sortino).toBeCloseTo(((70 * Math.sqrt(3)) / 99) * Math.sqrt(P), 10);
    expect(m.annualVolatility).toBeCloseTo((Math.sqrt(245.01) / 99) * Math.sqrt(P), 10);
    expect(m.maxDrawdown).toBeCloseTo(-0.1, 14);
    expect(m.calmar).toBeCloseTo(2, 10); // 0.2 / 0.1
    expect(m.maxDrawdownDurationBars).toBe(2);
    expect(m.maxDrawdownDurationDays).toBeCloseTo((2 * 365.25) / 3, 10); // peak idx 1 → recovery idx 3 = 2/3 year
    expect(m.maxDrawdownRecovered).toBe(true);
    expect(m.kRatio).toBeCloseTo(kRatio(EQ)!, 14);
    expect([m.tradeCount, m.winRate, m.profitFactor, m.grossProfit, m.grossLoss]).toEqual([2, 0.5, 3, 30, -10]);
    expect(m.turnover).toBeCloseTo(1000 / 107.25, 12);
    expect(m.annualTurnover).toBeCloseTo(1000 / 107.25, 10);
    expect(m.exposure).toBe(0.5);
    expect([m.feesPaid, m.fundingPaid, m.liquidations, m.fillCount, m.turnoverNotional]).toEqual([2, 0.5, 0, 0, 1000]);
  });

  it('flat curve without trades: Sharpe 0, win rate and profit factor null, no NaN anywhere', () => {
    const flat = f64([100, 100, 100, 100]);
    const m = computeMetrics({ ...result, equity: { ts, value: flat }, trades: [], turnoverNotional: 0, bars: [] });
    expect(m.sharpe).toBe(0);
    expect(m.sortino).toBe(0);
    expect(m.annualVolatility).toBe(0);
    expect(m.cagr).toBe(0);
    expect(m.kRatio).toBe(0);
    expect(m.maxDrawdown).toBe(0);
    expect(m.calmar).toBeNull();
    expect(m.winRate).toBeNull();
    expect(m.profitFactor).toBeNull();
    expect(m.exposure).toBeNull();
    for (const [k, v] of Object.entries(m)) expect(Number.isNaN(v), k).toBe(false);
  });

  it('a single-sample run yields nulls rather than NaN', () => {
    const m = computeMetrics({ ...result, equity: { ts: f64([T0]), value: f64([100]) }, trades: [], turnoverNotional: 0 });
    expect([m.cagr, m.sharpe, m.sortino, m.annualVolatility, m.kRatio, m.annualTurnover]).toEqual([null, null, null, null, null, null]);
    expect(m.totalReturn).toBe(0);
  });

  it('rejects an empty or corrupt equity curve', () => {
    expect(() => computeMetrics({ ...result, equity: { ts: f64([]), value: f64([]) } })).toThrow(InvariantError);
    expect(() => computeMetrics({ ...result, equity: { ts: f64([T0, T0 - 1]), value: f64([100, 100]) } })).toThrow(/strictly increasing/);
  });
});
