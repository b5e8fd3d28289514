import { describe, expect, it } from 'vitest';
import { DEFAULT_PURGE_GAP, forwardLogReturn, purgeMask, realizedVolatility } from './index.js';

describe('forwardLogReturn', () => {
  it('is ln(close[t+h]/close[t]) with NaN for the last h bars', () => {
    const close = Float64Array.of(100, 110, 121, 133.1, 100);
    const y = forwardLogReturn(close, 2);
    expect(y[0]).toBe(Math.log(121 / 100));
    expect(y[2]).toBe(Math.log(100 / 121));
    expect([y[3], y[4]].every(Number.isNaN)).toBe(true);
  });

  it('divides by a causal volatility estimate at t when scaleBy is given', () => {
    const close = Float64Array.from({ length: 60 }, (_, t) => 100 * Math.exp(0.01 * Math.sin(t)));
    const vol = realizedVolatility(close, 20);
    const y = forwardLogReturn(close, 3, { scaleBy: vol });
    expect(y[30]).toBe(Math.log(close[33]! / close[30]!) / vol[30]!);
    expect(Number.isNaN(y[5]!)).toBe(true); // vol still warming up
    expect(() => forwardLogReturn(close, 3, { scaleBy: new Float64Array(3) })).toThrow('`scaleBy` must have 60 values');
  });
});

describe('purgeMask', () => {
  const all = Array.from({ length: 3000 }, (_, i) => i);
  const dropped = (mask: Uint8Array, idx: readonly number[]) => idx.filter((_, i) => mask[i] === 0);
  const span = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

  it('drops the fold, a purge of max(labelHorizon, purgeGap = 200) bars before it and an embargo after it', () => {
    const mask = purgeMask(6, all, { start: 1000, end: 1500 }, 30);
    expect(dropped(mask, all)).toEqual(span(1000 - DEFAULT_PURGE_GAP, 1500 + 30));
  });

  it('with purgeGap 0 purges exactly the samples whose label window [t, t+h] reaches the fold', () => {
    const h = 12;
    const mask = purgeMask(h, all, { start: 1000, end: 1500 }, 0, { purgeGap: 0 });
    // t + h >= 1000 before the fold; after it, labels overlapping the fold's last label window [1499, 1499 + h].
    expect(dropped(mask, all)).toEqual(span(1000 - h, 1500 + h));
  });

  it('embargo defaults to ceil(1% of the samples); never shorter than the label horizon', () => {
    expect(dropped(purgeMask(6, all, { start: 1000, end: 1500 }), all)).toEqual(span(800, 1530));
    expect(dropped(purgeMask(6, all, { start: 1000, end: 1500 }, undefined, { sampleCount: 10_000 }), all)).toEqual(span(800, 1600));
    expect(dropped(purgeMask(300, all, { start: 1000, end: 1500 }, 10), all)).toEqual(span(700, 1800));
  });

  it('works on sparse train indices and rejects bad arguments by name', () => {
    expect(Array.from(purgeMask(6, [0, 100, 800, 1000, 1100, 1120], { start: 1000, end: 1100 }, 20))).toEqual([1, 1, 0, 0, 0, 1]);
    expect(() => purgeMask(0, all, { start: 0, end: 1 })).toThrow('`labelHorizon` must be an integer >= 1, was 0');
    expect(() => purgeMask(1, all, { start: 5, end: 5 })).toThrow('`testRange` must be integers with 0 <= start < end');
    expect(() => purgeMask(1, all, { start: 0, end: 5 }, -1)).toThrow('`embargo` must be an integer >= 0 (bars), was -1');
    expect(() => purgeMask(1, all, { start: 0, end: 5 }, 0, { purgeGap: 1.5 })).toThrow('`purgeGap` must be an integer >= 0, was 1.5');
  });
});
