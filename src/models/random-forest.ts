import { binFeatures } from './feature-binning.js';
import { checkTrainingData, type FeatureMatrix, type RegressionTarget } from './feature-matrix.js';
import { ModelError } from './model-error.js';
import { parseParams, RandomForestParamsSchema, type RandomForestParams } from './model-params.js';
import { deriveSeed, SeededRandom } from './seeded-random.js';
import { TreeEnsembleModel } from './tree-ensemble.js';
import { TreeGrower, type RegressionTree } from './tree-builder.js';

/**
 * Fits a random forest regressor: each tree is grown on a bootstrap sample (seeded per tree) over
 * histogram-binned features, drawing `mtry` candidate features per split; leaves hold the mean target.
 * The same seed, data and params give a byte-identical `JSON.stringify(model)`.
 * @throws ModelError `invalid_params` for a bad parameter, `invalid_data` for a malformed matrix or target.
 * @example
 * const model = fitRandomForest({ values, rows: n, columns: d }, y, { seed: 7, trees: 100, minLeaf: 10 });
 * model.predictInto(values, n, out);
 */
export function fitRandomForest(matrix: FeatureMatrix, target: RegressionTarget, params: Partial<RandomForestParams> & { seed: number }): TreeEnsembleModel {
  const p = parseParams(RandomForestParamsSchema, params, 'random forest');
  checkTrainingData(matrix, target);
  const { rows: n, columns: d } = matrix;
  const mtry = p.mtry ?? Math.max(1, Math.floor(d / 3));
  if (mtry > d) throw new ModelError('invalid_params', `random forest params.mtry must be <= columns = ${d}, was ${mtry}`, { parameter: 'mtry', value: mtry });
  const data = binFeatures(matrix, p.maxBins);
  const grower = new TreeGrower(data);
  const negated = new Float64Array(n);
  for (let r = 0; r < n; r++) negated[r] = -target[r]!;
  const candidates = Int32Array.from({ length: d }, (_, f) => f);
  const draws = Math.max(1, Math.round(p.sampleFraction * n));
  const rowIndex = new Int32Array(draws);
  const counts = new Int32Array(n);
  const options = { maxDepth: p.maxDepth ?? Number.MAX_SAFE_INTEGER, minLeaf: p.minLeaf, lambda: 0, minSplitGain: 0, featuresPerSplit: mtry, shrinkage: 1 };
  const trees: RegressionTree[] = [];
  for (let t = 0; t < p.trees; t++) {
    const random = new SeededRandom(deriveSeed(p.seed, t));
    let count = 0;
    if (p.bootstrap) {
      counts.fill(0);
      for (let i = 0; i < draws; i++) counts[random.nextInt(n)]++;
      // Rows in ascending order (repeats adjacent) keep histogram reads sequential.
      for (let r = 0; r < n; r++) for (let c = counts[r]!; c > 0; c--) rowIndex[count++] = r;
    } else {
      // Selection sampling (Knuth's algorithm S): `draws` distinct rows in ascending order.
      for (let r = 0; r < n && count < draws; r++) if (random.nextFloat() * (n - r) < draws - count) rowIndex[count++] = r;
    }
    trees.push(grower.grow(negated, rowIndex, count, candidates, options, random));
  }
  return new TreeEnsembleModel({ kind: 'random-forest', featureCount: d, aggregate: 'AVERAGE', baseScore: 0, params: { ...p, mtry }, trees });
}
