import { ModelError } from './model-error.js';

/**
 * A row-major feature matrix: `values[row * columns + column]`. NaN marks a missing value (it always takes the
 * "greater than" branch of a split, as onnxruntime does); infinities are invalid.
 */
export interface FeatureMatrix {
  readonly values: Float64Array;
  readonly rows: number;
  readonly columns: number;
}

/** A regression target with one value per matrix row. */
export type RegressionTarget = Float64Array | Float32Array;

/**
 * Checks that `matrix` is well-formed and `target` has one finite value per row.
 * @throws ModelError `invalid_data` naming the first offending value.
 */
export function checkTrainingData(matrix: FeatureMatrix, target: RegressionTarget): void {
  const { rows, columns, values } = matrix;
  if (!Number.isInteger(rows) || rows < 2) throw new ModelError('invalid_data', `matrix.rows must be an integer >= 2, was ${rows}`, { rows });
  if (!Number.isInteger(columns) || columns < 1) throw new ModelError('invalid_data', `matrix.columns must be an integer >= 1, was ${columns}`, { columns });
  if (values.length !== rows * columns) {
    throw new ModelError('invalid_data', `matrix.values.length must be rows * columns = ${rows * columns}, was ${values.length}`, { rows, columns, length: values.length });
  }
  if (target.length !== rows) throw new ModelError('invalid_data', `target.length must equal matrix.rows = ${rows}, was ${target.length}`, { rows, length: target.length });
  for (let r = 0; r < rows; r++) {
    if (!Number.isFinite(target[r]!)) throw new ModelError('invalid_data', `target[${r}] must be finite, was ${target[r]}`, { row: r, value: target[r] });
  }
}
