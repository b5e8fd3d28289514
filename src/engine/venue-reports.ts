import type { Fill, OrderSnapshot } from '../core/order.js';

/**
 * What a venue says about its own books when asked: the reports a live runner reconciles its persisted state with
 * at every start (crash-only: start and restart are the same path), and queries an in-flight order with after a
 * timeout instead of resubmitting it. NautilusTrader calls these execution mass status reports.
 */

/**
 * One order as the venue knows it: the fields of an {@link OrderSnapshot} a venue reports, `status` mapped to the
 * engine's states (ACCEPTED, PARTIALLY_FILLED, FILLED, CANCELED, REJECTED or EXPIRED), `tsEvent` the venue time of its
 * last update, `price` NaN for market orders, `averageFillPrice` NaN before the first fill.
 */
export interface VenueOrderReport
  extends Pick<OrderSnapshot, 'clientOrderId' | 'instrument' | 'side' | 'type' | 'timeInForce' | 'quantity' | 'price' | 'reduceOnly' | 'status' | 'filledQuantity' | 'averageFillPrice' | 'tsEvent'> {
  readonly venueOrderId: string;
  /** Why it was rejected or canceled, when the venue says. */
  readonly reason?: string;
}

/** One execution (fill) as the venue booked it, with the venue's execution id (unique per fill). */
export interface VenueFillReport extends Fill {
  readonly executionId: string;
}

/**
 * One funding payment as the venue booked it on a position (Bybit: an execution of type `Funding`, with no order):
 * `payment` is what the account paid (negative: received), at the venue's funding `rate` and `markPrice`, on a position
 * of `quantity` (signed) at venue time `tsEvent`.
 */
export interface VenueFundingReport {
  readonly executionId: string;
  readonly instrument: number;
  readonly quantity: number;
  readonly rate: number;
  readonly markPrice: number;
  readonly payment: number;
  readonly tsEvent: number;
}

/** The account's position in one instrument. */
export interface VenuePositionReport {
  readonly instrument: number;
  /** Signed base units (long > 0, 0 = flat). */
  readonly quantity: number;
  /** NaN when flat. */
  readonly averagePrice: number;
  readonly tsEvent: number;
}

/** The account's balance in its settlement currency. */
export interface VenueBalanceReport {
  readonly currency: string;
  /** Wallet balance: cash after realised PnL, fees and funding. */
  readonly walletBalance: number;
  /** Wallet balance + unrealised PnL. */
  readonly equity: number;
  readonly available: number;
  readonly tsEvent: number;
}

/**
 * Queries a live runner asks its venue (the Bybit adapter against Bybit or the local v5 server). Every call is
 * bounded by the adapter's deadlines and fails with a typed error; none changes anything at the venue.
 */
export interface VenueQueries {
  /** The order with this client order id (open or recently closed), or undefined when the venue does not know it. */
  queryOrder(clientOrderId: string, instrument: number): Promise<VenueOrderReport | undefined>;
  /** Working orders whose client order id starts with `clientOrderIdPrefix` (this runner's), oldest first. */
  openOrders(clientOrderIdPrefix: string): Promise<readonly VenueOrderReport[]>;
  /**
   * This account's executions with venue time ≥ `sinceMs`, oldest first (paged and split into the venue's maximum
   * window as needed); the caller drops the ones it already booked by execution id.
   */
  executionsSince(sinceMs: number): Promise<readonly VenueFillReport[]>;
  /** This account's funding payments with venue time ≥ `sinceMs`, oldest first; the caller drops those it already booked. */
  fundingSince(sinceMs: number): Promise<readonly VenueFundingReport[]>;
  /** Positions of every configured instrument (flat ones included). */
  positions(): Promise<readonly VenuePositionReport[]>;
  balance(): Promise<VenueBalanceReport>;
}
