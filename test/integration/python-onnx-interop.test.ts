import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance, DuckDBTimestampValue } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, fitGradientBoosting, loadOnnxModel, ModelError, type OnnxModel } from '../../src/models/index.js';
import { barFeatureTable, type BarFeatureTable } from '../fixtures/models/bar-features.js';
import { tempDir } from '../support/shared-data.js';

/**
 * Python interop: a Parquet feature table written from TypeScript (DuckDB) is trained on by
 * python/models/train_sklearn_xgb.py (scikit-learn RandomForest/GradientBoosting, XGBoost → ONNX via
 * skl2onnx/onnxmltools); the ONNX files load through the same `loadOnnxModel` as our own exports and
 * onnxruntime-node matches Python onnxruntime's predictions to 1e-5 on every row.
 * Needs `.venv/bin/python` (or `TM_PYTHON`) with python/requirements-models.txt installed; fails (never skips) otherwise.
 */
const PYTHON = resolve(process.env['TM_PYTHON'] ?? '.venv/bin/python');
const SCRIPT = resolve('python/models/train_sklearn_xgb.py');
const HASH = 'sha256:interop-bar-features-v1';
const TOLERANCE = 1e-5;

interface Summary {
  rows: number;
  train_rows: number;
  features: number;
  models: { name: string; onnx: string; predictions: string; input: string; output: string; opsets: Record<string, number>; max_abs_native_vs_onnx: number }[];
}

/** Drops rows with a NaN feature (indicator warm-up): the Python trainers require finite features. */
function finiteRows(table: BarFeatureTable): BarFeatureTable {
  const { rows, columns, values } = table.matrix;
  const keep: number[] = [];
  for (let r = 0; r < rows; r++) {
    let ok = true;
    for (let f = 0; f < columns && ok; f++) ok = Number.isFinite(values[r * columns + f]!);
    if (ok) keep.push(r);
  }
  const out = new Float64Array(keep.length * columns);
  keep.forEach((r, i) => out.set(values.subarray(r * columns, (r + 1) * columns), i * columns));
  return {
    matrix: { values: out, rows: keep.length, columns },
    target: Float64Array.from(keep, (r) => table.target[r]!),
    featureNames: table.featureNames,
    ts: Float64Array.from(keep, (r) => table.ts[r]!),
    symbols: keep.map((r) => table.symbols[r]!),
  };
}

