import { ergodicDistribution, unconditionalVariance, type MsGarchModel } from './ms-garch-model.js';

/** Economic name of a state. */
export type RegimeLabel = 'crisis' | 'bear' | 'neutral' | 'bull';

/**
 * Returns the drift score of each state, d_k = (mu_k − m̄) / sigma_k: the state's mean in excess of the ergodic
 * (long-run) mean m̄ = Σ π_k mu_k, per unit of the state's unconditional volatility sigma_k = sqrt(omega_k / (1 −
 * alpha_k − beta_k)). A calm state with a slightly negative mean and a volatile state with a large negative mean are
 * told apart by it, which a ranking by mean alone or by volatility alone does not do.
 */
export function driftScores(model: MsGarchModel): Float64Array {
  const k = model.states;
  const v = unconditionalVariance(model);
  const pi = k === 1 ? Float64Array.of(1) : ergodicDistribution(model.transition, k);
  let mBar = 0;
  for (let s = 0; s < k; s++) mBar += pi[s]! * model.mean[s]!;
  return Float64Array.from({ length: k }, (_, s) => (model.mean[s]! - mBar) / Math.sqrt(v[s]!));
}

/** Index of the crisis state (the most volatile, when its drift score is negative) or −1 when there is none. */
function crisisState(model: MsGarchModel, score: Float64Array): number {
  const k = model.states;
  if (k === 1) return -1;
  const v = unconditionalVariance(model);
  let top = 0;
  for (let i = 1; i < k; i++) if (v[i]! > v[top]!) top = i;
  return score[top]! < 0 ? top : -1;
}

/**
 * Returns the canonical order of a model's states: position p holds the index of the state placed p-th.
 * Rule: the crisis state ({@link labelStates}) first when there is one, then the others by ascending drift score
 * ({@link driftScores}). Ties keep the original index order. K = 1: the single state.
 */
export function canonicalStateOrder(model: MsGarchModel): Int32Array {
  const k = model.states;
  const idx = Array.from({ length: k }, (_, i) => i);
  if (k === 1) return Int32Array.from(idx);
  const score = driftScores(model);
  const crisis = crisisState(model, score);
  const rest = idx.filter((i) => i !== crisis).sort((a, b) => score[a]! - score[b]! || a - b);
  return Int32Array.from(crisis >= 0 ? [crisis, ...rest] : rest);
}

/**
 * Returns the label of each state (index as in `model`), from the fitted means and unconditional volatilities
 * jointly:
 * - K = 1: `neutral`.
 * - `crisis`: the state with the highest unconditional volatility, if its drift score ({@link driftScores}: mean in
 *   excess of the long-run mean per unit of its own volatility) is negative — volatile and falling. A most-volatile
 *   state with a positive drift score is not a crisis (a volatile rally): it is ranked with the others.
 * - The other states by ascending drift score: 1 state `neutral`; 2 states `bear`, `bull`; 3 states `bear`,
 *   `neutral`, `bull`; more: lowest `bear`, highest `bull`, every state in between `neutral` (labels then repeat).
 * So a 4-state model is usually crisis, bear, neutral, bull, but can be bear, neutral, neutral, bull.
 */
export function labelStates(model: MsGarchModel): RegimeLabel[] {
  const k = model.states;
  const labels: RegimeLabel[] = new Array<RegimeLabel>(k).fill('neutral');
  if (k === 1) return labels;
  const order = canonicalStateOrder(model);
  const hasCrisis = crisisState(model, driftScores(model)) >= 0;
  if (hasCrisis) labels[order[0]!] = 'crisis';
  const first = hasCrisis ? 1 : 0;
  if (k - first === 1) return labels;
  labels[order[first]!] = 'bear';
  labels[order[k - 1]!] = 'bull';
  return labels;
}

/** Returns `model` with its states reordered: new state p is old state `order[p]` (transition rows and columns too). */
export function permuteStates(model: MsGarchModel, order: ArrayLike<number>): MsGarchModel {
  const k = model.states;
  const pick = (a: Float64Array): Float64Array => Float64Array.from({ length: k }, (_, p) => a[order[p]!]!);
  const transition = new Float64Array(k * k);
  for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) transition[p * k + q] = model.transition[order[p]! * k + order[q]!]!;
  return { states: k, mean: pick(model.mean), omega: pick(model.omega), alpha: pick(model.alpha), beta: pick(model.beta), transition, nu: pick(model.nu) };
}
