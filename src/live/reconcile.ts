import { QUANTITY_EPSILON, type OrderRequest, type OrderSnapshot } from '../core/order.js';
import { OrderStateError } from '../core/order-status.js';
import type { Kernel } from '../engine/kernel.js';
import type { VenueFillReport, VenueOrderReport, VenuePositionReport, VenueQueries } from '../engine/venue-reports.js';
import type { Journal } from './journal.js';
import type { JournalingGate } from './journaling-gate.js';
import type { VenueFunding } from './venue-funding.js';

/** One difference between the runner's persisted view and the venue's books, found and settled at a (re)start. */
export interface ReconcileDifference {
  readonly kind:
    | 'missed_fill' // an execution the runner had not booked: booked now
    | 'adopted_order' // an order of this run the runner did not hold (placed just before a crash): taken over
    | 'missed_ack' // an order the runner thought in flight is working at the venue
    | 'lost_order_found' // an order the runner declared lost is reported by the venue after all: taken over (its halt stays)
    | 'resent' // an order the venue never received: sent again with its own id
    | 'order_closed' // an order the runner thought working was closed at the venue (canceled, rejected, expired)
    | 'order_vanished' // an order the runner thought working is unknown to the venue: marked canceled
    | 'fills_missing' // the venue reports more filled than the executions it listed (outside its query window)
    | 'position_mismatch' // positions still differ after every fill was booked: new orders of the instrument halted
    | 'fill_refused' // an execution whose order's state takes no fill (e.g. EXPIRED): not booked, new orders of its instrument halted
    | 'balance_mismatch'; // the wallet balance differs from the runner's cash beyond the tolerance (information)
  readonly detail: Readonly<Record<string, unknown>>;
}

const OPEN = new Set(['SUBMITTED', 'ACCEPTED', 'PARTIALLY_FILLED', 'PENDING_CANCEL']);

/**
 * Books every execution of this run (`prefix`) since `sinceMs` that the gate has not booked yet (by execution id),
 * adopting its order first when the kernel does not hold it. Run at every start by {@link reconcile} and after every
 * bar by the live runner: fills of orders the execution client does not track (adopted after a restart) still arrive.
 * Returns how many were booked.
 */
export async function bookExecutions(
  kernel: Kernel,
  gate: JournalingGate,
  venue: VenueQueries,
  options: {
    readonly prefix: string;
    readonly sinceMs: number;
    /** Which orders' executions to book (default all): the runner leaves those the client reports itself to the client. */
    readonly mine?: (clientOrderId: string) => boolean;
    readonly onAdopted?: (report: VenueOrderReport) => void;
    readonly onBooked?: (clientOrderId: string, executionId: string, quantity: number, price: number) => void;
    readonly onRefused?: OnRefused;
    /** This run's journaled command of an order (a crashed life's, sent after its last saved state): see {@link JournaledOrder}. */
    readonly journaled?: (clientOrderId: string) => JournaledOrder | undefined;
  },
): Promise<number> {
  return bookFills(kernel, gate, venue, await venue.executionsSince(options.sinceMs), options);
}

/**
 * Hears an execution the kernel refuses (its order's state takes no fill: `reason` is the kernel's invariant error).
 * Without one, the refusal throws out of the booking, as before; with one, the execution is left unbooked (asked for
 * again at every round) and the booking goes on: one refused execution no longer blocks the executions after it, the
 * rest of the venue round or a start's reconciliation (retried forever, the runner never started).
 */
export type OnRefused = (fill: VenueFillReport, reason: string) => void;

/**
 * The {@link OnRefused} of a start's reconciliation and of a runner's venue rounds: each refused execution once (it is
 * listed again every round) is handed to `record` as its journal and metric detail, halts new orders of its instrument
 * (the runner's position lacks a fill the venue made: a human decides) and is logged as an ALERT line.
 */
export function reportRefusals(kernel: Kernel, record: (detail: Record<string, unknown>) => void, log: ((line: string) => void) | undefined): OnRefused {
  const seen = new Set<string>();
  return (fill, reason) => {
    if (seen.has(fill.executionId)) return;
    seen.add(fill.executionId);
    const id = kernel.instruments[fill.instrument]!.id;
    const detail = { id: fill.clientOrderId, execution: fill.executionId, instrument: id, side: fill.side, quantity: fill.quantity, price: fill.price, reason };
    record(detail);
    const why = refusedFillReason(detail);
    kernel.setInstrumentHalted(fill.instrument, true, why);
    log?.(`ALERT ${why}: new orders of ${id} halted`);
  };
}

