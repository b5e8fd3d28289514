import { seededRandom, type Random } from '../core/random.js';
import { deriveSeed, fitRandomForest, type FeatureMatrix, type RegressionTarget } from '../models/index.js';
import { binomialLowerTail, binomialUpperTail } from './stats.js';
import { TrainingError } from './training-error.js';

/** Parameters of {@link boruta} (parsed by the training config; defaults are declared there). */
export interface BorutaParams {
  /** Seed of every draw: row subsamples, shadow permutations, forests. */
  readonly seed: number;
  /** Boruta iterations N (each: new row subsample, new shadows, new forest). */
  readonly iterations: number;
  /** Family-wise significance level of the binomial test. */
  readonly alpha: number;
  /** Divide `alpha` by the number of features (Bonferroni) before testing each. */
  readonly bonferroni: boolean;
  /** Rows drawn (without replacement) per iteration; all rows when there are fewer. */
  readonly maxRows: number;
  /** Trees of each iteration's random forest. */
  readonly trees: number;
  readonly maxDepth: number;
  readonly minLeaf: number;
  /** Quantile bins per feature of the forest. */
  readonly maxBins: number;
}

/** Boruta's verdict on one feature. */
export type BorutaDecision = 'confirmed' | 'tentative' | 'rejected';

/** One feature's Boruta record. */
export interface BorutaFeature {
  /** Column index in the input matrix. */
  readonly index: number;
  readonly name: string;
  /** Iterations in which the feature's importance exceeded the largest shadow importance. */
  readonly hits: number;
  /** Mean normalised importance over the iterations (real and shadow importances sum to 1 per iteration). */
  readonly meanImportance: number;
  /** P(X >= hits), X ~ Binomial(N, 1/2). */
  readonly pConfirm: number;
  /** P(X <= hits), X ~ Binomial(N, 1/2). */
  readonly pReject: number;
  readonly decision: BorutaDecision;
}

/** Result of {@link boruta}. */
export interface BorutaResult {
  readonly iterations: number;
  readonly alpha: number;
  readonly bonferroni: boolean;
  /** Level each one-sided tail is compared with: `alpha / 2`, further divided by the feature count under Bonferroni. */
  readonly tailLevel: number;
  /** Rows used per iteration. */
  readonly rows: number;
  /** The largest shadow importance of each iteration. */
  readonly maxShadowImportance: readonly number[];
  /** One record per input column, in column order. */
  readonly features: readonly BorutaFeature[];
}

/**
 * All-relevant feature selection by Boruta (Kursa & Rudnicki 2010), deterministic from `params.seed`.
 * Each of N iterations draws `maxRows` rows without replacement, appends one shadow column per feature (that
 * feature's values permuted over the drawn rows, so shadows keep the marginal distribution and lose any link to the
 * target), fits a random forest (`fitRandomForest`, `mtry` = columns / 3) and reads `featureImportance()` (split gain,
 * normalised). A feature scores a hit when its importance exceeds the largest shadow importance.
 * Test: two-sided binomial test of hits against Binomial(N, 1/2) at `alpha` (each tail at `alpha / 2`), Bonferroni-
 * corrected over the features when `bonferroni` (default). Confirmed: P(X >= hits) <= level; rejected:
 * P(X <= hits) <= level; tentative otherwise. Unlike the R package, no feature is dropped between iterations (every
 * iteration sees every feature), so the result does not depend on the order of decisions.
 * @throws TrainingError `invalid_argument` when names and columns differ or there are fewer than 10 rows.
 * @example
 * const result = boruta({ values, rows, columns }, target, names, { seed: 1, iterations: 30, alpha: 0.05, bonferroni: true, maxRows: 3000, trees: 40, maxDepth: 6, minLeaf: 20, maxBins: 32 });
 * result.features.filter((f) => f.decision === 'confirmed').map((f) => f.name);
 */
export function boruta(matrix: FeatureMatrix, target: RegressionTarget, names: readonly string[], params: BorutaParams): BorutaResult {
  const { rows: n, columns: d, values } = matrix;
  if (names.length !== d) throw new TrainingError('invalid_argument', `names.length must equal matrix.columns = ${d}, was ${names.length}`, { names: names.length, columns: d });
  if (n < 10) throw new TrainingError('invalid_argument', `boruta needs at least 10 rows, was ${n}`, { rows: n });
  if (!(Number.isInteger(params.iterations) && params.iterations >= 1)) {
    throw new TrainingError('invalid_argument', `boruta \`iterations\` must be an integer >= 1, was ${params.iterations}`, { iterations: params.iterations });
  }
  const m = Math.min(n, params.maxRows);
  const width = 2 * d;
  const x = new Float64Array(m * width);
  const y = new Float64Array(m);
  const picked = new Int32Array(m);
  const order = new Int32Array(m);
  const hits = new Int32Array(d);
  const importanceSum = new Float64Array(d);
  const maxShadowImportance: number[] = [];

  for (let it = 0; it < params.iterations; it++) {
    const random = seededRandom(deriveSeed(params.seed, 2 * it));
    drawRows(n, m, random, picked);
    for (let r = 0; r < m; r++) {
      const src = picked[r]! * d;
      x.set(values.subarray(src, src + d), r * width);
      y[r] = target[picked[r]!]!;
    }
    for (let j = 0; j < d; j++) {
      for (let r = 0; r < m; r++) order[r] = r;
      shuffle(order, random);
      for (let r = 0; r < m; r++) x[r * width + d + j] = x[order[r]! * width + j]!;
    }
    const forest = fitRandomForest({ values: x, rows: m, columns: width }, y, {
      seed: deriveSeed(params.seed, 2 * it + 1),
      trees: params.trees,
      maxDepth: params.maxDepth,
      minLeaf: params.minLeaf,
      maxBins: params.maxBins,
    });
    const importance = forest.featureImportance();
    let shadowMax = 0;
    for (let j = d; j < width; j++) shadowMax = Math.max(shadowMax, importance[j]!);
    maxShadowImportance.push(shadowMax);
    for (let j = 0; j < d; j++) {
      importanceSum[j] += importance[j]!;
      if (importance[j]! > shadowMax) hits[j]++;
    }
  }

  const N = params.iterations;
  const tailLevel = params.alpha / 2 / (params.bonferroni ? d : 1);
  const features: BorutaFeature[] = [];
  for (let j = 0; j < d; j++) {
    const { pConfirm, pReject, decision } = borutaDecision(hits[j]!, N, tailLevel);
    features.push({ index: j, name: names[j]!, hits: hits[j]!, meanImportance: importanceSum[j]! / N, pConfirm, pReject, decision });
  }
  return { iterations: N, alpha: params.alpha, bonferroni: params.bonferroni, tailLevel, rows: m, maxShadowImportance, features };
}

