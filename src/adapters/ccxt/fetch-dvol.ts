import type { Exchange } from 'ccxt';
import { timeframeMs } from '../../core/time.js';
import type { FetchHistoryOptions } from '../bybit/fetch-history.js';
import { addStoredPage, newTally, type SeriesTally } from '../series-pages.js';
import { callCcxt } from './ccxt-exchange.js';
import { CcxtError } from './ccxt-error.js';

/** Store source of the DVOL series (the importer's `deribit/<CUR>-DVOL-<tf>.csv.gz` files land under the same source). */
export const DVOL_SOURCE = 'deribit';

/** Timeframes of the DVOL index this adapter maps to Deribit's `resolution` (seconds, or `1D`). */
export const DVOL_RESOLUTIONS: Readonly<Record<string, string>> = Object.freeze({ '1m': '60', '1h': '3600', '12h': '43200', '1d': '1D' });

/** The part of the market store {@link fetchDvol} writes to (the data layer's `MarketStore` satisfies it). */
export interface SeriesStore {
  lastSeriesTs(source: string, series: string, timeframe: string): Promise<number | null>;
  upsertSeries(source: string, series: string, timeframe: string, ts: Float64Array, value: Float64Array): Promise<{ inserted: number; updated: number }>;
  transaction<T>(fn: () => Promise<T>): Promise<T>;
}

/** `since`, `until` and `now` as {@link FetchHistoryOptions} defines them, for candles of the index instead of bars. */
export interface DvolFetchOptions extends Pick<FetchHistoryOptions, 'since' | 'until' | 'now'> {
  /** Currencies of the index, e.g. `BTC`, `ETH`. */
  readonly currencies: readonly string[];
  /** `1m`, `1h`, `12h` or `1d` (default `1d`, the importer's daily series). */
  readonly timeframe?: string;
}

/** What one run did for one currency (see {@link SeriesTally}). */
export interface DvolFetchResult extends Readonly<SeriesTally> {
  readonly currency: string;
  /** Store series name, e.g. `BTC-DVOL`. */
  readonly series: string;
  readonly timeframe: string;
  readonly resumedAfter: number | null;
}

/**
 * Fetches the Deribit DVOL index (candle closes) of each currency into `external_series` as
 * (`deribit`, `<CUR>-DVOL`, timeframe) — the table and key the importer fills from `deribit/BTC-DVOL-1d.csv.gz`.
 *
 * ccxt's unified `fetchVolatilityHistory` returns Deribit's *historical* (realised) volatility
 * (`public/get_historical_volatility`), not DVOL, so this calls the DVOL endpoint through ccxt's implicit API
 * `publicGetGetVolatilityIndexData` (`GET /api/v2/public/get_volatility_index_data?currency&start_timestamp&end_timestamp&resolution`,
 * answer `{ result: { data: [[ts, open, high, low, close], ...], continuation } }`). Deribit pages backwards: when a
 * window holds more candles than one answer, `continuation` is the `end_timestamp` of the next (older) request.
 * Each answer is written in its own transaction.
 * @throws CcxtError `unsupported` when `exchange` is not deribit, `invalid_argument`, `invalid_response`, request codes.
 */
