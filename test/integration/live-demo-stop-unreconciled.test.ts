/**
 * `tm live kill` while a demo run's start cannot reconcile with the venue (every private request fails): the kill
 * reaches the starting process (status.json names it from its start on), which sends nothing unreconciled, saves the
 * request again in control.json and says so; `tm live kill` exits 1 naming it. The next start, with the venue back,
 * applies it before any bar: flat at the venue, HALTED. Before, the kill found the run "not running" (status.json was
 * written only once reconciled), saved the request for a next start, and the stuck process traded on once the venue
 * answered again.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeframeMs } from '../../src/core/time.js';
import { readJournal } from '../../src/live/journal.js';
import { runTm } from '../support/cli.js';
import { FrameVenue, readLiveStatus, sharedFrame, spawnDemoLive } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const frame = sharedFrame('2023-06-01T00:00:00Z', 260);
const tf = timeframeMs('4h');
const startTs = frame.ts[200]!;

describe('tm live --demo: a kill switch while the start cannot reconcile', () => {
  const dir = tempDir('tm-live-unreconciled-');
  const runDir = join(dir, 'run');
  const experiment = join(dir, 'unreconciled.json');
  let fv: FrameVenue;
  beforeAll(async () => {
    fv = await FrameVenue.start(frame, startTs, { slippageBps: 2, initialPrice: 1, recvWindowCheck: false, marketOrders: 'arrival' });
    writeFileSync(experiment, JSON.stringify({ name: 'unreconciled', strategy: 'sma-crossover', params: { fast: 3, slow: 12, allocation: 0.4, allowShort: true }, data: { venue: 'bybit', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2023-06-01', end: '2024-06-01' }, instruments: 'bybit-linear', funding: { venue: 'bybit', fallback: { kind: 'zero' } }, initialCash: 100000, leverage: 10, slippage: { model: 'fixed', bps: 2 }, seed: 1 }));
  });
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); // a failed test's stuck life
    await fv.close();
  });

  const start = (extra: readonly string[] = []) => {
    const life = spawnDemoLive({ experiment, runId: 'unrec', dir: runDir, apiUrl: fv.venue.url }, extra);
    children.push(life.child);
    return life;
  };
  const status = () => readLiveStatus(runDir);
  const until = async (what: string, done: () => boolean, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('is saved again by the run that could not apply it, and applied by the next start: flat, HALTED', async () => {
    // Life 1 trades 15 bars (the venue clock a bar ahead of the run at most) and ends with a position.
    const first = start(['--max-bars', '15']);
    let ended = false;
    void first.exited.then(() => (ended = true));
    while (!ended) {
      await new Promise((r) => setTimeout(r, 60));
      if (fv.now - (status()?.lastBarTs ?? startTs - tf) <= tf) fv.advance();
    }
    expect(await first.exited, first.out()).toBe(0);
    const positions = frame.symbols.map((s) => fv.venue.position(s));
    expect(positions.some((q) => q !== 0)).toBe(true);
    const orders = fv.venue.orders().length;

    // Life 2: every private request fails, so its start retries the reconciliation; the kill switch reaches it.
    fv.venue.injectFault('server_error', { count: 1_000_000 });
    const second = start();
    await until('a failed reconciliation', () => second.out().includes('reconcile attempt 1 failed'));
    expect(status()).toMatchObject({ pid: second.child.pid, running: true });
    const kill = await runTm(['live', 'kill', '--dir', runDir, '--wait-ms', '30000']);
    expect(kill.err).toMatch(/run unrec stopped without the kill's actions \(it ended before it was reconciled with the venue\): the request is saved in control\.json and applied when it starts/);
    expect(kill.code).toBe(1);
    expect(await second.exited, second.out()).toBe(0);
    expect(second.out()).toContain('ALERT stop "kill switch (tm live kill)": its cancels, flatten or halt not applied (the venue could not be reconciled)');
    expect(second.out()).toContain("ALERT the stop's actions (cancel, flatten, halt) were not applied: the run ended before it was reconciled with the venue; saved in control.json");
    expect(second.out()).toMatch(/stopped \(stopped before reconciliation: kill switch \(tm live kill\)\)/);
    expect(JSON.parse(readFileSync(join(runDir, 'control.json'), 'utf8'))).toMatchObject({ command: 'kill', actions: { cancel: true, flatten: true, halt: true } });
    expect(frame.symbols.map((s) => fv.venue.position(s))).toEqual(positions); // nothing sent unreconciled
    expect(fv.venue.orders()).toHaveLength(orders);

    // Life 3, the venue back: the saved kill applies once reconciled, before any bar.
    fv.venue.clearInjectedFaults();
    const third = start();
    expect(await third.exited, third.out()).toBe(0);
    expect(third.out()).toContain('applying the saved request: kill switch (tm live kill)');
    expect(existsSync(join(runDir, 'control.json'))).toBe(false);
    expect(frame.symbols.map((s) => fv.venue.position(s))).toEqual([0, 0]);
    expect(status()).toMatchObject({ running: false, tradingState: 'HALTED', liveBars: 0 });
    const { records } = readJournal(join(runDir, 'journal.jsonl'));
    expect(records.filter((r) => r.k === 'event' && r.e === 'shutdown').map((r) => (r as { id: string }).id)).toEqual(['halt']);
  }, 120_000);
});
