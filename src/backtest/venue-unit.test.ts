import { describe, expect, it } from 'vitest';
import type { OhlcvColumns } from '../core/bar.js';
import type { Instrument } from '../core/instrument.js';
import type { Liquidity, OrderCommand, OrderSnapshot, OrderSide, OrderType, TimeInForce } from '../core/order.js';
import { TestClock } from '../engine/clock.js';
import { Portfolio } from '../engine/portfolio.js';
import { booked, testInstrument } from '../../test/support/engine-scenarios.js';
import { FixedBpsSlippage, InstrumentFeeModel, VolumeParticipationFillModel, type FeeModel, type LatencyModel } from './execution-models.js';
import { SimulatedExecutionClient, type SimulatedExecutionConfig } from './simulated-execution-client.js';

/**
 * The simulated venue driven directly (no kernel): prices one at a time through `processPrice`, fills booked into a
 * Portfolio, every event recorded as one line. Instruments: lot 0.001, min quantity 0.001, min notional 5, maker
 * 0.02 %, taker 0.055 % unless a case says otherwise; every mark starts at 100. Each line starts with the event's
 * own `kind` (a fill: "fill").
 */
const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

interface VenueOptions {
  readonly cash?: number;
  readonly leverage?: number;
  readonly latency?: LatencyModel;
  readonly cap?: number;
  readonly bps?: number;
  readonly fees?: FeeModel;
  readonly pathChecks?: SimulatedExecutionConfig['pathChecks'];
  readonly executionIds?: boolean;
}

function venue(instruments: readonly Instrument[] = [testInstrument()], options: VenueOptions = {}) {
  const portfolio = new Portfolio(instruments, options.cash ?? 100_000);
  portfolio.mark.fill(100);
  const clock = new TestClock(T0);
  const client = new SimulatedExecutionClient({ instruments, leverage: options.leverage ?? 10, pathChecks: options.pathChecks ?? 'skip-idle', executionIds: options.executionIds ?? false }, portfolio, clock, {
    fees: options.fees ?? new InstrumentFeeModel(),
    slippage: new FixedBpsSlippage(options.bps ?? 0),
    ...(options.latency ? { latency: options.latency } : {}),
    ...(options.cap !== undefined ? { fill: new VolumeParticipationFillModel(options.cap) } : {}),
  });
  const log: string[] = [];
  client.connect({
    onOrderAccepted: (e) => void log.push(`${e.kind} ${e.clientOrderId} ${e.venueOrderId}`),
    onOrderRejected: (e) => void log.push(`${e.kind} ${e.clientOrderId}: ${e.reason}`),
    onOrderFilled: (f) => {
      portfolio.applyFill(f);
      log.push(`fill ${f.clientOrderId} ${f.side} ${f.quantity}@${f.price} ${f.liquidity}${f.reason ? ` ${f.reason}` : ''}${f.executionId !== undefined ? ` exec ${f.executionId}` : ''}`);
    },
    onOrderCanceled: (e) => void log.push(`${e.kind} ${e.clientOrderId}: ${e.reason}`),
    onOrderCancelRejected: (e) => void log.push(`${e.kind} ${e.clientOrderId}`),
    onOrderExpired: (e) => void log.push(`${e.kind} ${e.clientOrderId}`),
  });
  /** One price of instrument `i` one second later (commands sent before it have arrived), then the mark moves there. */
  const price = (p: number, options: { i?: number; volume?: number; previous?: number } = {}) => {
    const i = options.i ?? 0;
    clock.advanceTo(clock.now() + 1000);
    client.beginLiquidity(i, options.volume ?? 1e9);
    client.processPrice(i, p, options.previous ?? portfolio.mark[i]!, options.volume ?? 1e9, clock.now());
    portfolio.mark[i] = p;
  };
  return { client, portfolio, clock, log, price };
}

function order(id: string, side: OrderSide, type: OrderType, quantity: number, options: { price?: number; timeInForce?: TimeInForce; postOnly?: boolean; reduceOnly?: boolean; instrument?: number } = {}): OrderSnapshot {
  return Object.freeze({
    clientOrderId: id, venueOrderId: undefined, instrument: options.instrument ?? 0, side, type, timeInForce: options.timeInForce ?? 'GTC', quantity, price: options.price ?? NaN,
    postOnly: options.postOnly ?? false, reduceOnly: options.reduceOnly ?? false, status: 'SUBMITTED', filledQuantity: 0, leavesQuantity: quantity, averageFillPrice: NaN,
    tsInit: 0, tsEvent: 0, tsLast: 0, tag: undefined, reason: undefined,
  } satisfies OrderSnapshot);
}

/** Hourly bars of one instrument from [open, high, low, close] rows (volume 1000), the first at T0 + 1 h. */
function barColumns(rows: readonly (readonly [number, number, number, number])[]): OhlcvColumns {
  const column = (f: (row: readonly [number, number, number, number], k: number) => number) => Float64Array.from(rows, f);
  return { ts: column((_, k) => T0 + (k + 1) * HOUR), open: column((r) => r[0]), high: column((r) => r[1]), low: column((r) => r[2]), close: column((r) => r[3]), volume: column(() => 1000) };
}

