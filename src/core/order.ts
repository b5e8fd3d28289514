/** Side of an order or fill. */
export type OrderSide = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';
export type Liquidity = 'maker' | 'taker';

/** What a strategy asks for. Quantity in base units (> 0); `price` required for limit orders. */
export interface OrderRequest {
  /** Index of the instrument in the engine's instrument list. */
  readonly instrument: number;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly quantity: number;
  readonly price?: number;
  /** Limit only: reject instead of taking liquidity. */
  readonly postOnly?: boolean;
  /** Only reduce an existing position (quantity is capped at the position; rejected when flat or same side). */
  readonly reduceOnly?: boolean;
  /** Optional caller id; default `<strategy>-<n>`. */
  readonly clientOrderId?: string;
  /** Free-text tag carried to fills (e.g. the sizing tier that produced the order). */
  readonly tag?: string;
}

export type OrderStatus = 'open' | 'filled' | 'cancelled' | 'rejected';

/** An order known to the engine. Mutable only inside the engine (status transitions). */
export interface Order extends OrderRequest {
  readonly clientOrderId: string;
  readonly tsInit: number;
  status: OrderStatus;
  /** Why it was rejected or cancelled. */
  reason?: string;
}

/** A fill reported by an execution client (simulated or venue). Prices in quote, quantity in base, fee in quote (positive = paid). */
export interface Fill {
  readonly instrument: number;
  readonly clientOrderId: string;
  readonly side: OrderSide;
  readonly quantity: number;
  readonly price: number;
  readonly fee: number;
  readonly liquidity: Liquidity;
  readonly tsEvent: number;
  readonly tsInit: number;
  readonly reason?: 'liquidation';
  readonly tag?: string;
}
