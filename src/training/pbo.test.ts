import { describe, expect, it } from 'vitest';
import { normalDraw, seededRandom } from '../core/random.js';
import { probabilityOfBacktestOverfitting } from './pbo.js';

describe('probabilityOfBacktestOverfitting (Bailey, Borwein, López de Prado & Zhu 2017, CSCV)', () => {
  it('hand-computed example: 4 periods × 3 configurations, S = 4 blocks, metric mean → PBO = 4/6', () => {
    // rows = periods, columns = configurations a, b, c
    const m = Float64Array.from([
      3, 1, 2,
      2, 3, 1,
      1, 2, 3,
      4, 1, 2,
    ]);
    // IS halves in order {0,1} {0,2} {0,3} {1,2} {1,3} {2,3}:
    //  {0,1}: IS a=2.5 b=2 c=1.5 → a; OOS {2,3}: a=2.5 b=1.5 c=2.5 → a tied top, rank 2.5 → ω 0.625, λ = ln(5/3)
    //  {0,2}: IS c=2.5 best → c; OOS {1,3}: a=3 b=2 c=1.5 → rank 1 → λ = ln(1/3)
    //  {0,3}: IS a=3.5 → a; OOS {1,2}: a=1.5 b=2.5 c=2 → rank 1 → λ = ln(1/3)
    //  {1,2}: IS b=2.5 → b; OOS {0,3}: a=3.5 b=1 c=2 → rank 1 → λ = ln(1/3)
    //  {1,3}: IS a=3 → a; OOS {0,2}: a=2 b=1.5 c=2.5 → rank 2 → ω 0.5, λ = 0 (counts as overfit)
    //  {2,3}: IS a=2.5 = c=2.5, first wins → a; OOS {0,1}: a=2.5 b=2 c=1.5 → rank 3 → λ = ln 3
    const r = probabilityOfBacktestOverfitting(m, 4, 3, { blocks: 4, metric: 'mean' });
    expect(r.splits).toBe(6);
    expect(Array.from(r.selected)).toEqual([0, 2, 0, 1, 0, 0]);
    const expected = [Math.log(5 / 3), Math.log(1 / 3), Math.log(1 / 3), Math.log(1 / 3), 0, Math.log(3)];
    for (let c = 0; c < 6; c++) expect(r.logits[c]).toBeCloseTo(expected[c]!, 14);
    expect(r.pbo).toBeCloseTo(4 / 6, 15);
    expect(Array.from(r.outOfSample)).toEqual([2.5, 1.5, 1.5, 1, 2, 2.5]);
  });

  it('a configuration better than every other in every period gives PBO = 0 and λ = ln N on every split', () => {
    const random = seededRandom(1);
    const rows = 200, n = 5;
    const m = new Float64Array(rows * n);
    for (let t = 0; t < rows; t++) for (let j = 0; j < n; j++) m[t * n + j] = normalDraw(random) + (j === 3 ? 10 : 0);
    const r = probabilityOfBacktestOverfitting(m, rows, n, { blocks: 8, metric: 'sharpe' });
    expect(r.splits).toBe(70);
    expect(r.pbo).toBe(0);
    for (const l of r.logits) expect(l).toBeCloseTo(Math.log(n), 12);
  });

  it('pure-noise configurations overfit about half the time (seeded: 0.3 < PBO < 0.7)', () => {
    const random = seededRandom(7);
    const rows = 1000, n = 30;
    const m = Float64Array.from({ length: rows * n }, () => normalDraw(random));
    const r = probabilityOfBacktestOverfitting(m, rows, n, { blocks: 10, metric: 'sharpe' });
    expect(r.splits).toBe(252);
    expect(r.pbo).toBeGreaterThan(0.3);
    expect(r.pbo).toBeLessThan(0.7);
  });

  it('sharpe metric: in-sample statistic equals mean / sample sd over the in-sample rows', () => {
    const random = seededRandom(3);
    const rows = 40, n = 3;
    const m = Float64Array.from({ length: rows * n }, () => normalDraw(random));
    const r = probabilityOfBacktestOverfitting(m, rows, n, { blocks: 2, metric: 'sharpe' });
    // S = 2: split 0 = IS block 0 (rows 0..19)
    const j = r.selected[0]!;
    const xs = Array.from({ length: 20 }, (_, t) => m[t * n + j]!);
    const mean = xs.reduce((a, b) => a + b, 0) / 20;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / 19);
    expect(r.inSample[0]).toBeCloseTo(mean / sd, 12);
  });

  it('rejects bad input, naming it', () => {
    expect(() => probabilityOfBacktestOverfitting(new Float64Array(12), 4, 3, { blocks: 3, metric: 'mean' })).toThrow(/`blocks` must be an even integer >= 2, was 3/);
    expect(() => probabilityOfBacktestOverfitting(new Float64Array(11), 4, 3, { blocks: 2, metric: 'mean' })).toThrow(/`performance` must hold rows × configurations = 12 values, was 11/);
    expect(() => probabilityOfBacktestOverfitting(Float64Array.of(1, NaN, 0, 0), 2, 2, { blocks: 2, metric: 'mean' })).toThrow(/`performance\[0\]\[1\]` must be finite, was NaN/);
  });
});
