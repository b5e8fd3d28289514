import { describe, expect, it } from 'vitest';
import { normalDraw, seededRandom } from '../core/random.js';
import { MsGarchObjective } from './ms-garch-likelihood.js';
import { makeMsGarchModel } from './ms-garch-model.js';
import { filterRegimes } from './regime-filter.js';

const random = seededRandom(3);
const n = 2000;
const data = Float64Array.from({ length: n }, (_, t) => normalDraw(random) * (t % 500 < 200 ? 2 : 0.7) + (t % 300 < 100 ? 0.2 : 0));

describe('MsGarchObjective (fit objective with adjoint gradient)', () => {
  for (const [mode, k] of [['garch', 3], ['garch', 1], ['constant', 2]] as const) {
    const objective = new MsGarchObjective(data, k, mode, 1.3);
    const theta = Float64Array.from({ length: objective.size }, () => 0.6 * normalDraw(random));

    it(`value equals −logL/T of filterRegimes at the decoded parameters (${mode}, K = ${k}, 1e-12)`, () => {
      const value = objective.evaluate(theta, null);
      const model = makeMsGarchModel({ mean: objective.mean, omega: objective.omega, alpha: objective.alpha, beta: objective.beta, transition: objective.transition });
      const ll = filterRegimes(model, data, { initialVariance: 1.3 }).logLikelihood;
      expect(Math.abs(-value * n - ll) / Math.abs(ll)).toBeLessThan(1e-12);
    });

    it(`gradient matches central finite differences (${mode}, K = ${k}, 1e-5 relative)`, () => {
      const g = new Float64Array(objective.size);
      objective.evaluate(theta, g);
      for (let i = 0; i < objective.size; i++) {
        const step = 1e-6;
        const up = Float64Array.from(theta), down = Float64Array.from(theta);
        up[i] = up[i]! + step;
        down[i] = down[i]! - step;
        const fd = (objective.evaluate(up, null) - objective.evaluate(down, null)) / (2 * step);
        expect(Math.abs(fd - g[i]!)).toBeLessThan(1e-5 * Math.max(1e-2, Math.abs(g[i]!)));
      }
    });
  }

  it('encode inverts decode', () => {
    const objective = new MsGarchObjective(data, 3, 'garch', 1);
    const theta = Float64Array.from({ length: objective.size }, () => normalDraw(random));
    objective.decode(theta);
    const back = new Float64Array(objective.size);
    objective.encode(objective.mean, objective.omega, objective.alpha, objective.beta, objective.transition, back);
    for (let i = 0; i < theta.length; i++) expect(back[i]).toBeCloseTo(theta[i]!, 9);
  });
});
