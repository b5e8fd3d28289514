import { AppError, invariant } from '../core/app-error.js';
import { DAY_MS } from '../core/time.js';
import type { BacktestResult, TradeRecord } from './backtest-result.js';

/**
 * Portfolio metrics of a backtest run, as pure functions over typed arrays and one {@link computeMetrics} entry point.
 *
 * Conventions shared by every function here:
 * - Returns are per-bar simple returns of the equity curve, `r[i] = equity[i + 1] / equity[i] - 1`; the risk-free
 *   rate is 0. When `equity[i] <= 0` (account wiped out) the next return is defined as 0.
 * - Annualisation multiplies by `periodsPerYear` (mean) or `sqrt(periodsPerYear)` (deviations); 4h bars: 2,190 per year.
 * - Calendar years are 365.25 days of 86,400,000 ms.
 * - A ratio whose denominator is zero is `0` when its numerator is also zero (e.g. a flat curve) and `null` otherwise
 *   ("undefined", kept JSON-safe instead of `Infinity`). A deviation counts as zero when it is `<= 1e-12 × |mean|`
 *   (this absorbs floating-point noise of a curve with constant returns).
 */

/** Codes of invalid arguments to the metric functions. Corrupt inputs (NaN equity, unsorted time) throw `InvariantError`. */
export type MetricsErrorCode = 'invalid_window' | 'invalid_periods_per_year';

/** A metric function was called with an invalid argument; `context` names it and holds the value. */
export class MetricsError extends AppError<MetricsErrorCode> {}

/** Milliseconds in one calendar year of 365.25 days. */
export const YEAR_MS = 365.25 * DAY_MS;

const DEGENERATE_RELATIVE = 1e-12;

/**
 * Every metric of one run, flat. Fractions are plain ratios (0.25 = 25 %), money is in the account's quote currency
 * (USDT), times are epoch ms. `null` means "undefined for this run" (see each field).
 */
export interface BacktestMetrics {
  /** Number of equity samples (one per bar close). */
  readonly bars: number;
  /** First and last equity timestamps, epoch ms (bar close times). */
  readonly startMs: number;
  readonly endMs: number;
  /** Calendar span from first to last equity sample, in 365.25-day years. */
  readonly years: number;
  /** First and last equity values, USDT. */
  readonly initialEquity: number;
  readonly finalEquity: number;
  /** `finalEquity / initialEquity - 1`, fraction. */
  readonly totalReturn: number;
  /** Compound annual growth rate over {@link years}, fraction per year; null when the span is 0 or the initial equity <= 0. */
  readonly cagr: number | null;
  /** Sample standard deviation of per-bar returns × sqrt(periodsPerYear), fraction; null with fewer than 2 returns. */
  readonly annualVolatility: number | null;
  /** Annualised Sharpe ratio, risk-free 0: mean(r) / stdev(r, n-1) × sqrt(periodsPerYear). See {@link sharpeRatio}. */
  readonly sharpe: number | null;
  /** Annualised Sortino ratio, target 0: mean(r) / sqrt(mean(min(r,0)²)) × sqrt(periodsPerYear). See {@link sortinoRatio}. */
  readonly sortino: number | null;
  /** `cagr / |maxDrawdown|`; null when there was no drawdown or CAGR is null. */
  readonly calmar: number | null;
  /** Deepest fall below the running peak, fraction <= 0 (e.g. -0.25 = 25 % below the peak); 0 when never below a peak. */
  readonly maxDrawdown: number;
  /** Bars from the peak before the deepest trough to recovery (first sample back at or above that peak), or to the last sample if not recovered. */
  readonly maxDrawdownDurationBars: number;
  /** The same span in calendar days (fractional). */
  readonly maxDrawdownDurationDays: number;
  /** Whether the curve got back to the peak of the deepest drawdown; true when there was no drawdown. */
  readonly maxDrawdownRecovered: boolean;
  /** K-ratio, Kestner 2003 version: OLS slope of ln(equity) on bar index / its standard error / sqrt(bars). See {@link kRatio}. */
  readonly kRatio: number | null;
  /** Number of closed round trips. */
  readonly tradeCount: number;
  /** Trades with pnl > 0 / all trades, fraction (a trade with pnl exactly 0 is not a win); null without trades. */
  readonly winRate: number | null;
  /** Sum of positive trade pnl / |sum of negative trade pnl|; null when no trade lost (including no trades). */
  readonly profitFactor: number | null;
  /** Sum of positive trade pnl, USDT. */
  readonly grossProfit: number;
  /** Sum of negative trade pnl, USDT (<= 0). */
  readonly grossLoss: number;
  /** Number of fills. */
  readonly fillCount: number;
  /** Gross traded notional, USDT (sum |qty × price| over fills). */
  readonly turnoverNotional: number;
  /** Traded notional / mean equity over the run, times. */
  readonly turnover: number;
  /** {@link turnover} per 365.25-day year, times per year; null when the span is 0. */
  readonly annualTurnover: number | null;
  /** Fraction of bars (rows of the common bar grid) with a non-zero position in any instrument; null without bars. */
  readonly exposure: number | null;
  /** Total fees paid, USDT (negative = net rebates). */
  readonly feesPaid: number;
  /** Total funding paid, USDT (negative = net received). */
  readonly fundingPaid: number;
  /** Number of liquidations during the run. */
  readonly liquidations: number;
}

