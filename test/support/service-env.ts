import { createS3Client, MlflowClient, parseMlflowClientConfig, parseS3Config, S3ObjectStore, s3CredentialsFromEnv } from '../../src/registry/index.js';

/**
 * Returns the environment variable `name` that `scripts/services.sh env` sets for a real service (MLflow, MinIO, ...).
 * @throws Error naming the variable and how to set it (with the services' start error when there was one).
 */
export function requireServiceEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (${process.env['TM_SERVICES_ERROR'] ?? 'run via npm test, or eval "$(bash scripts/services.sh env)" first'})`);
  return v;
}

/** Runs `fn` with MLFLOW_TRACKING_URI removed from the environment (a local-only run), then restores it. */
export async function withoutMlflow<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env['MLFLOW_TRACKING_URI'];
  delete process.env['MLFLOW_TRACKING_URI'];
  try {
    return await fn();
  } finally {
    if (saved !== undefined) process.env['MLFLOW_TRACKING_URI'] = saved;
  }
}

/** Clients of the harness's real MLflow and MinIO bucket (from `scripts/services.sh env`), for tests that publish models. */
export function serviceRegistry(): { readonly mlflow: MlflowClient; readonly s3: S3ObjectStore } {
  const mlflow = new MlflowClient(parseMlflowClientConfig({ trackingUri: requireServiceEnv('MLFLOW_TRACKING_URI') }), { now: () => Date.now() });
  const bucket = requireServiceEnv('TM_S3_BUCKET');
  const s3 = new S3ObjectStore(createS3Client(parseS3Config({ endpoint: requireServiceEnv('TM_S3_ENDPOINT'), bucket }), s3CredentialsFromEnv(process.env)), bucket);
  return { mlflow, s3 };
}
