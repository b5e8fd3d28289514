import type { Instrument } from '../core/instrument.js';
import type { Liquidity, OrderSide } from '../core/order.js';

/** Fee in quote currency for a fill of `notional` (quote) with `liquidity`. */
export interface FeeModel {
  fee(instrument: Instrument, notional: number, liquidity: Liquidity): number;
}

/** The instrument's own maker/taker rates (Bybit non-VIP perps: 0.02% / 0.055%), optionally overridden. */
export class InstrumentFeeModel implements FeeModel {
  constructor(private readonly override: { maker?: number; taker?: number } = {}) {}
  fee(instrument: Instrument, notional: number, liquidity: Liquidity): number {
    const rate = liquidity === 'maker' ? (this.override.maker ?? instrument.makerFee) : (this.override.taker ?? instrument.takerFee);
    return notional * rate;
  }
}

/** Price a taker fill gets: `price` moved against the taker. Makers fill at their limit price, unslipped. */
export interface SlippageModel {
  /** @param barVolume base volume of the bar the fill happens in (NaN for ticks without context). */
  fillPrice(side: OrderSide, price: number, quantity: number, barVolume: number): number;
}

/** A constant `bps` (1 bp = 0.01%) against the taker. */
export class FixedBpsSlippage implements SlippageModel {
  constructor(readonly bps: number) {}
  fillPrice(side: OrderSide, price: number): number {
    return side === 'buy' ? price * (1 + this.bps / 1e4) : price * (1 - this.bps / 1e4);
  }
}

/**
 * Volume-participation impact: `baseBps + impactBps × (quantity / barVolume)^exponent`, capped at `maxBps`.
 * With exponent 0.5 this is the square-root law; participation uses the volume of the bar the fill happens in.
 */
export class VolumeParticipationSlippage implements SlippageModel {
  constructor(
    readonly baseBps: number,
    readonly impactBps: number,
    readonly exponent = 0.5,
    readonly maxBps = 500,
  ) {}
  fillPrice(side: OrderSide, price: number, quantity: number, barVolume: number): number {
    const participation = barVolume > 0 ? quantity / barVolume : 1;
    const bps = Math.min(this.maxBps, this.baseBps + this.impactBps * Math.pow(participation, this.exponent));
    return side === 'buy' ? price * (1 + bps / 1e4) : price * (1 - bps / 1e4);
  }
}

/** Funding rate for instrument `i` at settlement `ts`, and whether it came from data or the fallback. */
export interface FundingModel {
  rate(i: number, ts: number): { rate: number; source: 'table' | 'fallback' } | undefined;
  /**
   * The first settlement time of instrument `i` strictly after `after` (epoch ms; Infinity: none). Absent: the
   * 00/08/16 UTC grid ({@link gridSettlementAfter}). Runners charge every settlement their bars pass, so a contract
   * that settles more often (Bybit's 1, 2 and 4 h intervals) says so here.
   */
  settlementAfter?(i: number, after: number): number;
  /**
   * False when instrument `i` never pays or receives funding under this model (`rate` is undefined at every settlement,
   * e.g. a spot instrument): a bar runner whose instruments are all such skips the settlements. Absent: may charge.
   */
  charges?(i: number): boolean;
  /** Forgets per-run state (lookup cursors, counters). Runners call it when a run starts, so a spec can be run twice. */
  reset?(): void;
}

/** What to assume where the funding table has no settlement. */
export type FundingFallback = { readonly kind: 'zero' } | { readonly kind: 'constant'; readonly rate: number };

/** How often a funding model applied its fallback to one instrument, and at which first and last settlement. */
export interface FallbackUse {
  count: number;
  first: number;
  last: number;
}

/** One unused {@link FallbackUse} per instrument. */
export function fallbackUses(instruments: number): FallbackUse[] {
  return Array.from({ length: instruments }, () => ({ count: 0, first: NaN, last: NaN }));
}

/** Counts a use of `fallback` at settlement `ts` in `used` and returns the fallback's rate. */
export function applyFallback(fallback: FundingFallback, used: FallbackUse, ts: number): { rate: number; source: 'fallback' } {
  used.count++;
  if (!(used.first <= ts)) used.first = ts;
  used.last = ts;
  return { rate: fallback.kind === 'constant' ? fallback.rate : 0, source: 'fallback' };
}

/**
 * Funding from per-instrument tables of settlements (sorted epoch ms + rates) with a stated fallback for
 * settlements the table lacks. Spot instruments (no table, `null`) pay nothing. Counts fallback use per instrument.
 * An instrument's settlements are the 00/08/16 UTC grid and every time its table lists: a contract that settled
 * every 4 h (or switched to it for a while) pays at each of its table's times, and a grid time the table lacks
 * gets the fallback.
 */
export class TableFundingModel implements FundingModel {
  readonly fallbackUsed: FallbackUse[];
  private readonly cursor: number[];
  /** Per instrument: the first table row after the last {@link settlementAfter} query (queries move forward in a run). */
  private readonly nextRow: number[];

  constructor(
    private readonly tables: readonly ({ ts: Float64Array; rate: Float64Array } | null)[],
    readonly fallback: FundingFallback,
  ) {
    this.cursor = tables.map(() => 0);
    this.nextRow = tables.map(() => 0);
    this.fallbackUsed = fallbackUses(tables.length);
  }

