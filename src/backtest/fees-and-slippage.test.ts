import { describe, expect, it } from 'vitest';
import type { OrderSnapshot } from '../core/order.js';
import { at, backtestSpec, scriptStrategy, testInstrument, testOrderId } from '../../test/support/engine-scenarios.js';
import { makeFrame } from '../../test/support/frames.js';
import { FixedBpsSlippage, InstrumentFeeModel, VolumeParticipationSlippage } from './execution-models.js';
import { runBacktest } from './run-backtest.js';

// Instrument for every case: lot 0.001, min notional 5, maker 0.0002, taker 0.00055 (test/support/engine-scenarios.ts).
const X = testInstrument();
const start = '2024-01-01T00:00:00Z'; // bar k opens at 00:00 + 4h·k and closes 4h later
/** b0 00:00–04:00, b1 04:00–08:00, b2 08:00–12:00, b3 12:00–16:00. */
const FOUR_BARS = makeFrame({
  timeframe: '4h',
  start,
  bars: [
    [100, 101, 99, 100, 1000],
    [102, 104, 101, 103, 1000],
    [105, 106, 104, 105, 1000],
    [105, 106, 104, 105, 1000],
  ],
});

describe('market orders: next open, taker fee, fixed-bps slippage', () => {
  // b0 00:00–04:00, b1 04:00–08:00, b2 08:00–12:00, b3 12:00–16:00.
  const frame = FOUR_BARS;
  const strategy = scriptStrategy({
    0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }),
    1: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'market', quantity: 1 }),
  });
  const scenario = () => runBacktest(backtestSpec(frame, [X], { slippage: new FixedBpsSlippage(10) }), strategy);

  it('fills a buy placed at the b0 close at the b1 open × (1 + 10 bp)', () => {
    const result = scenario();
    // price = 102 × 1.001 = 102.102; fee = 1 × 102.102 × 0.00055 = 0.0561561
    const f = result.fills[0]!;
    expect(f.ts).toBe(at('2024-01-01T04:00:00Z'));
    expect(f.side).toBe('buy');
    expect(f.quantity).toBe(1);
    expect(f.price).toBeCloseTo(102.102, 10);
    expect(f.fee).toBeCloseTo(0.0561561, 12);
    expect(f.liquidity).toBe('taker');
  });

  it('fills the sell at the b2 open × (1 − 10 bp)', () => {
    const result = scenario();
    // price = 105 × 0.999 = 104.895; fee = 104.895 × 0.00055 = 0.05769225
    const f = result.fills[1]!;
    expect(f.ts).toBe(at('2024-01-01T08:00:00Z'));
    expect(f.price).toBeCloseTo(104.895, 10);
    expect(f.fee).toBeCloseTo(0.05769225, 12);
  });

  it('marks equity at the b1 close with the position open', () => {
    const result = scenario();
    // 10 000 − 0.0561561 (fee) + 1 × (103 − 102.102) = 10 000.8418439
    expect(result.equity.value[1]).toBeCloseTo(10_000.8418439, 9);
    expect(result.bars[0]!.position[1]).toBe(1);
    expect(result.bars[0]!.position[2]).toBe(0);
  });

  it('books the round trip: realised 2.793, fees 0.11384835, net 2.67915165', () => {
    const result = scenario();
    // realised = 104.895 − 102.102 = 2.793; fees = 0.0561561 + 0.05769225 = 0.11384835
    // net = 2.793 − 0.11384835 = 2.67915165; final equity = 10 002.67915165
    expect(result.feesPaid).toBeCloseTo(0.11384835, 12);
    expect(result.turnoverNotional).toBeCloseTo(102.102 + 104.895, 10); // 206.997
    expect(result.equity.value[3]).toBeCloseTo(10_002.67915165, 9);
    expect(result.trades).toHaveLength(1);
    const t = result.trades[0]!;
    expect(t.direction).toBe('long');
    expect(t.entryPrice).toBeCloseTo(102.102, 10);
    expect(t.exitPrice).toBeCloseTo(104.895, 10);
    expect(t.quantity).toBe(1);
    expect(t.fees).toBeCloseTo(0.11384835, 12);
    expect(t.pnl).toBeCloseTo(2.67915165, 10);
    expect(t.returnPct).toBeCloseTo(2.67915165 / 102.102, 12);
  });
});

