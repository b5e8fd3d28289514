import { AuthenticationError, BaseError, burstBucket, CcxtBybit, DDoSProtection, DEFAULT_RATE_LIMIT_BURST, ExchangeError, InvalidNonce, NetworkError, RateLimitExceeded } from './ccxt-bybit.js';
import { z } from 'zod';
import type { Instrument } from '../../core/instrument.js';
import type { OrderCommand } from '../../core/order.js';
import { seededRandom, type Random } from '../../core/random.js';
import { err, ok, type Result } from '../../core/result.js';
import { redactError, redactText } from '../../core/redact.js';
import type { Clock } from '../../core/time.js';
import type { ExecutionClient, ExecutionEvents } from '../../engine/execution-client.js';
import type { VenueBalanceReport, VenueFillReport, VenueFundingReport, VenueOrderReport, VenuePositionReport, VenueQueries } from '../../engine/venue-reports.js';
import { BybitError } from './bybit-error.js';
import { isPostOnlyReject, orderReason, parseBalanceReport, parseFillReport, parseFundingReport, parseOrderReport, parsePositionReport, type SymbolIndex } from './bybit-execution-parse.js';
import { resolveBybitEnvironment, type BybitEnvironment, type BybitKeys } from './bybit-keys.js';
import { storeToUnifiedSymbol } from './symbols.js';

/** Settings of {@link BybitExecutionClient} (zod, strict: unknown keys fail). Defaults are declared here only. */
export const BybitExecutionConfig = z
  .object({
    /** Bybit testnet (ccxt sandbox) instead of the demo account. */
    testnet: z.boolean().default(false),
    /** Real money: needs `acceptRealMoney: true` and `TM_ALLOW_REAL_MONEY=1` as well. */
    mainnet: z.boolean().default(false),
    acceptRealMoney: z.boolean().default(false),
    /** Base URL replacing every Bybit host (the local v5 server in tests); absent = Bybit's own hosts. */
    apiUrl: z.string().url().optional(),
    /** Deadline of one REST request (ccxt `timeout`), ms. */
    timeoutMs: z.number().int().min(1).max(600_000).default(10_000),
    /** Bybit `X-BAPI-RECV-WINDOW`, ms. */
    recvWindowMs: z.number().int().min(1).max(60_000).default(5_000),
    /** ccxt's minimum spacing between requests, ms (its Bybit default is 20). */
    rateLimitMs: z.number().min(0).max(10_000).default(20),
    /** ccxt cost units that may leave at once after a quiet spell (start-up reconciliation), then `rateLimitMs` per unit; see DEFAULT_RATE_LIMIT_BURST. */
    rateLimitBurst: z.number().min(0).max(500).default(DEFAULT_RATE_LIMIT_BURST),
    /** Retries of a request refused for rate limits (10006, 10018, HTTP 429/403) before giving up. */
    rateLimitRetries: z.number().int().min(0).max(20).default(5),
    /** Back-off after a rate limit: min(maxMs, baseMs · 2^attempt) · (0.5 + jitter), jitter seeded by `seed`. */
    backoffBaseMs: z.number().min(0).max(60_000).default(250),
    backoffMaxMs: z.number().min(0).max(600_000).default(8_000),
    /** Queries of an order whose submit had no clear answer before it is declared lost. */
    lostAfterQueries: z.number().int().min(1).max(10).default(3),
    /** Interval of the poll loop started by `start()`, ms. */
    pollIntervalMs: z.number().int().min(10).max(600_000).default(1_000),
    /** Seed of the back-off jitter. */
    seed: z.number().int().default(0),
  })
  .strict();
export type BybitExecutionConfig = Readonly<z.infer<typeof BybitExecutionConfig>>;
export type BybitExecutionConfigInput = z.input<typeof BybitExecutionConfig>;

/** An order whose fate could not be learned: submitted, no clear answer, and still unknown after the allowed queries. */
export interface OrderLost {
  readonly kind: 'lost';
  readonly clientOrderId: string;
  readonly instrument: number;
  readonly reason: string;
  readonly tsEvent: number;
}

/** What the client needs besides its settings. */
export interface BybitExecutionDeps {
  /** Instruments the engine trades; orders and reports carry indices into this list. */
  readonly instruments: readonly Instrument[];
  readonly keys: BybitKeys;
  /** Local time of events (fills' `tsInit`, rejections, cancels). */
  readonly clock: Clock;
  /** Environment read for `TM_ALLOW_REAL_MONEY`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Called when an order is declared lost (also listed by `lostOrders()`). */
  readonly onOrderLost?: (event: OrderLost) => void;
  /** Called with errors of the background poll loop and of commands that failed unexpectedly (already redacted). */
  readonly onError?: (error: BybitError) => void;
  /** Waits `ms` (default setTimeout); tests may speed it up. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called right before ccxt's `createOrder` is invoked for an order (each attempt): latency probes. */
  readonly onCreateOrder?: (clientOrderId: string) => void;
  /** Called with every failed venue request: Bybit's retCode (e.g. `10006`), else the error's code (metrics). */
  readonly onVenueError?: (code: string) => void;
  /** Called with each back-off wait after a rate limit (10006, 10018, HTTP 429/403), in seconds (metrics). */
  readonly onRateLimitWait?: (seconds: number) => void;
}

/** One listing of the account's execution list: its rows (every page and 7-day window) and the local time it was asked. */
interface ExecutionListing {
  readonly rows: readonly Record<string, unknown>[];
  readonly tsInit: number;
}

/** An execution listing in flight: asks from `sinceMs` or later share it while `joining.open` (before it asks the venue's time). */
interface PendingListing {
  readonly sinceMs: number;
  readonly joining: { readonly open: boolean };
  readonly rows: Promise<CallResult<ExecutionListing>>;
}

type CallResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly kind: 'venue'; readonly retCode: number | undefined; readonly error: BybitError }
  | { readonly ok: false; readonly kind: 'rate_limited' | 'ambiguous'; readonly error: BybitError };

interface Tracked {
  readonly order: OrderCommand;
  readonly seq: number;
  venueOrderId: string | undefined;
  /** submitting: create in flight; acknowledged: the venue has it, status not seen; working: accepted reported. */
  state: 'submitting' | 'acknowledged' | 'working' | 'done' | 'lost' | 'rejected';
  deliveredQuantity: number;
  readonly fillIds: Set<string>;
  /** Cancels sent and not answered yet. */
  cancelsPending: number;
  /** Reasons of cancels the venue refused, reported after the order's fills. */
  readonly cancelRejections: string[];
  /** Consecutive polls the acknowledged order was not found. */
  misses: number;
  /** Refusals of later commands reusing this id, reported right after this order's first event. */
  readonly duplicateRejections: string[];
}

/**
 * The execution client of Bybit v5 USDT linear perpetuals through ccxt, and the venue queries a live runner
 * reconciles with. Demo account by default; testnet or mainnet only by switches (see {@link resolveBybitEnvironment}).
 *
 * Commands (`submit`, `cancel`) return at once and never throw: they run one after another in a queue, and every
 * outcome arrives as an event. Order status and fills are learned by {@link poll} (one round of `/v5/order/realtime`,
 * per-order lookups and `/v5/execution/list`), called by the owner or by the loop of {@link start}; events of one
 * order always come in venue order: accepted, fills, then canceled (IOC and FOK leftovers too: Bybit has no expired
 * status), or rejected instead of accepted.
 *
 * Never a blind retry: after a timeout, dropped connection or 5xx on submit, the order is looked up by its
 * `orderLinkId` (realtime, then history) before anything else; found → adopted; absent → sent once more with the same
 * `orderLinkId` (Bybit answers 110072 if it had it after all → adopted); unknown after `lostAfterQueries` queries →
 * lost (`lostOrders()`, `onOrderLost`). Rate limits (10006, 10018, HTTP 429/403) back off with seeded jitter and
 * widen the spacing of later requests; 10002 resyncs the clock with the venue once and retries; 110007 rejects with
 * the venue's reason; 110001 on cancel → cancel rejected; 110043 on set-leverage counts as done.
 *
 * Every error that leaves the client is a {@link BybitError} with the key, the secret, signatures and `X-BAPI-*` header
 * values removed.
 * @example
 * const client = new BybitExecutionClient({ apiUrl: venue.url }, { instruments, keys, clock, env: process.env });
 * client.connect(kernel); await client.prepare(); client.submit(order); await client.flush(); await client.poll();
 */
export class BybitExecutionClient implements ExecutionClient, VenueQueries {
  readonly environment: BybitEnvironment;
  readonly config: BybitExecutionConfig;
  private readonly exchange: CcxtBybit;
  private readonly instruments: readonly Instrument[];
  private readonly symbols: SymbolIndex;
  private readonly secrets: readonly string[];
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: Random;
  private readonly deps: BybitExecutionDeps;
  private events: ExecutionEvents | undefined;
  private readonly tracked = new Map<string, Tracked>();
  private readonly lost: OrderLost[] = [];
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private pendingSubmits = 0;
  private pendingCancels = 0;
  private seq = 0;
  private polling: Promise<void> | undefined;
  private loop: ReturnType<typeof setInterval> | undefined;
  private throttleMs = 0;
  private lastRequestAt = -Infinity;
  /** Requests sent to the venue so far (each attempt of each call): see LiveVenue.requests. */
  requests = 0;
  private marketsLoaded = false;
  /** The execution listing in flight (see {@link executionListing}). */
  private listing: PendingListing | undefined;
  private closed = false;

  /** @throws BybitError `real_money_refused` / `invalid_argument` (switches, URL), `missing_credentials` (empty keys). */
  constructor(config: BybitExecutionConfigInput, deps: BybitExecutionDeps) {
    const parsed = BybitExecutionConfig.safeParse(config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new BybitError('invalid_argument', `Bybit execution config: \`${issue.path.join('.')}\` ${issue.message}`, { field: issue.path.join('.') });
    }
    this.config = Object.freeze(parsed.data);
    this.environment = resolveBybitEnvironment(this.config, deps.env);
    if (!deps.keys.apiKey || !deps.keys.apiSecret) throw new BybitError('missing_credentials', 'Bybit execution client needs an API key and secret', {});
    this.deps = deps;
    this.instruments = deps.instruments;
    this.symbols = new Map(deps.instruments.map((i, k) => [i.symbol, k]));
    this.secrets = [deps.keys.apiKey, deps.keys.apiSecret];
    this.clock = deps.clock;
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = seededRandom(this.config.seed);
    this.exchange = new CcxtBybit({
      apiKey: deps.keys.apiKey,
      secret: deps.keys.apiSecret,
      enableRateLimit: true,
      rateLimit: this.config.rateLimitMs,
      tokenBucket: burstBucket(this.config.rateLimitBurst),
      timeout: this.config.timeoutMs,
      options: {
        defaultType: 'swap',
        defaultSubType: 'linear',
        recvWindow: this.config.recvWindowMs,
        fetchMarkets: { types: ['linear'] },
        // A unified trading account: no /v5/user/query-api + /v5/account/info round trip before orders and balances.
        enableUnifiedAccount: true,
        enableUnifiedMargin: false,
        unifiedMarginStatus: 6,
      },
    });
    // The private currency list (/v5/asset/coin/query-info) is not needed for linear contracts.
    (this.exchange.has as Record<string, unknown>)['fetchCurrencies'] = false;
    if (this.environment === 'demo') this.exchange.enableDemoTrading(true);
    else if (this.environment === 'testnet') this.exchange.setSandboxMode(true);
    if (this.config.apiUrl !== undefined) {
      const url = this.config.apiUrl.replace(/\/+$/, '');
      const api = this.exchange.urls['api'] as Record<string, string>;
      this.exchange.urls['api'] = Object.fromEntries(Object.keys(api).map((k) => [k, url])) as typeof this.exchange.urls['api'];
    }
  }

