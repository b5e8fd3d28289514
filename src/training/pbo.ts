import { combinations } from './cpcv.js';
import { TrainingError } from './training-error.js';

/** Options of {@link probabilityOfBacktestOverfitting}. */
export interface PboOptions {
  /** Number of contiguous blocks S the rows are cut into (even, >= 2). */
  readonly blocks: number;
  /** Performance statistic per configuration and half: 'sharpe' (mean / sample sd, 0 when sd is 0) or 'mean'. */
  readonly metric: 'sharpe' | 'mean';
}

/** Result of {@link probabilityOfBacktestOverfitting}. */
export interface PboResult {
  /** Share of the C(S, S/2) in-sample/out-of-sample splits whose in-sample best ranks at or below the out-of-sample median (logit <= 0). */
  readonly pbo: number;
  /** Logit λ_c = ln(ω_c / (1 − ω_c)) per split, ω_c = out-of-sample rank of the in-sample best / (N + 1). */
  readonly logits: Float64Array;
  /** Index of the in-sample best configuration per split. */
  readonly selected: Int32Array;
  /** Out-of-sample statistic of the in-sample best, per split. */
  readonly outOfSample: Float64Array;
  /** In-sample statistic of the in-sample best, per split. */
  readonly inSample: Float64Array;
  readonly splits: number;
  readonly configurations: number;
}

/**
 * Returns the Probability of Backtest Overfitting by combinatorially symmetric cross-validation (Bailey, Borwein,
 * López de Prado & Zhu 2017, "The Probability of Backtest Overfitting", J. Computational Finance):
 * the T×N matrix `performance` (row t = period t, column n = configuration n's return in that period, row-major)
 * is cut into S contiguous blocks (near-equal, the first T % S one row longer); for each of the C(S, S/2) choices of
 * S/2 blocks as in-sample (the rest out-of-sample, in time order), the configuration n* with the best in-sample
 * statistic (first on ties) is ranked among all N by its out-of-sample statistic (rank 1 = worst, N = best, ties
 * averaged), ω = rank / (N + 1), λ = ln(ω / (1 − ω)); PBO = #{λ <= 0} / C(S, S/2) — the share of splits in which
 * the in-sample winner does no better than the out-of-sample median.
 * @throws TrainingError `invalid_argument` for N < 2, an odd or < 2 `blocks`, fewer rows than blocks, a matrix of
 *   the wrong length or a non-finite entry.
 * @example
 * probabilityOfBacktestOverfitting(returns, 2000, 40, { blocks: 16, metric: 'sharpe' }).pbo; // e.g. 0.43
 */
export function probabilityOfBacktestOverfitting(performance: Float64Array, rows: number, configurations: number, options: PboOptions): PboResult {
  const n = configurations, s = options.blocks;
  checkShape(rows, n, s);
  if (performance.length !== rows * n) throw new TrainingError('invalid_argument', `\`performance\` must hold rows × configurations = ${rows * n} values, was ${performance.length}`, { length: performance.length });
  for (let i = 0; i < performance.length; i++) {
    if (!Number.isFinite(performance[i]!)) throw new TrainingError('invalid_argument', `\`performance[${Math.floor(i / n)}][${i % n}]\` must be finite, was ${performance[i]}`, { row: Math.floor(i / n), column: i % n });
  }
  const sums = pboBlockSums(rows, n, s);
  for (let b = 0; b < s; b++) {
    for (let t = sums.start[b]!; t < sums.start[b + 1]!; t++) {
      for (let j = 0; j < n; j++) { const x = performance[t * n + j]!; sums.sum[b * n + j] += x; sums.sq[b * n + j] += x * x; }
    }
  }
  return pboFromBlockSums(sums, options.metric);
}

/** @throws TrainingError `invalid_argument` for < 2 configurations, an odd or < 2 block count, fewer rows than blocks. */
function checkShape(rows: number, n: number, s: number): void {
  if (!(Number.isInteger(n) && n >= 2)) throw new TrainingError('invalid_argument', `\`configurations\` must be an integer >= 2, was ${n}`, { configurations: n });
  if (!(Number.isInteger(s) && s >= 2 && s % 2 === 0)) throw new TrainingError('invalid_argument', `\`blocks\` must be an even integer >= 2, was ${s}`, { blocks: s });
  if (!(Number.isInteger(rows) && rows >= s)) throw new TrainingError('invalid_argument', `\`rows\` must be an integer >= blocks (${s}), was ${rows}`, { rows });
}

