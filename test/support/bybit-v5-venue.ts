import { createHmac, timingSafeEqual } from 'node:crypto';
import { seededRandom, type Random } from '../../src/core/random.js';
import { BybitV5Fault, BybitV5Reject, BybitV5Server, DEFAULT_LINEAR_INSTRUMENTS, type BybitV5ServerData, type Fault, type RouteRequest } from './bybit-v5-server.js';

/**
 * The private half of the local Bybit v5 venue: one account (or several) trading USDT linear perpetuals, registered as
 * routes on a {@link BybitV5Server}, so that the Bybit execution adapter runs real ccxt against it.
 *
 * Routes (request and response shapes as Bybit's v5 docs and ccxt 4.5's `bybit.js` have them):
 * `POST /v5/order/create|cancel|amend`, `GET /v5/order/realtime|history`, `GET /v5/execution/list`,
 * `GET /v5/position/list`, `POST /v5/position/set-leverage`, `GET /v5/account/wallet-balance` (UNIFIED),
 * `GET /v5/account/info`, `GET /v5/user/query-api`, `GET /v5/asset/coin/query-info` (what ccxt asks outside demo mode).
 *
 * Rules:
 * - Every private request is signed: `X-BAPI-SIGN` = hex HMAC-SHA256(secret, timestamp + apiKey + recvWindow + payload),
 *   payload = the raw body (POST) or the query string exactly as sent (GET); unknown key → retCode 10003, wrong sign →
 *   10004 (whose message echoes the signed string, as Bybit's does: the adapter must redact it), a timestamp outside
 *   `[serverTime − recvWindow, serverTime + 1000)` → 10002.
 * - Matching: orders work against the venue's own price feed, advanced by the test with {@link BybitV5Venue.trade} or
 *   {@link BybitV5Venue.bar}. An order arriving between two prices meets the next price first (`marketOrders:
 *   'next-price'`, the backtester's rule) or market orders fill on arrival at the last price (`'arrival'`); market
 *   fills pay `slippageBps`. Limit orders that cross at their first price take liquidity at that price; resting limit
 *   orders fill at their limit as maker. IOC/FOK are decided at their first price (market orders are IOC unless FOK,
 *   as on Bybit). Fees maker 0.02 %, taker 0.055 % (configurable). One-way positions, wallet booked in USDT.
 * - `orderLinkId` is unique per account for the venue's lifetime (duplicate → 110072). A post-only order that would
 *   take liquidity is created Cancelled with `rejectReason: EC_PostOnlyWillTakeLiquidity`. A new order whose initial
 *   margin + fee exceeds the available balance → 110007. Cancel/amend of an order that is not working → 110001.
 *   Setting the leverage it already has → 110043.
 * - `/v5/order/realtime` lists working orders, and closed ones only among the last 500 closed (by id, or with
 *   `openOnly=1`); {@link BybitV5Venue.restart} forgets those. `/v5/order/history` keeps every order.
 *   `/v5/execution/list` answers at most a 7-day window (Bybit's defaults when `startTime`/`endTime` are absent), and
 *   lists funding payments too ({@link BybitV5Venue.settleFunding}: `execType: 'Funding'`, no order).
 * - Faults by seed ({@link VenueFaultConfig}): before each private request one draw of a seeded PRNG picks at most one
 *   fault; every applied fault is counted in {@link BybitV5Venue.faultCounts}.
 */
export class BybitV5Venue {
  /** Every private request in arrival order: path, orderLinkId, injected fault, outcome (`ok`, `ret_<code>`, `fault`, `done_unanswered`). */
  readonly privateLog: PrivateLogEntry[] = [];
  private readonly accounts = new Map<string, Account>();
  private readonly markets = new Map<string, Market>();
  private readonly counts = new Map<VenueFaultKind, number>();
  private forced: { kind: VenueFaultKind; path: string | undefined; orderLinkId: string | undefined; remaining: number }[] = [];
  private faults: VenueFaultConfig | undefined;
  private random: Random = seededRandom(0);
  private orderSeq = 0;
  private execSeq = 0;
  private readonly config: Required<Omit<BybitV5VenueOptions, 'accounts' | 'faults' | 'participation' | 'server' | 'now'>> & { participation: number | undefined };
  readonly now: () => number;

  private constructor(
    readonly server: BybitV5Server,
    options: BybitV5VenueOptions,
    now: () => number,
  ) {
    this.now = now;
    this.config = {
      makerFee: options.makerFee ?? 0.0002,
      takerFee: options.takerFee ?? 0.00055,
      slippageBps: options.slippageBps ?? 0,
      marketOrders: options.marketOrders ?? 'next-price',
      leverage: options.leverage ?? 10,
      initialPrice: options.initialPrice ?? 100,
      participation: options.participation,
      recvWindowCheck: options.recvWindowCheck ?? true,
      executionsById: options.executionsById ?? 'window',
    };
    for (const raw of DEFAULT_LINEAR_INSTRUMENTS) {
      const lot = raw['lotSizeFilter'] as Record<string, string>;
      const price = raw['priceFilter'] as Record<string, string>;
      const symbol = String(raw['symbol']);
      this.markets.set(symbol, { symbol, qtyStep: Number(lot['qtyStep']), tickSize: Number(price['tickSize']), last: this.config.initialPrice, fresh: new Set() });
    }
    for (const a of options.accounts ?? [{ apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET }]) this.addAccount(a);
    if (options.faults) this.setFaults(options.faults);
    this.registerRoutes();
  }

  /**
   * Starts a local v5 server (market routes included) with this venue on it.
   * @example const venue = await BybitV5Venue.start({ participation: 0.5 }); venue.trade(100); await venue.close();
   */
  static async start(options: BybitV5VenueOptions = {}): Promise<BybitV5Venue> {
    let venue: BybitV5Venue | undefined;
    const now = options.now ?? (() => Date.now());
    const server = await BybitV5Server.start({ ...(options.server ?? {}), now: () => venue?.now() ?? now() });
    venue = new BybitV5Venue(server, options, now);
    return venue;
  }

