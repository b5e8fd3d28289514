/**
 * `tm train` in-process on the real market data (binance-spot BTC/ETH/SOL 4h, binance-futures funding, Deribit DVOL) in a
 * temp store, with a small fast config: files and card, predictions table, ONNX vs the pipeline, the 4-tier loader's
 * local tier, determinism, and logging to the real MLflow + MinIO (env from the vitest global setup).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { MarketStore } from '../../src/data/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore } from '../../src/features/index.js';
import { loadOnnxModel, readOnnxMetadata } from '../../src/models/index.js';
import { featureValidator, loadModel, MlflowClient, parseMlflowClientConfig, parseModelCard, parseModelSourceConfig, silentLogger, verifyChecksum } from '../../src/registry/index.js';
import { withoutMlflow } from '../support/service-env.js';
import { importTrainingStore, tempDir } from '../support/shared-data.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];

/** Small and fast: 2 folds, few Boruta iterations and trees; the default config's structure otherwise. */
function fastConfig(name: string): Record<string, unknown> {
  return {
    name,
    data: { start: '2023-01-01', end: '2025-09-01' },
    walkForward: { folds: 2, initialTrainFraction: 0.5, purgeGap: 200 },
    boruta: { iterations: 4, trees: 8, maxRows: 800, maxDepth: 4 },
    gbdt: { rounds: 15, maxDepth: 3, maxBins: 32 },
    transfer: { rounds: 5 },
    randomForest: { trees: 8, maxDepth: 4, maxBins: 32 },
    seed: 7,
  };
}

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t) };
}

async function tm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = capture();
  const code = await main(['node', 'tm', ...args], io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

describe('tm train (real data, temp store)', () => {
  const dir = tempDir('tm-train-');
  const db = join(dir, 'market.duckdb');
  const configFile = join(dir, 'train-fast.json');
  const name = 'gbdt-transfer-test';
  let first: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    await importTrainingStore(db, SYMBOLS);
    writeFileSync(configFile, JSON.stringify(fastConfig(name)));
    first = await withoutMlflow(() => tm(['train', '--config', configFile, '--db', db, '--out', join(dir, 'run1')]));
  }, 300_000);

  it('writes model.onnx, card.json (registry card schema) and the training report, locally without MLflow', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('mlflow: not logged');
    expect(first.stdout).toMatch(/gates \(IC >= 0.05, p < 0.15, Sharpe > 0.5\) on transfer\/ALL: (PASSED|FAILED)/);
    const pkg = join(dir, 'run1', name);
    for (const f of ['model.onnx', 'card.json', 'training-report.json', ...SYMBOLS.flatMap((s) => [`${s}/model.onnx`, `${s}/card.json`])]) expect(existsSync(join(pkg, f)), f).toBe(true);
    const parsed = parseModelCard(readFileSync(join(pkg, 'card.json'), 'utf8'), 'card');
    expect(parsed.success).toBe(true);
    const card = parsed.success ? parsed.data : undefined!;
    expect(card.name).toBe(name);
    expect(card.seed).toBe(7);
    expect(card.dataRange).toEqual({ from: '2023-01-01T00:00:00Z', to: '2025-09-01T00:00:00Z' });
    expect(card.gitCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(verifyChecksum(card, readFileSync(join(pkg, 'model.onnx')), 'card').success).toBe(true);
    const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
    expect(featureValidator({ featureNames: pipeline.names, featureSpecHash: pipeline.hash })(card).success).toBe(true);
    // Per-fold metrics, fold layout and gates are in the card.
    for (const k of [0, 1]) {
      expect(card.metrics[`fold.${k}.test_start_ms`]).toBeGreaterThan(0);
      expect(card.metrics[`fold.${k}.transfer.ALL.ic`]).toBeTypeOf('number');
      expect(card.metrics[`fold.${k}.pooled.BTCUSDT.sharpe`]).toBeTypeOf('number');
    }
    expect(card.metrics['oos.random-forest.SOLUSDT.dsr']).toBeGreaterThanOrEqual(0);
    expect(Object.keys(card.gates.checks).sort()).toEqual(['ic', 'p_value', 'sharpe']);
    const report = JSON.parse(readFileSync(join(pkg, 'training-report.json'), 'utf8'));
    expect(report.folds).toHaveLength(2);
    expect(report.trials.count).toBe(16);
    for (const f of report.folds) {
      expect(f.selection.names.length).toBeGreaterThanOrEqual(9);
      expect(f.selection.names.length).toBeLessThanOrEqual(13);
      expect(f.boruta.features).toHaveLength(pipeline.names.length);
    }
    expect(report.final.promotable).toBe(card.gates.passed);
  });

  it('fills the predictions table with the out-of-sample predictions of each symbol', async () => {
    const store = await MarketStore.open(db);
    try {
      const rows = await store.query(`SELECT symbol, model_version, count(*) AS n, count(DISTINCT feature_spec_hash) AS h, epoch_ms(min(ts))::DOUBLE AS first FROM predictions WHERE model = ? GROUP BY symbol, model_version ORDER BY symbol`, [name]);
      expect(rows.map((r) => r['symbol'])).toEqual(SYMBOLS);
      const report = JSON.parse(readFileSync(join(dir, 'run1', name, 'training-report.json'), 'utf8'));
      for (const r of rows) {
        expect(r['model_version']).toBe('wf');
        expect(Number(r['n'])).toBeGreaterThan(2000);
        expect(Number(r['h'])).toBe(1);
        expect(Number(r['first'])).toBe(Date.parse(report.oos.from));
      }
    } finally {
      store.close();
    }
  });

  it('the ONNX models load with the pipeline features and predict from pipeline rows; the 4-tier loader serves the local package', async () => {
    const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
    const expected = { featureNames: pipeline.names, featureSpecHash: pipeline.hash };
    const store = await MarketStore.open(db);
    const x = await featureInputsFromStore(store, { venue: 'binance-spot', symbol: 'ETHUSDT', timeframe: '4h', fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT', start: Date.UTC(2025, 0, 1) });
    store.close();
    const { matrix, rows, columns } = pipeline.computeBatch(x);
    const last = Float32Array.from(matrix.subarray((rows - 200) * columns));
    for (const path of [join(dir, 'run1', name, 'model.onnx'), join(dir, 'run1', name, 'ETHUSDT', 'model.onnx')]) {
      const onnx = await loadOnnxModel(path, expected);
      const out = await onnx.predict(last);
      expect(out).toHaveLength(200);
      expect(out.every(Number.isFinite)).toBe(true);
      expect(new Set(out).size).toBeGreaterThan(1);
      expect(await onnx.predictOne(last.subarray(199 * columns))).toBeCloseTo(out[199]!, 5);
      await onnx.close();
    }
    const meta = readOnnxMetadata(readFileSync(join(dir, 'run1', name, 'ETHUSDT', 'model.onnx')));
    expect(meta['configuration']).toBe('transfer');
    expect(JSON.parse(meta['selected_features']!).length).toBeGreaterThanOrEqual(9);
    const loaded = await loadModel(parseModelSourceConfig({ name, tiers: ['local'], localDir: join(dir, 'run1') }), { logger: silentLogger, validate: featureValidator(expected) });
    expect(loaded.tier).toBe('local');
    expect(loaded.card.name).toBe(name);
  });

  it('is deterministic: a second run writes an identical card and identical ONNX bytes (report differs only in trainedAt)', async () => {
    const second = await withoutMlflow(() => tm(['train', '--config', configFile, '--db', db, '--out', join(dir, 'run2')]));
    expect(second.code).toBe(0);
    for (const f of ['card.json', 'model.onnx', 'SOLUSDT/card.json', 'SOLUSDT/model.onnx']) {
      expect(readFileSync(join(dir, 'run2', name, f)).equals(readFileSync(join(dir, 'run1', name, f))), f).toBe(true);
    }
    const strip = (p: string) => ({ ...JSON.parse(readFileSync(p, 'utf8')), trainedAt: null });
    expect(strip(join(dir, 'run2', name, 'training-report.json'))).toEqual(strip(join(dir, 'run1', name, 'training-report.json')));
  }, 120_000);

  it('refuses an unknown config key with its JSON path (exit 2)', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...fastConfig(name), walkForward: { folds: 2, purge: 10 } }));
    const r = await tm(['train', '--config', bad, '--db', db, '--out', join(dir, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('$.walkForward.purge: unknown key "purge"');
  });
});