/** The halt reason of a refused execution, from its `fill_refused` record's detail. */
export function refusedFillReason(d: Readonly<Record<string, unknown>>): string {
  return `execution ${String(d['execution'])} of order ${String(d['id'])} (${String(d['side'])} ${String(d['quantity'])} at ${String(d['price'])}) refused: ${String(d['reason'])}; the position lacks it`;
}

/**
 * An order as this run's journal holds it (its `submit` record): what an execution's order is taken over as when the
 * kernel does not hold it and the venue's lookup does not find it yet (its quantity, type and price, not only the
 * fills listed so far).
 */
export interface JournaledOrder {
  readonly request: OrderRequest & { readonly clientOrderId: string };
  /** When it was decided (the record's engine time). */
  readonly ts: number;
}

/**
 * {@link bookExecutions} of executions already fetched. `listed`: venue reports of orders at hand (reconciliation's
 * open-order listing), used before a lookup to adopt an order the kernel does not hold.
 */
async function bookFills(kernel: Kernel, gate: JournalingGate, venue: Pick<VenueQueries, 'queryOrder'>, fills: readonly VenueFillReport[], options: Omit<Parameters<typeof bookExecutions>[3], 'sinceMs'> & { readonly listed?: ReadonlyMap<string, VenueOrderReport> }): Promise<number> {
  const { prefix, mine } = options;
  const wanted = fills.filter((x) => x.clientOrderId.startsWith(prefix) && !gate.isBooked(x.executionId) && (mine === undefined || mine(x.clientOrderId)));
  let booked = 0;
  for (const x of wanted) {
    if (gate.isBooked(x.executionId)) continue; // listed twice
    if (kernel.order(x.clientOrderId) === undefined) {
      const report = options.listed?.get(x.clientOrderId) ?? (await venue.queryOrder(x.clientOrderId, x.instrument));
      const sent = report === undefined ? options.journaled?.(x.clientOrderId) : undefined;
      if (sent !== undefined) kernel.adoptOrder(sent.request, sent.ts); // as decided: its later fills are taken too
      else if (report === undefined) {
        // The venue's order listings lag its executions, and the journal does not hold it: the order as far as its
        // listed fills tell (all of them, or its second fill would find it FILLED already), its quantity growing with
        // any later fill (refused, that fill blocked every later venue round and every restart's reconciliation).
        const own = [...new Map(wanted.filter((f) => f.clientOrderId === x.clientOrderId).map((f) => [f.executionId, f])).values()];
        const quantity = own.reduce((a, f) => a + f.quantity, 0);
        kernel.adoptOrder({ instrument: x.instrument, side: x.side, type: 'market', quantity, clientOrderId: x.clientOrderId }, Math.min(...own.map((f) => f.tsEvent)), { quantityFromFills: true });
      } else if (adoptReport(kernel, gate, report)) options.onAdopted?.(report);
    }
    if (options.onRefused !== undefined) {
      try {
        kernel.checkFill(x);
      } catch (e) {
        if (!(e instanceof OrderStateError)) throw e;
        options.onRefused(x, e.message);
        continue;
      }
    }
    options.onBooked?.(x.clientOrderId, x.executionId, x.quantity, x.price);
    gate.onOrderFilled(x);
    booked++;
  }
  return booked;
}

/** How far before a time an execution query starts (the venue's execution times and ours may differ a little). */
export const EXECUTION_MARGIN_MS = 60_000;

/** Where the executions of order `o` (held by the kernel, reported by the venue as `r`) start: a minute before it was created. */
function orderExecutionsFrom(o: OrderSnapshot, r: VenueOrderReport): number {
  return Math.min(o.tsInit, r.tsEvent) - EXECUTION_MARGIN_MS;
}

/**
 * Where a query for the executions of orders the execution client does not follow (`tracked(id)` false: orders
 * adopted after a restart) starts: `cursor` (after the newest booked execution), or earlier, a minute before the
 * oldest such order the kernel holds open. The cursor moves with every booked execution, also with those the client
 * reports for its own orders: a later fill of one of those must not leave an earlier fill of an adopted order behind
 * it, never asked for again.
 */