  connect(events: ExecutionEvents): void {
    this.events = events;
  }

  /** Loads the markets and syncs the clock with the venue's (`/v5/market/time`). @throws BybitError (redacted). */
  async prepare(): Promise<void> {
    await this.ensureMarkets();
    const r = await this.call(() => this.exchange.loadTimeDifference());
    if (!r.ok) throw r.error;
  }

  /** Sets the leverage of an instrument; "not modified" (110043) counts as done. @throws BybitError (redacted). */
  async setLeverage(instrument: number, leverage: number): Promise<void> {
    await this.ensureMarkets();
    const symbol = this.symbolOf(instrument);
    if (!symbol.success) throw symbol.error;
    const r = await this.call(() => this.exchange.setLeverage(leverage, symbol.data));
    if (!r.ok && !(r.kind === 'venue' && r.retCode === 110043)) throw r.error;
  }

  submit(order: OrderCommand): void {
    this.pendingSubmits++;
    this.enqueue(() => this.runSubmit(order));
  }

  cancel(clientOrderId: string, instrument: number): void {
    this.pendingCancels++;
    const handed = { off: false };
    this.enqueue(async () => {
      try {
        await this.runCancel(clientOrderId, instrument, handed);
      } catch (e) {
        // An unexpected failure (e.g. an unreadable venue answer): the cancel's outcome is unknown, say so.
        if (!handed.off) {
          this.pendingCancels--;
          this.events?.onOrderCancelRejected({ kind: 'cancel-rejected', clientOrderId, reason: `cancel failed: ${this.redacted(e).message}`, tsEvent: this.clock.now() });
        }
        throw e;
      }
    });
  }

  /** Resolves when every command sent so far has had its request(s) answered (not necessarily its final event). */
  async flush(): Promise<void> {
    while (this.queued > 0) await this.queue;
  }

  /** Commands not answered yet by an event (submits without accepted/rejected/lost, cancels without their outcome). */
  pending(): number {
    return this.pendingSubmits + this.pendingCancels;
  }

  /**
   * Where this client is with an order it submitted: `submitting` (request in flight or being looked up),
   * `acknowledged` (the venue has it, accepted not reported yet), `working`, `done` (filled or canceled), `rejected`,
   * `lost`; undefined for ids it never submitted.
   */
  orderState(clientOrderId: string): 'submitting' | 'acknowledged' | 'working' | 'done' | 'lost' | 'rejected' | undefined {
    return this.tracked.get(clientOrderId)?.state;
  }

  /** Orders lost now (declared lost and not found again by a later poll), in the order they were lost. */
  lostOrders(): readonly OrderLost[] {
    return [...this.lost];
  }

  /** Starts polling every `pollIntervalMs` (errors go to `onError`). */
  start(): void {
    if (this.loop !== undefined) return;
    this.loop = setInterval(() => {
      this.poll().catch((e: unknown) => this.deps.onError?.(this.redacted(e)));
    }, this.config.pollIntervalMs);
  }

  stop(): void {
    if (this.loop !== undefined) clearInterval(this.loop);
    this.loop = undefined;
  }

