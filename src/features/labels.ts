import { AppError } from '../core/app-error.js';
import { checkIntegerParam, type FeatureErrorCode } from './feature-inputs.js';
import { nanArray } from './window-stats.js';

/** Default bars removed before a validation fold (the emulated system used a 200-bar purge gap). */
export const DEFAULT_PURGE_GAP = 200;
/** Default embargo after a validation fold, as a fraction of the sample count (rounded up to whole bars). */
export const DEFAULT_EMBARGO_FRACTION = 0.01;

/**
 * Returns the forward log return label: `out[t] = ln(close[t + horizon] / close[t])`, NaN for the last `horizon` bars.
 * The label of bar t looks into the FUTURE (window [t, t + horizon]): it is a training target, never a feature.
 * With `scaleBy`, each label is divided by `scaleBy[t]`, a causal volatility estimate known at t — e.g.
 * `realizedVolatility(close, 42)` times `Math.sqrt(horizon)` to express the label in horizon standard deviations.
 * @throws AppError `invalid_feature_params` when `horizon` is not an integer >= 1 or `scaleBy` has another length.
 * @example
 * forwardLogReturn(Float64Array.of(100, 110, 121), 1); // [ln 1.1, ln 1.1, NaN]
 */
export function forwardLogReturn(close: Float64Array, horizon: number, options: { readonly scaleBy?: Float64Array } = {}): Float64Array {
  checkIntegerParam('forward-log-return', 'horizon', horizon, 1);
  const scale = options.scaleBy;
  if (scale !== undefined && scale.length !== close.length) {
    throw new AppError<FeatureErrorCode>('invalid_feature_params', `forward-log-return: \`scaleBy\` must have ${close.length} values like \`close\`, had ${scale.length}`, { length: scale.length });
  }
  const n = close.length;
  const out = nanArray(n);
  for (let t = 0; t + horizon < n; t++) {
    const r = Math.log(close[t + horizon]! / close[t]!);
    out[t] = scale === undefined ? r : r / scale[t]!;
  }
  return out;
}

/** Where a validation fold lies: bars `start` (inclusive) to `end` (exclusive). */
export interface FoldRange {
  readonly start: number;
  readonly end: number;
}

export interface PurgeOptions {
  /**
   * Bars before the fold's start removed from training; default {@link DEFAULT_PURGE_GAP} (200). The purge is never
   * shorter than the label horizon (labels of bars `>= start - labelHorizon` overlap the fold); 0 gives exactly that.
   */
  readonly purgeGap?: number;
  /** Samples in the data set, for the default embargo; default `max(max(trainIdx) + 1, testRange.end)`. */
  readonly sampleCount?: number;
}

/**
 * Returns a keep-mask over `trainIdx` (1 = keep, 0 = drop) for training around one validation fold `testRange`.
 * Sample t's label window is [t, t + labelHorizon]. A training sample is dropped when
 * - it lies in the fold: `start <= t < end`;
 * - it is purged before the fold: `t >= start - max(labelHorizon, purgeGap)` (its label window reaches into the fold,
 *   plus the configurable gap; `purgeGap` defaults to 200 bars as in the emulated system);
 * - it is embargoed after the fold: `t < end + max(labelHorizon, embargo)` (its label window overlaps the fold's labels,
 *   or its features still see the fold). `embargo` defaults to `ceil(1 % of the sample count)` bars.
 * @throws AppError `invalid_label_params` naming the bad argument and its value.
 * @example
 * purgeMask(6, [0, 100, 800, 1000, 1100, 1120], { start: 1000, end: 1100 }, 20); // [1, 1, 0, 0, 0, 1]
 */
export function purgeMask(labelHorizon: number, trainIdx: ArrayLike<number>, testRange: FoldRange, embargo?: number, options: PurgeOptions = {}): Uint8Array {
  const fail = (message: string, context: Record<string, unknown>): never => {
    throw new AppError<'invalid_label_params'>('invalid_label_params', message, context);
  };
  if (!(Number.isInteger(labelHorizon) && labelHorizon >= 1)) fail(`\`labelHorizon\` must be an integer >= 1, was ${labelHorizon}`, { labelHorizon });
  const { start, end } = testRange;
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end)) fail(`\`testRange\` must be integers with 0 <= start < end, was ${JSON.stringify(testRange)}`, { testRange });
  const purgeGap = options.purgeGap ?? DEFAULT_PURGE_GAP;
  if (!(Number.isInteger(purgeGap) && purgeGap >= 0)) fail(`\`purgeGap\` must be an integer >= 0, was ${purgeGap}`, { purgeGap });
  let maxIdx = -1;
  for (let i = 0; i < trainIdx.length; i++) maxIdx = Math.max(maxIdx, trainIdx[i]!);
  const sampleCount = options.sampleCount ?? Math.max(maxIdx + 1, end);
  const embargoBars = embargo ?? Math.ceil(DEFAULT_EMBARGO_FRACTION * sampleCount);
  if (!(Number.isInteger(embargoBars) && embargoBars >= 0)) fail(`\`embargo\` must be an integer >= 0 (bars), was ${embargoBars}`, { embargo: embargoBars });
  const dropFrom = start - Math.max(labelHorizon, purgeGap);
  const dropUntil = end + Math.max(labelHorizon, embargoBars);
  const keep = new Uint8Array(trainIdx.length);
  for (let i = 0; i < trainIdx.length; i++) {
    const t = trainIdx[i]!;
    keep[i] = t >= dropFrom && t < dropUntil ? 0 : 1;
  }
  return keep;
}
