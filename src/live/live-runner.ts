import { join, resolve } from 'node:path';
import type { OhlcvColumns } from '../core/bar.js';
import type { Instrument } from '../core/instrument.js';
import type { OrderSnapshot } from '../core/order.js';
import { HOUR_MS, timeframeMs } from '../core/time.js';
import { fundingIntervalOf, gridSettlementAfter, InstrumentFeeModel, settlementAtOrBefore, type FeeModel, type FillModel, type FundingModel, type SlippageModel } from '../backtest/execution-models.js';
import { FundingSchedule } from '../backtest/funding-settlement.js';
import { SimulatedExecutionClient } from '../backtest/simulated-execution-client.js';
import type { ExecutionClient } from '../engine/execution-client.js';
import { Kernel } from '../engine/kernel.js';
import type { RiskLimits } from '../engine/risk/risk-limits.js';
import type { TradingState } from '../engine/risk/trading-state.js';
import type { Strategy } from '../engine/strategy.js';
import type { VenueFundingReport, VenueOrderReport, VenueQueries } from '../engine/venue-reports.js';
import type { LiveMetrics } from '../monitoring/live-metrics.js';
import type { LiveSignals } from './live-signals.js';
import type { ModelWatch } from './model-watch.js';
import type { LiveBarFeed, LiveBarSet } from './bar-feed.js';
import { Journal } from './journal.js';
import { JournalingGate, submittedRequest, type SubmitRecord } from './journaling-gate.js';
import { LiveClock, type Pacer } from './live-clock.js';
import { bookExecutions, EXECUTION_MARGIN_MS, haltForPositionMismatch, positionMismatch, positionMismatchReason, reconcile, refusedFillReason, reportRefusals, settleOrder, untrackedExecutionsFrom, type JournaledOrder, type OnRefused, type ReconcileDifference } from './reconcile.js';
import { loadRunnerState, RunnerStateError, saveRunnerState, writeRunnerFile, type LiveRunnerState, type LostOrder } from './runner-state.js';
import { VenueFunding } from './venue-funding.js';
import { FundingIntervals, type FundingIntervalSource } from './funding-intervals.js';
import { readJournalTail, type JournalRecord } from './journal.js';
import { crashedStateChanges, isDecision, reconciledHalts } from './crashed-life.js';
import { DEFAULT_MAX_STATE_AGE_MS, DEFAULT_VALIDATE_BARS, loadSavedState, RecentBars, savedSnapshots, strategyDifferences, VALIDATE_TOLERANCE, type RestoredState, type StrategySummary } from './saved-signal-state.js';
import { acquireRunLock, RunLockError, type RunLock } from './run-lock.js';
import { applyShutdown, shutdownAction, STOP_CLOSING_ROUNDS, stopLeftOver, type StopActions } from './shutdown.js';
import { warmupGateVerdict, type WarmupGates, type WarmupGateVerdict } from './warmup-gates.js';
import type { StateStore } from '../engine/state-store.js';

/** The modes of a live run, in the order `tm live` lists them. */
export const LIVE_MODES = ['paper', 'demo', 'testnet', 'mainnet'] as const;
export type LiveMode = (typeof LIVE_MODES)[number];

/** Reconciliation attempts (about 2 s of back-off) a stop saved before the start gets before its life ends with it unapplied. */
const SAVED_STOP_RECONCILE_ATTEMPTS = 5;
/** How long a stop waits for the venue to confirm its cancels and its flatten's fills, by default (see {@link LiveRunnerConfig.stopWaitMs}). */
export const DEFAULT_STOP_WAIT_MS = 2000;
/** The venue is polled this often while a stop waits. */
const STOP_POLL_MS = 200;
/** Longest wait between two attempts of the start-up reconciliation (it is retried until it succeeds or the run is stopped). */
const RECONCILE_BACKOFF_MAX_MS = 30_000;

/** A venue execution client for live runs: the execution port, the venue queries, and one round of polling. */
export interface LiveVenue extends ExecutionClient, VenueQueries {
  /** One round of order and execution queries, delivering what changed as events; resolves when delivered. */
  poll(): Promise<void>;
  /** Resolves once every command handed over so far has had its request answered (or given up). */
  flush?(): Promise<void>;
  /** Where the client is with an order it submitted (undefined: not one of its own, e.g. adopted after a restart). */
  orderState?(clientOrderId: string): string | undefined;
  /**
   * Requests sent to the venue so far. A venue round that sent none (a poll with no order in flight) tells nothing of
   * the venue: the breaker counts it neither as a good round nor as a failed one. Absent: every round counts.
   */
  readonly requests?: number;
}

export interface LiveRunnerConfig {
  /** The run field of client order ids (1–8 of `[A-Za-z0-9-]`): stable across restarts; this run's orders at the venue carry `<runId>_`. */
  readonly runId: string;
  readonly mode: LiveMode;
  readonly instruments: readonly Instrument[];
  readonly timeframe: string;
  readonly initialCash: number;
  readonly leverage: number;
  /** Folder of the run: `journal.jsonl`, `state.json`, `status.json`. */
  readonly dir: string;
  /** Bars replayed through the strategy before the first live bar; default the strategy's `warmupBars` (else 0). */
  readonly warmupBars?: number;
  /** Open time of the first live bar on a fresh start; default the bar after the last closed one. */
  readonly startTs?: number;
  /** Stop after this many live bars in this process (tests, notebooks); default run until stopped. */
  readonly maxBars?: number;
  /** Paper runs: the simulated venue's models (same as a backtest's). */
  readonly paper?: { readonly fees?: FeeModel; readonly slippage: SlippageModel; readonly fill?: FillModel };
  /**
   * Paper runs: funding charged at the close of the bar that passes each settlement (the model's schedule), as a
   * backtest charges it, and journaled; default none. A model with `prepare` (PaperFundingRates: the venue's published
   * rates) is asked before each live bar whose close reaches a settlement. Venue runs book the venue's own payments instead and ignore it.
   */
  readonly funding?: FundingModel & { prepare?(after: number, tsClose: number): Promise<void>; resumeAfter?(lastSettled: readonly number[]): void };
  /**
   * Per instrument, how often the venue settles its funding (Bybit's `fundingInterval`: 1, 2, 4 or 8 h from 00:00 UTC);
   * default 8 h. A venue run asks for payments at the closes that reach its instruments' settlements.
   */
  readonly fundingIntervalsMs?: readonly number[];
  /** An order submitted and not acknowledged after this many wall ms is queried; default 10 000. */
  readonly inFlightMs?: number;
  /** Queries answered "unknown" after which an in-flight order is marked lost (its instrument halted); default 3. Failed queries do not count. */
  readonly maxQueries?: number;
  /** Written into the journal's start record (tm replay rebuilds the run from it). */
  readonly config?: unknown;
  /** The experiment's regime fit as JSON (`regimesToJson`), written into the start record for tm replay. */
  readonly regimes?: readonly unknown[];
  /** Clears the halts saved by a kill switch or a lost order (a human decided to trade again). */
  readonly unhalt?: boolean;
  /** Pre-trade risk limits of the kernel (the experiment's `risk` section), the same as in its backtests. */
  readonly risk?: RiskLimits;
  /** Venue breaker: open after this many failed venue rounds in a row (default 3), closed after this many good ones (default 2). */
  readonly venueBreaker?: { readonly openAfter?: number; readonly closeAfter?: number };
  /**
   * The runner's state in a state store (Redis): the last warm-up's worth of bar sets with their signals and the
   * signal stage's inputs, saved after every bar; at a start, restored when valid — warm-up tier 1 (nothing to
   * fetch), tier 2 (the bars since it fetched: a gap fill) — else tier 3 (the full warm-up from the venue).
   */
  readonly stateStore?: {
    readonly store: StateStore;
    /** Key of the run's state; default the run id. */
    readonly key?: string;
    /** A state older than this (wall ms) is not restored; default 4 h. */
    readonly maxAgeMs?: number;
    /** Bar sets at the end of a saved state whose signals are recomputed to validate it; default 3. */
    readonly validateBars?: number;
  };
  /** After a restart (a saved run state or runner state was restored): wall ms without new positions (reduce-only orders and cancels pass); default 0. */
  readonly restartProtectionMs?: number;
  /**
   * How long a stop with an action (cancel, flatten, kill) waits for the venue to confirm its cancels and its flatten's
   * fills, polling every 200 ms, before the run ends and names what is not done (venue runs); default
   * {@link DEFAULT_STOP_WAIT_MS}.
   */
  readonly stopWaitMs?: number;
  /** Quality gates on the warm-up window's signals (model runs): failed, no new positions are opened in this process. Absent: none. */
  readonly warmupGates?: WarmupGates;
}

/** 0: no warm-up; 1: the saved state; 2: the saved state and a gap fill; 3: the full warm-up from the venue (see {@link WarmupReport}). */
export type WarmupTier = 0 | 1 | 2 | 3;

/** The warm-up source metric's label of each tier (`trade_matrix_warmup_tier`). */
const WARMUP_SOURCES = ['none', 'cache', 'store', 'venue'] as const satisfies Record<WarmupTier, string>;

/**
 * How a start warmed up: tier 1 restored the saved state, tier 2 restored it and fetched the bars since, tier 3 replayed
 * the warm-up from the venue; tier 0: none, the run warms up on no bars (a strategy without warm-up, or the short life
 * of `tm live stop|kill --now`, which ends before its first bar).
 */
export interface WarmupReport {
  readonly tier: WarmupTier;
  /** Why this tier (why not a better one). */
  readonly reason: string;
  /** Bar sets replayed: from the saved state, then fetched. */
  readonly restoredBars: number;
  readonly fetchedBars: number;
  /** Gap-fill bars whose signals came from the run's journal (its prediction history) rather than the model. */
  readonly journalSignals: number;
  /** Wall seconds of the fetched bar sets (tier 2: the gap fill; tier 3: the bootstrap), and of the first of them (its requests: the bar pages, funding, DVOL). */
  readonly fetchSeconds: number;
  readonly firstFetchSeconds: number;
  readonly seconds: number;
  /** The quality gates' verdict on the warm-up window (runs with gates). */
  readonly gates?: WarmupGateVerdict;
  /** Tiers 1 and 2: `matched` when the strategy rebuilt by the replay shows the saved tier, regime probabilities, IC and sizing inputs; else the differences. */
  readonly strategyCheck?: string;
  /** Tiers 1 and 2: wall seconds of the restore's phases — the state read (Redis, decode, checks), the signal stage's pass (features, validation) and the strategy's replay. */
  readonly restorePhases?: { readonly readSeconds: number; readonly signalSeconds: number; readonly strategySeconds: number };
}

