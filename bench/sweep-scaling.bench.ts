import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importPath, MarketStore } from '../src/data/index.js';
import { planSweep, type SweepPlan } from '../src/cli/sweep-job.js';
import { TrialPool } from '../src/cli/sweep-pool.js';
import { connectQueue, enqueueSweep, startSweepWorker, waitForSweep, type QueueTarget } from '../src/cli/sweep-queue.js';
import { SweepStore } from '../src/sweep/index.js';
import { runSweepLocally } from '../src/cli/sweep-command.js';
import type { Benchmark, BenchResult } from './bench-result.js';

/**
 * Sweep throughput with 1 and 2 workers on this machine, on the job function of `tm sweep` / `tm worker`:
 * 40 SMA-crossover trials (fast 5..40 × slow 60..300) on Bybit BTCUSDT + ETHUSDT 1h bars 2023-01-01..2025-09-01.
 *
 * - local: a `TrialPool` of 1 and of 2 child processes (`tm sweep --workers N`);
 * - queue: a BullMQ flow on a private redis-server (started here on a free port, so its INFO commandstats count this
 *   sweep alone), run by 1 and by 2 BullMQ workers with one trial process each (`tm worker --concurrency 1` ×N),
 *   waited for and collected like `tm sweep --queue` (status polls every 250 ms).
 * Children are warmed up first (child start and store open are not timed). Overhead per job = wall time × workers /
 * jobs − the mean time of the job function itself (measured inside the child). Redis commands per job = commands the
 * server executed during the timed queued sweep with 1 worker (MULTI/EXEC batches count each command) / jobs.
 */
const JOBS_FAST = (process.env['TM_BENCH_SWEEP_QUICK'] ? [5, 10] : [5, 10, 15, 20, 25, 30, 35, 40]);
const JOBS_SLOW = [60, 90, 120, 200, 300];

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

function writeSweep(dir: string, name: string, fast: number[], slow: number[]): string {
  writeFileSync(join(dir, `${name}-base.json`), JSON.stringify({
    name: `${name}-base`,
    strategy: 'sma-crossover',
    params: { fast: 20, slow: 100, allocation: 0.45, allowShort: true },
    data: { venue: 'bybit', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '1h', start: '2023-01-01', end: '2025-09-01', missingBars: 'error' },
    instruments: 'bybit-linear',
    funding: { venue: 'binance-futures', fallback: { kind: 'constant', rate: 0.0001 } },
    initialCash: 10000,
    leverage: 2,
    slippage: { model: 'fixed', bps: 2 },
    seed: 1,
  }));
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ name, base: `${name}-base.json`, search: { kind: 'grid', params: { 'params.fast': fast, 'params.slow': slow } }, retry: { attempts: 1, backoffMs: 0 } }));
  return join(dir, `${name}.json`);
}

async function commandCalls(url: string): Promise<{ total: number; byCommand: Record<string, number> }> {
  const c = connectQueue({ url, queueName: 'x', prefix: 'x' });
  const text = await c.info('commandstats');
  c.disconnect();
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    byCommand[m[1]!] = Number(m[2]);
    if (m[1] !== 'info') total += Number(m[2]);
  }
  return { total, byCommand };
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

