import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_DEADLINES } from '../config/network-deadlines.js';
import { AppError } from '../core/app-error.js';
import { DeadlineError, withDeadline } from '../core/deadline.js';
import type { MlflowClient } from './mlflow-client.js';
import type { ModelVersion } from './mlflow-types.js';
import { failedVersionReason, LINEAGE_TAGS } from './model-artifact.js';
import { PACKAGE_FILES, parseModelCard, verifyChecksum, type CardValidator, type ModelCard } from './model-card.js';
import type { ObjectStore } from './object-store.js';
import type { ModelSourceConfig, ModelTier } from './registry-config.js';
import { ModelPackageError, RegistryError } from './registry-error.js';
import type { RegistryLogger } from './registry-logger.js';

/** What `loadModel` needs besides its config. Clients are created by the caller; absent client = its tiers are skipped. */
export interface ModelLoaderDeps {
  readonly logger: RegistryLogger;
  /** The running pipeline's check of a card (see `featureValidator`). */
  readonly validate: CardValidator;
  /** Serves tiers `alias` and `run`. */
  readonly mlflow?: MlflowClient;
  /** Serves tier `s3` (the bucket must be `config.s3.bucket`). */
  readonly objectStore?: ObjectStore;
  /**
   * Total time one remote tier (alias, run, s3) may take, every request and retry included, ms; when it runs out the
   * tier fails `timeout` and the next tier is tried. Default `TM_MODEL_TIER_BUDGET_MS`'s default, 5 000.
   */
  readonly tierBudgetMs?: number;
}

/** How one tier went. */
export interface TierAttempt {
  readonly tier: ModelTier;
  readonly outcome: 'served' | 'skipped' | 'failed';
  /** e.g. `btc-4h@production → version 3 (mlflow-artifacts:/1/<run>/artifacts/model)`, `s3://bucket/prefix/`, a folder. */
  readonly location?: string;
  /** Error code (`unavailable`, `not_found`, `checksum_mismatch`, ...) for failed tiers. */
  readonly code?: string;
  readonly reason?: string;
}

/** A verified model package and where it came from. */
export interface LoadedModel {
  readonly tier: ModelTier;
  readonly location: string;
  readonly card: ModelCard;
  readonly onnxBytes: Uint8Array;
  /** Registered version, when tier `alias` served. */
  readonly version?: string;
  readonly runId?: string;
  /** Every tier tried, in order, ending with the one that served. */
  readonly attempts: readonly TierAttempt[];
}

/** A package as a tier fetched it, before verification. */
export interface RawPackage {
  readonly location: string;
  readonly onnxBytes: Uint8Array;
  readonly cardText: string;
  readonly version?: string;
  readonly runId?: string;
  /** sha256 the registry recorded for this package (version tag), checked against the card when present. */
  readonly registeredSha256?: string;
}

class TierSkipped extends Error {}

/**
 * Loads a model package through up to four tiers, in `config.tiers` order (default):
 * 1. `alias`: `name@alias` in the MLflow registry → version → its source artifacts through the tracking server's proxy
 *    (with `config.version` set: that pinned version, `name/version`, instead of the alias);
 * 2. `run`: run `runId`'s `<artifactPath>/` through the proxy (skipped for a pinned version);
 * 3. `s3`: `s3://<bucket>/<prefix>/` directly (no MLflow involved);
 * 4. `local`: `<localDir>/<name>/` (`<localDir>/<name>/<version>/` for a pinned version).
 * Each package is verified before it is served: card.json fits the schema, sha256(model.onnx) equals the card's
 * `onnxSha256` (and the version's `onnx_sha256` tag in tier 1), then `deps.validate(card)` (feature names, order and hash).
 *
 * Tier behaviour: a tier that is unreachable, misses a file, or holds a corrupted package (bad card, checksum
 * mismatch) is logged with its reason (`logger.warn`) and the next tier is tried. A **feature mismatch stops
 * loading** and throws: a package that verifies but was trained on other features means the configuration
 * (alias, run, prefix) points at a model this pipeline cannot feed, and a lower tier would only serve some other,
 * older model in its place, silently. It is logged as the tier's failure before the throw.
 *
 * A pinned version the registry answers it does not have also stops loading (a lower tier could only serve a
 * copy of a version the registry no longer vouches for, or another model).
 *
 * @throws ModelPackageError `feature_mismatch` (first mismatching feature named), `version_not_found` (the versions
 *   the registry has in `context.versions`), `no_model_available` (`context.attempts` holds every tier's reason).
 * @example
 * const model = await loadModel(config, { mlflow, objectStore, logger, validate: featureValidator(pipeline.features) });
 * model.tier; // 'alias' | 'run' | 's3' | 'local'
 */
