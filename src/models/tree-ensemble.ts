import { z } from 'zod';
import { ModelError } from './model-error.js';
import type { RegressionTree } from './tree-builder.js';

/** Which learner produced a {@link TreeEnsembleModel}. */
export type TreeEnsembleKind = 'random-forest' | 'gradient-boosting';

/**
 * How tree outputs combine: `SUM` adds every tree's leaf to `baseScore` (boosting, learning rate folded into
 * the leaves); `AVERAGE` divides the sum by the tree count, then adds `baseScore` (forest). Same names and
 * order of operations as ONNX `TreeEnsembleRegressor.aggregate_function`.
 */
export type TreeAggregate = 'SUM' | 'AVERAGE';

/** The JSON form of a {@link TreeEnsembleModel} (for the model card); numbers only, stable key order. */
export interface TreeEnsembleJson {
  readonly format: 'trade-matrix/tree-ensemble';
  readonly version: 1;
  readonly kind: TreeEnsembleKind;
  readonly featureCount: number;
  readonly aggregate: TreeAggregate;
  readonly baseScore: number;
  /** Training parameters including `seed`, as parsed (defaults filled in). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly trees: readonly TreeJson[];
}

/** One tree of {@link TreeEnsembleJson}; parallel arrays indexed by node id. */
export interface TreeJson {
  readonly feature: readonly number[];
  readonly threshold: readonly number[];
  readonly left: readonly number[];
  readonly right: readonly number[];
  readonly value: readonly number[];
  readonly gain: readonly number[];
  readonly cover: readonly number[];
}

/**
 * An immutable ensemble of regression trees over `featureCount` features, from `fitRandomForest`,
 * `fitGradientBoosting` or `fitMore`. Splits and leaves are float32 values and rows are compared as float32,
 * so predictions agree with the ONNX export run by onnxruntime (to float32 summation error).
 */
export class TreeEnsembleModel {
  readonly kind: TreeEnsembleKind;
  readonly featureCount: number;
  readonly aggregate: TreeAggregate;
  /** Float32-representable constant added to every prediction. */
  readonly baseScore: number;
  readonly params: Readonly<Record<string, unknown>>;
  readonly trees: readonly RegressionTree[];
  // All trees' nodes concatenated, child indices absolute: the prediction hot loop reads only these.
  private readonly roots: Int32Array;
  private readonly nodeFeature: Int32Array;
  private readonly nodeThreshold: Float64Array;
  private readonly nodeLeft: Int32Array;
  private readonly nodeRight: Int32Array;
  private readonly nodeValue: Float64Array;

  /** Use the fit functions or {@link TreeEnsembleModel.fromJSON}; the constructor trusts its inputs. */
  constructor(init: {
    kind: TreeEnsembleKind;
    featureCount: number;
    aggregate: TreeAggregate;
    baseScore: number;
    params: Readonly<Record<string, unknown>>;
    trees: readonly RegressionTree[];
  }) {
    this.kind = init.kind;
    this.featureCount = init.featureCount;
    this.aggregate = init.aggregate;
    this.baseScore = Math.fround(init.baseScore);
    this.params = Object.freeze({ ...init.params });
    this.trees = Object.freeze(init.trees.map(stripTree));
    let total = 0;
    for (const t of this.trees) total += t.feature.length;
    this.roots = new Int32Array(this.trees.length);
    this.nodeFeature = new Int32Array(total);
    this.nodeThreshold = new Float64Array(total);
    this.nodeLeft = new Int32Array(total);
    this.nodeRight = new Int32Array(total);
    this.nodeValue = new Float64Array(total);
    let offset = 0;
    this.trees.forEach((t, i) => {
      this.roots[i] = offset;
      for (let j = 0; j < t.feature.length; j++) {
        this.nodeFeature[offset + j] = t.feature[j]!;
        this.nodeThreshold[offset + j] = t.threshold[j]!;
        this.nodeLeft[offset + j] = t.left[j]! + offset;
        this.nodeRight[offset + j] = t.right[j]! + offset;
        this.nodeValue[offset + j] = t.value[j]!;
      }
      offset += t.feature.length;
    });
  }

  /** Number of trees. */
  get treeCount(): number {
    return this.trees.length;
  }

  /**
   * Writes the prediction of each of the first `rows` rows of the row-major matrix `values`
   * (`featureCount` columns) into `out[0, rows)`. Allocates nothing.
   * @throws ModelError `shape_mismatch` when `values` or `out` is too short.
   */
  predictInto(values: Float64Array | Float32Array, rows: number, out: Float64Array | Float32Array): void {
    const d = this.featureCount;
    if (!Number.isInteger(rows) || rows < 0 || values.length < rows * d) {
      throw new ModelError('shape_mismatch', `values.length must be >= rows * featureCount = ${rows} * ${d}, was ${values.length}`, { rows, featureCount: d, length: values.length });
    }
    if (out.length < rows) throw new ModelError('shape_mismatch', `out.length must be >= rows = ${rows}, was ${out.length}`, { rows, length: out.length });
    for (let r = 0; r < rows; r++) out[r] = this.predictAt(values, r * d);
  }

