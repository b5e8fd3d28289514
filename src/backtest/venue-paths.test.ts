import { describe, expect, it } from 'vitest';
import type { BarEvent, Strategy, StrategyContext } from '../engine/strategy.js';
import { at, backtestSpec, testInstrument } from '../../test/support/engine-scenarios.js';
import { randomTrader as seededTrader } from '../../test/support/random-trader.js';
import { makeFrame, randomWalkBars, type Ohlcv } from '../../test/support/frames.js';
import { FixedLatency, TableFundingModel, VolumeParticipationFillModel } from './execution-models.js';
import { runBacktest, type BacktestSpec } from './run-backtest.js';

/**
 * The venue's `skip-idle` path checks (cached range triggers, cached liquidation bounds) against the `every-bar`
 * reference on small synthetic markets (path-skip.test.ts does the same on real data): a seeded random trader at high
 * leverage must get the same fills, cancels, liquidations and equity either way, and scripted cases put a price
 * exactly on a resting limit or past a liquidation price so that a skip that is one comparison too eager shows.
 */
const start = '2024-01-01T00:00:00Z';
// Three perpetuals with different maintenance margin rates (one without: it never liquidates on its own).
const INSTRUMENTS = [
  testInstrument({ symbol: 'AAAUSDT', maintenanceMarginRate: 0.005 }),
  testInstrument({ symbol: 'BBBUSDT', maintenanceMarginRate: 0.02 }),
  testInstrument({ symbol: 'CCCUSDT', maintenanceMarginRate: 0 }),
];

const randomTrader = (seed: number) => seededTrader(seed, { size: 8, market: 0.1, limit: 0.45, away: 0.04, roundPrice: true, cancel: 0.15 });

function market(n: number, bars: number, seed: number): BacktestSpec['frame'] {
  return makeFrame({ timeframe: '4h', start, series: Array.from({ length: n }, (_, k) => randomWalkBars(bars, seed * 10 + k)) });
}

function compare(spec: BacktestSpec, strategy: () => Strategy) {
  const fast = runBacktest(spec, strategy());
  const reference = runBacktest({ ...spec, pathChecks: 'every-bar' }, strategy());
  expect(fast.fills).toEqual(reference.fills);
  expect(fast.trades).toEqual(reference.trades);
  expect(fast.notes).toEqual(reference.notes);
  expect(fast.liquidations).toBe(reference.liquidations);
  expect(Array.from(fast.equity.value)).toEqual(Array.from(reference.equity.value));
  // Bars checked (a command, an order or a position): the same bars, whether the venue or the runner's quiet band did it.
  expect(fast.venueBarsChecked).toBe(reference.venueBarsChecked);
  return { fast, reference };
}

describe('skip-idle paths against the every-bar reference (synthetic markets)', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i, three instruments, leverage 50: identical results, less venue work', (seed) => {
    const spec = backtestSpec(market(3, 150, seed), INSTRUMENTS, { leverage: 50, funding: new TableFundingModel([null, null, null], { kind: 'constant', rate: 0.0003 }) });
    const { fast, reference } = compare(spec, () => randomTrader(seed));
    expect(reference.fills.length).toBeGreaterThan(30);
    expect(reference.fills.some((f) => f.liquidity === 'maker')).toBe(true);
    expect(reference.venuePriceEvents!).toBeGreaterThan(fast.venuePriceEvents!);
  });

  it('liquidations happen in these scenarios (the comparison covers them)', () => {
    let liquidations = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      liquidations += runBacktest(backtestSpec(market(3, 150, seed), INSTRUMENTS, { leverage: 50 }), randomTrader(seed)).liquidations;
    }
    expect(liquidations).toBeGreaterThan(2);
  });

  it.each([11, 12, 13])('seed %i, one instrument (no mark epochs), leverage 80: identical results', (seed) => {
    const { reference } = compare(backtestSpec(market(1, 300, seed), [INSTRUMENTS[1]!], { leverage: 80 }), () => randomTrader(seed));
    expect(reference.fills.length).toBeGreaterThan(30);
  });

  it.each([21, 22])('seed %i, latency 1 h and a 5 % volume cap (commands in flight, partial fills): identical results', (seed) => {
    const spec = backtestSpec(market(2, 150, seed), INSTRUMENTS.slice(0, 2), { leverage: 50, latency: new FixedLatency(3_600_000), fill: new VolumeParticipationFillModel(0.05) });
    const { reference } = compare(spec, () => randomTrader(seed));
    expect(reference.fills.length).toBeGreaterThan(30);
  });
});

