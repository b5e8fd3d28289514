import { describe, expect, it } from 'vitest';
import { at, backtestSpec, scriptStrategy, testInstrument } from '../../test/support/engine-scenarios.js';
import { makeFrame, type Ohlcv } from '../../test/support/frames.js';
import { runBacktest } from './run-backtest.js';

// maintenance margin rate m = 0.005, taker 0.00055, no slippage, leverage cap 20 (so a 10x entry passes the margin check).
const X = testInstrument();
const start = '2024-01-01T00:00:00Z';
const flat: Ohlcv = [100, 100, 100, 100, 1000];

/**
 * Entry: buy q = 100 at 100 (notional 10 000, fee 10 000 × 0.00055 = 5.5). With initial cash 1050.5 the cash after
 * the entry is C = 1045 (≈ 10x leverage). The liquidation price x solves C + q(x − 100) = |q| · x · m:
 *   1045 + 100x − 10 000 = 0.5x  →  99.5x = 8955  →  x = 90.
 */
const INITIAL_CASH = 1050.5;

describe('liquidation of a 10x long', () => {
  it('liquidates at the solved price when the low goes through it, pays the taker fee, cancels working orders', () => {
    // b1 path: open 100 → high 101 (nearer: 1 ≤ 15) → low 85 → close 88. x = 90 lies on the 101 → 85 segment.
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat, [100, 101, 85, 88, 1000], [88, 89, 87, 88, 1000]] });
    const strategy = scriptStrategy({
      0: (ctx) => {
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 100 });
        ctx.submitOrder({ instrument: 0, side: 'sell', type: 'limit', price: 120, quantity: 100 }); // take-profit, never reached
      },
    });
    const r = runBacktest(backtestSpec(frame, [X], { initialCash: INITIAL_CASH, leverage: 20 }), strategy);
    expect(r.liquidations).toBe(1);
    expect(r.fills).toHaveLength(2);
    const liq = r.fills[1]!;
    expect(liq.reason).toBe('liquidation');
    expect(liq.clientOrderId).toBe('liquidation-1-0');
    expect(liq.side).toBe('sell');
    expect(liq.quantity).toBe(100);
    expect(liq.price).toBeCloseTo(90, 9);
    expect(liq.liquidity).toBe('taker');
    expect(liq.ts).toBe(at('2024-01-01T08:00:00Z')); // intra-bar: stamped at the b1 close
    // fee = 100 × 90 × 0.00055 = 4.95
    expect(liq.fee).toBeCloseTo(4.95, 10);
    // equity at x equals the maintenance margin: 1045 + 100 × (90 − 100) = 45 = 100 × 90 × 0.005
    // after the fee: cash = 1045 − 1000 − 4.95 = 40.05 (flat, so equity = cash)
    expect(r.equity.value[1]).toBeCloseTo(40.05, 9);
    expect(r.equity.value[2]).toBeCloseTo(40.05, 9);
    // at the b1 close the strategy sees no position and no working orders (the take-profit was cancelled)
    const b1 = strategy.seen.find((s) => s.index === 1)!;
    expect(b1.position).toBe(0);
    expect(b1.openOrders).toBe(0);
    expect(r.notes).toContain('1 liquidation(s) occurred');
    // round trip: −1000 realised − 5.5 − 4.95 fees = −1010.45
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]!.pnl).toBeCloseTo(-1010.45, 9);
  });

  it('the trigger sits exactly at the maintenance margin: a low a cent above x = 90 survives, a cent below liquidates', () => {
    // low 90.01: equity 1045 + 100 × (90.01 − 100) = 46 > MM 100 × 90.01 × 0.005 = 45.005 → no liquidation.
    // low 89.99: equity 44 ≤ MM 44.995 → liquidation at x = 90 (on the path). A trigger at half the margin
    // (equity ≤ 22.5) would let 89.99 pass; one at twice the margin would liquidate at 90.01.
    const run = (low: number) => {
      const frame = makeFrame({ timeframe: '4h', start, bars: [flat, [100, 100.5, low, 95, 1000], [95, 96, 94, 95, 1000]] });
      const strategy = scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 100 }) });
      return runBacktest(backtestSpec(frame, [X], { initialCash: INITIAL_CASH, leverage: 20 }), strategy);
    };
    const above = run(90.01);
    expect(above.liquidations).toBe(0);
    expect(above.fills).toHaveLength(1);
    const below = run(89.99);
    expect(below.liquidations).toBe(1);
    expect(below.fills[1]!.price).toBeCloseTo(90, 9);
  });

  it('liquidates at the open when the bar gaps through the liquidation price (the gap is not traded)', () => {
    // b1 flat at 100 (entry). b2 opens at 80, below x = 90: the path of b2 starts at 80, so x clamps to 80.
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat, flat, [80, 82, 78, 81, 1000]] });
    const strategy = scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 100 }) });
    const r = runBacktest(backtestSpec(frame, [X], { initialCash: INITIAL_CASH, leverage: 20 }), strategy);
    expect(r.liquidations).toBe(1);
    const liq = r.fills[1]!;
    expect(liq.reason).toBe('liquidation');
    expect(liq.price).toBe(80);
    expect(liq.ts).toBe(at('2024-01-01T08:00:00Z')); // the b2 open
    // fee = 100 × 80 × 0.00055 = 4.4; cash = 1045 + 100 × (80 − 100) − 4.4 = −959.4 (bankrupt, no insurance fund)
    expect(liq.fee).toBeCloseTo(4.4, 10);
    expect(r.equity.value[2]).toBeCloseTo(-959.4, 9);
    // before the gap the account was healthy: equity at the b1 close = 1045
    expect(r.equity.value[1]).toBeCloseTo(1045, 9);
  });

  it('does not liquidate when the low stays above the liquidation price', () => {
    // low 90.5 > 90: equity there = 1045 − 950 = 95 > MM = 100 × 90.5 × 0.005 = 45.25
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat, [100, 101, 90.5, 95, 1000]] });
    const strategy = scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 100 }) });
    const r = runBacktest(backtestSpec(frame, [X], { initialCash: INITIAL_CASH, leverage: 20 }), strategy);
    expect(r.liquidations).toBe(0);
    // equity at the b1 close = 1045 + 100 × (95 − 100) = 545
    expect(r.equity.value[1]).toBeCloseTo(545, 9);
  });
});