async function queueRun(plan: SweepPlan, warm: SweepPlan, workers: number, db: string, url: string, prefix: string) {
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
    const before = await commandCalls(url);
    const t0 = performance.now();
    await enqueueSweep(connection, target, plan);
    await waitForSweep(connection, target, plan.sweepId, () => {});
    const wallMs = performance.now() - t0;
    const after = await commandCalls(url);
    const byCommand = Object.fromEntries(Object.entries(after.byCommand).map(([k, v]) => [k, v - (before.byCommand[k] ?? 0)]).filter(([k, v]) => k !== 'info' && (v as number) > 0));
    return { wallMs, jobMs: ms.reduce((a, b) => a + b, 0) / ms.length, jobs: plan.jobs.length, commands: after.total - before.total, byCommand };
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
    const db = join(dir, 'market.duckdb');
    const store = await MarketStore.open(db);
    for (const s of ['BTCUSDT', 'ETHUSDT']) await importPath(store, join(root, 'bybit', `${s}-1h.csv.gz`));
    store.close();
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const redis: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    try {
      for (let i = 0; spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG'; i++) {
        if (i > 100) throw new Error(`bench: redis-server did not start on port ${port}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const plan = await planSweep(writeSweep(dir, 'scaling', JOBS_FAST, JOBS_SLOW));
      const warm = await planSweep(writeSweep(dir, 'warm', [3, 4], [7]));
      const log = (what: string, r: { wallMs: number }) => console.error(`sweep-scaling: ${what}: ${plan.jobs.length} jobs in ${(r.wallMs / 1000).toFixed(2)} s`);
      const local1 = await localRun(plan, warm, 1, db, dir);
      log('local pool, 1 worker', local1);
      const local2 = await localRun(plan, warm, 2, db, dir);
      log('local pool, 2 workers', local2);
      const queue1 = await queueRun(plan, warm, 1, db, url, 'q1');
      log('BullMQ, 1 worker', queue1);
      const queue2 = await queueRun(plan, warm, 2, db, url, 'q2');
      log('BullMQ, 2 workers', queue2);
      const rate = (r: { wallMs: number; jobs: number }) => r.jobs / (r.wallMs / 1000);
      const overhead = (r: { wallMs: number; jobs: number; jobMs: number }, workers: number) => (r.wallMs * workers) / r.jobs - r.jobMs;
      const round = (x: number, d = 2) => Number(x.toFixed(d));
      const details = {
        jobs: plan.jobs.length,
        data: 'bybit BTCUSDT+ETHUSDT 1h 2023-01-01..2025-09-01',
        local: { jobsPerSecond1: round(rate(local1)), jobsPerSecond2: round(rate(local2)), meanJobMs1: round(local1.jobMs, 1), meanJobMs2: round(local2.jobMs, 1), overheadMs1: round(overhead(local1, 1), 1), overheadMs2: round(overhead(local2, 2), 1) },
        queue: { jobsPerSecond1: round(rate(queue1)), jobsPerSecond2: round(rate(queue2)), meanJobMs1: round(queue1.jobMs, 1), meanJobMs2: round(queue2.jobMs, 1), overheadMs1: round(overhead(queue1, 1), 1), overheadMs2: round(overhead(queue2, 2), 1) },
        redisCommands1: { total: queue1.commands, byCommand: queue1.byCommand },
        redisCommands2: { total: queue2.commands, byCommand: queue2.byCommand },
        cores: (await import('node:os')).cpus().length,
      };
      const results: Omit<BenchResult, 'command' | 'date'>[] = [
        { name: 'sweep-scaling.local-speedup-2-workers', value: round(rate(local2) / rate(local1)), unit: 'x', target: 1.7, better: 'higher', details },
        { name: 'sweep-scaling.queue-speedup-2-workers', value: round(rate(queue2) / rate(queue1)), unit: 'x', target: 1.7, better: 'higher', details },
        { name: 'sweep-scaling.queue-jobs-per-second-1-worker', value: round(rate(queue1)), unit: 'jobs/s', target: 2, better: 'higher' },
        { name: 'sweep-scaling.queue-jobs-per-second-2-workers', value: round(rate(queue2)), unit: 'jobs/s', target: 3.4, better: 'higher' },
        { name: 'sweep-scaling.queue-overhead-per-job', value: round(overhead(queue1, 1), 1), unit: 'ms', target: 20, better: 'lower' },
        { name: 'sweep-scaling.redis-commands-per-job', value: round(queue1.commands / queue1.jobs, 1), unit: 'commands', target: 40, better: 'lower' },
      ];
      return results;
    } finally {
      spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
      if (redis.exitCode === null) await new Promise((r) => redis.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
