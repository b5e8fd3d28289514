import type { FeatureMatrix } from './feature-matrix.js';
import { ModelError } from './model-error.js';

/**
 * Features pre-binned for histogram split search.
 *
 * Column `f` has `thresholds[f]` = ascending float32 cut values t_0 < t_1 < ...; the bin of a value x is the
 * smallest k with `fround(x) <= t_k`, or `thresholds[f].length` when none holds or x is NaN. So
 * "bin <= k" is exactly "fround(x) <= t_k", the test onnxruntime's `BRANCH_LEQ` makes on float32 input.
 */
export interface BinnedFeatures {
  /** Row-major bin indices, `bins[row * columns + column]`. */
  readonly bins: Uint8Array;
  readonly rows: number;
  readonly columns: number;
  /** Per column, the ascending float32 cut values (at most `maxBins - 1`). */
  readonly thresholds: readonly Float32Array[];
  /** Stride of a per-feature histogram: the largest bin count over columns. */
  readonly maxBins: number;
}

/**
 * Bins every column of `matrix` into at most `maxBins` (2..256) quantile bins whose cut values are observed
 * float32 values (exactly representable in an ONNX float attribute).
 * @throws ModelError `invalid_data` when a feature value is infinite.
 */
export function binFeatures(matrix: FeatureMatrix, maxBins: number): BinnedFeatures {
  const { rows, columns, values } = matrix;
  const bins = new Uint8Array(rows * columns);
  const thresholds: Float32Array[] = [];
  const column = new Float32Array(rows);
  let stride = 1;
  for (let f = 0; f < columns; f++) {
    let m = 0;
    for (let r = 0, i = f; r < rows; r++, i += columns) {
      const x = values[i]!;
      if (x !== x) continue;
      if (x === Infinity || x === -Infinity) {
        throw new ModelError('invalid_data', `feature value at row ${r}, column ${f} must be finite or NaN, was ${x}`, { row: r, column: f, value: x });
      }
      column[m++] = x;
    }
    const cuts = quantileCuts(column.subarray(0, m).sort(), maxBins);
    thresholds.push(cuts);
    stride = Math.max(stride, cuts.length + 1);
    const k = cuts.length;
    for (let r = 0, i = f; r < rows; r++, i += columns) {
      const x = Math.fround(values[i]!);
      // NaN fails every comparison and lands in bin k, like the "false" branch in onnxruntime.
      let lo = 0;
      let hi = k;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (x <= cuts[mid]!) hi = mid;
        else lo = mid + 1;
      }
      bins[i] = x === x ? lo : k;
    }
  }
  return { bins, rows, columns, thresholds, maxBins: stride };
}

/** Up to `maxBins - 1` cut values from a sorted float32 column: all distinct values but the largest when few, else quantiles. */
function quantileCuts(sorted: Float32Array, maxBins: number): Float32Array {
  const m = sorted.length;
  const cuts: number[] = [];
  if (m === 0) return new Float32Array(0);
  const top = sorted[m - 1]!;
  let distinct = 1;
  for (let i = 1; i < m && distinct <= maxBins; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  if (distinct <= maxBins) {
    for (let i = 0; i < m - 1; i++) if (sorted[i] !== sorted[i + 1]) cuts.push(sorted[i]!);
  } else {
    for (let k = 1; k < maxBins; k++) {
      const v = sorted[Math.floor((k * m) / maxBins) - 1]!;
      if (v < top && (cuts.length === 0 || v > cuts[cuts.length - 1]!)) cuts.push(v);
    }
  }
  return Float32Array.from(cuts);
}
