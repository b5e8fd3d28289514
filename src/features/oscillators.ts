import { AppError } from '../core/app-error.js';
import { ringSize, StatelessKernel, type BarStream, type FeatureKernel } from './bar-stream.js';
import { checkIntegerParam, type FeatureErrorCode } from './feature-inputs.js';
import { ALL, nanArray, windowMean, windowSquaredDeviations } from './window-stats.js';

/**
 * A recursively smoothed average seeded with a simple mean, fed one value at a time (used by both paths):
 * leading NaN inputs are skipped (the upstream series is still warming up); the first `period` values after them
 * are averaged (simple mean) and that mean is the first output; after that `avg += alpha * (x - avg)`.
 * A NaN input after the start makes every later output NaN.
 * EMA: `alpha = 2 / (period + 1)`; Wilder smoothing: `alpha = 1 / period` (= `(avg * (period - 1) + x) / period`).
 */
export class SeededAverage {
  private count = 0;
  private sum = 0;
  private value = NaN;

  constructor(private readonly period: number, private readonly alpha: number) {}

  /** Feeds `x` and returns the average after it (NaN until `period` values have been seen). */
  next(x: number): number {
    if (this.count === 0 && x !== x) return NaN;
    const c = ++this.count;
    if (c < this.period) {
      this.sum += x;
      return NaN;
    }
    if (c === this.period) {
      this.sum += x;
      this.value = this.sum / this.period;
      return this.value;
    }
    this.value = this.value + this.alpha * (x - this.value);
    return this.value;
  }

  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.value = NaN;
  }
}

/**
 * Returns the exponential moving average of `values` with `alpha = 2 / (period + 1)`, seeded with the simple mean
 * of the first `period` values after any leading NaNs (so the first output is at index `firstValid + period - 1`).
 * @throws AppError `invalid_feature_params` when `period` is not an integer >= 1.
 */
export function exponentialMovingAverage(values: Float64Array, period: number): Float64Array {
  checkIntegerParam('ema', 'period', period, 1);
  const avg = new SeededAverage(period, 2 / (period + 1));
  const out = nanArray(values.length);
  for (let t = 0; t < values.length; t++) out[t] = avg.next(values[t]!);
  return out;
}

/** Gain and loss of one close-to-close change `d` (NaN change: both NaN). */
function gainOf(d: number): number {
  return d > 0 ? d : d === d ? 0 : NaN;
}
function lossOf(d: number): number {
  return d < 0 ? -d : d === d ? 0 : NaN;
}

/** RSI from Wilder averages of gains and losses: 100 when there were no losses (50 when also no gains). */
function rsiFrom(averageGain: number, averageLoss: number): number {
  if (averageLoss === 0) return averageGain === 0 ? 50 : 100;
  return 100 - 100 / (1 + averageGain / averageLoss);
}

/**
 * Returns Wilder's RSI in [0, 100]: changes `d[t] = close[t] - close[t-1]` (t >= 1) split into gains and losses,
 * each smoothed by {@link SeededAverage} with `alpha = 1 / period` seeded with the simple mean of `d[1..period]`;
 * `RSI = 100 - 100 / (1 + avgGain / avgLoss)` (100 when avgLoss = 0, 50 when both are 0). First value at `t = period`.
 * @throws AppError `invalid_feature_params` when `period` is not an integer >= 1.
 */
export function relativeStrengthIndex(close: Float64Array, period: number): Float64Array {
  checkIntegerParam('rsi', 'period', period, 1);
  const gains = new SeededAverage(period, 1 / period);
  const losses = new SeededAverage(period, 1 / period);
  const out = nanArray(close.length);
  for (let t = 0; t < close.length; t++) {
    const d = t >= 1 ? close[t]! - close[t - 1]! : NaN;
    out[t] = rsiFrom(gains.next(gainOf(d)), losses.next(lossOf(d)));
  }
  return out;
}

