import { FlowProducer, Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { redactText } from '../core/redact.js';
import { createS3ObjectStore, REGISTRY_ENV, s3ConfigFromEnv, s3CredentialsFromEnv, type ObjectStore } from '../registry/index.js';
import {
  aggregateStreamed,
  doneRow,
  failedRow,
  formatResultObjects,
  getTrialObject,
  parseStoredTrial,
  putTrialObject,
  SweepError,
  type ResultObjects,
  type StoredTrial,
  type SweepAggregate,
  type SweepConfig,
  type TrialJob,
  type TrialObjectRef,
  type TrialRow,
} from '../sweep/index.js';
import type { SweepPlan } from './sweep-job.js';
import type { TrialRunner } from './sweep-pool.js';

/** Where sweeps are queued: a Redis URL, the BullMQ queue name and the key prefix (all keys start with `<prefix>:`). */
export interface QueueTarget {
  readonly url: string;
  readonly queueName: string;
  readonly prefix: string;
}

/**
 * How the results store records where a queued sweep ran: `<url>/<queue name>` with any credentials in the URL
 * redacted (the store is a file; a Redis password does not belong in it).
 * @example sweepSource({ url: 'redis://:pw@host:6379', queueName: 'tm-sweep' }) // 'redis://[REDACTED]@host:6379/tm-sweep'
 */
export function sweepSource(target: Pick<QueueTarget, 'url' | 'queueName'>): string {
  return redactText(`${target.url}/${target.queueName}`);
}

/** Defaults of `--queue-name` and `--prefix`. */
export const QUEUE_DEFAULTS = { queueName: 'tm-sweep', prefix: 'tm' } as const;

/**
 * Opens a Redis connection for BullMQ: commands wait for a reconnect instead of failing (`maxRetriesPerRequest: null`,
 * what BullMQ workers require), so a Redis restart pauses a sweep instead of breaking it. With `waitForever: false`
 * (one-shot reads such as `tm sweep status`) a Redis that stays unreachable fails the command after a few retries.
 */
export function connectQueue(target: QueueTarget, onError: (message: string) => void = () => {}, options: { readonly waitForever: boolean } = { waitForever: true }): Redis {
  const connection = new Redis(
    target.url,
    options.waitForever ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, connectTimeout: 5000, retryStrategy: (times: number) => (times > 3 ? null : 200) },
  );
  // ioredis reconnects by itself; report the first error of each outage, not every retry
  let down = false;
  connection.on('error', (e: Error) => {
    if (!down) onError(`${target.url}: ${e.message} (reconnecting)`);
    down = true;
  });
  connection.on('ready', () => (down = false));
  return connection;
}

/** The Redis keys of one sweep besides BullMQ's own (job hashes and lists under `<prefix>:<queue>:`). */
export function sweepKeys(target: QueueTarget, sweepId: string) {
  const base = `${target.prefix}:sweep:${sweepId}`;
  return {
    /**
     * Hash: name, trials, config (JSON), status (`queued` | `aggregated` | `aggregate-failed`), aggregate (JSON),
     * aggregateError (while `aggregate-failed`), resultObjects (`s3://…`, when set).
     */
    meta: `${base}:meta`,
    /**
     * Hash config hash → {result, attempts} JSON, or {object, attempts} when the sweep's results are objects (see
     * `ResultObjects`), written with HSETNX: the first finished attempt of a trial wins.
     */
    results: `${base}:results`,
    /** Hash config hash → {error, attempts} JSON of trials whose last attempt threw. */
    failed: `${base}:failed`,
    /** Hash config hash → worker id of trials being run now. */
    running: `${base}:running`,
    /** Hash config hash → attempts started (retries and stalled re-runs included). */
    starts: `${base}:starts`,
  };
}

/** What `tm sweep status` shows of a queued sweep. */
export interface QueuedSweepStatus {
  readonly sweepId: string;
  readonly name: string;
  readonly trials: number;
  readonly done: number;
  readonly failed: number;
  readonly running: number;
  /**
   * `aggregate-failed`: the parent job threw (e.g. a result object it could not read); `aggregateError` says why, and
   * the collector aggregates the rows itself.
   */
  readonly status: 'queued' | 'aggregated' | 'aggregate-failed';
  readonly aggregateError: string | null;
  readonly aggregate: SweepAggregate | null;
  /** Where the workers put the trials' results (`s3://bucket/prefix`); null: in the Redis hash. */
  readonly resultObjects: string | null;
  /** When it was first queued, epoch ms; null for a sweep queued before this was recorded. */
  readonly queuedAt: number | null;
}

