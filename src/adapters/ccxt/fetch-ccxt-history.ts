import type { Exchange, OHLCV } from 'ccxt';
import { timeframeMs } from '../../core/time.js';
import type { BarPage } from '../bybit/bybit-market-data-client.js';
import type { HistoryStore, SeriesFetchResult } from '../bybit/fetch-history.js';
import { addStoredPage, newTally, ohlcvColumns } from '../series-pages.js';
import { callCcxt, ccxtCapabilities, checkCcxtTimeframe } from './ccxt-exchange.js';
import { CcxtError } from './ccxt-error.js';

export interface CcxtFetchOptions {
  /** Store venue of the fetched series; default the exchange id. */
  readonly venue?: string;
  /** ccxt unified symbols (`BTC/USDT`, `BTC/USDT:USDT`) or exchange market ids (`BTCUSDT`); stored under the market id. */
  readonly symbols: readonly string[];
  /** Bar timeframe the exchange serves (ccxt `timeframes`) and the store understands (`1m`, `4h`, `1d`, ...). */
  readonly timeframe: string;
  /** Earliest bar open / funding time (epoch ms); a stored series resumes after its last row instead. */
  readonly since: number;
  /** Only rows before this time (epoch ms, exclusive); absent = up to `now`. */
  readonly until?: number;
  /** Also fetch funding history where ccxt supports it for the market (`has.fetchFundingRateHistory`, swap/future markets). */
  readonly funding: boolean;
  /** Rows per request; default 500 (most exchanges accept it). */
  readonly pageLimit?: number;
  /** Clock (epoch ms) deciding which bars are closed; the composition root passes the wall clock. */
  readonly now: () => number;
  readonly onProgress?: (symbol: string, barsSoFar: number, expectedTotal: number) => void;
}

/** Result per symbol; `funding` is absent when not requested and `null` with `fundingSkipped` saying why when unsupported. */
export interface CcxtSymbolFetchResult {
  /** Unified symbol as ccxt names it, e.g. `BTC/USDT:USDT`. */
  readonly unified: string;
  /** Store symbol (the exchange's market id), e.g. `BTCUSDT`. */
  readonly symbol: string;
  readonly bars: SeriesFetchResult;
  readonly funding?: SeriesFetchResult | null;
  readonly fundingSkipped?: string;
}

const DEFAULT_PAGE = 500;

/**
 * Fetches bar history (and funding history where supported) of each symbol from any ccxt exchange into the store,
 * under venue `options.venue ?? exchange.id` and the exchange's market id. Checks the exchange's capabilities and
 * timeframes from ccxt's metadata before any request; loads markets once. Per series it resumes after the last stored
 * row, pages forward from the cursor, keeps only closed bars opening before
 * `until`, and writes every page in its own transaction (an interrupted run keeps completed pages).
 * Requests ask from one millisecond before the cursor: exchanges that answer `since` with the newest `limit` rows of a
 * `limit`-interval window (ccxt's bybit funding: `endTime = since + limit × interval`, `limit + 1` settlements when
 * `since` is one) would otherwise drop the row at the cursor; rows before the cursor are discarded.
 * @throws CcxtError `unsupported`, `invalid_argument` (unknown symbol), and the request codes of {@link toCcxtError}.
 */
export async function fetchCcxtHistory(store: HistoryStore, exchange: Exchange, options: CcxtFetchOptions): Promise<CcxtSymbolFetchResult[]> {
  checkCcxtTimeframe(exchange, options.timeframe);
  const tf = timeframeMs(options.timeframe);
  const limit = options.pageLimit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > 5000) throw new CcxtError('invalid_argument', `pageLimit must be an integer in [1, 5000], was ${limit}`, { pageLimit: limit });
  if (options.symbols.length === 0) throw new CcxtError('invalid_argument', 'symbols must name at least one symbol, was []', { symbols: [] });
  await callCcxt(exchange, { request: 'markets' }, () => exchange.loadMarkets());
  const venue = options.venue ?? exchange.id;
  const results: CcxtSymbolFetchResult[] = [];
  for (const wanted of options.symbols) {
    const market = findMarket(exchange, wanted);
    const bars = await fetchBars(store, exchange, venue, market, options.timeframe, tf, limit, options);
    const base = { unified: market.symbol, symbol: market.id, bars };
    if (!options.funding) {
      results.push(base);
      continue;
    }
    const skipped = !ccxtCapabilities(exchange).funding ? `${exchange.id} has no funding history in ccxt` : !market.contract ? `${market.symbol} is not a perpetual/futures contract` : undefined;
    results.push(skipped ? { ...base, funding: null, fundingSkipped: skipped } : { ...base, funding: await fetchFunding(store, exchange, venue, market, limit, options) });
  }
  return results;
}