  /** Stops the loop, waits for queued commands and closes ccxt's connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop();
    await this.flush();
    await this.polling;
    await this.exchange.close();
    const dispatcher = (this.exchange as unknown as { fetchDispatcher?: { close(): Promise<void> } }).fetchDispatcher;
    await dispatcher?.close();
  }

  /**
   * One round of status queries: the working orders, a lookup of each tracked order no longer working, and the
   * executions of orders whose filled quantity grew; delivers the resulting events. Concurrent calls share one round.
   * @throws BybitError (redacted) when the venue cannot be read; nothing is delivered twice on the next round.
   */
  poll(): Promise<void> {
    if (this.polling) return this.polling;
    this.polling = this.pollRound().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  // ---- VenueQueries --------------------------------------------------------------------------------------------------

  async queryOrder(clientOrderId: string, instrument: number): Promise<VenueOrderReport | undefined> {
    const json = await this.must(this.findOrderJson(clientOrderId, instrument));
    return json === undefined ? undefined : parseOrderReport(json, this.symbols);
  }

  async openOrders(clientOrderIdPrefix: string): Promise<readonly VenueOrderReport[]> {
    const open = await this.must(this.listOpenOrders());
    return [...open.values()]
      .filter((o) => String(o['orderLinkId'] ?? '').startsWith(clientOrderIdPrefix) && this.symbols.has(String(o['symbol'])))
      .sort((a, b) => Number(a['createdTime']) - Number(b['createdTime']))
      .map((o) => parseOrderReport(o, this.symbols));
  }

  async executionsSince(sinceMs: number): Promise<readonly VenueFillReport[]> {
    return this.executionsOf(sinceMs, (row, tsInit) => parseFillReport(row, this.symbols, tsInit));
  }

  async fundingSince(sinceMs: number): Promise<readonly VenueFundingReport[]> {
    return this.executionsOf(sinceMs, (row) => parseFundingReport(row, this.symbols));
  }

  /**
   * The executions of the configured symbols with venue time ≥ `sinceMs` that `parse` maps (fills, or funding payments;
   * `tsInit` the local time asked), oldest first.
   */
  private async executionsOf<T extends { readonly tsEvent: number; readonly executionId: string }>(sinceMs: number, parse: (row: Record<string, unknown>, tsInit: number) => T | undefined): Promise<T[]> {
    const { rows, tsInit } = await this.must(this.executionListing(sinceMs));
    const out: T[] = [];
    for (const row of rows) {
      if (!this.symbols.has(String(row['symbol']))) continue;
      const report = parse(row, tsInit);
      if (report && report.tsEvent >= sinceMs) out.push(report);
    }
    return out.sort((a, b) => a.tsEvent - b.tsEvent || compareIds(a.executionId, b.executionId));
  }

  /**
   * The account's execution list (linear) from `sinceMs` to the venue's now. An ask made while a listing from `sinceMs`
   * or earlier has not asked the venue's time yet shares it: a start's reconciliation asks for the run's fills and its
   * funding payments at once (both are in the execution list), which is then one listing (its time request, pages and
   * 7-day windows once) instead of two. Each ask still gets every execution up to a venue time read after it was made.
   */
  private executionListing(sinceMs: number): Promise<CallResult<ExecutionListing>> {
    const shared = this.listing;
    if (shared !== undefined && shared.joining.open && shared.sinceMs <= sinceMs) return shared.rows;
    const joining = { open: true };
    const listing: PendingListing = { sinceMs, joining, rows: this.listExecutions(sinceMs, joining) };
    this.listing = listing;
    const over = () => {
      if (this.listing === listing) this.listing = undefined;
    };
    listing.rows.then(over, over);
    return listing.rows;
  }

  /** One listing of the execution list from `sinceMs`; `joining.open` is false from when it asks the venue's time on. */
  private async listExecutions(sinceMs: number, joining: { open: boolean }): Promise<CallResult<ExecutionListing>> {
    await this.ensureMarkets();
    joining.open = false; // an ask from now on could be made after the venue read its time
    const now = await this.venueNow();
    const tsInit = this.clock.now();
    const r = await this.executionRows({ category: 'linear' }, sinceMs, now);
    return r.ok ? { ok: true, value: { rows: r.value, tsInit } } : r;
  }

  async positions(): Promise<readonly VenuePositionReport[]> {
    await this.ensureMarkets();
    const rows = await this.must(this.pages('position', { category: 'linear', settleCoin: 'USDT', limit: 200 }));
    const byInstrument = new Map<number, VenuePositionReport>();
    for (const row of rows) if (this.symbols.has(String(row['symbol']))) {
      const p = parsePositionReport(row, this.symbols);
      byInstrument.set(p.instrument, p);
    }
    return this.instruments.map((_, i) => byInstrument.get(i) ?? { instrument: i, quantity: 0, averagePrice: NaN, tsEvent: 0 });
  }

  async balance(): Promise<VenueBalanceReport> {
    await this.ensureMarkets();
    const response = await this.must(this.call(() => this.exchange.privateGetV5AccountWalletBalance({ accountType: 'UNIFIED' })));
    const currency = this.instruments[0]?.quoteCurrency ?? 'USDT';
    return parseBalanceReport((response as { result?: unknown }).result, currency, Number((response as { time?: unknown }).time) || this.clock.now());
  }

  // ---- commands --------------------------------------------------------------------------------------------------------

  private enqueue(task: () => Promise<void>): void {
    this.queued++;
    this.queue = this.queue
      .then(task)
      .catch((e: unknown) => this.deps.onError?.(this.redacted(e)))
      .finally(() => {
        this.queued--;
      });
  }

  private async runSubmit(order: OrderCommand): Promise<void> {
    try {
      await this.submitOnce(order);
    } catch (e) {
      // An unexpected failure after the request may have left: the order's fate is unknown until a poll finds it.
      const t = this.tracked.get(order.clientOrderId);
      if (t !== undefined && t.state === 'submitting') this.declareLost(t, `submit failed: ${this.redacted(e).message}`);
      throw e;
    }
  }

  private async submitOnce(order: OrderCommand): Promise<void> {
    const id = order.clientOrderId;
    const previous = this.tracked.get(id);
    // A second command with an id this client already placed: the venue refuses it (110072); it is not adopted.
    const duplicateCommand = previous !== undefined && previous.state !== 'lost' && previous.state !== 'rejected';
    let t: Tracked;
    if (duplicateCommand) t = previous;
    else if (previous?.state === 'lost') {
      // The same decision again while its first submit is lost: one order, followed by this command.
      this.lost.splice(this.lost.findIndex((l) => l.clientOrderId === id), 1);
      previous.state = 'submitting';
      t = previous;
    } else {
      t = { order, seq: ++this.seq, venueOrderId: undefined, state: 'submitting', deliveredQuantity: 0, fillIds: new Set(), cancelsPending: 0, cancelRejections: [], misses: 0, duplicateRejections: [] };
      this.tracked.set(id, t);
    }
    try {
      await this.ensureMarkets();
    } catch (e) {
      return this.reject(t, order, `venue unavailable: ${this.redacted(e).message}`, duplicateCommand);
    }
    // Outside the request: an instrument index this client does not have is the caller's error, not a lost answer.
    const symbol = this.symbolOf(order.instrument);
    if (!symbol.success) return this.reject(t, order, symbol.error.message, duplicateCommand);
    let resent = false;
    for (;;) {
      const r = await this.call(() => {
        this.deps.onCreateOrder?.(order.clientOrderId);
        return this.exchange.createOrder(symbol.data, order.type, order.side, order.quantity, order.type === 'limit' ? order.price : undefined, this.orderParams(order));
      });
      if (r.ok) {
        if (duplicateCommand) return this.reject(t, order, 'duplicate client order id', true); // cannot happen: the venue has the id
        t.venueOrderId = String((r.value.info as Record<string, unknown>)['orderId'] ?? r.value.id);
        t.state = 'acknowledged';
        return;
      }
      if (r.kind === 'venue' && r.retCode === 110072) {
        if (duplicateCommand) return this.reject(t, order, 'duplicate client order id (orderLinkId already used at the venue)', true);
        return this.adopt(t); // our own earlier attempt (or a previous run's) got through: that is the order
      }
      if (r.kind !== 'ambiguous') return this.reject(t, order, r.error.message, duplicateCommand);
      if (duplicateCommand) return this.reject(t, order, `duplicate client order id; the venue did not answer: ${r.error.message}`, true);
      // No clear answer: look before sending again.
      const found = await this.lookup(t);
      if (found === 'unknown') return this.declareLost(t, `no answer to the submit and ${this.config.lostAfterQueries} queries by orderLinkId failed (${r.error.message})`);
      if (found !== 'absent') return this.adoptFrom(t, found);
      if (resent) return this.declareLost(t, 'no answer to the submit, sent once more with the same orderLinkId, still not found at the venue');
      resent = true;
    }
  }

  private orderParams(order: OrderCommand): Record<string, unknown> {
    return {
      clientOrderId: order.clientOrderId,
      timeInForce: order.timeInForce,
      ...(order.postOnly ? { postOnly: true } : {}),
      ...(order.reduceOnly ? { reduceOnly: true } : {}),
    };
  }

  private reject(t: Tracked, order: OrderCommand, reason: string, duplicateCommand: boolean): void {
    if (duplicateCommand && t.state === 'acknowledged') {
      // The original's first event (accepted or rejected) has not been reported yet: this refusal comes after it.
      t.duplicateRejections.push(redactText(reason, this.secrets));
      return;
    }
    if (!duplicateCommand) t.state = 'rejected';
    this.pendingSubmits--;
    this.events?.onOrderRejected({ kind: 'rejected', clientOrderId: order.clientOrderId, reason: redactText(reason, this.secrets), tsEvent: this.clock.now() });
  }

  private declareLost(t: Tracked, reason: string): void {
    t.state = 'lost';
    this.pendingSubmits--;
    const event: OrderLost = { kind: 'lost', clientOrderId: t.order.clientOrderId, instrument: t.order.instrument, reason: redactText(reason, this.secrets), tsEvent: this.clock.now() };
    this.lost.push(event);
    this.deps.onOrderLost?.(event);
  }

  /** The venue already has this orderLinkId: look it up and follow it. */
  private async adopt(t: Tracked): Promise<void> {
    const found = await this.lookup(t);
    if (found === 'unknown' || found === 'absent') return this.declareLost(t, `the venue answered 110072 (orderLinkId exists) but the order could not be read (${found})`);
    return this.adoptFrom(t, found);
  }

  private async adoptFrom(t: Tracked, json: Record<string, unknown>): Promise<void> {
    t.venueOrderId = String(json['orderId']);
    t.state = 'acknowledged';
    await this.deliver(t, json);
  }

  /** Up to `lostAfterQueries` lookups by orderLinkId: the order JSON, `absent` (a query answered: not there) or `unknown`. */
  private async lookup(t: Tracked): Promise<Record<string, unknown> | 'absent' | 'unknown'> {
    for (let attempt = 0; attempt < this.config.lostAfterQueries; attempt++) {
      const r = await this.findOrderJson(t.order.clientOrderId, t.order.instrument);
      if (r.ok) return r.value ?? 'absent';
      await this.sleep(this.backoff(attempt));
    }
    return 'unknown';
  }

  /** Runs one cancel; `handed.off` turns true once its answer is reported or handed to the poll. */
  private async runCancel(clientOrderId: string, instrument: number, handed: { off: boolean }): Promise<void> {
    const t = this.tracked.get(clientOrderId);
    const done = (kind: 'canceled' | 'cancel-rejected', reason: string) => {
      handed.off = true;
      if (kind === 'cancel-rejected' && t?.state === 'acknowledged') {
        t.cancelRejections.push(reason); // reported by the poll, after the order's accepted (or its rejection)
        return;
      }
      this.pendingCancels--;
      const event = { clientOrderId, reason: redactText(reason, this.secrets), tsEvent: this.clock.now() };
      if (kind === 'canceled') this.events?.onOrderCanceled({ kind, ...event });
      else this.events?.onOrderCancelRejected({ kind, ...event });
    };
    // A poll reported the order canceled while this cancel was in flight (it saw the cancel's effect before its
    // answer came): that report answered it. Reporting canceled again would be a second end of one order.
    const endReported = () => {
      handed.off = true;
      this.pendingCancels--;
    };
    try {
      await this.ensureMarkets();
    } catch (e) {
      return done('cancel-rejected', `venue unavailable: ${this.redacted(e).message}`);
    }
    const symbol = this.symbolOf(instrument);
    if (!symbol.success) return done('cancel-rejected', symbol.error.message);
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await this.call(() => this.exchange.cancelOrder(undefined as unknown as string, symbol.data, { orderLinkId: clientOrderId }));
      if (r.ok) {
        if (t && (t.state === 'acknowledged' || t.state === 'working' || t.state === 'lost')) {
          t.cancelsPending++; // the poll reports canceled after the order's last fills
          handed.off = true;
          return;
        }
        if (t?.state === 'done') return endReported(); // a venue answers a cancel of a closed order with 110001
        return done('canceled', 'canceled on request');
      }
      if (r.kind === 'venue' && r.retCode === 110001) {
        if (t && (t.state === 'acknowledged' || t.state === 'working')) {
          t.cancelRejections.push('order is not working at the venue (110001: filled, canceled or unknown)');
          handed.off = true;
          return; // reported by the poll, after the fills that closed the order
        }
        return done('cancel-rejected', 'order is not working at the venue (110001: filled, canceled or unknown)');
      }
      if (r.kind !== 'ambiguous') return done('cancel-rejected', r.error.message);
      // No clear answer: look before canceling again.
      const found = await this.findOrderJson(clientOrderId, instrument);
      if (found.ok && found.value !== undefined && !isWorking(found.value)) {
        if (t && (t.state === 'acknowledged' || t.state === 'working') && found.value['orderStatus'] === 'Cancelled') {
          t.cancelsPending++;
          handed.off = true;
          return;
        }
        if (t?.state === 'done' && found.value['orderStatus'] === 'Cancelled') return endReported();
        return done('cancel-rejected', `order is no longer working (${String(found.value['orderStatus'])})`);
      }
      if (found.ok && found.value === undefined) return done('cancel-rejected', 'order unknown at the venue');
    }
    return done('cancel-rejected', 'cancel not confirmed: no answer from the venue');
  }

