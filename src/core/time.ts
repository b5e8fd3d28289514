import { AppError } from './app-error.js';

declare const epochMsBrand: unique symbol;
/** Milliseconds since 1970-01-01T00:00:00Z (UTC). */
export type EpochMs = number & { readonly [epochMsBrand]: true };

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export type TimeError = AppError<'invalid_timeframe' | 'invalid_timestamp'>;

const TIMEFRAME_UNITS: Readonly<Record<string, number>> = { m: MINUTE_MS, h: HOUR_MS, d: DAY_MS, w: 7 * DAY_MS };

/** Canonical timeframes the store accepts, e.g. `1m`, `4h`, `1d`. */
export type Timeframe = string & { readonly __timeframe: true };

/**
 * Returns the length of `timeframe` (`<n><m|h|d|w>`, e.g. `4h`) in milliseconds.
 * @throws AppError `invalid_timeframe` when the string is not of that form.
 */
export function timeframeMs(timeframe: string): number {
  const m = /^([1-9][0-9]*)([mhdw])$/.exec(timeframe);
  if (!m) {
    throw new AppError('invalid_timeframe', `timeframe must look like 1m, 4h or 1d, was ${JSON.stringify(timeframe)}`, { timeframe });
  }
  return Number(m[1]) * TIMEFRAME_UNITS[m[2]!]!;
}

/** Returns `timeframe` branded after checking it parses. */
export function parseTimeframe(timeframe: string): Timeframe {
  timeframeMs(timeframe);
  return timeframe as Timeframe;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|\+00:00)?$/;

/**
 * Parses an ISO-8601 UTC timestamp (`2022-01-01T00:00:00Z`, `2022-01-01`, with optional `.sss`)
 * or an integer of epoch milliseconds. Returns NaN when `text` is neither.
 */
export function parseUtcMs(text: string): number {
  if (/^\d{10,16}$/.test(text)) return Number(text);
  const m = ISO_RE.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', ms = '0'] = m;
  const month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return NaN;
  const t = Date.UTC(Number(y), month - 1, day, hour, minute, second, Number(ms.padEnd(3, '0')));
  // Reject dates that roll over (e.g. 2023-02-30).
  if (new Date(t).getUTCDate() !== day) return NaN;
  return t;
}

/** Parses a timestamp given by a user (CLI flag, config). @throws AppError `invalid_timestamp`. */
export function parseUserTime(text: string, field: string): EpochMs {
  const t = parseUtcMs(text);
  if (!Number.isFinite(t)) {
    throw new AppError('invalid_timestamp', `${field} must be an ISO-8601 UTC date like 2022-01-01 or 2022-01-01T00:00:00Z, was ${JSON.stringify(text)}`, { field, value: text });
  }
  return t as EpochMs;
}

/** Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (milliseconds kept only when non-zero). */
export function formatUtc(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, 19) + 'Z' : iso;
}

/**
 * The engine's only source of time: epoch milliseconds from `now()`. Backtests advance a `TestClock`
 * (src/engine/clock.ts); live uses the wall clock. Cooldowns and staleness run on this time, never on the wall clock.
 */
export interface Clock {
  now(): number;
}