/** A queued sweep as {@link listQueuedSweeps} finds it: its status and the Redis memory of its own keys. */
export interface QueuedSweepListing extends QueuedSweepStatus {
  /** `MEMORY USAGE` of its meta, results, failed, running and starts keys (not BullMQ's job keys), bytes. */
  readonly redisBytes: number;
}

/** The data of a queued `trial` job: the trial, and where its result goes when not into the Redis hash. */
export interface QueuedTrial extends TrialJob {
  readonly resultObjects?: ResultObjects;
}

/**
 * Opens the object store of a bucket (a worker's and a collector's S3/MinIO settings: `TM_S3_ENDPOINT`, `AWS_*`);
 * undefined when this process has none.
 */
export type ObjectStores = (bucket: string) => ObjectStore | undefined;

/**
 * The object stores of this process's S3 settings (`TM_S3_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, deadlines `TM_S3_TIMEOUT_MS`), one per bucket; none (undefined for every bucket) when
 * neither an endpoint nor credentials nor an AWS profile is set.
 */
export function objectStoresFromEnv(env: NodeJS.ProcessEnv): ObjectStores {
  const set = (name: string) => (env[name] ?? '') !== '';
  if (!set(REGISTRY_ENV.s3Endpoint) && !set(REGISTRY_ENV.accessKeyId) && !set('AWS_PROFILE')) return () => undefined;
  const stores = new Map<string, ObjectStore>();
  return (bucket) => {
    let store = stores.get(bucket);
    if (store === undefined) stores.set(bucket, (store = createS3ObjectStore(s3ConfigFromEnv(env, { bucket })!, s3CredentialsFromEnv(env))));
    return store;
  };
}

/**
 * Queues a sweep as one BullMQ flow: a parent job `sweep` (id = sweep id) whose children are the `trial` jobs (id =
 * `<sweep id>-<config hash>`, so adding the same trial twice is one job), retried `retry.attempts` times with
 * exponential back-off; a child that fails for good does not block the parent (`ignoreDependencyOnFailure`).
 * With `resultObjects` the workers put each trial's result there and Redis keeps a reference (see ResultObjects).
 * Queueing a sweep that is already queued adds nothing (its trials keep where their results go). Returns whether the
 * flow was added.
 */
export async function enqueueSweep(connection: Redis, target: QueueTarget, plan: SweepPlan, resultObjects?: ResultObjects, now: () => number = Date.now): Promise<boolean> {
  const keys = sweepKeys(target, plan.sweepId);
  const queue = new Queue(target.queueName, { connection, prefix: target.prefix });
  const flow = new FlowProducer({ connection, prefix: target.prefix });
  try {
    await connection.hset(keys.meta, { name: plan.config.name, trials: String(plan.jobs.length), config: JSON.stringify(plan.config) });
    await connection.multi().hsetnx(keys.meta, 'status', 'queued').hsetnx(keys.meta, 'queuedAt', String(now())).exec();
    if ((await queue.getJob(plan.sweepId)) !== undefined) return false;
    if (resultObjects !== undefined) await connection.hset(keys.meta, 'resultObjects', formatResultObjects(resultObjects));
    await flow.add({
      name: 'sweep',
      queueName: target.queueName,
      data: { sweepId: plan.sweepId, trials: plan.jobs.length, config: plan.config },
      opts: { jobId: plan.sweepId },
      children: plan.jobs.map((job) => ({
        name: 'trial',
        queueName: target.queueName,
        data: (resultObjects === undefined ? job : { ...job, resultObjects }) satisfies QueuedTrial,
        opts: {
          jobId: `${plan.sweepId}-${job.configHash}`,
          attempts: plan.config.retry.attempts,
          backoff: { type: 'exponential', delay: plan.config.retry.backoffMs },
          ignoreDependencyOnFailure: true,
        },
      })),
    });
    return true;
  } finally {
    await flow.close();
    await queue.close();
  }
}

