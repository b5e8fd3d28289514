import { describe, expect, it } from 'vitest';
import { makeMsGarchModel } from './ms-garch-model.js';
import { canonicalStateOrder, labelStates, permuteStates } from './regime-labels.js';

function model(mean: number[], vol: number[]) {
  const k = mean.length;
  const transition = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (k === 1 ? 1 : i === j ? 0.9 : 0.1 / (k - 1))));
  return makeMsGarchModel({ mean, omega: vol.map((v) => v * v * 0.2), alpha: vol.map(() => 0.1), beta: vol.map(() => 0.7), transition });
}

describe('labelStates: highest unconditional vol = crisis, the rest by ascending mean', () => {
  it('K = 4: crisis, bear, neutral, bull', () => {
    expect(labelStates(model([0.2, -0.3, 0.0, -0.1], [1, 3, 0.6, 1.5]))).toEqual(['bull', 'crisis', 'neutral', 'bear']);
  });
  it('K = 1: neutral; K = 2: crisis + neutral; K = 3: crisis + bear + bull', () => {
    expect(labelStates(model([0.1], [1]))).toEqual(['neutral']);
    expect(labelStates(model([0.1, -0.2], [1, 2]))).toEqual(['neutral', 'crisis']);
    expect(labelStates(model([0.1, -0.2, 0.05], [1, 2, 0.5]))).toEqual(['bull', 'crisis', 'bear']);
  });
  it('K = 5: lowest mean bear, highest bull, the middle two neutral', () => {
    expect(labelStates(model([0.1, -0.2, 0.05, 0.3, -0.1], [1, 2, 0.5, 0.9, 3]))).toEqual(['neutral', 'bear', 'neutral', 'bull', 'crisis']);
  });
  it('the crisis state is chosen by unconditional volatility, not by omega alone', () => {
    // state 0: omega 1, persistence 0.5 -> var 2; state 1: omega 0.2, persistence 0.95 -> var 4
    const m = makeMsGarchModel({ mean: [0, 0.1], omega: [1, 0.2], alpha: [0.1, 0.05], beta: [0.4, 0.9], transition: [[0.9, 0.1], [0.1, 0.9]] });
    expect(labelStates(m)).toEqual(['neutral', 'crisis']);
  });
});

describe('canonicalStateOrder / permuteStates', () => {
  it('puts crisis first then ascending mean, permuting transition rows and columns together', () => {
    const m = makeMsGarchModel({ mean: [0.2, -0.3, 0.0], omega: [0.2, 1.8, 0.07], alpha: [0.1, 0.1, 0.1], beta: [0.7, 0.7, 0.7], transition: [[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.01, 0.02, 0.97]] });
    const order = canonicalStateOrder(m);
    expect(Array.from(order)).toEqual([1, 2, 0]);
    const p = permuteStates(m, order);
    expect(Array.from(p.mean)).toEqual([-0.3, 0.0, 0.2]);
    expect(Array.from(p.transition)).toEqual([0.7, 0.2, 0.1, 0.02, 0.97, 0.01, 0.15, 0.05, 0.8]);
    expect(labelStates(p)).toEqual(['crisis', 'bear', 'bull']);
  });
});
