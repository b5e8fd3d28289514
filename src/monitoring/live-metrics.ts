/**
 * The live runner's metrics: {@link LiveMetrics} reads the kernel after each live bar (account, positions, orders,
 * fills, round trips, funding, trading state) and the run's journal file, and feeds the {@link TradingMetrics}
 * facade that `/metrics` serves. The runner calls it at a handful of points (warm-up done, reconciliation done,
 * an order handed to the venue client, a bar done, stop); everything else is derived here, so the runner's hot path
 * only pays for what it measures.
 *
 * What a run observes, and how:
 * - account: equity, wallet balance (cash), gross/net exposure at the marks; margin used = gross / leverage
 *   (positions only), available = equity − margin used; peak and drawdown by the facade; the drawdown limit is the
 *   risk section's `maxDrawdown`.
 * - orders: submitted = handed to the venue client (after journaling); status transitions as the runner sees them
 *   after each bar; rejections = the kernel's (pre-trade risk denials and venue refusals), reason `risk_<rule>` or
 *   the first word of the venue's reason.
 * - latencies (wall seconds): decision → acknowledgement and acknowledgement → fill are measured from the hand-over
 *   to the bar at whose end the runner saw the event (an upper bound at bar granularity: a paper venue acknowledges
 *   in the bar of the decision and fills market orders at the next bar's open); bar close → decision = how late the
 *   bar arrived on the runner's clock (the pacer's: wall, or the venue's) + the wall time of processing it.
 * - breaker: the kernel's trading state (ACTIVE → closed, REDUCING → half_open, HALTED → open).
 * - market: realised volatility (annualised stdev of log returns over `volatilityWindow` bars) and the return
 *   correlation of each instrument with the first one, from the bars the run receives.
 * - journal: size, bytes and records by kind appended since this process started, read from the file's tail.
 * - signal stage (runs with a model column): each instrument's signal, the model's inference and feature times per
 *   bar set, the model's name and version, the latest funding rate of the stage's funding input.
 * - strategy state, read from the kernel's latest annotations: the sizing tier (counted on change), regime
 *   probabilities, Kelly and target fractions, rolling IC and signal confidence, the volatility forecast
 *   (annualised from the forecast variance per bar).
 * Not observed by a run without a model, regime filter or sizing cascade: signal, model, regime, tier families.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { AppError } from '../core/app-error.js';
import type { Kernel } from '../engine/kernel.js';
import { startMetricsServer, type MetricsServer, type Readiness } from './metrics-server.js';
import { monitoringConfigFromEnv } from './monitoring-config.js';
import { createTradingMetrics, type BreakerState, type OrderSide, type OrderStatus, type ReconciliationDifferenceKind, type RunnerMode, type TradingMetrics } from './trading-metrics.js';

export interface LiveMetricsOptions {
  /** `runner` label of `trade_matrix_runner_info` (the monitoring config's runner name). */
  readonly runner: string;
  readonly version: string;
  readonly mode: RunnerMode;
  /** `strategy` label (the experiment's name). */
  readonly strategy: string;
  /** Instrument ids, in the kernel's order. */
  readonly instruments: readonly string[];
  readonly timeframeMs: number;
  /** The run's journal (journal.jsonl); records appended after this object is created are counted. */
  readonly journalPath?: string;
  /** The risk section's `maxDrawdown` (absent or null: no drawdown limit gauge). */
  readonly drawdownLimit?: number | null;
  /** Bars of the realised-volatility and correlation window; default 30. */
  readonly volatilityWindow?: number;
  /** Wall clock (epoch ms); default Date.now. */
  readonly now?: () => number;
}

/** The bar set of one bar time as the runner received it (structurally the live feed's `LiveBarSet`). */
export interface ObservedBarSet {
  readonly ts: number;
  readonly bars: readonly ({ readonly close: number; readonly volume: number } | undefined)[];
}

/** A reconciliation difference (structurally the live runner's). */
export interface ObservedDifference {
  readonly kind: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** What the metrics read of a live run's signal stage (structurally the live runner's `LiveSignals`). */