export interface LiveRunnerDeps {
  readonly feed: LiveBarFeed;
  readonly pacer: Pacer;
  readonly strategy: Strategy;
  /** The venue (demo, testnet, mainnet); absent for paper runs. */
  readonly venue?: LiveVenue;
  /** Resolves when the venue client is prepared (markets, clock); awaited before the reconciliation, so it can overlap the warm-up. */
  readonly venueReady?: Promise<void>;
  readonly log?: (line: string) => void;
  /** Metrics of the run (`tm live --metrics-port`): told of warm-up, reconciliation, hand-overs, each bar, the stop. */
  readonly metrics?: LiveMetrics;
  /**
   * The signal stage of an experiment's model column: run on every bar (warm-up included) before the strategy sees
   * it; the signal lands in the strategy's history column `signals.spec.column` and in the journal's bar record.
   */
  readonly signals?: LiveSignals;
  /** Promote-to-live: the model's alias is checked after every live bar and a new verified version swapped in at the next bar boundary. */
  readonly modelWatch?: ModelWatch;
  /** The venue's quotes: the bid/ask spread of instrument `i` now, asked after each live bar for the metrics (runs with metrics only). */
  readonly quotes?: { spreadBasisPoints(i: number): Promise<number> };
  /**
   * A venue run: where a perpetual's funding interval is asked again (the market data client) when the venue's payments
   * show a change — one at an hour off its interval's grid (shortened), or a settlement awaited while holding that the
   * venue paid nothing for up to the next one (lengthened) — so the run asks for payments at the settlements of the
   * interval in force (FundingIntervals). The first payment of a shorter interval is booked at the former interval's
   * next settlement (the sign), the next ones at their own. Without it, the run keeps the intervals it started with
   * (`fundingIntervalsMs`). Paper runs follow through their funding model (PaperFundingRates).
   */
  readonly fundingIntervals?: FundingIntervalSource;
  /**
   * Told that the stop request `requestId` (see {@link LiveRunner.stop}) is done: applied and the state saying so saved,
   * found applied in the saved state at a start (the last life ended between saving it and this call), or one that
   * asked for no action. `tm live` removes its control.json then, not before: a life that dies while applying a stop
   * leaves the request for the next start.
   */
  readonly stopDone?: (requestId: number) => void;
  /** Takes the run folder for the life (default {@link acquireRunLock} of the platform's kind; tests pass the lock-file kind). */
  readonly lock?: (dir: string) => Promise<RunLock>;
}

/** What a run did in this process. */
export interface LiveRunSummary {
  readonly restarted: boolean;
  readonly warmupBars: number;
  readonly liveBars: number;
  readonly lastBarTs: number;
  readonly differences: readonly ReconcileDifference[];
  readonly lostOrders: readonly string[];
  readonly stopReason: string;
  /** Per live bar with orders: wall µs from the bar set received to the first order handed to the client. */
  readonly decisionLatencyUs: readonly number[];
  /** How this start warmed up (absent when it stopped before). */
  readonly warmup?: WarmupReport;
  /**
   * A stop whose action (cancel, flatten, the kill switch) was not applied: it came while the venue could not be
   * reconciled (nothing is sent unreconciled), or twice during a warm-up. `tm live` saves it again in control.json
   * for the next start.
   */
  readonly unappliedStop?: { readonly reason: string; readonly actions: StopActions };
  /** A stop applied whose cancels or flatten the venue had not confirmed when the run ended (see `stopLeftOver`). */
  readonly stopLeftOver?: string;
}

/** What `tm live status` shows (status.json, rewritten after every bar). */
export interface LiveStatus {
  readonly runId: string;
  readonly mode: LiveMode;
  readonly pid: number;
  readonly strategy: string;
  readonly lastBarTs: number;
  readonly liveBars: number;
  readonly equity: number;
  readonly positions: readonly { readonly instrument: string; readonly quantity: number; readonly entryPrice: number; readonly mark: number }[];
  readonly openOrders: readonly { readonly id: string; readonly instrument: string; readonly side: string; readonly type: string; readonly quantity: number; readonly filled: number; readonly price: number; readonly status: string }[];
  readonly tiers: readonly { readonly instrument: string; readonly tier: string; readonly reason: string }[];
  /** The pre-trade risk engine's state (ACTIVE, REDUCING, HALTED). */
  readonly tradingState: string;
  /** The venue breaker (open: the venue failed several rounds in a row, new orders denied). */
  readonly venueBreaker: 'open' | 'closed';
  /** Instruments whose new orders are refused (the account HALTED, or the instrument halted alone), with why. */
  readonly halted: readonly { readonly instrument: string; readonly reason: string }[];
  /**
   * Orders declared lost, by this life or an earlier one, until a restart with `--unhalt` (the operator has seen them):
   * a lost order on an instrument halted already leaves its halt reason as it was, so it is listed here.
   */
  readonly lostOrders: readonly LostOrder[];
  readonly running: boolean;
  readonly updatedAt: number;
  /** The model the signal stage runs (after a promotion: the version swapped in), absent without a model column. */
  readonly model?: { readonly name: string; readonly version: string };
  /** How this process warmed up, and why no new positions are opened now (warm-up protection, failed gates). */
  readonly warmup?: { readonly tier: WarmupTier; readonly reason: string; readonly seconds: number; readonly entryBlock?: string };
  /** The run ended by a stop whose cancels or flatten the venue had not confirmed: what was left (see `stopLeftOver`). */
  readonly stopLeftOver?: string;
}

/** The venue breaker's halt and release reasons begin so (see `LiveRunner.venueRound`). */
const BREAKER_OPEN = 'venue breaker open';
const BREAKER_CLOSED = 'venue breaker closed';

/**
 * The live runner: the backtest's kernel, strategy and simulated-venue models driven by a live bar feed instead of
 * a frame. Crash-only: {@link run} is both the start and the restart — load the persisted state, replay warm-up
 * bars through the strategy, reconcile with the venue (demo/testnet/mainnet), then process each closed bar as it
 * comes, in the backtest's order of events (venue matching for paper runs, marks, funding, timers, the strategy),
 * journaling every bar before it is dispatched and persisting the state after it.
 */
export class LiveRunner {
  readonly kernel: Kernel;
  readonly gate: JournalingGate;
  private readonly clock = new LiveClock();
  private readonly journal: Journal;
  private readonly paperVenue: SimulatedExecutionClient | undefined;
  private readonly tf: number;
  private readonly rows: OhlcvColumns[];
  private readonly present: Uint8Array;
  /** A paper run's funding settlements (from the first live bar on). */
  private fundingSchedule: FundingSchedule | undefined;
  /** A venue run's funding book (the venue's own payments), from the restored state. */
  private venueFunding: VenueFunding | undefined;
  /** A venue run: the next funding settlement time a bar's close reaches, and the settlement whose payments are awaited (−Infinity: none). */
  private nextVenueFunding = Infinity;
  private awaitedFunding = -Infinity;
  /** A venue run: each instrument's funding interval, followed (see {@link LiveRunnerDeps.fundingIntervals}). */
  private venueIntervals: FundingIntervals | undefined;
  /** The next settlement after the awaited one: the close that reaches it stops waiting for the awaited one's payments. */
  private awaitedUntil = -Infinity;
  private stopRequest: string | undefined;
  private readonly statePath: string;
  private readonly inFlight = new Map<string, { since: number; queries: number }>();
  /** Orders declared lost since the last `--unhalt`: the saved ones, then this life's (status.json, state.json). */
  private readonly lostRecords: LostOrder[] = [];
  /** How many of {@link lostRecords} came from the saved state (the rest are this life's: the summary's `lostOrders`). */
  private lostSaved = 0;
  private readonly latencies: number[] = [];
  private barReceived = 0;
  /** `performance.now()` when the bar in progress was received (after the venue poll before its dispatch): latency probes. */
  get barReceivedAt(): number {
    return this.barReceived;
  }
  private latencyOpen = false;

  constructor(
    private readonly config: LiveRunnerConfig,
    private readonly deps: LiveRunnerDeps,
  ) {
    const { instruments } = config;
    this.tf = timeframeMs(config.timeframe);
    this.kernel = new Kernel({ instruments, initialCash: config.initialCash, leverage: config.leverage, runId: config.runId, historyCapacity: 1024, ...(deps.signals !== undefined ? { columns: [deps.signals.spec.column] } : {}), ...(config.risk !== undefined ? { risk: config.risk } : {}) }, { clock: this.clock, strategy: deps.strategy, onTradingStateChanged: (c) => this.reapplying || this.journal.append({ k: 'state', t: c.ts, state: c.instrument === undefined ? c.to : `${c.to} ${this.config.instruments[c.instrument]?.id ?? c.instrument}`, trigger: c.trigger, reason: c.reason }) });
    // An absolute path: the saved runner state names the journal that holds its bars.
    this.journal = new Journal(resolve(config.dir, 'journal.jsonl'));
    deps.modelWatch?.attachJournal(this.journal);
    this.statePath = join(config.dir, 'state.json');
    let inner: ExecutionClient;
    if (config.mode === 'paper') {
      if (config.paper === undefined) throw new TypeError('a paper run needs the simulated venue models (config.paper)');
      // Execution ids: a fill journaled by a life that crashed before saving its state is simulated again by the next
      // life from the saved state, with the same id (tm replay counts it once).
      this.paperVenue = new SimulatedExecutionClient({ instruments, leverage: config.leverage, executionIds: true }, this.kernel.portfolio, this.clock, {
        fees: config.paper.fees ?? new InstrumentFeeModel(),
        slippage: config.paper.slippage,
        ...(config.paper.fill ? { fill: config.paper.fill } : {}),
      });
      inner = this.paperVenue;
    } else {
      if (deps.venue === undefined) throw new TypeError(`a ${config.mode} run needs a venue client`);
      inner = deps.venue;
    }
    this.gate = new JournalingGate(inner, this.journal, () => this.clock.now());
    this.gate.onHandOver = (id) => {
      this.deps.metrics?.handedOver(this.kernel, id);
      if (this.latencyOpen) {
        this.latencies.push(Math.round((performance.now() - this.barReceived) * 1000));
        this.latencyOpen = false;
      }
    };
    this.kernel.attachExecution(this.gate);
    this.rows = instruments.map(() => ({ ts: new Float64Array(1), open: new Float64Array(1), high: new Float64Array(1), low: new Float64Array(1), close: new Float64Array(1), volume: new Float64Array(1) }));
    this.present = new Uint8Array(instruments.length);
    this.breakerHalted = new Uint8Array(instruments.length);
    this.positionStrikes = new Uint8Array(instruments.length);
    this.onRefused = reportRefusals(
      this.kernel,
      (detail) => {
        const d: ReconcileDifference = { kind: 'fill_refused', detail: { ...detail, during: 'run' } };
        this.journal.append({ k: 'reconcile', t: this.clock.now(), kind: d.kind, detail: d.detail });
        this.deps.metrics?.reconciled([d], 0);
      },
      deps.log,
    );
  }

  /** Instruments the venue breaker halted (and releases when it closes). */
  private readonly breakerHalted: Uint8Array;

  /** The client order id prefix of this run's orders (`<runId>_`). */
  get prefix(): string {
    return `${this.config.runId}_`;
  }

  /**
   * Asks the run to stop after the bar in progress (or at once while waiting for a bar). `cancel` cancels the
   * working orders first, `flatten` also closes every position with reduce-only market orders, `halt` (the kill
   * switch) does both and leaves every instrument halted in the saved state (a restart trades nothing until
   * started with `unhalt`). `requestId` names a saved request (control.json's `at`): the state records the one whose
   * action it applied, so a restart handed the same request again knows it is done (see {@link LiveRunnerDeps.stopDone}).
   */
  stop(reason: string, actions: StopActions = {}, requestId?: number): void {
    // The request being applied (or applied) already, asked again (a second SIGTERM while its life waits for its
    // flatten reads the same control.json): nothing new, not applied twice.
    if (requestId !== undefined && requestId === this.appliedStop && this.stopRequest !== undefined) return;
    this.stopRequest = reason;
    this.shutdownActions = actions;
    this.stopRequestId = requestId;
    this.stopsAsked++;
    if (this.started) this.deps.pacer.interrupt();
    else this.stopSavedBeforeStart = true; // before run(): applied after warm-up and reconciliation
  }

  private rollbackRequested = false;

  /** `tm live rollback`: the model goes back to the version before the last swap at the next bar boundary. */
  requestRollback(): void {
    this.rollbackRequested = true;
  }

  private started = false;
  /** Venue rounds of the bar loop that failed (each retried after the next bar). */
  venueErrors = 0;
  /**
   * The venue breaker: open after `openAfter` failed venue rounds in a row (new orders of every instrument denied),
   * closed after `closeAfter` good ones. A round that sent the venue no request is neither (see LiveVenue.requests).
   */
  private breakerOpen = false;
  private failedRounds = 0;
  private goodRounds = 0;
  /** Breaker transitions of this process, in order. */
  readonly breakerChanges: { readonly ts: number; readonly open: boolean; readonly reason: string }[] = [];

