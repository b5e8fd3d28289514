import { createHash } from 'node:crypto';
import type { ObjectStore } from '../registry/index.js';
import { SweepError } from './sweep-error.js';
import type { TrialResult } from './trial.js';

/**
 * Where the workers of a queued sweep put each trial's result (metrics and per-bar returns, ~250 KB for 23,000 bars)
 * as one object, so that Redis holds only a reference of ~200 bytes per trial (`tm sweep --queue … --result-objects
 * s3://bucket/prefix`). Without it, every result stays in one Redis hash until it is collected.
 */
export interface ResultObjects {
  readonly bucket: string;
  /** Key prefix under the bucket, without a leading or trailing slash ('' = the bucket's root). */
  readonly prefix: string;
}

/** Bucket names S3 accepts (3–63 of lower-case letters, digits, dots and hyphens, a letter or digit at each end). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Prefix segments: letters, digits, `.`, `_`, `-` (no empty segment, no `.`/`..`). */
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * Parses `s3://<bucket>[/<prefix>]` (a trailing slash is dropped).
 * @throws SweepError `invalid_config` naming the option, the value and what was expected.
 */
export function parseResultObjects(text: string, option = '--result-objects'): ResultObjects {
  const bad = (why: string): never => {
    throw new SweepError('invalid_config', `${option} must be s3://<bucket>[/<prefix>] (${why}), was ${JSON.stringify(text)}`, { option, value: text });
  };
  if (!text.startsWith('s3://')) bad('an s3:// URL');
  const rest = text.slice('s3://'.length).replace(/\/+$/, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) bad('a bucket name of 3-63 lower-case letters, digits, dots and hyphens');
  for (const segment of prefix === '' ? [] : prefix.split('/')) {
    if (!SEGMENT.test(segment) || segment === '.' || segment === '..') bad(`prefix segments of letters, digits, '.', '_' and '-', not ${JSON.stringify(segment)}`);
  }
  return { bucket, prefix };
}

/** `s3://<bucket>[/<prefix>]`: the text {@link parseResultObjects} reads. */
export function formatResultObjects(location: ResultObjects): string {
  return `s3://${location.bucket}${location.prefix === '' ? '' : `/${location.prefix}`}`;
}

/** The key of trial `configHash`'s result object: `<prefix>/<sweep id>/<config hash>.json`. */
export function trialResultKey(location: ResultObjects, sweepId: string, configHash: string): string {
  return `${location.prefix === '' ? '' : `${location.prefix}/`}${sweepId}/${configHash}.json`;
}

/** What the queue's results hash holds of a trial whose result is an object: where it is, its size and SHA-256. */
export interface TrialObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** A trial's entry in the queue's results hash: the result itself, or a reference to its object. */
export type StoredTrial = { readonly result: TrialResult; readonly attempts: number } | { readonly object: TrialObjectRef; readonly attempts: number };

/**
 * Writes `result` as JSON to its object under `location` and returns the reference Redis keeps. The object's bytes
 * are a function of the result alone, so a second attempt of the trial (a stalled job re-run, a duplicate) writes
 * the same bytes to the same key.
 * @throws SweepError `object_store` naming the trial and the object (the store's error as the cause).
 */
export async function putTrialObject(store: ObjectStore, location: ResultObjects, sweepId: string, result: TrialResult): Promise<TrialObjectRef> {
  const key = trialResultKey(location, sweepId, result.configHash);
  const bytes = Buffer.from(JSON.stringify(result), 'utf8');
  try {
    await store.put(key, bytes, 'application/json');
  } catch (e) {
    throw new SweepError('object_store', `sweep ${sweepId} trial ${result.configHash}: cannot write its result to s3://${location.bucket}/${key}: ${(e as Error).message}`, { sweepId, configHash: result.configHash, bucket: location.bucket, key }, { cause: e });
  }
  return { bucket: location.bucket, key, bytes: bytes.length, sha256: sha256(bytes) };
}

/**
 * Reads the result object `ref` of trial `configHash` and checks it: its size and SHA-256 as recorded, and the
 * trial's config hash inside.
 * @throws SweepError `object_store` (the object cannot be read), `corrupt_result` (it is not what was written).
 */
export async function getTrialObject(store: ObjectStore, sweepId: string, configHash: string, ref: TrialObjectRef): Promise<TrialResult> {
  const where = `s3://${ref.bucket}/${ref.key}`;
  const context = { sweepId, configHash, bucket: ref.bucket, key: ref.key };
  let bytes: Uint8Array;
  try {
    bytes = await store.get(ref.key);
  } catch (e) {
    throw new SweepError('object_store', `sweep ${sweepId} trial ${configHash}: cannot read its result ${where}: ${(e as Error).message}`, context, { cause: e });
  }
  const digest = sha256(bytes);
  if (bytes.length !== ref.bytes || digest !== ref.sha256) {
    throw new SweepError('corrupt_result', `sweep ${sweepId} trial ${configHash}: ${where} holds ${bytes.length} bytes with SHA-256 ${digest}, the worker wrote ${ref.bytes} bytes with SHA-256 ${ref.sha256}`, context);
  }
  let result: TrialResult;
  try {
    result = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as TrialResult;
  } catch (e) {
    throw new SweepError('corrupt_result', `sweep ${sweepId} trial ${configHash}: ${where} is not JSON: ${(e as Error).message}`, context, { cause: e });
  }
  if (result.configHash !== configHash) throw new SweepError('corrupt_result', `sweep ${sweepId} trial ${configHash}: ${where} holds the result of trial ${JSON.stringify(result.configHash)}`, context);
  return result;
}

/**
 * Reads a trial's entry of the queue's results hash (`text`, stored under field `configHash`).
 * @throws SweepError `corrupt_result` when it is neither form of {@link StoredTrial}.
 */
export function parseStoredTrial(sweepId: string, configHash: string, text: string): StoredTrial {
  let value: Partial<{ result: TrialResult; object: TrialObjectRef; attempts: number }>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch (e) {
    throw new SweepError('corrupt_result', `sweep ${sweepId} trial ${configHash}: its entry in the results hash is not JSON: ${(e as Error).message}`, { sweepId, configHash }, { cause: e });
  }
  const attempts = value.attempts;
  if (typeof attempts !== 'number') throw corrupt(sweepId, configHash, 'no attempts');
  if (value.result !== undefined) return { result: value.result, attempts };
  const o = value.object;
  if (o === undefined || typeof o.bucket !== 'string' || typeof o.key !== 'string' || typeof o.bytes !== 'number' || typeof o.sha256 !== 'string') throw corrupt(sweepId, configHash, 'neither a result nor an object reference');
  return { object: { bucket: o.bucket, key: o.key, bytes: o.bytes, sha256: o.sha256 }, attempts };
}

const corrupt = (sweepId: string, configHash: string, why: string): SweepError =>
  new SweepError('corrupt_result', `sweep ${sweepId} trial ${configHash}: its entry in the results hash has ${why}`, { sweepId, configHash });

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
