import { AppError } from '../core/app-error.js';
import type { Instrument } from '../core/instrument.js';
import type { Fill, Order, OrderRequest } from '../core/order.js';
import { BarHistory } from './bar-history.js';
import type { Clock } from './clock.js';
import type { ExecutionClient, ExecutionEvents } from './execution-client.js';
import { Portfolio } from './portfolio.js';
import type { BarEvent, Strategy, StrategyContext, TickEvent } from './strategy.js';
import { TradeTracker } from './trade-tracker.js';

export type EngineErrorCode = 'invalid_order' | 'no_execution_client';
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

  constructor(config: KernelConfig, deps: KernelDeps) {
    this.instruments = config.instruments;
    this.leverage = config.leverage;
    this.portfolio = new Portfolio(config.instruments, config.initialCash);
    this.histories = config.instruments.map(() => new BarHistory(config.historyCapacity ?? 1024, config.columns ?? []));
    this.tracker = new TradeTracker(config.instruments.length);
    this.openByInstrument = config.instruments.map(() => []);
    this.clock = deps.clock;
    this.strategy = deps.strategy;
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

  private forget(order: Order): void {
    this.orders.delete(order.clientOrderId);
    const open = this.openByInstrument[order.instrument]!;
    const k = open.indexOf(order);
    if (k >= 0) open.splice(k, 1);
  }
}