/** Statistics of the deepest drawdown of an equity curve. Indices refer to the equity arrays. */
export interface DrawdownStats {
  /** Deepest fall below the running peak, fraction <= 0; 0 when the curve never fell below a peak. */
  readonly maxDrawdown: number;
  /** Index of the peak before the deepest trough (-1 when there was no drawdown). */
  readonly peakIndex: number;
  /** Index of the deepest trough (-1 when there was no drawdown). */
  readonly troughIndex: number;
  /** First index after the trough whose equity is >= the peak's, or -1 when never recovered (or no drawdown). */
  readonly recoveryIndex: number;
  /** Bars from peak to recovery, or from peak to the last sample when not recovered; 0 without drawdown. */
  readonly durationBars: number;
  /** The same span in calendar days (fractional). */
  readonly durationDays: number;
  /** True when recovered or when there was no drawdown. */
  readonly recovered: boolean;
}

/** One calendar year (UTC) of compounded monthly returns. */
export interface MonthlyReturnRow {
  readonly year: number;
  /** 12 entries, January first: compounded return of the month, fraction; null when no return fell in that month. */
  readonly months: readonly (number | null)[];
  /** Compounded return of all bars of the year, fraction. */
  readonly total: number;
}

function checkEquity(ts: Float64Array | null, equity: Float64Array): void {
  const n = equity.length;
  if (ts) invariant(ts.length === n, `equity timestamps and values must have the same length, were ${ts.length} and ${n}`, { ts: ts.length, values: n });
  for (let i = 0; i < n; i++) {
    const v = equity[i]!;
    if (!Number.isFinite(v)) invariant(false, `equity must be finite, was ${v} at index ${i}`, { index: i, value: v });
  }
  if (ts) {
    for (let i = 0; i < n; i++) {
      const t = ts[i]!;
      if (!Number.isFinite(t) || (i > 0 && !(t > ts[i - 1]!))) {
        invariant(false, `equity timestamps must be finite and strictly increasing, was ${t} after ${i > 0 ? ts[i - 1] : 'start'} at index ${i}`, { index: i, value: t });
      }
    }
  }
}

function checkPeriodsPerYear(periodsPerYear: number): void {
  if (!(Number.isFinite(periodsPerYear) && periodsPerYear > 0)) {
    throw new MetricsError('invalid_periods_per_year', `\`periodsPerYear\` must be a finite number > 0, was ${periodsPerYear}`, { periodsPerYear });
  }
}

/** True when a deviation `sd` is zero up to floating-point noise relative to `mean`. */
function isDegenerate(sd: number, mean: number): boolean {
  return sd === 0 || sd <= DEGENERATE_RELATIVE * Math.abs(mean);
}

