import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servicesEnv } from '../scripts/services-env.js';
import {
  createS3Client,
  featureValidator,
  formatModelCard,
  loadModel,
  MlflowClient,
  parseMlflowClientConfig,
  parseModelSourceConfig,
  parseS3Config,
  publishModel,
  S3ObjectStore,
  s3CredentialsFromEnv,
  sha256Hex,
  silentLogger,
  type ModelCard,
  type ModelTier,
} from '../src/registry/index.js';
import { median, percentile, type Benchmark, type BenchResult } from './bench-result.js';

/**
 * Time to load and verify (download, sha256, card + feature check) one typical model package — a 3 MiB model.onnx
 * plus card.json — through each loader tier alone, against the real MLflow (artifacts proxied to MinIO) and MinIO of
 * `scripts/services.sh` (its env is read when MLFLOW_TRACKING_URI is unset). 5 warm-up loads, then the median of 20.
 *
 * Targets (ms, lower is better): alias 250 (3 MLflow calls: alias lookup + 2 proxied downloads, each proxied through
 * the tracking server to S3), run 200 (run lookup + 2 proxied downloads), s3 100 (2 direct GETs), local 20 (2 file reads).
 */
const TARGETS: Readonly<Record<ModelTier, number>> = { alias: 250, run: 200, s3: 100, local: 20 };
const MODEL_BYTES = 3 * 1024 * 1024;
const WARMUP = 5;
const RUNS = 20;

const bench: Benchmark = {
  name: 'registry-load',
  async run() {
    const env: Record<string, string | undefined> = process.env['MLFLOW_TRACKING_URI'] ? process.env : { ...process.env, ...servicesEnv() };
    const bucket = env['TM_S3_BUCKET']!;
    const now = () => Date.now();
    const mlflow = new MlflowClient(parseMlflowClientConfig({ trackingUri: env['MLFLOW_TRACKING_URI'] }), { now });
    const store = new S3ObjectStore(createS3Client(parseS3Config({ endpoint: env['TM_S3_ENDPOINT'], bucket }), s3CredentialsFromEnv(env)), bucket);

    const name = `tm-bench-registry-load-${process.pid}-${Date.now().toString(36)}`;
    const onnx = new Uint8Array(randomBytes(MODEL_BYTES));
    const featureNames = Array.from({ length: 64 }, (_, i) => `feature-${i}`);
    const card: ModelCard = {
      schemaVersion: 1,
      name,
      featureNames,
      featureSpecHash: sha256Hex(new TextEncoder().encode(featureNames.join('\n'))).slice(0, 16),
      onnxSha256: sha256Hex(onnx),
      dataRange: { from: '2021-01-01', to: '2024-01-01' },
      metrics: { sharpe: 1.2, sortino: 1.6, max_drawdown: 0.18, hit_rate: 0.53 },
      gates: { passed: true, checks: { sharpe: { value: 1.2, threshold: 1, op: '>=', passed: true } } },
      seed: 1,
      gitCommit: '0000000000000000000000000000000000000000',
    };
    const published = await publishModel(mlflow, store, { experiment: 'tm-bench-registry-load', runName: name, card, onnxBytes: onnx, registeredModel: name });
    await mlflow.setAlias(name, 'production', published.version!);
    const localDir = mkdtempSync(join(tmpdir(), 'tm-bench-models-'));
    mkdirSync(join(localDir, name));
    writeFileSync(join(localDir, name, 'model.onnx'), onnx);
    writeFileSync(join(localDir, name, 'card.json'), formatModelCard(card));

    const validate = featureValidator({ featureNames, featureSpecHash: card.featureSpecHash });
    const results: Omit<BenchResult, 'command' | 'date'>[] = [];
    try {
      for (const tier of Object.keys(TARGETS) as ModelTier[]) {
        const config = parseModelSourceConfig({ name, tiers: [tier], runId: published.runId, s3: { bucket, prefix: published.s3.prefix }, localDir });
        const samples: number[] = [];
        for (let i = 0; i < WARMUP + RUNS; i++) {
          const t0 = performance.now();
          const model = await loadModel(config, { mlflow, objectStore: store, logger: silentLogger, validate });
          const ms = performance.now() - t0;
          if (model.tier !== tier) throw new Error(`bench: tier ${tier} was asked for, ${model.tier} served`);
          if (i >= WARMUP) samples.push(ms);
        }
        results.push({
          name: `registry-load-${tier}`,
          value: Number(median(samples).toFixed(2)),
          unit: 'ms',
          target: TARGETS[tier],
          better: 'lower',
          details: { tier, modelBytes: MODEL_BYTES, features: featureNames.length, runs: samples.length, statistic: 'median', p90: Number(percentile(samples, 90).toFixed(2)) },
        });
      }
    } finally {
      rmSync(localDir, { recursive: true, force: true });
      await mlflow.deleteRegisteredModel(name).catch(() => undefined);
    }
    return results;
  },
};
export default bench;
