/**
 * Orders and their lifecycle (NautilusTrader's model): what a strategy asks for ({@link OrderRequest}), the read-only
 * {@link OrderSnapshot} it may look at, and the events an execution client reports back ({@link OrderEvent}).
 * The state machine itself is in `order-status.ts`.
 */

/** Side of an order or fill. */
export type OrderSide = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';
export type Liquidity = 'maker' | 'taker';
/**
 * How long an order works: `GTC` until filled or canceled; `IOC` fills what it can at its first matching
 * opportunity and cancels the rest; `FOK` fills completely at its first matching opportunity or is canceled whole.
 */
export type TimeInForce = 'GTC' | 'IOC' | 'FOK';
export const TIME_IN_FORCE: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK'];

/** What a strategy asks for. Quantity in base units (> 0); `price` required for limit orders. */
export interface OrderRequest {
  /** Index of the instrument in the engine's instrument list. */
  readonly instrument: number;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly quantity: number;
  readonly price?: number;
  /** Default `GTC`. */
  readonly timeInForce?: TimeInForce;
  /** Limit only: rejected instead of taking liquidity. */
  readonly postOnly?: boolean;
  /** Only reduce an existing position (quantity is capped at the position; rejected when flat or same side). */
  readonly reduceOnly?: boolean;
  /**
   * Optional caller id (`[A-Za-z0-9_-]{1,36}`); default: the deterministic id of {@link formatClientOrderId} from
   * (run, strategy, instrument, decision time, sequence within that time).
   */
  readonly clientOrderId?: string;
  /** Free-text tag carried to fills (e.g. the sizing tier that produced the order). */
  readonly tag?: string;
}

/** Lifecycle states (NautilusTrader's names). FILLED, CANCELED, REJECTED and EXPIRED are terminal. */
export type OrderStatus =
  | 'INITIALIZED'
  | 'SUBMITTED'
  | 'ACCEPTED'
  | 'PARTIALLY_FILLED'
  | 'FILLED'
  | 'PENDING_CANCEL'
  | 'CANCELED'
  | 'REJECTED'
  | 'EXPIRED';

/**
 * A new order as an execution client receives it: the fields fixed when the engine created it (an
 * {@link OrderSnapshot} adds what changes: status, fills, times, the venue's id). The kernel sends these, not
 * snapshots: a venue never needs the rest, and a command is about half the size to build.
 */
export interface OrderCommand {
  readonly clientOrderId: string;
  readonly instrument: number;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly timeInForce: TimeInForce;
  readonly quantity: number;
  /** Limit price (NaN for market orders). */
  readonly price: number;
  readonly postOnly: boolean;
  readonly reduceOnly: boolean;
  readonly tag: string | undefined;
}

/** A command whose fields can be rewritten: one object reused for many orders (see ExecutionClient.copiesCommands). */
export type MutableOrderCommand = { -readonly [K in keyof OrderCommand]: OrderCommand[K] };

/** A command with every field present (so every command object has one shape), to be written over. */
export function blankCommand(): MutableOrderCommand {
  return { clientOrderId: '', instrument: 0, side: 'buy', type: 'market', timeInForce: 'GTC', quantity: 0, price: NaN, postOnly: false, reduceOnly: false, tag: undefined };
}

/** Writes every field of `from` into `to` and returns `to`. */
export function copyCommand(from: OrderCommand, to: MutableOrderCommand): MutableOrderCommand {
  to.clientOrderId = from.clientOrderId;
  to.instrument = from.instrument;
  to.side = from.side;
  to.type = from.type;
  to.timeInForce = from.timeInForce;
  to.quantity = from.quantity;
  to.price = from.price;
  to.postOnly = from.postOnly;
  to.reduceOnly = from.reduceOnly;
  to.tag = from.tag;
  return to;
}

/** An order as the engine knows it at one moment. Strategies only ever get these (never the engine's own state). */
export interface OrderSnapshot extends OrderCommand {
  /** The venue's id once accepted (`undefined` before). */
  readonly venueOrderId: string | undefined;
  readonly status: OrderStatus;
  readonly filledQuantity: number;
  /** quantity − filledQuantity while the order works; 0 once it is closed (filled, canceled, rejected, expired). */
  readonly leavesQuantity: number;
  /** Volume-weighted average price of the fills (NaN before the first fill). */
  readonly averageFillPrice: number;
  /** When the engine created the order (engine time, epoch ms). */
  readonly tsInit: number;
  /** Venue time of the last event applied (epoch ms). */
  readonly tsEvent: number;
  /** Engine time when the last event was applied (epoch ms). */
  readonly tsLast: number;
  /** Why it was rejected, canceled or expired. */
  readonly reason: string | undefined;
}

/** A fill reported by an execution client (simulated or venue). Prices in quote, quantity in base, fee in quote (positive = paid). */
export interface Fill {
  readonly instrument: number;
  readonly clientOrderId: string;
  readonly venueOrderId?: string;
  readonly side: OrderSide;
  readonly quantity: number;
  readonly price: number;
  readonly fee: number;
  readonly liquidity: Liquidity;
  /** Venue time of the fill. */
  readonly tsEvent: number;
  /** Engine time when it was reported. */
  readonly tsInit: number;
  readonly reason?: 'liquidation';
  readonly tag?: string | undefined;
  /** The venue's id of this execution (live venues report one; the simulator does not). */
  readonly executionId?: string;
}

/** The venue accepted the order (it now works). */
export interface OrderAccepted {
  readonly kind: 'accepted';
  readonly clientOrderId: string;
  readonly venueOrderId: string;
  readonly tsEvent: number;
}
/** The venue refused the order, or the engine denied it before it reached the venue. */
export interface OrderRejected {
  readonly kind: 'rejected';
  readonly clientOrderId: string;
  readonly reason: string;
  readonly tsEvent: number;
}
/** The order stopped working without filling completely (on request, IOC/FOK remainder, liquidation). */
export interface OrderCanceled {
  readonly kind: 'canceled';
  readonly clientOrderId: string;
  readonly reason: string;
  readonly tsEvent: number;
}
/** A cancel request could not be carried out (unknown id, or the order was no longer working, e.g. already filled). */
export interface OrderCancelRejected {
  readonly kind: 'cancel-rejected';
  readonly clientOrderId: string;
  readonly reason: string;
  readonly tsEvent: number;
}
/** The order's time in force ran out. */
export interface OrderExpired {
  readonly kind: 'expired';
  readonly clientOrderId: string;
  readonly reason: string;
  readonly tsEvent: number;
}
export type OrderEvent = OrderAccepted | OrderRejected | OrderCanceled | OrderCancelRejected | OrderExpired;

/** Quantities differing by less than this (relative to the order quantity) are equal: float noise of summed fills. */
export const QUANTITY_EPSILON = 1e-9;
