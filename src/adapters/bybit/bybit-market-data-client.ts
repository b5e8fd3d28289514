import { BadResponse, BaseError, burstBucket, CcxtBybit, DDoSProtection, DEFAULT_RATE_LIMIT_BURST, ExchangeError, NetworkError, RateLimitExceeded, type OHLCV } from './ccxt-bybit.js';
import { redactError, remoteBodyExcerpt } from '../../core/redact.js';
import { ohlcvColumns, type BarPage } from '../series-pages.js';
import { BybitError } from './bybit-error.js';
import { storeToUnifiedSymbol } from './symbols.js';

/** Timeframes Bybit serves klines for and this adapter maps (ccxt name = our name; Bybit interval code in brackets). */
export const BYBIT_TIMEFRAMES = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d'] as const;
export type BybitTimeframe = (typeof BYBIT_TIMEFRAMES)[number];

/** Bybit's largest kline page (`limit` 1..1000) and funding-history page (`limit` 1..200). */
export const MAX_KLINE_PAGE = 1000;
export const MAX_FUNDING_PAGE = 200;

/**
 * Returns `timeframe` when Bybit serves klines for it. Weekly and monthly bars are left out because Bybit aligns them to
 * Monday and to the calendar month, which epoch-aligned timeframes cannot express.
 * @throws BybitError `invalid_argument` naming the value and the supported list.
 */
export function checkBybitTimeframe(timeframe: string): BybitTimeframe {
  if (!(BYBIT_TIMEFRAMES as readonly string[]).includes(timeframe)) {
    throw new BybitError('invalid_argument', `timeframe must be one of ${BYBIT_TIMEFRAMES.join(', ')}, was ${JSON.stringify(timeframe)}`, { timeframe });
  }
  return timeframe as BybitTimeframe;
}

export type { BarPage } from '../series-pages.js';

/** One page of funding settlements, oldest first; `ts` in epoch ms, `rate` the fraction paid per settlement. */
export interface FundingPage {
  readonly length: number;
  readonly ts: Float64Array;
  readonly rate: Float64Array;
}

/** What the history fetcher needs to know about a contract. */
export interface InstrumentInfo {
  /** Venue-native symbol, e.g. `BTCUSDT`. */
  readonly symbol: string;
  /** Listing time in epoch ms (no bars or funding exist before it); 0 when the venue does not say. */
  readonly launchTs: number;
  /** Time between funding settlements in ms (Bybit `fundingInterval`, minutes); 8 h when the venue does not say. */
  readonly fundingIntervalMs: number;
}

/**
 * The venue port used by `fetchHistory`: paged, read-only market-data requests keyed by venue-native symbols.
 * Implemented by {@link BybitMarketDataClient}; tests may plug in a fake.
 */
export interface MarketDataClient {
  /** Returns the instrument, or throws BybitError `venue_rejected` when the venue does not list it. */
  instrument(symbol: string): Promise<InstrumentInfo>;
  /** Returns at most `limit` bars opening in [`since`, `until`] (both epoch ms, inclusive), oldest first. */
  fetchBarsPage(symbol: string, timeframe: BybitTimeframe, since: number, limit: number, until?: number): Promise<BarPage>;
  /** Returns at most `limit` funding settlements in [`since`, `until`] (epoch ms, inclusive), oldest first. */
  fetchFundingPage(symbol: string, since: number, limit: number, until?: number): Promise<FundingPage>;
  /** Releases connections. */
  close(): Promise<void>;
}

export interface BybitMarketDataClientConfig {
  /** Base URL replacing every Bybit REST host (e.g. `http://127.0.0.1:41234` for a local test server); absent = api.bybit.com. */
  readonly apiUrl?: string;
  /** Deadline of one REST request in ms (ccxt `timeout`); default 10 000 (the CLI passes `TM_EXCHANGE_TIMEOUT_MS`). */
  readonly timeoutMs?: number;
  /** ccxt's minimum spacing between requests in ms; default ccxt's Bybit value (20 ms). */
  readonly rateLimitMs?: number;
  /** ccxt cost units that may leave at once after a quiet spell (markets + first kline pages), then `rateLimitMs` per unit; default {@link DEFAULT_RATE_LIMIT_BURST}. */
  readonly rateLimitBurst?: number;
}

/**
 * Market data from Bybit v5 (USDT linear perpetuals) through ccxt. Needs no API keys and holds none.
 * Every ccxt and transport error is rethrown as a {@link BybitError}.
 *
 * Requests: the first call loads markets with `GET /v5/market/instruments-info?category=linear&limit=1000` (plus the
 * same with `status=PreLaunch`); bars use `GET /v5/market/kline`, funding `GET /v5/market/funding/history`.
 * @example
 * const client = new BybitMarketDataClient({ apiUrl: 'http://127.0.0.1:41234' });
 * const page = await client.fetchBarsPage('BTCUSDT', '4h', Date.UTC(2022, 0, 1), 1000);
 * await client.close();
 */
