import { describe, expect, it } from 'vitest';
import { normalDraw, seededRandom } from '../core/random.js';
import { readFileSync } from 'node:fs';
import { boruta, borutaDecision, selectFeatures, type BorutaParams, type BorutaResult } from './boruta.js';

/** y = 1.0·x0 + 0.8·x1 - 0.7·x2² + 0.4·x3 + 0.4·|x4| + noise (linear and non-linear signals of several strengths); x5..x11 pure noise. */
function synthetic(rows: number, seed: number) {
  const random = seededRandom(seed);
  const d = 12;
  const values = new Float64Array(rows * d);
  const target = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < d; j++) values[r * d + j] = normalDraw(random);
    const x = (j: number) => values[r * d + j]!;
    target[r] = 1.0 * x(0) + 0.8 * x(1) - 0.7 * x(2) * x(2) + 0.4 * x(3) + 0.4 * Math.abs(x(4)) + 0.5 * normalDraw(random);
  }
  return { matrix: { values, rows, columns: d }, target, names: Array.from({ length: d }, (_, j) => (j < 5 ? `signal_${j}` : `noise_${j}`)) };
}

const PARAMS: BorutaParams = { seed: 7, iterations: 40, alpha: 0.05, bonferroni: true, maxRows: 1500, trees: 30, maxDepth: 6, minLeaf: 10, maxBins: 32 };

describe('boruta', () => {
  const data = synthetic(3000, 11);
  const result = boruta(data.matrix, data.target, data.names, PARAMS);

  it('confirms the informative features and rejects pure noise', () => {
    const decision = Object.fromEntries(result.features.map((f) => [f.name, f.decision]));
    for (let j = 0; j < 5; j++) expect(decision[`signal_${j}`], `signal_${j}`).toBe('confirmed');
    for (let j = 5; j < 12; j++) expect(decision[`noise_${j}`], `noise_${j}`).toBe('rejected');
    for (const f of result.features.filter((x) => x.name.startsWith('signal'))) expect(f.hits).toBeGreaterThanOrEqual(30);
    for (const f of result.features.filter((x) => x.name.startsWith('noise'))) expect(f.hits).toBeLessThanOrEqual(10);
  });

  it('states its test: two-sided, Bonferroni over the features, with hit counts and tail probabilities', () => {
    expect(result.iterations).toBe(40);
    expect(result.tailLevel).toBeCloseTo(0.05 / 2 / 12, 15);
    expect(result.rows).toBe(1500);
    expect(result.maxShadowImportance).toHaveLength(40);
    for (const f of result.features) {
      if (f.decision === 'confirmed') expect(f.pConfirm).toBeLessThanOrEqual(result.tailLevel);
      if (f.decision === 'rejected') expect(f.pReject).toBeLessThanOrEqual(result.tailLevel);
    }
  });

  it('is deterministic for a seed and changes with it', () => {
    expect(JSON.stringify(boruta(data.matrix, data.target, data.names, PARAMS))).toBe(JSON.stringify(result));
    expect(JSON.stringify(boruta(data.matrix, data.target, data.names, { ...PARAMS, seed: 8 }).maxShadowImportance)).not.toBe(JSON.stringify(result.maxShadowImportance));
  });

  it('rejects names that do not match the columns', () => {
    expect(() => boruta(data.matrix, data.target, ['a'], PARAMS)).toThrow(/names.length must equal matrix.columns = 12, was 1/);
  });
});

describe('selectFeatures', () => {
  const feature = (index: number, decision: 'confirmed' | 'tentative' | 'rejected', meanImportance: number) => ({ index, name: `f${index}`, hits: 0, meanImportance, pConfirm: 1, pReject: 1, decision });
  const result = (features: ReturnType<typeof feature>[]): BorutaResult => ({ iterations: 1, alpha: 0.05, bonferroni: true, tailLevel: 0.001, rows: 10, maxShadowImportance: [0], features });

  it('caps confirmed features at max by importance, in column order', () => {
    const r = result([feature(0, 'confirmed', 0.1), feature(1, 'confirmed', 0.3), feature(2, 'confirmed', 0.2), feature(3, 'tentative', 0.9)]);
    const s = selectFeatures(r, 1, 2);
    expect(s.names).toEqual(['f1', 'f2']);
    expect(s.droppedConfirmed).toEqual(['f0']);
  });

  it('fills up to min with the best tentative, then the best rejected features', () => {
    const r = result([feature(0, 'confirmed', 0.1), feature(1, 'rejected', 0.5), feature(2, 'tentative', 0.05), feature(3, 'tentative', 0.2), feature(4, 'rejected', 0.01)]);
    const s = selectFeatures(r, 4, 13);
    expect(s.names).toEqual(['f0', 'f1', 'f2', 'f3']);
    expect(s.reasons).toEqual(['confirmed', 'filled-rejected', 'filled-tentative', 'filled-tentative']);
  });
});

interface BinomialFixture {
  cases: {
    iterations: number;
    alpha: number;
    features: number;
    tail_level: number;
    confirm_min_hits: number | null;
    reject_max_hits: number | null;
    points: { hits: number; upper_tail: number; lower_tail: number; decision: 'confirmed' | 'rejected' | 'tentative' }[];
  }[];
}

describe('borutaDecision vs scipy.stats.binom at the boundary hit counts (python/regime/make_fixtures.py)', () => {
  const f = JSON.parse(readFileSync(new URL('../../test/fixtures/regime/boruta-binomial-scipy.json', import.meta.url), 'utf8')) as BinomialFixture;

  for (const c of f.cases) {
    it(`N = ${c.iterations}, alpha ${c.alpha}, ${c.features} feature(s): tails within 1e-12 relative and decisions equal at hits ${c.points.map((p) => p.hits).join(', ')}`, () => {
      for (const p of c.points) {
        const d = borutaDecision(p.hits, c.iterations, c.tail_level);
        expect(Math.abs(d.pConfirm - p.upper_tail)).toBeLessThanOrEqual(1e-12 * p.upper_tail + 1e-300);
        expect(Math.abs(d.pReject - p.lower_tail)).toBeLessThanOrEqual(1e-12 * p.lower_tail + 1e-300);
        expect(d.decision, `hits ${p.hits}`).toBe(p.decision);
      }
      // the boundaries themselves: confirm_min_hits is the first confirmed count, one fewer is not
      if (c.confirm_min_hits !== null) {
        expect(borutaDecision(c.confirm_min_hits, c.iterations, c.tail_level).decision).toBe('confirmed');
        expect(borutaDecision(c.confirm_min_hits - 1, c.iterations, c.tail_level).decision).not.toBe('confirmed');
      }
      if (c.reject_max_hits !== null) {
        expect(borutaDecision(c.reject_max_hits, c.iterations, c.tail_level).decision).toBe('rejected');
        expect(borutaDecision(c.reject_max_hits + 1, c.iterations, c.tail_level).decision).not.toBe('rejected');
      }
    });
  }

  it('the fixture covers boundaries on both tails', () => {
    expect(f.cases.filter((c) => c.confirm_min_hits !== null && c.reject_max_hits !== null).length).toBeGreaterThanOrEqual(10);
  });
});
