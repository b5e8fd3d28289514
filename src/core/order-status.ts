import { AppError } from './app-error.js';
import type { OrderStatus } from './order.js';

/** Order states by code (the index is the code used in the engine's typed arrays). */
export const ORDER_STATUSES: readonly OrderStatus[] = Object.freeze([
  'INITIALIZED',
  'SUBMITTED',
  'ACCEPTED',
  'PARTIALLY_FILLED',
  'FILLED',
  'PENDING_CANCEL',
  'CANCELED',
  'REJECTED',
  'EXPIRED',
]);
export const S_INITIALIZED = 0, S_SUBMITTED = 1, S_ACCEPTED = 2, S_PARTIALLY_FILLED = 3, S_FILLED = 4, S_PENDING_CANCEL = 5, S_CANCELED = 6, S_REJECTED = 7, S_EXPIRED = 8;

/** What can happen to an order, by code. */
export const ORDER_EVENT_KINDS = Object.freeze([
  'submit',
  'accept',
  'reject',
  'partial-fill',
  'fill',
  'cancel-request',
  'cancel-reject',
  'cancel',
  'expire',
] as const);
export type OrderEventKind = (typeof ORDER_EVENT_KINDS)[number];
export const E_SUBMIT = 0, E_ACCEPT = 1, E_REJECT = 2, E_PARTIAL_FILL = 3, E_FILL = 4, E_CANCEL_REQUEST = 5, E_CANCEL_REJECT = 6, E_CANCEL = 7, E_EXPIRE = 8;

/** Marker in the table: "back to the working state before PENDING_CANCEL" (ACCEPTED, or PARTIALLY_FILLED after a fill). */
const RESTORE = -2;
const ILLEGAL = -1;
const NS = ORDER_STATUSES.length, NE = ORDER_EVENT_KINDS.length;

/**
 * The one transition table: `TRANSITIONS[status * NE + event]` is the next status code, `ILLEGAL` or `RESTORE`.
 * Modelled on NautilusTrader's `OrderStatus::transition`:
 * - fills may arrive before the acceptance (SUBMITTED → PARTIALLY_FILLED/FILLED) and while a cancel is pending
 *   (a partial fill keeps PENDING_CANCEL, the last one makes it FILLED: the cancel race);
 * - a rejected cancel returns PENDING_CANCEL to the working state it came from;
 * - a repeated acknowledgement of a working order changes nothing (a live runner's in-flight query and its venue
 *   client may each report the acceptance);
 * - IOC/FOK remainders cancel from SUBMITTED, ACCEPTED or PARTIALLY_FILLED;
 * - a fill reported after the cancel confirmation (a venue race seen live) moves CANCELED to PARTIALLY_FILLED/FILLED;
 * - an accepted order may still be rejected when it comes to fill (margin, reduce-only or minimum checks fail then);
 * - REJECTED, FILLED and EXPIRED accept nothing further (but a late cancel reject, which changes nothing).
 * Two marks of a live runner's orders, both inferences about the venue, move outside it (`OrderManager`): an order
 * REJECTED because it was declared lost takes events as a SUBMITTED one (`markDeclaredLost`), and a FILLED order whose
 * quantity is only what its fills tell takes later fills (`markQuantityFromFills`).
 */
