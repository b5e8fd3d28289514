import { binFeatures } from './feature-binning.js';
import { checkTrainingData, type FeatureMatrix, type RegressionTarget } from './feature-matrix.js';
import { ModelError } from './model-error.js';
import { GradientBoostingParamsSchema, parseParams, type GradientBoostingParams } from './model-params.js';
import { deriveSeed, SeededRandom } from './seeded-random.js';
import { TreeEnsembleModel } from './tree-ensemble.js';
import { binnedLeafValue, TreeGrower, type RegressionTree } from './tree-builder.js';

/**
 * Fits gradient-boosted regression trees on squared loss: each round grows a depth-limited tree on the
 * residuals of a row subsample over quantile-binned features with XGBoost-style gain (L2 penalty `lambda`,
 * minimum gain `minSplitGain`); leaf values are scaled by `learningRate` and rounded to float32.
 * The initial score is the float32 mean of the target. Same seed + data + params → byte-identical JSON.
 * @throws ModelError `invalid_params` for a bad parameter, `invalid_data` for a malformed matrix or target.
 * @example
 * const model = fitGradientBoosting({ values, rows: n, columns: d }, y, { seed: 7, rounds: 300, maxDepth: 5 });
 * const importance = model.featureImportance(); // sums to 1
 */
export function fitGradientBoosting(matrix: FeatureMatrix, target: RegressionTarget, params: Partial<GradientBoostingParams> & { seed: number }): TreeEnsembleModel {
  const p = parseParams(GradientBoostingParamsSchema, params, 'gradient boosting');
  checkTrainingData(matrix, target);
  let mean = 0;
  for (let r = 0; r < matrix.rows; r++) mean += target[r]!;
  const baseScore = Math.fround(mean / matrix.rows);
  const trees = boost(matrix, target, baseScore, new Float64Array(matrix.rows), p, 0, p.rounds);
  return new TreeEnsembleModel({ kind: 'gradient-boosting', featureCount: matrix.columns, aggregate: 'SUM', baseScore, params: p, trees });
}

/**
 * Continues boosting `model` for `rounds` more trees on (`matrix`, `target`), starting from the model's own
 * predictions: the transfer-learning hook (pretrain on pooled symbols, fine-tune on one). `overrides` may
 * change the learning rate and tree controls of the new trees (not `seed`, which stays the model's, nor
 * `maxBins`'s effect on existing trees). The new trees' random streams continue the model's, so
 * `fitMore(fit(r rounds), same data, k)` equals `fit(r + k rounds)` byte for byte.
 * @throws ModelError `invalid_params` when `model` is not gradient boosting or an override is bad;
 * `invalid_data` when `matrix.columns` differs from the model's feature count or the data is malformed.
 */
export function fitMore(
  model: TreeEnsembleModel,
  matrix: FeatureMatrix,
  target: RegressionTarget,
  rounds: number,
  overrides: Partial<Omit<GradientBoostingParams, 'seed' | 'rounds'>> = {},
): TreeEnsembleModel {
  if (model.kind !== 'gradient-boosting') {
    throw new ModelError('invalid_params', `fitMore model.kind must be "gradient-boosting", was ${JSON.stringify(model.kind)}`, { kind: model.kind });
  }
  if (!Number.isInteger(rounds) || rounds < 1) throw new ModelError('invalid_params', `fitMore rounds must be an integer >= 1, was ${rounds}`, { parameter: 'rounds', value: rounds });
  if (matrix.columns !== model.featureCount) {
    throw new ModelError('invalid_data', `matrix.columns must equal the model's featureCount = ${model.featureCount}, was ${matrix.columns}`, { columns: matrix.columns });
  }
  const previous = parseParams(GradientBoostingParamsSchema, model.params, 'model');
  const p = parseParams(GradientBoostingParamsSchema, { ...previous, ...overrides, seed: previous.seed, rounds: previous.rounds + rounds }, 'fitMore');
  checkTrainingData(matrix, target);
  const treeSum = new Float64Array(matrix.rows);
  for (let r = 0; r < matrix.rows; r++) treeSum[r] = model.sumTreesAt(matrix.values, r * matrix.columns);
  const trees = boost(matrix, target, model.baseScore, treeSum, p, model.treeCount, rounds);
  return new TreeEnsembleModel({ kind: 'gradient-boosting', featureCount: model.featureCount, aggregate: 'SUM', baseScore: model.baseScore, params: p, trees: [...model.trees, ...trees] });
}

/**
 * Grows trees `first .. first + rounds - 1` on the residuals of `treeSum + baseScore` (`treeSum` is updated in
 * place, summed in tree order exactly as `TreeEnsembleModel.predictAt` sums).
 */
function boost(matrix: FeatureMatrix, target: RegressionTarget, baseScore: number, treeSum: Float64Array, p: GradientBoostingParams, first: number, rounds: number): RegressionTree[] {
  const { rows: n, columns: d } = matrix;
  const data = binFeatures(matrix, p.maxBins);
  const grower = new TreeGrower(data);
  const gradient = new Float64Array(n);
  const rowIndex = new Int32Array(n);
  const allFeatures = Int32Array.from({ length: d }, (_, f) => f);
  const perTree = Math.max(1, Math.round(p.featureFraction * d));
  const options = { maxDepth: p.maxDepth, minLeaf: p.minLeaf, lambda: p.lambda, minSplitGain: p.minSplitGain, featuresPerSplit: d, shrinkage: p.learningRate };
  const trees: RegressionTree[] = [];
  for (let t = first; t < first + rounds; t++) {
    const random = new SeededRandom(deriveSeed(p.seed, t));
    for (let r = 0; r < n; r++) gradient[r] = treeSum[r]! + baseScore - target[r]!;
    let count = 0;
    if (p.subsample < 1) {
      for (let r = 0; r < n; r++) if (random.nextFloat() < p.subsample) rowIndex[count++] = r;
    } else {
      for (let r = 0; r < n; r++) rowIndex[count++] = r;
    }
    let candidates = allFeatures;
    if (perTree < d) {
      const shuffled = Int32Array.from(allFeatures);
      for (let j = 0; j < perTree; j++) {
        const pick = j + random.nextInt(d - j);
        const x = shuffled[j]!;
        shuffled[j] = shuffled[pick]!;
        shuffled[pick] = x;
      }
      candidates = shuffled.subarray(0, perTree).sort();
    }
    const tree = grower.grow(gradient, rowIndex, count, candidates, options, random);
    const bins = data.bins;
    for (let r = 0, base = 0; r < n; r++, base += d) treeSum[r] += binnedLeafValue(tree, bins, base);
    trees.push(tree);
  }
  return trees;
}