export function untrackedExecutionsFrom(kernel: Kernel, tracked: (clientOrderId: string) => boolean, cursor: number): number {
  let since = cursor;
  for (let i = 0; i < kernel.instruments.length; i++) {
    for (const o of kernel.openOrders(i)) if (!tracked(o.clientOrderId)) since = Math.min(since, o.tsInit - EXECUTION_MARGIN_MS);
  }
  return since;
}

/** Takes a venue order of this run into the kernel (see `Kernel.adoptOrder`) and reports it accepted; false when known. */
function adoptReport(kernel: Kernel, gate: JournalingGate, r: VenueOrderReport): boolean {
  const request = { instrument: r.instrument, side: r.side, type: r.type, quantity: r.quantity, timeInForce: r.timeInForce, reduceOnly: r.reduceOnly, clientOrderId: r.clientOrderId, ...(r.type === 'limit' ? { price: r.price } : {}) };
  if (!kernel.adoptOrder(request, r.tsEvent)) return false;
  if (r.status !== 'REJECTED') gate.onOrderAccepted({ kind: 'accepted', clientOrderId: r.clientOrderId, venueOrderId: r.venueOrderId, tsEvent: r.tsEvent });
  return true;
}

/**
 * Brings an order the kernel holds open (`o`) up to the venue's report of it (`r`, from a lookup: the venue does not
 * list it as working): accepted if the kernel still waits for that; the executions the runner has not booked, from a
 * minute before the order was created, when the venue reports more filled than the kernel holds (the cursor passed
 * them while nobody followed the order, e.g. adopted after a crash); then its end when the venue canceled, rejected or
 * expired it (a FILLED order ends with its last fill). `fillsMissing`: the venue still reports more filled than its
 * listed executions (they lag its matching engine; asked again later). `closed`: the order was ended here.
 */
export async function settleOrder(
  kernel: Kernel,
  gate: JournalingGate,
  venue: Pick<VenueQueries, 'executionsSince' | 'queryOrder'>,
  o: OrderSnapshot,
  r: VenueOrderReport,
  options: { readonly prefix: string; readonly onBooked?: (clientOrderId: string, executionId: string, quantity: number, price: number) => void; readonly onRefused?: OnRefused },
): Promise<{ readonly fillsMissing: boolean; readonly closed: boolean }> {
  const id = o.clientOrderId;
  if (kernel.order(id)!.status === 'SUBMITTED' && r.status !== 'REJECTED') gate.onOrderAccepted({ kind: 'accepted', clientOrderId: id, venueOrderId: r.venueOrderId, tsEvent: r.tsEvent });
  const short = () => r.filledQuantity > kernel.order(id)!.filledQuantity + QUANTITY_EPSILON * r.quantity;
  if (short()) {
    const own = (await venue.executionsSince(orderExecutionsFrom(o, r))).filter((x) => x.clientOrderId === id);
    await bookFills(kernel, gate, venue, own, options);
  }
  const fillsMissing = short();
  if (!OPEN.has(kernel.order(id)!.status)) return { fillsMissing, closed: false };
  const reason = `reconciliation: ${r.reason ?? r.status.toLowerCase()} at the venue`;
  if (r.status === 'CANCELED') gate.onOrderCanceled({ kind: 'canceled', clientOrderId: id, reason, tsEvent: r.tsEvent });
  else if (r.status === 'REJECTED') gate.onOrderRejected({ kind: 'rejected', clientOrderId: id, reason, tsEvent: r.tsEvent });
  else if (r.status === 'EXPIRED') gate.onOrderExpired({ kind: 'expired', clientOrderId: id, reason, tsEvent: r.tsEvent });
  else return { fillsMissing, closed: false };
  return { fillsMissing, closed: true };
}

/** The venue's position `p` against the kernel's: the difference when it is more than half a lot, else undefined. */
export function positionMismatch(kernel: Kernel, p: VenuePositionReport): { readonly instrument: string; readonly runner: number; readonly venue: number } | undefined {
  const runner = kernel.position(p.instrument);
  const x = kernel.instruments[p.instrument]!;
  return Math.abs(runner - p.quantity) > x.lotSize / 2 ? { instrument: x.id, runner, venue: p.quantity } : undefined;
}

