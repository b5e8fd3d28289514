import { type FeatureMatrix, fitGradientBoosting, type GradientBoostingParams, type TreeEnsembleModel } from '../models/index.js';
import { TrainingError } from './training-error.js';

/**
 * Returns the meta-model's input rows: the primary model's feature row followed by the primary prediction and its
 * absolute value (the secondary model sees what the primary saw and how sure it was).
 * @throws TrainingError `invalid_argument` when `primary` has another length than `matrix.rows`.
 */
export function metaFeatureMatrix(matrix: FeatureMatrix, primary: ArrayLike<number>): FeatureMatrix {
  if (primary.length !== matrix.rows) throw new TrainingError('invalid_argument', `\`primary\` must hold one prediction per matrix row (${matrix.rows}), had ${primary.length}`, { rows: matrix.rows, length: primary.length });
  const d = matrix.columns, w = d + 2;
  const values = new Float64Array(matrix.rows * w);
  for (let r = 0; r < matrix.rows; r++) {
    values.set(matrix.values.subarray(r * d, r * d + d), r * w);
    values[r * w + d] = primary[r]!;
    values[r * w + d + 1] = Math.abs(primary[r]!);
  }
  return { values, rows: matrix.rows, columns: w };
}

/**
 * Fits the meta-label model (López de Prado 2018, ch. 3.6): a secondary GBDT that estimates P(the primary's bet wins),
 * trained by squared loss on 0/1 meta-labels (`metaLabels` of the triple barrier taken with the primary's side), on
 * {@link metaFeatureMatrix} rows. The primary predictions it trains on must be out-of-sample for those rows (e.g. from
 * an inner purged split), or the model learns that the primary is always right.
 * @throws TrainingError `invalid_argument` when a target is not 0 or 1; ModelError from fitting.
 * @example const meta = fitMetaLabelModel(metaFeatureMatrix(x, primaryOos), labels01, { seed: 7, rounds: 40 });
 */
export function fitMetaLabelModel(matrix: FeatureMatrix, target: Float64Array, params: Partial<GradientBoostingParams> & { seed: number }): TreeEnsembleModel {
  for (let i = 0; i < target.length; i++) {
    if (target[i] !== 0 && target[i] !== 1) throw new TrainingError('invalid_argument', `meta-label target[${i}] must be 0 or 1, was ${target[i]}`, { row: i, value: target[i] });
  }
  return fitGradientBoosting(matrix, target, params);
}

/**
 * Returns the meta-labelled signal: the primary prediction where the meta-model's probability exceeds `threshold`
 * (take the bet, same side and size as the primary), 0 where it does not (skip: flat), NaN where either is missing.
 * @example metaLabelSignal(Float64Array.of(0.3, -0.2), Float64Array.of(0.7, 0.4), 0.5); // [0.3, 0]
 */
export function metaLabelSignal(primary: Float64Array, probability: Float64Array, threshold: number): Float64Array {
  if (primary.length !== probability.length) throw new TrainingError('invalid_argument', `\`probability\` must have ${primary.length} values like \`primary\`, had ${probability.length}`, { length: probability.length });
  return primary.map((p, i) => {
    const q = probability[i]!;
    if (!Number.isFinite(p) || !Number.isFinite(q)) return NaN;
    return q > threshold ? p : 0;
  });
}
