import type { ExperimentModel } from '../backtest/run-experiment.js';
import type { ModelVersionSource } from '../live/model-watch.js';
import type { FeaturePipeline } from '../features/index.js';
import { loadOnnxModel } from '../models/index.js';
import {
  createS3ObjectStore,
  featureValidator,
  loadModel,
  loadModelPackage,
  MlflowClient,
  mlflowClientConfigFromEnv,
  modelSourceConfigFromEnv,
  REGISTRY_DEFAULTS,
  s3ConfigFromEnv,
  s3CredentialsFromEnv,
  silentLogger,
  type LoadedPackage,
} from '../registry/index.js';

/** `<name>@<alias>` or `<name>/<version>`: a registered model (4-tier loader); anything else is a package folder. */
const REGISTRY_REF = /^([A-Za-z0-9][A-Za-z0-9._-]*)@([A-Za-z0-9_-]+)$/;
const VERSION_REF = /^([A-Za-z0-9][A-Za-z0-9._-]*)\/([1-9][0-9]*)$/;

/**
 * The model package `ref` names, for `symbol`, checked against `pipeline`:
 * - `<name>@<alias>`: the 4-tier loader (alias → run → S3 → local `TM_MODELS_DIR`/`models`), MLflow and S3 from the
 *   environment (`MLFLOW_TRACKING_URI`, `TM_S3_*`; without MLflow only the local tier is tried);
 * - `<name>/<version>` (digits, e.g. `gbdt-transfer/3`): that registered version through the same loader (registry →
 *   its S3 copy `models/<name>/<version>/` → local `<dir>/<name>/<version>/`); a version the registry does not have
 *   is refused (`version_not_found`, naming the versions it has). A folder of that shape is written `./<name>/<n>`;
 * - anything else: a folder (`models/<name>`; `<folder>/<SYMBOL>/` when it holds a per-symbol package) read from disk.
 * Every tier checks the checksum and the features; the version is the registry's (`v<N>`) when the registry served.
 */
export async function loadPackage(ref: string, symbol: string, pipeline: FeaturePipeline, env: Readonly<Record<string, string | undefined>> = process.env): Promise<LoadedPackage> {
  const expected = { featureNames: pipeline.names, featureSpecHash: pipeline.hash };
  const byAlias = REGISTRY_REF.exec(ref);
  const byVersion = byAlias ? null : VERSION_REF.exec(ref);
  if (!byAlias && !byVersion) return loadModelPackage(ref, symbol, expected);
  const name = (byAlias ?? byVersion)![1]!;
  const mlflow = mlflowClientConfigFromEnv(env);
  const s3 = s3ConfigFromEnv(env);
  const pinned = byVersion
    ? { version: byVersion[2]!, ...(s3 ? { s3: { bucket: s3.bucket, prefix: `${REGISTRY_DEFAULTS.modelsPrefix}/${name}/${byVersion[2]!}` } } : {}) }
    : { alias: byAlias![2]! };
  const source = modelSourceConfigFromEnv(env, name, { ...pinned, ...(mlflow ? {} : { tiers: ['local'] }) });
  const loaded = await loadModel(source, {
    logger: silentLogger,
    validate: featureValidator(expected),
    ...(mlflow ? { mlflow: new MlflowClient(mlflow, { now: () => Date.now() }) } : {}),
    ...(s3 ? { objectStore: createS3ObjectStore(s3, s3CredentialsFromEnv(env)) } : {}),
  });
  const model = await loadOnnxModel(loaded.onnxBytes, expected);
  return { card: loaded.card, model, version: loaded.version !== undefined ? `v${loaded.version}` : `local-${loaded.card.onnxSha256.slice(0, 12)}` };
}

/** {@link loadPackage} in the shape experiments take (`ExperimentDeps.loadModel`). */
export async function loadExperimentModel(ref: string, symbol: string, pipeline: FeaturePipeline): Promise<ExperimentModel> {
  const p = await loadPackage(ref, symbol, pipeline);
  return {
    model: p.model,
    card: { name: p.card.name, dataRange: p.card.dataRange, gatesPassed: p.card.gates.passed, metrics: p.card.metrics, onnxSha256: p.card.onnxSha256 },
    version: p.version,
    close: () => p.model.close(),
  };
}

/**
 * The registry alias a live run follows (promote-to-live): `current()` asks MLflow where `name@alias` points (one
 * REST call), `load()` loads it for every symbol through {@link loadPackage} (the 4-tier loader: checksum, features).
 * Undefined when `ref` is not `name@alias` or no tracking server is configured (nothing to follow).
 */
export function registryModelSource(ref: string, symbols: readonly string[], pipeline: FeaturePipeline, env: Readonly<Record<string, string | undefined>> = process.env): ModelVersionSource | undefined {
  const registered = REGISTRY_REF.exec(ref);
  const config = mlflowClientConfigFromEnv(env);
  if (!registered || config === undefined) return undefined;
  const [, name, alias] = registered as unknown as [string, string, string];
  const mlflow = new MlflowClient(config, { now: () => Date.now() });
  return {
    name,
    current: async () => `v${(await mlflow.getModelVersionByAlias(name, alias)).version}`,
    async load() {
      const models: ExperimentModel[] = [];
      try {
        for (const symbol of symbols) {
          const p = await loadPackage(ref, symbol, pipeline, env);
          models.push({ model: p.model, card: { name: p.card.name, dataRange: p.card.dataRange, gatesPassed: p.card.gates.passed, metrics: p.card.metrics, onnxSha256: p.card.onnxSha256 }, version: p.version, close: () => p.model.close() });
        }
      } catch (e) {
        for (const m of models) await m.close();
        throw e;
      }
      return { version: models[0]!.version, models };
    },
  };
}
