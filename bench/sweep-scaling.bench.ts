import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { planSweep, type SweepPlan } from '../src/cli/sweep-job.js';
import { TrialPool } from '../src/cli/sweep-pool.js';
import { connectQueue, enqueueSweep, startSweepWorker, waitForSweep, type QueueTarget } from '../src/cli/sweep-queue.js';
import { SweepStore } from '../src/sweep/index.js';
import { runSweepLocally } from '../src/cli/sweep-command.js';
import type { Benchmark, BenchResult } from './bench-result.js';
import { startPrivateRedis } from './private-redis.js';
import { sweepMarket, writeSweep } from './sweep-fixture.js';

/**
 * Sweep throughput with 1 and 2 workers on this machine, on the job function of `tm sweep` / `tm worker`:
 * 80 trials (fast 5..40 × slow 60..350) of experiments/sma-crossover-bybit.json on Bybit BTCUSDT + ETHUSDT 1h bars
 * 2023-01-01..2025-09-01.
 *
 * - local: a `TrialPool` of 1 and of 2 child processes (`tm sweep --workers N`);
 * - queue: a BullMQ flow on a private redis-server (started here on a free port, so its INFO commandstats count this
 *   sweep alone), run by 1 and by 2 BullMQ workers with one trial process each (`tm worker --concurrency 1` ×N),
 *   waited for and collected like `tm sweep --queue` (status polls every 250 ms).
 * Children are warmed up first (child start and store open are not timed). Overhead per job = wall time × workers /
 * jobs − the mean time of the job function itself (measured inside the child). Redis commands and round trips per job
 * = what the workers sent (MONITOR, during a third, untimed queued run with 1 worker; a MULTI ... EXEC batch is one
 * round trip) / jobs; the waiting `tm sweep`'s commands (enqueue, status polls) and those BullMQ's Lua scripts run
 * server-side are reported apart in the details.
 */
const JOBS_FAST = process.env['TM_BENCH_SWEEP_QUICK'] ? [5, 10] : [5, 10, 15, 20, 25, 30, 35, 40];
const JOBS_SLOW = process.env['TM_BENCH_SWEEP_QUICK'] ? [60, 90, 120, 200, 300] : [60, 80, 100, 120, 150, 180, 220, 260, 300, 350];

/**
 * What 2 processes can get out of this machine right now (it is shared): the speedup of a fixed CPU loop (8 units)
 * run by 2 node processes (4 units each) over 1 process (8 units). 2.0 on two idle cores.
 */
async function cpuCeiling(): Promise<number> {
  const loop = (units: number) => `let x=0;for(let u=0;u<${units};u++)for(let i=0;i<3e7;i++)x+=Math.sqrt(i);if(x<0)console.log(x)`;
  const wall = (procs: number, units: number) => {
    const t0 = performance.now();
    const children = Array.from({ length: procs }, () => spawn(process.execPath, ['-e', loop(units)], { stdio: 'ignore' }));
    return Promise.all(children.map((c) => new Promise((r) => c.once('exit', r)))).then(() => performance.now() - t0);
  };
  const one = await wall(1, 8);
  return one / (await wall(2, 4));
}
/** Status poll of the waiting `tm sweep` (250 ms in the CLI; shorter here so the end of a sweep is seen sooner). */
const POLL_MS = 50;

/**
 * Counts the commands Redis receives while `fn` runs, with MONITOR: from clients (each command of a MULTI/EXEC or a
 * pipeline counts once, so this bounds the round trips from above) and run inside BullMQ's Lua scripts (server-side).
 */
async function countCommands<T>(url: string, waiter: string, fn: () => Promise<T>): Promise<{ value: T; client: number; roundTrips: number; lua: number; waiting: number; byCommand: Record<string, number> }> {
  const { Redis } = await import('ioredis');
  const base = new Redis(url);
  const monitor = await base.monitor();
  let client = 0, lua = 0, waiting = 0, roundTrips = 0;
  const inMulti = new Set<string>();
  const byCommand: Record<string, number> = {};
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua') return void lua++;
    if (source === waiter) return void waiting++;
    client++;
    const name = String(args[0]).toLowerCase();
    // ioredis writes MULTI ... EXEC in one go: one round trip
    if (name === 'multi') inMulti.add(source), roundTrips++;
    else if (name === 'exec') inMulti.delete(source);
    else if (!inMulti.has(source)) roundTrips++;
    byCommand[name] = (byCommand[name] ?? 0) + 1;
  });
  try {
    const value = await fn();
    await new Promise((r) => setTimeout(r, 200)); // let the last MONITOR lines arrive
    return { value, client, roundTrips, lua, waiting, byCommand };
  } finally {
    monitor.disconnect();
    base.disconnect();
  }
}

