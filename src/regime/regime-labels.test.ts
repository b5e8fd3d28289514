import { describe, expect, it } from 'vitest';
import { makeMsGarchModel } from './ms-garch-model.js';
import { canonicalStateOrder, driftScores, labelStates, permuteStates } from './regime-labels.js';

/** Symmetric transition (ergodic distribution uniform), unconditional vol `vol`. */
function model(mean: number[], vol: number[]) {
  const k = mean.length;
  const transition = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (k === 1 ? 1 : i === j ? 0.9 : 0.1 / (k - 1))));
  return makeMsGarchModel({ mean, omega: vol.map((v) => v * v * 0.2), alpha: vol.map(() => 0.1), beta: vol.map(() => 0.7), transition });
}

describe('labelStates: mean and volatility jointly (crisis = most volatile with negative drift score, rest by drift score)', () => {
  it('drift score = (mean − ergodic mean) / unconditional vol', () => {
    const d = driftScores(model([0.2, -0.3, 0.0, -0.1], [1, 3, 0.6, 1.5])); // ergodic mean −0.05
    expect(Array.from(d).map((x) => Number(x.toFixed(12)))).toEqual([0.25, -0.25 / 3, 0.05 / 0.6, -0.05 / 1.5].map((x) => Number(x.toFixed(12))));
  });
  it('K = 4: crisis, bear, neutral, bull', () => {
    expect(labelStates(model([0.2, -0.3, 0.0, -0.1], [1, 3, 0.6, 1.5]))).toEqual(['bull', 'crisis', 'neutral', 'bear']);
  });
  it('a calm state with a small negative mean is not bear when a volatile state falls harder per unit of risk', () => {
    // by mean alone state 2 (−0.02, vol 0.3) would be the lowest of the non-crisis states; by drift score the
    // volatile-falling state 1 (−0.3, vol 1.2) is bear and state 2 neutral
    expect(labelStates(model([0.4, -0.3, -0.02, 0.1, -0.6], [1, 1.2, 0.3, 0.8, 3]))).toEqual(['bull', 'bear', 'neutral', 'neutral', 'crisis']);
  });
  it('the most volatile state with a positive drift score is no crisis (volatile rally)', () => {
    // ergodic mean 0.1333: drift scores 0.122, −0.233, −0.267 (the calm flat state is further below the long-run mean per unit of risk)
    expect(labelStates(model([0.5, -0.1, 0.0], [3, 1, 0.5]))).toEqual(['bull', 'neutral', 'bear']);
    expect(labelStates(model([0.3, -0.1], [2, 1]))).toEqual(['bull', 'bear']);
  });
  it('K = 1: neutral; K = 2: crisis + neutral; K = 3: crisis + bear + bull', () => {
    expect(labelStates(model([0.1], [1]))).toEqual(['neutral']);
    expect(labelStates(model([0.1, -0.2], [1, 2]))).toEqual(['neutral', 'crisis']);
    // ergodic mean −0.0167: drift scores 0.117 (mean 0.1, vol 1) < 0.133 (mean 0.05, vol 0.5)
    expect(labelStates(model([0.1, -0.2, 0.05], [1, 2, 0.5]))).toEqual(['bear', 'crisis', 'bull']);
  });
  it('the crisis state is chosen by unconditional volatility, not by omega alone', () => {
    // state 0: omega 1, persistence 0.5 -> var 2; state 1: omega 0.2, persistence 0.95 -> var 4
    const m = makeMsGarchModel({ mean: [0.1, 0], omega: [1, 0.2], alpha: [0.1, 0.05], beta: [0.4, 0.9], transition: [[0.9, 0.1], [0.1, 0.9]] });
    expect(labelStates(m)).toEqual(['neutral', 'crisis']);
  });
});

describe('canonicalStateOrder / permuteStates', () => {
  it('puts crisis first then ascending drift score, permuting transition rows and columns together', () => {
    const m = makeMsGarchModel({ mean: [0.2, -0.3, 0.0], omega: [0.2, 1.8, 0.07], alpha: [0.1, 0.1, 0.1], beta: [0.7, 0.7, 0.7], transition: [[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.01, 0.02, 0.97]] });
    const order = canonicalStateOrder(m);
    expect(Array.from(order)).toEqual([1, 2, 0]);
    const p = permuteStates(m, order);
    expect(Array.from(p.mean)).toEqual([-0.3, 0.0, 0.2]);
    expect(Array.from(p.transition)).toEqual([0.7, 0.2, 0.1, 0.02, 0.97, 0.01, 0.15, 0.05, 0.8]);
    expect(labelStates(p)).toEqual(['crisis', 'bear', 'bull']);
  });
});