  get url(): string {
    return this.server.url;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  /** Opens another account (balance default 100,000 USDT). */
  addAccount(account: VenueAccountOptions): void {
    this.accounts.set(account.apiKey, {
      apiKey: account.apiKey,
      secret: account.apiSecret,
      wallet: account.balance ?? 100_000,
      positions: new Map(),
      orders: [],
      working: [],
      byLinkId: new Map(),
      byOrderId: new Map(),
      recentClosed: [],
      executions: [],
      executionsInTimeOrder: true,
    });
  }

  /** Turns seeded random faults on (or off with `undefined`); the PRNG restarts from `seed`. */
  setFaults(faults: VenueFaultConfig | undefined): void {
    this.faults = faults;
    this.random = seededRandom(faults?.seed ?? 0);
  }

  /**
   * Forces `kind` on the next `count` private requests to `path` (any path when absent) of `orderLinkId` (any request
   * when absent), ahead of the random ones.
   */
  injectFault(kind: Exclude<VenueFaultKind, 'partial_fill' | 'duplicate_order_link_id'>, options: { path?: string; orderLinkId?: string; count?: number } = {}): void {
    this.forced.push({ kind, path: options.path, orderLinkId: options.orderLinkId, remaining: options.count ?? 1 });
  }

  /** Drops the faults {@link injectFault} forced that are not used up yet. */
  clearInjectedFaults(): void {
    this.forced.length = 0;
  }

  /** Applied faults per kind (kinds never applied are absent). */
  faultCounts(): Readonly<Partial<Record<VenueFaultKind, number>>> {
    return Object.fromEntries(this.counts);
  }

  /**
   * The venue refuses working order `orderLinkId` after having answered its create: it closes as `Rejected` with
   * `rejectReason` (as Bybit's matching engine does with an order it then cannot place).
   * @throws Error when the account holds no working order with that orderLinkId.
   */
  rejectOrder(orderLinkId: string, rejectReason: string, apiKey = TEST_API_KEY): void {
    const account = this.account(apiKey);
    const order = account.byLinkId.get(orderLinkId);
    if (order === undefined || !isOpen(order)) throw new Error(`rejectOrder: no working order ${orderLinkId}`);
    this.closeOrder(account, order, 'Rejected', rejectReason, '');
  }

  /** A venue restart: the realtime endpoint forgets every closed order (history and executions survive). */
  restart(): void {
    for (const a of this.accounts.values()) a.recentClosed.length = 0;
  }

  /**
   * One traded price of `symbol` (default BTCUSDT): `volume` base units trade there (unlimited when absent); working
   * orders match against it in arrival order.
   */
  trade(price: number, volume = Infinity, symbol = 'BTCUSDT'): void {
    if (!(price > 0) || !Number.isFinite(price)) throw new RangeError(`trade price must be a finite number > 0, was ${price}`);
    const market = this.market(symbol);
    market.last = price;
    for (const account of this.accounts.values()) this.match(account, market, price, volume);
    market.fresh.clear();
  }

  /** A bar as four trades (open, then the nearer extreme, the other extreme, close), its volume split evenly. */
  bar(bar: { readonly open: number; readonly high: number; readonly low: number; readonly close: number; readonly volume: number }, symbol = 'BTCUSDT'): void {
    const path = bar.close >= bar.open ? [bar.open, bar.low, bar.high, bar.close] : [bar.open, bar.high, bar.low, bar.close];
    for (const p of path) this.trade(p, bar.volume / 4, symbol);
  }

  /**
   * Settles funding of `symbol` at its last price and `rate` (per interval; positive: longs pay shorts) for every account
   * holding a position in it: the payment leaves (or reaches) the wallet, and the execution list gets a row with
   * `execType: 'Funding'` (no order: empty `orderId` and `orderLinkId`, `execQty` the position size, `execFee` the
   * payment, negative when received), as Bybit lists funding among executions.
   */
  settleFunding(rate: number, symbol = 'BTCUSDT'): void {
    const market = this.market(symbol);
    for (const account of this.accounts.values()) {
      const position = account.positions.get(symbol);
      if (position === undefined || position.size === 0) continue;
      const fee = position.size * market.last * rate;
      account.wallet -= fee;
      position.cumRealisedPnl -= fee;
      const seq = ++this.execSeq;
      pushExecution(account, {
        execId: uuidFrom(seq, 0x0e), seq, symbol, orderId: '', orderLinkId: '', side: position.size > 0 ? 'Buy' : 'Sell', orderType: 'UNKNOWN', orderPrice: 0, orderQty: 0, leavesQty: 0,
        execPrice: market.last, execQty: Math.abs(position.size), execFee: fee, feeRate: rate, isMaker: false, closedSize: 0, execTime: this.now(), markPrice: market.last, execType: 'Funding',
      });
    }
  }

  /** Last traded price of `symbol`. */
  lastPrice(symbol = 'BTCUSDT'): number {
    return this.market(symbol).last;
  }

  /** The account's signed position in `symbol` (long > 0). */
  position(symbol = 'BTCUSDT', apiKey = TEST_API_KEY): number {
    return this.account(apiKey).positions.get(symbol)?.size ?? 0;
  }

  /** The average entry price of the account's position in `symbol` (0 when flat), as the venue books it (average cost). */
  entryPrice(symbol = 'BTCUSDT', apiKey = TEST_API_KEY): number {
    return this.account(apiKey).positions.get(symbol)?.avgPrice ?? 0;
  }

  /** The account's wallet balance in USDT (cash after realised PnL and fees). */
  walletBalance(apiKey = TEST_API_KEY): number {
    return this.account(apiKey).wallet;
  }

  /** Every order the account ever placed (working and closed), oldest first, as the venue's JSON. */
  orders(apiKey = TEST_API_KEY): readonly Record<string, string | boolean>[] {
    return this.account(apiKey).orders.map(orderJson);
  }

  /** Every execution of the account, oldest first, as the venue's JSON. */
  executions(apiKey = TEST_API_KEY): readonly Record<string, string | boolean>[] {
    return this.account(apiKey).executions.map(executionJson);
  }

  private account(apiKey: string): Account {
    const a = this.accounts.get(apiKey);
    if (!a) throw new Error(`no venue account with api key ${apiKey.slice(0, 3)}…`);
    return a;
  }

  private market(symbol: string): Market {
    const m = this.markets.get(symbol);
    if (!m) throw new BybitV5Reject(10001, `params error: symbol invalid`);
    return m;
  }

  // ---- faults and authentication -------------------------------------------------------------------------------

  private count(kind: VenueFaultKind): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  /** Picks the fault of this request (forced first, then one seeded draw), or undefined. */
  private pickFault(path: string, orderLinkId: string | undefined): VenueFaultKind | undefined {
    for (const f of this.forced) {
      // A forced cancel_not_found waits for a cancel or amend (its answer means nothing elsewhere).
      if (f.kind === 'cancel_not_found' && !CANCEL_PATHS.has(path)) continue;
      if (f.remaining > 0 && (f.path === undefined || f.path === path) && targets(f, orderLinkId)) {
        f.remaining--;
        this.forced = this.forced.filter((x) => x.remaining > 0);
        return f.kind;
      }
    }
    if (!this.faults) return undefined;
    const u = this.random();
    let acc = 0;
    for (const kind of RANDOM_FAULT_ORDER) {
      const rate = this.faults.rates[kind] ?? 0;
      if (rate <= 0) continue;
      if (kind === 'insufficient_balance' && path !== '/v5/order/create') continue;
      if (kind === 'stale_read' && !READ_PATHS.has(path)) continue;
      if (kind === 'cancel_not_found' && !CANCEL_PATHS.has(path)) continue;
      acc += rate;
      if (u < acc) return kind;
    }
    return undefined;
  }

  private async applyBefore(kind: VenueFaultKind | undefined): Promise<void> {
    if (kind === undefined) return;
    const reject = (fault: Fault) => {
      this.count(kind);
      throw new BybitV5Fault(fault);
    };
    switch (kind) {
      case 'dropped_connection':
        return reject({ kind: 'drop' });
      case 'server_error':
        return reject({ kind: 'http_status', status: [500, 502, 503][Math.floor(this.random() * 3)]!, body: 'Bad Gateway' });
      case 'http_429':
        return reject({ kind: 'http_status', status: 429, body: 'Too Many Requests' });
      case 'http_403':
        return reject({ kind: 'http_status', status: 403, body: 'Forbidden: access too frequent' });
      case 'rate_limit':
        return reject({ kind: 'ret_code', retCode: 10006, retMsg: 'Too many visits!' });
      case 'cancel_not_found':
        return reject({ kind: 'ret_code', retCode: 110001, retMsg: 'order not exists or too late to cancel' });
      case 'timestamp':
        return reject({ kind: 'ret_code', retCode: 10002, retMsg: `invalid request, please check your server timestamp or recv_window param. server_timestamp[${this.now()}]` });
      case 'restart':
        this.count(kind);
        this.restart();
        return;
      case 'latency':
        return this.delay(kind);
      default:
        return;
    }
  }

  /** Counts `kind` and waits a seeded delay within `latencyMs` (a `latency` fault before the request is carried out, a `late_answer` after). */
  private async delay(kind: 'latency' | 'late_answer'): Promise<void> {
    this.count(kind);
    const [lo, hi] = this.faults?.latencyMs ?? [20, 200];
    await new Promise((r) => setTimeout(r, lo + this.random() * (hi - lo)));
  }

  private authenticate(req: RouteRequest): Account {
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const apiKey = header('x-bapi-api-key');
    const timestamp = header('x-bapi-timestamp');
    const recvWindow = header('x-bapi-recv-window') ?? '5000';
    const sign = header('x-bapi-sign');
    if (!apiKey || !timestamp || !sign) throw new BybitV5Reject(10003, 'API key is invalid.');
    const account = this.accounts.get(apiKey);
    if (!account) throw new BybitV5Reject(10003, 'API key is invalid.');
    const payload = req.method === 'POST' ? req.body : req.rawQuery;
    const origin = timestamp + apiKey + recvWindow + payload;
    const expected = createHmac('sha256', account.secret).update(origin).digest('hex');
    const a = Buffer.from(expected);
    const b = Buffer.from(sign);
    // Bybit's own message quotes the signed string (with the API key): the adapter has to redact it.
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new BybitV5Reject(10004, `error sign! origin_string[${origin}]`);
    const ts = Number(timestamp);
    const server = this.now();
    if (this.config.recvWindowCheck && !(ts >= server - Number(recvWindow) && ts < server + 1000)) {
      throw new BybitV5Reject(10002, `invalid request, please check your server timestamp or recv_window param. req_timestamp[${ts}],server_timestamp[${server}],recv_window[${recvWindow}]`);
    }
    return account;
  }

  private held: Promise<void> | undefined;

  /**
   * Holds every private request (signed: orders, executions, positions, balance, leverage) until the returned function
   * is called: a test can observe a runner before its first venue round (e.g. its metrics at 0 before reconciling).
   */
  holdPrivate(): () => void {
    let release!: () => void;
    this.held = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.held = undefined;
      release();
    };
  }