/** Reads the status of a queued sweep. @throws SweepError `not_found` when Redis holds no such sweep. */
export async function queuedSweepStatus(connection: Redis, target: QueueTarget, sweepId: string): Promise<QueuedSweepStatus> {
  const keys = sweepKeys(target, sweepId);
  const replies = await connection.multi().hgetall(keys.meta).hlen(keys.results).hlen(keys.failed).hlen(keys.running).exec();
  const [meta, done, failed, running] = (replies ?? []).map(([e, v]) => {
    if (e) throw e;
    return v;
  }) as [Record<string, string>, number, number, number];
  if (meta === undefined || meta['trials'] === undefined) throw new SweepError('not_found', `sweep ${sweepId}: ${target.url} (prefix ${target.prefix}) holds no such sweep`, { sweepId });
  return {
    sweepId,
    name: meta['name'] ?? '',
    trials: Number(meta['trials']),
    done,
    failed,
    running,
    status: meta['status'] === 'aggregated' || meta['status'] === 'aggregate-failed' ? meta['status'] : 'queued',
    aggregateError: meta['aggregateError'] ?? null,
    aggregate: meta['aggregate'] ? (JSON.parse(meta['aggregate']) as SweepAggregate) : null,
    resultObjects: meta['resultObjects'] ?? null,
    queuedAt: meta['queuedAt'] === undefined ? null : Number(meta['queuedAt']),
  };
}

/**
 * Every sweep queued on `target` (found by SCAN over its meta keys), with its status and the Redis memory of its own
 * keys, oldest first (those without a queue time first, then by id): what `tm sweep ls` shows to find sweeps nobody
 * collected or removed.
 */
export async function listQueuedSweeps(connection: Redis, target: QueueTarget): Promise<QueuedSweepListing[]> {
  const head = `${target.prefix}:sweep:`, tail = ':meta';
  const ids = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await connection.scan(cursor, 'MATCH', `${head.replace(/[*?[\]\\]/g, '\\$&')}*${tail}`, 'COUNT', 1000);
    for (const key of keys) ids.add(key.slice(head.length, key.length - tail.length));
    cursor = next;
  } while (cursor !== '0');
  const out: QueuedSweepListing[] = [];
  for (const id of ids) {
    let status: QueuedSweepStatus;
    try {
      status = await queuedSweepStatus(connection, target, id);
    } catch (e) {
      if (e instanceof SweepError && e.code === 'not_found') continue; // removed since the scan
      throw e;
    }
    const k = sweepKeys(target, id);
    const usage = (await connection.multi([k.meta, k.results, k.failed, k.running, k.starts].map((key) => ['memory', 'USAGE', key, 'SAMPLES', '0'])).exec()) ?? [];
    out.push({ ...status, redisBytes: usage.reduce((sum, [e, v]) => sum + (e ? 0 : Number(v ?? 0)), 0) });
  }
  return out.sort((a, b) => (a.queuedAt ?? -Infinity) - (b.queuedAt ?? -Infinity) || (a.sweepId < b.sweepId ? -1 : a.sweepId > b.sweepId ? 1 : 0));
}

/**
 * Fields asked for per HSCAN page: results kept in the hash are ~250 KB each at 23,000 bars, so a page of them is
 * ~16 MB (a hash of references is read 64 references a call).
 */
const HSCAN_COUNT = 64;

/** Result objects read at once while collecting a sweep (each a few hundred KB). */
const OBJECT_READS = 8;

/**
 * The result rows of a queued sweep (done ones from `results`, failed ones from `failed`), in config-hash order, all
 * in memory: see {@link forEachQueuedSweepRow}.
 * @throws SweepError `object_store` (no store for a result's bucket, or the object cannot be read), `corrupt_result`.
 */
export async function queuedSweepRows(connection: Redis, target: QueueTarget, sweepId: string, objectStores: ObjectStores = () => undefined): Promise<TrialRow[]> {
  const rows: TrialRow[] = [];
  await forEachQueuedSweepRow(connection, target, sweepId, objectStores, (row) => void rows.push(row));
  return rows.sort((a, b) => (a.configHash < b.configHash ? -1 : a.configHash > b.configHash ? 1 : 0));
}

/**
 * Calls `onRow` (awaited) with each result row of a queued sweep, once per trial, in no set order: the done rows of
 * `results` a HSCAN page at a time (results kept as objects read from `objectStores` 8 at once, each checked against
 * the size, SHA-256 and config hash its worker recorded), then the failed rows of trials with no result. It holds
 * one page of results at a time, so a sweep of any size passes through.
 * @throws SweepError `object_store` (no store for a result's bucket, or the object cannot be read), `corrupt_result`.
 */
