import { AppError } from '../core/app-error.js';
import { parseClientOrderId } from '../core/client-order-id.js';
import type { OrderSnapshot } from '../core/order.js';
import { timeframeMs } from '../core/time.js';
import type { BarFrame } from '../data/bar-frame.js';
import { TableFundingModel } from '../backtest/execution-models.js';
import { runBacktest } from '../backtest/run-backtest.js';
import type { FillPrice, SimulatedExecutionClient } from '../backtest/simulated-execution-client.js';
import type { ExperimentConfig } from '../backtest/run-experiment.js';
import type { Kernel } from '../engine/kernel.js';
import { TRADING_STATES, type TradingState } from '../engine/risk/trading-state.js';
import type { StrategyFactory } from '../engine/strategy.js';
import { journaledStateChange, passedLifeRange } from './crashed-life.js';
import { readJournal, type JournalRecord } from './journal.js';
import { liveSetup, regimesFromJson } from './live-setup.js';
import { applyShutdown, isShutdownAction, STOP_CLOSING_ROUNDS, type ShutdownAction } from './shutdown.js';

export type ReplayErrorCode = 'replay_no_start' | 'replay_no_config' | 'replay_no_bars' | 'replay_bar_conflict' | 'replay_bad_state' | 'replay_bad_shutdown';
export class ReplayError extends AppError<ReplayErrorCode> {}

/** One order decision: what the strategy asked for (the journal's `submit` record, or the backtest's order). */
export interface ReplayDecision {
  readonly id: string;
  readonly instrument: number;
  readonly side: string;
  readonly type: string;
  readonly quantity: number;
  /** Limit price, absent for market orders. */
  readonly price?: number;
}

/** The first place a live run and its replay disagree. */
export interface ReplayDivergence {
  /** Index of the decision among those sent (-1: among those the pre-trade risk denied, which then differ). */
  readonly index: number;
  readonly live: ReplayDecision | undefined;
  readonly replay: ReplayDecision | undefined;
}

export interface ReplayReport {
  readonly runId: string;
  readonly bars: number;
  readonly warmupBars: number;
  /**
   * Bar times journaled live only by lives whose work the next life undid (a crash after the bar, before the state
   * was saved, then a life that traded no bar again: a stop with --now), and a paper run's orders sent on them, lost
   * with the crashed life: left out of the replay and of the live decisions and fills. `states`: state changes (halts,
   * releases, the account's by hand) a life journaled after the state the next life restored: not applied.
   */
  readonly undone: { readonly bars: number; readonly orders: number; readonly states: number };
  readonly liveDecisions: number;
  readonly replayDecisions: number;
  /** Orders the pre-trade risk denied, live and in the replay. */
  readonly denied: { readonly live: number; readonly replay: number };
  /** Halts and releases of single instruments the live run journaled (lost orders, refused fills, position differences, the venue breaker, `--unhalt`), applied in the replay. */
  readonly instrumentHalts: number;
  /** The account's state changes by hand the live run journaled (the kill switch's HALTED, `--unhalt`'s ACTIVE), applied in the replay. */
  readonly accountStates: number;
  /** Stops with an action (cancel, flatten, kill switch) the live run journaled, applied in the replay after the same bar. */
  readonly shutdowns: number;
  /**
   * The run's funding payments and their sum (paid by the account): a venue run's, booked in the replay at the run's
   * fills (each once); a paper run's, those the replay charged at the rates the run journaled (a charge a crashed life
   * made on a bar the next life undid, and not made again, is not counted).
   */
  readonly funding: { readonly payments: number; readonly paid: number; readonly source: 'venue' | 'paper' };
  readonly divergence: ReplayDivergence | undefined;
  /**
   * Fills of the run vs the backtest's, matched by order id: largest price and fee differences (quote units).
   * `prices`: what the replay filled at (see {@link ReplayOptions.fills}); `unmatchedIds`: the first 10 orders filled
   * by one side only or in other quantities.
   */
  readonly fills: { readonly prices: ReplayFills; readonly live: number; readonly replay: number; readonly maxPriceDiff: number; readonly maxFeeDiff: number; readonly unmatched: number; readonly unmatchedIds: readonly string[] };
}

/** What a replay's orders fill at: the run's own fills (`run`), or the experiment's fill and fee models (`model`). */
export type ReplayFills = 'run' | 'model';
export const REPLAY_FILLS: readonly ReplayFills[] = ['run', 'model'];

export interface ReplayOptions {
  /**
   * `run` (the default for venue runs: demo, testnet, mainnet): each order the run journaled fills of fills at their
   * price (volume-weighted) and fee, whenever the replay's venue fills it, so the replay's account is the run's and
   * a decision sized from equity is compared with the run's as made from the same account; only orders without a
   * journaled fill fill as the models say. The price comparison of the report is then of the replay with the run
   * (0 unless the replay's venue refused or capped a fill), not of the venue with the models. `model` (the default
   * for paper runs, whose fills are the models'): every order fills as the experiment's fill and fee models say, as a
   * backtest does; against a venue the first fill at another price than the models' changes equity, and decisions
   * sized from it diverge in quantity from there on.
   */
  readonly fills?: ReplayFills;
}

/**
 * Reruns a live run's bars (the journal's, warm-up included) through the backtester with the run's experiment
 * config, and compares the order decisions one by one (id, instrument, side, type, quantity, limit price): the
 * first difference is the divergence. Orders fill at the run's own fills or as the models say (`options.fills`, see
 * {@link ReplayOptions}); fills are compared by order id.
 *
 * What the venue and the operator did to the run is applied as the run had it: its entry blocks (from the bar time
 * they were set at); its halts and releases of single instruments and the account's state changes by hand (the kill
 * switch's HALTED, `--unhalt`'s ACTIVE), each from the first live bar the run journaled after it (the run decides a
 * bar right after journaling it: a halt journaled before a bar was in force for the decisions of that bar), except
 * those a life journaled after the state the next life restored (the start record's `stateBytes`; but for a venue
 * life stopped before its first bar, those of the crashed life whose bars it passed, which it applied again), so that
 * orders the run's halts denied are denied in the replay too; and its stops with an action (`tm live stop`, with or
 * without `--flatten`, and `tm live kill`), applied after the stopped life's last bar as the runner applied them, the
 * flattening orders filled at the marks as a paper run fills them; and the races its strategy's cancels lost (the
 * venue filled the order first, then refused the cancel), the order filled at the run's price before the cancel
 * reaches the replay's venue. The account's other state changes are not applied: the replay's risk engine makes
 * its drawdown and daily-loss changes itself.
 * @throws ReplayError when the journal has no start record, no experiment config, no bars, two different bars for one
 * time, a state record that names no instrument of the run or no trading state, or a shutdown record of no action.
 */
