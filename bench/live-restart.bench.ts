import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './ensure-built.js';
import { timeframeMs } from '../src/core/time.js';
import { BybitV5Venue, TEST_API_KEY, TEST_API_SECRET } from '../test/support/bybit-v5-venue.js';
import { serverKlines, sharedFrame } from '../test/support/live-harness.js';
import { median, percentile, type Benchmark } from './bench-result.js';
import { repoRoot } from '../src/core/repo-root.js';

/**
 * Restart of a live run as an operator (or a supervisor after a crash) does it: `node bin/tm.js live --demo|--paper ...` on a
 * run folder holding state from an earlier life, against the local v5 server (real ccxt over HTTP), timed from process
 * spawn to the runner's `ready` line — state loaded, the strategy's warm-up bars fetched and replayed, reconciled,
 * state persisted — then stopped with SIGTERM. 1 warm-up restart, then the median of 9. Target ≤ 2 s (issue 12).
 * `details.phases` splits the median by the runner's log lines (process start → first line → warm-up done → ready).
 */
const RUNS = 9;
const root = repoRoot(fileURLToPath(import.meta.url));

/** Ms from spawn to the runner's log lines: `started` (state loaded: node, CLI, config), `warmedUp` (bars fetched and replayed), `ready`. */
interface Phases {
  started: number;
  warmedUp: number;
  ready: number;
}

function untilReady(args: readonly string[]): Promise<Phases> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['bin/tm.js', 'live', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BYBIT_API_KEY: TEST_API_KEY, BYBIT_API_SECRET: TEST_API_SECRET } });
  let out = '', err = '';
  const at = { started: NaN, warmedUp: NaN, ready: NaN };
  const seen = (prefix: string) => out.startsWith(prefix) || out.includes(`\n${prefix}`);
  return new Promise((resolvePromise, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const t = performance.now() - t0;
      if (Number.isNaN(at.started) && (seen('start ') || seen('restart '))) at.started = t;
      if (Number.isNaN(at.warmedUp) && seen('warm-up done')) at.warmedUp = t;
      if (Number.isNaN(at.ready) && seen('ready: ')) {
        at.ready = t;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (Number.isNaN(at.ready) || code !== 0 ? reject(new Error(`tm live exited ${code} before ready: ${out}${err}`)) : resolvePromise(at)));
  });
}

const bench: Benchmark = {
  name: 'live-restart',
  async run() {
    await ensureBuilt(root);
    const frame = sharedFrame('2024-01-01T00:00:00Z', 400);
    const tf = timeframeMs('4h');
    let venueNow = frame.ts[200]!;
    const klines = serverKlines(frame);
    // The local Bybit v5 venue (market data + signed private routes): demo runs reconcile against its books.
    const venue = await BybitV5Venue.start({ server: { klines }, now: () => venueNow, recvWindowCheck: false, initialPrice: frame.open[0]![200]! });
    const dir = mkdtempSync(join(tmpdir(), 'tm-bench-live-'));
    const experiment = join(dir, 'live-restart.json');
    writeFileSync(experiment, JSON.stringify({ name: 'live-restart', strategy: 'sma-crossover', params: { fast: 20, slow: 100, allocation: 0.4, allowShort: true }, data: { venue: 'bybit', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2024-01-01', end: '2025-01-01' }, instruments: 'bybit-linear', funding: { venue: 'bybit', fallback: { kind: 'zero' } }, initialCash: 100000, leverage: 10, slippage: { model: 'fixed', bps: 2 }, seed: 1 }));
    const machine = () => ({ node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', loadavg1: Number(loadavg()[0]!.toFixed(2)) });
    const measure = async (mode: 'demo' | 'paper') => {
      const args = [`--${mode}`, '--experiment', experiment, '--run-id', mode, '--dir', join(dir, mode), '--api-url', venue.url, '--clock', 'venue', '--poll-ms', '20', '--grace-ms', '0'];
      await untilReady(args); // first life: creates the state
      venueNow += tf;
      await untilReady(args); // warm-up restart (disk cache; every restart is a fresh process)
      const samples: Phases[] = [];
      for (let k = 0; k < RUNS; k++) {
        venueNow += tf; // one bar closed while the process was down
        samples.push(await untilReady(args));
      }
      return samples;
    };
    try {
      const demo = await measure('demo');
      const paper = await measure('paper');
      const figure = (name: string, phases: Phases[], mode: string, includes: string) => {
        const samples = phases.map((p) => p.ready);
        const ms = (xs: number[]) => Number(median(xs).toFixed(1));
        // Where the time goes (medians): process start to the runner's first line (node, module loading, config,
        // state), the warm-up (markets, kline pages, replay; paper: no venue), the reconciliation and the state saved.
        // Paper runs log no `warm-up done` (nothing to reconcile): their state save counts in the warm-up.
        const warmed = (p: Phases) => (Number.isNaN(p.warmedUp) ? p.ready : p.warmedUp);
        const where = {
          startedMs: ms(phases.map((p) => p.started)),
          warmUpMs: ms(phases.map((p) => warmed(p) - p.started)),
          reconcileAndPersistMs: ms(phases.map((p) => p.ready - warmed(p))),
        };
        return {
          name,
          value: ms(samples),
          unit: 'ms',
          target: 2000,
          better: 'lower' as const,
          details: { statistic: `median of ${RUNS} restarts after 1 warm-up restart`, p90: Number(percentile(samples, 90).toFixed(1)), samples: samples.map((x) => Number(x.toFixed(1))), phases: where, mode, includes, machine: machine() },
        };
      };
      const common = 'node start, compiled CLI, experiment config, state.json, ccxt loadMarkets + kline pages over HTTP for 99 warm-up bars × 2 symbols, warm-up replay';
      return [
        figure('live-restart', demo, 'demo: BybitExecutionClient against the local v5 venue', `${common}, markets + clock sync of the execution client, reconciliation (executions since the cursor, open orders, positions, balance: signed REST), a venue poll, state persisted`),
        figure('live-restart-paper', paper, 'paper: the simulated venue', `${common}, state persisted (no venue to reconcile)`),
      ];
    } finally {
      await venue.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