describe('limit orders', () => {
  // b1 path: open 100 → high 100.5 (nearer: 0.5 ≤ 1) → low 99 → close 100.2
  const frame = makeFrame({
    timeframe: '4h',
    start,
    bars: [
      [100, 101, 99, 100, 1000],
      [100, 100.5, 99, 100.2, 1000],
      [100.2, 100.4, 100, 100.3, 1000],
    ],
  });

  it('fills a resting buy at its limit as maker when the low touches it (no slippage for makers)', () => {
    const strategy = scriptStrategy({
      0: (ctx) => {
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 99.5, quantity: 1 });
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 98.9, quantity: 1 }); // never touched (low 99)
      },
    });
    const result = runBacktest(backtestSpec(frame, [X], { slippage: new FixedBpsSlippage(10) }), strategy);
    // fill at 99.5 (not 99, not slipped); maker fee = 99.5 × 0.0002 = 0.0199
    expect(result.fills).toHaveLength(1);
    const f = result.fills[0]!;
    expect(f.price).toBe(99.5);
    expect(f.liquidity).toBe('maker');
    expect(f.fee).toBeCloseTo(0.0199, 12);
    // intra-bar fills (after the open) are stamped with the bar's close time
    expect(f.ts).toBe(at('2024-01-01T08:00:00Z'));
    // equity at the b1 close = 10 000 − 0.0199 + 1 × (100.2 − 99.5) = 10 000.6801
    expect(result.equity.value[1]).toBeCloseTo(10_000.6801, 9);
    // the 98.9 order is still working after b1 and b2
    expect(strategy.seen.filter((s) => s.index >= 1).map((s) => s.openOrders)).toEqual([1, 1]);
  });

  it('rejects a post-only limit that would take liquidity, keeps a non-marketable one', () => {
    const strategy = scriptStrategy({
      0: (ctx) => {
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 100.5, quantity: 1, postOnly: true }); // mark 100 ≤ 100.5
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 99.5, quantity: 1, postOnly: true });
      },
    });
    const result = runBacktest(backtestSpec(frame, [X]), strategy);
    expect(result.notes).toContain(`order ${testOrderId('2024-01-01T04:00:00.000Z')} rejected at 2024-01-01T04:00:00.000Z: post-only buy limit 100.5 would take liquidity at mark 100`);
    expect(result.fills.map((f) => [f.clientOrderId, f.price, f.liquidity])).toEqual([[testOrderId('2024-01-01T04:00:00.000Z', 1), 99.5, 'maker']]);
  });

  it('tells the strategy about each rejected order and why (onOrderRejected)', () => {
    const rejected: [string, string][] = [];
    const strategy = {
      ...scriptStrategy({ 0: (ctx) => void ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 100.5, quantity: 1, postOnly: true }) }),
      onOrderRejected: (_ctx: unknown, order: { clientOrderId: string; reason: string | undefined }) => void rejected.push([order.clientOrderId, order.reason ?? '']),
    };
    runBacktest(backtestSpec(frame, [X]), strategy);
    expect(rejected).toEqual([[testOrderId('2024-01-01T04:00:00.000Z'), 'post-only buy limit 100.5 would take liquidity at mark 100']]);
  });

  it('fills a marketable (non post-only) limit as taker at min(slipped next open, limit)', () => {
    const gapUp = makeFrame({ timeframe: '4h', start, bars: [[100, 101, 99, 100, 1000], [102, 104, 101, 103, 1000]] });
    const strategy = scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 102.05, quantity: 1 }) });
    const result = runBacktest(backtestSpec(gapUp, [X], { slippage: new FixedBpsSlippage(10) }), strategy);
    // slipped open = 102 × 1.001 = 102.102 > limit → 102.05; taker fee = 102.05 × 0.00055 = 0.0561275
    const f = result.fills[0]!;
    expect(f.price).toBe(102.05);
    expect(f.liquidity).toBe('taker');
    expect(f.fee).toBeCloseTo(0.0561275, 12);
    expect(f.ts).toBe(at('2024-01-01T04:00:00Z'));
  });
});