describe('simulated venue: commands in flight', () => {
  it('copies each command when it is sent: one object rewritten for every order (as the kernel sends them) changes no order', () => {
    const { client, clock, log, price } = venue();
    expect(client.copiesCommands).toBe(true);
    const command: { -readonly [K in keyof OrderCommand]: OrderCommand[K] } = { ...order('rest', 'buy', 'limit', 1, { price: 90 }) };
    client.submit(command);
    Object.assign(command, { clientOrderId: 'take', side: 'sell', type: 'market', quantity: 2, price: NaN });
    client.submit(command); // both still on their way
    client.processCommands(clock.now());
    Object.assign(command, { clientOrderId: 'other', price: 200, quantity: 5 }); // after arrival: the resting limit stays at 90 for 1
    price(95);
    price(89);
    expect(log).toEqual(['accepted rest SIM-1', 'accepted take SIM-2', 'fill take sell 2@95 taker', 'fill rest buy 1@90 maker']);
  });

  it('processes commands in arrival order, ties in send order, and only those that arrived by now', () => {
    // instrument 0's commands take 300 ms, instrument 1's 100 ms
    const latency: LatencyModel = { commandLatency: (i) => (i === 0 ? 300 : 100) };
    const v = venue([testInstrument(), testInstrument({ symbol: 'BBBUSDT' })], { latency });
    v.client.submit(order('a', 'buy', 'limit', 1, { price: 90 }));
    v.client.submit(order('b', 'buy', 'limit', 1, { price: 90, instrument: 1 }));
    v.client.submit(order('c', 'buy', 'limit', 1, { price: 90, instrument: 1 }));
    expect(v.client.hasCommands).toBe(true);
    v.client.processCommands(T0 + 99);
    expect(v.log).toEqual([]);
    v.client.processCommands(T0 + 100);
    expect(v.log).toEqual(['accepted b SIM-1', 'accepted c SIM-2']);
    expect(v.client.hasCommands).toBe(true);
    v.client.processCommands(T0 + 300);
    expect(v.log.slice(2)).toEqual(['accepted a SIM-3']);
    expect(v.client.hasCommands).toBe(false);
  });

  it('a cancel sent right after its order is processed after it, and before an order sent later', () => {
    const v = venue();
    v.client.submit(order('a', 'buy', 'limit', 1, { price: 90 }));
    v.client.cancel('a', 0);
    v.client.submit(order('b', 'buy', 'limit', 1, { price: 90 }));
    v.client.processCommands(T0);
    expect(v.log).toEqual(['accepted a SIM-1', 'canceled a: canceled on request', 'accepted b SIM-2']);
  });

  it('an order that arrives after another left the book starts afresh (the venue reuses the working-order record)', () => {
    // The IOC leaves the book before its first price (canceled), its record still on its first chance; a partly
    // filled limit leaves it after fills. The GTC and the market order after them reuse those records: the GTC has
    // no first chance (not canceled at a price it does not reach), the market order fills its own quantity.
    const v = venue(undefined, { cap: 0.001 });
    v.client.submit(order('ioc', 'buy', 'limit', 1, { price: 90, timeInForce: 'IOC' }));
    v.client.cancel('ioc', 0);
    v.client.submit(order('gtc', 'buy', 'limit', 1, { price: 90 }));
    v.client.processCommands(T0);
    v.price(95);
    expect(v.log).toEqual(['accepted ioc SIM-1', 'canceled ioc: canceled on request', 'accepted gtc SIM-2']);
    v.price(90, { volume: 500 }); // the cap leaves 0.5 of the GTC's 1
    v.client.cancel('gtc', 0);
    v.client.submit(order('mkt', 'buy', 'market', 0.2));
    v.price(100, { volume: 1000 });
    expect(v.log.slice(3)).toEqual(['fill gtc buy 0.5@90 maker', 'canceled gtc: canceled on request', 'accepted mkt SIM-3', 'fill mkt buy 0.2@100 taker']);
  });

  it('rejects every repeated client order id, whether above, at or below the greatest seen, and saves ids in arrival order', () => {
    // Ids above the greatest seen are new without a lookup; the rest are looked up in an index built on demand, which
    // must hold the ids that skipped it, before and after its first use.
    const v = venue();
    const ids = ['m', 'n', 'c', 'p', 'q', 'n', 'q', 'r', 'd', 'p', 'c', 'a', 'z', 'r', 'm'];
    for (const id of ids) v.client.submit(order(id, 'buy', 'limit', 1, { price: 90 }));
    v.client.processCommands(T0);
    const verdicts = v.log.map((l) => l.split(' ').slice(0, 2).join(' ').replace(':', ''));
    expect(verdicts).toEqual([
      'accepted m', 'accepted n', 'accepted c', 'accepted p', 'accepted q', 'rejected n', 'rejected q', 'accepted r',
      'accepted d', 'rejected p', 'rejected c', 'accepted a', 'accepted z', 'rejected r', 'rejected m',
    ]);
    expect(v.client.save().seenIds).toEqual(['m', 'n', 'c', 'p', 'q', 'r', 'd', 'a', 'z']);
    // A restored venue knows the same ids.
    const w = venue();
    w.client.restore({ ...v.client.save(), working: [] });
    for (const id of ['z', 'a', 'q', 'zz', 'b']) w.client.submit(order(id, 'buy', 'limit', 1, { price: 90 }));
    w.client.processCommands(T0);
    expect(w.log.map((l) => l.split(' ').slice(0, 2).join(' ').replace(':', ''))).toEqual(['rejected z', 'rejected a', 'rejected q', 'accepted zz', 'accepted b']);
  });

  it('fillBeforeCommands: a working order fills at its mark before the cancel in flight, which is then refused; others wait', () => {
    const v = venue([testInstrument(), testInstrument({ symbol: 'BBBUSDT' })], { bps: 10 });
    v.client.submit(order('m', 'buy', 'market', 2));
    v.client.submit(order('n', 'sell', 'market', 1));
    v.client.submit(order('l', 'buy', 'limit', 1, { price: 90 }));
    v.client.submit(order('o', 'sell', 'market', 1, { instrument: 1 }));
    v.client.processCommands(T0);
    v.log.length = 0;
    v.portfolio.mark[0] = 110;
    for (const id of ['m', 'n', 'l']) v.client.cancel(id, 0);
    // The venue's race: m fills at the mark (taker, 10 bp slippage) before its cancel; n and o do not move.
    expect(v.client.fillBeforeCommands('m', 0, T0 + 5)).toBe(true);
    expect(v.log).toEqual([`fill m buy 2@${110 * 1.001} taker`]);
    // A limit not marketable at the mark works on, in its place; unknown ids, other instruments' ids and unmarked
    // instruments change nothing.
    expect(v.client.fillBeforeCommands('l', 0, T0 + 5)).toBe(true);
    expect(v.client.fillBeforeCommands('x', 0, T0 + 5)).toBe(false);
    expect(v.client.fillBeforeCommands('o', 0, T0 + 5)).toBe(false);
    v.portfolio.mark[1] = NaN;
    expect(v.client.fillBeforeCommands('o', 1, T0 + 5)).toBe(false);
    expect(v.log).toHaveLength(1);
    expect(v.client.save().working.map((w) => w.order.clientOrderId)).toEqual(['n', 'l', 'o']);
    v.client.processCommands(T0 + 5);
    expect(v.log.slice(1)).toEqual(['cancel-rejected m', 'canceled n: canceled on request', 'canceled l: canceled on request']);
  });

  it('refuseNonReducing: reduce-only orders that would not reduce the position now are refused without a price; the rest work on', () => {
    const v = venue([testInstrument(), testInstrument({ symbol: 'BBBUSDT' })]);
    v.portfolio.applyFill(booked(0, -2, 100, 0)); // short 2 of instrument 0, flat in instrument 1
    v.client.submit(order('s', 'sell', 'market', 1, { reduceOnly: true })); // on the short's side: refused
    v.client.submit(order('b', 'buy', 'market', 1, { reduceOnly: true })); // reduces it: works on
    v.client.submit(order('p', 'sell', 'market', 1)); // not reduce-only: works on
    v.client.submit(order('f', 'buy', 'market', 1, { instrument: 1, reduceOnly: true })); // nothing to reduce: refused
    v.client.processCommands(T0);
    v.log.length = 0;
    v.client.refuseNonReducing(T0 + 5);
    expect(v.log).toEqual(['rejected s: reduce-only sell with position -2 would not reduce it', 'rejected f: reduce-only buy with position 0 would not reduce it']);
    expect(v.client.save().working.map((w) => w.order.clientOrderId)).toEqual(['b', 'p']);
    // What the next price would have done to them: nothing left to refuse.
    v.client.refuseNonReducing(T0 + 6);
    expect(v.log).toHaveLength(2);
  });

  it('a cancel for an instrument the venue does not trade is cancel-rejected', () => {
    const v = venue();
    v.client.cancel('x', 5);
    v.client.processCommands(T0);
    expect(v.log).toEqual(['cancel-rejected x']);
  });

  it('a price processed from inside a command callback (another instrument) does not change the price being processed', () => {
    // The venue hands a price's numbers over in shared cells: a nested processPrice must not leak into the outer one.
    const v = venue([testInstrument(), testInstrument({ symbol: 'BBBUSDT' })]);
    const fills: string[] = [];
    let nested = false;
    v.client.connect({
      onOrderAccepted: () => {
        if (nested) return;
        nested = true;
        v.client.processPrice(1, 55, 60, 7, T0 + 5); // instrument 1 has nothing working: a no-op price of its own
      },
      onOrderRejected: (e) => void fills.push(`rejected ${e.reason}`),
      onOrderFilled: (f) => {
        v.portfolio.applyFill(f);
        fills.push(`fill ${f.clientOrderId} ${f.instrument} ${f.quantity}@${f.price} ts ${f.tsEvent - T0}`);
      },
      onOrderCanceled: () => {},
      onOrderCancelRejected: () => {},
      onOrderExpired: () => {},
    });
    v.client.submit(order('m', 'buy', 'market', 1));
    v.client.beginLiquidity(0, 1e9);
    v.client.processPrice(0, 101, 100, 1e9, T0 + 2000); // the command arrives here, its acceptance runs the nested price
    expect(nested).toBe(true);
    expect(fills).toEqual(['fill m 0 1@101 ts 2000']);
  });

  it('isActive: working orders or a position', () => {
    const v = venue();
    expect(v.client.isActive(0)).toBe(false);
    v.client.submit(order('a', 'buy', 'limit', 1, { price: 90 }));
    v.client.processCommands(T0);
    expect(v.client.isActive(0)).toBe(true);
    v.client.cancel('a', 0);
    v.client.processCommands(T0);
    expect(v.client.isActive(0)).toBe(false);
    v.client.submit(order('m', 'buy', 'market', 1));
    v.price(100);
    expect(v.client.isActive(0)).toBe(true);
  });
});

