import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local HTTP server that speaks the subset of the Bybit v5 REST API that ccxt's `bybit` class calls for market data,
 * for tests that must not touch the network. Listens on 127.0.0.1 (port 0 = any free port).
 *
 * Routes live in a table (`METHOD path` → handler); the market routes are registered by default and tests can add
 * more (e.g. order and position endpoints for the live runner) with {@link BybitV5Server.route}. Every response is
 * wrapped in Bybit's envelope `{ retCode, retMsg, result, retExtInfo, time }`. Faults (HTTP status, non-zero `retCode`,
 * dropped connection) are injected with {@link BybitV5Server.inject}; every request is recorded in
 * {@link BybitV5Server.requests}.
 *
 * Selection rules of the market routes (from Bybit's v5 docs and ccxt's response examples in bybit.js):
 * - `/v5/market/kline`: `list` is newest first, rows `[startTime, open, high, low, close, volume, turnover]`, all strings.
 *   Rows with `start <= startTime <= end`; with `start` the oldest `limit` rows of that range (Bybit answers
 *   `start=9999&limit=1` with the first candle), without `start` the newest `limit` rows. `limit` 1..1000, default 200.
 * - `/v5/market/funding/history`: `list` newest first, `{ symbol, fundingRate, fundingRateTimestamp }`, none after `now`.
 *   `startTime` without `endTime` is rejected (retCode 10001) as Bybit does; otherwise the newest `limit` rows with
 *   `startTime <= ts <= endTime`. `limit` 1..200, default 200.
 */