export async function loadModel(config: ModelSourceConfig, deps: ModelLoaderDeps): Promise<LoadedModel> {
  const attempts: TierAttempt[] = [];
  for (const tier of config.tiers) {
    let raw: RawPackage;
    try {
      raw = tier === 'local' ? await fetchTier(tier, config, deps) : await withDeadline(`model tier ${tier}`, tierEndpoint(tier, config, deps), deps.tierBudgetMs ?? DEFAULT_DEADLINES.modelTierBudgetMs, () => fetchTier(tier, config, deps));
    } catch (e) {
      if (e instanceof ModelPackageError && e.code === 'version_not_found') {
        attempts.push({ tier, outcome: 'failed', code: e.code, reason: e.message });
        deps.logger.warn(`model tier ${tier} failed`, { model: config.name, tier, code: e.code, reason: e.message });
        throw new ModelPackageError(e.code, e.message, { ...e.context, attempts }, { cause: e.cause });
      }
      const attempt: TierAttempt =
        e instanceof TierSkipped
          ? { tier, outcome: 'skipped', reason: e.message }
          : { tier, outcome: 'failed', code: e instanceof DeadlineError ? 'timeout' : e instanceof AppError ? e.code : 'error', reason: (e as Error).message };
      attempts.push(attempt);
      if (attempt.outcome === 'skipped') deps.logger.info(`model tier ${tier} skipped`, { model: config.name, ...attempt });
      else deps.logger.warn(`model tier ${tier} failed`, { model: config.name, ...attempt });
      continue;
    }
    const verified = verifyPackage(raw, deps.validate);
    if (!verified.success) {
      const e = verified.error;
      attempts.push({ tier, outcome: 'failed', location: raw.location, code: e.code, reason: e.message });
      deps.logger.warn(`model tier ${tier} failed`, { model: config.name, tier, location: raw.location, code: e.code, reason: e.message });
      if (e.code === 'feature_mismatch') {
        throw new ModelPackageError('feature_mismatch', `${raw.location}: ${e.message}; not falling back to other tiers`, { ...e.context, tier, location: raw.location, attempts });
      }
      continue;
    }
    attempts.push({ tier, outcome: 'served', location: raw.location });
    deps.logger.info('model loaded', { model: config.name, tier, location: raw.location, ...(raw.version ? { version: raw.version } : {}) });
    return {
      tier,
      location: raw.location,
      card: verified.data,
      onnxBytes: raw.onnxBytes,
      ...(raw.version ? { version: raw.version } : {}),
      ...(raw.runId ? { runId: raw.runId } : {}),
      attempts,
    };
  }
  const summary = attempts.map((a) => `${a.tier}: ${a.outcome}${a.reason ? ` (${a.reason})` : ''}`).join('; ');
  throw new ModelPackageError('no_model_available', `no tier served model ${JSON.stringify(config.name)}: ${summary}`, { model: config.name, attempts });
}

/**
 * Verifies a fetched package, in this order: card.json fits the schema; the registry's recorded `onnx_sha256` (when
 * the tier has one) equals the card's `onnxSha256`; sha256(model.onnx) equals the card's `onnxSha256`; `validate(card)`.
 * Returns the card, or the first failure (`invalid_card`, `checksum_mismatch`, `feature_mismatch`).
 */
export function verifyPackage(raw: RawPackage, validate: CardValidator): { success: true; data: ModelCard } | { success: false; error: ModelPackageError } {
  const card = parseModelCard(raw.cardText, raw.location);
  if (!card.success) return card;
  if (raw.registeredSha256 !== undefined && raw.registeredSha256 !== card.data.onnxSha256) {
    return {
      success: false,
      error: new ModelPackageError('checksum_mismatch', `${raw.location}: card.onnxSha256 is ${card.data.onnxSha256} but the registry recorded ${raw.registeredSha256}`, {
        where: raw.location,
        expected: raw.registeredSha256,
        actual: card.data.onnxSha256,
      }),
    };
  }
  const sum = verifyChecksum(card.data, raw.onnxBytes, raw.location);
  if (!sum.success) return sum;
  const features = validate(card.data);
  if (!features.success) return features;
  return { success: true, data: card.data };
}

/** Where a remote tier goes, for the timeout message. */
function tierEndpoint(tier: ModelTier, config: ModelSourceConfig, deps: ModelLoaderDeps): string {
  if (tier === 's3') return deps.objectStore?.location ?? (config.s3 ? `s3://${config.s3.bucket}` : 'S3');
  return deps.mlflow?.trackingUri ?? 'MLflow';
}

async function fetchTier(tier: ModelTier, config: ModelSourceConfig, deps: ModelLoaderDeps): Promise<RawPackage> {
  switch (tier) {
    case 'alias':
      return fetchAlias(config, deps);
    case 'run':
      return fetchRun(config, deps);
    case 's3':
      return fetchS3(config, deps);
    case 'local':
      return fetchLocal(config);
  }
}