export class BybitMarketDataClient implements MarketDataClient {
  private readonly exchange: CcxtBybit;
  private marketsFailed = false;

  constructor(config: BybitMarketDataClientConfig = {}) {
    const apiUrl = config.apiUrl === undefined ? undefined : checkApiUrl(config.apiUrl);
    this.exchange = new CcxtBybit({
      enableRateLimit: true,
      timeout: config.timeoutMs ?? 10_000,
      ...(config.rateLimitMs !== undefined ? { rateLimit: config.rateLimitMs } : {}),
      tokenBucket: burstBucket(config.rateLimitBurst ?? DEFAULT_RATE_LIMIT_BURST),
      // Bybit's `urls.api` has one host per API group; ccxt's bybit calls only `public` and `private` today,
      // the others are overridden too so no request can leave for the real venue.
      ...(apiUrl !== undefined ? { urls: { api: { spot: apiUrl, futures: apiUrl, v2: apiUrl, public: apiUrl, private: apiUrl } } } : {}),
      options: {
        defaultType: 'swap',
        defaultSubType: 'linear',
        // Load linear contracts only: one instruments-info request (plus the pre-launch one) instead of
        // spot + linear + inverse + one per option base coin.
        fetchMarkets: { types: ['linear'] },
      },
    });
  }

  async instrument(symbol: string): Promise<InstrumentInfo> {
    const unified = storeToUnifiedSymbol(symbol);
    await this.loadMarkets();
    const market = this.exchange.markets?.[unified];
    if (market === undefined || market.linear !== true || market.swap !== true) {
      throw new BybitError('venue_rejected', `Bybit does not list the linear perpetual ${symbol} (${unified})`, { symbol });
    }
    const info = market.info as Record<string, unknown>;
    const fundingMinutes = Number(info['fundingInterval']);
    const launch = Number(info['launchTime']);
    return {
      symbol,
      launchTs: Number.isFinite(launch) && launch > 0 ? launch : 0,
      fundingIntervalMs: Number.isFinite(fundingMinutes) && fundingMinutes > 0 ? fundingMinutes * 60_000 : 8 * 3_600_000,
    };
  }

  /**
   * Time between funding settlements of the linear perpetual `symbol` in ms, as the venue states it now (one fresh
   * `/v5/market/instruments-info` request; {@link instrument} reads the markets loaded once). Bybit changes a contract's
   * `fundingInterval` while it trades (e.g. 8 h to 4 h when its rate stays at the cap); live runs ask on a sign of a
   * change (FundingIntervals).
   * @throws BybitError `venue_rejected` when the venue lists no such contract or states no interval.
   */
  async fundingIntervalNow(symbol: string): Promise<number> {
    const body = await this.call({ symbol, request: 'instruments-info' }, () => this.exchange.publicGetV5MarketInstrumentsInfo({ category: 'linear', symbol }));
    const list = (body as { result?: { list?: unknown } }).result?.list;
    const info = Array.isArray(list) ? (list.find((x: unknown) => (x as Record<string, unknown> | null)?.['symbol'] === symbol) as Record<string, unknown> | undefined) : undefined;
    const minutes = Number(info?.['fundingInterval']);
    if (info === undefined || !Number.isFinite(minutes) || minutes <= 0) {
      throw new BybitError('venue_rejected', `Bybit states no funding interval of the linear perpetual ${symbol} (instruments-info ${info === undefined ? 'lists no such contract' : `fundingInterval ${JSON.stringify(info['fundingInterval'])}`})`, { symbol });
    }
    return minutes * 60_000;
  }

  async fetchBarsPage(symbol: string, timeframe: BybitTimeframe, since: number, limit: number, until?: number): Promise<BarPage> {
    checkLimit(limit, MAX_KLINE_PAGE);
    const unified = storeToUnifiedSymbol(symbol);
    await this.loadMarkets();
    const rows = await this.call({ symbol, request: 'kline', since }, () =>
      this.exchange.fetchOHLCV(unified, timeframe, since, limit, until === undefined ? {} : { until }),
    );
    return toBarPage(symbol, rows);
  }

