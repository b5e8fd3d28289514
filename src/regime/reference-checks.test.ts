/**
 * Reference checks against arch and statsmodels at given parameters. Fixtures: test/fixtures/regime/*.json, written by
 * `.venv/bin/python python/regime/make_fixtures.py` (BTCUSDT 4h log returns × 100, 2024-01-01..2025-08-31).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { archBackcast } from './backcast.js';
import { fitMsGarch } from './fit-ms-garch.js';
import { hamiltonFilter, kimSmoother } from './hamilton-filter.js';
import { ergodicDistribution, makeMsGarchModel } from './ms-garch-model.js';
import { filterRegimes } from './regime-filter.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../test/fixtures/regime/${name}`, import.meta.url), 'utf8')) as T;

/** |a − b| <= tol · max(|b|, tiny) */
function expectRelative(actual: number, expected: number, tol: number, what: string): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  if (!(err <= tol)) throw new Error(`${what}: relative error ${err} > ${tol} (actual ${actual}, expected ${expected})`);
}

interface GarchFixture {
  data: { returns: number[] };
  cases: { label: string; params: { mu: number; omega: number; alpha: number; beta: number }; backcast: number; loglikelihood: number; conditional_variance: number[] }[];
}

describe('K = 1 is GARCH(1,1): arch_model(mean=Constant, vol=GARCH, dist=normal).fix(params)', () => {
  const f = fixture<GarchFixture>('garch-arch.json');
  const returns = Float64Array.from(f.data.returns);

  it('archBackcast replicates arch backcast (EWMA 0.94 of first 75 squared demeaned returns)', () => {
    expectRelative(archBackcast(returns), f.cases[0]!.backcast, 1e-13, 'backcast');
  });

  for (const c of f.cases) {
    it(`log-likelihood and conditional variances match arch within 1e-8 relative (${c.label})`, () => {
      const model = makeMsGarchModel({ mean: [c.params.mu], omega: [c.params.omega], alpha: [c.params.alpha], beta: [c.params.beta], transition: [[1]] });
      const out = filterRegimes(model, returns); // default initial variance = archBackcast(returns)
      expectRelative(out.logLikelihood, c.loglikelihood, 1e-8, 'log-likelihood');
      expect(out.variance.length).toBe(c.conditional_variance.length);
      for (let t = 0; t < returns.length; t++) expectRelative(out.variance[t]!, c.conditional_variance[t]!, 1e-8, `variance[${t}]`);
      for (let t = 0; t < returns.length; t++) expect(Math.abs(out.filtered[t]! - 1)).toBeLessThan(1e-15);
    });
  }

  it('a K = 1 fit reaches at least arch’s own maximum log-likelihood (−1e-6)', () => {
    const archFit = f.cases.find((c) => c.label === 'arch-fitted')!;
    const fit = fitMsGarch(returns, { seed: 1, states: 1, starts: 2 });
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(archFit.loglikelihood - 1e-6);
    expect(fit.model.mean[0]).toBeCloseTo(archFit.params.mu, 3);
    expect(fit.model.alpha[0]).toBeCloseTo(archFit.params.alpha, 2);
    expect(fit.model.beta[0]).toBeCloseTo(archFit.params.beta, 2);
  });
});

interface GarchTFixture {
  data: { returns: number[] };
  cases: {
    label: string;
    params: { mu: number; omega: number; alpha: number; beta: number; nu: number };
    backcast: number;
    loglikelihood: number;
    conditional_variance: number[];
    std_err_classic?: { mu: number; omega: number; alpha: number; beta: number; nu: number };
  }[];
}