/** Ratio with the module's zero-denominator rule: 0 when the numerator is 0, null otherwise. */
function ratioOrNull(numerator: number, denominator: number, degenerate: boolean): number | null {
  if (degenerate) return numerator === 0 ? 0 : null;
  return numerator / denominator;
}

/**
 * Returns the per-bar simple returns of `equity`: `r[i] = equity[i + 1] / equity[i] - 1` (length `n - 1`, empty for
 * `n <= 1`). A return after a non-positive equity value is 0.
 * @throws InvariantError when an equity value is not finite.
 */
export function simpleReturns(equity: Float64Array): Float64Array {
  checkEquity(null, equity);
  const n = equity.length;
  const out = new Float64Array(Math.max(0, n - 1));
  for (let i = 1; i < n; i++) {
    const prev = equity[i - 1]!;
    out[i - 1] = prev > 0 ? equity[i]! / prev - 1 : 0;
  }
  return out;
}

/**
 * Returns `equity[last] / equity[0] - 1` as a fraction (0 for a single sample).
 * @throws InvariantError when `equity` is empty or its first value is not > 0.
 */
export function totalReturn(equity: Float64Array): number {
  invariant(equity.length > 0, 'equity must have at least 1 sample, was empty');
  invariant(equity[0]! > 0, `initial equity must be > 0, was ${equity[0]}`, { value: equity[0] });
  return equity[equity.length - 1]! / equity[0]! - 1;
}

/** Returns the calendar span from `ts[0]` to `ts[last]` in 365.25-day years (0 for fewer than 2 samples). */
export function spanYears(ts: Float64Array): number {
  return ts.length < 2 ? 0 : (ts[ts.length - 1]! - ts[0]!) / YEAR_MS;
}

/**
 * Returns the compound annual growth rate, fraction per year: `(equity[last] / equity[0]) ^ (1 / years) - 1` where
 * `years` is the calendar time from the first to the last timestamp in 365.25-day years. Returns -1 when the final
 * equity is <= 0, and null when the span is 0 or the initial equity is <= 0.
 * @throws InvariantError when lengths differ, values are not finite or timestamps are not strictly increasing.
 */
export function cagr(ts: Float64Array, equity: Float64Array): number | null {
  checkEquity(ts, equity);
  const years = spanYears(ts);
  if (!(years > 0) || !(equity[0]! > 0)) return null;
  const growth = equity[equity.length - 1]! / equity[0]!;
  return growth <= 0 ? -1 : Math.pow(growth, 1 / years) - 1;
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** Sample standard deviation (n - 1 denominator) around `m`. */
function sampleStdev(values: Float64Array, m: number): number {
  let sq = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i]! - m;
    sq += d * d;
  }
  return Math.sqrt(sq / (values.length - 1));
}

/**
 * Returns the annualised volatility, fraction: sample standard deviation (n - 1) of `returns` × sqrt(periodsPerYear).
 * Null with fewer than 2 returns.
 * @throws MetricsError `invalid_periods_per_year` unless `periodsPerYear` is finite and > 0.
 */
export function annualVolatility(returns: Float64Array, periodsPerYear: number): number | null {
  checkPeriodsPerYear(periodsPerYear);
  if (returns.length < 2) return null;
  return sampleStdev(returns, mean(returns)) * Math.sqrt(periodsPerYear);
}

/**
 * Returns the annualised Sharpe ratio with a 0 risk-free rate: `mean(r) / stdev(r) × sqrt(periodsPerYear)`, with the
 * sample standard deviation (n - 1 denominator) of the per-bar returns `r`.
 * Null with fewer than 2 returns; when the deviation is zero it is 0 for a zero mean (flat curve) and null otherwise.
 * @throws MetricsError `invalid_periods_per_year` unless `periodsPerYear` is finite and > 0.
 * @example sharpeRatio(simpleReturns(new Float64Array([100, 110, 99, 120])), 2190) // 7 / sqrt(245.01) × sqrt(2190) ≈ 20.93
 */
