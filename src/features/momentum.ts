import { AppError } from '../core/app-error.js';

/**
 * Returns the `lookback`-bar log momentum of `close`: `out[t] = ln(close[t] / close[t - lookback])`, NaN for
 * `t < lookback` and wherever either close is NaN. Causal: `out[t]` reads only `close[t]` and `close[t - lookback]`,
 * so it is known at the close of bar `t`.
 * @throws AppError `invalid_feature_params` when `lookback` is not an integer >= 1.
 * @example
 * logMomentum(Float64Array.of(100, 110, 121), 1); // [NaN, ln 1.1, ln 1.1]
 */
export function logMomentum(close: Float64Array, lookback: number): Float64Array {
  if (!(Number.isInteger(lookback) && lookback >= 1)) {
    throw new AppError('invalid_feature_params', `\`lookback\` must be an integer >= 1, was ${lookback}`, { feature: 'log-momentum', lookback });
  }
  const n = close.length;
  const out = new Float64Array(n).fill(NaN);
  for (let t = lookback; t < n; t++) out[t] = Math.log(close[t]! / close[t - lookback]!);
  return out;
}
