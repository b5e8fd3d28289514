import { AppError } from '../../core/app-error.js';
import type { TradingState } from './trading-state.js';

/**
 * Limits of the pre-trade risk engine; every one is optional and absent means unbounded (an engine without limits
 * passes every order while ACTIVE). Money in quote currency (USDT); times in engine milliseconds.
 */
export interface RiskLimits {
  /** Max notional of one order: quantity × limit price (market orders: × mark). */
  readonly maxOrderNotional?: number | undefined;
  /**
   * Max notional per instrument of an order that adds exposure: |position| × mark + the working orders' leaves ×
   * their prices (market: mark) + the new order's notional.
   */
  readonly maxInstrumentNotional?: number | undefined;
  /**
   * Max gross exposure / equity after an order that adds exposure: Σ |position| × mark with the order's instrument at
   * its position after the order, over equity (the check the venue makes at fill time, made before sending).
   */
  readonly maxLeverage?: number | undefined;
  /**
   * Max loss of a UTC day as a fraction of the equity at the day's first bar close (0.03 = 3 %): beyond it the state
   * goes to REDUCING until the next UTC day's first bar (or the operator sets ACTIVE).
   */
  readonly maxDailyLoss?: number | undefined;
  /**
   * Max drawdown from peak equity (bar closes) as a fraction (0.05 = 5 %): beyond it the engine flattens every
   * position and goes to {@link drawdownState}; it stays there until the operator sets ACTIVE (which re-bases the peak).
   * `null` or absent = no drawdown rule.
   */
  readonly maxDrawdown?: number | null | undefined;
  /** State after a drawdown flatten; default REDUCING. */
  readonly drawdownState?: Exclude<TradingState, 'ACTIVE'> | undefined;
  /** At most `maxOrders` orders in any window of `windowMs` engine milliseconds (denied orders do not count). */
  readonly throttle?: { readonly maxOrders: number; readonly windowMs: number } | undefined;
}

/** Rules a denial can name (counted per rule; see `PreTradeRisk.denials`). */
export const RISK_RULES = Object.freeze(['trading_state', 'no_price', 'max_order_notional', 'max_instrument_notional', 'max_leverage', 'order_rate', 'instrument_halted'] as const);
export type RiskRule = (typeof RISK_RULES)[number];

export type RiskErrorCode = 'invalid_risk_limits' | 'invalid_risk_state';
/** Risk limits or a saved risk state that cannot be used; the message names the field and the value. */
export class RiskError extends AppError<RiskErrorCode> {}

/**
 * Checks `limits` (the config schema already did for experiment files; this guards programmatic use).
 * @throws RiskError `invalid_risk_limits` naming the field and its value.
 */
export function checkRiskLimits(limits: RiskLimits): void {
  const positive = (name: string, v: number | null | undefined, max = Infinity) => {
    if (v === undefined || v === null) return;
    if (!(v > 0 && v <= max)) throw new RiskError('invalid_risk_limits', `risk.${name} must be a number > 0${max < Infinity ? ` and <= ${max}` : ''}, was ${v}`, { field: name, value: v });
  };
  positive('maxOrderNotional', limits.maxOrderNotional);
  positive('maxInstrumentNotional', limits.maxInstrumentNotional);
  positive('maxLeverage', limits.maxLeverage);
  positive('maxDailyLoss', limits.maxDailyLoss, 1);
  positive('maxDrawdown', limits.maxDrawdown, 1);
  const s = limits.drawdownState;
  if (s !== undefined && s !== 'REDUCING' && s !== 'HALTED') throw new RiskError('invalid_risk_limits', `risk.drawdownState must be REDUCING or HALTED, was ${JSON.stringify(s)}`, { field: 'drawdownState', value: s });
  const t = limits.throttle;
  if (t !== undefined) {
    if (!(Number.isInteger(t.maxOrders) && t.maxOrders >= 1)) throw new RiskError('invalid_risk_limits', `risk.throttle.maxOrders must be an integer >= 1, was ${t.maxOrders}`, { field: 'throttle.maxOrders', value: t.maxOrders });
    positive('throttle.windowMs', t.windowMs);
  }
}