  /** Feeds one venue round's outcome to the breaker. */
  private venueRound(ok: boolean): void {
    const { openAfter, closeAfter } = { openAfter: 3, closeAfter: 2, ...this.config.venueBreaker };
    const kernel = this.kernel;
    if (ok) {
      this.failedRounds = 0;
      if (!this.breakerOpen || ++this.goodRounds < closeAfter) return;
      this.breakerOpen = false;
      const reason = `${BREAKER_CLOSED}: ${closeAfter} good venue rounds`;
      for (let i = 0; i < kernel.instruments.length; i++) if (this.breakerHalted[i]) kernel.setInstrumentHalted(i, false, reason);
      this.breakerHalted.fill(0);
      this.breakerChanges.push({ ts: kernel.now(), open: false, reason });
      this.deps.log?.(reason);
      return;
    }
    this.venueErrors++;
    this.goodRounds = 0;
    if (this.breakerOpen || ++this.failedRounds < openAfter) return;
    this.breakerOpen = true;
    const reason = `${BREAKER_OPEN}: ${openAfter} failed venue rounds in a row`;
    for (let i = 0; i < kernel.instruments.length; i++) {
      if (kernel.risk.isInstrumentHalted(i)) continue; // halted for another reason: the breaker does not release it
      kernel.setInstrumentHalted(i, true, reason);
      this.breakerHalted[i] = 1;
    }
    this.breakerChanges.push({ ts: kernel.now(), open: true, reason });
    this.deps.log?.(`ALERT ${reason}: new orders denied until it closes`);
  }
  /** Wall time (the pacer's) at the last bar or start: status.json's `updatedAt`. */
  private wallTime = 0;

  private shutdownActions: StopActions = {};
  /** What the applied stop left undone when the run ended ({@link stopLeftOver}), undefined: nothing. */
  private stopLeftOver: string | undefined;
  /** The saved request of the stop asked for ({@link stop}'s `requestId`). */
  private stopRequestId: number | undefined;
  /** The last saved request whose action a life of this run applied (kept in the state from life to life). */
  private appliedStop: number | undefined;
  /** {@link stop} calls so far, and how many of them {@link shutdown} had seen when it last started. */
  private stopsAsked = 0;
  private stopsApplied = 0;

  /** Cancels, flattens and halts as {@link stop} asked, and waits (venue runs: a few polls) for the answers. */
  private async shutdown(): Promise<void> {
    const { kernel } = this;
    const action = shutdownAction(this.shutdownActions);
    this.stopsApplied = this.stopsAsked;
    if (this.stopRequestId !== undefined) this.appliedStop = this.stopRequestId; // saved with the action's orders and state
    if (action === undefined) return;
    const n = kernel.instruments.length;
    const reason = this.stopRequest ?? 'stop';
    // Journaled before its orders: tm replay applies the same action after the same bar.
    this.journal.append({ k: 'event', t: kernel.now(), e: 'shutdown', id: action, reason });
    applyShutdown(kernel, action, reason);
    this.journalDenials();
    this.gate.flush();
    const paper = this.paperVenue;
    if (paper !== undefined) {
      // The simulated venue trades at its next price: the marks (last closes) stand in for it.
      paper.fillAtMarks(kernel.now());
    } else if (this.deps.venue !== undefined) {
      let closings = 0;
      const deadline = performance.now() + (this.config.stopWaitMs ?? DEFAULT_STOP_WAIT_MS);
      for (;;) {
        await this.deps.venue.flush?.();
        await this.deps.venue.poll();
        // A fill the stop's cancels came too late for (the venue filled the order first): its position closed too (a
        // few rounds at most: a position the venue does not have is refused, and the next start reconciles it).
        if (action !== 'cancel' && closings < STOP_CLOSING_ROUNDS && kernel.flattenUncovered(reason).orders.length > 0) {
          closings++;
          this.journalDenials();
          this.gate.flush();
          continue;
        }
        let open = 0;
        for (let i = 0; i < n; i++) open += kernel.openOrderCount(i);
        if (open === 0 || performance.now() >= deadline) break;
        await new Promise<void>((resolve) => setTimeout(resolve, STOP_POLL_MS));
      }
    }
  }

  /**
   * Starts (or restarts) the run and processes bars until stopped or `maxBars` live bars were processed. One life per
   * run folder: the folder is taken for the whole life ({@link acquireRunLock}), a second life started meanwhile is
   * refused before it reads or writes anything of the run (@throws RunLockError `run_locked`); a life whose lock file
   * another process took ends before its next bar (@throws RunLockError `run_lock_lost`).
   */
  async run(): Promise<LiveRunSummary> {
    let lock: RunLock;
    try {
      lock = await (this.deps.lock ?? acquireRunLock)(this.config.dir);
    } catch (e) {
      this.journal.close();
      throw e;
    }
    this.lock = lock;
    try {
      return await this.runLocked();
    } finally {
      await lock.release();
    }
  }

  /**
   * Before each bar: this life still holds the run folder. A lock file can be taken from it (the lock file's one race,
   * or a start after somebody removed the file by hand): the life then ends at once, as a crash does, sending and
   * saving nothing more (the other life owns the folder now; its reconciliation takes over what this one left).
   * @throws RunLockError `run_lock_lost` naming the process that holds it now.
   */
  private checkLock(): void {
    const lost = this.lock?.lost();
    if (lost === undefined) return;
    const who = lost.pid === undefined ? 'no process' : `process ${lost.pid}`;
    this.deps.log?.(`ALERT run folder ${this.config.dir}: its lock ${this.lock!.name} names ${who}, not this one (${process.pid}): this life ends at once, sending and saving nothing more`);
    throw new RunLockError('run_lock_lost', `run folder ${this.config.dir} was taken from this process (its lock names ${who}): the life ended before its next bar`, { dir: this.config.dir, ...(lost.pid !== undefined ? { pid: lost.pid } : {}) });
  }

