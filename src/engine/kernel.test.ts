import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { at, testInstrument, testOrderId } from '../../test/support/engine-scenarios.js';
import type { Ohlcv } from '../../test/support/frames.js';
import type { OhlcvColumns, StaleInputEvent } from '../core/bar.js';
import type { Fill, OrderCommand, OrderRequest, OrderSnapshot } from '../core/order.js';
import { AnnotationError } from './annotation-recorder.js';
import { TestClock } from './clock.js';
import type { ExecutionClient, ExecutionEvents } from './execution-client.js';
import { EngineError, Kernel, type KernelConfig, type KernelState } from './kernel.js';
import type { TradingStateChange } from './risk/trading-state.js';
import type { BarEvent, Strategy, TickEvent } from './strategy.js';
import type { RoundTrip } from './trade-tracker.js';
import { thrown } from '../../test/support/thrown.js';

const T0 = at('2024-01-01T00:00:00Z');
const HOUR = 3_600_000;

/** An execution client that records the commands it gets and reports nothing (the tests report events by hand). */
class RecordingVenue implements ExecutionClient {
  events: ExecutionEvents | undefined;
  readonly submitted: OrderCommand[] = [];
  readonly cancels: { clientOrderId: string; instrument: number }[] = [];
  connect(events: ExecutionEvents): void {
    this.events = events;
  }
  submit(order: OrderCommand): void {
    this.submitted.push(order);
  }
  cancel(clientOrderId: string, instrument: number): void {
    this.cancels.push({ clientOrderId, instrument });
  }
}

/** What a listening strategy heard, hook by hook (snapshots as `id STATUS reason`, events copied). */
type Heard = [hook: string, what?: unknown];

/** A strategy with every hook, recording what it hears into `heard`. */
function listener(heard: Heard[]): Strategy {
  const o = (s: OrderSnapshot) => `${s.clientOrderId} ${s.status}${s.reason === undefined ? '' : ` ${s.reason}`}`;
  return {
    name: 'test',
    onStart: () => void heard.push(['start']),
    onStop: () => void heard.push(['stop']),
    onBar: (_, bar: BarEvent) => void heard.push(['bar', { ...bar }]),
    onTick: (_, tick: TickEvent) => void heard.push(['tick', { ...tick }]),
    onStaleInput: (_, e) => void heard.push(['stale', e]),
    onTimer: (ctx, name) => void heard.push(['timer', `${name} at ${ctx.now() - T0}`]),
    onOrderAccepted: (_, s) => void heard.push(['accepted', o(s)]),
    onOrderRejected: (_, s) => void heard.push(['rejected', o(s)]),
    onOrderFilled: (_, f) => void heard.push(['filled', `${f.clientOrderId} ${f.side} ${f.quantity}@${f.price}`]),
    onOrderCanceled: (_, s) => void heard.push(['canceled', o(s)]),
    onOrderCancelRejected: (_, s, reason) => void heard.push(['cancel-rejected', `${o(s)} (${reason})`]),
    onOrderExpired: (_, s) => void heard.push(['expired', o(s)]),
    onPositionClosed: (_, trip: RoundTrip) => void heard.push(['closed', trip]),
    onTradingStateChanged: (_, change) => void heard.push(['state', `${change.from} -> ${change.to}`]),
  };
}

/** Two instruments: 0 with lot 0.001, 1 (`OTHERUSDT`) with lot 0.01. */
const INSTRUMENTS = [testInstrument(), testInstrument({ symbol: 'OTHERUSDT', lotSize: 0.01 })];

/** A kernel at engine time T0 over {@link INSTRUMENTS} (cash 10 000, leverage 10) with a recording venue attached. */
function setup(options: { config?: Partial<KernelConfig>; strategy?: Strategy; attach?: boolean; onTradingStateChanged?: (c: TradingStateChange) => void } = {}) {
  const clock = new TestClock(T0);
  const heard: Heard[] = [];
  const strategy = options.strategy ?? listener(heard);
  const kernel = new Kernel(
    { instruments: INSTRUMENTS, initialCash: 10_000, leverage: 10, ...options.config },
    { clock, strategy, ...(options.onTradingStateChanged ? { onTradingStateChanged: options.onTradingStateChanged } : {}) },
  );
  const venue = new RecordingVenue();
  if (options.attach !== false) kernel.attachExecution(venue);
  return { clock, kernel, venue, heard };
}

/** Bar columns of `rows`, opening at `ts0` every hour. */
function bars(rows: readonly Ohlcv[], ts0 = T0): OhlcvColumns {
  const col = (f: number) => Float64Array.from(rows, (r) => r[f]!);
  return { ts: Float64Array.from(rows, (_, k) => ts0 + k * HOUR), open: col(0), high: col(1), low: col(2), close: col(3), volume: col(4) };
}

/** The rows of a history (ts, open, high, low, close, volume and the named extra columns). */
function rows(k: Kernel, i: number, extra: readonly string[] = []): number[][] {
  const h = k.history(i);
  return Array.from({ length: h.length }, (_, r) => [h.ts[r]!, h.open[r]!, h.high[r]!, h.low[r]!, h.close[r]!, h.volume[r]!, ...extra.map((c) => h.columns[c]![r]!)]);
}