export class BybitV5Server {
  /** Every request received, in arrival order (also the ones answered with a fault). */
  readonly requests: RequestLogEntry[] = [];
  private readonly routes = new Map<string, RouteHandler>();
  private faults: FaultRule[] = [];
  private readonly data: MarketData;
  private readonly now: () => number;
  private readonly tickerSpreadBps: number | undefined;
  /** Sockets of requests left unanswered on purpose (`hang` faults), destroyed by {@link close}. */
  private readonly hanging = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    data: BybitV5ServerData,
  ) {
    this.data = {
      instruments: data.instruments ?? { linear: DEFAULT_LINEAR_INSTRUMENTS },
      klines: data.klines ?? {},
      funding: data.funding ?? {},
    };
    this.now = data.now ?? (() => Date.now());
    this.tickerSpreadBps = data.tickerSpreadBps;
    this.registerMarketRoutes();
  }

  /** Starts a server on 127.0.0.1 with the given in-memory data. */
  static async start(data: BybitV5ServerData = {}): Promise<BybitV5Server> {
    let self: BybitV5Server | undefined;
    const server = createServer((req, res) => void self!.handle(req, res));
    self = new BybitV5Server(server, data);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return self;
  }

  /** Base URL such as `http://127.0.0.1:41234` (no trailing slash). */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Registers (or replaces) the handler of `METHOD path`. */
  route(method: string, path: string, handler: RouteHandler): this {
    this.routes.set(`${method.toUpperCase()} ${path}`, handler);
    return this;
  }

  /**
   * Makes the next `count` requests whose path equals `path` (all paths when absent) answer with `fault`,
   * after letting `after` matching requests through normally.
   * @example server.inject({ path: '/v5/market/kline', after: 2, count: 1, fault: { kind: 'drop' } })
   */
  inject(rule: { path?: string; after?: number; count?: number; fault: Fault }): this {
    this.faults.push({ path: rule.path, skip: rule.after ?? 0, remaining: rule.count ?? 1, fault: rule.fault });
    return this;
  }

  /** Removes every pending fault. */
  clearFaults(): this {
    this.faults = [];
    return this;
  }

  /** Requests to `path` (all when absent) from the log. */
  requestsTo(path?: string): RequestLogEntry[] {
    return path === undefined ? [...this.requests] : this.requests.filter((r) => r.path === path);
  }

  /** Stops listening and closes open keep-alive connections. */
  async close(): Promise<void> {
    for (const socket of this.hanging) socket.destroy();
    this.hanging.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams.entries());
    const rawQuery = url.search.startsWith('?') ? url.search.slice(1) : '';
    const entry: RequestLogEntry = { method: req.method ?? 'GET', path: url.pathname, query, status: 0, outcome: 'ok' };
    this.requests.push(entry);
    const body = await readBody(req);
    const fault = this.takeFault(url.pathname);
    if (fault) return this.answerFault(req, res, entry, fault);
    const handler = this.routes.get(`${entry.method} ${url.pathname}`);
    if (!handler) {
      entry.status = 404;
      entry.outcome = 'not_found';
      return send(res, 404, `route not found: ${entry.method} ${url.pathname}`, 'text/plain');
    }
    try {
      const result = await handler({ method: entry.method, path: url.pathname, query, rawQuery, headers: req.headers, body });
      entry.status = 200;
      send(res, 200, envelope(this.now(), 0, 'OK', result), 'application/json');
    } catch (e) {
      if (e instanceof BybitV5Fault) return this.answerFault(req, res, entry, e.fault);
      if (e instanceof BybitV5Reject) {
        entry.status = 200;
        entry.outcome = 'rejected';
        return send(res, 200, envelope(this.now(), e.retCode, e.message, {}), 'application/json');
      }
      entry.status = 500;
      entry.outcome = 'handler_error';
      send(res, 500, String((e as Error).stack ?? e), 'text/plain');
    }
  }

  private answerFault(req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry, fault: Fault): void {
    entry.outcome = fault.kind;
    if (fault.kind === 'drop') {
      entry.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault.kind === 'hang') {
      entry.status = -1;
      const socket = req.socket;
      this.hanging.add(socket);
      socket.once('close', () => this.hanging.delete(socket));
      return;
    }
    if (fault.kind === 'http_status') {
      entry.status = fault.status;
      return send(res, fault.status, fault.body ?? '', 'text/plain');
    }
    entry.status = 200;
    return send(res, 200, envelope(this.now(), fault.retCode, fault.retMsg, {}), 'application/json');
  }

  private takeFault(path: string): Fault | undefined {
    for (const rule of this.faults) {
      if (rule.path !== undefined && rule.path !== path) continue;
      if (rule.remaining <= 0) continue;
      if (rule.skip > 0) {
        rule.skip--;
        continue;
      }
      rule.remaining--;
      return rule.fault;
    }
    return undefined;
  }

  private registerMarketRoutes(): void {
    this.route('GET', '/v5/market/time', () => {
      const ms = this.now();
      return { timeSecond: String(Math.floor(ms / 1000)), timeNano: `${ms}000000` };
    });

    this.route('GET', '/v5/market/instruments-info', ({ query }) => {
      const category = required(query, 'category');
      if (!['linear', 'inverse', 'spot', 'option'].includes(category)) throw new BybitV5Reject(10001, `params error: category ${category} is invalid`);
      // Pre-launch contracts: none.
      const all = query['status'] === 'PreLaunch' ? [] : (this.data.instruments[category as Category] ?? []);
      const list = query['symbol'] ? all.filter((i) => i['symbol'] === query['symbol']) : all;
      return { category, list, nextPageCursor: '' };
    });

    this.route('GET', '/v5/market/kline', ({ query }) => {
      const category = required(query, 'category');
      const symbol = required(query, 'symbol');
      const interval = required(query, 'interval');
      if (!KLINE_INTERVALS.includes(interval)) throw new BybitV5Reject(10001, `params error: invalid interval ${interval}`);
      const limit = intParam(query, 'limit', 200, 1, 1000);
      const start = optionalInt(query, 'start');
      const end = optionalInt(query, 'end');
      const series = category === 'linear' ? this.data.klines[symbol]?.[interval] : undefined;
      if (series === undefined && !this.hasInstrument(category, symbol)) throw new BybitV5Reject(10001, 'params error: symbol invalid');
      const rows: string[][] = [];
      if (series) {
        const [from, to] = selectRange(series.ts, start, end, limit);
        for (let i = to - 1; i >= from; i--) {
          const close = series.close[i]!;
          const volume = series.volume[i]!;
          rows.push([String(series.ts[i]), String(series.open[i]), String(series.high[i]), String(series.low[i]), String(close), String(volume), String(volume * close)]);
        }
      }
      return { symbol, category, list: rows };
    });

    this.route('GET', '/v5/market/tickers', ({ query }) => {
      const category = required(query, 'category');
      if (category !== 'linear') throw new BybitV5Reject(10001, `params error: category ${category} is invalid`);
      const symbols = query['symbol'] ? [query['symbol']] : Object.keys(this.data.klines);
      const now = this.now();
      const half = (this.tickerSpreadBps ?? 2) / 2e4;
      const list = symbols.flatMap((symbol) => {
        // The last price: the newest kline (any interval) opened at or before the clock, its close.
        let last = NaN, lastTs = -Infinity;
        for (const series of Object.values(this.data.klines[symbol] ?? {})) {
          for (let i = series.ts.length - 1; i >= 0; i--) {
            if (series.ts[i]! > now) continue;
            if (series.ts[i]! > lastTs) (last = series.close[i]!), (lastTs = series.ts[i]!);
            break;
          }
        }
        if (!(last > 0)) return [];
        return [{ symbol, lastPrice: String(last), bid1Price: String(last * (1 - half)), bid1Size: '1', ask1Price: String(last * (1 + half)), ask1Size: '1', markPrice: String(last), indexPrice: String(last) }];
      });
      if (list.length === 0 && query['symbol'] && !this.hasInstrument(category, query['symbol'])) throw new BybitV5Reject(10001, 'params error: symbol invalid');
      return { category, list };
    });

    this.route('GET', '/v5/market/funding/history', ({ query }) => {
      const category = required(query, 'category');
      const symbol = required(query, 'symbol');
      if (category !== 'linear' && category !== 'inverse') throw new BybitV5Reject(10001, `params error: category ${category} is invalid`);
      const limit = intParam(query, 'limit', 200, 1, 200);
      const start = optionalInt(query, 'startTime');
      const end = optionalInt(query, 'endTime');
      if (start !== undefined && end === undefined) throw new BybitV5Reject(10001, 'params error: endTime is required when startTime is given');
      const series = category === 'linear' ? this.data.funding[symbol] : undefined;
      if (series === undefined && !this.hasInstrument(category, symbol)) throw new BybitV5Reject(10001, 'params error: symbol invalid');
      const list: { symbol: string; fundingRate: string; fundingRateTimestamp: string }[] = [];
      if (series) {
        // Newest `limit` rows of the range (Bybit pages funding backwards from endTime); none after the server's clock
        // (a settlement is listed once it happened).
        const now = this.now();
        const [from, to] = selectRange(series.ts, start, end === undefined || end > now ? now : end, limit, 'newest');
        for (let i = to - 1; i >= from; i--) list.push({ symbol, fundingRate: String(series.rate[i]), fundingRateTimestamp: String(series.ts[i]) });
      }
      return { category, list };
    });
  }

  private hasInstrument(category: string, symbol: string): boolean {
    return (this.data.instruments[category as Category] ?? []).some((i) => i['symbol'] === symbol);
  }
}