/** Runs `plan` on `workers` pools of one child; returns wall ms, mean job ms, and the job count. */
async function localRun(plan: SweepPlan, warm: SweepPlan, workers: number, db: string, dir: string) {
  const pool = new TrialPool(workers, db);
  const store = await SweepStore.open(join(dir, `local-${workers}.duckdb`));
  try {
    await Promise.all(Array.from({ length: workers }, () => pool.run(warm.jobs[0]!)));
    await runSweepLocally(warm, pool, store);
    const ms: number[] = [];
    const timed = { size: pool.size, run: async (job: Parameters<TrialPool['run']>[0]) => { const r = await pool.run(job); ms.push(r.ms); return r; }, close: () => pool.close() };
    const t0 = performance.now();
    await runSweepLocally(plan, timed, store);
    return { wallMs: performance.now() - t0, jobMs: ms.reduce((a, b) => a + b, 0) / ms.length, jobs: plan.jobs.length };
  } finally {
    store.close();
    await pool.close();
  }
}

async function queueRun(plan: SweepPlan, warm: SweepPlan, workers: number, db: string, url: string, prefix: string, count = false) {
  const target: QueueTarget = { url, queueName: 'tm-sweep', prefix };
  const connection = connectQueue(target);
  const pools = Array.from({ length: workers }, () => new TrialPool(1, db));
  const ms: number[] = [];
  const connections = pools.map(() => connectQueue(target));
  const bullWorkers = pools.map((pool, k) =>
    startSweepWorker(connections[k]!, target, pool, { lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 1, workerName: `bench-${k}`, onJob: (e) => e.kind === 'trial' && ms.push(e.ms) }),
  );
  try {
    await Promise.all(pools.map((p) => p.run(warm.jobs[0]!)));
    await enqueueSweep(connection, target, warm);
    await waitForSweep(connection, target, warm.sweepId, () => {});
    ms.length = 0;
    const sweep = async () => {
      const t0 = performance.now();
      await enqueueSweep(connection, target, plan);
      await waitForSweep(connection, target, plan.sweepId, () => {}, POLL_MS);
      return performance.now() - t0;
    };
    const waiter = `127.0.0.1:${connection.stream.localPort}`; // the waiting `tm sweep`: enqueue + status polls
    const counted = count ? await countCommands(url, waiter, sweep) : { value: await sweep(), client: 0, roundTrips: 0, lua: 0, waiting: 0, byCommand: {} };
    return { wallMs: counted.value, jobMs: ms.reduce((a, b) => a + b, 0) / ms.length, jobs: plan.jobs.length, commands: { client: counted.client, roundTrips: counted.roundTrips, lua: counted.lua, waiting: counted.waiting, byCommand: counted.byCommand } };
  } finally {
    for (const w of bullWorkers) await w.close();
    for (const p of pools) await p.close();
    for (const c of connections) c.disconnect();
    connection.disconnect();
  }
}