describe('simulated venue: matching', () => {
  it('a limit marketable on arrival takes at the next price only if still marketable there, otherwise rests as maker', () => {
    const v = venue();
    v.client.submit(order('s', 'sell', 'limit', 1, { price: 99 })); // marketable at mark 100
    v.client.submit(order('b', 'buy', 'limit', 1, { price: 100 })); // marketable at mark 100 (equal)
    v.price(98.5); // s: 98.5 < 99 no longer marketable → rests; b: 98.5 ≤ 100 → taker, at the price
    v.price(99); // s touches its limit → maker at 99
    expect(v.log.slice(2)).toEqual(['fill b buy 1@98.5 taker', 'fill s sell 1@99 maker']);
  });

  it('a buy marketable on arrival at exactly its limit takes as taker', () => {
    const v = venue();
    v.client.submit(order('b', 'buy', 'limit', 1, { price: 100 }));
    v.price(100);
    expect(v.log.slice(1)).toEqual(['fill b buy 1@100 taker']);
  });

  it('on arrival a limit is a taker when marketable at the mark, the limit included; a market order never is', () => {
    const v = venue(); // mark 100
    v.client.submit(order('sAt', 'sell', 'limit', 1, { price: 100 })); // 100 ≤ 100: marketable
    v.client.submit(order('sAbove', 'sell', 'limit', 1, { price: 100.01 }));
    v.client.submit(order('bAt', 'buy', 'limit', 1, { price: 100 })); // 100 ≥ 100: marketable
    v.client.submit(order('bBelow', 'buy', 'limit', 1, { price: 99.99 }));
    // a price field on a market order (the kernel sends NaN) is not a limit: no taker-on-arrival, no post-only check
    v.client.submit(order('m', 'buy', 'market', 1, { price: 100 }));
    v.client.submit(order('mPost', 'sell', 'market', 1, { price: 100, postOnly: true }));
    v.client.submit(order('sPost', 'sell', 'limit', 1, { price: 100, postOnly: true }));
    v.client.processCommands(T0);
    expect(v.client.save().working.map((w) => [w.order.clientOrderId, w.takerOnArrival])).toEqual([
      ['sAt', true], ['sAbove', false], ['bAt', true], ['bBelow', false], ['m', false], ['mPost', false],
    ]);
    expect(v.log.at(-1)).toBe('rejected sPost: post-only sell limit 100 would take liquidity at mark 100');
  });

  it('a taker on arrival takes at the next price only while marketable there, at exactly its limit too (both sides)', () => {
    const v = venue(); // mark 100
    v.client.submit(order('b', 'buy', 'limit', 1, { price: 100 })); // marketable at the mark
    v.client.submit(order('s', 'sell', 'limit', 1, { price: 100 })); // marketable at the mark
    v.price(100.5); // b: 100.5 > 100, no longer marketable → rests; s: 100.5 ≥ 100 → taker at the price
    v.price(100); // b touched → maker at its limit
    v.client.submit(order('s2', 'sell', 'limit', 1, { price: 100 })); // marketable at mark 100
    v.price(100); // exactly its limit: still marketable → taker
    expect(v.log.filter((l) => l.startsWith('fill'))).toEqual(['fill s sell 1@100.5 taker', 'fill b buy 1@100 maker', 'fill s2 sell 1@100 taker']);
  });

  it('a taker limit is slipped but never beyond its limit', () => {
    const v = venue([testInstrument()], { bps: 10 });
    v.client.submit(order('b', 'buy', 'limit', 1, { price: 100.05 })); // slipped 100.1 → capped at 100.05
    v.client.submit(order('s', 'sell', 'limit', 1, { price: 99.95 })); // slipped 99.9 → capped at 99.95
    v.client.submit(order('b2', 'buy', 'limit', 1, { price: 101 })); // slipped 100.1 stays
    v.client.submit(order('s2', 'sell', 'limit', 1, { price: 99 })); // slipped 99.9 stays
    v.price(100);
    expect(v.log.slice(4)).toEqual(['fill b buy 1@100.05 taker', 'fill s sell 1@99.95 taker', `fill b2 buy 1@${100 * 1.001} taker`, `fill s2 sell 1@${100 * 0.999} taker`]);
  });

  it('resting limits fill as maker when a price touches them exactly, not before', () => {
    const v = venue();
    v.client.submit(order('b', 'buy', 'limit', 1, { price: 95 }));
    v.client.submit(order('s', 'sell', 'limit', 1, { price: 105 }));
    v.price(95.01);
    v.price(95);
    v.price(104.99);
    v.price(105);
    expect(v.log.slice(2)).toEqual(['fill b buy 1@95 maker', 'fill s sell 1@105 maker']);
  });

  it('IOC without volume at its first price is canceled; a GTC market order waits for volume', () => {
    const v = venue([testInstrument()], { cap: 0.01 });
    v.client.submit(order('ioc', 'buy', 'market', 1, { timeInForce: 'IOC' }));
    v.client.submit(order('gtc', 'buy', 'market', 1));
    v.price(100, { volume: 0 });
    expect(v.log.slice(2)).toEqual(['canceled ioc: IOC buy market: no volume available at its first price']);
    v.price(101, { volume: 100 });
    expect(v.log.slice(3)).toEqual(['fill gtc buy 1@101 taker']);
  });

  it('IOC and GTC limits not marketable at their first price: the IOC is canceled with the reason, the GTC rests', () => {
    const v = venue();
    v.client.submit(order('ioc', 'sell', 'limit', 1, { price: 101, timeInForce: 'IOC' }));
    v.client.submit(order('gtc', 'sell', 'limit', 1, { price: 101 }));
    v.price(100);
    expect(v.log.slice(2)).toEqual(['canceled ioc: IOC sell limit was not marketable at its first price 100']);
    expect(v.client.save().working.map((w) => w.order.clientOrderId)).toEqual(['gtc']);
  });

  it('orders of one price share the volume cap in arrival order; the rest keeps working', () => {
    // cap 1 % of 100 = 1.0 per price: a gets 0.6, b the remaining 0.4, then b's last 0.2 at the next price
    const v = venue([testInstrument()], { cap: 0.01 });
    v.client.submit(order('a', 'buy', 'market', 0.6));
    v.client.submit(order('b', 'buy', 'market', 0.6));
    v.price(100, { volume: 100 });
    v.price(102, { volume: 100 });
    expect(v.log.slice(2)).toEqual(['fill a buy 0.6@100 taker', 'fill b buy 0.4@100 taker', 'fill b buy 0.2@102 taker']);
  });

  it('an IOC fills what the cap allows and the remainder is canceled with the reason', () => {
    const v = venue([testInstrument()], { cap: 0.01 });
    v.client.submit(order('ioc', 'buy', 'market', 1.5, { timeInForce: 'IOC' }));
    v.price(100, { volume: 100 });
    expect(v.log.slice(1)).toEqual(['fill ioc buy 1@100 taker', 'canceled ioc: IOC remainder 0.5 canceled after its first price']);
  });

  it('a non-reduce-only order that closes the position keeps working; a reduce-only remainder is canceled', () => {
    // long 1; sell 2 with 1.0 per price: the first part flattens, the second opens a short
    const v = venue([testInstrument()], { cap: 0.01 });
    v.client.submit(order('long', 'buy', 'market', 1));
    v.price(100, { volume: 100 });
    v.client.submit(order('flip', 'sell', 'market', 2));
    v.price(100, { volume: 100 });
    v.price(100, { volume: 100 });
    expect(v.log.slice(3)).toEqual(['fill flip sell 1@100 taker', 'fill flip sell 1@100 taker']);
    expect(v.portfolio.quantity[0]).toBe(-1);
    // short 1; reduce-only buy 3: capped at the position (1), then the remainder is canceled
    v.client.submit(order('ro', 'buy', 'market', 3, { reduceOnly: true }));
    v.price(100, { volume: 1000 });
    expect(v.log.slice(6)).toEqual(['fill ro buy 1@100 taker', 'canceled ro: reduce-only remainder 2 canceled: the position is closed']);
  });

  it('a reduce-only order partly filled by the volume cap keeps working while the position is still open', () => {
    const v = venue([testInstrument()], { cap: 0.01 });
    v.client.submit(order('long', 'buy', 'market', 2));
    v.price(100, { volume: 1000 }); // cap 10: long 2
    v.client.submit(order('ro', 'sell', 'market', 2, { reduceOnly: true }));
    v.price(100, { volume: 100 }); // cap 1: 1 of 2, long 1 left
    v.price(101, { volume: 100 }); // the other 1 closes the position
    expect(v.log.slice(3)).toEqual(['fill ro sell 1@100 taker', 'fill ro sell 1@101 taker']);
    expect(v.portfolio.quantity[0]).toBe(0);
  });

  it('a remainder below one lot completes the order; a remainder of exactly one lot keeps working', () => {
    const v = venue([testInstrument()], { cap: 0.01 });
    v.client.submit(order('odd', 'buy', 'market', 1.0005)); // floors to 1.000; 0.0005 < lot: done
    v.client.submit(order('lot', 'buy', 'market', 1.001)); // cap 1.0 at the first price, the last lot at the next
    v.price(100, { volume: 100.05 });
    v.price(100, { volume: 100 });
    v.price(100, { volume: 100 });
    expect(v.log.slice(2)).toEqual(['fill odd buy 1@100 taker', 'fill lot buy 1@100 taker', 'fill lot buy 0.001@100 taker']);
    expect(v.client.isActive(0)).toBe(true); // the position
    expect(v.client.save().working).toEqual([]);
  });

  it('the bar path visits the nearer extreme first (high on a tie)', () => {
    const bars = (o: number, h: number, l: number, c: number) => barColumns([[o, h, l, c]]);
    for (const [bar, first] of [[bars(100, 102, 98, 100), 's'], [bars(100, 105, 99, 100), 'b'], [bars(100, 101, 95, 100), 's']] as const) {
      const v = venue();
      v.client.submit(order('b', 'buy', 'limit', 1, { price: bar.low[0]! }));
      v.client.submit(order('s', 'sell', 'limit', 1, { price: bar.high[0]! }));
      v.client.processCommands(T0);
      v.client.processBar(0, bar, 0, HOUR);
      expect(v.log.slice(2).map((l) => l.split(' ')[1])).toEqual(first === 's' ? ['s', 'b'] : ['b', 's']);
    }
  });
});

