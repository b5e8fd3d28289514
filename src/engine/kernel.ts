import { AppError } from '../core/app-error.js';
import type { Instrument } from '../core/instrument.js';
import type { Fill, Order, OrderRequest } from '../core/order.js';
import { BarHistory } from './bar-history.js';
import type { Clock } from './clock.js';
import type { ExecutionClient, ExecutionEvents } from './execution-client.js';
import { Portfolio } from './portfolio.js';
import type { BarEvent, Strategy, StrategyContext, TickEvent } from './strategy.js';
import { TradeTracker } from './trade-tracker.js';

export type EngineErrorCode = 'invalid_order' | 'no_execution_client' | 'invalid_annotation';
export class EngineError extends AppError<EngineErrorCode> {}

export interface KernelConfig {
  readonly instruments: readonly Instrument[];
  readonly initialCash: number;
  /** Max gross exposure / equity for new orders (the exchange enforces it at fill time). */
  readonly leverage: number;
  /** Expected bars per instrument (sizes the histories; they grow past it). */
  readonly historyCapacity?: number;
  /** Extra per-bar columns strategies can read from their history (e.g. `signal`). */
  readonly columns?: readonly string[];
}

export interface KernelDeps {
  readonly clock: Clock;
  readonly strategy: Strategy;
}

/** A funding settlement booked by the kernel. */
export interface FundingEvent {
  readonly ts: number;
  readonly instrument: number;
  readonly rate: number;
  readonly markPrice: number;
  readonly position: number;
  readonly payment: number;
  readonly source: 'table' | 'fallback';
}

/** Tier changes recorded through {@link Kernel.annotateTier}, oldest first; `instrument` is the engine index. */
export interface TierAnnotationRecord {
  readonly instrument: number;
  /** Engine time from which the tier is in force (epoch ms). */
  readonly ts: number;
  readonly tier: string;
  readonly reason: string;
}

/** Regime probabilities recorded through {@link Kernel.annotateRegime} for one instrument. */
export interface RegimeAnnotationRecord {
  readonly instrument: number;
  readonly labels: readonly string[];
  /** Engine times of the samples (epoch ms). */
  readonly ts: Float64Array;
  /** One array per label, aligned with `ts`. */
  readonly probabilities: readonly Float64Array[];
}

/** Everything strategies annotated during a run (see `StrategyContext.annotateTier` / `annotateRegime`). */
export interface KernelAnnotations {
  readonly tiers: readonly TierAnnotationRecord[];
  /** Instruments with at least one sample, in engine order. */
  readonly regimes: readonly RegimeAnnotationRecord[];
}

/**
 * Stores annotations in typed arrays: tier changes as (ts, instrument, tier code, reason code) columns with interned
 * strings, regime samples as one time column plus one column per label per instrument. Appending copies numbers
 * into preallocated arrays that double when full, so a call allocates nothing (amortised).
 */
class AnnotationRecorder {
  private readonly capacity: number;
  private readonly names: string[] = [];
  private readonly codes = new Map<string, number>();
  private tierTs = new Float64Array(64);
  private tierInstrument = new Int32Array(64);
  private tierCode = new Int32Array(64);
  private reasonCode = new Int32Array(64);
  private tierCount = 0;
  private readonly lastTier: Int32Array;
  private readonly lastReason: Int32Array;
  private readonly regimes: ({ labels: readonly string[]; ts: Float64Array; probabilities: Float64Array[]; length: number } | undefined)[];

  constructor(instruments: number, capacity: number) {
    this.capacity = Math.max(16, capacity);
    this.lastTier = new Int32Array(instruments).fill(-1);
    this.lastReason = new Int32Array(instruments).fill(-1);
    this.regimes = new Array(instruments).fill(undefined);
  }

  private intern(name: string): number {
    const code = this.codes.get(name);
    if (code !== undefined) return code;
    this.names.push(name);
    this.codes.set(name, this.names.length - 1);
    return this.names.length - 1;
  }

