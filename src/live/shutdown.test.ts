import { describe, expect, it } from 'vitest';
import { at, testInstrument } from '../../test/support/engine-scenarios.js';
import type { OrderCommand, OrderRequest } from '../core/order.js';
import { TestClock } from '../engine/clock.js';
import type { ExecutionClient } from '../engine/execution-client.js';
import { Kernel } from '../engine/kernel.js';
import { applyShutdown, isShutdownAction, mergeStopActions, shutdownAction, stopActionNames, stopLeftOver } from './shutdown.js';

const T0 = at('2024-01-01T00:00:00Z');

/** A kernel over two instruments (lots 0.001 and 0.01) whose venue takes every command and reports nothing. */
function setup() {
  const kernel = new Kernel({ instruments: [testInstrument(), testInstrument({ symbol: 'OTHERUSDT', lotSize: 0.01 })], initialCash: 10_000, leverage: 10 }, { clock: new TestClock(T0), strategy: { name: 'test' } });
  const sent: OrderCommand[] = [];
  const cancels: string[] = [];
  const venue: ExecutionClient = { connect: () => undefined, submit: (o) => void sent.push(o), cancel: (id) => void cancels.push(id) };
  kernel.attachExecution(venue);
  return { kernel, sent, cancels };
}
const order = (instrument: number, side: 'buy' | 'sell', quantity: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({ instrument, side, type: 'market', quantity, ...extra });
/** Fills order `id` whole at 100. */
const fill = (kernel: Kernel, id: string, instrument: number, side: 'buy' | 'sell', quantity: number) =>
  kernel.onOrderFilled({ instrument, clientOrderId: id, side, quantity, price: 100, fee: 0, liquidity: 'taker', tsEvent: T0, tsInit: T0 });

describe('stopLeftOver: what an applied stop left undone', () => {
  it('a flatten whose orders the venue has not filled: the positions and the working orders, by name', () => {
    const { kernel } = setup();
    fill(kernel, kernel.submitOrder(order(0, 'buy', 0.5)), 0, 'buy', 0.5);
    fill(kernel, kernel.submitOrder(order(1, 'sell', 2)), 1, 'sell', 2);
    applyShutdown(kernel, 'halt', 'kill switch');
    const [a, b] = [0, 1].map((i) => kernel.openOrders(i)[0]!.clientOrderId);
    expect(stopLeftOver(kernel, { cancel: true, flatten: true, halt: true })).toBe(`not flat: TESTUSDT-LINEAR.TEST 0.5, OTHERUSDT-LINEAR.TEST -2; 2 orders still working (${a}, ${b})`);
    // One flatten order filled: that instrument is done.
    fill(kernel, a!, 0, 'sell', 0.5);
    expect(stopLeftOver(kernel, { cancel: true, flatten: true })).toBe(`not flat: OTHERUSDT-LINEAR.TEST -2; 1 order still working (${b})`);
    fill(kernel, b!, 1, 'buy', 2);
    expect(stopLeftOver(kernel, { cancel: true, flatten: true })).toBeUndefined();
  });

  it('a position within half a lot of zero is flat; a cancel-only stop leaves positions alone but names what still works', () => {
    const { kernel } = setup();
    fill(kernel, kernel.submitOrder(order(1, 'buy', 0.3)), 1, 'buy', 0.3);
    fill(kernel, kernel.submitOrder(order(1, 'sell', 0.296)), 1, 'sell', 0.296); // 0.004 left: under half of lot 0.01
    expect(stopLeftOver(kernel, { flatten: true })).toBeUndefined();
    fill(kernel, kernel.submitOrder(order(0, 'buy', 1)), 0, 'buy', 1);
    const resting = kernel.submitOrder(order(0, 'sell', 1, { type: 'limit', price: 200 }));
    expect(stopLeftOver(kernel, { cancel: true })).toBe(`1 order still working (${resting})`);
    applyShutdown(kernel, 'cancel', 'stop'); // asked: PENDING_CANCEL until the venue confirms, still working
    expect(stopLeftOver(kernel, { cancel: true })).toBe(`1 order still working (${resting})`);
    kernel.onOrderCanceled({ kind: 'canceled', clientOrderId: resting, reason: 'stop', tsEvent: T0 });
    expect(stopLeftOver(kernel, { cancel: true })).toBeUndefined();
    expect(stopLeftOver(kernel, { flatten: true })).toBe('not flat: TESTUSDT-LINEAR.TEST 1');
    fill(kernel, kernel.submitOrder(order(0, 'sell', 0.9)), 0, 'sell', 0.9); // 1 − 0.9 = 0.09999999999999998
    expect(stopLeftOver(kernel, { flatten: true })).toBe('not flat: TESTUSDT-LINEAR.TEST 0.1');
    expect(stopLeftOver(kernel, {})).toBeUndefined();
  });
});

describe('stop actions', () => {
  it('merge keeps every action either stop asked for; names and the strongest action follow', () => {
    for (const k of ['cancel', 'flatten', 'halt'] as const) {
      expect(mergeStopActions({ [k]: true }, {})).toEqual({ cancel: k === 'cancel', flatten: k === 'flatten', halt: k === 'halt' });
      expect(mergeStopActions({}, { [k]: true })).toEqual({ cancel: k === 'cancel', flatten: k === 'flatten', halt: k === 'halt' });
    }
    expect(mergeStopActions({ cancel: true, halt: false }, { flatten: true })).toEqual({ cancel: true, flatten: true, halt: false });
    expect(stopActionNames({ cancel: true, flatten: false, halt: true })).toBe('cancel, halt');
    expect(stopActionNames({ flatten: true })).toBe('flatten');
    expect(stopActionNames({ cancel: false })).toBe('no action');
    expect(shutdownAction({ cancel: true, flatten: true, halt: true })).toBe('halt');
    expect(shutdownAction({ cancel: true, flatten: true })).toBe('flatten');
    expect(shutdownAction({ cancel: true })).toBe('cancel');
    expect(shutdownAction({ cancel: false, flatten: false, halt: false })).toBeUndefined();
    expect(['cancel', 'flatten', 'halt', 'stop', ''].map(isShutdownAction)).toEqual([true, true, true, false, false]);
  });

  it('applyShutdown: cancel asks each working order of every instrument once; flatten also closes; halt also HALTS', () => {
    const { kernel, sent, cancels } = setup();
    fill(kernel, kernel.submitOrder(order(1, 'sell', 2)), 1, 'sell', 2);
    const a = kernel.submitOrder(order(0, 'buy', 1, { type: 'limit', price: 50 }));
    const b = kernel.submitOrder(order(1, 'buy', 1, { type: 'limit', price: 50 }));
    kernel.cancelOrder(b); // already asked: not asked again
    cancels.length = 0;
    const before = sent.length;
    applyShutdown(kernel, 'cancel', 'stop');
    expect(cancels).toEqual([a]);
    expect(sent.length).toBe(before);
    expect(kernel.tradingState).toBe('ACTIVE');

    const other = setup();
    fill(other.kernel, other.kernel.submitOrder(order(1, 'sell', 2)), 1, 'sell', 2);
    applyShutdown(other.kernel, 'flatten', 'stop --flatten');
    expect(other.sent.at(-1)).toMatchObject({ instrument: 1, side: 'buy', type: 'market', quantity: 2, reduceOnly: true });
    expect(other.kernel.tradingState).toBe('ACTIVE');
    applyShutdown(other.kernel, 'halt', 'kill switch');
    expect(other.kernel.tradingState).toBe('HALTED');
  });

  it('stopLeftOver: a position of exactly half a lot is flat, one of 1.5 lots is not', () => {
    const { kernel } = setup();
    fill(kernel, kernel.submitOrder(order(1, 'buy', 0.01)), 1, 'buy', 0.005);
    expect(stopLeftOver(kernel, { flatten: true })).toBe(`1 order still working (${kernel.openOrders(1)[0]!.clientOrderId})`);
    kernel.onOrderCanceled({ kind: 'canceled', clientOrderId: kernel.openOrders(1)[0]!.clientOrderId, reason: 'rest', tsEvent: T0 });
    expect(stopLeftOver(kernel, { flatten: true })).toBeUndefined();
    fill(kernel, kernel.submitOrder(order(1, 'buy', 0.01)), 1, 'buy', 0.01);
    expect(stopLeftOver(kernel, { halt: true })).toBe('not flat: OTHERUSDT-LINEAR.TEST 0.015');
  });
});
