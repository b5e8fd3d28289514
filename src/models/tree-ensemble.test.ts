import { describe, expect, it } from 'vitest';
import { syntheticProblem } from './synthetic-problem.js';
import { fitGradientBoosting, fitMore, fitRandomForest, ModelError, TreeEnsembleModel, type FeatureMatrix } from './index.js';

function r2(model: TreeEnsembleModel, matrix: FeatureMatrix, target: Float64Array): number {
  const out = new Float64Array(matrix.rows);
  model.predictInto(matrix.values, matrix.rows, out);
  let mean = 0;
  for (const v of target) mean += v / target.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < target.length; i++) {
    residual += (out[i]! - target[i]!) ** 2;
    total += (target[i]! - mean) ** 2;
  }
  return 1 - residual / total;
}

function caught(fn: () => unknown): ModelError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModelError) return e;
    throw e;
  }
  throw new Error('expected a ModelError');
}

const train = syntheticProblem(4000, 12, 11);
const holdout = syntheticProblem(2000, 12, 12);

describe('fitGradientBoosting', () => {
  const model = fitGradientBoosting(train.matrix, train.target, { seed: 3, rounds: 120, maxDepth: 4, learningRate: 0.1 });

  it('learns the synthetic signal', () => {
    expect(model.treeCount).toBe(120);
    expect(r2(model, holdout.matrix, holdout.target)).toBeGreaterThan(0.7);
  });

  it('ranks the informative features first in a normalised importance', () => {
    const importance = model.featureImportance();
    expect(importance.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const ranked = Array.from(importance.keys()).sort((a, b) => importance[b]! - importance[a]!);
    expect(ranked.slice(0, 3).sort()).toEqual([0, 1, 2]);
  });

  it('is deterministic: same seed and data give byte-identical JSON; another seed differs', () => {
    const again = fitGradientBoosting(train.matrix, train.target, { seed: 3, rounds: 120, maxDepth: 4, learningRate: 0.1 });
    expect(JSON.stringify(again)).toBe(JSON.stringify(model));
    const other = fitGradientBoosting(train.matrix, train.target, { seed: 4, rounds: 120, maxDepth: 4, learningRate: 0.1 });
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(model));
  });

  it('round-trips through JSON with identical predictions', () => {
    const copy = TreeEnsembleModel.fromJSON(JSON.parse(JSON.stringify(model)));
    const a = new Float64Array(holdout.matrix.rows);
    const b = new Float64Array(holdout.matrix.rows);
    model.predictInto(holdout.matrix.values, holdout.matrix.rows, a);
    copy.predictInto(holdout.matrix.values, holdout.matrix.rows, b);
    expect(b).toEqual(a);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(model));
  });

  it('compares rows in float32: Float64 and Float32 inputs predict the same', () => {
    const a = new Float64Array(holdout.matrix.rows);
    const b = new Float32Array(holdout.matrix.rows);
    const c = new Float64Array(holdout.matrix.rows);
    model.predictInto(holdout.matrix.values, holdout.matrix.rows, a);
    model.predictInto(Float32Array.from(holdout.matrix.values), holdout.matrix.rows, c);
    model.predictInto(holdout.matrix.values, holdout.matrix.rows, b);
    expect(c).toEqual(a);
    expect(b).toEqual(Float32Array.from(a));
  });

  it('sends NaN features down the right branch and stays finite', () => {
    const row = Float64Array.from(holdout.matrix.values.subarray(0, 12)).fill(NaN);
    const out = new Float64Array(1);
    model.predictInto(row, 1, out);
    expect(Number.isFinite(out[0]!)).toBe(true);
  });
});

describe('fitMore', () => {
  const params = { seed: 9, rounds: 40, maxDepth: 3, learningRate: 0.1 };

  it('continuing r rounds by k equals fitting r + k rounds', () => {
    const base = fitGradientBoosting(train.matrix, train.target, params);
    const continued = fitMore(base, train.matrix, train.target, 25);
    const direct = fitGradientBoosting(train.matrix, train.target, { ...params, rounds: 65 });
    expect(JSON.stringify(continued)).toBe(JSON.stringify(direct));
  });

  it('fine-tunes a pooled model on another data set (transfer learning)', () => {
    const shifted = syntheticProblem(3000, 12, 21);
    const target = shifted.target.map((v, i) => v + 0.01 * Math.sign(shifted.matrix.values[i * 12 + 5]!));
    const pooled = fitGradientBoosting(train.matrix, train.target, params);
    const tuned = fitMore(pooled, shifted.matrix, target, 60, { learningRate: 0.05 });
    expect(tuned.treeCount).toBe(100);
    expect(tuned.params['learningRate']).toBe(0.05);
    expect(tuned.baseScore).toBe(pooled.baseScore);
    expect(r2(tuned, shifted.matrix, target)).toBeGreaterThan(r2(pooled, shifted.matrix, target) + 0.1);
  });

  it('refuses a forest and a matrix of another width', () => {
    const forest = fitRandomForest(train.matrix, train.target, { seed: 1, trees: 2, maxDepth: 2 });
    expect(caught(() => fitMore(forest, train.matrix, train.target, 5)).message).toBe('fitMore model.kind must be "gradient-boosting", was "random-forest"');
    const model = fitGradientBoosting(train.matrix, train.target, { ...params, rounds: 2 });
    const narrow = syntheticProblem(100, 5, 1);
    expect(caught(() => fitMore(model, narrow.matrix, narrow.target, 5)).code).toBe('invalid_data');
  });
});

