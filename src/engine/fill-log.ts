import type { Fill } from '../core/order.js';
import { growTo, packedArray } from '../core/typed-arrays.js';

/** Offsets of a fill's numbers in {@link FillLog}'s number array. */
const F_QUANTITY = 0, F_PRICE = 1, F_FEE = 2, F_TS_EVENT = 3, F_TS_INIT = 4;
const NUMBERS = 5;
const BUY = 1, MAKER = 2, LIQUIDATION = 4;

/**
 * Every fill the kernel booked, oldest first, in compact storage: the numbers in one typed array, instrument and
 * side/liquidity/reason bits in two more, the client order ids in an array of the strings the orders already hold,
 * and the optional strings (venue order id, tag, venue execution id) only where a fill has them.
 *
 * Why not the fill objects themselves: a fill object holds five boxed doubles, and every fill of a run stays alive
 * to its end, so each young-generation collection copied all fills since the last one. On engine-fills (14,751
 * fills) that was about half the collector's time. {@link all} builds the {@link Fill} objects when they are read,
 * once each; a backtest's result reads the numbers straight from the log.
 */
export class FillLog {
  private numbers = new Float64Array(16 * NUMBERS);
  private instrument = new Int32Array(16);
  private flags = new Uint8Array(16);
  private readonly clientOrderIds: string[] = packedArray();
  /** Optional strings by fill index, present only for fills that carry them (live venues; tagged orders). */
  private readonly venueOrderIds = new Map<number, string>();
  private readonly tags = new Map<number, string>();
  private readonly executionIds = new Map<number, string>();
  private readonly built: Fill[] = [];

  /** Number of fills. */
  get length(): number {
    return this.clientOrderIds.length;
  }

  /** Appends `fill` (its fields are copied; the object is not kept). */
  push(fill: Fill): void {
    const k = this.clientOrderIds.length;
    if (k === this.instrument.length) this.grow();
    const o = k * NUMBERS, v = this.numbers;
    v[o + F_QUANTITY] = fill.quantity;
    v[o + F_PRICE] = fill.price;
    v[o + F_FEE] = fill.fee;
    v[o + F_TS_EVENT] = fill.tsEvent;
    v[o + F_TS_INIT] = fill.tsInit;
    this.instrument[k] = fill.instrument;
    this.flags[k] = (fill.side === 'buy' ? BUY : 0) | (fill.liquidity === 'maker' ? MAKER : 0) | (fill.reason === 'liquidation' ? LIQUIDATION : 0);
    this.clientOrderIds.push(fill.clientOrderId);
    if (fill.venueOrderId !== undefined) this.venueOrderIds.set(k, fill.venueOrderId);
    if (fill.tag !== undefined) this.tags.set(k, fill.tag);
    if (fill.executionId !== undefined) this.executionIds.set(k, fill.executionId);
  }

  instrumentOf(k: number): number {
    return this.instrument[k]!;
  }
  clientOrderIdOf(k: number): string {
    return this.clientOrderIds[k]!;
  }
  sideOf(k: number): 'buy' | 'sell' {
    return (this.flags[k]! & BUY) !== 0 ? 'buy' : 'sell';
  }
  liquidityOf(k: number): 'maker' | 'taker' {
    return (this.flags[k]! & MAKER) !== 0 ? 'maker' : 'taker';
  }
  isLiquidation(k: number): boolean {
    return (this.flags[k]! & LIQUIDATION) !== 0;
  }
  quantityOf(k: number): number {
    return this.numbers[k * NUMBERS + F_QUANTITY]!;
  }
  priceOf(k: number): number {
    return this.numbers[k * NUMBERS + F_PRICE]!;
  }
  feeOf(k: number): number {
    return this.numbers[k * NUMBERS + F_FEE]!;
  }
  tsEventOf(k: number): number {
    return this.numbers[k * NUMBERS + F_TS_EVENT]!;
  }

  /** Every fill as a {@link Fill} object, oldest first (the same objects on every read; built on the first). */
  all(): readonly Fill[] {
    for (let k = this.built.length; k < this.clientOrderIds.length; k++) this.built.push(this.fill(k));
    return this.built;
  }

  private fill(k: number): Fill {
    const o = k * NUMBERS, v = this.numbers;
    const f: { -readonly [K in keyof Fill]: Fill[K] } = {
      instrument: this.instrument[k]!,
      clientOrderId: this.clientOrderIds[k]!,
      side: this.sideOf(k),
      quantity: v[o + F_QUANTITY]!,
      price: v[o + F_PRICE]!,
      fee: v[o + F_FEE]!,
      liquidity: this.liquidityOf(k),
      tsEvent: v[o + F_TS_EVENT]!,
      tsInit: v[o + F_TS_INIT]!,
    };
    const venueOrderId = this.venueOrderIds.get(k), tag = this.tags.get(k), executionId = this.executionIds.get(k);
    if (venueOrderId !== undefined) f.venueOrderId = venueOrderId;
    if (this.isLiquidation(k)) f.reason = 'liquidation';
    if (tag !== undefined) f.tag = tag;
    if (executionId !== undefined) f.executionId = executionId;
    return f;
  }

  private grow(): void {
    const n = this.instrument.length * 2;
    this.numbers = growTo(this.numbers, n * NUMBERS);
    this.instrument = growTo(this.instrument, n);
    this.flags = growTo(this.flags, n);
  }
}
