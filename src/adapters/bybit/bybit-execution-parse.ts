import { z } from 'zod';
import type { OrderStatus, TimeInForce } from '../../core/order.js';
import type { VenueBalanceReport, VenueFillReport, VenueFundingReport, VenueOrderReport, VenuePositionReport } from '../../engine/venue-reports.js';
import { BybitError } from './bybit-error.js';

/**
 * Bybit v5 private JSON (order, execution, position, wallet balance) → the engine's venue reports. One mapper per
 * payload; each checks the fields it maps (a number that is not finite is corrupt data: `invalid_response`) and
 * ignores the rest. Instruments are indices into the client's configured list, found by venue symbol.
 */

const DecimalText = z.string().regex(/^-?\d+(\.\d+)?(e-?\d+)?$/i);
const OptionalDecimal = z.union([DecimalText, z.literal('')]);
const Millis = z.string().regex(/^\d{1,16}$/);

export const BybitOrderJson = z.object({
  orderId: z.string().min(1),
  orderLinkId: z.string(),
  symbol: z.string().min(1),
  side: z.enum(['Buy', 'Sell']),
  orderType: z.enum(['Market', 'Limit']),
  timeInForce: z.string(),
  orderStatus: z.string(),
  qty: DecimalText,
  price: OptionalDecimal,
  cumExecQty: DecimalText,
  avgPrice: OptionalDecimal,
  reduceOnly: z.boolean(),
  rejectReason: z.string().optional(),
  cancelType: z.string().optional(),
  createdTime: Millis,
  updatedTime: Millis,
});
export type BybitOrderJson = z.infer<typeof BybitOrderJson>;

export const BybitExecutionJson = z.object({
  symbol: z.string().min(1),
  orderId: z.string(),
  orderLinkId: z.string(),
  side: z.enum(['Buy', 'Sell']),
  execId: z.string().min(1),
  execPrice: DecimalText,
  execQty: DecimalText,
  execFee: DecimalText,
  execType: z.string(),
  /** The fee rate; of a `Funding` execution, the funding rate. */
  feeRate: z.string().optional(),
  execTime: Millis,
  isMaker: z.boolean(),
});
export type BybitExecutionJson = z.infer<typeof BybitExecutionJson>;

export const BybitPositionJson = z.object({
  symbol: z.string().min(1),
  side: z.enum(['Buy', 'Sell', '', 'None']),
  size: DecimalText,
  avgPrice: OptionalDecimal,
  updatedTime: z.string(),
});

const BybitCoinJson = z.object({ coin: z.string(), walletBalance: DecimalText, equity: DecimalText, availableToWithdraw: OptionalDecimal.optional() });
export const BybitWalletJson = z.object({
  accountType: z.string(),
  totalAvailableBalance: OptionalDecimal.optional(),
  coin: z.array(BybitCoinJson),
});

/** Bybit order status → the engine's state. `Untriggered` conditional orders count as working. */
const ORDER_STATUS: Readonly<Record<string, OrderStatus>> = {
  Created: 'ACCEPTED',
  New: 'ACCEPTED',
  Untriggered: 'ACCEPTED',
  Triggered: 'ACCEPTED',
  PartiallyFilled: 'PARTIALLY_FILLED',
  Filled: 'FILLED',
  Cancelled: 'CANCELED',
  PartiallyFilledCanceled: 'CANCELED',
  Deactivated: 'CANCELED',
  Rejected: 'REJECTED',
};

/** Bybit `rejectReason` codes → the words the engine reports (others are passed through). */
const REASONS: Readonly<Record<string, string>> = {
  EC_PostOnlyWillTakeLiquidity: 'post-only order would take liquidity',
  EC_NoImmediateQtyToFill: 'IOC: no immediate quantity to fill, remainder canceled',
  EC_CancelForNoFullFill: 'FOK: not fillable in full, canceled',
  EC_ReduceOnlyCancel: 'reduce-only: remainder above the position canceled',
  EC_PerCancelRequest: 'canceled on request',
};