const bench: Benchmark = {
  name: 'sweep-scaling',
  async run() {
    const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    const dir = mkdtempSync(join(tmpdir(), 'tm-bench-sweep-'));
    const db = await sweepMarket(root, dir);
    const redis = await startPrivateRedis(dir);
    const url = redis.url;
    try {
      const plan = await planSweep(writeSweep(dir, 'scaling', JOBS_FAST, JOBS_SLOW));
      const warm = await planSweep(writeSweep(dir, 'warm', [3, 4], [7]));
      const log = (what: string, r: { wallMs: number }) => console.error(`sweep-scaling: ${what}: ${plan.jobs.length} jobs in ${(r.wallMs / 1000).toFixed(2)} s`);
      const ceilingBefore = await cpuCeiling();
      const local1 = await localRun(plan, warm, 1, db, dir);
      log('local pool, 1 worker', local1);
      const local2 = await localRun(plan, warm, 2, db, dir);
      log('local pool, 2 workers', local2);
      const queue1 = await queueRun(plan, warm, 1, db, url, 'q1');
      log('BullMQ, 1 worker', queue1);
      const queue2 = await queueRun(plan, warm, 2, db, url, 'q2');
      log('BullMQ, 2 workers', queue2);
      const ceilingAfter = await cpuCeiling();
      console.error(`sweep-scaling: CPU-loop speedup of 2 processes over 1 on this machine now: ${ceilingBefore.toFixed(2)} before, ${ceilingAfter.toFixed(2)} after`);
      const counted = await queueRun(plan, warm, 1, db, url, 'q3', true);
      log('BullMQ, 1 worker, under MONITOR (not timed)', counted);
      const rate = (r: { wallMs: number; jobs: number }) => r.jobs / (r.wallMs / 1000);
      const overhead = (r: { wallMs: number; jobs: number; jobMs: number }, workers: number) => (r.wallMs * workers) / r.jobs - r.jobMs;
      const round = (x: number, d = 2) => Number(x.toFixed(d));
      const details = {
        jobs: plan.jobs.length,
        data: 'bybit BTCUSDT+ETHUSDT 1h 2023-01-01..2025-09-01',
        local: { jobsPerSecond1: round(rate(local1)), jobsPerSecond2: round(rate(local2)), meanJobMs1: round(local1.jobMs, 1), meanJobMs2: round(local2.jobMs, 1), overheadMs1: round(overhead(local1, 1), 1), overheadMs2: round(overhead(local2, 2), 1) },
        queue: { jobsPerSecond1: round(rate(queue1)), jobsPerSecond2: round(rate(queue2)), meanJobMs1: round(queue1.jobMs, 1), meanJobMs2: round(queue2.jobMs, 1), overheadMs1: round(overhead(queue1, 1), 1), overheadMs2: round(overhead(queue2, 2), 1) },
        redisCommands: { fromWorkersPerJob: round(counted.commands.client / counted.jobs, 1), workerRoundTripsPerJob: round(counted.commands.roundTrips / counted.jobs, 1), fromWaitingSweepTotal: counted.commands.waiting, inLuaScriptsPerJob: round(counted.commands.lua / counted.jobs, 1), fromClientsByCommand: counted.commands.byCommand },
        statusPollMs: POLL_MS,
        queuedSeconds1Counted: round(counted.wallMs / 1000),
        cores: (await import('node:os')).cpus().length,
        loadAverage: (await import('node:os')).loadavg().map((x) => round(x)),
        cpuLoopSpeedup2: { before: round(ceilingBefore), after: round(ceilingAfter) },
      };
      const results: Omit<BenchResult, 'command' | 'date'>[] = [
        { name: 'sweep-scaling.local-speedup-2-workers', value: round(rate(local2) / rate(local1)), unit: 'x', target: 1.7, better: 'higher', details },
        { name: 'sweep-scaling.queue-speedup-2-workers', value: round(rate(queue2) / rate(queue1)), unit: 'x', target: 1.7, better: 'higher', details },
        { name: 'sweep-scaling.queue-speedup-share-of-machine', value: round(rate(queue2) / rate(queue1) / ((ceilingBefore + ceilingAfter) / 2)), unit: 'of the CPU-loop speedup', target: 0.85, better: 'higher' },
        { name: 'sweep-scaling.queue-jobs-per-second-1-worker', value: round(rate(queue1)), unit: 'jobs/s', target: 2, better: 'higher' },
        { name: 'sweep-scaling.queue-jobs-per-second-2-workers', value: round(rate(queue2)), unit: 'jobs/s', target: 3.4, better: 'higher' },
        { name: 'sweep-scaling.queue-overhead-per-job', value: round(overhead(queue1, 1), 1), unit: 'ms', target: 20, better: 'lower' },
        { name: 'sweep-scaling.redis-round-trips-per-job', value: round(counted.commands.roundTrips / counted.jobs, 1), unit: 'round trips', target: 5, better: 'lower' },
        { name: 'sweep-scaling.redis-commands-per-job', value: round(counted.commands.client / counted.jobs, 1), unit: 'commands', target: 15, better: 'lower' },
      ];
      return results;
    } finally {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
