import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AppError } from '../core/app-error.js';
import { DeadlineError, withDeadline } from '../core/deadline.js';
import { redactText, remoteBodyExcerpt } from '../core/redact.js';
import { S3Config, type S3Credentials } from './registry-config.js';

/**
 * Codes of object-store failures: the key is absent, the store cannot be reached, it refused the request, or it did
 * not answer within the call's deadline (`timeout`: `context` holds `deadlineMs` and `elapsedMs`).
 */
export type ObjectStoreErrorCode = 'not_found' | 'unavailable' | 'rejected' | 'timeout';

/** A failed object-store call; `context` holds `bucket`, `key`, `operation` and the S3 error name (never credentials). */
export class ObjectStoreError extends AppError<ObjectStoreErrorCode> {}

/** A bucket of bytes by key: the port tier 3 and `publishModel` use (S3/MinIO in production). */
export interface ObjectStore {
  /** `s3://<bucket>` or similar, for messages. */
  readonly location: string;
  get(key: string): Promise<Uint8Array>;
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/**
 * Creates an S3 client for `config` (path-style for MinIO, bounded timeouts and attempts): connect within
 * `connectTimeoutMs`, each attempt within `timeoutMs` (an exceeded request timeout is an error, not a warning).
 * {@link S3ObjectStore} adds the total budget per call. `credentials` absent = the SDK's default provider chain.
 */
export function createS3Client(config: S3Config, credentials?: S3Credentials): S3Client {
  // The SDK warns on every Node < 22 that *future* releases (after January 2027) will need Node 22. The version in
  // package-lock.json supports Node 20, the engine this project targets; the notice would only clutter the CLI's
  // stderr (which scripts read). A user who sets the variable keeps their choice.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  return new S3Client({
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    maxAttempts: config.maxAttempts,
    requestHandler: { connectionTimeout: config.connectTimeoutMs, requestTimeout: config.timeoutMs, socketTimeout: config.timeoutMs, throwOnRequestTimeout: true },
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
}

/** Creates the client and the store for `config` in one go, with the call budget of {@link objectStoreBudget}. */
export function createS3ObjectStore(config: S3Config, credentials?: S3Credentials): S3ObjectStore {
  return new S3ObjectStore(createS3Client(config, credentials), config.bucket, objectStoreBudget(config));
}

/** How long one call of an {@link S3ObjectStore} may take in all (every attempt, the body included), and where it goes. */
export interface ObjectStoreBudget {
  /** Total deadline of one get/put/delete, ms (default: `timeoutMs × maxAttempts` of the S3 config). */
  readonly callMs: number;
  /** The endpoint, for messages (no credentials). */
  readonly endpoint: string;
}

/** The budget of one call for `config`: every attempt's deadline, plus one connect. */
export function objectStoreBudget(config: S3Config): ObjectStoreBudget {
  return { callMs: config.timeoutMs * config.maxAttempts + config.connectTimeoutMs, endpoint: config.endpoint ?? `s3.${config.region}.amazonaws.com` };
}

/**
 * {@link ObjectStore} over one S3 bucket. The client is created by the caller ({@link createS3Client}). Every call ends
 * within `budget.callMs` (the request is aborted then) and fails `timeout` naming the endpoint and the elapsed time.
 */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    private readonly budget: ObjectStoreBudget = objectStoreBudget(S3Config.parse({ bucket })),
  ) {
    this.location = `s3://${bucket}`;
  }

  async get(key: string): Promise<Uint8Array> {
    return this.call('get', key, async (abortSignal) => {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal });
      if (!r.Body) throw new ObjectStoreError('not_found', `s3://${this.bucket}/${key}: empty response body`, { bucket: this.bucket, key, operation: 'get' });
      return await r.Body.transformToByteArray();
    });
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.call('put', key, (abortSignal) => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentType: contentType }), { abortSignal }));
  }

  async delete(key: string): Promise<void> {
    await this.call('delete', key, (abortSignal) => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal }));
  }

  private async call<T>(operation: string, key: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await withDeadline(`S3 ${operation} s3://${this.bucket}/${key}`, this.budget.endpoint, this.budget.callMs, fn);
    } catch (e) {
      throw this.wrap(e, operation, key);
    }
  }

  private wrap(e: unknown, operation: string, key: string): ObjectStoreError {
    if (e instanceof ObjectStoreError) return e;
    const where = `s3://${this.bucket}/${key}`;
    const context = { bucket: this.bucket, key, operation };
    if (e instanceof DeadlineError) return new ObjectStoreError('timeout', e.message, { ...context, ...e.context });
    const err0 = e as { name?: string; code?: string };
    if (err0.name === 'TimeoutError' || err0.code === 'ETIMEDOUT' || err0.code === 'ECONNABORTED') {
      return new ObjectStoreError('timeout', `${operation} ${where} timed out: ${this.budget.endpoint} did not answer in time (${redactText(String((e as Error).message))})`, { ...context, transport: 'timeout' });
    }
    if (e instanceof NoSuchKey || (e instanceof S3ServiceException && (e.name === 'NoSuchKey' || e.$metadata.httpStatusCode === 404))) {
      return new ObjectStoreError('not_found', `${where} does not exist`, { ...context, s3Error: 'NoSuchKey' });
    }
    if (e instanceof S3ServiceException) {
      const status = e.$metadata.httpStatusCode ?? 0;
      const code: ObjectStoreErrorCode = status >= 500 || status === 0 ? 'unavailable' : 'rejected';
      return new ObjectStoreError(code, `${operation} ${where} failed: ${e.name} (HTTP ${status}): ${remoteBodyExcerpt(e.message)}`, { ...context, s3Error: e.name, status });
    }
    const err = e as { name?: string; code?: string; message?: string };
    return new ObjectStoreError('unavailable', `${operation} ${where} failed: S3 endpoint unreachable (${err.code ?? err.name ?? 'error'}: ${redactText(err.message ?? String(e))})`, {
      ...context,
      transport: err.code ?? err.name,
    });
  }
}
