/**
 * Parameter recovery: simulate ~8,000 bars from known MS-GARCH parameters (seeded), fit, match states by the
 * canonical order (crisis = highest unconditional vol, then ascending mean) and compare. Units: returns in percent
 * (log return × 100), so variances are in percent².
 *
 * Tolerances (checked over simulation seeds 11..16 while choosing them; observed worst in parentheses):
 *   transition probabilities  ±0.05 absolute            (2-state 0.005, 4-state 0.021)
 *   state means               ±0.12 absolute (percent)  (2-state 0.088, 4-state 0.090; crisis has ~1,000 bars at vol 3)
 *   unconditional vols        ±15% relative             (2-state 4.6%, 4-state 6.1%)
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { normalDraw } from '../core/random.js';
import { fitMsGarch, UNCONSTRAINED, type MsGarchFit } from './fit-ms-garch.js';
import { RegimeError } from './regime-error.js';
import { makeMsGarchModel, unconditionalVariance, type MsGarchModel } from './ms-garch-model.js';
import { filterRegimes } from './regime-filter.js';
import { canonicalStateOrder, permuteStates } from './regime-labels.js';
import { simulateMsGarch } from './simulate-ms-garch.js';

const TOLERANCE = { transition: 0.05, mean: 0.12, volRelative: 0.15 };

const TWO_STATE = makeMsGarchModel({
  mean: [-0.1, 0.05],
  omega: [0.8, 0.128], // unconditional vols 2.0 and 0.8
  alpha: [0.1, 0.05],
  beta: [0.7, 0.75],
  transition: [[0.96, 0.04], [0.02, 0.98]],
});

const FOUR_STATE = makeMsGarchModel({
  mean: [-0.3, -0.15, 0.0, 0.2], // crisis, bear, neutral, bull
  omega: [1.8, 0.45, 0.072, 0.2], // unconditional vols 3.0, 1.5, 0.6, 1.0
  alpha: [0.1, 0.08, 0.05, 0.05],
  beta: [0.7, 0.72, 0.75, 0.75],
  transition: [
    [0.97, 0.02, 0.005, 0.005],
    [0.01, 0.98, 0.005, 0.005],
    [0.002, 0.005, 0.985, 0.008],
    [0.002, 0.004, 0.004, 0.99],
  ],
});

function checkRecovery(truth: MsGarchModel, fit: MsGarchFit): void {
  const t = permuteStates(truth, canonicalStateOrder(truth));
  const m = fit.model;
  const k = t.states;
  const vt = unconditionalVariance(t), vf = unconditionalVariance(m);
  for (let s = 0; s < k; s++) {
    expect(Math.abs(m.mean[s]! - t.mean[s]!), `mean[${s}]`).toBeLessThanOrEqual(TOLERANCE.mean);
    expect(Math.abs(Math.sqrt(vf[s]! / vt[s]!) - 1), `unconditional vol[${s}]`).toBeLessThanOrEqual(TOLERANCE.volRelative);
    for (let j = 0; j < k; j++) expect(Math.abs(m.transition[s * k + j]! - t.transition[s * k + j]!), `transition[${s}][${j}]`).toBeLessThanOrEqual(TOLERANCE.transition);
  }
}

describe('fitMsGarch parameter recovery (8,000 simulated bars)', () => {
  it('2 states', () => {
    const path = simulateMsGarch(TWO_STATE, 8000, seededRandom(12));
    const fit = fitMsGarch(path.returns, { seed: 5, states: 2 });
    expect(fit.converged).toBe(true);
    expect(fit.labels).toEqual(['crisis', 'neutral']);
    // the MLE must beat the data-generating parameters
    expect(fit.logLikelihood).toBeGreaterThan(filterRegimes(TWO_STATE, path.returns, { initialVariance: fit.initialVariance }).logLikelihood);
    checkRecovery(TWO_STATE, fit);
  });

  it('4 states', () => {
    const path = simulateMsGarch(FOUR_STATE, 8000, seededRandom(11));
    const fit = fitMsGarch(path.returns, { seed: 5, states: 4 });
    expect(fit.converged).toBe(true);
    expect(fit.labels).toEqual(['crisis', 'bear', 'neutral', 'bull']);
    expect(fit.logLikelihood).toBeGreaterThan(filterRegimes(FOUR_STATE, path.returns, { initialVariance: fit.initialVariance }).logLikelihood);
    checkRecovery(FOUR_STATE, fit);
  });
});

const TWO_STATE_T = makeMsGarchModel({
  mean: [-0.1, 0.05],
  omega: [0.8, 0.128],
  alpha: [0.1, 0.05],
  beta: [0.7, 0.75],
  nu: [4, 8],
  transition: [[0.96, 0.04], [0.02, 0.98]],
});

describe('fitMsGarch with Student-t innovations', () => {
  it('2 states: recovers means, vols, transitions and nu (±35 %), verdict ok, standard errors finite', () => {
    const path = simulateMsGarch(TWO_STATE_T, 8000, seededRandom(13));
    const fit = fitMsGarch(path.returns, { seed: 5, states: 2, innovations: 't' });
    expect(fit.verdict).toBe('ok');
    expect(fit.innovations).toBe('t');
    expect(fit.parameterCount).toBe(2 * 5 + 2);
    expect(fit.logLikelihood).toBeGreaterThan(filterRegimes(TWO_STATE_T, path.returns, { initialVariance: fit.initialVariance }).logLikelihood);
    checkRecovery(TWO_STATE_T, fit);
    const truth = permuteStates(TWO_STATE_T, canonicalStateOrder(TWO_STATE_T));
    for (let s = 0; s < 2; s++) {
      expect(Math.abs(fit.model.nu[s]! / truth.nu[s]! - 1), `nu[${s}]`).toBeLessThan(0.35);
      expect(fit.diagnostics.standardErrors.nu[s]).toBeGreaterThan(0);
      expect(Number.isFinite(fit.diagnostics.standardErrors.transition[s * 2 + s]!)).toBe(true);
    }
    expect(fit.diagnostics.hessianPositiveDefinite).toBe(true);
    expect(fit.diagnostics.finalistsAtBest).toBeGreaterThanOrEqual(1);
  });

  it('a Gaussian fit of the same t data scores a lower likelihood than the t fit', () => {
    const path = simulateMsGarch(TWO_STATE_T, 4000, seededRandom(14));
    const t = fitMsGarch(path.returns, { seed: 5, states: 2, innovations: 't', onDegenerate: 'report' });
    const normal = fitMsGarch(path.returns, { seed: 5, states: 2, onDegenerate: 'report' });
    expect(t.logLikelihood).toBeGreaterThan(normal.logLikelihood + 20);
  });
});

describe('fitMsGarch constraints and the degenerate verdict', () => {
  // one regime plus 5 isolated 12-sigma spikes: a second state can buy likelihood from those 5 bars alone (the
  // degenerate corner seen on real data: a state that does not persist, is hardly ever occupied, huge variance)
  const random = seededRandom(41);
  const iid = Float64Array.from({ length: 4000 }, (_, t) => normalDraw(random) * (t % 800 === 400 ? 12 : 1));

  it('refuses a degenerate fit with RegimeError `degenerate` naming the parameter', () => {
    let error: unknown;
    try {
      fitMsGarch(iid, { seed: 1, states: 2, variance: 'constant' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RegimeError);
    const e = error as RegimeError;
    expect(e.code).toBe('degenerate');
    expect(e.message).toMatch(/refused as degenerate: `transition\[1\]\[1\]` \(stay probability of state 1, [a-z]+\) = 0\.50+: must be above 0\.5/);
    expect(e.message).toMatch(/`occupancy\[1\]`/);
    expect(e.context['parameter']).toBe('transition[1][1]');
  });

  it("onDegenerate 'report' returns the fit with verdict and reasons; constraints hold", () => {
    const fit = fitMsGarch(iid, { seed: 1, states: 2, variance: 'constant', onDegenerate: 'report' });
    expect(fit.verdict).toBe('degenerate');
    expect(fit.degenerateReasons.map((r) => r.parameter)).toEqual(expect.arrayContaining(['transition[1][1]', 'occupancy[1]']));
    for (let s = 0; s < 2; s++) expect(fit.model.transition[s * 2 + s]).toBeGreaterThanOrEqual(0.5);
    // the spike-free series is identifiable as one state
    const clean = Float64Array.from(iid, (r, t) => (t % 800 === 400 ? r / 12 : r));
    expect(fitMsGarch(clean, { seed: 1, states: 1, variance: 'constant' }).verdict).toBe('ok');
  });

  it('unconstrained fits may leave the constraint set; constrained ones stay inside it', () => {
    const path = simulateMsGarch(FOUR_STATE, 3000, seededRandom(77));
    const c = fitMsGarch(path.returns, { seed: 2, states: 4, onDegenerate: 'report', constraints: { stayFloor: 0.6, maxPersistence: 0.95, varianceRatio: 9 } });
    let ss = 0, sum = 0;
    for (const r of path.returns) { sum += r; ss += r * r; }
    const sampleVariance = ss / path.returns.length - (sum / path.returns.length) ** 2;
    const v = unconditionalVariance(c.model);
    for (let s = 0; s < 4; s++) {
      expect(c.model.transition[s * 4 + s]).toBeGreaterThanOrEqual(0.6);
      expect(c.model.alpha[s]! + c.model.beta[s]!).toBeLessThan(0.95);
      expect(v[s]! / sampleVariance).toBeGreaterThanOrEqual(1 / 9 - 1e-9);
      expect(v[s]! / sampleVariance).toBeLessThanOrEqual(9 + 1e-9);
    }
    const u = fitMsGarch(path.returns, { seed: 2, states: 4, onDegenerate: 'report', constraints: UNCONSTRAINED });
    expect(u.constraints).toEqual(UNCONSTRAINED);
  });

  it('rejects constraints outside their range, naming them', () => {
    expect(() => fitMsGarch(iid, { seed: 1, states: 2, constraints: { stayFloor: 1 } })).toThrow(/`constraints.stayFloor` must be in \[0, 0.99\], was 1/);
    expect(() => fitMsGarch(iid, { seed: 1, states: 2, constraints: { maxPersistence: 1 } })).toThrow(/`constraints.maxPersistence` must be in/);
    expect(() => fitMsGarch(iid, { seed: 1, states: 2, innovations: 'cauchy' as 't' })).toThrow(/`innovations` must be 'normal' or 't', was "cauchy"/);
  });
});

describe('fitMsGarch determinism and options', () => {
  const path = simulateMsGarch(TWO_STATE, 3000, seededRandom(99));

  it('the same seed gives the same fit; the seed is recorded', () => {
    const a = fitMsGarch(path.returns, { seed: 21, states: 2, starts: 3 });
    const b = fitMsGarch(path.returns, { seed: 21, states: 2, starts: 3 });
    expect(a.seed).toBe(21);
    expect(Array.from(a.model.mean)).toEqual(Array.from(b.model.mean));
    expect(Array.from(a.model.transition)).toEqual(Array.from(b.model.transition));
    expect(a.logLikelihood).toBe(b.logLikelihood);
    expect(a.starts).toHaveLength(3);
  });

  it('is scale-equivariant: returns × 0.01 give means × 0.01, variances × 1e-4, the same probabilities', () => {
    const a = fitMsGarch(path.returns, { seed: 3, states: 2, starts: 2 });
    const b = fitMsGarch(Float64Array.from(path.returns, (r) => r / 100), { seed: 3, states: 2, starts: 2 });
    for (let s = 0; s < 2; s++) {
      expect(b.model.mean[s]! * 100).toBeCloseTo(a.model.mean[s]!, 4);
      expect(b.model.omega[s]! * 1e4).toBeCloseTo(a.model.omega[s]!, 4);
      expect(b.model.transition[s * 2]!).toBeCloseTo(a.model.transition[s * 2]!, 4);
    }
    expect(b.logLikelihood - a.logLikelihood).toBeCloseTo(path.returns.length * Math.log(100), 3);
  });

  it('rejects bad input, naming parameter and value', () => {
    expect(() => fitMsGarch(path.returns, { seed: 1, states: 0 })).toThrow(/`states` must be an integer in \[1, 12\], was 0/);
    expect(() => fitMsGarch(path.returns.slice(0, 100), { seed: 1, states: 4 })).toThrow(/`returns` must hold >= 10 × 28 parameters = 280 values for 4 states, was 100/);
    const bad = Float64Array.from(path.returns);
    bad[7] = NaN;
    expect(() => fitMsGarch(bad, { seed: 1, states: 2 })).toThrow(/`returns\[7\]` must be finite, was NaN/);
  });
});