export function sharpeRatio(returns: Float64Array, periodsPerYear: number): number | null {
  checkPeriodsPerYear(periodsPerYear);
  if (returns.length < 2) return null;
  const m = mean(returns);
  const sd = sampleStdev(returns, m);
  const perBar = ratioOrNull(m, sd, isDegenerate(sd, m));
  return perBar === null ? null : perBar * Math.sqrt(periodsPerYear);
}

/**
 * Returns the annualised Sortino ratio with target 0: `mean(r) / DD × sqrt(periodsPerYear)` where the downside
 * deviation is `DD = sqrt(mean(min(r, 0)²))`, the mean taken over ALL bars (not only losing ones).
 * Null without returns; when `DD` is zero (no losing bar) it is 0 for a zero mean and null otherwise.
 * @throws MetricsError `invalid_periods_per_year` unless `periodsPerYear` is finite and > 0.
 */
export function sortinoRatio(returns: Float64Array, periodsPerYear: number): number | null {
  checkPeriodsPerYear(periodsPerYear);
  const n = returns.length;
  if (n === 0) return null;
  let downSq = 0;
  for (let i = 0; i < n; i++) {
    const r = returns[i]!;
    if (r < 0) downSq += r * r;
  }
  const m = mean(returns);
  const dd = Math.sqrt(downSq / n);
  const perBar = ratioOrNull(m, dd, isDegenerate(dd, m));
  return perBar === null ? null : perBar * Math.sqrt(periodsPerYear);
}

/**
 * Returns the drawdown at every sample: `equity[i] / max(equity[0..i]) - 1`, fractions <= 0.
 * A sample whose running peak is <= 0 has drawdown -1.
 * @throws InvariantError when a value is not finite.
 */
export function drawdownSeries(equity: Float64Array): Float64Array {
  checkEquity(null, equity);
  const n = equity.length;
  const out = new Float64Array(n);
  let peak = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = equity[i]!;
    if (v > peak) peak = v;
    out[i] = peak > 0 ? v / peak - 1 : -1;
  }
  return out;
}

/**
 * Returns the deepest drawdown of the curve and its duration, measured from the peak that precedes the deepest trough
 * to the recovery (first later sample >= that peak) or, when not recovered, to the last sample. Of equally deep
 * drawdowns the first is reported.
 * @throws InvariantError when lengths differ, values are not finite or timestamps are not strictly increasing.
 */
export function maxDrawdown(ts: Float64Array, equity: Float64Array): DrawdownStats {
  checkEquity(ts, equity);
  const dd = drawdownSeries(equity);
  const n = equity.length;
  let trough = -1;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    if (dd[i]! < worst) {
      worst = dd[i]!;
      trough = i;
    }
  }
  if (trough < 0) return { maxDrawdown: 0, peakIndex: -1, troughIndex: -1, recoveryIndex: -1, durationBars: 0, durationDays: 0, recovered: true };
  // The latest sample at the running maximum before the trough: the underwater period starts when leaving it.
  let peak = 0;
  for (let i = 1; i <= trough; i++) if (equity[i]! >= equity[peak]!) peak = i;
  const peakValue = equity[peak]!;
  let recovery = -1;
  for (let i = trough + 1; i < n; i++) {
    if (equity[i]! >= peakValue) {
      recovery = i;
      break;
    }
  }
  const end = recovery >= 0 ? recovery : n - 1;
  return {
    maxDrawdown: worst,
    peakIndex: peak,
    troughIndex: trough,
    recoveryIndex: recovery,
    durationBars: end - peak,
    durationDays: (ts[end]! - ts[peak]!) / DAY_MS,
    recovered: recovery >= 0,
  };
}

/** Returns the Calmar ratio `cagr / |maxDrawdown|`; null when `cagr` is null or there was no drawdown. */
export function calmarRatio(cagrValue: number | null, maxDrawdownValue: number): number | null {
  if (cagrValue === null || maxDrawdownValue === 0) return null;
  return cagrValue / Math.abs(maxDrawdownValue);
}

