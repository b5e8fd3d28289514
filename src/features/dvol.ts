import { DAY_MS } from '../core/time.js';
import type { BarStream, FeatureKernel } from './bar-stream.js';
import { checkIntegerParam, type DailySeries } from './feature-inputs.js';
import { nanArray } from './window-stats.js';

/**
 * Calls `each(t, j)` for every bar with `j` = index of the latest DVOL day usable at the bar's close: day D
 * (`ts` = D 00:00 UTC, value = D's close) is usable only once D has closed, i.e. at bar closes `>= D + 24h`
 * (-1 when no day is usable yet).
 */
function forEachUsableDay(barClose: Float64Array, dvol: DailySeries, each: (t: number, j: number) => void): void {
  const m = dvol.ts.length;
  let j = -1;
  for (let t = 0; t < barClose.length; t++) {
    const close = barClose[t]!;
    while (j + 1 < m && dvol.ts[j + 1]! + DAY_MS <= close) j++;
    each(t, j);
  }
}

/**
 * Returns the DVOL level as of each bar close: the close of the latest day D with `D + 24h <= barClose[t]`.
 * Units: annualised volatility points (45 = 45 %). NaN before the first usable day.
 */
export function dvolLevel(barClose: Float64Array, dvol: DailySeries): Float64Array {
  const out = nanArray(barClose.length);
  forEachUsableDay(barClose, dvol, (t, j) => {
    if (j >= 0) out[t] = dvol.value[j]!;
  });
  return out;
}

/**
 * Returns the `days`-day DVOL log change as of each bar close: with D the latest usable day (as in {@link dvolLevel}),
 * `ln(DVOL[D] / DVOL[D - days])`, where day `D - days` is looked up by its date (NaN when that day is missing
 * or before the series). Unitless.
 * @throws AppError `invalid_feature_params` when `days` is not an integer >= 1.
 */
export function dvolChange(barClose: Float64Array, dvol: DailySeries, days: number): Float64Array {
  checkIntegerParam('dvol-change', 'days', days, 1);
  const out = nanArray(barClose.length);
  forEachUsableDay(barClose, dvol, (t, j) => {
    if (j < 0) return;
    const target = dvol.ts[j]! - days * DAY_MS;
    let i = j - 1;
    while (i >= 0 && dvol.ts[i]! > target) i--;
    if (i >= 0 && dvol.ts[i] === target) out[t] = Math.log(dvol.value[j]! / dvol.value[i]!);
  });
  return out;
}

/** Incremental {@link dvolLevel}: reads the stream's usable-DVOL ring. */
export class DvolLevelKernel implements FeatureKernel {
  update(s: BarStream, row: Float64Array, offset: number): void {
    row[offset] = s.dvolCount > 0 ? s.dvolValue[(s.dvolCount - 1) & s.dvolMask]! : NaN;
  }

  /** Stateless: reads only the stream. */
  skip(): void {}

  reset(): void {}
}

/** Incremental {@link dvolChange}; needs a stream DVOL ring of at least `days + 1` days. */
export class DvolChangeKernel implements FeatureKernel {
  constructor(private readonly days: number) {}

  update(s: BarStream, row: Float64Array, offset: number): void {
    row[offset] = NaN;
    const last = s.dvolCount - 1;
    if (last < 0) return;
    const mask = s.dvolMask;
    const target = s.dvolTs[last & mask]! - this.days * DAY_MS;
    let i = last - 1;
    // Days are strictly increasing, so day D - days is at most `days` entries back.
    const stop = Math.max(0, last - this.days);
    while (i >= stop && s.dvolTs[i & mask]! > target) i--;
    if (i >= stop && s.dvolTs[i & mask] === target) row[offset] = Math.log(s.dvolValue[last & mask]! / s.dvolValue[i & mask]!);
  }

  /** Stateless: reads only the stream. */
  skip(): void {}

  reset(): void {}
}