export interface ObservedSignals {
  /** The model the stage runs (name, version label, when it was loaded). */
  readonly model: { readonly name: string; readonly version: string; readonly loadedAtMs: number } | undefined;
  /** The signal of instrument `i` at the last bar set (NaN when absent or undefined). */
  value(i: number): number;
  /** The latest funding rate the stage knows for instrument `i` (NaN before the first). */
  fundingRate(i: number): number;
  /** Wall seconds of the last bar set's feature computation and model calls. */
  readonly featureSeconds: number;
  readonly inferenceSeconds: number;
}

/** Wall times of one live bar, measured by the runner. */
export interface BarTimings {
  /** The runner's clock (the pacer's: wall, or the venue's; epoch ms) right after processing the bar set. */
  readonly receivedAtMs: number;
  /** Wall seconds from receiving the bar set to the end of its processing (venue matching, strategy, orders). */
  readonly processSeconds: number;
  /** Wall seconds of persisting the runner's state (journal sync, state.json, status.json). */
  readonly persistSeconds: number;
}

interface Tracked {
  readonly instrument: number;
  readonly side: OrderSide;
  readonly handedAt: number;
  readonly decisionPrice: number;
  status: string;
  acknowledgedAt: number;
}

const FEED = 'bybit-kline';
const STATE_OPERATION = 'save_state';
/** The runner state saved to the state store (Redis) after every bar. */
const STORE_OPERATION = 'save_runner_state';
const BARS_INPUT = 'bars';
/** The endpoint label of the venue client's rate-limit waits (its private REST requests; `tm live` labels them so). */
const RATE_LIMIT_ENDPOINT = 'private';
const YEAR_MS = 365 * 86_400_000;

const STATUS_LABEL: Readonly<Record<string, OrderStatus>> = { ACCEPTED: 'accepted', PARTIALLY_FILLED: 'partially_filled', FILLED: 'filled', CANCELED: 'cancelled', REJECTED: 'rejected', EXPIRED: 'expired' };
const BREAKER_STATE: Readonly<Record<string, BreakerState>> = { ACTIVE: 'closed', REDUCING: 'half_open', HALTED: 'open' };

/** A low-cardinality reason label: `risk: max_order_notional 50000 < 61234.5` → `risk_max_order_notional`. */
export function reasonLabel(reason: string | undefined): string {
  if (reason === undefined) return 'unknown';
  const risk = /^risk:\s*([a-z_]+)/.exec(reason);
  if (risk) return `risk_${risk[1]}`;
  const word = /[A-Za-z_]+/.exec(reason);
  return word ? word[0].toLowerCase() : 'unknown';
}

/** Counts the records appended to a journal file (JSON lines starting `{"k":"<kind>"`) from where it stood at creation. */
class JournalTail {
  private offset: number;
  private partial = '';
  private readonly buffer = Buffer.alloc(64 * 1024);

  constructor(private readonly path: string) {
    this.offset = existsSync(path) ? statSync(path).size : 0;
  }