describe('simulated venue: bars checked', () => {
  it('skip-idle: a bar with only a position is counted on the shortcut path; a bar with nothing is not', () => {
    const v = venue([testInstrument()], { cash: 1050.5 });
    const bars = barColumns([[100, 101, 99, 100], [100, 100, 95, 96], [96, 97, 80, 85]]);
    v.client.processBar(0, bars, 0, HOUR); // no command, order or position: returns before counting
    expect(v.client.barsChecked).toBe(0);
    // long 100 at 100, cash 1045 after the fee: 1045 + 100 (x − 100) = 100 · x · 0.005 → x = 8955 / 99.5 = 90
    v.client.submit(order('a', 'buy', 'market', 100));
    v.price(100);
    v.client.processBar(0, bars, 1, HOUR); // position only, low 95 above 90: counted, path skipped
    v.client.processBar(0, bars, 2, HOUR); // position only, low 80 below 90: counted, path 96 → 97 → 80 → 85 runs
    expect(v.client.barsChecked).toBe(2);
    expect(v.client.pricesProcessed).toBe(1 + 4); // v.price, then bar 2's four prices
    expect(v.log.slice(2)).toEqual(['fill liquidation-1-0 sell 100@90 taker liquidation']);
  });

  it('every-bar: each bar with a command or a working order is counted and its whole path runs; a bar with nothing is not', () => {
    const v = venue([testInstrument()], { pathChecks: 'every-bar' });
    const bars = barColumns([[100, 101, 99, 100], [100, 101, 99, 100], [100, 101, 99, 100], [100, 101, 99, 100]]);
    v.client.processBar(0, bars, 0, HOUR); // nothing: not counted
    v.client.submit(order('b', 'buy', 'limit', 1, { price: 90 })); // rests below every range
    v.client.processBar(0, bars, 1, HOUR); // a command on its way: counted
    v.client.processBar(0, bars, 2, HOUR); // a resting order no price reaches: counted all the same
    v.client.cancel('b', 0);
    v.client.processCommands(v.clock.now());
    v.client.processBar(0, bars, 3, HOUR); // nothing left: not counted
    expect(v.client.barsChecked).toBe(2);
    expect(v.client.pricesProcessed).toBe(2 * 4); // skip-idle would skip bar 2's path
    expect(v.log).toEqual(['accepted b SIM-1', 'canceled b: canceled on request']);
  });
});

