import ccxt, { type Exchange } from 'ccxt';
import { CcxtError, type CcxtErrorCode } from './ccxt-error.js';

/** Settings of {@link createCcxtExchange}. */
export interface CcxtExchangeConfig {
  /** Base URL replacing every REST host of the exchange (a local test server); absent = the exchange's own hosts. */
  readonly apiUrl?: string;
  /** Request timeout in ms; default 10 000. */
  readonly timeoutMs?: number;
  /** Extra ccxt `options` of the exchange (e.g. `{ defaultType: 'swap' }`). */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Every exchange id ccxt ships, sorted. */
export function ccxtExchangeIds(): readonly string[] {
  return [...ccxt.exchanges].sort();
}

/**
 * Creates the ccxt exchange `id` for public market data (no keys) with ccxt's rate limiter on.
 * @throws CcxtError `unknown_exchange` (the message lists close ids), `invalid_argument` for a bad `apiUrl`.
 */
export function createCcxtExchange(id: string, config: CcxtExchangeConfig = {}): Exchange {
  const ids = ccxtExchangeIds();
  if (!ids.includes(id)) {
    const close = ids.filter((x) => x.startsWith(id.slice(0, 3).toLowerCase())).slice(0, 8);
    throw new CcxtError('unknown_exchange', `exchange must be a ccxt exchange id (${ids.length} known${close.length ? `, e.g. ${close.join(', ')}` : ''}), was ${JSON.stringify(id)}`, { exchange: id });
  }
  const Class = (ccxt as unknown as Record<string, new (settings: Record<string, unknown>) => Exchange>)[id]!;
  const exchange = new Class({ enableRateLimit: true, timeout: config.timeoutMs ?? 10_000, ...(config.options ? { options: { ...config.options } } : {}) });
  if (config.apiUrl !== undefined) exchange.urls['api'] = replaceHosts(exchange.urls['api'], checkApiUrl(config.apiUrl)) as typeof exchange.urls['api'];
  return exchange;
}

/** Replaces every URL string in ccxt's `urls.api` (a string or a nested map of API group -> URL) with `url`. */
function replaceHosts(api: unknown, url: string): unknown {
  if (typeof api === 'string') return url;
  if (api !== null && typeof api === 'object') return Object.fromEntries(Object.entries(api).map(([k, v]) => [k, replaceHosts(v, url)]));
  return api;
}

function checkApiUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new CcxtError('invalid_argument', `api URL must be an absolute http(s) URL like http://127.0.0.1:8080, was ${JSON.stringify(text)}`, { apiUrl: text });
  }
  return text.replace(/\/+$/, '');
}

/** What an exchange can serve, read from ccxt's metadata only (no request). */
export interface CcxtCapabilities {
  readonly exchange: string;
  readonly ohlcv: boolean;
  readonly funding: boolean;
  readonly timeframes: readonly string[];
}

/** Returns the capabilities of `exchange` as ccxt declares them (`has.fetchOHLCV`, `has.fetchFundingRateHistory`, `timeframes`). */
export function ccxtCapabilities(exchange: Exchange): CcxtCapabilities {
  return {
    exchange: exchange.id,
    ohlcv: exchange.has['fetchOHLCV'] === true || exchange.has['fetchOHLCV'] === 'emulated',
    funding: exchange.has['fetchFundingRateHistory'] === true,
    timeframes: Object.keys(exchange.timeframes ?? {}),
  };
}

/**
 * Checks that `exchange` serves bars of `timeframe` (by ccxt's metadata).
 * @throws CcxtError `unsupported` naming the exchange, the timeframe and the ones it serves.
 */
export function checkCcxtTimeframe(exchange: Exchange, timeframe: string): void {
  const caps = ccxtCapabilities(exchange);
  if (!caps.ohlcv) throw new CcxtError('unsupported', `${caps.exchange} does not serve OHLCV bars through ccxt (has.fetchOHLCV is false)`, { exchange: caps.exchange });
  if (!caps.timeframes.includes(timeframe)) {
    throw new CcxtError('unsupported', `timeframe must be one ${caps.exchange} serves (${caps.timeframes.join(', ') || 'none declared'}), was ${JSON.stringify(timeframe)}`, { exchange: caps.exchange, timeframe });
  }
}

/** ccxt error class name -> our code; the first class `e` is an instance of wins (subclasses first). */
const ERROR_CODES: readonly [string, CcxtErrorCode][] = [
  ['RateLimitExceeded', 'rate_limited'],
  ['DDoSProtection', 'rate_limited'],
  ['BadSymbol', 'invalid_argument'],
  ['NotSupported', 'unsupported'],
  ['ExchangeError', 'venue_rejected'],
  ['BadResponse', 'invalid_response'],
  ['NetworkError', 'network'],
];

/**
 * Maps an error thrown by ccxt to a {@link CcxtError} (context: the given `context`, `exchange`, `ccxtError`, and the
 * HTTP `status` when ccxt's message carries one); other errors are returned unchanged.
 */
export function toCcxtError(e: unknown, exchange: string, context: Record<string, unknown> = {}): unknown {
  if (e instanceof CcxtError || !(e instanceof ccxt.BaseError)) return e;
  const message = e.message.length > 400 ? `${e.message.slice(0, 400)}…` : e.message;
  const status = /^\S+ [A-Z]+ \S+ (\d{3}) /.exec(e.message)?.[1];
  const classes = ccxt as unknown as Record<string, abstract new (...a: never[]) => unknown>;
  let code = ERROR_CODES.find(([name]) => classes[name] !== undefined && e instanceof classes[name])?.[1] ?? 'unexpected_status';
  if (code === 'network' && status !== undefined) code = 'unexpected_status';
  const details = { ...context, exchange, ccxtError: e.constructor.name, ...(status ? { status: Number(status) } : {}) };
  return new CcxtError(code, `${exchange}: ${code.replace('_', ' ')}: ${message}`, details, { cause: e });
}

/** Runs a ccxt call, rethrowing its errors through {@link toCcxtError}. */
export async function callCcxt<T>(exchange: Exchange, context: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toCcxtError(e, exchange.id, context);
  }
}

/** Closes ccxt's keep-alive connections (also the undici Agent ccxt 4.5 leaves open), so a CLI process can exit. */
export async function closeCcxtExchange(exchange: Exchange): Promise<void> {
  await exchange.close();
  const dispatcher = (exchange as unknown as { fetchDispatcher?: { close(): Promise<void> } }).fetchDispatcher;
  await dispatcher?.close();
}
