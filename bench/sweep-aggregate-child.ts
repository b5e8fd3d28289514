/**
 * Aggregates one queued sweep in this process and prints one JSON line with the time and the process's peak memory:
 * `node dist-bench/bench/sweep-aggregate-child.js <baseline|held|streamed> <redis-url> <prefix> <sweep-id> <trials> <blocks>`.
 * `held` reads every row into memory first (`queuedSweepRows` + `aggregateSweep`), `streamed` is what the parent job
 * and the collector do (`aggregateQueuedSweep`), `baseline` only connects (the process's own footprint).
 * bench/sweep-aggregate.bench.ts runs it, one fresh process per figure, so each peak is its own.
 */
import { createHash } from 'node:crypto';
import { aggregateQueuedSweep, connectQueue, queuedSweepRows, sweepKeys, type QueueTarget } from '../src/cli/sweep-queue.js';
import { aggregateSweep, type SweepAggregate } from '../src/sweep/index.js';

const [mode, url, prefix, sweepId, trialsText, blocksText] = process.argv.slice(2);
if (!['baseline', 'held', 'streamed'].includes(mode ?? '') || !url || !prefix || !sweepId) {
  console.error('usage: sweep-aggregate-child <baseline|held|streamed> <redis-url> <prefix> <sweep-id> <trials> <blocks>');
  process.exit(2);
}
const target: QueueTarget = { url, queueName: 'tm-sweep', prefix };
const config = { name: sweepId, objective: 'sharpe' as const, pbo: { blocks: Number(blocksText) } };
const trials = Number(trialsText);
const connection = connectQueue(target);
try {
  const t0 = performance.now();
  let aggregate: SweepAggregate | null = null;
  if (mode === 'held') aggregate = aggregateSweep(config, trials, await queuedSweepRows(connection, target, sweepId));
  else if (mode === 'streamed') aggregate = await aggregateQueuedSweep(connection, target, sweepId, config, trials, () => undefined);
  else await connection.hlen(sweepKeys(target, sweepId).results);
  const ms = performance.now() - t0;
  const digest = aggregate === null ? null : createHash('sha256').update(JSON.stringify(aggregate)).digest('hex');
  console.log(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, digest, pbo: aggregate?.pbo ?? null, done: aggregate?.done ?? null }));
} finally {
  connection.disconnect();
}