  private readonly answerHolds: { readonly path: string; readonly orderLinkId: string | undefined; readonly held: Promise<void> }[] = [];

  /**
   * Processes the next private request to `path` (of `orderLinkId`, when given) as usual but holds its answer until the
   * returned function is called: the venue's state has changed and the caller does not know yet (e.g. a cancel answered
   * after a poll saw the order canceled).
   */
  holdAnswer(path: string, orderLinkId?: string): () => void {
    let release!: () => void;
    this.answerHolds.push({ path, orderLinkId, held: new Promise<void>((resolve) => (release = resolve)) });
    return () => release();
  }

  private privateRoute(method: 'GET' | 'POST', path: string, handler: (account: Account, params: Record<string, unknown>) => unknown): void {
    this.server.route(method, path, async (req) => {
      if (this.held !== undefined) await this.held;
      const params: Record<string, unknown> = method === 'POST' ? parseBodyLenient(req.body) : { ...req.query };
      const entry: PrivateLogEntry = { path, orderLinkId: params['orderLinkId'] === undefined ? undefined : String(params['orderLinkId']), fault: undefined, outcome: 'ok' };
      this.privateLog.push(entry);
      const kind = this.pickFault(path, entry.orderLinkId);
      entry.fault = kind;
      try {
        await this.applyBefore(kind);
        const account = this.authenticate(req);
        if (method === 'POST') parseBody(req.body);
        if (kind === 'insufficient_balance') {
          this.count(kind);
          throw new BybitV5Reject(110007, 'ab not enough for new order');
        }
        if (kind === 'stale_read' && READ_PATHS.has(path)) {
          // Bybit's order and execution listings are eventually consistent: this read misses the newest records.
          this.count(kind);
          return { category: 'linear', list: [], nextPageCursor: '' };
        }
        const result = handler(account, params);
        const hold = this.answerHolds.findIndex((h) => h.path === path && targets(h, entry.orderLinkId));
        if (hold >= 0) await this.answerHolds.splice(hold, 1)[0]!.held;
        // Carried out at once, answered late: the caller's other requests (a poll) may see the effect first.
        if (kind === 'late_answer') await this.delay(kind);
        if (kind === 'never_answered') {
          this.count(kind);
          entry.outcome = 'done_unanswered';
          throw new BybitV5Fault(this.random() < 0.5 ? { kind: 'drop' } : { kind: 'hang' });
        }
        return result;
      } catch (e) {
        if (entry.outcome === 'ok') entry.outcome = e instanceof BybitV5Reject ? `ret_${e.retCode}` : 'fault';
        throw e;
      }
    });
  }

  // ---- routes ------------------------------------------------------------------------------------------------------