  private async runLocked(): Promise<LiveRunSummary> {
    const { config, deps, kernel, tf } = this;
    this.started = true;
    const ids = config.instruments.map((x) => x.id);
    const saved = loadRunnerState(this.statePath, { runId: config.runId, mode: config.mode, strategy: deps.strategy.name, instruments: ids, timeframe: config.timeframe });
    this.appliedStop = saved?.appliedStop;
    if (this.stopRequestId !== undefined && this.stopRequestId === saved?.appliedStop) {
      // The last life applied this request and saved so, then ended before the request was removed: done, not again.
      deps.log?.(`the saved request "${this.stopRequest}" was applied by the last life (its saved state says so): not applied again`);
      deps.stopDone?.(this.stopRequestId);
      this.stopRequest = undefined;
      this.shutdownActions = {};
      this.stopRequestId = undefined;
      this.stopsApplied = this.stopsAsked;
    }
    const warmup = config.warmupBars ?? deps.strategy.warmupBars ?? 0;
    let liveFrom: number;
    let liveBars = 0;
    if (saved !== undefined) {
      kernel.restoreState({ ...saved.kernel, histories: saved.kernel.histories.map(() => ({ length: 0, columns: {} })) });
      this.clock.advanceTo(saved.kernel.now);
      this.paperVenue?.restore(saved.paperVenue!);
      // JSON has no -Infinity: a run that booked no execution yet saved null.
      this.gate.restoreBooked(saved.bookedExecutions, saved.lastExecutionTs !== null && Number.isFinite(saved.lastExecutionTs) ? saved.lastExecutionTs : -Infinity);
      if (config.unhalt !== true) {
        this.lostRecords.push(...(saved.lostOrders ?? [])); // listed until the operator unhalts
        this.lostSaved = this.lostRecords.length;
      }
      for (const i of saved.breakerHalted ?? []) this.breakerHalted[i] = 1;
      this.crashedSent = this.sentAfter(saved.journalBytes ?? 0);
      this.journaledSent = this.crashedSent === undefined ? undefined : new Map(this.crashedSent);
      kernel.entryBlockExempt = this.crashedSent === undefined ? undefined : new Set(this.crashedSent.keys());
      // Open with halts of its own, or open while every instrument was halted for another reason (nothing to halt).
      this.breakerOpen = saved.breakerOpen === true || (saved.breakerHalted ?? []).length > 0;
      liveFrom = saved.lastBarTs + tf;
      liveBars = saved.liveBars;
    } else {
      const now = await deps.pacer.now();
      liveFrom = config.startTs ?? Math.floor(now / tf) * tf;
    }
    this.wallTime = await deps.pacer.now();
    // A restart names the journal's length at the state it restored: what lives journaled after that is not in it (tm replay).
    const stateBytes = saved?.journalBytes;
    this.journal.appendDurable({ k: 'start', at: this.wallTime, runId: config.runId, mode: config.mode, strategy: deps.strategy.name, instruments: ids, timeframe: config.timeframe, restart: saved !== undefined, ...(stateBytes !== undefined ? { stateBytes } : {}), ...(config.config !== undefined ? { config: config.config } : {}), ...(config.regimes !== undefined ? { regimes: config.regimes } : {}) });
    if (saved !== undefined && config.unhalt === true) {
      // The operator decided to trade again: the account ACTIVE, every instrument released (journaled after the start
      // record: changes of this life, not of the state it restored).
      if (kernel.tradingState !== 'ACTIVE') kernel.setTradingState('ACTIVE', 'unhalted by the operator (tm live --unhalt)');
      for (let i = 0; i < config.instruments.length; i++) if (kernel.risk.isInstrumentHalted(i)) kernel.setInstrumentHalted(i, false, 'unhalted by the operator (tm live --unhalt)');
    }
    // Running from now on (status.json names this process): `tm live stop` and `tm live kill` reach it during its warm-up
    // and reconciliation too, instead of saving their request for a next start while this one goes on to trade.
    this.writeStatus(liveFrom - tf, liveBars, true);
    deps.log?.(`${saved ? 'restart' : 'start'} ${config.mode} run ${config.runId}: warm-up ${warmup} bars, first live bar ${new Date(liveFrom).toISOString()}`);
    kernel.start();

    // Warm-up: the bars before the first live bar through the signal stage and the strategy, orders held back. From
    // the saved runner state when it is valid (tier 1; tier 2 also fetches the bars since), else from the venue (tier 3).
    kernel.warmingUp = true;
    const warmStart = performance.now();
    // The warm-up's records go to the journal in one write at its end (nothing is sent before).
    this.journal.hold();
    this.recent = new RecentBars(warmup, config.instruments.length);
    // The warm-up's bars closed in the past: the signal stage asks for their inputs at once.
    deps.signals?.knownUntil(liveFrom);
    const restored = await this.restoreSaved(liveFrom, warmup);
    const tier: WarmupTier = warmup === 0 ? 0 : restored.restored === undefined ? 3 : restored.restored.lastTs + tf === liveFrom ? 1 : 2;
    const fromSaved = tier === 1 || tier === 2;
    let cursor = restored.restored !== undefined ? restored.restored.lastTs : liveFrom - (warmup + 1) * tf;
    let warmed = restored.restored?.sets ?? 0;
    let fetched = 0;
    // Tier 2: the signals of the bars since the saved state, from the run's prediction history (its journal) first.
    const history = tier === 2 ? this.journalSignals(cursor, liveFrom, restored.restored!.instruments[0]!.journal) : undefined;
    const known = new Uint8Array(config.instruments.length);
    const knownValues = new Float64Array(config.instruments.length);
    let fromJournal = 0;
    const fetchStart = performance.now();
    let firstFetchSeconds = 0;
    while (fromSaved ? cursor + tf < liveFrom : warmed < warmup) {
      const set = await deps.feed.next(cursor);
      if (set === undefined) {
        // A stop that asks for an action (cancel, flatten, the kill switch) needs the venue's books: the warm-up and the
        // reconciliation go on, and it applies before the first bar, as a request saved while the run was down does.
        // A second one (the warm-up cannot fetch its bars, the operator insists) ends the run, its action unapplied.
        if (shutdownAction(this.shutdownActions) !== undefined && !this.warmupStopDeferred) {
          this.warmupStopDeferred = true;
          continue;
        }
        return this.unappliedStop(this.finish(saved !== undefined, warmed, 0, liveFrom - tf, [], 'stopped during warm-up'), 'the warm-up did not complete');
      }
      if (set.ts >= liveFrom) {
        this.pending = set; // the first live bar arrived already
        break;
      }
      if (history !== undefined) {
        for (let i = 0; i < known.length; i++) {
          const v = history.get(`${i}:${set.ts}`);
          known[i] = v === undefined ? 0 : 1;
          knownValues[i] = v ?? NaN;
          if (v !== undefined && set.bars[i] !== undefined) fromJournal++;
        }
        await deps.signals?.onBarSet(set, known, knownValues);
      } else await deps.signals?.onBarSet(set);
      this.process(set, true);
      cursor = set.ts;
      warmed++;
      if (fetched++ === 0) firstFetchSeconds = (performance.now() - fetchStart) / 1000;
    }
    const fetchSeconds = (performance.now() - fetchStart) / 1000;
    kernel.warmingUp = false;
    this.journal.release();
    const warmSeconds = (performance.now() - warmStart) / 1000;
    const reason = tier === 1 ? `saved state of ${new Date(cursor).toISOString()} restored and validated` : tier === 2 ? `saved state of ${new Date(restored.restored!.lastTs).toISOString()} restored and validated; ${fetched} bar sets since fetched` : restored.reason;
    this.warmup = { tier, reason, restoredBars: restored.restored?.sets ?? 0, fetchedBars: fetched, journalSignals: fromJournal, fetchSeconds, firstFetchSeconds, seconds: warmSeconds, ...(this.strategyCheck !== undefined ? { strategyCheck: this.strategyCheck } : {}), ...(fromSaved && this.restorePhases !== undefined ? { restorePhases: this.restorePhases } : {}) };
    this.journal.append({ k: 'event', t: liveFrom, e: 'warmup', id: `tier${tier}`, reason });
    deps.log?.(tier === 0 ? `no warm-up: ${reason}` : `${restored.alert ? 'ALERT ' : ''}warm-up tier ${tier} (${warmed} bar sets in ${(warmSeconds * 1000).toFixed(1)} ms): ${reason}${tier === 2 ? `; ${fromJournal} signals from the journal` : ''}`);
    deps.metrics?.warmedUp(kernel, warmed, warmSeconds, deps.signals, WARMUP_SOURCES[tier]);
    if (config.funding !== undefined) {
      // A paper run's restart settles each instrument from the last settlement its previous life settled (see PaperFundingRates.resumeAfter).
      const lastSettled = deps.venue === undefined ? this.savedLastSettled(saved, liveFrom) : undefined;
      if (lastSettled !== undefined) config.funding.resumeAfter?.(lastSettled);
      this.fundingSchedule = new FundingSchedule(config.funding, config.instruments.length, liveFrom, lastSettled);
    }
    if (deps.venue !== undefined) {
      this.venueIntervals = new FundingIntervals(config.fundingIntervalsMs ?? [], config.instruments.map((x) => x.symbol), deps.fundingIntervals, deps.log);
      this.venueFunding = new VenueFunding(liveFrom, saved?.venueFunding, this.venueIntervals.all);
      this.nextVenueFunding = this.venueSettlementAfter(liveFrom);
    }
    cursor = liveFrom - tf;

    // Reconciliation with the venue's books (every start: crash-only).
    let differences: ReconcileDifference[] = [];
    if (deps.venue !== undefined) {
      const reconcileStart = performance.now();
      deps.log?.(`warm-up done (${warmed} bars); reconciling with the venue`);
      await deps.venueReady; // markets and clock of the execution client, loaded while the warm-up ran
      const sinceMs = this.executionCursor(liveFrom);
      // The venue may be unreachable at a start: retried (nothing is traded before reconciliation completes).
      for (let attempt = 1; ; attempt++) {
        try {
          differences = await reconcile(kernel, this.gate, deps.venue, { prefix: this.prefix, sinceMs, journal: this.journal, journaled: this.journaled, ...(this.venueFunding ? { funding: this.venueFunding } : {}), ...(deps.log ? { log: deps.log } : {}) });
          break;
        } catch (e) {
          // Never trade unreconciled, never give up either: the venue is asked again, less and less often.
          // A stop asked while the venue cannot be reconciled ends the life with nothing sent, at once; one saved before
          // the start (control.json: the next start's, or tm live stop|kill --now) is what this life is for: the venue
          // is asked a few times first, unless another stop comes meanwhile.
          const patient = this.stopSavedBeforeStart && this.stopsAsked === 1 && attempt < SAVED_STOP_RECONCILE_ATTEMPTS;
          if (this.stopRequest !== undefined && !patient) return this.unappliedStop(this.finish(saved !== undefined, warmed, 0, liveFrom - tf, [], `stopped before reconciliation: ${this.stopRequest}`), 'the venue could not be reconciled');
          deps.log?.(`${attempt >= 3 ? 'ALERT ' : ''}reconcile attempt ${attempt} failed (${(e as Error).message}); retrying`);
          await new Promise<void>((resolve) => setTimeout(resolve, Math.min(RECONCILE_BACKOFF_MAX_MS, 200 * attempt)));
        }
      }
      for (const d of differences) deps.log?.(`reconcile: ${d.kind} ${JSON.stringify(d.detail)}`);
      deps.metrics?.reconciled(differences, (performance.now() - reconcileStart) / 1000);
      this.noteLostFound(false); // its differences are journaled and counted already
    }
    // No new positions while a restart settles (warm-up protection), nor after a warm-up window that fails the gates.
    await this.applyEntryBlocks(saved !== undefined || fromSaved);
    this.persist(cursor, liveBars);
    await this.saveRunnerState();
    deps.log?.(`ready: ${warmed} warm-up bars replayed, ${differences.length} reconciliation differences; ${this.stopRequest !== undefined ? `applying the stop "${this.stopRequest}" before any bar` : `trading from ${new Date(liveFrom).toISOString()}`}`);
    if (deps.venue !== undefined) {
      // Orders reconciliation sent again are answered by the first venue round (their events reach the next state).
      try {
        await deps.venue.flush?.();
        await deps.venue.poll();
      } catch (e) {
        deps.log?.(`venue: ${(e as Error).message} (first poll after the start; asked again after the next bar)`);
      }
    }

    let processed = 0;
    let stopReason = 'max bars';
    while (config.maxBars === undefined || processed < config.maxBars) {
      if (this.stopRequest !== undefined) {
        stopReason = this.stopRequest;
        break;
      }
      const set = this.pending ?? (await deps.feed.next(cursor));
      this.pending = undefined;
      if (set === undefined) {
        stopReason = this.stopRequest ?? 'interrupted';
        break;
      }
      this.checkLock();
      const venue = deps.venue;
      if (venue !== undefined) {
        // What happened at the venue up to this bar's close (fills of the orders sent at the last close) is booked
        // before the strategy sees the bar: the backtest's order of events.
        const sent = venue.requests;
        try {
          await venue.flush?.();
          await venue.poll();
          await this.bookVenueFunding(venue, set.ts + tf);
          if (askedSince(venue, sent)) this.venueRound(true);
        } catch (e) {
          this.venueRound(false);
          deps.log?.(`venue: ${(e as Error).message} (before bar ${new Date(set.ts).toISOString()}; the bar is dispatched on what is known)`);
        }
      }
      // Promote-to-live: a version verified after the last bar (or a rollback asked for) takes over from this bar on.
      if (deps.modelWatch !== undefined) {
        if (this.rollbackRequested) {
          this.rollbackRequested = false;
          if (!(await deps.modelWatch.rollback(set.ts))) deps.log?.('rollback: no previous model version in this process');
        } else await deps.modelWatch.apply(set.ts);
      }
      if (this.protectUntil > -Infinity) this.updateEntryBlock(await deps.pacer.now());
      if (this.crashedSent !== undefined && deps.venue !== undefined) this.takeOverHaltedSent(set.ts + tf);
      // A paper run's funding rates of a settlement this bar's close reaches, and the signal stage's inputs (funding,
      // DVOL, the reference close), arrive with the bar: asked before the decision clock starts.
      const schedule = this.fundingSchedule;
      if (this.venueFunding === undefined && schedule !== undefined && set.ts + tf >= schedule.next && config.funding?.prepare !== undefined) {
        await config.funding.prepare(schedule.settledThrough, set.ts + tf);
        schedule.replan(); // the venue may have changed a contract's funding interval (PaperFundingRates)
      }
      await deps.signals?.gather(set);
      this.barReceived = performance.now();
      this.latencyOpen = true;
      // The features and the model's inference are part of the decision latency (bar received → order handed over).
      await deps.signals?.onBarSet(set);
      this.process(set, false);
      const processSeconds = (performance.now() - this.barReceived) / 1000;
      this.latencyOpen = false;
      await this.journal.syncAsync();
      this.wallTime = await deps.pacer.now();
      if (venue !== undefined) {
        // A venue error here is not fatal: what was missed is asked again after the next bar (and at any restart).
        const sent = venue.requests;
        try {
          await venue.flush?.();
          await venue.poll();
          await this.bookUntracked(venue, set.ts);
          await this.settleUntracked(venue);
          await this.checkInFlight();
          await this.checkPositions(venue);
          this.noteLostFound(true);
          if (askedSince(venue, sent)) this.venueRound(true);
        } catch (e) {
          this.venueRound(false);
          deps.log?.(`venue: ${(e as Error).message} (after bar ${new Date(set.ts).toISOString()}; asked again after the next bar)`);
        }
      }
      await deps.modelWatch?.check(set.ts + tf);
      cursor = set.ts;
      processed++;
      liveBars++;
      const persistStart = performance.now();
      this.persist(cursor, liveBars);
      await this.saveRunnerState();
      deps.metrics?.bar(kernel, set, { receivedAtMs: this.wallTime, processSeconds, persistSeconds: (performance.now() - persistStart) / 1000 }, deps.signals);
      if (deps.metrics !== undefined && deps.quotes !== undefined) {
        // After the bar is decided and persisted: the spread costs the decision nothing.
        for (let i = 0; i < config.instruments.length; i++) {
          try {
            deps.metrics.spread(i, await deps.quotes.spreadBasisPoints(i));
          } catch (e) {
            deps.log?.(`quotes: ${(e as Error).message} (spread not updated)`);
          }
        }
      }
    }
    if (this.stopRequest !== undefined) {
      if (processed === 0 && saved !== undefined && deps.venue !== undefined) cursor = this.passCrashedBars(saved.journalBytes ?? 0, cursor);
      // A stop asked while one is applied (tm live kill during a stop's wait for its flatten) is applied after it, before
      // the state is saved: its halt is not lost, and its request is done with the rest.
      while (this.stopsApplied !== this.stopsAsked) {
        await this.shutdown();
        if (deps.venue !== undefined) {
          // A last look at the venue: fills that happened since the last bar are booked before the state is saved.
          try {
            await deps.venue.flush?.();
            await deps.venue.poll();
            await this.bookUntracked(deps.venue, cursor);
          } catch (e) {
            deps.log?.(`venue: ${(e as Error).message} (at stop; the next start reconciles)`);
          }
        }
      }
      // What the venue has not confirmed by now stays so after the process: said loudly, in the status and the summary.
      this.stopLeftOver = stopLeftOver(kernel, this.shutdownActions);
      if (this.stopLeftOver !== undefined) deps.log?.(`ALERT stop "${this.stopRequest}" applied, but ${this.stopLeftOver} at the venue's last answer: check the venue (the next start reconciles with it)`);
      this.persist(cursor, liveBars);
      await this.saveRunnerState();
      if (this.stopRequestId !== undefined && this.appliedStop === this.stopRequestId) deps.stopDone?.(this.stopRequestId);
    }
    return this.finish(saved !== undefined, warmed, processed, cursor, differences, stopReason);
  }