  /** Returns the prediction for the row starting at `values[offset]` (`featureCount` values). Unchecked. */
  predictAt(values: Float64Array | Float32Array, offset: number): number {
    const sum = this.sumTreesAt(values, offset);
    return this.aggregate === 'AVERAGE' ? sum / this.roots.length + this.baseScore : sum + this.baseScore;
  }

  /** Returns the plain sum of the trees' leaf values for the row at `values[offset]` (no base score, no averaging). Unchecked. */
  sumTreesAt(values: Float64Array | Float32Array, offset: number): number {
    const { roots, nodeFeature, nodeThreshold, nodeLeft, nodeRight, nodeValue } = this;
    let sum = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let f = nodeFeature[node]!;
      while (f >= 0) {
        node = Math.fround(values[offset + f]!) <= nodeThreshold[node]! ? nodeLeft[node]! : nodeRight[node]!;
        f = nodeFeature[node]!;
      }
      sum += nodeValue[node]!;
    }
    return sum;
  }

  /**
   * Returns the total split gain (loss reduction; variance reduction for a forest) per feature, normalised
   * to sum to 1 (all zeros when no tree splits). Index = feature column.
   */
  featureImportance(): Float64Array {
    const importance = new Float64Array(this.featureCount);
    for (const t of this.trees) for (let j = 0; j < t.feature.length; j++) if (t.feature[j]! >= 0) importance[t.feature[j]!] += t.gain[j]!;
    let total = 0;
    for (let f = 0; f < importance.length; f++) total += importance[f]!;
    if (total > 0) for (let f = 0; f < importance.length; f++) importance[f] /= total;
    return importance;
  }

  /** Returns the JSON form; the same model always gives the same text through `JSON.stringify`. */
  toJSON(): TreeEnsembleJson {
    return {
      format: 'trade-matrix/tree-ensemble',
      version: 1,
      kind: this.kind,
      featureCount: this.featureCount,
      aggregate: this.aggregate,
      baseScore: this.baseScore,
      params: this.params,
      trees: this.trees.map((t) => ({
        feature: Array.from(t.feature),
        threshold: Array.from(t.threshold),
        left: Array.from(t.left),
        right: Array.from(t.right),
        value: Array.from(t.value),
        gain: Array.from(t.gain),
        cover: Array.from(t.cover),
      })),
    };
  }

  /**
   * Reads a model from its JSON form (parsed object), checking every invariant.
   * @throws ModelError `invalid_model` naming the first problem.
   */
  static fromJSON(json: unknown): TreeEnsembleModel {
    const parsed = TreeEnsembleJsonSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ModelError('invalid_model', `model JSON ${issue.path.join('.') || '(root)'}: ${issue.message}`, { path: issue.path });
    }
    const m = parsed.data;
    const trees = m.trees.map((t, i) => {
      const n = t.feature.length;
      for (const key of ['threshold', 'left', 'right', 'value', 'gain', 'cover'] as const) {
        if (t[key].length !== n) throw new ModelError('invalid_model', `model JSON trees.${i}.${key}.length must equal trees.${i}.feature.length = ${n}, was ${t[key].length}`, { tree: i });
      }
      for (let j = 0; j < n; j++) {
        const f = t.feature[j]!;
        if (f >= m.featureCount) throw new ModelError('invalid_model', `model JSON trees.${i}.feature.${j} must be < featureCount = ${m.featureCount}, was ${f}`, { tree: i, node: j });
        // Children must come after their parent, which also rules out cycles.
        if (f >= 0 && !(t.left[j]! > j && t.left[j]! < n && t.right[j]! > j && t.right[j]! < n)) {
          throw new ModelError('invalid_model', `model JSON trees.${i} node ${j}: children must be node ids in (${j}, ${n}), were ${t.left[j]} and ${t.right[j]}`, { tree: i, node: j });
        }
      }
      return {
        feature: Int32Array.from(t.feature),
        threshold: Float32Array.from(t.threshold),
        left: Int32Array.from(t.left),
        right: Int32Array.from(t.right),
        value: Float64Array.from(t.value, Math.fround),
        gain: Float64Array.from(t.gain),
        cover: Float64Array.from(t.cover),
      };
    });
    return new TreeEnsembleModel({ kind: m.kind, featureCount: m.featureCount, aggregate: m.aggregate, baseScore: m.baseScore, params: m.params, trees });
  }
}

function stripTree(t: RegressionTree): RegressionTree {
  return Object.freeze({ feature: t.feature, threshold: t.threshold, left: t.left, right: t.right, value: t.value, gain: t.gain, cover: t.cover });
}

const numbers = z.array(z.number());
const TreeEnsembleJsonSchema = z
  .object({
    format: z.literal('trade-matrix/tree-ensemble'),
    version: z.literal(1),
    kind: z.enum(['random-forest', 'gradient-boosting']),
    featureCount: z.number().int().min(1),
    aggregate: z.enum(['SUM', 'AVERAGE']),
    baseScore: z.number(),
    params: z.record(z.string(), z.unknown()),
    trees: z.array(
      z
        .object({ feature: z.array(z.number().int().min(-1)).min(1), threshold: numbers, left: z.array(z.number().int()), right: z.array(z.number().int()), value: numbers, gain: numbers, cover: numbers })
        .strict(),
    ).min(1),
  })
  .strict();
