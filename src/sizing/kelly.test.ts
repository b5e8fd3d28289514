/**
 * StrykerJS mutants of kelly.ts these tests leave alive (`TM_MUTATION_TESTS='src/sizing/{kelly,sizing-cascade}.test.ts'`),
 * all equivalent:
 * - clamp `x > limit` → `>=` and `x < -limit` → `<=`: at x = ±limit both branches return the same value.
 * - regimeFractions `k === 0 ||` → `false ||`: with k = 0, `filtered.length % 0` is NaN !== 0, so it still throws.
 * - regimeFractions `t < n` → `t <= n`: the extra row only writes `out[n]`, past the end of a Float64Array (ignored),
 *   after reading past the end of `filtered` without throwing.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { makeMsGarchModel } from '../regime/ms-garch-model.js';
import { filterRegimes, RegimeFilter } from '../regime/regime-filter.js';
import type { RegimeLabel } from '../regime/regime-labels.js';
import { simulateMsGarch } from '../regime/simulate-ms-garch.js';
import { kellyFraction, kellyPosition, kellyPositions, regimeFraction, regimeFractions } from './kelly.js';
import { horizonVariance, horizonVariances, RegimeForecast } from './regime-forecast.js';
import { defaultRiskConfig } from './risk-config.js';
import { SizingError } from './sizing-error.js';

const risk = defaultRiskConfig();
const FOUR: RegimeLabel[] = ['crisis', 'bear', 'neutral', 'bull'];
const limits = { maxFraction: 1, maxLeverage: 1 };

describe('kellyFraction: f = μ / σ²', () => {
  it('divides the expected log return by the variance (hand-computed)', () => {
    expect(kellyFraction(0.002, 0.0004)).toBeCloseTo(5, 14);
    expect(kellyFraction(-0.001, 0.0004)).toBeCloseTo(-2.5, 14);
    expect(kellyFraction(0, 0.0004)).toBe(0);
  });

  it('throws SizingError invalid_input naming the parameter for a non-finite edge or a variance <= 0', () => {
    expect(() => kellyFraction(Number.NaN, 1e-4)).toThrow(/`edge` must be finite, was NaN/);
    expect(() => kellyFraction(0.001, 0)).toThrow(/`variance` must be finite and > 0, was 0/);
    try {
      kellyFraction(0.001, -1);
    } catch (e) {
      expect(e).toBeInstanceOf(SizingError);
      expect((e as SizingError).code).toBe('invalid_input');
      expect((e as SizingError).context).toEqual({ parameter: 'variance', value: -1 });
    }
  });
});

describe('kellyPosition: clamp(clamp(μ/σ², ±maxFraction) · g, ±maxLeverage)', () => {
  it('caps the raw Kelly fraction at maxFraction before the regime fraction', () => {
    // 0.002 / 0.0004 = 5 → capped 1 → × 0.5 = 0.5
    expect(kellyPosition(0.002, 0.0004, 0.5, limits)).toBeCloseTo(0.5, 14);
  });

  it('below the cap it is μ/σ² × g', () => {
    // 0.0001 / 0.0004 = 0.25 → × 0.67 = 0.1675
    expect(kellyPosition(0.0001, 0.0004, 0.67, limits)).toBeCloseTo(0.1675, 14);
    // short: −0.0004 / 0.0004 = −1 → × 0.25 = −0.25
    expect(kellyPosition(-0.0004, 0.0004, 0.25, limits)).toBeCloseTo(-0.25, 14);
  });

  it('caps the regime-scaled fraction at maxLeverage', () => {
    // 5 (cap 5) × 0.67 = 3.35 → leverage cap 2
    expect(kellyPosition(0.002, 0.0004, 0.67, { maxFraction: 5, maxLeverage: 2 })).toBe(2);
    expect(kellyPosition(-0.002, 0.0004, 0.67, { maxFraction: 5, maxLeverage: 2 })).toBe(-2);
    // 5 × 0.17 = 0.85 stays under 2
    expect(kellyPosition(0.002, 0.0004, 0.17, { maxFraction: 5, maxLeverage: 2 })).toBeCloseTo(0.85, 14);
  });

  it('rejects a regime fraction outside [0, 1]', () => {
    expect(() => kellyPosition(0.001, 1e-4, 1.2, limits)).toThrow(/`regimeFraction` must be in \[0, 1\], was 1.2/);
  });

  it('kellyPositions equals kellyPosition bar by bar and gives 0 for a NaN edge', () => {
    const edges = Float64Array.of(0.002, Number.NaN, -0.0001, 0.00005);
    const variances = Float64Array.of(0.0004, 0.0004, 0.0002, 0.0001);
    const g = Float64Array.of(0.5, 0.5, 0.25, 0.67);
    const out = kellyPositions(edges, variances, g, limits);
    expect(Array.from(out)).toEqual([kellyPosition(0.002, 0.0004, 0.5, limits), 0, kellyPosition(-0.0001, 0.0002, 0.25, limits), kellyPosition(0.00005, 0.0001, 0.67, limits)]);
    expect(out[2]).toBeCloseTo(-0.125, 14); // −0.5 × 0.25
    expect(() => kellyPositions(edges, variances.subarray(1), g, limits)).toThrow(SizingError);
  });
});

describe('regimeFraction', () => {
  it('weighted: Σ p_k · fraction(label_k) with the default fractions 0.17 / 0.25 / 0.50 / 0.67', () => {
    // 0.1·0.17 + 0.2·0.25 + 0.3·0.5 + 0.4·0.67 = 0.017 + 0.05 + 0.15 + 0.268 = 0.485
    expect(regimeFraction([0.1, 0.2, 0.3, 0.4], FOUR, risk.regimeFractions, 'weighted')).toBeCloseTo(0.485, 14);
    expect(regimeFraction([1, 0, 0, 0], FOUR, risk.regimeFractions, 'weighted')).toBe(0.17);
    expect(regimeFraction([0, 0, 0, 1], FOUR, risk.regimeFractions, 'weighted')).toBe(0.67);
  });

  it('argmax: the fraction of the most probable state; a tie goes to the lower index', () => {
    expect(regimeFraction([0.1, 0.2, 0.3, 0.4], FOUR, risk.regimeFractions, 'argmax')).toBe(0.67);
    expect(regimeFraction([0.1, 0.5, 0.3, 0.1], FOUR, risk.regimeFractions, 'argmax')).toBe(0.25);
    expect(regimeFraction([0.4, 0.1, 0.1, 0.4], FOUR, risk.regimeFractions, 'argmax')).toBe(0.17);
  });

  it('follows the labels, not the state order, and takes configured fractions', () => {
    const labels: RegimeLabel[] = ['bull', 'crisis', 'neutral', 'bear'];
    expect(regimeFraction([1, 0, 0, 0], labels, risk.regimeFractions, 'weighted')).toBe(0.67);
    const custom = { crisis: 0, bear: 0.1, neutral: 0.4, bull: 1 };
    // 0.5·1 + 0.5·0 = 0.5
    expect(regimeFraction([0.5, 0.5, 0, 0], labels, custom, 'weighted')).toBe(0.5);
    // 2 states (crisis + neutral as labelStates gives K = 2... here bear/bull): 0.25·0.25 + 0.75·0.67 = 0.565
    expect(regimeFraction([0.25, 0.75], ['bear', 'bull'], risk.regimeFractions, 'weighted')).toBeCloseTo(0.565, 14);
  });

  it('rejects probabilities and labels of different lengths', () => {
    expect(() => regimeFraction([0.5, 0.5], FOUR, risk.regimeFractions, 'weighted')).toThrow(/`probabilities` must have one entry per label \(4, >= 1\), was 2/);
  });

  it('regimeFractions over a T×K matrix equals regimeFraction row by row', () => {
    const filtered = Float64Array.of(0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25);
    for (const mode of ['weighted', 'argmax'] as const) {
      const out = regimeFractions(filtered, FOUR, risk.regimeFractions, mode);
      expect(Array.from(out)).toEqual([0, 1, 2].map((t) => regimeFraction(filtered.subarray(t * 4, t * 4 + 4), FOUR, risk.regimeFractions, mode)));
    }
  });
});

describe('horizonVariance: σ²_H = H · Σ π_k h_k / s²', () => {
  it('weights the next-bar state variances by the forecast probabilities and scales by the horizon (hand-computed)', () => {
    // 4 · (0.5 · 1e-4 + 0.5 · 3e-4) = 8e-4
    expect(horizonVariance({ forecast: [0.5, 0.5], nextVariance: [1e-4, 3e-4] }, 4, 1)).toBeCloseTo(8e-4, 18);
    // a percent-scale model: variances 1 and 3 (%²) → / 100² → same 8e-4
    expect(horizonVariance({ forecast: [0.5, 0.5], nextVariance: [1, 3] }, 4, 100)).toBeCloseTo(8e-4, 18);
    // 1 bar, 0.9 · 2e-4 + 0.1 · 1e-3 = 2.8e-4
    expect(horizonVariance({ forecast: [0.9, 0.1], nextVariance: [2e-4, 1e-3] }, 1, 1)).toBeCloseTo(2.8e-4, 18);
  });

  it('rejects a horizon < 1, a scale <= 0 and mismatched arrays', () => {
    expect(() => horizonVariance({ forecast: [1], nextVariance: [1e-4] }, 0, 1)).toThrow(/`horizonBars` must be >= 1, was 0/);
    expect(() => horizonVariance({ forecast: [1], nextVariance: [1e-4] }, 1, 0)).toThrow(/`returnScale` must be > 0, was 0/);
    expect(() => horizonVariance({ forecast: [1], nextVariance: [1e-4, 1e-4] }, 1, 1)).toThrow(SizingError);
  });
});

describe('RegimeForecast', () => {
  // 2 states, means 0, omega 1e-5 / 4e-5, alpha 0.1, beta 0.8, P = [[0.9, 0.1], [0.2, 0.8]] (ergodic 2/3, 1/3)
  const model2 = makeMsGarchModel({ mean: [0, 0], omega: [1e-5, 4e-5], alpha: [0.1, 0.1], beta: [0.8, 0.8], transition: [[0.9, 0.1], [0.2, 0.8]] });

  it('before any bar: forecast = ergodic (2/3, 1/3), h_{k,0} = ω_k + (α + β)·h0, σ² = 1.1e-4 (hand-computed)', () => {
    const filter = new RegimeFilter(model2, { initialVariance: 1e-4 });
    const regime = new RegimeForecast(filter, ['bear', 'bull']);
    expect(regime.forecast[0]).toBeCloseTo(2 / 3, 14);
    expect(regime.forecast[1]).toBeCloseTo(1 / 3, 14);
    // ω + 0.1·1e-4 + 0.8·1e-4 = ω + 9e-5
    expect(regime.nextVariance[0]).toBeCloseTo(1e-4, 18);
    expect(regime.nextVariance[1]).toBeCloseTo(1.3e-4, 18);
    // (2/3)·1e-4 + (1/3)·1.3e-4 = 1.1e-4
    expect(horizonVariance(regime, 1, 1)).toBeCloseTo(1.1e-4, 18);
  });

  it('after r = 0.02: h_{k,1} = ω_k + α·0.02² + β·h_{k,0} = 1.3e-4 / 1.84e-4, forecast = P′ filtered', () => {
    const filter = new RegimeFilter(model2, { initialVariance: 1e-4 });
    const regime = new RegimeForecast(filter, ['bear', 'bull']);
    filter.update(0.02);
    regime.update();
    // state 0: 1e-5 + 0.1·4e-4 + 0.8·1e-4 = 1.3e-4; state 1: 4e-5 + 4e-5 + 0.8·1.3e-4 = 1.84e-4
    expect(regime.nextVariance[0]).toBeCloseTo(1.3e-4, 18);
    expect(regime.nextVariance[1]).toBeCloseTo(1.84e-4, 18);
    const [p0, p1] = [filter.filtered[0]!, filter.filtered[1]!];
    expect(regime.forecast[0]).toBeCloseTo(0.9 * p0 + 0.2 * p1, 15);
    expect(regime.forecast[1]).toBeCloseTo(0.1 * p0 + 0.8 * p1, 15);
    expect(regime.filtered).toBe(filter.filtered);
    // a large return makes the high-variance state more likely than its prior 1/3
    expect(p1).toBeGreaterThan(1 / 3);
  });

  it('horizonVariances over a filtered series equals incremental RegimeForecast + horizonVariance bit for bit', () => {
    const model4 = makeMsGarchModel({
      mean: [-0.003, -0.0015, 0, 0.002],
      omega: [1.8e-4, 4.5e-5, 7.2e-6, 2e-5],
      alpha: [0.1, 0.08, 0.05, 0.05],
      beta: [0.7, 0.72, 0.75, 0.75],
      transition: [[0.97, 0.02, 0.005, 0.005], [0.01, 0.98, 0.005, 0.005], [0.002, 0.005, 0.985, 0.008], [0.002, 0.004, 0.004, 0.99]],
    });
    const returns = simulateMsGarch(model4, 2000, seededRandom(7)).returns;
    const batch = filterRegimes(model4, returns, { initialVariance: 1e-4 });
    const series = horizonVariances(model4, batch, returns, 3, 1);
    const filter = new RegimeFilter(model4, { initialVariance: 1e-4 });
    const regime = new RegimeForecast(filter);
    for (let t = 0; t < returns.length; t++) {
      filter.update(returns[t]!);
      regime.update();
      expect(horizonVariance(regime, 3, 1)).toBe(series[t]);
    }
    expect(() => horizonVariances(model4, batch, returns.subarray(1), 3, 1)).toThrow(SizingError);
  });

  it('rejects labels that do not match the states', () => {
    const filter = new RegimeFilter(model2, { initialVariance: 1e-4 });
    expect(() => new RegimeForecast(filter, FOUR)).toThrow(/`labels` must have one entry per state \(2\), was 4/);
  });
});

describe('kelly: input rules at their boundaries', () => {
  it('variance must be finite; the regime fraction may be exactly 0 or 1', () => {
    expect(() => kellyFraction(0.001, Number.POSITIVE_INFINITY)).toThrow(/`variance` must be finite and > 0, was Infinity/);
    expect(kellyPosition(0.0001, 1e-4, 0, limits)).toBe(0);
    expect(kellyPosition(0.00005, 1e-4, 1, limits)).toBe(0.5);
    expect(() => kellyPosition(0.001, 1e-4, -0.01, limits)).toThrow(/`regimeFraction` must be in \[0, 1\], was -0.01/);
  });

  it('kellyPositions refuses each array of another length, naming the three lengths', () => {
    const edges = new Float64Array([0.001, 0.002]), v = new Float64Array([1e-4, 1e-4]), g = new Float64Array([0.5, 0.5]);
    expect(() => kellyPositions(edges, v.subarray(1), g, limits)).toThrow('`variances/regimeFractions/out` must have the length of `edges` (2), was 1/2/2');
    expect(() => kellyPositions(edges, v, g.subarray(1), limits)).toThrow('was 2/1/2');
    expect(() => kellyPositions(edges, v, g, limits, new Float64Array(3))).toThrow('was 2/2/3');
  });

  it('regimeFraction refuses empty labels; regimeFractions refuses a matrix that is not T×K', () => {
    expect(() => regimeFraction([], [], risk.regimeFractions, 'weighted')).toThrow(/`probabilities` must have one entry per label \(0, >= 1\), was 0/);
    expect(() => regimeFractions(new Float64Array(6), FOUR, risk.regimeFractions, 'weighted')).toThrow('`filtered` must have a multiple of 4 (states) entries, was 6');
    expect(() => regimeFractions(new Float64Array(0), [], risk.regimeFractions, 'weighted')).toThrow(SizingError);
  });
});
