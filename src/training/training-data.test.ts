import { describe, expect, it } from 'vitest';
import { forwardLogReturn, realizedVolatility, tripleBarrierLabels } from '../features/index.js';
import { parseTrainConfig } from './train-config.js';
import { trainingTarget } from './training-data.js';

function walk(n: number, seed: number): Float64Array {
  let x = seed;
  const close = new Float64Array(n);
  close[0] = 100;
  for (let t = 1; t < n; t++) close[t] = close[t - 1]! * Math.exp(((x = (x * 48271) % 2147483647) / 2147483647 - 0.5) * 0.04);
  return close;
}

const labelOf = (target: 'volatility-scaled' | 'log-return' | 'triple-barrier', extra: Record<string, unknown> = {}) => {
  const parsed = parseTrainConfig({ name: 't', label: { horizon: 6, target, volatilityWindow: 10, ...extra } });
  if (!parsed.success) throw parsed.error;
  return parsed.data.label;
};

describe('trainingTarget', () => {
  const close = walk(300, 11);

  it('triple-barrier: the labeller with σ = realised vol · sqrt(h), barriers from the config and the vertical barrier at h', () => {
    const label = labelOf('triple-barrier', { barriers: { profit: 1.5, stop: 0.5 } });
    const sigma = realizedVolatility(close, 10).map((v) => v * Math.sqrt(6));
    const expected = tripleBarrierLabels(close, sigma, { profit: 1.5, stop: 0.5, maxBars: 6 }).label;
    const got = trainingTarget(close, label);
    expect(Array.from(got)).toEqual(Array.from(expected));
    const finite = Array.from(got).filter(Number.isFinite);
    expect(new Set(finite)).toEqual(new Set([-1, 1])); // asymmetric barriers: both outcomes occur (a zero return at the vertical barrier is not expected here)
    expect(finite.length).toBeGreaterThan(250);
    expect(Number.isNaN(got[5]!)).toBe(true); // σ unknown during the 10-bar warm-up
    expect(Array.from(trainingTarget(close, labelOf('log-return')))).toEqual(Array.from(forwardLogReturn(close, 6)));
  });

  it('is causal for every target: label t does not change when bars after t + h change', () => {
    for (const target of ['volatility-scaled', 'log-return', 'triple-barrier'] as const) {
      const label = labelOf(target);
      const base = trainingTarget(close, label);
      for (const t of [20, 100, 250, 293]) {
        const moved = close.map((v, i) => (i > t + 6 ? v * 1.5 : v));
        const after = trainingTarget(moved, label);
        for (let u = 0; u <= t; u++) expect(Object.is(after[u], base[u]), `${target} label ${u}, bars after ${t + 6} moved`).toBe(true);
      }
    }
  });

  it('rejects barriers outside (0, 20]', () => {
    const bad = parseTrainConfig({ name: 't', label: { target: 'triple-barrier', barriers: { profit: 0 } } }, 'f.json');
    expect(!bad.success && bad.error.message).toMatch(/^f\.json: \$\.label\.barriers\.profit: /);
  });
});
