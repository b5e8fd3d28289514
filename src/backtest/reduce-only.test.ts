import { describe, expect, it } from 'vitest';
import { at, backtestSpec, fundingTable, scriptStrategy, testInstrument, testOrderId, type BarScript } from '../../test/support/engine-scenarios.js';
import { makeFrame } from '../../test/support/frames.js';
import { TableFundingModel } from './execution-models.js';
import { runBacktest } from './run-backtest.js';

// lot 0.001, taker 0.00055, no slippage. Closes: b0 04:00, b1 08:00 (funding), b2 12:00, b3 16:00 (funding), b4 20:00.
const X = testInstrument();
const frame = makeFrame({
  timeframe: '4h',
  start: '2024-01-01T00:00:00Z',
  bars: [
    [100, 100, 100, 100, 1000],
    [100, 106, 99, 105, 1000],
    [110, 112, 109, 111, 1000],
    [120, 121, 119, 120, 1000],
    [120, 121, 119, 120, 1000],
  ],
});
// 0.0001 at every settlement; only the 08:00 one meets an open position in these scripts.
const funding = () => new TableFundingModel([fundingTable([['2024-01-01T08:00:00Z', 0.0001], ['2024-01-01T16:00:00Z', 0.0001]])], { kind: 'zero' });
const run = (script: BarScript, overrides: Parameters<typeof backtestSpec>[2] = {}) => {
  const strategy = scriptStrategy(script);
  return { r: runBacktest(backtestSpec(frame, [X], { funding: funding(), ...overrides }), strategy), seen: strategy.seen };
};
/** Market orders on instrument 0, placed at a bar close: `buy(1, 0.5)` sends two orders. */
const buy = (...quantities: number[]): BarScript[number] => (ctx) => quantities.forEach((quantity) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity }));
const sell = (quantity: number, reduceOnly = false): BarScript[number] => (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'market', quantity, reduceOnly });

describe('reduce-only orders', () => {
  // b1 open: buy 1.0 at 100, fee 100 × 0.00055 = 0.055. 08:00 funding: 1.0 × 105 × 0.0001 = 0.0105.
  // b2 open: reduce-only sell 0.4 at 110: realised 0.4 × (110 − 100) = 4, fee 0.4 × 110 × 0.00055 = 0.0242.
  // b3 open: reduce-only sell 5.0 capped at 0.6 at 120: realised 0.6 × 20 = 12, fee 0.6 × 120 × 0.00055 = 0.0396.
  // b4 open: reduce-only sell 1.0 while flat: rejected.
  const scenario = () => run({ 0: buy(1), 1: sell(0.4, true), 2: sell(5, true), 3: sell(1, true) });

  it('a partial reduce keeps the average entry and leaves 0.6', () => {
    const { r, seen } = scenario();
    const b2 = seen.find((s) => s.index === 2)!;
    expect(b2.position).toBeCloseTo(0.6, 15);
    expect(b2.entry).toBe(100);
    // cash = 10 000 − 0.055 − 0.0105 + 4 − 0.0242 = 10 003.9103; equity = cash + 0.6 × (111 − 100) = 10 010.5103
    expect(b2.equity).toBeCloseTo(10_010.5103, 9);
    expect(r.fills[1]!.quantity).toBeCloseTo(0.4, 15);
    expect(r.fills[1]!.fee).toBeCloseTo(0.0242, 12);
  });

  it('a reduce-only order larger than the position is capped: flat, not short', () => {
    const { r, seen } = scenario();
    expect(r.fills[2]!.quantity).toBeCloseTo(0.6, 15);
    expect(r.fills[2]!.fee).toBeCloseTo(0.0396, 12);
    expect(seen.find((s) => s.index === 3)!.position).toBe(0);
    expect(r.bars[0]!.position[4]).toBe(0);
  });

  it('a reduce-only order while flat is rejected', () => {
    const { r } = scenario();
    expect(r.fills).toHaveLength(3);
    expect(r.notes).toContain(`order ${testOrderId('2024-01-01T16:00:00.000Z')} rejected at 2024-01-01T16:00:00.000Z: reduce-only sell with position 0 would not reduce it`);
  });

  it('books one round trip net of fees and funding', () => {
    const { r } = scenario();
    // realised 4 + 12 = 16; fees 0.055 + 0.0242 + 0.0396 = 0.1188; funding 0.0105
    // pnl = 16 − 0.1188 − 0.0105 = 15.8707; exit price (0.4 × 110 + 0.6 × 120) / 1 = 116; return 15.8707 / 100 = 0.158707
    expect(r.trades).toHaveLength(1);
    const t = r.trades[0]!;
    expect(t.direction).toBe('long');
    expect(t.entryTs).toBe(at('2024-01-01T04:00:00Z'));
    expect(t.exitTs).toBe(at('2024-01-01T12:00:00Z'));
    expect(t.entryPrice).toBe(100);
    expect(t.exitPrice).toBeCloseTo(116, 12);
    expect(t.quantity).toBe(1);
    expect(t.fees).toBeCloseTo(0.1188, 12);
    expect(t.funding).toBeCloseTo(0.0105, 12);
    expect(t.pnl).toBeCloseTo(15.8707, 10);
    expect(t.returnPct).toBeCloseTo(0.158707, 12);
    expect(r.equity.value[4]).toBeCloseTo(10_015.8707, 9);
  });
});