/** A strategy that runs `script[bar.index]` for instrument `bar.instrument` at each close. */
function script(steps: Record<number, (ctx: StrategyContext, bar: BarEvent) => void>): () => Strategy {
  return () => ({ name: 'test', onBar: (ctx, bar) => steps[bar.index]?.(ctx, bar) });
}
const flat = (p: number): Ohlcv => [p, p, p, p, 1000];

describe('skip-idle: a bar whose range only just reaches an order or a liquidation price still runs', () => {
  it('a resting buy limit at exactly the low fills as maker; a resting sell limit at exactly the high fills', () => {
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), [100, 101, 97, 100, 1000], [100, 103, 98, 102, 1000], flat(102)] });
    const strategy = script({
      0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 97, quantity: 1 }),
      1: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'limit', price: 103, quantity: 1 }),
    });
    const { fast } = compare(backtestSpec(frame, [INSTRUMENTS[0]!]), strategy);
    expect(fast.fills.map((f) => [f.side, f.price, f.liquidity])).toEqual([['buy', 97, 'maker'], ['sell', 103, 'maker']]);
  });

  it('a resting limit the range misses is skipped (no path runs), then fills when a later bar reaches it', () => {
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), [100, 101, 98, 100, 1000], [100, 101, 98, 100, 1000], [100, 100, 96, 97, 1000]] });
    const strategy = script({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 97, quantity: 1 }) });
    const { fast, reference } = compare(backtestSpec(frame, [INSTRUMENTS[0]!]), strategy);
    expect(fast.fills.map((f) => [f.ts, f.price])).toEqual([[Date.parse('2024-01-01T16:00:00Z'), 97]]);
    // bars 1 and 2 (4 prices each) run in the reference only; bar 3 runs in both
    expect(reference.venuePriceEvents! - fast.venuePriceEvents!).toBe(8);
    expect(fast.venueBarsChecked).toBe(3);
  });

  it('the highest of several resting buys and the lowest of several resting sells decide whether a bar can act', () => {
    // buys at 95 and 98 (the 98 is the one bar 1 reaches), sells at 106 and 103 (bar 2 reaches only 103)
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), [100, 101, 98, 100, 1000], [100, 103, 99, 100, 1000], flat(100)] });
    const strategy = script({
      0: (ctx) => {
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 95, quantity: 1 });
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 98, quantity: 1 });
        ctx.submitOrder({ instrument: 0, side: 'sell', type: 'limit', price: 106, quantity: 1, reduceOnly: true });
        ctx.submitOrder({ instrument: 0, side: 'sell', type: 'limit', price: 103, quantity: 1, reduceOnly: true });
      },
    });
    const { fast } = compare(backtestSpec(frame, [INSTRUMENTS[0]!]), strategy);
    expect(fast.fills.map((f) => [f.side, f.price])).toEqual([['buy', 98], ['sell', 103]]);
  });

  it('a long whose bar low crosses its liquidation price is liquidated; a short whose bar high crosses it too', () => {
    // 10x at 100 with cash 1050.5: long liquidation at 90 (see liquidation.test.ts); the short mirror is at ~110.
    const X = INSTRUMENTS[0]!;
    const long = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(100), [100, 100, 89.9, 95, 1000], flat(95)] });
    const l = compare(backtestSpec(long, [X], { initialCash: 1050.5, leverage: 20 }), script({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 100 }) })).fast;
    expect(l.liquidations).toBe(1);
    expect(l.fills[1]!.price).toBeCloseTo(90, 9);
    // short 100 at 100 (cash 1045): equity 1045 − 100(x − 100) = maintenance margin 100 · x · 0.005 → x = 11 045 / 100.5 ≈ 109.90
    const x = 11_045 / 100.5;
    const short = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(100), [100, x + 0.01, 100, 105, 1000], flat(105)] });
    const s = compare(backtestSpec(short, [X], { initialCash: 1050.5, leverage: 20 }), script({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'market', quantity: 100 }) })).fast;
    expect(s.liquidations).toBe(1);
    expect(s.fills[1]!.side).toBe('buy');
    expect(s.fills[1]!.price).toBeCloseTo(x, 9);
    // a high a cent below x leaves the short alone
    const safe = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(100), [100, x - 0.01, 100, 105, 1000], flat(105)] });
    expect(compare(backtestSpec(safe, [X], { initialCash: 1050.5, leverage: 20 }), script({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'market', quantity: 100 }) })).fast.liquidations).toBe(0);
  });

  it('a position with a resting order: the liquidation bound still decides when the order is out of range', () => {
    // long 100 at 100 (liquidation at 90) with a take-profit at 120 that no bar reaches: bar 2 falls through 90
    const X = INSTRUMENTS[0]!;
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), [100, 101, 99, 100, 1000], [100, 100, 85, 88, 1000], flat(88)] });
    const strategy = script({
      0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 100 }),
      1: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'limit', price: 120, quantity: 100, reduceOnly: true }),
    });
    const { fast } = compare(backtestSpec(frame, [X], { initialCash: 1050.5, leverage: 20 }), strategy);
    expect(fast.liquidations).toBe(1);
    expect(fast.fills[1]!.price).toBeCloseTo(90, 9);
    // the same with a short and a take-profit below (bar 2 rises through its liquidation price)
    const up = makeFrame({ timeframe: '4h', start, bars: [flat(100), [100, 101, 99, 100, 1000], [100, 115, 100, 112, 1000], flat(112)] });
    const short = script({
      0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'market', quantity: 100 }),
      1: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 80, quantity: 100, reduceOnly: true }),
    });
    const s = compare(backtestSpec(up, [X], { initialCash: 1050.5, leverage: 20 }), short).fast;
    expect(s.liquidations).toBe(1);
    expect(s.fills[1]!.price).toBeCloseTo(11_045 / 100.5, 9);
  });

  it.each([
    ['', false],
    [', each position with a resting take-profit out of range (the range triggers first, then the bound)', true],
  ])('with two instruments, a move of the other mark makes a cached liquidation bound stale%s', (_, takeProfit) => {
    // A (m 0.005) and B (m 0.02) long 50 each at 100: fees 5.5, cash 1065. A falls to 90 at bar 2; B's bar 3 falls to 88.
    // B's liquidation price x with A marked at 90: 1065 + 50(90 − 100) + 50(x − 100) = 50 × 90 × 0.005 + 50 · x · 0.02
    //   → 49x = 4457.5 → x ≈ 90.97 (reached); with A still at 100: 49x = 3960 → x ≈ 80.82 (a stale bound would skip bar 3).
    // With a sell limit at 200 working on each instrument, B's bar 3 goes through the order triggers (which cannot act)
    // before the bound, which must see A's new mark all the same.
    const [A, B] = INSTRUMENTS;
    const frame = makeFrame({
      timeframe: '4h',
      start,
      series: [
        [flat(100), flat(100), [100, 100, 90, 90, 1000], flat(90), flat(90)],
        [flat(100), flat(100), flat(100), [100, 100, 88, 89, 1000], flat(89)],
      ],
    });
    const strategy = script({
      0: (ctx, bar) => {
        ctx.submitOrder({ instrument: bar.instrument, side: 'buy', type: 'market', quantity: 50 });
        if (takeProfit) ctx.submitOrder({ instrument: bar.instrument, side: 'sell', type: 'limit', price: 200, quantity: 50 });
      },
    });
    const { fast } = compare(backtestSpec(frame, [A!, B!], { initialCash: 1070.5, leverage: 20 }), strategy);
    expect(fast.liquidations).toBe(1);
    const liq = fast.fills.filter((f) => f.reason === 'liquidation');
    expect(liq.map((f) => f.instrument)).toEqual([A!.id, B!.id]);
    expect(liq[1]!.price).toBeCloseTo(4457.5 / 49, 9);
  });

  it.each([
    ['buy', 90, [100, 100, 90, 95, 1000]],
    ['sell', 110, [100, 110, 100, 105, 1000]],
  ] as const)('a bar that just touches a resting %s limit fills it: the quiet band is open at its ends', (side, price, touch) => {
    // The limit rests from b1 on; b1 and b2 cannot reach it (quiet bars, skipped by the runner); b3's low (buy) or
    // high (sell) is exactly the limit: it fills as maker at its price.
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(100), flat(100), [...touch], flat(100)] });
    const strategy = script({ 0: (ctx) => void ctx.submitOrder({ instrument: 0, side, type: 'limit', price, quantity: 1 }) });
    const { fast } = compare(backtestSpec(frame, [INSTRUMENTS[0]!]), strategy);
    expect(fast.fills.map((f) => [f.side, f.price, f.liquidity, f.ts])).toEqual([[side, price, 'maker', at('2024-01-01T16:00:00Z')]]);
  });

  it('an instrument without maintenance margin never liquidates, whatever the range', () => {
    const C = INSTRUMENTS[2]!;
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(100), [100, 100, 50, 60, 1000], flat(60)] });
    const { fast } = compare(backtestSpec(frame, [C], { initialCash: 1050.5, leverage: 20 }), script({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 100 }) }));
    expect(fast.liquidations).toBe(0);
    expect(fast.equity.value[3]).toBeCloseTo(1045 - 4000, 9);
  });
});
