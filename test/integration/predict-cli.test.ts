/**
 * `tm predict`: a model trained on 2022 BTC bars runs over 2024 bars it never saw, through the signal stage, and its
 * predictions land in the store tagged with the model's name and version. Checked against the cache path (batch
 * features → one ORT call) exactly; causal (a store that ends at the window's end gives the same predictions);
 * in-sample and ungated runs are refused unless asked for.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runExperiment } from '../../src/backtest/run-experiment.js';
import { loadExperimentModel } from '../../src/cli/model-packages.js';
import { parseBacktestConfig } from '../../src/config/backtest-config.js';
import { importPath } from '../../src/data/index.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore } from '../../src/features/index.js';
import { exportOnnx, fitGradientBoosting, loadOnnxModel } from '../../src/models/index.js';
import { createS3Client, formatModelCard, MlflowClient, ModelCard, parseMlflowClientConfig, publishModel, S3ObjectStore, s3ConfigFromEnv, s3CredentialsFromEnv, sha256Hex } from '../../src/registry/index.js';
import { predictColumn } from '../../src/signals/index.js';
import { runTm, withStoreAt } from '../support/cli.js';
import { sharedDataDir, tempDir } from '../support/shared-data.js';

const FROM = Date.UTC(2024, 0, 1);
const TO = Date.UTC(2024, 2, 1);
const HOUR4 = 4 * 3_600_000;

describe('tm predict (real shared data)', () => {
  const dir = tempDir('tm-predict-');
  const db = join(dir, 'market.duckdb');
  const shortDb = join(dir, 'short.duckdb');
  const gated = join(dir, 'models', 'tiny-gbdt');
  const ungated = join(dir, 'models', 'tiny-gbdt-ungated');
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  let onnx: Uint8Array;

  beforeAll(async () => {
    const root = sharedDataDir();
    for (const file of [db, shortDb]) {
      await withStoreAt(file, async (store) => {
        await importPath(store, join(root, 'binance-spot'));
        for (const s of ['BTCUSDT', 'ETHUSDT']) await importPath(store, join(root, 'binance-futures', `${s}-funding.csv.gz`), { venue: 'binance-futures' });
        await importPath(store, join(root, 'deribit'));
      });
    }
    // the short store ends at the window's end: no bar, settlement or DVOL day after TO
    await withStoreAt(shortDb, async (store) => {
      await store.query(`DELETE FROM bar_data WHERE ts >= make_timestamp(?::BIGINT * 1000)`, [TO]);
      await store.query(`DELETE FROM funding_rates WHERE ts >= make_timestamp(?::BIGINT * 1000)`, [TO]);
      await store.query(`DELETE FROM external_series WHERE ts >= make_timestamp(?::BIGINT * 1000)`, [TO - 86_400_000]);
    });
    // a tiny GBDT trained on BTC's 2022 rows (target: next bar's log return)
    const train = await withStoreAt(db, (store) =>
      featureInputsFromStore(store, { venue: 'binance-spot', symbol: 'BTCUSDT', timeframe: '4h', start: Date.UTC(2022, 0, 1), end: Date.UTC(2023, 0, 1), fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' }),
    );
    const m = pipeline.computeBatch(train);
    const rows = m.rows - 1;
    const target = Float64Array.from({ length: rows }, (_, t) => Math.log(train.close[t + 1]! / train.close[t]!));
    const trees = fitGradientBoosting({ values: m.matrix.subarray(0, rows * m.columns), rows, columns: m.columns }, target, { seed: 11, rounds: 30, maxDepth: 3 });
    onnx = exportOnnx(trees, { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
    for (const [folder, passed] of [[gated, true], [ungated, false]] as const) {
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'model.onnx'), onnx);
      const card = ModelCard.parse({
        schemaVersion: 1, name: folder.endsWith('ungated') ? 'tiny-gbdt-ungated' : 'tiny-gbdt', featureNames: [...pipeline.names], featureSpecHash: pipeline.hash, onnxSha256: sha256Hex(onnx),
        dataRange: { from: '2022-01-01T00:00:00Z', to: '2023-01-01T00:00:00Z' }, metrics: {}, gates: { passed, checks: {} }, seed: 11, gitCommit: '0000000',
      });
      writeFileSync(join(folder, 'card.json'), formatModelCard(card));
    }
  }, 240_000);

  const stored = (file: string, symbol: string) =>
    withStoreAt(file, async (store) =>
      (await store.query(`SELECT epoch_ms(ts) AS t, prediction AS p, model_version AS v FROM predictions WHERE model = 'tiny-gbdt' AND symbol = ? ORDER BY ts`, [symbol])).map((r) => ({ t: Number(r['t']), p: Number(r['p']), v: String(r['v']) })),
    );

  it('writes predictions of an unseen window, tagged with model and version, equal to the cache path exactly', async () => {
    const r = await runTm(['predict', '--model', gated, '--from', '2024-01-01', '--to', '2024-03-01', '--symbols', 'BTCUSDT,ETHUSDT', '--db', db]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/BTCUSDT\s+tiny-gbdt\s+local-[0-9a-f]{12}\s+360\s+2024-01-01T00:00:00Z\s+2024-02-29T20:00:00Z\s+\d+/);
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
      const rows = await stored(db, symbol);
      expect(rows).toHaveLength(360); // 60 days × 6 bars
      expect(rows[0]!.t).toBe(FROM);
      expect(rows.at(-1)!.t).toBe(TO - HOUR4);
      expect(new Set(rows.map((x) => x.v))).toEqual(new Set([`local-${sha256Hex(onnx).slice(0, 12)}`]));
      // the cache path over the same inputs (warm-up included) gives the same numbers
      const inputs = await withStoreAt(db, (store) =>
        featureInputsFromStore(store, { venue: 'binance-spot', symbol, timeframe: '4h', start: FROM - pipeline.warmupBars * HOUR4, end: TO, fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' }),
      );
      const model = await loadOnnxModel(onnx, { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
      const cached = await predictColumn(pipeline, model, inputs);
      await model.close();
      const offset = inputs.ts.length - 360;
      expect(rows.every((x, k) => Object.is(x.p, cached[offset + k]))).toBe(true);
    }
  }, 120_000);

  it('is causal: a store that ends at the window end gives the same predictions', async () => {
    const after = (file: string) => withStoreAt(file, async (store) => Number((await store.query(`SELECT count(*) AS n FROM bars WHERE ts >= make_timestamp(?::BIGINT * 1000)`, [TO]))[0]!['n']));
    expect(await after(db)).toBeGreaterThan(1000);
    expect(await after(shortDb)).toBe(0);
    const r = await runTm(['predict', '--model', gated, '--from', '2024-01-01', '--to', '2024-03-01', '--symbols', 'BTCUSDT,ETHUSDT', '--db', shortDb]);
    expect(r.code, r.err).toBe(0);
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) expect(await stored(shortDb, symbol)).toEqual(await stored(db, symbol));
  }, 120_000);

  it('refuses a window overlapping the training range, and a model whose gates failed, unless asked', async () => {
    const inSample = await runTm(['predict', '--model', gated, '--from', '2022-06-01', '--to', '2022-07-01', '--symbols', 'BTCUSDT', '--db', db]);
    expect(inSample.code).toBe(2);
    expect(inSample.err).toMatch(/trained on \[2022-01-01T00:00:00Z, 2023-01-01T00:00:00Z\), which overlaps .* pass --allow-in-sample/);
    const allowed = await runTm(['predict', '--model', gated, '--from', '2022-06-01', '--to', '2022-07-01', '--symbols', 'BTCUSDT', '--db', db, '--allow-in-sample']);
    expect(allowed.code, allowed.err).toBe(0);
    expect(allowed.out).toContain('IN-SAMPLE');
    const noGates = await runTm(['predict', '--model', ungated, '--from', '2024-01-01', '--to', '2024-02-01', '--symbols', 'BTCUSDT', '--db', db]);
    expect(noGates.code).toBe(2);
    expect(noGates.err).toMatch(/failed its quality gates; pass --allow-ungated/);
    const forced = await runTm(['predict', '--model', ungated, '--from', '2024-01-01', '--to', '2024-02-01', '--symbols', 'BTCUSDT', '--db', db, '--allow-ungated']);
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toContain('UNGATED');
  }, 120_000);

  it('a backtest streaming the model (column source "model") equals one reading the predictions tm predict wrote', async () => {
    const base = {
      name: 'tiny-gbdt-oos', strategy: 'signal-column', params: { threshold: 0.0002, allocation: 0.3 },
      data: { venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-03-01' },
      funding: { venue: 'binance-futures' }, leverage: 2, slippage: { model: 'fixed', bps: 2 },
    };
    const run = async (columns: unknown) => {
      const parsed = parseBacktestConfig({ ...base, columns: { signal: columns } }, 'tiny-gbdt-oos.json');
      if (!parsed.success) throw parsed.error;
      return withStoreAt(db, (store) => runExperiment(parsed.data, { store, strategies: STRATEGIES, loadModel: loadExperimentModel }));
    };
    const version = `local-${sha256Hex(onnx).slice(0, 12)}`;
    const streamed = await run({ source: 'model', model: gated });
    const cached = await run({ source: 'predictions', model: 'tiny-gbdt', version });
    expect(streamed.fills.length).toBeGreaterThan(5);
    expect(streamed.fills).toEqual(cached.fills);
    expect(Array.from(streamed.equity.value)).toEqual(Array.from(cached.equity.value));
    expect(streamed.notes.find((n) => n.startsWith('column signal: model tiny-gbdt'))).toMatch(/trained on \[2022-01-01T00:00:00Z, 2023-01-01T00:00:00Z\), gates passed\) streamed for BTCUSDT/);
    // in-sample and ungated are refused unless the column allows them
    await expect(run({ source: 'model', model: ungated })).rejects.toThrow(/failed its quality gates; set \$\.columns\.signal\.allowUngated/);
    const inSample = parseBacktestConfig({ ...base, data: { ...base.data, start: '2022-06-01', end: '2022-08-01' }, columns: { signal: { source: 'model', model: gated } } }, 'tiny-gbdt-oos.json');
    if (!inSample.success) throw inSample.error;
    await expect(withStoreAt(db, (store) => runExperiment(inSample.data, { store, strategies: STRATEGIES, loadModel: loadExperimentModel }))).rejects.toThrow(/overlaps the backtest .*\$\.columns\.signal\.allowInSample/);
  }, 120_000);

  it('resolves <name>@<alias> through the 4-tier loader (here its local tier) to the same package and predictions', async () => {
    const saved = { dir: process.env['TM_MODELS_DIR'], uri: process.env['MLFLOW_TRACKING_URI'] };
    process.env['TM_MODELS_DIR'] = join(dir, 'models');
    delete process.env['MLFLOW_TRACKING_URI'];
    try {
      const r = await runTm(['predict', '--model', 'tiny-gbdt@production', '--from', '2024-01-01', '--to', '2024-03-01', '--symbols', 'BTCUSDT', '--db', shortDb]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`BTCUSDT\\s+tiny-gbdt\\s+local-${sha256Hex(onnx).slice(0, 12)}\\s+360`));
      const inWindow = (rows: { t: number }[]) => rows.filter((x) => x.t >= FROM && x.t < TO);
      expect(inWindow(await stored(shortDb, 'BTCUSDT'))).toEqual(inWindow(await stored(db, 'BTCUSDT')));
      const missing = await runTm(['predict', '--model', 'no-such-model@production', '--from', '2024-01-01', '--to', '2024-03-01', '--symbols', 'BTCUSDT', '--db', shortDb]);
      expect(missing.code).toBe(2);
      expect(missing.err).toMatch(/no-such-model/);
    } finally {
      if (saved.dir === undefined) delete process.env['TM_MODELS_DIR'];
      else process.env['TM_MODELS_DIR'] = saved.dir;
      if (saved.uri !== undefined) process.env['MLFLOW_TRACKING_URI'] = saved.uri;
    }
  }, 120_000);

  it('resolves <name>/<version> through the real MLflow registry to that version, and refuses a version it does not have', async () => {
    const trackingUri = process.env['MLFLOW_TRACKING_URI'];
    const s3 = s3ConfigFromEnv(process.env);
    if (!trackingUri || !s3) throw new Error(`MLFLOW_TRACKING_URI and TM_S3_BUCKET must be set (${process.env['TM_SERVICES_ERROR'] ?? 'eval "$(bash scripts/services.sh env)" first'})`);
    const mlflow = new MlflowClient(parseMlflowClientConfig({ trackingUri }), { now: () => Date.now() });
    const name = `tm-test-predict-${process.pid}-${Date.now().toString(36)}`;
    const card = ModelCard.parse({
      schemaVersion: 1, name, featureNames: [...pipeline.names], featureSpecHash: pipeline.hash, onnxSha256: sha256Hex(onnx),
      dataRange: { from: '2022-01-01T00:00:00Z', to: '2023-01-01T00:00:00Z' }, metrics: {}, gates: { passed: true, checks: {} }, seed: 11, gitCommit: '0000000',
    });
    const published = await publishModel(mlflow, new S3ObjectStore(createS3Client(s3, s3CredentialsFromEnv(process.env)), s3.bucket), { experiment: name, runName: 'predict-by-version', card, onnxBytes: onnx, registeredModel: name });
    try {
      expect(published.version).toBe('1');
      const byVersion = await runTm(['predict', '--model', `${name}/1`, '--from', '2024-01-01', '--to', '2024-03-01', '--symbols', 'BTCUSDT', '--db', db]);
      expect(byVersion.err).toBe('');
      expect(byVersion.code).toBe(0);
      expect(byVersion.out).toMatch(new RegExp(`BTCUSDT\\s+${name}\\s+v1\\s+360`));
      const folder = await runTm(['predict', '--model', gated, '--from', '2024-01-01', '--to', '2024-03-01', '--symbols', 'BTCUSDT', '--db', db]);
      expect(folder.code, folder.err).toBe(0);
      const registered = await withStoreAt(db, async (store) => (await store.query(`SELECT epoch_ms(ts) AS t, prediction AS p, model_version AS v FROM predictions WHERE model = ? AND symbol = 'BTCUSDT' ORDER BY ts`, [name])).map((r) => ({ t: Number(r['t']), p: Number(r['p']), v: String(r['v']) })));
      expect(registered).toHaveLength(360);
      expect(new Set(registered.map((x) => x.v))).toEqual(new Set(['v1']));
      const local = (await stored(db, 'BTCUSDT')).filter((x) => x.t >= FROM && x.t < TO);
      expect(registered.map((x) => [x.t, x.p])).toEqual(local.map((x) => [x.t, x.p]));
      // an experiment column naming the model by version streams the same signal as the folder
      const experiment = async (model: string) => {
        const parsed = parseBacktestConfig({
          name: 'tiny-gbdt-by-version', strategy: 'signal-column', params: { threshold: 0.0002, allocation: 0.3 },
          data: { venue: 'binance-spot', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-03-01' },
          funding: { venue: 'binance-futures' }, leverage: 2, slippage: { model: 'fixed', bps: 2 }, columns: { signal: { source: 'model', model } },
        }, 'tiny-gbdt-by-version.json');
        if (!parsed.success) throw parsed.error;
        return withStoreAt(db, (store) => runExperiment(parsed.data, { store, strategies: STRATEGIES, loadModel: loadExperimentModel }));
      };
      const pinned = await experiment(`${name}/1`);
      expect(pinned.fills.length).toBeGreaterThan(5);
      expect(pinned.fills).toEqual((await experiment(gated)).fills);
      expect(pinned.notes.find((n) => n.startsWith(`column signal: model ${name}`))).toMatch(/v1/);
      await expect(experiment(`${name}/2`)).rejects.toMatchObject({ code: 'version_not_found' });
      const missing = await runTm(['predict', '--model', `${name}/2`, '--from', '2024-01-01', '--to', '2024-03-01', '--symbols', 'BTCUSDT', '--db', db]);
      expect(missing.code).toBe(2);
      expect(missing.err).toContain(`model ${name}/2: the registry at ${trackingUri} has no version 2 of "${name}" (it has version 1)`);
    } finally {
      await mlflow.deleteRegisteredModel(name).catch(() => undefined);
    }
  }, 120_000);

  it('names a tampered model file', async () => {
    const bad = join(dir, 'models', 'tampered');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'model.onnx'), Uint8Array.from([...onnx.slice(0, -1), 0]));
    writeFileSync(join(bad, 'card.json'), formatModelCard(ModelCard.parse({ schemaVersion: 1, name: 'tampered', featureNames: [...pipeline.names], featureSpecHash: pipeline.hash, onnxSha256: sha256Hex(onnx), dataRange: { from: '2022-01-01T00:00:00Z', to: '2023-01-01T00:00:00Z' }, metrics: {}, gates: { passed: true, checks: {} }, seed: 1, gitCommit: '0000000' })));
    const r = await runTm(['predict', '--model', bad, '--from', '2024-01-01', '--to', '2024-02-01', '--symbols', 'BTCUSDT', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/sha256 of model.onnx is [0-9a-f]{64}, the card says/);
  });
});