describe('VolumeParticipationSlippage', () => {
  it('applies baseBps + impactBps × participation^exponent, capped at maxBps', () => {
    const sqrt = new VolumeParticipationSlippage(1, 10);
    // participation 4 / 100 = 0.04, √0.04 = 0.2 → 1 + 10 × 0.2 = 3 bp → 100 × 1.0003 = 100.03; sell 100 × 0.9997 = 99.97
    expect(sqrt.fillPrice('buy', 100, 4, 100)).toBeCloseTo(100.03, 12);
    expect(sqrt.fillPrice('sell', 100, 4, 100)).toBeCloseTo(99.97, 12);
    // no volume (0 or NaN) → participation 1 → 1 + 10 = 11 bp → 100.11
    expect(sqrt.fillPrice('buy', 100, 4, 0)).toBeCloseTo(100.11, 12);
    expect(sqrt.fillPrice('buy', 100, 4, NaN)).toBeCloseTo(100.11, 12);
    // linear: 2 + 50 × (10 / 1000) = 2.5 bp → 200 × 1.00025 = 200.05
    expect(new VolumeParticipationSlippage(2, 50, 1).fillPrice('buy', 200, 10, 1000)).toBeCloseTo(200.05, 12);
    // cap: 1 + 100 × √(100 / 1) = 1001 bp → capped at 500 bp → 100 × 1.05 = 105, sell 95
    const capped = new VolumeParticipationSlippage(1, 100, 0.5, 500);
    expect(capped.fillPrice('buy', 100, 100, 1)).toBeCloseTo(105, 12);
    expect(capped.fillPrice('sell', 100, 100, 1)).toBeCloseTo(95, 12);
  });

  it('uses the volume of the bar the market order fills in', () => {
    const frame = makeFrame({ timeframe: '4h', start, bars: [[100, 101, 99, 100, 1000], [102, 104, 101, 103, 100]] });
    const strategy = scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 4 }) });
    const result = runBacktest(backtestSpec(frame, [X], { slippage: new VolumeParticipationSlippage(1, 10) }), strategy);
    // b1 volume 100: 1 + 10 × √(4/100) = 3 bp → 102 × 1.0003 = 102.0306; fee = 4 × 102.0306 × 0.00055 = 0.22446732
    expect(result.fills[0]!.price).toBeCloseTo(102.0306, 10);
    expect(result.fills[0]!.fee).toBeCloseTo(0.22446732, 10);
  });
});

describe('lot size, min notional and fee overrides', () => {
  const frame = makeFrame({ timeframe: '4h', start, bars: [[100, 101, 99, 100, 1000], [102, 104, 101, 103, 1000]] });

  it('floors to the lot size, then rejects below the min notional', () => {
    const strategy = scriptStrategy({
      0: (ctx) => {
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 0.0489 }); // → 0.048 × 102 = 4.896 < 5
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 0.0509 }); // → 0.050 × 102 = 5.1 ≥ 5
      },
    });
    const result = runBacktest(backtestSpec(frame, [X]), strategy);
    expect(result.notes).toContain(`order ${testOrderId('2024-01-01T04:00:00.000Z')} rejected at 2024-01-01T04:00:00.000Z: notional 4.90 is below the minimum 5`);
    expect(result.fills).toHaveLength(1);
    expect(result.fills[0]!.quantity).toBeCloseTo(0.05, 15);
    // fee = 0.05 × 102 × 0.00055 = 0.002805
    expect(result.fills[0]!.fee).toBeCloseTo(0.002805, 15);
  });

  it('InstrumentFeeModel overrides replace the instrument rates', () => {
    const strategy = scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }) });
    const result = runBacktest(backtestSpec(frame, [X], { fees: new InstrumentFeeModel({ taker: 0.001 }) }), strategy);
    // 1 × 102 × 0.001 = 0.102
    expect(result.fills[0]!.fee).toBeCloseTo(0.102, 15);
  });
});

describe('fillPrices: orders filled at given prices and fees (tm replay of a venue run at the run’s fills)', () => {
  const frame = FOUR_BARS;
  const strategy = scriptStrategy({
    0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 2 }),
    1: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'limit', price: 104.5, quantity: 1 }),
    2: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'market', quantity: 1 }),
  });
  const buy = testOrderId('2024-01-01T04:00:00.000Z');
  const limit = testOrderId('2024-01-01T08:00:00.000Z');
  const sell = testOrderId('2024-01-01T12:00:00.000Z');

  it('a listed order fills when the models fill it, at its price and fee per unit; the others as the models say', () => {
    // The buy (market, b1 open) at 102.5 with 0.06 a unit; the limit (fills at b2's open 105 ≥ 104.5, maker) at 104.7
    // with 0.01 a unit; the sell is not listed: b3 open 105 × (1 − 10 bp) = 104.895, taker fee 104.895 × 0.00055.
    const fillPrices = new Map([
      [buy, { price: 102.5, feePerUnit: 0.06, quantity: Infinity, notBefore: -Infinity }],
      [limit, { price: 104.7, feePerUnit: 0.01, quantity: Infinity, notBefore: -Infinity }],
    ]);
    const result = runBacktest(backtestSpec(frame, [X], { slippage: new FixedBpsSlippage(10), fillPrices }), strategy);
    expect(result.fills.map((f) => [f.clientOrderId, f.ts, f.quantity, f.liquidity])).toEqual([
      [buy, at('2024-01-01T04:00:00Z'), 2, 'taker'],
      [limit, at('2024-01-01T08:00:00Z'), 1, 'maker'],
      [sell, at('2024-01-01T12:00:00Z'), 1, 'taker'],
    ]);
    expect(result.fills.map((f) => f.price)).toEqual([102.5, 104.7, 105 * (1 - 0.001)]);
    expect(result.fills[0]!.fee).toBeCloseTo(0.12, 15);
    expect(result.fills[1]!.fee).toBeCloseTo(0.01, 15);
    expect(result.fills[2]!.fee).toBeCloseTo(104.895 * 0.00055, 12);
    // Cash: 10 000 − 2 × 102.5 − 0.12 + 104.7 − 0.01 + 104.895 − 0.05769225 (booked as realised PnL, flat at the end).
    expect(result.equity.value.at(-1)).toBeCloseTo(10_000 + (104.7 - 102.5) + (104.895 - 102.5) - 0.12 - 0.01 - 0.05769225, 9);
  });

  it('an empty map changes nothing', () => {
    const plain = runBacktest(backtestSpec(frame, [X], { slippage: new FixedBpsSlippage(10) }), strategy);
    const empty = runBacktest(backtestSpec(frame, [X], { slippage: new FixedBpsSlippage(10), fillPrices: new Map() }), strategy);
    expect(empty.fills).toEqual(plain.fills);
  });
});

