import type { Instrument } from '../core/instrument.js';
import type { Fill, Order, OrderRequest } from '../core/order.js';
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
}

/** A trading strategy: all hooks optional. Strategies never touch the clock, the database or the exchange directly. */
export interface Strategy {
  readonly name: string;
  onStart?(ctx: StrategyContext): void;
  onBar?(ctx: StrategyContext, bar: BarEvent): void;
  onTick?(ctx: StrategyContext, tick: TickEvent): void;
  onFill?(ctx: StrategyContext, fill: Fill): void;
  onTimer?(ctx: StrategyContext, name: string): void;
  onStop?(ctx: StrategyContext): void;
}
