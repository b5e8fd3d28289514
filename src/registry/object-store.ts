import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AppError } from '../core/app-error.js';
import type { S3Config, S3Credentials } from './registry-config.js';

/** Codes of object-store failures: the key is absent, the store cannot be reached, or it refused the request. */
export type ObjectStoreErrorCode = 'not_found' | 'unavailable' | 'rejected';

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
 * Creates an S3 client for `config` (path-style for MinIO, bounded timeouts and attempts).
 * `credentials` absent = the SDK's default provider chain.
 */
export function createS3Client(config: S3Config, credentials?: S3Credentials): S3Client {
  return new S3Client({
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    maxAttempts: config.maxAttempts,
    requestHandler: { connectionTimeout: config.timeoutMs, requestTimeout: config.timeoutMs },
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
}

/** {@link ObjectStore} over one S3 bucket. The client is created by the caller ({@link createS3Client}). */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {
    this.location = `s3://${bucket}`;
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!r.Body) throw new ObjectStoreError('not_found', `s3://${this.bucket}/${key}: empty response body`, { bucket: this.bucket, key, operation: 'get' });
      return await r.Body.transformToByteArray();
    } catch (e) {
      throw this.wrap(e, 'get', key);
    }
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentType: contentType }));
    } catch (e) {
      throw this.wrap(e, 'put', key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      throw this.wrap(e, 'delete', key);
    }
  }

  private wrap(e: unknown, operation: string, key: string): ObjectStoreError {
    if (e instanceof ObjectStoreError) return e;
    const where = `s3://${this.bucket}/${key}`;
    const context = { bucket: this.bucket, key, operation };
    if (e instanceof NoSuchKey || (e instanceof S3ServiceException && (e.name === 'NoSuchKey' || e.$metadata.httpStatusCode === 404))) {
      return new ObjectStoreError('not_found', `${where} does not exist`, { ...context, s3Error: 'NoSuchKey' });
    }
    if (e instanceof S3ServiceException) {
      const status = e.$metadata.httpStatusCode ?? 0;
      const code: ObjectStoreErrorCode = status >= 500 || status === 0 ? 'unavailable' : 'rejected';
      return new ObjectStoreError(code, `${operation} ${where} failed: ${e.name} (HTTP ${status}): ${e.message}`, { ...context, s3Error: e.name, status });
    }
    const err = e as { name?: string; code?: string; message?: string };
    return new ObjectStoreError('unavailable', `${operation} ${where} failed: S3 endpoint unreachable (${err.code ?? err.name ?? 'error'}: ${err.message ?? String(e)})`, {
      ...context,
      transport: err.code ?? err.name,
    });
  }
}