describe('fillPrices: how much, whether and from when the run’s venue filled an order', () => {
  const frame = FOUR_BARS;
  const buy = testOrderId('2024-01-01T04:00:00.000Z');
  const strategy = () => scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 2 }) });
  const run = (entry: { price: number; feePerUnit: number; quantity: number; notBefore: number }) => {
    let orders: readonly OrderSnapshot[] = [];
    const s = strategy();
    const result = runBacktest(backtestSpec(frame, [X], { fillPrices: new Map([[buy, entry]]) }), s, { inspect: (kernel) => void (orders = kernel.orders.save().orders) });
    return { result, order: orders.find((o) => o.clientOrderId === buy)!, seen: s.seen };
  };

  it('fills no more than its quantity; the rest is canceled once it has', () => {
    const { result, order } = run({ price: 102, feePerUnit: 0, quantity: 1.5, notBefore: -Infinity });
    expect(result.fills.map((f) => [f.quantity, f.price])).toEqual([[1.5, 102]]);
    expect(order).toMatchObject({ status: 'CANCELED', filledQuantity: 1.5, reason: expect.stringContaining('the run’s venue filled 1.5 of it') });
  });

  it('quantity 0: rejected on arrival, never filled', () => {
    const { result, order } = run({ price: NaN, feePerUnit: 0, quantity: 0, notBefore: -Infinity });
    expect(result.fills).toEqual([]);
    expect(order).toMatchObject({ status: 'REJECTED', reason: expect.stringContaining('refused as the run’s venue refused it') });
  });

  it('fills from the bar whose path runs at or after notBefore (the engine time the run booked the fill at), not before', () => {
    // Sent at b0's close (04:00); booked by the run at b1's close (08:00): b1's path (clock at 04:00) holds it, b2's
    // (clock at 08:00) fills it; the strategy sees it working at b1's close and filled at b2's.
    const { result, seen } = run({ price: 103, feePerUnit: 0, quantity: Infinity, notBefore: at('2024-01-01T08:00:00Z') });
    expect(result.fills.map((f) => [f.ts, f.quantity, f.price])).toEqual([[at('2024-01-01T08:00:00Z'), 2, 103]]);
    expect(seen.map((x) => [x.index, x.openOrders, x.position])).toEqual([[0, 0, 0], [1, 1, 0], [2, 0, 2], [3, 0, 2]]);
  });

  it('notBefore Infinity (the run never booked a fill of it): never fills, still working at the end', () => {
    const { result, order } = run({ price: NaN, feePerUnit: 0, quantity: Infinity, notBefore: Infinity });
    expect(result.fills).toEqual([]);
    expect(order.status).toBe('ACCEPTED');
  });
});

describe('fillPrices: a limit order the run’s venue filled', () => {
  it('fills from notBefore at the run’s price even where the bar path never reaches its limit (the venue said it filled)', () => {
    // A buy limit at 99 placed at b0's close: no later low reaches 99 (b1 101, b2 104, b3 104), so the models never
    // fill it; the run's venue filled it at 99, booked at b1's close (08:00): it fills in b2's path, at 99, as maker.
    const id = testOrderId('2024-01-01T04:00:00.000Z');
    const strategy = scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 99, quantity: 1 }) });
    const model = runBacktest(backtestSpec(FOUR_BARS, [X]), strategy);
    expect(model.fills).toEqual([]);
    const run = runBacktest(backtestSpec(FOUR_BARS, [X], { fillPrices: new Map([[id, { price: 99, feePerUnit: 0.02, quantity: Infinity, notBefore: at('2024-01-01T08:00:00Z') }]]) }), strategy);
    expect(run.fills.map((f) => [f.ts, f.price, f.quantity, f.fee, f.liquidity])).toEqual([[at('2024-01-01T08:00:00Z'), 99, 1, 0.02, 'maker']]);
  });
});
