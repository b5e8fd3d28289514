import { nanArray } from './window-stats.js';

/**
 * Calls `each(t, j)` for every bar close `barClose[t]` with `j` = index of the latest point of `ts` usable at it: a
 * point at time s is usable from bar closes `>= s + lagMs` (-1 while none is). One forward pass; both arrays ascending.
 * Funding settlements are usable at their time (lag 0); a daily DVOL close at D 00:00 UTC once the day closed (lag 24 h).
 */
export function forEachUsable(barClose: Float64Array, ts: Float64Array, lagMs: number, each: (t: number, j: number) => void): void {
  const m = ts.length;
  let j = -1;
  for (let t = 0; t < barClose.length; t++) {
    const close = barClose[t]!;
    while (j + 1 < m && ts[j + 1]! + lagMs <= close) j++;
    each(t, j);
  }
}

/** The value of the latest point usable at each bar close (see {@link forEachUsable}); NaN while none is. */
export function latestUsable(barClose: Float64Array, ts: Float64Array, values: Float64Array, lagMs: number): Float64Array {
  const out = nanArray(barClose.length);
  forEachUsable(barClose, ts, lagMs, (t, j) => {
    if (j >= 0) out[t] = values[j]!;
  });
  return out;
}
