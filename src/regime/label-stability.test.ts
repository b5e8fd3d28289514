import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { labelStability } from './label-stability.js';
import { makeMsGarchModel } from './ms-garch-model.js';
import { simulateMsGarch } from './simulate-ms-garch.js';

describe('labelStability (labels across rolling fit windows)', () => {
  // two well-separated, persistent states: every window should find them and label bars alike
  const model = makeMsGarchModel({ mean: [-0.2, 0.1], omega: [2.25, 0.16], transition: [[0.99, 0.01], [0.01, 0.99]] });
  const path = simulateMsGarch(model, 4000, seededRandom(8));
  const s = labelStability(path.returns, { window: 2000, step: 1000, fit: { seed: 1, states: 2, variance: 'constant', starts: 3 } });

  it('fits every window that fits (0..2000, 1000..3000, 2000..4000) and agrees on almost every bar', () => {
    expect(s.windows.map((w) => [w.from, w.to, w.verdict])).toEqual([[0, 2000, 'ok'], [1000, 3000, 'ok'], [2000, 4000, 'ok']]);
    expect(s.meanAgreement).toBeGreaterThan(0.97);
    for (const a of s.consecutiveAgreement) expect(a).toBeGreaterThan(0.95);
  });

  it('the modal label follows the simulated state (crisis = the volatile falling state)', () => {
    let match = 0;
    for (let t = 0; t < 4000; t++) if ((path.states[t] === 0) === (s.modalLabel[t] === 'crisis')) match++;
    expect(match / 4000).toBeGreaterThan(0.95);
  });

  it('rejects a window longer than the series', () => {
    expect(() => labelStability(path.returns, { window: 5000, step: 10, fit: { seed: 1 } })).toThrow(/`window` must be an integer in \[1, 4000\] \(returns\), was 5000/);
  });
});