export function replayJournal(path: string, strategies: Readonly<Record<string, StrategyFactory>>, options: ReplayOptions = {}): ReplayReport {
  const { records, offsets } = readJournal(path);
  const start = records.find((r): r is Extract<JournalRecord, { k: 'start' }> => r.k === 'start');
  if (start === undefined) throw new ReplayError('replay_no_start', `journal ${path} has no start record`, { path });
  const config = start.config as ExperimentConfig | undefined;
  if (config === undefined || typeof config !== 'object') throw new ReplayError('replay_no_config', `journal ${path}: its start record carries no experiment config (runs started by tm live carry one)`, { path });
  const setup = liveSetup(config, strategies, start.regimes !== undefined ? { regimes: regimesFromJson(start.regimes) } : {});
  const n = setup.instruments.length;
  const tf = timeframeMs(setup.timeframe);

  // Bars by time (a restart journals its warm-up bars again: they must be the same bars). State changes (of single
  // instruments, and the account's by hand) by the bar time they took effect at: the next live bar journaled after
  // them. Stops with an action at the last live bar journaled before them (the stopped life's last bar).
  const byTs = new Map<number, (Extract<JournalRecord, { k: 'bar' }> | undefined)[]>();
  const ids = setup.instruments.map((x) => x.id);
  /** instrument −1: the account; `offset`: its record's byte offset in the journal. */
  type Change = { readonly instrument: number; readonly state: TradingState; readonly reason: string; readonly offset: number };
  const changes: (Change & { readonly ts: number })[] = [];
  const pending: Change[] = [];
  /**
   * `fill`: whether its orders are filled at the marks before the next (see the shutdown records below). `raced`: orders
   * the venue filled before the stop's cancel reached them (a `cancel-rejected` event after the stop, and a fill of the
   * same order after it): the replay fills them first, and closes what they opened as the run did.
   */
  const shutdowns: { ts: number; passed?: number; readonly action: ShutdownAction; readonly reason: string; fill: boolean; readonly raced: string[]; readonly filledFirst: string[]; sent: readonly string[]; readonly at: number; readonly offset: number; only?: ReadonlySet<number> }[] = [];
  let lastLive = -Infinity;
  /** Index of the last live bar record read. */
  let lastLiveAt = -1;
  /** Index of the last live bar record read of each bar time. */
  const liveAtByTs = new Map<number, number>();
  /**
   * The life being read (from its start record): its first live bar (its warm-up record's time: the bar after the
   * state it restored) and its last live bar. A life that crashed after journaling a bar and before saving its state
   * leaves that bar in the journal; the next life restores the state before it and trades it again, journaling it
   * again: a bar journaled live only by lives whose work the next life undid is not in the run's history (`undone`).
   */
  let lifeFrom = -Infinity, lifeLast = -Infinity;
  /** The bar times with a live record, and those of them undone. */
  const liveTimes = new Set<number>(), undone = new Set<number>();
  /** Each id sent, and the latest time it was sent at. */
  const sentAt = new Map<string, number>();
  /**
   * A paper run's orders sent by a life on a bar the next life undid (decided at or after its first live bar), never
   * sent again by a later life: the paper venue the next life restored never had them. Not the run's decisions, nor are
   * their fills. (A venue run's orders were sent: the next life adopts what reached the venue, and their bar is undone
   * only when a later life decides it again.)
   */
  const lost = new Set<string>();
  const paper = start.mode === 'paper';
  const prices: ReplayFills = options.fills ?? (paper ? 'model' : 'run');
  /**
   * Each id the pre-trade risk denied, and the latest time it was denied at; the denials a life made on a bar the next
   * life undid (decided at or after its first live bar) and not denied again later: the next life decided them anew,
   * from the state before them (sent if it was no longer halted or blocked, e.g. started with `--unhalt`). In any mode:
   * a denied order never left the engine.
   */
  const deniedAt = new Map<string, number>();
  const undoneDenials = new Set<string>();
  /** Spans of the journal (byte offsets, from, until) that no state a later life restored holds. */
  const notSaved: [number, number][] = [];
  /** The same spans, whole: those of {@link notSaved} are cut below where a stop passed a crashed life's bars (its state changes were in force then). */
  const lifeSpans: (readonly [number, number])[] = [];
  /** Marks the live bars at or after `from` undone, the orders sent after it lost (paper) and the denials after it undone. */
  const undoFrom = (from: number): void => {
    for (const t of liveTimes) if (t >= from) undone.add(t);
    if (paper) for (const [id, t] of sentAt) if (t > from) lost.add(id);
    for (const [id, t] of deniedAt) if (t > from) undoneDenials.add(id);
  };
  /** The latest live bar at or after `from` a life journaled a decision of (an order sent or denied at its close), or −Infinity. */
  const lastDecided = (from: number): number => {
    const closes = new Set([...sentAt.values(), ...deniedAt.values()]);
    let last = -Infinity;
    for (const t of liveTimes) if (t >= from && t > last && closes.has(t + tf)) last = t;
    return last;
  };
  /** A venue run's life that restored a state before bars journaled live: they are undone at its first live bar. */
  let undoPending = false;
  /** The last shutdown pushed, while none of its orders filled (−1: none). */
  let unfilledShutdown = -1;
  /** The orders sent since the last shutdown (its cancels' and flatten's): a fill of one of them ends {@link unfilledShutdown}. */
  const sinceShutdown = new Set<string>();
  /** Whether the records read are a stop's (from its `shutdown` event to the next live bar): its cancels race on their own (`racedAfter`). */
  let stopping = false;
  /** The cancels journaled at a bar's close outside a stop (the strategy's): see {@link lostCancels}. */
  const barCancels: number[] = [];
  /** The start record's index of each venue life stopped before its first bar that passed a crashed life's bars → the close of the last of them. */
  const passedBy = new Map<number, number>();
  /** The life being read: its start record's index, and the index in {@link notSaved} of the span it did not restore (−1: none). */
  let lifeStartAt = -1, lifeNotSaved = -1;
  for (const [at, r] of records.entries()) {
    if (r.k === 'start') {
      lifeFrom = lifeLast = -Infinity;
      undoPending = false; // the life before traded no bar: it undid nothing
      // A restart's state was saved when the journal was `stateBytes` long: what lives journaled after that and before
      // this start is not in it (they ended before saving again).
      lifeStartAt = at;
      lifeNotSaved = r.stateBytes !== undefined ? notSaved.push([r.stateBytes, offsets[at]!]) - 1 : -1;
      if (r.stateBytes !== undefined) lifeSpans.push([r.stateBytes, offsets[at]!]);
      continue;
    }
    if (r.k === 'event' && r.e === 'warmup') {
      lifeFrom = r.t;
      // A paper life undoes at its start what lives journaled after its state: its paper venue never had their orders.
      // At a venue those orders were sent (the life adopts what reached the venue), so the bars they were decided at
      // are undone only by a life that trades them again: from its first live bar on (not by a life that trades none,
      // such as the short life of tm live stop|kill --now, which cancels and flattens what it adopted).
      if (paper) undoFrom(lifeFrom);
      else undoPending = true;
      continue;
    }
    if (r.k === 'event' && r.e === 'denied') {
      deniedAt.set(r.id, Math.max(r.t, deniedAt.get(r.id) ?? -Infinity));
      undoneDenials.delete(r.id);
      continue;
    }
    if (r.k === 'submit') {
      sinceShutdown.add(r.id);
      sentAt.set(r.id, Math.max(r.t, sentAt.get(r.id) ?? -Infinity));
      lost.delete(r.id);
    }
    // A fill of another order (a strategy's order the venue filled before the stop's cancel reached it) leaves the
    // stop's own orders unfilled.
    if (r.k === 'fill' && sinceShutdown.has(r.id)) unfilledShutdown = -1;
    if (r.k === 'state') {
      // The account's state: its changes by hand are applied (the kill switch's HALTED, --unhalt's ACTIVE); those of
      // its limits the replay's risk engine makes itself (journals written before `trigger` was recorded: none applied).
      const c = journaledStateChange(r, ids);
      if (c === undefined) continue;
      if (c.instrument === -2) {
        const what = r.state.includes(' ') ? `names no instrument of the run (${ids.join(', ')}) with HALTED or ACTIVE` : `is none of ${TRADING_STATES.join(', ')}`;
        throw new ReplayError('replay_bad_state', `journal ${path}: ${r.state.includes(' ') ? '' : 'account '}state record ${JSON.stringify(r.state)} ${what}`, { path, state: r.state });
      }
      pending.push({ instrument: c.instrument, state: c.state as TradingState, reason: c.reason, offset: offsets[at]! });
      continue;
    }
    if (r.k === 'cancel' && !stopping) barCancels.push(at);
    if (r.k === 'event' && r.e === 'shutdown') {
      stopping = true;
      if (!isShutdownAction(r.id)) throw new ReplayError('replay_bad_shutdown', `journal ${path}: shutdown record names ${JSON.stringify(r.id)}, expected cancel, flatten or halt`, { path, action: r.id });
      // The stopping life's last bar: its own last live bar. A life stopped before its first bar (a stop saved while the
      // run was down, tm live kill --now) stops after the bar of the state it restored, which can be before bars a
      // crashed life journaled (undone unless a later life trades them again); at a venue, after the last of those bars
      // whose decisions the crashed life journaled: its orders were sent, the life adopted what reached the venue and
      // applied its stop after them (LiveRunner.passCrashedBars).
      let after = lifeLast > -Infinity ? lifeLast : lifeFrom > -Infinity ? Math.min(lastLive, lifeFrom - tf) : lastLive;
      if (lifeLast === -Infinity && lifeFrom > -Infinity && !paper) {
        const decided = lastDecided(lifeFrom);
        after = Math.max(after, decided);
        if (decided > -Infinity) passedBy.set(lifeStartAt, decided + tf);
        undoPending = false;
        undoFrom(after + tf); // a crashed bar with no decision journaled: the life may have died before deciding it
        // The state changes the crashed life that decided the last passed bar journaled up to it were in force at the
        // stop, and the stopping life applied them again (LiveRunner.applyCrashedStates): cut out of the span of the
        // journal this life did not restore, so they are kept.
        const span = notSaved[lifeNotSaved];
        if (decided > -Infinity && span !== undefined) {
          let from = lifeStartAt;
          while (from > 0 && offsets[from - 1]! >= span[0]) from--;
          const range = passedLifeRange(records, from, lifeStartAt, decided, tf);
          if (range !== undefined) notSaved.splice(lifeNotSaved, 1, [span[0], offsets[range[0]]!], [offsets[range[1]]!, span[1]]);
          lifeNotSaved = -1; // split once (a second stop of this life passes the same bars)
        }
      }
      // Before any live bar nothing was traded: nothing to cancel or flatten (its HALTED is a state record of its own).
      if (after > -Infinity) {
        // A stop that came while the one before was waiting for its orders (tm live kill during a stop's flatten), with
        // no fill between: the run applied it to the earlier stop's orders still working; so does the replay (the
        // earlier stop's orders are not filled at the marks first).
        const before = shutdowns[unfilledShutdown];
        if (before !== undefined && before.ts === after) before.fill = false;
        sinceShutdown.clear();
        unfilledShutdown = shutdowns.push({ ts: after, ...(passedBy.has(lifeStartAt) ? { passed: lifeStartAt } : {}), action: r.id, reason: r.reason ?? 'stop', fill: true, raced: racedAfter(records, at, prices === 'run'), filledFirst: filledBetween(records, Math.min(liveAtByTs.get(after) ?? lastLiveAt, lifeStartAt), at), sent: sentByStop(records, at), at, offset: offsets[at]! }) - 1;
      }
      continue;
    }
    if (r.k !== 'bar') continue;
    if (r.warmup === undefined) {
      stopping = false;
      if (undoPending) {
        undoPending = false;
        undoFrom(lifeFrom);
        // A stop placed after a crashed life's bars it passed (their decisions came first) that this life trades again:
        // the stop's orders reached the venue before this life began, so it takes effect before this life's decisions.
        for (const x of shutdowns) {
          if (x.passed === undefined || x.ts < lifeFrom) continue;
          x.ts = lifeFrom - tf;
          passedBy.delete(x.passed);
          x.passed = undefined;
        }
      }
      for (const c of pending.splice(0)) changes.push({ ts: r.ts, ...c });
      lastLive = lifeLast = r.ts;
      lastLiveAt = at;
      liveAtByTs.set(r.ts, at);
      liveTimes.add(r.ts);
      undone.delete(r.ts);
    }
    const row = byTs.get(r.ts) ?? new Array<Extract<JournalRecord, { k: 'bar' }> | undefined>(n).fill(undefined);
    const held = row[r.i];
    if (held !== undefined && (held.o !== r.o || held.h !== r.h || held.l !== r.l || held.c !== r.c || held.v !== r.v)) {
      throw new ReplayError('replay_bar_conflict', `journal ${path}: two different bars of instrument ${r.i} at ${new Date(r.ts).toISOString()}`, { path, ts: r.ts });
    }
    // A bar journaled live and again as a restart's warm-up keeps its live record (the signal its decision saw).
    if (held === undefined || held.warmup !== undefined) row[r.i] = r;
    byTs.set(r.ts, row);
  }
  for (const t of undone) byTs.delete(t);
  let firstLive = Infinity;
  for (const t of liveTimes) if (t < firstLive && !undone.has(t)) firstLive = t;
  if (byTs.size === 0 || firstLive === Infinity) throw new ReplayError('replay_no_bars', `journal ${path} holds no live bars`, { path });
  const ts = Float64Array.from([...byTs.keys()].sort((a, b) => a - b));
  const T = ts.length;
  const col = () => Array.from({ length: n }, () => new Float64Array(T).fill(NaN));
  const open = col(), high = col(), low = col(), close = col(), volume = col();
  const present = Array.from({ length: n }, () => new Uint8Array(T));
  // The model column: the signals the live run computed, as journaled with each bar (the cache path of its stage).
  const signal = setup.modelColumn !== undefined ? col() : undefined;
  ts.forEach((t, k) => {
    byTs.get(t)!.forEach((b, i) => {
      if (b === undefined) return;
      open[i]![k] = b.o;
      high[i]![k] = b.h;
      low[i]![k] = b.l;
      close[i]![k] = b.c;
      volume[i]![k] = b.v;
      present[i]![k] = 1;
      if (signal !== undefined) signal[i]![k] = b.s ?? NaN;
    });
  });
  const frame: BarFrame = { venue: config.data.venue, timeframe: setup.timeframe, symbols: setup.symbols, ts, open, high, low, close, volume, present, missing: { policy: 'nan', filled: present.map((p) => p.length - p.reduce((a, b) => a + b, 0)) } };
  let warmupBars = 0;
  while (warmupBars < T && ts[warmupBars]! < firstLive) warmupBars++;

  // The live run's entry blocks (warm-up protection, failed warm-up gates), each from the bar time it was set at.
  // A stop's short life that passed a crashed life's bars (`passedBy`) changed its block after their decisions: the
  // warm-up protection the crashed life decided them under was in force for them.
  const blocks: { readonly t: number; readonly id: string; readonly reason?: string }[] = [];
  let blockLife = -1;
  for (const [k, r] of records.entries()) {
    if (r.k === 'start') blockLife = k;
    else if (r.k === 'event' && r.e === 'entry_block') blocks.push({ t: Math.max(r.t, passedBy.get(blockLife) ?? -Infinity), id: r.id, ...(r.reason !== undefined ? { reason: r.reason } : {}) });
  }
  // State changes journaled by a life that ended before saving them were not in force after it: e.g. an --unhalt life's
  // ACTIVE when the next life restored the HALTED state before it (journals written before starts recorded their
  // state's length keep them all).
  const journaledChanges = changes.length;
  changes.splice(0, journaledChanges, ...changes.filter((c) => !notSaved.some(([from, until]) => c.offset >= from && c.offset < until)));
  // Stable: changes of one bar time keep their journal order.
  changes.sort((a, b) => a.ts - b.ts);
  // A venue run's stop journaled by a life that died before saving it: the next life restored the state before it and
  // applied the request again (it stays saved until a state saying it was applied is). Of the dead stop's orders, those
  // that never reached the venue it sent again under the same ids; those that had filled there it adopted, filled, and
  // its stop found nothing to close for them. Then the dead stop did not happen: the next one's orders are the run's,
  // each counted where it was first sent. It did when the next life adopted one still working: its stop canceled it
  // and closed the position with an order of its own. Both, instrument by instrument: the dead stop happened for the
  // instruments with such an order only (one order adopted still working, another never sent: the next stop sent
  // that one again under its id, and a new one for the first).
  /** Indices of the submit records of the stops (or of their instruments) left out below that the next life sent again. */
  const voidSubmits = new Set<number>();
  if (!paper) {
    const kept: typeof shutdowns = [];
    for (const x of shutdowns) {
      const next = records.findIndex((r, k) => k > x.at && r.k === 'start');
      if (x.sent.length === 0 || next < 0 || !lifeSpans.some(([from, until]) => x.offset >= from && x.offset < until)) {
        kept.push(x);
        continue;
      }
      const instrumentOf = new Map<string, number>();
      for (let k = x.at + 1; k < next; k++) {
        const r = records[k]!;
        if (r.k === 'submit') instrumentOf.set(r.id, r.i);
      }
      // The next life's cancels of the dead stop's orders it had adopted (not of one it sent again under the same id).
      const happened = new Set<number>(), sentAgain = new Set<string>();
      for (let k = next + 1; k < records.length && records[k]!.k !== 'start'; k++) {
        const r = records[k]!;
        if (r.k === 'submit') sentAgain.add(r.id);
        if (r.k === 'cancel' && x.sent.includes(r.id) && !sentAgain.has(r.id)) happened.add(instrumentOf.get(r.id)!);
      }
      const resent = new Set(records.flatMap((r, k) => (k > next && r.k === 'submit' ? [r.id] : [])));
      for (let k = x.at + 1; k < next; k++) {
        const r = records[k]!;
        if (r.k === 'submit' && resent.has(r.id) && !happened.has(r.i)) voidSubmits.add(k);
      }
      // The dead stop's orders the next life adopted (not sent again) of instruments where the dead stop did not
      // happen: the replay's next stop makes them, under the same ids (its closing orders are counted against what the
      // run sent: those count too). Before, a next stop that closed what such an order left (its remainder canceled
      // at the venue) sent one closing order fewer in the replay (the 50-life demo campaign, seed 1210).
      const adopted = x.sent.filter((id) => !happened.has(instrumentOf.get(id)!) && !resent.has(id));
      const lifeEnd = records.findIndex((r, k) => k > next && r.k === 'start');
      const following = shutdowns.find((y) => y.at > next && (lifeEnd < 0 || y.at < lifeEnd));
      if (adopted.length > 0 && following !== undefined) following.sent = [...adopted, ...following.sent];
      if (happened.size === 0) continue;
      if (x.sent.some((id) => !happened.has(instrumentOf.get(id)!))) {
        x.only = happened;
        x.sent = x.sent.filter((id) => happened.has(instrumentOf.get(id)!));
      }
      kept.push(x);
    }
    shutdowns.splice(0, shutdowns.length, ...kept);
  }
  shutdowns.sort((a, b) => a.ts - b.ts);
  const seen = new Set<string>(); // every id the live run sent
  // A command journaled again after a restart is the same decision, as the last life to send it decided it: a life that
  // died with it in flight (its state unsaved) may have sized it from an account that lacked a fill its venue had not
  // reported yet; the next life, reconciled, sent it again under its id.
  const lastSent = new Map<string, Extract<JournalRecord, { k: 'submit' }>>();
  for (const [k, r] of records.entries()) if (r.k === 'submit' && !voidSubmits.has(k)) lastSent.set(r.id, r);
  const liveSent: (ReplayDecision & { readonly t: number })[] = [];
  for (const [k, r] of records.entries()) {
    if (r.k !== 'submit' || seen.has(r.id) || lost.has(r.id) || voidSubmits.has(k)) continue;
    seen.add(r.id);
    const c = lastSent.get(r.id)!;
    liveSent.push({ t: c.t, id: c.id, instrument: c.i, side: c.side, type: c.type, quantity: c.q, ...(c.p !== undefined ? { price: c.p } : {}) });
  }
  const live: ReplayDecision[] = inDecisionOrder(liveSent).map(({ t: _, ...d }) => d);
  // A fill journaled by a life that crashed before saving its state is booked again by the next life (from the venue's
  // executions, or simulated again in paper mode) under the same execution id: it counts once.
  const seenExecutions = new Set<string>();
  const liveFills = records.filter((r): r is Extract<JournalRecord, { k: 'fill' }> => {
    if (r.k !== 'fill' || r.liq !== undefined || lost.has(r.id)) return false;
    if (r.exec === undefined) return true;
    if (seenExecutions.has(r.exec)) return false;
    seenExecutions.add(r.exec);
    return true;
  });
  const liveById = new Map<string, OrderFills>();
  for (const f of liveFills) addFill(liveById, f.id, f.q, f.p, f.fee);
  const fillPrices = prices === 'run' ? runFills(records, liveById, passedBy) : undefined;
  // A venue run's funding payments (the venue's own figures), at the run's fills: each once (a life that died before
  // saving booked it, the next life again at its reconciliation), at the engine time it was first booked, before the
  // decisions of the bar dispatched from that time on, as the runner booked it (before the bar, LiveRunner.bookVenueFunding).
  const venueFunding: Extract<JournalRecord, { k: 'funding' }>[] = [];
  if (prices === 'run' && !paper) {
    const first = new Map<string, Extract<JournalRecord, { k: 'funding' }>>();
    for (const r of records) if (r.k === 'funding' && (first.get(r.exec)?.t ?? Infinity) > r.t) first.set(r.exec, r);
    venueFunding.push(...[...first.values()].sort((a, b) => a.t - b.t));
  }
  // A paper run's funding: charged at the rates it journaled, at the same closes (either fill mode).
  const paperFunding = paper ? paperFundingCharges(records) : [];
  // A paper venue carries a cancel out as it is sent (zero latency): no race there.
  const races = paper ? new Map<number, never[]>() : lostCancels(records, barCancels);
  /** The backtest of the run's bars with orders filled at `fills` (at the run's fills) or the models (undefined). */
  const replayAt = (fills: Map<string, FillPrice> | undefined) => {
    let nextFunding = 0, nextBlock = 0, nextChange = 0, nextShutdown = 0;
    let orders: readonly OrderSnapshot[] = [];
    const result = runBacktest(
      {
        name: `replay of ${start.runId}`,
        instruments: setup.instruments,
        frame,
        initialCash: setup.initialCash,
        leverage: setup.leverage,
        fees: setup.fees,
        slippage: setup.slippage,
        funding: new TableFundingModel(setup.instruments.map((_, i) => paperFundingTable(paperFunding, i, tf)), { kind: 'zero' }),
        periodsPerYear: (365 * 86_400_000) / tf,
        dataSources: [],
        seed: config.seed ?? 0,
        config: {},
        warmupBars,
        runId: start.runId,
        ...(signal !== undefined ? { columns: { [setup.modelColumn!.column]: signal } } : {}),
        ...(setup.risk !== undefined ? { risk: setup.risk } : {}),
        ...(fills !== undefined ? { fillPrices: fills } : {}),
      },
      setup.strategy,
      {
        inspect: (kernel) => void (orders = kernel.orders.save().orders),
        beforeBar: (kernel, tsOpen) => {
          // A life re-makes, through its warm-up protection, the decisions a crashed life had sent (LiveRunner.sentAfter):
          // sent again (paper; an order lost in flight) or adopted from the venue at reconciliation, never denied.
          kernel.entryBlockExempt ??= seen;
          kernel.haltExempt ??= seen;
          for (; nextFunding < venueFunding.length && venueFunding[nextFunding]!.t <= tsOpen; nextFunding++) {
            const f = venueFunding[nextFunding]!;
            kernel.onVenueFunding(f.i, f.t, f.pay, f.rate, f.p);
          }
          for (; nextBlock < blocks.length && blocks[nextBlock]!.t <= tsOpen; nextBlock++) kernel.entryBlock = blocks[nextBlock]!.id === 'set' ? blocks[nextBlock]!.reason : undefined;
          for (; nextChange < changes.length && changes[nextChange]!.ts <= tsOpen; nextChange++) {
            const c = changes[nextChange]!;
            if (c.instrument < 0) kernel.setTradingState(c.state, c.reason);
            else kernel.setInstrumentHalted(c.instrument, c.state === 'HALTED', c.reason);
          }
        },
        beforeCommands: (kernel, tsOpen, venue) => {
          // A strategy's cancel the venue carried out after filling the order (refused: all of it), filled first at the
          // run's fill price.
          for (const { id, price, quantity } of races.get(tsOpen + tf) ?? []) {
            const o = kernel.order(id);
            if (o !== undefined) venue.fillBeforeCommands(id, o.instrument, kernel.now(), price, quantity + 1e-9 * o.quantity);
          }
        },
        afterBar: (kernel, tsOpen, venue) => {
          // The live runner's stop after its last bar: the same action, and (as a paper run) its orders filled at the marks.
          for (; nextShutdown < shutdowns.length && shutdowns[nextShutdown]!.ts <= tsOpen; nextShutdown++) {
            const stop = shutdowns[nextShutdown]!;
            if (stop.filledFirst.length > 0) {
              // Orders the venue filled after the life's last bar and before the stop (a market order filled at once and
              // booked by the poll after the bar, or by the next life's reconciliation after a crash): filled first, at
              // the marks, so the stop cancels and flattens what the run saw.
              venue.processCommands(kernel.now());
              fillFirst(kernel, venue, stop.filledFirst);
            }
            const before = kernel.orders.size;
            applyShutdown(kernel, stop.action, stop.reason, stop.only);
            fillFirst(kernel, venue, stop.raced);
            // Its orders reach the venue (accepted, or refused: a reduce-only order a raced fill turned around); unless a
            // later stop came before they filled, they fill at the marks.
            const arrive = () => {
              if (stop.fill) return venue.fillAtMarks(kernel.now());
              venue.processCommands(kernel.now());
              venue.refuseNonReducing(kernel.now());
            };
            arrive();
            // What no flatten order covers (a raced fill opened it; the venue refused a flatten order, or filled less of
            // it): a venue run closed it with orders of its own, up to STOP_CLOSING_ROUNDS rounds (LiveRunner's wait for
            // its flatten, Kernel.flattenUncovered); so does the replay.
            // Not more than the run sent: its wait may have ended first (its orders still working when it timed out).
            const rounds = paper ? (stop.raced.length > 0 ? 1 : 0) : STOP_CLOSING_ROUNDS;
            for (let k = 0; k < rounds && kernel.orders.size - before < stop.sent.length && stop.action !== 'cancel' && kernel.flattenUncovered(stop.reason, stop.only).orders.length > 0; k++) arrive();
          }
        },
      },
    );
    return { result, orders };
  };
  const { result, orders } = replayAt(fillPrices?.prices);

  // Orders the pre-trade risk denied never left the engine: compared apart (journal `denied` events), by id.
  const isDenied = (o: OrderSnapshot) => o.status === 'REJECTED' && (o.reason ?? '').startsWith('risk:');
  const deniedOf = (all: readonly OrderSnapshot[]) => all.filter(isDenied).map((o) => ({ t: o.tsInit, id: o.clientOrderId, i: o.instrument }));
  let denials = deniedOf(orders);
  const shared = fillPrices?.shared;
  if (shared !== undefined) {
    // At a close two lives decided, the later one's denials as it made them: with the fill it booked before the close.
    const theirs = (d: { readonly t: number; readonly i: number }) => shared.get(d.t)?.has(d.i) === true;
    denials = [...denials.filter((d) => !theirs(d)), ...deniedOf(replayAt(fillPrices!.atShared).orders).filter(theirs)];
  }
  const replayDenied = inDecisionOrder(denials).map((d) => d.id);
  // Not those a next life decided anew (above).
  const liveDenied = inDecisionOrder([...deniedAt].filter(([id]) => !undoneDenials.has(id)).map(([id, t]) => ({ t, id }))).map((d) => d.id);
  const replay: ReplayDecision[] = inDecisionOrder(orders.filter((o) => !isDenied(o)).map((o) => ({ t: o.tsInit, id: o.clientOrderId, instrument: o.instrument, side: o.side, type: o.type, quantity: o.quantity, ...(o.type === 'limit' ? { price: o.price } : {}) }))).map(({ t: _, ...d }) => d);
  let divergence: ReplayDivergence | undefined;
  for (let k = 0; k < Math.max(live.length, replay.length); k++) {
    const a = live[k], b = replay[k];
    if (a === undefined || b === undefined || a.id !== b.id || a.instrument !== b.instrument || a.side !== b.side || a.type !== b.type || a.quantity !== b.quantity || a.price !== b.price) {
      divergence = { index: k, live: a, replay: b };
      break;
    }
  }

  if (divergence === undefined && liveDenied.join(',') !== replayDenied.join(',')) {
    const k = liveDenied.findIndex((id, j) => id !== replayDenied[j]);
    const at = k < 0 ? liveDenied.length : k;
    divergence = { index: -1, live: liveDenied[at] === undefined ? undefined : { id: liveDenied[at]!, instrument: -1, side: 'denied', type: 'denied', quantity: 0 }, replay: replayDenied[at] === undefined ? undefined : { id: replayDenied[at]!, instrument: -1, side: 'denied', type: 'denied', quantity: 0 } };
  }

  const byId = new Map<string, OrderFills>();
  for (const f of result.fills) addFill(byId, f.clientOrderId, f.quantity, f.price, f.fee);
  let maxPriceDiff = 0, maxFeeDiff = 0;
  const unmatchedIds: string[] = [];
  for (const [id, a] of liveById) {
    const b = byId.get(id);
    if (b === undefined || Math.abs(a.q - b.q) > 1e-9 * Math.max(1, a.q)) {
      unmatchedIds.push(id);
      continue;
    }
    maxPriceDiff = Math.max(maxPriceDiff, Math.abs(a.notional / a.q - b.notional / b.q));
    maxFeeDiff = Math.max(maxFeeDiff, Math.abs(a.fee - b.fee));
  }
  for (const id of byId.keys()) if (!liveById.has(id)) unmatchedIds.push(id);
  return { runId: start.runId, bars: T, warmupBars, undone: { bars: undone.size, orders: lost.size, states: journaledChanges - changes.length }, liveDecisions: live.length, replayDecisions: replay.length, denied: { live: liveDenied.length, replay: replayDenied.length }, instrumentHalts: changes.filter((c) => c.instrument >= 0).length, accountStates: changes.filter((c) => c.instrument < 0).length, shutdowns: shutdowns.length, funding: paper ? fundingTotals(result.funding.filter((f) => f.source === 'table').map((f) => f.payment), 'paper') : fundingTotals(venueFunding.map((f) => f.pay), 'venue'), divergence, fills: { prices, live: liveFills.length, replay: result.fills.length, maxPriceDiff, maxFeeDiff, unmatched: unmatchedIds.length, unmatchedIds: unmatchedIds.slice(0, 10) } };
}

