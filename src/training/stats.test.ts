import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  binomialLowerTail,
  binomialUpperTail,
  deflatedSharpeRatio,
  expectedMaxSharpe,
  hitRate,
  normalCdf,
  normalQuantile,
  rankAverage,
  returnMoments,
  spearmanIc,
  spearmanIcNeweyWest,
  studentTTwoSided,
} from './stats.js';

// Reference values: scipy 1.17 (scipy.stats.t.sf, norm.cdf/ppf, binom, spearmanr) unless stated otherwise.
describe('distribution functions', () => {
  it('normal CDF and quantile agree with scipy', () => {
    expect(normalCdf(-1.5)).toBeCloseTo(0.06680720126885807, 14);
    expect(normalCdf(0)).toBe(0.5);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(1e-6)).toBeCloseTo(-4.753424308822899, 10);
    for (const p of [0.001, 0.2, 0.5, 0.77, 0.999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 14);
    expect(() => normalQuantile(1)).toThrow(/`p` must be in \(0, 1\), was 1/);
  });

  it('Student t two-sided p-values agree with scipy', () => {
    expect(studentTTwoSided(2.1, 17)).toBeCloseTo(0.05095984722913399, 12);
    expect(studentTTwoSided(-0.5, 300)).toBeCloseTo(0.617441622554225, 12);
    expect(studentTTwoSided(0, 10)).toBeCloseTo(1, 12);
  });

  it('binomial tails are exact', () => {
    expect(binomialUpperTail(24, 30)).toBeCloseTo(0.0007154531776905061, 13);
    expect(binomialLowerTail(6, 30)).toBeCloseTo(0.0007154531776905061, 13);
    expect(binomialUpperTail(0, 30)).toBe(1);
    expect(binomialUpperTail(31, 30)).toBe(0);
    expect(binomialUpperTail(15, 30) + binomialLowerTail(14, 30)).toBeCloseTo(1, 12);
  });
});