/**
 * Per block and configuration, the count, sum and sum of squares of a T×N performance matrix: all that the CSCV
 * statistics need (those of a union of blocks add up). Configuration j's entries of block b are
 * `sum[b * configurations + j]` and `sq[…]`, accumulated in time order.
 */
export interface PboBlockSums {
  readonly rows: number;
  readonly configurations: number;
  readonly blocks: number;
  /** Row where block b starts, b = 0…blocks (`start[blocks]` = rows): near-equal blocks, the first rows % blocks one row longer. */
  readonly start: Int32Array;
  readonly sum: Float64Array;
  readonly sq: Float64Array;
}

/**
 * Zeroed {@link PboBlockSums} for `configurations` series of `rows` periods cut into `blocks` blocks, to be filled
 * column by column (a configuration at a time, in time order) by a caller that never holds the whole matrix: the
 * sums are then the same, bit for bit, as {@link probabilityOfBacktestOverfitting}'s over the matrix.
 */
export function pboBlockSums(rows: number, configurations: number, blocks: number): PboBlockSums {
  const start = new Int32Array(blocks + 1);
  const base = Math.floor(rows / blocks), extra = rows % blocks;
  for (let b = 0; b < blocks; b++) start[b + 1] = start[b]! + base + (b < extra ? 1 : 0);
  return { rows, configurations, blocks, start, sum: new Float64Array(blocks * configurations), sq: new Float64Array(blocks * configurations) };
}

/**
 * {@link probabilityOfBacktestOverfitting} from the block sums of its matrix (see {@link pboBlockSums}).
 * @throws TrainingError `invalid_argument` for < 2 configurations, an odd or < 2 block count, fewer rows than blocks,
 *   sums of the wrong length or an unknown metric.
 */
export function pboFromBlockSums(sums: PboBlockSums, metric: PboOptions['metric']): PboResult {
  const { configurations: n, blocks: s, rows, start, sum, sq } = sums;
  checkShape(rows, n, s);
  if (start.length !== s + 1 || start[s] !== rows || sum.length !== s * n || sq.length !== s * n) {
    throw new TrainingError('invalid_argument', `block sums must hold ${s + 1} block starts ending at ${rows} and ${s * n} sums, held ${start.length} block starts ending at ${start[start.length - 1]} and ${sum.length}/${sq.length} sums`, { blocks: s, configurations: n });
  }
  if (metric !== 'sharpe' && metric !== 'mean') throw new TrainingError('invalid_argument', `\`metric\` must be 'sharpe' or 'mean', was ${JSON.stringify(metric)}`, { metric });
  const statistic = (blocks: readonly number[], j: number): number => {
    let count = 0, s1 = 0, s2 = 0;
    for (const b of blocks) { count += start[b + 1]! - start[b]!; s1 += sum[b * n + j]!; s2 += sq[b * n + j]!; }
    const mean = s1 / count;
    if (metric === 'mean') return mean;
    const variance = count > 1 ? Math.max(0, (s2 - count * mean * mean) / (count - 1)) : 0;
    return variance > 0 ? mean / Math.sqrt(variance) : 0;
  };
  const halves = combinations(s, s / 2);
  const logits = new Float64Array(halves.length), selected = new Int32Array(halves.length);
  const outOfSample = new Float64Array(halves.length), inSample = new Float64Array(halves.length);
  let overfit = 0;
  const oos = new Float64Array(n);
  halves.forEach((isBlocks, c) => {
    const oosBlocks = Array.from({ length: s }, (_, b) => b).filter((b) => !isBlocks.includes(b));
    let best = 0, bestValue = -Infinity;
    for (let j = 0; j < n; j++) { const v = statistic(isBlocks, j); if (v > bestValue) { bestValue = v; best = j; } }
    for (let j = 0; j < n; j++) oos[j] = statistic(oosBlocks, j);
    let below = 0, equal = 0;
    for (let j = 0; j < n; j++) { if (oos[j]! < oos[best]!) below++; else if (oos[j] === oos[best]) equal++; }
    const rank = below + (equal + 1) / 2; // average rank among ties, 1 = worst
    const omega = rank / (n + 1);
    const lambda = Math.log(omega / (1 - omega));
    logits[c] = lambda;
    selected[c] = best;
    inSample[c] = bestValue;
    outOfSample[c] = oos[best]!;
    if (lambda <= 0) overfit++;
  });
  return { pbo: overfit / halves.length, logits, selected, outOfSample, inSample, splits: halves.length, configurations: n };
}