  /** Whether instrument `i` has a table (one without pays nothing: {@link rate} is undefined for it). */
  charges(i: number): boolean {
    return this.tables[i] !== null && this.tables[i] !== undefined;
  }

  reset(): void {
    this.cursor.fill(0);
    this.nextRow.fill(0);
    for (const used of this.fallbackUsed) {
      used.count = 0;
      used.first = NaN;
      used.last = NaN;
    }
  }

  rate(i: number, ts: number): { rate: number; source: 'table' | 'fallback' } | undefined {
    const table = this.tables[i];
    if (table === null || table === undefined) return undefined;
    let k = this.cursor[i]!;
    while (k < table.ts.length && table.ts[k]! < ts) k++;
    this.cursor[i] = k;
    if (k < table.ts.length && table.ts[k] === ts) return { rate: table.rate[k]!, source: 'table' };
    return applyFallback(this.fallback, this.fallbackUsed[i]!, ts);
  }

  settlementAfter(i: number, after: number): number {
    const table = this.tables[i];
    if (table === null || table === undefined) return Infinity;
    const grid = (Math.floor(after / FUNDING_INTERVAL_MS) + 1) * FUNDING_INTERVAL_MS; // gridSettlementAfter, inlined
    const ts = table.ts;
    let k = this.nextRow[i]!;
    if (k > 0 && ts[k - 1]! > after) {
      // An earlier time than the last query's (a run started again without reset): found anew.
      let hi = k;
      k = 0;
      while (k < hi) {
        const mid = (k + hi) >>> 1;
        if (ts[mid]! <= after) k = mid + 1;
        else hi = mid;
      }
    }
    while (k < ts.length && ts[k]! <= after) k++;
    this.nextRow[i] = k;
    return k < ts.length && ts[k]! < grid ? ts[k]! : grid;
  }
}

/** Funding settles every 8 hours at 00:00, 08:00 and 16:00 UTC (Bybit and Binance USDT perpetuals). */
export const FUNDING_INTERVAL_MS = 8 * 3_600_000;

/**
 * The funding settlement time at or before `ts` of a contract settling every `intervalMs` from 00:00 UTC (Bybit's
 * 1, 2, 4 and 8 h); default the 8 h grid ({@link FUNDING_INTERVAL_MS}: 00/08/16 UTC).
 */
export function settlementAtOrBefore(ts: number, intervalMs = FUNDING_INTERVAL_MS): number {
  return Math.floor(ts / intervalMs) * intervalMs;
}

/**
 * Instrument `i`'s funding interval in `intervalsMs` (per instrument; Bybit's `fundingInterval`: 1, 2, 4 or 8 h): the
 * one listed when it is a positive whole number of hours, else 8 h ({@link FUNDING_INTERVAL_MS}).
 */
export function fundingIntervalOf(intervalsMs: readonly number[] | undefined, i: number): number {
  const interval = intervalsMs?.[i];
  return interval !== undefined && interval > 0 && interval % 3_600_000 === 0 ? interval : FUNDING_INTERVAL_MS;
}

/** The first settlement time strictly after `after` of a contract settling every `intervalMs` (default the 8 h grid). */
export function gridSettlementAfter(after: number, intervalMs = FUNDING_INTERVAL_MS): number {
  return (Math.floor(after / intervalMs) + 1) * intervalMs;
}

/**
 * How much of an instrument's volume the simulated venue lets orders take at one price event (a bar, or a tick).
 * The default is unlimited: every order fills completely at its price (the engine's long-standing behaviour).
 */
export interface FillModel {
  /** Base quantity available to this run's orders during a bar (or tick) of base `volume`; Infinity = no cap. */
  available(volume: number): number;
}

/** No cap: orders fill completely at the first price that fills them. */
export const UNLIMITED_FILLS: FillModel = Object.freeze({ available: () => Infinity });

/**
 * Volume participation cap: at most `cap` × the bar's (or tick's) volume is filled during it, shared by all of the
 * instrument's orders in arrival order; the rest keeps working (GTC) or is canceled (IOC; FOK fills all or nothing).
 * This is what produces partial fills for market and limit orders.
 */
export class VolumeParticipationFillModel implements FillModel {
  constructor(readonly cap: number) {
    if (!(cap > 0 && cap <= 1)) throw new RangeError(`VolumeParticipationFillModel: \`cap\` must be in (0, 1], was ${cap}`);
  }
  available(volume: number): number {
    return volume > 0 ? this.cap * volume : 0;
  }
}

/** Time (ms) for a command to reach the simulated venue. The default is zero: commands arrive when they are sent. */
export interface LatencyModel {
  /** Milliseconds from `submitOrder`/`cancelOrder` at engine time `now` until the venue processes the command. */
  commandLatency(instrument: number, now: number): number;
}

export const ZERO_LATENCY: LatencyModel = Object.freeze({ commandLatency: () => 0 });

/** A constant latency in ms for every command. */
export class FixedLatency implements LatencyModel {
  constructor(readonly ms: number) {
    if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`FixedLatency: \`ms\` must be a finite number >= 0, was ${ms}`);
  }
  commandLatency(): number {
    return this.ms;
  }
}