describe('simulated venue: venue rules at the fill', () => {
  it('reduce-only in the direction of the position is rejected (both sides)', () => {
    const v = venue();
    v.client.submit(order('long', 'buy', 'market', 1));
    v.price(100);
    v.client.submit(order('rb', 'buy', 'market', 1, { reduceOnly: true }));
    v.price(100);
    v.client.submit(order('short', 'sell', 'market', 2));
    v.price(100);
    v.client.submit(order('rs', 'sell', 'market', 1, { reduceOnly: true }));
    v.price(100);
    expect(v.log.filter((l) => l.startsWith('rejected'))).toEqual(['rejected rb: reduce-only buy with position 1 would not reduce it', 'rejected rs: reduce-only sell with position -1 would not reduce it']);
  });

  it('minimum quantity: an order of exactly the minimum fills, one below it is rejected after flooring', () => {
    const v = venue([testInstrument({ minQuantity: 0.1, minNotional: 0 })]);
    v.client.submit(order('min', 'buy', 'market', 0.1));
    v.client.submit(order('below', 'buy', 'market', 0.0999));
    v.price(100);
    expect(v.log.slice(2)).toEqual(['fill min buy 0.1@100 taker', 'rejected below: quantity 0.0999 is below the minimum 0.1 after flooring to lot size 0.001']);
  });

  it('a partly filled order whose remainder breaks a venue rule is canceled, not rejected', () => {
    // min quantity 0.1: the cap lets 0.1 fill, the remaining 0.05 is below the minimum
    const v = venue([testInstrument({ minQuantity: 0.1, minNotional: 0 })], { cap: 0.01 });
    v.client.submit(order('o', 'buy', 'market', 0.15));
    v.price(100, { volume: 10 });
    v.price(100, { volume: 10 });
    expect(v.log.slice(1)).toEqual(['fill o buy 0.1@100 taker', 'canceled o: quantity 0.15 is below the minimum 0.1 after flooring to lot size 0.001']);
  });

  it('minimum notional applies to the order: parts of a partly filled order and reduce-only orders may be smaller', () => {
    const v = venue([testInstrument()], { cap: 0.01 });
    v.client.submit(order('small', 'buy', 'market', 0.04)); // notional 4 < 5
    v.price(100, { volume: 1000 });
    // 0.07 in two parts: 0.04 (notional 4, a part) then 0.03 (notional 3, after a fill)
    v.client.submit(order('parts', 'buy', 'market', 0.07));
    v.price(100, { volume: 4 });
    v.price(100, { volume: 1000 });
    v.client.submit(order('ro', 'sell', 'market', 0.03, { reduceOnly: true })); // notional 3, reduce-only
    v.price(100, { volume: 1000 });
    expect(v.log.filter((l) => !l.startsWith('accepted'))).toEqual([
      'rejected small: notional 4.00 is below the minimum 5',
      'fill parts buy 0.04@100 taker',
      'fill parts buy 0.03@100 taker',
      'fill ro sell 0.03@100 taker',
    ]);
  });

  it('spot: no short on arrival or at the fill; selling exactly the holding is fine; leverage is 1', () => {
    const spot = testInstrument({ kind: 'spot', symbol: 'SPOTUSDT' });
    const v = venue([spot], { cash: 250 });
    v.client.submit(order('short', 'sell', 'market', 1));
    v.client.submit(order('ro', 'sell', 'market', 1, { reduceOnly: true })); // accepted: reduce-only is judged at the fill
    v.client.submit(order('big', 'buy', 'market', 3)); // 300 > 1 × equity 250 − fee 0.165
    v.client.submit(order('buy', 'buy', 'market', 2));
    v.price(100);
    v.client.submit(order('over', 'sell', 'market', 3)); // holding 2: accepted, refused at the fill
    v.client.submit(order('all', 'sell', 'market', 2));
    v.price(100);
    expect(v.log).toEqual([
      'rejected short: spot SPOTUSDT cannot be sold short',
      'accepted ro SIM-1',
      'accepted big SIM-2',
      'accepted buy SIM-3',
      'rejected ro: reduce-only sell with position 0 would not reduce it',
      'rejected big: insufficient margin: gross exposure 300.00 would exceed 1x equity 249.84',
      'fill buy buy 2@100 taker',
      'accepted over SIM-4',
      'accepted all SIM-5',
      'rejected over: spot SPOTUSDT cannot be sold short (position 2, sell 3)',
      'fill all sell 2@100 taker',
    ]);
  });

  it('margin: exposure exactly at leverage × equity passes; a reduction is never margin-checked', () => {
    const zero = new InstrumentFeeModel({ maker: 0, taker: 0 });
    const v = venue([testInstrument()], { cash: 1000, fees: zero });
    v.client.submit(order('max', 'buy', 'market', 100)); // 100 × 100 = 10 × 1000
    v.price(100);
    v.client.submit(order('more', 'buy', 'market', 0.1));
    v.price(100);
    // at 95 equity is 500 (limit 5000) while the position is 9500: selling 10 still leaves 8550 > 5000, and is allowed
    v.client.submit(order('cut', 'sell', 'market', 10));
    v.price(95);
    expect(v.log.filter((l) => !l.startsWith('accepted'))).toEqual([
      'fill max buy 100@100 taker',
      'rejected more: insufficient margin: gross exposure 10010.00 would exceed 10x equity 1000.00',
      'fill cut sell 10@95 taker',
    ]);
  });

  it('margin of an added position: the position already held counts at the fill price, not twice', () => {
    // long 50 at 100 (cash 1000, no fees); at 110 equity is 1500 (limit 15 000): 50 more makes 100 × 110 = 11 000
    const v = venue([testInstrument()], { cash: 1000, fees: new InstrumentFeeModel({ maker: 0, taker: 0 }) });
    v.client.submit(order('a', 'buy', 'market', 50));
    v.price(100);
    v.client.submit(order('b', 'buy', 'market', 50));
    v.price(110);
    expect(v.log.filter((l) => l.startsWith('fill'))).toEqual(['fill a buy 50@100 taker', 'fill b buy 50@110 taker']);
  });
});

