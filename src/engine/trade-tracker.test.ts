import { describe, expect, it } from 'vitest';
import { Portfolio } from './portfolio.js';
import { TradeTracker } from './trade-tracker.js';
import { booked, testInstrument } from '../../test/support/engine-scenarios.js';

/** A portfolio and a tracker fed the way the kernel feeds them: each fill booked, then recorded with its before/after. */
function book(instruments = 1) {
  const p = new Portfolio(Array.from({ length: instruments }, (_, k) => testInstrument({ symbol: `I${k}USDT` })), 10_000);
  const t = new TradeTracker(instruments);
  const fill = (i: number, ts: number, delta: number, price: number, fee: number) => {
    const before = p.quantity[i]!;
    const realized = p.applyFill(booked(i, delta, price, fee));
    const k = t.onFill(booked(i, delta, price, fee, ts), before, p.quantity[i]!, realized);
    return k < 0 ? undefined : t.trips[k];
  };
  return { p, t, fill };
}

describe('TradeTracker', () => {
  it('stores any number of trips (its arrays grow) and names instruments for the trades table without changing a number', () => {
    const { t, fill } = book(2);
    // 40 round trips over two instruments: more than the initial room of 16.
    for (let k = 0; k < 40; k++) {
      const i = k % 2;
      fill(i, 2 * k, 1 + k, 100 + k, 0.5);
      fill(i, 2 * k + 1, -(1 + k), 101 + 2 * k, 0.25);
    }
    const trips = t.trips;
    expect(trips).toHaveLength(40);
    expect(trips[39]).toEqual({ instrument: 1, direction: 'long', entryTs: 78, exitTs: 79, entryPrice: 139, exitPrice: 179, quantity: 40, pnl: 40 * 40 - 0.75, fees: 0.75, funding: 0, returnPct: (1600 - 0.75) / (139 * 40) });
    const named = t.tripsNamed(['A', 'B']);
    expect(named.map((r) => r.instrument)).toEqual(trips.map((r) => (r.instrument === 0 ? 'A' : 'B')));
    expect(named.map(({ instrument: _, ...rest }) => rest)).toEqual(trips.map(({ instrument: _, ...rest }) => rest));
    expect(Object.keys(named[0]!)).toEqual(Object.keys(trips[0]!)); // the trades table keeps the field order
    expect(t.trips).toBe(trips); // built once
  });

  it('a long built in two fills and closed in two: entry/exit averages, max size, PnL net of fees and funding', () => {
    const { t, fill } = book();
    expect(fill(0, 1, 2, 100, 1)).toBeUndefined();
    expect(fill(0, 2, 2, 110, 2)).toBeUndefined();
    t.onFunding(0, 0.5);
    expect(fill(0, 3, -1, 120, 0.5)).toBeUndefined();
    const trip = fill(0, 4, -3, 115, 1.5);
    // entry 105 (420 / 4), exit 116.25 (120 + 345) / 4, realised 15 + 30 = 45, fees 5, funding 0.5
    expect(trip).toEqual({ instrument: 0, direction: 'long', entryTs: 1, exitTs: 4, entryPrice: 105, exitPrice: 116.25, quantity: 4, pnl: 39.5, fees: 5, funding: 0.5, returnPct: 39.5 / 420 });
    expect(t.trips).toEqual([trip]);
    // flat: funding goes nowhere, the next fill starts a new trip
    t.onFunding(0, 100);
    fill(0, 5, -1, 100, 0);
    expect(fill(0, 6, 1, 90, 0)).toEqual({ instrument: 0, direction: 'short', entryTs: 5, exitTs: 6, entryPrice: 100, exitPrice: 90, quantity: 1, pnl: 10, fees: 0, funding: 0, returnPct: 0.1 });
  });

  it('max size is the largest position, not the sum of entries', () => {
    const { fill } = book();
    fill(0, 1, -3, 100, 0);
    fill(0, 2, 2, 100, 0);
    fill(0, 3, -1, 100, 0);
    expect(fill(0, 4, 2, 100, 0)).toMatchObject({ direction: 'short', quantity: 3, entryPrice: 100, exitPrice: 100, pnl: 0 });
  });

  it('a reversal closes the trip with its share of the fee and opens the next with the rest at the fill price', () => {
    const { t, fill } = book();
    fill(0, 1, 1, 100, 0);
    // sell 4 at 90 paying 2: 1 closes the long (fee 0.5), 3 open a short (fee 1.5)
    expect(fill(0, 2, -4, 90, 2)).toEqual({ instrument: 0, direction: 'long', entryTs: 1, exitTs: 2, entryPrice: 100, exitPrice: 90, quantity: 1, pnl: -10.5, fees: 0.5, funding: 0, returnPct: -0.105 });
    expect(t.save().open).toEqual([{ direction: -1, entryTs: 2, entryQty: 3, entryNotional: 270, exitQty: 0, exitNotional: 0, maxQty: 3, realized: 0, fees: 1.5, funding: 0 }]);
    expect(fill(0, 3, 3, 80, 0)).toMatchObject({ direction: 'short', entryTs: 2, entryPrice: 90, exitPrice: 80, quantity: 3, pnl: 30 - 1.5, fees: 1.5 });
  });

  it('a short reversed into a long opens a long trip', () => {
    const { t, fill } = book();
    fill(0, 1, -1, 100, 0);
    expect(fill(0, 2, 3, 95, 0)).toMatchObject({ direction: 'short', quantity: 1, pnl: 5 });
    expect(t.save().open[0]).toMatchObject({ direction: 1, entryTs: 2, entryQty: 2, entryNotional: 190 });
    expect(fill(0, 3, -2, 100, 0)).toMatchObject({ direction: 'long', entryPrice: 95, exitPrice: 100, quantity: 2, pnl: 10 });
  });

  it('a fresh tracker saves one empty place per instrument', () => {
    expect(new TradeTracker(3).save()).toEqual({ trips: [], open: [null, null, null] });
  });

  it('instruments keep separate trips', () => {
    const { t, fill } = book(2);
    fill(0, 1, 1, 100, 0);
    fill(1, 1, -2, 50, 0);
    t.onFunding(1, 1);
    expect(fill(0, 2, -1, 101, 0)).toMatchObject({ instrument: 0, direction: 'long', funding: 0, pnl: 1 });
    expect(fill(1, 3, 2, 49, 0)).toMatchObject({ instrument: 1, direction: 'short', funding: 1, pnl: 1 });
  });

  it('save gives the closed trips and the open ones as plain JSON; restore continues the same trips', () => {
    const { t, fill } = book(2);
    fill(0, 1, 1, 100, 1);
    fill(0, 2, -1, 110, 1);
    fill(1, 3, 2, 50, 1);
    t.onFunding(1, 0.25);
    const saved = JSON.parse(JSON.stringify(t.save())) as ReturnType<TradeTracker['save']>;
    expect(saved.trips).toHaveLength(1);
    expect(saved.open).toEqual([null, { direction: 1, entryTs: 3, entryQty: 2, entryNotional: 100, exitQty: 0, exitNotional: 0, maxQty: 2, realized: 0, fees: 1, funding: 0.25 }]);
    const r = new TradeTracker(2);
    r.restore(saved);
    expect(r.save()).toEqual(saved);
    expect(r.trips).toEqual(t.trips);
    // the restored open trip closes as the original would; instrument 0 is flat and starts a fresh trip
    r.onFunding(0, 5);
    const closed = r.onFill(booked(1, -2, 55, 1, 4), 2, 0, 10);
    expect(closed).toBe(1); // after the restored trip
    expect(r.trips[closed]).toEqual({ instrument: 1, direction: 'long', entryTs: 3, exitTs: 4, entryPrice: 50, exitPrice: 55, quantity: 2, pnl: 10 - 2 - 0.25, fees: 2, funding: 0.25, returnPct: 7.75 / 100 });
    expect(r.onFill(booked(0, -1, 100, 0, 5), 0, -1, 0)).toBe(-1);
    expect(r.save().open[0]).toMatchObject({ direction: -1, entryTs: 5, funding: 0 });
    // the saved state is a copy: later fills do not change it
    expect(saved.open[1]).toMatchObject({ exitQty: 0 });
    expect(t.save().trips).not.toBe(t.trips);
  });
});
