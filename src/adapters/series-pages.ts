import type { OHLCV } from 'ccxt';
import type { OhlcvColumns } from '../core/bar.js';

/** One page of bars, oldest first, as columns (`ts` = the bar's open time, epoch ms). */
export interface BarPage extends OhlcvColumns {
  readonly length: number;
}

/** Running totals of one series a fetcher stores page by page; `first`/`last` are the times (epoch ms) stored in this run. */
export interface SeriesTally {
  pages: number;
  fetched: number;
  inserted: number;
  updated: number;
  first: number | null;
  last: number | null;
}

/** An empty {@link SeriesTally}. */
export function newTally(): SeriesTally {
  return { pages: 0, fetched: 0, inserted: 0, updated: 0, first: null, last: null };
}

/** Adds one stored page of `rows` rows spanning `first`..`last` (epoch ms) with the store's upsert counts. */
export function addStoredPage(tally: SeriesTally, rows: number, first: number, last: number, counts: { inserted: number; updated: number }): void {
  tally.fetched += rows;
  tally.inserted += counts.inserted;
  tally.updated += counts.updated;
  tally.first = tally.first === null ? first : Math.min(tally.first, first);
  tally.last = tally.last === null ? last : Math.max(tally.last, last);
}

/**
 * Converts ccxt OHLCV rows into bar columns, checking each bar (corrupt data is worse than no data): every field finite,
 * low <= open, close <= high, low > 0, volume >= 0, open times increasing. `invalid(row, problem)` makes the error thrown.
 */
export function ohlcvColumns(rows: readonly OHLCV[], invalid: (row: number, problem: string) => Error): BarPage {
  const n = rows.length;
  const page = { length: n, ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const [t, o, h, l, c, v] = rows[i]!;
    if (!Number.isSafeInteger(t) || ![o, h, l, c, v].every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw invalid(i, `bar ${i} has a missing or non-finite field: ${JSON.stringify(rows[i])}`);
    }
    if (h! < l! || h! < Math.max(o!, c!) || l! > Math.min(o!, c!) || l! <= 0 || v! < 0) {
      throw invalid(i, `bar ${i} at ${t} is inconsistent (open ${o}, high ${h}, low ${l}, close ${c}, volume ${v})`);
    }
    if (i > 0 && t! <= page.ts[i - 1]!) throw invalid(i, `bar times must increase, bar ${i} opens at ${t} after ${page.ts[i - 1]}`);
    page.ts[i] = t!;
    page.open[i] = o!;
    page.high[i] = h!;
    page.low[i] = l!;
    page.close[i] = c!;
    page.volume[i] = v!;
  }
  return page;
}
