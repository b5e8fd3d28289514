/**
 * Faults of queued sweeps against real Redis servers: a `tm worker` killed with SIGKILL mid-job loses the job to
 * another worker after the stall interval (exactly one row per trial); a trial that throws is retried with back-off
 * and then recorded failed with its error (the same row as the local path); a Redis restart mid-sweep (own
 * redis-server with an append-only file, restarted by the test) only pauses the sweep.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/free-port.js';
import { runTm } from '../support/cli.js';
import { tempDir } from '../support/shared-data.js';
import { resultRows, startWorker, sweepStore, until, writeSweep, type WorkerProcess } from '../support/sweep-fixtures.js';

const redisUrl = process.env['REDIS_URL'];
const FAST_STALL = ['--lock-duration', '2000', '--stalled-interval', '1000'];

function needRedis(): string {
  if (!redisUrl) throw new Error(`REDIS_URL is not set: ${process.env['TM_SERVICES_ERROR'] ?? 'run with the services (scripts/services.sh)'}`);
  return redisUrl;
}

describe('queued sweep faults (real Redis)', () => {
  const dir = tempDir('tm-sweep-faults-');
  const db = join(dir, 'market.duckdb');
  const prefix = `tm-test-sweep-faults-${process.pid}`;
  const workers: WorkerProcess[] = [];
  let redis: Redis;

  beforeAll(async () => {
    await sweepStore(db, ['4h', '1h']);
    redis = new Redis(needRedis());
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    const keys = await redis.keys(`${prefix}*:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 of a worker mid-job: another worker re-runs the job after the stall interval; one row per trial', async () => {
    const url = needRedis();
    const p = `${prefix}-kill`;
    const sweep = writeSweep(dir, 'kill-grid');
    const reference = await runTm(['sweep', '--config', sweep, '--workers', '0', '--db', db, '--results', join(dir, 'kill-reference.duckdb')]);
    expect(reference.code, reference.err).toBe(0);

    const victim = await startWorker(url, p, db, FAST_STALL);
    workers.push(victim);
    const queued = await runTm(['sweep', '--config', sweep, '--queue', url, '--prefix', p, '--detach']);
    expect(queued.code, queued.err).toBe(0);
    const id = /^sweep (\S+): queued 24 trials/.exec(queued.out)![1]!;
    const running = `${p}:sweep:${id}:running`;
    await until(async () => (await redis.hlen(running)) > 0, 20_000, 5);
    const [killed] = await redis.hkeys(running);
    const trialProcesses = spawnSync('ps', ['-o', 'pid=', '--ppid', String(victim.child.pid)], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    expect(trialProcesses.length).toBeGreaterThan(0); // the victim's trial process, running the job
    victim.child.kill('SIGKILL');
    await new Promise((r) => victim.child.once('exit', r));
    // its trial process sees the IPC channel close and exits too: no orphan keeps running the job
    await until(async () => trialProcesses.every((pid) => spawnSync('kill', ['-0', pid]).status !== 0), 5000, 50);
    expect(await redis.hexists(`${p}:sweep:${id}:results`, killed!)).toBe(0); // it was mid-job

    const t0 = performance.now();
    const rescuer = await startWorker(url, p, db, FAST_STALL);
    workers.push(rescuer);
    const collected = await runTm(['sweep', '--config', sweep, '--queue', url, '--prefix', p, '--results', join(dir, 'kill.duckdb')]);
    expect(collected.code, collected.err).toBe(0);
    expect(collected.err).toContain('already queued');
    // the killed trial was started twice (once by the victim, once by the rescuer after its lock expired)
    expect(Number(await redis.hget(`${p}:sweep:${id}:starts`, killed!))).toBeGreaterThanOrEqual(2);
    expect(rescuer.output()).toContain(`trial ${id} ${killed} done`);
    expect(performance.now() - t0).toBeGreaterThan(1000);
    const rows = await resultRows(join(dir, 'kill.duckdb'));
    expect(rows).toHaveLength(24);
    expect(rows.filter((r) => r.configHash === killed)).toHaveLength(1);
    expect(await redis.hlen(`${p}:sweep:${id}:results`)).toBe(24);
    expect(rows).toEqual(await resultRows(join(dir, 'kill-reference.duckdb')));
  });

  it('a throwing trial is retried with exponential back-off, then recorded failed with its error (queued = local)', async () => {
    const url = needRedis();
    const p = `${prefix}-throw`;
    // fast 50 / slow 50 breaks the strategy's rule slow > fast: that trial throws on every attempt
    const sweep = writeSweep(dir, 'throw-grid', { fast: [10, 50], slow: [50, 100], attempts: 3, backoffMs: 300 });
    const worker = await startWorker(url, p, db);
    workers.push(worker);
    const queued = await runTm(['sweep', '--config', sweep, '--queue', url, '--prefix', p, '--results', join(dir, 'throw-queue.duckdb'), '--json']);
    expect(queued.code, queued.err).toBe(0);
    const local = await runTm(['sweep', '--config', sweep, '--workers', '1', '--db', db, '--results', join(dir, 'throw-local.duckdb'), '--json']);
    expect(local.code, local.err).toBe(0);

    const rows = await resultRows(join(dir, 'throw-queue.duckdb'));
    expect(rows.map((r) => r.status).sort()).toEqual(['done', 'done', 'done', 'failed']);
    const failed = rows.find((r) => r.status === 'failed')!;
    expect(failed.point).toEqual({ 'params.fast': 50, 'params.slow': 50 });
    expect(failed.error).toContain('params.slow: must be greater than fast');
    expect(rows).toEqual(await resultRows(join(dir, 'throw-local.duckdb')));
    for (const out of [queued.out, local.out]) {
      const parsed = JSON.parse(out) as { rows: { status: string; attempts: number }[]; aggregate: { failed: number } };
      expect(parsed.rows.find((r) => r.status === 'failed')!.attempts).toBe(3);
      expect(parsed.aggregate.failed).toBe(1);
    }
    // BullMQ's record of the job: 3 attempts, failed with the error, 300 + 600 ms of back-off between them
    const id = (JSON.parse(queued.out) as { sweepId: string }).sweepId;
    const queue = new Queue('tm-sweep', { connection: redis, prefix: p });
    const job = (await queue.getJob(`${id}-${failed.configHash}`))!;
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(3);
    expect(job.failedReason).toContain('must be greater than fast');
    expect(job.finishedOn! - job.processedOn!).toBeLessThan(1000);
    expect(job.finishedOn! - job.timestamp).toBeGreaterThanOrEqual(900);
    expect((worker.output().match(new RegExp(`trial ${id} ${failed.configHash} failed`, 'g')) ?? []).length).toBe(3);
    await queue.close();
  });

  it('a Redis restart mid-sweep pauses it; the sweep completes with the same rows', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const data = join(dir, 'redis');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(data);
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', data];
    const startRedis = async (): Promise<ChildProcess> => {
      const child = spawn('redis-server', args, { stdio: 'ignore' });
      await until(async () => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG', 10_000, 50);
      return child;
    };
    let server = await startRedis();
    const own = new Redis(url, { maxRetriesPerRequest: null });
    own.on('error', () => {}); // the restart below drops it; it reconnects
    const local: WorkerProcess[] = [];
    try {
      // 1h bars: each trial takes long enough for the restart to land mid-sweep
      const sweep = writeSweep(dir, 'restart-grid', { timeframe: '1h', start: '2023-06-01', end: '2025-01-01' });
      const reference = await runTm(['sweep', '--config', sweep, '--workers', '0', '--db', db, '--results', join(dir, 'restart-reference.duckdb')]);
      expect(reference.code, reference.err).toBe(0);
      local.push(...(await Promise.all([startWorker(url, 'tm', db), startWorker(url, 'tm', db)])));
      const running = runTm(['sweep', '--config', sweep, '--queue', url, '--results', join(dir, 'restart.duckdb')]);
      let done = 0;
      await until(async () => (done = (await own.keys('tm:sweep:*:results')).length > 0 ? await own.hlen((await own.keys('tm:sweep:*:results'))[0]!) : 0) >= 2, 30_000, 10);
      expect(spawnSync('redis-cli', ['-p', String(port), 'shutdown']).status).toBe(0);
      await new Promise((r) => (server.exitCode !== null ? r(null) : server.once('exit', r)));
      expect(done).toBeLessThan(24);
      await new Promise((r) => setTimeout(r, 1000));
      server = await startRedis();
      const r = await running;
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/^redis: redis:\/\/127\.0\.0\.1:\d+: .*\(reconnecting\)$/m);
      expect(r.out).toContain('24 trials, 24 done, 0 failed');
      expect(await resultRows(join(dir, 'restart.duckdb'))).toEqual(await resultRows(join(dir, 'restart-reference.duckdb')));
    } finally {
      await Promise.all(local.map((w) => w.stop()));
      own.disconnect();
      spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
      if (server.exitCode === null) await new Promise((r) => server.once('exit', r));
    }
  });
});
