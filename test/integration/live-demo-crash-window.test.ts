/**
 * The crash window of live-paper-parity's 'a life killed after sending orders but before saving its state…', in demo
 * mode (real ccxt through BybitExecutionClient against the local Bybit v5 venue): life A decides an order X at bar T,
 * journals its submit and is killed before saving its state (its state file is put back to the save before T); the
 * next life B restores that older state, reconciles with the venue and re-decides bar T under a warm-up protection
 * that never lifts. Either X reached the venue (B adopts it at reconciliation), it reached the venue and filled there
 * before B started, or it was lost in flight (the venue never had an order with its orderLinkId).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BybitExecutionClient } from '../../src/adapters/bybit/index.js';
import { BybitMarketDataClient } from '../../src/adapters/bybit/bybit-market-data-client.js';
import { FUNDING_INTERVAL_MS } from '../../src/backtest/execution-models.js';
import { runBacktest } from '../../src/backtest/run-backtest.js';
import { timeframeMs } from '../../src/core/time.js';
import { LiveBarFeed } from '../../src/live/bar-feed.js';
import { readJournal, type JournalRecord } from '../../src/live/journal.js';
import { VirtualTime } from '../../src/live/live-clock.js';
import { LiveRunner, type LiveRunSummary, type LiveStatus } from '../../src/live/live-runner.js';
import { liveSetup } from '../../src/live/live-setup.js';
import type { LiveRunnerState } from '../../src/live/runner-state.js';
import { replayJournal } from '../../src/live/replay.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { BybitV5Venue, TEST_API_KEY, TEST_API_SECRET, tradeByHand } from '../support/bybit-v5-venue.js';
import { runTm } from '../support/cli.js';
import { backtestSpec } from '../support/engine-scenarios.js';
import { demoSmaConfig, serverKlines, sharedFrame, VenueDrivingTime } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const CONFIG = demoSmaConfig('live-demo-window');
const WARMUP = 29;
const BARS = 120;
const AFTER = 8; // live bars of the last life after the lost one
const frame = sharedFrame('2024-01-01T00:00:00Z', WARMUP + BARS + 1);
const tf = timeframeMs('4h');
const startTs = frame.ts[WARMUP]!;
const setup = liveSetup(CONFIG, STRATEGIES);
const FOREVER = 365 * 86_400_000;
/** The feed of a life that only applies a stop (`tm live kill --now`): it ends before asking for a bar. */
const NO_BARS = { next: async () => undefined } as unknown as LiveBarFeed;
/** A trade somebody makes by hand on the run's account (another app, Bybit's web page): not of this run (`<runId>_`). */
const BY_HAND = { orderLinkId: 'by-hand-eth-1', symbol: 'ETHUSDT', side: 'Buy', qty: 0.1 } as const;

/**
 * The bar T (frame index) of the window: the decision of exactly one order (X), with no other decision on the two bars
 * before it nor on the bars after it that the last life runs (the backtest's decisions, which the demo run makes too).
 */
function windowBar(): number {
  const bt = runBacktest(backtestSpec(frame, setup.instruments, { warmupBars: WARMUP, runId: 'dwin', slippage: setup.slippage, fees: setup.fees, initialCash: 100_000 }), setup.strategy);
  const decided = bt.fills.map((f) => frame.ts.indexOf(f.ts) - 1); // filled at the next open
  for (const k of decided) {
    if (k < WARMUP + 10 || k + AFTER >= WARMUP + BARS) continue;
    if (decided.filter((d) => d >= k - 2 && d <= k + AFTER).length === 1) return k;
  }
  throw new Error('no isolated decision in the frame');
}

interface Outcome {
  readonly x: string;
  readonly records: readonly JournalRecord[];
  readonly starts: readonly number[];
  readonly venueIds: readonly string[];
  readonly runner: LiveRunner;
  /** What B's run() returned. */
  readonly summary: LiveRunSummary;
  readonly venue: BybitV5Venue;
  readonly dir: string;
  /** Entries of the venue's private request log before B started. */
  readonly privateLogAtB: number;
  /** Starts one more life after B for `maxBars` live bars (`unhalt`: as `tm live --unhalt`). */
  readonly again: (maxBars: number, options?: { readonly unhalt?: boolean }) => Promise<{ runner: LiveRunner; summary: LiveRunSummary }>;
}

