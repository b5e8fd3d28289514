import { z } from 'zod';
import { DEFAULT_DEADLINES, networkDeadlinesFromEnv } from '../config/network-deadlines.js';
import { AppError } from '../core/app-error.js';

/**
 * Environment variable names read by the registry. They are the ones `scripts/services.sh env` prints and
 * `docker/docker-compose.yml` sets; `test/static/docker-compose.test.ts` checks both against this table.
 */
export const REGISTRY_ENV = Object.freeze({
  trackingUri: 'MLFLOW_TRACKING_URI',
  /** Bearer token for an MLflow behind auth (a secret: never logged). */
  trackingToken: 'MLFLOW_TRACKING_TOKEN',
  s3Endpoint: 'TM_S3_ENDPOINT',
  s3Bucket: 'TM_S3_BUCKET',
  accessKeyId: 'AWS_ACCESS_KEY_ID',
  secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  region: 'AWS_REGION',
  /** Endpoint the MLflow *server* uses for its own S3 artifact store (boto3 reads it; the TS code does not). */
  mlflowS3Endpoint: 'MLFLOW_S3_ENDPOINT_URL',
  modelAlias: 'TM_MODEL_ALIAS',
  modelRunId: 'TM_MODEL_RUN_ID',
  modelS3Prefix: 'TM_MODEL_S3_PREFIX',
  modelsDir: 'TM_MODELS_DIR',
});

/**
 * Defaults, declared once. The local service harness (`scripts/services.sh`) and the compose file publish MLflow and
 * MinIO on these host ports.
 */
export const REGISTRY_DEFAULTS = Object.freeze({
  mlflowPort: 15000,
  s3Port: 19000,
  trackingUri: 'http://127.0.0.1:15000',
  s3Endpoint: 'http://127.0.0.1:19000',
  s3Bucket: 'trade-matrix',
  /** Prefix under the bucket where the MLflow server stores run artifacts (`--artifacts-destination s3://<bucket>/mlflow`). */
  mlflowArtifactsPrefix: 'mlflow',
  /** Prefix under the bucket where `publishModel` copies packages: `<prefix>/<name>/<version-or-run>/`. */
  modelsPrefix: 'models',
  region: 'us-east-1',
  alias: 'production',
  artifactPath: 'model',
  localDir: 'models',
  /** Per-request deadline of MLflow and S3 calls (see config/network-deadlines.ts, env `TM_MLFLOW_TIMEOUT_MS`, `TM_S3_TIMEOUT_MS`). */
  timeoutMs: DEFAULT_DEADLINES.mlflowMs,
  connectTimeoutMs: DEFAULT_DEADLINES.connectMs,
  getRetries: 2,
  retryDelayMs: 200,
});

/** How to reach the MLflow tracking server. */
export const MlflowClientConfig = z
  .object({
    /** Tracking server base URL, e.g. `http://127.0.0.1:15000` (a path prefix is kept). */
    trackingUri: z.string().url(),
    /** Per-request deadline, ms: connect to last byte; a request still running then fails `unavailable` (transport `timeout`). */
    timeoutMs: z.number().int().positive().default(REGISTRY_DEFAULTS.timeoutMs),
    /** Extra attempts for idempotent GETs after `unavailable`/`server` failures; other methods are never retried. */
    getRetries: z.number().int().min(0).max(10).default(REGISTRY_DEFAULTS.getRetries),
    /** First back-off delay, ms; doubles per retry. */
    retryDelayMs: z.number().int().min(0).default(REGISTRY_DEFAULTS.retryDelayMs),
    /** Bearer token; absent = no Authorization header. Secret: never logged. */
    token: z.string().min(1).optional(),
  })
  .strict();
export type MlflowClientConfig = z.infer<typeof MlflowClientConfig>;

