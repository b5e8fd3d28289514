import type { RegimeLabel } from '../regime/regime-labels.js';
import type { KellyConfig, RegimeFractions } from './risk-config.js';
import { invalidInput } from './sizing-error.js';

/**
 * Kelly position sizing over the regime model.
 *
 * Units: μ (`edge`) is the signal's expected LOG return over the holding horizon H bars, in raw units (0.002 =
 * +0.2%); σ² is the variance of the H-bar log return in raw units squared. A fraction is target position notional /
 * equity, signed (+ long, − short): 0.5 = half the equity long.
 *
 * Sizing chain (each step a pure function below):
 *   f_kelly  = μ / σ²                                    continuous-time Kelly (log-utility optimum, small returns)
 *   f_capped = clamp(f_kelly, −maxFraction, +maxFraction)
 *   f_regime = f_capped · g,   g = regime fraction        ({@link regimeFraction})
 *   f        = clamp(f_regime, −maxLeverage, +maxLeverage)
 */

/** Limits applied by {@link kellyPosition}; a subset of the `kelly` section of `RiskConfig`. */
export type KellyLimits = Pick<KellyConfig, 'maxFraction' | 'maxLeverage'>;

/**
 * Returns the unconstrained continuous Kelly fraction f = μ / σ² (μ: expected log return over the horizon;
 * σ²: variance of the horizon log return, same units squared).
 * @throws SizingError `invalid_input` when `edge` is not finite or `variance` is not finite and > 0.
 * @example kellyFraction(0.002, 0.0004) // 5
 */
export function kellyFraction(edge: number, variance: number): number {
  if (!Number.isFinite(edge)) invalidInput('edge', 'be finite', edge);
  if (!(variance > 0 && variance < Infinity)) invalidInput('variance', 'be finite and > 0', variance);
  return edge / variance;
}

/**
 * Returns the capped, regime-scaled Kelly fraction:
 * clamp(clamp(μ / σ², ±maxFraction) · regimeFraction, ±maxLeverage).
 * @throws SizingError `invalid_input` as {@link kellyFraction}, or when `regimeFraction` is outside [0, 1].
 * @example kellyPosition(0.002, 0.0004, 0.5, { maxFraction: 1, maxLeverage: 1 }) // 5 → capped 1 → × 0.5 = 0.5
 */
export function kellyPosition(edge: number, variance: number, regimeFraction: number, limits: KellyLimits): number {
  const raw = kellyFraction(edge, variance);
  if (!(regimeFraction >= 0 && regimeFraction <= 1)) invalidInput('regimeFraction', 'be in [0, 1]', regimeFraction);
  return clamp(clamp(raw, limits.maxFraction) * regimeFraction, limits.maxLeverage);
}

/**
 * Vectorized {@link kellyPosition}: `out[t] = kellyPosition(edges[t], variances[t], regimeFractions[t], limits)`,
 * except that a bar whose edge is NaN (no prediction) gets 0. Returns `out` (default a new array).
 * @throws SizingError `invalid_input` for arrays of different lengths or a bar breaking {@link kellyPosition}'s rules.
 */
export function kellyPositions(
  edges: Float64Array,
  variances: Float64Array,
  regimeFractions: Float64Array,
  limits: KellyLimits,
  out: Float64Array = new Float64Array(edges.length),
): Float64Array {
  const n = edges.length;
  if (variances.length !== n || regimeFractions.length !== n || out.length !== n) {
    invalidInput('variances/regimeFractions/out', `have the length of \`edges\` (${n})`, `${variances.length}/${regimeFractions.length}/${out.length}`);
  }
  for (let t = 0; t < n; t++) {
    const mu = edges[t]!;
    out[t] = Number.isNaN(mu) ? 0 : kellyPosition(mu, variances[t]!, regimeFractions[t]!, limits);
  }
  return out;
}

/**
 * Returns the regime fraction g from filtered probabilities p_k = P(s_t = k | r_1..r_t) and state labels:
 * - `weighted`: g = Σ_k p_k · fractions[label_k] (probabilities are used as given; they sum to 1 on the simplex);
 * - `argmax`: g = fractions[label_j], j = the state with the highest p_k (the lowest index on a tie).
 * Allocates nothing.
 * @throws SizingError `invalid_input` when `probabilities` and `labels` differ in length or are empty.
 * @example regimeFraction([0.1, 0.2, 0.3, 0.4], ['crisis', 'bear', 'neutral', 'bull'], DEFAULTS, 'weighted') // 0.485
 */
export function regimeFraction(probabilities: ArrayLike<number>, labels: readonly RegimeLabel[], fractions: RegimeFractions, mode: KellyConfig['regimeFractionMode']): number {
  const k = labels.length;
  if (probabilities.length !== k || k === 0) invalidInput('probabilities', `have one entry per label (${k}, >= 1)`, probabilities.length);
  return regimeFractionAt(probabilities, 0, labels, fractions, mode);
}

/**
 * Vectorized {@link regimeFraction} over a T×K row-major matrix of filtered probabilities (as
 * `filterRegimes(...).filtered`). Returns a new Float64Array of length T.
 */
export function regimeFractions(filtered: Float64Array, labels: readonly RegimeLabel[], fractions: RegimeFractions, mode: KellyConfig['regimeFractionMode']): Float64Array {
  const k = labels.length;
  if (k === 0 || filtered.length % k !== 0) invalidInput('filtered', `have a multiple of ${k} (states) entries`, filtered.length);
  const n = filtered.length / k;
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) out[t] = regimeFractionAt(filtered, t * k, labels, fractions, mode);
  return out;
}

/** {@link regimeFraction} of the K probabilities starting at `probabilities[offset]`. */
function regimeFractionAt(probabilities: ArrayLike<number>, offset: number, labels: readonly RegimeLabel[], fractions: RegimeFractions, mode: KellyConfig['regimeFractionMode']): number {
  const k = labels.length;
  if (mode === 'argmax') {
    let best = 0;
    for (let s = 1; s < k; s++) if (probabilities[offset + s]! > probabilities[offset + best]!) best = s;
    return fractions[labels[best]!];
  }
  let g = 0;
  for (let s = 0; s < k; s++) g += probabilities[offset + s]! * fractions[labels[s]!];
  return g;
}

function clamp(x: number, limit: number): number {
  return x > limit ? limit : x < -limit ? -limit : x;
}