describe('K = 1 Student-t is GARCH(1,1)-t: arch_model(mean=Constant, vol=GARCH, dist=t).fix(params)', () => {
  const f = fixture<GarchTFixture>('garch-t-arch.json');
  const returns = Float64Array.from(f.data.returns);

  for (const c of f.cases) {
    it(`log-likelihood and conditional variances match arch within 1e-8 relative (${c.label}, nu ${c.params.nu.toFixed(3)})`, () => {
      const model = makeMsGarchModel({ mean: [c.params.mu], omega: [c.params.omega], alpha: [c.params.alpha], beta: [c.params.beta], nu: [c.params.nu], transition: [[1]] });
      const out = filterRegimes(model, returns);
      expectRelative(out.logLikelihood, c.loglikelihood, 1e-8, 'log-likelihood');
      for (let t = 0; t < returns.length; t++) expectRelative(out.variance[t]!, c.conditional_variance[t]!, 1e-8, `variance[${t}]`);
    });
  }

  it('a Gaussian model at the same parameters gives a different (lower) likelihood: the t density is really used', () => {
    const c = f.cases.find((x) => x.label === 'arch-fitted')!;
    const gaussian = makeMsGarchModel({ mean: [c.params.mu], omega: [c.params.omega], alpha: [c.params.alpha], beta: [c.params.beta], transition: [[1]] });
    expect(filterRegimes(gaussian, returns).logLikelihood).toBeLessThan(c.loglikelihood - 50);
  });

  it('a K = 1 t fit reaches at least arch’s own maximum log-likelihood (−1e-6) with nu, alpha, beta near arch’s', () => {
    const archFit = f.cases.find((c) => c.label === 'arch-fitted')!;
    const fit = fitMsGarch(returns, { seed: 1, states: 1, starts: 2, innovations: 't' });
    expect(fit.verdict).toBe('ok');
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(archFit.loglikelihood - 1e-6);
    expect(fit.model.nu[0]).toBeCloseTo(archFit.params.nu, 1);
    expect(fit.model.alpha[0]).toBeCloseTo(archFit.params.alpha, 2);
    expect(fit.model.beta[0]).toBeCloseTo(archFit.params.beta, 2);
    // Hessian standard errors match arch's classic (inverse-Hessian) ones within 5 % (both numerical Hessians)
    expect(fit.diagnostics.hessianPositiveDefinite).toBe(true);
    const se = fit.diagnostics.standardErrors, ref = archFit.std_err_classic!;
    expectRelative(se.mean[0]!, ref.mu, 0.05, 'se(mu)');
    expectRelative(se.omega[0]!, ref.omega, 0.05, 'se(omega)');
    expectRelative(se.alpha[0]!, ref.alpha, 0.05, 'se(alpha)');
    expectRelative(se.beta[0]!, ref.beta, 0.05, 'se(beta)');
    expectRelative(se.nu[0]!, ref.nu, 0.05, 'se(nu)');
  });
});

interface Ms2Fixture {
  data: { returns: number[] };
  cases: {
    label: string;
    params: number[];
    transition_row_stochastic: number[][];
    initial_probabilities: number[];
    loglikelihood: number;
    filtered_regime0: number[];
    predicted_regime0?: number[];
    smoothed_regime0?: number[];
  }[];
}

describe('2-state Markov-switching Gaussian (alpha = beta = 0) vs statsmodels MarkovRegression(k_regimes=2, trend=c, switching_variance)', () => {
  const f = fixture<Ms2Fixture>('ms2-statsmodels.json');
  const returns = Float64Array.from(f.data.returns);

  for (const c of f.cases) {
    it(`log-likelihood (1e-8 relative) and filtered probabilities (1e-8 absolute) match (${c.label})`, () => {
      // statsmodels order: p[0->0], p[1->0], const[0], const[1], sigma2[0], sigma2[1]
      const [p00, p10, c0, c1, s0, s1] = c.params as [number, number, number, number, number, number];
      const model = makeMsGarchModel({ mean: [c0, c1], omega: [s0, s1], transition: [[p00, 1 - p00], [p10, 1 - p10]] });
      const pi = ergodicDistribution(model.transition, 2);
      for (let k = 0; k < 2; k++) expect(Math.abs(pi[k]! - c.initial_probabilities[k]!)).toBeLessThan(1e-12);
      const out = filterRegimes(model, returns, { initialVariance: 1 }); // no GARCH term: the pre-sample variance is unused
      expectRelative(out.logLikelihood, c.loglikelihood, 1e-8, 'log-likelihood');
      let worst = 0;
      for (let t = 0; t < returns.length; t++) {
        worst = Math.max(worst, Math.abs(out.filtered[2 * t]! - c.filtered_regime0[t]!), Math.abs(out.filtered[2 * t + 1]! - (1 - c.filtered_regime0[t]!)));
      }
      expect(worst).toBeLessThan(1e-8);
      if (c.predicted_regime0 !== undefined) {
        let w = 0;
        for (let t = 0; t < returns.length; t++) w = Math.max(w, Math.abs(out.predicted[2 * t]! - c.predicted_regime0[t]!));
        expect(w).toBeLessThan(1e-8);
      }
      if (c.smoothed_regime0 !== undefined) {
        const smoothed = kimSmoother(out.filtered, out.predicted, model.transition, 2);
        let w = 0;
        for (let t = 0; t < returns.length; t++) w = Math.max(w, Math.abs(smoothed[2 * t]! - c.smoothed_regime0[t]!));
        expect(w).toBeLessThan(1e-8);
      }
    });
  }

  it('a constant-variance K = 2 fit reaches at least statsmodels’ own maximum log-likelihood (−1e-6)', () => {
    const sm = f.cases.find((c) => c.label === 'statsmodels-fitted')!;
    const fit = fitMsGarch(returns, { seed: 1, states: 2, variance: 'constant', starts: 3 });
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(sm.loglikelihood - 1e-6);
    for (let k = 0; k < 2; k++) {
      expect(fit.model.alpha[k]).toBe(0);
      expect(fit.model.beta[k]).toBe(0);
    }
  });
});