/** Why an order closed, in the engine's words (undefined when it did not close for a reason). */
export function orderReason(json: Pick<BybitOrderJson, 'rejectReason' | 'cancelType' | 'orderStatus'>): string | undefined {
  const code = json.rejectReason;
  if (code !== undefined && code !== '' && code !== 'EC_NoError') return REASONS[code] ?? code;
  if (json.orderStatus === 'Cancelled' || json.orderStatus === 'Deactivated') return json.cancelType && json.cancelType !== 'UNKNOWN' ? `canceled (${json.cancelType})` : 'canceled';
  return undefined;
}

/** True when Bybit closed a post-only order because it would have taken liquidity (the engine's rejection). */
export function isPostOnlyReject(json: Pick<BybitOrderJson, 'rejectReason'>): boolean {
  return json.rejectReason === 'EC_PostOnlyWillTakeLiquidity';
}

/** Index of a venue symbol in the configured instruments. */
export type SymbolIndex = ReadonlyMap<string, number>;

function instrumentOf(symbols: SymbolIndex, symbol: string, what: string): number {
  const i = symbols.get(symbol);
  if (i === undefined) throw new BybitError('invalid_response', `Bybit ${what} is for ${symbol}, which is not a configured instrument (${[...symbols.keys()].join(', ')})`, { symbol });
  return i;
}

function parse<T>(schema: z.ZodType<T>, json: unknown, what: string): T {
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new BybitError('invalid_response', `Bybit ${what}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`, { field: issue.path.join('.') });
  }
  return r.data;
}

const decimal = (text: string): number => (text === '' ? NaN : Number(text));

/** Maps one order of `/v5/order/realtime` or `/v5/order/history`. @throws BybitError `invalid_response`. */
export function parseOrderReport(json: unknown, symbols: SymbolIndex): VenueOrderReport {
  const o = parse(BybitOrderJson, json, 'order');
  const status = ORDER_STATUS[o.orderStatus];
  if (status === undefined) throw new BybitError('invalid_response', `Bybit order ${o.orderId}: orderStatus ${JSON.stringify(o.orderStatus)} is not one this adapter maps`, { orderStatus: o.orderStatus });
  const filled = decimal(o.cumExecQty);
  const average = decimal(o.avgPrice);
  const reason = orderReason(o);
  const timeInForce: TimeInForce = o.timeInForce === 'IOC' || o.timeInForce === 'FOK' ? o.timeInForce : 'GTC';
  return {
    clientOrderId: o.orderLinkId,
    venueOrderId: o.orderId,
    instrument: instrumentOf(symbols, o.symbol, 'order'),
    side: o.side === 'Buy' ? 'buy' : 'sell',
    type: o.orderType === 'Market' ? 'market' : 'limit',
    timeInForce,
    quantity: decimal(o.qty),
    price: o.orderType === 'Limit' ? decimal(o.price) : NaN,
    reduceOnly: o.reduceOnly,
    status: status === 'CANCELED' && isPostOnlyReject(o) && filled === 0 ? 'REJECTED' : status,
    filledQuantity: filled,
    averageFillPrice: filled > 0 && average > 0 ? average : NaN,
    tsEvent: Number(o.updatedTime),
    ...(reason !== undefined ? { reason } : {}),
  };
}

/**
 * Maps one execution of `/v5/execution/list` to a fill, or undefined for executions that are not fills of an order
 * (funding settlements, delivery). Liquidation (`BustTrade`) and auto-deleveraging (`AdlTrade`) fills carry
 * `reason: 'liquidation'`. `tsInit` is the local receive time.
 * @throws BybitError `invalid_response` for a malformed execution or a non-finite price, quantity or fee.
 */
