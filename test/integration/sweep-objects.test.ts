/**
 * Queued sweeps whose results are objects (`tm sweep --queue … --result-objects s3://bucket/prefix`), against the real
 * Redis and MinIO: the rows equal a local run's (returns byte for byte), Redis holds a reference of a few hundred
 * bytes per trial instead of the result, and a result object that is overwritten or deleted, or a worker without S3
 * settings, fails naming the trial and the object.
 */
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSweep } from '../../src/cli/sweep-job.js';
import { QUEUE_DEFAULTS, queuedSweepRows } from '../../src/cli/sweep-queue.js';
import { createS3ObjectStore, s3ConfigFromEnv, s3CredentialsFromEnv, type S3ObjectStore } from '../../src/registry/index.js';
import { formatResultObjects, parseStoredTrial, trialResultKey, type TrialObjectRef, type TrialResult } from '../../src/sweep/index.js';
import { runTm } from '../support/cli.js';
import { tempDir } from '../support/shared-data.js';
import { resultRows, startWorker, sweepStore, until, writeSweep, type WorkerProcess } from '../support/sweep-fixtures.js';

const redisUrl = process.env['REDIS_URL'];

function needServices(): { url: string; bucket: string; store: S3ObjectStore } {
  const why = process.env['TM_SERVICES_ERROR'] ?? 'run with the services (scripts/services.sh)';
  if (!redisUrl) throw new Error(`REDIS_URL is not set: ${why}`);
  const config = s3ConfigFromEnv(process.env);
  if (!config || !process.env['TM_S3_ENDPOINT']) throw new Error(`TM_S3_ENDPOINT and TM_S3_BUCKET are not set: ${why}`);
  return { url: redisUrl, bucket: config.bucket, store: createS3ObjectStore(config, s3CredentialsFromEnv(process.env)) };
}