/**
 * Returns the K-ratio, Kestner 2003 version (not annualised): fit `ln(equity[i]) = a + b·i` by ordinary least squares
 * over the bar index `i = 0..n-1`, then `K = b / (SE(b) · sqrt(n))` with
 * `SE(b) = sqrt( Σ residual² / (n - 2) / Σ (i - ī)² )`.
 * (Kestner's 1996 original divided by `n` instead of `sqrt(n)`.) Null with fewer than 3 samples or any equity <= 0;
 * when `SE(b)` is zero (a perfectly log-linear curve) it is 0 for a zero slope and null otherwise.
 * @throws InvariantError when a value is not finite.
 */
export function kRatio(equity: Float64Array): number | null {
  checkEquity(null, equity);
  const n = equity.length;
  if (n < 3) return null;
  const y = new Float64Array(n);
  let ySum = 0;
  for (let i = 0; i < n; i++) {
    const v = equity[i]!;
    if (!(v > 0)) return null;
    y[i] = Math.log(v);
    ySum += y[i]!;
  }
  const xMean = (n - 1) / 2;
  const yMean = ySum / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = i - xMean;
    sxy += dx * (y[i]! - yMean);
    sxx += dx * dx;
  }
  const slope = sxy / sxx;
  let ssr = 0;
  for (let i = 0; i < n; i++) {
    const e = y[i]! - yMean - slope * (i - xMean);
    ssr += e * e;
  }
  const se = Math.sqrt(ssr / (n - 2) / sxx);
  const t = ratioOrNull(slope, se, isDegenerate(se, slope));
  return t === null ? null : t / Math.sqrt(n);
}

/** Returns trades with pnl > 0 divided by all trades, fraction; a pnl of exactly 0 is not a win. Null without trades. */
export function winRate(trades: readonly Pick<TradeRecord, 'pnl'>[]): number | null {
  if (trades.length === 0) return null;
  let wins = 0;
  for (const t of trades) if (t.pnl > 0) wins++;
  return wins / trades.length;
}

/** Returns the sum of positive trade pnl (`grossProfit`, >= 0) and of negative trade pnl (`grossLoss`, <= 0), USDT. */
export function grossProfitAndLoss(trades: readonly Pick<TradeRecord, 'pnl'>[]): { readonly grossProfit: number; readonly grossLoss: number } {
  let grossProfit = 0;
  let grossLoss = 0;
  for (const t of trades) {
    if (t.pnl > 0) grossProfit += t.pnl;
    else if (t.pnl < 0) grossLoss += t.pnl;
  }
  return { grossProfit, grossLoss };
}

/**
 * Returns the profit factor `Σ positive pnl / |Σ negative pnl|`. Null when no trade lost (no trades, or only winners
 * and break-evens): the ratio is undefined there, and null keeps the metrics JSON-safe where `Infinity` would not be.
 */
export function profitFactor(trades: readonly Pick<TradeRecord, 'pnl'>[]): number | null {
  const { grossProfit, grossLoss } = grossProfitAndLoss(trades);
  return grossLoss === 0 ? null : grossProfit / -grossLoss;
}

/**
 * Returns turnover in times: traded notional / arithmetic mean of the equity samples. 0 when no notional was traded.
 * @throws InvariantError when `equity` is empty or its mean is not > 0 while notional was traded.
 */
export function turnover(tradedNotional: number, equity: Float64Array): number {
  invariant(equity.length > 0, 'equity must have at least 1 sample, was empty');
  if (tradedNotional === 0) return 0;
  const m = mean(equity);
  invariant(m > 0, `mean equity must be > 0 to compute turnover, was ${m}`, { meanEquity: m });
  return tradedNotional / m;
}

/** Returns `turnoverTimes / years`, times per year; null when `years` is not > 0. */
export function annualTurnover(turnoverTimes: number, years: number): number | null {
  return years > 0 ? turnoverTimes / years : null;
}