describe('cross-margin liquidation with two instruments', () => {
  // A: m = 0.005; B: m = 0.01. Long 50 of each at 100: fees 2 × 50 × 100 × 0.00055 = 5.5; cash 1070.5 → C = 1065.
  // B falls; A stays at 100 (unrealised 0, maintenance margin 50 × 100 × 0.005 = 25). x for B solves
  //   C + 50(x − 100) = 25 + 50 · x · 0.01  →  1065 + 50x − 5000 = 25 + 0.5x  →  49.5x = 3960  →  x = 80.
  // (B alone would need 49.5x = 5000 − 1065 = 3935 → x ≈ 79.49: A's margin requirement moves B's liquidation up.)
  const A = testInstrument({ symbol: 'AAAUSDT', maintenanceMarginRate: 0.005 });
  const B = testInstrument({ symbol: 'BBBUSDT', maintenanceMarginRate: 0.01 });
  const frame = makeFrame({
    timeframe: '4h',
    start,
    series: [
      [flat, flat, flat, flat],
      [flat, flat, [100, 100, 70, 75, 1000], [75, 76, 74, 75, 1000]], // b2 path: 100 → 100 → 70 → 75
    ],
  });
  const strategy = scriptStrategy({
    0: (ctx, bar) => ctx.submitOrder({ instrument: bar.instrument, side: 'buy', type: 'market', quantity: 50 }),
  });
  const scenario = () => runBacktest(backtestSpec(frame, [A, B], { initialCash: 1070.5, leverage: 20 }), strategy);

  it('closes every position: B at the solved price, A at its mark, both as taker', () => {
    const r = scenario();
    expect(r.liquidations).toBe(1);
    const liq = r.fills.filter((f) => f.reason === 'liquidation');
    expect(liq.map((f) => [f.instrument, f.side, f.quantity])).toEqual([
      ['AAAUSDT-LINEAR.TEST', 'sell', 50],
      ['BBBUSDT-LINEAR.TEST', 'sell', 50],
    ]);
    expect(liq[0]!.price).toBe(100);
    expect(liq[1]!.price).toBeCloseTo(80, 9);
    // fees: A 50 × 100 × 0.00055 = 2.75; B 50 × 80 × 0.00055 = 2.2
    expect(liq[0]!.fee).toBeCloseTo(2.75, 10);
    expect(liq[1]!.fee).toBeCloseTo(2.2, 10);
  });

  it('leaves equity = maintenance margin at x minus the liquidation fees', () => {
    const r = scenario();
    // at x: equity 1065 − 1000 = 65 = MM 25 + 50 × 80 × 0.01 = 25 + 40. After fees: 65 − 2.75 − 2.2 = 60.05
    expect(r.equity.value[1]).toBeCloseTo(1065, 9);
    expect(r.equity.value[2]).toBeCloseTo(60.05, 9);
    expect(r.equity.value[3]).toBeCloseTo(60.05, 9);
    expect(r.bars.map((b) => Array.from(b.position))).toEqual([
      [0, 50, 0, 0],
      [0, 50, 0, 0],
    ]);
  });
});