/**
 * Halts new orders of instrument `i` for a position mismatch found `when` (after a start's reconciliation, during the
 * run): a human looks first. Returns the halt's reason.
 */
export function haltForPositionMismatch(kernel: Kernel, i: number, mismatch: { readonly runner: number; readonly venue: number }, when: string): string {
  const reason = positionMismatchReason(mismatch, when);
  kernel.setInstrumentHalted(i, true, reason);
  return reason;
}

/** The halt reason of a position mismatch found `when`, from the mismatch (or its `position_mismatch` record's detail). */
export function positionMismatchReason(mismatch: { readonly runner: unknown; readonly venue: unknown }, when: string): string {
  return `position differs from the venue's (${String(mismatch.runner)} vs ${String(mismatch.venue)}) ${when}`;
}

/** What {@link reconcile} reconciles with: this run's id prefix, the execution cursor, the journal its differences go to. */
export interface ReconcileOptions {
  readonly prefix: string;
  readonly sinceMs: number;
  readonly journal: Journal;
  readonly balanceTolerance?: number;
  readonly log?: (line: string) => void;
  readonly journaled?: (clientOrderId: string) => JournaledOrder | undefined;
  /** A venue run's funding book: the venue's funding payments since its cursor are asked with the rest and booked before the balance is compared. */
  readonly funding?: VenueFunding;
}

/**
 * Reconciles a restored kernel with the venue (NautilusTrader's start-up reconciliation, crash-only: it runs at
 * every start). Order: executions since the cursor (booked through the gate, which drops the ones already booked),
 * the venue's open orders of this run (`prefix`), the runner's open orders the venue does not list, then positions
 * and the wallet balance. Every difference is journaled and returned; positions that still differ halt new orders of their
 * instrument (a human looks first).
 *
 * The four listings (executions, open orders, positions, balance; a venue run's funding payments, a fifth) are requested at once and applied in that order
 * afterwards: one round trip instead of four in a row on the start-up path (the execution client's throttle lets
 * such a burst out, see DEFAULT_RATE_LIMIT_BURST of the Bybit adapter). The venue answers them at instants a few ms
 * apart instead of a few hundred: a fill landing in between shows as a difference (and halts the instrument) as it
 * did in the sequential order, over a narrower window. Orders sent again (`resent`) leave after every listing was
 * taken, so their fills are never half in them.
 */
