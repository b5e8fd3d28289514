/**
 * Trading states of the pre-trade risk engine (NautilusTrader's `TradingState`):
 * - `ACTIVE`: every order the limits allow passes;
 * - `REDUCING`: only orders that reduce a position pass (the opposite side, no larger than the position together
 *   with the working orders on that side); cancels pass;
 * - `HALTED`: every new order is denied; cancels pass.
 */
export type TradingState = 'ACTIVE' | 'REDUCING' | 'HALTED';
export const TRADING_STATES: readonly TradingState[] = Object.freeze(['ACTIVE', 'REDUCING', 'HALTED']);

/**
 * What moved the trading state: `manual` (the operator or the live runner through `Kernel.setTradingState`),
 * `max_daily_loss` and `max_drawdown` (the limits breached at a bar close), `utc_day_reset` (a new UTC day ends a
 * daily-loss REDUCING state).
 */
export type TradingStateTrigger = 'manual' | 'max_daily_loss' | 'max_drawdown' | 'utc_day_reset';

/** One change of the trading state (engine time; recorded in order, saved with the kernel state). */
export interface TradingStateChange {
  readonly ts: number;
  readonly from: TradingState;
  readonly to: TradingState;
  readonly trigger: TradingStateTrigger;
  readonly reason: string;
  /** The instrument halted or released on its own (`Kernel.setInstrumentHalted`); absent for the account's state. */
  readonly instrument?: number;
}

/** One flatten: working orders canceled, reduce-only market orders sent to close every position (engine time). */
export interface FlattenEvent {
  readonly ts: number;
  readonly reason: string;
  /** Client order ids of the working orders a cancel was sent for. */
  readonly canceled: readonly string[];
  /** Client order ids of the reduce-only market orders sent (one per instrument with a position). */
  readonly orders: readonly string[];
}