/**
 * A (m 0.005) and B (m 0.02) long 50 each at 100, cash 1065 after fees; C flat. B's liquidation price with A at 90:
 * 1065 − 500 + 50(x − 100) = 22.5 + x → x = 4457.5 / 49 ≈ 90.97; with A at 100 it would be 3960 / 49 ≈ 80.82.
 */
function twoLongs() {
  const A = testInstrument({ symbol: 'AAAUSDT' }), B = testInstrument({ symbol: 'BBBUSDT', maintenanceMarginRate: 0.02 }), C = testInstrument({ symbol: 'CCCUSDT' });
  const v = venue([A, B, C], { cash: 1070.5 });
  v.client.submit(order('a', 'buy', 'market', 50));
  v.client.submit(order('b', 'buy', 'market', 50, { instrument: 1 }));
  v.price(100);
  v.price(100, { i: 1 });
  return v;
}

describe('simulated venue: liquidation', () => {
  it('closes only the instruments with a position; a move of another mark (new liquidity period) refreshes the bound', () => {
    const v = twoLongs();
    v.client.submit(order('tp', 'sell', 'limit', 50, { price: 120, instrument: 1, reduceOnly: true }));
    v.price(95, { i: 1 }); // B's bound is computed here, with A at 100
    v.portfolio.mark[0] = 90; // A's mark moves (as a runner marks it after A's tick)
    v.price(90.5, { i: 1 });
    expect(v.client.liquidations).toBe(1);
    expect(v.log.slice(4)).toEqual([
      'accepted tp SIM-3',
      'fill liquidation-1-0 sell 50@90 taker liquidation',
      `fill liquidation-1-1 sell 50@${4457.5 / 49} taker liquidation`,
      'canceled tp: canceled by liquidation',
    ]);
  });

  it('a price processed without a new liquidity period (the paper runner at shutdown) after another mark moved uses the new mark', () => {
    // The last price goes straight to processPrice, at a later time, with no beginLiquidity (as the live runner's
    // paper venue does at shutdown): B's bound cached with A at 100 (≈ 80.82) is stale once A is marked at 90 (≈ 90.97).
    const v = twoLongs();
    v.price(95, { i: 1 }); // B's bound is computed here, with A at 100
    v.portfolio.mark[0] = 90;
    v.clock.advanceTo(v.clock.now() + 1000);
    v.client.processPrice(1, 90.5, 95, Infinity, v.clock.now());
    expect(v.client.liquidations).toBe(1);
    expect(v.log.slice(4)).toEqual(['fill liquidation-1-0 sell 50@90 taker liquidation', `fill liquidation-1-1 sell 50@${4457.5 / 49} taker liquidation`]);
  });

  it('liquidation fills ask the fee model for the taker fee', () => {
    const asked: Liquidity[] = [];
    const standard = new InstrumentFeeModel();
    const fees: FeeModel = { fee: (instrument, notional, liquidity) => (asked.push(liquidity), standard.fee(instrument, notional, liquidity)) };
    const v = venue([testInstrument()], { cash: 1050.5, fees });
    v.client.submit(order('a', 'buy', 'limit', 100, { price: 99.5 })); // rests below mark 100
    v.price(99.5); // maker: long 100 at 99.5, cash 1050.5 − 1.99
    v.price(85, { previous: NaN }); // equity 1048.51 − 1450 < 0: liquidated at 85
    expect(v.log.slice(1)).toEqual(['fill a buy 100@99.5 maker', 'fill liquidation-1-0 sell 100@85 taker liquidation']);
    expect(asked).toEqual(['maker', 'taker']);
  });

  it('without a previous price the liquidation happens at the price itself', () => {
    const v = venue([testInstrument()], { cash: 1050.5 });
    v.client.submit(order('a', 'buy', 'market', 100));
    v.price(100);
    v.price(85, { previous: NaN }); // x = 90 would need a path through it
    expect(v.log.slice(2)).toEqual(['fill liquidation-1-0 sell 100@85 taker liquidation']);
  });
});

