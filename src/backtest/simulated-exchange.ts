import type { Instrument } from '../core/instrument.js';
import type { Fill, Liquidity, Order, OrderSide } from '../core/order.js';
import type { Clock } from '../engine/clock.js';
import type { ExecutionClient, ExecutionEvents } from '../engine/execution-client.js';
import type { Portfolio } from '../engine/portfolio.js';
import type { FeeModel, SlippageModel } from './execution-models.js';

interface WorkingOrder {
  readonly order: Order;
  /** A limit order marketable when it arrived: takes liquidity at the next price if still marketable then. */
  takerOnArrival: boolean;
}

export interface SimulatedExchangeConfig {
  readonly instruments: readonly Instrument[];
  /** Max gross exposure / equity after a fill that adds exposure (spot instruments are always 1). */
  readonly leverage: number;
}

/**
 * The simulated venue: matches the kernel's orders against a stream of prices per instrument (the 4-point path of
 * each bar, or trade ticks), charges fees and slippage, enforces lot size / min notional / reduce-only / margin, and
 * liquidates the cross-margined account when equity falls to the maintenance margin.
 *
 * Matching rules (documented in docs of {@link processPrice}):
 * - market orders fill at the first price after submission (next bar's open, or next tick), as taker, slipped;
 * - a limit order marketable on arrival is a taker at the next price if still marketable (post-only: rejected on arrival);
 * - resting limit orders fill in full at their limit price as maker when a price touches or crosses it;
 * - no partial fills; quantities are floored to the lot size.
 */
export class SimulatedExchange implements ExecutionClient {
  private readonly working: WorkingOrder[][];
  private events: ExecutionEvents | undefined;
  liquidations = 0;

  constructor(
    private readonly config: SimulatedExchangeConfig,
    private readonly portfolio: Portfolio,
    private readonly clock: Clock,
    private readonly fees: FeeModel,
    private readonly slippage: SlippageModel,
  ) {
    this.working = config.instruments.map(() => []);
  }

  connect(events: ExecutionEvents): void {
    this.events = events;
  }

  submit(order: Order): void {
    const i = order.instrument;
    const instrument = this.config.instruments[i]!;
    const mark = this.portfolio.mark[i]!;
    let takerOnArrival = false;
    if (order.type === 'limit') {
      const marketable = order.side === 'buy' ? order.price! >= mark : order.price! <= mark;
      if (marketable && order.postOnly) return this.reject(order, `post-only ${order.side} limit ${order.price} would take liquidity at mark ${mark}`);
      takerOnArrival = marketable;
    }
    if (instrument.kind === 'spot' && order.side === 'sell' && !order.reduceOnly && this.portfolio.quantity[i]! <= 0) {
      return this.reject(order, `spot ${instrument.symbol} cannot be sold short`);
    }
    this.working[i]!.push({ order, takerOnArrival });
  }

  cancel(clientOrderId: string): boolean {
    for (const list of this.working) {
      const k = list.findIndex((w) => w.order.clientOrderId === clientOrderId);
      if (k >= 0) {
        list.splice(k, 1);
        return true;
      }
    }
    return false;
  }

  /** True when instrument `i` has working orders or a position (otherwise processPrice is a no-op). */
  isActive(i: number): boolean {
    return this.working[i]!.length > 0 || this.portfolio.quantity[i] !== 0;
  }

  /**
   * Processes one price of instrument `i` at `ts`: fills working orders, then checks liquidation.
   * @param previous the price before this one (for the liquidation price to lie on the path), NaN if unknown.
   * @param volume base volume of the bar (or tick) this price belongs to, for volume-based slippage.
   */
  processPrice(i: number, price: number, previous: number, volume: number, ts: number): void {
    const list = this.working[i]!;
    if (list.length > 0) this.match(i, list, price, volume, ts);
    if (this.portfolio.quantity[i] !== 0) this.checkLiquidation(i, price, previous, ts);
  }

  private match(i: number, list: WorkingOrder[], price: number, volume: number, ts: number): void {
    for (let k = 0; k < list.length; ) {
      const w = list[k]!;
      const o = w.order;
      let fillAt = NaN;
      let liquidity: Liquidity = 'taker';
      if (o.type === 'market') {
        fillAt = this.slippage.fillPrice(o.side, price, o.quantity, volume);
      } else if (w.takerOnArrival) {
        w.takerOnArrival = false;
        const marketable = o.side === 'buy' ? price <= o.price! : price >= o.price!;
        if (marketable) {
          const slipped = this.slippage.fillPrice(o.side, price, o.quantity, volume);
          fillAt = o.side === 'buy' ? Math.min(slipped, o.price!) : Math.max(slipped, o.price!);
        }
      } else if (o.side === 'buy' ? price <= o.price! : price >= o.price!) {
        fillAt = o.price!;
        liquidity = 'maker';
      }
      if (fillAt === fillAt) {
        list.splice(k, 1);
        this.fill(i, o, fillAt, liquidity, ts);
      } else {
        k++;
      }
    }
  }