  /** Reads what was appended since the last call: one `journalAppended(kind, bytes, size after it)` per complete line. */
  read(metrics: Pick<TradingMetrics, 'journalAppended'>): void {
    if (!existsSync(this.path)) return;
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      while (this.offset < size) {
        const n = readSync(fd, this.buffer, 0, Math.min(this.buffer.length, size - this.offset), this.offset);
        if (n <= 0) break;
        let end = this.offset - Buffer.byteLength(this.partial);
        this.offset += n;
        const lines = (this.partial + this.buffer.toString('utf8', 0, n)).split('\n');
        this.partial = lines.pop()!;
        for (const line of lines) {
          const bytes = Buffer.byteLength(line) + 1;
          end += bytes;
          metrics.journalAppended(/^\{"k":"([a-z]+)"/.exec(line)?.[1] ?? 'unknown', bytes, end);
        }
      }
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Feeds a live run into the metrics facade. Create it before `runner.run()`, pass it as the runner's `metrics`
 * dependency, and serve `metrics` and {@link readiness} with `startMetricsServer`.
 * @example
 * const live = new LiveMetrics(createTradingMetrics({ processMetrics: true }), { runner: 'trade-matrix', version, mode: 'paper', strategy: 'x', instruments: ids, timeframeMs });
 * new LiveRunner(config, { ...deps, metrics: live });
 */
export class LiveMetrics {
  private readonly now: () => number;
  private readonly journal: JournalTail | undefined;
  private readonly window: number;
  private readonly tracked = new Map<string, Tracked>();
  private readonly closes: Float64Array[];
  private closeCount = 0;
  private readonly returns: Float64Array;
  private cursors = { fills: 0, trips: 0, rejections: 0, changes: 0, funding: 0 };
  private lossStreak = 0;
  private warm = false;
  private reconciledOnce: boolean;
  private breakerOpen = false;

  constructor(
    readonly metrics: TradingMetrics,
    private readonly options: LiveMetricsOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.window = options.volatilityWindow ?? 30;
    this.journal = options.journalPath === undefined ? undefined : new JournalTail(options.journalPath);
    this.closes = options.instruments.map(() => new Float64Array(this.window + 1).fill(NaN));
    this.returns = new Float64Array(this.window);
    // A paper run has no venue to reconcile with.
    this.reconciledOnce = options.mode === 'paper';
    const start = this.now();
    metrics.runnerStarted(options.runner, options.version, options.mode, start);
    metrics.heartbeat(start);
    metrics.setReady(false);
    metrics.initialiseSeries({ instruments: options.instruments, inputs: [BARS_INPUT], feeds: [FEED], operations: [STATE_OPERATION, STORE_OPERATION], reconciliation: options.mode !== 'paper', ...(options.mode !== 'paper' ? { rateLimitEndpoints: [RATE_LIMIT_ENDPOINT] } : {}) });
    if (options.drawdownLimit !== undefined && options.drawdownLimit !== null) metrics.drawdownLimit(options.strategy, options.drawdownLimit);
    for (const id of options.instruments) metrics.openOrders(id, 0);
  }

  /** What `/readyz` reports: warmed up, reconciled (paper: nothing to reconcile), trading state not HALTED. */
  readiness(): Readiness {
    return { warmedUp: this.warm, reconciled: this.reconciledOnce, breakerNotOpen: !this.breakerOpen };
  }

  /** The runner state was saved to the state store in `seconds` (`ok` false: the save failed, counted as a state error). */
  stateSaved(seconds: number, ok: boolean): void {
    this.metrics.stateStoreOperation(STORE_OPERATION, seconds, ok);
  }

  /** Warm-up done (`bars` bar times replayed in `seconds`) by `tier` (cache: the saved state, store: saved state + gap fill, venue: full bootstrap, none: a run that warms up on no bars). */
  warmedUp(kernel: Kernel, bars: number, seconds: number, signals?: Pick<ObservedSignals, 'model'>, tier: 'cache' | 'store' | 'venue' | 'none' = 'venue'): void {
    const { metrics, options } = this;
    // The model in use, from the start (its swap outcomes at 0: a refused promotion is an increase).
    const model = signals?.model;
    if (model !== undefined) metrics.modelLoaded(model.name, model.version, options.mode, model.loadedAtMs);
    this.cursors = { fills: kernel.fills.length, trips: kernel.tracker.trips.length, rejections: kernel.rejections.length, changes: kernel.risk.changes.length, funding: kernel.fundingEvents.length };
    metrics.warmupFinished(tier, seconds, Object.fromEntries(options.instruments.map((id) => [id, bars])));
    this.setBreaker(kernel.tradingState, 'start');
    this.warm = true;
    this.account(kernel);
    this.updateReady();
  }

  /** The start's reconciliation with the venue took `seconds` and found `differences`. */
  reconciled(differences: readonly ObservedDifference[], seconds: number): void {
    const kinds = differences.map((d) => {
      const instrument = typeof d.detail['instrument'] === 'string' ? d.detail['instrument'] : typeof d.detail['instrument'] === 'number' ? (this.options.instruments[d.detail['instrument']] ?? 'unknown') : 'account';
      // The runner's kinds: missed_fill / position_mismatch concern a position, balance_mismatch the balance; the others (adopted, resent, closed, missed ack) an order.
      const kind: ReconciliationDifferenceKind = /fill|position/.test(d.kind) ? 'position' : /balance/.test(d.kind) ? 'balance' : 'order';
      return { instrument, kind };
    });
    this.metrics.reconciled(differences.length === 0 ? 'clean' : 'differences', seconds, this.now(), kinds);
    this.reconciledOnce = true;
    this.updateReady();
  }

  /** An order was handed to the venue client (journaled first): counted as submitted, its latencies start. */
  handedOver(kernel: Kernel, clientOrderId: string): void {
    const order = kernel.order(clientOrderId);
    if (order === undefined) return;
    this.metrics.orderSubmitted(this.options.instruments[order.instrument] ?? String(order.instrument), order.side);
    this.tracked.set(clientOrderId, { instrument: order.instrument, side: order.side, handedAt: performance.now(), decisionPrice: kernel.portfolio.mark[order.instrument]!, status: 'SUBMITTED', acknowledgedAt: NaN });
  }

  /** One live bar time done and persisted (`signals`: the run's signal stage, when it has a model column). */
  bar(kernel: Kernel, set: ObservedBarSet, timings: BarTimings, signals?: ObservedSignals): void {
    const { metrics, options } = this;
    const ids = options.instruments;
    const closeMs = set.ts + options.timeframeMs;
    const lagSeconds = Math.max(0, (timings.receivedAtMs - closeMs) / 1000);
    let missing = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = set.bars[i];
      if (b === undefined) {
        missing++;
        continue;
      }
      metrics.barClosed(ids[i]!, closeMs, b.close, b.volume, options.timeframeMs / 1000);
      metrics.feedMessage(FEED, ids[i]!, lagSeconds);
    }
    metrics.staleInputs(BARS_INPUT, missing, missing > 0);
    this.market(set);
    metrics.decisionLatency(options.strategy, lagSeconds + timings.processSeconds);
    metrics.barProcessed(options.strategy, signals?.featureSeconds, timings.processSeconds);
    if (signals !== undefined) this.signals(kernel, set, signals);
    this.strategyState(kernel);
    metrics.stateStoreOperation(STATE_OPERATION, timings.persistSeconds, true);
    this.executions(kernel);
    this.account(kernel);
    this.riskChanges(kernel);
    this.journal?.read(metrics);
    metrics.heartbeat(this.now());
  }

  /**
   * The run stopped: not ready any more; the last account state and journal records are recorded, and the last
   * executions and state changes when the warm-up finished (before it, what the kernel holds is the warm-up's and
   * earlier lives', never this run's: counted, a run stopped in its warm-up reported every restored fill as new).
   */
  stopped(kernel: Kernel): void {
    if (this.warm) {
      this.executions(kernel);
      this.riskChanges(kernel);
    }
    this.account(kernel);
    this.journal?.read(this.metrics);
    this.warm = false;
    this.metrics.setReady(false);
  }

  /** Signals, IC and confidence, the model's inference time and info, the stage's funding input. */
  private signals(kernel: Kernel, set: ObservedBarSet, signals: ObservedSignals): void {
    const { metrics, options } = this;
    // The model was recorded as loaded at the warm-up (and again at each swap): only its inference time here.
    const model = signals.model;
    if (model !== undefined) metrics.inference(model.name, signals.inferenceSeconds);
    for (let i = 0; i < options.instruments.length; i++) {
      const id = options.instruments[i]!;
      const funding = signals.fundingRate(i);
      if (funding === funding) metrics.fundingRate(id, funding);
      const v = signals.value(i);
      if (set.bars[i] === undefined || v !== v) continue;
      const sizing = kernel.lastSizing(i);
      metrics.signal(id, options.strategy, v, sizing?.signalConfidence ?? NaN, v > 0 ? 'long' : v < 0 ? 'short' : 'flat');
      if (sizing !== undefined && sizing.ic === sizing.ic) metrics.informationCoefficient(id, options.strategy, sizing.ic);
    }
  }

  /** The venue's bid/ask spread of instrument `i`, in basis points of the mid. */
  spread(i: number, basisPoints: number): void {
    this.metrics.spread(this.options.instruments[i] ?? String(i), basisPoints);
  }

  /** A model swap (promote-to-live) succeeded or was refused (`ModelWatch`'s observer). */
  modelSwap(model: string, version: string, succeeded: boolean): void {
    this.metrics.modelSwap(model, succeeded);
    if (succeeded) this.metrics.modelLoaded(model, version, this.options.mode, this.now());
  }

  /** Per instrument: the tier and reason last exported (a change is counted once). */
  private readonly tiers = new Map<number, string>();

  /** The strategy's latest annotations: sizing tier (on change), regime probabilities, sizing fractions, volatility forecast. */
  private strategyState(kernel: Kernel): void {
    const { metrics, options } = this;
    const barsPerYear = YEAR_MS / options.timeframeMs;
    for (let i = 0; i < options.instruments.length; i++) {
      const id = options.instruments[i]!;
      const tier = kernel.lastTier(i);
      if (tier !== undefined && this.tiers.get(i) !== `${tier.tier}\u0000${tier.reason}`) {
        this.tiers.set(i, `${tier.tier}\u0000${tier.reason}`);
        metrics.tier(id, tier.tier, tier.reason);
      }
      const regime = kernel.lastRegime(i);
      if (regime !== undefined) metrics.regime(id, regime.labels, regime.probabilities);
      const sizing = kernel.lastSizing(i);
      if (sizing === undefined) continue;
      metrics.sizing(id, sizing.kellyFraction, sizing.targetFraction);
      if (sizing.variancePerBar >= 0) metrics.volatilityForecast(id, Math.sqrt(sizing.variancePerBar * barsPerYear));
    }
  }

  private updateReady(): void {
    this.metrics.setReady(this.warm && this.reconciledOnce && !this.breakerOpen);
  }

  private setBreaker(state: string, reason: string): void {
    const breaker = BREAKER_STATE[state] ?? 'open';
    this.breakerOpen = breaker === 'open';
    this.metrics.breaker(this.options.strategy, breaker, reason);
  }

  private riskChanges(kernel: Kernel): void {
    const changes = kernel.risk.changes;
    for (; this.cursors.changes < changes.length; this.cursors.changes++) {
      const c = changes[this.cursors.changes]!;
      if (c.instrument === undefined) this.setBreaker(c.to, c.trigger);
    }
    this.updateReady();
  }

  /** Fills, order status transitions, rejections, round trips and funding since the last call. */
  private executions(kernel: Kernel): void {
    const { metrics } = this;
    const ids = this.options.instruments;
    const at = performance.now();
    const fills = kernel.fills;
    for (; this.cursors.fills < fills.length; this.cursors.fills++) {
      const f = fills[this.cursors.fills]!;
      const id = ids[f.instrument] ?? String(f.instrument);
      const t = this.tracked.get(f.clientOrderId);
      const decision = t?.decisionPrice;
      const slippage = decision !== undefined && decision > 0 ? ((f.side === 'buy' ? f.price - decision : decision - f.price) / decision) * 10_000 : undefined;
      metrics.fill(id, f.side, f.liquidity, f.quantity, f.price, f.fee, slippage);
      if (f.reason === 'liquidation') metrics.liquidated(id);
    }
    for (const [clientOrderId, t] of this.tracked) {
      const order = kernel.order(clientOrderId);
      if (order === undefined || order.status === t.status) continue;
      const id = ids[t.instrument] ?? String(t.instrument);
      if (t.status === 'SUBMITTED' && order.status !== 'REJECTED') {
        if (order.status !== 'ACCEPTED') metrics.orderUpdated(id, 'accepted');
        metrics.acknowledgementLatency(id, (at - t.handedAt) / 1000);
        t.acknowledgedAt = at;
      }
      const label = STATUS_LABEL[order.status];
      if (label !== undefined) metrics.orderUpdated(id, label);
      // Acknowledged by now: any first change but a rejection set acknowledgedAt above.
      if ((order.status === 'FILLED' || order.status === 'PARTIALLY_FILLED') && t.status !== 'PARTIALLY_FILLED') metrics.fillLatency(id, (at - t.acknowledgedAt) / 1000);
      if (order.status === 'CANCELED') metrics.orderCancelled(id, reasonLabel(order.reason));
      t.status = order.status;
      if (order.status === 'FILLED' || order.status === 'CANCELED' || order.status === 'REJECTED' || order.status === 'EXPIRED') this.tracked.delete(clientOrderId);
    }
    const rejections = kernel.rejections;
    for (; this.cursors.rejections < rejections.length; this.cursors.rejections++) {
      const r = rejections[this.cursors.rejections]!;
      const order = kernel.order(r.clientOrderId);
      metrics.orderRejected(order === undefined ? 'unknown' : (ids[order.instrument] ?? String(order.instrument)), reasonLabel(r.reason));
    }
    const trips = kernel.tracker.trips;
    for (; this.cursors.trips < trips.length; this.cursors.trips++) {
      const trip = trips[this.cursors.trips]!;
      metrics.tradeClosed(ids[trip.instrument] ?? String(trip.instrument), trip.pnl);
      this.lossStreak = trip.pnl > 0 ? 0 : this.lossStreak + 1;
    }
    metrics.consecutiveLosses(this.options.strategy, this.lossStreak);
    const funding = kernel.fundingEvents;
    for (; this.cursors.funding < funding.length; this.cursors.funding++) {
      const e = funding[this.cursors.funding]!;
      metrics.fundingPaid(ids[e.instrument] ?? String(e.instrument), kernel.portfolio.funding[e.instrument]!);
    }
    for (let i = 0; i < ids.length; i++) metrics.openOrders(ids[i]!, kernel.openOrderCount(i));
  }

  /** Account and position gauges from the portfolio at the marks. */
  private account(kernel: Kernel): void {
    const { metrics } = this;
    const p = kernel.portfolio;
    const ids = this.options.instruments;
    const equity = p.equity();
    let gross = 0;
    let net = 0;
    for (let i = 0; i < ids.length; i++) {
      const q = p.quantity[i]!;
      const mark = p.valuationPrice(i); // the entry price of a position taken before the instrument's first mark
      const notional = q === 0 ? 0 : q * mark;
      gross += Math.abs(notional);
      net += notional;
      const mmr = kernel.instruments[i]!.maintenanceMarginRate;
      // Cross margin, the other positions at their marks: the price where equity falls to this position's maintenance margin.
      const liquidation = q === 0 ? 0 : Math.max(0, (q * mark - equity) / (q - Math.abs(q) * mmr));
      metrics.positionUpdated(ids[i]!, {
        quantity: q,
        notional,
        entryPrice: q === 0 ? 0 : p.entryPrice[i]!,
        unrealisedPnl: q === 0 ? 0 : q * (mark - p.entryPrice[i]!),
        realisedPnl: p.realized[i]!,
        liquidationPrice: Number.isFinite(liquidation) ? liquidation : 0,
        leverage: equity > 0 ? Math.abs(notional) / equity : 0,
      });
      metrics.fundingPaid(ids[i]!, p.funding[i]!, 0);
    }
    const margin = gross / kernel.leverage;
    metrics.accountUpdated(this.options.strategy, { equity, balance: p.cash, availableBalance: equity - margin, marginUsed: margin, grossExposure: gross, netExposure: net });
  }

  /** Realised volatility per instrument and return correlation with the first instrument over the window. */
  private market(set: ObservedBarSet): void {
    const w = this.window;
    const slot = this.closeCount % (w + 1);
    this.closeCount++;
    for (let i = 0; i < this.closes.length; i++) this.closes[i]![slot] = set.bars[i]?.close ?? NaN;
    if (this.closeCount < w + 1) return;
    const barsPerYear = YEAR_MS / this.options.timeframeMs;
    const reference = new Float64Array(w);
    const ok0 = this.logReturns(0, slot, reference);
    for (let i = 0; i < this.closes.length; i++) {
      const r = this.returns;
      if (!this.logReturns(i, slot, r)) continue;
      const id = this.options.instruments[i]!;
      const { mean, variance } = moments(r);
      this.metrics.realisedVolatility(id, Math.sqrt(variance * barsPerYear));
      if (ok0) {
        const ref = moments(reference);
        let cov = 0;
        for (let k = 0; k < w; k++) cov += (r[k]! - mean) * (reference[k]! - ref.mean);
        cov /= w - 1;
        const denominator = Math.sqrt(variance * ref.variance);
        if (denominator > 0) this.metrics.correlation(id, this.options.instruments[0]!, cov / denominator);
      }
    }
  }

  /** The `window` log returns of instrument `i` ending at ring slot `last`, into `out`; false when a close is missing. */
  private logReturns(i: number, last: number, out: Float64Array): boolean {
    const c = this.closes[i]!;
    const n = c.length;
    for (let k = 0; k < out.length; k++) {
      const a = c[(last - out.length + k + n) % n]!;
      const b = c[(last - out.length + k + 1 + n) % n]!;
      if (!(a > 0 && b > 0)) return false;
      out[k] = Math.log(b / a);
    }
    return true;
  }
}

function moments(x: Float64Array): { mean: number; variance: number } {
  let mean = 0;
  for (let k = 0; k < x.length; k++) mean += x[k]!;
  mean /= x.length;
  let variance = 0;
  for (let k = 0; k < x.length; k++) variance += (x[k]! - mean) ** 2;
  return { mean, variance: variance / (x.length - 1) };
}

/**
 * Wraps `source` so every call of `method` is a venue request of `endpoint`: counted by status, timed, and failures
 * counted by error code (an AppError's `code`, else the error's name).
 */
export function timeVenueCalls<T extends object>(source: T, method: keyof T & string, endpoint: string, metrics: Pick<TradingMetrics, 'venueRequest' | 'venueError'>): T {
  return new Proxy(source, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      if (property !== method) return value.bind(target);
      return async (...args: unknown[]) => {
        const start = performance.now();
        try {
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          metrics.venueRequest(endpoint, true, (performance.now() - start) / 1000);
          return result;
        } catch (e) {
          metrics.venueRequest(endpoint, false, (performance.now() - start) / 1000);
          metrics.venueError(e instanceof AppError ? e.code : e instanceof Error ? e.name : 'unknown');
          throw e;
        }
      };
    },
  });
}

