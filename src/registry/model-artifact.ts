import type { MetricPoint, MlflowClient } from './mlflow-client.js';
import { formatModelCard, ModelCard, PACKAGE_FILES, sha256Hex } from './model-card.js';
import type { ObjectStore } from './object-store.js';
import { REGISTRY_DEFAULTS } from './registry-config.js';
import { ModelPackageError } from './registry-error.js';
import { silentLogger, type RegistryLogger } from './registry-logger.js';

/** Tag keys written on the run and on the model version (lineage) and read by `tm models ls` / `tm promote`. */
export const LINEAGE_TAGS = Object.freeze({
  gitCommit: 'git_commit',
  dataFrom: 'data_range.from',
  dataTo: 'data_range.to',
  featureSpecHash: 'feature_spec_hash',
  featureCount: 'feature_count',
  onnxSha256: 'onnx_sha256',
  seed: 'seed',
  /** `true` | `false`: the card's `gates.passed`. */
  gatePassed: 'gate.passed',
  /** Prefix of one tag per gate check: `gate.<check>` = `<value> <op> <threshold>: passed|failed`. */
  gatePrefix: 'gate.',
  /** `failed` on a version whose publish could not be rolled back by deleting it. */
  status: 'status',
});

/** What `publishModel` writes and registers. */
export interface PublishRequest {
  /** MLflow experiment name (created when absent). */
  readonly experiment: string;
  readonly runName: string;
  readonly card: ModelCard;
  readonly onnxBytes: Uint8Array;
  /** Registered model to add a version to (created when absent); absent = log the run and copy to S3 only. */
  readonly registeredModel?: string;
  /** Extra run params (training config); must not collide with the lineage params. */
  readonly params?: Readonly<Record<string, string>>;
  /** Step-wise metrics (learning curves, walk-forward folds) logged besides the card's metrics (step 0). */
  readonly metricHistory?: readonly MetricPoint[];
}

export interface PublishOptions {
  readonly logger?: RegistryLogger;
  /** Key prefix of the S3 copy: `<modelsPrefix>/<name>/<version-or-run>/`. */
  readonly modelsPrefix?: string;
  /** How long to wait for the version to become READY, ms. */
  readonly readyTimeoutMs?: number;
  readonly pollIntervalMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Where a published package lives. */
export interface PublishedModel {
  readonly experimentId: string;
  readonly runId: string;
  /** The run's artifact root, e.g. `mlflow-artifacts:/1/<run>/artifacts`. */
  readonly artifactUri: string;
  /** `<artifactUri>/model`: the registered version's source. */
  readonly source: string;
  /** Registered version, when `registeredModel` was given. */
  readonly version?: string;
  /** The tier-3 copy: bucket location and key prefix (without trailing slash). */
  readonly s3: { readonly location: string; readonly prefix: string };
}

/** What a failed publish rolled back; in `ModelPackageError('publish_failed').context.cleanup`. */
export interface PublishCleanup {
  /** The run's final status as set by the rollback (`FAILED`), or `unchanged` when that call failed too. */
  run: 'FAILED' | 'unchanged' | 'none';
  /** Versions deleted (including ones a failed create call may still have created). */
  versionsDeleted: string[];
  /** Versions that could not be deleted and were tagged `status=failed` instead. */
  versionsTaggedFailed: string[];
  /** Versions that could be neither deleted nor tagged (MLflow unreachable): clean up by hand. */
  versionsLeft: string[];
  s3Deleted: string[];
  s3Left: string[];
  /** Rollback calls that failed, as messages. */
  errors: string[];
}

const ARTIFACT_DIR = REGISTRY_DEFAULTS.artifactPath;

/** Lineage tags of `card` (run and model version). */
export function lineageTags(card: ModelCard): Record<string, string> {
  const tags: Record<string, string> = {
    [LINEAGE_TAGS.gitCommit]: card.gitCommit,
    [LINEAGE_TAGS.dataFrom]: card.dataRange.from,
    [LINEAGE_TAGS.dataTo]: card.dataRange.to,
    [LINEAGE_TAGS.featureSpecHash]: card.featureSpecHash,
    [LINEAGE_TAGS.featureCount]: String(card.featureNames.length),
    [LINEAGE_TAGS.onnxSha256]: card.onnxSha256,
    [LINEAGE_TAGS.seed]: String(card.seed),
    [LINEAGE_TAGS.gatePassed]: String(card.gates.passed),
  };
  for (const [name, c] of Object.entries(card.gates.checks)) {
    tags[`${LINEAGE_TAGS.gatePrefix}${name}`] = `${c.value} ${c.op} ${c.threshold}: ${c.passed ? 'passed' : 'failed'}`;
  }
  return tags;
}

/**
 * Publishes a model package: creates an MLflow run in `experiment`, logs params/metrics/lineage tags, uploads
 * `model/model.onnx` + `model/card.json` through the tracking server's artifact proxy, registers a version of
 * `registeredModel` (source = `<run artifact uri>/model`, lineage tags set in the same create call), waits until it is
 * READY, copies both files to `<store>/<modelsPrefix>/<name>/<version-or-run>/` (the tier-3 copy), and ends the run FINISHED.
 *
 * Atomicity: on any failure nothing half-registered stays behind. Before a version exists, the run is marked FAILED
 * (tag `publish.failed_step`). Once a version may exist (including after a create call that failed with no or a 5xx
 * answer), every version of this run is deleted, or tagged `status=failed` when deletion fails; S3 objects written
 * are deleted; the run is marked FAILED. What was rolled back is in the error's `context.cleanup`.
 *
 * @throws ModelPackageError `invalid_card` (card does not fit, or `onnxSha256` differs from the bytes; nothing written),
 *   `publish_failed` (with `context.step`, `context.runId`, `context.cleanup`, and the failure as `cause`).
 * @example
 * const published = await publishModel(mlflow, new S3ObjectStore(s3, 'trade-matrix'), { experiment: 'btc', runName: 'train-1', card, onnxBytes, registeredModel: 'btc-4h' });
 */
export async function publishModel(client: MlflowClient, store: ObjectStore, request: PublishRequest, options: PublishOptions = {}): Promise<PublishedModel> {
  const logger = options.logger ?? silentLogger;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const parsed = ModelCard.safeParse(request.card);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new ModelPackageError('invalid_card', `card \`${first.path.join('.') || '$'}\` ${first.message}`, { issues: parsed.error.issues });
  }
  const card = parsed.data;
  const actual = sha256Hex(request.onnxBytes);
  if (actual !== card.onnxSha256) {
    throw new ModelPackageError('invalid_card', `card.onnxSha256 is ${card.onnxSha256} but the ONNX bytes hash to ${actual}`, { expected: card.onnxSha256, actual });
  }
  const name = request.registeredModel ?? card.name;
  const cardBytes = new TextEncoder().encode(formatModelCard(card));
  const tags = lineageTags(card);