/** One recorded request. `status` is -1 for a dropped connection; `outcome` names the fault or `ok`. */
export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  status: number;
  outcome: 'ok' | 'not_found' | 'rejected' | 'handler_error' | Fault['kind'];
}

/**
 * A fault answered instead of the route: an HTTP status with a text body, a Bybit `retCode` with HTTP 200, a reset
 * connection, or no answer at all (`hang`: the socket stays open until the client gives up or the server closes).
 */
export type Fault =
  | { readonly kind: 'http_status'; readonly status: number; readonly body?: string }
  | { readonly kind: 'ret_code'; readonly retCode: number; readonly retMsg: string }
  | { readonly kind: 'drop' }
  | { readonly kind: 'hang' };

/** Common faults. */
export const FAULTS = {
  tooManyRequests: { kind: 'http_status', status: 429, body: 'Too Many Requests' },
  tooManyVisits: { kind: 'ret_code', retCode: 10006, retMsg: 'Too many visits!' },
  ipRateLimit: { kind: 'ret_code', retCode: 10018, retMsg: 'Out of frequency limit.' },
  drop: { kind: 'drop' },
} as const satisfies Record<string, Fault>;

/** What a route handler gets: the parsed query, the query string exactly as sent (`rawQuery`), headers and the raw body. */
export interface RouteRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly rawQuery: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A route handler; returns (or resolves to) the `result` object of the envelope, throws {@link BybitV5Reject} for a
 * non-zero retCode, or {@link BybitV5Fault} to answer with a fault (after doing its work: a lost response).
 */
