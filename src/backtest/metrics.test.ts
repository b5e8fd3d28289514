import { describe, expect, it } from 'vitest';
import { type AppError, InvariantError } from '../core/app-error.js';
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
  NO_TIER,
  profitFactor,
  rollingSharpe,
  sharpeRatio,
  simpleReturns,
  SIZING_TIER_ORDER,
  sortinoRatio,
  spanYears,
  tierAttribution,
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
/** The error `fn` throws (fails the test when it returns): lets a test check its message, code and context together. */
const thrown = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (e) {
    return e as AppError;
  }
  throw new Error('expected a throw');
};
/** Asserts the error's message and context, and its code when given. */
const expectError = (fn: () => unknown, message: string, context: Record<string, unknown>, code = 'invariant'): void => {
  const e = thrown(fn);
  expect([e.message, e.code, e.context]).toEqual([message, code, context]);
};

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
    expectError(() => simpleReturns(f64([100, -Infinity])), 'equity must be finite, was -Infinity at index 1', { index: 1, value: -Infinity });
  });

  it('total return = last / first - 1', () => {
    expect(totalReturn(EQ)).toBeCloseTo(120 / 100 - 1, 14); // 0.2
    expect(totalReturn(f64([100]))).toBe(0);
    expect(() => totalReturn(f64([]))).toThrow(InvariantError);
  });

  it('total return rejects an empty curve and a first value <= 0, naming the value', () => {
    expectError(() => totalReturn(f64([])), 'equity must have at least 1 sample, was empty', {});
    // 0 → 10 would be +Infinity: the first value must be > 0, not only >= 0.
    expectError(() => totalReturn(f64([0, 10])), 'initial equity must be > 0, was 0', { value: 0 });
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

  it('is -1 when the final equity is negative, and null when the initial equity is <= 0', () => {
    // growth -50/100 = -0.5 over exactly 1 year: (-0.5)^1 - 1 would give -1.5; a loss beyond everything is still -1.
    expect(cagr(times(2, YEAR_MS), f64([100, -50]))).toBe(-1);
    // 100 / 0 would be an infinite growth.
    expect(cagr(times(2, YEAR_MS), f64([0, 100]))).toBeNull();
  });

  it('spans 0 years for no sample or one', () => {
    expect(spanYears(f64([]))).toBe(0);
    expect(spanYears(f64([T0]))).toBe(0);
  });

  it('rejects unsorted time and mismatched lengths', () => {
    expect(() => cagr(f64([T0, T0]), f64([100, 101]))).toThrow(/strictly increasing/);
    expect(() => cagr(f64([T0]), f64([100, 101]))).toThrow(/same length, were 1 and 2/);
    expectError(() => cagr(f64([T0]), f64([100, 101])), 'equity timestamps and values must have the same length, were 1 and 2', { ts: 1, values: 2 });
  });

  it('names the bad timestamp, its predecessor ("start" for the first) and its index', () => {
    expectError(() => cagr(f64([NaN, T0]), f64([100, 101])), 'equity timestamps must be finite and strictly increasing, was NaN after start at index 0', { index: 0, value: NaN });
    expectError(() => cagr(f64([T0, T0 + 1, T0 + 1]), f64([1, 2, 3])), `equity timestamps must be finite and strictly increasing, was ${T0 + 1} after ${T0 + 1} at index 2`, { index: 2, value: T0 + 1 });
    // +Infinity is larger than its predecessor but not finite.
    expect(() => cagr(f64([T0, Infinity]), f64([100, 101]))).toThrow(`was Infinity after ${T0} at index 1`);
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

  it('two returns are enough: r = [1.1e-6, 0.9e-6], a small mean over a small but real deviation', () => {
    // mean 1e-6; deviations ±1e-7 → sample variance (1e-14 + 1e-14) / 1 → stdev 1e-7·sqrt(2).
    // per-bar Sharpe = 1e-6 / (1e-7·sqrt(2)) = 10/sqrt(2) = 5·sqrt(2) ≈ 7.071; the deviation is 7 orders of magnitude
    // above the 1e-12 × |mean| noise floor, so it is not degenerate.
    const r2 = f64([1.1e-6, 0.9e-6]);
    expect(annualVolatility(r2, P)).toBeCloseTo(1e-7 * Math.sqrt(2) * Math.sqrt(P), 18);
    expect(sharpeRatio(r2, P)).toBeCloseTo(5 * Math.sqrt(2) * Math.sqrt(P), 6);
  });

  it('rejects a bad periodsPerYear with a typed error naming the value', () => {
    expect(() => sharpeRatio(r, 0)).toThrow(MetricsError);
    expect(() => sharpeRatio(r, NaN)).toThrow('`periodsPerYear` must be a finite number > 0, was NaN');
    expectError(() => sharpeRatio(r, Infinity), '`periodsPerYear` must be a finite number > 0, was Infinity', { periodsPerYear: Infinity }, 'invalid_periods_per_year');
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

  it('is -1 while the running peak is <= 0', () => {
    // [0, 10, 5]: peak 0 → -1 (not 0/0); then peak 10 → 0 and 5/10 - 1 = -0.5.
    expect(Array.from(drawdownSeries(f64([0, 10, 5])))).toEqual([-1, 0, -0.5]);
  });

  it('a curve starting at 0 is in its deepest drawdown (-1) at index 0, recovered at the first sample >= 0', () => {
    // dd [-1, 0, -0.5]: deepest -1 at idx 0, peak idx 0 (value 0), recovery idx 1 (10 >= 0) → 1 bar = 1 day.
    const s = maxDrawdown(times(3, DAY_MS), f64([0, 10, 5]));
    expect(s).toEqual({ maxDrawdown: -1, peakIndex: 0, troughIndex: 0, recoveryIndex: 1, durationBars: 1, durationDays: 1, recovered: true });
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

  it('4 samples, ln(equity) = [0, 1, 1, 3]: K = 0.45 / sqrt(0.07) ≈ 1.7008', () => {
    // x̄ = 1.5, dx = [-1.5, -0.5, 0.5, 1.5], Sxx = 5; ȳ = 1.25; Sxy = Σ dx·y = -0.5 + 0.5 + 4.5 = 4.5 → b = 0.9.
    // fitted 1.25 + 0.9·dx = [-0.1, 0.8, 1.7, 2.6]; residuals [0.1, 0.2, -0.7, 0.4]; SSR = 0.01 + 0.04 + 0.49 + 0.16 = 0.7.
    // SE(b) = sqrt(0.7 / (4 - 2) / 5) = sqrt(0.07); K = 0.9 / sqrt(0.07) / sqrt(4) = 0.45 / sqrt(0.07).
    expect(kRatio(f64([1, Math.E, Math.E, Math.E ** 3]))).toBeCloseTo(0.45 / Math.sqrt(0.07), 10);
  });

  it('a flat curve of 7 samples is exactly 0, without rounding noise in the slope', () => {
    // ln(100) - ȳ is the same (tiny or zero) number at every x, and Σ dx = 0, so the slope is exactly 0.
    expect(kRatio(f64(new Array(7).fill(100)))).toBe(0);
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

  it('turnover rejects an empty curve and a mean equity <= 0 when notional was traded', () => {
    expectError(() => turnover(5, f64([])), 'equity must have at least 1 sample, was empty', {});
    // 5 / 0 would be Infinity.
    expectError(() => turnover(5, f64([0, 0])), 'mean equity must be > 0 to compute turnover, was 0', { meanEquity: 0 });
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
    expectError(() => exposure([f64([1, 0]), f64([1])]), 'position columns must have the same length, instrument 0 has 2 and instrument 1 has 1', {
      instrument: 1,
      expected: 2,
      actual: 1,
    });
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

  it('a month after a wiped-out account has return 0', () => {
    // Jan: 0 / 100 - 1 = -1; Feb: after equity 0 the return is defined as 0 (not 0/0). Year total 0 × 1 - 1 = -1.
    const rows = monthlyReturns(f64([Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 20), Date.UTC(2024, 1, 20)]), f64([100, 0, 0]));
    expect(rows).toEqual([{ year: 2024, months: [-1, 0, ...new Array(10).fill(null)], total: -1 }]);
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
    expectError(() => rollingSharpe(r, 0, P), '`window` must be an integer >= 2, was 0', { window: 0 }, 'invalid_window');
  });

  it('is NaN for a window of constant non-zero returns (zero deviation)', () => {
    // Window 2 over [0.1, 0.1, 0]: [0.1, 0.1] has mean 0.1 and deviation 0 → undefined → NaN;
    // [0.1, 0]: mean 0.05, deviations ±0.05 → stdev sqrt(0.005) → per-bar 0.05 / sqrt(0.005) = sqrt(0.5).
    const out = rollingSharpe(f64([0.1, 0.1, 0]), 2, P);
    expect(Number.isNaN(out[0])).toBe(true);
    expect(Number.isNaN(out[1])).toBe(true);
    expect(out[2]).toBeCloseTo(Math.sqrt(0.5) * Math.sqrt(P), 10);
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
    positions: [{ instrument: 'BTCUSDT-LINEAR.BYBIT', quantity: 0, entryPrice: 0, realizedPnl: 22, fees: 2, funding: 0.5 }],
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

describe('tierAttribution', () => {
  type TierInput = Pick<BacktestResult, 'instruments' | 'bars' | 'annotations'>;
  type Bar = BacktestResult['bars'][number];
  /** One instrument's bars opening at `T0 + k × STEP`; `pnl` is the cumulative PnL column (omitted when undefined). */
  const STEP = 4 * 3_600_000;
  const barsOf = (n: number, pnl?: readonly number[]): Bar => {
    const ts = times(n, STEP);
    return { ts, open: ts, high: ts, low: ts, close: ts, position: new Float64Array(n), ...(pnl ? { pnl: f64(pnl) } : {}) };
  };
  const row = (tier: string, bars: number, timeFraction: number, pnl: number | null) => ({ tier, bars, timeFraction, pnl });
  /** Rows of the four standard tiers with no bar (PnL 0, or null without a PnL column). */
  const idle = (pnl: 0 | null, tiers: readonly string[] = ['FULL_RL', 'BLENDED', 'PURE_KELLY']) => tiers.map((t) => row(t, 0, 0, pnl));

  it('orders PROBE before EMERGENCY_FLAT and the other recorded tiers alphabetically; the later of two equal-time annotations wins', () => {
    // X: PROBE from T0 (open of bar 0); ZED then ALPHA both at T0 + STEP (open of bar 1) → bar 0 PROBE, bars 1-2 ALPHA.
    // X's cumulative pnl [1, 3, 6] → bar PnL 1, 2, 3: PROBE 1, ALPHA 2 + 3 = 5; ZED was in force for no bar (0).
    // Y has no annotation and no PnL column: its 3 bars are all 'none' and the total has no PnL.
    // Rows: FULL_RL, BLENDED, PURE_KELLY, PROBE, EMERGENCY_FLAT, then ALPHA, ZED (sorted although ZED came first), none.
    const input: TierInput = {
      instruments: ['X', 'Y'],
      bars: [barsOf(3, [1, 3, 6]), barsOf(3)],
      annotations: {
        tiers: [
          { instrument: 'X', ts: T0, tier: 'PROBE', reason: 'half_open' },
          { instrument: 'X', ts: T0 + STEP, tier: 'ZED', reason: 'z' },
          { instrument: 'X', ts: T0 + STEP, tier: 'ALPHA', reason: 'a' },
        ],
      },
    };
    const a = tierAttribution(input)!;
    // X: every bar has a tier, so no 'none' row; fractions of its 3 bars.
    expect(a.byInstrument[0]).toEqual({
      instrument: 'X',
      tiers: [...idle(0), row('PROBE', 1, 1 / 3, 1), row('EMERGENCY_FLAT', 0, 0, 0), row('ALPHA', 2, 2 / 3, 5), row('ZED', 0, 0, 0)],
    });
    expect(a.byInstrument[1]).toEqual({
      instrument: 'Y',
      tiers: [...idle(null, ['FULL_RL', 'BLENDED', 'PURE_KELLY', 'PROBE', 'EMERGENCY_FLAT', 'ALPHA', 'ZED']), row('none', 3, 1, null)],
    });
    // Total over 6 instrument-bars: PROBE 1/6, ALPHA 2/6, none 3/6; PnL null because Y has no PnL column.
    expect(a.total).toEqual([...idle(null), row('PROBE', 1, 1 / 6, null), row('EMERGENCY_FLAT', 0, 0, null), row('ALPHA', 2, 1 / 3, null), row('ZED', 0, 0, null), row('none', 3, 0.5, null)]);
    expect(SIZING_TIER_ORDER).toEqual(['FULL_RL', 'BLENDED', 'PURE_KELLY', 'EMERGENCY_FLAT']);
    expect(NO_TIER).toBe('none');
  });

  it('gives time fraction 0 (not NaN) for a run without bars, and null for an empty annotation list', () => {
    // One annotation, zero bars: every row has 0 of 0 bars; 'none' is left out because no bar lacked a tier.
    const input: TierInput = { instruments: ['X'], bars: [barsOf(0, [])], annotations: { tiers: [{ instrument: 'X', ts: T0, tier: 'FULL_RL', reason: 'rl' }] } };
    const a = tierAttribution(input)!;
    expect(a.total).toEqual(idle(0, SIZING_TIER_ORDER));
    expect(a.byInstrument).toEqual([{ instrument: 'X', tiers: a.total }]);
    expect(tierAttribution({ ...input, annotations: { tiers: [] } })).toBeNull();
  });

  it('rejects tier annotations of one instrument out of time order', () => {
    const input: TierInput = {
      instruments: ['X'],
      bars: [barsOf(2, [0, 0])],
      annotations: {
        tiers: [
          { instrument: 'X', ts: T0 + STEP, tier: 'FULL_RL', reason: 'rl' },
          { instrument: 'X', ts: T0, tier: 'BLENDED', reason: 'b' },
        ],
      },
    };
    expectError(() => tierAttribution(input), `tier annotations of X must be in time order, ${T0} came after ${T0 + STEP}`, { instrument: 'X' });
  });
});
