import { describe, expect, it } from 'vitest';
import { forEachUsable, latestUsable } from './usable-points.js';

describe('usable points', () => {
  const closes = Float64Array.from([10, 20, 30, 40, 50]);
  const ts = Float64Array.from([15, 20, 35]);

  it('a point at s is usable from the bar close s + lag on, never before (the boundary close included)', () => {
    const seen: [number, number][] = [];
    forEachUsable(closes, ts, 0, (t, j) => void seen.push([t, j]));
    expect(seen).toEqual([[0, -1], [1, 1], [2, 1], [3, 2], [4, 2]]);
    const lagged: number[] = [];
    forEachUsable(closes, ts, 10, (_, j) => void lagged.push(j));
    expect(lagged).toEqual([-1, -1, 1, 1, 2]); // 15 + 10 and 20 + 10 <= 30; 35 + 10 <= 50
  });

  it('latest usable value: NaN while none is', () => {
    expect(Array.from(latestUsable(closes, ts, Float64Array.from([1, 2, 3]), 10))).toEqual([NaN, NaN, 2, 2, 3]);
    expect(Array.from(latestUsable(closes, new Float64Array(0), new Float64Array(0), 0))).toEqual([NaN, NaN, NaN, NaN, NaN]);
  });
});