export interface LiveMetricsStartOptions extends Omit<LiveMetricsOptions, 'runner' | 'mode'> {
  /** Port of `/metrics`, `/healthz`, `/readyz` (0: a free one). */
  readonly port: number;
  /** Where TM_METRICS_HOST and TM_RUNNER_NAME are read ({@link monitoringConfigFromEnv}). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The live runner's mode: paper, or a venue (demo, testnet, mainnet: `live`). */
  readonly mode: string;
}

/**
 * The composition of `tm live --metrics-port`: a registry with the process metrics, the {@link LiveMetrics} of the
 * run, and the endpoint serving both, listening before the run starts.
 * @throws AppError `invalid_monitoring_config` on a bad TM_METRICS_HOST / TM_RUNNER_NAME; MonitoringError `metrics_server_listen_failed`.
 */
export async function startLiveMetrics(options: LiveMetricsStartOptions): Promise<{ live: LiveMetrics; server: MetricsServer; timeVenueCalls<T extends { fetchBarsPage: unknown }>(source: T): T }> {
  const parsed = monitoringConfigFromEnv(options.env);
  if (!parsed.success) throw parsed.error;
  const { port, env: _env, mode, ...rest } = options;
  const metrics = createTradingMetrics({ processMetrics: true });
  const live = new LiveMetrics(metrics, { ...rest, runner: parsed.data.runner, mode: mode === 'paper' ? 'paper' : 'live' });
  const server = await startMetricsServer({ host: parsed.data.metricsHost, port, metrics, readiness: () => live.readiness() });
  return { live, server, timeVenueCalls: (source) => timeVenueCalls(source, 'fetchBarsPage', 'kline', metrics) };
}
