import type { Instrument } from '../core/instrument.js';
import { invalidInput } from './sizing-error.js';

/**
 * Why a quantity came out as it did:
 * - `ok`: the order (possibly 0 when the position is already at target) respects every rule;
 * - `zero_fraction`: the target fraction is 0;
 * - `short_not_allowed`: a negative fraction on a spot instrument (target 0: spot cannot be short);
 * - `below_lot_size`: |target| floored to the lot size is 0;
 * - `below_min_quantity` / `below_min_notional`: the target position is positive but smaller than the
 *   instrument's minimum quantity / notional, so the target becomes 0;
 * - `order_below_min_quantity` / `order_below_min_notional`: the target is valid but the order (target − current)
 *   is too small to send, so no order (orders that close the whole position are always allowed).
 */
export type QuantityReason =
  | 'ok'
  | 'zero_fraction'
  | 'short_not_allowed'
  | 'below_lot_size'
  | 'below_min_quantity'
  | 'below_min_notional'
  | 'order_below_min_quantity'
  | 'order_below_min_notional';

/** A target position and the order that reaches it. Quantities are signed base units (+ buy/long, − sell/short). */
export interface SizedQuantity {
  /** Target position after the order, a multiple of the lot size (0 when a rule zeroes it). */
  readonly targetQuantity: number;
  /** Order to send: targetQuantity − currentQuantity, or 0 when it is too small to send. */
  readonly orderQuantity: number;
  /** |orderQuantity| × price, quote currency. */
  readonly orderNotional: number;
  /** Whether |fraction| was cut to the instrument's `maxLeverage`. */
  readonly leverageCapped: boolean;
  readonly reason: QuantityReason;
}

/**
 * Converts a target fraction of equity into a target position and an order for `instrument`:
 *
 *   f'     = clamp(f, ±instrument.maxLeverage)             (spot: f' < 0 → 0, `short_not_allowed`)
 *   target = sign(f') · floor(|f'| · equity / price / lotSize) · lotSize
 *   target → 0 when 0 < |target| < minQuantity or |target| · price < minNotional
 *   order  = target − current, → 0 when it opens/changes a position by < minQuantity or < minNotional
 *
 * Quantities are base units (`contracts × contractMultiplier`, as `Instrument` states them), price and equity in the
 * quote currency. The floor is taken with a 1e-9-lot tolerance so 0.3 / 0.1 lots is 3 lots, not 2.
 * @throws SizingError `invalid_input` when `fraction` or `currentQuantity` is not finite, `equity` is not finite and
 *   >= 0, or `price` is not finite and > 0.
 * @example
 * fractionToQuantity(0.5, 10_000, 25_000, BYBIT_LINEAR_PERPETUALS.BTCUSDT) // target 0.2 BTC (5,000 USDT)
 */
export function fractionToQuantity(fraction: number, equity: number, price: number, instrument: Instrument, currentQuantity = 0): SizedQuantity {
  if (!Number.isFinite(fraction)) invalidInput('fraction', 'be finite', fraction);
  if (!(equity >= 0 && equity < Infinity)) invalidInput('equity', 'be finite and >= 0', equity);
  if (!(price > 0 && price < Infinity)) invalidInput('price', 'be finite and > 0', price);
  if (!Number.isFinite(currentQuantity)) invalidInput('currentQuantity', 'be finite', currentQuantity);
  let f = fraction;
  let leverageCapped = false;
  if (Math.abs(f) > instrument.maxLeverage) {
    f = Math.sign(f) * instrument.maxLeverage;
    leverageCapped = true;
  }
  let reason: QuantityReason = 'ok';
  let target = 0;
  if (f === 0) reason = 'zero_fraction';
  else if (f < 0 && instrument.kind === 'spot') reason = 'short_not_allowed';
  else {
    target = Math.sign(f) * floorToLot((Math.abs(f) * equity) / price, instrument.lotSize);
    const size = Math.abs(target);
    if (size === 0) reason = 'below_lot_size';
    else if (size < instrument.minQuantity) reason = 'below_min_quantity';
    else if (size * price < instrument.minNotional) reason = 'below_min_notional';
    if (reason !== 'ok') target = 0;
  }
  let order = target - currentQuantity;
  // float noise of a difference of lot multiples
  if (Math.abs(order) < instrument.lotSize * 1e-9) order = 0;
  if (order !== 0 && target !== 0) {
    const size = Math.abs(order);
    if (size < instrument.minQuantity) {
      order = 0;
      if (reason === 'ok') reason = 'order_below_min_quantity';
    } else if (size * price < instrument.minNotional) {
      order = 0;
      if (reason === 'ok') reason = 'order_below_min_notional';
    }
  }
  return { targetQuantity: target, orderQuantity: order, orderNotional: Math.abs(order) * price, leverageCapped, reason };
}

/**
 * Returns floor(quantity / lot) lots as a number, written as steps / (1 / lot) when 1 / lot is an integer (lot 0.001
 * → steps / 1000, the double nearest the decimal), so results print as 0.003 rather than 0.0030000000000000001.
 */
function floorToLot(quantity: number, lot: number): number {
  const steps = Math.floor(quantity / lot + 1e-9);
  const inverse = Math.round(1 / lot);
  return inverse > 1 && Math.abs(inverse * lot - 1) < 1e-12 ? steps / inverse : steps * lot;
}