/** How to reach S3/MinIO. Credentials are not part of it: see {@link S3Credentials}. */
export const S3Config = z
  .object({
    /** Endpoint URL; absent = AWS's default endpoint for `region`. */
    endpoint: z.string().url().optional(),
    bucket: z.string().min(3),
    region: z.string().min(1).default(REGISTRY_DEFAULTS.region),
    /** MinIO needs path-style addressing (`http://host/bucket/key`). */
    forcePathStyle: z.boolean().default(true),
    /** SDK attempts per request (1 = no retry). */
    maxAttempts: z.number().int().min(1).max(10).default(2),
    /** Deadline of one attempt, ms: connect to last byte of the body. The whole call (all attempts) gets `maxAttempts` times this. */
    timeoutMs: z.number().int().positive().default(REGISTRY_DEFAULTS.timeoutMs),
    /** TCP connect deadline, ms. */
    connectTimeoutMs: z.number().int().positive().default(REGISTRY_DEFAULTS.connectTimeoutMs),
  })
  .strict();
export type S3Config = z.infer<typeof S3Config>;

/** S3 access keys, read from the environment only. */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The loader's tiers, in their default order. */
export const MODEL_TIERS = ['alias', 'run', 's3', 'local'] as const;
export type ModelTier = (typeof MODEL_TIERS)[number];

/**
 * Where `loadModel` looks for a model package, tier by tier. A tier whose inputs are absent is skipped
 * (logged as `skipped`): no `trackingUri` skips `alias` and `run`, no `runId` skips `run`, no `s3` skips `s3`.
 */
export const ModelSourceConfig = z
  .object({
    /** Model name: registered model name, `card.name`, and the folder under `localDir`. */
    name: z.string().min(1),
    /** Tiers to try, in order. */
    tiers: z.array(z.enum(MODEL_TIERS)).min(1).default([...MODEL_TIERS]),
    /** Tier 1: `name@alias`. */
    alias: z.string().regex(/^[A-Za-z0-9_-]+$/).default(REGISTRY_DEFAULTS.alias),
    /**
     * A pinned registered version (`name/version`): tier 1 serves that version instead of `name@alias`, tier 2 is
     * skipped (a run id names no version), tier 4 reads `<localDir>/<name>/<version>/`. A version the registry does not
     * have stops the load (`version_not_found`); no other tier is tried.
     */
    version: z.string().regex(/^[1-9][0-9]*$/, { message: 'must be a registered version number like 3' }).optional(),
    /** Tier 2: an MLflow run id; absent = tier skipped. */
    runId: z.string().regex(/^[0-9a-f]{32}$/).optional(),
    /** Tier 2: folder of the package inside the run's artifacts. */
    artifactPath: z.string().min(1).default(REGISTRY_DEFAULTS.artifactPath),
    /** Tier 3: bucket + key prefix holding model.onnx and card.json, e.g. `models/btc-4h/3`; absent = tier skipped. */
    s3: z.object({ bucket: z.string().min(3), prefix: z.string().min(1) }).strict().optional(),
    /** Tier 4: `<localDir>/<name>/model.onnx` + `card.json`. */
    localDir: z.string().min(1).default(REGISTRY_DEFAULTS.localDir),
  })
  .strict();
export type ModelSourceConfig = z.infer<typeof ModelSourceConfig>;

/** A registry config that does not fit its schema; `context.issues` holds every zod issue. */
export class RegistryConfigError extends AppError<'invalid_config' | 'missing_env'> {}

type Env = Readonly<Record<string, string | undefined>>;

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0]!;
  const path = first.path.length ? first.path.join('.') : '$';
  throw new RegistryConfigError('invalid_config', `${what}: \`${path}\` ${first.message}`, { issues: parsed.error.issues });
}

/** Parses an MLflow client config. @throws RegistryConfigError when it does not fit. */
export function parseMlflowClientConfig(value: unknown): MlflowClientConfig {
  return Object.freeze(parseOrThrow(MlflowClientConfig, value, 'mlflow client config'));
}

