/**
 * Byte-level timestamp parsing for the CSV hot path (decimals are parsed inline in CsvColumnParser). Returns NaN
 * for any form it does not handle, so callers can retry with the general parser.
 */

/**
 * Parses `YYYY-MM-DDTHH:MM:SSZ` (exactly 20 bytes) from `buf[start, end)` to epoch ms. Returns NaN for any other
 * form or an impossible date, so the caller can retry with the general parser.
 */
export function parseIsoSecondsBytes(buf: Uint8Array, start: number, end: number, memo: DateMemo = { year: -1, month: -1, day: -1, days: 0 }): number {
  if (end - start !== 20 || buf[start + 4] !== 45 || buf[start + 7] !== 45 || buf[start + 10] !== 84 || buf[start + 13] !== 58 || buf[start + 16] !== 58 || buf[start + 19] !== 90) {
    return NaN;
  }
  const hour = digits2(buf, start + 11);
  const minute = digits2(buf, start + 14);
  const second = digits2(buf, start + 17);
  if (!(hour <= 23 && minute <= 59 && second <= 59)) return NaN;
  const year = digits4(buf, start);
  const month = digits2(buf, start + 5);
  const day = digits2(buf, start + 8);
  // Consecutive rows mostly share a date: reuse the day number of the last date parsed.
  let days: number;
  if (year === memo.year && month === memo.month && day === memo.day) {
    days = memo.days;
  } else {
    if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month))) return NaN;
    days = daysFromCivil(year, month, day);
    memo.year = year;
    memo.month = month;
    memo.day = day;
    memo.days = days;
  }
  return (days * 86400 + hour * 3600 + minute * 60 + second) * 1000;
}

/** The last valid date parsed and its day number: a one-entry cache owned by one parser. */
export interface DateMemo {
  year: number;
  month: number;
  day: number;
  days: number;
}

function digit(buf: Uint8Array, at: number): number {
  const c = buf[at]! - 48;
  return c >= 0 && c <= 9 ? c : NaN;
}
function digits2(buf: Uint8Array, at: number): number {
  return digit(buf, at) * 10 + digit(buf, at + 1);
}
function digits4(buf: Uint8Array, at: number): number {
  return digits2(buf, at) * 100 + digits2(buf, at + 2);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
