import { StatelessKernel, type BarStream } from './bar-stream.js';
import { checkIntegerParam } from './feature-inputs.js';
import { ALL, nanArray, oneBarLogReturns, windowCorrelation } from './window-stats.js';

/**
 * Returns the rolling Pearson correlation of the one-bar log returns of `close` and `referenceClose`
 * (e.g. ETH vs BTC) over the last `window` returns (i = t-window+1..t; two-pass means then co-moments).
 * Unitless in [-1, 1]; NaN for `t < window` and when either return series is constant over the window.
 * @throws AppError `invalid_feature_params` when `window` is not an integer >= 2.
 */
export function rollingReturnCorrelation(close: Float64Array, referenceClose: Float64Array, window: number): Float64Array {
  checkIntegerParam('reference-correlation', 'window', window, 2);
  const x = oneBarLogReturns(close);
  const y = oneBarLogReturns(referenceClose);
  const out = nanArray(close.length);
  for (let t = window; t < close.length; t++) out[t] = windowCorrelation(x, y, ALL, t, window);
  return out;
}

/** Incremental {@link rollingReturnCorrelation} over the stream's return rings. */
export class ReturnCorrelationKernel extends StatelessKernel {
  constructor(private readonly window: number) {
    super();
  }

  update(s: BarStream, row: Float64Array, offset: number): void {
    row[offset] = s.t >= this.window ? windowCorrelation(s.logReturn, s.referenceLogReturn, s.mask, s.t, this.window) : NaN;
  }
}