/**
 * Returns the fraction of bars with a non-zero (non-NaN) position in any instrument. `positions[s][i]` is instrument
 * `s`'s signed position at the close of bar `i` of the run's common bar grid (the engine records every instrument on
 * one grid, one row per equity sample, so rows align by index). Null when there are no bars.
 * @throws InvariantError when the position columns differ in length.
 */
export function exposure(positions: readonly Float64Array[]): number | null {
  const k = positions.length;
  const n = k > 0 ? positions[0]!.length : 0;
  for (let s = 1; s < k; s++) {
    const len = positions[s]!.length;
    if (len !== n) invariant(false, `position columns must have the same length, instrument 0 has ${n} and instrument ${s} has ${len}`, { instrument: s, expected: n, actual: len });
  }
  if (n === 0) return null;
  let exposed = 0;
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < k; s++) {
      const p = positions[s]![i]!;
      if (p !== 0 && p === p) {
        exposed++;
        break;
      }
    }
  }
  return exposed / n;
}

/**
 * Returns compounded returns per UTC calendar month, one row per year in ascending order (years without any return
 * are omitted; months without a return are null). The return `equity[i] / equity[i-1] - 1` belongs to the month that
 * contains the instant just before `ts[i]`, so a bar closing exactly at 00:00 on the 1st counts toward the previous
 * month; a month's value is thus equity at its last close / equity at the previous month's last close - 1.
 * @throws InvariantError when lengths differ, values are not finite or timestamps are not strictly increasing.
 */
export function monthlyReturns(ts: Float64Array, equity: Float64Array): MonthlyReturnRow[] {
  checkEquity(ts, equity);
  const rows: { year: number; growth: (number | null)[]; total: number }[] = [];
  let current: (typeof rows)[number] | undefined;
  for (let i = 1; i < equity.length; i++) {
    const prev = equity[i - 1]!;
    const growth = prev > 0 ? equity[i]! / prev : 1;
    const d = new Date(ts[i]! - 1);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth();
    if (!current || current.year !== year) {
      current = { year, growth: new Array<number | null>(12).fill(null), total: 1 };
      rows.push(current);
    }
    current.growth[month] = (current.growth[month] ?? 1) * growth;
    current.total *= growth;
  }
  return rows.map((r) => ({ year: r.year, months: r.growth.map((g) => (g === null ? null : g - 1)), total: r.total - 1 }));
}

/**
 * Returns the annualised Sharpe ratio over a trailing window of `window` returns ending at each index, with the same
 * definition as {@link sharpeRatio} (sample stdev, risk-free 0). Entries before the window fills are NaN, and so are
 * windows whose Sharpe is undefined (zero deviation, non-zero mean); a window of all-zero returns gives 0.
 * Each window is summed afresh (O(n·window)) so flat stretches give exactly 0 rather than cancellation noise.
 * @throws MetricsError `invalid_window` unless `window` is an integer >= 2; `invalid_periods_per_year` as in {@link sharpeRatio}.
 */
export function rollingSharpe(returns: Float64Array, window: number, periodsPerYear: number): Float64Array {
  if (!(Number.isInteger(window) && window >= 2)) {
    throw new MetricsError('invalid_window', `\`window\` must be an integer >= 2, was ${window}`, { window });
  }
  checkPeriodsPerYear(periodsPerYear);
  const n = returns.length;
  const out = new Float64Array(n).fill(NaN);
  const scale = Math.sqrt(periodsPerYear);
  for (let end = window - 1; end < n; end++) {
    const start = end - window + 1;
    let sum = 0;
    for (let i = start; i <= end; i++) sum += returns[i]!;
    const m = sum / window;
    let sq = 0;
    for (let i = start; i <= end; i++) {
      const d = returns[i]! - m;
      sq += d * d;
    }
    const sd = Math.sqrt(sq / (window - 1));
    const perBar = ratioOrNull(m, sd, isDegenerate(sd, m));
    out[end] = perBar === null ? NaN : perBar * scale;
  }
  return out;
}