  // ---- polling ---------------------------------------------------------------------------------------------------------

  private async pollRound(): Promise<void> {
    const active = [...this.tracked.values()]
      .filter((t) => t.state === 'acknowledged' || t.state === 'working')
      .sort((a, b) => a.seq - b.seq);
    const lost = [...this.tracked.values()].filter((t) => t.state === 'lost');
    if (active.length === 0 && lost.length === 0) return;
    await this.ensureMarkets();
    const open = await this.must(this.listOpenOrders());
    for (const t of active) {
      if (t.state === 'done' || t.state === 'rejected') {
        this.flushCancels(t, undefined);
        continue;
      }
      let json = open.get(t.order.clientOrderId);
      if (json === undefined) {
        json = await this.must(this.findOrderJson(t.order.clientOrderId, t.order.instrument));
        if (json === undefined) {
          if (++t.misses >= this.config.lostAfterQueries) this.declareLostAfterAck(t);
          continue;
        }
      }
      t.misses = 0;
      await this.deliver(t, json);
    }
    // A lost order is looked up again each round: found → followed (accepted, fills). Not found proves nothing
    // (Bybit's listings lag its matching engine), so it stays lost: the owner decides (reconcile, halt the instrument).
    for (const t of lost) {
      const found = open.has(t.order.clientOrderId) ? ({ ok: true, value: open.get(t.order.clientOrderId) } as const) : await this.findOrderJson(t.order.clientOrderId, t.order.instrument);
      if (!found.ok || found.value === undefined) continue;
      // The same decision sent again while this lookup ran took the order over (and follows it): nothing to do here.
      // Taken as found, it was acknowledged a second time, and the splice below removed another order from the lost list.
      if ((t.state as Tracked['state']) !== 'lost') continue;
      this.lost.splice(this.lost.findIndex((l) => l.clientOrderId === t.order.clientOrderId), 1);
      this.pendingSubmits++;
      t.venueOrderId = String(found.value['orderId']);
      t.state = 'acknowledged';
      await this.deliver(t, found.value);
    }
  }

