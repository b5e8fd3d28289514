/**
 * One engine, two clocks: the SMA crossover over real BTCUSDT/ETHUSDT 4h bars, run by the backtester and by the live
 * runner in paper mode (bars polled through ccxt from the local v5 server on a fast clock), makes the same decisions,
 * the same orders (ids, sides, quantities) and the same fills, and ends with the same equity.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedBpsSlippage, FUNDING_INTERVAL_MS, TableFundingModel } from '../../src/backtest/execution-models.js';
import { runBacktest } from '../../src/backtest/run-backtest.js';
import { BYBIT_LINEAR_PERPETUALS } from '../../src/core/instrument.js';
import { readJournal, type JournalRecord } from '../../src/live/journal.js';
import { LiveRunner, type LiveRunnerConfig } from '../../src/live/live-runner.js';
import { replayJournal } from '../../src/live/replay.js';
import { liveSetup } from '../../src/live/live-setup.js';
import { PaperFundingRates } from '../../src/live/paper-funding.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { parseBacktestConfig } from '../../src/config/backtest-config.js';
import type { ExperimentConfig } from '../../src/backtest/run-experiment.js';
import { smaCrossover } from '../../src/strategies/sma-crossover.js';
import { backtestSpec } from '../support/engine-scenarios.js';
import { liveMarket, sharedFrame } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';
import { readSharedFunding } from '../support/bybit-test-data.js';
import { DEFAULT_LINEAR_INSTRUMENTS } from '../support/bybit-v5-server.js';

const PARAMS = { fast: 10, slow: 30, allocation: 0.4, allowShort: true };
/** The experiment both runs share (validated like `tm backtest` validates it). */
const RAW = { name: 'live-parity', strategy: 'sma-crossover', params: PARAMS, data: { venue: 'bybit', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2024-01-01', end: '2025-01-01' }, instruments: 'bybit-linear', funding: { venue: 'bybit', fallback: { kind: 'zero' } }, initialCash: 100_000, leverage: 10, slippage: { model: 'fixed', bps: 2 }, seed: 1, warmup: 29 };
const parsed = parseBacktestConfig(RAW, 'live-parity.json');
if (!parsed.success) throw parsed.error;
const CONFIG = parsed.data as unknown as ExperimentConfig;
const WARMUP = 29;
const LIVE = 400;
const frame = sharedFrame('2024-01-01T00:00:00Z', WARMUP + LIVE);
const instruments = frame.symbols.map((s) => BYBIT_LINEAR_PERPETUALS[s]!);
const startTs = frame.ts[WARMUP]!;

/** A paper runner of the parity experiment in `dir`, polling `market`, for `maxBars` live bars. */
function paperRunner(runId: string, dir: string, market: Awaited<ReturnType<typeof liveMarket>>, maxBars: number, extra: { config?: ExperimentConfig; risk?: LiveRunnerConfig['risk']; restartProtectionMs?: number; unhalt?: boolean; stopDone?: (requestId: number) => void; funding?: LiveRunnerConfig['funding'] } = {}): LiveRunner {
  return new LiveRunner(
    {
      runId, mode: 'paper', instruments, timeframe: '4h', initialCash: 100_000, leverage: 10, dir, startTs, maxBars, paper: { slippage: new FixedBpsSlippage(2) }, config: extra.config ?? CONFIG,
      ...(extra.funding !== undefined ? { funding: extra.funding } : {}),
      ...(extra.risk !== undefined ? { risk: extra.risk } : {}),
      ...(extra.restartProtectionMs !== undefined ? { restartProtectionMs: extra.restartProtectionMs } : {}),
      ...(extra.unhalt === true ? { unhalt: true } : {}),
    },
    { feed: market.feed, pacer: market.time, strategy: smaCrossover(PARAMS), ...(extra.stopDone !== undefined ? { stopDone: extra.stopDone } : {}) },
  );
}

/** A stop a test asks for: when the live bar at index `bar` arrives, or at the life's first `times` (default 1) warm-up fetches. */
type StopAt = { readonly bar: number | 'warm-up'; readonly actions: Parameters<LiveRunner['stop']>[1]; readonly times?: number; readonly requestId?: number };

/** Runs one life of `runner` on `market`, asked to stop with `stopAt.actions` at `stopAt.bar`. */
async function paperLife(runner: LiveRunner, market: Awaited<ReturnType<typeof liveMarket>>, stopAt?: StopAt) {
  const next = market.feed.next.bind(market.feed);
  if (stopAt !== undefined) {
    let calls = 0;
    market.feed.next = async (after: number) => {
      if (stopAt.bar === 'warm-up' && calls++ < (stopAt.times ?? 1)) runner.stop('stop during the warm-up', stopAt.actions);
      const set = await next(after);
      if (stopAt.bar !== 'warm-up' && set?.ts === frame.ts[WARMUP + stopAt.bar]) runner.stop(`stop at bar ${stopAt.bar}`, stopAt.actions, stopAt.requestId);
      return set;
    };
  }
  try {
    return await runner.run();
  } finally {
    market.feed.next = next;
    // A stop interrupts the pacer, which keeps an interrupt no wait took (a stop between two waits still ends the
    // next one). One pacer per process live; here the lives share it: the next life must not inherit it.
    if (stopAt !== undefined) await market.time.waitUntil(0);
  }
}

describe('live runner (paper) vs backtester', () => {
  const dir = tempDir('tm-live-paper-');
  let market: Awaited<ReturnType<typeof liveMarket>>;
  beforeAll(async () => {
    market = await liveMarket(frame, startTs);
  });
  afterAll(async () => market.close());

  it('gives identical orders, fills and equity', async () => {
    const backtest = runBacktest(backtestSpec(frame, instruments, { warmupBars: WARMUP, runId: 'par1', slippage: new FixedBpsSlippage(2), initialCash: 100_000 }), smaCrossover(PARAMS));
    const runner = paperRunner('par1', dir, market, LIVE);
    const summary = await runner.run();
    expect(summary.warmupBars).toBe(WARMUP);
    expect(summary.liveBars).toBe(LIVE);
    expect(summary.lastBarTs).toBe(frame.ts[WARMUP + LIVE - 1]);
    const liveFills = runner.kernel.fills.map((f) => ({ id: f.clientOrderId, side: f.side, quantity: f.quantity, price: f.price, fee: f.fee, ts: f.tsEvent }));
    const btFills = backtest.fills.map((f) => ({ id: f.clientOrderId, side: f.side, quantity: f.quantity, price: f.price, fee: f.fee, ts: f.ts }));
    expect(btFills.length).toBeGreaterThan(10);
    expect(liveFills).toEqual(btFills);
    expect(runner.kernel.equity()).toBe(backtest.equity.value[backtest.equity.value.length - 1]);

    // The journal holds every live bar (both instruments) and every order command, in order.
    const { records, tornTail } = readJournal(`${dir}/journal.jsonl`);
    expect(tornTail).toBe(false);
    expect(records.filter((r) => r.k === 'bar' && r.warmup === undefined)).toHaveLength(2 * LIVE);
    const submits = records.filter((r) => r.k === 'submit').map((r) => (r as { id: string }).id);
    expect(submits).toEqual([...new Set(btFills.map((f) => f.id))]);
    expect(records.at(-1)).toMatchObject({ k: 'stop', reason: 'max bars' });

    // tm replay's engine: the journal's bars through the backtester give the same decisions and fills.
    const report = replayJournal(`${dir}/journal.jsonl`, STRATEGIES);
    expect(report.divergence).toBeUndefined();
    expect(report.liveDecisions).toBe(submits.length);
    expect(report.fills).toMatchObject({ unmatched: 0, maxPriceDiff: 0, maxFeeDiff: 0 });
    expect(report.warmupBars).toBe(WARMUP);
  });

  it('with pre-trade risk limits (a 3 % drawdown flattens, orders capped): the same denials and flattens live and in the replay', async () => {
    const riskDir = tempDir('tm-live-risk-');
    const withRisk = parseBacktestConfig({ ...RAW, risk: { maxDrawdown: 0.03, maxOrderNotional: 45_000 } }, 'live-parity.json');
    if (!withRisk.success) throw withRisk.error;
    const config = withRisk.data as unknown as ExperimentConfig;
    const setup = liveSetup(config, STRATEGIES);
    const third = await liveMarket(frame, startTs);
    try {
      const runner = paperRunner('par3', riskDir, third, LIVE, { config, risk: setup.risk! });
      await runner.run();
      const denied = Object.values(runner.kernel.risk.denials()).reduce((a, n) => a + (n ?? 0), 0);
    expect(runner.kernel.risk.flattens.length).toBeGreaterThan(0);
    expect(denied).toBeGreaterThan(0);
      const report = replayJournal(`${riskDir}/journal.jsonl`, STRATEGIES);
      expect(report.divergence).toBeUndefined();
      expect(report.denied.live).toBe(report.denied.replay);
      expect(report.fills).toMatchObject({ unmatched: 0, maxPriceDiff: 0 });
    } finally {
      await third.close();
    }
  });

  it('an instrument halted and released during the run (as a lost order or a position difference would): its decisions in between denied live and in the replay, no divergence', async () => {
    const haltDir = tempDir('tm-live-halt-');
    const market4 = await liveMarket(frame, startTs);
    const eth = frame.symbols.indexOf('ETHUSDT');
    const haltAt = frame.ts[WARMUP + 100]!, releaseAt = frame.ts[WARMUP + 220]!;
    try {
      const runner = paperRunner('par4', haltDir, market4, LIVE);
      // Between two bars, as the runner's venue rounds halt an instrument: before the bar at haltAt is processed.
      const next = market4.feed.next.bind(market4.feed);
      market4.feed.next = async (after: number) => {
        const set = await next(after);
        if (set?.ts === haltAt) runner.kernel.setInstrumentHalted(eth, true, 'halted for the test');
        if (set?.ts === releaseAt) runner.kernel.setInstrumentHalted(eth, false, 'released for the test');
        return set;
      };
      await runner.run();
      const { records } = readJournal(`${haltDir}/journal.jsonl`);
      const denied = records.filter((r): r is Extract<JournalRecord, { k: 'event' }> => r.k === 'event' && r.e === 'denied');
      expect(denied.length).toBeGreaterThan(0);
      expect(denied.every((r) => r.reason === `risk: instrument_halted instrument ${eth} is halted (cancels only)`)).toBe(true);
      expect(records.filter((r) => r.k === 'state').map((r) => (r as { state: string }).state)).toEqual([`HALTED ${instruments[eth]!.id}`, `ACTIVE ${instruments[eth]!.id}`]);
      const report = replayJournal(`${haltDir}/journal.jsonl`, STRATEGIES);
      expect(report.instrumentHalts).toBe(2);
      expect(report.divergence).toBeUndefined();
      expect(report.denied).toEqual({ live: denied.length, replay: denied.length });
      expect(report.liveDecisions).toBe(report.replayDecisions);
      expect(report.fills).toMatchObject({ unmatched: 0, maxPriceDiff: 0, maxFeeDiff: 0 });
      // A state record naming no instrument of the run is an error, not a halt dropped.
      const lines = readFileSync(`${haltDir}/journal.jsonl`, 'utf8').replace(`"HALTED ${instruments[eth]!.id}"`, '"HALTED XRPUSDT-LINEAR.BYBIT"');
      writeFileSync(`${haltDir}/bad.jsonl`, lines);
      expect(() => replayJournal(`${haltDir}/bad.jsonl`, STRATEGIES)).toThrow(/state record "HALTED XRPUSDT-LINEAR\.BYBIT" names no instrument of the run/);
    } finally {
      await market4.close();
    }
  });

  it('stopped by a kill switch, restarted halted, unhalted, stopped with a cancel and with --flatten (twice, the last at its last bar): tm replay applies each stop and the account state, no divergence', async () => {
    // Before, the replay made none of the stops' flattening orders (a divergence at the first) and ignored the
    // account's HALTED (the halted life's decisions sent in the replay).
    const stopDir = tempDir('tm-live-stops-');
    const m = await liveMarket(frame, startTs);
    const life = (maxBars: number, stopAt?: StopAt, unhalt = false) => paperLife(paperRunner('par6', stopDir, m, maxBars, { unhalt }), m, stopAt);
    try {
      expect((await life(LIVE, { bar: 150, actions: { cancel: true, flatten: true, halt: true } })).liveBars).toBe(151);
      expect((await life(20)).liveBars).toBe(20); // halted: every decision denied
      expect((await life(LIVE, { bar: 250, actions: { cancel: true, flatten: true } }, true)).liveBars).toBe(80);
      expect((await life(LIVE, { bar: 300, actions: { cancel: true } })).liveBars).toBe(50);
      // The last stop at the journal's last bar: no bar follows, its flatten fills at the marks (in the replay too).
      expect((await life(LIVE - 301, { bar: LIVE - 1, actions: { cancel: true, flatten: true } })).lastBarTs).toBe(frame.ts[WARMUP + LIVE - 1]);

      const { records } = readJournal(`${stopDir}/journal.jsonl`);
      const shutdowns = records.flatMap((r, k) => (r.k === 'event' && r.e === 'shutdown' ? [k] : []));
      expect(shutdowns.map((k) => (records[k] as { id: string }).id)).toEqual(['halt', 'flatten', 'cancel', 'flatten']);
      // The kill switch and the flatten closed positions with reduce-only market orders, journaled after their stop.
      for (const k of [shutdowns[0]!, shutdowns[1]!, shutdowns[3]!]) {
        const end = records.findIndex((r, j) => j > k && r.k === 'stop');
        const sent = records.slice(k, end).filter((r): r is Extract<JournalRecord, { k: 'submit' }> => r.k === 'submit');
        expect(sent.length).toBeGreaterThan(0);
        expect(sent.every((r) => r.ro === true && r.type === 'market')).toBe(true);
      }
      const states = records.filter((r): r is Extract<JournalRecord, { k: 'state' }> => r.k === 'state');
      expect(states.map((r) => [r.state, r.trigger])).toEqual([['HALTED', 'manual'], ['ACTIVE', 'manual']]);
      const denied = records.filter((r) => r.k === 'event' && r.e === 'denied');
      expect(denied.length).toBeGreaterThan(0);

      const report = replayJournal(`${stopDir}/journal.jsonl`, STRATEGIES);
      expect(report).toMatchObject({ shutdowns: 4, accountStates: 2, instrumentHalts: 0 });
      expect(report.divergence).toBeUndefined();
      expect(report.liveDecisions).toBe(report.replayDecisions);
      expect(report.denied).toEqual({ live: denied.length, replay: denied.length });
      expect(report.fills).toMatchObject({ live: report.liveDecisions, unmatched: 0, maxPriceDiff: 0, maxFeeDiff: 0 });

      // A shutdown record of no action, or an account state by hand that is no trading state, is an error.
      const text = readFileSync(`${stopDir}/journal.jsonl`, 'utf8');
      writeFileSync(`${stopDir}/bad.jsonl`, text.replace('"e":"shutdown","id":"flatten"', '"e":"shutdown","id":"liquidate"'));
      expect(() => replayJournal(`${stopDir}/bad.jsonl`, STRATEGIES)).toThrow(/shutdown record names "liquidate", expected cancel, flatten or halt/);
      writeFileSync(`${stopDir}/bad.jsonl`, text.replace('"state":"HALTED","trigger":"manual"', '"state":"FROZEN","trigger":"manual"'));
      expect(() => replayJournal(`${stopDir}/bad.jsonl`, STRATEGIES)).toThrow(/account state record "FROZEN" is none of ACTIVE, REDUCING, HALTED/);
    } finally {
      await m.close();
    }
  });

  it('a kill switch during a restart\'s warm-up is applied once the warm-up and reconciliation are done: flat, HALTED, and tm replay agrees', async () => {
    // Before, the stop's interrupt ended the warm-up ("stopped during warm-up"): no flatten, no HALTED, the request lost.
    const killDir = tempDir('tm-live-warmkill-');
    const m = await liveMarket(frame, startTs);
    try {
      await paperLife(paperRunner('par7', killDir, m, 150), m);
      const runner = paperRunner('par7', killDir, m, LIVE);
      const summary = await paperLife(runner, m, { bar: 'warm-up', actions: { cancel: true, flatten: true, halt: true } });
      expect(summary).toMatchObject({ restarted: true, warmupBars: WARMUP, liveBars: 0, stopReason: 'stop during the warm-up' });
      expect(runner.kernel.tradingState).toBe('HALTED');
      expect([...runner.kernel.portfolio.quantity]).toEqual([0, 0]);
      const { records } = readJournal(`${killDir}/journal.jsonl`);
      const k = records.findIndex((r) => r.k === 'event' && r.e === 'shutdown');
      expect(records[k]).toMatchObject({ id: 'halt', reason: 'stop during the warm-up' });
      expect(records.slice(k).filter((r) => r.k === 'submit' && r.ro === true).length).toBeGreaterThan(0);
      const report = replayJournal(`${killDir}/journal.jsonl`, STRATEGIES);
      expect(report).toMatchObject({ shutdowns: 1, accountStates: 0 }); // its HALTED record: no live bar follows it
      expect(report.divergence).toBeUndefined();
      expect(report.fills).toMatchObject({ unmatched: 0, maxPriceDiff: 0, maxFeeDiff: 0 });
    } finally {
      await m.close();
    }
  });

  it('a kill switch asked twice during a warm-up (one that cannot fetch its bars, an insisting operator) ends the run with its action unapplied and named', async () => {
    const killDir = tempDir('tm-live-warmkill2-');
    const m = await liveMarket(frame, startTs);
    try {
      const first = paperRunner('par8', killDir, m, 150);
      await paperLife(first, m);
      const held = [...first.kernel.portfolio.quantity];
      expect(held.some((q) => q !== 0)).toBe(true);
      const runner = paperRunner('par8', killDir, m, LIVE);
      const actions = { cancel: true, flatten: true, halt: true };
      const summary = await paperLife(runner, m, { bar: 'warm-up', actions, times: 2 });
      expect(summary).toMatchObject({ liveBars: 0, stopReason: 'stopped during warm-up', unappliedStop: { reason: 'stop during the warm-up', actions } });
      // The last live bar is still the first life's (before, status.json went back to the warm-up bar the stop came at).
      expect(summary.lastBarTs).toBe(frame.ts[WARMUP + 149]);
      expect(JSON.parse(readFileSync(`${killDir}/status.json`, 'utf8'))).toMatchObject({ lastBarTs: frame.ts[WARMUP + 149], running: false });
      expect(runner.kernel.tradingState).toBe('ACTIVE');
      expect([...runner.kernel.portfolio.quantity]).toEqual(held);
      expect(readJournal(`${killDir}/journal.jsonl`).records.some((r) => r.k === 'event' && r.e === 'shutdown')).toBe(false);
    } finally {
      await m.close();
    }
  });

  it('a saved stop request is done once its life saved the state it left: handed again to the next start, it is not applied again', async () => {
    // tm live removes control.json only when the runner says the request is done (stopDone): a life killed while
    // applying it leaves it for the next start, and one killed between saving its state and the removal leaves a
    // request its state already names (appliedStop).
    const killDir = tempDir('tm-live-donekill-');
    const m = await liveMarket(frame, startTs);
    try {
      const done: number[] = [];
      const first = paperRunner('par9', killDir, m, 150, { stopDone: (id) => done.push(id) });
      await paperLife(first, m, { bar: 20, actions: { cancel: true, flatten: true, halt: true }, requestId: 1234 });
      expect(first.kernel.tradingState).toBe('HALTED');
      expect(done).toEqual([1234]);
      expect(JSON.parse(readFileSync(`${killDir}/state.json`, 'utf8'))).toMatchObject({ appliedStop: 1234 });
      // The same request again (its removal never happened), the operator unhalting: the run trades on.
      const second = paperRunner('par9', killDir, m, 30, { unhalt: true, stopDone: (id) => done.push(id) });
      second.stop('kill switch (tm live kill)', { cancel: true, flatten: true, halt: true }, 1234);
      const summary = await paperLife(second, m);
      expect(done).toEqual([1234, 1234]);
      expect(summary).toMatchObject({ liveBars: 30, stopReason: 'max bars' });
      expect(second.kernel.tradingState).toBe('ACTIVE');
      const shutdowns = readJournal(`${killDir}/journal.jsonl`).records.filter((r) => r.k === 'event' && r.e === 'shutdown');
      expect(shutdowns).toHaveLength(1);
      // Another request (a new kill) is applied.
      const third = paperRunner('par9', killDir, m, 30, { stopDone: (id) => done.push(id) });
      third.stop('kill switch (tm live kill)', { cancel: true, flatten: true, halt: true }, 5678);
      expect(await paperLife(third, m)).toMatchObject({ liveBars: 0 });
      expect(done).toEqual([1234, 1234, 5678]);
      expect(third.kernel.tradingState).toBe('HALTED');
      expect(JSON.parse(readFileSync(`${killDir}/state.json`, 'utf8'))).toMatchObject({ appliedStop: 5678 });
      expect(replayJournal(`${killDir}/journal.jsonl`, STRATEGIES)).toMatchObject({ divergence: undefined, shutdowns: 2 });
    } finally {
      await m.close();
    }
  });

  it('tm replay finds a tampered decision: the first divergence names it', () => {
    const lines = readFileSync(`${dir}/journal.jsonl`, 'utf8').split('\n');
    let seen = 0;
    const tampered = lines.map((line) => {
      if (!line.includes('"k":"submit"') || seen++ !== 2) return line;
      const r = JSON.parse(line) as { q: number };
      return JSON.stringify({ ...r, q: r.q * 2 });
    });
    const path = `${dir}/tampered.jsonl`;
    writeFileSync(path, tampered.join('\n'));
    const report = replayJournal(path, STRATEGIES);
    expect(report.divergence?.index).toBe(2);
    expect(report.divergence!.live!.quantity).toBe(2 * report.divergence!.replay!.quantity);
  });

  it('tm replay counts a fill journaled again after a crash (its execution id seen before) once, and a fill record under another id as one more', () => {
    // A life that journaled a fill and was killed before saving its state is followed by one that simulates the fill
    // again from the older state, under the same execution id (the paper venue's ids are `<order id>:<filled before>`).
    const lines = readFileSync(`${dir}/journal.jsonl`, 'utf8').split('\n').filter((line) => line !== '');
    const fill = lines.find((line) => line.includes('"k":"fill"'))!;
    const record = JSON.parse(fill) as { id: string; exec?: string };
    expect(record.exec).toBe(`${record.id}:0`);
    const base = replayJournal(`${dir}/journal.jsonl`, STRATEGIES);
    const path = `${dir}/refilled.jsonl`;
    writeFileSync(path, [...lines, fill].join('\n') + '\n');
    expect(replayJournal(path, STRATEGIES).fills).toEqual(base.fills);
    writeFileSync(path, [...lines, JSON.stringify({ ...record, exec: 'another' })].join('\n') + '\n');
    const doubled = replayJournal(path, STRATEGIES).fills;
    expect(doubled.live).toBe(base.fills.live + 1);
    expect(doubled.unmatched).toBe(1);
  });

  it('a life killed after journaling fills but before saving its state: the next life simulates them again, and tm replay counts each once', async () => {
    // The crash window without the timing: a second life runs 40 bars (journaling their fills), then its state file is
    // put back to what the first life saved, as if every save of the second life had been lost with it.
    const crashDir = tempDir('tm-live-window-');
    const market = await liveMarket(frame, startTs);
    const make = (maxBars: number) => paperRunner('par4', crashDir, market, maxBars);
    try {
      await make(100).run();
      const checkpoint = readFileSync(`${crashDir}/state.json`);
      const lost = make(40);
      await lost.run();
      expect(lost.kernel.fills.length).toBeGreaterThan(0);
      writeFileSync(`${crashDir}/state.json`, checkpoint);
      const last = make(LIVE - 100);
      const summary = await last.run();
      expect(summary.lastBarTs).toBe(frame.ts[WARMUP + LIVE - 1]);
      const execs = readJournal(`${crashDir}/journal.jsonl`).records.flatMap((r) => (r.k === 'fill' && r.exec !== undefined ? [r.exec] : []));
      const lostExecs = lost.kernel.fills.map((f) => f.executionId);
      expect(lostExecs.every((x) => x !== undefined && execs.filter((e) => e === x).length === 2)).toBe(true); // journaled by both lives
      const report = replayJournal(`${crashDir}/journal.jsonl`, STRATEGIES);
      expect(report.divergence).toBeUndefined();
      expect(report.fills).toMatchObject({ live: new Set(execs).size, unmatched: 0, maxPriceDiff: 0, maxFeeDiff: 0 });
    } finally {
      await market.close();
    }
  });

  it('a life killed after sending orders but before saving its state, then a restart under warm-up protection: the orders it sent are sent again, the new ones denied, and tm replay agrees', async () => {
    // The nightly crash campaign's failure (seed 20261203): a life sent a catch-up decision and was killed before its
    // save; the next life restored the older state, and its warm-up protection denied the same decision, so the
    // journal kept an order the paper account never had. Here the next life's protection never lifts.
    const crashDir = tempDir('tm-live-protect-');
    const market = await liveMarket(frame, startTs);
    const make = (maxBars: number, restartProtectionMs = 0) => paperRunner('par5', crashDir, market, maxBars, { restartProtectionMs });
    try {
      await make(100).run();
      const checkpoint = readFileSync(`${crashDir}/state.json`);
      await make(40).run();
      writeFileSync(`${crashDir}/state.json`, checkpoint);
      const last = make(LIVE - 100, 365 * 86_400_000);
      await last.run();
      const { records } = readJournal(`${crashDir}/journal.jsonl`);
      const starts = records.flatMap((r, k) => (r.k === 'start' ? [k] : []));
      expect(starts).toHaveLength(3);
      const sentBy = (from: number, to: number) => records.slice(from, to).flatMap((r) => (r.k === 'submit' ? [r.id] : []));
      const lostLife = sentBy(starts[1]!, starts[2]!), lastLife = sentBy(starts[2]!, records.length);
      const denied = records.slice(starts[2]!).flatMap((r) => (r.k === 'event' && r.e === 'denied' ? [r.id] : []));
      expect(lostLife.length).toBeGreaterThan(0);
      expect(lastLife).toEqual(lostLife); // sent again, in order; nothing else passed the protection
      expect(denied.length).toBeGreaterThan(0);
      expect(denied.filter((id) => lostLife.includes(id))).toEqual([]);
      const report = replayJournal(`${crashDir}/journal.jsonl`, STRATEGIES);
      expect(report.divergence).toBeUndefined();
      expect(report.denied).toEqual({ live: denied.length, replay: denied.length });
      expect(report.fills).toMatchObject({ unmatched: 0, maxPriceDiff: 0, maxFeeDiff: 0 });
    } finally {
      await market.close();
    }
  });

  it('charged funding at the rates the venue published (a settlement it lists none for at the fallback), across a restart: the backtest\'s orders, fills, payments and equity with the same rates in its funding table; tm replay charges the journaled rates', async () => {
    const fundingDir = tempDir('tm-live-funding-');
    // Binance's 2024 rates served as the venue's history, one BTC settlement in the live window left out.
    const hole = Math.ceil(frame.ts[WARMUP + 200]! / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS;
    const rates = frame.symbols.map((s) => readSharedFunding(`binance-futures/${s}-funding.csv.gz`));
    const keep = rates[0]!.ts.map((t) => (t === hole ? 0 : 1));
    expect(keep.indexOf(0)).toBeGreaterThan(0);
    const btc = { ts: rates[0]!.ts.filter((_, k) => keep[k] === 1), rate: rates[0]!.rate.filter((_, k) => keep[k] === 1) };
    const tables = [btc, { ts: rates[1]!.ts, rate: rates[1]!.rate }];
    const fallback = { kind: 'constant', rate: 0.0002 } as const;
    const backtest = runBacktest(backtestSpec(frame, instruments, { warmupBars: WARMUP, runId: 'parf', slippage: new FixedBpsSlippage(2), initialCash: 100_000, funding: new TableFundingModel(tables, fallback) }), smaCrossover(PARAMS));
    const paid = backtest.funding.filter((f) => f.payment !== 0);
    expect(paid.length).toBeGreaterThan(200); // both instruments hold a position at nearly every settlement
    expect(backtest.funding.filter((f) => f.source === 'fallback').map((f) => [f.ts, f.instrument])).toEqual([[hole, instruments[0]!.id]]);
    const m = await liveMarket(frame, startTs, { funding: { BTCUSDT: btc, ETHUSDT: tables[1]! } });
    const make = (maxBars: number) => paperRunner('parf', fundingDir, m, maxBars, { funding: new PaperFundingRates(m.market, frame.symbols, [true, true], fallback) });
    try {
      const first = make(150);
      expect((await first.run()).liveBars).toBe(150);
      const again = make(LIVE - 150);
      expect((await again.run()).restarted).toBe(true);
      const fills = [...first.kernel.fills.filter((f) => f.tsEvent < frame.ts[WARMUP + 150]!), ...again.kernel.fills.filter((f) => f.tsEvent >= frame.ts[WARMUP + 150]!)];
      expect(fills.map((f) => [f.clientOrderId, f.side, f.quantity, f.price, f.fee])).toEqual(backtest.fills.map((f) => [f.clientOrderId, f.side, f.quantity, f.price, f.fee]));
      const charged = [...first.kernel.fundingEvents, ...again.kernel.fundingEvents].map((f) => ({ ts: f.ts, instrument: instruments[f.instrument]!.id, rate: f.rate, markPrice: f.markPrice, position: f.position, payment: f.payment, source: f.source }));
      expect(charged).toEqual(backtest.funding);
      expect(again.kernel.equity()).toBe(backtest.equity.value[backtest.equity.value.length - 1]);

      // Each payment journaled at its settlement's close; the one the venue listed no rate for says so.
      const { records } = readJournal(`${fundingDir}/journal.jsonl`);
      const journaled = records.filter((r): r is Extract<JournalRecord, { k: 'funding' }> => r.k === 'funding');
      expect(journaled.map((r) => [r.ts, instruments[r.i]!.id, r.rate, r.pay])).toEqual(backtest.funding.map((f) => [f.ts, f.instrument, f.rate, f.payment]));
      expect(journaled.every((r) => r.t === r.ts && r.exec === `paper-${r.ts}-${r.i}`)).toBe(true);
      expect(journaled.filter((r) => r.fallback === true).map((r) => [r.ts, r.i])).toEqual([[hole, 0]]);
      const report = replayJournal(`${fundingDir}/journal.jsonl`, STRATEGIES);
      expect(report.divergence).toBeUndefined();
      expect(report.fills).toMatchObject({ unmatched: 0, maxPriceDiff: 0, maxFeeDiff: 0 });
      expect(report.funding).toEqual({ payments: journaled.length, paid: journaled.reduce((a, r) => a + r.pay, 0), source: 'paper' });
      expect(replayJournal(`${fundingDir}/journal.jsonl`, STRATEGIES, { fills: 'run' }).divergence).toBeUndefined();

      // Without its funding records the replay sizes from another equity: it diverges.
      const stripped = `${fundingDir}/stripped.jsonl`;
      writeFileSync(stripped, readFileSync(`${fundingDir}/journal.jsonl`, 'utf8').split('\n').filter((line) => !line.includes('"k":"funding"')).join('\n'));
      expect(replayJournal(stripped, STRATEGIES).divergence).toBeDefined();
    } finally {
      await m.close();
    }
  });

  it('follows the venue changing a contract\'s funding interval (8 h to 4 h, back, to 4 h again), across restarts (one saved at the close of a shorter interval\'s first settlement, before the close that lists it): every settlement charged at its rate, the first of a shorter interval late (at the next of the former one); tm replay charges each at the run\'s close', async () => {
    const fundingDir = tempDir('tm-live-interval-');
    const H = 3_600_000;
    const rates = frame.symbols.map((s) => readSharedFunding(`binance-futures/${s}-funding.csv.gz`));
    const grid8 = (k: number) => Math.ceil(frame.ts[WARMUP + k]! / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS;
    // BTC: 4 h from A to B (the venue says so from A's close on), 8 h again from B, 4 h from C + 4 h to the end (said
    // from C + 4 h's close on). The run learns a change from the venue's funding history: at A + 8 h's close it lists
    // A + 4 h (off the 8 h grid: the interval is asked, 4 h), at B + 4 h's it lists nothing (asked: 8 h, so no fallback).
    const A = grid8(60), B = A + 5 * 24 * H, C = grid8(250);
    const end = frame.ts[WARMUP + LIVE - 1]! + 4 * H;
    const extra: number[] = [];
    for (let s = A + 4 * H; s < B; s += 8 * H) extra.push(s);
    for (let s = C + 4 * H; s <= end; s += 8 * H) extra.push(s);
    const btcRows = [...Array.from(rates[0]!.ts, (ts, k) => [ts, rates[0]!.rate[k]!] as const), ...extra.map((ts, k) => [ts, 0.0001 + k * 1e-6] as const)].sort((a, b) => a[0] - b[0]);
    const btc = { ts: Float64Array.from(btcRows, (r) => r[0]), rate: Float64Array.from(btcRows, (r) => r[1]) };
    const tables = [btc, { ts: rates[1]!.ts, rate: rates[1]!.rate }];
    const fallback = { kind: 'constant', rate: 0.0002 } as const;
    const backtest = runBacktest(backtestSpec(frame, instruments, { warmupBars: WARMUP, runId: 'pari', slippage: new FixedBpsSlippage(2), initialCash: 100_000, funding: new TableFundingModel(tables, fallback) }), smaCrossover(PARAMS));
    const venueInstruments = DEFAULT_LINEAR_INSTRUMENTS.map((x) => ({ ...x }));
    const btcInfo = venueInstruments.find((x) => x['symbol'] === 'BTCUSDT')!;
    const m = await liveMarket(frame, startTs, { funding: { BTCUSDT: btc, ETHUSDT: tables[1]! }, instruments: { linear: venueInstruments } });
    const next = m.feed.next.bind(m.feed);
    m.feed.next = async (after: number) => {
      const set = await next(after);
      const close = set === undefined ? NaN : set.ts + 4 * H;
      if (close === A || close === C + 4 * H) btcInfo['fundingInterval'] = 240;
      if (close === B) btcInfo['fundingInterval'] = 480;
      return set;
    };
    const lines: string[] = [];
    // Three lives, each after the first starting (as the CLI does) with the interval the venue states then, 4 h. The
    // first saves the close of A + 4 h, the shorter interval's first settlement, which it cannot know of yet (the
    // venue's history lists it, but only the close of A + 8 h, the former interval's, asks): the second finds and
    // charges it at its first close, A + 8 h, as one life does. The third starts between A and B.
    const FIRST = frame.ts.indexOf(A) - WARMUP + 1;
    const RESTART = 75;
    expect(frame.ts[WARMUP + FIRST - 1]! + 4 * H).toBe(A + 4 * H);
    expect(frame.ts[WARMUP + RESTART]!).toBeGreaterThan(A + 8 * H);
    expect(frame.ts[WARMUP + RESTART]!).toBeLessThan(B);
    const life = (maxBars: number, dir = fundingDir) =>
      new LiveRunner(
        { runId: 'pari', mode: 'paper', instruments, timeframe: '4h', initialCash: 100_000, leverage: 10, dir, startTs, maxBars, paper: { slippage: new FixedBpsSlippage(2) }, config: CONFIG, funding: new PaperFundingRates(m.market, frame.symbols, [true, true], fallback, (line) => lines.push(line), [Number(btcInfo['fundingInterval']) * 60_000]) },
        { feed: m.feed, pacer: m.time, strategy: smaCrossover(PARAMS) },
      );
    try {
      const first = life(FIRST);
      expect((await first.run()).liveBars).toBe(FIRST);
      // The state names each instrument's last settlement settled (both A: BTC's 8 h grid as the first life knew it).
      const state = JSON.parse(readFileSync(`${fundingDir}/state.json`, 'utf8')) as { paperFunding?: unknown };
      expect(state.paperFunding).toEqual({ lastSettled: [A, A] });
      // One that does not name one time per instrument stops the next life with an error naming the field (in a copy of the run).
      const copy = tempDir('tm-live-interval-copy-');
      cpSync(fundingDir, copy, { recursive: true });
      writeFileSync(`${copy}/state.json`, JSON.stringify({ ...state, paperFunding: { lastSettled: [A] } }));
      await expect(life(1, copy).run()).rejects.toMatchObject({ code: 'runner_state_corrupt', message: expect.stringContaining('paperFunding.lastSettled must be 2 finite times') });
      const second = life(RESTART - FIRST);
      expect((await second.run()).liveBars).toBe(RESTART - FIRST);
      const runner = life(LIVE - RESTART);
      const summary = await runner.run();
      expect(summary.restarted).toBe(true);
      expect(summary.lastBarTs).toBe(frame.ts[WARMUP + LIVE - 1]);
      // The second life starts with 4 h (no change to log); the third sees the venue go back to 8 h and to 4 h again.
      expect(lines.filter((l) => l.includes('settles every'))).toEqual(['funding: BTCUSDT settles every 8 h now (was 4 h; the venue\'s fundingInterval)', 'funding: BTCUSDT settles every 4 h now (was 8 h; the venue\'s fundingInterval)']);
      const charged = [...first.kernel.fundingEvents, ...second.kernel.fundingEvents, ...runner.kernel.fundingEvents].map((f) => ({ ts: f.ts, instrument: instruments[f.instrument]!.id, rate: f.rate, markPrice: f.markPrice, position: f.position, payment: f.payment, source: f.source }));
      // Up to A + 4 h, exactly the backtest's payments; then the same settlements at the same rates (none lost, none
      // at a fallback), every 4 h from A to B...
      const before = (f: { ts: number }) => f.ts < A + 4 * H;
      expect(charged.filter(before)).toEqual(backtest.funding.filter(before));
      expect(charged.map((f) => [f.ts, f.instrument, f.rate])).toEqual(backtest.funding.map((f) => [f.ts, f.instrument, f.rate]));
      expect(charged.filter((f) => f.instrument === instruments[0]!.id && f.ts > A && f.ts < B).map((f) => f.ts - A)).toEqual(Array.from({ length: 29 }, (_, k) => (k + 1) * 4 * H));
      expect(charged.every((f) => f.source === 'table')).toBe(true);
      // ...the first of each shorter interval charged late, at the close of the former interval's next settlement (its mark and position then).
      const { records } = readJournal(`${fundingDir}/journal.jsonl`);
      const journaled = records.filter((r): r is Extract<JournalRecord, { k: 'funding' }> => r.k === 'funding');
      expect(journaled.filter((r) => r.t !== r.ts).map((r) => [r.i, r.ts, r.t])).toEqual([[0, A + 4 * H, A + 8 * H], [0, C + 4 * H, C + 8 * H]]);
      for (const s of [A, C]) {
        const late = charged.find((f) => f.ts === s + 4 * H && f.instrument === instruments[0]!.id)!;
        expect(late.markPrice).toBe(frame.close[0]![frame.ts.indexOf(s + 4 * H)]!);
      }
      // tm replay: each payment at the run's close, the late one too (before the settlements due there).
      const report = replayJournal(`${fundingDir}/journal.jsonl`, STRATEGIES);
      expect(report.divergence).toBeUndefined();
      expect(report.fills).toMatchObject({ unmatched: 0, maxPriceDiff: 0, maxFeeDiff: 0 });
      expect(report.funding).toEqual({ payments: journaled.length, paid: journaled.reduce((a, r) => a + r.pay, 0), source: 'paper' });
    } finally {
      await m.close();
    }
  });

  it('stopped and restarted from its state, continues exactly as the uninterrupted backtest', async () => {
    const restartDir = tempDir('tm-live-restart-');
    const backtest = runBacktest(backtestSpec(frame, instruments, { warmupBars: WARMUP, runId: 'par2', slippage: new FixedBpsSlippage(2), initialCash: 100_000 }), smaCrossover(PARAMS));
    const second = await liveMarket(frame, startTs);
    const make = (maxBars: number) => paperRunner('par2', restartDir, second, maxBars);
    try {
      const first = make(150);
      expect((await first.run()).liveBars).toBe(150);
      const again = make(LIVE - 150);
      const summary = await again.run();
      expect(summary.restarted).toBe(true);
      expect(summary.warmupBars).toBe(WARMUP); // replayed from the venue before the first new bar
      expect(summary.lastBarTs).toBe(frame.ts[WARMUP + LIVE - 1]);
      const fills = [...first.kernel.fills.filter((f) => f.tsEvent < frame.ts[WARMUP + 150]!), ...again.kernel.fills.filter((f) => f.tsEvent >= frame.ts[WARMUP + 150]!)];
      expect(again.kernel.fills.length).toBeGreaterThan(0);
      expect(fills.map((f) => [f.clientOrderId, f.side, f.quantity, f.price, f.fee])).toEqual(backtest.fills.map((f) => [f.clientOrderId, f.side, f.quantity, f.price, f.fee]));
      expect(again.kernel.equity()).toBe(backtest.equity.value[backtest.equity.value.length - 1]);
      const { records } = readJournal(`${restartDir}/journal.jsonl`);
      expect(records.filter((r) => r.k === 'start').map((r) => (r as { restart: boolean }).restart)).toEqual([false, true]);
      expect(replayJournal(`${restartDir}/journal.jsonl`, STRATEGIES).divergence).toBeUndefined();
    } finally {
      await second.close();
    }
  });
});