  async fetchFundingPage(symbol: string, since: number, limit: number, until?: number): Promise<FundingPage> {
    checkLimit(limit, MAX_FUNDING_PAGE);
    const unified = storeToUnifiedSymbol(symbol);
    await this.loadMarkets();
    const rows = await this.call({ symbol, request: 'funding', since }, () =>
      this.exchange.fetchFundingRateHistory(unified, since, limit, until === undefined ? {} : { until }),
    );
    const ts = new Float64Array(rows.length);
    const rate = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const t = rows[i]!.timestamp;
      const r = rows[i]!.fundingRate;
      if (!Number.isSafeInteger(t) || typeof r !== 'number' || !Number.isFinite(r)) {
        throw invalidResponse(symbol, `funding row ${i} has timestamp ${String(t)} and rate ${String(r)}; both must be finite numbers`, i);
      }
      if (i > 0 && t! <= ts[i - 1]!) throw invalidResponse(symbol, `funding timestamps must increase, row ${i} is ${t} after ${ts[i - 1]}`, i);
      ts[i] = t!;
      rate[i] = r;
    }
    return { length: rows.length, ts, rate };
  }

  /**
   * The venue's best bid and ask of `symbol` now (`/v5/market/tickers`), as the spread in basis points of the mid.
   * @throws BybitError `invalid_response` when the ticker has no positive bid below or at its ask.
   */
  async spreadBasisPoints(symbol: string): Promise<number> {
    const unified = storeToUnifiedSymbol(symbol);
    await this.loadMarkets();
    const ticker = await this.call({ symbol, request: 'ticker' }, () => this.exchange.fetchTicker(unified));
    const bid = ticker.bid, ask = ticker.ask;
    if (!(typeof bid === 'number' && typeof ask === 'number' && bid > 0 && ask >= bid)) throw invalidResponse(symbol, `ticker has bid ${String(bid)} and ask ${String(ask)}; expected 0 < bid <= ask`, 0);
    return ((ask - bid) / ((ask + bid) / 2)) * 10_000;
  }

  /** Closes ccxt's keep-alive connection pool, so a CLI process can exit right away. */
  async close(): Promise<void> {
    await this.exchange.close();
    // ccxt (4.5) keeps REST sockets in its own undici Agent and its close() leaves that Agent open.
    const dispatcher = (this.exchange as unknown as { fetchDispatcher?: { close(): Promise<void> } }).fetchDispatcher;
    await dispatcher?.close();
  }

  /** Loads markets once; after a failed load the next call loads again (ccxt would keep the rejected promise). */
  private async loadMarkets(): Promise<void> {
    const reload = this.marketsFailed;
    try {
      await this.call({ request: 'instruments' }, () => this.exchange.loadMarkets(reload));
      this.marketsFailed = false;
    } catch (e) {
      this.marketsFailed = true;
      throw e;
    }
  }

  private async call<T>(context: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toBybitError(e, context);
    }
  }
}

/**
 * Maps an error thrown by ccxt (or by the transport under it) to a {@link BybitError}; other errors are returned as they are.
 * ccxt raises `RateLimitExceeded` for HTTP 429 and retCodes 10006/10018, `DDoSProtection` for 418,
 * `ExchangeError` subclasses for other non-zero retCodes, and `NetworkError` subclasses for transport failures
 * and for other HTTP error statuses (the status is then part of the message).
 */
export function toBybitError(e: unknown, context: Record<string, unknown> = {}): unknown {
  if (e instanceof BybitError || !(e instanceof BaseError)) return e;
  // ccxt quotes the request URL and the venue's body: redact (signatures, keys, X-BAPI-* headers) and truncate them.
  const message = remoteBodyExcerpt(e.message, [], 400);
  const status = /^\S+ [A-Z]+ \S+ (\d{3}) /.exec(e.message)?.[1];
  const retCode = /"ret_?[cC]ode"\s*:\s*"?(-?\d+)/.exec(e.message)?.[1];
  const details = { ...context, ccxtError: e.constructor.name, ...(status ? { status: Number(status) } : {}), ...(retCode ? { retCode: Number(retCode) } : {}) };
  const cause = redactError(e);
  if (e instanceof RateLimitExceeded || e instanceof DDoSProtection) {
    return new BybitError('rate_limited', `Bybit rate limit hit: ${message}`, details, { cause });
  }
  if (e instanceof ExchangeError) {
    return new BybitError('venue_rejected', `Bybit rejected the request: ${message}`, details, { cause });
  }
  if (e instanceof NetworkError && status !== undefined) {
    return new BybitError('unexpected_status', `Bybit answered HTTP ${status}: ${message}`, details, { cause });
  }
  if (e instanceof NetworkError) {
    return new BybitError('network', `Bybit request failed: ${message}`, details, { cause });
  }
  if (e instanceof BadResponse) {
    return new BybitError('invalid_response', `Bybit sent an unreadable response: ${message}`, details, { cause });
  }
  return new BybitError('unexpected_status', `Bybit request failed: ${message}`, details, { cause });
}

/** Converts ccxt OHLCV rows into columns, checking each bar (corrupt data is worse than no data). */
function toBarPage(symbol: string, rows: readonly OHLCV[]): BarPage {
  return ohlcvColumns(rows, (row, problem) => invalidResponse(symbol, problem, row));
}

function checkApiUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BybitError('invalid_argument', `api URL must be an absolute http(s) URL like http://127.0.0.1:8080, was ${JSON.stringify(text)}`, { apiUrl: text });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BybitError('invalid_argument', `api URL must use http or https, was ${JSON.stringify(text)}`, { apiUrl: text });
  }
  return text.replace(/\/+$/, '');
}

function checkLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new BybitError('invalid_argument', `limit must be an integer in [1, ${max}], was ${limit}`, { limit });
  }
}

function invalidResponse(symbol: string, problem: string, row: number): BybitError {
  return new BybitError('invalid_response', `Bybit ${symbol}: ${problem}`, { symbol, row });
}