describe('reversal', () => {
  // b1 open: buy 1.0 at 100 (fee 0.055); 08:00 funding 0.0105.
  // b2 open: sell 1.5 at 110: realised 1.0 × 10 = 10, fee 1.5 × 110 × 0.00055 = 0.09075 → short 0.5 at 110.
  // b3 open: buy 0.5 at 120: realised 0.5 × (110 − 120) = −5, fee 0.5 × 120 × 0.00055 = 0.033.
  const scenario = () => run({ 0: buy(1), 1: sell(1.5), 2: buy(0.5) });

  it('opens a short of the remainder at the fill price', () => {
    const { seen } = scenario();
    const b2 = seen.find((s) => s.index === 2)!;
    expect(b2.position).toBeCloseTo(-0.5, 15);
    expect(b2.entry).toBe(110);
  });

  it('splits the reversal fee between the two round trips by quantity', () => {
    const { r } = scenario();
    expect(r.trades).toHaveLength(2);
    const [long, short] = r.trades as [(typeof r.trades)[number], (typeof r.trades)[number]];
    // long: fees 0.055 + 0.09075 × 1/1.5 = 0.055 + 0.0605 = 0.1155; pnl = 10 − 0.1155 − 0.0105 = 9.874
    expect(long.direction).toBe('long');
    expect(long.exitPrice).toBe(110);
    expect(long.fees).toBeCloseTo(0.1155, 12);
    expect(long.funding).toBeCloseTo(0.0105, 12);
    expect(long.pnl).toBeCloseTo(9.874, 10);
    // short: fees 0.09075 × 0.5/1.5 + 0.033 = 0.03025 + 0.033 = 0.06325; pnl = −5 − 0.06325 = −5.06325
    // return = −5.06325 / (110 × 0.5) = −0.0920590909…
    expect(short.direction).toBe('short');
    expect(short.entryTs).toBe(at('2024-01-01T08:00:00Z'));
    expect(short.entryPrice).toBe(110);
    expect(short.exitPrice).toBe(120);
    expect(short.quantity).toBeCloseTo(0.5, 15);
    expect(short.fees).toBeCloseTo(0.06325, 12);
    expect(short.funding).toBe(0);
    expect(short.pnl).toBeCloseTo(-5.06325, 10);
    expect(short.returnPct).toBeCloseTo(-5.06325 / 55, 12);
    // final equity = 10 000 + 9.874 − 5.06325 = 10 004.81075 (= sum of the round trips)
    expect(r.equity.value[4]).toBeCloseTo(10_004.81075, 9);
  });
});

describe('closing to flat through float noise', () => {
  it('0.1 + 0.2 bought, 0.3 sold: exactly flat and the round trip is closed', () => {
    // 0.1 + 0.2 = 0.30000000000000004 in doubles; the sell of 0.3 leaves 5.6e-17, which is flat.
    const { r, seen } = run({ 0: buy(0.1, 0.2), 1: sell(0.3), 2: buy(0.5), 3: sell(0.5) });
    expect(seen.find((s) => s.index === 2)!.position).toBe(0);
    expect(r.trades.map((t) => [t.direction, t.quantity])).toEqual([
      ['long', 0.30000000000000004],
      ['long', 0.5],
    ]);
    // first trip: realised 0.3 × (110 − 100) = 3 (up to float noise)
    expect(r.trades[0]!.exitPrice).toBe(110);
  });

  it('0.05 + 0.12 bought, 0.17 sold: exactly flat, not a 3e-17 short', () => {
    // 0.05 + 0.12 = 0.16999999999999998 < 0.17 (= 170 × 0.001 after flooring): without a tolerance the sell would
    // "reverse" into a dust short.
    const { r, seen } = run({ 0: buy(0.05, 0.12), 1: sell(0.17) });
    expect(seen.find((s) => s.index === 2)!.position).toBe(0);
    expect(seen.find((s) => s.index === 2)!.entry).toBe(0);
    expect(r.trades).toHaveLength(1);
    expect(r.funding.every((e) => Math.abs(e.position) > 1e-9)).toBe(true);
  });
});

describe('margin', () => {
  it('rejects an order whose gross exposure would exceed leverage × equity after the fee', () => {
    // buy 30 at 100: gross 3000; fee 3000 × 0.00055 = 1.65; equity 1000 − 1.65 = 998.35; 2 × 998.35 = 1996.7 < 3000
    const { r } = run({ 0: buy(30), 1: buy(19) }, { initialCash: 1000, leverage: 2 });
    expect(r.notes).toContain(`order ${testOrderId('2024-01-01T04:00:00.000Z')} rejected at 2024-01-01T04:00:00.000Z: insufficient margin: gross exposure 3000.00 would exceed 2x equity 998.35`);
    // buy 19 at 110: gross 2090; equity 1000 − 2090 × 0.00055 = 998.8505; 2 × 998.8505 = 1997.70 < 2090 → rejected too
    expect(r.notes).toContain(`order ${testOrderId('2024-01-01T08:00:00.000Z')} rejected at 2024-01-01T08:00:00.000Z: insufficient margin: gross exposure 2090.00 would exceed 2x equity 998.85`);
    expect(r.fills).toEqual([]);
  });

  it('accepts the same order within the leverage cap', () => {
    // buy 19 at 100: gross 1900 ≤ 2 × (1000 − 1.045) = 1997.91
    const { r } = run({ 0: buy(19) }, { initialCash: 1000, leverage: 2 });
    expect(r.fills.map((f) => f.quantity)).toEqual([19]);
  });
});