export async function fetchDvol(store: SeriesStore, exchange: Exchange, options: DvolFetchOptions): Promise<DvolFetchResult[]> {
  if (exchange.id !== 'deribit') throw new CcxtError('unsupported', `the DVOL index is a Deribit series: use --exchange deribit, was ${JSON.stringify(exchange.id)}`, { exchange: exchange.id });
  const timeframe = options.timeframe ?? '1d';
  const resolution = DVOL_RESOLUTIONS[timeframe];
  if (resolution === undefined) throw new CcxtError('invalid_argument', `DVOL timeframe must be one of ${Object.keys(DVOL_RESOLUTIONS).join(', ')}, was ${JSON.stringify(timeframe)}`, { timeframe });
  const tf = timeframeMs(timeframe);
  const api = exchange as unknown as { publicGetGetVolatilityIndexData(params: Record<string, unknown>): Promise<unknown> };
  const results: DvolFetchResult[] = [];
  for (const raw of options.currencies) {
    const currency = raw.trim().toUpperCase();
    if (!/^[A-Z0-9]{2,10}$/.test(currency)) throw new CcxtError('invalid_argument', `DVOL currency must look like BTC or ETH, was ${JSON.stringify(raw)}`, { currency: raw });
    const series = `${currency}-DVOL`;
    const resumedAfter = await store.lastSeriesTs(DVOL_SOURCE, series, timeframe);
    // Candles open at multiples of the timeframe (daily ones at 00:00 UTC); a stored series resumes at the next one.
    const start = Math.max(Math.ceil(options.since / tf) * tf, resumedAfter === null ? -Infinity : resumedAfter + tf);
    // Last candle open to keep: closed by `now` and opening before `until`.
    let lastOpen = Math.floor((options.now() - tf) / tf) * tf;
    if (options.until !== undefined) lastOpen = Math.min(lastOpen, Math.ceil(options.until / tf) * tf - tf);
    const out = { currency, series, timeframe, ...newTally(), resumedAfter };
    let end = lastOpen;
    while (end >= start) {
      const answer = await callCcxt(exchange, { currency, request: 'get_volatility_index_data', end }, () =>
        api.publicGetGetVolatilityIndexData({ currency, start_timestamp: start, end_timestamp: end, resolution }),
      );
      out.pages++;
      const { ts, value, continuation } = parseDvolAnswer(currency, answer, start, end);
      if (ts.length > 0) {
        const counts = await store.transaction(() => store.upsertSeries(DVOL_SOURCE, series, timeframe, ts, value));
        addStoredPage(out, ts.length, ts[0]!, ts[ts.length - 1]!, counts);
      }
      // Older candles remain only when Deribit says so with a continuation before this window's end.
      if (continuation === null || continuation >= end || continuation < start) break;
      end = continuation;
    }
    results.push(out);
  }
  return results;
}

/** Reads one `get_volatility_index_data` answer: candles in [start, end] (close values), checked and sorted by time. */
function parseDvolAnswer(currency: string, answer: unknown, start: number, end: number): { ts: Float64Array; value: Float64Array; continuation: number | null } {
  const result = (answer as { result?: { data?: unknown; continuation?: unknown } } | null)?.result;
  if (result === undefined || !Array.isArray(result.data)) {
    throw new CcxtError('invalid_response', `deribit DVOL ${currency}: the answer has no result.data array: ${JSON.stringify(answer).slice(0, 200)}`, { currency });
  }
  const rows: [number, number][] = [];
  for (const [i, row] of (result.data as unknown[]).entries()) {
    const t = Array.isArray(row) ? Number(row[0]) : NaN;
    const close = Array.isArray(row) ? Number(row[4]) : NaN;
    if (!Number.isSafeInteger(t) || !Number.isFinite(close) || close < 0) {
      throw new CcxtError('invalid_response', `deribit DVOL ${currency}: candle ${i} must be [ts, open, high, low, close] with a finite close >= 0, was ${JSON.stringify(row)}`, { currency, row: i });
    }
    if (t >= start && t <= end) rows.push([t, close]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]![0] === rows[i - 1]![0]) throw new CcxtError('invalid_response', `deribit DVOL ${currency}: two candles at ${rows[i]![0]}`, { currency, ts: rows[i]![0] });
  }
  const c = result.continuation;
  const continuation = typeof c === 'number' && Number.isSafeInteger(c) ? c : typeof c === 'string' && /^\d+$/.test(c) ? Number(c) : null;
  return { ts: Float64Array.from(rows, (r) => r[0]), value: Float64Array.from(rows, (r) => r[1]), continuation };
}