export async function reconcile(kernel: Kernel, gate: JournalingGate, venue: VenueQueries, options: ReconcileOptions): Promise<ReconcileDifference[]> {
  const { prefix, journal } = options;
  const now = kernel.now();
  const differences: ReconcileDifference[] = [];
  const note = (kind: ReconcileDifference['kind'], detail: Record<string, unknown>) => {
    differences.push({ kind, detail });
    journal.append({ k: 'reconcile', t: now, kind, detail });
  };
  const adopted = (r: VenueOrderReport) => note('adopted_order', { id: r.clientOrderId, status: r.status, filled: r.filledQuantity });
  const onRefused = reportRefusals(kernel, (detail) => note('fill_refused', detail), options.log);

  // The fills and the funding payments are both in the venue's execution list: the earlier ask goes first, so that the
  // other, from its start or later, shares its listing (the Bybit adapter lists once for both).
  const funding = options.funding;
  const paymentsFrom = funding?.askFrom(options.sinceMs);
  const askPayments = () => (paymentsFrom === undefined ? [] : venue.fundingSince(paymentsFrom));
  const earlier = paymentsFrom !== undefined && paymentsFrom < options.sinceMs ? askPayments() : undefined;
  const fillsAsked = venue.executionsSince(options.sinceMs);
  const [fills, open, positions, balance, payments] = await Promise.all([fillsAsked, venue.openOrders(prefix), venue.positions(), venue.balance(), earlier ?? askPayments()]);

  // 1. Executions since the cursor (the venue's own record of what filled). An order they name that the kernel does not
  // hold is taken over from the open-order listing when it is there (a lookup may lag the listing: adopted from its
  // fills alone, a working limit was held FILLED at its filled quantity and refused its later fills).
  const listed = new Map(open.map((r) => [r.clientOrderId, r]));
  await bookFills(kernel, gate, venue, fills, { prefix, listed, ...(options.journaled !== undefined ? { journaled: options.journaled } : {}), onAdopted: adopted, onRefused, onBooked: (id, execution, quantity, price) => note('missed_fill', { id, execution, quantity, price }) });

  // 2. Orders of this run working at the venue.
  options.log?.('reconcile: executions booked; open orders');
  for (const r of open) {
    const mine = kernel.order(r.clientOrderId);
    if (mine === undefined) {
      if (adoptReport(kernel, gate, r)) adopted(r);
    }
    else if (mine.status === 'SUBMITTED' || kernel.isDeclaredLost(r.clientOrderId)) {
      // A lost order (REJECTED by inference) the venue lists as working is taken over as accepted, as a missed ack is.
      if (mine.status === 'SUBMITTED') note('missed_ack', { id: r.clientOrderId });
      else note('lost_order_found', { id: r.clientOrderId, instrument: kernel.instruments[r.instrument]!.id, status: r.status, filled: r.filledQuantity });
      gate.onOrderAccepted({ kind: 'accepted', clientOrderId: r.clientOrderId, venueOrderId: r.venueOrderId, tsEvent: r.tsEvent });
    }
  }

  // 3. Orders the runner holds open that the venue does not list as working.
  const held: OrderSnapshot[] = [];
  for (let i = 0; i < kernel.instruments.length; i++) for (const o of kernel.openOrders(i)) if (!listed.has(o.clientOrderId)) held.push(o);
  const lookups = await Promise.all(held.map((o) => venue.queryOrder(o.clientOrderId, o.instrument)));
  for (const [k, o] of held.entries()) {
    const r = lookups[k];
    if (r === undefined) {
      if (o.status === 'SUBMITTED') {
        note('resent', { id: o.clientOrderId });
        gate.resend(o);
      } else {
        note('order_vanished', { id: o.clientOrderId, status: o.status });
        gate.onOrderCanceled({ kind: 'canceled', clientOrderId: o.clientOrderId, reason: 'reconciliation: the venue does not know the order', tsEvent: now });
      }
      continue;
    }
    const settled = await settleOrder(kernel, gate, venue, o, r, { prefix, onRefused, onBooked: (id, execution, quantity, price) => note('missed_fill', { id, execution, quantity, price }) });
    if (settled.fillsMissing) note('fills_missing', { id: o.clientOrderId, venueFilled: r.filledQuantity, booked: kernel.order(o.clientOrderId)!.filledQuantity });
    if (settled.closed) note('order_closed', { id: o.clientOrderId, status: r.status });
  }

  // 4. Positions, after every fill is booked.
  options.log?.('reconcile: orders done; positions');
  for (const p of positions) {
    const mismatch = positionMismatch(kernel, p);
    if (mismatch === undefined) continue;
    note('position_mismatch', { ...mismatch });
    haltForPositionMismatch(kernel, p.instrument, mismatch, 'after reconciliation');
  }

  // 5. The venue's funding payments the run has not booked (made while it was down, or booked by a life that died
  // before saving): booked now, at the restored state's time, those made by then (later ones wait for the bars that
  // reach them). Not a difference: the venue charges funding whether the run is up or not (each is a `funding` record).
  // A fresh book (no saved state) begins at the first execution of the run booked here (VenueFunding.startAt).
  if (funding !== undefined) {
    let first = Infinity;
    for (const f of fills) if (f.clientOrderId.startsWith(prefix) && gate.isBooked(f.executionId)) first = Math.min(first, f.tsEvent);
    funding.startAt(first);
    funding.book(kernel, journal, payments, now, now);
  }

  // 6. Balance (information: fee rounding is the venue's). The wallet balance (cash after realized
  // PnL, fees and funding) against the runner's cash, the same figure: no price in it. Not equity: the runner's marks
  // are its saved state's closes until its first live bar, the venue's are its marks now, so equities differ by every
  // price move since the save — at nearly every restart, where no booking differs (the crash-window cases a–c).
  options.log?.('reconcile: positions done; balance');
  const cash = kernel.portfolio.cash;
  const tolerance = options.balanceTolerance ?? Math.max(1, Math.abs(balance.walletBalance) * 1e-4);
  if (!(Math.abs(cash - balance.walletBalance) <= tolerance)) note('balance_mismatch', { runner: cash, venue: balance.walletBalance, equity: { runner: kernel.equity(), venue: balance.equity } });
  journal.sync();
  return differences;
}
