import { describe, expect, it } from 'vitest';
import { binomialCoefficient, combinatorialPurgedSplits } from './cpcv.js';

describe('combinatorialPurgedSplits (López de Prado 2018, ch. 12)', () => {
  it('N = 6, k = 2: 15 splits, 5 paths, assigned as in AFML figure 12.2', () => {
    const plan = combinatorialPurgedSplits(60, { groups: 6, testGroups: 2, horizon: 0, embargo: 0 });
    expect(plan.splits).toHaveLength(15);
    expect(plan.paths).toBe(5);
    expect(plan.splits.map((s) => s.testGroups.join(''))).toEqual(['01', '02', '03', '04', '05', '12', '13', '14', '15', '23', '24', '25', '34', '35', '45']);
    // hand-computed: group g on path p is tested by the p-th split (in order) that contains g
    const expected = [
      // g0 g1 g2 g3 g4 g5
      [0, 0, 1, 2, 3, 4],
      [1, 5, 5, 6, 7, 8],
      [2, 6, 9, 9, 10, 11],
      [3, 7, 10, 12, 12, 13],
      [4, 8, 11, 13, 14, 14],
    ];
    for (let p = 0; p < 5; p++) expect(Array.from(plan.pathSplits.subarray(p * 6, p * 6 + 6))).toEqual(expected[p]);
  });

  it('φ = C(N, k) · k / N paths for other shapes', () => {
    for (const [n, k] of [[10, 2], [8, 3], [5, 1]] as const) {
      const plan = combinatorialPurgedSplits(100, { groups: n, testGroups: k, horizon: 0, embargo: 0 });
      expect(plan.splits).toHaveLength(binomialCoefficient(n, k));
      expect(plan.paths).toBe((binomialCoefficient(n, k) * k) / n);
      // every path covers every group once, each with a split that really tests it
      for (let p = 0; p < plan.paths; p++) for (let g = 0; g < n; g++) expect(plan.splits[plan.pathSplits[p * n + g]!]!.testGroups).toContain(g);
    }
  });

  it('purges rows whose label window overlaps a test block and embargoes after it (hand-computed)', () => {
    // 60 rows, 6 groups of 10; split (1, 3) tests rows 10..19 and 30..39; horizon 2 purges 8..9, 20..21, 28..29,
    // 40..41; embargo 1 drops 22 and 42
    const plan = combinatorialPurgedSplits(60, { groups: 6, testGroups: 2, horizon: 2, embargo: 1 });
    const s = plan.splits.find((x) => x.testGroups.join() === '1,3')!;
    const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);
    expect(Array.from(s.test)).toEqual([...range(10, 20), ...range(30, 40)]);
    expect(Array.from(s.train)).toEqual([...range(0, 8), ...range(23, 28), ...range(43, 60)]);
  });

  it('uneven rows: the first rows % N groups are one row longer', () => {
    const plan = combinatorialPurgedSplits(63, { groups: 6, testGroups: 1, horizon: 0, embargo: 0 });
    expect(Array.from(plan.groupStart)).toEqual([0, 11, 22, 33, 43, 53, 63]);
  });

  it('rejects bad shapes, naming the option', () => {
    expect(() => combinatorialPurgedSplits(60, { groups: 6, testGroups: 6, horizon: 0, embargo: 0 })).toThrow(/`testGroups` must be an integer in \[1, 5\], was 6/);
    expect(() => combinatorialPurgedSplits(4, { groups: 6, testGroups: 2, horizon: 0, embargo: 0 })).toThrow(/`rows` must be an integer >= groups \(6\), was 4/);
  });
  it('labelEnd: i + h reproduces the fixed-horizon purge; real label ends purge exactly the overlapping rows', () => {
    const fixed = combinatorialPurgedSplits(60, { groups: 6, testGroups: 2, horizon: 3, embargo: 2 });
    const same = combinatorialPurgedSplits(60, { groups: 6, testGroups: 2, horizon: 3, embargo: 2, labelEnd: Int32Array.from({ length: 60 }, (_, i) => i + 3) });
    for (let s = 0; s < fixed.splits.length; s++) expect(Array.from(same.splits[s]!.train)).toEqual(Array.from(fixed.splits[s]!.train));
    // 20 rows, 4 groups of 5, k = 1; label ends (hand-made): row 3 ends at 6 (reaches group 1), row 4 at 4, row 9 at 13
    // (so group 1's labels span rows 5..13), row 12 at 12; every other row i ends at i + 1.
    const end = Int32Array.from({ length: 20 }, (_, i) => i + 1);
    end[3] = 6; end[4] = 4; end[9] = 13; end[12] = 12; end[19] = -1; // -1 = unknown -> i + horizon
    const plan = combinatorialPurgedSplits(20, { groups: 4, testGroups: 1, horizon: 1, embargo: 1, labelEnd: end });
    const testsGroup1 = plan.splits[1]!; // tests rows 5..9, whose labels reach row 13
    expect(Array.from(testsGroup1.test)).toEqual([5, 6, 7, 8, 9]);
    // purged: row 3 (ends 6 >= 5), rows 10..13 (start <= 13), embargo row 14; kept: row 4 (ends at 4), rows 0..2, 15..19
    expect(Array.from(testsGroup1.train)).toEqual([0, 1, 2, 4, 15, 16, 17, 18, 19]);
    // group 0's labels span rows 0..6 (row 3 ends at 6): rows 5, 6 purged, row 7 embargoed
    expect(Array.from(plan.splits[0]!.train)).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(() => combinatorialPurgedSplits(20, { groups: 4, testGroups: 1, horizon: 1, embargo: 0, labelEnd: Int32Array.from({ length: 20 }, (_, i) => i - 1) })).toThrow(/`labelEnd\[1\]` must be >= 1/);
  });
});
