import type { MutableOrderCommand, OrderCommand, OrderRequest, OrderSnapshot, OrderStatus, TimeInForce } from '../core/order.js';
import { blankCommand, QUANTITY_EPSILON } from '../core/order.js';
import {
  E_ACCEPT,
  E_CANCEL,
  E_CANCEL_REJECT,
  E_CANCEL_REQUEST,
  E_EXPIRE,
  E_FILL,
  E_PARTIAL_FILL,
  E_REJECT,
  E_SUBMIT,
  isClosedStatus,
  nextOrderStatus,
  ORDER_STATUSES,
  S_FILLED,
  S_INITIALIZED,
  S_REJECTED,
  S_SUBMITTED,
} from '../core/order-status.js';
import { growTo, packedArray } from '../core/typed-arrays.js';

const TIF: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK'];
/** Flag bits. QUANTITY_FROM_FILLS: see {@link OrderManager.markQuantityFromFills}; DECLARED_LOST: {@link OrderManager.markDeclaredLost}. */
const POST_ONLY = 1, REDUCE_ONLY = 2, QUANTITY_FROM_FILLS = 4, DECLARED_LOST = 8;

/** The saved state of an {@link OrderManager} (plain JSON): one entry per order, oldest first. */
export interface OrderBookState {
  readonly orders: readonly OrderSnapshot[];
  /** Ids of the saved orders whose quantity is what their fills tell (see `OrderManager.markQuantityFromFills`); absent: none. */
  readonly quantityFromFills?: readonly string[];
  /** Ids of the saved orders REJECTED because they were declared lost (see `OrderManager.markDeclaredLost`); absent: none. */
  readonly declaredLost?: readonly string[];
}

/**
 * Every order of a run in preallocated struct-of-arrays storage (typed arrays that double when full), one slot per
 * order, looked up by client order id; the open orders of each instrument in a compact index list. All state
 * changes go through the one transition table of `core/order-status.ts`. Applying an event allocates nothing;
 * {@link snapshot} builds an immutable {@link OrderSnapshot} on demand.
 */
export class OrderManager {
  private count = 0;
  private capacity: number;
  private readonly bySlot: string[] = packedArray();
  private readonly venueIds: (string | undefined)[] = packedArray();
  /**
   * Tags and reasons by slot, only for orders that have one (most have neither): an array of them per order grew with
   * every order, and its copies were the young collector's to scavenge.
   */
  private readonly tags = new Map<number, string>();
  private readonly reasons = new Map<number, string>();
  private readonly slots = new Map<string, number>();
  /** Slots below this are in `slots`. */
  private indexed = 0;
  private instrument: Int32Array;
  private side: Int8Array; // +1 buy, -1 sell
  private type: Int8Array; // 0 market, 1 limit
  private tif: Int8Array;
  private flags: Int8Array;
  private status: Int8Array;
  private quantity: Float64Array;
  private price: Float64Array;
  private filled: Float64Array;
  private filledNotional: Float64Array;
  private tsInit: Float64Array;
  private tsEvent: Float64Array;
  private tsLast: Float64Array;
  private openIndex: Int32Array; // slot → position in its instrument's open list (-1 when not open)
  private readonly open: Int32Array[];
  private readonly openCounts: Int32Array;

  constructor(instruments: number, capacity = 64) {
    this.capacity = Math.max(16, capacity);
    const n = this.capacity;
    this.instrument = new Int32Array(n);
    this.side = new Int8Array(n);
    this.type = new Int8Array(n);
    this.tif = new Int8Array(n);
    this.flags = new Int8Array(n);
    this.status = new Int8Array(n);
    this.quantity = new Float64Array(n);
    this.price = new Float64Array(n);
    this.filled = new Float64Array(n);
    this.filledNotional = new Float64Array(n);
    this.tsInit = new Float64Array(n);
    this.tsEvent = new Float64Array(n);
    this.tsLast = new Float64Array(n);
    this.openIndex = new Int32Array(n);
    this.open = Array.from({ length: instruments }, () => new Int32Array(8));
    this.openCounts = new Int32Array(instruments);
  }

  /** Number of orders ever created. */
  get size(): number {
    return this.count;
  }