/** Incremental {@link relativeStrengthIndex}. */
export class RelativeStrengthIndexKernel implements FeatureKernel {
  private readonly gains: SeededAverage;
  private readonly losses: SeededAverage;

  constructor(period: number) {
    this.gains = new SeededAverage(period, 1 / period);
    this.losses = new SeededAverage(period, 1 / period);
  }

  update(s: BarStream, row: Float64Array, offset: number): void {
    const t = s.t;
    const d = t >= 1 ? s.close[t & s.mask]! - s.close[(t - 1) & s.mask]! : NaN;
    row[offset] = rsiFrom(this.gains.next(gainOf(d)), this.losses.next(lossOf(d)));
  }

  /** Both averages advance; the RSI is not formed. */
  skip(s: BarStream): void {
    const t = s.t;
    const d = t >= 1 ? s.close[t & s.mask]! - s.close[(t - 1) & s.mask]! : NaN;
    this.gains.next(gainOf(d));
    this.losses.next(lossOf(d));
  }

  reset(): void {
    this.gains.reset();
    this.losses.reset();
  }
}

/** MACD outputs; each divided by `close[t]` when normalised. */
export interface MacdColumns {
  readonly line: Float64Array;
  readonly signal: Float64Array;
  readonly histogram: Float64Array;
}

/** The three MACD smoothers of one series. */
class MacdState {
  readonly fast: SeededAverage;
  readonly slow: SeededAverage;
  readonly signal: SeededAverage;
  line = NaN;
  signalValue = NaN;

  constructor(fast: number, slow: number, signal: number) {
    this.fast = new SeededAverage(fast, 2 / (fast + 1));
    this.slow = new SeededAverage(slow, 2 / (slow + 1));
    this.signal = new SeededAverage(signal, 2 / (signal + 1));
  }

  next(close: number): void {
    this.line = this.fast.next(close) - this.slow.next(close);
    this.signalValue = this.signal.next(this.line);
  }

  reset(): void {
    this.fast.reset();
    this.slow.reset();
    this.signal.reset();
  }
}

function checkMacdParams(fast: number, slow: number, signal: number): void {
  checkIntegerParam('macd', 'fast', fast, 1);
  checkIntegerParam('macd', 'slow', slow, 2);
  checkIntegerParam('macd', 'signal', signal, 1);
  if (!(fast < slow)) throw new AppError<FeatureErrorCode>('invalid_feature_params', `macd: \`fast\` must be < \`slow\` (${slow}), was ${fast}`, { feature: 'macd', fast, slow });
}

/**
 * Returns MACD: `line = EMA_fast(close) - EMA_slow(close)`, `signal = EMA_signal(line)`, `histogram = line - signal`,
 * every EMA as in {@link exponentialMovingAverage} (alpha = 2/(n+1), seeded with the simple mean of its first n inputs;
 * the signal EMA starts at the first defined line value). `line` is defined from `t = slow - 1`, `signal` and `histogram`
 * from `t = slow + signal - 2`. Units: price, or a fraction of the close when `normalize` (each output divided by `close[t]`).
 * @throws AppError `invalid_feature_params` for non-integer periods or `fast >= slow`.
 */
export function macd(close: Float64Array, fast: number, slow: number, signal: number, normalize: boolean): MacdColumns {
  checkMacdParams(fast, slow, signal);
  const n = close.length;
  const state = new MacdState(fast, slow, signal);
  const line = nanArray(n);
  const sig = nanArray(n);
  const histogram = nanArray(n);
  for (let t = 0; t < n; t++) {
    state.next(close[t]!);
    writeMacd(state, normalize ? close[t]! : 1, line, t, sig, t, histogram, t);
  }
  return { line, signal: sig, histogram };
}

/** Writes the MACD outputs of `state` divided by `scale` (the same expressions on both paths). */
function writeMacd(state: MacdState, scale: number, line: Float64Array, li: number, signal: Float64Array, si: number, histogram: Float64Array, hi: number): void {
  line[li] = state.line / scale;
  signal[si] = state.signalValue / scale;
  histogram[hi] = (state.line - state.signalValue) / scale;
}