/**
 * Returns every metric of `result` (see {@link BacktestMetrics} for definitions and units).
 * @throws InvariantError when the equity curve is empty, not finite, not strictly increasing in time, or starts <= 0.
 * @throws MetricsError `invalid_periods_per_year` when `result.periodsPerYear` is not finite and > 0.
 * @example
 * const m = computeMetrics(result);
 * console.log(`Sharpe ${m.sharpe?.toFixed(2) ?? 'n/a'}, max drawdown ${(m.maxDrawdown * 100).toFixed(1)} %`);
 */
export function computeMetrics(result: BacktestResult): BacktestMetrics {
  const { ts, value } = result.equity;
  checkEquity(ts, value);
  checkPeriodsPerYear(result.periodsPerYear);
  const n = value.length;
  const returns = simpleReturns(value);
  const years = spanYears(ts);
  const growth = cagr(ts, value);
  const dd = maxDrawdown(ts, value);
  const { grossProfit, grossLoss } = grossProfitAndLoss(result.trades);
  const turnoverTimes = turnover(result.turnoverNotional, value);
  return {
    bars: n,
    startMs: ts[0]!,
    endMs: ts[n - 1]!,
    years,
    initialEquity: value[0]!,
    finalEquity: value[n - 1]!,
    totalReturn: totalReturn(value),
    cagr: growth,
    annualVolatility: annualVolatility(returns, result.periodsPerYear),
    sharpe: sharpeRatio(returns, result.periodsPerYear),
    sortino: sortinoRatio(returns, result.periodsPerYear),
    calmar: calmarRatio(growth, dd.maxDrawdown),
    maxDrawdown: dd.maxDrawdown,
    maxDrawdownDurationBars: dd.durationBars,
    maxDrawdownDurationDays: dd.durationDays,
    maxDrawdownRecovered: dd.recovered,
    kRatio: kRatio(value),
    tradeCount: result.trades.length,
    winRate: winRate(result.trades),
    profitFactor: profitFactor(result.trades),
    grossProfit,
    grossLoss,
    fillCount: result.fills.length,
    turnoverNotional: result.turnoverNotional,
    turnover: turnoverTimes,
    annualTurnover: annualTurnover(turnoverTimes, years),
    exposure: result.exposedBars === undefined ? exposure(result.bars.map((b) => b.position)) : result.bars.length > 0 && n > 0 ? result.exposedBars / n : null,
    feesPaid: result.feesPaid,
    fundingPaid: result.fundingPaid,
    liquidations: result.liquidations,
  };
}

/** Sizing tiers in display order (most to least trusting); always listed by {@link tierAttribution}. */
export const SIZING_TIER_ORDER: readonly string[] = Object.freeze(['FULL_RL', 'BLENDED', 'PURE_KELLY', 'EMERGENCY_FLAT']);
/** The optional PROBE tier (a half-open breaker's probe position): listed before EMERGENCY_FLAT when a run recorded it. */
const PROBE_TIER = 'PROBE';
/** Pseudo-tier of bars before an instrument's first tier annotation. */
export const NO_TIER = 'none';

/** Time and PnL attributed to one sizing tier. */
export interface TierStats {
  readonly tier: string;
  /** Bars during which the tier was in force (see {@link tierAttribution} for the rule). */
  readonly bars: number;
  /** `bars` / all bars counted, fraction; the fractions of one table sum to 1. */
  readonly timeFraction: number;
  /** Mark-to-market PnL of those bars, quote currency (net of fees and funding); null when the result has no PnL columns. */
  readonly pnl: number | null;
}

/** Result of {@link tierAttribution}: all instruments together and each instrument alone. */
export interface TierAttribution {
  /** Instrument-bars of every instrument (n instruments × T bars). */
  readonly total: readonly TierStats[];
  readonly byInstrument: readonly { readonly instrument: string; readonly tiers: readonly TierStats[] }[];
}

