import { execFileSync } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { AppError } from '../core/app-error.js';
import { formatUtc } from '../core/time.js';
import type { MarketStore } from '../data/index.js';
import { FeaturePipeline } from '../features/index.js';
import {
  createS3Client,
  formatModelCard,
  MlflowClient,
  mlflowClientConfigFromEnv,
  PACKAGE_FILES,
  publishModel,
  REGISTRY_ENV,
  S3ObjectStore,
  s3ConfigFromEnv,
  s3CredentialsFromEnv,
  type PublishedModel,
} from '../registry/index.js';
import {
  ALL_SYMBOLS,
  CONFIGURATIONS,
  loadTrainConfig,
  loadTrainingData,
  runWalkForward,
  trainFeatureSpec,
  trainFinalModels,
  type TrainConfig,
  type TrainingData,
  buildModelPackages,
  foldMetricHistory,
  trainingReport,
  UNKNOWN_GIT_COMMIT,
  type ModelPackage,
  type WalkForwardResult,
} from '../training/index.js';

import { dbOption } from './cli-options.js';
import { withStore } from './store-session.js';
import { formatTable, type CliIo } from './output.js';
import { createProgress } from './progress.js';

/** A `tm train` input the command refuses (exit 2). */
class TrainCliError extends AppError<'invalid_argument' | 'missing_object_store'> {}

interface TrainFlags {
  config: string;
  db?: string;
  out: string;
  register?: string;
  trackingUri?: string;
  json?: boolean;
}

/** Returns `git rev-parse HEAD` of the working directory, or undefined when it is not a git repository. */
function gitHead(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return /^[0-9a-f]{40}$/.test(head) ? head : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `bytes` to `path` through a temp file in the same folder and a rename (readers never see a partial file). */
async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

/**
 * Replaces the walk-forward predictions of `model`@`version` for each symbol: deletes that version's rows, then writes
 * the out-of-sample predictions of the final configuration (one row per test bar, ts = bar open time; the prediction is
 * made at that bar's close). Returns rows written per symbol.
 */
async function writePredictions(store: MarketStore, data: TrainingData, config: TrainConfig, wf: WalkForwardResult): Promise<Record<string, number>> {
  const { from, to } = wf.oosRange;
  const ts = data.ts.subarray(from, to);
  const written: Record<string, number> = {};
  for (let s = 0; s < data.symbols.length; s++) {
    const symbol = data.symbols[s]!.symbol;
    await store.query(`DELETE FROM predictions WHERE model = ? AND model_version = ? AND venue = ? AND symbol = ? AND timeframe = ?`, [
      config.name,
      config.predictionsVersion,
      data.venue,
      symbol,
      data.timeframe,
    ]);
    const prediction = wf.predictions[config.final][s]!.subarray(from, to);
    await store.upsertPredictions({ model: config.name, modelVersion: config.predictionsVersion, venue: data.venue, symbol, timeframe: data.timeframe, featureSpecHash: data.featureSpecHash }, ts, prediction);
    written[symbol] = ts.length;
  }
  return written;
}

/** Flattens the config to MLflow params `config.<path>` (values as JSON for non-strings, ≤ 500 characters). */
function configParams(config: TrainConfig): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (value: unknown, path: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
      return;
    }
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    out[`config.${path}`] = text.length > 500 ? `${text.slice(0, 497)}...` : text;
  };
  walk(config, '');
  return out;
}