describe('demo run: a life killed after sending an order but before saving its state, then a restart under warm-up protection', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  /**
   * Life 1 up to bar T-1 (its save is the checkpoint), life A bar T (decides X), state put back, life B from T under a
   * protection that never lifts. X's fate before B starts: `working` (at the venue, not filled yet), `filled` (no
   * life runs while the venue trades bar T+1, whose open fills X) or `lost` (in flight). `laggingExecutions`: the
   * venue's first answer to `/v5/execution/list` at B's start (its reconciliation's) is empty, as a listing that lags.
   * `manualTrade`: between the lives somebody trades ETHUSDT by hand on the same account ({@link BY_HAND}, a signed
   * market order of their own), filled at the venue before B starts. `failingOrderQueries`: from B's first live bar on,
   * every request to `/v5/order/realtime` (order queries and open-order listings) answers 5xx. `stopNow`: B is the
   * short life of `tm live kill --now` (`kill`) or `tm live stop --flatten --now` (`flatten`). `haltedByA`: somebody
   * buys ETHUSDT by hand before A starts ({@link BY_HAND}), so A's reconciliation halts ETHUSDT and A denies X (its
   * decision on ETHUSDT) under that halt; the trade is sold back by hand before B starts (B's reconciliation finds no
   * difference of its own). `breakerInA`: every life opens its venue breaker after one failed venue round; A trades
   * bars T-1 and T (the checkpoint is life 1's save before T-1), and every private request fails from bar T-1's print
   * until A ends: A's venue round after bar T-1 fails (a poll with no order to follow asks nothing), its breaker halts
   * every instrument, and A denies X under that halt. `releasedByA`: somebody buys ETHUSDT by hand before life 1, whose
   * reconciliation halts it (the checkpoint holds the halt); sold back before A, which starts with --unhalt (its release
   * of ETHUSDT journaled); bought by hand again before B.
   */
  async function scenario(runId: string, fate: 'working' | 'filled' | 'lost', options: { readonly laggingExecutions?: boolean; readonly manualTrade?: boolean; readonly failingOrderQueries?: boolean; readonly stopNow?: 'kill' | 'flatten'; readonly diedBeforeDeciding?: boolean; readonly haltedByA?: boolean; readonly breakerInA?: boolean; readonly releasedByA?: boolean; readonly fundingRate?: number; readonly failingFundingAsk?: boolean } = {}): Promise<Outcome> {
    const lostInFlight = fate === 'lost';
    /** X denied by A (a halt): it never leaves. */
    const deniedByA = options.haltedByA === true || options.breakerInA === true;
    /** A trades bars T-1 and T (the checkpoint is life 1's save before T-1). */
    const twoBarA = options.breakerInA === true || options.fundingRate !== undefined;
    const T = windowBar();
    const time = new VirtualTime(startTs);
    const venue = await BybitV5Venue.start({ server: { klines: serverKlines(frame) }, now: () => time.current(), slippageBps: 2, initialPrice: 1, recvWindowCheck: false });
    closers.push(() => venue.close());
    let bLive = false, aLive = false;
    const pacer = new VenueDrivingTime(time, frame, (k) => {
      if (options.breakerInA === true && aLive && k === T - 1) venue.injectFault('server_error', { count: 1_000_000 });
      // From B's first live bar on (after its reconciliation), every order query and listing fails: a venue outage.
      if (options.failingOrderQueries === true && bLive && k === T + 1) venue.injectFault('server_error', { path: '/v5/order/realtime', count: 1_000_000 });
      frame.symbols.forEach((s, i) => {
        venue.bar({ open: frame.open[i]![k]!, high: frame.high[i]![k]!, low: frame.low[i]![k]!, close: frame.close[i]![k]!, volume: frame.volume[i]![k]! }, s);
        // The venue charges funding at each close on the 00/08/16 UTC grid.
        if (options.fundingRate !== undefined && (frame.ts[k]! + tf) % FUNDING_INTERVAL_MS === 0) venue.settleFunding(options.fundingRate, s);
      });
    });
    const market = new BybitMarketDataClient({ apiUrl: venue.url, rateLimitMs: 1 });
    closers.push(() => market.close());
    const dir = tempDir('tm-live-demo-window-');
    /** A life of the run; `stopNow`: the short life of `tm live kill|stop --now` (as applyStopNow runs it: no warm-up, no bar). */
    const life = async (maxBars: number, restartProtectionMs = 0, unhalt = false, stopNow?: 'kill' | 'flatten'): Promise<{ runner: LiveRunner; summary: LiveRunSummary }> => {
      const killNow = stopNow !== undefined;
      const client = new BybitExecutionClient({ apiUrl: venue.url, rateLimitMs: 0, timeoutMs: 5_000, backoffBaseMs: 1, backoffMaxMs: 5 }, { instruments: setup.instruments, keys: { apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET }, clock: { now: () => pacer.current() }, env: {} });
      try {
        await client.prepare();
        const feed = killNow ? NO_BARS : new LiveBarFeed(market, frame.symbols, '4h', tf, pacer, { graceMs: 1_000, retryMs: 1_000, pageSize: 1000 });
        const runner = new LiveRunner(
          { runId, mode: 'demo', instruments: setup.instruments, timeframe: '4h', initialCash: 100_000, leverage: 10, dir, startTs, maxBars, warmupBars: killNow ? 0 : WARMUP, config: CONFIG, restartProtectionMs, unhalt, ...(killNow ? { stopWaitMs: 10_000 } : {}), ...(options.breakerInA === true ? { venueBreaker: { openAfter: 1 } } : {}) },
          { feed, pacer, strategy: killNow ? { name: setup.strategy.name } : liveSetup(CONFIG, STRATEGIES).strategy, venue: client },
        );
        if (stopNow === 'kill') runner.stop('kill switch (tm live kill)', { cancel: true, flatten: true, halt: true });
        if (stopNow === 'flatten') runner.stop('tm live stop', { cancel: true, flatten: true });
        return { runner, summary: await runner.run() };
      } finally {
        await client.close();
      }
    };
    /** Somebody trades ETHUSDT by hand on the run's account (a signed market order), filled by the next print. */
    const byHand = (side: 'Buy' | 'Sell', orderLinkId: string): Promise<void> => tradeByHand(venue, { symbol: BY_HAND.symbol, side, qty: BY_HAND.qty, orderLinkId }, time.current());
    if (options.releasedByA === true) await byHand('Buy', BY_HAND.orderLinkId);
    await life(T - WARMUP - (twoBarA ? 1 : 0));
    const checkpoint = readFileSync(`${dir}/state.json`);
    if (options.releasedByA === true) await byHand('Sell', `${BY_HAND.orderLinkId}-back`);
    // Lost in flight: the create request of X (and the client's one resend after finding no order) never arrive.
    const dropped = lostInFlight && !deniedByA; // denied by A, X never leaves: nothing to drop
    if (options.haltedByA === true) await byHand('Buy', BY_HAND.orderLinkId);
    if (dropped) venue.injectFault('dropped_connection', { path: '/v5/order/create', count: 2 });
    aLive = true;
    await life(twoBarA ? 2 : 1, 0, options.releasedByA === true);
    aLive = false;
    venue.clearInjectedFaults();
    expect(venue.faultCounts()['dropped_connection'] ?? 0).toBe(dropped ? 2 : 0);
    expect((venue.faultCounts()['server_error'] ?? 0) > 0).toBe(options.breakerInA === true);
    if (options.diedBeforeDeciding === true) {
      // A died between journaling bar T and deciding it: its journal ends with T's bar records (X lost in flight: the
      // venue never had it either).
      const lines = readFileSync(`${dir}/journal.jsonl`, 'utf8').split('\n');
      const lastBar = lines.findLastIndex((l) => l.startsWith('{"k":"bar"'));
      writeFileSync(`${dir}/journal.jsonl`, lines.slice(0, lastBar + 1).join('\n') + '\n');
    }
    if (fate === 'filled') {
      // A was killed right after sending X (before its save); time passes the close of bar T+1 before B starts.
      await time.waitUntil(frame.ts[T + 2]!);
      pacer.catchUp();
    }
    const venueIdsAfterA = venue.orders().map((o) => String(o['orderLinkId']));
    const statusBeforeB = new Map(venue.orders().map((o) => [String(o['orderLinkId']), o['orderStatus']]));
    writeFileSync(`${dir}/state.json`, checkpoint);
    if (options.manualTrade === true) {
      // The market trades on before B starts: the next print fills the order (no order of the run works there now).
      expect(venue.orders().filter((o) => o['orderStatus'] === 'New').map((o) => o['orderLinkId'])).toEqual([]);
      await byHand(BY_HAND.side, BY_HAND.orderLinkId);
    }
    if (options.haltedByA === true) await byHand('Sell', `${BY_HAND.orderLinkId}-back`);
    if (options.releasedByA === true) await byHand('Buy', `${BY_HAND.orderLinkId}-again`);
    // The venue's execution listing lags at B's start: its first answer (B's reconciliation) misses X's execution.
    if (options.laggingExecutions === true) venue.injectFault('stale_read', { path: '/v5/execution/list', count: 1 });
    // The venue fails B's second execution listing: the first is its reconciliation's, the second its funding ask before bar T-1.
    if (options.failingFundingAsk === true) venue.server.inject({ path: '/v5/execution/list', after: 1, count: 1, fault: { kind: 'http_status', status: 502, body: 'Bad Gateway' } });
    bLive = true;
    const privateLogAtB = venue.privateLog.length;
    let bDone = false;
    const bLife = life(AFTER, FOREVER, false, options.stopNow).finally(() => void (bDone = true));
    if (options.stopNow !== undefined) {
      // The market trades on while the kill's short life waits for its flatten: a print fills its market orders.
      const flattening = () => venue.orders().some((v) => v['reduceOnly'] === true && v['orderStatus'] === 'New');
      while (!bDone) {
        if (flattening()) frame.symbols.forEach((s) => venue.trade(venue.lastPrice(s), Infinity, s));
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const { runner, summary } = await bLife;
    expect(venue.faultCounts()['stale_read'] ?? 0).toBe(options.laggingExecutions === true ? 1 : 0);
    const { records } = readJournal(`${dir}/journal.jsonl`);
    const starts = records.flatMap((r, k) => (r.k === 'start' ? [k] : []));
    expect(starts).toHaveLength(3);
    const sentByA = records.slice(starts[1]!, starts[2]!).flatMap((r) => (r.k === 'submit' || (deniedByA && r.k === 'event' && r.e === 'denied') ? [r.id] : []));
    expect(sentByA).toHaveLength(options.diedBeforeDeciding === true ? 0 : 1);
    // Denied by A: the venue never had it.
    if (deniedByA) expect(fate).toBe('lost');
    // X reached the venue, or never did; B starts with it working, filled, or unknown there.
    expect(venueIdsAfterA.includes(sentByA[0]!)).toBe(!lostInFlight);
    expect(statusBeforeB.get(sentByA[0]!)).toBe({ working: 'New', filled: 'Filled', lost: undefined }[fate]);
    // No life journaled a fill of X before B.
    expect(records.slice(0, starts[2]).filter((r) => r.k === 'fill' && r.id === sentByA[0])).toEqual([]);
    const again = (maxBars: number, more: { readonly unhalt?: boolean } = {}) => life(maxBars, 0, more.unhalt === true);
    return { x: sentByA[0] ?? '', records, starts, venueIds: venue.orders().map((o) => String(o['orderLinkId'])), runner, summary, venue, dir, privateLogAtB, again };
  }

  /** Records of life B (from its start record on), and what it did with X. */
  function lifeB(o: Outcome) {
    const b = o.records.slice(o.starts[2]!);
    return {
      submits: b.flatMap((r) => (r.k === 'submit' ? [r.id] : [])),
      denied: b.flatMap((r) => (r.k === 'event' && r.e === 'denied' ? [r.id] : [])),
      adopted: b.flatMap((r) => (r.k === 'reconcile' && r.kind === 'adopted_order' ? [String(r.detail['id'])] : [])),
      xFills: o.records.flatMap((r) => (r.k === 'fill' && r.id === o.x ? [r.exec] : [])),
    };
  }

  /** The differences B's reconciliation found, in order (their kinds). */
  function reconciledAtB(o: Outcome): string[] {
    return o.records.slice(o.starts[2]!).flatMap((r) => (r.k === 'reconcile' ? [r.kind] : []));
  }

  /**
   * Every case ends the same: X is one order at the venue, filled once, each of its executions journaled exactly once
   * and booked on B's order X, the runner's positions are the venue's, and tm replay of the journal agrees.
   */
  function expectConsistent(o: Outcome): void {
    expect(new Set(o.venueIds).size).toBe(o.venueIds.length); // one venue order per orderLinkId
    const x = o.venue.orders().filter((v) => v['orderLinkId'] === o.x);
    expect(x.map((v) => v['orderStatus'])).toEqual(['Filled']);
    const execs = o.venue.executions().filter((e) => e['orderLinkId'] === o.x).map((e) => String(e['execId']));
    expect(execs.length).toBeGreaterThan(0);
    // Every execution of X journaled once in the whole journal (no life journaled X's fills before B: all by B).
    expect(lifeB(o).xFills).toEqual(execs);
    const booked = o.runner.kernel.order(o.x);
    expect(booked?.status).toBe('FILLED');
    expect(booked?.filledQuantity).toBeCloseTo(Number(x[0]!['cumExecQty']), 9);
    frame.symbols.forEach((s, i) => expect(o.runner.kernel.position(i)).toBeCloseTo(o.venue.position(s), 9));
    // The runner's cash is the venue's wallet balance (every fee and realized PnL booked once), to the venue's rounding.
    expect(Math.abs(o.runner.kernel.portfolio.cash - o.venue.walletBalance())).toBeLessThan(1e-6);
    // At the run's fills (the default) and at the models' prices, which the venue's fills are within half a tick of.
    for (const fills of ['run', 'model'] as const) {
      const report = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES, { fills });
      expect(report.divergence).toBeUndefined();
      const denied = lifeB(o).denied.length;
      expect(report.denied).toEqual({ live: denied, replay: denied });
      expect(report.fills.unmatched).toBe(0);
      expect(report.fills.maxPriceDiff).toBeLessThanOrEqual(fills === 'run' ? 1e-9 : Math.max(...setup.instruments.map((x) => x.tickSize)) / 2 + 1e-9);
    }
  }

  it('(a) X reached the venue: B adopts it at reconciliation, does not send or deny it again, books its fill; the venue holds it once and tm replay agrees', async () => {
    const o = await scenario('dwa', 'working');
    const b = lifeB(o);
    // X taken over, and nothing else differs: the balance is compared as the wallet balance against the runner's cash.
    // (Compared as equity, B's marks, its saved state's closes, against the venue's marks now, it differed by 355 USDT
    // in cases a–c: a difference, and the critical reconciliation alert, at every restart after the prices moved.)
    expect(reconciledAtB(o)).toEqual(['adopted_order']);
    expect(b.adopted).toEqual([o.x]);
    expect(b.submits).toEqual([]); // nothing new passed the protection, X was not sent twice
    expect(b.denied).not.toContain(o.x);
    expectConsistent(o);
  }, 120_000);

  it('(b) X lost in flight (the venue never had its orderLinkId): B sends it again under its id through the protection; the venue holds it once and tm replay agrees', async () => {
    // Before the fix B's warm-up protection denied X (same id, `risk: warm-up protection…`): the venue never had it,
    // the journal kept a submit of an order the account never had, and tm replay diverged at X (index 3).
    const o = await scenario('dwb', 'lost');
    const b = lifeB(o);
    expect(reconciledAtB(o)).toEqual([]); // the venue never had X: nothing differs at B's start
    expect(b.adopted).toEqual([]);
    expect(b.submits).toEqual([o.x]); // sent again, and nothing else passed the protection
    expect(b.denied).not.toContain(o.x);
    const again = o.records.slice(o.starts[2]!).find((r) => r.k === 'submit')!;
    const first = o.records.slice(o.starts[1]!, o.starts[2]!).find((r) => r.k === 'submit')!;
    expect({ ...again, t: 0 }).toEqual({ ...first, t: 0 }); // the same decision (side, quantity), under the same id
    expectConsistent(o);
  }, 120_000);

  it('(c) X reached the venue and filled there before B started: B adopts it at reconciliation from the venue\'s executions, books that fill once and never sends X again; the venue holds it once and tm replay agrees', async () => {
    const o = await scenario('dwc', 'filled');
    const b = lifeB(o);
    // X is not open at the venue, but its execution is listed: reconciliation takes the order over (FILLED) and books
    // the fill it missed, before B re-decides bar T. The re-decision repeats X's id, which the kernel holds: not sent.
    const reconciled = o.records.slice(o.starts[2]!).flatMap((r) => (r.k === 'reconcile' && r.detail['id'] === o.x ? [[r.kind, r.kind === 'missed_fill' ? r.detail['execution'] : r.detail['status']]] : []));
    const execs = o.venue.executions().filter((e) => e['orderLinkId'] === o.x).map((e) => String(e['execId']));
    expect(reconciled).toEqual([['adopted_order', 'FILLED'], ...execs.map((e) => ['missed_fill', e])]);
    expect(reconciledAtB(o)).toEqual(['adopted_order', ...execs.map(() => 'missed_fill')]); // booked: the balances agree
    expect(b.adopted).toEqual([o.x]);
    expect(b.submits).toEqual([]); // nothing new passed the protection, X was not sent twice
    expect(b.denied).not.toContain(o.x);
    // One create request under X's id in the venue's log (A's): B sent no second one (hence no 110072 answer either).
    expect(o.venue.privateLog.filter((e) => e.path === '/v5/order/create' && e.orderLinkId === o.x).map((e) => e.outcome)).toEqual(['ok']);
    expect(o.venue.faultCounts()['duplicate_order_link_id']).toBeUndefined();
    expectConsistent(o);
  }, 120_000);

  it('(d) X filled before B started, but the venue\'s execution listing lags at B\'s start: B halts ETHUSDT (positions differ), takes X over unsent from its journal instead of denying it, books its fill when it is listed; the venue holds X once, the halt stays, tm replay agrees', async () => {
    // Reconciliation cannot see X's execution: the restored position differs from the venue's and the instrument is
    // halted (a human looks first). Before the fix B's re-decision of X (same id) was then denied (`risk:
    // instrument_halted`, order X REJECTED); the execution, listed after bar T, was booked on that REJECTED order: the
    // account took it, the order state machine refused the fill (REJECTED takes none; a failed venue round), X stayed
    // REJECTED with its quantity filled, and tm replay counted a denial its backtest does not make (1 live vs 0).
    const o = await scenario('dwd', 'filled', { laggingExecutions: true });
    const b = lifeB(o);
    expect(b.denied).toEqual([]); // X not denied: it had left with A (before the fix: [X])
    expect(o.runner.kernel.order(o.x)?.status).toBe('FILLED'); // (before the fix: REJECTED, its quantity filled)
    // The fill went through the order state machine (SUBMITTED → FILLED): no failed venue round (before the fix: 1).
    expect(o.runner.venueErrors).toBe(0);
    const eth = frame.symbols.indexOf('ETHUSDT');
    const x = o.records.slice(o.starts[1]!, o.starts[2]!).find((r) => r.k === 'submit')!;
    expect(x).toMatchObject({ k: 'submit', id: o.x, i: eth });
    const afterB = o.records.slice(o.starts[2]!);
    const at = (pred: (r: JournalRecord) => boolean) => afterB.findIndex(pred);
    const mismatch = at((r) => r.k === 'reconcile' && r.kind === 'position_mismatch' && r.detail['instrument'] === setup.instruments[eth]!.id);
    const halted = at((r) => r.k === 'state' && r.state === `HALTED ${setup.instruments[eth]!.id}`);
    const takenOver = at((r) => r.k === 'reconcile' && r.kind === 'adopted_order' && r.detail['id'] === o.x);
    const filled = at((r) => r.k === 'fill' && r.id === o.x);
    // The listing lagged: no missed fill at reconciliation; ETHUSDT halted, then X taken over from the journal
    // (SUBMITTED: sent by A, its fate the venue's) before bar T is decided again, and its fill booked after that bar.
    expect(afterB.filter((r) => r.k === 'reconcile' && r.kind === 'missed_fill')).toEqual([]);
    // The fill unbooked, the venue's wallet balance differs from B's cash too (by X's realized PnL and fee): reported.
    expect(reconciledAtB(o)).toEqual(['position_mismatch', 'balance_mismatch', 'adopted_order']);
    const balance = afterB.find((r): r is Extract<JournalRecord, { k: 'reconcile' }> => r.k === 'reconcile' && r.kind === 'balance_mismatch')!;
    const xFill = o.venue.executions().find((e) => e['orderLinkId'] === o.x)!;
    expect(Number(balance.detail['venue']) - Number(balance.detail['runner'])).toBeLessThan(-Number(xFill['execFee']));
    expect([mismatch, halted, takenOver].every((k) => k >= 0)).toBe(true);
    expect(mismatch < halted && halted < takenOver && takenOver < filled).toBe(true);
    expect(afterB[takenOver]).toMatchObject({ detail: { id: o.x, status: 'SUBMITTED', from: 'journal' } });
    expect(b.adopted).toEqual([o.x]);
    expect(b.submits).toEqual([]); // nothing sent under the halt (nor through the protection)
    expect(o.venue.privateLog.filter((e) => e.path === '/v5/order/create' && e.orderLinkId === o.x).map((e) => e.outcome)).toEqual(['ok']);
    expectConsistent(o); // among others: X FILLED once, positions the venue's, tm replay without divergence, denied 0 and 0
    // Positions agree again, but the mismatch halt is not lifted by the run: only an operator does (tm live --unhalt).
    expect(o.runner.kernel.risk.isInstrumentHalted(eth)).toBe(true);
    expect(o.runner.status(0, 0, false).halted.map((h) => h.instrument)).toEqual([setup.instruments[eth]!.id]);
  }, 120_000);

  it('(e) X lost in flight, and ETHUSDT halted at B\'s start by a trade made by hand: B takes X over unsent from its journal, sends nothing, finds by its in-flight queries that the venue never had X and declares it lost; the halt stays, tm replay agrees at the run\'s fills and reports where the run left the backtest at the models\'', async () => {
    // Between the lives somebody buys ETHUSDT by hand on the account (not an order of this run: reconciliation books
    // none of it), so B's restored position differs from the venue's and ETHUSDT is halted. X (on ETHUSDT) was lost
    // with A: reconciliation cannot adopt it (the venue never had it), and the halt keeps it from being sent again as in
    // case b. Taken over unsent, it is SUBMITTED in B's kernel, an order whose fate only the venue can tell: B's in-flight
    // check asks for it after each bar and, the venue never knowing it, declares it lost (REJECTED) — instead of
    // denying the decision the crashed life had sent (case d's bug) or holding it SUBMITTED for ever.
    const o = await scenario('dwe', 'lost', { manualTrade: true });
    const b = lifeB(o);
    const eth = frame.symbols.indexOf('ETHUSDT');
    const ethId = setup.instruments[eth]!.id;
    const x = o.records.slice(o.starts[1]!, o.starts[2]!).find((r): r is Extract<JournalRecord, { k: 'submit' }> => r.k === 'submit')!;
    expect(x).toMatchObject({ k: 'submit', id: o.x, i: eth });
    const afterB = o.records.slice(o.starts[2]!);
    const at = (pred: (r: JournalRecord) => boolean) => afterB.findIndex(pred);
    const mismatch = at((r) => r.k === 'reconcile' && r.kind === 'position_mismatch' && r.detail['instrument'] === ethId);
    const halted = at((r) => r.k === 'state' && r.state === `HALTED ${ethId}`);
    const takenOver = at((r) => r.k === 'reconcile' && r.kind === 'adopted_order' && r.detail['id'] === o.x);
    const lost = at((r) => r.k === 'event' && r.e === 'rejected' && r.id === o.x);
    // The one difference at B's start is the trade by hand (its fee, below the balance's tolerance, is no difference): no
    // fill missed, nothing resent, X not adopted from the venue; the take-over is the journal's.
    expect(afterB.flatMap((r) => (r.k === 'reconcile' ? [r.kind] : []))).toEqual(['position_mismatch', 'adopted_order']);
    const { detail } = afterB[mismatch] as Extract<JournalRecord, { k: 'reconcile' }>;
    expect(Number(detail['venue']) - Number(detail['runner'])).toBeCloseTo(BY_HAND.qty, 9);
    // ETHUSDT halted at reconciliation, X taken over from the journal (SUBMITTED: sent by A, its fate the venue's)
    // before bar T is decided again, then declared lost by the in-flight check.
    expect([mismatch, halted, takenOver, lost].every((k) => k >= 0)).toBe(true);
    expect(mismatch < halted && halted < takenOver && takenOver < lost).toBe(true);
    expect(afterB[takenOver]).toMatchObject({ detail: { id: o.x, status: 'SUBMITTED', from: 'journal' } });
    expect(b.adopted).toEqual([o.x]);
    // One query after each bar from the one after the take-over on (the default inFlightMs of 10 s is less than a bar
    // of the pacer's time); unknown to the third (maxQueries 3), X is lost at the close of bar T+3.
    expect((afterB[lost] as Extract<JournalRecord, { k: 'event' }>).t - x.t).toBe(3 * tf);
    expect(o.summary.lostOrders).toEqual([o.x]);
    const booked = o.runner.kernel.order(o.x);
    expect(booked?.status).toBe('REJECTED');
    expect(booked?.reason).toMatch(/^lost: /);
    expect(booked?.filledQuantity).toBe(0);
    expect(o.runner.venueErrors).toBe(0);
    // Never sent again: B sent nothing (under the halt, nor through the protection); the venue's log holds A's two
    // create requests of X, both dropped, and the venue has no order under X's id.
    expect(b.submits).toEqual([]);
    expect(b.denied).not.toContain(o.x);
    expect(o.venue.privateLog.filter((e) => e.path === '/v5/order/create' && e.orderLinkId === o.x).map((e) => e.outcome)).toEqual(['fault', 'fault']);
    expect(o.venue.orders().filter((v) => v['orderLinkId'] === o.x)).toEqual([]);
    expect(b.xFills).toEqual([]);
    // X lost, the strategy still wants its direction on ETHUSDT: it decides again on each bar after the loss (T+4 to
    // T+7), new orders that the warm-up protection (checked before the halt) denies. Nothing else is decided.
    const denials = afterB.filter((r): r is Extract<JournalRecord, { k: 'event' }> => r.k === 'event' && r.e === 'denied');
    expect(b.denied).toHaveLength(AFTER - 4);
    expect(b.denied.every((id) => o.runner.kernel.order(id)?.instrument === eth)).toBe(true);
    expect(denials.every((r) => r.reason?.startsWith('risk: warm-up protection') === true)).toBe(true);
    expect(afterB.indexOf(denials[0]!)).toBeGreaterThan(lost);
    // Positions: the runner's are the venue's but for the trade by hand, which is not the run's (its executions are
    // not booked: not under `<runId>_`). That difference is what the halt stands for: not lifted by the run, only by an
    // operator (tm live --unhalt), after the loss of X as before it.
    expect(o.runner.kernel.order(BY_HAND.orderLinkId)).toBeUndefined();
    expect(o.records.filter((r) => r.k === 'fill' && r.id === BY_HAND.orderLinkId)).toEqual([]);
    frame.symbols.forEach((s, i) => expect(o.runner.kernel.position(i) + (s === BY_HAND.symbol ? BY_HAND.qty : 0)).toBeCloseTo(o.venue.position(s), 9));
    expect(o.runner.kernel.risk.isInstrumentHalted(eth)).toBe(true);
    expect(o.runner.status(0, 0, false).halted.map((h) => h.instrument)).toEqual([ethId]);
    // tm replay at the models' prices: its backtest fills X at the open after bar T (a backtest loses no order), so its
    // strategy holds the direction and decides nothing more in the window. The decisions sent are the same (X among
    // them); the first difference is B's first denial after the loss, and X's fill is the one fill the run does not
    // have: the run left the backtest's path where the venue lost X.
    const report = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES, { fills: 'model' });
    // At the run's fills (the default), X is held as the run held it and refused when the run declared it lost: the
    // replay agrees with the run.
    const atRun = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(atRun.divergence).toBeUndefined();
    expect(atRun.denied).toEqual({ live: b.denied.length, replay: b.denied.length });
    expect(atRun.fills.unmatched).toBe(0);
    expect(atRun.fills.maxPriceDiff).toBeLessThan(1e-9);
    expect(report.liveDecisions).toBe(report.replayDecisions);
    expect(report.divergence).toEqual({ index: -1, live: { id: b.denied[0], instrument: -1, side: 'denied', type: 'denied', quantity: 0 }, replay: undefined });
    expect(report.denied).toEqual({ live: b.denied.length, replay: 0 });
    expect(report.fills.unmatched).toBe(1);
    expect(report.fills.replay - report.fills.live).toBe(1);
    // ETHUSDT's halt reason is still the trade by hand: X's loss is listed on its own, in status.json and state.json,
    // in later lives too, until the operator restarts with --unhalt.
    const saved = () => ({
      status: JSON.parse(readFileSync(`${o.dir}/status.json`, 'utf8')) as LiveStatus,
      state: JSON.parse(readFileSync(`${o.dir}/state.json`, 'utf8')) as LiveRunnerState,
    });
    const lostX = [{ id: o.x, instrument: ethId, ts: (afterB[lost] as Extract<JournalRecord, { k: 'event' }>).t, reason: expect.stringMatching(/^order \S+ unknown to the venue after 3 queries$/) }];
    expect(saved().status.halted).toEqual([{ instrument: ethId, reason: expect.stringMatching(/^position differs from the venue's/) }]);
    expect(saved().status.lostOrders).toEqual(lostX);
    expect(saved().state.lostOrders).toEqual(lostX);
    const shown = await runTm(['live', 'status', '--dir', o.dir]);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(new RegExp(`^HALTED ${ethId}: position differs from the venue's`, 'm'));
    expect(shown.out).toMatch(new RegExp(`^LOST ${o.x} \\(${ethId}\\) at \\S+: order ${o.x} unknown to the venue after 3 queries; listed until a restart with --unhalt$`, 'm'));
    const c = await o.again(1);
    expect(c.summary.lostOrders).toEqual([]); // none lost by this life…
    expect(saved().status.lostOrders).toEqual(lostX); // …and the earlier loss still listed
    expect(saved().state.lostOrders).toEqual(lostX);
    const d = await o.again(1, { unhalt: true });
    expect(d.summary.lostOrders).toEqual([]);
    expect(saved().status.lostOrders).toEqual([]);
    expect(saved().state.lostOrders).toBeUndefined();
    // Unhalted, ETHUSDT is halted again by the next reconciliation: the trade by hand is still on the account.
    expect(saved().status.halted).toEqual([{ instrument: ethId, reason: expect.stringMatching(/^position differs from the venue's/) }]);
  }, 180_000);

  it('(e\') as (e), but every order query fails from B\'s first live bar on: a query that fails is no answer, X is not declared lost, stays SUBMITTED (taken over) and is never sent again; the halt stays', async () => {
    // Before the fix the in-flight check counted a failed query as "unknown to the venue": three 5xx answers declared X
    // lost (REJECTED) though the venue was not asked at all — had it held X, X's fill would come to a REJECTED order.
    const o = await scenario('dwf', 'lost', { manualTrade: true, failingOrderQueries: true });
    const b = lifeB(o);
    const eth = frame.symbols.indexOf('ETHUSDT');
    expect(b.adopted).toEqual([o.x]);
    // X queried after each bar from the one after the take-over on, every query failed (the 5xx of the outage).
    const queries = o.venue.privateLog.slice(o.privateLogAtB).filter((e) => e.path === '/v5/order/realtime' && e.orderLinkId === o.x);
    expect(queries.length).toBeGreaterThanOrEqual(AFTER - 1);
    expect(queries.every((e) => e.fault === 'server_error')).toBe(true);
    expect(o.summary.lostOrders).toEqual([]); // (before the fix: [X])
    expect(o.records.slice(o.starts[2]!).filter((r) => r.k === 'event' && r.id === o.x)).toEqual([]);
    expect(o.runner.kernel.order(o.x)?.status).toBe('SUBMITTED');
    expect(b.submits).toEqual([]);
    expect(b.denied).not.toContain(o.x);
    expect(o.venue.privateLog.filter((e) => e.path === '/v5/order/create' && e.orderLinkId === o.x).map((e) => e.outcome)).toEqual(['fault', 'fault']);
    expect(o.runner.kernel.risk.isInstrumentHalted(eth)).toBe(true);
  }, 120_000);

  /**
   * (f) and (f'): life B is the short life of `tm live kill --now` (no bar). X's bar T is in the run's history: B adopts
   * what reached the venue, and its kill applies after bar T (engine time T's close) with ids after the ones A made at
   * that time, as tm replay applies it. The next life starts after bar T, HALTED and flat.
   */
  async function expectKilledAfterT(o: Outcome): Promise<void> {
    const b = lifeB(o);
    const afterB = o.records.slice(o.starts[2]!);
    expect(afterB.filter((r) => r.k === 'bar')).toEqual([]);
    const x = o.records.slice(o.starts[1]!, o.starts[2]!).find((r): r is Extract<JournalRecord, { k: 'submit' }> => r.k === 'submit')!;
    const shutdown = afterB.find((r): r is Extract<JournalRecord, { k: 'event' }> => r.k === 'event' && r.e === 'shutdown')!;
    expect(shutdown).toMatchObject({ id: 'halt', t: x.t });
    // The flatten's ids: at T's close, each after every id A made at that time on its instrument (X's is sequence 0).
    expect(b.submits.length).toBeGreaterThan(0);
    // All sent by the kill's flatten, at once (none left for the stop's wait to send: Kernel.flattenUncovered).
    expect(o.runner.kernel.risk.flattens.map((f) => f.orders)).toEqual([b.submits]);
    const [, , xInstrument, xTime] = o.x.split('_');
    for (const id of b.submits) {
      const [, , instrument, time, sequence] = id.split('_');
      expect(time).toBe(xTime);
      expect(sequence).toBe(instrument === xInstrument ? '1' : '0');
    }
    frame.symbols.forEach((s) => expect(o.venue.position(s)).toBe(0));
    expect(o.runner.kernel.tradingState).toBe('HALTED');
    const before = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(before.divergence).toBeUndefined();
    expect(before.fills.unmatched).toBe(0);
    expect(before.undone.bars).toBe(0);
    // The next life (no --unhalt) trades from the bar after T: HALTED, nothing sent, still flat; the journal replays.
    const c = await o.again(2);
    expect(c.summary.liveBars).toBe(2);
    const { records } = readJournal(`${o.dir}/journal.jsonl`);
    const cRecords = records.slice(records.findLastIndex((r) => r.k === 'start'));
    expect(cRecords.find((r) => r.k === 'bar' && r.warmup === undefined)).toMatchObject({ ts: frame.ts[windowBar() + 1] });
    expect(cRecords.filter((r) => r.k === 'submit')).toEqual([]);
    frame.symbols.forEach((s) => expect(o.venue.position(s)).toBe(0));
    const after = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(after.divergence).toBeUndefined();
    expect(after.fills.unmatched).toBe(0);
  }

  // (f) Before, the kill applied at the restored state's time (T-1's close): its flatten's ids were not the replay's, and
  // tm replay left bar T out (a bar no later life traded) while X was sent: diverging at X. (f') The flatten of X's
  // instrument is decided at X's time: with the sequence A used (0) its id would be X's, and the kernel, holding X, would
  // take it for X decided again and not send it (the stop's wait then sent a second flatten).
  it.each([
    ['(f) X reached the venue, and the run is killed with tm live kill --now before any life trades again: the short life adopts X and cancels it, flattens after bar T; flat, HALTED, and tm replay agrees', 'dwk', 'working', 'Cancelled'],
    ['(f\') as (f), but X filled at the venue before the kill: its position is flattened by an order of its own id, not taken for X', 'dwl', 'filled', 'Filled'],
  ] as const)('%s', async (_, runId, fate, status) => {
    const o = await scenario(runId, fate, { stopNow: 'kill' });
    expect(lifeB(o).adopted).toEqual([o.x]);
    expect(o.venue.orders().filter((v) => v['orderLinkId'] === o.x).map((v) => v['orderStatus'])).toEqual([status]);
    await expectKilledAfterT(o);
  }, 120_000);

  it('(g) A died between journaling bar T and deciding it (no decision journaled), then tm live kill --now: the kill applies after the restored state\'s bar, tm replay leaves bar T out; the next life decides T again, HALTED', async () => {
    const o = await scenario('dwm', 'lost', { stopNow: 'kill', diedBeforeDeciding: true });
    const T = windowBar();
    const afterB = o.records.slice(o.starts[2]!);
    expect(afterB.find((r) => r.k === 'event' && r.e === 'shutdown')).toMatchObject({ id: 'halt', t: frame.ts[T] }); // T-1's close
    frame.symbols.forEach((s) => expect(o.venue.position(s)).toBe(0));
    const killed = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(killed.divergence).toBeUndefined();
    expect(killed.undone.bars).toBe(1);
    expect(killed.fills.unmatched).toBe(0);
    // The next life starts at bar T: it decides X again, denied (HALTED), as the replay denies it.
    await o.again(2);
    const { records } = readJournal(`${o.dir}/journal.jsonl`);
    const c = records.slice(records.findLastIndex((r) => r.k === 'start'));
    expect(c.find((r) => r.k === 'bar' && r.warmup === undefined)).toMatchObject({ ts: frame.ts[T] });
    expect(c.filter((r) => r.k === 'submit')).toEqual([]);
    const again = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(again.divergence).toBeUndefined();
    expect(again.undone.bars).toBe(0);
    expect(again.denied.live).toBeGreaterThan(0);
  }, 120_000);

  // (h) Before, B restored the state from before A's halt and passed bar T without it: B's saved state (stop --flatten
  // does not halt) let the next life trade ETHUSDT, and tm replay dropped the halt (journaled by a life that never saved
  // it) and sent X where the run had denied it.
  it.each([
    ['(h) A halts ETHUSDT at its reconciliation (a trade by hand) and denies X under that halt, then dies before saving; tm live stop --flatten --now: the short life passes bar T with A\'s halt, keeps it in its state; tm replay denies X too; the next life trades on with ETHUSDT halted', 'dwh', 'flatten'],
    ['(h\') as (h), with tm live kill --now', 'dwi', 'kill'],
  ] as const)('%s', async (_, runId, stopNow) => {
    const o = await scenario(runId, 'lost', { stopNow, haltedByA: true });
    const T = windowBar();
    const eth = frame.symbols.indexOf('ETHUSDT');
    const ethId = setup.instruments[eth]!.id;
    const a = o.records.slice(o.starts[1]!, o.starts[2]!);
    const halt = a.findIndex((r) => r.k === 'state' && r.state === `HALTED ${ethId}`);
    const denial = a.findIndex((r) => r.k === 'event' && r.e === 'denied' && r.id === o.x);
    expect(halt).toBeGreaterThanOrEqual(0);
    expect(halt).toBeLessThan(denial);
    expect(a[denial]).toMatchObject({ t: frame.ts[T + 1], reason: expect.stringMatching(/instrument_halted/) });
    expect(a.filter((r) => r.k === 'submit')).toEqual([]);
    const afterB = o.records.slice(o.starts[2]!);
    // B: nothing differs at its start (the trade was sold back); its stop applies after bar T, with A's halt applied
    // again (journaled as a reconciliation: A's state record is the one tm replay applies).
    expect(reconciledAtB(o)).toEqual(['crashed_state']);
    expect(afterB.filter((r) => r.k === 'state' && r.state.endsWith(ethId))).toEqual([]);
    expect(afterB.find((r) => r.k === 'reconcile')).toMatchObject({ t: frame.ts[T + 1], detail: { state: `HALTED ${ethId}`, reason: (a[halt] as Extract<JournalRecord, { k: 'state' }>).reason, from: 'journal' } });
    expect(afterB.find((r) => r.k === 'event' && r.e === 'shutdown')).toMatchObject({ id: stopNow === 'kill' ? 'halt' : 'flatten', t: frame.ts[T + 1] });
    expect(o.runner.kernel.risk.isInstrumentHalted(eth)).toBe(true);
    expect(o.runner.kernel.tradingState).toBe(stopNow === 'kill' ? 'HALTED' : 'ACTIVE');
    const saved = JSON.parse(readFileSync(`${o.dir}/status.json`, 'utf8')) as LiveStatus;
    // The kill halts the account (every instrument listed under it, the last halt); a stop lists ETHUSDT's own halt.
    if (stopNow === 'kill') expect(saved.halted).toEqual(setup.instruments.map((x) => ({ instrument: x.id, reason: 'kill switch (tm live kill)' })));
    else expect(saved.halted).toEqual([{ instrument: ethId, reason: expect.stringMatching(/^position differs from the venue's/) }]);
    frame.symbols.forEach((s) => expect(o.venue.position(s)).toBeCloseTo(0, 9));
    const report = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(report.divergence).toBeUndefined();
    expect(report.denied).toEqual({ live: 1, replay: 1 });
    // A's halt kept (before: dropped as journaled by a life whose state no later life restored, `undone.states` 1; the
    // replay then sent ETHUSDT's orders the next life denied).
    expect(report.instrumentHalts).toBe(1);
    expect(report.undone.states).toBe(0);
    expect(report.undone.bars).toBe(0);
    // The next life trades from T+1 with ETHUSDT halted (its orders there denied); the journal replays.
    const c = await o.again(4);
    expect(c.runner.kernel.risk.isInstrumentHalted(eth)).toBe(true);
    const { records } = readJournal(`${o.dir}/journal.jsonl`);
    const cRecords = records.slice(records.findLastIndex((r) => r.k === 'start'));
    expect(cRecords.find((r) => r.k === 'bar' && r.warmup === undefined)).toMatchObject({ ts: frame.ts[T + 1] });
    expect(cRecords.filter((r) => r.k === 'submit' && r.i === eth)).toEqual([]);
    // The strategy still wants X's direction on ETHUSDT: it decides again after T, denied (ETHUSDT halted; after the
    // kill, the account: the strategy's other decisions too).
    const denials = cRecords.filter((r): r is Extract<JournalRecord, { k: 'event' }> => r.k === 'event' && r.e === 'denied');
    const onEth = denials.filter((r) => c.runner.kernel.order(r.id)?.instrument === eth);
    expect(onEth.length).toBeGreaterThan(0);
    expect(denials.every((r) => r.reason!.startsWith(stopNow === 'kill' ? 'risk: trading_state HALTED' : 'risk: instrument_halted'))).toBe(true);
    if (stopNow === 'flatten') expect(onEth).toEqual(denials);
    const after = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(after.divergence).toBeUndefined();
    expect(after.fills.unmatched).toBe(0);
  }, 120_000);

  // (j) Before, B's reconciliation halt was a no-op (the restored state held ETHUSDT halted: no state record), and A's
  // release applied after it (LiveRunner.applyCrashedStates) saved ETHUSDT as trading while its position differed.
  it('(j) ETHUSDT halted in the saved state (a trade by hand), sold back; A starts with --unhalt (releases it), sends X and dies; bought by hand again; tm live stop --flatten --now: B\'s reconciliation finds ETHUSDT differing, and A\'s release applied again does not let it trade: B halts it again; tm replay agrees before and after the next life, which denies ETHUSDT', async () => {
    const o = await scenario('dwj', 'working', { stopNow: 'flatten', releasedByA: true });
    const eth = frame.symbols.indexOf('ETHUSDT');
    const ethId = setup.instruments[eth]!.id;
    const life1 = o.records.slice(0, o.starts[1]!);
    expect(life1.filter((r) => r.k === 'state' && r.state === `HALTED ${ethId}`)).toHaveLength(1);
    const a = o.records.slice(o.starts[1]!, o.starts[2]!);
    expect(a.filter((r) => r.k === 'state' && r.state.endsWith(ethId)).map((r) => (r as Extract<JournalRecord, { k: 'state' }>).state)).toEqual([`ACTIVE ${ethId}`]);
    const afterB = o.records.slice(o.starts[2]!);
    // (X, filled by the print of the trade by hand, is taken over and booked first.)
    expect(reconciledAtB(o).filter((k) => k === 'position_mismatch' || k === 'crashed_state')).toEqual(['position_mismatch', 'crashed_state']);
    expect(afterB.find((r) => r.k === 'reconcile' && r.kind === 'crashed_state')).toMatchObject({ detail: { state: `ACTIVE ${ethId}`, reason: 'unhalted by the operator (tm live --unhalt)' } });
    // B's own halt, journaled after A's release applied again.
    const halts = afterB.filter((r) => r.k === 'state' && r.state.endsWith(ethId));
    expect(halts).toMatchObject([{ state: `HALTED ${ethId}`, reason: expect.stringMatching(/^position differs from the venue's \(\S+ vs \S+\) after reconciliation$/) }]);
    expect(afterB.indexOf(halts[0]!)).toBeGreaterThan(afterB.findIndex((r) => r.k === 'reconcile' && r.kind === 'crashed_state'));
    expect(o.runner.kernel.risk.isInstrumentHalted(eth)).toBe(true);
    const saved = JSON.parse(readFileSync(`${o.dir}/status.json`, 'utf8')) as LiveStatus;
    expect(saved.halted).toEqual([{ instrument: ethId, reason: expect.stringMatching(/^position differs from the venue's/) }]);
    const report = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(report.divergence).toBeUndefined();
    // The next life: ETHUSDT still differs (the trade by hand is open) and stays halted; the journal replays.
    const c = await o.again(4);
    expect(c.runner.kernel.risk.isInstrumentHalted(eth)).toBe(true);
    const { records } = readJournal(`${o.dir}/journal.jsonl`);
    const cRecords = records.slice(records.findLastIndex((r) => r.k === 'start'));
    expect(cRecords.filter((r) => r.k === 'submit' && r.i === eth)).toEqual([]);
    const after = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(after.divergence).toBeUndefined();
    expect(after.fills.unmatched).toBe(0);
  }, 120_000);

  it('(i) A\'s venue breaker opens after bar T-1 (every private request fails) and halts every instrument, A denies X and dies before saving; tm live stop --flatten --now: the short life keeps the halts as the breaker\'s, and the next life\'s breaker closes and releases them; tm replay agrees', async () => {
    // Re-applied as halts of no one's, the breaker's halts would outlive it: only --unhalt would release them.
    const o = await scenario('dwn', 'lost', { stopNow: 'flatten', breakerInA: true });
    const T = windowBar();
    const ids = setup.instruments.map((x) => x.id);
    const a = o.records.slice(o.starts[1]!, o.starts[2]!);
    expect(a.filter((r) => r.k === 'state').map((r) => (r as Extract<JournalRecord, { k: 'state' }>).state)).toEqual(ids.map((id) => `HALTED ${id}`));
    expect(a.find((r) => r.k === 'event' && r.e === 'denied')).toMatchObject({ id: o.x, t: frame.ts[T + 1], reason: expect.stringMatching(/instrument_halted/) });
    const afterB = o.records.slice(o.starts[2]!);
    expect(afterB.filter((r) => r.k === 'reconcile').map((r) => (r as Extract<JournalRecord, { k: 'reconcile' }>).detail['state'])).toEqual(ids.map((id) => `HALTED ${id}`));
    ids.forEach((_, i) => expect(o.runner.kernel.risk.isInstrumentHalted(i)).toBe(true));
    const saved = JSON.parse(readFileSync(`${o.dir}/state.json`, 'utf8')) as LiveRunnerState;
    expect(saved.breakerHalted).toEqual(ids.map((_, i) => i));
    expect(replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES).divergence).toBeUndefined();
    // The next life: two good venue rounds (before and after bar T+1) close the breaker, which releases its halts.
    const c = await o.again(3);
    const { records } = readJournal(`${o.dir}/journal.jsonl`);
    const cRecords = records.slice(records.findLastIndex((r) => r.k === 'start'));
    expect(cRecords.filter((r) => r.k === 'state').map((r) => (r as Extract<JournalRecord, { k: 'state' }>).state)).toEqual(ids.map((id) => `ACTIVE ${id}`));
    expect(cRecords.find((r) => r.k === 'state')).toMatchObject({ reason: expect.stringMatching(/^venue breaker closed/) });
    ids.forEach((_, i) => expect(c.runner.kernel.risk.isInstrumentHalted(i)).toBe(false));
    const after = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(after.divergence).toBeUndefined();
    expect(after.fills.unmatched).toBe(0);
  }, 120_000);
  it('(l) as (k), and the venue fails B\'s funding ask before bar T-1 (its execution listing answers 502): B books the payment its reconciliation listed all the same, before that bar\'s decisions, as A did (a 40-life demo campaign diverged there: B decided without it, the next life with it)', async () => {
    const o = await scenario('dwl', 'working', { fundingRate: 0.001, failingFundingAsk: true });
    const b = o.records.slice(o.starts[2]!);
    const failed = o.venue.server.requests.filter((r) => r.path === '/v5/execution/list' && r.status === 502);
    expect(failed).toHaveLength(1);
    const funding = (from: number, to?: number) => o.records.slice(from, to).flatMap((r) => (r.k === 'funding' ? [[r.exec, r.t, r.ts] as const] : []));
    const byA = funding(o.starts[1]!, o.starts[2]!), byB = funding(o.starts[2]!);
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.slice(0, byA.length)).toEqual(byA);
    // Booked before B's first decision of bar T-1 (its close), as A booked it.
    const firstDecision = b.findIndex((r) => (r.k === 'submit' || (r.k === 'event' && r.e === 'denied')) && r.t === frame.ts[windowBar()]!);
    const firstPayment = b.findIndex((r) => r.k === 'funding');
    expect(firstPayment).toBeGreaterThan(0);
    if (firstDecision >= 0) expect(firstPayment).toBeLessThan(firstDecision);
    expect(Math.abs(o.runner.kernel.portfolio.cash - o.venue.walletBalance())).toBeLessThan(1e-6);
    const report = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(report.divergence).toBeUndefined();
    expect(report.fills.unmatched).toBe(0);
  }, 120_000);
  it('(k) the venue charges funding: A books the payment settled at bar T-1\'s close and dies before saving; B books it again, once, at the same engine time (it waits at B\'s reconciliation for the bar that reaches its settlement); the runner\'s cash is the venue\'s wallet and tm replay counts it once', async () => {
    const o = await scenario('dwk', 'working', { fundingRate: 0.001 });
    const funding = (from: number, to?: number) => o.records.slice(from, to).flatMap((r) => (r.k === 'funding' ? [[r.exec, r.t, r.ts] as const] : []));
    const byA = funding(o.starts[1]!, o.starts[2]!), byB = funding(o.starts[2]!);
    const settledAtT = frame.ts[windowBar()]!; // bar T-1's close
    expect(byA.length).toBeGreaterThan(0);
    expect(byA.every(([, t, ts]) => t === settledAtT - tf && Math.floor(ts / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS === settledAtT)).toBe(true);
    // B: not at its reconciliation (engine time T-1's open, before the settlement) but before bar T-1's decisions, as A.
    expect(byB.slice(0, byA.length)).toEqual(byA);
    const b = o.records.slice(o.starts[2]!);
    const blockSet = b.findIndex((r) => r.k === 'event' && r.e === 'entry_block' && r.id === 'set'); // set after reconciliation
    expect(blockSet).toBeGreaterThan(0);
    expect(b.findIndex((r) => r.k === 'funding')).toBeGreaterThan(blockSet);
    // Every payment of the venue's journaled; each once in the account: the runner's cash is the venue's wallet.
    const venueFunding = o.venue.executions().filter((e) => e['execType'] === 'Funding').map((e) => String(e['execId']));
    const journaled = new Set(o.records.flatMap((r) => (r.k === 'funding' ? [r.exec] : [])));
    expect([...journaled].sort()).toEqual([...venueFunding].sort());
    frame.symbols.forEach((s, i) => expect(o.runner.kernel.position(i)).toBeCloseTo(o.venue.position(s), 9));
    expect(Math.abs(o.runner.kernel.portfolio.cash - o.venue.walletBalance())).toBeLessThan(1e-6);
    const report = replayJournal(`${o.dir}/journal.jsonl`, STRATEGIES);
    expect(report.divergence).toBeUndefined();
    expect(report.fills.unmatched).toBe(0);
    expect(report.funding.payments).toBe(venueFunding.length);
  }, 120_000);
});