/**
 * Attributes time and PnL to the sizing tiers annotated during a run (`result.annotations.tiers`).
 *
 * Rule: bar t of instrument i (open time `bars[i].ts[t]`, bars of the run's common grid) is in the tier in force at
 * the START of the bar: the last tier annotation of i with ts <= the bar's open time, i.e. the decision taken at
 * the previous close, whose orders fill at this bar's open ({@link NO_TIER} before the first annotation). Its PnL is
 * the bar's mark-to-market PnL of i, `pnl[t] − pnl[t−1]` (`pnl[−1]` = 0) from the cumulative `bars[i].pnl` column:
 * price change on the position held, the fill at the open, fees and funding of the bar. The PnL of all tiers
 * therefore sums to the final equity minus the initial cash.
 *
 * Rows: {@link SIZING_TIER_ORDER} always (PROBE before EMERGENCY_FLAT when recorded), then other recorded tiers alphabetically, then {@link NO_TIER} when some
 * bar had no tier yet. Returns null when the result has no tier annotations.
 * @example
 * const a = tierAttribution(result); a?.total.find((s) => s.tier === 'EMERGENCY_FLAT')?.timeFraction;
 */
export function tierAttribution(result: Pick<BacktestResult, 'instruments' | 'bars' | 'annotations'>): TierAttribution | null {
  const annotations = result.annotations?.tiers;
  if (annotations === undefined || annotations.length === 0) return null;
  const byId = new Map<string, { ts: number; tier: string }[]>();
  for (const a of annotations) {
    let list = byId.get(a.instrument);
    if (list === undefined) byId.set(a.instrument, (list = []));
    list.push({ ts: a.ts, tier: a.tier });
  }
  const recorded = new Set(annotations.map((a) => a.tier));
  const known = recorded.has(PROBE_TIER) ? [...SIZING_TIER_ORDER.slice(0, -1), PROBE_TIER, ...SIZING_TIER_ORDER.slice(-1)] : SIZING_TIER_ORDER;
  const seen = new Set<string>(known);
  const extra = [...recorded].filter((t) => !seen.has(t)).sort();
  const order = [...known, ...extra, NO_TIER];
  const index = new Map(order.map((t, k) => [t, k]));
  const totalBars = new Float64Array(order.length);
  const totalPnl = new Float64Array(order.length);
  let totalCount = 0;
  let allPnl = true;
  const perInstrument = result.instruments.map((instrument, i) => {
    const bar = result.bars[i]!;
    const list = byId.get(instrument) ?? [];
    for (let j = 1; j < list.length; j++) invariant(list[j]!.ts >= list[j - 1]!.ts, `tier annotations of ${instrument} must be in time order, ${list[j]!.ts} came after ${list[j - 1]!.ts}`, { instrument });
    const counts = new Float64Array(order.length);
    const pnls = new Float64Array(order.length);
    const cumulative = bar.pnl;
    if (cumulative === undefined) allPnl = false;
    let next = 0;
    let current = index.get(NO_TIER)!;
    const T = bar.ts.length;
    for (let t = 0; t < T; t++) {
      const open = bar.ts[t]!;
      while (next < list.length && list[next]!.ts <= open) current = index.get(list[next++]!.tier)!;
      counts[current]!++;
      if (cumulative !== undefined) pnls[current]! += cumulative[t]! - (t > 0 ? cumulative[t - 1]! : 0);
    }
    for (let k = 0; k < order.length; k++) {
      totalBars[k]! += counts[k]!;
      totalPnl[k]! += pnls[k]!;
    }
    totalCount += T;
    return { instrument, tiers: statsRows(order, counts, cumulative === undefined ? null : pnls, T) };
  });
  return { total: statsRows(order, totalBars, allPnl ? totalPnl : null, totalCount), byInstrument: perInstrument };
}

function statsRows(order: readonly string[], counts: Float64Array, pnl: Float64Array | null, total: number): TierStats[] {
  const rows: TierStats[] = [];
  order.forEach((tier, k) => {
    if (tier === NO_TIER && counts[k] === 0) return;
    rows.push({ tier, bars: counts[k]!, timeFraction: total > 0 ? counts[k]! / total : 0, pnl: pnl === null ? null : pnl[k]! });
  });
  return rows;
}
