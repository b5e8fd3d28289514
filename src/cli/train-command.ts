import { execFileSync } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { AppError, rewordError } from '../core/app-error.js';
import { formatUtc } from '../core/time.js';
import type { MarketStore } from '../data/index.js';
import { FeaturePipeline } from '../features/index.js';
import {
  createS3ObjectStore,
  formatModelCard,
  MlflowClient,
  mlflowClientConfigFromEnv,
  ObjectStoreError,
  PACKAGE_FILES,
  publishModel,
  REGISTRY_DEFAULTS,
  REGISTRY_ENV,
  type S3ObjectStore,
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
class TrainCliError extends AppError<'invalid_argument' | 'missing_object_store' | 'registry_unreachable' | 'publish_failed'> {}

interface TrainFlags {
  config: string;
  db?: string;
  out: string;
  register?: string;
  trackingUri?: string;
  json?: boolean;
}

/** Returns `git rev-parse HEAD` of the working directory, or undefined when it is not a git repository. */
export function gitHead(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return /^[0-9a-f]{40}$/.test(head) ? head : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Replaces the walk-forward predictions of `model`@`version` for each symbol: deletes that version's rows, then writes
 * the out-of-sample predictions of the final configuration (one row per test bar, ts = bar open time; the prediction is
 * made at that bar's close). Returns rows written per symbol.
 */
async function writePredictions(store: MarketStore, data: TrainingData, config: TrainConfig, wf: WalkForwardResult): Promise<Record<string, number>> {
  return store.transaction(() => replacePredictions(store, data, config, wf));
}

async function replacePredictions(store: MarketStore, data: TrainingData, config: TrainConfig, wf: WalkForwardResult): Promise<Record<string, number>> {
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
    if (wf.metaLabel) {
      // the meta-labelled signal of the final configuration, as its own version (0 = bet skipped)
      const version = `${config.predictionsVersion}-meta`;
      await store.query(`DELETE FROM predictions WHERE model = ? AND model_version = ? AND venue = ? AND symbol = ? AND timeframe = ?`, [config.name, version, data.venue, symbol, data.timeframe]);
      await store.upsertPredictions({ model: config.name, modelVersion: version, venue: data.venue, symbol, timeframe: data.timeframe, featureSpecHash: data.featureSpecHash }, ts, wf.metaLabel.predictions[s]!.subarray(from, to));
    }
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

/** Where `tm train` publishes: clients checked by {@link preflightRegistry} before any training. */
export interface RegistryTarget {
  readonly client: MlflowClient;
  readonly objectStore: S3ObjectStore;
}

/**
 * Checks the registry settings and reaches both services BEFORE training: MLflow must be configured when
 * `--register` is given, an S3 bucket when MLflow is, and both must answer (one cheap read each, within their
 * deadlines). Returns undefined when MLflow is not configured and `--register` is absent (a local-only run).
 * @throws TrainCliError `invalid_argument`, `missing_object_store`, `registry_unreachable` (nothing was trained or written).
 */
export async function preflightRegistry(opts: Pick<TrainFlags, 'register' | 'trackingUri'>): Promise<RegistryTarget | undefined> {
  const mlflowConfig = mlflowClientConfigFromEnv(process.env, opts.trackingUri ? { trackingUri: opts.trackingUri } : {});
  if (!mlflowConfig) {
    if (opts.register !== undefined) {
      throw new TrainCliError('invalid_argument', `--register needs an MLflow tracking server: set ${REGISTRY_ENV.trackingUri} or pass --tracking-uri (e.g. eval "$(bash scripts/services.sh env)"); nothing was trained or written`);
    }
    return undefined;
  }
  const s3 = s3ConfigFromEnv(process.env);
  if (!s3) {
    throw new TrainCliError('missing_object_store', `${REGISTRY_ENV.trackingUri} is set but ${REGISTRY_ENV.s3Bucket} is not: publishing copies the package to S3 (tier 3); set ${REGISTRY_ENV.s3Bucket} (and ${REGISTRY_ENV.s3Endpoint}); nothing was trained or written`);
  }
  const client = new MlflowClient(mlflowConfig, { now: () => Date.now() });
  const objectStore = createS3ObjectStore(s3, s3CredentialsFromEnv(process.env));
  try {
    await client.searchRegisteredModels({ maxResults: 1 });
  } catch (e) {
    throw new TrainCliError('registry_unreachable', `MLflow check before training failed: ${(e as Error).message}; nothing was trained or written`, { trackingUri: client.trackingUri }, { cause: e });
  }
  try {
    await objectStore.get(`${REGISTRY_DEFAULTS.modelsPrefix}/.tm-train-preflight`);
  } catch (e) {
    if (!(e instanceof ObjectStoreError && e.code === 'not_found')) {
      throw new TrainCliError('registry_unreachable', `S3 check before training failed: ${(e as Error).message}; nothing was trained or written`, { bucket: s3.bucket }, { cause: e });
    }
  }
  return { client, objectStore };
}

/** Publishes every package to MLflow (+ the S3 tier-3 copy) with `publishModel`; per-symbol ones register `<register>.<SYMBOL>`. */
async function publishAll(target: RegistryTarget, packages: readonly ModelPackage[], config: TrainConfig, wf: WalkForwardResult, selected: readonly string[], opts: TrainFlags, gitCommit: string): Promise<PublishedModel[]> {
  const params = { ...configParams(config), 'train.configuration': config.final, 'train.selected_features': JSON.stringify(selected) };
  const published: PublishedModel[] = [];
  for (const p of packages) {
    published.push(
      await publishModel(target.client, target.objectStore, {
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

/**
 * Writes every file through a temp file, then renames them all into place: a failure while writing leaves the
 * old files as they were (temp files removed); the renames come only after every byte is on disk.
 */
export async function writeAllAtomic(files: readonly { path: string; bytes: Uint8Array | string }[]): Promise<void> {
  const staged: { tmp: string; path: string }[] = [];
  try {
    for (const f of files) {
      await mkdir(dirname(f.path), { recursive: true });
      const tmp = `${f.path}.tmp-${process.pid}`;
      staged.push({ tmp, path: f.path });
      await writeFile(tmp, f.bytes);
    }
  } catch (e) {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw e;
  }
  for (const s of staged) await rename(s.tmp, s.path);
}

/**
 * Runs `fn`; an AppError it throws is rethrown (same class and code) with the config file in front of its message,
 * unless the message names it already: errors raised during a training run say which config they came from.
 */
async function namingConfig<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof AppError) || e.message.includes(file)) throw e;
    throw rewordError(e, `${file}: ${e.message}`, { config: file });
  }
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
      // Check before work: registry settings and reachability, before a minute of training.
      const target = await preflightRegistry(opts);
      const started = performance.now();
      const progress = createProgress(config.walkForward.folds * 3 + 2, 'steps');
      // Training only reads the store (READ_ONLY: other readers may run alongside).
      const run = await namingConfig(opts.config, () =>
        withStore(
          opts.db,
          async (store) => {
            const pipeline = FeaturePipeline.fromSpec(trainFeatureSpec(config));
            const data = await loadTrainingData(store, config, pipeline);
            const wf = runWalkForward(data, config, (done, _total, label) => progress.update(done, label));
            const final = trainFinalModels(data, config);
            progress.update(config.walkForward.folds * 3 + 2, 'final model trained');
            return { data, wf, final };
          },
          { readOnly: true },
        ).finally(() => progress.stop()),
      );
      const { data, wf, final } = run;

      const head = gitHead();
      const gitCommit = head ?? UNKNOWN_GIT_COMMIT;
      const trainedAt = new Date(Date.now()).toISOString();
      const packages = await namingConfig(opts.config, async () => buildModelPackages(data, config, wf, final, gitCommit));
      const dir = join(opts.out, config.name);
      const outputs: { path: string; bytes: Uint8Array | string }[] = [];
      for (const p of packages) {
        const target = join(dir, p.dir);
        outputs.push({ path: join(target, PACKAGE_FILES.onnx), bytes: p.onnxBytes }, { path: join(target, PACKAGE_FILES.card), bytes: formatModelCard(p.card) });
      }
      const report = trainingReport(data, config, wf, final, { gitCommit: head ?? 'unknown', trainedAt });
      outputs.push({ path: join(dir, 'training-report.json'), bytes: JSON.stringify(report, null, 2) + '\n' });
      const files = outputs.map((o) => o.path);

      // Commit after work: publish first; local files and the store's predictions change only once it succeeded.
      let published: PublishedModel[] | undefined;
      if (target) {
        try {
          published = await publishAll(target, packages, config, wf, final.selection.names, opts, gitCommit);
        } catch (e) {
          throw new TrainCliError(
            'publish_failed',
            `${opts.config}: training finished but publishing to MLflow failed: ${(e as Error).message}. Nothing was written locally: ${dir}/ and the store's predictions of ${config.name}@${config.predictionsVersion} are as they were`,
            { config: opts.config },
            { cause: e },
          );
        }
      }
      await writeAllAtomic(outputs);
      const predictions = await withStore(opts.db, (store) => writePredictions(store, data, config, wf));
      const seconds = (performance.now() - started) / 1000;
      const verdict = wf.overall[config.final][ALL_SYMBOLS]!.gates;
      const summary = {
        name: config.name,
        final: config.final,
        promotable: verdict.passed,
        selectedFeatures: final.selection.names,
        oos: { from: formatUtc(data.ts[wf.oosRange.from]!), to: formatUtc(data.ts[wf.oosRange.to - 1]! + data.timeframeMs) },
        predictions: { model: config.name, version: config.predictionsVersion, rows: predictions },
        files,
        mlflow: published?.map((p) => ({ runId: p.runId, ...(p.version ? { version: p.version } : {}) })) ?? null,
        seconds: Number(seconds.toFixed(1)),
      };
      if (opts.json) return io.out(JSON.stringify({ ...summary, overall: wf.overall }, null, 2));
      const rows: Record<string, string | number>[] = CONFIGURATIONS.flatMap((c) =>
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
      const meta = wf.metaLabel;
      if (meta) {
        for (const [key, s] of Object.entries(meta.overall)) {
          rows.push({ configuration: `${meta.configuration}+meta`, symbol: key, ic: fmt(s.ic, 4), p_value: fmt(s.pValue), hit_rate: fmt(s.hitRate), sharpe: fmt(s.sharpe, 2), dsr: fmt(s.dsr), trades: s.tradeCount, gates: s.gates.passed ? 'pass' : 'fail' });
        }
      }
      io.out(`walk-forward ${wf.folds.length} folds, out-of-sample ${summary.oos.from} .. ${summary.oos.to}; DSR trials ${wf.trials.count}`);
      io.out(formatTable(rows));
      io.out(`final ${config.final}: features ${final.selection.names.join(', ')}`);
      io.out(`gates (IC >= ${config.gates.minIc}, p < ${config.gates.maxPValue}, Sharpe > ${config.gates.minSharpe}) on ${config.final}/${ALL_SYMBOLS}: ${verdict.passed ? 'PASSED (promotable)' : 'FAILED (not promotable)'}`);
      io.out(`predictions: ${config.name}@${config.predictionsVersion} ${Object.entries(predictions).map(([s, n]) => `${s} ${n}`).join(', ')} rows`);
      if (meta) {
        io.out(`meta-labelling (${meta.configuration}+meta, threshold ${meta.threshold}): bets taken on ${fmt(meta.betRate * 100, 1)} % of out-of-sample bars; signal at ${config.name}@${config.predictionsVersion}-meta; evaluated only: the exported ONNX is the primary model`);
      }
      io.out(`wrote ${files.join(', ')}`);
      if (published) io.out(`mlflow: ${published.map((p) => `run ${p.runId}${p.version ? ` version ${p.version}` : ''}`).join('; ')}`);
      else io.out(`mlflow: not logged (${REGISTRY_ENV.trackingUri} not set)`);
      io.out(`done in ${seconds.toFixed(1)} s`);
    });
}