  tier(instrument: number, ts: number, tier: string, reason: string): void {
    const t = this.intern(tier), r = this.intern(reason);
    if (this.lastTier[instrument] === t && this.lastReason[instrument] === r) return;
    this.lastTier[instrument] = t;
    this.lastReason[instrument] = r;
    const n = this.tierCount;
    if (n === this.tierTs.length) {
      this.tierTs = grow(this.tierTs);
      this.tierInstrument = grow(this.tierInstrument);
      this.tierCode = grow(this.tierCode);
      this.reasonCode = grow(this.reasonCode);
    }
    this.tierTs[n] = ts;
    this.tierInstrument[n] = instrument;
    this.tierCode[n] = t;
    this.reasonCode[n] = r;
    this.tierCount = n + 1;
  }

  regime(instrument: number, ts: number, labels: readonly string[], probabilities: ArrayLike<number>): void {
    let log = this.regimes[instrument];
    if (log === undefined) {
      const k = labels.length;
      if (!(k >= 1)) throw new EngineError('invalid_annotation', `annotateRegime: \`labels\` must name >= 1 state, was ${k}`, { instrument, labels: k });
      log = { labels: Object.freeze([...labels]), ts: new Float64Array(this.capacity), probabilities: Array.from({ length: k }, () => new Float64Array(this.capacity)), length: 0 };
      this.regimes[instrument] = log;
    }
    const k = log.labels.length;
    if (probabilities.length !== k) {
      throw new EngineError('invalid_annotation', `annotateRegime: \`probabilities\` must have one entry per label (${k}) of instrument ${instrument}, was ${probabilities.length}`, { instrument, expected: k, actual: probabilities.length });
    }
    const n = log.length;
    if (n === log.ts.length) {
      log.ts = grow(log.ts);
      for (let s = 0; s < k; s++) log.probabilities[s] = grow(log.probabilities[s]!);
    }
    log.ts[n] = ts;
    for (let s = 0; s < k; s++) log.probabilities[s]![n] = probabilities[s]!;
    log.length = n + 1;
  }

  /** Returns what was recorded (copies trimmed to length), or undefined when nothing was. */
  result(): KernelAnnotations | undefined {
    const regimes: RegimeAnnotationRecord[] = [];
    this.regimes.forEach((log, instrument) => {
      if (log === undefined || log.length === 0) return;
      regimes.push({ instrument, labels: log.labels, ts: log.ts.slice(0, log.length), probabilities: log.probabilities.map((p) => p.slice(0, log.length)) });
    });
    if (this.tierCount === 0 && regimes.length === 0) return undefined;
    const tiers: TierAnnotationRecord[] = [];
    for (let j = 0; j < this.tierCount; j++) {
      tiers.push({ instrument: this.tierInstrument[j]!, ts: this.tierTs[j]!, tier: this.names[this.tierCode[j]!]!, reason: this.names[this.reasonCode[j]!]! });
    }
    return { tiers, regimes };
  }
}

function grow<A extends Float64Array | Int32Array>(a: A): A {
  const b = new (a.constructor as new (n: number) => A)(a.length * 2);
  b.set(a);
  return b;
}

/**
 * The engine kernel: portfolio, order management, timers and the strategy context. Backtest and live runners
 * feed it bars/ticks/funding and an execution client feeds it fills; it is the same object in both.
 */
