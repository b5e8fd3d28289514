import { DAY_MS } from '../core/time.js';
import { StatelessKernel, type BarStream } from './bar-stream.js';
import { checkIntegerParam, type DailySeries } from './feature-inputs.js';
import { forEachUsable, latestUsable } from './usable-points.js';
import { nanArray } from './window-stats.js';

/**
 * Returns the DVOL level as of each bar close: the close of the latest day D with `D + 24h <= barClose[t]`.
 * Units: annualised volatility points (45 = 45 %). NaN before the first usable day.
 */
export function dvolLevel(barClose: Float64Array, dvol: DailySeries): Float64Array {
  return latestUsable(barClose, dvol.ts, dvol.value, DAY_MS);
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
  forEachUsable(barClose, dvol.ts, DAY_MS, (t, j) => {
    if (j < 0) return;
    const target = dvol.ts[j]! - days * DAY_MS;
    let i = j - 1;
    while (i >= 0 && dvol.ts[i]! > target) i--;
    if (i >= 0 && dvol.ts[i] === target) out[t] = Math.log(dvol.value[j]! / dvol.value[i]!);
  });
  return out;
}

/** Incremental {@link dvolLevel}: reads the stream's usable-DVOL ring. */
export class DvolLevelKernel extends StatelessKernel {
  update(s: BarStream, row: Float64Array, offset: number): void {
    row[offset] = s.dvolCount > 0 ? s.dvolValue[(s.dvolCount - 1) & s.dvolMask]! : NaN;
  }
}

/** Incremental {@link dvolChange}; needs a stream DVOL ring of at least `days + 1` days. */
export class DvolChangeKernel extends StatelessKernel {
  constructor(private readonly days: number) {
    super();
  }

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
}