/** One order's fills: total quantity, notional and fee, and their price when they all had one (else NaN). */
interface OrderFills {
  q: number;
  notional: number;
  fee: number;
  price: number;
}

function addFill(byOrder: Map<string, OrderFills>, id: string, q: number, p: number, fee: number): void {
  const e = byOrder.get(id) ?? { q: 0, notional: 0, fee: 0, price: p };
  e.q += q;
  e.notional += q * p;
  e.fee += fee;
  if (e.price !== p) e.price = NaN;
  byOrder.set(id, e);
}

/**
 * How the replay's venue fills each order at the run's fills (`--fills run`): at the volume-weighted price and the fee
 * per unit of its journaled fills (`filled`, by id). An order the run's venue ended by itself (a `rejected`, `canceled`
 * or `expired` event, with no `cancel` record of the run's for it: a reduce-only remainder canceled above the position,
 * a lost order) fills no more than the run's venue filled, the rest canceled; one it rejected without filling any
 * (Bybit 110017: a reduce-only order with no position to reduce, which a trade made by hand had closed; an order the
 * run declared lost) is rejected, at the engine time the run was told. Each fills from the engine time the run booked
 * its first fill at (`notBefore`: the poll after a bar, a later life's reconciliation; of an execution booked twice, its
 * earliest booking); one the run sent and never booked a fill of does not fill (the venue held it, or it was canceled).
 */
