import { afterAll, describe, expect, it } from 'vitest';
import { barFeatureTable } from '../../test/fixtures/models/bar-features.js';
import { syntheticProblem } from './synthetic-problem.js';
import { exportOnnx, fitGradientBoosting, fitRandomForest, loadOnnxModel, ModelError, onnxSchema, readOnnxMetadata, type FeatureMatrix, type OnnxModel, type TreeEnsembleModel } from './index.js';

/**
 * Differential test (STYLE.md §5): TypeScript tree predictions vs onnxruntime-node running the exported ONNX
 * model, on every row of a ≥ 20k-row matrix, for both ensemble kinds.
 */
const TOLERANCE = 1e-5;
const HASH = 'sha256:parity-test-spec';
const opened: OnnxModel[] = [];
afterAll(async () => {
  for (const m of opened) await m.close();
});

async function parity(model: TreeEnsembleModel, matrix: FeatureMatrix, featureNames: readonly string[], label: string): Promise<number> {
  const bytes = exportOnnx(model, { featureNames, featureSpecHash: HASH, trainedAt: '2026-01-01T00:00:00.000Z' });
  const onnx = await loadOnnxModel(bytes, { featureNames, featureSpecHash: HASH }, { intraOpThreads: 2 });
  opened.push(onnx);
  const rows = Float32Array.from(matrix.values);
  const fromOnnx = await onnx.predict(rows);
  const fromTs = new Float64Array(matrix.rows);
  model.predictInto(matrix.values, matrix.rows, fromTs);
  let maxError = 0;
  let maxAbs = 0;
  for (let i = 0; i < matrix.rows; i++) {
    maxError = Math.max(maxError, Math.abs(fromOnnx[i]! - fromTs[i]!));
    maxAbs = Math.max(maxAbs, Math.abs(fromTs[i]!));
  }
  console.log(`parity ${label}: ${matrix.rows} rows, ${model.treeCount} trees, ONNX ${bytes.length} bytes, max |ts - onnxruntime| = ${maxError.toExponential(3)} (max |prediction| ${maxAbs.toExponential(3)})`);
  return maxError;
}

describe('TS vs onnxruntime-node parity', () => {
  const synthetic = syntheticProblem(25_000, 40, 101);

  it('gradient boosting, synthetic 25k × 40', { timeout: 120_000 }, async () => {
    const model = fitGradientBoosting(synthetic.matrix, synthetic.target, { seed: 1, rounds: 300, maxDepth: 6 });
    expect(await parity(model, synthetic.matrix, synthetic.featureNames, 'gbdt synthetic')).toBeLessThanOrEqual(TOLERANCE);
  });

  it('random forest, synthetic 25k × 40', { timeout: 120_000 }, async () => {
    const model = fitRandomForest(synthetic.matrix, synthetic.target, { seed: 1, trees: 40, minLeaf: 5 });
    expect(await parity(model, synthetic.matrix, synthetic.featureNames, 'rf synthetic')).toBeLessThanOrEqual(TOLERANCE);
  });

  describe('real binance-spot 4h bars (BTC, ETH, SOL pooled)', () => {
    const table = barFeatureTable(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);

    it('has ≥ 20k rows of 40 returns-derived features', () => {
      expect(table.matrix.rows).toBeGreaterThanOrEqual(20_000);
      expect(table.matrix.columns).toBe(40);
    });

    it('gradient boosting', { timeout: 120_000 }, async () => {
      const model = fitGradientBoosting(table.matrix, table.target, { seed: 2, rounds: 200, maxDepth: 5, learningRate: 0.05 });
      expect(await parity(model, table.matrix, table.featureNames, 'gbdt real')).toBeLessThanOrEqual(TOLERANCE);
    });

    it('random forest', { timeout: 120_000 }, async () => {
      const model = fitRandomForest(table.matrix, table.target, { seed: 2, trees: 30, minLeaf: 20 });
      expect(await parity(model, table.matrix, table.featureNames, 'rf real')).toBeLessThanOrEqual(TOLERANCE);
    });
  });
});