  private pending: LiveBarSet | undefined;
  /** The run folder's lock, held for the life. */
  private lock: RunLock | undefined;

  /** The last warm-up's worth of bar sets (the runner state saved to the state store). */
  private recent = new RecentBars(0, 0);
  /** Stale-input events delivered up to this count (a replay of saved bars delivers each at its own bar). */
  private staleLimit = Infinity;
  /** The phases of the last restore (see {@link WarmupReport.restorePhases}). */
  private restorePhases: WarmupReport['restorePhases'];
  /** How this process warmed up. */
  private warmup: WarmupReport | undefined;
  /** Tiers 1 and 2: whether the replayed strategy shows the saved state (`matched`) or how it differs. */
  private strategyCheck: string | undefined;
  /** Wall time the warm-up protection ends (-Infinity: none). */
  private protectUntil = -Infinity;
  /** Why the warm-up window failed the quality gates (no new positions in this process); undefined: passed or no gates. */
  private gateBlock: string | undefined;

  /**
   * Restores the saved runner state when there is one and it is valid (see `loadSavedState`), in two passes over its
   * bar sets: the signal stage first (features from the saved inputs; the last `validateBars` sets' signals
   * recomputed by the model and compared with the saved ones), then — only once validated — the strategy, with the
   * saved signals and each stale-input event at its bar. A state that fails leaves the stage as it was (reset).
   * Returns the restored state, or why none (and whether that needs an alert).
   */
  private async restoreSaved(liveFrom: number, warmup: number): Promise<{ readonly restored?: RestoredState; readonly reason: string; readonly alert: boolean }> {
    const { config, deps, tf } = this;
    const st = config.stateStore;
    if (warmup === 0) return { reason: 'the run warms up on no bars', alert: false };
    if (st === undefined) return { reason: 'no state store: full warm-up from the venue', alert: false };
    const ids = config.instruments.map((x) => x.id);
    const signals = deps.signals;
    const models = ids.map((_, i) => signals?.identity(i) ?? { name: 'none', version: 'none', checksum: 'none' });
    const t0 = performance.now();
    const loaded = await loadSavedState(st.store, st.key ?? config.runId, { runId: config.runId, strategy: deps.strategy.name, timeframe: config.timeframe, instruments: ids }, models, tf, this.wallTime, st.maxAgeMs ?? DEFAULT_MAX_STATE_AGE_MS);
    if (!loaded.ok) return { reason: `${loaded.reason}: full warm-up from the venue`, alert: loaded.alert };
    const state = loaded.state;
    const gap = (liveFrom - state.lastTs) / tf - 1;
    if (!(gap >= 0)) return { reason: `saved state is of the bar at ${new Date(state.lastTs).toISOString()}, not before the first live bar ${new Date(liveFrom).toISOString()}: full warm-up from the venue`, alert: true };
    if (gap >= warmup) return { reason: `${gap} bars since the saved state, not fewer than the warm-up of ${warmup}: full warm-up from the venue`, alert: false };
    if (state.sets !== warmup) return { reason: `saved state holds ${state.sets} bar sets, this run warms up on ${warmup}: full warm-up from the venue`, alert: false };
    const n = ids.length;
    const sets: LiveBarSet[] = [];
    for (let k = 0; k < state.sets; k++) {
      sets.push({
        ts: state.instruments[0]!.ts[k]!,
        bars: state.instruments.map((x) => (x.open[k] === x.open[k] ? { ts: x.ts[k]!, open: x.open[k]!, high: x.high[k]!, low: x.low[k]!, close: x.close[k]!, volume: x.volume[k]! } : undefined)),
      });
    }
    const staleCounts = new Int32Array(state.sets);
    const t1 = performance.now();
    if (signals !== undefined) {
      state.instruments.forEach((x, i) => x.inputs !== undefined && signals.restoreInputs(i, x.inputs, x.askedUntil));
      const refs = new Float64Array(n), values = new Float64Array(n), check = new Uint8Array(n);
      const checkFrom = state.sets - (st.validateBars ?? DEFAULT_VALIDATE_BARS);
      let worst = 0;
      for (let k = 0; k < sets.length; k++) {
        for (let i = 0; i < n; i++) {
          const x = state.instruments[i]!;
          refs[i] = x.reference[k]!;
          values[i] = x.signal[k]!;
          check[i] = k >= checkFrom ? 1 : 0;
        }
        const d = signals.replaySaved(sets[k]!, refs, values, check);
        worst = Math.max(worst, typeof d === 'number' ? d : await d);
        staleCounts[k] = signals.staleEvents.length;
      }
      if (!(worst <= VALIDATE_TOLERANCE)) {
        signals.reset();
        return { reason: `saved state failed its validation: the model's signals of its last bars differ from the saved ones by up to ${worst} (tolerance ${VALIDATE_TOLERANCE}): full warm-up from the venue`, alert: true };
      }
    }
    // The saved bars were journaled by the life that saved them: journaled again only when this journal may lack them.
    const t2 = performance.now();
    const saver = state.instruments[0]!.journal;
    const journaled = saver !== undefined && saver.path === this.journal.path && this.journal.size() >= saver.bytes;
    for (let k = 0; k < sets.length; k++) {
      if (signals !== undefined) for (let i = 0; i < n; i++) signals.setValue(i, state.instruments[i]!.signal[k]!);
      this.staleLimit = staleCounts[k]!;
      this.process(sets[k]!, true, !journaled);
    }
    this.staleLimit = Infinity;
    this.restorePhases = { readSeconds: (t1 - t0) / 1000, signalSeconds: (t2 - t1) / 1000, strategySeconds: (performance.now() - t2) / 1000 };
    // The strategy rebuilt by the replay must show what it showed when the state was saved (its tier, regime
    // probabilities, rolling IC and sizing inputs); a difference is reported, the decision is the operator's.
    const differences = state.instruments.flatMap((x, i) => strategyDifferences(x.strategyState, this.strategySummary(i)).map((d) => `${config.instruments[i]!.id}: ${d}`));
    this.strategyCheck = differences.length === 0 ? 'matched' : differences.join('; ');
    if (differences.length > 0) deps.log?.(`ALERT the strategy replayed from the saved state differs from the saved one: ${this.strategyCheck}`);
    return { restored: state, reason: '', alert: false };
  }

  /**
   * The signals the run journaled for bar sets opened in (`after`, `before`): `instrument:ts` → signal (NaN for a
   * journaled null). Read at a tier-2 start from the part of this journal written after the saved state (`saver`: the
   * journal and its size then) — the gap's bars, nothing older; none when the saver's journal is not this one or is
   * shorter now (the model computes them), or when a line there is unreadable.
   */
  private journalSignals(after: number, before: number, saver: { readonly path: string; readonly bytes: number } | undefined): Map<string, number> {
    const out = new Map<string, number>();
    if (this.deps.signals === undefined || saver === undefined || saver.path !== this.journal.path || this.journal.size() < saver.bytes) return out;
    try {
      for (const r of readJournalTail(this.journal.path, saver.bytes)) {
        if (r.k === 'bar' && r.ts > after && r.ts < before && r.s !== undefined) out.set(`${r.i}:${r.ts}`, r.s ?? NaN);
      }
    } catch (e) {
      this.deps.log?.(`journal: ${(e as Error).message} (gap-fill signals computed by the model)`);
    }
    return out;
  }

  /**
   * Client order ids the journal holds as sent from byte `offset` on (after the saved state): a life that crashed
   * before saving sent them. Catching up, this life makes those decisions again; the warm-up protection must not deny
   * them (see Kernel.entryBlockExempt): a paper venue's books went with the crashed life, and a venue's order may have
   * been lost in flight (journaled, never received). One the venue did receive was adopted at reconciliation (the
   * decision made again is that order, not sent twice): from its open orders while it works, from its executions once
   * it filled (test/integration/live-demo-crash-window.test.ts, cases a and c). Only one it received and closed without
   * a fill is not listed there: sent again, it is answered 110072 under its id and followed as that order (accepted,
   * canceled) by the Bybit client. None is sent on an instrument halted when its bar comes (a position reconciliation
   * could not explain): it is taken over unsent instead ({@link takeOverHaltedSent}, case d). Returns each id's first
   * journaled command. An unreadable journal tail exempts nothing (logged).
   */
  private sentAfter(offset: number): Map<string, SubmitRecord> | undefined {
    if (this.journal.size() <= offset) return undefined;
    try {
      const sent = new Map<string, SubmitRecord>();
      for (const r of readJournalTail(this.journal.path, offset)) if (r.k === 'submit' && !sent.has(r.id)) sent.set(r.id, r);
      return sent.size > 0 ? sent : undefined;
    } catch (e) {
      this.deps.log?.(`journal: ${(e as Error).message} (orders sent before the crash are not exempt from the warm-up protection)`);
      return undefined;
    }
  }

  /**
   * A venue run's life that stops before its first bar (the short life of `tm live stop|kill --now`, or a start that
   * applies a saved request) after restoring a state older than bars a crashed life journaled live: those bars were
   * decided, and their orders sent to the venue (reconciliation adopted what reached it), but no life will decide them
   * again (the next one starts after this life's state). The stop is applied after the last of them with a decision
   * journaled (an order sent or denied), as `tm replay` applies it: the engine time moves to that bar's close, and the
   * ids the crashed life generated at that time (its orders and denials) are taken as used, so that a flatten order
   * never gets one (the kernel would take it for that decision made again, and not send it). Returns the bar time the
   * stop follows (the state's cursor). Before, the stop came at the restored state's time: its orders had other ids
   * than the replay's, and the next life decided the crashed bars again after the stop. An unreadable journal tail
   * leaves the cursor as it was (logged).
   */
  private passCrashedBars(offset: number, cursor: number): number {
    let records: JournalRecord[];
    try {
      records = readJournalTail(this.journal.path, offset);
    } catch (e) {
      this.deps.log?.(`journal: ${(e as Error).message} (the stop applies after the bar of the restored state)`);
      return cursor;
    }
    // Bars whose decisions were journaled (an order sent or denied at their close): a life can die between journaling a
    // bar and deciding it (tm replay leaves such a bar out, as the next life would decide it).
    const decisions = records.filter(isDecision);
    const decided = new Set(decisions.map((d) => d.t));
    let last = cursor;
    for (const r of records) if (r.k === 'bar' && r.warmup === undefined && r.ts > last && decided.has(r.ts + this.tf)) last = r.ts;
    if (last === cursor) return cursor;
    const close = last + this.tf;
    this.clock.advanceTo(close);
    this.kernel.skipGeneratedIds(decisions.flatMap((d) => (d.t === close ? [d.id] : [])));
    this.deps.log?.(`the stop applies after ${new Date(last).toISOString()}, the last bar a crashed life traded after the restored state`);
    this.applyCrashedStates(records, last);
    return last;
  }

