/**
 * Window reductions shared by the batch and incremental paths, so both run the same arithmetic in the same order
 * (oldest to newest) and give bit-identical results. A window is the `w` elements ending at logical index `end`,
 * read as `a[k & mask]`: batch code passes a plain array with `mask = -1` (so `k & -1 === k`), incremental code
 * passes a ring buffer with `mask = capacity - 1`. Windows are recomputed exactly each time (no running sums, so no drift).
 */

/** Mask that makes `k & ALL === k` for every array index: use it to read a plain array as a "ring". */
export const ALL = -1;

/** Returns the mean of the window: `(a[end-w+1] + ... + a[end]) / w`, summed oldest first. */
export function windowMean(a: Float64Array, mask: number, end: number, w: number): number {
  let s = 0;
  for (let k = end - w + 1; k <= end; k++) s += a[k & mask]!;
  return s / w;
}

/** Returns the sum of squared deviations from `mean` over the window, oldest first. */
export function windowSquaredDeviations(a: Float64Array, mask: number, end: number, w: number, mean: number): number {
  let s = 0;
  for (let k = end - w + 1; k <= end; k++) {
    const d = a[k & mask]! - mean;
    s += d * d;
  }
  return s;
}

/** Returns the sample standard deviation (divisor `w - 1`) of the window (two-pass: mean, then squared deviations). */
export function windowSampleStd(a: Float64Array, mask: number, end: number, w: number): number {
  const m = windowMean(a, mask, end, w);
  return Math.sqrt(windowSquaredDeviations(a, mask, end, w, m) / (w - 1));
}

/** Returns the Pearson correlation of `x` and `y` over the same window (two-pass); NaN when either has zero variance. */
export function windowCorrelation(x: Float64Array, y: Float64Array, mask: number, end: number, w: number): number {
  const mx = windowMean(x, mask, end, w);
  const my = windowMean(y, mask, end, w);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = end - w + 1; k <= end; k++) {
    const dx = x[k & mask]! - mx;
    const dy = y[k & mask]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const denominator = Math.sqrt(sxx * syy);
  return denominator === 0 ? NaN : sxy / denominator;
}

/** Returns a new array of `n` NaNs. */
export function nanArray(n: number): Float64Array {
  return new Float64Array(n).fill(NaN);
}

/** Returns `ln(a[t] / a[t-1])` for every t (NaN at t = 0). */
export function oneBarLogReturns(a: Float64Array): Float64Array {
  const out = nanArray(a.length);
  for (let t = 1; t < a.length; t++) out[t] = Math.log(a[t]! / a[t - 1]!);
  return out;
}
