import { checkTrainingData, type FeatureMatrix, type RegressionTarget } from './feature-matrix.js';
import { ModelError } from './model-error.js';

/** A fitted ridge regression: standardised columns, intercept unpenalised. */
export interface RidgeModel {
  readonly kind: 'ridge';
  /** Training mean and standard deviation of each column (sd 1 for a constant column). */
  readonly mean: Float64Array;
  readonly scale: Float64Array;
  /** Coefficients on the standardised columns. */
  readonly coefficients: Float64Array;
  readonly intercept: number;
  readonly lambda: number;
}

/**
 * Fits ridge regression on standardised columns: β = argmin Σ (y − ȳ − zβ)² + λ‖β‖², z = (x − mean) / sd over the
 * training rows, intercept = ȳ; a missing value (NaN) is replaced by the column mean (z = 0), in training and in
 * {@link predictRidge}. Solved by Cholesky of zᵀz + λI. Deterministic, no randomness.
 * @throws ModelError `invalid_params` for λ < 0 (or not finite), `invalid_data` for a malformed matrix/target or a
 *   singular system (λ = 0 with collinear columns).
 * @example const m = fitRidge({ values, rows, columns }, y, 10); predictRidge(m, testValues, testRows);
 */
export function fitRidge(matrix: FeatureMatrix, target: RegressionTarget, lambda: number): RidgeModel {
  if (!(Number.isFinite(lambda) && lambda >= 0)) throw new ModelError('invalid_params', `ridge lambda must be a finite number >= 0, was ${lambda}`, { parameter: 'lambda', value: lambda });
  checkTrainingData(matrix, target);
  const { values, rows, columns: d } = matrix;
  const mean = new Float64Array(d), scale = new Float64Array(d), count = new Float64Array(d);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) { const v = values[r * d + j]!; if (Number.isFinite(v)) { mean[j] += v; count[j]++; } }
  for (let j = 0; j < d; j++) mean[j] = count[j]! > 0 ? mean[j]! / count[j]! : 0;
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) { const v = values[r * d + j]!; if (Number.isFinite(v)) scale[j] += (v - mean[j]!) ** 2; }
  for (let j = 0; j < d; j++) { const sd = count[j]! > 1 ? Math.sqrt(scale[j]! / (count[j]! - 1)) : 0; scale[j] = sd > 0 ? sd : 1; }
  let yMean = 0;
  for (let r = 0; r < rows; r++) yMean += target[r]!;
  yMean /= rows;
  const gram = new Float64Array(d * d), rhs = new Float64Array(d), z = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    standardise(values, r * d, mean, scale, z);
    const y = target[r]! - yMean;
    for (let i = 0; i < d; i++) {
      const zi = z[i]!;
      if (zi === 0) continue;
      rhs[i] += zi * y;
      for (let j = 0; j <= i; j++) gram[i * d + j] += zi * z[j]!;
    }
  }
  for (let i = 0; i < d; i++) { gram[i * d + i] += lambda; for (let j = 0; j < i; j++) gram[j * d + i] = gram[i * d + j]!; }
  const coefficients = choleskySolve(gram, rhs, d);
  return { kind: 'ridge', mean, scale, coefficients, intercept: yMean, lambda };
}

/** Returns the ridge model's prediction for each of `rows` row-major rows of `values`. */
export function predictRidge(model: RidgeModel, values: Float64Array, rows: number): Float64Array {
  const d = model.mean.length;
  if (values.length !== rows * d) throw new ModelError('invalid_data', `values.length must be rows * ${d} = ${rows * d}, was ${values.length}`, { rows, length: values.length });
  const out = new Float64Array(rows), z = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    standardise(values, r * d, model.mean, model.scale, z);
    let s = model.intercept;
    for (let j = 0; j < d; j++) s += z[j]! * model.coefficients[j]!;
    out[r] = s;
  }
  return out;
}

function standardise(values: Float64Array, offset: number, mean: Float64Array, scale: Float64Array, z: Float64Array): void {
  for (let j = 0; j < z.length; j++) { const v = values[offset + j]!; z[j] = Number.isFinite(v) ? (v - mean[j]!) / scale[j]! : 0; }
}

/** Solves A x = b for symmetric positive definite A (row-major d×d). */
function choleskySolve(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) {
        if (!(s > 1e-12 * Math.max(1, a[i * d + i]!))) throw new ModelError('invalid_data', `ridge: the normal equations are singular at column ${i} (collinear or constant columns with lambda 0); use lambda > 0`, { column: i });
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j]!;
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) { let s = b[i]!; for (let k = 0; k < i; k++) s -= l[i * d + k]! * y[k]!; y[i] = s / l[i * d + i]!; }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) { let s = y[i]!; for (let k = i + 1; k < d; k++) s -= l[k * d + i]! * x[k]!; x[i] = s / l[i * d + i]!; }
  return x;
}
