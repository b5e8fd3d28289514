import { DAY_MS, HOUR_MS } from '../core/time.js';
import { StatelessKernel, type BarStream } from './bar-stream.js';
import { nanArray } from './window-stats.js';

/** Calendar encodings of bar close times. */
export interface CalendarColumns {
  readonly hourSin: Float64Array;
  readonly hourCos: Float64Array;
  readonly weekdaySin: Float64Array;
  readonly weekdayCos: Float64Array;
}

const TWO_PI = 2 * Math.PI;

/** UTC hour of day of `ms` as a fraction in [0, 24). */
function hourOfDay(ms: number): number {
  return (((ms % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
}

/** UTC day of week of `ms`, 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday). */
function dayOfWeek(ms: number): number {
  return (((Math.floor(ms / DAY_MS) + 4) % 7) + 7) % 7;
}

/** Angle of the hour of day of `ms`: `2π · hour / 24`. */
function hourAngle(ms: number): number {
  return (TWO_PI * hourOfDay(ms)) / 24;
}

/** Angle of the day of week of `ms`: `2π · weekday / 7`. */
function weekdayAngle(ms: number): number {
  return (TWO_PI * dayOfWeek(ms)) / 7;
}

/**
 * Returns calendar features of each bar's CLOSE time (when its features become known), in UTC:
 * `hourSin/hourCos = sin/cos(2π · hour / 24)` with the fractional hour of day, and
 * `weekdaySin/weekdayCos = sin/cos(2π · weekday / 7)` with weekday 0 = Sunday .. 6 = Saturday.
 * A 4h bar opening Monday 20:00 closes Tuesday 00:00: hour 0, weekday 2. Unitless in [-1, 1].
 */
export function calendarFeatures(barClose: Float64Array): CalendarColumns {
  const n = barClose.length;
  const hourSin = nanArray(n);
  const hourCos = nanArray(n);
  const weekdaySin = nanArray(n);
  const weekdayCos = nanArray(n);
  for (let t = 0; t < n; t++) {
    const h = hourAngle(barClose[t]!);
    const d = weekdayAngle(barClose[t]!);
    hourSin[t] = Math.sin(h);
    hourCos[t] = Math.cos(h);
    weekdaySin[t] = Math.sin(d);
    weekdayCos[t] = Math.cos(d);
  }
  return { hourSin, hourCos, weekdaySin, weekdayCos };
}

/** Incremental {@link calendarFeatures}; writes hourSin, hourCos, weekdaySin, weekdayCos from `offset`. */
export class CalendarKernel extends StatelessKernel {
  update(s: BarStream, row: Float64Array, offset: number): void {
    const h = hourAngle(s.tsClose);
    const d = weekdayAngle(s.tsClose);
    row[offset] = Math.sin(h);
    row[offset + 1] = Math.cos(h);
    row[offset + 2] = Math.sin(d);
    row[offset + 3] = Math.cos(d);
  }
}
