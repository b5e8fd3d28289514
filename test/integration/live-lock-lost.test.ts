/**
 * A life whose run-folder lock file is taken from it (the lock file's one race, or a start after somebody removed the
 * file by hand, on a system without the Linux socket lock) ends before its next bar, sending and saving nothing more.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FixedBpsSlippage } from '../../src/backtest/execution-models.js';
import { BYBIT_LINEAR_PERPETUALS } from '../../src/core/instrument.js';
import { timeframeMs } from '../../src/core/time.js';
import type { LiveBarFeed } from '../../src/live/bar-feed.js';
import { LiveRunner } from '../../src/live/live-runner.js';
import { acquireRunLock, RunLockError } from '../../src/live/run-lock.js';
import { smaCrossover } from '../../src/strategies/sma-crossover.js';
import { liveMarket, sharedFrame } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const WARMUP = 29;
const frame = sharedFrame('2024-01-01T00:00:00Z', WARMUP + 20);
const instruments = frame.symbols.map((s) => BYBIT_LINEAR_PERPETUALS[s]!);
const startTs = frame.ts[WARMUP]!;
const tf = timeframeMs('4h');

describe('LiveRunner with a lock file', () => {
  it('ends at once, sending and saving nothing more, when another process takes its run folder', async () => {
    const dir = tempDir('tm-live-lock-lost-');
    const market = await liveMarket(frame, startTs);
    onTestFinished(() => market.close());
    const lockPath = join(dir, 'run.lock');
    const journalPath = join(dir, 'journal.jsonl');
    const takeAt = startTs + 3 * tf; // the fourth live bar
    let taken: { journal: string; state: string } | undefined;
    const feed = {
      next: async (cursor: number) => {
        const set = await market.feed.next(cursor);
        if (set !== undefined && set.ts >= takeAt && taken === undefined) {
          expect(readFileSync(lockPath, 'utf8')).toBe(`${process.pid}\n`); // held until now
          // Another life's start takes the folder (the parent process: alive, not this one).
          writeFileSync(lockPath, `${process.ppid}\n`);
          taken = { journal: readFileSync(journalPath, 'utf8'), state: readFileSync(join(dir, 'state.json'), 'utf8') };
        }
        return set;
      },
    } as unknown as LiveBarFeed;
    const log: string[] = [];
    const runner = new LiveRunner(
      { runId: 'lost1', mode: 'paper', instruments, timeframe: '4h', initialCash: 100_000, leverage: 10, dir, startTs, maxBars: 20, paper: { slippage: new FixedBpsSlippage(2) } },
      { feed, pacer: market.time, strategy: smaCrossover({ fast: 10, slow: 30, allocation: 0.4, allowShort: true }), log: (l) => log.push(l), lock: (d) => acquireRunLock(d, { platform: 'darwin' }) },
    );
    const e = await runner.run().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(RunLockError);
    expect((e as RunLockError).code).toBe('run_lock_lost');
    expect((e as RunLockError).context).toMatchObject({ pid: process.ppid });
    expect(log.some((l) => l.startsWith('ALERT run folder') && l.includes(`names process ${process.ppid}, not this one (${process.pid})`))).toBe(true);
    // Three live bars, then nothing: no bar, order or state written after the lock was taken; the lock file is the other's.
    expect(taken).toBeDefined();
    expect(readFileSync(journalPath, 'utf8')).toBe(taken!.journal);
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe(taken!.state);
    const live = taken!.journal.split('\n').filter((l) => l.startsWith('{"k":"bar"') && !l.includes('"warmup"'));
    expect(new Set(live.map((l) => (JSON.parse(l) as { ts: number }).ts)).size).toBe(3);
    expect(readFileSync(lockPath, 'utf8')).toBe(`${process.ppid}\n`);
    expect(statSync(lockPath).isFile()).toBe(true);
  }, 60_000);
});
