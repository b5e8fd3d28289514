import { describe, expect, it } from 'vitest';
import { InvariantError } from '../core/app-error.js';
import { DAY_MS, HOUR_MS } from '../core/time.js';
import { BarStream, ringSize } from './bar-stream.js';
import { DvolChangeKernel, DvolLevelKernel } from './dvol.js';
import { thrownAs } from '../../test/support/thrown.js';

const H4 = 4 * HOUR_MS;
const T0 = Date.UTC(2024, 0, 1);

/** Bar `k` of a 4h stream from T0: open time T0 + 4h·k, close 100 + k (reference 200 + 2k). */
function advance(s: BarStream, k: number, close = 100 + k): void {
  s.advance(T0 + k * H4, close, close + 1, close - 1, close, 10 + k, 200 + 2 * k);
}

/** The InvariantError `f` throws. */
const invariant = (f: () => unknown): InvariantError => thrownAs(f, InvariantError);

describe('ringSize', () => {
  it('is the smallest power of two >= n, at least 2', () => {
    expect([0, 1, 2, 3, 4, 5, 8, 9, 1000].map(ringSize)).toEqual([2, 2, 2, 4, 4, 8, 8, 16, 1024]);
  });
});

describe('BarStream', () => {
  it('keeps the newest bars in rings sized for the history, with log returns NaN at the first bar', () => {
    const s = new BarStream(H4, { bars: 2 }); // reads back 2 bars: a ring of 4
    expect(s.mask).toBe(3);
    expect(s.t).toBe(-1);
    for (let k = 0; k < 6; k++) advance(s, k);
    expect(s.t).toBe(5);
    expect(s.tsOpen).toBe(T0 + 5 * H4);
    expect(s.tsClose).toBe(T0 + 6 * H4);
    const at = (a: Float64Array, back: number) => a[(s.t - back) & s.mask];
    expect([at(s.close, 0), at(s.close, 1), at(s.close, 2), at(s.close, 3)]).toEqual([105, 104, 103, 102]);
    expect([at(s.open, 0), at(s.high, 0), at(s.low, 0), at(s.volume, 0), at(s.referenceClose, 0)]).toEqual([105, 106, 104, 15, 210]);
    expect(at(s.logReturn, 0)).toBe(Math.log(105 / 104));
    expect(at(s.referenceLogReturn, 0)).toBe(Math.log(210 / 208));
    // after a reset the first bar has no return, whatever the rings still hold
    s.reset();
    expect([s.t, s.tsOpen, s.tsClose]).toEqual([-1, NaN, NaN]);
    advance(s, 0, 50);
    expect(s.t).toBe(0);
    expect(s.logReturn[0]).toBeNaN();
    expect(s.referenceLogReturn[0]).toBeNaN();
    const fresh = new BarStream(H4, { bars: 1 });
    advance(fresh, 0);
    expect(fresh.logReturn[0]).toBeNaN();
    expect(fresh.referenceLogReturn[0]).toBeNaN();
  });

  it('refuses a bar that does not open after the previous one, from the second bar on', () => {
    const s = new BarStream(H4, { bars: 1 });
    advance(s, 3); // any time for the first bar
    for (const k of [3, 2]) {
      const e = invariant(() => advance(s, k));
      expect(e.message).toBe(`bar open times must be strictly increasing, was ${T0 + 3 * H4} then ${T0 + k * H4}`);
      expect(e.context).toEqual({ previous: T0 + 3 * H4, tsOpen: T0 + k * H4 });
    }
    expect(s.t).toBe(0); // nothing taken
    advance(s, 4);
    expect(s.t).toBe(1);
    s.reset();
    advance(s, 0); // a reset stream starts again anywhere
    expect(s.t).toBe(0);
  });

  it('makes funding settlements usable at the first bar closing at or after them, newest last in a ring', () => {
    const s = new BarStream(H4, { bars: 1, funding: 2 });
    expect(s.fundingMask).toBe(1);
    // settlements at the closes of bars 0 and 1, and one inside bar 3
    s.pushFunding(T0 + H4, 0.001);
    s.pushFunding(T0 + 2 * H4, 0.002);
    s.pushFunding(T0 + 3 * H4 + 1, 0.003);
    expect([s.fundingCount, s.lastFundingTs]).toEqual([0, NaN]);
    advance(s, 0);
    expect([s.fundingCount, s.lastFundingTs, s.fundingRate[0]]).toEqual([1, T0 + H4, 0.001]);
    advance(s, 1);
    advance(s, 2);
    expect([s.fundingCount, s.lastFundingTs]).toEqual([2, T0 + 2 * H4]);
    advance(s, 3);
    expect([s.fundingCount, s.lastFundingTs]).toEqual([3, T0 + 3 * H4 + 1]);
    expect([s.fundingRate[(s.fundingCount - 1) & s.fundingMask], s.fundingRate[(s.fundingCount - 2) & s.fundingMask]]).toEqual([0.003, 0.002]);
  });

  it('refuses settlements and DVOL days out of order, and DVOL days off midnight, naming the times', () => {
    const s = new BarStream(H4, { bars: 1 });
    s.pushFunding(T0 + H4, 0.001);
    for (const ts of [T0 + H4, T0]) {
      const e = invariant(() => s.pushFunding(ts, 0.002));
      expect(e.message).toBe(`funding settlement times must be strictly increasing, was ${T0 + H4} then ${ts}`);
      expect(e.context).toEqual({ previous: T0 + H4, ts });
    }
    s.pushDvol(T0, 50);
    const late = invariant(() => s.pushDvol(T0, 51));
    expect(late.message).toBe(`DVOL day times must be strictly increasing, was ${T0} then ${T0}`);
    const off = invariant(() => s.pushDvol(T0 + DAY_MS + 1, 51));
    expect(off.message).toBe(`DVOL \`dayTs\` must be a day at 00:00 UTC, was ${T0 + DAY_MS + 1}`);
    expect(off.context).toEqual({ dayTs: T0 + DAY_MS + 1 });
    // a reset forgets the queues and their last times: earlier times are taken again
    s.reset();
    s.pushFunding(T0, 0.004);
    s.pushDvol(T0 - DAY_MS, 40);
    advance(s, 0);
    expect([s.fundingCount, s.fundingRate[0], s.dvolCount, s.dvolTs[0], s.dvolValue[0]]).toEqual([1, 0.004, 1, T0 - DAY_MS, 40]);
  });

  it('queues many settlements, taken a few at a time, in order (the queue compacts and grows)', () => {
    const s = new BarStream(H4, { bars: 1, funding: 64 });
    const taken: number[] = [];
    let next = 0;
    const take = (k: number) => {
      advance(s, k);
      for (; next < s.fundingCount; next++) taken.push(s.fundingRate[next & s.fundingMask]!);
    };
    const settle = (from: number, to: number) => {
      for (let m = from; m < to; m++) s.pushFunding(T0 + m * HOUR_MS, m / 1000);
    };
    settle(1, 11); // hours 1..10
    take(0); // closes at 4h: takes 1..4 (the queue's head moves)
    settle(11, 31); // the 16-slot queue fills with its head moved: compacted, then grown
    for (let k = 1; k < 8; k++) take(k); // closes up to 32h
    expect(taken).toEqual(Array.from({ length: 30 }, (_, m) => (m + 1) / 1000));
    expect(s.lastFundingTs).toBe(T0 + 30 * HOUR_MS);
  });

  it('makes a DVOL day usable 24 h after its start; the DVOL kernels read the ring', () => {
    const s = new BarStream(H4, { bars: 1, dvol: 3 });
    const level = new DvolLevelKernel();
    const change = new DvolChangeKernel(2);
    const row = new Float64Array(2);
    const read = () => {
      level.update(s, row, 0);
      change.update(s, row, 1);
      return [...row];
    };
    for (let d = 0; d < 5; d++) s.pushDvol(T0 + d * DAY_MS, 40 + d);
    advance(s, 0);
    expect(s.dvolCount).toBe(0);
    expect(read()).toEqual([NaN, NaN]); // no usable day yet: no level (not the ring's empty 0)
    for (let k = 1; k < 6; k++) advance(s, k); // closes at 24h: day 0 usable
    expect(s.dvolCount).toBe(1);
    expect(read()).toEqual([40, NaN]);
    for (let k = 6; k < 18; k++) advance(s, k); // close at 72h: days 0..2
    expect(s.dvolCount).toBe(3);
    expect(read()).toEqual([42, Math.log(42 / 40)]);
    for (let k = 18; k < 30; k++) advance(s, k); // close at 120h: days 0..4, ring of 4 holds 1..4
    expect(read()).toEqual([44, Math.log(44 / 42)]);
  });
});