describe('simulated venue: an instrument before its first mark', () => {
  // Orders sent before an instrument's first bar fill on that bar's path, before its close marks the instrument: the
  // position is valued at its entry price (a NaN mark made equity NaN, which liquidated at once and passed every
  // margin check).
  /** Instrument 1's prices at one time, like a bar's path: no mark moves between them. */
  const path = (v: ReturnType<typeof venue>, prices: readonly number[]) => {
    v.clock.advanceTo(v.clock.now() + 1000);
    v.client.beginLiquidity(1, 1e9);
    for (let k = 0; k < prices.length; k++) v.client.processPrice(1, prices[k]!, k === 0 ? NaN : prices[k - 1]!, 1e9, v.clock.now());
  };

  it('a fill on the first path does not liquidate; a real liquidation on it happens at the liquidation price', () => {
    const v = venue([testInstrument(), testInstrument({ symbol: 'BBBUSDT' })], { cash: 1050.5 });
    v.portfolio.mark[1] = NaN;
    v.client.submit(order('a', 'buy', 'market', 100, { instrument: 1 }));
    // cash 1045 after the fee, maintenance 0.5 %: at 95 equity 545 > 47.5; equity 1045 + 100 (x − 100) = 0.5 x → x = 90
    path(v, [100, 95, 85]);
    expect(v.client.liquidations).toBe(1);
    expect(v.log).toEqual(['accepted a SIM-1', 'fill a buy 100@100 taker', 'fill liquidation-1-1 sell 100@90 taker liquidation']);
  });

  it('the margin check refuses an order too large for the account on the first path, and counts a held position once', () => {
    const zero = new InstrumentFeeModel({ maker: 0, taker: 0 });
    const v = venue([testInstrument(), testInstrument({ symbol: 'BBBUSDT' })], { cash: 1000, fees: zero });
    v.portfolio.mark[1] = NaN;
    v.client.submit(order('big', 'buy', 'market', 200, { instrument: 1 })); // 20 000 > 10 × 1000
    v.client.submit(order('half', 'buy', 'market', 50, { instrument: 1 }));
    v.client.submit(order('rest', 'buy', 'market', 50, { instrument: 1 })); // 100 × 100 = 10 × 1000: passes
    v.client.submit(order('more', 'buy', 'market', 1, { instrument: 1 }));
    path(v, [100]);
    expect(v.log.filter((l) => !l.startsWith('accepted'))).toEqual([
      'rejected big: insufficient margin: gross exposure 20000.00 would exceed 10x equity 1000.00',
      'fill half buy 50@100 taker',
      'fill rest buy 50@100 taker',
      'rejected more: insufficient margin: gross exposure 10100.00 would exceed 10x equity 1000.00',
    ]);
  });
});