/** Publishes every package to MLflow (+ the S3 tier-3 copy) with `publishModel`; per-symbol ones register `<register>.<SYMBOL>`. */
async function publishAll(packages: readonly ModelPackage[], config: TrainConfig, wf: WalkForwardResult, selected: readonly string[], opts: TrainFlags, gitCommit: string): Promise<PublishedModel[] | undefined> {
  const mlflowConfig = mlflowClientConfigFromEnv(process.env, opts.trackingUri ? { trackingUri: opts.trackingUri } : {});
  if (!mlflowConfig) {
    if (opts.register !== undefined) {
      throw new TrainCliError('invalid_argument', `--register needs an MLflow tracking server: set ${REGISTRY_ENV.trackingUri} or pass --tracking-uri (e.g. eval "$(bash scripts/services.sh env)")`);
    }
    return undefined;
  }
  const s3 = s3ConfigFromEnv(process.env);
  if (!s3) {
    throw new TrainCliError('missing_object_store', `${REGISTRY_ENV.trackingUri} is set but ${REGISTRY_ENV.s3Bucket} is not: publishing copies the package to S3 (tier 3); set ${REGISTRY_ENV.s3Bucket} (and ${REGISTRY_ENV.s3Endpoint})`);
  }
  const client = new MlflowClient(mlflowConfig, { now: () => Date.now() });
  const objectStore = new S3ObjectStore(createS3Client(s3, s3CredentialsFromEnv(process.env)), s3.bucket);
  const params = { ...configParams(config), 'train.configuration': config.final, 'train.selected_features': JSON.stringify(selected) };
  const published: PublishedModel[] = [];
  for (const p of packages) {
    published.push(
      await publishModel(client, objectStore, {
        experiment: config.experiment,
        runName: `${p.card.name}-${gitCommit.slice(0, 8)}`,
        card: p.card,
        onnxBytes: p.onnxBytes,
        ...(opts.register !== undefined ? { registeredModel: p.symbol ? `${opts.register}.${p.symbol}` : opts.register } : {}),
        params: { ...params, 'train.package': p.dir === '' ? 'primary' : p.dir },
        metricHistory: foldMetricHistory(wf),
      }),
    );
  }
  return published;
}

const fmt = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));

/**
 * Builds `tm train`: runs the purged walk-forward of a training config on the store's data, trains the final model(s) on
 * all rows, writes `<out>/<name>/model.onnx`, `card.json` (registry card schema), `training-report.json` (and
 * `<out>/<name>/<SYMBOL>/` packages for per-symbol and transfer models), writes the out-of-sample predictions of the final
 * configuration to the store's `predictions` table, and with MLFLOW_TRACKING_URI set publishes every package to MLflow
 * (`--register <model>` adds registered versions).
 * @example tm train --config experiments/train-gbdt-transfer.json --register gbdt-transfer
 */