  private declareLostAfterAck(t: Tracked): void {
    const wasAnswered = t.state === 'working';
    t.state = 'lost';
    if (!wasAnswered) this.pendingSubmits--;
    const event: OrderLost = { kind: 'lost', clientOrderId: t.order.clientOrderId, instrument: t.order.instrument, reason: `acknowledged by the venue but not found by ${this.config.lostAfterQueries} polls`, tsEvent: this.clock.now() };
    this.lost.push(event);
    this.deps.onOrderLost?.(event);
  }

  /** Reports what changed for one order, in venue order: accepted (or rejected), new fills, then its end. */
  private async deliver(t: Tracked, json: Record<string, unknown>): Promise<void> {
    const report = parseOrderReport(json, this.symbols);
    const events = this.events;
    if (t.state === 'acknowledged') {
      if ((report.status === 'REJECTED' || isPostOnlyReject(json)) && report.filledQuantity === 0) {
        t.state = 'rejected';
        this.pendingSubmits--;
        events?.onOrderRejected({ kind: 'rejected', clientOrderId: t.order.clientOrderId, reason: report.reason ?? 'rejected by the venue', tsEvent: report.tsEvent });
        this.flushDuplicates(t);
        this.flushCancels(t, 'order was rejected');
        return;
      }
      t.state = 'working';
      this.pendingSubmits--;
      events?.onOrderAccepted({ kind: 'accepted', clientOrderId: t.order.clientOrderId, venueOrderId: report.venueOrderId, tsEvent: Number(json['createdTime']) || report.tsEvent });
      this.flushDuplicates(t);
    }
    if (report.filledQuantity > t.deliveredQuantity + EPS * Math.max(1, t.order.quantity)) {
      // From the order's creation to its last update (a minute's slack): an order may rest for weeks before it fills.
      const created = Number(json['createdTime']);
      const params = { category: 'linear', symbol: this.instruments[t.order.instrument]!.symbol, orderId: report.venueOrderId };
      const rows = await this.must(created > 0 ? this.executionRows(params, created, Math.max(created, report.tsEvent) + 60_000) : this.pages('execution', { ...params, limit: 100 }));
      const tsInit = this.clock.now();
      // By execution id: each once, also should the venue answer an execution in more than one window.
      const byId = new Map<string, VenueFillReport>();
      for (const row of rows) {
        const f = parseFillReport(row, this.symbols, tsInit);
        if (f !== undefined && !t.fillIds.has(f.executionId)) byId.set(f.executionId, f);
      }
      const fills = [...byId.values()].sort((a, b) => a.tsEvent - b.tsEvent || compareIds(a.executionId, b.executionId));
      for (const f of fills) {
        t.fillIds.add(f.executionId);
        t.deliveredQuantity += f.quantity;
        // The venue's execution id stays on the fill: a live runner books each execution once whether it learns of it
        // here or from its own reconciliation (`executionsSince`).
        events?.onOrderFilled({ ...f, clientOrderId: t.order.clientOrderId, tag: t.order.tag });
      }
    }
    const complete = t.deliveredQuantity >= report.filledQuantity - EPS * Math.max(1, t.order.quantity);
    if (!complete) return; // the executions lag the order: its end is reported on a later round
    // Two deliveries of one order can overlap (a poll beside an adoption after an unanswered submit): the one that read
    // the executions last finds the end reported by the other, and reports nothing more (its fills were deduplicated).
    if ((t.state as Tracked['state']) === 'done') return;
    // Bybit has no expired status: IOC and FOK leftovers end Cancelled, reported canceled as the simulator reports them.
    if (report.status === 'CANCELED' || report.status === 'REJECTED') {
      t.state = 'done';
      const reason = orderReason(json as never) ?? 'canceled';
      events?.onOrderCanceled({ kind: 'canceled', clientOrderId: t.order.clientOrderId, reason, tsEvent: report.tsEvent });
      this.pendingCancels -= t.cancelsPending;
      t.cancelsPending = 0;
      this.flushCancels(t, 'order is no longer working');
    } else if (report.status === 'FILLED') {
      t.state = 'done';
      this.flushCancels(t, 'order already filled');
    } else if (t.cancelRejections.length > 0) {
      this.flushCancels(t, undefined);
    }
  }

