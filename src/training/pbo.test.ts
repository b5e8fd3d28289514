import { describe, expect, it } from 'vitest';
import { normalDraw, seededRandom } from '../core/random.js';
import { thrownAs } from '../../test/support/thrown.js';
import { pboBlockSums, pboFromBlockSums, probabilityOfBacktestOverfitting, type PboBlockSums } from './pbo.js';
import { TrainingError } from './training-error.js';

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

  it('names the shape, the block sums and the metric it refuses, with their values in the context', () => {
    const err = (f: () => unknown): TrainingError => {
      const e = thrownAs(f, TrainingError);
      expect(e.code).toBe('invalid_argument');
      return e;
    };
    const matrix = (rows: number, n: number, options = { blocks: 2, metric: 'mean' as const }) => () => probabilityOfBacktestOverfitting(new Float64Array(rows * n), rows, n, options);
    expect(err(matrix(4, 1))).toMatchObject({ code: 'invalid_argument', message: '`configurations` must be an integer >= 2, was 1', context: { configurations: 1 } });
    expect(err(matrix(4, 2.5)).message).toBe('`configurations` must be an integer >= 2, was 2.5');
    expect(err(matrix(4, 2, { blocks: 0, metric: 'mean' }))).toMatchObject({ message: '`blocks` must be an even integer >= 2, was 0', context: { blocks: 0 } });
    expect(err(matrix(4, 2, { blocks: 2.5, metric: 'mean' })).message).toBe('`blocks` must be an even integer >= 2, was 2.5');
    expect(err(matrix(3, 2, { blocks: 4, metric: 'mean' }))).toMatchObject({ message: '`rows` must be an integer >= blocks (4), was 3', context: { rows: 3 } });
    expect(err(() => probabilityOfBacktestOverfitting(new Float64Array(9), 4.5, 2, { blocks: 2, metric: 'mean' })).message).toBe('`rows` must be an integer >= blocks (2), was 4.5');
    expect(err(() => probabilityOfBacktestOverfitting(new Float64Array(11), 4, 3, { blocks: 2, metric: 'mean' })).context).toEqual({ length: 11 });
    expect(err(() => probabilityOfBacktestOverfitting(Float64Array.of(0, 0, 0, 0, 0, Infinity), 3, 2, { blocks: 2, metric: 'mean' }))).toMatchObject({ message: '`performance[2][1]` must be finite, was Infinity', context: { row: 2, column: 1 } });
    expect(err(matrix(4, 2, { blocks: 2, metric: 'median' as 'mean' }))).toMatchObject({ message: '`metric` must be \'sharpe\' or \'mean\', was "median"', context: { metric: 'median' } });
    const sums = pboBlockSums(6, 2, 2);
    expect(Array.from(sums.start)).toEqual([0, 3, 6]);
    expect(Array.from(pboBlockSums(7, 2, 4).start)).toEqual([0, 2, 4, 6, 7]); // the first 7 % 4 blocks one row longer
    const bad = (over: Partial<PboBlockSums>) => err(() => pboFromBlockSums({ ...sums, ...over }, 'mean'));
    const said = 'block sums must hold 3 block starts ending at 6 and 4 sums';
    expect(bad({ start: Int32Array.of(0, 3) })).toMatchObject({ message: `${said}, held 2 block starts ending at 3 and 4/4 sums`, context: { blocks: 2, configurations: 2 } });
    expect(bad({ start: Int32Array.of(0, 3, 5) }).message).toBe(`${said}, held 3 block starts ending at 5 and 4/4 sums`);
    expect(bad({ sum: new Float64Array(3) }).message).toBe(`${said}, held 3 block starts ending at 6 and 3/4 sums`);
    expect(bad({ sq: new Float64Array(5) }).message).toBe(`${said}, held 3 block starts ending at 6 and 4/5 sums`);
    expect(bad({ configurations: 1 }).message).toBe('`configurations` must be an integer >= 2, was 1');
  });

  it('takes a configuration with no spread in a half as Sharpe 0 there (not ±Infinity)', () => {
    // config 0 is constant 0.01 (sd 0); config 1 varies around a smaller mean: by Sharpe config 1 is better, by mean 0 is
    const rows = 8, m = new Float64Array(rows * 2);
    for (let t = 0; t < rows; t++) { m[t * 2] = 0.01; m[t * 2 + 1] = 0.005 + (t % 2 ? 0.001 : -0.001); }
    const sharpe = probabilityOfBacktestOverfitting(m, rows, 2, { blocks: 2, metric: 'sharpe' });
    expect(Array.from(sharpe.selected)).toEqual([1, 1]);
    expect(Array.from(sharpe.outOfSample).every((x) => Number.isFinite(x) && x > 0)).toBe(true);
    expect(Array.from(probabilityOfBacktestOverfitting(m, rows, 2, { blocks: 2, metric: 'mean' }).selected)).toEqual([0, 0]);
  });
});
