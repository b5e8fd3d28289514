/**
 * The figures of `npm run bench:ab` (bench/ab-summary.ts), on hand-made pairs: every figure below is computed by hand.
 */
import { describe, expect, it } from 'vitest';
import { formatPairedSummary, pairedSummary, quantile } from '../bench/ab-summary.js';

describe('bench A/B summary', () => {
  it('takes quantiles as the element at ⌊p·(n − 1)⌋ of the sorted values', () => {
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(quantile([5, 1, 4, 2, 3], 0.25)).toBe(2);
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2); // index ⌊1.5⌋ = 1
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('reads the verdict from each pair’s ratio B/A, not from the two sets of times apart', () => {
    // Ratios: 0.9, 0.8, 1.1, 0.5, 1.0 → sorted 0.5, 0.8, 0.9, 1.0, 1.1.
    const s = pairedSummary([
      [10, 9],
      [50, 40],
      [10, 11],
      [100, 50],
      [20, 20],
    ]);
    expect(s.pairs).toBe(5);
    expect(s.medianRatio).toBeCloseTo(0.9, 12);
    expect(s.lowerQuartileRatio).toBeCloseTo(0.8, 12);
    expect(s.upperQuartileRatio).toBeCloseTo(1.0, 12);
    expect(s.bFasterShare).toBeCloseTo(3 / 5, 12);
    expect([s.minA, s.minB]).toEqual([10, 9]);
    expect(formatPairedSummary(s)).toBe('B/A median 0.900 (quartiles 0.800-1.000), B faster in 60 % of 5 pairs; min A 10.00 ms, B 9.00 ms');
  });

  it('a machine that slows down between pairs moves both runs of a pair, not the ratio', () => {
    // B is 10 % faster in every pair while the machine's speed changes 3x from pair to pair.
    const pairs = [1, 3, 1.5, 2.9, 1].map((slow) => [40 * slow, 36 * slow] as const);
    expect(pairedSummary(pairs).medianRatio).toBeCloseTo(0.9, 12);
    expect(pairedSummary(pairs).bFasterShare).toBe(1);
  });

  it('gives NaN figures for no pairs', () => {
    const s = pairedSummary([]);
    expect([s.pairs, s.medianRatio, s.bFasterShare, s.minA]).toEqual([0, NaN, NaN, NaN]);
  });
});