  private registerRoutes(): void {
    this.privateRoute('POST', '/v5/order/create', (account, p) => this.create(account, p));
    this.privateRoute('POST', '/v5/order/cancel', (account, p) => {
      linearCategory(p);
      const order = this.findOrder(account, p);
      if (!order || !isOpen(order)) throw new BybitV5Reject(110001, 'Order does not exist.');
      this.closeOrder(account, order, 'Cancelled', 'EC_PerCancelRequest', 'CancelByUser');
      return { orderId: order.orderId, orderLinkId: order.orderLinkId };
    });
    this.privateRoute('POST', '/v5/order/amend', (account, p) => {
      linearCategory(p);
      const order = this.findOrder(account, p);
      if (!order || !isOpen(order)) throw new BybitV5Reject(110001, 'Order does not exist.');
      const market = this.market(order.symbol);
      if (p['qty'] !== undefined) {
        const qty = positiveNumber(p['qty'], 'qty');
        if (qty < order.cumExecQty) throw new BybitV5Reject(110013, 'The new order quantity is below the filled quantity.');
        checkStep(qty, market.qtyStep, 'qty');
        order.qty = qty;
      }
      if (p['price'] !== undefined) {
        if (order.orderType !== 'Limit') throw new BybitV5Reject(10001, 'params error: price of a market order cannot be amended');
        order.price = positiveNumber(p['price'], 'price');
      }
      order.updatedTime = this.now();
      if (order.qty - order.cumExecQty <= EPS) this.closeOrder(account, order, 'Filled', 'EC_NoError', '');
      return { orderId: order.orderId, orderLinkId: order.orderLinkId };
    });
    this.privateRoute('GET', '/v5/order/realtime', (account, p) => {
      linearCategory(p);
      const byId = p['orderId'] !== undefined || p['orderLinkId'] !== undefined;
      if (!byId && p['symbol'] === undefined && p['baseCoin'] === undefined && p['settleCoin'] === undefined) {
        throw new BybitV5Reject(10001, 'params error: symbol, baseCoin or settleCoin is required');
      }
      let list: VenueOrder[];
      // The id findOrder looks up first (orderLinkId, else orderId) is a unique one unless empty: one order at most.
      if (p['orderLinkId'] !== undefined ? p['orderLinkId'] !== '' : p['orderId'] !== undefined && p['orderId'] !== '') {
        const o = this.findOrder(account, p);
        list = o !== undefined && matchesFilter(o, p) && (isOpen(o) || account.recentClosed.includes(o.orderId)) ? [o] : [];
      } else if (byId || p['openOnly'] === '1') {
        const recent = new Set(account.recentClosed);
        list = account.orders.filter((o) => matchesFilter(o, p) && (byId ? isOpen(o) || recent.has(o.orderId) : recent.has(o.orderId))).reverse();
      } else {
        list = account.working.filter((o) => matchesFilter(o, p)).reverse();
      }
      return page(list, p, 20, 50, 'linear', orderJson);
    });
    this.privateRoute('GET', '/v5/order/history', (account, p) => {
      linearCategory(p);
      const byId = p['orderId'] !== undefined || p['orderLinkId'] !== undefined;
      const [start, end] = byId ? [-Infinity, Infinity] : this.window(p);
      const list = account.orders.filter((o) => matchesFilter(o, p) && (p['orderStatus'] === undefined || o.orderStatus === p['orderStatus']) && o.createdTime >= start && o.createdTime <= end).reverse();
      return page(list, p, 20, 50, 'linear', orderJson);
    });
    this.privateRoute('GET', '/v5/execution/list', (account, p) => {
      linearCategory(p);
      const [start, end] = p['orderId'] !== undefined && this.config.executionsById === 'ignored' ? [-Infinity, Infinity] : this.window(p);
      const list = executionsBetween(account, start, end)
        .filter((e) => (p['symbol'] === undefined || e.symbol === p['symbol']) && (p['orderId'] === undefined || e.orderId === p['orderId']) && (p['orderLinkId'] === undefined || e.orderLinkId === p['orderLinkId']) && e.execTime >= start && e.execTime <= end)
        .reverse();
      return page(list, p, 50, 100, 'linear', executionJson);
    });
    this.privateRoute('GET', '/v5/position/list', (account, p) => {
      linearCategory(p);
      if (p['symbol'] === undefined && p['settleCoin'] === undefined && p['baseCoin'] === undefined) throw new BybitV5Reject(10001, 'params error: symbol or settleCoin is required');
      const symbols = p['symbol'] !== undefined ? [String(p['symbol'])] : [...account.positions.keys()];
      const list = symbols.map((s) => positionJson(this.positionOf(account, s), this.market(s).last, this.now()));
      return page(list, p, 20, 200, 'linear');
    });
    this.privateRoute('POST', '/v5/position/set-leverage', (account, p) => {
      linearCategory(p);
      const position = this.positionOf(account, String(p['symbol']));
      const buy = positiveNumber(p['buyLeverage'], 'buyLeverage');
      const sell = positiveNumber(p['sellLeverage'], 'sellLeverage');
      if (buy !== sell) throw new BybitV5Reject(10001, 'params error: buyLeverage must equal sellLeverage in one-way mode');
      if (buy > 100) throw new BybitV5Reject(10001, 'params error: leverage above the maximum of 100');
      if (buy === position.leverage) throw new BybitV5Reject(110043, 'Set leverage not modified');
      position.leverage = buy;
      position.updatedTime = this.now();
      return {};
    });
    this.privateRoute('GET', '/v5/account/wallet-balance', (account, p) => {
      if (p['accountType'] !== 'UNIFIED') throw new BybitV5Reject(10001, `params error: accountType only support UNIFIED, was ${String(p['accountType'])}`);
      return { list: [this.walletJson(account)] };
    });
    this.privateRoute('GET', '/v5/account/info', () => ({ marginMode: 'REGULAR_MARGIN', updatedTime: String(this.now()), unifiedMarginStatus: 6, dcpStatus: 'OFF', timeWindow: 10, smpGroup: 0, isMasterTrader: false, spotHedgingStatus: 'OFF' }));
    this.privateRoute('GET', '/v5/user/query-api', () => ({ id: '1', note: 'trade-matrix test', apiKey: '', readOnly: 0, secret: '', permissions: { ContractTrade: ['Order', 'Position'] }, ips: ['*'], type: 1, unified: 0, uta: 1, isMaster: true }));
    this.privateRoute('GET', '/v5/asset/coin/query-info', () => ({ rows: [] }));
  }

  /** `[startTime, endTime]` of a time-windowed query with Bybit's 7-day rules. */
  private window(p: Record<string, unknown>): [number, number] {
    const start = p['startTime'] === undefined ? undefined : Number(p['startTime']);
    const end = p['endTime'] === undefined ? undefined : Number(p['endTime']);
    if (start !== undefined && end !== undefined) {
      if (end < start) throw new BybitV5Reject(10001, 'params error: endTime must not be before startTime');
      if (end - start > WEEK_MS) throw new BybitV5Reject(10001, 'params error: The time range between startTime and endTime cannot exceed 7 days');
      return [start, end];
    }
    if (start !== undefined) return [start, start + WEEK_MS];
    if (end !== undefined) return [end - WEEK_MS, end];
    const now = this.now();
    return [now - WEEK_MS, now];
  }

  private create(account: Account, p: Record<string, unknown>): unknown {
    linearCategory(p);
    const market = this.market(String(p['symbol']));
    const side = p['side'];
    if (side !== 'Buy' && side !== 'Sell') throw new BybitV5Reject(10001, `params error: side must be Buy or Sell, was ${String(side)}`);
    const orderType = p['orderType'];
    if (orderType !== 'Market' && orderType !== 'Limit') throw new BybitV5Reject(10001, `params error: orderType must be Market or Limit, was ${String(orderType)}`);
    const qty = positiveNumber(p['qty'], 'qty');
    checkStep(qty, market.qtyStep, 'qty');
    const price = orderType === 'Limit' ? positiveNumber(p['price'], 'price') : 0;
    if (orderType === 'Limit') checkStep(price, market.tickSize, 'price');
    const tif = String(p['timeInForce'] ?? (orderType === 'Market' ? 'IOC' : 'GTC'));
    if (!['GTC', 'IOC', 'FOK', 'PostOnly'].includes(tif)) throw new BybitV5Reject(10001, `params error: timeInForce ${tif} is invalid`);
    const linkId = p['orderLinkId'] === undefined ? '' : String(p['orderLinkId']);
    if (linkId !== '' && !/^[A-Za-z0-9_-]{1,36}$/.test(linkId)) throw new BybitV5Reject(10001, 'params error: orderLinkId must be 1-36 characters of [A-Za-z0-9_-]');
    if (linkId !== '' && account.byLinkId.has(linkId)) {
      this.count('duplicate_order_link_id');
      throw new BybitV5Reject(110072, 'OrderLinkedID is duplicate');
    }
    const reduceOnly = p['reduceOnly'] === true || p['reduceOnly'] === 'true';
    const position = this.positionOf(account, market.symbol);
    const sign = side === 'Buy' ? 1 : -1;
    if (reduceOnly && !(position.size * sign < 0)) throw new BybitV5Reject(110017, 'current position is zero, cannot fix reduce-only order qty');
    const reference = orderType === 'Limit' ? price : market.last;
    if (!reduceOnly) {
      const cost = (qty * reference) / position.leverage + qty * reference * this.config.takerFee;
      if (cost > this.available(account)) throw new BybitV5Reject(110007, 'ab not enough for new order');
    }
    const now = this.now();
    const order: VenueOrder = {
      orderId: uuidFrom(++this.orderSeq, 0x0a),
      orderLinkId: linkId,
      symbol: market.symbol,
      side,
      orderType,
      // Bybit runs market orders as IOC unless FOK is asked for.
      timeInForce: orderType === 'Market' ? (tif === 'FOK' ? 'FOK' : 'IOC') : tif,
      qty,
      price,
      reduceOnly,
      orderStatus: 'New',
      rejectReason: 'EC_NoError',
      cancelType: 'UNKNOWN',
      cumExecQty: 0,
      cumExecValue: 0,
      cumExecFee: 0,
      lastPriceOnCreated: market.last,
      createdTime: now,
      updatedTime: now,
    };
    account.orders.push(order);
    account.working.push(order);
    account.byOrderId.set(order.orderId, order);
    if (linkId !== '') account.byLinkId.set(linkId, order);
    const crosses = (side === 'Buy' && price >= market.last) || (side === 'Sell' && price <= market.last);
    if (tif === 'PostOnly' && crosses) {
      this.closeOrder(account, order, 'Cancelled', 'EC_PostOnlyWillTakeLiquidity', 'CancelByUser');
    } else if (orderType === 'Market' && this.config.marketOrders === 'arrival') {
      this.fillAt(account, market, order, this.marketFillPrice(market, order, market.last), Infinity, true);
      if (isOpen(order)) this.closeOrder(account, order, 'Cancelled', 'EC_NoImmediateQtyToFill', 'CancelByUser');
    } else {
      market.fresh.add(order.orderId);
    }
    return { orderId: order.orderId, orderLinkId: order.orderLinkId };
  }

