import { describe, expect, it } from 'vitest';
import { booked, testInstrument } from '../../test/support/engine-scenarios.js';
import { Portfolio } from './portfolio.js';

/** Two instruments: maintenance margin rates 0.01 and 0.02; instrument 1 is never marked unless a test marks it. */
function portfolio(cash = 1000) {
  return new Portfolio([testInstrument({ maintenanceMarginRate: 0.01 }), testInstrument({ symbol: 'OTHERUSDT', maintenanceMarginRate: 0.02 })], cash);
}

describe('Portfolio: fills', () => {
  it('opening and adding average the entry; a reduction realises against it; the fee leaves cash', () => {
    const p = portfolio();
    expect(p.applyFill(booked(0, 2, 100, 1))).toBe(0);
    expect(p.applyFill(booked(0, 2, 110, 1))).toBe(0);
    expect([p.quantity[0], p.entryPrice[0], p.cash]).toEqual([4, 105, 998]);
    // sell 1 at 120: realised 1 × (120 − 105) = 15
    expect(p.applyFill(booked(0, -1, 120, 0.5))).toBe(15);
    expect([p.quantity[0], p.entryPrice[0], p.cash, p.realized[0], p.fees[0], p.turnover[0]]).toEqual([3, 105, 1012.5, 15, 2.5, 200 + 220 + 120]);
  });

  it('a short realises the other way; closing exactly flattens and clears the entry', () => {
    const p = portfolio();
    p.applyFill(booked(0, -2, 100, 0));
    expect(p.applyFill(booked(0, 1, 90, 0))).toBe(10);
    expect(p.applyFill(booked(0, 1, 95, 0))).toBe(5);
    expect([p.quantity[0], p.entryPrice[0], p.cash]).toEqual([0, 0, 1015]);
  });

  it('a reversal closes the position and opens the rest at the fill price', () => {
    const p = portfolio();
    p.applyFill(booked(0, 3, 100, 0));
    // sell 5 at 90: closes 3 (realised −30), short 2 at 90
    expect(p.applyFill(booked(0, -5, 90, 0))).toBe(-30);
    expect([p.quantity[0], p.entryPrice[0], p.cash, p.turnover[0]]).toEqual([-2, 90, 970, 750]);
  });

  it('a remainder within 1e-12 of the closed size (relative for sizes above 1) is flat', () => {
    const p = portfolio(0);
    p.applyFill(booked(0, 0.05, 100, 0));
    p.applyFill(booked(0, 0.12, 100, 0));
    p.applyFill(booked(0, -0.17, 100, 0)); // 0.05 + 0.12 − 0.17 = 2.8e-17
    expect([p.quantity[0], p.entryPrice[0]]).toEqual([0, 0]);
    p.applyFill(booked(1, 1e6, 10, 0));
    p.applyFill(booked(1, -(1e6 - 1e-7), 10, 0)); // 1e-7 left of 1e6: below 1e-12 × 1e6
    expect([p.quantity[1], p.entryPrice[1]]).toEqual([0, 0]);
    p.applyFill(booked(1, 1, 10, 0));
    p.applyFill(booked(1, -(1 - 1e-9), 10, 0)); // 1e-9 of 1 is a real remainder
    expect(p.quantity[1]).toBeCloseTo(1e-9, 15);
    expect(p.entryPrice[1]).toBe(10);
  });

  it('funding leaves cash (positive = paid) and is booked per instrument; every change bumps the version', () => {
    const p = portfolio();
    const versions = [p.version];
    p.applyFill(booked(0, 1, 100, 0));
    versions.push(p.version);
    p.applyFunding(0, 2.5);
    versions.push(p.version);
    p.applyFunding(0, -1);
    versions.push(p.version);
    p.restore(p.save());
    versions.push(p.version);
    expect(versions).toEqual([0, 1, 2, 3, 4]);
    expect([p.cash, p.funding[0], p.funding[1]]).toEqual([998.5, 1.5, 0]);
  });
});

describe('Portfolio: valuation', () => {
  it('equity, gross exposure and maintenance margin count open positions at their marks; a never-marked flat instrument counts nothing', () => {
    const p = portfolio();
    p.applyFill(booked(0, -2, 100, 0));
    p.mark[0] = 110;
    // instrument 1: flat and never marked (NaN)
    expect(p.equity()).toBe(980);
    const out = new Float64Array(3);
    p.equityInto(out, 2);
    expect(Array.from(out)).toEqual([0, 0, 980]);
    expect(p.grossExposure()).toBe(220);
    expect(p.maintenanceMargin()).toBeCloseTo(2.2, 12);
    expect(p.equityAt(0, 120)).toBe(960);
    expect(p.equityAt(1, 50)).toBe(980);
    p.applyFill(booked(1, 10, 5, 0));
    p.mark[1] = 6;
    expect(p.equity()).toBe(990);
    expect(p.grossExposure()).toBe(280);
    // with instrument 1 at 4: 2 × 110 × 0.01 + 10 × 4 × 0.02
    expect(p.maintenanceMargin(1, 4)).toBeCloseTo(3, 12);
    expect(p.maintenanceMargin(0, 100)).toBeCloseTo(2 + 1.2, 12);
    expect(p.maintenanceMargin()).toBeCloseTo(2.2 + 1.2, 12);
  });

  it('a position on a never-marked instrument is valued at its entry price: no NaN in equity, margin or exposure', () => {
    // A fill on the path of an instrument's first bar comes before the bar's close marks it.
    const p = portfolio();
    p.applyFill(booked(0, -2, 100, 0));
    p.mark[0] = 110;
    p.applyFill(booked(1, 10, 5, 1));
    expect(Number.isNaN(p.mark[1])).toBe(true);
    expect(p.valuationPrice(1)).toBe(5);
    expect(p.valuationPrice(0)).toBe(110);
    expect(p.equity()).toBe(979); // 1000 − 1 fee − 2 × 10; instrument 1 at its entry: no unrealised PnL
    const out = new Float64Array(1);
    p.equityInto(out, 0);
    expect(out[0]).toBe(979);
    expect(p.grossExposure()).toBe(270); // 2 × 110 + 10 × 5
    expect(p.maintenanceMargin()).toBeCloseTo(2.2 + 1, 12); // 10 × 5 × 0.02
    expect(p.maintenanceMargin(0, 100)).toBeCloseTo(2 + 1, 12);
    expect(p.maintenanceMargin(1, 4)).toBeCloseTo(2.2 + 0.8, 12);
    expect(p.equityAt(1, 7)).toBe(999); // 979 + 10 × (7 − 5)
    expect(p.equityAt(0, 100)).toBe(999); // 979 − 2 × (100 − 110)
    p.mark[1] = 6;
    expect(p.valuationPrice(1)).toBe(6);
    expect(p.equity()).toBe(989);
  });

  it('save gives plain JSON (null for a never-marked instrument); restore loads it', () => {
    const p = portfolio();
    p.applyFill(booked(0, 2, 100, 1));
    p.applyFill(booked(0, -1, 110, 1));
    p.applyFunding(0, 0.5);
    p.mark[0] = 105;
    const saved = p.save();
    expect(saved).toEqual({ cash: 1007.5, quantity: [1, 0], entryPrice: [100, 0], mark: [105, null], realized: [10, 0], fees: [2, 0], funding: [0.5, 0], turnover: [310, 0] });
    const r = portfolio(0);
    r.restore(JSON.parse(JSON.stringify(saved)) as typeof saved);
    expect(r.save()).toEqual(saved);
    expect(Number.isNaN(r.mark[1])).toBe(true);
    expect(r.equity()).toBe(1012.5);
  });
});