describe('ONNX export', () => {
  const small = syntheticProblem(3000, 8, 5);
  const model = fitGradientBoosting(small.matrix, small.target, { seed: 8, rounds: 30, maxDepth: 3 });
  const bytes = exportOnnx(model, { featureNames: small.featureNames, featureSpecHash: HASH, trainedAt: '2026-01-02T03:04:05.000Z' });

  it('writes one ai.onnx.ml TreeEnsembleRegressor node with opsets, signature and metadata', () => {
    const ModelProto = onnxSchema().lookupType('onnx.ModelProto');
    const proto = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: String }) as {
      ir_version: number;
      opset_import: { domain?: string; version: number }[];
      graph: { node: { op_type: string; domain: string; attribute: { name: string; s?: string; floats?: number[] }[] }[]; input: { name: string }[]; output: { name: string }[] };
    };
    expect(proto.ir_version).toBe(8);
    expect(proto.opset_import.map((o) => [o.domain ?? '', o.version])).toEqual([
      ['', 17],
      ['ai.onnx.ml', 3],
    ]);
    expect(proto.graph.node.map((n) => [n.domain, n.op_type])).toEqual([['ai.onnx.ml', 'TreeEnsembleRegressor']]);
    const attribute = (name: string) => proto.graph.node[0]!.attribute.find((a) => a.name === name)!;
    expect(Buffer.from(attribute('aggregate_function').s!, 'base64').toString()).toBe('SUM');
    expect(Buffer.from(attribute('post_transform').s!, 'base64').toString()).toBe('NONE');
    expect(attribute('base_values').floats).toEqual([model.baseScore]);
    expect(proto.graph.input.map((i) => i.name)).toEqual(['features']);
    expect(proto.graph.output.map((o) => o.name)).toEqual(['prediction']);
    const metadata = readOnnxMetadata(bytes);
    expect(JSON.parse(metadata['feature_names']!)).toEqual(small.featureNames);
    expect(metadata).toMatchObject({ feature_spec_hash: HASH, model_kind: 'gradient-boosting', seed: '8', tree_count: '30', trained_at: '2026-01-02T03:04:05.000Z' });
    expect(JSON.parse(metadata['params']!)).toMatchObject({ seed: 8, rounds: 30, maxDepth: 3 });
  });

  it('exports trees that are a single leaf (nothing to split)', async () => {
    const constant = new Float64Array(small.matrix.rows).fill(0.25);
    const flat = fitGradientBoosting(small.matrix, constant, { seed: 1, rounds: 3 });
    expect(flat.trees.every((t) => t.feature.length === 1)).toBe(true);
    const onnx = await loadOnnxModel(exportOnnx(flat, { featureNames: small.featureNames, featureSpecHash: HASH }), { featureNames: small.featureNames, featureSpecHash: HASH });
    opened.push(onnx);
    expect(Array.from(await onnx.predict(Float32Array.from(small.matrix.values.subarray(0, 16))))).toEqual([0.25, 0.25]);
  });

  it('is deterministic: the same seed and data give byte-identical ONNX', () => {
    const again = fitGradientBoosting(small.matrix, small.target, { seed: 8, rounds: 30, maxDepth: 3 });
    expect(Buffer.from(exportOnnx(again, { featureNames: small.featureNames, featureSpecHash: HASH, trainedAt: '2026-01-02T03:04:05.000Z' })).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses feature names that do not name every feature once', () => {
    const names = [...small.featureNames];
    names[3] = names[2]!;
    expect(() => exportOnnx(model, { featureNames: names, featureSpecHash: HASH })).toThrow('featureNames[3] must be a non-empty name used once, was "f02"');
    expect(() => exportOnnx(model, { featureNames: names.slice(1), featureSpecHash: HASH })).toThrow("featureNames.length must equal the model's featureCount = 8, was 7");
  });
});

