import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { sweepKeys, type QueueTarget } from '../src/cli/sweep-queue.js';
import { encodeReturns, type TrialResult } from '../src/sweep/index.js';
import type { Benchmark, BenchResult } from './bench-result.js';
import { startPrivateRedis } from './private-redis.js';

/**
 * Peak memory and time of aggregating a large queued sweep (what the parent job and `tm sweep --queue` do once the
 * trials are in): synthetic trials of 23,000 per-bar returns each (a 1-hour backtest of 2.6 years; ~250 KB of result
 * per trial, kept in the results hash, the default), PBO over 16 blocks, in a private redis-server, at 1,000 and 3,000
 * trials. Each figure is one fresh process (bench/sweep-aggregate-child.ts, V8's old space capped at 128 MB so that
 * its peak follows what it holds, not how lazily the collector runs) whose peak resident memory (maxRSS) is read at
 * its end:
 * - `held`: every row read into memory, then aggregated (`queuedSweepRows` + `aggregateSweep`);
 * - `streamed`: `aggregateQueuedSweep`, a HSCAN page of results at a time, returns spilled to a temporary file;
 * - `baseline`: the same process that only connects.
 * The figure is the streamed peak's growth per trial between the two sizes; target ≤ 16 KiB a trial (a held row's
 * returns alone are 180 KiB).
 */
const BARS = 23_000;
const BLOCKS = 16;
const SIZES = [1000, 3000] as const;
const CHILD_FLAGS = ['--max-old-space-size=128'];

/** A seeded linear congruential generator in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Writes `trials` synthetic results of {@link BARS} returns into the results hash of sweep `id`, 50 per HSET. */
async function writeSweep(redis: Redis, target: QueueTarget, id: string, trials: number): Promise<void> {
  const rnd = lcg(trials);
  const key = sweepKeys(target, id).results;
  for (let j0 = 0; j0 < trials; j0 += 50) {
    const fields: Record<string, string> = {};
    for (let j = j0; j < Math.min(trials, j0 + 50); j++) {
      const drift = (rnd() - 0.5) * 2e-4;
      const returns = Float64Array.from({ length: BARS }, () => (rnd() - 0.5) / 100 + drift);
      const configHash = `t${String(j).padStart(6, '0')}`;
      const result: TrialResult = { configHash, point: { j }, metrics: { sharpe: drift * 1e4, sortino: null, totalReturn: 0, cagr: null, calmar: null, maxDrawdown: 0, annualVolatility: null, tradeCount: 1, finalEquity: 1, bars: BARS + 1 }, returns: encodeReturns(returns), startMs: 0 };
      fields[configHash] = JSON.stringify({ result, attempts: 1 });
    }
    await redis.hset(key, fields);
  }
}

interface ChildFigure {
  readonly ms: number;
  readonly maxRssMiB: number;
  readonly digest: string | null;
  readonly pbo: unknown;
  readonly done: number | null;
}

function inChild(mode: 'baseline' | 'held' | 'streamed', url: string, prefix: string, id: string, trials: number): ChildFigure {
  const child = fileURLToPath(new URL(`./sweep-aggregate-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
  const out = execFileSync(process.execPath, [...process.execArgv, ...CHILD_FLAGS, child, mode, url, prefix, id, String(trials), String(BLOCKS)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildFigure;
}

const round = (x: number, d = 1): number => Number(x.toFixed(d));

const bench: Benchmark = {
  name: 'sweep-aggregate',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'tm-bench-sweep-aggregate-'));
    const server = await startPrivateRedis(dir);
    const redis = new Redis(server.url);
    const target: QueueTarget = { url: server.url, queueName: 'tm-sweep', prefix: 'bench' };
    try {
      const sizes: Record<string, unknown>[] = [];
      for (const trials of SIZES) {
        const id = `agg-${trials}`;
        await writeSweep(redis, target, id, trials);
        const baseline = inChild('baseline', server.url, target.prefix, id, trials);
        const held = inChild('held', server.url, target.prefix, id, trials);
        const streamed = inChild('streamed', server.url, target.prefix, id, trials);
        if (held.digest !== streamed.digest || streamed.done !== trials) throw new Error(`sweep-aggregate: ${trials} trials: the streamed aggregate differs from the held one (${streamed.digest} vs ${held.digest}, ${streamed.done} done)`);
        const figure = {
          trials,
          redisMiB: round(Number(await redis.memory('USAGE', sweepKeys(target, id).results, 'SAMPLES', 0)) / 2 ** 20),
          baselineMiB: round(baseline.maxRssMiB),
          heldPeakMiB: round(held.maxRssMiB - baseline.maxRssMiB),
          streamedPeakMiB: round(streamed.maxRssMiB - baseline.maxRssMiB),
          heldMsPerTrial: round(held.ms / trials, 2),
          streamedMsPerTrial: round(streamed.ms / trials, 2),
          pbo: streamed.pbo,
        };
        console.error(`sweep-aggregate: ${trials} trials: peak above baseline held ${figure.heldPeakMiB} MiB, streamed ${figure.streamedPeakMiB} MiB; ${figure.heldMsPerTrial} / ${figure.streamedMsPerTrial} ms per trial`);
        sizes.push(figure);
        await redis.del(sweepKeys(target, id).results);
      }
      const [small, large] = sizes as { trials: number; heldPeakMiB: number; streamedPeakMiB: number }[];
      const perTrial = (key: 'heldPeakMiB' | 'streamedPeakMiB'): number => round(((large![key] - small![key]) * 1024) / (large!.trials - small!.trials), 2);
      const details = {
        bars: BARS,
        blocks: BLOCKS,
        childFlags: CHILD_FLAGS,
        heldKiBPerTrial: perTrial('heldPeakMiB'),
        what: 'peak resident memory (maxRSS) of a fresh process aggregating the sweep, minus that of the same process only connecting, and its growth per trial from the smaller to the larger sweep; the same aggregate (SHA-256 of its JSON) both ways',
        sizes,
      };
      const results: Omit<BenchResult, 'command' | 'date'>[] = [{ name: 'sweep-aggregate.streamed-kib-per-trial', value: perTrial('streamedPeakMiB'), unit: 'KiB', target: 16, better: 'lower', details }];
      return results;
    } finally {
      redis.disconnect();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