export class Kernel implements StrategyContext, ExecutionEvents {
  readonly instruments: readonly Instrument[];
  readonly portfolio: Portfolio;
  readonly histories: BarHistory[];
  readonly tracker: TradeTracker;
  readonly fills: Fill[] = [];
  readonly fundingEvents: FundingEvent[] = [];
  readonly rejections: { ts: number; clientOrderId: string; reason: string }[] = [];
  readonly leverage: number;
  private readonly clock: Clock;
  private readonly strategy: Strategy;
  private execution: ExecutionClient | undefined;
  private readonly orders = new Map<string, Order>();
  private readonly openByInstrument: Order[][];
  private readonly timers: { name: string; at: number }[] = [];
  private nextOrderId = 1;
  private readonly bar: { -readonly [K in keyof BarEvent]: BarEvent[K] } = { instrument: 0, index: 0, tsOpen: 0, tsEvent: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
  private readonly tick: { -readonly [K in keyof TickEvent]: TickEvent[K] } = { instrument: 0, tsEvent: 0, price: 0, quantity: 0, side: 0 };
  private readonly recorder: AnnotationRecorder;

  constructor(config: KernelConfig, deps: KernelDeps) {
    this.instruments = config.instruments;
    this.leverage = config.leverage;
    this.portfolio = new Portfolio(config.instruments, config.initialCash);
    this.histories = config.instruments.map(() => new BarHistory(config.historyCapacity ?? 1024, config.columns ?? []));
    this.tracker = new TradeTracker(config.instruments.length);
    this.openByInstrument = config.instruments.map(() => []);
    this.clock = deps.clock;
    this.strategy = deps.strategy;
    this.recorder = new AnnotationRecorder(config.instruments.length, config.historyCapacity ?? 1024);
  }

  /** What the strategy annotated so far (see {@link annotateTier}, {@link annotateRegime}); undefined when nothing. */
  annotations(): KernelAnnotations | undefined {
    return this.recorder.result();
  }

  /** Connects the execution client (it needs the kernel as its event sink, hence after construction). */
  attachExecution(client: ExecutionClient): void {
    this.execution = client;
  }

  start(): void {
    this.strategy.onStart?.(this);
  }

  stop(): void {
    this.strategy.onStop?.(this);
  }

  /** A bar of instrument `i` closed at `tsEvent`: appended to its history, marked, delivered to the strategy. */
  onBar(i: number, tsOpen: number, tsEvent: number, open: number, high: number, low: number, close: number, volume: number, columns?: readonly (readonly [string, number])[]): void {
    const h = this.histories[i]!;
    const index = h.push(tsOpen, open, high, low, close, volume);
    if (columns) for (const [name, value] of columns) h.setColumn(name, value);
    this.portfolio.mark[i] = close;
    const b = this.bar;
    b.instrument = i;
    b.index = index;
    b.tsOpen = tsOpen;
    b.tsEvent = tsEvent;
    b.open = open;
    b.high = high;
    b.low = low;
    b.close = close;
    b.volume = volume;
    this.strategy.onBar?.(this, b);
  }

  /** Appends one bar to a history without delivering it (warm-up from stored bars before going live). */
  warmUp(i: number, tsOpen: number, open: number, high: number, low: number, close: number, volume: number): void {
    this.histories[i]!.push(tsOpen, open, high, low, close, volume);
    this.portfolio.mark[i] = close;
  }

  /** A trade tick: marks the instrument and delivers the tick. */
  onTick(i: number, tsEvent: number, price: number, quantity: number, side: number): void {
    this.portfolio.mark[i] = price;
    const t = this.tick;
    t.instrument = i;
    t.tsEvent = tsEvent;
    t.price = price;
    t.quantity = quantity;
    t.side = side;
    this.strategy.onTick?.(this, t);
  }

  /** Books a funding settlement for instrument `i` at `ts` (payment = position × mark × rate; longs pay positive rates). */
  onFunding(i: number, ts: number, rate: number, markPrice: number, source: 'table' | 'fallback'): void {
    const position = this.portfolio.quantity[i]!;
    if (position === 0) return;
    const payment = position * markPrice * rate;
    this.portfolio.applyFunding(i, payment);
    this.tracker.onFunding(i, payment);
    this.fundingEvents.push({ ts, instrument: i, rate, markPrice, position, payment, source });
  }

  /** Fires the timers due at or before now, in due-time order. */
  fireTimers(): void {
    if (this.timers.length === 0) return;
    const now = this.clock.now();
    this.timers.sort((a, b) => a.at - b.at);
    while (this.timers.length > 0 && this.timers[0]!.at <= now) {
      const t = this.timers.shift()!;
      this.strategy.onTimer?.(this, t.name);
    }
  }

  get hasTimers(): boolean {
    return this.timers.length > 0;
  }

  // ExecutionEvents
  onFill(fill: Fill): void {
    const i = fill.instrument;
    const delta = fill.side === 'buy' ? fill.quantity : -fill.quantity;
    const before = this.portfolio.quantity[i]!;
    const realized = this.portfolio.applyFill(i, delta, fill.price, fill.fee);
    this.tracker.onFill(i, fill.tsEvent, before, delta, fill.price, fill.fee, realized);
    this.fills.push(fill);
    const order = this.orders.get(fill.clientOrderId);
    if (order) {
      order.status = 'filled';
      this.forget(order);
    }
    this.strategy.onFill?.(this, fill);
  }

  onOrderRejected(order: Order, reason: string): void {
    order.status = 'rejected';
    order.reason = reason;
    this.rejections.push({ ts: this.clock.now(), clientOrderId: order.clientOrderId, reason });
    this.forget(order);
    this.strategy.onOrderRejected?.(this, order, reason);
  }

  onOrderCancelled(order: Order, reason: string): void {
    order.status = 'cancelled';
    order.reason = reason;
    this.forget(order);
  }

  // StrategyContext
  now(): number {
    return this.clock.now();
  }
  history(instrument: number): BarHistory {
    return this.histories[instrument]!;
  }
  position(instrument: number): number {
    return this.portfolio.quantity[instrument]!;
  }
  averageEntryPrice(instrument: number): number {
    return this.portfolio.entryPrice[instrument]!;
  }
  markPrice(instrument: number): number {
    return this.portfolio.mark[instrument]!;
  }
  equity(): number {
    return this.portfolio.equity();
  }
  openOrders(instrument: number): readonly Order[] {
    return this.openByInstrument[instrument]!;
  }
  roundQuantity(instrument: number, quantity: number): number {
    const lot = this.instruments[instrument]!.lotSize;
    return Math.floor(quantity / lot + 1e-9) * lot;
  }

  submitOrder(request: OrderRequest): string {
    const { instrument, quantity, type, price } = request;
    if (!(instrument >= 0 && instrument < this.instruments.length && Number.isInteger(instrument))) {
      throw new EngineError('invalid_order', `order instrument must be an index in [0, ${this.instruments.length}), was ${instrument}`, { instrument });
    }
    if (!(quantity > 0 && Number.isFinite(quantity))) {
      throw new EngineError('invalid_order', `order quantity must be a finite number > 0, was ${quantity}`, { quantity });
    }
    if (type === 'limit' && !(price !== undefined && price > 0 && Number.isFinite(price))) {
      throw new EngineError('invalid_order', `limit order price must be a finite number > 0, was ${price}`, { price });
    }
    if (!this.execution) throw new EngineError('no_execution_client', 'no execution client is attached to the kernel');
    const clientOrderId = request.clientOrderId ?? `${this.strategy.name}-${this.nextOrderId++}`;
    if (this.orders.has(clientOrderId)) {
      throw new EngineError('invalid_order', `client order id ${JSON.stringify(clientOrderId)} is already in use`, { clientOrderId });
    }
    const order: Order = { ...request, clientOrderId, tsInit: this.clock.now(), status: 'open' };
    this.orders.set(clientOrderId, order);
    this.openByInstrument[instrument]!.push(order);
    this.execution.submit(order);
    return clientOrderId;
  }

  cancelOrder(clientOrderId: string): boolean {
    const order = this.orders.get(clientOrderId);
    if (!order || order.status !== 'open' || !this.execution) return false;
    if (!this.execution.cancel(clientOrderId)) return false;
    order.status = 'cancelled';
    this.forget(order);
    return true;
  }

  setTimer(name: string, at: number): void {
    this.timers.push({ name, at });
  }

  /** Records the tier in force for `instrument` from now on (stored only when the (tier, reason) pair changes). */
  annotateTier(instrument: number, tier: string, reason: string): void {
    this.checkInstrument(instrument, 'annotateTier');
    this.recorder.tier(instrument, this.clock.now(), tier, reason);
  }

  /**
   * Records `instrument`'s regime probabilities at now.
   * @throws EngineError `invalid_annotation` when the first call has no labels or a later one a different count.
   */
  annotateRegime(instrument: number, labels: readonly string[], probabilities: ArrayLike<number>): void {
    this.checkInstrument(instrument, 'annotateRegime');
    this.recorder.regime(instrument, this.clock.now(), labels, probabilities);
  }

  private checkInstrument(instrument: number, what: string): void {
    if (!(instrument >= 0 && instrument < this.instruments.length && Number.isInteger(instrument))) {
      throw new EngineError('invalid_annotation', `${what}: instrument must be an index in [0, ${this.instruments.length}), was ${instrument}`, { instrument });
    }
  }

  private forget(order: Order): void {
    this.orders.delete(order.clientOrderId);
    const open = this.openByInstrument[order.instrument]!;
    const k = open.indexOf(order);
    if (k >= 0) open.splice(k, 1);
  }
}
