import { RegimeError } from './regime-error.js';

/** Output of a Hamilton filter over T bars and K states; matrices are T×K row-major (`[t * K + k]`). */
export interface HamiltonFilterResult {
  readonly states: number;
  readonly bars: number;
  /** P(s_t = k | r_1..r_t). */
  readonly filtered: Float64Array;
  /** P(s_t = k | r_1..r_{t-1}). */
  readonly predicted: Float64Array;
  /** log f(r_t | r_1..r_{t-1}) per bar. */
  readonly logDensity: Float64Array;
  /** Sum of `logDensity`. */
  readonly logLikelihood: number;
}

/**
 * Runs the Hamilton (1989) filter for any per-state densities: `logDensity[t * K + k] = log f(r_t | s_t = k, r_1..r_{t-1})`.
 * `initialProbabilities` is the distribution of s_{-1} (the bar before the first), so the first prediction is
 * P' · initial, as in statsmodels; pass the ergodic distribution for the stationary start.
 *
 *   predicted_t = P' filtered_{t-1};  c_t = sum_k predicted_{t,k} f_{t,k};  filtered_t = predicted_t ⊙ f_t / c_t;  logL = sum_t log c_t
 *
 * Densities are rescaled by their per-bar maximum before exponentiating, so no bar underflows unless every state
 * with positive predicted probability has zero density.
 * @throws RegimeError `invalid_input` on mismatched lengths; `filter_degenerate` when c_t is 0 or not finite.
 */
export function hamiltonFilter(logDensity: Float64Array, states: number, transition: Float64Array, initialProbabilities: Float64Array): HamiltonFilterResult {
  const k = states;
  if (!(Number.isInteger(k) && k >= 1)) throw new RegimeError('invalid_input', `\`states\` must be an integer >= 1, was ${k}`, { parameter: 'states', value: k });
  if (logDensity.length % k !== 0) throw new RegimeError('invalid_input', `\`logDensity\` length must be a multiple of states = ${k}, was ${logDensity.length}`, { parameter: 'logDensity', value: logDensity.length });
  if (transition.length !== k * k) throw new RegimeError('invalid_input', `\`transition\` must have ${k * k} entries, was ${transition.length}`, { parameter: 'transition', value: transition.length });
  if (initialProbabilities.length !== k) throw new RegimeError('invalid_input', `\`initialProbabilities\` must have ${k} entries, was ${initialProbabilities.length}`, { parameter: 'initialProbabilities', value: initialProbabilities.length });
  const n = logDensity.length / k;
  const filtered = new Float64Array(n * k);
  const predicted = new Float64Array(n * k);
  const logC = new Float64Array(n);
  let logLikelihood = 0;
  for (let t = 0; t < n; t++) {
    const base = t * k;
    const prevBase = base - k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) {
      let p = 0;
      if (t === 0) for (let i = 0; i < k; i++) p += initialProbabilities[i]! * transition[i * k + j]!;
      else for (let i = 0; i < k; i++) p += filtered[prevBase + i]! * transition[i * k + j]!;
      predicted[base + j] = p;
      const l = logDensity[base + j]!;
      if (p > 0 && l > max) max = l;
    }
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const p = predicted[base + j]!;
      const g = p > 0 ? p * Math.exp(logDensity[base + j]! - max) : 0;
      filtered[base + j] = g;
      sum += g;
    }
    if (!(sum > 0 && Number.isFinite(sum) && Number.isFinite(max))) {
      throw new RegimeError('filter_degenerate', `every state gives bar ${t} zero likelihood (sum of predicted × density was ${sum})`, { bar: t, value: sum });
    }
    for (let j = 0; j < k; j++) filtered[base + j] = filtered[base + j]! / sum;
    logC[t] = max + Math.log(sum);
    logLikelihood += logC[t]!;
  }
  return { states: k, bars: n, filtered, predicted, logDensity: logC, logLikelihood };
}

/**
 * Returns Kim (1994) smoothed probabilities P(s_t = k | r_1..r_T) (T×K row-major) from a filter's `filtered` and
 * `predicted` matrices:
 *
 *   smoothed_{T-1} = filtered_{T-1};  smoothed_{t,i} = filtered_{t,i} · sum_j P_ij smoothed_{t+1,j} / predicted_{t+1,j}
 *
 * Exact for models whose density of r_t given s_t does not depend on earlier states (MS-GARCH in the Haas form,
 * MS-Gaussian; the AR(4) example after expanding the state). For research plots only: smoothed probabilities at
 * bar t use returns after t, so trading decisions must use filtered probabilities.
 */
export function kimSmoother(filtered: Float64Array, predicted: Float64Array, transition: Float64Array, states: number): Float64Array {
  const k = states;
  const n = filtered.length / k;
  const out = new Float64Array(filtered.length);
  if (n === 0) return out;
  const ratio = new Float64Array(k);
  for (let j = 0; j < k; j++) out[(n - 1) * k + j] = filtered[(n - 1) * k + j]!;
  for (let t = n - 2; t >= 0; t--) {
    const next = (t + 1) * k;
    for (let j = 0; j < k; j++) {
      const p = predicted[next + j]!;
      ratio[j] = p > 0 ? out[next + j]! / p : 0;
    }
    let sum = 0;
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += transition[i * k + j]! * ratio[j]!;
      const v = filtered[t * k + i]! * s;
      out[t * k + i] = v;
      sum += v;
    }
    // Renormalise against rounding drift (the exact recursion sums to 1).
    for (let i = 0; i < k; i++) out[t * k + i] = out[t * k + i]! / sum;
  }
  return out;
}