interface MarketRef {
  readonly id: string;
  readonly symbol: string;
  readonly contract: boolean;
}

function findMarket(exchange: Exchange, wanted: string): MarketRef {
  const market = exchange.markets?.[wanted] ?? exchange.markets_by_id?.[wanted]?.[0];
  if (market === undefined || typeof market.id !== 'string' || typeof market.symbol !== 'string') {
    throw new CcxtError('invalid_argument', `${exchange.id} lists no market ${JSON.stringify(wanted)} (give a ccxt unified symbol like BTC/USDT or a market id like BTCUSDT)`, { exchange: exchange.id, symbol: wanted });
  }
  return { id: market.id, symbol: market.symbol, contract: market.contract === true };
}

async function fetchBars(store: HistoryStore, exchange: Exchange, venue: string, market: MarketRef, timeframe: string, tf: number, limit: number, options: CcxtFetchOptions): Promise<SeriesFetchResult> {
  const now = options.now();
  let endOpen = Math.floor((now - tf) / tf) * tf;
  if (options.until !== undefined) endOpen = Math.min(endOpen, Math.ceil(options.until / tf) * tf - tf);
  const resumedAfter = await store.lastBarTs(venue, market.id, timeframe);
  const start = Math.max(Math.ceil(options.since / tf) * tf, resumedAfter === null ? -Infinity : resumedAfter + tf);
  const expected = endOpen >= start ? Math.floor((endOpen - start) / tf) + 1 : 0;
  const out = newTally();
  let cursor = start;
  while (cursor <= endOpen) {
    const rows = await callCcxt(exchange, { symbol: market.symbol, request: 'ohlcv', since: cursor }, () => exchange.fetchOHLCV(market.symbol, timeframe, cursor - 1, limit));
    out.pages++;
    const page = toBarPage(exchange.id, market.symbol, rows.filter((r) => (r[0] as number) >= cursor && (r[0] as number) <= endOpen));
    if (page.length === 0) break; // nothing newer on the venue
    const counts = await store.transaction(() => store.upsertBars(venue, market.id, timeframe, page));
    addStoredPage(out, page.length, page.ts[0]!, page.ts[page.length - 1]!, counts);
    cursor = out.last! + tf;
    options.onProgress?.(market.id, out.fetched, expected);
  }
  return { ...out, start, resumedAfter };
}

async function fetchFunding(store: HistoryStore, exchange: Exchange, venue: string, market: MarketRef, limit: number, options: CcxtFetchOptions): Promise<SeriesFetchResult> {
  const end = options.until === undefined ? options.now() : Math.min(options.now(), options.until - 1);
  const resumedAfter = await store.lastFundingTs(venue, market.id);
  const start = Math.max(options.since, resumedAfter === null ? -Infinity : resumedAfter + 1);
  const out = newTally();
  let cursor = start;
  while (cursor <= end) {
    const rows = await callCcxt(exchange, { symbol: market.symbol, request: 'funding', since: cursor }, () => exchange.fetchFundingRateHistory(market.symbol, cursor - 1, limit));
    out.pages++;
    const kept = rows.filter((r) => typeof r.timestamp === 'number' && r.timestamp >= cursor && r.timestamp <= end);
    if (kept.length === 0) break;
    const ts = new Float64Array(kept.length);
    const rate = new Float64Array(kept.length);
    for (const [i, r] of kept.entries()) {
      const rateValue = r.fundingRate;
      if (typeof rateValue !== 'number' || !Number.isFinite(rateValue) || (i > 0 && r.timestamp! <= ts[i - 1]!)) {
        throw new CcxtError('invalid_response', `${exchange.id} ${market.symbol}: funding row ${i} (${r.timestamp}, ${r.fundingRate}) is not finite or not after the previous one`, { exchange: exchange.id, symbol: market.symbol, row: i });
      }
      ts[i] = r.timestamp!;
      rate[i] = rateValue;
    }
    const counts = await store.transaction(() => store.upsertFunding(venue, market.id, ts, rate));
    addStoredPage(out, kept.length, ts[0]!, ts[ts.length - 1]!, counts);
    cursor = out.last! + 1;
  }
  return { ...out, start, resumedAfter };
}

/** Converts ccxt OHLCV rows into columns, checking each bar (corrupt data is worse than no data). */
function toBarPage(exchange: string, symbol: string, rows: readonly OHLCV[]): BarPage {
  return ohlcvColumns(rows, (row, problem) => new CcxtError('invalid_response', `${exchange} ${symbol}: ${problem}`, { exchange, symbol, row }));
}
