import { unconditionalVariance, type MsGarchModel } from './ms-garch-model.js';

/** Economic name of a state. */
export type RegimeLabel = 'crisis' | 'bear' | 'neutral' | 'bull';

/**
 * Returns the canonical order of a model's states: position p holds the index of the state placed p-th.
 * Rule: the state with the highest unconditional volatility sqrt(omega / (1 − alpha − beta)) comes first
 * (crisis); the others follow by ascending mean. Ties keep the original index order. K = 1: the single state.
 */
export function canonicalStateOrder(model: MsGarchModel): Int32Array {
  const k = model.states;
  const v = unconditionalVariance(model);
  const idx = Array.from({ length: k }, (_, i) => i);
  if (k === 1) return Int32Array.from(idx);
  let crisis = 0;
  for (let i = 1; i < k; i++) if (v[i]! > v[crisis]!) crisis = i;
  const rest = idx.filter((i) => i !== crisis).sort((a, b) => model.mean[a]! - model.mean[b]! || a - b);
  return Int32Array.from([crisis, ...rest]);
}

/**
 * Returns the label of each state (index as in `model`), from fitted unconditional volatility and mean:
 * - K = 1: `neutral`.
 * - K >= 2: the highest unconditional volatility is `crisis`; the other K − 1 states, by ascending mean, are
 *   1 state: `neutral`; 2 states: `bear`, `bull`; 3 states (K = 4): `bear`, `neutral`, `bull`;
 *   more: lowest mean `bear`, highest `bull`, every state in between `neutral` (labels then repeat).
 */
export function labelStates(model: MsGarchModel): RegimeLabel[] {
  const k = model.states;
  const labels: RegimeLabel[] = new Array<RegimeLabel>(k).fill('neutral');
  if (k === 1) return labels;
  const order = canonicalStateOrder(model);
  labels[order[0]!] = 'crisis';
  const m = k - 1;
  if (m === 1) return labels;
  labels[order[1]!] = 'bear';
  labels[order[k - 1]!] = 'bull';
  return labels;
}

/** Returns `model` with its states reordered: new state p is old state `order[p]` (transition rows and columns too). */
export function permuteStates(model: MsGarchModel, order: ArrayLike<number>): MsGarchModel {
  const k = model.states;
  const pick = (a: Float64Array): Float64Array => Float64Array.from({ length: k }, (_, p) => a[order[p]!]!);
  const transition = new Float64Array(k * k);
  for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) transition[p * k + q] = model.transition[order[p]! * k + order[q]!]!;
  return { states: k, mean: pick(model.mean), omega: pick(model.omega), alpha: pick(model.alpha), beta: pick(model.beta), transition };
}