export async function forEachQueuedSweepRow(connection: Redis, target: QueueTarget, sweepId: string, objectStores: ObjectStores, onRow: (row: TrialRow) => Promise<unknown> | void): Promise<void> {
  const keys = sweepKeys(target, sweepId);
  const seen = new Set<string>();
  await scanStoredTrials(connection, keys.results, sweepId, seen, async (page) => {
    const reads: (() => Promise<TrialRow>)[] = [];
    for (const { configHash, stored } of page) {
      if ('result' in stored) {
        await onRow(doneRow(sweepId, stored.result, stored.attempts));
        continue;
      }
      const ref = stored.object;
      const store = storeOfObject(objectStores, sweepId, configHash, ref, 'read');
      reads.push(async () => doneRow(sweepId, await getTrialObject(store, sweepId, configHash, ref), stored.attempts));
    }
    for (let k = 0; k < reads.length; k += OBJECT_READS) {
      for (const row of await Promise.all(reads.slice(k, k + OBJECT_READS).map((read) => read()))) await onRow(row);
    }
  });
  await scanHashPages(connection, keys.failed, async (page) => {
    for (const [configHash, text] of page) {
      if (seen.has(configHash)) continue;
      seen.add(configHash);
      const { error, attempts, point } = JSON.parse(text) as { error: string; attempts: number; point: TrialJob['point'] };
      await onRow(failedRow({ sweepId, configHash, point }, error, attempts));
    }
  });
}

/**
 * The aggregate of a queued sweep's rows as they are in Redis (and its result objects), streamed through a
 * SweepAggregator whose returns go to a temporary file: the parent job holds a page of results at a time.
 * @throws SweepError as {@link forEachQueuedSweepRow}, `io` for the temporary file.
 */
export async function aggregateQueuedSweep(connection: Redis, target: QueueTarget, sweepId: string, config: Pick<SweepConfig, 'name' | 'objective' | 'pbo'>, trials: number, objectStores: ObjectStores): Promise<SweepAggregate> {
  return aggregateStreamed(config, trials, (add) => forEachQueuedSweepRow(connection, target, sweepId, objectStores, add));
}

/** The store of trial `configHash`'s result object `ref`. @throws SweepError `object_store` when this process has no S3 settings. */
function storeOfObject(objectStores: ObjectStores, sweepId: string, configHash: string, ref: TrialObjectRef, verb: 'read' | 'delete'): ObjectStore {
  const store = objectStores(ref.bucket);
  if (store !== undefined) return store;
  throw new SweepError('object_store', `sweep ${sweepId} trial ${configHash}: its result is the object s3://${ref.bucket}/${ref.key}, and this process has no S3 settings to ${verb} it (TM_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)`, { sweepId, configHash, bucket: ref.bucket, key: ref.key });
}

/**
 * Calls `onPage` (awaited) with each HSCAN page of results hash `key` parsed, leaving out trials already in `seen`
 * (HSCAN may return a field twice) and adding the others to it.
 * @throws SweepError `corrupt_result` for an entry that is neither a result nor a reference.
 */
async function scanStoredTrials(connection: Redis, key: string, sweepId: string, seen: Set<string>, onPage: (page: { configHash: string; stored: StoredTrial }[]) => Promise<void>): Promise<void> {
  await scanHashPages(connection, key, async (entries) => {
    const page: { configHash: string; stored: StoredTrial }[] = [];
    for (const [configHash, text] of entries) {
      if (seen.has(configHash)) continue;
      seen.add(configHash);
      page.push({ configHash, stored: parseStoredTrial(sweepId, configHash, text) });
    }
    await onPage(page);
  });
}

/** Calls `onPage` (awaited) with each HSCAN page of hash `key` as [field, value] pairs (a field may come twice). */
async function scanHashPages(connection: Redis, key: string, onPage: (page: [string, string][]) => Promise<void> | void): Promise<void> {
  let cursor = '0';
  do {
    const [next, flat] = await connection.hscan(key, cursor, 'COUNT', HSCAN_COUNT);
    const page: [string, string][] = [];
    for (let k = 0; k + 1 < flat.length; k += 2) page.push([flat[k]!, flat[k + 1]!]);
    await onPage(page);
    cursor = next;
  } while (cursor !== '0');
}

