import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { makeMsGarchModel } from './ms-garch-model.js';
import { selectRegimeModel } from './select-regime-model.js';
import { simulateMsGarch } from './simulate-ms-garch.js';
import { filterRegimes } from './regime-filter.js';

const TWO_STATE = makeMsGarchModel({
  mean: [-0.1, 0.05],
  omega: [0.8, 0.128],
  alpha: [0.1, 0.05],
  beta: [0.7, 0.75],
  transition: [[0.96, 0.04], [0.02, 0.98]],
});

describe('selectRegimeModel (K by held-out log score, BIC reported)', () => {
  const path = simulateMsGarch(TWO_STATE, 6000, seededRandom(5));
  const candidates = [1, 2].map((states) => ({ states, innovations: 'normal' as const, variance: 'garch' as const }));
  const s = selectRegimeModel(path.returns, { seed: 1, candidates, holdoutFraction: 0.25 });

  it('picks the 2-state model on 2-state data, by held-out score and by BIC', () => {
    expect(s.trainBars).toBe(4500);
    expect(s.holdoutBars).toBe(1500);
    expect(s.rows.map((r) => r.verdict)).toEqual(['ok', 'ok']);
    expect(s.rows[s.chosen]!.states).toBe(2);
    expect(s.rows[s.bicChoice]!.states).toBe(2);
    expect(s.rows[1]!.holdoutLogScore).toBeGreaterThan(s.rows[0]!.holdoutLogScore);
  });

  it('the held-out score is the mean one-step log density over the tail of a filter run through the head', () => {
    const row = s.rows[1]!;
    const all = filterRegimes(row.fit!.model, path.returns, { initialVariance: row.fit!.initialVariance });
    let sum = 0;
    for (let t = 4500; t < 6000; t++) sum += all.logDensity[t]!;
    expect(row.holdoutLogScore).toBeCloseTo(sum / 1500, 12);
    // the fit saw only the head: refitting on the head gives the same likelihood
    expect(row.trainLogLikelihood).toBe(row.fit!.logLikelihood);
  });

  it('rejects a hold-out fraction outside (0, 0.5]', () => {
    expect(() => selectRegimeModel(path.returns, { seed: 1, candidates, holdoutFraction: 0.6 })).toThrow(/`holdoutFraction` must be in \(0, 0.5\], was 0.6/);
  });
});