/** Incremental {@link macd}; writes line, signal, histogram at `offset`, `offset + 1`, `offset + 2`. */
export class MacdKernel implements FeatureKernel {
  private readonly state: MacdState;

  constructor(fast: number, slow: number, signal: number, private readonly normalize: boolean) {
    checkMacdParams(fast, slow, signal);
    this.state = new MacdState(fast, slow, signal);
  }

  update(s: BarStream, row: Float64Array, offset: number): void {
    const c = s.close[s.t & s.mask]!;
    this.state.next(c);
    writeMacd(this.state, this.normalize ? c : 1, row, offset, row, offset + 1, row, offset + 2);
  }

  /** The three averages advance (they are the state); nothing is written. */
  skip(s: BarStream): void {
    this.state.next(s.close[s.t & s.mask]!);
  }

  reset(): void {
    this.state.reset();
  }
}

/** True range of bar t given the previous close (NaN when there is none). */
function trueRange(high: number, low: number, previousClose: number): number {
  return Math.max(high - low, Math.abs(high - previousClose), Math.abs(low - previousClose));
}

/**
 * Returns Wilder's average true range divided by the close: `TR[t] = max(high - low, |high - close[t-1]|, |low - close[t-1]|)`
 * for t >= 1, smoothed with `alpha = 1 / period` seeded with the simple mean of `TR[1..period]` ({@link SeededAverage});
 * output `ATR[t] / close[t]` (fraction of price). First value at `t = period`.
 * @throws AppError `invalid_feature_params` when `period` is not an integer >= 1.
 */
export function normalizedAverageTrueRange(high: Float64Array, low: Float64Array, close: Float64Array, period: number): Float64Array {
  checkIntegerParam('atr', 'period', period, 1);
  const avg = new SeededAverage(period, 1 / period);
  const out = nanArray(close.length);
  for (let t = 0; t < close.length; t++) {
    const tr = t >= 1 ? trueRange(high[t]!, low[t]!, close[t - 1]!) : NaN;
    out[t] = avg.next(tr) / close[t]!;
  }
  return out;
}

/** Incremental {@link normalizedAverageTrueRange}. */
export class NormalizedAverageTrueRangeKernel implements FeatureKernel {
  private readonly avg: SeededAverage;

  constructor(period: number) {
    this.avg = new SeededAverage(period, 1 / period);
  }

  update(s: BarStream, row: Float64Array, offset: number): void {
    const t = s.t;
    const i = t & s.mask;
    const tr = t >= 1 ? trueRange(s.high[i]!, s.low[i]!, s.close[(t - 1) & s.mask]!) : NaN;
    row[offset] = this.avg.next(tr) / s.close[i]!;
  }

  /** The average advances; nothing is written. */
  skip(s: BarStream): void {
    const t = s.t;
    const i = t & s.mask;
    this.avg.next(t >= 1 ? trueRange(s.high[i]!, s.low[i]!, s.close[(t - 1) & s.mask]!) : NaN);
  }

  reset(): void {
    this.avg.reset();
  }
}

/** %b from the window mean and population std: 0.5 when the band has zero width. */
function percentB(close: number, mean: number, std: number, width: number): number {
  return std === 0 ? 0.5 : (close - (mean - width * std)) / (2 * width * std);
}

/**
 * Returns Bollinger %b: with `m` = mean and `sd` = population standard deviation (divisor `window`) of
 * `close[t-window+1..t]`, `%b = (close[t] - (m - width*sd)) / (2*width*sd)` (0 at the lower band, 1 at the upper;
 * 0.5 when sd = 0). Unitless. First value at `t = window - 1`.
 * @throws AppError `invalid_feature_params` when `window` is not an integer >= 2 or `width` is not > 0.
 */
