import { describe, expect, it } from 'vitest';
import type { OrderRequest, OrderStatus } from '../core/order.js';
import { OrderStateError } from '../core/order-status.js';
import { OrderManager } from './order-manager.js';

const limit = (side: 'buy' | 'sell', quantity: number, price: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({ instrument: 0, side, type: 'limit', quantity, price, ...extra });
const market = (side: 'buy' | 'sell', quantity: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({ instrument: 0, side, type: 'market', quantity, ...extra });

type Event = 'submit' | 'accept' | 'reject' | 'partial-fill' | 'fill' | 'cancel-request' | 'cancel-reject' | 'cancel' | 'expire';
const EVENTS: readonly Event[] = ['submit', 'accept', 'reject', 'partial-fill', 'fill', 'cancel-request', 'cancel-reject', 'cancel', 'expire'];

/** Applies `event` to the order in `slot` (an order of quantity 10: a partial fill is 4, a fill is its leaves). */
function apply(m: OrderManager, slot: number, event: Event, t: number): void {
  switch (event) {
    case 'submit': return m.submitted(slot, t);
    case 'accept': return m.accepted(slot, 'V1', t, t);
    case 'reject': return m.rejected(slot, 'no margin', t, t);
    case 'partial-fill': return m.filledBy(slot, 4, 100, t, t);
    case 'fill': return m.filledBy(slot, 10 - m.snapshot(slot).filledQuantity, 100, t, t);
    case 'cancel-request': return m.cancelRequested(slot, t);
    case 'cancel-reject': return m.cancelRejected(slot, 'too late', t, t);
    case 'cancel': return m.canceled(slot, 'by user', t, t);
    case 'expire': return m.expired(slot, 'ioc remainder', t, t);
  }
}

/** The events that bring a fresh order of quantity 10 to each state. */
const PATHS: Readonly<Record<OrderStatus, readonly Event[]>> = {
  INITIALIZED: [],
  SUBMITTED: ['submit'],
  ACCEPTED: ['submit', 'accept'],
  PARTIALLY_FILLED: ['submit', 'accept', 'partial-fill'],
  FILLED: ['submit', 'accept', 'fill'],
  PENDING_CANCEL: ['submit', 'accept', 'cancel-request'],
  CANCELED: ['submit', 'accept', 'cancel'],
  REJECTED: ['reject'],
  EXPIRED: ['submit', 'accept', 'expire'],
};

/**
 * The order state machine, written out by hand: state → event → next state (absent = illegal). From PENDING_CANCEL
 * a refused cancel returns to the working state (ACCEPTED here: the path has no fill).
 */
const TABLE: Readonly<Record<OrderStatus, Partial<Record<Event, OrderStatus>>>> = {
  INITIALIZED: { submit: 'SUBMITTED', reject: 'REJECTED' },
  SUBMITTED: { accept: 'ACCEPTED', reject: 'REJECTED', 'partial-fill': 'PARTIALLY_FILLED', fill: 'FILLED', 'cancel-request': 'PENDING_CANCEL', cancel: 'CANCELED', expire: 'EXPIRED' },
  ACCEPTED: { accept: 'ACCEPTED', reject: 'REJECTED', 'partial-fill': 'PARTIALLY_FILLED', fill: 'FILLED', 'cancel-request': 'PENDING_CANCEL', 'cancel-reject': 'ACCEPTED', cancel: 'CANCELED', expire: 'EXPIRED' },
  PARTIALLY_FILLED: { accept: 'PARTIALLY_FILLED', 'partial-fill': 'PARTIALLY_FILLED', fill: 'FILLED', 'cancel-request': 'PENDING_CANCEL', 'cancel-reject': 'PARTIALLY_FILLED', cancel: 'CANCELED', expire: 'EXPIRED' },
  FILLED: { 'cancel-reject': 'FILLED' },
  PENDING_CANCEL: { accept: 'PENDING_CANCEL', reject: 'REJECTED', 'partial-fill': 'PENDING_CANCEL', fill: 'FILLED', 'cancel-request': 'PENDING_CANCEL', 'cancel-reject': 'ACCEPTED', cancel: 'CANCELED', expire: 'EXPIRED' },
  CANCELED: { 'partial-fill': 'PARTIALLY_FILLED', fill: 'FILLED', 'cancel-reject': 'CANCELED' },
  REJECTED: { 'cancel-reject': 'REJECTED' },
  EXPIRED: { 'cancel-reject': 'EXPIRED' },
};
const CLOSED = new Set<OrderStatus>(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED']);

describe('OrderManager: the order state machine', () => {
  for (const [from, path] of Object.entries(PATHS) as [OrderStatus, readonly Event[]][]) {
    it(`from ${from}: every legal event moves to its state (open list kept), every other raises naming order, state and event`, () => {
      for (const event of EVENTS) {
        const m = new OrderManager(1);
        const s = m.create(limit('buy', 10, 100), 'O-1', 1);
        path.forEach((e, k) => apply(m, s, e, 2 + k));
        expect(m.snapshot(s).status).toBe(from);
        const to = TABLE[from][event];
        if (to === undefined) {
          let error: unknown;
          try {
            apply(m, s, event, 50);
          } catch (e) {
            error = e;
          }
          expect(error, `${from} + ${event}`).toBeInstanceOf(OrderStateError);
          expect((error as OrderStateError).code).toBe('illegal_order_transition');
          // a fill of a FILLED order is always its "last" fill (nothing is left): the event is `fill`
          const named = from === 'FILLED' && event === 'partial-fill' ? 'fill' : event;
          expect((error as OrderStateError).message).toBe(`order "O-1": event ${named} is not allowed in state ${from}`);
          expect((error as OrderStateError).context).toEqual({ clientOrderId: 'O-1', status: from, event: named });
          continue;
        }
        apply(m, s, event, 50);
        const o = m.snapshot(s);
        expect(o.status, `${from} + ${event}`).toBe(to);
        expect([o.tsEvent, o.tsLast]).toEqual([50, 50]);
        // an order is in its instrument's open list exactly while its state is not closed
        const open = !CLOSED.has(to);
        expect(m.isOpen(s), `${from} + ${event} open`).toBe(open);
        expect(m.openCount(0)).toBe(open ? 1 : 0);
        expect(m.leaves(s)).toBe(open ? 10 - o.filledQuantity : 0);
        expect(o.leavesQuantity).toBe(open ? 10 - o.filledQuantity : 0);
      }
    });
  }

  it('a refused cancel returns PENDING_CANCEL to PARTIALLY_FILLED when the order has a fill, to ACCEPTED when not', () => {
    const m = new OrderManager(1);
    const a = m.create(limit('buy', 10, 100), 'A', 0);
    const b = m.create(limit('buy', 10, 100), 'B', 0);
    for (const s of [a, b]) {
      m.submitted(s, 1);
      m.accepted(s, `V-${s}`, 2, 2);
    }
    m.filledBy(b, 3, 100, 3, 3);
    for (const s of [a, b]) {
      m.cancelRequested(s, 4);
      m.cancelRejected(s, 'order is being filled', 5, 6);
    }
    expect([m.snapshot(a).status, m.snapshot(b).status]).toEqual(['ACCEPTED', 'PARTIALLY_FILLED']);
    expect(m.snapshot(b)).toMatchObject({ reason: 'order is being filled', tsEvent: 5, tsLast: 6, filledQuantity: 3, leavesQuantity: 7 });
  });

  it('a fill after the cancel confirmation puts the order back into the open list (the venue race)', () => {
    const m = new OrderManager(1);
    const s = m.create(limit('sell', 10, 100), 'A', 0);
    m.submitted(s, 1);
    m.canceled(s, 'user', 2, 2);
    expect([m.isOpen(s), m.openCount(0)]).toEqual([false, 0]);
    m.filledBy(s, 4, 101, 3, 3);
    expect([m.snapshot(s).status, m.isOpen(s), m.openCount(0), m.openSlot(0, 0), m.leaves(s)]).toEqual(['PARTIALLY_FILLED', true, 1, s, 6]);
  });

  it('a fill completes the order when its leaves are at most 1e-9 of the quantity', () => {
    const m = new OrderManager(1);
    const a = m.create(market('buy', 1000), 'A', 0);
    const b = m.create(market('buy', 1000), 'B', 0);
    m.submitted(a, 1);
    m.submitted(b, 1);
    m.filledBy(a, 1000 - 1e-7, 100, 2, 2); // leaves 1e-7 ≤ 1e-6: filled
    m.filledBy(b, 1000 - 1e-5, 100, 2, 2); // leaves 1e-5 > 1e-6: partially
    expect([m.snapshot(a).status, m.snapshot(b).status]).toEqual(['FILLED', 'PARTIALLY_FILLED']);
  });
});

describe('OrderManager: orders, snapshots and open lists', () => {
  it('create stores the request; snapshots read it back with the fills (average price), ids and times', () => {
    const m = new OrderManager(2);
    const a = m.create(limit('sell', 2, 250.5, { timeInForce: 'IOC', postOnly: true, tag: 'tier-1' }), 'A', 10);
    const b = m.create(market('buy', 3, { instrument: 1, timeInForce: 'FOK', reduceOnly: true }), 'B', 11);
    const c = m.create(limit('buy', 1, 99), 'C', 12);
    expect([a, b, c, m.size]).toEqual([0, 1, 2, 3]);
    expect([m.instrumentOf(b), m.sideOf(a), m.sideOf(b), m.priceOf(a), m.priceOf(b), m.idOf(c), m.statusCode(c)]).toEqual([1, -1, 1, 250.5, NaN, 'C', 0]);
    expect(m.snapshot(a)).toEqual({
      clientOrderId: 'A', venueOrderId: undefined, instrument: 0, side: 'sell', type: 'limit', timeInForce: 'IOC', quantity: 2, price: 250.5,
      postOnly: true, reduceOnly: false, status: 'INITIALIZED', filledQuantity: 0, leavesQuantity: 2, averageFillPrice: NaN,
      tsInit: 10, tsEvent: 10, tsLast: 10, tag: 'tier-1', reason: undefined,
    });
    expect(m.snapshot(b)).toMatchObject({ instrument: 1, side: 'buy', type: 'market', timeInForce: 'FOK', price: NaN, postOnly: false, reduceOnly: true, tag: undefined });
    expect(m.snapshot(c)).toMatchObject({ timeInForce: 'GTC', postOnly: false, reduceOnly: false });
    expect(Object.isFrozen(m.snapshot(a))).toBe(true);
    // a market order has no limit price even when its request carries one (working market orders are valued at the mark)
    const d = m.create({ ...market('buy', 1), price: 50 }, 'D', 13);
    expect([m.priceOf(d), m.snapshot(d).price]).toEqual([NaN, NaN]);

    m.submitted(b, 20);
    m.accepted(b, 'V-B', 21, 22);
    m.filledBy(b, 1, 100, 23, 24);
    m.filledBy(b, 1, 103, 25, 26);
    expect(m.snapshot(b)).toMatchObject({ venueOrderId: 'V-B', status: 'PARTIALLY_FILLED', filledQuantity: 2, leavesQuantity: 1, averageFillPrice: 101.5, tsInit: 11, tsEvent: 25, tsLast: 26 });
    expect(m.statusCode(b)).toBe(3);
    m.submitted(a, 30);
    m.rejected(a, 'post-only would take', 31, 32);
    expect(m.snapshot(a)).toMatchObject({ status: 'REJECTED', reason: 'post-only would take', leavesQuantity: 0 });
    m.submitted(c, 40);
    m.expired(c, 'ioc remainder', 41, 42);
    expect(m.snapshot(c)).toMatchObject({ status: 'EXPIRED', reason: 'ioc remainder', tsEvent: 41, tsLast: 42 });
  });

  it('slotOf finds every order, the newest and older ones, and -1 for an unknown id', () => {
    const m = new OrderManager(1);
    expect(m.slotOf('A')).toBe(-1);
    m.create(market('buy', 1), 'A', 0);
    expect([m.slotOf('A'), m.slotOf('X')]).toEqual([0, -1]);
    for (const id of ['B', 'C', 'D']) m.create(market('buy', 1), id, 0);
    expect(['A', 'B', 'C', 'D', 'X'].map((id) => m.slotOf(id))).toEqual([0, 1, 2, 3, -1]);
    m.create(market('buy', 1), 'E', 0);
    expect(['E', 'D', 'C', 'A'].map((id) => m.slotOf(id))).toEqual([4, 3, 2, 0]);
  });

  it('open lists keep creation order when orders close in any order, per instrument', () => {
    const m = new OrderManager(2);
    const slots = Array.from({ length: 12 }, (_, k) => m.create(limit('buy', 1, 100 - k, { instrument: k % 3 === 2 ? 1 : 0 }), `O${k}`, k));
    const open0 = () => m.openSnapshots(0).map((o) => o.clientOrderId);
    const open1 = () => Array.from({ length: m.openCount(1) }, (_, k) => m.idOf(m.openSlot(1, k)));
    // instrument 0 holds 8 orders (its list's first size), instrument 1 four
    expect(open0()).toEqual(['O0', 'O1', 'O3', 'O4', 'O6', 'O7', 'O9', 'O10']);
    expect(open1()).toEqual(['O2', 'O5', 'O8', 'O11']);
    const more = [m.create(limit('sell', 1, 200), 'O12', 12), m.create(limit('sell', 1, 201), 'O13', 13)];
    expect(open0()).toEqual(['O0', 'O1', 'O3', 'O4', 'O6', 'O7', 'O9', 'O10', 'O12', 'O13']);
    for (const k of [3, 0, 10]) m.rejected(slots[k]!, 'x', 20, 20);
    m.rejected(more[1]!, 'x', 20, 20);
    expect(open0()).toEqual(['O1', 'O4', 'O6', 'O7', 'O9', 'O12']);
    expect(open1()).toEqual(['O2', 'O5', 'O8', 'O11']);
    // each remaining order still knows its position: closing them one by one empties the list in order
    for (const id of ['O6', 'O12', 'O1', 'O9', 'O4']) {
      m.rejected(m.slotOf(id), 'x', 30, 30);
      expect(m.isOpen(m.slotOf(id))).toBe(false);
    }
    expect(open0()).toEqual(['O7']);
    expect(m.openSlot(0, 0)).toBe(slots[7]);
  });

  it('grows past its capacity (at least 16) without losing an order', () => {
    for (const capacity of [0, 1, 16]) {
      const m = new OrderManager(1, capacity);
      for (let k = 0; k < 40; k++) m.create(limit(k % 2 === 0 ? 'buy' : 'sell', k + 1, 1000 + k, { timeInForce: 'IOC', tag: `t${k}` }), `O${k}`, k);
      for (let k = 0; k < 40; k += 3) m.submitted(k, 100 + k);
      expect(m.size).toBe(40);
      expect(m.openCount(0)).toBe(40);
      for (let k = 0; k < 40; k++) {
        expect(m.snapshot(k)).toMatchObject({ clientOrderId: `O${k}`, side: k % 2 === 0 ? 'buy' : 'sell', quantity: k + 1, price: 1000 + k, timeInForce: 'IOC', tsInit: k, tsLast: k % 3 === 0 ? 100 + k : k, status: k % 3 === 0 ? 'SUBMITTED' : 'INITIALIZED', tag: `t${k}` });
        expect(m.openSlot(0, k)).toBe(k);
      }
    }
  });
});

describe('OrderManager: save and restore', () => {
  function book() {
    const m = new OrderManager(2);
    const a = m.create(limit('buy', 2, 100, { tag: 'entry', postOnly: true }), 'A', 1); // filled at 2 prices
    m.submitted(a, 1);
    m.accepted(a, 'V-A', 2, 2);
    m.filledBy(a, 1.5, 99, 3, 3);
    m.filledBy(a, 0.5, 103, 4, 4);
    const b = m.create(market('sell', 3, { instrument: 1, reduceOnly: true, timeInForce: 'IOC' }), 'B', 5); // canceled at 10
    m.submitted(b, 5);
    m.canceled(b, 'user', 10, 10);
    const c = m.create(limit('sell', 4, 120), 'C', 6); // partially filled, open
    m.submitted(c, 6);
    m.accepted(c, 'V-C', 7, 7);
    m.filledBy(c, 1, 121, 8, 8);
    const d = m.create(limit('buy', 5, 90), 'D', 9); // open, untouched since 9
    m.submitted(d, 9);
    return m;
  }

  it('restore of a save gives the same orders, open lists and later behaviour', () => {
    const m = book();
    const saved = JSON.parse(JSON.stringify(m.save())) as ReturnType<OrderManager['save']>;
    expect(saved.orders.map((o) => [o.clientOrderId, o.status, o.averageFillPrice])).toEqual([['A', 'FILLED', 100], ['B', 'CANCELED', null], ['C', 'PARTIALLY_FILLED', 121], ['D', 'SUBMITTED', null]]);
    const r = new OrderManager(2);
    r.restore(m.save());
    expect(r.save()).toEqual(m.save());
    expect(r.size).toBe(4);
    expect([r.openCount(0), r.openCount(1), r.openSlot(0, 0), r.openSlot(0, 1)]).toEqual([2, 0, 2, 3]);
    expect([r.slotOf('A'), r.slotOf('B'), r.slotOf('D'), r.leaves(2), r.leaves(0)]).toEqual([0, 1, 3, 3, 0]);
    // the restored partial fill keeps its notional: the next fill averages with it, a refused cancel goes back to PARTIALLY_FILLED
    r.filledBy(2, 1, 123, 20, 20);
    r.cancelRequested(2, 21);
    r.cancelRejected(2, 'x', 22, 22);
    expect(r.snapshot(2)).toMatchObject({ status: 'PARTIALLY_FILLED', filledQuantity: 2, averageFillPrice: 122, price: 120, venueOrderId: 'V-C' });
    r.canceled(3, 'x', 23, 23);
    expect(r.openCount(0)).toBe(1);
    expect(r.snapshot(1)).toMatchObject({ type: 'market', price: NaN, reduceOnly: true, timeInForce: 'IOC', tag: undefined, reason: 'user' });
    // the restored unfilled order has no fill notional: a late fill averages at its own price
    r.filledBy(1, 1, 50, 24, 24);
    expect(r.snapshot(1)).toMatchObject({ status: 'PARTIALLY_FILLED', averageFillPrice: 50 });
  });

  it('save(closedSince) leaves out closed orders last updated before it, never open ones', () => {
    const m = book();
    expect(m.save().orders.map((o) => o.clientOrderId)).toEqual(['A', 'B', 'C', 'D']);
    expect(m.save(4).orders.map((o) => o.clientOrderId)).toEqual(['A', 'B', 'C', 'D']);
    expect(m.save(5).orders.map((o) => o.clientOrderId)).toEqual(['B', 'C', 'D']);
    expect(m.save(10).orders.map((o) => o.clientOrderId)).toEqual(['B', 'C', 'D']);
    expect(m.save(11).orders.map((o) => o.clientOrderId)).toEqual(['C', 'D']);
    expect(m.save(Infinity).orders.map((o) => o.clientOrderId)).toEqual(['C', 'D']);
  });

  it('save(closedSince) keeps an order declared lost however old (the venue may still report it), and drops it once the venue did', () => {
    const m = book();
    const lost = m.create(limit('buy', 1, 95), 'L', 2);
    const refused = m.create(limit('buy', 1, 95), 'R', 2);
    for (const s of [lost, refused]) {
      m.submitted(s, 2);
      m.rejected(s, 'lost: unknown to the venue after 3 queries', 3, 3);
    }
    m.markDeclaredLost(lost);
    const saved = m.save(Infinity);
    expect(saved.orders.map((o) => o.clientOrderId)).toEqual(['C', 'D', 'L']);
    expect(saved.declaredLost).toEqual(['L']);
    const r = new OrderManager(2);
    r.restore(saved);
    expect(r.declaredLost(r.slotOf('L'))).toBe(true);
    r.accepted(r.slotOf('L'), 'V-L', 40, 40); // found after all: an order like any other from now on
    r.filledBy(r.slotOf('L'), 1, 95, 41, 41);
    expect(r.save(Infinity).orders.map((o) => o.clientOrderId)).toEqual(['C', 'D']);
  });

  it('an order marked as known only by its fills takes a fill beyond its quantity (which grows, FILLED stays FILLED); unmarked, the same fill is an invariant error; the mark survives save and restore', () => {
    const m = new OrderManager(1);
    const marked = m.create(market('buy', 0.3), 'f1', 0);
    const plain = m.create(market('buy', 0.3), 'p1', 0);
    m.markQuantityFromFills(marked);
    for (const s of [marked, plain]) {
      m.submitted(s, 1);
      m.filledBy(s, 0.1, 100, 2, 2);
      m.filledBy(s, 0.2, 103, 3, 3);
    }
    expect(m.snapshot(marked)).toMatchObject({ status: 'FILLED', quantity: 0.3, filledQuantity: 0.30000000000000004 });
    expect(() => m.filledBy(plain, 0.2, 110, 4, 4)).toThrow(OrderStateError);
    expect(() => m.stateAfterFill(plain, 0.2)).toThrow(/p1.*FILLED/);
    m.filledBy(marked, 0.2, 110, 4, 4);
    const after = m.snapshot(marked);
    expect(after).toMatchObject({ status: 'FILLED', filledQuantity: 0.5, leavesQuantity: 0, tsEvent: 4 });
    expect(after.quantity).toBeCloseTo(0.5, 15);
    expect(after.averageFillPrice).toBeCloseTo((0.1 * 100 + 0.2 * 103 + 0.2 * 110) / 0.5, 10);
    expect(m.openCount(0)).toBe(0);
    const state = m.save();
    expect(state.quantityFromFills).toEqual(['f1']);
    const again = new OrderManager(1);
    again.restore(JSON.parse(JSON.stringify(state)));
    expect(again.quantityFromFills(again.slotOf('f1'))).toBe(true);
    expect(again.quantityFromFills(again.slotOf('p1'))).toBe(false);
    again.filledBy(again.slotOf('f1'), 0.1, 100, 5, 5);
    expect(again.snapshot(again.slotOf('f1'))).toMatchObject({ status: 'FILLED', filledQuantity: 0.6 });
    expect(new OrderManager(1).save()).toEqual({ orders: [] }); // no mark: the state as before (no new field)
  });

  it('an order REJECTED as declared lost takes the venue\'s later word as a submitted order would (accepted, fills, end) and then is an ordinary order; unmarked, the same events are invariant errors; a late cancel reject changes nothing', () => {
    const m = new OrderManager(1);
    const lost = m.create(limit('buy', 1, 100), 'L1', 0);
    const plain = m.create(limit('buy', 1, 100), 'P1', 0);
    const confirmed = m.create(limit('buy', 1, 100), 'C1', 0);
    for (const s of [lost, plain, confirmed]) {
      m.submitted(s, 1);
      m.rejected(s, 'lost: unknown to the venue after 3 queries', 2, 2);
    }
    m.markDeclaredLost(lost);
    m.markDeclaredLost(confirmed);
    // Only a REJECTED order takes the mark: one marked while working and rejected by the venue later is no lost order.
    const working = m.create(limit('buy', 1, 100), 'W1', 0);
    m.submitted(working, 1);
    m.markDeclaredLost(working);
    expect(m.declaredLost(working)).toBe(false);
    m.rejected(working, 'rejected by the venue', 2, 2);
    expect(() => m.accepted(working, 'V', 3, 3)).toThrow(OrderStateError);
    expect(m.declaredLost(lost)).toBe(true);
    expect(m.declaredLost(plain)).toBe(false);
    expect(() => m.accepted(plain, 'V', 3, 3)).toThrow(/P1.*accept is not allowed in state REJECTED/);
    expect(() => m.stateAfterFill(plain, 0.4)).toThrow(OrderStateError);
    m.cancelRejected(lost, 'too late', 3, 3); // changes nothing, keeps the mark
    expect(m.snapshot(lost).status).toBe('REJECTED');
    expect(m.declaredLost(lost)).toBe(true);
    const saved = JSON.parse(JSON.stringify(m.save())) as ReturnType<OrderManager['save']>;
    expect(saved.declaredLost).toEqual(['L1', 'C1']);
    m.accepted(lost, 'V1', 4, 4);
    expect(m.snapshot(lost)).toMatchObject({ status: 'ACCEPTED', venueOrderId: 'V1' });
    expect(m.declaredLost(lost)).toBe(false);
    expect(m.openCount(0)).toBe(1);
    m.filledBy(lost, 1, 99, 5, 5);
    expect(m.snapshot(lost)).toMatchObject({ status: 'FILLED', filledQuantity: 1, averageFillPrice: 99 });
    expect(() => m.canceled(lost, 'late', 6, 6)).toThrow(OrderStateError); // an ordinary FILLED order from then on
    // The venue's own rejection of one declared lost: REJECTED, no longer by inference (a later fill is an error again).
    m.rejected(confirmed, 'rejected by the venue', 3, 3);
    expect(m.declaredLost(confirmed)).toBe(false);
    expect(() => m.filledBy(confirmed, 1, 100, 4, 4)).toThrow(OrderStateError);
    // Restored: the mark holds, and a fill straight after it is taken (SUBMITTED -> FILLED).
    const again = new OrderManager(1);
    again.restore(saved);
    expect(again.declaredLost(again.slotOf('L1'))).toBe(true);
    again.filledBy(again.slotOf('L1'), 1, 101, 7, 7);
    expect(again.snapshot(again.slotOf('L1'))).toMatchObject({ status: 'FILLED', filledQuantity: 1 });
    expect(m.save(Infinity).declaredLost).toBeUndefined();
  });
});