const buy = (quantity: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({ instrument: 0, side: 'buy', type: 'market', quantity, ...extra });

/** A fill of the whole `quantity` at `price` (no fee), reported at engine time now. */
function fill(k: Kernel, clientOrderId: string, side: 'buy' | 'sell', quantity: number, price: number, extra: Partial<Fill> = {}): Fill {
  return { instrument: 0, clientOrderId, side, quantity, price, fee: 0, liquidity: 'taker', tsEvent: k.now(), tsInit: k.now(), ...extra };
}

describe('Kernel: market data reaches the strategy', () => {
  it('a bar is appended to its history, marks the instrument at its close and is delivered with its close time', () => {
    const { kernel, heard } = setup();
    const b = bars([[100, 104, 99, 103, 7], [103, 106, 101, 102, 9]]);
    kernel.start();
    kernel.onBar(1, b, 1, HOUR);
    expect(heard).toEqual([['start'], ['bar', { instrument: 1, index: 0, tsOpen: T0 + HOUR, tsEvent: T0 + 2 * HOUR, open: 103, high: 106, low: 101, close: 102, volume: 9 }]]);
    expect(kernel.markPrice(1)).toBe(102);
    expect(kernel.markPrice(0)).toBeNaN();
    expect(rows(kernel, 1)).toEqual([[T0 + HOUR, 103, 106, 101, 102, 9]]);
    expect(kernel.history(0).length).toBe(0);
    kernel.stop();
    expect(heard.at(-1)).toEqual(['stop']);
  });

  it('copies each bar at delivery by default (a caller reusing one row buffer), with its extra columns; no columns declared, none kept', () => {
    const { kernel, heard } = setup({ config: { columns: ['signal'] } });
    const row = bars([[100, 101, 99, 100, 1]]);
    const signal = Float64Array.of(0.5);
    kernel.onBar(0, row, 0, HOUR, [signal]);
    row.ts[0] = T0 + HOUR;
    row.close[0] = 101;
    signal[0] = -0.25;
    kernel.onBar(0, row, 0, HOUR, [signal]);
    // a bar without column values: the column stays unset (0) for it
    row.ts[0] = T0 + 2 * HOUR;
    kernel.onBar(0, row, 0, HOUR);
    expect(rows(kernel, 0, ['signal'])).toEqual([
      [T0, 100, 101, 99, 100, 1, 0.5],
      [T0 + HOUR, 100, 101, 99, 101, 1, -0.25],
      [T0 + 2 * HOUR, 100, 101, 99, 101, 1, 0],
    ]);
    expect(heard.map(([, b]) => (b as BarEvent).index)).toEqual([0, 1, 2]);

    const plain = setup().kernel;
    plain.onBar(0, row, 0, HOUR);
    expect(plain.history(0).columns).toEqual({});
    expect(rows(plain, 0)).toEqual([[T0 + 2 * HOUR, 100, 101, 99, 101, 1]]);
  });

  it('an attached frame: each bar is the next row its history takes (read when the history is read), the caller marks', () => {
    const { kernel, heard } = setup({ config: { columns: ['signal'] } });
    const frame = bars([[100, 101, 99, 100, 1], [100, 102, 98, 101, 2], [101, 103, 100, 102, 3], [102, 104, 101, 103, 4]]);
    const signal = Float64Array.of(1, 2, 3, 4);
    // Instrument 1 from row 0, row 2 absent; instrument 0 from row 1 (e.g. a run resumed there).
    kernel.attachFrame(1, frame, [signal], Uint8Array.of(1, 1, 0, 1), 0, HOUR);
    kernel.attachFrame(0, frame, [signal], undefined, 1, HOUR);
    kernel.onFrameBar(1, 0);
    kernel.onFrameBar(0, 1);
    kernel.onFrameBar(1, 1);
    kernel.onFrameBar(1, 3);
    expect(heard.map(([, b]) => ({ ...(b as BarEvent) }))).toEqual([
      { instrument: 1, index: 0, tsOpen: T0, tsEvent: T0 + HOUR, open: 100, high: 101, low: 99, close: 100, volume: 1 },
      { instrument: 0, index: 0, tsOpen: T0 + HOUR, tsEvent: T0 + 2 * HOUR, open: 100, high: 102, low: 98, close: 101, volume: 2 },
      { instrument: 1, index: 1, tsOpen: T0 + HOUR, tsEvent: T0 + 2 * HOUR, open: 100, high: 102, low: 98, close: 101, volume: 2 },
      { instrument: 1, index: 2, tsOpen: T0 + 3 * HOUR, tsEvent: T0 + 4 * HOUR, open: 102, high: 104, low: 101, close: 103, volume: 4 },
    ]);
    expect(kernel.markPrice(1)).toBeNaN(); // the bar runner marks every instrument before delivery; onFrameBar does not
    // The frame promises rows never change; a changed row shows that the history did not copy it at delivery.
    frame.close[3] = 111;
    expect(rows(kernel, 1, ['signal'])).toEqual([
      [T0, 100, 101, 99, 100, 1, 1],
      [T0 + HOUR, 100, 102, 98, 101, 2, 2],
      [T0 + 3 * HOUR, 102, 104, 101, 111, 4, 4],
    ]);
    expect(rows(kernel, 0, ['signal'])).toEqual([[T0 + HOUR, 100, 102, 98, 101, 2, 2]]);
    // A kernel takes its bars one way: copied ones are refused once frames are attached.
    expect(() => kernel.onBar(0, frame, 2, HOUR)).toThrow(/attached frames/);
  });

  it('the bar handed over reads its row: own enumerable fields only (spread, JSON, keys, console), a copy of a reused buffer', () => {
    const FIELDS = ['instrument', 'index', 'tsOpen', 'tsEvent', 'open', 'high', 'low', 'close', 'volume'];
    for (const attached of [true, false]) {
      const got: BarEvent[] = [];
      const { kernel } = setup({ strategy: { name: 'test', onBar: (_, bar) => void got.push(bar) } });
      const frame = bars([[100, 104, 99, 103, 7], [103, 106, 101, 102, 9]]);
      const deliver = (i: number, t: number) => (attached ? kernel.onFrameBar(i, t) : kernel.onBar(i, frame, t, HOUR));
      if (attached) {
        kernel.attachFrame(0, frame, undefined, undefined, 1, HOUR);
        kernel.attachFrame(1, frame, undefined, undefined, 0, HOUR);
      }
      deliver(0, 1);
      const bar = got[0]!;
      const want = { instrument: 0, index: 0, tsOpen: T0 + HOUR, tsEvent: T0 + 2 * HOUR, open: 103, high: 106, low: 101, close: 102, volume: 9 };
      expect(Object.keys(bar)).toEqual(FIELDS);
      expect({ ...bar }).toEqual(want);
      expect(JSON.parse(JSON.stringify(bar))).toEqual(want);
      expect(inspect(bar)).toBe(inspect(want));
      // A live caller reuses its row buffer: the bar was copied at delivery and keeps its numbers until the next bar.
      frame.close[1] = 555;
      expect(bar.close).toBe(attached ? 555 : 102);
      deliver(1, 0);
      expect(got[1]).toBe(bar); // one view per kernel, reused
      expect({ ...bar }).toEqual({ instrument: 1, index: 0, tsOpen: T0, tsEvent: T0 + HOUR, open: 100, high: 104, low: 99, close: 103, volume: 7 });
    }
  });

  it('a tick marks its instrument and is delivered; a stale input is delivered as it came', () => {
    const { kernel, heard } = setup();
    kernel.onTick(1, T0 + 5, 99.5, 0.3, -1);
    const stale: StaleInputEvent = { instrument: 1, input: 'dvol', lastValueTs: T0 - HOUR, barTs: T0 };
    kernel.onStaleInput(stale);
    expect(heard).toEqual([['tick', { instrument: 1, tsEvent: T0 + 5, price: 99.5, quantity: 0.3, side: -1 }], ['stale', stale]]);
    expect(kernel.markPrice(1)).toBe(99.5);
  });

  it('a strategy without hooks hears nothing and breaks nothing (bars, ticks, timers, every order event)', () => {
    const { kernel, clock } = setup({ strategy: { name: 'test' } });
    kernel.start();
    kernel.onBar(0, bars([[100, 100, 100, 100, 1]]), 0, HOUR);
    kernel.onTick(0, T0, 100, 1, 1);
    kernel.onStaleInput({ instrument: 0, input: 'funding', lastValueTs: 0, barTs: T0 });
    kernel.setTimer('t', T0);
    kernel.fireTimers();
    expect(kernel.hasTimers).toBe(false);
    const a = kernel.submitOrder(buy(1));
    const b = kernel.submitOrder(buy(1, { type: 'limit', price: 90 }));
    const c = kernel.submitOrder(buy(1, { type: 'limit', price: 80 }));
    const d = kernel.submitOrder(buy(1, { type: 'limit', price: 70 }));
    kernel.onOrderAccepted({ kind: 'accepted', clientOrderId: a, venueOrderId: 'v1', tsEvent: T0 });
    kernel.onOrderFilled(fill(kernel, a, 'buy', 1, 100));
    kernel.onOrderRejected({ kind: 'rejected', clientOrderId: b, reason: 'no', tsEvent: T0 });
    kernel.onOrderAccepted({ kind: 'accepted', clientOrderId: c, venueOrderId: 'v3', tsEvent: T0 });
    kernel.cancelOrder(c);
    kernel.onOrderCancelRejected({ kind: 'cancel-rejected', clientOrderId: c, reason: 'too late', tsEvent: T0 });
    kernel.cancelOrder(c);
    kernel.onOrderCanceled({ kind: 'canceled', clientOrderId: c, reason: 'asked', tsEvent: T0 });
    kernel.onOrderExpired({ kind: 'expired', clientOrderId: d, reason: 'gtd', tsEvent: T0 });
    clock.advanceTo(T0 + HOUR);
    kernel.onOrderFilled(fill(kernel, kernel.submitOrder({ ...buy(1), side: 'sell' }), 'sell', 1, 110));
    kernel.setTradingState('REDUCING', 'by hand');
    kernel.stop();
    expect([a, b, c, d].map((id) => kernel.order(id)!.status)).toEqual(['FILLED', 'REJECTED', 'CANCELED', 'EXPIRED']);
    expect(kernel.tracker.trips).toHaveLength(1);
  });
});

describe('Kernel: funding', () => {
  it('books position × mark × rate for a held position (longs pay a positive rate); a flat instrument books nothing', () => {
    const { kernel } = setup();
    const id = kernel.submitOrder(buy(2));
    kernel.onOrderFilled(fill(kernel, id, 'buy', 2, 100));
    kernel.onFunding(0, T0 + 8 * HOUR, 0.0001, 105, 'table');
    kernel.onFunding(1, T0 + 8 * HOUR, 0.0001, 50, 'fallback');
    expect(kernel.fundingEvents).toEqual([{ ts: T0 + 8 * HOUR, instrument: 0, rate: 0.0001, markPrice: 105, position: 2, payment: 2 * 105 * 0.0001, source: 'table' }]);
    expect(kernel.portfolio.cash).toBeCloseTo(10_000 - 0.021, 10);
    expect(kernel.portfolio.funding[1]).toBe(0);
    kernel.onTick(0, T0 + 8 * HOUR, 105, 1, 1);
    expect(kernel.equity()).toBeCloseTo(10_000 - 0.021 + 2 * (105 - 100), 9);
  });
});

describe('Kernel: timers', () => {
  it('fires due timers at engine time in due-time order, each once; hasTimers says whether any is pending', () => {
    const { kernel, clock, heard } = setup();
    expect(kernel.hasTimers).toBe(false);
    kernel.fireTimers();
    kernel.setTimer('late', T0 + 2 * HOUR);
    kernel.setTimer('early', T0 + HOUR);
    expect(kernel.hasTimers).toBe(true);
    kernel.fireTimers();
    expect(heard).toEqual([]);
    clock.advanceTo(T0 + HOUR);
    kernel.fireTimers();
    kernel.fireTimers();
    expect(heard).toEqual([['timer', `early at ${HOUR}`]]);
    expect(kernel.hasTimers).toBe(true);
    clock.advanceTo(T0 + 3 * HOUR);
    kernel.fireTimers();
    expect(heard).toEqual([['timer', `early at ${HOUR}`], ['timer', `late at ${3 * HOUR}`]]);
    expect(kernel.hasTimers).toBe(false);
  });
});

describe('Kernel: order events from the execution client', () => {
  it('applies accepted, fills, cancel requests and their answers, rejections and expiries to the orders and tells the strategy', () => {
    const { kernel, clock, venue, heard } = setup();
    const a = kernel.submitOrder(buy(2, { type: 'limit', price: 99, tag: 'entry' }));
    const b = kernel.submitOrder(buy(1));
    const c = kernel.submitOrder(buy(1, { type: 'limit', price: 90 }));
    // The venue gets each order's fixed fields (a command); the kernel's book holds it as SUBMITTED.
    expect(venue.submitted).toEqual([
      { clientOrderId: a, instrument: 0, side: 'buy', type: 'limit', timeInForce: 'GTC', quantity: 2, price: 99, postOnly: false, reduceOnly: false, tag: 'entry' },
      { clientOrderId: b, instrument: 0, side: 'buy', type: 'market', timeInForce: 'GTC', quantity: 1, price: NaN, postOnly: false, reduceOnly: false, tag: undefined },
      { clientOrderId: c, instrument: 0, side: 'buy', type: 'limit', timeInForce: 'GTC', quantity: 1, price: 90, postOnly: false, reduceOnly: false, tag: undefined },
    ]);
    expect([a, b, c].map((id) => kernel.order(id)?.status)).toEqual(['SUBMITTED', 'SUBMITTED', 'SUBMITTED']);
    clock.advanceTo(T0 + 10);
    kernel.onOrderAccepted({ kind: 'accepted', clientOrderId: a, venueOrderId: 'V-a', tsEvent: T0 + 7 });
    kernel.onOrderRejected({ kind: 'rejected', clientOrderId: b, reason: 'insufficient margin', tsEvent: T0 + 8 });
    kernel.onOrderAccepted({ kind: 'accepted', clientOrderId: c, venueOrderId: 'V-c', tsEvent: T0 + 9 });
    kernel.onOrderFilled(fill(kernel, a, 'buy', 0.5, 99));
    expect(kernel.cancelOrder(a)).toBe(true);
    expect(kernel.order(a)!.status).toBe('PENDING_CANCEL');
    kernel.onOrderCancelRejected({ kind: 'cancel-rejected', clientOrderId: a, reason: 'busy', tsEvent: T0 + 10 });
    kernel.onOrderCancelRejected({ kind: 'cancel-rejected', clientOrderId: 'never-issued', reason: 'unknown', tsEvent: T0 + 10 }); // ignored
    kernel.onOrderFilled(fill(kernel, a, 'buy', 1.5, 99));
    kernel.onOrderExpired({ kind: 'expired', clientOrderId: c, reason: 'time', tsEvent: T0 + 10 });
    expect(heard).toEqual([
      ['accepted', `${a} ACCEPTED`],
      ['rejected', `${b} REJECTED insufficient margin`],
      ['accepted', `${c} ACCEPTED`],
      ['filled', `${a} buy 0.5@99`],
      ['cancel-rejected', `${a} PARTIALLY_FILLED busy (busy)`],
      ['filled', `${a} buy 1.5@99`],
      ['expired', `${c} EXPIRED time`],
    ]);
    expect(kernel.order(a)).toMatchObject({ status: 'FILLED', venueOrderId: 'V-a', filledQuantity: 2, averageFillPrice: 99, tsEvent: T0 + 10, tsLast: T0 + 10 });
    expect(kernel.order(b)).toMatchObject({ tsEvent: T0 + 8, tsLast: T0 + 10 });
    expect(kernel.rejections).toEqual([{ ts: T0 + 10, clientOrderId: b, reason: 'insufficient margin' }]);
    expect(kernel.position(0)).toBe(2);
    expect(kernel.averageEntryPrice(0)).toBe(99);
    expect(kernel.fills.map((f) => f.quantity)).toEqual([0.5, 1.5]);
    expect(kernel.openOrderCount(0)).toBe(0);
    expect(kernel.order('never-issued')).toBeUndefined();
  });

  it('keeps no event it is handed: one fill object rewritten for the next fill leaves the book, the log and what the strategy got intact', () => {
    const got: Fill[] = [];
    const { kernel } = setup({ strategy: { name: 'keeper', onOrderFilled: (_, f) => void got.push(f) } });
    expect(kernel.keepsNoEvents).toBe(true);
    const a = kernel.submitOrder(buy(3));
    kernel.onOrderAccepted({ kind: 'accepted', clientOrderId: a, venueOrderId: 'V-a', tsEvent: T0 });
    // A client that reuses its fill object (as the simulated venue does for a receiver that keeps no events).
    const reused: { -readonly [K in keyof Fill]: Fill[K] } = { ...fill(kernel, a, 'buy', 1, 100) };
    kernel.onOrderFilled(reused);
    Object.assign(reused, { quantity: 2, price: 110, fee: 0.5 });
    kernel.onOrderFilled(reused);
    reused.quantity = 999; // after the calls: nothing may see this
    expect(got.map((f) => [f.quantity, f.price, f.fee, Object.isFrozen(f), f === reused])).toEqual([
      [1, 100, 0, true, false],
      [2, 110, 0.5, true, false],
    ]);
    expect(kernel.fills.map((f) => [f.quantity, f.price, f.fee])).toEqual([[1, 100, 0], [2, 110, 0.5]]);
    expect(kernel.order(a)).toMatchObject({ status: 'FILLED', filledQuantity: 3 });
    expect(kernel.position(0)).toBe(3);
  });

  it('sends one command object, rewritten, to a client that copies commands; a new object each time to any other', () => {
    const copying = new (class extends RecordingVenue {
      readonly copiesCommands = true;
      readonly copies: OrderCommand[] = [];
      override submit(order: OrderCommand): void {
        super.submit(order);
        this.copies.push({ ...order });
      }
    })();
    const { kernel } = setup({ attach: false });
    kernel.attachExecution(copying);
    const a = kernel.submitOrder(buy(1, { tag: 'first' }));
    const b = kernel.submitOrder(buy(2, { instrument: 1, type: 'limit', price: 90, reduceOnly: true }));
    expect(copying.submitted[0]).toBe(copying.submitted[1]);
    expect(copying.copies).toEqual([
      { clientOrderId: a, instrument: 0, side: 'buy', type: 'market', timeInForce: 'GTC', quantity: 1, price: NaN, postOnly: false, reduceOnly: false, tag: 'first' },
      { clientOrderId: b, instrument: 1, side: 'buy', type: 'limit', timeInForce: 'GTC', quantity: 2, price: 90, postOnly: false, reduceOnly: true, tag: undefined },
    ]);
    const { kernel: other, venue } = setup();
    other.submitOrder(buy(1));
    other.submitOrder(buy(2));
    expect(venue.submitted[0]).not.toBe(venue.submitted[1]);
    expect(venue.submitted.map((c) => c.quantity)).toEqual([1, 2]);
  });

  it('a cancel request answered by canceled closes the order', () => {
    const { kernel, venue, heard } = setup();
    const a = kernel.submitOrder(buy(1, { instrument: 1, type: 'limit', price: 50 }));
    kernel.onOrderAccepted({ kind: 'accepted', clientOrderId: a, venueOrderId: 'V', tsEvent: T0 });
    expect(kernel.cancelOrder(a)).toBe(true);
    expect(venue.cancels).toEqual([{ clientOrderId: a, instrument: 1 }]);
    kernel.onOrderCanceled({ kind: 'canceled', clientOrderId: a, reason: 'requested', tsEvent: T0 });
    expect(heard.at(-1)).toEqual(['canceled', `${a} CANCELED requested`]);
    expect(kernel.openOrders(1)).toEqual([]);
  });

  it('a fill that closes a position reports the round trip before the fill', () => {
    const { kernel, clock, heard } = setup();
    kernel.onOrderFilled(fill(kernel, kernel.submitOrder(buy(2)), 'buy', 2, 100));
    clock.advanceTo(T0 + HOUR);
    kernel.onOrderFilled(fill(kernel, kernel.submitOrder({ ...buy(2), side: 'sell' }), 'sell', 2, 110));
    expect(heard.map(([hook]) => hook)).toEqual(['filled', 'closed', 'filled']);
    expect(heard[1]![1]).toMatchObject({ instrument: 0, direction: 'long', entryTs: T0, exitTs: T0 + HOUR, entryPrice: 100, exitPrice: 110, quantity: 2, pnl: 20 });
  });

  it('a liquidation fill (an id the kernel never issued) moves the position without touching the orders', () => {
    const { kernel, heard } = setup();
    const id = kernel.submitOrder(buy(2));
    kernel.onOrderFilled(fill(kernel, id, 'buy', 2, 100));
    kernel.onOrderFilled(fill(kernel, 'liq-1', 'sell', 2, 60, { reason: 'liquidation' }));
    expect(kernel.position(0)).toBe(0);
    expect(kernel.fills.map((f) => f.clientOrderId)).toEqual([id, 'liq-1']);
    expect(heard.map(([hook]) => hook)).toEqual(['filled', 'closed', 'filled']);
  });

  it('a fill its order cannot take (REJECTED), or for an id it never issued, is refused before anything is booked', () => {
    const { kernel, heard } = setup();
    const a = kernel.submitOrder(buy(1));
    kernel.onOrderFilled(fill(kernel, a, 'buy', 1, 100));
    const b = kernel.submitOrder(buy(2));
    kernel.onOrderRejected({ kind: 'rejected', clientOrderId: b, reason: 'no', tsEvent: T0 });
    const before = { position: kernel.position(0), entry: kernel.averageEntryPrice(0), equity: kernel.equity(), fills: kernel.fillLog.length, trips: kernel.tracker.trips.length, heard: heard.length };
    const booked = () => ({ position: kernel.position(0), entry: kernel.averageEntryPrice(0), equity: kernel.equity(), fills: kernel.fillLog.length, trips: kernel.tracker.trips.length, heard: heard.length });
    expect(thrown(() => kernel.onOrderFilled(fill(kernel, b, 'sell', 2, 90)))).toMatchObject({ code: 'illegal_order_transition', context: { clientOrderId: b, status: 'REJECTED', event: 'fill' } });
    expect(booked()).toEqual(before);
    expect(kernel.order(b)).toMatchObject({ status: 'REJECTED', filledQuantity: 0 });
    expect(thrown(() => kernel.onOrderFilled(fill(kernel, 'x-1', 'sell', 1, 90)))).toMatchObject({ code: 'unknown_order' });
    expect(booked()).toEqual(before);
  });

  it('an event for an id the kernel never issued is an error naming the event', () => {
    const { kernel } = setup();
    const cases: [string, () => void][] = [
      ['accepted', () => kernel.onOrderAccepted({ kind: 'accepted', clientOrderId: 'x-1', venueOrderId: 'V', tsEvent: T0 })],
      ['rejected', () => kernel.onOrderRejected({ kind: 'rejected', clientOrderId: 'x-1', reason: 'r', tsEvent: T0 })],
      ['filled', () => kernel.onOrderFilled(fill(kernel, 'x-1', 'buy', 1, 100))],
      ['canceled', () => kernel.onOrderCanceled({ kind: 'canceled', clientOrderId: 'x-1', reason: 'r', tsEvent: T0 })],
      ['expired', () => kernel.onOrderExpired({ kind: 'expired', clientOrderId: 'x-1', reason: 'r', tsEvent: T0 })],
    ];
    for (const [event, report] of cases) {
      const error = thrown(report);
      expect(error).toBeInstanceOf(EngineError);
      expect(error).toMatchObject({ code: 'unknown_order', message: `execution client reported ${event} for unknown client order id "x-1"`, context: { clientOrderId: 'x-1', event } });
    }
  });
});

describe('Kernel.submitOrder: requests', () => {
  it('refuses a malformed request with invalid_order naming the field and the value (nothing is sent)', () => {
    const { kernel, venue } = setup();
    const bad: [Partial<OrderRequest>, string, Record<string, unknown>][] = [
      [{ instrument: 2 }, 'order instrument must be an index in [0, 2), was 2', { instrument: 2 }],
      [{ instrument: -1 }, 'order instrument must be an index in [0, 2), was -1', { instrument: -1 }],
      [{ instrument: 0.5 }, 'order instrument must be an index in [0, 2), was 0.5', { instrument: 0.5 }],
      [{ quantity: 0 }, 'order quantity must be a finite number > 0, was 0', { quantity: 0 }],
      [{ quantity: -1 }, 'order quantity must be a finite number > 0, was -1', { quantity: -1 }],
      [{ quantity: Infinity }, 'order quantity must be a finite number > 0, was Infinity', { quantity: Infinity }],
      [{ type: 'limit' }, 'limit order price must be a finite number > 0, was undefined', { price: undefined }],
      [{ type: 'limit', price: 0 }, 'limit order price must be a finite number > 0, was 0', { price: 0 }],
      [{ type: 'limit', price: Infinity }, 'limit order price must be a finite number > 0, was Infinity', { price: Infinity }],
      [{ type: 'limit', price: NaN }, 'limit order price must be a finite number > 0, was NaN', { price: NaN }],
      [{ timeInForce: 'DAY' as never }, 'order timeInForce must be one of GTC, IOC, FOK, was "DAY"', { timeInForce: 'DAY' }],
      [{ postOnly: true }, 'postOnly applies to limit orders only, was set on a market order', { type: 'market' }],
      [{ clientOrderId: 'has space' }, 'client order id must be 1-36 characters of [A-Za-z0-9_-], was "has space"', { clientOrderId: 'has space' }],
      [{ clientOrderId: 'a'.repeat(37) }, `client order id must be 1-36 characters of [A-Za-z0-9_-], was "${'a'.repeat(37)}"`, { clientOrderId: 'a'.repeat(37) }],
    ];
    for (const [extra, message, context] of bad) {
      const error = thrown(() => kernel.submitOrder(buy(1, extra)));
      expect(error, message).toBeInstanceOf(EngineError);
      expect(error).toMatchObject({ code: 'invalid_order', message, context });
    }
    expect(venue.submitted).toEqual([]);
    expect(kernel.orders.size).toBe(0);
    // at the edges: the last instrument, a limit order with a price, a time in force, post-only on a limit order
    kernel.submitOrder(buy(1, { instrument: 1, type: 'limit', price: 0.01, timeInForce: 'IOC', postOnly: true }));
    expect(venue.submitted.map((o) => [o.instrument, o.price, o.timeInForce, o.postOnly])).toEqual([[1, 0.01, 'IOC', true]]);
  });

  it('without an execution client an order is an error (no_execution_client)', () => {
    const { kernel } = setup({ attach: false });
    expect(thrown(() => kernel.submitOrder(buy(1)))).toMatchObject({ code: 'no_execution_client', message: 'no execution client is attached to the kernel' });
  });

  it('during warm-up nothing is sent: the id is empty and the order is counted as held', () => {
    const { kernel, venue } = setup();
    kernel.warmingUp = true;
    expect(kernel.submitOrder(buy(1))).toBe('');
    expect(kernel.submitOrder(buy(0))).toBe(''); // not even checked
    expect(kernel.ordersHeldInWarmUp).toBe(2);
    expect(kernel.orders.size).toBe(0);
    kernel.warmingUp = false;
    expect(kernel.submitOrder(buy(1))).toBe(testOrderId('2024-01-01T00:00:00Z'));
    expect(venue.submitted).toHaveLength(1);
  });

  it('generates deterministic ids: a sequence per instrument and decision time, starting again at 0 when time moves', () => {
    const { kernel, clock } = setup();
    const ids = [kernel.submitOrder(buy(1)), kernel.submitOrder(buy(1)), kernel.submitOrder(buy(1, { instrument: 1 }))];
    clock.advanceTo(T0 + HOUR);
    ids.push(kernel.submitOrder(buy(1, { instrument: 1 })), kernel.submitOrder(buy(1)));
    const t0 = '2024-01-01T00:00:00Z', t1 = '2024-01-01T01:00:00Z';
    expect(ids).toEqual([testOrderId(t0, 0), testOrderId(t0, 1), testOrderId(t0, 0, 1), testOrderId(t1, 0, 1), testOrderId(t1, 0)]);
    const named = new Kernel({ instruments: INSTRUMENTS, initialCash: 1, leverage: 1, runId: 'run-7' }, { clock, strategy: { name: 'my strategy v2' } });
    named.attachExecution(new RecordingVenue());
    expect(named.submitOrder(buy(1))).toMatch(/^run-7_mystra-[0-9a-z]{3}_0_[0-9a-z]+_0$/);
  });

  it('takes a caller id as given once; the same caller id again is an error, also for the run’s first order', () => {
    const { kernel, venue } = setup();
    expect(kernel.submitOrder(buy(1, { clientOrderId: 'mine-1' }))).toBe('mine-1');
    expect(kernel.submitOrder(buy(1, { clientOrderId: 'mine-2' }))).toBe('mine-2');
    for (const id of ['mine-1', 'mine-2']) {
      expect(thrown(() => kernel.submitOrder(buy(1, { clientOrderId: id })))).toMatchObject({ code: 'invalid_order', message: `client order id "${id}" is already in use`, context: { clientOrderId: id } });
    }
    expect(venue.submitted.map((o) => o.clientOrderId)).toEqual(['mine-1', 'mine-2']);
  });

  it('refuses a caller id in the run’s generated id space: a later generated id would repeat it', () => {
    // Before the refusal the kernel sent the generated id a second time; in a backtest the venue rejected that
    // order and then routed the caller order's fill to the rejected one (an OrderStateError ended the run).
    const { kernel, venue, clock } = setup();
    const later = testOrderId('2024-01-01T01:00:00Z'); // instrument 0's first generated id at T0 + 1 h
    expect(thrown(() => kernel.submitOrder(buy(1, { type: 'limit', price: 90, clientOrderId: later })))).toMatchObject({
      code: 'invalid_order',
      message: `client order id "${later}" is in the run’s generated id space (prefix "bt_test_"): a later generated id could repeat it`,
      context: { clientOrderId: later },
    });
    clock.advanceTo(T0 + HOUR);
    expect(kernel.submitOrder(buy(1))).toBe(later);
    // another strategy's or run's prefix is the caller's to use
    expect(kernel.submitOrder(buy(1, { clientOrderId: 'bt_other_0_0_0' }))).toBe('bt_other_0_0_0');
    expect(venue.submitted.map((o) => o.clientOrderId)).toEqual([later, 'bt_other_0_0_0']);
  });

  it('sends quantities floored to whole lots; one that floors to zero goes as asked (for the venue to refuse)', () => {
    const { kernel, venue } = setup();
    kernel.submitOrder(buy(1.239, { instrument: 1 }));
    kernel.submitOrder(buy(0.0004));
    kernel.submitOrder(buy(2));
    expect(venue.submitted.map((o) => o.quantity)).toEqual([1.23, 0.0004, 2]);
    expect(kernel.roundQuantity(1, 1.239)).toBe(1.23);
    expect(kernel.roundQuantity(0, 0.3)).toBeCloseTo(0.3, 12); // 0.3 / 0.001 is 299.99999999999994: not floored to 0.299
  });

  it('with an entry block, every order that is not reduce-only is rejected by the engine; reduce-only orders go out', () => {
    const { kernel, venue, heard } = setup();
    kernel.entryBlock = 'warm-up protection after a restart';
    const a = kernel.submitOrder(buy(1));
    const b = kernel.submitOrder(buy(1, { side: 'sell', reduceOnly: true }));
    expect(kernel.order(a)).toMatchObject({ status: 'REJECTED', reason: 'risk: warm-up protection after a restart', tsEvent: T0 });
    expect(heard).toEqual([['rejected', `${a} REJECTED risk: warm-up protection after a restart`]]);
    expect(kernel.rejections).toEqual([{ ts: T0, clientOrderId: a, reason: 'risk: warm-up protection after a restart' }]);
    expect(venue.submitted.map((o) => [o.clientOrderId, o.reduceOnly])).toEqual([[b, true]]);
    kernel.entryBlock = undefined;
    kernel.submitOrder(buy(1));
    expect(venue.submitted).toHaveLength(2);
  });

  it('an entry block does not deny an order whose id is exempt (sent before a restart): the rest are denied as before', () => {
    const { kernel, venue } = setup();
    kernel.entryBlock = 'warm-up protection after a restart';
    // Ids are made per (instrument, time, sequence): the second order at T0 of instrument 0 is bt_…_0_<T0>_1.
    const first = kernel.submitOrder(buy(1));
    expect(kernel.order(first)!.status).toBe('REJECTED');
    const next = first.replace(/_0$/, '_1');
    kernel.entryBlockExempt = new Set([next]);
    expect(kernel.submitOrder(buy(2))).toBe(next);
    const third = kernel.submitOrder(buy(3));
    expect(venue.submitted.map((o) => [o.clientOrderId, o.quantity])).toEqual([[next, 2]]);
    expect(kernel.order(third)).toMatchObject({ status: 'REJECTED', reason: 'risk: warm-up protection after a restart' });
  });

  it('pre-trade risk: a limit order is valued at its price, the side decides whether exposure grows, reduce-only orders skip the exposure rule', () => {
    const { kernel, venue } = setup({ config: { risk: { maxOrderNotional: 1000, maxInstrumentNotional: 1000 } } });
    kernel.onTick(0, T0, 100, 1, 1);
    kernel.onTick(1, T0, 100, 1, 1);
    const held = kernel.submitOrder(buy(9));
    kernel.onOrderFilled(fill(kernel, held, 'buy', 9, 100));
    const ids = [
      kernel.submitOrder(buy(12, { instrument: 1, type: 'limit', price: 80 })), // 960 (1200 at the mark)
      kernel.submitOrder(buy(9, { instrument: 1, side: 'sell', reduceOnly: true })), // 900 more exposure, were it not reduce-only
      kernel.submitOrder(buy(2)), // the long 9 grows to 11: 1100
      kernel.submitOrder(buy(5, { side: 'sell' })), // the long 9 shrinks
      kernel.submitOrder(buy(12, { instrument: 1, type: 'limit', price: 90 })), // 1080
    ];
    expect(venue.submitted.map((o) => o.clientOrderId)).toEqual([held, ids[0], ids[1], ids[3]]);
    expect([ids[2], ids[4]].map((id) => kernel.order(id)!.reason)).toEqual([
      'risk: max_instrument_notional 1000 < 1100 (position, working orders and this order of instrument 0)',
      'risk: max_order_notional 1000 < 1080',
    ]);
    expect(kernel.rejections.map((r) => r.clientOrderId)).toEqual([ids[2], ids[4]]);
  });

  it('a bar that breaches the drawdown limit changes the trading state and flattens before the strategy hears the bar', () => {
    const { kernel, clock, venue, heard } = setup({ config: { risk: { maxDrawdown: 0.1 } } });
    const b = bars([[100, 100, 100, 100, 1], [100, 100, 95, 95, 1], [95, 95, 89, 89, 1]]);
    clock.advanceTo(T0 + HOUR);
    kernel.onBar(0, b, 0, HOUR);
    const id = kernel.submitOrder(buy(100));
    kernel.onOrderFilled(fill(kernel, id, 'buy', 100, 100));
    clock.advanceTo(T0 + 2 * HOUR);
    kernel.onBar(0, b, 1, HOUR); // equity 9500: drawdown 0.05
    expect(kernel.risk.flattens).toEqual([]);
    clock.advanceTo(T0 + 3 * HOUR);
    kernel.onBar(0, b, 2, HOUR); // equity 8900: drawdown 0.11
    expect(heard.filter(([hook]) => hook !== 'filled').map(([hook, what]) => (hook === 'bar' ? `bar ${(what as BarEvent).index}` : `${hook} ${String(what)}`))).toEqual([
      'bar 0',
      'bar 1',
      'state ACTIVE -> REDUCING',
      'bar 2',
    ]);
    expect(kernel.risk.flattens).toEqual([{ ts: T0 + 3 * HOUR, reason: 'risk: max_drawdown 0.1 < 0.11', canceled: [], orders: [testOrderId('2024-01-01T03:00:00Z')] }]);
    expect(venue.submitted.at(-1)).toMatchObject({ side: 'sell', quantity: 100, reduceOnly: true, tag: 'risk-flatten' });
  });
});

describe('Kernel.cancelOrder', () => {
  it('sends a cancel only for an open order of this run with an execution client attached', () => {
    const { kernel, venue } = setup();
    const open = kernel.submitOrder(buy(1, { type: 'limit', price: 90 }));
    const filled = kernel.submitOrder(buy(1));
    kernel.onOrderFilled(fill(kernel, filled, 'buy', 1, 100));
    expect(kernel.cancelOrder('unknown')).toBe(false);
    expect(kernel.cancelOrder(filled)).toBe(false);
    expect(venue.cancels).toEqual([]);
    expect(kernel.cancelOrder(open)).toBe(true);
    expect(venue.cancels).toEqual([{ clientOrderId: open, instrument: 0 }]);

    // an adopted order is open, but a kernel without an execution client has nowhere to send the cancel
    const detached = setup({ attach: false }).kernel;
    detached.adoptOrder({ ...buy(1), clientOrderId: 'adopted' }, T0);
    expect(detached.cancelOrder('adopted')).toBe(false);
    expect(detached.order('adopted')!.status).toBe('SUBMITTED');
  });
});

/** Instrument 0 long 2 at 100, instrument 1 short 3 at 50 (market orders, filled). */
function longAndShort(kernel: Kernel): void {
  const long = kernel.submitOrder(buy(2));
  kernel.onOrderFilled(fill(kernel, long, 'buy', 2, 100));
  const short = kernel.submitOrder(buy(3, { instrument: 1, side: 'sell' }));
  kernel.onOrderFilled(fill(kernel, short, 'sell', 3, 50, { instrument: 1 }));
}

describe('Kernel: trading state and flatten', () => {
  it('flattenAll cancels working orders (not those already pending cancel) and closes each position reduce-only, in any state', () => {
    const changes: TradingStateChange[] = [];
    const { kernel, clock, venue, heard } = setup({ onTradingStateChanged: (c) => void changes.push(c) });
    longAndShort(kernel);
    const w1 = kernel.submitOrder(buy(1, { type: 'limit', price: 90 }));
    const w2 = kernel.submitOrder(buy(1, { type: 'limit', price: 80 }));
    const w3 = kernel.submitOrder(buy(1, { instrument: 1, type: 'limit', price: 40 }));
    kernel.cancelOrder(w2);
    clock.advanceTo(T0 + HOUR);
    kernel.setTradingState('HALTED', 'kill switch');
    kernel.entryBlock = 'blocked';
    heard.length = 0;
    const event = kernel.flattenAll('kill switch');
    const t1 = '2024-01-01T01:00:00Z';
    expect(event).toEqual({ ts: T0 + HOUR, reason: 'kill switch', canceled: [w1, w3], orders: [testOrderId(t1, 0, 0), testOrderId(t1, 0, 1)] });
    expect(kernel.risk.flattens).toEqual([event]);
    expect(venue.cancels.map((c) => c.clientOrderId)).toEqual([w2, w1, w3]);
    expect(venue.submitted.slice(-2).map((o) => [o.instrument, o.side, o.type, o.quantity, o.reduceOnly, o.tag])).toEqual([
      [0, 'sell', 'market', 2, true, 'risk-flatten'],
      [1, 'buy', 'market', 3, true, 'risk-flatten'],
    ]);
    expect(heard).toEqual([]);
    // the state and its listeners: the kernel's listener and the strategy both heard the change
    expect(kernel.tradingState).toBe('HALTED');
    expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([['ACTIVE', 'HALTED', 'kill switch']]);
    // after the flatten the risk checks apply again: HALTED denies a new order (the entry block first)
    kernel.entryBlock = undefined;
    const denied = kernel.submitOrder(buy(1));
    expect(kernel.order(denied)!.reason).toBe('risk: trading_state HALTED denies every new order (cancels only)');
  });

  it('flattenUncovered closes only the positions no working order is left for, cancels nothing, and records only what it sent', () => {
    const { kernel, clock, venue } = setup();
    longAndShort(kernel);
    const working = kernel.submitOrder(buy(1, { type: 'limit', price: 90 })); // instrument 0 keeps a working order
    clock.advanceTo(T0 + HOUR);
    kernel.setTradingState('HALTED', 'kill switch');
    const sent = venue.submitted.length;
    const event = kernel.flattenUncovered('stop');
    expect(event).toEqual({ ts: T0 + HOUR, reason: 'stop', canceled: [], orders: [testOrderId('2024-01-01T01:00:00Z', 0, 1)] });
    expect(venue.submitted.slice(sent).map((o) => [o.instrument, o.side, o.type, o.quantity, o.reduceOnly, o.tag])).toEqual([[1, 'buy', 'market', 3, true, 'risk-flatten']]);
    expect(venue.cancels).toEqual([]);
    expect(kernel.order(working)!.status).toBe('SUBMITTED');
    expect(kernel.risk.flattens).toEqual([event]);
    // every position covered now: nothing sent, nothing recorded
    expect(kernel.flattenUncovered('stop again').orders).toEqual([]);
    expect(kernel.risk.flattens).toEqual([event]);
  });

  it('flattenAll and flattenUncovered with `only` touch those instruments alone (tm replay of a stop that reached the venue for some)', () => {
    const { kernel, clock, venue } = setup();
    longAndShort(kernel);
    const w0 = kernel.submitOrder(buy(1, { type: 'limit', price: 90 }));
    const w1 = kernel.submitOrder(buy(1, { instrument: 1, type: 'limit', price: 40 }));
    clock.advanceTo(T0 + HOUR);
    const sent = venue.submitted.length;
    const event = kernel.flattenAll('stop', new Set([1]));
    expect(event).toEqual({ ts: T0 + HOUR, reason: 'stop', canceled: [w1], orders: [testOrderId('2024-01-01T01:00:00Z', 0, 1)] });
    expect(venue.submitted.slice(sent).map((o) => [o.instrument, o.side, o.quantity])).toEqual([[1, 'buy', 3]]);
    expect(kernel.order(w0)!.status).toBe('SUBMITTED');
    // instrument 0's order canceled: its position is uncovered, but outside `only`
    kernel.cancelOrder(w0);
    kernel.onOrderCanceled({ kind: 'canceled', clientOrderId: w0, reason: 'asked', tsEvent: T0 + HOUR });
    expect(kernel.flattenUncovered('stop', new Set([1])).orders).toEqual([]);
    expect(venue.submitted.slice(sent + 1)).toEqual([]);
    expect(kernel.flattenUncovered('stop').orders).toEqual([testOrderId('2024-01-01T01:00:00Z', 0, 0)]);
  });

  it('flattenAll with nothing open sends nothing; during warm-up it sends nothing either', () => {
    const { kernel, venue, heard } = setup();
    expect(kernel.flattenAll('nothing')).toEqual({ ts: T0, reason: 'nothing', canceled: [], orders: [] });
    const id = kernel.submitOrder(buy(1));
    kernel.onOrderFilled(fill(kernel, id, 'buy', 1, 100));
    kernel.warmingUp = true;
    expect(kernel.flattenAll('replay')).toEqual({ ts: T0, reason: 'replay', canceled: [], orders: [] });
    expect(venue.submitted).toHaveLength(1);
    expect(heard.filter(([hook]) => hook === 'state')).toEqual([]);
  });

  it('an instrument halted by hand denies its new orders; released, it trades again', () => {
    const { kernel, heard } = setup();
    kernel.setInstrumentHalted(1, true, 'lost order');
    const denied = kernel.submitOrder(buy(1, { instrument: 1 }));
    expect(kernel.order(denied)!.reason).toBe('risk: instrument_halted instrument 1 is halted (cancels only)');
    expect(kernel.order(kernel.submitOrder(buy(1)))!.status).toBe('SUBMITTED');
    kernel.setInstrumentHalted(1, false, 'found');
    expect(kernel.order(kernel.submitOrder(buy(1, { instrument: 1 })))!.status).toBe('SUBMITTED');
    expect(heard.filter(([hook]) => hook === 'rejected')).toHaveLength(1);
  });
});

describe('Kernel: annotations', () => {
  it('keeps the last sizing per instrument; undefined before the first', () => {
    const { kernel } = setup();
    expect(kernel.lastSizing(0)).toBeUndefined();
    kernel.annotateSizing(1, 0.25, 0.2, 0.05, 0.7, 1e-4);
    expect(kernel.lastSizing(0)).toBeUndefined();
    expect(kernel.lastSizing(1)).toEqual({ kellyFraction: 0.25, targetFraction: 0.2, ic: 0.05, signalConfidence: 0.7, variancePerBar: 1e-4 });
    kernel.annotateSizing(0, 1, 2, 3, 4, 5);
    kernel.annotateSizing(1, -0.5, -0.4, -0.03, 0.6, 2e-4);
    expect(kernel.lastSizing(0)).toEqual({ kellyFraction: 1, targetFraction: 2, ic: 3, signalConfidence: 4, variancePerBar: 5 });
    expect(kernel.lastSizing(1)).toEqual({ kellyFraction: -0.5, targetFraction: -0.4, ic: -0.03, signalConfidence: 0.6, variancePerBar: 2e-4 });
  });

  it('records tiers and regimes at engine time (the recorder sized without a history capacity)', () => {
    const { kernel, clock } = setup();
    expect(kernel.annotations()).toBeUndefined();
    expect(kernel.lastTier(0)).toBeUndefined();
    expect(kernel.lastRegime(1)).toBeUndefined();
    kernel.annotateTier(0, 'PURE_KELLY', 'no_rl_sizer');
    clock.advanceTo(T0 + HOUR);
    kernel.annotateRegime(1, ['bear', 'bull'], [0.25, 0.75]);
    expect(kernel.lastTier(0)).toEqual({ tier: 'PURE_KELLY', reason: 'no_rl_sizer' });
    expect(kernel.lastRegime(1)).toEqual({ labels: ['bear', 'bull'], probabilities: Float64Array.of(0.25, 0.75) });
    expect(kernel.annotations()).toEqual({
      tiers: [{ instrument: 0, ts: T0, tier: 'PURE_KELLY', reason: 'no_rl_sizer' }],
      regimes: [{ instrument: 1, labels: ['bear', 'bull'], ts: Float64Array.of(T0 + HOUR), probabilities: [Float64Array.of(0.25), Float64Array.of(0.75)] }],
    });
  });

  it('an annotation for an instrument the kernel does not have is an error naming the call', () => {
    const { kernel } = setup();
    const cases: [string, () => void][] = [
      ['annotateSizing: instrument must be an index in [0, 2), was 2', () => kernel.annotateSizing(2, 0, 0, 0, 0, 0)],
      ['annotateTier: instrument must be an index in [0, 2), was -1', () => kernel.annotateTier(-1, 'A', 'r')],
      ['annotateRegime: instrument must be an index in [0, 2), was 2', () => kernel.annotateRegime(2, ['a'], [1])],
    ];
    for (const [message, call] of cases) {
      const error = thrown(call);
      expect(error).toBeInstanceOf(AnnotationError);
      expect(error).toMatchObject({ code: 'invalid_annotation', message });
    }
    expect(kernel.annotations()).toBeUndefined();
  });
});

describe('Kernel: adopted orders, saved and restored state', () => {
  it('adoptOrder takes a venue order in as SUBMITTED without sending it; a known id is refused; the strategy repeating it sends nothing', () => {
    const { kernel, venue, clock } = setup();
    const first = kernel.submitOrder(buy(1));
    expect(kernel.adoptOrder({ ...buy(1), clientOrderId: first }, T0)).toBe(false);
    const replayed = testOrderId('2024-01-01T01:00:00Z');
    expect(kernel.adoptOrder({ ...buy(0.5), clientOrderId: replayed }, T0 + 5)).toBe(true);
    expect(kernel.order(replayed)).toMatchObject({ status: 'SUBMITTED', quantity: 0.5, tsInit: T0 + 5 });
    expect(venue.submitted.map((o) => o.clientOrderId)).toEqual([first]);
    // the decision that made it again (same instrument and time): its id is held, so nothing is sent
    clock.advanceTo(T0 + HOUR);
    expect(kernel.submitOrder(buy(0.5))).toBe(replayed);
    expect(venue.submitted).toHaveLength(1);
    expect(kernel.submitOrder(buy(0.5))).toBe(testOrderId('2024-01-01T01:00:00Z', 1));
    expect(venue.submitted).toHaveLength(2);
  });

  it('skipGeneratedIds: an id generated now never repeats one of the run’s given ids at this time; other times, runs and instruments change nothing', () => {
    const { kernel, venue, clock } = setup();
    clock.advanceTo(T0 + HOUR);
    const at = '2024-01-01T01:00:00Z';
    kernel.skipGeneratedIds([
      testOrderId(at, 0), testOrderId(at, 2), // instrument 0 at now: 0 and 2 used
      testOrderId('2024-01-01T00:00:00Z', 7), // another time
      testOrderId(at, 5).replace(/^[^_]+_/, 'other_'), // another run
      testOrderId(at, 0, 1), // instrument 1 at now: 0 used
      'by-hand-1', // not an id of the run's form
    ]);
    expect(kernel.submitOrder(buy(1))).toBe(testOrderId(at, 3));
    expect(kernel.submitOrder(buy(1, { instrument: 1 }))).toBe(testOrderId(at, 1, 1));
    expect(venue.submitted).toHaveLength(2);
    // A smaller sequence changes nothing; the next bar time starts from 0 again.
    kernel.skipGeneratedIds([testOrderId(at, 1)]);
    expect(kernel.submitOrder(buy(1))).toBe(testOrderId(at, 4));
    clock.advanceTo(T0 + 2 * HOUR);
    expect(kernel.submitOrder(buy(1))).toBe(testOrderId('2024-01-01T02:00:00Z', 0));
  });

  /** A kernel with a bar on instrument 0, a filled order, a working order and one id at T0 + 1 h. */
  function used() {
    const s = setup({ config: { columns: ['signal'] } });
    s.kernel.onBar(0, bars([[100, 101, 99, 100.5, 3]]), 0, HOUR, [Float64Array.of(0.125)]);
    const a = s.kernel.submitOrder(buy(2));
    s.kernel.onOrderFilled(fill(s.kernel, a, 'buy', 2, 100));
    s.clock.advanceTo(T0 + HOUR);
    const b = s.kernel.submitOrder(buy(1, { type: 'limit', price: 95 }));
    return { ...s, a, b };
  }

  it('saveState holds the orders, the account, the histories (unless left out) and the id sequence per instrument', () => {
    const { kernel, a, b } = used();
    const state = kernel.saveState();
    expect(state.version).toBe(1);
    expect(state.now).toBe(T0 + HOUR);
    expect(state.orders.orders.map((o) => [o.clientOrderId, o.status])).toEqual([[a, 'FILLED'], [b, 'SUBMITTED']]);
    expect(state.histories).toEqual([
      { length: 1, columns: { ts: [T0], open: [100], high: [101], low: [99], close: [100.5], volume: [3], 'column:signal': [0.125] } },
      { length: 0, columns: { ts: [], open: [], high: [], low: [], close: [], volume: [], 'column:signal': [] } },
    ]);
    expect(state.idSequence).toEqual([{ time: T0 + HOUR, next: 1 }, { time: -1, next: 0 }]);
    expect(state.risk).toEqual(kernel.risk.save());
    expect(kernel.saveState({ histories: false }).histories).toEqual([{ length: 0, columns: {} }, { length: 0, columns: {} }]);
    expect(kernel.saveState({ closedOrdersSince: T0 + 1 }).orders.orders.map((o) => o.clientOrderId)).toEqual([b]);
  });

  it('restoreState continues the run: account, orders, histories and the id sequence', () => {
    const { kernel, a, b } = used();
    const state: KernelState = JSON.parse(JSON.stringify(kernel.saveState()));
    const r = setup({ config: { columns: ['signal'] } });
    r.clock.advanceTo(T0 + HOUR);
    r.kernel.restoreState(state);
    expect(r.kernel.position(0)).toBe(2);
    expect(r.kernel.equity()).toBe(kernel.equity());
    expect(r.kernel.order(a)!.status).toBe('FILLED');
    expect(r.kernel.openOrders(0).map((o) => o.clientOrderId)).toEqual([b]);
    expect(rows(r.kernel, 0, ['signal'])).toEqual([[T0, 100, 101, 99, 100.5, 3, 0.125]]);
    // instrument 0's next id at T0 + 1 h is number 1 (b was number 0)
    const next = r.kernel.submitOrder(buy(1));
    expect(next).toBe(testOrderId('2024-01-01T01:00:00Z', 1));
    expect(r.venue.submitted.map((o) => o.clientOrderId)).toEqual([next]);
    expect(r.kernel.saveState().idSequence).toEqual([{ time: T0 + HOUR, next: 2 }, { time: -1, next: 0 }]);
  });

  it('after a restore a replayed decision whose order the state holds is not sent again', () => {
    const { kernel, b } = used();
    // Saved after b was sent but with the id counters of before it (a crash between the two): replaying the decision
    // at T0 + 1 h generates b's id again.
    const state: KernelState = { ...kernel.saveState(), idSequence: [{ time: T0, next: 1 }, { time: -1, next: 0 }] };
    const r = setup({ config: { columns: ['signal'] } });
    r.clock.advanceTo(T0 + HOUR);
    r.kernel.restoreState(state);
    expect(r.kernel.submitOrder(buy(1, { type: 'limit', price: 95 }))).toBe(b);
    expect(r.venue.submitted).toEqual([]);
    expect(r.kernel.openOrders(0).map((o) => o.clientOrderId)).toEqual([b]);
    const next = r.kernel.submitOrder(buy(1));
    expect(next).toBe(testOrderId('2024-01-01T01:00:00Z', 1));
    expect(r.venue.submitted.map((o) => o.clientOrderId)).toEqual([next]);
  });

  it('restoreState refuses another version, a kernel that already has orders or bars, and a state of other instruments', () => {
    const state = used().kernel.saveState();
    const fresh = () => setup({ config: { columns: ['signal'] } }).kernel;
    const refused = (k: Kernel, s: KernelState, message: string) => {
      const error = thrown(() => k.restoreState(s));
      expect(error).toBeInstanceOf(EngineError);
      expect(error).toMatchObject({ code: 'invalid_state', message });
      return (error as EngineError).context;
    };
    expect(refused(fresh(), { ...state, version: 2 as 1 }, 'kernel state version must be 1, was 2')).toEqual({ version: 2 });
    const withOrder = fresh();
    withOrder.submitOrder(buy(1));
    refused(withOrder, state, 'a kernel state can only be restored into a fresh kernel');
    const withBar = fresh();
    withBar.onBar(1, bars([[1, 1, 1, 1, 1]]), 0, HOUR);
    refused(withBar, state, 'a kernel state can only be restored into a fresh kernel');
    expect(refused(fresh(), { ...state, histories: state.histories.slice(0, 1) }, 'kernel state holds 1 instruments, the kernel 2')).toEqual({ expected: 2, actual: 1 });
    refused(fresh(), { ...state, idSequence: state.idSequence.slice(0, 1) }, 'kernel state holds 2 instruments, the kernel 2');
    // without a risk section (a state saved before pre-trade risk) the risk engine keeps its fresh state
    const { risk: _risk, ...old } = state;
    const k = fresh();
    k.restoreState(old);
    expect(k.tradingState).toBe('ACTIVE');
    expect(k.position(0)).toBe(2);
  });

  it('restoreState restores the trading state of the pre-trade risk engine', () => {
    const { kernel } = used();
    kernel.setTradingState('HALTED', 'kill switch');
    kernel.setInstrumentHalted(1, true, 'lost order');
    const r = setup({ config: { columns: ['signal'] } }).kernel;
    r.restoreState(JSON.parse(JSON.stringify(kernel.saveState())) as KernelState);
    expect(r.tradingState).toBe('HALTED');
    expect(r.risk.isInstrumentHalted(1)).toBe(true);
    expect(r.risk.changes).toEqual(kernel.risk.changes);
    expect(r.risk.changes).toHaveLength(2);
  });
});