  /** Slot of `clientOrderId`, or -1 when unknown. */
  slotOf(clientOrderId: string): number {
    // Events usually concern the newest orders and carry the very string the engine made: compare before hashing.
    const c = this.count;
    if (c > 0 && this.bySlot[c - 1] === clientOrderId) return c - 1;
    if (c > 1 && this.bySlot[c - 2] === clientOrderId) return c - 2;
    // The id map is built lazily, on the first miss of the comparisons above (hashing every id up front costs more
    // than the lookups it would save in a backtest).
    for (; this.indexed < c; this.indexed++) this.slots.set(this.bySlot[this.indexed]!, this.indexed);
    const s = this.slots.get(clientOrderId);
    return s === undefined ? -1 : s;
  }

  /** Creates an INITIALIZED order and returns its slot (the caller checked that the id is new). */
  create(request: OrderRequest, clientOrderId: string, now: number): number {
    if (this.count === this.capacity) this.grow();
    const s = this.count++;
    this.bySlot.push(clientOrderId);
    this.venueIds.push(undefined);
    if (request.tag !== undefined) this.tags.set(s, request.tag);
    this.instrument[s] = request.instrument;
    this.side[s] = request.side === 'buy' ? 1 : -1;
    this.type[s] = request.type === 'limit' ? 1 : 0;
    const tif = request.timeInForce ?? 'GTC';
    this.tif[s] = tif === 'GTC' ? 0 : tif === 'IOC' ? 1 : 2;
    this.flags[s] = (request.postOnly ? POST_ONLY : 0) | (request.reduceOnly ? REDUCE_ONLY : 0);
    this.status[s] = S_INITIALIZED;
    this.quantity[s] = request.quantity;
    this.price[s] = request.type === 'limit' ? request.price! : NaN;
    this.filled[s] = 0;
    this.filledNotional[s] = 0;
    this.tsInit[s] = now;
    this.tsEvent[s] = now;
    this.tsLast[s] = now;
    this.openIndex[s] = -1;
    this.addOpen(s);
    return s;
  }

  /** Whether the venue acknowledged the order (its venue order id is known): a later acceptance is a repeat. */
  acknowledged(slot: number): boolean {
    return this.venueIds[slot] !== undefined;
  }

  instrumentOf(slot: number): number {
    return this.instrument[slot]!;
  }
  statusCode(slot: number): number {
    return this.status[slot]!;
  }
  idOf(slot: number): string {
    return this.bySlot[slot]!;
  }
  /** +1 buy, -1 sell. */
  sideOf(slot: number): number {
    return this.side[slot]!;
  }
  /** Limit price (NaN for market orders). */
  priceOf(slot: number): number {
    return this.price[slot]!;
  }
  isOpen(slot: number): boolean {
    return this.openIndex[slot]! >= 0;
  }
  leaves(slot: number): number {
    return this.openIndex[slot]! >= 0 ? this.quantity[slot]! - this.filled[slot]! : 0;
  }

  submitted(slot: number, now: number): void {
    this.transition(slot, E_SUBMIT, now, now);
  }
  accepted(slot: number, venueOrderId: string, tsEvent: number, now: number): void {
    this.venueIds[slot] = venueOrderId;
    this.transition(slot, E_ACCEPT, tsEvent, now);
  }
  rejected(slot: number, reason: string, tsEvent: number, now: number): void {
    this.reasons.set(slot, reason);
    this.transition(slot, E_REJECT, tsEvent, now);
  }
  cancelRequested(slot: number, now: number): void {
    this.transition(slot, E_CANCEL_REQUEST, now, now);
  }
  cancelRejected(slot: number, reason: string, tsEvent: number, now: number): void {
    this.reasons.set(slot, reason);
    this.transition(slot, E_CANCEL_REJECT, tsEvent, now);
  }
  canceled(slot: number, reason: string, tsEvent: number, now: number): void {
    this.reasons.set(slot, reason);
    this.transition(slot, E_CANCEL, tsEvent, now);
  }
  expired(slot: number, reason: string, tsEvent: number, now: number): void {
    this.reasons.set(slot, reason);
    this.transition(slot, E_EXPIRE, tsEvent, now);
  }