export function trainCommand(io: CliIo, _setExit: (code: number) => void): Command {
  return new Command('train')
    .description('purged walk-forward validation (Boruta per fold; pooled, per-symbol, transfer and RF models), final model training, ONNX + card, OOS predictions to the store, MLflow logging')
    .requiredOption('--config <file>', 'training config, e.g. experiments/train-gbdt-transfer.json')
    .addOption(dbOption())
    .option('--out <dir>', 'models folder: files go to <out>/<name>/', 'models')
    .option('--register <model>', 'register a new version of this MLflow model (needs MLFLOW_TRACKING_URI)')
    .addOption(new Option('--tracking-uri <url>', 'MLflow tracking server URL').env(REGISTRY_ENV.trackingUri))
    .option('--json', 'print the summary as JSON')
    .action(async (opts: TrainFlags) => {
      if (opts.register !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(opts.register)) {
        throw new TrainCliError('invalid_argument', `--register must be letters, digits, ".", "_" or "-", was ${JSON.stringify(opts.register)}`);
      }
      const loaded = await loadTrainConfig(opts.config);
      if (!loaded.success) throw loaded.error;
      const config = loaded.data;
      const started = performance.now();
      const pipeline = FeaturePipeline.fromSpec(trainFeatureSpec(config));
      const progress = createProgress(config.walkForward.folds * 3 + 2, 'steps');
      const run = await withStore(opts.db, async (store) => {
        const data = await loadTrainingData(store, config, pipeline);
        const wf = runWalkForward(data, config, (done, _total, label) => progress.update(done, label));
        const final = trainFinalModels(data, config);
        progress.update(config.walkForward.folds * 3 + 2, 'final model trained');
        const predictions = await writePredictions(store, data, config, wf);
        return { data, wf, final, predictions };
      }).finally(() => progress.stop());
      const { data, wf, final } = run;

      const head = gitHead();
      const gitCommit = head ?? UNKNOWN_GIT_COMMIT;
      const trainedAt = new Date(Date.now()).toISOString();
      const packages = buildModelPackages(data, config, wf, final, gitCommit);
      const dir = join(opts.out, config.name);
      const files: string[] = [];
      for (const p of packages) {
        const target = join(dir, p.dir);
        await mkdir(target, { recursive: true });
        await writeAtomic(join(target, PACKAGE_FILES.onnx), p.onnxBytes);
        await writeAtomic(join(target, PACKAGE_FILES.card), formatModelCard(p.card));
        files.push(join(target, PACKAGE_FILES.onnx), join(target, PACKAGE_FILES.card));
      }
      const report = trainingReport(data, config, wf, final, { gitCommit: head ?? 'unknown', trainedAt });
      await writeAtomic(join(dir, 'training-report.json'), JSON.stringify(report, null, 2) + '\n');
      files.push(join(dir, 'training-report.json'));

      const published = await publishAll(packages, config, wf, final.selection.names, opts, gitCommit);
      const seconds = (performance.now() - started) / 1000;
      const verdict = wf.overall[config.final][ALL_SYMBOLS]!.gates;
      const summary = {
        name: config.name,
        final: config.final,
        promotable: verdict.passed,
        selectedFeatures: final.selection.names,
        oos: { from: formatUtc(data.ts[wf.oosRange.from]!), to: formatUtc(data.ts[wf.oosRange.to - 1]! + data.timeframeMs) },
        predictions: { model: config.name, version: config.predictionsVersion, rows: run.predictions },
        files,
        mlflow: published?.map((p) => ({ runId: p.runId, ...(p.version ? { version: p.version } : {}) })) ?? null,
        seconds: Number(seconds.toFixed(1)),
      };
      if (opts.json) return io.out(JSON.stringify({ ...summary, overall: wf.overall }, null, 2));
      const rows = CONFIGURATIONS.flatMap((c) =>
        Object.entries(wf.overall[c]).map(([key, s]) => ({
          configuration: c,
          symbol: key,
          ic: fmt(s.ic, 4),
          p_value: fmt(s.pValue),
          hit_rate: fmt(s.hitRate),
          sharpe: fmt(s.sharpe, 2),
          dsr: fmt(s.dsr),
          trades: s.tradeCount,
          gates: s.gates.passed ? 'pass' : 'fail',
        })),
      );
      io.out(`walk-forward ${wf.folds.length} folds, out-of-sample ${summary.oos.from} .. ${summary.oos.to}; DSR trials ${wf.trials.count}`);
      io.out(formatTable(rows));
      io.out(`final ${config.final}: features ${final.selection.names.join(', ')}`);
      io.out(`gates (IC >= ${config.gates.minIc}, p < ${config.gates.maxPValue}, Sharpe > ${config.gates.minSharpe}) on ${config.final}/${ALL_SYMBOLS}: ${verdict.passed ? 'PASSED (promotable)' : 'FAILED (not promotable)'}`);
      io.out(`predictions: ${config.name}@${config.predictionsVersion} ${Object.entries(run.predictions).map(([s, n]) => `${s} ${n}`).join(', ')} rows`);
      io.out(`wrote ${files.join(', ')}`);
      if (published) io.out(`mlflow: ${published.map((p) => `run ${p.runId}${p.version ? ` version ${p.version}` : ''}`).join('; ')}`);
      else io.out(`mlflow: not logged (${REGISTRY_ENV.trackingUri} not set)`);
      io.out(`done in ${seconds.toFixed(1)} s`);
    });
}
