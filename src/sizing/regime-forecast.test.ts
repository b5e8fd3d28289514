/**
 * StrykerJS mutants of regime-forecast.ts these tests (with kelly.test.ts) leave alive, all equivalent: the loop
 * bounds `s < k` → `s <= k` in `RegimeForecast.update` and `j < k` → `j <= k` in `horizonVariances` (2; the sizing
 * folder run of 2026-12-01 counted `t < n` → `t <= n` as a timeout). The extra iteration only writes one element past the end of a Float64Array (`nextVariance`,
 * `out`, `forecast`), which a typed array ignores, and reads past the ends (undefined → NaN) without throwing; no
 * in-range element changes.
 */
import { describe, expect, it } from 'vitest';
import { makeMsGarchModel } from '../regime/ms-garch-model.js';
import { filterRegimes, RegimeFilter } from '../regime/regime-filter.js';
import { horizonVariance, horizonVariances, RegimeForecast } from './regime-forecast.js';
import { SizingError } from './sizing-error.js';

// 2 states, means ±0.001, omega 1e-5 / 4e-5, alpha 0.1, beta 0.8, P = [[0.9, 0.1], [0.2, 0.8]] (ergodic 2/3, 1/3)
const model2 = makeMsGarchModel({ mean: [-0.001, 0.001], omega: [1e-5, 4e-5], alpha: [0.1, 0.1], beta: [0.8, 0.8], transition: [[0.9, 0.1], [0.2, 0.8]] });
const model3 = makeMsGarchModel({ mean: [0, 0, 0], omega: [1e-5, 2e-5, 4e-5], alpha: [0.1, 0.1, 0.1], beta: [0.8, 0.8, 0.8], transition: [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]] });
const returns = Float64Array.of(0.02, -0.01, 0.003);

describe('horizonVariance: messages', () => {
  it('names the state count when the two arrays differ in length', () => {
    expect(() => horizonVariance({ forecast: [0.5, 0.5], nextVariance: [1e-4] }, 1, 1)).toThrow('`nextVariance` must have one entry per state (2), was 1');
  });
});

describe('horizonVariances', () => {
  const batch = filterRegimes(model2, returns, { initialVariance: 1e-4 });

  it('bar 0 by hand: forecast = P′ filtered_0, h_{k,1} = ω_k + α (r_0 − μ_k)² + β h_{k,0}, σ² = H · Σ π_k h_k / s²', () => {
    const [p0, p1] = [batch.filtered[0]!, batch.filtered[1]!];
    const pi0 = 0.9 * p0 + 0.2 * p1, pi1 = 0.1 * p0 + 0.8 * p1;
    const h0 = 1e-5 + 0.1 * (0.02 + 0.001) ** 2 + 0.8 * batch.variance[0]!;
    const h1 = 4e-5 + 0.1 * (0.02 - 0.001) ** 2 + 0.8 * batch.variance[1]!;
    // a percent-scale reading (s = 10 here): divided by s² = 100; H = 2 doubles it
    expect(horizonVariances(model2, batch, returns, 2, 10)[0]).toBeCloseTo((2 * (pi0 * h0 + pi1 * h1)) / 100, 18);
    expect(horizonVariances(model2, batch, returns, 1, 1)[0]).toBeCloseTo(pi0 * h0 + pi1 * h1, 18);
  });

  it('equals incremental RegimeForecast + horizonVariance with a horizon and a return scale other than 1', () => {
    const series = horizonVariances(model2, batch, returns, 5, 100);
    const filter = new RegimeFilter(model2, { initialVariance: 1e-4 });
    const regime = new RegimeForecast(filter, ['bear', 'bull']);
    const incremental: number[] = [];
    for (const r of returns) {
      filter.update(r);
      regime.update();
      incremental.push(horizonVariance(regime, 5, 100));
    }
    expect(Array.from(series)).toEqual(incremental);
  });

  it('refuses a result of other returns or of another state count, naming both shapes', () => {
    expect(() => horizonVariances(model2, batch, returns.subarray(1), 1, 1)).toThrow('`result` must be the filter output of these 2 returns and 2 states, was 3 bars × 2 states');
    const batch3 = filterRegimes(model3, returns, { initialVariance: 1e-4 });
    expect(() => horizonVariances(model2, batch3, returns, 1, 1)).toThrow('`result` must be the filter output of these 3 returns and 2 states, was 3 bars × 3 states');
  });

  it('refuses a horizon < 1 and a return scale <= 0 (a horizon of exactly 1 bar is fine)', () => {
    expect(() => horizonVariances(model2, batch, returns, 0.5, 1)).toThrow('`horizonBars` must be >= 1, was 0.5');
    expect(() => horizonVariances(model2, batch, returns, 1, 0)).toThrow('`returnScale` must be > 0, was 0');
    expect(() => horizonVariances(model2, batch, returns, 1, Number.NaN)).toThrow(SizingError);
    expect(horizonVariances(model2, batch, returns, 1, 1)).toHaveLength(3);
  });
});

describe('RegimeForecast: labels', () => {
  it('keeps a frozen copy of the labels: changing the caller’s array later changes nothing', () => {
    const labels: ('bear' | 'bull')[] = ['bear', 'bull'];
    const regime = new RegimeForecast(new RegimeFilter(model2, { initialVariance: 1e-4 }), labels);
    labels[0] = 'bull';
    expect(regime.labels).toEqual(['bear', 'bull']);
    expect(Object.isFrozen(regime.labels)).toBe(true);
  });

  it('defaults to labelStates of the model: the lower-drift state is bear', () => {
    expect(new RegimeForecast(new RegimeFilter(model2, { initialVariance: 1e-4 })).labels).toEqual(['bear', 'bull']);
  });
});
