import type { Fill } from '../core/order.js';
import { growTo } from '../core/typed-arrays.js';
import type { FillAmounts } from './portfolio.js';

/** A closed trip's numbers, in their order in TradeTracker's value array (the F_* offsets below). */
const TRIP_NUMBERS = ['entryTs', 'exitTs', 'entryPrice', 'exitPrice', 'quantity', 'pnl', 'fees', 'funding', 'returnPct'] as const;
const F_ENTRY_TS = 0, F_EXIT_TS = 1, F_ENTRY_PRICE = 2, F_EXIT_PRICE = 3, F_QUANTITY = 4, F_PNL = 5, F_FEES = 6, F_FUNDING = 7, F_RETURN = 8;
const TRIP_FIELDS = TRIP_NUMBERS.length;

/** One round trip of a position: from flat (or a reversal) back to flat (or the next reversal). */
export interface RoundTrip {
  readonly instrument: number;
  readonly direction: 'long' | 'short';
  readonly entryTs: number;
  readonly exitTs: number;
  readonly entryPrice: number;
  readonly exitPrice: number;
  readonly quantity: number;
  readonly pnl: number;
  readonly fees: number;
  readonly funding: number;
  readonly returnPct: number;
}

/** A {@link TradeTracker} as plain JSON. */
export interface TradeTrackerState {
  readonly trips: readonly RoundTrip[];
  readonly open: readonly (Readonly<OpenTrip> | null)[];
}

/** A round trip in progress (internal accounting, exported for the saved state's type). */
export interface OpenTrip {
  direction: 1 | -1;
  entryTs: number;
  entryQty: number;
  entryNotional: number;
  exitQty: number;
  exitNotional: number;
  maxQty: number;
  realized: number;
  fees: number;
  funding: number;
}

/** Builds round trips from fills and funding, for win rate, profit factor and the trades table. */
export class TradeTracker {
  /**
   * Closed trips in struct-of-arrays storage (typed arrays that double when full): closing a trip allocates nothing.
   * {@link trips} builds the {@link RoundTrip} objects when read (once each).
   */
  private count = 0;
  private instrument = new Int32Array(16);
  private direction = new Int8Array(16); // +1 long, -1 short
  private values = new Float64Array(16 * TRIP_FIELDS); // TRIP_FIELDS per trip, in the order of the F_* offsets
  private readonly built: RoundTrip[] = [];
  private readonly open: (OpenTrip | undefined)[];

  /** One trip record per instrument, reused from trip to trip (no allocation per fill; RoundTrips are the results). */
  private readonly spare: OpenTrip[];

  constructor(instruments: number) {
    // Filled, not holey: `save` maps over it, and `map` skips holes (a never-traded instrument must save as null).
    this.open = new Array<OpenTrip | undefined>(instruments).fill(undefined);
    this.spare = Array.from({ length: instruments }, () => ({ direction: 1 as 1 | -1, entryTs: 0.5, entryQty: 0.5, entryNotional: 0.5, exitQty: 0.5, exitNotional: 0.5, maxQty: 0.5, realized: 0.5, fees: 0.5, funding: 0.5 }));
  }

  /** Every closed round trip, oldest first (the same objects on every read). */
  get trips(): readonly RoundTrip[] {
    for (let k = this.built.length; k < this.count; k++) this.built.push(this.trip(k, this.instrument[k]!));
    return this.built;
  }

  /** Number of closed round trips. */
  get closedCount(): number {
    return this.count;
  }

  /**
   * The first `count` (default: every) closed round trips with their instrument named by `names[instrument]` (e.g.
   * the result's trades table): built straight from the stored numbers, without the {@link trips} objects.
   */
  tripsNamed<N>(names: readonly N[], count = this.count): (Omit<RoundTrip, 'instrument'> & { readonly instrument: N })[] {
    const out: (Omit<RoundTrip, 'instrument'> & { readonly instrument: N })[] = [];
    const n = Math.min(count, this.count);
    for (let k = 0; k < n; k++) out.push(this.trip(k, names[this.instrument[k]!]!));
    return out;
  }

  private trip<N>(k: number, instrument: N): Omit<RoundTrip, 'instrument'> & { readonly instrument: N } {
    const v = this.values, o = k * TRIP_FIELDS;
    return {
      instrument,
      direction: this.direction[k]! > 0 ? 'long' : 'short',
      entryTs: v[o + F_ENTRY_TS]!,
      exitTs: v[o + F_EXIT_TS]!,
      entryPrice: v[o + F_ENTRY_PRICE]!,
      exitPrice: v[o + F_EXIT_PRICE]!,
      quantity: v[o + F_QUANTITY]!,
      pnl: v[o + F_PNL]!,
      fees: v[o + F_FEES]!,
      funding: v[o + F_FUNDING]!,
      returnPct: v[o + F_RETURN]!,
    };
  }