/**
 * The venue skips the liquidation arithmetic while the book is long only and paid for (cash − Σ q·entry > 0: no prices
 * ≥ 0 can bring equity down to the margin). Each case runs with path skipping (`skip-idle`, the default) and with the
 * `every-bar` reference, which checks every price exactly; both must agree, on both sides of the shortcut's condition.
 */
describe('a long-only book paid for in full cannot be liquidated; one that is not still can', () => {
  const both = (run: (pathChecks: 'skip-idle' | 'every-bar') => ReturnType<typeof runBacktest>) => {
    const fast = run('skip-idle'), reference = run('every-bar');
    expect(fast.fills).toEqual(reference.fills);
    expect(Array.from(fast.equity.value)).toEqual(Array.from(reference.equity.value));
    expect(fast.venueBarsChecked).toBe(reference.venueBarsChecked);
    return fast;
  };
  // b2 crashes from 100 to 0.01 (path 100 → 100 → 0.01 → 1).
  const crash = makeFrame({ timeframe: '4h', start, bars: [flat, flat, [100, 100, 0.01, 1, 1000], [1, 1, 1, 1, 1000]] });
  const long10 = () => scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 10 }) });

  it('paid for: buy 10 at 100 with 1005.5 (cash 1004.95 after the 0.55 fee, 4.95 above the cost): survives a fall to 0.01', () => {
    // equity at 0.01 = 1004.95 + 10 × (0.01 − 100) = 5.05 > margin 10 × 0.01 × 0.005 = 0.0005
    const r = both((pathChecks) => runBacktest(backtestSpec(crash, [X], { initialCash: 1005.5, leverage: 20, pathChecks }), long10()));
    expect(r.liquidations).toBe(0);
    expect(r.equity.value[2]).toBeCloseTo(1004.95 + 10 * (1 - 100), 9);
  });

  it('5 short of the cost (cash 995): liquidated at x = 5 / 9.95 on the way down', () => {
    // 995 + 10 × (x − 100) = 10 × x × 0.005  →  9.95 x = 5  →  x = 0.50251…
    const r = both((pathChecks) => runBacktest(backtestSpec(crash, [X], { initialCash: 995.55, leverage: 20, pathChecks }), long10()));
    expect(r.liquidations).toBe(1);
    expect(r.fills[1]!.price).toBeCloseTo(5 / 9.95, 9);
  });

  it('paid for, then bought on margin: the second fill ends the shortcut (liquidated at x = 995.6 / 19.9)', () => {
    // Buy 10 at 100 on b1 (paid for), 10 more on b2 (cash 1004.4 after both fees, cost 2000); b3 crashes.
    // 1004.4 + 20 × (x − 100) = 20 × x × 0.005  →  19.9 x = 995.6  →  x = 50.030…
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat, flat, flat, [100, 100, 0.01, 1, 1000]] });
    const twice = () => scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 10 }), 1: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 10 }) });
    const r = both((pathChecks) => runBacktest(backtestSpec(frame, [X], { initialCash: 1005.5, leverage: 20, pathChecks }), twice()));
    expect(r.liquidations).toBe(1);
    expect(r.fills[2]!.price).toBeCloseTo(995.6 / 19.9, 9);
  });

  it('a paid-for long, then a short on another instrument: the long is checked again (x = 505 / 9.95)', () => {
    // Long 10 A at 100 on b1 (paid for: its bars are quiet, skipped by the runner); short 10 B at 100 on b3. From
    // then on A's band no longer holds (the portfolio changed), and A's fall on b5 liquidates as in the case below.
    const A = testInstrument({ symbol: 'AAAUSDT' }), B = testInstrument({ symbol: 'BBBUSDT' });
    const frame = makeFrame({ timeframe: '4h', start, series: [[flat, flat, flat, flat, flat, [100, 100, 40, 45, 1000]], [flat, flat, flat, flat, flat, flat]] });
    const strategy = () => scriptStrategy({
      0: (ctx, bar) => void (bar.instrument === 0 && ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 10 })),
      2: (ctx, bar) => void (bar.instrument === 1 && ctx.submitOrder({ instrument: 1, side: 'sell', type: 'market', quantity: 10 })),
    });
    const r = both((pathChecks) => runBacktest(backtestSpec(frame, [A, B], { initialCash: 501.1, leverage: 20, pathChecks }), strategy()));
    expect(r.liquidations).toBe(1);
    expect(r.fills.filter((f) => f.reason === 'liquidation')[0]!.price).toBeCloseTo(505 / 9.95, 9);
    // A from b1 (its order's bar) to b5; B on b3 and b4 (A's path on b5 liquidated B before B's bar: nothing left there).
    expect(r.venueBarsChecked).toBe(5 + 2);
  });

  it('a paid-for long, then a resting short on another instrument fills: the long is checked again (x = 905.27 / 9.95)', () => {
    // Buy 10 A at 100 (cash 1004.95: paid for, A's bars quiet) and rest a sell limit of 10 B at 110, both sent at b0.
    // B's b4 rises through 110 to 200: the limit fills as maker (fee 0.22, cash 1004.73), B short at mark 200. No order
    // is sent after b0: only the portfolio's change ends A's band. A's b5 falls to 40; with B at 200:
    // 1004.73 + 10(x − 100) − 10(200 − 110) = 10 x 0.005 + 10 × 200 × 0.005  →  9.95 x = 905.27  →  x = 90.98…
    const A = testInstrument({ symbol: 'AAAUSDT' }), B = testInstrument({ symbol: 'BBBUSDT' });
    const frame = makeFrame({ timeframe: '4h', start, series: [[flat, flat, flat, flat, flat, [100, 100, 40, 45, 1000]], [flat, flat, flat, flat, [100, 200, 100, 200, 1000], [200, 200, 200, 200, 1000]]] });
    const strategy = () => scriptStrategy({
      0: (ctx, bar) => void ctx.submitOrder(bar.instrument === 0 ? { instrument: 0, side: 'buy', type: 'market', quantity: 10 } : { instrument: 1, side: 'sell', type: 'limit', price: 110, quantity: 10 }),
    });
    const r = both((pathChecks) => runBacktest(backtestSpec(frame, [A, B], { initialCash: 1005.5, leverage: 20, pathChecks }), strategy()));
    expect(r.fills.map((f) => [f.instrument, f.side, f.price])).toEqual([
      ['AAAUSDT-LINEAR.TEST', 'buy', 100],
      ['BBBUSDT-LINEAR.TEST', 'sell', 110],
      ['AAAUSDT-LINEAR.TEST', 'sell', expect.closeTo(905.27 / 9.95, 9)],
      ['BBBUSDT-LINEAR.TEST', 'buy', 200],
    ]);
    expect(r.liquidations).toBe(1);
  });

  it('a paid-for long still liquidates at a negative price (the shortcut holds for prices ≥ 0 only)', () => {
    // Cash 1004.95 after buying 10 at 100: equity 1004.95 + 10 × (x − 100) = 4.95 + 10x meets the margin 10 × x × 0.005
    // at 9.95x = −4.95, x = −0.4975…; a bar down to −10 goes through it.
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat, flat, flat, [100, 100, -10, -5, 1000], [-5, -5, -5, -5, 1000]] });
    const r = both((pathChecks) => runBacktest(backtestSpec(frame, [X], { initialCash: 1005.5, leverage: 20, pathChecks }), long10()));
    expect(r.liquidations).toBe(1);
    expect(r.fills[1]!.price).toBeCloseTo(-4.95 / 9.95, 9);
  });

  it('a long beside a short is not a paid-for book: A falling liquidates the account (x = 505 / 9.95)', () => {
    // Long 10 A and short 10 B at 100 (fees 2 × 0.55): cash 500. Σ q·entry = 0, but B's short is not paid for.
    // With B at 100: 500 + 10 × (x − 100) = 10 × x × 0.005 + 10 × 100 × 0.005  →  9.95 x = 505  →  x = 50.7537…
    const A = testInstrument({ symbol: 'AAAUSDT' }), B = testInstrument({ symbol: 'BBBUSDT' });
    const frame = makeFrame({ timeframe: '4h', start, series: [[flat, flat, [100, 100, 40, 45, 1000]], [flat, flat, flat]] });
    const strategy = () => scriptStrategy({ 0: (ctx, bar) => ctx.submitOrder({ instrument: bar.instrument, side: bar.instrument === 0 ? 'buy' : 'sell', type: 'market', quantity: 10 }) });
    const r = both((pathChecks) => runBacktest(backtestSpec(frame, [A, B], { initialCash: 501.1, leverage: 20, pathChecks }), strategy()));
    expect(r.liquidations).toBe(1);
    const liq = r.fills.filter((f) => f.reason === 'liquidation');
    expect(liq.map((f) => [f.instrument, f.side])).toEqual([['AAAUSDT-LINEAR.TEST', 'sell'], ['BBBUSDT-LINEAR.TEST', 'buy']]);
    expect(liq[0]!.price).toBeCloseTo(505 / 9.95, 9);
  });
});

