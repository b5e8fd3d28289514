import { TrainingError } from './training-error.js';

/** One split of combinatorial purged cross-validation. */
export interface CpcvSplit {
  /** Position of the split in lexicographic order of its test groups. */
  readonly index: number;
  /** The k test groups, ascending. */
  readonly testGroups: readonly number[];
  /** Training rows (ascending), purged and embargoed around every test block. */
  readonly train: Int32Array;
  /** Test rows (ascending). */
  readonly test: Int32Array;
}

/** Plan of {@link combinatorialPurgedSplits}. */
export interface CpcvPlan {
  readonly groups: number;
  readonly testGroups: number;
  /** Row bounds of group g: [groupStart[g], groupStart[g + 1]). */
  readonly groupStart: Int32Array;
  /** C(N, k) splits, lexicographic in their test groups. */
  readonly splits: readonly CpcvSplit[];
  /** Number of backtest paths φ = C(N, k) · k / N. */
  readonly paths: number;
  /** `pathSplits[p * N + g]`: the split whose test predictions fill group g on path p. */
  readonly pathSplits: Int32Array;
}

/** Options of {@link combinatorialPurgedSplits}. */
export interface CpcvOptions {
  /** Number of contiguous groups N (>= 2). */
  readonly groups: number;
  /** Test groups per split k, 1 <= k < N. */
  readonly testGroups: number;
  /** Label horizon h in rows: the label of row i uses rows i+1..i+h (>= 0). */
  readonly horizon: number;
  /** Rows dropped from training after each test block, beyond the purge (>= 0). */
  readonly embargo: number;
  /**
   * Row each label ends at (the last row its value depends on, e.g. a triple-barrier label's `end`), one per row,
   * `>= i` for row i; a negative entry (unknown label) counts as `i + horizon`. Absent = `i + horizon` for every row.
   * Purging then uses the real label spans: training row i is dropped when [i, labelEnd[i]] overlaps a test block's
   * span [a, max labelEnd over the block]; the embargo is the `embargo` rows after that span.
   */
  readonly labelEnd?: Int32Array;
}

/**
 * Returns the splits and backtest paths of combinatorial purged cross-validation (López de Prado 2018, "Advances in
 * Financial Machine Learning", ch. 12) over `rows` time-ordered rows:
 * - rows are cut into N contiguous groups of near-equal size (the first rows % N groups one row longer);
 * - every choice of k test groups (C(N, k) splits, lexicographic) tests on those groups and trains on the rest,
 *   minus the purge — training rows whose label window [i, i + h] overlaps a test row's [t, t + h], i.e. rows
 *   [a − h, b + h) around a test block [a, b) (with `labelEnd`: [i, labelEnd[i]] overlapping [a, max labelEnd of the
 *   block]) — and the embargo, the `embargo` rows after that;
 * - path p (of φ = C(N, k) · k / N) takes, for each group g, the p-th split (in split order) that tests g, so each
 *   path is a full out-of-sample backtest over all groups, assembled from different training sets.
 * @throws TrainingError `invalid_argument` for N < 2, k outside [1, N − 1], fewer rows than groups, or negative
 *   horizon/embargo.
 * @example
 * const plan = combinatorialPurgedSplits(600, { groups: 6, testGroups: 2, horizon: 6, embargo: 0 });
 * plan.splits.length; // 15
 * plan.paths;         // 5
 */
export function combinatorialPurgedSplits(rows: number, options: CpcvOptions): CpcvPlan {
  const { groups: n, testGroups: k, horizon, embargo } = options;
  if (!(Number.isInteger(n) && n >= 2)) throw new TrainingError('invalid_argument', `\`groups\` must be an integer >= 2, was ${n}`, { groups: n });
  if (!(Number.isInteger(k) && k >= 1 && k < n)) throw new TrainingError('invalid_argument', `\`testGroups\` must be an integer in [1, ${n - 1}], was ${k}`, { testGroups: k });
  if (!(Number.isInteger(rows) && rows >= n)) throw new TrainingError('invalid_argument', `\`rows\` must be an integer >= groups (${n}), was ${rows}`, { rows });
  if (!(Number.isInteger(horizon) && horizon >= 0)) throw new TrainingError('invalid_argument', `\`horizon\` must be an integer >= 0, was ${horizon}`, { horizon });
  if (!(Number.isInteger(embargo) && embargo >= 0)) throw new TrainingError('invalid_argument', `\`embargo\` must be an integer >= 0, was ${embargo}`, { embargo });
  const labelEnd = options.labelEnd;
  if (labelEnd !== undefined) {
    if (labelEnd.length !== rows) throw new TrainingError('invalid_argument', `\`labelEnd\` must hold one entry per row (${rows}), had ${labelEnd.length}`, { length: labelEnd.length });
    for (let i = 0; i < rows; i++) {
      const e = labelEnd[i]!;
      if (e >= 0 && e < i) throw new TrainingError('invalid_argument', `\`labelEnd[${i}]\` must be >= ${i} (a label cannot end before its row) or negative (unknown), was ${e}`, { row: i, labelEnd: e });
    }
  }
  const endOf = (i: number): number => (labelEnd !== undefined && labelEnd[i]! >= 0 ? labelEnd[i]! : i + horizon);
  const groupStart = new Int32Array(n + 1);
  const base = Math.floor(rows / n), extra = rows % n;
  for (let g = 0; g < n; g++) groupStart[g + 1] = groupStart[g]! + base + (g < extra ? 1 : 0);
  const combos = combinations(n, k);
  const splits: CpcvSplit[] = combos.map((testGroups, index) => {
    const mark = new Uint8Array(rows); // 0 train, 1 test, 2 purged/embargoed
    for (const g of testGroups) for (let i = groupStart[g]!; i < groupStart[g + 1]!; i++) mark[i] = 1;
    for (const g of testGroups) {
      const a = groupStart[g]!, b = groupStart[g + 1]!;
      let spanEnd = b - 1; // last row the block's labels depend on
      for (let i = a; i < b; i++) spanEnd = Math.max(spanEnd, endOf(i));
      for (let i = 0; i < rows; i++) {
        if (mark[i] !== 0) continue;
        const overlaps = i <= spanEnd && endOf(i) >= a;
        const embargoed = i > spanEnd && i <= spanEnd + embargo;
        if (overlaps || embargoed) mark[i] = 2;
      }
    }
    const train: number[] = [], test: number[] = [];
    for (let i = 0; i < rows; i++) {
      if (mark[i] === 0) train.push(i);
      else if (mark[i] === 1) test.push(i);
    }
    return { index, testGroups, train: Int32Array.from(train), test: Int32Array.from(test) };
  });
  const paths = (combos.length * k) / n;
  const pathSplits = new Int32Array(paths * n);
  const seen = new Int32Array(n);
  for (const s of splits) for (const g of s.testGroups) { pathSplits[seen[g]! * n + g] = s.index; seen[g] = seen[g]! + 1; }
  return { groups: n, testGroups: k, groupStart, splits, paths, pathSplits };
}

/** All k-subsets of 0..n−1 in lexicographic order. */
function combinations(n: number, k: number): number[][] {
  const out: number[][] = [];
  const pick: number[] = [];
  const walk = (from: number): void => {
    if (pick.length === k) { out.push([...pick]); return; }
    for (let i = from; i <= n - (k - pick.length); i++) { pick.push(i); walk(i + 1); pick.pop(); }
  };
  walk(0);
  return out;
}

/** Number of k-subsets of n items. */
export function binomialCoefficient(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
}

/** Export for {@link probabilityOfBacktestOverfitting}. @internal */
export { combinations };
