import { StatelessKernel, type BarStream } from './bar-stream.js';
import { checkIntegerParam } from './feature-inputs.js';
import { nanArray } from './window-stats.js';

/**
 * Returns the `horizon`-bar log return of `close`: `out[t] = ln(close[t] / close[t - horizon])` (unitless),
 * NaN for `t < horizon` and wherever either close is NaN. Known at the close of bar `t`.
 * Same values as `logMomentum(close, horizon)`.
 * @throws AppError `invalid_feature_params` when `horizon` is not an integer >= 1.
 * @example
 * logReturn(Float64Array.of(100, 110, 121), 2); // [NaN, NaN, ln 1.21]
 */
export function logReturn(close: Float64Array, horizon: number): Float64Array {
  checkIntegerParam('log-return', 'horizon', horizon, 1);
  const out = nanArray(close.length);
  for (let t = horizon; t < close.length; t++) out[t] = Math.log(close[t]! / close[t - horizon]!);
  return out;
}

/** Incremental {@link logReturn} of the stream's close (or reference close). */
export class LogReturnKernel extends StatelessKernel {
  constructor(private readonly horizon: number, private readonly source: 'close' | 'referenceClose') {
    super();
  }

  update(s: BarStream, row: Float64Array, offset: number): void {
    const a = s[this.source];
    const t = s.t;
    row[offset] = t >= this.horizon ? Math.log(a[t & s.mask]! / a[(t - this.horizon) & s.mask]!) : NaN;
  }
}
