import { formatUtc, timeframeMs } from '../core/time.js';
import { fileError } from './data-error.js';
import type { FileKind } from './file-kind.js';
import type { ColumnSpec, ParsedTable } from './table-reader.js';

export const BAR_COLUMNS: readonly ColumnSpec[] = [
  { name: 'ts', type: 'time' },
  { name: 'open', type: 'number' },
  { name: 'high', type: 'number' },
  { name: 'low', type: 'number' },
  { name: 'close', type: 'number' },
  { name: 'volume', type: 'number' },
];
export const FUNDING_COLUMNS: readonly ColumnSpec[] = [
  { name: 'ts', type: 'time' },
  { name: 'symbol', type: 'string' },
  { name: 'rate', type: 'number' },
];
export const TRADE_COLUMNS: readonly ColumnSpec[] = [
  { name: 'ts', type: 'time' },
  { name: 'price', type: 'number' },
  { name: 'qty', type: 'number' },
  { name: 'side', type: 'string' },
];

/** Column layout a file of `kind` must have. Series files have `ts` plus one value column of any name (`*`). */
export function columnsFor(kind: FileKind): readonly ColumnSpec[] {
  switch (kind.kind) {
    case 'bars':
      return BAR_COLUMNS;
    case 'funding':
      return FUNDING_COLUMNS;
    case 'trades':
      return TRADE_COLUMNS;
    case 'series':
      return [
        { name: 'ts', type: 'time' },
        { name: '*', type: 'number' },
      ];
  }
}

/**
 * Checks the rows of a parsed file against the rules of its kind and throws on the first violation,
 * naming file, line and problem. Rules:
 * - timestamps strictly increasing (trades: non-decreasing) — `unsorted` / `duplicate_timestamp`;
 * - bars and series: timestamps on the timeframe's UTC grid and consecutive steps multiples of it — `wrong_timeframe`;
 * - bars: prices > 0, volume >= 0, high >= max(open, close), low <= min(open, close) — `invalid_value`;
 * - funding: the `symbol` column equals the file's symbol; trades: price > 0, qty > 0, side buy|sell.
 */
export function validateTable(t: ParsedTable, kind: FileKind): void {
  validateRows(t, kind, 0, t.length);
}

/** {@link validateTable} for rows [from, to) only (row `from` is still compared with row `from − 1`). */
export function validateRows(t: ParsedTable, kind: FileKind, from: number, to: number): void {
  const ts = t.numbers['ts']!;
  const allowEqual = kind.kind === 'trades';
  const step = kind.kind === 'bars' || kind.kind === 'series' ? timeframeMs(kind.timeframe) : 0;
  const gridded = step > 0 && step <= 86_400_000;
  for (let i = from; i < to; i++) {
    const line = i + t.firstLine;
    const at = ts[i]!;
    if (gridded && at % step !== 0) {
      throw fileError('wrong_timeframe', t.file, line, `ts ${formatUtc(at)} is not on the ${timeframeLabel(kind)} grid (a multiple of ${step} ms since 1970-01-01T00:00:00Z)`, { field: 'ts' });
    }
    if (i > 0) {
      const prev = ts[i - 1]!;
      if (at < prev) throw fileError('unsorted', t.file, line, `ts ${formatUtc(at)} is earlier than the previous row's ${formatUtc(prev)}; rows must be sorted by ts`, { field: 'ts' });
      if (at === prev && !allowEqual) throw fileError('duplicate_timestamp', t.file, line, `ts ${formatUtc(at)} repeats the previous row's timestamp`, { field: 'ts' });
      if (step > 0 && (at - prev) % step !== 0) {
        throw fileError('wrong_timeframe', t.file, line, `ts ${formatUtc(at)} is ${at - prev} ms after the previous row; a ${timeframeLabel(kind)} file needs steps that are multiples of ${step} ms`, { field: 'ts' });
      }
    }
  }
  switch (kind.kind) {
    case 'bars':
      return validateBars(t, from, to);
    case 'funding':
      return validateFunding(t, kind.symbol, from, to);
    case 'trades':
      return validateTrades(t, from, to);
    case 'series':
      return;
  }
}