/** What {@link removeQueuedSweep} removed. */
export interface RemovedSweep {
  /** Result objects deleted (see ResultObjects). */
  readonly objects: number;
  /** Whether BullMQ's flow (the parent job and its trial jobs) was removed (false: it was gone already). */
  readonly flow: boolean;
  /** The sweep's own Redis keys deleted (meta, results, failed, running, starts: those that existed). */
  readonly keys: number;
  /** Their names without the `<prefix>:sweep:<id>:` part. */
  readonly names: readonly string[];
}

/**
 * Removes a queued sweep from Redis and its result objects from their store: the objects its references name (8 at
 * a time; one already gone counts as deleted), then BullMQ's flow (parent and children), then the sweep's own keys —
 * in that order, so an interrupted removal can be run again (the references go last).
 * @throws SweepError `invalid_state` while a job of the flow is running (locked), `object_store` (no store for a
 *   bucket, or a delete the store refused).
 */
export async function removeQueuedSweep(connection: Redis, target: QueueTarget, sweepId: string, objectStores: ObjectStores = () => undefined): Promise<RemovedSweep> {
  const keys = sweepKeys(target, sweepId);
  let objects = 0;
  await scanStoredTrials(connection, keys.results, sweepId, new Set(), async (page) => {
    const deletes: (() => Promise<void>)[] = [];
    for (const { configHash, stored } of page) {
      if (!('object' in stored)) continue;
      const { bucket, key } = stored.object;
      const store = storeOfObject(objectStores, sweepId, configHash, stored.object, 'delete');
      objects++;
      deletes.push(async () => {
        try {
          await store.delete(key);
        } catch (e) {
          throw new SweepError('object_store', `sweep ${sweepId} trial ${configHash}: cannot delete its result s3://${bucket}/${key}: ${(e as Error).message}`, { sweepId, configHash, bucket, key }, { cause: e });
        }
      });
    }
    for (let k = 0; k < deletes.length; k += OBJECT_READS) await Promise.all(deletes.slice(k, k + OBJECT_READS).map((d) => d()));
  });
  const queue = new Queue(target.queueName, { connection, prefix: target.prefix });
  let flow = false;
  try {
    if ((await queue.getJob(sweepId)) !== undefined) {
      if ((await queue.remove(sweepId, { removeChildren: true })) !== 1) throw new SweepError('invalid_state', `sweep ${sweepId}: a job of its flow is running (locked by a worker); remove it once the sweep is aggregated`, { sweepId });
      flow = true;
    }
  } finally {
    await queue.close();
  }
  const all = [keys.meta, keys.results, keys.failed, keys.running, keys.starts];
  const exists = (await connection.multi(all.map((k) => ['exists', k])).exec()) ?? [];
  const names = all.filter((_, k) => exists[k]?.[1] === 1).map((k) => k.slice(k.lastIndexOf(':') + 1));
  const removed = await connection.del(...all);
  return { objects, flow, keys: removed, names };
}

/** Settings of {@link startSweepWorker} (BullMQ worker options; defaults are BullMQ's). */
export interface SweepWorkerOptions {
  /** How long a job's lock lives without renewal, ms: a worker silent for longer loses its job to the stall check. */
  readonly lockDurationMs: number;
  /** How often the stall check moves jobs with expired locks back to wait, ms. */
  readonly stalledIntervalMs: number;
  /** Times a job may stall before it fails. */
  readonly maxStalledCount: number;
  /** Names this worker in the `running` hash and logs. */
  readonly workerName: string;
  /** Called after each job (for logs): kind, sweep id, config hash (trials), outcome. */
  readonly onJob?: (event: { kind: 'trial' | 'sweep'; sweepId: string; configHash?: string; ok: boolean; ms: number; error?: string }) => void;
  /** The object stores of sweeps whose results are objects (see QueuedTrial); absent: this worker has none. */
  readonly objectStores?: ObjectStores;
}

/**
 * Starts a BullMQ worker on `target` that runs `trial` jobs through `runner` (the same job function as the local
 * paths; `runner.size` jobs at once) and aggregates `sweep` parent jobs once their children are finished. A trial's
 * result is written once (HSETNX keyed by its config hash) before the job completes, so a job re-run after its worker
 * died, or a duplicate, cannot add a second result. A trial whose sweep keeps results as objects writes its object
 * first (the same bytes under the same key on every attempt) and then its reference. Returns the worker (close it to
 * stop).
 */