describe('information coefficient', () => {
  it('ranks ties by their average rank', () => {
    expect(Array.from(rankAverage([10, 30, 20, 20]))).toEqual([1, 4, 2.5, 2.5]);
  });

  it('Spearman IC and its t-approximation p-value agree with scipy.stats.spearmanr (no overlap)', () => {
    const x = [3.1, 1.2, 5.5, 2.2, 2.2, 9.0, 0.4, 7.7];
    const y = [2.0, 1.0, 4.0, 3.5, 2.5, 8.0, 1.5, 6.0];
    const r = spearmanIc(x, y);
    expect(r.ic).toBeCloseTo(0.8982196964349441, 14);
    expect(r.pValue).toBeCloseTo(0.002438796796382354, 12);
    expect(r.count).toBe(8);
  });

  it('skips non-finite pairs and shrinks the test sample by the label overlap', () => {
    const x = [1, 2, NaN, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const y = [2, 1, 3, 4, 6, 5, 8, 7, 10, 9, Infinity, 11];
    const one = spearmanIc(x, y, 1);
    const six = spearmanIc(x, y, 2);
    expect(one.count).toBe(10);
    expect(six.effectiveCount).toBe(5);
    expect(six.ic).toBe(one.ic);
    expect(six.pValue).toBeGreaterThan(one.pValue);
  });

  it('hit rate counts sign agreement, ignoring zeros and NaN', () => {
    expect(hitRate([1, -1, 2, 0, NaN, -3], [0.5, 0.2, 0.1, 1, 1, -2])).toBeCloseTo(3 / 4, 15);
  });
});

describe('deflated Sharpe ratio', () => {
  it('reproduces the numerical example of Bailey & López de Prado (2014): DSR ≈ 0.9004', () => {
    // Annualised SR 2.5 from T = 1250 daily returns, skewness -3, kurtosis 10, N = 100 trials whose annualised Sharpes
    // have variance 1/2. Per day: SR = 2.5 / sqrt(250) = 0.158114, V = 0.5 / 250 = 0.002.
    // SR0 = sqrt(0.002) · ((1 - γ) Φ⁻¹(1 - 1/100) + γ Φ⁻¹(1 - 1/(100 e))) = 0.0447214 · (0.4227843 · 2.3263479 + 0.5772157 · 2.6802104)
    //     = 0.1131720 per day (1.7894 annualised);
    // DSR = Φ((0.158114 - 0.113172) · sqrt(1249) / sqrt(1 + 3 · 0.158114 + 9/4 · 0.158114²)) = Φ(1.2838) = 0.9004.
    const sr = 2.5 / Math.sqrt(250);
    const r = deflatedSharpeRatio({ sharpe: sr, observations: 1250, skewness: -3, kurtosis: 10, trials: 100, sharpeVariance: 0.5 / 250 });
    expect(r.benchmarkSharpe).toBeCloseTo(0.11317200186513214, 12);
    expect(r.benchmarkSharpe * Math.sqrt(250)).toBeCloseTo(1.7894, 4);
    expect(r.dsr).toBeCloseTo(0.9003968344493903, 10);
    expect(r.dsr.toFixed(4)).toBe('0.9004');
  });

  it('matches a second hand-checked case and degenerates to PSR(0) with one trial', () => {
    const r = deflatedSharpeRatio({ sharpe: 0.05, observations: 2000, skewness: 0.3, kurtosis: 5, trials: 12, sharpeVariance: 0.0004 });
    expect(r.benchmarkSharpe).toBeCloseTo(0.03329622775949873, 12);
    expect(r.dsr).toBeCloseTo(0.7738362896734439, 10);
    expect(expectedMaxSharpe(0.0004, 1)).toBe(0);
    const psr = deflatedSharpeRatio({ sharpe: 0.05, observations: 2000, skewness: 0, kurtosis: 3, trials: 1, sharpeVariance: 0.0004 });
    expect(psr.dsr).toBeCloseTo(normalCdf((0.05 * Math.sqrt(1999)) / Math.sqrt(1 + 0.5 * 0.0025)), 14);
  });

  it('rejects impossible inputs with the parameter named', () => {
    expect(() => deflatedSharpeRatio({ sharpe: 0, observations: 1, skewness: 0, kurtosis: 3, trials: 2, sharpeVariance: 0 })).toThrow(/`observations` must be >= 2, was 1/);
    expect(() => deflatedSharpeRatio({ sharpe: 0, observations: 10, skewness: 0, kurtosis: 3, trials: 0, sharpeVariance: 0 })).toThrow(/`trials` must be an integer >= 1, was 0/);
  });

  it('return moments: population skewness and non-excess kurtosis', () => {
    const m = returnMoments([1, 2, 3, 4, 100]);
    expect(m.count).toBe(5);
    expect(m.mean).toBe(22);
    expect(m.skewness).toBeCloseTo(1.4975367033335198, 12); // scipy.stats.skew
    expect(m.kurtosis).toBeCloseTo(3.2467164893001637, 12); // scipy.stats.kurtosis(fisher=False)
    expect(returnMoments([1, 1, 1]).sharpe).toBe(0);
  });
});

describe('spearmanIcNeweyWest vs statsmodels OLS HAC (test/fixtures/regime/newey-west-ic-statsmodels.json)', () => {
  interface NwFixture { data: { x: number[]; y: number[] }; cases: { lags: number; slope: number; standard_error: number; z: number; p_value: number }[] }
  const f = JSON.parse(readFileSync(new URL('../../test/fixtures/regime/newey-west-ic-statsmodels.json', import.meta.url), 'utf8')) as NwFixture;
  for (const c of f.cases) {
    it(`lags ${c.lags}: IC, HAC standard error, z and p match within 1e-10 relative`, () => {
      const r = spearmanIcNeweyWest(f.data.x, f.data.y, c.lags);
      expect(r.count).toBe(f.data.x.length);
      for (const [a, b] of [[r.ic, c.slope], [r.standardError, c.standard_error], [r.z, c.z], [r.pValue, c.p_value]] as const) expect(Math.abs(a - b) / Math.abs(b)).toBeLessThan(1e-10);
      // the plain Spearman IC is the same number
      expect(spearmanIc(f.data.x, f.data.y).ic).toBeCloseTo(c.slope, 12);
    });
  }
  it('overlap widens the interval: the HAC p-value at lag 5 is above the lag-0 one', () => {
    expect(spearmanIcNeweyWest(f.data.x, f.data.y, 5).pValue).toBeGreaterThan(spearmanIcNeweyWest(f.data.x, f.data.y, 0).pValue);
  });
});