/** Parses an S3 config. @throws RegistryConfigError when it does not fit. */
export function parseS3Config(value: unknown): S3Config {
  return Object.freeze(parseOrThrow(S3Config, value, 's3 config'));
}

/** Parses a model source config. @throws RegistryConfigError when it does not fit. */
export function parseModelSourceConfig(value: unknown): ModelSourceConfig {
  const c = parseOrThrow(ModelSourceConfig, value, 'model source config');
  return Object.freeze({ ...c, tiers: Object.freeze([...c.tiers]) as ModelSourceConfig['tiers'] });
}

/**
 * MLflow client config from `MLFLOW_TRACKING_URI` (+ `MLFLOW_TRACKING_TOKEN`, deadline `TM_MLFLOW_TIMEOUT_MS`);
 * `undefined` when the URI is unset.
 */
export function mlflowClientConfigFromEnv(env: Env, overrides: Partial<MlflowClientConfig> = {}): MlflowClientConfig | undefined {
  const trackingUri = overrides.trackingUri ?? nonEmpty(env[REGISTRY_ENV.trackingUri]);
  if (trackingUri === undefined) return undefined;
  const token = nonEmpty(env[REGISTRY_ENV.trackingToken]);
  const timeoutMs = networkDeadlinesFromEnv(env).mlflowMs;
  return parseMlflowClientConfig({ timeoutMs, ...(token ? { token } : {}), ...overrides, trackingUri });
}

/**
 * S3 config from `TM_S3_ENDPOINT`, `TM_S3_BUCKET`, `AWS_REGION` (deadlines `TM_S3_TIMEOUT_MS`, `TM_CONNECT_TIMEOUT_MS`);
 * `undefined` when the bucket is unset.
 */
export function s3ConfigFromEnv(env: Env, overrides: Partial<S3Config> = {}): S3Config | undefined {
  const bucket = overrides.bucket ?? nonEmpty(env[REGISTRY_ENV.s3Bucket]);
  if (bucket === undefined) return undefined;
  const endpoint = nonEmpty(env[REGISTRY_ENV.s3Endpoint]);
  const region = nonEmpty(env[REGISTRY_ENV.region]);
  const deadlines = networkDeadlinesFromEnv(env);
  return parseS3Config({ timeoutMs: deadlines.s3Ms, connectTimeoutMs: deadlines.connectMs, ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}), ...overrides, bucket });
}

/** S3 credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`; `undefined` when either is unset (SDK default chain). */
export function s3CredentialsFromEnv(env: Env): S3Credentials | undefined {
  const accessKeyId = nonEmpty(env[REGISTRY_ENV.accessKeyId]);
  const secretAccessKey = nonEmpty(env[REGISTRY_ENV.secretAccessKey]);
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined;
}

/**
 * Model source config for model `name` from the environment: `TM_MODEL_ALIAS`, `TM_MODEL_RUN_ID`,
 * `TM_S3_BUCKET` + `TM_MODEL_S3_PREFIX` (tier 3 only when both are set), `TM_MODELS_DIR`. `overrides` win.
 */
export function modelSourceConfigFromEnv(env: Env, name: string, overrides: Partial<ModelSourceConfig> = {}): ModelSourceConfig {
  const alias = nonEmpty(env[REGISTRY_ENV.modelAlias]);
  const runId = nonEmpty(env[REGISTRY_ENV.modelRunId]);
  const bucket = nonEmpty(env[REGISTRY_ENV.s3Bucket]);
  const prefix = nonEmpty(env[REGISTRY_ENV.modelS3Prefix]);
  const localDir = nonEmpty(env[REGISTRY_ENV.modelsDir]);
  return parseModelSourceConfig({
    name,
    ...(alias ? { alias } : {}),
    ...(runId ? { runId } : {}),
    ...(bucket && prefix ? { s3: { bucket, prefix } } : {}),
    ...(localDir ? { localDir } : {}),
    ...overrides,
  });
}