/**
 * With one instrument a levered position's liquidation bound depends on the portfolio only, so its bars between the
 * bound and its resting limits are a quiet band the runner skips without calling the venue. The position is held
 * through five such bars before the one that goes through the bound: a band that ignored the bound would skip that
 * bar too. Each case runs with path skipping and with the `every-bar` reference; both must agree.
 */
describe('a 10x position held through quiet bars is liquidated on the bar that goes through its bound', () => {
  const both = (frame: ReturnType<typeof makeFrame>, side: 'buy' | 'sell') => {
    const run = (pathChecks: 'skip-idle' | 'every-bar') =>
      runBacktest(backtestSpec(frame, [X], { initialCash: INITIAL_CASH, leverage: 20, pathChecks }), scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side, type: 'market', quantity: 100 }) }));
    const fast = run('skip-idle'), reference = run('every-bar');
    expect(fast.fills).toEqual(reference.fills);
    expect(Array.from(fast.equity.value)).toEqual(Array.from(reference.equity.value));
    expect(fast.venueBarsChecked).toBe(reference.venueBarsChecked);
    return fast;
  };

  it('a long (x = 90, see above): lows of 95 for five bars, then a bar down to 89', () => {
    const quiet: Ohlcv = [100, 101, 95, 98, 1000];
    // b6 path: open 98 → high 99 (nearer) → low 89, through x = 90.
    const r = both(makeFrame({ timeframe: '4h', start, bars: [flat, quiet, quiet, quiet, quiet, quiet, [98, 99, 89, 90, 1000], flat] }), 'buy');
    expect(r.liquidations).toBe(1);
    expect(r.fills[1]!.price).toBeCloseTo(90, 9);
    expect(r.fills[1]!.ts).toBe(at('2024-01-02T04:00:00Z')); // the b6 close
    expect(r.venueBarsChecked).toBe(6); // b1 (the entry) to b6, skipped or not
  });

  it('a short: 1045 − 100 (x − 100) = 100 · x · 0.005 → x = 11045 / 100.5 ≈ 109.90; highs of 105 for five bars, then a bar up to 111', () => {
    const quiet: Ohlcv = [100, 105, 99, 102, 1000];
    // b6 path: open 102 → low 101 (nearer) → high 111, through x.
    const r = both(makeFrame({ timeframe: '4h', start, bars: [flat, quiet, quiet, quiet, quiet, quiet, [102, 111, 101, 110, 1000], flat] }), 'sell');
    expect(r.liquidations).toBe(1);
    expect(r.fills[1]!.price).toBeCloseTo(11045 / 100.5, 9);
    expect(r.fills[1]!.ts).toBe(at('2024-01-02T04:00:00Z'));
    expect(r.venueBarsChecked).toBe(6);
  });
});