  /**
   * The state changes the crashed life that decided `lastBar` (see {@link passCrashedBars}) journaled up to that bar
   * (crashed-life.ts passedLifeRange): halts and releases of single instruments, the account's state set by hand. They
   * were in force at its decisions (an order it denied under a halt set at its reconciliation), but no saved state
   * holds them: applied again, in their order, at the engine time now, each journaled as a `crashed_state`
   * reconciliation (not as a state record of its own: `tm replay` keeps the crashed life's). A release does not undo a
   * halt this life set itself (its reconciliation's: newer than the crashed life's release). Before, the stop's life
   * kept the state from before them: `tm live stop --flatten --now` saved an instrument the crashed life had halted as
   * trading, and `tm replay` sent the order the run had denied.
   */
  private applyCrashedStates(records: readonly JournalRecord[], lastBar: number): void {
    const { kernel } = this;
    for (const { state, change: c } of crashedStateChanges(records, lastBar, this.tf, this.config.instruments.map((x) => x.id))) {
      this.reapplying = true;
      try {
        if (c.instrument >= 0) {
          kernel.setInstrumentHalted(c.instrument, c.state === 'HALTED', c.reason);
          // The breaker's own halts stay its own (released when it closes, in a later life too).
          if (c.reason.startsWith(BREAKER_OPEN)) {
            this.breakerHalted[c.instrument] = 1;
            this.breakerOpen = true;
          } else if (c.state !== 'HALTED') {
            this.breakerHalted[c.instrument] = 0;
            // Only the breaker's own release closes it: another release (the operator's) leaves it as that life had it.
            if (c.reason.startsWith(BREAKER_CLOSED)) this.breakerOpen = this.breakerHalted.some((h) => h !== 0);
          }
        } else kernel.setTradingState(c.state as TradingState, c.reason);
      } finally {
        this.reapplying = false;
      }
      this.journal.append({ k: 'reconcile', t: this.clock.now(), kind: 'crashed_state', detail: { state, reason: c.reason, from: 'journal' } });
      this.deps.log?.(`reconcile: crashed_state ${state} (${c.reason}) journaled by the crashed life before the stop's bar: applied again`);
    }
    // What this life's reconciliation found differing stays halted: its halt changed nothing (and journaled no state
    // record) when the restored state held the instrument halted already, and a crashed life's release applied above
    // (an --unhalt of that life) let it trade again. Halted again here, as a state record of this life (tm replay
    // applies it after the crashed life's release). Before, the stop's life saved it as trading.
    for (const d of reconciledHalts(records, this.config.instruments.map((x) => x.id))) {
      if (kernel.risk.isInstrumentHalted(d.instrument)) continue;
      const reason = d.kind === 'position_mismatch' ? positionMismatchReason({ runner: d.detail['runner'], venue: d.detail['venue'] }, 'after reconciliation') : refusedFillReason(d.detail);
      kernel.setInstrumentHalted(d.instrument, true, reason);
      this.deps.log?.(`ALERT ${reason}: new orders of ${kernel.instruments[d.instrument]!.id} halted again (a crashed life's release came before it)`);
    }
  }

  /** True while {@link applyCrashedStates} applies a journaled change: not journaled as a state record again. */
  private reapplying = false;

  /** The commands of {@link sentAfter} whose bar this life has not decided again yet (venue runs: see {@link takeOverHaltedSent}). */
  private crashedSent: Map<string, SubmitRecord> | undefined;
  /** All the commands of {@link sentAfter}, kept for this life: what an execution of one is taken over as (see {@link journaled}). */
  private journaledSent: Map<string, SubmitRecord> | undefined;

  /**
   * A crashed life's command of `clientOrderId` as journaled: reconciliation and the per-bar bookings take over an
   * execution's order the kernel does not hold as decided (quantity, type, price) when the venue's lookup does not
   * find it yet, instead of from its listed fills alone (its later fills would find it FILLED and be refused).
   */
  private readonly journaled = (clientOrderId: string): JournaledOrder | undefined => {
    const r = this.journaledSent?.get(clientOrderId);
    return r === undefined ? undefined : { request: submittedRequest(r), ts: r.t };
  };

  /**
   * Before the live bar that closes at `barClose` (venue runs after a restart): each order a crashed life sent at or
   * before that close ({@link sentAfter}) that the kernel does not hold and whose instrument is halted now (a position
   * reconciliation could not explain, e.g. the venue's execution listing lagged behind its fill) is taken over unsent
   * from its journaled command (Kernel.adoptOrder: SUBMITTED), and journaled as adopted. The bar then decides it again
   * as the order already held: nothing is sent (the halt holds), and nothing is denied — the order left with the
   * crashed life, and the venue may have filled it. Denied, it was held REJECTED while its fill, booked later, was
   * refused by the order state machine after the account had taken it (a venue error), and tm replay counted a denial
   * the run never meant (test/integration/live-demo-crash-window.test.ts, case d). The venue tells its fate as for any
   * adopted order: its executions are booked after each bar ({@link bookUntracked}), the in-flight check asks for it
   * (accepted; lost when the venue never had it). Instruments not halted decide it again through the warm-up
   * protection (sent again, or adopted at reconciliation), as before.
   */
  private takeOverHaltedSent(barClose: number): void {
    const { kernel } = this;
    for (const [id, r] of this.crashedSent!) {
      if (r.t > barClose) continue;
      this.crashedSent!.delete(id); // this bar decides it again (or its decision passed): looked at once
      if (kernel.order(id) !== undefined || (kernel.tradingState !== 'HALTED' && !kernel.risk.isInstrumentHalted(r.i))) continue;
      if (!kernel.adoptOrder(submittedRequest(r), r.t)) continue;
      const reason = `sent before the restart on a halted instrument (${haltReason(kernel, r.i)}): taken over unsent from the journal`;
      this.journal.append({ k: 'reconcile', t: this.clock.now(), kind: 'adopted_order', detail: { id, status: 'SUBMITTED', from: 'journal', reason } });
      this.deps.log?.(`reconcile: adopted_order ${id} ${reason}`);
    }
    if (this.crashedSent!.size === 0) this.crashedSent = undefined;
  }

  /** Saves the runner state to the state store (after every bar): a failure is an alert, never a stop (the next start then warms up from the venue). */
  private async saveRunnerState(): Promise<void> {
    const { config, deps } = this;
    const st = config.stateStore;
    if (st === undefined || this.recent.size === 0) return;
    const signals = deps.signals;
    const ids = config.instruments.map((x) => x.id);
    const start = performance.now();
    try {
      const snapshots = savedSnapshots(
        { runId: config.runId, strategy: deps.strategy.name, timeframe: config.timeframe, instruments: ids },
        this.recent,
        ids.map((_, i) => signals?.identity(i) ?? { name: 'none', version: 'none', checksum: 'none' }),
        this.wallTime,
        this.tf,
        { path: this.journal.path, bytes: this.journal.size() },
        (i, firstTs) => (signals === undefined ? undefined : { inputs: signals.inputState(i, firstTs), askedUntil: signals.askedUntilOf(i) }),
        (i) => this.strategySummary(i),
      );
      await st.store.saveAll(st.key ?? config.runId, snapshots);
      deps.metrics?.stateSaved((performance.now() - start) / 1000, true);
    } catch (e) {
      deps.metrics?.stateSaved((performance.now() - start) / 1000, false);
      deps.log?.(`ALERT state store: ${(e as Error).message} (trading goes on; a restart warms up from the venue)`);
    }
  }

  /** The strategy's state of instrument `i` as its kernel annotations show it (saved with the runner state, checked after a replay). */
  private strategySummary(i: number): StrategySummary {
    const k = this.kernel;
    const tier = k.lastTier(i)?.tier, regime = k.lastRegime(i)?.probabilities, sizing = k.lastSizing(i);
    return { ...(tier !== undefined ? { tier } : {}), ...(regime !== undefined ? { regime: Array.from(regime, (p) => (Number.isFinite(p) ? p : NaN)) } : {}), ...(sizing !== undefined ? { sizing } : {}) };
  }

  /** Evaluates the warm-up gates (model runs with gates) and starts the warm-up protection after a restart. */
  private async applyEntryBlocks(restart: boolean): Promise<void> {
    const { config, deps } = this;
    if (config.warmupGates !== undefined && deps.signals !== undefined) {
      const verdict = warmupGateVerdict(this.recent, this.tf, config.warmupGates);
      if (this.warmup !== undefined) this.warmup = { ...this.warmup, gates: verdict };
      const scores = `IC ${verdict.ic.toFixed(3)}, p ${verdict.pValue.toFixed(3)}, Sharpe ${verdict.sharpe.toFixed(2)} over ${verdict.count} signals`;
      if (!verdict.passed) {
        this.gateBlock = `the warm-up window fails the quality gates (${verdict.failures.join(', ')})`;
        deps.log?.(`ALERT ${this.gateBlock}: no new positions in this process (${scores})`);
      } else deps.log?.(`warm-up quality gates passed: ${scores}`);
      this.journal.append({ k: 'event', t: this.clock.now(), e: 'warmup_gates', id: verdict.passed ? 'passed' : 'failed', reason: verdict.passed ? scores : `${verdict.failures.join(', ')} (${scores})` });
    }
    const wall = await deps.pacer.now();
    const protect = restart ? (config.restartProtectionMs ?? 0) : 0;
    if (protect > 0) this.protectUntil = wall + protect;
    // Journaled at every start, set or not (tm replay applies the blocks in journal order: none carries over a restart).
    this.updateEntryBlock(wall, true);
  }

  /** Sets the kernel's entry block from the gates and the protection at wall time `wall` (journaled when it changes). */
  private updateEntryBlock(wall: number, always = false): void {
    const kernel = this.kernel;
    if (wall >= this.protectUntil) this.protectUntil = -Infinity;
    const block = this.gateBlock ?? (this.protectUntil > -Infinity ? `warm-up protection after a restart until ${new Date(this.protectUntil).toISOString()}` : undefined);
    if (block === kernel.entryBlock && !always) return;
    this.journal.append({ k: 'event', t: this.clock.now(), e: 'entry_block', id: block === undefined ? 'lifted' : 'set', ...(block !== undefined ? { reason: block } : {}) });
    if (block !== kernel.entryBlock) this.deps.log?.(block === undefined ? 'new positions allowed again' : `no new positions: ${block}`);
    kernel.entryBlock = block;
  }

  /** One bar time through the engine, in the backtest's order of events (see `runBacktest`). */
  private process(set: LiveBarSet, warmup: boolean, journalBars = true): void {
    const { kernel, rows, present, tf, journal } = this;
    const signals = this.deps.signals;
    const n = rows.length;
    const recent = this.recent;
    recent.beginSet(set.ts);
    for (let i = 0; i < n; i++) {
      const b = set.bars[i];
      present[i] = b === undefined ? 0 : 1;
      if (b === undefined) continue;
      recent.put(i, b.ts, b.open, b.high, b.low, b.close, b.volume, signals?.lastReference(i) ?? NaN, signals?.value(i) ?? NaN);
      const r = rows[i]!;
      r.ts[0] = b.ts;
      r.open[0] = b.open;
      r.high[0] = b.high;
      r.low[0] = b.low;
      r.close[0] = b.close;
      r.volume[0] = b.volume;
      // The model's signal of the bar (null while undefined): tm replay feeds it to the strategy as the column.
      if (journalBars) journal.appendBar(i, b.ts, b.open, b.high, b.low, b.close, b.volume, signals?.value(i), warmup);
    }
    const tsOpen = set.ts, tsClose = tsOpen + tf;
    this.clock.advanceTo(tsOpen);
    const venue = this.paperVenue;
    if (!warmup && venue !== undefined) for (let i = 0; i < n; i++) if (present[i] !== 0) venue.processBar(i, rows[i]!, 0, tf);
    const mark = kernel.portfolio.mark;
    for (let i = 0; i < n; i++) if (present[i] !== 0) mark[i] = rows[i]!.close[0]!;
    // A venue run books the venue's own payments instead (bookVenueFunding).
    const schedule = this.fundingSchedule;
    if (!warmup && schedule !== undefined && this.venueFunding === undefined && tsClose >= schedule.next) this.chargeFunding(schedule, tsClose);
    this.clock.advanceTo(tsClose);
    if (kernel.hasTimers) kernel.fireTimers();
    if (signals !== undefined) {
      // Inputs that went stale at this bar reach the strategy before the bar (the backtest's order).
      const stale = signals.staleEvents;
      const upTo = Math.min(stale.length, this.staleLimit);
      for (; this.staleSeen < upTo; this.staleSeen++) {
        const e = stale[this.staleSeen]!;
        kernel.onStaleInput(e);
        journal.append({ k: 'event', t: e.barTs, e: 'stale_input', id: `${this.config.instruments[e.instrument]?.id ?? e.instrument}:${e.input}`, reason: `last value ${new Date(e.lastValueTs).toISOString()}` });
      }
      for (let i = 0; i < n; i++) if (present[i] !== 0) kernel.onBar(i, rows[i]!, 0, tf, signals.columns[i]);
    } else {
      for (let i = 0; i < n; i++) if (present[i] !== 0) kernel.onBar(i, rows[i]!, 0, tf);
    }
    this.journalDenials();
    // The bar and its commands are written (they survive a crash of this process) before anything leaves; the fsync
    // follows off the event loop (see the run loop), so the order's hand-over does not wait for the disk. A crash of
    // the machine in between loses journal lines, never an order: the venue has the order under its deterministic id,
    // and the restart re-decides the bar with the same id and reconciles.
    this.gate.flush();
    if (venue !== undefined && venue.hasCommands) venue.processCommands(this.clock.now());
  }