  /**
   * Marks the order in `slot` as one whose quantity is only what its fills tell: an order of this run taken over from
   * the venue's executions alone (a live runner's restart, when neither the venue's order listings nor the journal
   * hold it). Such an order is FILLED at its fills so far, and a later fill of it is taken, not refused: its quantity
   * grows by it and it stays FILLED (the one transition outside the table, for this flag only). Without it, the later
   * fill was refused at every venue round and at every restart's reconciliation, which then never succeeded.
   */
  markQuantityFromFills(slot: number): void {
    this.flags[slot] = this.flags[slot]! | QUANTITY_FROM_FILLS;
  }
  /**
   * Marks the REJECTED order in `slot` as rejected by inference, not by the venue: a live runner declared it lost (the
   * venue answered "unknown" to every query while its listings may lag). If the venue reports it after all, its events
   * are taken as by a SUBMITTED order (accepted, fills, canceled, expired, rejected) and the mark ends: the fills are real
   * money. Without it, its acceptance and fills were invariant errors at every venue round, and the position never
   * held them. Returns false (and marks nothing) when the order is not REJECTED.
   */
  markDeclaredLost(slot: number): boolean {
    if (this.status[slot] !== S_REJECTED) return false;
    this.flags[slot] = this.flags[slot]! | DECLARED_LOST;
    return true;
  }
  /** Whether the order is REJECTED as declared lost ({@link markDeclaredLost}). */
  declaredLost(slot: number): boolean {
    return (this.flags[slot]! & DECLARED_LOST) !== 0;
  }

  /** Whether the order's quantity is what its fills tell ({@link markQuantityFromFills}). */
  quantityFromFills(slot: number): boolean {
    return (this.flags[slot]! & QUANTITY_FROM_FILLS) !== 0;
  }

  /** Applies a fill of `quantity` at `price`; the last one (leaves ≤ ε × quantity) makes the order FILLED. */
  filledBy(slot: number, quantity: number, price: number, tsEvent: number, now: number): void {
    // The new state first: a fill the order's state does not take throws before the order changes.
    const to = this.stateAfterFill(slot, quantity);
    const filled = this.filled[slot]! + quantity;
    const status = this.status[slot]!;
    if (status === S_FILLED) this.quantity[slot] = filled; // only an order known by its fills gets here FILLED
    else if (status === S_REJECTED) this.flags[slot] = this.flags[slot]! & ~DECLARED_LOST; // a fill is the venue's word on it (see markDeclaredLost)
    this.filled[slot] = filled;
    this.filledNotional[slot] = this.filledNotional[slot]! + quantity * price;
    this.enter(slot, to, tsEvent, now);
  }

  /**
   * The state a fill of `quantity` would put the order in; throws {@link OrderStateError} when its state does not take
   * a fill (e.g. FILLED, REJECTED). Changes nothing: {@link filledBy} applies it.
   */
  stateAfterFill(slot: number, quantity: number): number {
    if (this.status[slot] === S_FILLED && (this.flags[slot]! & QUANTITY_FROM_FILLS) !== 0) return S_FILLED;
    const filled = this.filled[slot]! + quantity;
    const total = this.quantity[slot]!;
    return nextOrderStatus(this.bySlot[slot]!, this.from(slot), total - filled <= QUANTITY_EPSILON * total ? E_FILL : E_PARTIAL_FILL, filled > 0);
  }

  /** The state events of the order in `slot` move from: its own, or SUBMITTED for one REJECTED as declared lost. */
  private from(slot: number): number {
    const status = this.status[slot]!;
    return status === S_REJECTED && (this.flags[slot]! & DECLARED_LOST) !== 0 ? S_SUBMITTED : status;
  }

  /**
   * The state `event` (an E_* code of `core/order-status.ts`, not a fill: {@link stateAfterFill}) would put the order in;
   * throws {@link OrderStateError} when its state does not take it. Changes nothing.
   */
  stateAfter(slot: number, event: number): number {
    // A late cancel reject changes nothing, also for an order declared lost (REJECTED takes it, SUBMITTED would not).
    return nextOrderStatus(this.bySlot[slot]!, event === E_CANCEL_REJECT ? this.status[slot]! : this.from(slot), event, this.filled[slot]! > 0);
  }