  let step = 'experiment';
  let runId: string | undefined;
  let versionMayExist = false;
  let version: string | undefined;
  const s3Written: string[] = [];
  try {
    const experimentId = await client.ensureExperiment(request.experiment);
    step = 'create run';
    const run = await client.createRun({
      experimentId,
      runName: request.runName,
      tags: { ...tags, 'mlflow.source.git.commit': card.gitCommit, model: name },
    });
    runId = run.info.run_id;
    const artifactUri = run.info.artifact_uri;
    logger.info('publish: run created', { runId, experimentId, artifactUri });

    step = 'log params and metrics';
    await client.logBatch({
      runId,
      params: {
        ...request.params,
        seed: String(card.seed),
        feature_count: String(card.featureNames.length),
        feature_spec_hash: card.featureSpecHash,
        'data_range.from': card.dataRange.from,
        'data_range.to': card.dataRange.to,
        git_commit: card.gitCommit,
      },
      metrics: [
        ...Object.entries(card.metrics).map(([key, value]) => ({ key, value, step: 0 })),
        ...Object.entries(card.gates.checks).map(([key, c]) => ({ key: `gate.${key}`, value: c.value, step: 0 })),
        ...(request.metricHistory ?? []),
      ],
    });

    step = `upload ${ARTIFACT_DIR}/${PACKAGE_FILES.onnx}`;
    await client.uploadArtifact(artifactUri, `${ARTIFACT_DIR}/${PACKAGE_FILES.onnx}`, request.onnxBytes);
    step = `upload ${ARTIFACT_DIR}/${PACKAGE_FILES.card}`;
    await client.uploadArtifact(artifactUri, `${ARTIFACT_DIR}/${PACKAGE_FILES.card}`, cardBytes);
    const source = `${artifactUri.replace(/\/+$/, '')}/${ARTIFACT_DIR}`;

    step = 'finish run';
    await client.updateRun(runId, 'FINISHED');

    if (request.registeredModel !== undefined) {
      step = 'create registered model';
      await client.ensureRegisteredModel(name);
      step = 'create model version';
      versionMayExist = true;
      const created = await client.createModelVersion({ name, source, runId, tags, description: `${request.runName} (${card.gitCommit})` });
      version = created.version;
      step = 'wait for READY';
      await waitReady(client, name, version, created.status, options.readyTimeoutMs ?? 60_000, options.pollIntervalMs ?? 250, sleep);
    }

    const prefix = `${options.modelsPrefix ?? REGISTRY_DEFAULTS.modelsPrefix}/${name}/${version ?? runId}`;
    step = `copy to ${store.location}/${prefix}/`;
    for (const [file, bytes, type] of [
      [PACKAGE_FILES.onnx, request.onnxBytes, 'application/octet-stream'],
      [PACKAGE_FILES.card, cardBytes, 'application/json'],
    ] as const) {
      s3Written.push(`${prefix}/${file}`);
      await store.put(`${prefix}/${file}`, bytes, type);
    }
    logger.info('publish: done', { runId, name, ...(version ? { version } : {}), s3: `${store.location}/${prefix}/` });
    return { experimentId, runId, artifactUri, source, ...(version ? { version } : {}), s3: { location: store.location, prefix } };
  } catch (e) {
    const cleanup = await rollback(client, store, { name, runId, versionMayExist, version, s3Written, step, error: e });
    logger.warn('publish: failed and rolled back', { step, runId, name, cleanup, reason: (e as Error).message });
    throw new ModelPackageError(
      'publish_failed',
      `publishing ${JSON.stringify(name)} failed at step "${step}": ${(e as Error).message}; rolled back: run ${cleanup.run}` +
        `, versions deleted [${cleanup.versionsDeleted.join(', ')}]` +
        (cleanup.versionsTaggedFailed.length ? `, versions tagged status=failed [${cleanup.versionsTaggedFailed.join(', ')}]` : '') +
        (cleanup.versionsLeft.length ? `, versions LEFT (clean up by hand) [${cleanup.versionsLeft.join(', ')}]` : ''),
      { step, name, runId: runId ?? null, version: version ?? null, cleanup },
      { cause: e },
    );
  }
}