/**
 * Checks the timeframe in the file name against the spacing of the rows (bars and series with at least 2 rows): the
 * smallest step between consecutive rows must be the timeframe. Steps are already known to be multiples of it
 * ({@link validateRows}), so a file whose rows are never one timeframe apart holds a coarser series under a finer name
 * (4h bars named `-1h` would otherwise import as a 1h series with three gaps per bar).
 * @throws DataError `wrong_timeframe` naming the measured spacing and the file name's timeframe.
 */
export function checkSpacing(t: ParsedTable, kind: FileKind): void {
  if ((kind.kind !== 'bars' && kind.kind !== 'series') || t.length < 2) return;
  const ts = t.numbers['ts']!;
  const step = timeframeMs(kind.timeframe);
  let smallest = Infinity;
  let at = 0;
  for (let i = 1; i < t.length; i++) {
    const d = ts[i]! - ts[i - 1]!;
    if (d < smallest) {
      smallest = d;
      at = i;
      if (d === step) return;
    }
  }
  throw fileError(
    'wrong_timeframe',
    t.file,
    at + t.firstLine,
    `the file name says ${kind.timeframe} but no two consecutive rows are ${kind.timeframe} apart: the smallest step is ${formatDuration(smallest)} (${smallest} ms, first at this line); rename the file to the data's timeframe`,
    { field: 'ts', timeframe: kind.timeframe, measuredStepMs: smallest },
  );
}

/** `14400000` → `4h`, `90000` → `90s`. */
function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function timeframeLabel(kind: FileKind): string {
  return 'timeframe' in kind ? kind.timeframe : kind.kind;
}

function validateBars(t: ParsedTable, from: number, to: number): void {
  const { open, high, low, close, volume } = t.numbers as Record<string, Float64Array>;
  for (let i = from; i < to; i++) {
    const o = open![i]!, h = high![i]!, l = low![i]!, c = close![i]!, v = volume![i]!;
    if (o > 0 && h > 0 && l > 0 && c > 0 && v >= 0 && h >= o && h >= c && l <= o && l <= c) continue;
    const line = i + t.firstLine;
    const bad = (field: string, value: number, rule: string) =>
      fileError('invalid_value', t.file, line, `${field} must be ${rule}, was ${value}`, { field, value });
    if (!(o > 0)) throw bad('open', o, '> 0');
    if (!(h > 0)) throw bad('high', h, '> 0');
    if (!(l > 0)) throw bad('low', l, '> 0');
    if (!(c > 0)) throw bad('close', c, '> 0');
    if (!(v >= 0)) throw bad('volume', v, '>= 0');
    if (h < l) throw bad('high', h, `>= low (${l})`);
    if (h < o || h < c) throw bad('high', h, `>= max(open, close) (${Math.max(o, c)})`);
    throw bad('low', l, `<= min(open, close) (${Math.min(o, c)})`);
  }
}

function validateFunding(t: ParsedTable, symbol: string, from: number, to: number): void {
  const symbols = t.strings['symbol']!;
  for (let i = from; i < to; i++) {
    if (symbols[i] !== symbol) {
      throw fileError('invalid_value', t.file, i + t.firstLine, `symbol must be ${symbol} (from the file name), was ${JSON.stringify(symbols[i])}`, { field: 'symbol', value: symbols[i] });
    }
  }
}

function validateTrades(t: ParsedTable, from: number, to: number): void {
  const price = t.numbers['price']!, qty = t.numbers['qty']!, side = t.strings['side']!;
  for (let i = from; i < to; i++) {
    const line = i + t.firstLine;
    if (!(price[i]! > 0)) throw fileError('invalid_value', t.file, line, `price must be > 0, was ${price[i]}`, { field: 'price', value: price[i] });
    if (!(qty[i]! > 0)) throw fileError('invalid_value', t.file, line, `qty must be > 0, was ${qty[i]}`, { field: 'qty', value: qty[i] });
    const s = side[i]!;
    if (s !== 'buy' && s !== 'sell') throw fileError('invalid_value', t.file, line, `side must be buy or sell, was ${JSON.stringify(s)}`, { field: 'side', value: s });
  }
}