  private transition(slot: number, event: number, tsEvent: number, now: number): void {
    const to = this.stateAfter(slot, event);
    if (this.status[slot] === S_REJECTED && event !== E_CANCEL_REJECT) this.flags[slot] = this.flags[slot]! & ~DECLARED_LOST; // the venue's word ends the inference
    this.enter(slot, to, tsEvent, now);
  }

  /** Puts the order in state `to` (a transition the table allowed) at `tsEvent`, seen at `now`. */
  private enter(slot: number, to: number, tsEvent: number, now: number): void {
    this.status[slot] = to;
    this.tsEvent[slot] = tsEvent;
    this.tsLast[slot] = now;
    const open = !isClosedStatus(to);
    if (open && this.openIndex[slot]! < 0) this.addOpen(slot);
    else if (!open && this.openIndex[slot]! >= 0) this.removeOpen(slot);
  }

  /** Number of open orders (not FILLED, CANCELED, REJECTED or EXPIRED) of instrument `i`. */
  openCount(i: number): number {
    return this.openCounts[i]!;
  }
  /** Slot of the `k`-th open order of instrument `i` (0 ≤ k < openCount(i)); order is by creation. */
  openSlot(i: number, k: number): number {
    return this.open[i]![k]!;
  }

  /**
   * The fixed fields of the order in `slot` as a fresh {@link OrderCommand} (what the kernel hands to execution
   * clients, which never write to it): 10 fields, against a snapshot's 19.
   */
  command(slot: number): OrderCommand {
    return this.commandInto(slot, blankCommand());
  }

  /** Writes the fixed fields of the order in `slot` into `to` (see ExecutionClient.copiesCommands) and returns it. */
  commandInto(slot: number, to: MutableOrderCommand): OrderCommand {
    to.clientOrderId = this.bySlot[slot]!;
    to.instrument = this.instrument[slot]!;
    to.side = this.side[slot]! > 0 ? 'buy' : 'sell';
    to.type = this.type[slot]! === 1 ? 'limit' : 'market';
    to.timeInForce = TIF[this.tif[slot]!]!;
    to.quantity = this.quantity[slot]!;
    to.price = this.price[slot]!;
    to.postOnly = (this.flags[slot]! & POST_ONLY) !== 0;
    to.reduceOnly = (this.flags[slot]! & REDUCE_ONLY) !== 0;
    to.tag = valueAt(this.tags, slot);
    return to;
  }

  /** An immutable (frozen) snapshot of the order in `slot`: what strategies get. */
  snapshot(slot: number): OrderSnapshot {
    const status = this.status[slot]!;
    const quantity = this.quantity[slot]!;
    const filled = this.filled[slot]!;
    return Object.freeze({
      clientOrderId: this.bySlot[slot]!,
      venueOrderId: this.venueIds[slot],
      instrument: this.instrument[slot]!,
      side: this.side[slot]! > 0 ? 'buy' : 'sell',
      type: this.type[slot]! === 1 ? 'limit' : 'market',
      timeInForce: TIF[this.tif[slot]!]!,
      quantity,
      price: this.price[slot]!,
      postOnly: (this.flags[slot]! & POST_ONLY) !== 0,
      reduceOnly: (this.flags[slot]! & REDUCE_ONLY) !== 0,
      status: ORDER_STATUSES[status]!,
      filledQuantity: filled,
      leavesQuantity: isClosedStatus(status) ? 0 : quantity - filled,
      averageFillPrice: filled > 0 ? this.filledNotional[slot]! / filled : NaN,
      tsInit: this.tsInit[slot]!,
      tsEvent: this.tsEvent[slot]!,
      tsLast: this.tsLast[slot]!,
      tag: valueAt(this.tags, slot),
      reason: valueAt(this.reasons, slot),
    });
  }

  /** Snapshots of the open orders of instrument `i` (allocates; for inspection, not hot loops). */
  openSnapshots(i: number): OrderSnapshot[] {
    const out: OrderSnapshot[] = [];
    for (let k = 0; k < this.openCounts[i]!; k++) out.push(this.snapshot(this.open[i]![k]!));
    return out;
  }

