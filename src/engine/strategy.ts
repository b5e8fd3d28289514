import type { Instrument } from '../core/instrument.js';
import type { Fill, Order, OrderRequest } from '../core/order.js';
import type { MsGarchModel } from '../regime/ms-garch-model.js';
import type { RegimeLabel } from '../regime/regime-labels.js';
import type { BarHistory } from './bar-history.js';

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
  openOrders(instrument: number): readonly Order[];
  /** Submits an order; returns its client order id. Market orders fill at the next price (next bar's open or next tick). */
  submitOrder(request: OrderRequest): string;
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
}

/**
 * What an experiment runner hands a strategy factory besides its params: things computed before the run that
 * are not user parameters. Every field is optional; a strategy that needs one fails at start when it is absent.
 */
export interface StrategySetup {
  /** One fitted regime model per instrument, in engine order (absent when the experiment has no `regime` section). */
  readonly regimes?: readonly FittedRegime[];
}

/** A trading strategy: all hooks optional. Strategies never touch the clock, the database or the exchange directly. */
export interface Strategy {
  readonly name: string;
  onStart?(ctx: StrategyContext): void;
  onBar?(ctx: StrategyContext, bar: BarEvent): void;
  onTick?(ctx: StrategyContext, tick: TickEvent): void;
  onFill?(ctx: StrategyContext, fill: Fill): void;
  /** The venue (or the simulated exchange) refused an order: `reason` says why. Feeds e.g. a circuit breaker. */
  onOrderRejected?(ctx: StrategyContext, order: Order, reason: string): void;
  onTimer?(ctx: StrategyContext, name: string): void;
  onStop?(ctx: StrategyContext): void;
}
