/**
 * `tm live stop` and `tm live kill` on a run that is not running: the request is saved in control.json for its next
 * start (exit 1, saying so), and `tm live status` shows it as PENDING. A second request merges with one not done yet,
 * never drops it: a stop after a kill keeps the kill's halt (before, it overwrote the file, and the next start only
 * canceled).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LiveStatus } from '../../src/live/live-runner.js';
import { runTm } from '../support/cli.js';
import { tempDir } from '../support/shared-data.js';

/** The status.json of a stopped run (its process gone). */
const STOPPED: LiveStatus = {
  runId: 'ctl', mode: 'paper', pid: 0, strategy: 'sma-crossover', lastBarTs: Date.UTC(2024, 0, 1), liveBars: 3, equity: 100_000,
  positions: [{ instrument: 'BTCUSDT-LINEAR.BYBIT', quantity: 0.5, entryPrice: 42_000, mark: 42_100 }], openOrders: [], tiers: [],
  tradingState: 'ACTIVE', venueBreaker: 'closed', halted: [], lostOrders: [], running: false, updatedAt: Date.UTC(2024, 0, 1, 4),
};

describe('tm live stop | kill on a run that is not running', () => {
  const dir = join(tempDir('tm-live-control-'), 'run');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'status.json'), JSON.stringify(STOPPED));
  const control = () => JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')) as { command: string; reason: string; actions: Record<string, boolean>; at: number };

  it('saves the request for the next start; a stop after a kill keeps the kill', async () => {
    const kill = await runTm(['live', 'kill', '--dir', dir]);
    expect(kill.code).toBe(1);
    expect(kill.err).toContain('run ctl is not running: the kill request is saved in control.json and applied when it starts');
    expect(control()).toMatchObject({ command: 'kill', reason: 'kill switch (tm live kill)', actions: { cancel: true, flatten: true, halt: true } });
    const shown = await runTm(['live', 'status', '--dir', dir]);
    expect(shown.out).toMatch(/PENDING kill switch \(tm live kill\) \(cancel, flatten, halt\), asked \S+: applied when the run starts again/);

    // --now needs the run's journal (its experiment, mode and instruments): none here, the request stays saved.
    const now = await runTm(['live', 'kill', '--dir', dir, '--now']);
    expect(now.code).not.toBe(0);
    expect(now.err).toContain(`trading journal ${join(dir, 'journal.jsonl')} does not exist`);
    expect(control()).toMatchObject({ command: 'kill', actions: { halt: true } });

    const stop = await runTm(['live', 'stop', '--dir', dir]);
    expect(stop.code).toBe(1);
    expect(control()).toMatchObject({ command: 'kill', reason: 'kill switch (tm live kill)', actions: { cancel: true, flatten: true, halt: true } });
  });

  it('a status.json left saying running, its pid now another process’s: stopped, and that process is not signalled', async () => {
    // A life killed with -9 leaves status.json running; the system gives its pid to another process later. Before, tm
    // live status said running and tm live kill sent that process SIGTERM (and waited for it).
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => other.on('exit', () => resolve()));
    try {
      const dead = join(tempDir('tm-live-control3-'), 'run');
      mkdirSync(dead, { recursive: true });
      writeFileSync(join(dead, 'status.json'), JSON.stringify({ ...STOPPED, running: true, pid: other.pid }));
      const shown = await runTm(['live', 'status', '--dir', dead]);
      expect(shown.out).toMatch(/^run ctl \(paper, sma-crossover\): stopped;/);
      expect(JSON.parse((await runTm(['live', 'status', '--dir', dead, '--json'])).out)).toMatchObject({ running: false });
      const kill = await runTm(['live', 'kill', '--dir', dead, '--wait-ms', '2000']);
      expect(kill.err).toContain('run ctl is not running: the kill request is saved in control.json and applied when it starts');
      expect(kill.code).toBe(1);
      expect((await runTm(['live', 'rollback', '--dir', dead])).err).toContain('run ctl is not running: nothing to roll back');
      expect(other.exitCode).toBe(null);
      expect(other.signalCode).toBe(null);
    } finally {
      other.kill('SIGKILL');
      await exited;
    }
  });

  it('merges a stop and a stop --flatten into one that flattens', async () => {
    const other = join(tempDir('tm-live-control2-'), 'run');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'status.json'), JSON.stringify(STOPPED));
    expect(existsSync(join(other, 'control.json'))).toBe(false);
    expect((await runTm(['live', 'stop', '--flatten', '--dir', other])).code).toBe(1);
    expect((await runTm(['live', 'stop', '--dir', other])).code).toBe(1);
    const saved = JSON.parse(readFileSync(join(other, 'control.json'), 'utf8')) as { command: string; actions: Record<string, boolean> };
    expect(saved).toMatchObject({ command: 'stop', actions: { cancel: true, flatten: true, halt: false } });
    const json = JSON.parse((await runTm(['live', 'status', '--dir', other, '--json'])).out) as { pendingStop?: { actions: Record<string, boolean> } };
    expect(json.pendingStop?.actions).toMatchObject({ cancel: true, flatten: true });
  });
});
