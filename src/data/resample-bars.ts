import { timeframeMs } from '../core/time.js';
import { DataError } from './data-error.js';
import type { MarketStore, UpsertCount } from './market-store.js';

export interface ResampleRequest {
  readonly venue: string;
  readonly symbol: string;
  readonly from: string;
  readonly to: string;
  /** Keep only buckets that hold every sub-bar (default true): a partial bucket is not a real bar. */
  readonly completeOnly?: boolean;
  /** Replace target bars that already exist (default false: only missing buckets are written, imported bars win). */
  readonly replace?: boolean;
}

/**
 * Resamples stored bars `from` → `to` (e.g. 1m → 4h) in SQL, buckets aligned to 00:00 UTC:
 * open = first, high = max, low = min, close = last, volume = sum. Writes them as bars of timeframe `to` in one
 * transaction: only buckets not stored yet, unless `replace`. Returns how many were inserted/updated.
 * @throws DataError `invalid_value` when `to` is not a whole multiple of `from`, `not_found` when no `from` bars exist.
 */
export async function resampleBars(store: MarketStore, request: ResampleRequest): Promise<UpsertCount & { buckets: number; partial: number }> {
  const fromMs = timeframeMs(request.from);
  const toMs = timeframeMs(request.to);
  if (toMs <= fromMs || toMs % fromMs !== 0) {
    throw new DataError('invalid_value', `resample target ${request.to} must be a whole multiple of the source timeframe ${request.from}`, { from: request.from, to: request.to });
  }
  const per = toMs / fromMs;
  const completeOnly = request.completeOnly ?? true;
  const key = [request.venue, request.symbol, request.from];
  const sql = `
    SELECT (floor(epoch_ms(ts) / ${toMs}) * ${toMs})::DOUBLE AS bucket,
           arg_min(open, ts) AS open, max(high) AS high, min(low) AS low, arg_max(close, ts) AS close, sum(volume) AS volume,
           count(*) AS n
    FROM bars WHERE venue = ? AND symbol = ? AND timeframe = ? GROUP BY 1`;
  const stats = await store.query(`SELECT count(*) AS buckets, count(*) FILTER (WHERE n < ${per}) AS partial FROM (${sql})`, key);
  const buckets = Number(stats[0]!['buckets']);
  if (buckets === 0) throw new DataError('not_found', `no ${request.from} bars for ${request.symbol} on ${request.venue} to resample`, { ...request });
  return store.transaction(async () => {
    const reader = await store.connection.runAndReadAll(
      `SELECT bucket, open, high, low, close, volume FROM (${sql}) ${completeOnly ? `WHERE n = ${per}` : ''} ORDER BY bucket`,
      key,
    );
    const cols = reader.getColumns().map((c) => Float64Array.from(c as number[]));
    const [ts, open, high, low, close, volume] = cols as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    const counts = await store.upsertBars(request.venue, request.symbol, request.to, { ts, open, high, low, close, volume }, ts.length, request.replace ? 'upsert' : 'insert-missing');
    return { ...counts, buckets, partial: Number(stats[0]!['partial']) };
  });
}
