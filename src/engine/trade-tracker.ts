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
  readonly trips: RoundTrip[] = [];
  private readonly open: (OpenTrip | undefined)[];

  /** One trip record per instrument, reused from trip to trip (no allocation per fill; RoundTrips are the results). */
  private readonly spare: OpenTrip[];

  constructor(instruments: number) {
    // Filled, not holey: `save` maps over it, and `map` skips holes (a never-traded instrument must save as null).
    this.open = new Array<OpenTrip | undefined>(instruments).fill(undefined);
    this.spare = Array.from({ length: instruments }, () => ({ direction: 1 as 1 | -1, entryTs: 0.5, entryQty: 0.5, entryNotional: 0.5, exitQty: 0.5, exitNotional: 0.5, maxQty: 0.5, realized: 0.5, fees: 0.5, funding: 0.5 }));
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
   * Records a fill that moved the position of `i` from `before` to `after` (both as the {@link Portfolio} booked
   * them: the one position-accounting implementation) by `delta` at `price`, realising `realized` and paying `fee`.
   * Returns the round trip the fill closed (flat or reversed), undefined otherwise.
   */
  onFill(i: number, ts: number, before: number, after: number, delta: number, price: number, fee: number, realized: number): RoundTrip | undefined {
    const trip = this.open[i];
    if (trip === undefined) {
      this.start(i, delta > 0 ? 1 : -1, ts, Math.abs(delta), price, fee);
      return undefined;
    }
    const closing = Math.sign(delta) !== trip.direction;
    if (!closing) {
      trip.entryQty += Math.abs(delta);
      trip.entryNotional += Math.abs(delta) * price;
      trip.maxQty = Math.max(trip.maxQty, Math.abs(after));
      trip.fees += fee;
      return undefined;
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
    return undefined;
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
    this.trips.push(...state.trips);
    state.open.forEach((t, i) => {
      this.open[i] = t === null ? undefined : Object.assign(this.spare[i]!, t);
    });
  }

  private close(i: number, ts: number, t: OpenTrip): RoundTrip {
    const entryPrice = t.entryNotional / t.entryQty;
    const pnl = t.realized - t.fees - t.funding;
    const trip: RoundTrip = {
      instrument: i,
      direction: t.direction > 0 ? 'long' : 'short',
      entryTs: t.entryTs,
      exitTs: ts,
      entryPrice,
      exitPrice: t.exitNotional / t.exitQty,
      quantity: t.maxQty,
      pnl,
      fees: t.fees,
      funding: t.funding,
      returnPct: pnl / (entryPrice * t.maxQty),
    };
    this.trips.push(trip);
    this.open[i] = undefined;
    return trip;
  }
}