describe('tm train with MLflow (real server from the global setup)', () => {
  const dir = tempDir('tm-train-mlflow-');
  const db = join(dir, 'market.duckdb');
  const suffix = randomBytes(4).toString('hex');
  const name = `tm-train-test-${suffix}`;
  let trackingUri: string;

  beforeAll(async () => {
    const uri = process.env['MLFLOW_TRACKING_URI'];
    if (!uri) throw new Error(`MLFLOW_TRACKING_URI is not set (${process.env['TM_SERVICES_ERROR'] ?? 'run via npx vitest, or eval "$(bash scripts/services.sh env)" first'})`);
    trackingUri = uri;
    await importTrainingStore(db, SYMBOLS);
  }, 120_000);

  it('logs params, per-fold metrics with steps, gates, card and ONNX, and registers a version with --register', async () => {
    const configFile = join(dir, 'train.json');
    writeFileSync(configFile, JSON.stringify({ ...fastConfig(name), experiment: `tm-train-test-${suffix}`, final: 'pooled' }));
    const r = await tm(['train', '--config', configFile, '--db', db, '--out', join(dir, 'models'), '--register', name, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.mlflow).toHaveLength(1);
    const { runId, version } = summary.mlflow[0];
    expect(version).toBe('1');

    const client = new MlflowClient(parseMlflowClientConfig({ trackingUri }), { now: () => 0 });
    const run = await client.getRun(runId);
    const params = run.data.params;
    expect(params['config.seed']).toBe('7');
    expect(params['config.walkForward.folds']).toBe('2');
    expect(params['seed']).toBe('7');
    const tags = run.data.tags;
    expect(tags['gate.passed']).toBe(String(summary.promotable));
    expect(tags['gate.ic']).toMatch(/ >= 0.05: (passed|failed)$/);

    const history = await fetch(`${trackingUri}/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=${encodeURIComponent('wf.pooled.ALL.ic')}`).then((x) => x.json() as Promise<{ metrics: { step: number; value: number }[] }>);
    expect(history.metrics.map((m) => m.step).sort()).toEqual([0, 1]);

    const versions = await client.searchAllModelVersions({ filter: `name = '${name}'` });
    expect(versions.map((v) => v.version)).toEqual(['1']);
    expect(versions[0]!.tags['feature_spec_hash']).toBe(FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC).hash);
    const artifacts = await client.listArtifacts(runId, 'model');
    expect(artifacts.map((f) => f.path).sort()).toEqual(['model/card.json', 'model/model.onnx']);
  }, 240_000);
});