async function fetchAlias(config: ModelSourceConfig, deps: ModelLoaderDeps): Promise<RawPackage> {
  if (!deps.mlflow) throw new TierSkipped('no MLflow client (MLFLOW_TRACKING_URI unset)');
  const mlflow = deps.mlflow;
  const v = config.version !== undefined ? await pinnedVersion(mlflow, config.name, config.version) : await mlflow.getModelVersionByAlias(config.name, config.alias);
  const where = config.version !== undefined ? `${config.name}/${config.version}` : `${config.name}@${config.alias} → version ${v.version}`;
  if (v.status !== 'READY') throw new ModelPackageError('missing_file', `${where} has status ${v.status}, expected READY`, { version: v.version, status: v.status });
  const failed = failedVersionReason(v.tags);
  if (failed) throw new ModelPackageError('invalid_card', `${where}: ${failed}`, { version: v.version });
  let root = v.source;
  const runs = /^runs:\/([0-9a-f]+)\/(.*)$/.exec(v.source);
  if (runs) root = `${(await mlflow.getRun(runs[1]!)).info.artifact_uri.replace(/\/+$/, '')}/${runs[2]}`;
  const location = `${where} (${root})`;
  const [onnxBytes, card] = await Promise.all([mlflow.downloadArtifact(root, PACKAGE_FILES.onnx), mlflow.downloadArtifact(root, PACKAGE_FILES.card)]);
  const registeredSha256 = v.tags[LINEAGE_TAGS.onnxSha256];
  return {
    location,
    onnxBytes,
    cardText: new TextDecoder().decode(card),
    version: v.version,
    ...(v.run_id ? { runId: v.run_id } : {}),
    ...(registeredSha256 ? { registeredSha256 } : {}),
  };
}

/**
 * Version `version` of registered model `name`.
 * @throws ModelPackageError `version_not_found` when the registry answers it has no such version (naming the versions
 *   it has, or saying the model is not registered); RegistryError for any other failure (the tier fails, the next runs).
 */
async function pinnedVersion(mlflow: MlflowClient, name: string, version: string): Promise<ModelVersion> {
  try {
    return await mlflow.getModelVersion(name, version);
  } catch (e) {
    if (!(e instanceof RegistryError && e.code === 'not_found')) throw e;
    const versions = (await mlflow.searchAllModelVersions({ filter: `name = '${name.replace(/'/g, "''")}'` })).map((v) => v.version).sort((a, b) => Number(a) - Number(b));
    const has = versions.length > 0 ? `it has version${versions.length > 1 ? 's' : ''} ${versions.join(', ')}` : 'no model of that name is registered';
    throw new ModelPackageError('version_not_found', `model ${name}/${version}: the registry at ${mlflow.trackingUri} has no version ${version} of ${JSON.stringify(name)} (${has})`, { model: name, version, versions }, { cause: e });
  }
}

async function fetchRun(config: ModelSourceConfig, deps: ModelLoaderDeps): Promise<RawPackage> {
  if (config.version !== undefined) throw new TierSkipped(`a run id names no registered version (${config.name}/${config.version} is pinned)`);
  if (!deps.mlflow) throw new TierSkipped('no MLflow client (MLFLOW_TRACKING_URI unset)');
  if (!config.runId) throw new TierSkipped('no run id configured (TM_MODEL_RUN_ID)');
  const run = await deps.mlflow.getRun(config.runId);
  const root = `${run.info.artifact_uri.replace(/\/+$/, '')}/${config.artifactPath.replace(/^\/+|\/+$/g, '')}`;
  const [onnxBytes, card] = await Promise.all([deps.mlflow.downloadArtifact(root, PACKAGE_FILES.onnx), deps.mlflow.downloadArtifact(root, PACKAGE_FILES.card)]);
  return { location: `run ${config.runId} (${root})`, onnxBytes, cardText: new TextDecoder().decode(card), runId: config.runId };
}

async function fetchS3(config: ModelSourceConfig, deps: ModelLoaderDeps): Promise<RawPackage> {
  if (!config.s3) throw new TierSkipped('no S3 bucket/prefix configured (TM_S3_BUCKET + TM_MODEL_S3_PREFIX)');
  if (!deps.objectStore) throw new TierSkipped('no S3 client');
  if (deps.objectStore.location !== `s3://${config.s3.bucket}`) {
    throw new ModelPackageError('unavailable', `the S3 client serves ${deps.objectStore.location}, the config asks for s3://${config.s3.bucket}`, {
      store: deps.objectStore.location,
      bucket: config.s3.bucket,
    });
  }
  const prefix = config.s3.prefix.replace(/^\/+|\/+$/g, '');
  const [onnxBytes, card] = await Promise.all([deps.objectStore.get(`${prefix}/${PACKAGE_FILES.onnx}`), deps.objectStore.get(`${prefix}/${PACKAGE_FILES.card}`)]);
  return { location: `s3://${config.s3.bucket}/${prefix}/`, onnxBytes, cardText: new TextDecoder().decode(card) };
}

async function fetchLocal(config: ModelSourceConfig): Promise<RawPackage> {
  const dir = config.version !== undefined ? join(config.localDir, config.name, config.version) : join(config.localDir, config.name);
  const read = async (file: string) => {
    try {
      return await readFile(join(dir, file));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ModelPackageError(code === 'ENOENT' ? 'missing_file' : 'unavailable', `${join(dir, file)}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { path: join(dir, file) });
    }
  };
  const [onnx, card] = await Promise.all([read(PACKAGE_FILES.onnx), read(PACKAGE_FILES.card)]);
  return { location: `${dir}/`, onnxBytes: new Uint8Array(onnx.buffer, onnx.byteOffset, onnx.byteLength), cardText: card.toString('utf8') };
}