describe('loadOnnxModel feature validation', () => {
  const small = syntheticProblem(3000, 8, 5);
  const model = fitRandomForest(small.matrix, small.target, { seed: 8, trees: 5, maxDepth: 4 });
  const bytes = exportOnnx(model, { featureNames: small.featureNames, featureSpecHash: HASH });

  async function refusal(featureNames: readonly string[], featureSpecHash = HASH): Promise<ModelError> {
    try {
      const m = await loadOnnxModel(bytes, { featureNames, featureSpecHash });
      await m.close();
    } catch (e) {
      if (e instanceof ModelError) return e;
      throw e;
    }
    throw new Error('expected loadOnnxModel to refuse');
  }

  it('refuses a wrong feature order, naming the first mismatch', async () => {
    const swapped = [...small.featureNames];
    [swapped[2], swapped[5]] = [swapped[5]!, swapped[2]!];
    const e = await refusal(swapped);
    expect(e.code).toBe('feature_order_mismatch');
    expect(e.message).toBe('feature order mismatch at index 2: the pipeline expects "f05", the model has "f02" (pipeline 8 features, model 8)');
    expect(e.context).toEqual({ index: 2, expected: 'f05', found: 'f02' });
  });

  it('refuses a missing or extra feature at the first index past the common prefix', async () => {
    expect((await refusal(small.featureNames.slice(0, 7))).message).toBe('feature order mismatch at index 7: the pipeline expects (no feature), the model has "f07" (pipeline 7 features, model 8)');
    expect((await refusal([...small.featureNames, 'extra'])).context).toEqual({ index: 8, expected: 'extra', found: null });
  });

  it('refuses another feature spec hash', async () => {
    const e = await refusal(small.featureNames, 'sha256:other');
    expect(e.code).toBe('feature_spec_hash_mismatch');
    expect(e.message).toBe(`feature spec hash mismatch: the pipeline expects "sha256:other", the model has "${HASH}"`);
  });

  it('refuses bytes that are not a model', async () => {
    await expect(loadOnnxModel(new Uint8Array([0xff, 0xff, 0xff]), { featureNames: small.featureNames, featureSpecHash: HASH })).rejects.toMatchObject({ code: 'invalid_model' });
  });

  it('predicts single rows through the preallocated path like the batch path', async () => {
    const onnx = await loadOnnxModel(bytes, { featureNames: small.featureNames, featureSpecHash: HASH });
    opened.push(onnx);
    const rows = Float32Array.from(small.matrix.values.subarray(0, 8 * 50));
    const batch = await onnx.predict(rows);
    for (let r = 0; r < 50; r++) expect(await onnx.predictOne(rows.subarray(r * 8, r * 8 + 8))).toBe(batch[r]);
    await expect(onnx.predictOne(new Float32Array(7))).rejects.toMatchObject({ code: 'shape_mismatch' });
  });

  it('calls the native session in place by default, with the values of the public deferred run', async () => {
    const direct = await loadOnnxModel(bytes, { featureNames: small.featureNames, featureSpecHash: HASH });
    const deferred = await loadOnnxModel(bytes, { featureNames: small.featureNames, featureSpecHash: HASH }, { dispatch: 'deferred' });
    opened.push(direct, deferred);
    expect(direct.dispatch).toBe('direct'); // onnxruntime-node 1.30 exposes its native session: a change there shows here
    expect(deferred.dispatch).toBe('deferred');
    expect(deferred.predictOneNow).toBeUndefined();
    const rows = Float32Array.from(small.matrix.values.subarray(0, 8 * 200));
    const batch = await deferred.predict(rows);
    expect(Array.from(await direct.predict(rows)).every((v, r) => Object.is(v, batch[r]))).toBe(true);
    for (let r = 0; r < 200; r++) {
      const row = rows.subarray(r * 8, r * 8 + 8);
      expect(Object.is(direct.predictOneNow!(row), batch[r]!)).toBe(true);
      expect(Object.is(await deferred.predictOne(row), batch[r]!)).toBe(true);
    }
    expect(() => direct.predictOneNow!(new Float32Array(9))).toThrow(/row.length must equal featureCount = 8, was 9/);
  });
});
