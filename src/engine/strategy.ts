import type { Instrument } from '../core/instrument.js';
import type { StaleInputEvent } from '../core/bar.js';
import type { Fill, OrderRequest, OrderSnapshot } from '../core/order.js';
import type { MsGarchModel } from '../regime/ms-garch-model.js';
import type { RegimeLabel } from '../regime/regime-labels.js';
import type { RlSizer } from '../sizing/rl-sizer.js';
import type { BarHistory } from './bar-history.js';
import type { TradingStateChange } from './risk/trading-state.js';
import type { RoundTrip } from './trade-tracker.js';

/**
 * A closed bar delivered to {@link Strategy.onBar}. The engine reuses one object per run (no per-bar allocation):
 * read it during the callback, copy what you need to keep.
 */
export interface BarEvent {
  readonly instrument: number;
  /** Index of this bar in `ctx.history(instrument)`. */
  readonly index: number;
  readonly tsOpen: number;
  /** Close time = tsOpen + timeframe; the bar is known from then on. */
  readonly tsEvent: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** A trade tick delivered to {@link Strategy.onTick}; reused like {@link BarEvent}. `side` +1 buy, -1 sell (aggressor). */
export interface TickEvent {
  readonly instrument: number;
  readonly tsEvent: number;
  readonly price: number;
  readonly quantity: number;
  readonly side: number;
}

/** What a strategy may see and do. The same interface in backtests, notebooks and live. */
export interface StrategyContext {
  readonly instruments: readonly Instrument[];
  /** Engine time (epoch ms): the current event's time. */
  now(): number;
  /** Bars of an instrument seen so far (plus extra columns); never beyond now. */
  history(instrument: number): BarHistory;
  /** Signed position in base units (long > 0). */
  position(instrument: number): number;
  averageEntryPrice(instrument: number): number;
  /** Last price the engine marked the instrument at. */
  markPrice(instrument: number): number;
  /** Account equity in quote currency (cash + unrealised PnL at marks). */
  equity(): number;
  /** Configured leverage cap for new exposure. */
  readonly leverage: number;
  /** Number of open orders of `instrument` (submitted and not yet filled, canceled, rejected or expired). Allocates nothing. */
  openOrderCount(instrument: number): number;
  /** Snapshots of the open orders of `instrument`, oldest first (allocates: prefer {@link openOrderCount} in hot paths). */
  openOrders(instrument: number): readonly OrderSnapshot[];
  /** A snapshot of any order of this run by client order id, or undefined when the id is unknown. */
  order(clientOrderId: string): OrderSnapshot | undefined;
  /**
   * Submits an order and returns its client order id; what happens to it arrives later through the order hooks.
   * During a run's warm-up (history replayed before the window) nothing is sent and the id is ''.
   * Market orders fill at the next price (next bar's open or next tick). The default id is deterministic
   * (run, strategy, instrument, decision time, sequence within that time), so the same decision after a restart
   * has the same id; submitting an id the run already holds sends nothing again and returns that id.
   * An order the pre-trade risk engine denies never reaches the venue: it is REJECTED at once (its reason names
   * the rule, the limit and the value, e.g. `risk: max_order_notional 50000 < 61234.5`) and `onOrderRejected` is
   * called before this returns.
   * @throws EngineError `invalid_order` for a malformed request (instrument, quantity, price, id).
   */
  submitOrder(request: OrderRequest): string;
  /**
   * Asks the venue to cancel an open order: returns true when a request was sent (the order is then PENDING_CANCEL
   * and `onOrderCanceled` or `onOrderCancelRejected` follows), false when the id is unknown or the order is closed.
   */
  cancelOrder(clientOrderId: string): boolean;
  /** Calls `onTimer(name)` once engine time reaches `at` (epoch ms). */
  setTimer(name: string, at: number): void;
  /** Floors `quantity` to the instrument's lot size. */
  roundQuantity(instrument: number, quantity: number): number;
  /**
   * Optional annotation hooks (the engine `Kernel` implements them; a context without them records nothing, so
   * strategies call them as `ctx.annotateTier?.(...)`). What is recorded ends up in the backtest result's
   * `annotations`; recording never changes trading.
   *
   * `annotateTier`: the sizing tier (e.g. `PURE_KELLY`) and reason code (e.g. `no_rl_sizer`) in force for
   * `instrument` from now (engine time) on. Only changes of the (tier, reason) pair are stored, so calling it on
   * every bar is cheap; strings are interned (pass constants: no allocation per call).
   */
  annotateTier?(instrument: number, tier: string, reason: string): void;
  /**
   * Records the regime probabilities of `instrument` at now (engine time): `probabilities[k]` belongs to
   * `labels[k]`. The labels of an instrument are fixed by its first call (later calls must pass as many
   * probabilities). Copies the numbers into preallocated typed arrays (amortised growth; no allocation per call).
   */
  annotateRegime?(instrument: number, labels: readonly string[], probabilities: ArrayLike<number>): void;
  /**
   * `annotateSizing`: the sizing of `instrument`'s last decision — capped Kelly fraction, target fraction, rolling IC,
   * signal confidence and the forecast variance per bar (raw log-return units squared); the latest values only.
   */
  annotateSizing?(instrument: number, kellyFraction: number, targetFraction: number, ic: number, signalConfidence: number, variancePerBar: number): void;
}

/**
 * A regime model fitted before a run on data strictly before the backtest start (the experiment config's
 * `regime` section; see `runExperiment`). States are in canonical order (crisis first, then ascending mean).
 */
export interface FittedRegime {
  /** Instrument id (as `Instrument.id`) whose closes were fitted. */
  readonly instrument: string;
  /** Venue symbol of the fitted series. */
  readonly symbol: string;
  readonly model: MsGarchModel;
  readonly labels: readonly RegimeLabel[];
  /** Pre-sample variance for a `RegimeFilter` (return units squared). */
  readonly initialVariance: number;
  /** Scale of the fitted returns relative to raw log returns (1 = raw ln(close_t / close_{t-1})). */
  readonly returnScale: number;
  /** Fit window [fitStart, fitEnd) of bar open times, epoch ms; fitEnd <= the backtest's first bar open. */
  readonly fitStart: number;
  readonly fitEnd: number;
  /** Number of log returns fitted. */
  readonly returns: number;
  readonly logLikelihood: number;
  readonly converged: boolean;
  readonly seed: number;
  /** Why the fit is degenerate, when it was kept anyway (`regime.onDegenerate: report`); absent for a sound fit. */
  readonly degenerate?: readonly string[];
}

/**
 * What an experiment runner hands a strategy factory besides its params: things computed before the run that
 * are not user parameters. Every field is optional; a strategy that needs one fails at start when it is absent.
 */
export interface StrategySetup {
  /** One fitted regime model per instrument, in engine order (absent when the experiment has no `regime` section). */
  readonly regimes?: readonly FittedRegime[];
  /**
   * One learned position sizer per instrument, in engine order (e.g. a `SacRlSizer` of src/rl over an exported actor),
   * for strategies that size through the cascade; absent = no RL sizer (FULL_RL and BLENDED are never used).
   * Sizers are stateful per instrument: never share one between instruments or runs.
   */
  readonly rlSizers?: readonly RlSizer[];
}

/**
 * Builds a strategy from unvalidated params (a `src/strategies` registry entry); `setup` carries what the runner
 * computed before the run (fitted regimes), absent for an up-front params check.
 * @throws AppError `invalid_strategy_params` naming the parameter and value.
 */
export type StrategyFactory = (params: unknown, setup?: StrategySetup) => Strategy;

/** A trading strategy: all hooks optional. Strategies never touch the clock, the database or the exchange directly. */
export interface Strategy {
  readonly name: string;
  /** Bars of history the strategy needs before it can decide (an experiment's `warmup: auto` replays this many). */
  readonly warmupBars?: number;
  onStart?(ctx: StrategyContext): void;
  onBar?(ctx: StrategyContext, bar: BarEvent): void;
  onTick?(ctx: StrategyContext, tick: TickEvent): void;
  /** The venue accepted an order (it works now). */
  onOrderAccepted?(ctx: StrategyContext, order: OrderSnapshot): void;
  /** The venue (or the simulated venue) refused an order: `order.reason` says why. Feeds e.g. a circuit breaker. */
  onOrderRejected?(ctx: StrategyContext, order: OrderSnapshot): void;
  /** Each fill, partial or last (`ctx.order(fill.clientOrderId)` has the order's filled/leaves quantities). */
  onOrderFilled?(ctx: StrategyContext, fill: Fill): void;
  /** An order stopped working unfilled or partly filled: on request, IOC/FOK remainder, liquidation (`order.reason`). */
  onOrderCanceled?(ctx: StrategyContext, order: OrderSnapshot): void;
  /** A cancel request failed (e.g. the order filled before the cancel arrived); the order's state is unchanged. */
  onOrderCancelRejected?(ctx: StrategyContext, order: OrderSnapshot, reason: string): void;
  /** An order's time in force ran out. */
  onOrderExpired?(ctx: StrategyContext, order: OrderSnapshot): void;
  /** An external input of the signal stage went stale: its features are NaN until it refreshes. */
  onStaleInput?(ctx: StrategyContext, event: StaleInputEvent): void;
  /** A round trip closed (flat, or reversed): the engine's own accounting (the same numbers as the trades table). */
  onPositionClosed?(ctx: StrategyContext, trip: RoundTrip): void;
  onTimer?(ctx: StrategyContext, name: string): void;
  /** The pre-trade risk engine's trading state changed (a limit breached, a new UTC day, the operator). */
  onTradingStateChanged?(ctx: StrategyContext, change: TradingStateChange): void;
  onStop?(ctx: StrategyContext): void;
}
