import type { Fill, OrderAccepted, OrderCanceled, OrderCancelRejected, OrderCommand, OrderExpired, OrderRejected } from '../core/order.js';

/**
 * Where orders go: the simulated venue in backtests, a venue adapter live. Commands return nothing: whatever
 * happens to an order (accepted, rejected, filled in parts, canceled, expired, a cancel refused) is reported later,
 * in venue order, through the {@link ExecutionEvents} the client was connected to. The same contract suite
 * (`test/contract/execution-client.contract.ts`) runs against every implementation.
 */
export interface ExecutionClient {
  /** Connects the event sink (the kernel); called once before the first command. */
  connect(events: ExecutionEvents): void;
  /** Sends a new order (SUBMITTED in the engine's book; the command carries its fixed fields). */
  submit(order: OrderCommand): void;
  /** Asks the venue to cancel a working order; the answer is `onOrderCanceled` or `onOrderCancelRejected`. */
  cancel(clientOrderId: string, instrument: number): void;
  /**
   * True when {@link submit} copies what it keeps of the command and holds no reference to the object: the sender may
   * then pass the same object, rewritten, for every order (the kernel does: no object per order). Absent: the client
   * may keep the command (a recorder, the journaling gate, a venue adapter), and gets a new object each time.
   */
  readonly copiesCommands?: boolean;
}

/** Kinds of order events {@link ExecutionEvents.checkEvent} checks (fills have {@link ExecutionEvents.checkFill}). */
export type OrderEndEventKind = 'accepted' | 'rejected' | 'canceled' | 'expired';

/** Callbacks an execution client reports to (implemented by the kernel). */
export interface ExecutionEvents {
  /**
   * True when the receiver reads each event only during the call and keeps no reference to it (it copies what it
   * keeps, and hands strategies copies): a client may then pass one object per event kind, rewritten for every event
   * (the simulated venue does: no object per acceptance or fill). Absent: every event is a new object the receiver may
   * keep (a recorder, the journaling gate).
   */
  readonly keepsNoEvents?: boolean;
  onOrderAccepted(event: OrderAccepted): void;
  onOrderRejected(event: OrderRejected): void;
  /** One fill, partial or last; liquidation fills carry `reason: 'liquidation'` and an id the kernel never issued. */
  onOrderFilled(fill: Fill): void;
  /**
   * Throws what {@link onOrderFilled} would throw for `fill` and changes nothing: a recorder in front of the receiver
   * (the live runner's journaling gate) checks before it records a fill as booked.
   */
  checkFill?(fill: Fill): void;
  /**
   * Throws what the handler of an `accepted`, `rejected`, `canceled` or `expired` event of `clientOrderId` would throw
   * (unknown id, a state that does not take it) and changes nothing: the journaling gate checks before it journals.
   */
  checkEvent?(kind: OrderEndEventKind, clientOrderId: string): void;
  onOrderCanceled(event: OrderCanceled): void;
  onOrderCancelRejected(event: OrderCancelRejected): void;
  onOrderExpired(event: OrderExpired): void;
}
