import type { MarketStore } from './market-store.js';

/** Where a stored series is and what range it covers (`first`/`last` as ISO UTC). */
export interface SeriesSpan {
  readonly venue: string;
  readonly symbol: string;
  readonly timeframe: string;
  readonly rows: number;
  readonly first: string;
  readonly last: string;
}

export interface SeriesListing extends SeriesSpan {
  readonly table: string;
}

/** Lists every stored series (bars, funding, trade ticks, external series, predictions) with row counts and range. */
export async function listSeries(store: MarketStore): Promise<SeriesListing[]> {
  const f = (c: string) => `strftime(${c}, '%Y-%m-%dT%H:%M:%SZ')`;
  const rows = await store.query(`
    SELECT 'bars' AS table, venue, symbol, timeframe, count(*) AS rows, ${f('min(ts)')} AS first, ${f('max(ts)')} AS last FROM bars GROUP BY ALL
    UNION ALL SELECT 'funding', venue, symbol, '', count(*), ${f('min(ts)')}, ${f('max(ts)')} FROM funding_rates GROUP BY ALL
    UNION ALL SELECT 'trades', venue, symbol, '', count(*), ${f('min(ts)')}, ${f('max(ts)')} FROM trade_ticks GROUP BY ALL
    UNION ALL SELECT 'series', source, series, timeframe, count(*), ${f('min(ts)')}, ${f('max(ts)')} FROM external_series GROUP BY ALL
    UNION ALL SELECT 'predictions', venue, symbol || ' ' || model || '@' || model_version, timeframe, count(*), ${f('min(ts)')}, ${f('max(ts)')} FROM predictions GROUP BY ALL
    ORDER BY 1, 2, 3, 4`);
  return rows.map((r) => ({
    table: String(r['table']),
    venue: String(r['venue']),
    symbol: String(r['symbol']),
    timeframe: String(r['timeframe']),
    rows: Number(r['rows']),
    first: String(r['first']),
    last: String(r['last']),
  }));
}
