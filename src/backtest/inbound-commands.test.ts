import { describe, expect, it } from 'vitest';
import type { OrderCommand } from '../core/order.js';
import { InboundCommands } from './inbound-commands.js';

const order = (clientOrderId: string, instrument = 0): OrderCommand => ({
  clientOrderId, instrument, side: 'buy', type: 'market', timeInForce: 'GTC', quantity: 1, price: NaN, postOnly: false, reduceOnly: false, tag: undefined,
});

/** Takes every command due by `now`, in processing order, as [id, kind, instrument, arrival]. */
function drain(q: InboundCommands, now: number): [string, string, number, number][] {
  const out: [string, string, number, number][] = [];
  for (let k = q.next(now); k >= 0; k = q.next(now)) {
    out.push([q.idAt(k), q.orderAt(k) === undefined ? 'cancel' : 'submit', q.instrumentAt(k), q.arrivalAt(k)]);
    q.removeAt(k);
  }
  return out;
}

describe('InboundCommands', () => {
  it('hands out commands due by now, earliest arrival first and the first sent among equal arrivals; later ones wait', () => {
    const q = new InboundCommands();
    q.push(order('a'), 'a', 0, 30);
    q.push(undefined, 'x', 2, 10);
    q.push(order('b', 1), 'b', 1, 10);
    q.push(order('c'), 'c', 0, 50);
    q.push(order('d'), 'd', 0, 20);
    expect(q.next(5)).toBe(-1);
    expect(drain(q, 30)).toEqual([
      ['x', 'cancel', 2, 10],
      ['b', 'submit', 1, 10],
      ['d', 'submit', 0, 20],
      ['a', 'submit', 0, 30],
    ]);
    expect(q.length).toBe(1);
    expect(drain(q, 49)).toEqual([]);
    expect(drain(q, 50)).toEqual([['c', 'submit', 0, 50]]);
    expect(q.length).toBe(0);
  });

  it('keeps each command whole past its growths and removals from the middle (no field of one moves to another)', () => {
    const q = new InboundCommands();
    for (let k = 0; k < 40; k++) q.push(k % 3 === 0 ? undefined : order(`o${k}`, k % 5), `o${k}`, k % 5, 1000 - k);
    // Remove every fourth from the middle, then drain: the rest come out latest-sent first (earliest arrival).
    for (let k = 36; k >= 0; k -= 4) q.removeAt(k);
    const left = drain(q, 1000);
    const expected = Array.from({ length: 40 }, (_, k) => k).filter((k) => k % 4 !== 0).reverse()
      .map((k) => [`o${k}`, k % 3 === 0 ? 'cancel' : 'submit', k % 5, 1000 - k]);
    expect(left).toEqual(expected);
    expect(q.length).toBe(0);
  });

  it('returns the very order object that was pushed', () => {
    const q = new InboundCommands();
    const o = order('same');
    q.push(o, 'same', 0, 1);
    expect(q.orderAt(q.next(1))).toBe(o);
  });
});
