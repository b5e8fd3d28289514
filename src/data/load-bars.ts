import { formatUtc, timeframeMs } from '../core/time.js';
import { type BarFrame, MISSING_BAR_POLICIES, type MissingBarPolicy } from './bar-frame.js';
import { DataError } from './data-error.js';
import { readDoubleColumns } from './duck-columns.js';
import type { MarketStore } from './market-store.js';

export interface LoadBarsRequest {
  readonly venue: string;
  readonly symbols: readonly string[];
  readonly timeframe: string;
  /** Inclusive start (epoch ms); default: the earliest bar of any symbol. */
  readonly start?: number;
  /** Exclusive end (epoch ms); default: after the latest bar of any symbol. */
  readonly end?: number;
  /** Default `error`. */
  readonly missing?: MissingBarPolicy;
}

/**
 * Loads bars of several symbols into a {@link BarFrame} on the common grid of `timeframe` steps from the first
 * to the last bar found in [start, end), applying the missing-bar policy.
 * @throws DataError `not_found` when a symbol has no bar in the range; `missing_bars` under the `error` policy;
 * `invalid_value` for a policy not in {@link MISSING_BAR_POLICIES} (one from an untyped config: it used to act as `nan`).
 * @example
 * const frame = await loadBars(store, { venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', missing: 'error' });
 */
export async function loadBars(store: MarketStore, request: LoadBarsRequest): Promise<BarFrame> {
  const { venue, symbols, timeframe } = request;
  const policy = request.missing ?? 'error';
  if (!MISSING_BAR_POLICIES.includes(policy)) {
    throw new DataError('invalid_value', `loadBars: \`missing\` must be one of ${MISSING_BAR_POLICIES.join(', ')}, was ${JSON.stringify(policy)}`, { missing: policy });
  }
  const step = timeframeMs(timeframe);
  if (symbols.length === 0) throw new DataError('not_found', 'loadBars: `symbols` must name at least one symbol, was []', { symbols });
  // One round trip: the series ids are resolved by a join (bar_series is tiny).
  const symbolIndex = symbols.map((_, i) => `WHEN ? THEN ${i}`).join(' ');
  const [sym, ts, open, high, low, close, volume] = await readDoubleColumns(
    store.connection,
    `SELECT (CASE s.symbol ${symbolIndex} END)::DOUBLE, epoch_ms(d.ts)::DOUBLE, d.open, d.high, d.low, d.close, d.volume
     FROM bar_data d JOIN bar_series s ON s.id = d.series_id
     WHERE s.venue = ? AND s.timeframe = ? AND s.symbol IN (${symbols.map(() => '?').join(', ')})
       AND d.ts >= epoch_ms(?::BIGINT) AND d.ts < epoch_ms(?::BIGINT)`,
    [...symbols, venue, timeframe, ...symbols, request.start ?? -8.64e15, request.end ?? 8.64e15],
  ) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const rows = ts.length;
  const counts = new Array<number>(symbols.length).fill(0);
  for (let i = 0; i < rows; i++) counts[sym[i]!]!++;
  const empty = counts.findIndex((c) => c === 0);
  if (empty >= 0) {
    throw new DataError('not_found', `no ${timeframe} bars for ${symbols[empty]} on ${venue} in the requested range`, { venue, symbol: symbols[empty], timeframe });
  }
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < rows; i++) {
    const t = ts[i]!;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const gridLength = Math.round((last - first) / step) + 1;
  const m = symbols.length;
  const fields = [open, high, low, close, volume];
  const grid: Float64Array[][] = fields.map(() => Array.from({ length: m }, () => new Float64Array(gridLength).fill(NaN)));
  const present = Array.from({ length: m }, () => new Uint8Array(gridLength));
  for (let i = 0; i < rows; i++) {
    const g = Math.round((ts[i]! - first) / step);
    const s = sym[i]!;
    if (present[s]![g] === 1) {
      throw new DataError('store', `${symbols[s]} (${venue}, ${timeframe}) has two bars at ${formatUtc(ts[i]!)}; run \`tm data check\``, { venue, symbol: symbols[s], timeframe });
    }
    present[s]![g] = 1;
    for (let f = 0; f < 5; f++) grid[f]![s]![g] = fields[f]![i]!;
  }
  const filled = present.map((p) => gridLength - p.reduce((a, b) => a + b, 0));
  let axis: Float64Array = new Float64Array(gridLength);
  for (let g = 0; g < gridLength; g++) axis[g] = first + g * step;

  if (policy === 'error') {
    const s = filled.findIndex((f) => f > 0);
    if (s >= 0) {
      const g = present[s]!.indexOf(0);
      throw new DataError('missing_bars', `${symbols[s]} (${venue}, ${timeframe}) has ${filled[s]} missing bars on the common grid, the first at ${formatUtc(axis[g]!)}; choose a missing-bar policy (nan, forward-fill, intersect) or a range without gaps`, { venue, symbol: symbols[s], timeframe, missing: filled[s], first: formatUtc(axis[g]!) });
    }
  } else if (policy === 'forward-fill') {
    for (let s = 0; s < m; s++) {
      const p = present[s]!;
      const [o, h, l, c, v] = grid.map((f) => f[s]!) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
      for (let g = 1; g < gridLength; g++) {
        if (p[g] === 0) {
          const prev = c[g - 1]!;
          o[g] = prev; h[g] = prev; l[g] = prev; c[g] = prev;
          v[g] = prev === prev ? 0 : NaN;
        }
      }
    }
  } else if (policy === 'intersect') {
    const keep: number[] = [];
    for (let g = 0; g < gridLength; g++) if (present.every((p) => p[g] === 1)) keep.push(g);
    const pick = (a: Float64Array): Float64Array => Float64Array.from(keep, (g) => a[g]!);
    axis = pick(axis);
    for (const f of grid) for (let s = 0; s < m; s++) f[s] = pick(f[s]!);
    for (let s = 0; s < m; s++) present[s] = Uint8Array.from(keep, () => 1);
  }
  return {
    venue,
    timeframe,
    symbols: [...symbols],
    ts: axis,
    open: grid[0]!,
    high: grid[1]!,
    low: grid[2]!,
    close: grid[3]!,
    volume: grid[4]!,
    present,
    missing: { policy, filled: policy === 'intersect' ? filled.map(() => 0) : filled },
  };
}
