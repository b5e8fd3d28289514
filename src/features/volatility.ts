import { ringSize, StatelessKernel, type BarStream, type FeatureKernel } from './bar-stream.js';
import { checkIntegerParam } from './feature-inputs.js';
import { ALL, nanArray, oneBarLogReturns, windowMean, windowSampleStd } from './window-stats.js';

/**
 * Returns realised volatility: the sample standard deviation (divisor `window - 1`) of the last `window` one-bar
 * log returns `ln(close[i] / close[i-1])`, i = t-window+1..t. Units: log return per bar (not annualised;
 * multiply by sqrt(bars per year) to annualise). NaN for `t < window`.
 * @throws AppError `invalid_feature_params` when `window` is not an integer >= 2.
 */
export function realizedVolatility(close: Float64Array, window: number): Float64Array {
  checkIntegerParam('realized-volatility', 'window', window, 2);
  const r = oneBarLogReturns(close);
  const out = nanArray(close.length);
  for (let t = window; t < close.length; t++) out[t] = windowSampleStd(r, ALL, t, window);
  return out;
}

/** Incremental {@link realizedVolatility} over the stream's one-bar log returns. */
export class RealizedVolatilityKernel extends StatelessKernel {
  constructor(private readonly window: number) {
    super();
  }

  update(s: BarStream, row: Float64Array, offset: number): void {
    row[offset] = s.t >= this.window ? windowSampleStd(s.logReturn, s.mask, s.t, this.window) : NaN;
  }
}

/** Per-bar Parkinson term `ln(high / low)^2`. */
function parkinsonTerm(high: number, low: number): number {
  const x = Math.log(high / low);
  return x * x;
}

/** Parkinson volatility from the window mean of {@link parkinsonTerm}: `sqrt(mean / (4 ln 2))`. */
function parkinsonFromMean(mean: number): number {
  return Math.sqrt(mean / (4 * Math.LN2));
}

/**
 * Returns Parkinson range volatility over the last `window` bars (including t):
 * `sqrt( (1 / (4 ln 2)) * mean_i ln(high[i] / low[i])^2 )`. Units: log return per bar. NaN for `t < window - 1`.
 * @throws AppError `invalid_feature_params` when `window` is not an integer >= 1.
 */
export function parkinsonVolatility(high: Float64Array, low: Float64Array, window: number): Float64Array {
  checkIntegerParam('parkinson-volatility', 'window', window, 1);
  return rangeVolatility(PARKINSON, high, high, low, low, window); // the Parkinson term reads high and low only
}

/** Per-bar Garman–Klass term `0.5 ln(high/low)^2 - (2 ln 2 - 1) ln(close/open)^2`. */
function garmanKlassTerm(open: number, high: number, low: number, close: number): number {
  const hl = Math.log(high / low);
  const co = Math.log(close / open);
  return 0.5 * hl * hl - (2 * Math.LN2 - 1) * co * co;
}

/** Garman–Klass volatility from the window mean of its terms: `sqrt(mean)`, 0 when the mean is negative. */
function garmanKlassFromMean(mean: number): number {
  return mean < 0 ? 0 : Math.sqrt(mean);
}

/**
 * Returns Garman–Klass range volatility over the last `window` bars (including t):
 * `sqrt( mean_i [0.5 ln(high/low)^2 - (2 ln 2 - 1) ln(close/open)^2] )` (0 if that mean is negative).
 * Units: log return per bar. NaN for `t < window - 1`.
 * @throws AppError `invalid_feature_params` when `window` is not an integer >= 1.
 */
export function garmanKlassVolatility(open: Float64Array, high: Float64Array, low: Float64Array, close: Float64Array, window: number): Float64Array {
  checkIntegerParam('garman-klass-volatility', 'window', window, 1);
  return rangeVolatility(GARMAN_KLASS, open, high, low, close, window);
}

/** A range-volatility estimator: a per-bar term from OHLC and the volatility from the window mean of the terms. */
interface RangeEstimator {
  term(open: number, high: number, low: number, close: number): number;
  fromMean(mean: number): number;
}

const PARKINSON: RangeEstimator = { term: (_o, h, l) => parkinsonTerm(h, l), fromMean: parkinsonFromMean };
const GARMAN_KLASS: RangeEstimator = { term: garmanKlassTerm, fromMean: garmanKlassFromMean };

/** Batch path of a range estimator: NaN for `t < window - 1`, then `fromMean(mean of the last window terms)`. */
function rangeVolatility(e: RangeEstimator, open: Float64Array, high: Float64Array, low: Float64Array, close: Float64Array, window: number): Float64Array {
  const n = close.length;
  const term = new Float64Array(n);
  for (let t = 0; t < n; t++) term[t] = e.term(open[t]!, high[t]!, low[t]!, close[t]!);
  const out = nanArray(n);
  for (let t = window - 1; t < n; t++) out[t] = e.fromMean(windowMean(term, ALL, t, window));
  return out;
}

/** Incremental path of a range estimator; keeps a ring of the per-bar terms (same arithmetic as the batch path). */
class RangeVolatilityKernel implements FeatureKernel {
  private readonly term: Float64Array;
  private readonly mask: number;

  constructor(
    private readonly estimator: RangeEstimator,
    private readonly window: number,
  ) {
    this.term = new Float64Array(ringSize(window));
    this.mask = this.term.length - 1;
  }

  update(s: BarStream, row: Float64Array, offset: number): void {
    const t = s.t;
    const i = t & s.mask;
    this.term[t & this.mask] = this.estimator.term(s.open[i]!, s.high[i]!, s.low[i]!, s.close[i]!);
    row[offset] = t >= this.window - 1 ? this.estimator.fromMean(windowMean(this.term, this.mask, t, this.window)) : NaN;
  }

  /** The bar's term only (the window mean is not taken). */
  skip(s: BarStream): void {
    const t = s.t;
    const i = t & s.mask;
    this.term[t & this.mask] = this.estimator.term(s.open[i]!, s.high[i]!, s.low[i]!, s.close[i]!);
  }

  reset(): void {}
}

/** Incremental {@link parkinsonVolatility}. */
export class ParkinsonVolatilityKernel extends RangeVolatilityKernel {
  constructor(window: number) {
    super(PARKINSON, window);
  }
}

/** Incremental {@link garmanKlassVolatility}. */
export class GarmanKlassVolatilityKernel extends RangeVolatilityKernel {
  constructor(window: number) {
    super(GARMAN_KLASS, window);
  }
}