  private start(i: number, direction: 1 | -1, ts: number, quantity: number, price: number, fee: number): void {
    const t = this.spare[i]!;
    t.direction = direction;
    t.entryTs = ts;
    t.entryQty = quantity;
    t.entryNotional = quantity * price;
    t.exitQty = 0;
    t.exitNotional = 0;
    t.maxQty = quantity;
    t.realized = 0;
    t.fees = fee;
    t.funding = 0;
    this.open[i] = t;
  }

  /**
   * Records `fill` (at its `tsEvent`), which moved the position of its instrument from `before` to `after` (both as
   * the {@link Portfolio} booked them: the one position-accounting implementation), realising `realized`. Returns the
   * index in {@link trips} of the round trip the fill closed (flat or reversed), −1 otherwise.
   */
  onFill(fill: FillAmounts & Pick<Fill, 'tsEvent'>, before: number, after: number, realized: number): number {
    const i = fill.instrument, ts = fill.tsEvent, price = fill.price, fee = fill.fee;
    const delta = fill.side === 'buy' ? fill.quantity : -fill.quantity;
    const trip = this.open[i];
    if (trip === undefined) {
      this.start(i, delta > 0 ? 1 : -1, ts, Math.abs(delta), price, fee);
      return -1;
    }
    const closing = Math.sign(delta) !== trip.direction;
    if (!closing) {
      trip.entryQty += Math.abs(delta);
      trip.entryNotional += Math.abs(delta) * price;
      trip.maxQty = Math.max(trip.maxQty, Math.abs(after));
      trip.fees += fee;
      return -1;
    }
    const closed = Math.min(Math.abs(delta), Math.abs(before));
    const share = closed / Math.abs(delta);
    trip.exitQty += closed;
    trip.exitNotional += closed * price;
    trip.realized += realized;
    trip.fees += fee * share;
    if (after === 0 || Math.sign(after) !== trip.direction) {
      const done = this.close(i, ts, trip);
      if (after !== 0) this.start(i, after > 0 ? 1 : -1, ts, Math.abs(after), price, fee * (1 - share));
      return done;
    }
    return -1;
  }

  onFunding(i: number, payment: number): void {
    const trip = this.open[i];
    if (trip) trip.funding += payment;
  }

  /** Closed trips and the trips in progress as plain JSON. */
  save(): TradeTrackerState {
    return { trips: [...this.trips], open: this.open.map((t) => (t === undefined ? null : { ...t })) };
  }

  /** Loads a state saved by {@link save} into this empty tracker. */
  restore(state: TradeTrackerState): void {
    for (const r of state.trips) {
      const o = this.append(r.instrument, r.direction === 'long' ? 1 : -1) * TRIP_FIELDS;
      for (let f = 0; f < TRIP_FIELDS; f++) this.values[o + f] = r[TRIP_NUMBERS[f]!];
    }
    state.open.forEach((t, i) => {
      this.open[i] = t === null ? undefined : Object.assign(this.spare[i]!, t);
    });
  }

  /** A new closed-trip slot (grows the arrays when full); returns its index. */
  private append(instrument: number, direction: number): number {
    const k = this.count++;
    if (k === this.instrument.length) {
      this.instrument = growTo(this.instrument, k * 2);
      this.direction = growTo(this.direction, k * 2);
      this.values = growTo(this.values, k * 2 * TRIP_FIELDS);
    }
    this.instrument[k] = instrument;
    this.direction[k] = direction;
    return k;
  }

  private close(i: number, ts: number, t: OpenTrip): number {
    const entryPrice = t.entryNotional / t.entryQty;
    const pnl = t.realized - t.fees - t.funding;
    const k = this.append(i, t.direction);
    const v = this.values, o = k * TRIP_FIELDS;
    v[o + F_ENTRY_TS] = t.entryTs;
    v[o + F_EXIT_TS] = ts;
    v[o + F_ENTRY_PRICE] = entryPrice;
    v[o + F_EXIT_PRICE] = t.exitNotional / t.exitQty;
    v[o + F_QUANTITY] = t.maxQty;
    v[o + F_PNL] = pnl;
    v[o + F_FEES] = t.fees;
    v[o + F_FUNDING] = t.funding;
    v[o + F_RETURN] = pnl / (entryPrice * t.maxQty);
    this.open[i] = undefined;
    return k;
  }
}