interface GnpFixture {
  rgnp: number[];
  params: number[];
  published_loglikelihood: number;
  loglikelihood: number;
  filtered: number[][];
  smoothed: number[][];
}

describe('Hamilton (1989) 2-state AR(4) GNP model through the generic filter (32 expanded states)', () => {
  const f = fixture<GnpFixture>('hamilton-gnp.json');
  const [p00, p10, mu0, mu1, sigma2, ...phi] = f.params as [number, number, number, number, number, ...number[]];
  const mu = [mu0, mu1];
  const base = [p00, 1 - p00, p10, 1 - p10]; // row-stochastic: base[i*2+j] = P(s_t = j | s_{t-1} = i)
  const order = 4;
  const states = 2 ** (order + 1); // composite c = s_t + 2 s_{t-1} + ... + 16 s_{t-4}
  const bit = (c: number, lag: number): number => (c >> lag) & 1;
  const transition = new Float64Array(states * states);
  for (let c = 0; c < states; c++) {
    for (let next = 0; next < 2; next++) transition[c * states + (next | ((c << 1) & (states - 1)))] = base[bit(c, 0) * 2 + next]!;
  }
  const y = f.rgnp;
  const n = y.length - order;
  const logDensity = new Float64Array(n * states);
  for (let t = 0; t < n; t++) {
    for (let c = 0; c < states; c++) {
      let u = y[t + order]! - mu[bit(c, 0)]!;
      for (let i = 1; i <= order; i++) u -= phi[i - 1]! * (y[t + order - i]! - mu[bit(c, i)]!);
      logDensity[t * states + c] = -0.5 * (Math.log(2 * Math.PI * sigma2) + (u * u) / sigma2);
    }
  }
  const initial = ergodicDistribution(transition, states);
  const out = hamiltonFilter(logDensity, states, transition, initial);

  it('log-likelihood is −181.26339 (published) and matches statsmodels within 1e-8 relative', () => {
    expect(Math.abs(out.logLikelihood - f.published_loglikelihood)).toBeLessThan(1e-5);
    expectRelative(out.logLikelihood, f.loglikelihood, 1e-8, 'log-likelihood');
  });

  it('filtered and (Kim) smoothed P(recession) match statsmodels within 1e-8', () => {
    const smoothed = kimSmoother(out.filtered, out.predicted, transition, states);
    let wf = 0, ws = 0;
    for (let t = 0; t < n; t++) {
      let pf = 0, ps = 0;
      for (let c = 0; c < states; c++) if (bit(c, 0) === 1) { pf += out.filtered[t * states + c]!; ps += smoothed[t * states + c]!; }
      wf = Math.max(wf, Math.abs(pf - f.filtered[t]![1]!));
      ws = Math.max(ws, Math.abs(ps - f.smoothed[t]![1]!));
    }
    expect(wf).toBeLessThan(1e-8);
    expect(ws).toBeLessThan(1e-8);
  });
});