function runFills(records: readonly JournalRecord[], filled: ReadonlyMap<string, OrderFills>, passed: ReadonlyMap<number, number>): RunFills {
  const asked = new Set<string>(), ended = new Map<string, { readonly e: string; readonly t: number }>(), sent = new Set<string>();
  // Each execution's earliest booking (a life that crashed before saving booked it, then the next life again: one of
  // them at a time the run kept), each booking at its engine time, but:
  // - in the short life of a stop that passed a crashed life's bars (`passed`: the start record of such a life → the
  //   close of the last bar it passed), not before that close: its reconciliation booked what it found at the restored
  //   state's time, after the decisions of those bars;
  // - not before the decisions in force that the lives before the booking one made without it (`floor`): a life that
  //   restarts behind them books at its restored state's time a fill the venue made after they were decided (an order
  //   of theirs it adopted filled late), or one a dead life booked only after deciding them (the poll after its bar);
  //   those decisions, compared as they were made, were sized without it. Only those before the booking life's own
  //   first decision (sent or denied), which it made with the fill: at a close both lives decided, one replay cannot
  //   give each decision its own account. Where the booking life only denied orders at that close (a restarted
  //   life's warm-up protection), the fill comes after that close too (`prices`: the deciding life's account), and the
  //   denials of the instruments it denied at that close are taken from a second replay with the fill before the close
  //   (`atShared`, `shared`), also where a dead life's booking (after deciding that close) already put the fill there.
  //   Where it sent one there, its account is kept (README: known limit).
  const booked = new Map<string, { readonly id: string; readonly t: number; readonly shared: number; readonly tAt: number }>();
  // The last submit record of each id (the decision compared: a later life that sends it again makes it its own), and
  // each life's first decision time, by its start record.
  const lastSubmit = new Map<string, number>();
  const firstDecision = new Map<number, number>();
  let life = -1;
  for (const [k, r] of records.entries()) {
    if (r.k === 'start') life = k;
    else if (r.k === 'submit' || (r.k === 'event' && r.e === 'denied')) firstDecision.set(life, Math.min(r.t, firstDecision.get(life) ?? Infinity));
    if (r.k === 'submit') lastSubmit.set(r.id, k);
  }
  // Per life, by its start record: whether it sent an order at its first decision's close, and the instruments whose
  // orders it denied there.
  const sentFirst = new Set<number>();
  const deniedFirst = new Map<number, Set<number>>();
  life = -1;
  for (const [k, r] of records.entries()) {
    if (r.k === 'start') life = k;
    else if (r.k === 'submit' && r.t === firstDecision.get(life)) sentFirst.add(life);
    else if (r.k === 'event' && r.e === 'denied' && r.t === firstDecision.get(life)) {
      const parts = parseClientOrderId(r.id);
      if (parts.success) deniedFirst.set(life, (deniedFirst.get(life) ?? new Set()).add(parts.data.instrument));
    }
  }
  let after = -Infinity;
  /** Decision times in force of the lives before the current one; the current one's; and its first decision's time. */
  const decidedBefore: number[] = [];
  let decided: number[] = [], own = Infinity, floor = -Infinity, lifeAt = -1;
  /** The close this life shares with a life before it that decided there, when it only denied orders there (else −Infinity). */
  let shared = -Infinity;
  for (const [k, r] of records.entries()) {
    if (r.k === 'start') {
      after = passed.get(k) ?? -Infinity;
      decidedBefore.push(...decided);
      decided = [];
      own = firstDecision.get(k) ?? Infinity;
      floor = decidedBefore.reduce((m, t) => (t < own && t > m ? t : m), -Infinity);
      shared = !sentFirst.has(k) && deniedFirst.has(k) && decidedBefore.includes(own) ? own : -Infinity;
      lifeAt = k;
    }
    if (r.k === 'submit') {
      sent.add(r.id);
      if (lastSubmit.get(r.id) === k) decided.push(r.t);
    } else if (r.k === 'cancel') asked.add(r.id);
    else if (r.k === 'event' && (r.e === 'rejected' || r.e === 'canceled' || r.e === 'expired')) ended.set(r.id, { e: r.e, t: r.t });
    else if (r.k === 'fill') {
      const key = r.exec ?? `#${k}`;
      const prior = booked.get(key);
      const early = Math.max(r.t, after, floor), late = Math.max(early, shared);
      const tAt = Math.min(early, prior?.tAt ?? Infinity);
      // `shared`: the life whose booking put the fill after its shared close (-1: none).
      // A prior booking at this life's shared close (a dead life booked it after deciding there) puts the fill after
      // that close as this life's would: this life's denials there are still made with it.
      if (prior !== undefined && prior.t <= late) booked.set(key, { ...prior, tAt, shared: prior.t === late && late > early ? lifeAt : prior.shared });
      else booked.set(key, { id: r.id, t: late, shared: late > early ? lifeAt : -1, tAt });
    }
  }
  const firstBooked = new Map<string, number>(), firstBookedAt = new Map<string, number>(), bookedShared = new Map<string, number>();
  for (const { id, t, shared: by, tAt } of booked.values()) {
    if (t < (firstBooked.get(id) ?? Infinity)) {
      firstBooked.set(id, t);
      bookedShared.set(id, by);
    }
    firstBookedAt.set(id, Math.min(tAt, firstBookedAt.get(id) ?? Infinity));
  }
  // The shared closes that moved a fill, with the instruments the booking life denied orders of there.
  const closes = new Map<number, ReadonlySet<number>>();
  for (const [id, t] of firstBooked) {
    const by = bookedShared.get(id)!;
    if (by < 0 || t === firstBookedAt.get(id)) continue;
    const close = firstDecision.get(by)!;
    closes.set(close, new Set([...(closes.get(close) ?? []), ...deniedFirst.get(by)!]));
  }
  const byVenue = (id: string) => ended.has(id) && !asked.has(id);
  const prices = (booking: ReadonlyMap<string, number>): Map<string, FillPrice> => {
    const out = new Map<string, FillPrice>();
    // One price (most orders): that price itself, not notional / quantity, which can be an ulp off it.
    for (const [id, e] of filled) out.set(id, { price: e.price === e.price ? e.price : e.notional / e.q, feePerUnit: e.fee / e.q, quantity: byVenue(id) ? e.q : Infinity, notBefore: booking.get(id) ?? -Infinity });
    for (const id of sent) {
      if (filled.has(id)) continue;
      // Never filled by the run's venue: refused (rejected by the venue, not canceled on request), or held unfilled.
      const end = ended.get(id);
      out.set(id, end?.e === 'rejected' && !asked.has(id) ? { price: NaN, feePerUnit: 0, quantity: 0, notBefore: end.t } : { price: NaN, feePerUnit: 0, quantity: Infinity, notBefore: Infinity });
    }
    return out;
  };
  return { prices: prices(firstBooked), ...(closes.size > 0 ? { atShared: prices(firstBookedAt), shared: closes } : {}) };
}

