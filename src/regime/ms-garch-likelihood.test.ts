import { describe, expect, it } from 'vitest';
import { normalDraw, seededRandom } from '../core/random.js';
import { MsGarchObjective, type FitBounds, type Innovations, type VarianceMode } from './ms-garch-likelihood.js';
import { makeMsGarchModel } from './ms-garch-model.js';
import { filterRegimes } from './regime-filter.js';

const random = seededRandom(3);
const n = 2000;
const data = Float64Array.from({ length: n }, (_, t) => normalDraw(random) * (t % 500 < 200 ? 2 : 0.7) + (t % 300 < 100 ? 0.2 : 0));
const loose: FitBounds = { varianceMin: 1e-6, varianceMax: 1e6, maxPersistence: 1 - 1e-6, stayFloor: 0 };
const tight: FitBounds = { varianceMin: 0.04, varianceMax: 25, maxPersistence: 0.999, stayFloor: 0.5 };

describe('MsGarchObjective (fit objective with adjoint gradient)', () => {
  const cases: [VarianceMode, Innovations, number, FitBounds][] = [
    ['garch', 'normal', 3, loose],
    ['garch', 'normal', 1, loose],
    ['constant', 'normal', 2, loose],
    ['garch', 't', 3, tight],
    ['garch', 't', 1, tight],
    ['constant', 't', 2, tight],
  ];
  for (const [mode, innovations, k, bounds] of cases) {
    const label = `${mode}, ${innovations}, K = ${k}, stay floor ${bounds.stayFloor}`;
    const objective = new MsGarchObjective(data, k, mode, innovations, bounds, 1.3);
    const theta = Float64Array.from({ length: objective.size }, () => 0.6 * normalDraw(random));

    it(`value equals −logL/T of filterRegimes at the decoded parameters (${label}, 1e-12)`, () => {
      const value = objective.evaluate(theta, null);
      const model = makeMsGarchModel({ mean: objective.mean, omega: objective.omega, alpha: objective.alpha, beta: objective.beta, nu: objective.nu, transition: objective.transition });
      const ll = filterRegimes(model, data, { initialVariance: 1.3 }).logLikelihood;
      expect(Math.abs(-value * n - ll) / Math.abs(ll)).toBeLessThan(1e-12);
      for (let s = 0; s < k; s++) {
        expect(objective.transition[s * k + s]).toBeGreaterThanOrEqual(bounds.stayFloor);
        expect(objective.alpha[s]! + objective.beta[s]!).toBeLessThan(bounds.maxPersistence);
        const v = objective.omega[s]! / (1 - objective.alpha[s]! - objective.beta[s]!);
        expect(v).toBeGreaterThanOrEqual(bounds.varianceMin * (1 - 1e-12));
        expect(v).toBeLessThanOrEqual(bounds.varianceMax * (1 + 1e-12));
        if (innovations === 't') expect(objective.nu[s]).toBeGreaterThan(2);
        else expect(objective.nu[s]).toBe(Infinity);
      }
    });

    it(`gradient matches central finite differences (${label}, 1e-5 relative)`, () => {
      const g = new Float64Array(objective.size);
      objective.evaluate(theta, g);
      for (let i = 0; i < objective.size; i++) {
        const step = 1e-6;
        const up = Float64Array.from(theta), down = Float64Array.from(theta);
        up[i] = up[i]! + step;
        down[i] = down[i]! - step;
        const fd = (objective.evaluate(up, null) - objective.evaluate(down, null)) / (2 * step);
        expect(Math.abs(fd - g[i]!), `parameter ${i}`).toBeLessThan(1e-5 * Math.max(3e-2, Math.abs(g[i]!)));
      }
    });
  }

  for (const innovations of ['normal', 't'] as const) {
    it(`encode inverts decode (${innovations})`, () => {
      const objective = new MsGarchObjective(data, 3, 'garch', innovations, tight, 1);
      const theta = Float64Array.from({ length: objective.size }, () => normalDraw(random));
      objective.decode(theta);
      const back = new Float64Array(objective.size);
      objective.encode(objective.mean, objective.variance, objective.alpha, objective.beta, objective.nu, objective.transition, back);
      for (let i = 0; i < theta.length; i++) expect(back[i]).toBeCloseTo(theta[i]!, 7);
    });
  }
});