  private fill(i: number, o: Order, price: number, liquidity: Liquidity, ts: number): void {
    const instrument = this.config.instruments[i]!;
    const position = this.portfolio.quantity[i]!;
    let quantity = o.quantity;
    if (o.reduceOnly) {
      const reduces = (o.side === 'buy' && position < 0) || (o.side === 'sell' && position > 0);
      if (!reduces) return this.reject(o, `reduce-only ${o.side} with position ${position} would not reduce it`);
      quantity = Math.min(quantity, Math.abs(position));
    }
    quantity = Math.floor(quantity / instrument.lotSize + 1e-9) * instrument.lotSize;
    if (quantity < instrument.minQuantity - 1e-12) return this.reject(o, `quantity ${o.quantity} is below the minimum ${instrument.minQuantity} after flooring to lot size ${instrument.lotSize}`);
    const notional = quantity * price;
    if (notional < instrument.minNotional && !o.reduceOnly) return this.reject(o, `notional ${notional.toFixed(2)} is below the minimum ${instrument.minNotional}`);
    const delta = o.side === 'buy' ? quantity : -quantity;
    const after = position + delta;
    if (instrument.kind === 'spot' && after < -1e-12) return this.reject(o, `spot ${instrument.symbol} cannot be sold short (position ${position}, sell ${quantity})`);
    const fee = this.fees.fee(instrument, notional, liquidity);
    if (Math.abs(after) > Math.abs(position)) {
      // Exposure grows: gross exposure after the fill must stay within leverage × equity (after the fee).
      const leverage = instrument.kind === 'spot' ? 1 : Math.min(this.config.leverage, instrument.maxLeverage);
      const mark = this.portfolio.mark[i]!;
      const equity = this.portfolio.equityAt(i, price) - fee;
      const gross = this.portfolio.grossExposure() - Math.abs(position) * mark + Math.abs(after) * price;
      if (gross > leverage * equity * (1 + 1e-9)) {
        return this.reject(o, `insufficient margin: gross exposure ${gross.toFixed(2)} would exceed ${leverage}x equity ${equity.toFixed(2)}`);
      }
    }
    this.report({ instrument: i, clientOrderId: o.clientOrderId, side: o.side, quantity, price, fee, liquidity, tsEvent: ts, tsInit: this.clock.now(), ...(o.tag ? { tag: o.tag } : {}) });
  }

  /**
   * Liquidates every position when equity with `i` at `price` is at or below the maintenance margin. The
   * liquidation price of `i` is where equity equals maintenance margin, clamped onto the path from `previous` to
   * `price`; other instruments close at their marks. Liquidation fills pay the taker fee.
   */
  private checkLiquidation(i: number, price: number, previous: number, ts: number): void {
    const p = this.portfolio;
    const q = p.quantity[i]!;
    const mmr = this.config.instruments[i]!.maintenanceMarginRate;
    if (mmr === 0) return;
    if (p.equityAt(i, price) > p.maintenanceMargin(i, price)) return;
    // Solve cash + U_others + q (x − entry) = MM_others + |q| x mmr for x.
    const mark = p.mark[i]!;
    const equityOthers = p.equity() - q * (mark - p.entryPrice[i]!);
    const mmOthers = p.maintenanceMargin(i, 0);
    let x = (mmOthers - equityOthers + q * p.entryPrice[i]!) / (q - Math.abs(q) * mmr);
    const lo = Math.min(previous === previous ? previous : price, price);
    const hi = Math.max(previous === previous ? previous : price, price);
    if (!(x >= lo && x <= hi)) x = price;
    this.liquidations++;
    for (let k = 0; k < p.quantity.length; k++) {
      const qk = p.quantity[k]!;
      if (qk === 0) continue;
      const at = k === i ? x : p.mark[k]!;
      const instrument = this.config.instruments[k]!;
      const quantity = Math.abs(qk);
      this.report({
        instrument: k, clientOrderId: `liquidation-${this.liquidations}-${k}`, side: qk > 0 ? 'sell' : 'buy', quantity, price: at,
        fee: this.fees.fee(instrument, quantity * at, 'taker'), liquidity: 'taker', tsEvent: ts, tsInit: this.clock.now(), reason: 'liquidation',
      });
    }
    for (const list of this.working) {
      for (const w of list.splice(0)) this.events!.onOrderCancelled(w.order, 'cancelled by liquidation');
    }
  }

  private report(fill: Fill): void {
    this.events!.onFill(fill);
  }

  private reject(order: Order, reason: string): void {
    this.events!.onOrderRejected(order, reason);
  }
}

export type { OrderSide };
