import type { Fill, OrderAccepted, OrderCanceled, OrderCancelRejected, OrderCommand, OrderExpired, OrderRejected, OrderRequest, TimeInForce } from '../core/order.js';
import type { ExecutionClient, ExecutionEvents } from '../engine/execution-client.js';
import type { Journal, JournalRecord } from './journal.js';

/** A journaled order command ({@link JournalingGate.submit}). */
export type SubmitRecord = Extract<JournalRecord, { k: 'submit' }>;

/** The order a journaled command asked for, under its id: what {@link JournalingGate.submit} wrote, read back. */
export function submittedRequest(r: SubmitRecord): OrderRequest & { readonly clientOrderId: string } {
  return { instrument: r.i, side: r.side as 'buy' | 'sell', type: r.type as 'market' | 'limit', quantity: r.q, timeInForce: r.tif as TimeInForce, clientOrderId: r.id, ...(r.p !== undefined ? { price: r.p } : {}), ...(r.ro ? { reduceOnly: true } : {}), ...(r.po ? { postOnly: true } : {}) };
}

/**
 * Sits between the kernel and the live execution client. Commands: journaled while the strategy decides, made
 * written to the journal before they are handed to the client ({@link flush}) — a command the journal does not hold
 * never reaches the venue. Events: journaled, fills deduplicated by venue execution id (reconciliation and the client's
 * own polling may both report one fill), then passed to the kernel. (Halts are the kernel's pre-trade risk: a denied
 * order never reaches the gate.)
 */
export class JournalingGate implements ExecutionClient, ExecutionEvents {
  private sink: ExecutionEvents | undefined;
  private readonly pending: ({ order: OrderCommand; cancel?: undefined } | { order?: undefined; cancel: { id: string; instrument: number } })[] = [];
  /** Execution ids already booked (bounded: the oldest are forgotten past {@link MAX_BOOKED}). */
  private readonly booked = new Set<string>();
  /** Venue time of the newest booked execution (the reconciliation cursor). */
  lastExecutionTs = -Infinity;
  /** Called with each command handed to the client (latency probes). */
  onHandOver: ((clientOrderId: string) => void) | undefined;

  constructor(
    private readonly inner: ExecutionClient,
    private readonly journal: Journal,
    private readonly now: () => number,
  ) {}

  connect(events: ExecutionEvents): void {
    this.sink = events;
    this.inner.connect(this);
  }

  submit(order: OrderCommand): void {
    const j: Record<string, unknown> = { k: 'submit', t: this.now(), id: order.clientOrderId, i: order.instrument, side: order.side, type: order.type, q: order.quantity, tif: order.timeInForce };
    if (order.type === 'limit') j['p'] = order.price;
    if (order.reduceOnly) j['ro'] = true;
    if (order.postOnly) j['po'] = true;
    this.journal.append(j as never);
    this.pending.push({ order });
  }

  cancel(clientOrderId: string, instrument: number): void {
    this.journal.append({ k: 'cancel', t: this.now(), id: clientOrderId, i: instrument });
    this.pending.push({ cancel: { id: clientOrderId, instrument } });
  }

  /** Hands the journaled commands to the client in decision order (the runner fsyncs the journal right after). */
  flush(): void {
    if (this.pending.length === 0) return;
    const commands = this.pending.splice(0);
    for (const c of commands) {
      if (c.order !== undefined) {
        this.inner.submit(c.order);
        this.onHandOver?.(c.order.clientOrderId);
      } else {
        this.inner.cancel(c.cancel.id, c.cancel.instrument);
      }
    }
  }

  /** Sends an order again with its own id (reconciliation: it never reached the venue; a duplicate would be refused). */
  resend(order: OrderCommand): void {
    this.journal.append({ k: 'reconcile', t: this.now(), kind: 'resend', detail: { id: order.clientOrderId } });
    this.inner.submit(order);
  }

  /** Whether the fill with this venue execution id was booked already. */
  isBooked(executionId: string): boolean {
    return this.booked.has(executionId);
  }

  bookedIds(): string[] {
    return [...this.booked];
  }

  restoreBooked(ids: readonly string[], lastExecutionTs: number): void {
    for (const id of ids) this.booked.add(id);
    this.lastExecutionTs = lastExecutionTs;
  }

  // ExecutionEvents (from the client, or from reconciliation)

  // Each event is checked with the kernel before it is journaled (as fills are): one it refuses throws, unjournaled.
  onOrderAccepted(e: OrderAccepted): void {
    this.sink!.checkEvent?.('accepted', e.clientOrderId);
    this.journal.append({ k: 'event', t: this.now(), e: 'accepted', id: e.clientOrderId, venueId: e.venueOrderId });
    this.sink!.onOrderAccepted(e);
  }
  onOrderRejected(e: OrderRejected): void {
    this.sink!.checkEvent?.('rejected', e.clientOrderId);
    this.journal.append({ k: 'event', t: this.now(), e: 'rejected', id: e.clientOrderId, reason: e.reason });
    this.sink!.onOrderRejected(e);
  }
  onOrderFilled(fill: Fill): void {
    const exec = fill.executionId;
    if (exec !== undefined && this.booked.has(exec)) return;
    // A fill the kernel refuses (unknown order, a state that takes none) throws here: neither marked booked (it is
    // asked for again) nor journaled as booked.
    this.sink!.checkFill?.(fill);
    if (exec !== undefined) {
      this.booked.add(exec);
      if (this.booked.size > MAX_BOOKED) this.booked.delete(this.booked.values().next().value!);
      if (fill.tsEvent > this.lastExecutionTs) this.lastExecutionTs = fill.tsEvent;
    }
    const j: Record<string, unknown> = { k: 'fill', t: this.now(), id: fill.clientOrderId, i: fill.instrument, side: fill.side, q: fill.quantity, p: fill.price, fee: fill.fee, ts: fill.tsEvent };
    if (exec !== undefined) j['exec'] = exec;
    if (fill.reason === 'liquidation') j['liq'] = true;
    this.journal.append(j as never);
    this.sink!.onOrderFilled(fill);
  }
  onOrderCanceled(e: OrderCanceled): void {
    this.sink!.checkEvent?.('canceled', e.clientOrderId);
    this.journal.append({ k: 'event', t: this.now(), e: 'canceled', id: e.clientOrderId, reason: e.reason });
    this.sink!.onOrderCanceled(e);
  }
  onOrderCancelRejected(e: OrderCancelRejected): void {
    this.journal.append({ k: 'event', t: this.now(), e: 'cancel-rejected', id: e.clientOrderId, reason: e.reason });
    this.sink!.onOrderCancelRejected(e);
  }
  onOrderExpired(e: OrderExpired): void {
    this.sink!.checkEvent?.('expired', e.clientOrderId);
    this.journal.append({ k: 'event', t: this.now(), e: 'expired', id: e.clientOrderId, reason: e.reason });
    this.sink!.onOrderExpired(e);
  }
}

/** Execution ids remembered for deduplication (a venue reports at most 7 days per query; a run books far fewer). */
export const MAX_BOOKED = 20_000;
