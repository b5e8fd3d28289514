/**
 * `tm live --paper --model <package>` as a user runs it (child process, local v5 server on a driven clock): the
 * experiment's stored-predictions column becomes a model streamed through the signal stage, the regime is fitted from
 * `--db` before anything trades, funding and BTC closes come from the venue (DVOL from the store), every bar's signal
 * is journaled, and `tm replay` of the journal finds no divergence. Without `--model`, the same experiment is refused
 * with what to do.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeframeMs } from '../../src/core/time.js';
import { readJournal } from '../../src/live/journal.js';
import { RUNNER_STATE_SCHEMA, runnerStateKey } from '../../src/live/saved-signal-state.js';
import { DEFAULT_DEADLINES } from '../../src/config/network-deadlines.js';
import { loadBars, MarketStore } from '../../src/data/index.js';
import { RedisStateStore } from '../../src/state/index.js';
import { requireServiceEnv } from '../support/service-env.js';
import { readSharedFunding } from '../support/bybit-test-data.js';
import { BybitV5Server } from '../support/bybit-v5-server.js';
import { runTm } from '../support/cli.js';
import { modelInputsStore, writeTinyModelPackage } from '../support/live-model.js';
import { serverKlines, sharedFrame } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const frame = sharedFrame('2023-10-01T00:00:00Z', 1200);
const tf = timeframeMs('4h');
const startTs = Date.UTC(2024, 2, 1);
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];

describe('tm live --paper --model (child process, local venue)', () => {
  const dir = tempDir('tm-live-model-cli-');
  const db = join(dir, 'market.duckdb');
  const pkg = join(dir, 'models', 'tiny-gbdt');
  const experiment = join(dir, 'live-model.json');
  let venueNow = startTs;
  let server: BybitV5Server;

  beforeAll(async () => {
    await modelInputsStore(db, SYMBOLS);
    await writeTinyModelPackage(pkg, db);
    writeFileSync(
      experiment,
      JSON.stringify({
        name: 'live-model', strategy: 'regime-kelly',
        params: { column: 'signal', minRebalance: 0.1, risk: { horizonBars: 1, ic: { window: 30, minPairs: 10 } } },
        data: { venue: 'bybit', symbols: SYMBOLS, timeframe: '4h', start: '2024-03-01', end: '2025-01-01' },
        instruments: 'bybit-linear', funding: { venue: 'bybit', fallback: { kind: 'zero' } },
        columns: { signal: { source: 'predictions', model: 'tiny-gbdt' } },
        regime: { fitStart: '2023-03-01', fitEnd: '2024-03-01', states: 2, seed: 1, onDegenerate: 'report' },
        initialCash: 100000, leverage: 3, slippage: { model: 'fixed', bps: 2 }, seed: 1,
      }),
    );
    const funding = Object.fromEntries(SYMBOLS.map((s) => [s, readSharedFunding(`binance-futures/${s}-funding.csv.gz`)]));
    server = await BybitV5Server.start({ klines: serverKlines(frame), funding, now: () => venueNow });
  }, 240_000);
  afterAll(async () => server?.close());

  it('streams the model, journals each bar’s signal, and replays without divergence', async () => {
    const runDir = join(dir, 'run');
    const child = spawn(process.execPath, [join(process.cwd(), 'bin/tm.js'), 'live', '--paper', '--experiment', experiment, '--model', pkg, '--db', db, '--run-id', 'mcli', '--dir', runDir, '--api-url', server.url, '--clock', 'venue', '--poll-ms', '20', '--grace-ms', '0', '--max-bars', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    let exited = false;
    const done = new Promise<number | null>((resolve) => child.on('exit', (code) => ((exited = true), resolve(code))));
    // The venue clock waits until the run is ready (model loaded, regime fitted, warm-up replayed), then moves a bar every 300 ms.
    for (let k = 0; k < 200 && !exited && !out.includes('ready:'); k++) await new Promise((r) => setTimeout(r, 100));
    for (let k = 0; k < 40 && !exited; k++) {
      await new Promise((r) => setTimeout(r, 300));
      venueNow += tf;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await done;
    clearTimeout(timer);
    expect(err).toBe('');
    expect(code, out).toBe(0);
    expect(out).toContain('column signal: model tiny-gbdt (local-');
    expect(out).toContain('streamed for ETHUSDT through the signal stage');
    expect(out).toContain("note: the funding input is Bybit's funding history, standing in for binance-futures");
    expect(out).toContain('stopped (max bars): 4 live bars');
    const { records } = readJournal(join(runDir, 'journal.jsonl'));
    const start = records.find((r) => r.k === 'start') as { config: { columns: Record<string, { source: string; model: string }> }; regimes?: unknown[] };
    expect(start.config.columns['signal']).toMatchObject({ source: 'model', model: pkg });
    expect(start.regimes).toHaveLength(2);
    const live = records.filter((r): r is Extract<typeof r, { k: 'bar' }> => r.k === 'bar' && r.warmup === undefined);
    expect(live).toHaveLength(8);
    for (const b of live) expect(Number.isFinite(b.s)).toBe(true);
    const status = await runTm(['live', 'status', '--dir', runDir]);
    expect(status.out).toMatch(/; model tiny-gbdt local-[0-9a-f]{12}/);
    // The tiny model fails the quality gates on its warm-up window (gates on by default): it trades nothing, and says so.
    expect(out).toMatch(/ALERT the warm-up window fails the quality gates \(.*(IC|p|Sharpe) .*\): no new positions in this process/);
    expect(status.out).toMatch(/warm-up: tier 3 in \d+ ms \(no saved state of BTCUSDT-LINEAR\.BYBIT: full warm-up from the venue\); no new positions: the warm-up window fails the quality gates/);
    expect(records.some((r) => r.k === 'submit')).toBe(false);
    const denied = records.filter((r) => r.k === 'event' && r.e === 'denied');
    const replay = await runTm(['replay', join(runDir, 'journal.jsonl')]);
    // The replay applies the journaled entry block: it denies the same decisions.
    expect(replay.out).toContain(`no divergence`);
    expect(denied.length).toBeGreaterThan(0);
    expect(replay.code).toBe(0);
  }, 120_000);

  it('readers while the runner writes: the market store read-only, the journal, status.json and the Redis state, side by side', async () => {
    // The runner owns its run folder and its Redis hash; it opens the market store read-only, per request (--inputs
    // store). A notebook reads all of them while it runs: nothing blocks, nothing is half-read.
    const runDir = join(dir, 'readers');
    const key = runnerStateKey('mrd', runDir);
    const card = JSON.parse(readFileSync(join(pkg, 'card.json'), 'utf8')) as { name: string; onnxSha256: string };
    const expectState = { schemaVersion: RUNNER_STATE_SCHEMA, model: { name: card.name, version: `local-${card.onnxSha256.slice(0, 12)}`, checksum: card.onnxSha256 } };
    const redis = await RedisStateStore.connect(requireServiceEnv('REDIS_URL'), DEFAULT_DEADLINES);
    await redis.clear(key);
    const child = spawn(process.execPath, [join(process.cwd(), 'bin/tm.js'), 'live', '--paper', '--experiment', experiment, '--model', pkg, '--db', db, '--inputs', 'store', '--no-warmup-gates', '--run-id', 'mrd', '--dir', runDir, '--api-url', server.url, '--clock', 'venue', '--poll-ms', '20', '--grace-ms', '0', '--max-bars', '6'], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    let exited = false;
    const done = new Promise<number | null>((resolve) => child.on('exit', (code) => ((exited = true), resolve(code))));
    const reads = { store: 0, journal: 0, status: 0, redis: 0 };
    let lastStatusBar = -Infinity, lastStateBar = -Infinity, lastRecords = 0;
    const readAll = async () => {
      const store = await MarketStore.open(db, { readOnly: true });
      try {
        const bars = await loadBars(store, { venue: 'bybit', symbols: ['BTCUSDT'], timeframe: '4h', start: startTs - 10 * tf, end: startTs, missing: 'nan' });
        expect(bars.ts.length).toBe(10);
        reads.store++;
      } finally {
        store.close();
      }
      if (existsSync(join(runDir, 'journal.jsonl'))) {
        const n = readJournal(join(runDir, 'journal.jsonl')).records.length; // complete lines only (a torn tail is left out)
        expect(n).toBeGreaterThanOrEqual(lastRecords);
        lastRecords = n;
        reads.journal++;
      }
      if (existsSync(join(runDir, 'status.json'))) {
        const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as { lastBarTs: number }; // replaced atomically
        expect(status.lastBarTs).toBeGreaterThanOrEqual(lastStatusBar);
        lastStatusBar = status.lastBarTs;
        reads.status++;
      }
      const state = await redis.load(key, 'BTCUSDT-LINEAR.BYBIT', expectState);
      if (!state.success) throw state.error;
      if (state.data !== undefined) {
        expect(state.data.barTs).toBeGreaterThanOrEqual(lastStateBar); // one HSET per bar: never half a bar
        lastStateBar = state.data.barTs;
        reads.redis++;
      }
    };
    for (let k = 0; k < 300 && !exited && !out.includes('ready:'); k++) {
      await readAll();
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let k = 0; k < 30 && !exited; k++) {
      venueNow += tf;
      for (let j = 0; j < 3; j++) await readAll();
      await new Promise((r) => setTimeout(r, 150));
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await done;
    clearTimeout(timer);
    await readAll();
    await redis.close();
    expect(err).toBe('');
    expect(code, out).toBe(0);
    expect(out).toContain('stopped (max bars): 6 live bars');
    expect(reads.store).toBeGreaterThan(10);
    expect(reads.journal).toBeGreaterThan(10);
    expect(reads.redis).toBeGreaterThan(5);
    expect(lastStateBar).toBe(lastStatusBar + tf); // the state's bar close = the last bar processed + one bar
  }, 120_000);

  it('without --model, a stored-predictions column is refused with what to do', async () => {
    const r = await runTm(['live', '--paper', '--experiment', experiment, '--db', db, '--run-id', 'mno', '--dir', join(dir, 'refused'), '--api-url', server.url]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('columns.signal reads the store');
    expect(r.err).toContain('--model');
  }, 60_000);
});