export function startSweepWorker(connection: Redis, target: QueueTarget, runner: TrialRunner, options: SweepWorkerOptions): Worker {
  const processor = async (job: Job): Promise<unknown> => {
    const t0 = performance.now();
    if (job.name === 'sweep') {
      const { sweepId, trials, config } = job.data as { sweepId: string; trials: number; config: SweepConfig };
      let aggregate: SweepAggregate;
      try {
        aggregate = await aggregateQueuedSweep(connection, target, sweepId, config, trials, options.objectStores ?? (() => undefined));
      } catch (e) {
        // Said in the sweep's meta: a waiting `tm sweep` stops waiting and aggregates itself (it polled forever before).
        const error = (e as Error).message;
        await connection.hset(sweepKeys(target, sweepId).meta, { status: 'aggregate-failed', aggregateError: `${options.workerName}: ${error}` });
        options.onJob?.({ kind: 'sweep', sweepId, ok: false, ms: performance.now() - t0, error });
        throw e;
      }
      await connection.multi().hset(sweepKeys(target, sweepId).meta, { aggregate: JSON.stringify(aggregate), status: 'aggregated' }).hdel(sweepKeys(target, sweepId).meta, 'aggregateError').exec();
      options.onJob?.({ kind: 'sweep', sweepId, ok: true, ms: performance.now() - t0 });
      return { done: aggregate.done, failed: aggregate.failed };
    }
    const { resultObjects, ...trial } = job.data as QueuedTrial;
    const keys = sweepKeys(target, trial.sweepId);
    await connection.multi().hincrby(keys.starts, trial.configHash, 1).hset(keys.running, trial.configHash, options.workerName).exec();
    try {
      // Checked before the trial runs: a worker that cannot store the result should not spend the trial's time first.
      const store = resultObjects === undefined ? undefined : objectStoreFor(options.objectStores, resultObjects, trial);
      const { result, ms } = await runner.run(trial);
      const stored = store === undefined ? { result, attempts: job.attemptsStarted } : { object: await putTrialObject(store, resultObjects!, trial.sweepId, result), attempts: job.attemptsStarted };
      await connection.multi().hsetnx(keys.results, trial.configHash, JSON.stringify(stored)).hdel(keys.running, trial.configHash).hdel(keys.failed, trial.configHash).exec();
      options.onJob?.({ kind: 'trial', sweepId: trial.sweepId, configHash: trial.configHash, ok: true, ms });
      return { configHash: trial.configHash, ms };
    } catch (e) {
      const error = (e as Error).message;
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const m = connection.multi().hdel(keys.running, trial.configHash);
      if (last) m.hset(keys.failed, trial.configHash, JSON.stringify({ error, attempts: job.attemptsStarted, point: trial.point }));
      await m.exec();
      options.onJob?.({ kind: 'trial', sweepId: trial.sweepId, configHash: trial.configHash, ok: false, ms: performance.now() - t0, error });
      throw e;
    }
  };
  return new Worker(target.queueName, processor, {
    connection,
    prefix: target.prefix,
    concurrency: runner.size,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount,
    name: options.workerName,
  });
}

/** The store of a trial's result objects. @throws SweepError `object_store` when this worker has no S3 settings. */
function objectStoreFor(objectStores: ObjectStores | undefined, location: ResultObjects, trial: TrialJob): ObjectStore {
  const store = objectStores?.(location.bucket);
  if (store !== undefined) return store;
  throw new SweepError('object_store', `sweep ${trial.sweepId} trial ${trial.configHash}: its result goes to ${formatResultObjects(location)}, and this worker has no S3 settings (set TM_S3_ENDPOINT, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY where tm worker runs)`, { sweepId: trial.sweepId, configHash: trial.configHash, bucket: location.bucket });
}

/**
 * Polls a queued sweep every `pollMs` until its parent job has aggregated it or failed to, calling `onStatus` each
 * time; returns the last status. A Redis restart only delays it (commands wait for the reconnect).
 */
export async function waitForSweep(connection: Redis, target: QueueTarget, sweepId: string, onStatus: (s: QueuedSweepStatus) => void, pollMs = 250): Promise<QueuedSweepStatus> {
  for (;;) {
    const status = await queuedSweepStatus(connection, target, sweepId);
    onStatus(status);
    if (status.status !== 'queued') return status;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
