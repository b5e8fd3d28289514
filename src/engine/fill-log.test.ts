import { describe, expect, it } from 'vitest';
import type { Fill } from '../core/order.js';
import { FillLog } from './fill-log.js';

/** A fill with every optional field decided by `k` (so a log of many covers each combination). */
function fillNo(k: number): Fill {
  const f: { -readonly [K in keyof Fill]: Fill[K] } = {
    instrument: k % 3,
    clientOrderId: `id-${k}`,
    side: k % 2 === 0 ? 'buy' : 'sell',
    quantity: 0.001 * (k + 1),
    price: 100 + k / 7, // not representable exactly in binary: the log must keep every bit
    fee: k === 4 ? 0 : -0.01 * k, // makers earn rebates: negative fees
    liquidity: k % 4 === 0 ? 'maker' : 'taker',
    tsEvent: 1_700_000_000_000 + k * 60_000,
    tsInit: 1_700_000_000_000 + k * 60_000 + 5,
  };
  if (k % 5 === 1) f.venueOrderId = `V${k}`;
  if (k % 7 === 2) f.reason = 'liquidation';
  if (k % 3 === 0) f.tag = `tag-${k}`;
  if (k % 11 === 3) f.executionId = `E${k}`;
  return f;
}

describe('FillLog', () => {
  it('gives back every fill as it was pushed, field for field, past several growths', () => {
    const log = new FillLog();
    const pushed = Array.from({ length: 70 }, (_, k) => fillNo(k));
    for (const f of pushed) log.push(f);
    expect(log.length).toBe(70);
    const all = log.all();
    expect(all.length).toBe(70);
    for (let k = 0; k < 70; k++) {
      expect(all[k]).toStrictEqual(pushed[k]); // same keys (absent optional ones stay absent) and the same values
      expect(Object.is(all[k]!.fee, pushed[k]!.fee)).toBe(true);
    }
  });

  it('per-field readers agree with the objects', () => {
    const log = new FillLog();
    for (let k = 0; k < 20; k++) log.push(fillNo(k));
    for (let k = 0; k < 20; k++) {
      const f = fillNo(k);
      expect([log.instrumentOf(k), log.clientOrderIdOf(k), log.sideOf(k), log.liquidityOf(k), log.isLiquidation(k), log.quantityOf(k), log.priceOf(k), log.feeOf(k), log.tsEventOf(k)]).toEqual([
        f.instrument, f.clientOrderId, f.side, f.liquidity, f.reason === 'liquidation', f.quantity, f.price, f.fee, f.tsEvent,
      ]);
    }
  });

  it('builds each object once: later reads return the same objects and add only the new fills', () => {
    const log = new FillLog();
    log.push(fillNo(0));
    log.push(fillNo(1));
    const first = log.all();
    const a = first[0], b = first[1];
    log.push(fillNo(2));
    const second = log.all();
    expect(second.length).toBe(3);
    expect(second[0]).toBe(a);
    expect(second[1]).toBe(b);
    expect(second[2]).toStrictEqual(fillNo(2));
  });

  it('keeps no reference to the pushed object: changing it afterwards changes nothing', () => {
    const log = new FillLog();
    const f = { ...fillNo(3) };
    log.push(f);
    (f as { price: number }).price = -1;
    expect(log.all()[0]!.price).toBe(fillNo(3).price);
  });
});