describe('fitRandomForest', () => {
  const model = fitRandomForest(train.matrix, train.target, { seed: 5, trees: 40, minLeaf: 5 });

  it('learns the synthetic signal with averaged bootstrap trees', () => {
    expect(model.aggregate).toBe('AVERAGE');
    expect(model.params['mtry']).toBe(4);
    expect(r2(model, holdout.matrix, holdout.target)).toBeGreaterThan(0.6);
    const importance = model.featureImportance();
    expect(importance.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(importance[0]!).toBeGreaterThan(importance[6]!);
  });

  it('is deterministic per seed', () => {
    const again = fitRandomForest(train.matrix, train.target, { seed: 5, trees: 40, minLeaf: 5 });
    expect(JSON.stringify(again)).toBe(JSON.stringify(model));
  });

  it('respects depth and leaf-size limits', () => {
    const shallow = fitRandomForest(train.matrix, train.target, { seed: 5, trees: 5, maxDepth: 3, minLeaf: 50, bootstrap: false, sampleFraction: 0.5 });
    for (const tree of shallow.trees) {
      const depth = (node: number): number => (tree.feature[node]! < 0 ? 0 : 1 + Math.max(depth(tree.left[node]!), depth(tree.right[node]!)));
      expect(depth(0)).toBeLessThanOrEqual(3);
      for (let j = 0; j < tree.feature.length; j++) if (tree.feature[j]! < 0) expect(tree.cover[j]!).toBeGreaterThanOrEqual(50);
      expect(tree.cover[0]).toBe(2000);
    }
  });
});

describe('errors', () => {
  it('names the parameter, the rule and the value', () => {
    const e = caught(() => fitGradientBoosting(train.matrix, train.target, { seed: 1, learningRate: 0 }));
    expect(e.code).toBe('invalid_params');
    expect(e.message).toBe('gradient boosting params.learningRate: Too small: expected number to be >0, was 0');
    expect(caught(() => fitRandomForest(train.matrix, train.target, { seed: 1, mtry: 13 })).message).toBe('random forest params.mtry must be <= columns = 12, was 13');
    expect(caught(() => fitRandomForest(train.matrix, train.target, { seed: 1, treeCount: 3 } as never)).message).toContain('params.treeCount');
  });

  it('rejects malformed data', () => {
    const target = Float64Array.from(train.target);
    target[7] = NaN;
    expect(caught(() => fitGradientBoosting(train.matrix, target, { seed: 1 })).message).toBe('target[7] must be finite, was NaN');
    const values = Float64Array.from(train.matrix.values);
    values[13] = Infinity;
    expect(caught(() => fitGradientBoosting({ ...train.matrix, values }, train.target, { seed: 1, rounds: 1 })).message).toBe('feature value at row 1, column 1 must be finite or NaN, was Infinity');
    expect(caught(() => fitGradientBoosting(train.matrix, train.target.subarray(1), { seed: 1 })).message).toBe('target.length must equal matrix.rows = 4000, was 3999');
  });

  it('checks prediction shapes', () => {
    const model = fitGradientBoosting(train.matrix, train.target, { seed: 1, rounds: 2 });
    expect(caught(() => model.predictInto(new Float64Array(23), 2, new Float64Array(2))).code).toBe('shape_mismatch');
    expect(caught(() => model.predictInto(new Float64Array(24), 2, new Float64Array(1))).message).toBe('out.length must be >= rows = 2, was 1');
  });

  it('refuses corrupt model JSON', () => {
    const json = JSON.parse(JSON.stringify(fitGradientBoosting(train.matrix, train.target, { seed: 1, rounds: 2, maxDepth: 2 })));
    json.trees[1].left[0] = 0;
    expect(caught(() => TreeEnsembleModel.fromJSON(json)).message).toMatch(/^model JSON trees.1 node 0: children must be node ids in \(0, \d+\), were 0 and \d+$/);
  });
});