describe('simulated venue: save and restore', () => {
  it('a restored venue holds the same working orders, ids and counters, and goes on exactly as the saved one', () => {
    const make = () => venue([testInstrument()], { cap: 0.01, cash: 1050.5 });
    const v = make();
    v.client.submit(order('part', 'buy', 'market', 2)); // 1 of 2 at the first price
    v.client.submit(order('rest', 'buy', 'limit', 1, { price: 95 }));
    v.price(100, { volume: 100 });
    v.client.submit(order('taker', 'sell', 'limit', 0.5, { price: 99 })); // marketable on arrival
    v.client.submit(order('ioc', 'buy', 'limit', 0.5, { price: 90, timeInForce: 'IOC' }));
    v.client.processCommands(v.clock.now());
    const saved = v.client.save();
    expect(saved.working.map((w) => [w.order.clientOrderId, w.leaves, w.filled, w.takerOnArrival, w.firstChance])).toEqual([
      ['part', 1, 1, false, false],
      ['rest', 1, 0, false, false],
      ['taker', 0.5, 0, true, false],
      ['ioc', 0.5, 0, false, true],
    ]);
    expect(saved.seenIds).toEqual(['part', 'rest', 'taker', 'ioc']);
    expect(saved.venueOrders).toBe(4);

    const w = make();
    w.portfolio.restore(v.portfolio.save());
    w.clock.advanceTo(v.clock.now());
    w.client.restore(structuredClone(saved));
    expect(w.client.save()).toEqual(saved);
    for (const x of [v, w]) {
      x.log.length = 0;
      x.client.submit(order('part', 'buy', 'market', 1)); // a duplicate id: rejected
      x.client.submit(order('new', 'buy', 'limit', 1, { price: 80 }));
      x.price(98, { volume: 100 });
      x.price(94, { volume: 1000 });
      x.price(70, { volume: 1000 });
    }
    expect(w.log).toEqual(v.log);
    expect(v.log).toEqual([
      'rejected part: duplicate client order id part (the venue already holds an order with it)',
      'accepted new SIM-5',
      'fill part buy 1@98 taker',
      'canceled ioc: IOC buy limit was not marketable at its first price 98',
      'fill rest buy 1@95 maker',
      'fill new buy 1@80 maker',
    ]);
    expect(w.client.save().working.map((x) => x.order.clientOrderId)).toEqual(['taker']);
  });

  it('with execution ids, a fill carries <client order id>:<quantity filled before it>, and a venue restored from a save simulates the next fill under the same id', () => {
    // The paper runner's crash recovery: a life that journaled a fill and crashed before saving its state is followed by
    // one that restores the older state and simulates the same fill again; tm replay counts one id once.
    const make = () => venue([testInstrument()], { cap: 0.01, cash: 100_000, executionIds: true });
    const v = make();
    v.client.submit(order('part', 'buy', 'market', 2.5)); // 1 per price (cap 1 % of volume 100)
    v.price(100, { volume: 100 });
    const saved = structuredClone(v.client.save()), account = v.portfolio.save(), at = v.clock.now();
    v.price(101, { volume: 100 });
    v.price(102, { volume: 100 });
    const w = make();
    w.portfolio.restore(account);
    w.clock.advanceTo(at);
    w.client.restore(saved);
    w.price(101, { volume: 100 });
    expect(v.log.filter((l) => l.startsWith('fill'))).toEqual(['fill part buy 1@100 taker exec part:0', 'fill part buy 1@101 taker exec part:1', 'fill part buy 0.5@102 taker exec part:2']);
    expect(w.log.filter((l) => l.startsWith('fill'))).toEqual(['fill part buy 1@101 taker exec part:1']);
    // Off (the default, backtests): no id.
    const x = venue();
    x.client.submit(order('m', 'buy', 'market', 1));
    x.price(100);
    expect(x.log).toEqual(['accepted m SIM-1', 'fill m buy 1@100 taker']);
  });

  it('restores the order and liquidation counters: numbering goes on from them', () => {
    const v = venue([testInstrument()], { cash: 1050.5 });
    v.client.restore({ working: [], seenIds: [], venueOrders: 7, liquidations: 3 });
    v.client.submit(order('a', 'buy', 'market', 100));
    v.price(100);
    v.price(85, { previous: NaN });
    expect(v.log).toEqual(['accepted a SIM-8', 'fill a buy 100@100 taker', 'fill liquidation-4-0 sell 100@85 taker liquidation']);
    expect(v.client.save().liquidations).toBe(4);
  });
});