export type RouteHandler = (request: RouteRequest) => unknown;

/** Thrown by a handler to answer with `fault` instead of its result (e.g. an order placed whose answer is lost). */
export class BybitV5Fault extends Error {
  constructor(readonly fault: Fault) {
    super(`injected fault ${fault.kind}`);
  }
}

/** Thrown by a handler to answer HTTP 200 with a non-zero `retCode`. */
export class BybitV5Reject extends Error {
  constructor(
    readonly retCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Columnar bars, oldest first; `ts` is the open time in epoch ms. */
export interface ServerBars {
  readonly ts: ArrayLike<number>;
  readonly open: ArrayLike<number>;
  readonly high: ArrayLike<number>;
  readonly low: ArrayLike<number>;
  readonly close: ArrayLike<number>;
  readonly volume: ArrayLike<number>;
}

/** Funding settlements, oldest first; `ts` in epoch ms, `rate` the fraction paid per settlement. */
export interface ServerFunding {
  readonly ts: ArrayLike<number>;
  readonly rate: ArrayLike<number>;
}

type Category = 'linear' | 'inverse' | 'spot' | 'option';

export interface BybitV5ServerData {
  /** Instruments per category as Bybit returns them; default: linear BTCUSDT, ETHUSDT, SOLUSDT and empty lists elsewhere. */
  readonly instruments?: Partial<Record<Category, readonly Record<string, unknown>[]>>;
  /** Linear klines by venue symbol and Bybit interval code (`240` for 4h, `D` for 1d). */
  readonly klines?: Readonly<Record<string, Readonly<Record<string, ServerBars>>>>;
  /** Linear funding history by venue symbol. */
  readonly funding?: Readonly<Record<string, ServerFunding>>;
  /** Server clock for `/v5/market/time` and the envelope's `time`; default Date.now. */
  readonly now?: () => number;
  /**
   * Spread of the synthetic book `/v5/market/tickers` quotes, in basis points around the last price (the close of the
   * newest kline opened at or before the clock); default 2.
   */
  readonly tickerSpreadBps?: number;
}

interface MarketData {
  readonly instruments: Partial<Record<Category, readonly Record<string, unknown>[]>>;
  readonly klines: Readonly<Record<string, Readonly<Record<string, ServerBars>>>>;
  readonly funding: Readonly<Record<string, ServerFunding>>;
}

interface FaultRule {
  readonly path: string | undefined;
  skip: number;
  remaining: number;
  readonly fault: Fault;
}

/** Bybit kline interval codes. */
export const KLINE_INTERVALS: readonly string[] = ['1', '3', '5', '15', '30', '60', '120', '240', '360', '720', 'D', 'W', 'M'];

/** Builds a linear USDT perpetual as `/v5/market/instruments-info?category=linear` lists it. */
export function linearPerpetual(base: string, filters: { tickSize: string; qtyStep: string; minOrderQty: string; maxOrderQty: string; maxLeverage: string; priceScale: string; launchTime: string; fundingInterval?: number }): Record<string, unknown> {
  return {
    symbol: `${base}USDT`,
    contractType: 'LinearPerpetual',
    status: 'Trading',
    baseCoin: base,
    quoteCoin: 'USDT',
    launchTime: filters.launchTime,
    deliveryTime: '0',
    deliveryFeeRate: '',
    priceScale: filters.priceScale,
    leverageFilter: { minLeverage: '1', maxLeverage: filters.maxLeverage, leverageStep: '0.01' },
    priceFilter: { minPrice: filters.tickSize, maxPrice: '1999999.80', tickSize: filters.tickSize },
    lotSizeFilter: {
      maxOrderQty: filters.maxOrderQty,
      minOrderQty: filters.minOrderQty,
      qtyStep: filters.qtyStep,
      postOnlyMaxOrderQty: filters.maxOrderQty,
      maxMktOrderQty: filters.maxOrderQty,
      minNotionalValue: '5',
    },
    unifiedMarginTrade: true,
    fundingInterval: filters.fundingInterval ?? 480,
    settleCoin: 'USDT',
    copyTrading: 'both',
    upperFundingRate: '0.005',
    lowerFundingRate: '-0.005',
    isPreListing: false,
    preListingInfo: null,
  };
}

/** BTCUSDT, ETHUSDT and SOLUSDT linear perpetuals with filters as Bybit listed them. */
export const DEFAULT_LINEAR_INSTRUMENTS: readonly Record<string, unknown>[] = [
  linearPerpetual('BTC', { tickSize: '0.10', qtyStep: '0.001', minOrderQty: '0.001', maxOrderQty: '1190.000', maxLeverage: '100.00', priceScale: '2', launchTime: '1584230400000' }),
  linearPerpetual('ETH', { tickSize: '0.01', qtyStep: '0.01', minOrderQty: '0.01', maxOrderQty: '7240.00', maxLeverage: '100.00', priceScale: '2', launchTime: '1615766400000' }),
  linearPerpetual('SOL', { tickSize: '0.010', qtyStep: '0.1', minOrderQty: '0.1', maxOrderQty: '79770.0', maxLeverage: '100.00', priceScale: '3', launchTime: '1633564800000' }),
];

/**
 * Index range [from, to) of sorted `ts` within [start, end] holding at most `limit` rows:
 * the oldest ones when `start` is given (unless `prefer` is `newest`), else the newest ones.
 */
function selectRange(ts: ArrayLike<number>, start: number | undefined, end: number | undefined, limit: number, prefer?: 'newest'): [number, number] {
  const from = start === undefined ? 0 : lowerBound(ts, start);
  const to = end === undefined ? ts.length : lowerBound(ts, end + 1);
  if (to - from <= limit) return [from, Math.max(from, to)];
  return start !== undefined && prefer !== 'newest' ? [from, from + limit] : [to - limit, to];
}

function lowerBound(ts: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function required(query: Readonly<Record<string, string>>, name: string): string {
  const v = query[name];
  if (v === undefined || v === '') throw new BybitV5Reject(10001, `params error: ${name} is required`);
  return v;
}

function optionalInt(query: Readonly<Record<string, string>>, name: string): number | undefined {
  const v = query[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new BybitV5Reject(10001, `params error: ${name} must be an integer, was ${v}`);
  return Number(v);
}

function intParam(query: Readonly<Record<string, string>>, name: string, fallback: number, min: number, max: number): number {
  const v = optionalInt(query, name) ?? fallback;
  if (v < min || v > max) throw new BybitV5Reject(10001, `params error: ${name} must be in [${min}, ${max}], was ${v}`);
  return v;
}

function envelope(now: number, retCode: number, retMsg: string, result: unknown): string {
  return JSON.stringify({ retCode, retMsg, result, retExtInfo: {}, time: now });
}

function send(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