  private findOrder(account: Account, p: Record<string, unknown>): VenueOrder | undefined {
    if (p['orderLinkId'] !== undefined) return account.byLinkId.get(String(p['orderLinkId']));
    if (p['orderId'] !== undefined) return account.byOrderId.get(String(p['orderId']));
    throw new BybitV5Reject(10001, 'params error: orderId or orderLinkId is required');
  }

  private positionOf(account: Account, symbol: string): VenuePosition {
    this.market(symbol);
    let position = account.positions.get(symbol);
    if (!position) {
      const now = this.now();
      position = { symbol, size: 0, avgPrice: 0, leverage: this.config.leverage, cumRealisedPnl: 0, createdTime: now, updatedTime: now };
      account.positions.set(symbol, position);
    }
    return position;
  }

  private upnl(account: Account): number {
    let total = 0;
    for (const p of account.positions.values()) if (p.size !== 0) total += p.size * (this.market(p.symbol).last - p.avgPrice);
    return total;
  }

  private margins(account: Account): { position: number; orders: number; maintenance: number } {
    let position = 0;
    let orders = 0;
    for (const p of account.positions.values()) position += (Math.abs(p.size) * this.market(p.symbol).last) / p.leverage;
    for (const o of account.working) {
      if (o.reduceOnly) continue;
      const leverage = this.positionOf(account, o.symbol).leverage;
      orders += ((o.qty - o.cumExecQty) * (o.orderType === 'Limit' ? o.price : this.market(o.symbol).last)) / leverage;
    }
    return { position, orders, maintenance: position * 0.05 };
  }

  private available(account: Account): number {
    const m = this.margins(account);
    return account.wallet + this.upnl(account) - m.position - m.orders;
  }

  private walletJson(account: Account): Record<string, unknown> {
    const upnl = this.upnl(account);
    const m = this.margins(account);
    const equity = account.wallet + upnl;
    const available = equity - m.position - m.orders;
    let cumRealised = 0;
    for (const p of account.positions.values()) cumRealised += p.cumRealisedPnl;
    return {
      accountType: 'UNIFIED',
      accountIMRate: num(equity > 0 ? (m.position + m.orders) / equity : 0),
      accountMMRate: num(equity > 0 ? m.maintenance / equity : 0),
      accountLTV: '0',
      totalEquity: num(equity),
      totalWalletBalance: num(account.wallet),
      totalMarginBalance: num(equity),
      totalAvailableBalance: num(available),
      totalPerpUPL: num(upnl),
      totalInitialMargin: num(m.position + m.orders),
      totalMaintenanceMargin: num(m.maintenance),
      coin: [
        {
          coin: 'USDT',
          equity: num(equity),
          usdValue: num(equity),
          walletBalance: num(account.wallet),
          free: '',
          locked: '0',
          spotHedgingQty: '0',
          borrowAmount: '0',
          availableToWithdraw: num(Math.max(0, available)),
          accruedInterest: '0',
          totalOrderIM: num(m.orders),
          totalPositionIM: num(m.position),
          totalPositionMM: num(m.maintenance),
          unrealisedPnl: num(upnl),
          cumRealisedPnl: num(cumRealised),
          bonus: '0',
          marginCollateral: true,
          collateralSwitch: true,
          availableToBorrow: '',
        },
      ],
    };
  }

  // ---- matching ------------------------------------------------------------------------------------------------------

  private marketFillPrice(market: Market, order: VenueOrder, price: number): number {
    return roundTo(price * (1 + ((order.side === 'Buy' ? 1 : -1) * this.config.slippageBps) / 10_000), market.tickSize);
  }

  private match(account: Account, market: Market, price: number, volume: number): void {
    let available = this.config.participation === undefined ? Infinity : this.config.participation * volume;
    // A copy: a fill or a cancel below takes its order off the working list.
    for (const order of account.working.slice()) {
      if (order.symbol !== market.symbol || !isOpen(order)) continue;
      const first = market.fresh.has(order.orderId);
      const buy = order.side === 'Buy';
      let fillPrice: number;
      let taker: boolean;
      if (order.orderType === 'Market') {
        fillPrice = this.marketFillPrice(market, order, price);
        taker = true;
      } else {
        const crosses = buy ? price <= order.price : price >= order.price;
        if (!crosses) {
          if (first && order.timeInForce !== 'GTC' && order.timeInForce !== 'PostOnly') this.closeOrder(account, order, 'Cancelled', order.timeInForce === 'FOK' ? 'EC_CancelForNoFullFill' : 'EC_NoImmediateQtyToFill', 'CancelByUser');
          continue;
        }
        // Marketable on arrival (through the last price then): takes liquidity at its first price; else it rested
        // in the book and fills at its limit as maker.
        taker = first && (buy ? order.price >= order.lastPriceOnCreated : order.price <= order.lastPriceOnCreated);
        fillPrice = taker ? price : order.price;
      }
      const used = this.fillAt(account, market, order, fillPrice, available, taker, first);
      available -= used;
    }
  }

  /** Fills `order` at `price` with at most `available` units; closes IOC/FOK/reduce-only remainders. Returns the quantity filled. */
  private fillAt(account: Account, market: Market, order: VenueOrder, price: number, available: number, taker: boolean, first = true): number {
    const position = this.positionOf(account, order.symbol);
    const sign = order.side === 'Buy' ? 1 : -1;
    const leaves = order.qty - order.cumExecQty;
    let cap = leaves;
    let reduceCapped = false;
    if (order.reduceOnly) {
      const reducible = position.size * sign < 0 ? Math.abs(position.size) : 0;
      if (reducible < cap) {
        cap = reducible;
        reduceCapped = true;
      }
    }
    let qty = floorTo(Math.min(cap, available), market.qtyStep);
    const immediate = first && (order.timeInForce === 'IOC' || order.timeInForce === 'FOK');
    if (order.timeInForce === 'FOK' && first && qty < leaves - EPS) {
      this.closeOrder(account, order, 'Cancelled', 'EC_CancelForNoFullFill', 'CancelByUser');
      return 0;
    }
    if (qty > EPS && order.timeInForce !== 'FOK' && this.faults && (this.faults.rates.partial_fill ?? 0) > 0 && qty > market.qtyStep && this.random() < this.faults.rates.partial_fill!) {
      this.count('partial_fill');
      qty = Math.max(market.qtyStep, floorTo(qty * (0.2 + 0.6 * this.random()), market.qtyStep));
    }
    if (qty > EPS) this.book(account, market, order, position, qty * sign, price, taker);
    const rest = order.qty - order.cumExecQty;
    if (rest <= EPS) this.closeOrder(account, order, 'Filled', 'EC_NoError', '');
    else if (reduceCapped && qty >= cap - EPS) this.closeOrder(account, order, 'Cancelled', 'EC_ReduceOnlyCancel', 'CancelByUser');
    else if (immediate) this.closeOrder(account, order, 'Cancelled', 'EC_NoImmediateQtyToFill', 'CancelByUser');
    return qty;
  }

