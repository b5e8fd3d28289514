import { timeframeMs } from '../core/time.js';
import type { SeriesSpan } from './list-series.js';
import type { MarketStore } from './market-store.js';

/**
 * Health of one stored series. `gaps` counts missing bars (or settlements/days) between its first and last row: the
 * steps missing wherever two consecutive timestamps are more than one step apart (the sum of `gapRanges`, all of them).
 */
export interface SeriesCheck extends SeriesSpan {
  readonly table: 'bars' | 'funding_rates' | 'external_series';
  readonly gaps: number;
  /** Up to 20 gap ranges: first missing timestamp and how many are missing from there. */
  readonly gapRanges: readonly { readonly from: string; readonly missing: number }[];
  readonly duplicates: number;
  /** Bars where high < max(open, close), low > min(open, close) or high < low. */
  readonly ohlcInconsistent: number;
  /** Rows with a price <= 0, a negative volume, or NaN/Infinity anywhere. */
  readonly nonPositive: number;
}

export interface CheckOptions {
  /** Only rows at or after this time (epoch ms). */
  readonly since?: number;
  /** Only rows before this time (epoch ms). */
  readonly until?: number;
  /** Funding settlement interval assumed for gap counting; default 8h. */
  readonly fundingInterval?: string;
}

/** Problems that make `tm data check` fail: duplicates, OHLC inconsistencies, non-positive values; gaps too when `strict`. */
export function hasProblems(c: SeriesCheck, strict: boolean): boolean {
  return c.duplicates > 0 || c.ohlcInconsistent > 0 || c.nonPositive > 0 || (strict && c.gaps > 0);
}

const iso = (col: string) => `strftime(${col}, '%Y-%m-%dT%H:%M:%SZ')`;

/**
 * Checks every series in the store: rows, first/last timestamp, missing steps (gaps), duplicate timestamps,
 * OHLC inconsistencies and non-positive/non-finite values. Runs entirely in SQL.
 */
export async function checkStore(store: MarketStore, options: CheckOptions = {}): Promise<SeriesCheck[]> {
  const range = `ts >= epoch_ms(${Math.trunc(options.since ?? -8.64e15)}::BIGINT) AND ts < epoch_ms(${Math.trunc(options.until ?? 8.64e15)}::BIGINT)`;
  const fundingInterval = options.fundingInterval ?? '8h';
  timeframeMs(fundingInterval); // throws for a bad interval, before it is written into the SQL below
  const sources: { table: SeriesCheck['table']; select: string; bad: string; ohlc: string }[] = [
    {
      table: 'bars',
      select: `venue, symbol, timeframe, ts`,
      bad: `NOT (open > 0 AND high > 0 AND low > 0 AND close > 0 AND volume >= 0 AND isfinite(open) AND isfinite(high) AND isfinite(low) AND isfinite(close) AND isfinite(volume))`,
      ohlc: `high < greatest(open, close) OR low > least(open, close) OR high < low`,
    },
    { table: 'funding_rates', select: `venue, symbol, '${fundingInterval}' AS timeframe, ts`, bad: `NOT isfinite(rate)`, ohlc: 'false' },
    { table: 'external_series', select: `source AS venue, series AS symbol, timeframe, ts`, bad: `NOT isfinite(value)`, ohlc: 'false' },
  ];
  const out: SeriesCheck[] = [];
  for (const src of sources) {
    const summary = await store.query(
      `SELECT venue, symbol, timeframe, count(*)::BIGINT AS rows, ${iso('min(ts)')} AS first, ${iso('max(ts)')} AS last,
              (count(*) - count(DISTINCT ts))::BIGINT AS duplicates,
              count(*) FILTER (WHERE is_ohlc)::BIGINT AS ohlc, count(*) FILTER (WHERE is_bad)::BIGINT AS bad
       FROM (SELECT ${src.select}, (${src.ohlc}) AS is_ohlc, (${src.bad}) AS is_bad FROM ${src.table} WHERE ${range})
       GROUP BY ALL ORDER BY venue, symbol, timeframe`,
    );
    for (const r of summary) {
      const tf = String(r['timeframe']);
      const step = timeframeMs(tf); // a funding series' timeframe is the settlement interval
      const gapRows = await store.query(
        `WITH d AS (SELECT DISTINCT epoch_ms(ts)::DOUBLE AS t FROM (SELECT ${src.select} FROM ${src.table} WHERE ${range}) WHERE venue = ? AND symbol = ? AND timeframe = ?),
              l AS (SELECT t, lag(t) OVER (ORDER BY t) AS prev FROM d)
         SELECT ${iso('epoch_ms((prev + ?)::BIGINT)')} AS from_ts, round((t - prev) / ? - 1)::BIGINT AS missing
         FROM l WHERE prev IS NOT NULL AND t - prev > ? ORDER BY t`,
        [r['venue'] as string, r['symbol'] as string, tf, step, step, step],
      );
      const rows = Number(r['rows']);
      // Summed over the gaps, not (last − first) / step + 1 − rows: a funding series that settled more often for a
      // while (a 4 h or 1 h interval) has more rows than its 8 h grid, and that count went negative.
      let gaps = 0;
      for (const g of gapRows) gaps += Number(g['missing']);
      out.push({
        table: src.table,
        venue: String(r['venue']),
        symbol: String(r['symbol']),
        timeframe: tf,
        rows,
        first: String(r['first']),
        last: String(r['last']),
        gaps,
        gapRanges: gapRows.slice(0, 20).map((g) => ({ from: String(g['from_ts']), missing: Number(g['missing']) })),
        duplicates: Number(r['duplicates']),
        ohlcInconsistent: Number(r['ohlc']),
        nonPositive: Number(r['bad']),
      });
    }
  }
  return out;
}