  private flushDuplicates(t: Tracked): void {
    for (const reason of t.duplicateRejections.splice(0)) {
      this.pendingSubmits--;
      this.events?.onOrderRejected({ kind: 'rejected', clientOrderId: t.order.clientOrderId, reason, tsEvent: this.clock.now() });
    }
  }

  /** Reports the refused cancels of `t` (and turns still-pending ones into refusals with `reason` when given). */
  private flushCancels(t: Tracked, reason: string | undefined): void {
    const reasons = [...t.cancelRejections, ...(reason !== undefined ? new Array<string>(t.cancelsPending).fill(reason) : [])];
    t.cancelRejections.length = 0;
    if (reason !== undefined) t.cancelsPending = 0;
    for (const r of reasons) {
      this.pendingCancels--;
      this.events?.onOrderCancelRejected({ kind: 'cancel-rejected', clientOrderId: t.order.clientOrderId, reason: r, tsEvent: this.clock.now() });
    }
  }

  // ---- venue requests --------------------------------------------------------------------------------------------------

  private async ensureMarkets(): Promise<void> {
    if (this.marketsLoaded) return;
    const r = await this.call(() => this.exchange.loadMarkets(true));
    if (!r.ok) throw r.error;
    for (const instrument of this.instruments) {
      const unified = storeToUnifiedSymbol(instrument.symbol);
      if (this.exchange.markets?.[unified] === undefined) throw new BybitError('venue_rejected', `Bybit does not list the linear perpetual ${instrument.symbol}`, { symbol: instrument.symbol });
    }
    this.marketsLoaded = true;
  }

  /** The ccxt symbol of instrument index `instrument`, or an `invalid_argument` error naming the index and the range. */
  private symbolOf(instrument: number): Result<string, BybitError> {
    const i = this.instruments[instrument];
    if (i === undefined) return err(new BybitError('invalid_argument', `instrument must be an index in [0, ${this.instruments.length}), was ${instrument}`, { instrument }));
    return ok(storeToUnifiedSymbol(i.symbol));
  }

  private async venueNow(): Promise<number> {
    const r = await this.call(() => this.exchange.fetchTime());
    if (!r.ok) throw r.error;
    return Number(r.value);
  }

  /** The order by orderLinkId: realtime first (working and recent closed), then history. */
  private async findOrderJson(clientOrderId: string, instrument: number): Promise<CallResult<Record<string, unknown> | undefined>> {
    const symbol = this.instruments[instrument]?.symbol;
    const params = { category: 'linear', orderLinkId: clientOrderId, ...(symbol ? { symbol } : {}) };
    const realtime = await this.call(() => this.exchange.privateGetV5OrderRealtime(params));
    if (!realtime.ok) return realtime;
    const first = listOf(realtime.value)[0];
    if (first !== undefined) return { ok: true, value: first };
    const history = await this.call(() => this.exchange.privateGetV5OrderHistory(params));
    if (!history.ok) return history;
    return { ok: true, value: listOf(history.value)[0] };
  }

  /** Every working order (all pages of `/v5/order/realtime?settleCoin=USDT`), by orderLinkId. */
  private async listOpenOrders(): Promise<CallResult<Map<string, Record<string, unknown>>>> {
    await this.ensureMarkets();
    const rows = await this.pages('order', { category: 'linear', settleCoin: 'USDT', limit: 50 });
    if (!rows.ok) return rows;
    return { ok: true, value: new Map(rows.value.map((o) => [String(o['orderLinkId']), o])) };
  }

  /** Executions matching `params` from `sinceMs` to `untilMs`: Bybit answers at most 7 days a request, so one request (all its pages) per 7 days. */
  private async executionRows(params: Record<string, unknown>, sinceMs: number, untilMs: number): Promise<CallResult<Record<string, unknown>[]>> {
    const out: Record<string, unknown>[] = [];
    for (let start = sinceMs; start <= untilMs; start += WEEK_MS) {
      const r = await this.pages('execution', { ...params, startTime: start, endTime: Math.min(start + WEEK_MS - 1, untilMs), limit: 100 });
      if (!r.ok) return r;
      out.push(...r.value);
    }
    return { ok: true, value: out };
  }