  private book(account: Account, market: Market, order: VenueOrder, position: VenuePosition, signed: number, price: number, taker: boolean): void {
    const qty = Math.abs(signed);
    const rate = taker ? this.config.takerFee : this.config.makerFee;
    const fee = qty * price * rate;
    let realised = 0;
    let closed = 0;
    if (position.size === 0 || Math.sign(position.size) === Math.sign(signed)) {
      const size = Math.abs(position.size);
      position.avgPrice = (size * position.avgPrice + qty * price) / (size + qty);
      position.size = roundQty(position.size + signed);
    } else {
      closed = Math.min(qty, Math.abs(position.size));
      realised = closed * (price - position.avgPrice) * Math.sign(position.size);
      const next = roundQty(position.size + signed);
      if (next === 0) position.avgPrice = 0;
      else if (Math.sign(next) !== Math.sign(position.size)) position.avgPrice = price;
      position.size = next;
    }
    account.wallet += realised - fee;
    position.cumRealisedPnl += realised - fee;
    const now = this.now();
    position.updatedTime = now;
    order.cumExecQty = roundQty(order.cumExecQty + qty);
    order.cumExecValue += qty * price;
    order.cumExecFee += fee;
    order.updatedTime = now;
    if (order.cumExecQty < order.qty - EPS) order.orderStatus = 'PartiallyFilled';
    market.fresh.delete(order.orderId);
    const seq = ++this.execSeq;
    pushExecution(account, {
      execId: uuidFrom(seq, 0x0e),
      seq,
      symbol: order.symbol,
      orderId: order.orderId,
      orderLinkId: order.orderLinkId,
      side: order.side,
      orderType: order.orderType,
      orderPrice: order.price,
      orderQty: order.qty,
      leavesQty: roundQty(order.qty - order.cumExecQty),
      execPrice: price,
      execQty: qty,
      execFee: fee,
      feeRate: rate,
      isMaker: !taker,
      closedSize: closed,
      execTime: now,
      markPrice: market.last,
    });
  }

  private closeOrder(account: Account, order: VenueOrder, status: 'Filled' | 'Cancelled' | 'Rejected', rejectReason: string, cancelType: string): void {
    order.orderStatus = status;
    const k = account.working.indexOf(order);
    if (k >= 0) account.working.splice(k, 1);
    order.rejectReason = rejectReason;
    if (cancelType) order.cancelType = cancelType;
    order.updatedTime = this.now();
    this.markets.get(order.symbol)?.fresh.delete(order.orderId);
    account.recentClosed.push(order.orderId);
    if (account.recentClosed.length > REALTIME_CLOSED_LIMIT) account.recentClosed.splice(0, account.recentClosed.length - REALTIME_CLOSED_LIMIT);
  }
}

/** A Bybit v5 response: its return code and message, and the result. */
export interface VenueEnvelope {
  retCode: number;
  retMsg: string;
  result: { list?: Record<string, unknown>[]; nextPageCursor?: string } & Record<string, unknown>;
}

/**
 * A request signed as any Bybit v5 client signs it (HMAC-SHA256 of timestamp, key, receive window and the raw payload),
 * whose payload bytes and signed bytes the test controls: the venue's own tests, and trades somebody else makes on an
 * account.
 */
export async function signed(venue: BybitV5Venue, method: 'GET' | 'POST', path: string, payload: string, options: { signed?: string; timestamp?: number; secret?: string; apiKey?: string; recvWindow?: string } = {}): Promise<VenueEnvelope> {
  const timestamp = String(options.timestamp ?? Date.now());
  const apiKey = options.apiKey ?? TEST_API_KEY;
  const recvWindow = options.recvWindow ?? '5000';
  const sign = createHmac('sha256', options.secret ?? TEST_API_SECRET).update(timestamp + apiKey + recvWindow + (options.signed ?? payload)).digest('hex');
  const headers = { 'X-BAPI-API-KEY': apiKey, 'X-BAPI-TIMESTAMP': timestamp, 'X-BAPI-RECV-WINDOW': recvWindow, 'X-BAPI-SIGN': sign, 'Content-Type': 'application/json' };
  const url = `${venue.url}${path}${method === 'GET' && payload ? `?${payload}` : ''}`;
  const res = await fetch(url, { method, headers, ...(method === 'POST' ? { body: payload } : {}) });
  return (await res.json()) as VenueEnvelope;
}

/**
 * Somebody trades on the test account by hand (another app, Bybit's web page): a signed market order with an
 * `orderLinkId` of their own (not a run's), filled at once by a print at the last price. During an outage (a 5xx: no
 * JSON) the order is tried again, up to `retries` times, as a person would.
 * @throws Error when the venue refuses it (a retCode other than 0) or does not fill it.
 */
export async function tradeByHand(venue: BybitV5Venue, order: { readonly symbol: string; readonly side: 'Buy' | 'Sell'; readonly qty: number; readonly orderLinkId: string }, timestamp: number, retries = 0): Promise<void> {
  const body = JSON.stringify({ category: 'linear', symbol: order.symbol, side: order.side, orderType: 'Market', qty: String(order.qty), orderLinkId: order.orderLinkId });
  let answer: VenueEnvelope | undefined;
  for (let attempt = 0; answer === undefined; attempt++) {
    try {
      answer = await signed(venue, 'POST', '/v5/order/create', body, { timestamp });
    } catch (e) {
      if (attempt >= retries) throw e;
    }
  }
  if (answer.retCode !== 0) throw new Error(`trade by hand ${order.orderLinkId} refused: ${JSON.stringify(answer)}`);
  venue.trade(venue.lastPrice(order.symbol), Infinity, order.symbol);
  const status = venue.orders().find((o) => o['orderLinkId'] === order.orderLinkId)?.['orderStatus'];
  if (status !== 'Filled') throw new Error(`trade by hand ${order.orderLinkId} not filled: ${String(status)}`);
}

/** The test account's key and secret (what the redaction tests look for in every output). */
export const TEST_API_KEY = 'tmKEYq7Z4xW9vB2nR8';
export const TEST_API_SECRET = 'tmSECRETm3Kp9Lw2Xv7Qz5Jh8Ny4Ft6';

/** Kinds of faults the venue injects; `partial_fill` acts in matching, `duplicate_order_link_id` counts every 110072 answered. */
export type VenueFaultKind =
  | 'latency'
  | 'never_answered'
  | 'server_error'
  | 'rate_limit'
  | 'http_429'
  | 'http_403'
  | 'timestamp'
  | 'insufficient_balance'
  | 'partial_fill'
  | 'duplicate_order_link_id'
  | 'dropped_connection'
  | 'stale_read'
  | 'restart'
  | 'late_answer'
  | 'cancel_not_found';

/** Order in which one uniform draw is mapped onto the random kinds (cumulative rates). */
const RANDOM_FAULT_ORDER: readonly Exclude<VenueFaultKind, 'duplicate_order_link_id' | 'partial_fill'>[] = ['latency', 'never_answered', 'server_error', 'rate_limit', 'http_429', 'http_403', 'timestamp', 'insufficient_balance', 'dropped_connection', 'stale_read', 'restart', 'late_answer', 'cancel_not_found'];