export function bollingerPercentB(close: Float64Array, window: number, width: number): Float64Array {
  checkBollinger(window, width);
  const out = nanArray(close.length);
  for (let t = window - 1; t < close.length; t++) {
    const m = windowMean(close, ALL, t, window);
    out[t] = percentB(close[t]!, m, Math.sqrt(windowSquaredDeviations(close, ALL, t, window, m) / window), width);
  }
  return out;
}

function checkBollinger(window: number, width: number): void {
  checkIntegerParam('bollinger-percent-b', 'window', window, 2);
  if (!(width > 0)) throw new AppError<FeatureErrorCode>('invalid_feature_params', `bollinger-percent-b: \`width\` must be > 0, was ${width}`, { feature: 'bollinger-percent-b', width });
}

/** Incremental {@link bollingerPercentB} over the stream's close ring. */
export class BollingerPercentBKernel extends StatelessKernel {
  constructor(private readonly window: number, private readonly width: number) {
    super();
    checkBollinger(window, width);
  }

  update(s: BarStream, row: Float64Array, offset: number): void {
    const t = s.t;
    if (t < this.window - 1) {
      row[offset] = NaN;
      return;
    }
    const m = windowMean(s.close, s.mask, t, this.window);
    row[offset] = percentB(s.close[t & s.mask]!, m, Math.sqrt(windowSquaredDeviations(s.close, s.mask, t, this.window, m) / this.window), this.width);
  }
}

/** z-score from window mean and sample std: 0 when the window is constant. */
function zScore(x: number, mean: number, std: number): number {
  return std === 0 ? 0 : (x - mean) / std;
}

/**
 * Returns the rolling z-score of volume: with `x = ln(1 + volume)` when `log` (else `x = volume`), and `m`, `sd` the mean and
 * sample standard deviation (divisor `window - 1`) of `x[t-window+1..t]` (the current bar included),
 * `z = (x[t] - m) / sd` (0 when sd = 0). Unitless. First value at `t = window - 1`.
 * @throws AppError `invalid_feature_params` when `window` is not an integer >= 2.
 */
export function volumeZScore(volume: Float64Array, window: number, log: boolean): Float64Array {
  checkIntegerParam('volume-zscore', 'window', window, 2);
  const n = volume.length;
  const x = new Float64Array(n);
  for (let t = 0; t < n; t++) x[t] = log ? Math.log1p(volume[t]!) : volume[t]!;
  const out = nanArray(n);
  for (let t = window - 1; t < n; t++) {
    const m = windowMean(x, ALL, t, window);
    out[t] = zScore(x[t]!, m, Math.sqrt(windowSquaredDeviations(x, ALL, t, window, m) / (window - 1)));
  }
  return out;
}

/** Incremental {@link volumeZScore}; keeps a ring of the transformed volumes. */
export class VolumeZScoreKernel implements FeatureKernel {
  private readonly x: Float64Array;
  private readonly mask: number;

  constructor(private readonly window: number, private readonly log: boolean) {
    this.x = new Float64Array(ringSize(window));
    this.mask = this.x.length - 1;
  }

  update(s: BarStream, row: Float64Array, offset: number): void {
    const t = s.t;
    const v = s.volume[t & s.mask]!;
    const x = (this.x[t & this.mask] = this.log ? Math.log1p(v) : v);
    if (t < this.window - 1) {
      row[offset] = NaN;
      return;
    }
    const m = windowMean(this.x, this.mask, t, this.window);
    row[offset] = zScore(x, m, Math.sqrt(windowSquaredDeviations(this.x, this.mask, t, this.window, m) / (this.window - 1)));
  }

  /** The bar's transformed volume joins the ring; the z-score is not taken. */
  skip(s: BarStream): void {
    const t = s.t;
    const v = s.volume[t & s.mask]!;
    this.x[t & this.mask] = this.log ? Math.log1p(v) : v;
  }

  reset(): void {}
}