  /** All cursor pages of one listing. */
  private async pages(what: 'order' | 'execution' | 'position', params: Record<string, unknown>): Promise<CallResult<Record<string, unknown>[]>> {
    const out: Record<string, unknown>[] = [];
    let cursor: string | undefined;
    const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
    for (let page = 0; page < 1000; page++) {
      const request = { ...clean, ...(cursor ? { cursor } : {}) };
      const r = await this.call(() =>
        what === 'order' ? this.exchange.privateGetV5OrderRealtime(request) : what === 'execution' ? this.exchange.privateGetV5ExecutionList(request) : this.exchange.privateGetV5PositionList(request),
      );
      if (!r.ok) return r;
      out.push(...listOf(r.value));
      cursor = String((r.value as { result?: { nextPageCursor?: unknown } }).result?.nextPageCursor ?? '');
      if (cursor === '') break;
    }
    return { ok: true, value: out };
  }

  /**
   * One venue call with the client's rules: spacing (widened after rate limits), back-off with seeded jitter on rate
   * limits, one clock resync on 10002; every failure classified (venue answer with its retCode, rate limited, or
   * ambiguous: timeout, dropped connection, 5xx) and redacted.
   */
  private async call<T>(fn: () => Promise<T>): Promise<CallResult<T>> {
    let resynced = false;
    for (let attempt = 0; ; attempt++) {
      // Spacing is wall time between requests (a monotonic timer), whatever clock the engine runs on. Each request
      // reserves its slot before waiting, so concurrent calls (reconciliation queries) are spaced too.
      const slot = Math.max(performance.now(), this.lastRequestAt + this.throttleMs);
      this.lastRequestAt = slot;
      const wait = slot - performance.now();
      if (wait > 0) await this.sleep(wait);
      this.requests++;
      try {
        const value = await fn();
        this.throttleMs = this.throttleMs / 2 < 1 ? 0 : this.throttleMs / 2;
        return { ok: true, value };
      } catch (e) {
        const error = this.redacted(e);
        const retCode = error.context['retCode'] as number | undefined;
        this.deps.onVenueError?.(retCode !== undefined ? String(retCode) : error.code);
        if (e instanceof RateLimitExceeded || e instanceof DDoSProtection || retCode === 10006 || retCode === 10018) {
          this.throttleMs = Math.min(this.config.backoffMaxMs, Math.max(this.config.backoffBaseMs, this.throttleMs * 2));
          if (attempt < this.config.rateLimitRetries) {
            const wait = this.backoff(attempt);
            this.deps.onRateLimitWait?.(wait / 1000);
            await this.sleep(wait);
            continue;
          }
          return { ok: false, kind: 'rate_limited', error };
        }
        if (e instanceof InvalidNonce || retCode === 10002) {
          if (!resynced) {
            resynced = true;
            try {
              await this.exchange.loadTimeDifference();
            } catch {
              // the retry below reports the failure
            }
            continue;
          }
          return { ok: false, kind: 'venue', retCode, error };
        }
        if (e instanceof ExchangeError) return { ok: false, kind: 'venue', retCode, error };
        if (e instanceof NetworkError || !(e instanceof BaseError)) return { ok: false, kind: 'ambiguous', error };
        return { ok: false, kind: 'venue', retCode, error };
      }
    }
  }

  private backoff(attempt: number): number {
    return Math.min(this.config.backoffMaxMs, this.config.backoffBaseMs * 2 ** attempt) * (0.5 + this.random());
  }

  private async must<T>(p: Promise<CallResult<T>>): Promise<T> {
    const r = await p;
    if (!r.ok) throw r.error;
    return r.value;
  }

  /** Any error as a redacted {@link BybitError}. */
  private redacted(e: unknown): BybitError {
    if (e instanceof BybitError) return redactError(e, this.secrets) as BybitError;
    return redactError(toExecutionError(e, this.secrets), this.secrets) as BybitError;
  }
}

const WEEK_MS = 7 * 24 * 3_600_000;
const EPS = 1e-9;

const isWorking = (json: Record<string, unknown>) => ['New', 'PartiallyFilled', 'Untriggered', 'Created'].includes(String(json['orderStatus']));

function listOf(response: unknown): Record<string, unknown>[] {
  const list = (response as { result?: { list?: unknown } } | undefined)?.result?.list;
  return Array.isArray(list) ? (list as Record<string, unknown>[]) : [];
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Maps a ccxt or transport error to a {@link BybitError} whose message quotes the venue (redacted of `secrets` and every
 * credential-looking value, truncated); context `retCode` (Bybit's code when it answered one), `status` (HTTP).
 */
export function toExecutionError(e: unknown, secrets: readonly string[]): BybitError {
  if (e instanceof BybitError) return e;
  const raw = e instanceof Error ? e.message : String(e);
  const text = redactText(raw, secrets);
  const message = text.length > 400 ? `${text.slice(0, 400)}…` : text;
  const retCode = /"ret_?[cC]ode"\s*:\s*"?(-?\d+)/.exec(raw)?.[1];
  const status = /^\S+ [A-Z]+ \S+ (\d{3}) /.exec(raw)?.[1];
  const context = { ccxtError: e instanceof Error ? e.constructor.name : typeof e, ...(retCode ? { retCode: Number(retCode) } : {}), ...(status ? { status: Number(status) } : {}) };
  const cause = redactError(e, secrets);
  if (e instanceof RateLimitExceeded || e instanceof DDoSProtection) return new BybitError('rate_limited', `Bybit rate limit hit: ${message}`, context, { cause });
  if (e instanceof AuthenticationError) return new BybitError('authentication', `Bybit refused the credentials: ${message}`, context, { cause });
  if (e instanceof ExchangeError || e instanceof InvalidNonce) return new BybitError('venue_rejected', `Bybit rejected the request: ${message}`, context, { cause });
  if (e instanceof NetworkError && status !== undefined) return new BybitError('unexpected_status', `Bybit answered HTTP ${status}: ${message}`, context, { cause });
  if (e instanceof NetworkError) return new BybitError('network', `Bybit request failed: ${message}`, context, { cause });
  return new BybitError('unexpected_status', `Bybit request failed: ${message}`, context, { cause });
}
