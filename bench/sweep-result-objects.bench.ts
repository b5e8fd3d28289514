import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { servicesEnv } from '../scripts/services-env.js';
import { planSweep, type SweepPlan } from '../src/cli/sweep-job.js';
import { TrialPool } from '../src/cli/sweep-pool.js';
import { connectQueue, enqueueSweep, objectStoresFromEnv, queuedSweepRows, removeQueuedSweep, startSweepWorker, sweepKeys, waitForSweep, type ObjectStores, type QueueTarget } from '../src/cli/sweep-queue.js';
import type { ResultObjects } from '../src/sweep/index.js';
import { median, type Benchmark, type BenchResult } from './bench-result.js';
import { startPrivateRedis } from './private-redis.js';
import { sweepMarket, writeSweep } from './sweep-fixture.js';

/**
 * What a queued sweep's results cost Redis, kept in its results hash (the default) or as objects in S3/MinIO with a
 * reference in Redis (`tm sweep --queue … --result-objects s3://bucket/prefix`): 40 trials (fast 5..40 × slow
 * 60..350) of experiments/sma-crossover-bybit.json on Bybit BTCUSDT + ETHUSDT 1h bars 2023-01-01..2025-09-01, run by
 * one in-process BullMQ worker with one trial process on a private redis-server and the MinIO of
 * `scripts/services.sh` (its env is read when TM_S3_ENDPOINT is unset).
 *
 * Figures per mode: Redis bytes per trial (MEMORY USAGE of the results hash, exact, / trials), the collection time of
 * the rows (`queuedSweepRows`, what `tm sweep --queue` and the parent job read: median of 5, / trials), and the queued
 * sweep's wall time per job. Targets (objects mode): ≤ 1024 bytes of Redis per trial (the hash holds ~250 KB a trial
 * at 23,000 bars), ≤ 5 ms of collection per trial.
 */
const FAST = [5, 10, 15, 20, 25, 30, 35, 40];
const SLOW = [60, 120, 200, 300, 350];
const COLLECTS = 5;

interface ModeFigures {
  readonly redisBytesPerTrial: number;
  readonly collectMsPerTrial: number;
  readonly wallMsPerJob: number;
  readonly resultBytesPerTrial: number;
}

async function runMode(plan: SweepPlan, warm: SweepPlan, db: string, url: string, prefix: string, stores: ObjectStores, location: ResultObjects | undefined): Promise<ModeFigures> {
  const target: QueueTarget = { url, queueName: 'tm-sweep', prefix };
  const connection = connectQueue(target);
  const workerConnection = connectQueue(target);
  const pool = new TrialPool(1, db);
  const worker = startSweepWorker(workerConnection, target, pool, { lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 1, workerName: `bench-${prefix}`, objectStores: stores });
  const redis = new Redis(url);
  try {
    await pool.run(warm.jobs[0]!);
    await enqueueSweep(connection, target, warm, location);
    await waitForSweep(connection, target, warm.sweepId, () => {}, 50);
    const t0 = performance.now();
    await enqueueSweep(connection, target, plan, location);
    await waitForSweep(connection, target, plan.sweepId, () => {}, 50);
    const wallMs = performance.now() - t0;
    const key = sweepKeys(target, plan.sweepId).results;
    const redisBytes = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    const times: number[] = [];
    let resultBytes = 0;
    for (let k = 0; k < COLLECTS; k++) {
      const t1 = performance.now();
      const rows = await queuedSweepRows(connection, target, plan.sweepId, stores);
      times.push(performance.now() - t1);
      if (rows.length !== plan.jobs.length || rows.some((r) => r.status !== 'done')) throw new Error(`sweep-result-objects: ${prefix}: ${rows.length} rows, not ${plan.jobs.length} done ones`);
      resultBytes = rows.reduce((n, r) => n + r.returns!.byteLength, 0);
    }
    if (location !== undefined) {
      // every trial's entry is a reference: remove the objects (and the sweep's keys, measured above)
      const removed = await removeQueuedSweep(connection, target, plan.sweepId, stores);
      if (removed.objects !== plan.jobs.length) throw new Error(`sweep-result-objects: ${removed.objects} result objects, not ${plan.jobs.length}`);
    }
    const n = plan.jobs.length;
    return { redisBytesPerTrial: Math.round(redisBytes / n), collectMsPerTrial: Number((median(times) / n).toFixed(3)), wallMsPerJob: Number((wallMs / n).toFixed(1)), resultBytesPerTrial: Math.round(resultBytes / n) };
  } finally {
    await worker.close();
    await pool.close();
    redis.disconnect();
    workerConnection.disconnect();
    connection.disconnect();
  }
}

const bench: Benchmark = {
  name: 'sweep-result-objects',
  async run() {
    const env: NodeJS.ProcessEnv = process.env['TM_S3_ENDPOINT'] ? process.env : { ...process.env, ...servicesEnv() };
    const stores = objectStoresFromEnv(env);
    const bucket = env['TM_S3_BUCKET'];
    if (bucket === undefined || stores(bucket) === undefined) throw new Error('sweep-result-objects: no S3 settings (TM_S3_ENDPOINT, TM_S3_BUCKET): start the services (bash scripts/services.sh up)');
    const dir = mkdtempSync(join(tmpdir(), 'tm-bench-sweep-objects-'));
    const redis = await startPrivateRedis(dir);
    try {
      const db = await sweepMarket(resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data'), dir);
      const plan = await planSweep(writeSweep(dir, 'objects', FAST, SLOW));
      const warm = await planSweep(writeSweep(dir, 'warm', [3, 4], [7]));
      const inline = await runMode(plan, warm, db, redis.url, 'inline', stores, undefined);
      const objects = await runMode(plan, warm, db, redis.url, 'objects', stores, { bucket, prefix: `tm-bench/sweep-result-objects-${process.pid}-${Date.now().toString(36)}` });
      console.error(`sweep-result-objects: Redis bytes per trial ${inline.redisBytesPerTrial} in the hash, ${objects.redisBytesPerTrial} as objects; collection ${inline.collectMsPerTrial} / ${objects.collectMsPerTrial} ms per trial`);
      const details = { trials: plan.jobs.length, data: 'bybit BTCUSDT+ETHUSDT 1h 2023-01-01..2025-09-01', inline, objects, redisBytesRatio: Number((inline.redisBytesPerTrial / objects.redisBytesPerTrial).toFixed(1)) };
      const results: Omit<BenchResult, 'command' | 'date'>[] = [
        { name: 'sweep-result-objects.redis-bytes-per-trial', value: objects.redisBytesPerTrial, unit: 'bytes', target: 1024, better: 'lower', details },
        { name: 'sweep-result-objects.collect-ms-per-trial', value: objects.collectMsPerTrial, unit: 'ms', target: 5, better: 'lower' },
      ];
      return results;
    } finally {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