/**
 * {@link runFills}' answer. `prices`: how each order fills. `atShared` and `shared`, when a fill comes after a close two
 * lives decided (the later one, which booked the fill, only denied orders there): the same with those fills before
 * those closes, and each such close → the instruments whose denials there are the later life's (compared from a replay
 * at `atShared`).
 */
interface RunFills {
  readonly prices: Map<string, FillPrice>;
  readonly atShared?: Map<string, FillPrice>;
  readonly shared?: ReadonlyMap<number, ReadonlySet<number>>;
}

/**
 * `decisions` by decision time, then id (stable): the order both sides are compared in. Within one bar's close a run's
 * journal can list decisions out of instrument order: one journaled by a life that died, another by the next life that
 * decided the bar again after a fill it had not known of (the first kept where it was first journaled).
 */
function inDecisionOrder<T extends { readonly t: number; readonly id: string }>(decisions: readonly T[]): T[] {
  return [...decisions].sort((a, b) => a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Fills the working orders `ids` at the marks before the commands in flight reach the venue. */
function fillFirst(kernel: Kernel, venue: SimulatedExecutionClient, ids: readonly string[]): void {
  for (const id of ids) {
    const o = kernel.order(id);
    if (o !== undefined) venue.fillBeforeCommands(id, o.instrument, kernel.now());
  }
}

/**
 * The strategy's cancels (the `cancel` records at indices `cancels`) that lost the race, in whole or in part, to
 * fills, by the bar close they were sent at: fills of the order journaled after the cancel (the venue made them before
 * the cancel took effect), at the first one's price, of the order's whole rest when the venue refused the cancel (a
 * `cancel-rejected` event of it before the next live bar or start), else of their total (the cancel took the rest).
 * Before, the replay carried such a cancel out at once: fills short, and its strategy decided on without them from the
 * next bar on (test/integration/live-demo-cancel-race.test.ts).
 */
function lostCancels(records: readonly JournalRecord[], cancels: readonly number[]): Map<number, { readonly id: string; readonly price: number; readonly quantity: number }[]> {
  type Race = { readonly id: string; readonly t: number; refused: boolean; price: number; quantity: number };
  // One pass: the cancels in order, those read so far by order (a fill counts for each), those whose bar is still open.
  const all: Race[] = [], byId = new Map<string, Race[]>(), open = new Map<string, Race>();
  for (let k = 0, next = 0; k < records.length; k++) {
    const r = records[k]!;
    if (k === cancels[next]) {
      next++;
      const cancel = r as Extract<JournalRecord, { k: 'cancel' }>;
      const race: Race = { id: cancel.id, t: cancel.t, refused: false, price: NaN, quantity: 0 };
      all.push(race);
      byId.set(race.id, [...(byId.get(race.id) ?? []), race]);
      open.set(race.id, race);
    } else if (r.k === 'start' || (r.k === 'bar' && r.warmup === undefined)) open.clear();
    // The fills may come before the refusal (the client learns them from the order's status when the cancel fails), or
    // after the bar (booked at the poll, or by a later life's reconciliation).
    else if (r.k === 'event' && r.e === 'cancel-rejected') {
      const race = open.get(r.id);
      if (race !== undefined) race.refused = true;
    } else if (r.k === 'fill') {
      for (const race of byId.get(r.id) ?? []) {
        if (race.price !== race.price) race.price = r.p;
        race.quantity += r.q;
      }
    }
  }
  const races = new Map<number, { readonly id: string; readonly price: number; readonly quantity: number }[]>();
  for (const { id, t, refused, price, quantity } of all) {
    if (quantity > 0) races.set(t, [...(races.get(t) ?? []), { id, price, quantity: refused ? Infinity : quantity }]);
  }
  return races;
}

/** The orders with a fill record between records `from` (a live bar) and `to` (a stop), in order, each once. */
function filledBetween(records: readonly JournalRecord[], from: number, to: number): string[] {
  const ids: string[] = [];
  for (let k = from + 1; k < to; k++) {
    const r = records[k]!;
    if (r.k === 'fill' && !ids.includes(r.id)) ids.push(r.id);
  }
  return ids;
}

/** The orders the stop at `records[at]` sent (its flatten's and its closing rounds'): submit records up to the next live bar, start or stop. */
function sentByStop(records: readonly JournalRecord[], at: number): string[] {
  const ids = new Set<string>();
  for (let k = at + 1; k < records.length; k++) {
    const r = records[k]!;
    if ((r.k === 'bar' && r.warmup === undefined) || r.k === 'start' || (r.k === 'event' && r.e === 'shutdown')) break;
    if (r.k === 'submit') ids.add(r.id);
  }
  return [...ids];
}

/**
 * The orders a venue filled before the cancel of the stop at `records[at]` reached them: refused cancels
 * (`cancel-rejected`) after the stop, up to the next live bar or stop, of orders with a fill after the stop.
 * `silentCancels` (at the run's fills): also the stop's cancels nobody answered, neither refused nor `canceled` (its
 * life died with them on the way; the venue had filled the order, as the next life's reconciliation found).
 */
function racedAfter(records: readonly JournalRecord[], at: number, silentCancels: boolean): string[] {
  const refused: string[] = [], unanswered: string[] = [];
  const filled = new Set<string>(), canceled = new Set<string>();
  let open = true;
  for (let k = at + 1; k < records.length; k++) {
    const r = records[k]!;
    if ((r.k === 'bar' && r.warmup === undefined) || (r.k === 'event' && r.e === 'shutdown')) open = false;
    if (open && r.k === 'event' && r.e === 'cancel-rejected' && !refused.includes(r.id)) refused.push(r.id);
    if (open && silentCancels && r.k === 'cancel' && !unanswered.includes(r.id)) unanswered.push(r.id);
    if (r.k === 'fill') filled.add(r.id);
    if (r.k === 'event' && r.e === 'canceled') canceled.add(r.id);
  }
  return [...refused, ...unanswered.filter((id) => !refused.includes(id) && !canceled.has(id))].filter((id) => filled.has(id));
}

type FundingRecord = Extract<JournalRecord, { k: 'funding' }>;

/**
 * The funding charges of a paper run in force, by settlement: the last journaled of each (`paper-<ts>-<i>`). A life
 * that died after charging a settlement it had not saved is undone by the next, which charges it again (at the rate
 * the venue lists then, which may have been the fallback before).
 */
function paperFundingCharges(records: readonly JournalRecord[]): FundingRecord[] {
  const last = new Map<string, FundingRecord>();
  for (const r of records) if (r.k === 'funding') last.set(r.exec, r);
  return [...last.values()].sort((a, b) => a.ts - b.ts || a.i - b.i);
}

/**
 * Instrument `i`'s settlements and rates among `charges` (sorted by settlement), or null when it has none: the table
 * the replay's funding model charges them from, each at the close the run charged it at. That is the first close at
 * or after its settlement, except for one the run learnt of only later (the venue shortened the contract's funding
 * interval between two of its settlements: PaperFundingRates), charged at a later close `t` of bars of `tf` ms: its
 * row's time is then moved to just after the close before (`t − tf + 1` ms, + 1 ms for each earlier such settlement
 * charged at `t`), so the schedule charges it at `t`, before the settlements that are due there, as the run did.
 */
function paperFundingTable(charges: readonly FundingRecord[], i: number, tf: number): { ts: Float64Array; rate: Float64Array } | null {
  const mine = charges.filter((c) => c.i === i);
  if (mine.length === 0) return null;
  const late = new Map<number, number>();
  const rows = mine.map((c) => {
    if (c.t - c.ts < tf) return { ts: c.ts, rate: c.rate };
    const k = late.get(c.t) ?? 0;
    late.set(c.t, k + 1);
    return { ts: c.t - tf + 1 + k, rate: c.rate };
  });
  rows.sort((a, b) => a.ts - b.ts);
  return { ts: Float64Array.from(rows, (r) => r.ts), rate: Float64Array.from(rows, (r) => r.rate) };
}

function fundingTotals(payments: readonly number[], source: ReplayReport['funding']['source']): ReplayReport['funding'] {
  return { payments: payments.length, paid: payments.reduce((a, p) => a + p, 0), source };
}