  /**
   * Everything needed to continue after a restart: every order's snapshot, oldest first; with `closedSince`, closed
   * orders last updated before it are left out (a live runner's state stays small however long it runs), except
   * those still declared lost: the venue may report them any time later, and a restarted runner must know them as
   * its lost orders (found, not adopted as strangers).
   */
  save(closedSince = -Infinity): OrderBookState {
    const orders: OrderSnapshot[] = [];
    const fromFills: string[] = [], lost: string[] = [];
    for (let s = 0; s < this.count; s++) {
      if (!(closedSince === -Infinity || this.isOpen(s) || this.declaredLost(s) || this.tsLast[s]! >= closedSince)) continue;
      orders.push(this.snapshot(s));
      if (this.quantityFromFills(s)) fromFills.push(this.bySlot[s]!);
      if (this.declaredLost(s)) lost.push(this.bySlot[s]!);
    }
    return { orders, ...(fromFills.length > 0 ? { quantityFromFills: fromFills } : {}), ...(lost.length > 0 ? { declaredLost: lost } : {}) };
  }

  /** Loads `state` into an empty manager (as saved by {@link save}). */
  restore(state: OrderBookState): void {
    for (const o of state.orders) {
      const request: OrderRequest = {
        instrument: o.instrument, side: o.side, type: o.type, quantity: o.quantity, timeInForce: o.timeInForce, postOnly: o.postOnly, reduceOnly: o.reduceOnly,
        ...(o.type === 'limit' ? { price: o.price } : {}), ...(o.tag !== undefined ? { tag: o.tag } : {}),
      };
      const s = this.create(request, o.clientOrderId, o.tsInit);
      this.venueIds[s] = o.venueOrderId;
      if (o.reason !== undefined) this.reasons.set(s, o.reason);
      this.status[s] = ORDER_STATUSES.indexOf(o.status as OrderStatus);
      this.filled[s] = o.filledQuantity;
      this.filledNotional[s] = o.filledQuantity > 0 ? o.filledQuantity * o.averageFillPrice : 0;
      this.tsEvent[s] = o.tsEvent;
      this.tsLast[s] = o.tsLast;
      if (isClosedStatus(this.status[s]!)) this.removeOpen(s);
    }
    for (const id of state.quantityFromFills ?? []) {
      const s = this.slotOf(id);
      if (s >= 0) this.markQuantityFromFills(s);
    }
    for (const id of state.declaredLost ?? []) {
      const s = this.slotOf(id);
      if (s >= 0) this.markDeclaredLost(s);
    }
  }

  private addOpen(slot: number): void {
    const i = this.instrument[slot]!;
    let list = this.open[i]!;
    const n = this.openCounts[i]!;
    if (n === list.length) this.open[i] = list = growTo(list, n * 2);
    list[n] = slot;
    this.openIndex[slot] = n;
    this.openCounts[i] = n + 1;
  }

  /** Removes `slot` from its open list, keeping creation order (lists are short: shift the tail). */
  private removeOpen(slot: number): void {
    const i = this.instrument[slot]!;
    const list = this.open[i]!;
    const n = this.openCounts[i]!;
    for (let k = this.openIndex[slot]!; k < n - 1; k++) {
      const moved = list[k + 1]!;
      list[k] = moved;
      this.openIndex[moved] = k;
    }
    this.openIndex[slot] = -1;
    this.openCounts[i] = n - 1;
  }

  private grow(): void {
    const n = this.capacity * 2;
    const g = <A extends Float64Array | Int32Array | Int8Array>(a: A): A => growTo(a, n);
    this.instrument = g(this.instrument);
    this.side = g(this.side);
    this.type = g(this.type);
    this.tif = g(this.tif);
    this.flags = g(this.flags);
    this.status = g(this.status);
    this.quantity = g(this.quantity);
    this.price = g(this.price);
    this.filled = g(this.filled);
    this.filledNotional = g(this.filledNotional);
    this.tsInit = g(this.tsInit);
    this.tsEvent = g(this.tsEvent);
    this.tsLast = g(this.tsLast);
    this.openIndex = g(this.openIndex);
    this.capacity = n;
  }
}

/** `map.get(slot)`, without the hash lookup while the map is empty (most runs tag no order and see few refusals). */
function valueAt(map: ReadonlyMap<number, string>, slot: number): string | undefined {
  return map.size === 0 ? undefined : map.get(slot);
}