  /**
   * A paper run's funding at the close `tsClose` (see FundingSchedule), each payment journaled: `tm replay` charges the
   * journaled rates at the same closes.
   */
  private chargeFunding(schedule: FundingSchedule, tsClose: number): void {
    const events = this.kernel.fundingEvents;
    const before = events.length;
    schedule.settle(this.kernel, tsClose);
    for (let k = before; k < events.length; k++) {
      const e = events[k]!;
      this.journal.append({ k: 'funding', t: tsClose, i: e.instrument, exec: `paper-${e.ts}-${e.instrument}`, pay: e.payment, rate: e.rate, p: e.markPrice, q: e.position, ts: e.ts, ...(e.source === 'fallback' ? { fallback: true as const } : {}) });
    }
  }

  /**
   * A venue run, before the bar closing at `tsClose` is dispatched: once the close reaches a funding settlement time
   * while the run holds a position, the venue's payments are asked for, at this bar and the next ones until the venue
   * lists one of that settlement (or the next settlement comes), and booked at engine time now, before the strategy
   * sees the bar: as a backtest books funding at the settlement's close before the strategy's decision. A payment the
   * venue lists late is booked at the first bar it is listed before; one made after `tsClose` (listed to a life that
   * restarted behind the venue's clock) at the bar whose close reaches it (VenueFunding).
   */
  private async bookVenueFunding(venue: LiveVenue, tsClose: number): Promise<void> {
    const funding = this.venueFunding;
    if (funding === undefined) return;
    if (tsClose >= this.nextVenueFunding) {
      // A settlement awaited up to this one without any payment of it (while holding): maybe an interval the venue lengthened.
      if (this.awaitedFunding !== -Infinity) await this.askFundingIntervals((i) => this.kernel.portfolio.quantity[i] !== 0);
      let settlement = -Infinity;
      for (let i = 0; i < this.config.instruments.length; i++) settlement = Math.max(settlement, settlementAtOrBefore(tsClose, this.fundingIntervalOf(i)));
      this.nextVenueFunding = this.venueSettlementAfter(tsClose);
      if (this.kernel.portfolio.quantity.some((q) => q !== 0)) {
        this.awaitedFunding = settlement;
        this.awaitedUntil = this.nextVenueFunding;
      }
    }
    // Payments listed before the engine reached them (a restart behind the venue's clock) whose settlement this close
    // reaches, booked as it does: when nothing is awaited, and when the venue cannot be asked now (before the bar's
    // decisions, as an answer would have booked them).
    const bookWaiting = () => {
      if (funding.waitingUpTo(tsClose)) funding.book(this.kernel, this.journal, [], this.kernel.now(), tsClose);
    };
    if (this.awaitedFunding === -Infinity) return bookWaiting();
    let reports: readonly VenueFundingReport[];
    try {
      reports = await venue.fundingSince(funding.since());
    } catch (e) {
      bookWaiting();
      throw e;
    }
    const booked = funding.book(this.kernel, this.journal, reports, this.kernel.now(), tsClose);
    if (reports.some((r) => r.tsEvent >= this.awaitedFunding) || tsClose >= this.awaitedUntil) this.awaitedFunding = -Infinity;
    // A payment at an hour off its instrument's interval: the venue shortened it.
    const offGrid = new Set(booked.filter((r) => settlementAtOrBefore(r.tsEvent, HOUR_MS) % this.fundingIntervalOf(r.instrument) !== 0).map((r) => r.instrument));
    if (offGrid.size > 0 && (await this.askFundingIntervals((i) => offGrid.has(i)))) this.nextVenueFunding = this.venueSettlementAfter(tsClose);
  }

  /**
   * A venue run: asks the venue again for the funding interval of each perpetual `which` picks, on a sign that the venue
   * changed it (see {@link bookVenueFunding}), so the next settlements are the ones it states now; returns whether one
   * changed. Never throws (FundingIntervals keeps the last known one). Nothing is asked in the steady state.
   */
  private async askFundingIntervals(which: (i: number) => boolean): Promise<boolean> {
    const intervals = this.venueIntervals;
    if (intervals === undefined) return false;
    let changed = false;
    for (let i = 0; i < this.config.instruments.length; i++) {
      if (this.config.instruments[i]!.kind === 'spot' || !which(i)) continue;
      const was = intervals.of(i);
      if ((await intervals.refresh(i)) !== was) changed = true;
    }
    return changed;
  }

  /** The first funding settlement of any instrument after `after` (on each one's interval). */
  private venueSettlementAfter(after: number): number {
    let next = Infinity;
    for (let i = 0; i < this.config.instruments.length; i++) next = Math.min(next, gridSettlementAfter(after, this.fundingIntervalOf(i)));
    return next;
  }

  private fundingIntervalOf(i: number): number {
    return this.venueIntervals?.of(i) ?? fundingIntervalOf(this.config.fundingIntervalsMs, i);
  }

  /**
   * Where venue execution queries start: a minute before the newest booked execution (each is booked once by id
   * anyway), or a week before `fallbackTs` while none was booked.
   */
  private executionCursor(fallbackTs: number): number {
    return Number.isFinite(this.gate.lastExecutionTs) ? this.gate.lastExecutionTs - EXECUTION_MARGIN_MS : fallbackTs - 7 * 86_400_000;
  }

  /** Books the executions the client does not report itself (orders adopted after a restart), once each, by execution id. */
  private bookUntracked(venue: LiveVenue, fallbackTs: number): Promise<number> {
    const tracked = (id: string) => venue.orderState?.(id) !== undefined;
    return bookExecutions(this.kernel, this.gate, venue, { prefix: this.prefix, sinceMs: untrackedExecutionsFrom(this.kernel, tracked, this.executionCursor(fallbackTs)), mine: (id) => !tracked(id), journaled: this.journaled, onRefused: this.onRefused });
  }

  /**
   * An execution the kernel refuses during the run (its order's state takes no fill): reported once per life, as at a
   * start (`reportRefusals`) — a reconcile `fill_refused` record (`during: 'run'`), the reconciliation-difference metric
   * (its alert), an ALERT line — and its instrument halted; the round goes on (before, the refusal ended every later
   * round early, see {@link OnRefused}).
   */
  private readonly onRefused: OnRefused;

  /**
   * Ends the orders the client does not follow (taken over at a restart) that the venue closed without this run
   * asking: canceled by hand on the account, by the venue (a reduce-only order of a closed position), or filled with
   * the cancel's answer lost. The client reports only its own orders' ends; without this such an order stayed working
   * in the kernel (its strategy waiting on it, its exposure counted) until the next restart's reconciliation. Only
   * while such orders are open: one listing of the venue's working orders, and a lookup of each one it does not list.
   * A lookup that finds nothing proves nothing (the venue's listings lag its matching engine): the next restart decides.
   */
  private async settleUntracked(venue: LiveVenue): Promise<void> {
    const { kernel } = this;
    const held: OrderSnapshot[] = [];
    for (let i = 0; i < kernel.instruments.length; i++) {
      for (const o of kernel.openOrders(i)) if (o.status !== 'SUBMITTED' && venue.orderState?.(o.clientOrderId) === undefined) held.push(o);
    }
    if (held.length === 0) return;
    const working = new Set((await venue.openOrders(this.prefix)).map((r) => r.clientOrderId));
    for (const o of held) {
      if (working.has(o.clientOrderId)) continue;
      const r = await venue.queryOrder(o.clientOrderId, o.instrument);
      if (r === undefined) continue;
      const { closed } = await settleOrder(kernel, this.gate, venue, o, r, { prefix: this.prefix, onRefused: this.onRefused });
      if (closed) this.deps.log?.(`order ${o.clientOrderId} (taken over at the start) ${r.status.toLowerCase()} at the venue${r.reason !== undefined ? ` (${r.reason})` : ''}: closed`);
    }
  }

  /**
   * Lost orders the venue reported after all (the kernel no longer holds them REJECTED: `Kernel.markDeclaredLost`) are
   * marked `found` in the lost list (status.json, state.json, `tm live status`) with an ALERT line; during the run (`report`)
   * also a reconcile `lost_order_found` record (`during: 'run'`) and the reconciliation-difference metric (a start's
   * reconciliation journals and counts its own differences). Their instruments stay halted: a human looks.
   */
  private noteLostFound(report: boolean): void {
    for (let k = 0; k < this.lostRecords.length; k++) {
      const l = this.lostRecords[k]!;
      const o = l.found === undefined ? this.kernel.order(l.id) : undefined;
      if (o === undefined || o.status === 'REJECTED') continue;
      this.lostRecords[k] = { ...l, found: { ts: this.clock.now(), status: o.status } };
      this.deps.log?.(`ALERT order ${l.id} declared lost was reported by the venue after all (${o.status}, ${o.filledQuantity} filled): taken over; new orders of ${l.instrument} stay halted`);
      if (!report) continue;
      const d: ReconcileDifference = { kind: 'lost_order_found', detail: { id: l.id, instrument: l.instrument, status: o.status, filled: o.filledQuantity, during: 'run' } };
      this.journal.append({ k: 'reconcile', t: this.clock.now(), kind: d.kind, detail: d.detail });
      this.deps.metrics?.reconciled([d], 0);
    }
  }

  /** Consecutive venue rounds in which each instrument's position differed from the venue's (see {@link checkPositions}). */
  private readonly positionStrikes: Uint8Array;