export function parseFillReport(json: unknown, symbols: SymbolIndex, tsInit: number): VenueFillReport | undefined {
  const e = parse(BybitExecutionJson, json, 'execution');
  if (e.execType !== 'Trade' && e.execType !== 'BustTrade' && e.execType !== 'AdlTrade') return undefined;
  const quantity = decimal(e.execQty);
  const price = decimal(e.execPrice);
  const fee = decimal(e.execFee);
  if (!(quantity > 0) || !(price > 0) || !Number.isFinite(fee)) {
    throw new BybitError('invalid_response', `Bybit execution ${e.execId}: execQty ${e.execQty}, execPrice ${e.execPrice} must be > 0 and execFee ${e.execFee} finite`, { execId: e.execId });
  }
  return {
    executionId: e.execId,
    instrument: instrumentOf(symbols, e.symbol, 'execution'),
    clientOrderId: e.orderLinkId,
    venueOrderId: e.orderId,
    side: e.side === 'Buy' ? 'buy' : 'sell',
    quantity,
    price,
    fee,
    liquidity: e.isMaker ? 'maker' : 'taker',
    tsEvent: Number(e.execTime),
    tsInit,
    ...(e.execType === 'Trade' ? {} : { reason: 'liquidation' as const }),
  };
}

/**
 * Maps one execution of `/v5/execution/list` of type `Funding` (no order: `execQty` the position's size, `side` its
 * side, `execPrice` the mark, `feeRate` the funding rate, `execFee` what the account paid, negative when it received)
 * to a funding payment; undefined for every other type.
 * @throws BybitError `invalid_response` for a malformed execution, a non-finite fee or rate, or a size or mark not > 0.
 */
export function parseFundingReport(json: unknown, symbols: SymbolIndex): VenueFundingReport | undefined {
  const e = parse(BybitExecutionJson, json, 'execution');
  if (e.execType !== 'Funding') return undefined;
  const size = decimal(e.execQty);
  const markPrice = decimal(e.execPrice);
  const payment = decimal(e.execFee);
  const rate = decimal(e.feeRate ?? '');
  if (!(size > 0) || !(markPrice > 0) || !Number.isFinite(payment) || !Number.isFinite(rate)) {
    throw new BybitError('invalid_response', `Bybit funding execution ${e.execId}: execQty ${e.execQty} and execPrice ${e.execPrice} must be > 0, execFee ${e.execFee} and feeRate ${String(e.feeRate)} finite`, { execId: e.execId });
  }
  return { executionId: e.execId, instrument: instrumentOf(symbols, e.symbol, 'execution'), quantity: e.side === 'Sell' ? -size : size, rate, markPrice, payment, tsEvent: Number(e.execTime) };
}

/** Maps one position of `/v5/position/list` (one-way mode): signed size, NaN average when flat. */
export function parsePositionReport(json: unknown, symbols: SymbolIndex): VenuePositionReport {
  const p = parse(BybitPositionJson, json, 'position');
  const size = decimal(p.size);
  const quantity = p.side === 'Sell' ? -size : size;
  const average = decimal(p.avgPrice);
  return { instrument: instrumentOf(symbols, p.symbol, 'position'), quantity, averagePrice: quantity !== 0 && average > 0 ? average : NaN, tsEvent: Number(p.updatedTime) || 0 };
}

/** Maps `/v5/account/wallet-balance` (UNIFIED) to the balance of `currency`. @throws BybitError `invalid_response` when the coin is absent. */
export function parseBalanceReport(result: unknown, currency: string, tsEvent: number): VenueBalanceReport {
  const list = (result as { list?: unknown } | undefined)?.list;
  if (!Array.isArray(list) || list.length === 0) throw new BybitError('invalid_response', 'Bybit wallet balance: result.list is empty', {});
  const account = parse(BybitWalletJson, list[0], 'wallet balance');
  const coin = account.coin.find((c) => c.coin === currency);
  if (!coin) throw new BybitError('invalid_response', `Bybit wallet balance has no ${currency} coin (has ${account.coin.map((c) => c.coin).join(', ') || 'none'})`, { currency });
  const available = account.totalAvailableBalance !== undefined && account.totalAvailableBalance !== '' ? decimal(account.totalAvailableBalance) : decimal(coin.availableToWithdraw ?? '');
  return { currency, walletBalance: decimal(coin.walletBalance), equity: decimal(coin.equity), available, tsEvent };
}