/**
 * Returns Boruta's two-sided binomial decision for a feature that beat the best shadow feature `hits` times in
 * `iterations` rounds: pConfirm = P(X >= hits), pReject = P(X <= hits), X ~ Binomial(iterations, 1/2);
 * 'confirmed' when pConfirm <= tailLevel, else 'rejected' when pReject <= tailLevel, else 'tentative'.
 * Checked against scipy.stats.binom at the boundary hit counts (test/fixtures/regime/boruta-binomial-scipy.json).
 * @example borutaDecision(24, 30, 0.025).decision; // 'confirmed' (P(X >= 24) = 0.000715)
 */
export function borutaDecision(hits: number, iterations: number, tailLevel: number): { pConfirm: number; pReject: number; decision: BorutaDecision } {
  const pConfirm = binomialUpperTail(hits, iterations);
  const pReject = binomialLowerTail(hits, iterations);
  const decision: BorutaDecision = pConfirm <= tailLevel ? 'confirmed' : pReject <= tailLevel ? 'rejected' : 'tentative';
  return { pConfirm, pReject, decision };
}

/** Why a feature was kept by {@link selectFeatures}. */
export type SelectionReason = 'confirmed' | 'filled-tentative' | 'filled-rejected';

/** The features kept for training, in input column order. */
export interface FeatureSelection {
  /** Column indices into the Boruta input, ascending. */
  readonly indices: readonly number[];
  readonly names: readonly string[];
  readonly reasons: readonly SelectionReason[];
  /** Confirmed features dropped by the cap (lowest mean importance first). */
  readonly droppedConfirmed: readonly string[];
}

/**
 * Keeps between `min` and `max` features from a Boruta result, as the emulated system kept 9–13:
 * the confirmed features, capped at `max` by mean importance; when fewer than `min` are confirmed, the best tentative
 * ones (by mean importance) fill up to `min`, then, if still short, the best rejected ones. Returned in column order.
 * @throws TrainingError `invalid_argument` when `min > max` or `min` exceeds the feature count.
 */
export function selectFeatures(result: BorutaResult, min: number, max: number): FeatureSelection {
  if (!(Number.isInteger(min) && Number.isInteger(max) && 1 <= min && min <= max)) {
    throw new TrainingError('invalid_argument', `feature selection needs integers 1 <= min <= max, was min ${min}, max ${max}`, { min, max });
  }
  if (min > result.features.length) {
    throw new TrainingError('invalid_argument', `feature selection min must be <= the ${result.features.length} features, was ${min}`, { min, features: result.features.length });
  }
  const byImportance = (a: BorutaFeature, b: BorutaFeature) => b.meanImportance - a.meanImportance || a.index - b.index;
  const confirmed = result.features.filter((f) => f.decision === 'confirmed').sort(byImportance);
  const kept: { feature: BorutaFeature; reason: SelectionReason }[] = confirmed.slice(0, max).map((feature) => ({ feature, reason: 'confirmed' }));
  const droppedConfirmed = confirmed.slice(max).map((f) => f.name);
  for (const [decision, reason] of [
    ['tentative', 'filled-tentative'],
    ['rejected', 'filled-rejected'],
  ] as const) {
    if (kept.length >= min) break;
    const pool = result.features.filter((f) => f.decision === decision).sort(byImportance);
    for (const feature of pool.slice(0, min - kept.length)) kept.push({ feature, reason });
  }
  kept.sort((a, b) => a.feature.index - b.feature.index);
  return {
    indices: kept.map((k) => k.feature.index),
    names: kept.map((k) => k.feature.name),
    reasons: kept.map((k) => k.reason),
    droppedConfirmed,
  };
}

/** Writes `m` distinct indices of [0, n) in ascending order into `out` (selection sampling, Knuth's algorithm S). */
function drawRows(n: number, m: number, random: Random, out: Int32Array): void {
  let count = 0;
  for (let r = 0; r < n && count < m; r++) if (random() * (n - r) < m - count) out[count++] = r;
}

/** Fisher–Yates shuffle in place. */
function shuffle(a: Int32Array, random: Random): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
