import { timeframeMs } from '../../core/time.js';
import { addStoredPage, newTally } from '../series-pages.js';
import { BybitError } from './bybit-error.js';
import { checkBybitTimeframe, MAX_FUNDING_PAGE, MAX_KLINE_PAGE, type BarPage, type BybitTimeframe, type FundingPage, type MarketDataClient } from './bybit-market-data-client.js';
import { formatStoreSymbol, parseSymbolArgument } from './symbols.js';

/** Venue name under which fetched series are stored. */
export const BYBIT_VENUE = 'bybit';

/**
 * The part of the market store `fetchHistory` writes to (the data layer's `MarketStore` satisfies it).
 * Declared here so the adapter does not import the data layer.
 */
export interface HistoryStore {
  lastBarTs(venue: string, symbol: string, timeframe: string): Promise<number | null>;
  lastFundingTs(venue: string, symbol: string): Promise<number | null>;
  upsertBars(venue: string, symbol: string, timeframe: string, bars: BarPage): Promise<{ inserted: number; updated: number }>;
  upsertFunding(venue: string, symbol: string, ts: Float64Array, rate: Float64Array): Promise<{ inserted: number; updated: number }>;
  transaction<T>(fn: () => Promise<T>): Promise<T>;
}

export interface FetchHistoryOptions {
  /** Symbols as ccxt unified (`BTC/USDT:USDT`) or venue-native (`BTCUSDT`) names; stored venue-native. */
  readonly symbols: readonly string[];
  /** Bar timeframe, one of {@link BYBIT_TIMEFRAMES} (e.g. `4h`). */
  readonly timeframe: string;
  /** Earliest bar open / funding time to fetch (epoch ms); a series already stored resumes after its last row instead. */
  readonly since: number;
  /** Fetch only rows before this time (epoch ms, exclusive); absent = up to now. */
  readonly until?: number;
  /** Also fetch funding history. */
  readonly funding: boolean;
  /** Called after each bar page with the bars stored so far for `symbol` in this run and the number expected. */
  readonly onProgress?: (symbol: string, barsSoFar: number, expectedTotal: number) => void;
  /** Bars per kline request, 1..1000; default 1000. */
  readonly pageLimit?: number;
  /** Settlements per funding request, 2..200; default 200. */
  readonly fundingPageLimit?: number;
  /** Retries of a request answered with a rate limit before failing with `rate_limited`; default 5. */
  readonly maxRetries?: number;
  /** First back-off delay in ms; attempt k (0-based) waits `baseDelayMs * 2^k`. Default 1000. */
  readonly baseDelayMs?: number;
  /** Clock (epoch ms) deciding which bars are closed and where history ends; the composition root passes the wall clock. */
  readonly now: () => number;
  /** Waits `ms` milliseconds; default a timer. Injected by tests to record back-off delays. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What one run did for one series. `first`/`last` are the open times (epoch ms) of the rows stored in this run. */
export interface SeriesFetchResult {
  readonly pages: number;
  readonly fetched: number;
  readonly inserted: number;
  readonly updated: number;
  readonly first: number | null;
  readonly last: number | null;
  /** Where this run started (epoch ms); after the last stored row when the series was already stored. */
  readonly start: number;
  /** Last row stored before this run, or null for an empty series. */
  readonly resumedAfter: number | null;
}

export interface SymbolFetchResult {
  /** Venue-native symbol, e.g. `BTCUSDT`. */
  readonly symbol: string;
  readonly bars: SeriesFetchResult;
  /** Absent when funding was not requested. */
  readonly funding?: SeriesFetchResult;
}

const DEFAULTS = { pageLimit: MAX_KLINE_PAGE, fundingPageLimit: MAX_FUNDING_PAGE, maxRetries: 5, baseDelayMs: 1000 } as const;

/**
 * Fetches Bybit bar history (and optionally funding history) of each symbol into the store, one symbol after another.
 *
 * Per series it resumes after the last stored row (else from `since`, but never before the contract's launch), pages
 * forward in time windows that hold at most one page of rows, drops bars that are still open according to `now`
 * (close time = open + timeframe > now), and writes every page in its own transaction: an interrupted run keeps its
 * completed pages and the next run continues without duplicates or holes. It stops when the window reaches
 * `min(until, now)`. A request answered with HTTP 429 or retCode 10006/10018 is retried after `baseDelayMs * 2^k`.
 *
 * @throws BybitError `invalid_argument` for an unknown symbol form or timeframe (before any request),
 * `rate_limited` after `maxRetries` retries, `network`, `venue_rejected`, `unexpected_status`, `invalid_response`.
 * @example
 * const results = await fetchHistory(store, new BybitMarketDataClient(), { symbols: ['BTC/USDT:USDT'], timeframe: '4h', since: Date.UTC(2022, 0, 1), funding: true, now: clock.now });
 */
export async function fetchHistory(store: HistoryStore, client: MarketDataClient, options: FetchHistoryOptions): Promise<SymbolFetchResult[]> {
  const timeframe = checkBybitTimeframe(options.timeframe);
  const symbols = options.symbols.map((s) => {
    const parsed = parseSymbolArgument(s);
    if (!parsed.success) throw parsed.error;
    return formatStoreSymbol(parsed.data);
  });
  if (symbols.length === 0) throw new BybitError('invalid_argument', 'symbols must name at least one symbol, was []', { symbols: [] });
  if (!Number.isFinite(options.since)) throw new BybitError('invalid_argument', `since must be epoch ms, was ${options.since}`, { since: options.since });
  if (options.until !== undefined && !(options.until > options.since)) {
    throw new BybitError('invalid_argument', `until must be after since (${options.since}), was ${options.until}`, { since: options.since, until: options.until });
  }
  const pageLimit = checkRange('pageLimit', options.pageLimit ?? DEFAULTS.pageLimit, 1, MAX_KLINE_PAGE);
  const fundingPageLimit = checkRange('fundingPageLimit', options.fundingPageLimit ?? DEFAULTS.fundingPageLimit, 2, MAX_FUNDING_PAGE);
  const maxRetries = checkRange('maxRetries', options.maxRetries ?? DEFAULTS.maxRetries, 0, 100);
  const ctx: RunContext = {
    store,
    client,
    now: options.now,
    retry: { maxRetries, baseDelayMs: options.baseDelayMs ?? DEFAULTS.baseDelayMs, sleep: options.sleep ?? defaultSleep },
  };

  const results: SymbolFetchResult[] = [];
  for (const symbol of symbols) {
    const instrument = await withRateLimitRetry(ctx.retry, () => client.instrument(symbol));
    const since = Math.max(options.since, instrument.launchTs);
    const bars = await fetchBars(ctx, symbol, timeframe, since, options.until, pageLimit, options.onProgress);
    const funding = options.funding ? await fetchFunding(ctx, symbol, instrument.fundingIntervalMs, since, options.until, fundingPageLimit) : undefined;
    results.push({ symbol, bars, ...(funding ? { funding } : {}) });
  }
  return results;
}

interface RetryPolicy {
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
}

interface RunContext {
  readonly store: HistoryStore;
  readonly client: MarketDataClient;
  readonly now: () => number;
  readonly retry: RetryPolicy;
}

async function fetchBars(
  ctx: RunContext,
  symbol: string,
  timeframe: BybitTimeframe,
  since: number,
  until: number | undefined,
  limit: number,
  onProgress: FetchHistoryOptions['onProgress'],
): Promise<SeriesFetchResult> {
  const tf = timeframeMs(timeframe);
  const now = ctx.now();
  // Last open time to fetch: the bar must be closed (open + tf <= now) and open before `until`.
  let endOpen = Math.floor((now - tf) / tf) * tf;
  if (until !== undefined) endOpen = Math.min(endOpen, Math.ceil(until / tf) * tf - tf);
  const resumedAfter = await ctx.store.lastBarTs(BYBIT_VENUE, symbol, timeframe);
  const start = Math.max(Math.ceil(since / tf) * tf, resumedAfter === null ? -Infinity : resumedAfter + tf);
  const expected = endOpen >= start ? Math.floor((endOpen - start) / tf) + 1 : 0;
  const out = newTally();
  let cursor = start;
  while (cursor <= endOpen) {
    // A window of `limit` bar slots holds at most `limit` bars, so the page is complete whichever end Bybit fills from.
    const windowEnd = Math.min(cursor + limit * tf - 1, endOpen);
    const page = await withRateLimitRetry(ctx.retry, () => ctx.client.fetchBarsPage(symbol, timeframe, cursor, limit, windowEnd));
    out.pages++;
    const [from, to] = rangeWithin(page.ts, page.length, cursor, Math.min(windowEnd, now - tf));
    if (to > from) {
      const slice = sliceBars(page, from, to);
      const counts = await ctx.store.transaction(() => ctx.store.upsertBars(BYBIT_VENUE, symbol, timeframe, slice));
      addStoredPage(out, slice.length, slice.ts[0]!, slice.ts[slice.length - 1]!, counts);
      cursor = out.last! + tf;
    } else {
      // No bars in this window (venue outage): continue after it.
      cursor = windowEnd + 1;
    }
    onProgress?.(symbol, out.fetched, expected);
    // The window reached the end: the venue has nothing newer for this run.
    if (windowEnd >= endOpen) break;
  }
  return { ...out, start, resumedAfter };
}

async function fetchFunding(
  ctx: RunContext,
  symbol: string,
  intervalMs: number,
  since: number,
  until: number | undefined,
  limit: number,
): Promise<SeriesFetchResult> {
  const now = ctx.now();
  const end = until === undefined ? now : Math.min(now, until - 1);
  const resumedAfter = await ctx.store.lastFundingTs(BYBIT_VENUE, symbol);
  const start = Math.max(since, resumedAfter === null ? -Infinity : resumedAfter + 1);
  const out = newTally();
  // `limit - 1` intervals hold at most `limit - 1` settlements; a full page means settlements came more often than
  // `fundingInterval` says and the page may be cut, so the window is halved and fetched again.
  let windowMs = (limit - 1) * intervalMs;
  let cursor = start;
  while (cursor <= end) {
    const windowEnd = Math.min(cursor + windowMs - 1, end);
    const page: FundingPage = await withRateLimitRetry(ctx.retry, () => ctx.client.fetchFundingPage(symbol, cursor, limit, windowEnd));
    out.pages++;
    if (page.length >= limit) {
      if (windowMs <= 60_000) throw new BybitError('invalid_response', `Bybit ${symbol}: ${page.length} funding settlements within one minute from ${cursor}`, { symbol, since: cursor });
      windowMs = Math.floor(windowMs / 2);
      continue;
    }
    const [from, to] = rangeWithin(page.ts, page.length, cursor, windowEnd);
    if (to > from) {
      const ts = page.ts.slice(from, to);
      const rate = page.rate.slice(from, to);
      const counts = await ctx.store.transaction(() => ctx.store.upsertFunding(BYBIT_VENUE, symbol, ts, rate));
      addStoredPage(out, ts.length, ts[0]!, ts[ts.length - 1]!, counts);
      cursor = out.last! + 1;
    } else {
      cursor = windowEnd + 1;
    }
    if (windowEnd >= end) break;
  }
  return { ...out, start, resumedAfter };
}

/**
 * Runs `request`, retrying it after `baseDelayMs * 2^k` (k = 0, 1, ...) while it fails with `rate_limited`.
 * @throws BybitError `rate_limited` (context `attempts`) once `maxRetries` retries were used; other errors at once.
 */
export async function withRateLimitRetry<T>(policy: RetryPolicy, request: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (e) {
      if (!(e instanceof BybitError) || e.code !== 'rate_limited') throw e;
      if (attempt >= policy.maxRetries) {
        throw new BybitError('rate_limited', `Bybit kept answering with a rate limit after ${policy.maxRetries} retries: ${e.message}`, { ...e.context, attempts: attempt + 1 }, { cause: e });
      }
      await policy.sleep(policy.baseDelayMs * 2 ** attempt);
    }
  }
}

/** Index range [from, to) of the sorted `ts[0..length)` within [lo, hi]. */
function rangeWithin(ts: Float64Array, length: number, lo: number, hi: number): [number, number] {
  let from = 0;
  while (from < length && ts[from]! < lo) from++;
  let to = from;
  while (to < length && ts[to]! <= hi) to++;
  return [from, to];
}

function sliceBars(page: BarPage, from: number, to: number): BarPage {
  return {
    length: to - from,
    ts: page.ts.subarray(from, to),
    open: page.open.subarray(from, to),
    high: page.high.subarray(from, to),
    low: page.low.subarray(from, to),
    close: page.close.subarray(from, to),
    volume: page.volume.subarray(from, to),
  };
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BybitError('invalid_argument', `${name} must be an integer in [${min}, ${max}], was ${value}`, { [name]: value });
  }
  return value;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