/** Whether a forced fault or an answer hold for `target.orderLinkId` (any request when undefined) applies to a request of `orderLinkId`. */
function targets(target: { readonly orderLinkId: string | undefined }, orderLinkId: string | undefined): boolean {
  return target.orderLinkId === undefined || target.orderLinkId === orderLinkId;
}

/** Listings a `stale_read` fault answers empty (as an eventually consistent read that missed the newest records). */
const READ_PATHS: ReadonlySet<string> = new Set(['/v5/order/realtime', '/v5/order/history', '/v5/execution/list']);

/** Requests a `cancel_not_found` fault answers 110001 without carrying them out. */
const CANCEL_PATHS: ReadonlySet<string> = new Set(['/v5/order/cancel', '/v5/order/amend']);

/**
 * `stale_read`: an order or execution listing answers an empty list (Bybit's listings lag its matching engine).
 * `cancel_not_found`: a cancel or amend is answered 110001 ("order not exists or too late to cancel") and not carried
 * out although the order works (Bybit's cancel can miss an order it created moments before: hirokisan/bybit#129,
 * ccxt/ccxt#23922).
 * `late_answer`: the request is carried out at once and answered after a delay (the network's, not the venue's).
 * Seeded random faults: each private request draws one uniform number from a PRNG seeded with `seed` and gets at most
 * one fault (rates are probabilities per request, summing to ≤ 1); `partial_fill` is the probability that one match
 * fills only 20–80 % of what it could. `latencyMs` = [min, max] delay of a `latency` fault (before the request is
 * carried out) and of a `late_answer` (after it); default [20, 200].
 */
export interface VenueFaultConfig {
  readonly seed: number;
  readonly rates: Partial<Record<Exclude<VenueFaultKind, 'duplicate_order_link_id'>, number>>;
  readonly latencyMs?: readonly [number, number];
}

/** One private request as the venue saw it. */
export interface PrivateLogEntry {
  readonly path: string;
  readonly orderLinkId: string | undefined;
  fault: VenueFaultKind | undefined;
  outcome: string;
}

export interface VenueAccountOptions {
  readonly apiKey: string;
  readonly apiSecret: string;
  /** USDT wallet balance at the start; default 100,000. */
  readonly balance?: number;
}

export interface BybitV5VenueOptions {
  /** Accounts; default one with {@link TEST_API_KEY} / {@link TEST_API_SECRET} and 100,000 USDT. */
  readonly accounts?: readonly VenueAccountOptions[];
  readonly makerFee?: number;
  readonly takerFee?: number;
  /** Market fills pay this many basis points against the taker; default 0. */
  readonly slippageBps?: number;
  /** `next-price` (default): orders meet the next traded price; `arrival`: market orders fill on arrival at the last price. */
  readonly marketOrders?: 'next-price' | 'arrival';
  /** Leverage of every position until set; default 10. */
  readonly leverage?: number;
  /** Last price of every symbol before the first trade; default 100. */
  readonly initialPrice?: number;
  /** Share of each trade's volume this account may fill; default unlimited. */
  readonly participation?: number;
  /** Check the request timestamp against the recv window; default true. */
  readonly recvWindowCheck?: boolean;
  /**
   * `window` (default): an execution listing by orderId keeps Bybit's 7-day time window; `ignored`: an orderId takes
   * priority over startTime/endTime (as Bybit documents for some listings), so every window answers all of the order's
   * executions. Bybit does not document which one its execution list applies: a client must be right under both.
   */
  readonly executionsById?: 'window' | 'ignored';
  readonly faults?: VenueFaultConfig;
  /** Market data of the underlying server (instruments, klines, funding). */
  readonly server?: Omit<BybitV5ServerData, 'now'>;
  /** Venue clock (epoch ms) for timestamps, windows and the recv-window check; default Date.now. */
  readonly now?: () => number;
}

const WEEK_MS = 7 * 24 * 3_600_000;
const REALTIME_CLOSED_LIMIT = 500;
const EPS = 1e-9;

interface Market {
  readonly symbol: string;
  readonly qtyStep: number;
  readonly tickSize: number;
  last: number;
  /** Orders that arrived since the last trade (their next price is their first matching opportunity). */
  readonly fresh: Set<string>;
}

interface VenueOrder {
  readonly orderId: string;
  readonly orderLinkId: string;
  readonly symbol: string;
  readonly side: 'Buy' | 'Sell';
  readonly orderType: 'Market' | 'Limit';
  readonly timeInForce: string;
  qty: number;
  price: number;
  readonly reduceOnly: boolean;
  orderStatus: 'New' | 'PartiallyFilled' | 'Filled' | 'Cancelled' | 'Rejected';
  rejectReason: string;
  cancelType: string;
  cumExecQty: number;
  cumExecValue: number;
  cumExecFee: number;
  readonly lastPriceOnCreated: number;
  readonly createdTime: number;
  updatedTime: number;
}

interface VenueExecution {
  readonly execId: string;
  readonly seq: number;
  readonly symbol: string;
  readonly orderId: string;
  readonly orderLinkId: string;
  readonly side: 'Buy' | 'Sell';
  readonly orderType: string;
  readonly orderPrice: number;
  readonly orderQty: number;
  readonly leavesQty: number;
  readonly execPrice: number;
  readonly execQty: number;
  readonly execFee: number;
  readonly feeRate: number;
  readonly isMaker: boolean;
  readonly closedSize: number;
  readonly execTime: number;
  readonly markPrice: number;
  /** Absent: `Trade`. */
  readonly execType?: 'Funding';
}

interface VenuePosition {
  readonly symbol: string;
  size: number;
  avgPrice: number;
  leverage: number;
  cumRealisedPnl: number;
  readonly createdTime: number;
  updatedTime: number;
}

interface Account {
  readonly apiKey: string;
  readonly secret: string;
  wallet: number;
  readonly positions: Map<string, VenuePosition>;
  readonly orders: VenueOrder[];
  /** The orders still open (New or PartiallyFilled), in the order they were placed. */
  readonly working: VenueOrder[];
  readonly byLinkId: Map<string, VenueOrder>;
  readonly byOrderId: Map<string, VenueOrder>;
  /** Ids of the closed orders the realtime endpoint still knows (last 500). */
  readonly recentClosed: string[];
  readonly executions: VenueExecution[];
  /** False once an execution was made earlier than the one before it (see {@link executionsBetween}). */
  executionsInTimeOrder: boolean;
}

/** Appends an execution, noting when one is earlier than the last (a test's clock went back): see {@link executionsBetween}. */
function pushExecution(account: Account, e: VenueExecution): void {
  const last = account.executions[account.executions.length - 1];
  if (last !== undefined && e.execTime < last.execTime) account.executionsInTimeOrder = false;
  account.executions.push(e);
}

/**
 * The account's executions, in the order they happened, of which those with `execTime` in [start, end] are all that
 * matter: when they were made in time order (always, unless a test's clock went back), the run of them in that range,
 * found by binary search, else all of them. A listing filters by time anyway; this keeps a long run from filtering
 * every execution it ever made on every poll.
 */