/** `text` as a regular expression matching it literally. */
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('queued sweep with result objects (real Redis and MinIO)', () => {
  const dir = tempDir('tm-sweep-objects-');
  const db = join(dir, 'market.duckdb');
  const prefix = `tm-test-sweep-objects-${process.pid}`;
  const objectPrefix = `tm-test/sweep-objects-${process.pid}-${Date.now().toString(36)}`;
  const workers: WorkerProcess[] = [];
  let redis: Redis;

  beforeAll(async () => {
    await sweepStore(db);
    if (redisUrl) redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    if (redis) {
      const keys = await redis.keys(`${prefix}*:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** The references Redis holds for the sweep `id` under queue prefix `p`, by config hash. */
  async function references(p: string, id: string): Promise<Map<string, { text: string; object: TrialObjectRef }>> {
    const out = new Map<string, { text: string; object: TrialObjectRef }>();
    for (const [hash, text] of Object.entries(await redis.hgetall(`${p}:sweep:${id}:results`))) {
      const stored = parseStoredTrial(id, hash, text);
      if (!('object' in stored)) throw new Error(`trial ${hash}: Redis holds the result itself`);
      out.set(hash, { text, object: stored.object });
    }
    return out;
  }

  it('rows equal the local run; Redis keeps a reference per trial, the result is the object; tampering is found', async () => {
    const { url, bucket, store } = needServices();
    const sweep = writeSweep(dir, 'objects-grid', { fast: [5, 10, 20], slow: [50, 100] });
    const reference = await runTm(['sweep', '--config', sweep, '--workers', '0', '--db', db, '--results', join(dir, 'local.duckdb'), '--json']);
    expect(reference.code, reference.err).toBe(0);
    workers.push(await startWorker(url, prefix, db));
    const location = `s3://${bucket}/${objectPrefix}`;
    const collect = () => runTm(['sweep', '--config', sweep, '--queue', url, '--prefix', prefix, '--result-objects', location, '--results', join(dir, 'queue.duckdb'), '--json']);
    const queued = await collect();
    expect(queued.code, queued.err).toBe(0);

    const local = await resultRows(join(dir, 'local.duckdb'));
    expect(local).toHaveLength(6);
    expect(local.every((r) => r.status === 'done' && r.returns!.length > 4000)).toBe(true);
    expect(await resultRows(join(dir, 'queue.duckdb'))).toEqual(local);
    // the parent job aggregated from the objects as the local path did from its rows
    expect((JSON.parse(queued.out) as { aggregate: unknown }).aggregate).toEqual((JSON.parse(reference.out) as { aggregate: unknown }).aggregate);

    const id = (JSON.parse(queued.out) as { sweepId: string }).sweepId;
    const refs = await references(prefix, id);
    expect([...refs.keys()].sort()).toEqual(local.map((r) => r.configHash).sort());
    for (const [hash, { text, object }] of refs) {
      expect(object).toMatchObject({ bucket, key: `${objectPrefix}/${id}/${hash}.json` });
      expect(text.length).toBeLessThan(300);
      // the object is the trial's result: what a local run computed
      const result = JSON.parse(Buffer.from(await store.get(object.key)).toString('utf8')) as TrialResult;
      expect(object.bytes).toBeGreaterThan(100 * text.length);
      const row = local.find((r) => r.configHash === hash)!;
      expect(result.metrics).toEqual(row.metrics);
      expect(Buffer.from(result.returns, 'base64').equals(Buffer.from(row.returns!.buffer))).toBe(true);
    }
    const status = await runTm(['sweep', 'status', id, '--queue', url, '--prefix', prefix]);
    expect(status.out).toContain(`results: ${location} (Redis holds a reference per trial)`);

    // an object changed after its worker wrote it: collecting fails naming the object and both digests
    const [victim, { object }] = [...refs][0]!;
    const original = await store.get(object.key);
    await store.put(object.key, Buffer.from(Buffer.from(original).toString('utf8').replace('"sharpe":', '"sharpe": ')), 'application/json');
    const tampered = await collect();
    expect(tampered.code).not.toBe(0);
    expect(tampered.err).toContain(`sweep ${id} trial ${victim}: s3://${bucket}/${object.key} holds ${original.length + 1} bytes with SHA-256`);
    expect(tampered.err).toContain(`the worker wrote ${original.length} bytes with SHA-256 ${object.sha256}`);
    // deleted: fails naming it
    await store.delete(object.key);
    const deleted = await collect();
    expect(deleted.code).not.toBe(0);
    expect(deleted.err).toContain(`sweep ${id} trial ${victim}: cannot read its result s3://${bucket}/${object.key}`);
    expect(deleted.err).toContain('does not exist');
    // put back: collecting works again, with the same rows
    await store.put(object.key, original, 'application/json');
    expect((await collect()).code).toBe(0);
    expect(await resultRows(join(dir, 'queue.duckdb'))).toEqual(local);

    // a collector without S3 settings cannot read them, and says which settings it lacks
    const unread = await queuedSweepRows(redis, { url, queueName: QUEUE_DEFAULTS.queueName, prefix }, id).then(
      () => undefined,
      (e: Error) => e,
    );
    const named = /^sweep (\S+) trial (\S+): its result is the object (\S+), and this process has no S3 settings to read it \(TM_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\)$/.exec(unread?.message ?? '');
    expect(named, unread?.message).not.toBeNull();
    expect(named![1]).toBe(id);
    expect(named![3]).toBe(`s3://${bucket}/${refs.get(named![2]!)!.object.key}`);

    // removed once collected: the objects, BullMQ's flow and the sweep's keys; the rows stay in the results store
    expect(await redis.keys(`${prefix}:tm-sweep:${id}*`)).not.toEqual([]);
    const removed = await runTm(['sweep', 'remove', id, '--queue', url, '--prefix', prefix, '--results', join(dir, 'queue.duckdb')]);
    expect(removed.code, removed.err).toBe(0);
    expect(removed.out).toBe(`sweep ${id}: removed 6 result objects under ${location}, its BullMQ flow and 3 keys (meta, results, starts) from ${url} (prefix ${prefix})`);
    expect(await redis.keys(`${prefix}:sweep:${id}:*`)).toEqual([]);
    expect(await redis.keys(`${prefix}:tm-sweep:${id}*`)).toEqual([]);
    for (const { object: o } of refs.values()) await expect(store.get(o.key)).rejects.toMatchObject({ code: 'not_found' });
    expect(await resultRows(join(dir, 'queue.duckdb'))).toEqual(local);
    const again = await runTm(['sweep', 'remove', id, '--queue', url, '--prefix', prefix, '--results', join(dir, 'queue.duckdb')]);
    expect(again.code).toBe(2);
    expect(again.err).toContain(`sweep ${id}: ${url} (prefix ${prefix}) holds no such sweep`);
  });

  it('tm sweep remove refuses a sweep the results store has not collected, unless --force', async () => {
    const { url, bucket, store } = needServices();
    const p = `${prefix}-remove`;
    workers.push(await startWorker(url, p, db));
    const sweep = writeSweep(dir, 'remove-grid', { fast: [5], slow: [50, 100] });
    const location = `s3://${bucket}/${objectPrefix}-remove`;
    const queued = await runTm(['sweep', '--config', sweep, '--queue', url, '--prefix', p, '--result-objects', location, '--detach']);
    expect(queued.code, queued.err).toBe(0);
    const id = /^sweep (\S+): queued 2 trials/.exec(queued.out)![1]!;
    await until(async () => (await redis.hget(`${p}:sweep:${id}:meta`, 'status')) === 'aggregated', 30_000, 50);
    const refused = await runTm(['sweep', 'remove', id, '--queue', url, '--prefix', p, '--results', join(dir, 'remove.duckdb')]);
    expect(refused.code).toBe(2);
    expect(refused.err).toBe(
      `tm: tm sweep remove: sweep ${id} is not collected: Redis has 2 done of 2 trials (aggregated), the results store ${join(dir, 'remove.duckdb')} holds 0 done rows and no aggregate. Collect it (the tm sweep command without --detach), or remove it anyway with --force`,
    );
    const keys = [...(await references(p, id)).values()].map((r) => r.object.key);
    expect(keys).toHaveLength(2);
    for (const key of keys) expect((await store.get(key)).length).toBeGreaterThan(1000); // refused: nothing removed
    expect(existsSync(join(dir, 'remove.duckdb'))).toBe(false); // nor a results store created by asking
    const forced = await runTm(['sweep', 'remove', id, '--queue', url, '--prefix', p, '--results', join(dir, 'remove.duckdb'), '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toBe(`sweep ${id}: removed 2 result objects under ${location}, its BullMQ flow and 3 keys (meta, results, starts) from ${url} (prefix ${p})`);
    expect(await redis.keys(`${p}:sweep:${id}:*`)).toEqual([]);
    expect(await redis.keys(`${p}:tm-sweep:${id}*`)).toEqual([]);
    for (const key of keys) await expect(store.get(key)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a parent job that cannot aggregate says so, and the waiting tm sweep aggregates itself instead of waiting forever', async () => {
    const { url, bucket, store } = needServices();
    const p = `${prefix}-parent`;
    const sweep = writeSweep(dir, 'parent-grid', { fast: [5], slow: [50, 100] });
    const local = await runTm(['sweep', '--config', sweep, '--workers', '0', '--db', db, '--results', join(dir, 'parent-local.duckdb'), '--json']);
    expect(local.code, local.err).toBe(0);
    const plan = await planSweep(sweep);
    const victim = plan.jobs[0]!.configHash;
    const location = { bucket, prefix: `${objectPrefix}-parent` };
    const key = trialResultKey(location, plan.sweepId, victim);
    // A reference with a wrong digest, there before the trial finishes: its HSETNX keeps it (first wins), and the
    // parent job cannot read the result it names.
    const results = `${p}:sweep:${plan.sweepId}:results`;
    await redis.hset(results, victim, JSON.stringify({ object: { bucket, key, bytes: 1, sha256: '00' }, attempts: 1 }));
    workers.push(await startWorker(url, p, db));
    const collect = () => runTm(['sweep', '--config', sweep, '--queue', url, '--prefix', p, '--result-objects', formatResultObjects(location), '--results', join(dir, 'parent.duckdb'), '--json']);
    const failed = await collect();
    expect(failed.code).toBe(2);
    const corrupt = `sweep ${plan.sweepId} trial ${victim}: s3://${bucket}/${key} holds `;
    expect(failed.err).toMatch(new RegExp(`^sweep ${plan.sweepId}: its parent job could not aggregate it \\([^:]+:\\d+: ${escape(corrupt)}.*\\); aggregating here$`, 'm'));
    expect(failed.err).toContain(`tm: ${corrupt}`);
    const status = await runTm(['sweep', 'status', plan.sweepId, '--queue', url, '--prefix', p]);
    expect(status.out).toContain(`done 2 failed 0 running 0, waiting 0; its parent job could not aggregate it: `);
    // The worker wrote the object all the same: a corrected reference lets the collector aggregate the rows itself.
    const bytes = await store.get(key);
    await redis.hset(results, victim, JSON.stringify({ object: { bucket, key, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }, attempts: 1 }));
    const repaired = await collect();
    expect(repaired.code, repaired.err).toBe(0);
    expect(repaired.err).toContain('aggregating here');
    expect(await resultRows(join(dir, 'parent.duckdb'))).toEqual(await resultRows(join(dir, 'parent-local.duckdb')));
    expect((JSON.parse(repaired.out) as { aggregate: unknown }).aggregate).toEqual((JSON.parse(local.out) as { aggregate: unknown }).aggregate);
    expect((await runTm(['sweep', 'remove', plan.sweepId, '--queue', url, '--prefix', p, '--results', join(dir, 'parent.duckdb')])).code).toBe(0);
  });

  it('a worker without S3 settings fails the trials of such a sweep, naming the location and the settings', async () => {
    const { url, bucket } = needServices();
    const p = `${prefix}-no-s3`;
    const env = { ...process.env };
    for (const name of ['TM_S3_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE']) delete env[name];
    workers.push(await startWorker(url, p, db, [], env));
    const sweep = writeSweep(dir, 'no-s3-grid', { fast: [5], slow: [50, 100], attempts: 1 });
    const location = `s3://${bucket}/${objectPrefix}-no-s3`;
    const r = await runTm(['sweep', '--config', sweep, '--queue', url, '--prefix', p, '--result-objects', location, '--results', join(dir, 'no-s3.duckdb'), '--json']);
    expect(r.code, r.err).toBe(0);
    const rows = await resultRows(join(dir, 'no-s3.duckdb'));
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.status).toBe('failed');
      expect(row.error).toBe(`sweep ${row.sweepId} trial ${row.configHash}: its result goes to ${location}, and this worker has no S3 settings (set TM_S3_ENDPOINT, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY where tm worker runs)`);
    }
  });

  it('refuses --result-objects that is no s3:// location, or without --queue', async () => {
    const sweep = writeSweep(dir, 'bad-objects', { fast: [5], slow: [50] });
    const bad = await runTm(['sweep', '--config', sweep, '--queue', 'redis://127.0.0.1:1', '--result-objects', 'https://bucket/x']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--result-objects must be s3://<bucket>[/<prefix>] (an s3:// URL), was "https://bucket/x"');
    const local = await runTm(['sweep', '--config', sweep, '--workers', '0', '--db', db, '--result-objects', 's3://bucket/x']);
    expect(local.code).toBe(2);
    expect(local.err).toContain('tm sweep: --result-objects is where tm worker processes put the results of a queued sweep; give --queue redis://...');
  });
});
