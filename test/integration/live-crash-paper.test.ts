/**
 * Crash-only, paper mode: `tm live --paper` killed with SIGKILL at seeded random moments while the venue clock keeps
 * moving, restarted each time (it catches up on the bars it missed). The journal of the whole run replays through
 * the backtester without divergence: every decision made once with one id, every fill the backtest's.
 * The 2nd life ends instead by `tm live kill`, the 4th by `tm live stop --flatten`, and about one in four of the others
 * by either (the life after a kill is started with `--unhalt` or not, at random); the 3rd life's kill -9, and about one
 * in five later ones, is followed by `tm live kill --now` or `tm live stop --flatten --now` on the dead run: the replay
 * then applies the stops and the account's HALTED and ACTIVE too. A life started with `--unhalt` that is to be killed
 * is killed, half the time, as soon as its start record is seen: often before it saved the ACTIVE it journaled.
 * The venue publishes funding rates, which every life charges its positions at (journaled, replayed).
 * Runs TM_CRASH_RUNS lives (default 6 in CI; the nightly workflow runs 50) with seed TM_CRASH_SEED (default 1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.js';
import { timeframeMs } from '../../src/core/time.js';
import { readJournal, type JournalRecord } from '../../src/live/journal.js';
import { replayJournal } from '../../src/live/replay.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { BybitV5Server } from '../support/bybit-v5-server.js';
import { readSharedFunding } from '../support/bybit-test-data.js';
import { serverKlines, sharedFrame } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const RUNS = Number(process.env['TM_CRASH_RUNS'] ?? 6);
const SEED = Number(process.env['TM_CRASH_SEED'] ?? 1);
const WARMUP = 29;
const BARS = 60 + RUNS * 12;
const frame = sharedFrame('2023-06-01T00:00:00Z', WARMUP + BARS + 2);
const tf = timeframeMs('4h');
const startTs = frame.ts[WARMUP]!;
const endTs = frame.ts[WARMUP + BARS]!; // the venue clock stops here: the last live bar opens at endTs - tf

describe(`tm live --paper survives ${RUNS} kill -9 (seed ${SEED})`, () => {
  const dir = tempDir('tm-live-crash-');
  const runDir = join(dir, 'run');
  const experiment = join(dir, 'crash.json');
  let venueNow = startTs;
  let server: BybitV5Server;
  let clock: NodeJS.Timeout;
  // The venue publishes funding rates (Binance's of the same days): each life charges its positions at them.
  const funding = Object.fromEntries(frame.symbols.map((s) => [s, readSharedFunding(`binance-futures/${s}-funding.csv.gz`)]));
  beforeAll(async () => {
    const klines = serverKlines(frame);
    server = await BybitV5Server.start({ klines, funding, now: () => venueNow });
    writeFileSync(experiment, JSON.stringify({ name: 'crash', strategy: 'sma-crossover', params: { fast: 5, slow: 30, allocation: 0.4, allowShort: true }, data: { venue: 'bybit', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2023-06-01', end: '2024-06-01' }, instruments: 'bybit-linear', funding: { venue: 'bybit', fallback: { kind: 'zero' } }, initialCash: 100000, leverage: 10, slippage: { model: 'fixed', bps: 2 }, seed: 1 }));
  });
  afterAll(async () => {
    clearInterval(clock);
    await server.close();
  });

  const start = (extra: readonly string[] = []): { child: ChildProcess; exited: Promise<number | null> } => {
    const child = spawn(process.execPath, ['bin/tm.js', 'live', '--paper', '--experiment', experiment, '--run-id', 'crash', '--dir', runDir, '--api-url', server.url, '--clock', 'venue', '--poll-ms', '10', '--grace-ms', '0', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve, reject) => child.on('exit', (code) => (err !== '' ? reject(new Error(`tm live wrote to stderr: ${err}`)) : resolve(code))));
    return { child, exited };
  };
  const status = () => (existsSync(join(runDir, 'status.json')) ? (JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as { lastBarTs: number; pid: number; running: boolean; warmup?: unknown }) : undefined);
  const lastBar = () => status()?.lastBarTs ?? -Infinity;
  /** `tm live <args> --dir <run>`: it must exit 0 and write nothing to stderr. Not spawnSync: the venue this test serves must keep answering the run while it stops. */
  const operatorStop = async (args: readonly string[]) => {
    const stopper = spawn(process.execPath, ['bin/tm.js', 'live', ...args, '--dir', runDir, '--wait-ms', '30000'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stopErr = '';
    stopper.stderr!.on('data', (d) => (stopErr += d));
    expect(await new Promise<number | null>((resolve) => stopper.on('exit', resolve))).toBe(0);
    expect(stopErr).toBe('');
  };

  it('ends with the backtest’s decisions and fills, each decision sent once', async () => {
    const rand = seededRandom(SEED);
    clock = setInterval(() => {
      if (venueNow < endTs) venueNow += tf;
    }, 45);
    const startsSoFar = () => (existsSync(join(runDir, 'journal.jsonl')) ? readJournal(join(runDir, 'journal.jsonl')).records.filter((r) => r.k === 'start').length : 0);
    let kills = 0;
    let unhalt = false;
    const stops: string[] = [];
    while (kills < RUNS) {
      const before = startsSoFar();
      const unhalted = unhalt;
      const { child, exited } = start(unhalted ? ['--unhalt'] : []);
      unhalt = false;
      const r = rand();
      if (r < 0.25 || kills === 1 || kills === 3) {
        // Stopped by the operator once the life is running: `tm live stop --flatten` or the kill switch (the 2nd life
        // always by the kill switch, the 4th by a stop, so that CI's few lives have both).
        const command = kills === 1 || (kills !== 3 && r < 0.125) ? ['kill'] : ['stop', '--flatten'];
        const deadline = Date.now() + 30_000;
        while (!(status()?.pid === child.pid && status()?.running === true) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, rand() * 1000));
        await operatorStop(command);
        expect(await exited).toBe(0);
        stops.push(command[0]!);
        unhalt = command[0] === 'kill' && rand() < 0.5;
        kills++;
        continue;
      }
      if (kills % 2 === 0) {
        // Every other life is killed at a random moment after its start record (a running runner, whatever the
        // machine's load makes of node's start-up), the others at a random moment from spawn (start-up included).
        const deadline = Date.now() + 30_000;
        while (startsSoFar() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        // A life started with --unhalt is killed half the time as soon as its start record is seen: often before it saved
        // the ACTIVE it journaled, which the next life (restoring the HALTED state) must not be replayed with.
        await new Promise((r) => setTimeout(r, unhalted && rand() < 0.5 ? 0 : rand() * 1500));
      } else await new Promise((r) => setTimeout(r, 1200 + rand() * 1500));
      child.kill('SIGKILL');
      expect(await exited).toBe(null); // killed, not failed
      // After some of the kill -9s (always the 3rd life's), the operator stops the dead run at once (--now: a short
      // life of the run, no bar): the crash may have left bars journaled after the state it saved.
      if (kills === 2 || (kills > 3 && rand() < 0.2)) {
        const command = rand() < 0.5 ? ['kill'] : ['stop', '--flatten'];
        await operatorStop([...command, '--now', '--api-url', server.url, '--clock', 'venue', '--poll-ms', '20']);
        stops.push(`${command[0]} --now`);
        unhalt = command[0] === 'kill' && rand() < 0.5;
      }
      kills++;
    }
    // The last life: runs until it processed the last bar, then stops on SIGTERM.
    const { child, exited } = start();
    const deadline = Date.now() + 60_000;
    const done = () => {
      const s = status();
      // Its own status once warmed up and reconciled (warmup set): at its start it already names the saved last bar,
      // which the life before may have taken to the end; a SIGTERM during the warm-up ends a run before that bar.
      return s !== undefined && s.pid === child.pid && s.running && s.warmup !== undefined && s.lastBarTs >= endTs - tf;
    };
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lastBar()).toBe(endTs - tf);

    const { records } = readJournal(join(runDir, 'journal.jsonl'));
    const starts = records.filter((r) => r.k === 'start');
    // Every other kill waited for its life's start record: at least those lives ran (a kill during node's start-up leaves none).
    expect(starts.length).toBeGreaterThanOrEqual(Math.ceil(RUNS / 2) + 1);
    // One decision, one id, one content: a submit journaled again after a crash must be the same order.
    const byId = new Map<string, string>();
    for (const r of records) {
      if (r.k !== 'submit') continue;
      const content = JSON.stringify({ ...r, t: 0 });
      expect(byId.get(r.id) ?? content).toBe(content);
      byId.set(r.id, content);
    }
    // Funding charged at the rates the venue lists (a life that died after charging a settlement it had not saved is
    // undone: the next one charges it again, and the replay charges the last of each).
    const charges = records.filter((r): r is Extract<JournalRecord, { k: 'funding' }> => r.k === 'funding');
    for (const c of charges) {
      const history = funding[frame.symbols[c.i]!]!;
      expect(c.fallback === true ? 0 : c.rate).toBe(c.fallback === true ? 0 : history.rate[history.ts.indexOf(c.ts)]);
    }
    const report = replayJournal(join(runDir, 'journal.jsonl'), STRATEGIES);
    expect(report.funding.payments).toBeGreaterThan(0);
    expect(report.funding.payments).toBeLessThanOrEqual(new Set(charges.map((c) => c.exec)).size);
    expect(report.shutdowns).toBe(stops.length);
    console.log(`crash test: ${RUNS} lives ended (${stops.length} by tm live ${stops.join(', ') || '-'}, the others by kill -9), ${starts.length} starts, ${records.filter((r) => r.k === 'bar' && r.warmup === undefined).length / 2} live bar records for ${BARS} bars, ${report.liveDecisions} decisions, ${report.fills.live} fills, ${report.funding.payments} funding charges (${charges.length - new Set(charges.map((c) => c.exec)).size} journaled again by a later life); left out as undone: ${report.undone.bars} bar times, ${report.undone.orders} paper orders, ${report.undone.states} state changes`);
    expect(report.divergence).toBeUndefined();
    expect(report.liveDecisions).toBeGreaterThan(3);
    expect(report.fills).toMatchObject({ unmatched: 0, maxPriceDiff: 0, maxFeeDiff: 0 });
  }, 90_000 + RUNS * 8_000);
});