const RULES: readonly (readonly [from: number, moves: readonly (readonly [event: number, to: number])[]])[] = [
  [S_INITIALIZED, [[E_SUBMIT, S_SUBMITTED], [E_REJECT, S_REJECTED]]], // rejected here = denied by the engine before submission
  [S_SUBMITTED, [[E_ACCEPT, S_ACCEPTED], [E_REJECT, S_REJECTED], [E_PARTIAL_FILL, S_PARTIALLY_FILLED], [E_FILL, S_FILLED], [E_CANCEL_REQUEST, S_PENDING_CANCEL], [E_CANCEL, S_CANCELED], [E_EXPIRE, S_EXPIRED]]],
  // an accepted order may still be rejected when it comes to fill (margin, reduce-only or minimum checks fail then)
  [S_ACCEPTED, [[E_ACCEPT, S_ACCEPTED], [E_REJECT, S_REJECTED], [E_PARTIAL_FILL, S_PARTIALLY_FILLED], [E_FILL, S_FILLED], [E_CANCEL_REQUEST, S_PENDING_CANCEL], [E_CANCEL, S_CANCELED], [E_EXPIRE, S_EXPIRED], [E_CANCEL_REJECT, S_ACCEPTED]]],
  [S_PARTIALLY_FILLED, [[E_ACCEPT, S_PARTIALLY_FILLED], [E_PARTIAL_FILL, S_PARTIALLY_FILLED], [E_FILL, S_FILLED], [E_CANCEL_REQUEST, S_PENDING_CANCEL], [E_CANCEL, S_CANCELED], [E_EXPIRE, S_EXPIRED], [E_CANCEL_REJECT, S_PARTIALLY_FILLED]]],
  // a late acknowledgement keeps PENDING_CANCEL; a refused cancel restores the working state (RESTORE)
  [S_PENDING_CANCEL, [[E_ACCEPT, S_PENDING_CANCEL], [E_PARTIAL_FILL, S_PENDING_CANCEL], [E_FILL, S_FILLED], [E_CANCEL_REQUEST, S_PENDING_CANCEL], [E_CANCEL_REJECT, RESTORE], [E_CANCEL, S_CANCELED], [E_EXPIRE, S_EXPIRED], [E_REJECT, S_REJECTED]]],
  // a fill reported after the cancel confirmation (a venue race seen live); a second cancel changes nothing
  [S_CANCELED, [[E_PARTIAL_FILL, S_PARTIALLY_FILLED], [E_FILL, S_FILLED], [E_CANCEL_REJECT, S_CANCELED]]],
  // the cancel race: a cancel that arrives after the last fill, the rejection or the expiry is refused, nothing changes
  [S_FILLED, [[E_CANCEL_REJECT, S_FILLED]]],
  [S_REJECTED, [[E_CANCEL_REJECT, S_REJECTED]]],
  [S_EXPIRED, [[E_CANCEL_REJECT, S_EXPIRED]]],
];
const TRANSITIONS: Int8Array = (() => {
  const t = new Int8Array(NS * NE).fill(ILLEGAL);
  for (const [from, moves] of RULES) for (const [event, to] of moves) t[from * NE + event] = to;
  return t;
})();

/** An order event that its state does not allow: an engine or venue invariant is broken. */
export class OrderStateError extends AppError<'illegal_order_transition'> {}

/**
 * Returns the state code after `event` in state `status` (codes as in {@link ORDER_STATUSES} / {@link ORDER_EVENT_KINDS}).
 * `filled` says whether the order has any fill (only used when a rejected cancel restores the working state).
 * @throws OrderStateError `illegal_order_transition` naming the order, the state and the event.
 */
export function nextOrderStatus(clientOrderId: string, status: number, event: number, filled: boolean): number {
  const to = TRANSITIONS[status * NE + event]!;
  if (to >= 0) return to;
  if (to === RESTORE) return filled ? S_PARTIALLY_FILLED : S_ACCEPTED;
  throw new OrderStateError(
    'illegal_order_transition',
    `order ${JSON.stringify(clientOrderId)}: event ${ORDER_EVENT_KINDS[event] ?? event} is not allowed in state ${ORDER_STATUSES[status] ?? status}`,
    { clientOrderId, status: ORDER_STATUSES[status] ?? status, event: ORDER_EVENT_KINDS[event] ?? event },
  );
}

/** Whether `status` is terminal for trading purposes (no longer works at the venue). */
export function isClosedStatus(status: number): boolean {
  return status === S_FILLED || status === S_CANCELED || status === S_REJECTED || status === S_EXPIRED;
}

/** Every (status, event) pair the table allows, with the target (RESTORE shown as 'ACCEPTED|PARTIALLY_FILLED'): for tests and docs. */
export function legalTransitions(): { from: OrderStatus; event: OrderEventKind; to: string }[] {
  const out: { from: OrderStatus; event: OrderEventKind; to: string }[] = [];
  for (let s = 0; s < NS; s++) {
    for (let e = 0; e < NE; e++) {
      const to = TRANSITIONS[s * NE + e]!;
      if (to === ILLEGAL) continue;
      out.push({ from: ORDER_STATUSES[s]!, event: ORDER_EVENT_KINDS[e]!, to: to === RESTORE ? 'ACCEPTED|PARTIALLY_FILLED' : ORDER_STATUSES[to]! });
    }
  }
  return out;
}