  /**
   * Positions during the run (reconciliation compares them at a start only): an instrument with no order open in the
   * kernel whose position differs from the venue's by more than half a lot in {@link POSITION_STRIKES} rounds in a row is
   * halted as at a start (a human looks first): a reconcile `position_mismatch` record (`during: 'run'`), the
   * reconciliation-difference metric (its alert), an ALERT line. Somebody traded by hand on the account, the venue
   * liquidated or deleveraged a position: before, the runner went on sizing against a position it did not hold until
   * the next restart. Instruments with an open order are not judged (the venue's position may hold a fill whose
   * execution is not listed yet), nor halted ones (their halt stands). One position listing per round, none when no
   * instrument can be judged.
   */
  private async checkPositions(venue: LiveVenue): Promise<void> {
    const { kernel } = this;
    const n = kernel.instruments.length;
    const judged = (i: number) => kernel.openOrderCount(i) === 0 && !kernel.risk.isInstrumentHalted(i);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (judged(i)) any = true;
      else this.positionStrikes[i] = 0;
    }
    if (!any) return;
    const positions = await venue.positions();
    const found: ReconcileDifference[] = [];
    for (const p of positions) {
      const i = p.instrument;
      if (!judged(i)) continue;
      const mismatch = positionMismatch(kernel, p);
      if (mismatch === undefined) {
        this.positionStrikes[i] = 0;
        continue;
      }
      if (++this.positionStrikes[i]! < POSITION_STRIKES) continue;
      this.positionStrikes[i] = 0;
      const d: ReconcileDifference = { kind: 'position_mismatch', detail: { ...mismatch, during: 'run' } };
      this.journal.append({ k: 'reconcile', t: this.clock.now(), kind: d.kind, detail: d.detail });
      const reason = haltForPositionMismatch(kernel, i, mismatch, 'during the run');
      this.deps.log?.(`ALERT ${reason}: new orders of ${mismatch.instrument} halted`);
      found.push(d);
    }
    if (found.length > 0) this.deps.metrics?.reconciled(found, 0);
  }

  private denialsJournaled = 0;
  /** Stale-input events of the signal stage already delivered to the strategy. */
  private staleSeen = 0;

  /** Orders the kernel's pre-trade risk denied (they never reach the gate): journaled as decisions refused. */
  private journalDenials(): void {
    const r = this.kernel.rejections;
    for (; this.denialsJournaled < r.length; this.denialsJournaled++) {
      const d = r[this.denialsJournaled]!;
      if (d.reason.startsWith('risk:')) this.journal.append({ k: 'event', t: d.ts, e: 'denied', id: d.clientOrderId, reason: d.reason });
    }
  }

  /**
   * In-flight orders: submitted and unacknowledged for `inFlightMs` → queried; unknown to the venue after `maxQueries`
   * answers → lost. A query that fails (timeout, dropped connection, 5xx) is no answer and does not count: declared
   * lost, an order the venue holds would be held REJECTED while it may fill.
   */
  private async checkInFlight(): Promise<void> {
    const venue = this.deps.venue!;
    const wall = await this.deps.pacer.now();
    const limit = this.config.inFlightMs ?? 10_000;
    const maxQueries = this.config.maxQueries ?? 3;
    const seen = new Set<string>();
    for (let i = 0; i < this.kernel.instruments.length; i++) {
      for (const o of this.kernel.openOrders(i)) {
        if (o.status !== 'SUBMITTED') continue;
        seen.add(o.clientOrderId);
        const entry = this.inFlight.get(o.clientOrderId) ?? { since: wall, queries: 0 };
        this.inFlight.set(o.clientOrderId, entry);
        if (wall - entry.since < limit) continue;
        let report: VenueOrderReport | undefined;
        try {
          report = await venue.queryOrder(o.clientOrderId, i);
        } catch (e) {
          // No answer is not an answer: the venue may hold the order. Asked again after `inFlightMs`; not counted.
          entry.since = wall;
          this.deps.log?.(`in-flight query of ${o.clientOrderId} failed (${(e as Error).message}); asked again later`);
          continue;
        }
        if (report !== undefined) {
          if (report.status !== 'REJECTED') this.gate.onOrderAccepted({ kind: 'accepted', clientOrderId: o.clientOrderId, venueOrderId: report.venueOrderId, tsEvent: report.tsEvent });
          continue;
        }
        entry.queries++;
        entry.since = wall;
        if (entry.queries >= maxQueries) {
          const reason = `order ${o.clientOrderId} unknown to the venue after ${maxQueries} queries`;
          this.lostRecords.push({ id: o.clientOrderId, instrument: this.kernel.instruments[i]!.id, ts: this.clock.now(), reason });
          this.kernel.setInstrumentHalted(i, true, reason);
          this.gate.onOrderRejected({ kind: 'rejected', clientOrderId: o.clientOrderId, reason: `lost: ${reason}`, tsEvent: this.clock.now() });
          // Rejected by inference: if the venue reports it after all (its listings lagged), its acceptance and fills are taken.
          this.kernel.markDeclaredLost(o.clientOrderId);
          this.deps.log?.(`ALERT lost order: ${reason}; new orders of ${this.kernel.instruments[i]!.id} halted`);
        }
      }
    }
    for (const id of [...this.inFlight.keys()]) if (!seen.has(id)) this.inFlight.delete(id);
  }

  /**
   * The saved state's last funding settlement per instrument (paper runs), or undefined (no state, or an older one).
   * @throws RunnerStateError `runner_state_corrupt` when it is not one time per instrument at or before `liveFrom`.
   */
  private savedLastSettled(saved: LiveRunnerState | undefined, liveFrom: number): readonly number[] | undefined {
    const last = saved?.paperFunding?.lastSettled;
    if (last === undefined) return undefined;
    const n = this.config.instruments.length;
    if (!Array.isArray(last) || last.length !== n || !last.every((t) => typeof t === 'number' && Number.isFinite(t) && t <= liveFrom)) {
      throw new RunnerStateError('runner_state_corrupt', `runner state ${this.statePath}: paperFunding.lastSettled must be ${n} finite times at or before the first live bar's open ${liveFrom}, was ${JSON.stringify(last)}`, { path: this.statePath, field: 'paperFunding.lastSettled' });
    }
    return last;
  }

  private persist(lastBarTs: number, liveBars: number): void {
    const { kernel, config } = this;
    this.journal.sync();
    const state: LiveRunnerState = {
      version: 1,
      runId: config.runId,
      mode: config.mode,
      strategy: this.deps.strategy.name,
      instruments: config.instruments.map((x) => x.id),
      timeframe: config.timeframe,
      lastBarTs,
      liveBars,
      // Closed orders of earlier bars are not needed to continue (their fills are in the account and the tracker).
      kernel: kernel.saveState({ histories: false, closedOrdersSince: lastBarTs - 2 * this.tf }),
      ...(this.paperVenue ? { paperVenue: this.paperVenue.save() } : {}),
      bookedExecutions: this.gate.bookedIds(),
      lastExecutionTs: Number.isFinite(this.gate.lastExecutionTs) ? this.gate.lastExecutionTs : null,
      breakerHalted: Array.from(this.breakerHalted.keys()).filter((i) => this.breakerHalted[i] !== 0),
      ...(this.breakerOpen ? { breakerOpen: true } : {}),
      ...(this.lostRecords.length > 0 ? { lostOrders: [...this.lostRecords] } : {}),
      ...(this.appliedStop !== undefined ? { appliedStop: this.appliedStop } : {}),
      ...(this.venueFunding !== undefined ? { venueFunding: this.venueFunding.save() } : {}),
      ...(this.venueFunding === undefined && this.fundingSchedule !== undefined ? { paperFunding: { lastSettled: this.fundingSchedule.lastSettled() } } : {}),
      journalBytes: this.journal.size(),
      savedAt: kernel.now(),
    };
    saveRunnerState(this.statePath, state);
    this.writeStatus(lastBarTs, liveBars, true);
  }

  /** The run's status as `tm live status` shows it. */
  status(lastBarTs: number, liveBars: number, running: boolean): LiveStatus {
    const { kernel, config } = this;
    const ids = config.instruments.map((x) => x.id);
    const p = kernel.portfolio;
    // The tier in force per instrument (not the whole annotation log: status is written after every bar).
    const tiers = ids.flatMap((instrument, i) => {
      const t = kernel.lastTier(i);
      return t === undefined ? [] : [{ instrument, tier: t.tier, reason: t.reason }];
    });
    return {
      runId: config.runId,
      mode: config.mode,
      pid: process.pid,
      strategy: this.deps.strategy.name,
      lastBarTs,
      liveBars,
      equity: kernel.equity(),
      positions: ids.map((instrument, i) => ({ instrument, quantity: p.quantity[i]!, entryPrice: p.entryPrice[i]!, mark: p.mark[i]! })),
      openOrders: ids.flatMap((instrument, i) => kernel.openOrders(i).map((o) => ({ id: o.clientOrderId, instrument, side: o.side, type: o.type, quantity: o.quantity, filled: o.filledQuantity, price: o.price, status: o.status }))),
      tiers,
      tradingState: kernel.tradingState,
      venueBreaker: this.breakerOpen ? 'open' : 'closed',
      halted: ids.flatMap((instrument, i) => (kernel.tradingState === 'HALTED' || kernel.risk.isInstrumentHalted(i) ? [{ instrument, reason: haltReason(kernel, i) }] : [])),
      lostOrders: [...this.lostRecords],
      running,
      updatedAt: this.wallTime,
      ...(this.deps.signals?.model !== undefined ? { model: { name: this.deps.signals.model.name, version: this.deps.signals.model.version } } : {}),
      ...(this.warmup !== undefined ? { warmup: { tier: this.warmup.tier, reason: this.warmup.reason, seconds: this.warmup.seconds, ...(kernel.entryBlock !== undefined ? { entryBlock: kernel.entryBlock } : {}) } } : {}),
      ...(this.stopLeftOver !== undefined ? { stopLeftOver: this.stopLeftOver } : {}),
    };
  }

  private writeStatus(lastBarTs: number, liveBars: number, running: boolean): void {
    writeRunnerFile(join(this.config.dir, 'status.json'), JSON.stringify(this.status(lastBarTs, liveBars, running), null, 1));
  }

  /** A stop with an action deferred once during the warm-up (see {@link run}). */
  private warmupStopDeferred = false;
  /** {@link stop} was called before {@link run} (a request saved while the run was down). */
  private stopSavedBeforeStart = false;

  /** `summary` of a run that ends before it could apply its stop's action (`why`): named in it, with an alert. */
  private unappliedStop(summary: LiveRunSummary, why: string): LiveRunSummary {
    if (this.stopRequest === undefined) return summary;
    if (shutdownAction(this.shutdownActions) === undefined) {
      if (this.stopRequestId !== undefined) this.deps.stopDone?.(this.stopRequestId); // nothing asked: nothing left to apply
      return summary;
    }
    this.deps.log?.(`ALERT stop "${this.stopRequest}": its cancels, flatten or halt not applied (${why})`);
    return { ...summary, unappliedStop: { reason: this.stopRequest, actions: this.shutdownActions } };
  }

  /**
   * Ends the run: journal, metrics, status.json (not running). `lastBarTs` is the last live bar the run processed (a
   * stop during the warm-up or the reconciliation: the one before the first live bar, not a warm-up bar's).
   */
  private finish(restarted: boolean, warmed: number, processed: number, lastBarTs: number, differences: readonly ReconcileDifference[], stopReason: string): LiveRunSummary {
    this.journal.appendDurable({ k: 'stop', t: this.clock.now(), reason: stopReason, ...(this.stopLeftOver !== undefined ? { left: this.stopLeftOver } : {}) });
    this.deps.metrics?.stopped(this.kernel);
    this.writeStatus(lastBarTs, processed, false);
    this.journal.close();
    return { restarted, warmupBars: warmed, liveBars: processed, lastBarTs, differences, lostOrders: this.lostRecords.slice(this.lostSaved).map((l) => l.id), stopReason, decisionLatencyUs: this.latencies, ...(this.warmup !== undefined ? { warmup: this.warmup } : {}), ...(this.stopLeftOver !== undefined ? { stopLeftOver: this.stopLeftOver } : {}) };
  }
}

/** Venue rounds in a row a position must differ before {@link LiveRunner} halts its instrument during the run. */
export const POSITION_STRIKES = 2;

/** Why instrument `i` trades no new orders: the last state change that halted it or the account. */
function haltReason(kernel: Kernel, i: number): string {
  const changes = kernel.risk.changes;
  for (let k = changes.length - 1; k >= 0; k--) {
    const c = changes[k]!;
    if (c.to === 'HALTED' && (c.instrument === undefined || c.instrument === i)) return c.reason;
  }
  return 'halted';
}

/** Whether `venue` was sent a request since its counter read `sent` (always, for a venue that counts none: LiveVenue.requests). */
function askedSince(venue: LiveVenue, sent: number | undefined): boolean {
  return sent === undefined || venue.requests !== sent;
}