/** Writes `table` as Parquet (ts, symbol, features in order, label) through DuckDB, rows ordered by symbol then ts. */
async function writeParquet(table: BarFeatureTable, file: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const quoted = table.featureNames.map((n) => `"${n}"`);
    await connection.run(`CREATE TABLE feature_table (ts TIMESTAMP, symbol VARCHAR, ${quoted.map((q) => `${q} DOUBLE`).join(', ')}, label DOUBLE)`);
    const appender = await connection.createAppender('feature_table');
    const { rows, columns, values } = table.matrix;
    for (let r = 0; r < rows; r++) {
      appender.appendTimestamp(new DuckDBTimestampValue(BigInt(table.ts[r]!) * 1000n));
      appender.appendVarchar(table.symbols[r]!);
      for (let f = 0; f < columns; f++) appender.appendDouble(values[r * columns + f]!);
      appender.appendDouble(table.target[r]!);
      appender.endRow();
    }
    appender.closeSync();
    await connection.run(`COPY (SELECT * FROM feature_table ORDER BY symbol, ts) TO '${file.replaceAll("'", "''")}' (FORMAT PARQUET)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('Python scikit-learn / XGBoost ONNX interop', () => {
  const dir = tempDir('tm-onnx-interop-');
  let table: BarFeatureTable;
  let summary: Summary;
  const opened: OnnxModel[] = [];

  beforeAll(async () => {
    if (!existsSync(PYTHON)) throw new Error(`Python interpreter ${PYTHON} not found; create .venv (bash scripts/services.sh install) or set TM_PYTHON`);
    try {
      execFileSync(PYTHON, ['-c', 'import sklearn, xgboost, skl2onnx, onnxmltools, onnxruntime, onnx, pyarrow, pandas'], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`${PYTHON} lacks the model dependencies; run: ${PYTHON.replace(/python$/, 'pip')} install -r python/requirements-models.txt\n${String((e as { stderr?: Buffer }).stderr ?? e)}`);
    }
    table = finiteRows(barFeatureTable(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']));
    const parquet = join(dir, 'features.parquet');
    await writeParquet(table, parquet);
    const stdout = execFileSync(PYTHON, [SCRIPT, '--input', parquet, '--output-dir', dir, '--feature-spec-hash', HASH, '--seed', '7', '--trained-at', '2026-01-01T00:00:00Z', '--train-rows', '8000', '--rf-trees', '30', '--gbr-rounds', '40'], {
      encoding: 'utf8',
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    summary = JSON.parse(stdout.trim().split('\n').pop()!) as Summary;
  }, 700_000);

  afterAll(async () => {
    for (const m of opened) await m.close();
  });

  it('trained all three models on the whole table', () => {
    expect(table.matrix.rows).toBeGreaterThanOrEqual(20_000);
    expect(summary.rows).toBe(table.matrix.rows);
    expect(summary.train_rows).toBe(8000);
    expect(summary.features).toBe(40);
    expect(summary.models.map((m) => m.name)).toEqual(['sklearn-random-forest', 'sklearn-gradient-boosting', 'xgboost']);
    console.log(`python interop summary: ${JSON.stringify(summary.models.map(({ name, input, output, opsets, max_abs_native_vs_onnx }) => ({ name, input, output, opsets, max_abs_native_vs_onnx })))}`);
  });

  for (const name of ['sklearn-random-forest', 'sklearn-gradient-boosting', 'xgboost']) {
    it(`${name}: loadOnnxModel + onnxruntime-node match Python onnxruntime to 1e-5`, async () => {
      const entry = summary.models.find((m) => m.name === name)!;
      const model = await loadOnnxModel(entry.onnx, { featureNames: table.featureNames, featureSpecHash: HASH }, { intraOpThreads: 2 });
      opened.push(model);
      expect(model.metadata['model_kind']).toBe(name);
      const expected = (JSON.parse(readFileSync(entry.predictions, 'utf8')) as { predictions: number[] }).predictions;
      const actual = await model.predict(Float32Array.from(table.matrix.values));
      expect(actual.length).toBe(expected.length);
      let maxError = 0;
      for (let i = 0; i < actual.length; i++) maxError = Math.max(maxError, Math.abs(actual[i]! - expected[i]!));
      console.log(`interop ${name}: ${actual.length} rows, input ${model.inputName}, output ${model.outputName}, max |node - python| = ${maxError.toExponential(3)}`);
      expect(maxError).toBeLessThanOrEqual(TOLERANCE);
      const single = await model.predictOne(table.matrix.values.subarray(0, 40));
      expect(Math.abs(single - expected[0]!)).toBeLessThanOrEqual(TOLERANCE);
    });
  }

  it('refuses a Python model when the pipeline orders features differently', async () => {
    const names = [...table.featureNames];
    [names[10], names[11]] = [names[11]!, names[10]!];
    const error = await loadOnnxModel(summary.models[2]!.onnx, { featureNames: names, featureSpecHash: HASH }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('feature_order_mismatch');
    expect((error as ModelError).message).toBe('feature order mismatch at index 10: the pipeline expects "mom_6", the model has "mom_3" (pipeline 40 features, model 40)');
  });

  it('our own export passes the official onnx checker (full_check)', { timeout: 120_000 }, () => {
    const model = fitGradientBoosting(table.matrix, table.target, { seed: 1, rounds: 20, maxDepth: 4 });
    const file = join(dir, 'trade-matrix-gbdt.onnx');
    writeFileSync(file, exportOnnx(model, { featureNames: table.featureNames, featureSpecHash: HASH }));
    const out = execFileSync(PYTHON, ['-c', 'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print("ok", m.ir_version)', file], { encoding: 'utf8' });
    expect(out.trim()).toBe('ok 8');
  });
});