async function waitReady(
  client: MlflowClient,
  name: string,
  version: string,
  initial: string,
  timeoutMs: number,
  pollMs: number,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  let status = initial;
  for (let waited = 0; status === 'PENDING_REGISTRATION'; waited += pollMs) {
    if (waited >= timeoutMs) {
      throw new ModelPackageError('publish_failed', `model version ${name}/${version} still PENDING_REGISTRATION after ${timeoutMs} ms`, { name, version, timeoutMs });
    }
    await sleep(pollMs);
    status = (await client.getModelVersion(name, version)).status;
  }
  if (status !== 'READY') {
    throw new ModelPackageError('publish_failed', `model version ${name}/${version} has status ${status}, expected READY`, { name, version, status });
  }
}

async function rollback(
  client: MlflowClient,
  store: ObjectStore,
  s: { name: string; runId: string | undefined; versionMayExist: boolean; version: string | undefined; s3Written: string[]; step: string; error: unknown },
): Promise<PublishCleanup> {
  const cleanup: PublishCleanup = { run: 'none', versionsDeleted: [], versionsTaggedFailed: [], versionsLeft: [], s3Deleted: [], s3Left: [], errors: [] };
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      cleanup.errors.push(`${what}: ${(e as Error).message}`);
      return undefined;
    }
  };

  for (const key of s.s3Written) {
    const done = await attempt(`delete ${store.location}/${key}`, async () => (await store.delete(key), true));
    (done ? cleanup.s3Deleted : cleanup.s3Left).push(key);
  }

  if (s.versionMayExist && s.runId) {
    // A create call that failed without an answer (or with a 5xx) may still have created the version: look it up by run.
    const found = await attempt('search versions of the run', () => client.searchAllModelVersions({ filter: `run_id = '${s.runId}'` }));
    const versions = new Set<string>([...(s.version ? [s.version] : []), ...(found ?? []).filter((v) => v.name === s.name).map((v) => v.version)]);
    for (const v of versions) {
      const deleted = await attempt(`delete version ${s.name}/${v}`, async () => (await client.deleteModelVersion(s.name, v), true));
      if (deleted) {
        cleanup.versionsDeleted.push(v);
        continue;
      }
      const tagged = await attempt(`tag version ${s.name}/${v} status=failed`, async () => (await client.setModelVersionTag(s.name, v, LINEAGE_TAGS.status, 'failed'), true));
      (tagged ? cleanup.versionsTaggedFailed : cleanup.versionsLeft).push(v);
    }
  }

  if (s.runId) {
    const runId = s.runId;
    const reason = (s.error as Error)?.message?.slice(0, 4000) ?? String(s.error);
    await attempt('tag run', () => client.logBatch({ runId, tags: { 'publish.failed_step': s.step, 'publish.error': reason } }));
    const failed = await attempt('mark run FAILED', () => client.updateRun(runId, 'FAILED'));
    cleanup.run = failed ? 'FAILED' : 'unchanged';
  }
  return cleanup;
}

/** Reason a model version is rejected (or `undefined`): `status=failed` tag. Used by the loader and `tm promote`. */
export function failedVersionReason(tags: Readonly<Record<string, string>>): string | undefined {
  return tags[LINEAGE_TAGS.status] === 'failed' ? 'the version is tagged status=failed (its publish did not complete)' : undefined;
}