function executionsBetween(account: Account, start: number, end: number): readonly VenueExecution[] {
  const all = account.executions;
  if (!account.executionsInTimeOrder) return all;
  const first = (t: number, after: boolean): number => {
    let lo = 0, hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (after ? all[mid]!.execTime <= t : all[mid]!.execTime < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return all.slice(first(start, false), first(end, true));
}

const isOpen = (o: VenueOrder) => o.orderStatus === 'New' || o.orderStatus === 'PartiallyFilled';

function matchesFilter(o: VenueOrder, p: Record<string, unknown>): boolean {
  if (p['symbol'] !== undefined && o.symbol !== p['symbol']) return false;
  if (p['baseCoin'] !== undefined && !o.symbol.startsWith(String(p['baseCoin']))) return false;
  if (p['orderId'] !== undefined && o.orderId !== p['orderId']) return false;
  if (p['orderLinkId'] !== undefined && o.orderLinkId !== p['orderLinkId']) return false;
  return true;
}

/** Numbers as Bybit prints them: decimal strings without float noise. */
function num(x: number): string {
  return String(Number(x.toFixed(10)));
}

function roundQty(x: number): number {
  return Number(x.toFixed(10));
}

function roundTo(x: number, step: number): number {
  return Number((Math.round(x / step) * step).toFixed(10));
}

function floorTo(x: number, step: number): number {
  if (x === Infinity) return Infinity;
  return Number((Math.floor(x / step + 1e-9) * step).toFixed(10));
}

function checkStep(x: number, step: number, name: string): void {
  if (Math.abs(x / step - Math.round(x / step)) > 1e-6) throw new BybitV5Reject(10001, `params error: ${name} ${x} is not a multiple of ${step}`);
}

function positiveNumber(v: unknown, name: string): number {
  const x = Number(v);
  if (!(x > 0) || !Number.isFinite(x)) throw new BybitV5Reject(10001, `params error: ${name} must be a number > 0, was ${String(v)}`);
  return x;
}

function linearCategory(p: Record<string, unknown>): void {
  if (p['category'] !== 'linear') throw new BybitV5Reject(10001, `params error: category must be linear on this venue, was ${String(p['category'])}`);
}

function parseBodyLenient(body: string): Record<string, unknown> {
  try {
    return parseBody(body);
  } catch {
    return {};
  }
}

function parseBody(body: string): Record<string, unknown> {
  try {
    const v = JSON.parse(body === '' ? '{}' : body) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new BybitV5Reject(10001, 'params error: body must be a JSON object');
}

/** A deterministic UUID-shaped id from a counter (Bybit's linear order and execution ids are UUIDs). */
function uuidFrom(n: number, tag: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `${tag.toString(16).padStart(8, '0')}-0000-4000-8000-${hex}`;
}

/** One cursor page of `list` (cursor = offset), with Bybit's `limit` bounds. */
function page<T>(list: readonly T[], p: Record<string, unknown>, fallback: number, max: number, category: string, json: (row: T) => unknown = (row) => row): unknown {
  const limit = p['limit'] === undefined ? fallback : Number(p['limit']);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new BybitV5Reject(10001, `params error: limit must be in [1, ${max}], was ${String(p['limit'])}`);
  const offset = p['cursor'] === undefined || p['cursor'] === '' ? 0 : Number(p['cursor']);
  if (!Number.isInteger(offset) || offset < 0) throw new BybitV5Reject(10001, 'params error: cursor is invalid');
  const rows = list.slice(offset, offset + limit).map(json); // only the page's rows are printed
  return { category, list: rows, nextPageCursor: offset + limit < list.length ? String(offset + limit) : '' };
}

function orderJson(o: VenueOrder): Record<string, string | boolean> {
  const leaves = isOpen(o) ? o.qty - o.cumExecQty : 0;
  return {
    orderId: o.orderId,
    orderLinkId: o.orderLinkId,
    blockTradeId: '',
    symbol: o.symbol,
    price: o.orderType === 'Limit' ? num(o.price) : '0',
    qty: num(o.qty),
    side: o.side,
    isLeverage: '',
    positionIdx: '0',
    orderStatus: o.orderStatus,
    createType: 'CreateByUser',
    cancelType: o.cancelType,
    rejectReason: o.rejectReason,
    avgPrice: o.cumExecQty > 0 ? num(o.cumExecValue / o.cumExecQty) : '',
    leavesQty: num(leaves),
    leavesValue: num(leaves * (o.orderType === 'Limit' ? o.price : o.lastPriceOnCreated)),
    cumExecQty: num(o.cumExecQty),
    cumExecValue: num(o.cumExecValue),
    cumExecFee: num(o.cumExecFee),
    timeInForce: o.timeInForce,
    orderType: o.orderType,
    stopOrderType: '',
    orderIv: '',
    marketUnit: '',
    triggerPrice: '',
    takeProfit: '',
    stopLoss: '',
    tpslMode: '',
    tpLimitPrice: '',
    slLimitPrice: '',
    tpTriggerBy: '',
    slTriggerBy: '',
    triggerDirection: '0',
    triggerBy: '',
    lastPriceOnCreated: num(o.lastPriceOnCreated),
    reduceOnly: o.reduceOnly,
    closeOnTrigger: false,
    placeType: '',
    smpType: 'None',
    smpGroup: '0',
    smpOrderId: '',
    createdTime: String(o.createdTime),
    updatedTime: String(o.updatedTime),
  };
}

function executionJson(e: VenueExecution): Record<string, string | boolean> {
  return {
    symbol: e.symbol,
    orderId: e.orderId,
    orderLinkId: e.orderLinkId,
    side: e.side,
    orderPrice: num(e.orderPrice),
    orderQty: num(e.orderQty),
    leavesQty: num(e.leavesQty),
    createType: 'CreateByUser',
    orderType: e.orderType,
    stopOrderType: '',
    execFee: num(e.execFee),
    execId: e.execId,
    execPrice: num(e.execPrice),
    execQty: num(e.execQty),
    execType: e.execType ?? 'Trade',
    execValue: num(e.execQty * e.execPrice),
    execTime: String(e.execTime),
    feeCurrency: 'USDT',
    isMaker: e.isMaker,
    feeRate: num(e.feeRate),
    tradeIv: '',
    markIv: '',
    markPrice: num(e.markPrice),
    indexPrice: '',
    underlyingPrice: '',
    blockTradeId: '',
    closedSize: num(e.closedSize),
    seq: e.seq,
  } as unknown as Record<string, string | boolean>;
}

function positionJson(p: VenuePosition, mark: number, now: number): Record<string, unknown> {
  const size = Math.abs(p.size);
  const value = size * p.avgPrice;
  void now;
  return {
    positionIdx: 0,
    riskId: 1,
    riskLimitValue: '2000000',
    symbol: p.symbol,
    side: p.size > 0 ? 'Buy' : p.size < 0 ? 'Sell' : '',
    size: num(size),
    avgPrice: num(p.avgPrice),
    positionValue: num(value),
    tradeMode: 0,
    positionStatus: 'Normal',
    autoAddMargin: 0,
    adlRankIndicator: size > 0 ? 2 : 0,
    leverage: num(p.leverage),
    positionBalance: num(value / p.leverage),
    markPrice: num(mark),
    liqPrice: '',
    bustPrice: '',
    positionMM: num(size * mark * 0.005),
    positionIM: num((size * mark) / p.leverage),
    tpslMode: 'Full',
    takeProfit: '0',
    stopLoss: '0',
    trailingStop: '0',
    unrealisedPnl: num(p.size * (mark - p.avgPrice)),
    curRealisedPnl: num(p.cumRealisedPnl),
    cumRealisedPnl: num(p.cumRealisedPnl),
    seq: 0,
    isReduceOnly: false,
    mmrSysUpdatedTime: '',
    leverageSysUpdatedTime: '',
    sessionAvgPrice: '',
    createdTime: String(p.createdTime),
    updatedTime: String(p.updatedTime),
  };
}
