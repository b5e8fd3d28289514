import { describe, expect, it } from 'vitest';
import type { StaleInputEvent, StaleSpan } from '../core/bar.js';
import type { BarFrame } from '../data/bar-frame.js';
import type { Kernel } from '../engine/kernel.js';
import type { Strategy, StrategyContext } from '../engine/strategy.js';
import { at, backtestSpec, booked, fundingTable, scriptStrategy, testInstrument, testOrderId, type BarScript } from '../../test/support/engine-scenarios.js';
import { makeFrame, type Ohlcv } from '../../test/support/frames.js';
import { TableFundingModel } from './execution-models.js';
import { computeMetrics, exposure } from './metrics.js';
import { BarStepper, runBacktest, runBacktestWithSignals, type BacktestState } from './run-backtest.js';

// lot 0.001, min notional 5, maker 0.0002, taker 0.00055, no slippage. 4h bars from 00:00: closes 04:00, 08:00 (funding), …
const A = testInstrument({ symbol: 'AAAUSDT' });
const B = testInstrument({ symbol: 'BBBUSDT' });
const start = '2024-01-01T00:00:00Z';
const flat = (p: number): Ohlcv => [p, p, p, p, 1000];

/** A frame whose instrument `i` has no bar at the indices in `absent[i]`. */
function withGaps(frame: BarFrame, absent: readonly (readonly number[])[]): BarFrame {
  const present = frame.present.map((p, i) => {
    const copy = p.slice();
    for (const t of absent[i] ?? []) copy[t] = 0;
    return copy;
  });
  return { ...frame, present };
}

describe('runBacktest: per-bar records', () => {
  it('per-instrument PnL = realised − fees − funding + unrealised at the close', () => {
    // A: buy 1 at the b1 open 100 (fee 0.055); 08:00 funding 1 × 105 × 0.0001 = 0.0105; sell 1 at the b2 open 110
    // (realised 10, fee 0.0605).
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), [100, 106, 99, 105, 1000], [110, 111, 109, 110, 1000], flat(110)] });
    const funding = new TableFundingModel([fundingTable([['2024-01-01T08:00:00Z', 0.0001]])], { kind: 'zero' });
    const strategy = scriptStrategy({
      0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }),
      1: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'market', quantity: 1 }),
    });
    const r = runBacktest(backtestSpec(frame, [A], { funding }), strategy);
    const pnl = Array.from(r.bars[0]!.pnl!);
    expect(pnl[0]).toBe(0);
    expect(pnl[1]).toBeCloseTo(5 - 0.055 - 0.0105, 12);
    expect(pnl[2]).toBeCloseTo(10 - 0.055 - 0.0605 - 0.0105, 12);
    expect(pnl[3]).toBeCloseTo(pnl[2]!, 12);
    for (let t = 0; t < 4; t++) expect(r.equity.value[t]).toBeCloseTo(10_000 + pnl[t]!, 9);
    expect(Array.from(r.equity.ts)).toEqual([at('2024-01-01T04:00:00Z'), at('2024-01-01T08:00:00Z'), at('2024-01-01T12:00:00Z'), at('2024-01-01T16:00:00Z')]);
    expect(Array.from(r.bars[0]!.position)).toEqual([0, 1, 0, 0]);
    expect(r.fundingPaid).toBeCloseTo(0.0105, 12);
    // The account at the end, as the engine booked it: flat, realised 10, both fees, the one payment.
    expect(r.positions).toEqual([{ instrument: A.id, quantity: 0, entryPrice: 0, realizedPnl: 10, fees: expect.closeTo(0.055 + 0.0605, 12), funding: expect.closeTo(0.0105, 12) }]);
  });

  it('an instrument without a bar at a time: no venue path, no mark, no bar to the strategy', () => {
    // B has no bar 2 (its values there, 90, must never be used). Long 1 of B from the bar 1 open; a buy limit at 95
    // sent at the bar 1 close would fill on bar 2's path (low 90) if it ran.
    const frame = withGaps(makeFrame({ timeframe: '4h', start, series: [[flat(100), flat(100), flat(100), flat(100)], [flat(100), flat(100), flat(90), flat(100)]] }), [[], [2]]);
    const strategy = scriptStrategy({
      0: (ctx, bar) => void (bar.instrument === 1 && ctx.submitOrder({ instrument: 1, side: 'buy', type: 'market', quantity: 1 })),
      1: (ctx, bar) => void (bar.instrument === 1 && ctx.submitOrder({ instrument: 1, side: 'buy', type: 'limit', price: 95, quantity: 1 })),
    });
    const r = runBacktest(backtestSpec(frame, [A, B]), strategy);
    expect(strategy.seen.map((s) => [s.instrument, s.index])).toEqual([[0, 0], [1, 0], [0, 1], [1, 1], [0, 2], [0, 3], [1, 2]]);
    expect(r.fills.map((f) => [f.instrument, f.ts, f.price])).toEqual([[B.id, at('2024-01-01T04:00:00Z'), 100]]);
    // B's mark stays at 100 through its missing bar: PnL is the entry fee only
    expect(Array.from(r.bars[1]!.pnl!)).toEqual([0, -0.055, -0.055, -0.055].map((x) => expect.closeTo(x, 12)));
    expect(r.equity.value[2]).toBeCloseTo(10_000 - 0.055, 9);
  });

  it('a single instrument without a bar at a time: no venue path, no mark, no bar (the one-instrument loop)', () => {
    // The same as above with B alone: its bar 2 (low 90, close 90) must not fill the limit at 95 nor mark the long.
    const frame = withGaps(makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(100), flat(90), flat(100)] }), [[2]]);
    const strategy = scriptStrategy({
      0: (ctx) => void ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }),
      1: (ctx) => void ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 95, quantity: 1 }),
    });
    const r = runBacktest(backtestSpec(frame, [B]), strategy);
    expect(strategy.seen.map((s) => [s.instrument, s.index])).toEqual([[0, 0], [0, 1], [0, 2]]);
    expect(r.fills.map((f) => [f.instrument, f.ts, f.price])).toEqual([[B.id, at('2024-01-01T04:00:00Z'), 100]]);
    expect(Array.from(r.bars[0]!.pnl!)).toEqual([0, -0.055, -0.055, -0.055].map((x) => expect.closeTo(x, 12)));
    expect(r.equity.value[2]).toBeCloseTo(10_000 - 0.055, 9);
  });

  it('an order filled on the path of its instrument\'s first bar (before any mark) is valued at its entry: no liquidation', () => {
    // B starts a bar late; the buy sent at A's first close fills at B's first open, before B's close marks it.
    const frame = withGaps(makeFrame({ timeframe: '4h', start, series: [[flat(100), flat(100), flat(100)], [flat(50), [100, 102, 97, 101, 1000], flat(101)]] }), [[], [0]]);
    const strategy = scriptStrategy({ 0: (ctx, bar) => void (bar.instrument === 0 && ctx.submitOrder({ instrument: 1, side: 'buy', type: 'market', quantity: 10 })) });
    const r = runBacktest(backtestSpec(frame, [A, B]), strategy);
    expect(r.liquidations).toBe(0);
    expect(r.fills.map((f) => [f.instrument, f.ts, f.price, f.quantity])).toEqual([[B.id, at('2024-01-01T04:00:00Z'), 100, 10]]);
    expect(r.equity.value[1]).toBeCloseTo(10_000 - 0.55 + 10, 9); // fee 10 × 100 × 0.00055; marked at the close 101
    // before its first bar B has no mark and no position: its PnL is 0, not NaN
    expect(Array.from(r.bars[1]!.pnl!)).toEqual([0, expect.closeTo(10 - 0.55, 9), expect.closeTo(10 - 0.55, 9)]);
  });
});

describe('runBacktest: spec options', () => {
  const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(100), flat(100), flat(100), flat(100)] });
  const buy: BarScript = { 0: (ctx) => void ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }) };

  it('the run id goes into the client order ids', () => {
    const r = runBacktest(backtestSpec(frame, [A], { runId: 'r7' }), scriptStrategy(buy));
    expect(r.fills[0]!.clientOrderId).toMatch(/^r7_test_0_/);
  });

  it('a funding model without reset() is fine; one with reset() is reset, so a spec runs twice alike', () => {
    const rates: number[] = [];
    const plain = { rate: (_i: number, ts: number) => (rates.push(ts), { rate: 0.0001, source: 'table' as const }) };
    const r = runBacktest(backtestSpec(frame, [A], { funding: plain }), scriptStrategy(buy));
    expect(rates).toEqual([at('2024-01-01T08:00:00Z'), at('2024-01-01T16:00:00Z')]);
    expect(r.fundingPaid).toBeCloseTo(2 * 100 * 0.0001, 12);
    const spec = backtestSpec(frame, [A], { funding: new TableFundingModel([fundingTable([])], { kind: 'zero' }) });
    const first = runBacktest(spec, scriptStrategy(buy));
    const second = runBacktest(spec, scriptStrategy(buy));
    expect(second.notes).toEqual(first.notes);
    expect(second.notes[0]).toMatch(/: 2 settlements from/);
  });

  it('an empty frame gives an empty result', () => {
    const empty = makeFrame({ timeframe: '4h', start, bars: [] });
    let started = 0;
    const r = runBacktest(backtestSpec(empty, [A], { warmupBars: 2 }), { name: 'test', onStart: () => void started++ });
    expect(started).toBe(1);
    expect(r.equity.value.length).toBe(0);
    expect(r.fills).toEqual([]);
    expect(r.notes).toEqual([]);
  });
});

describe('runBacktest: hooks, timers, stop and resume', () => {
  const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), [100, 102, 99, 101, 1000], [101, 103, 100, 102, 1000], [102, 104, 101, 103, 1000], [103, 103, 97, 98, 1000], flat(98)] });

  it('beforeBar sees each bar open before its path; inspect sees the kernel once, at the end', () => {
    const opens: number[] = [];
    const inspected: Kernel[] = [];
    const strategy = scriptStrategy({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }) });
    runBacktest(backtestSpec(frame, [A]), strategy, {
      beforeBar: (kernel, tsOpen) => void opens.push(tsOpen, kernel.portfolio.quantity[0]!),
      inspect: (kernel) => void inspected.push(kernel),
    });
    // the market order fills on bar 1's path, after beforeBar(bar 1)
    expect(opens).toEqual(Array.from(frame.ts).flatMap((ts, t) => [ts, t <= 1 ? 0 : 1]));
    expect(inspected).toHaveLength(1);
    expect(inspected[0]!.portfolio.quantity[0]).toBe(1);
  });

  it('the fill and trade records are built on first read, once, from the run as it ended (later kernel bookings are not in them)', () => {
    const inspected: Kernel[] = [];
    const strategy = scriptStrategy({
      0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }),
      2: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'market', quantity: 1 }),
    });
    const r = runBacktest(backtestSpec(frame, [A]), strategy, { inspect: (kernel) => void inspected.push(kernel) });
    const kernel = inspected[0]!;
    // Booked after the result was built: one more fill, and one more closed round trip.
    kernel.fillLog.push({ instrument: 0, clientOrderId: 'late', side: 'buy', quantity: 1, price: 100, fee: 0, liquidity: 'taker', tsEvent: 1, tsInit: 1 });
    kernel.tracker.onFill(booked(0, 1, 100, 0, 1), 0, 1, 0);
    kernel.tracker.onFill(booked(0, -1, 101, 0, 2), 1, 0, 1);
    expect(kernel.fillLog.length).toBe(3);
    expect(kernel.tracker.closedCount).toBe(2);
    expect(r.fills.map((f) => [f.side, f.quantity, f.price])).toEqual([['buy', 1, 100], ['sell', 1, 102]]);
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({ instrument: A.id, direction: 'long', entryPrice: 100, exitPrice: 102, quantity: 1 });
    expect(r.fills).toBe(r.fills);
    expect(r.trades).toBe(r.trades);
    // Read like data: JSON and spreads carry them.
    const json = JSON.parse(JSON.stringify(r)) as { fills: unknown[]; trades: unknown[] };
    expect(json.fills).toEqual(r.fills);
    expect(json.trades).toEqual(r.trades);
    expect({ ...r }.fills).toBe(r.fills);
  });

  it('a timer fires at its time, before the bar that closes then reaches the strategy', () => {
    const log: string[] = [];
    const strategy: Strategy = {
      name: 'test',
      onBar(ctx, bar) {
        log.push(`bar ${bar.index}`);
        if (bar.index === 0) ctx.setTimer('wake', at('2024-01-01T12:00:00Z'));
      },
      onTimer: (ctx, name) => void log.push(`timer ${name} ${new Date(ctx.now()).toISOString()}`),
    };
    runBacktest(backtestSpec(frame, [A]), strategy);
    expect(log).toEqual(['bar 0', 'bar 1', 'timer wake 2024-01-01T12:00:00.000Z', 'bar 2', 'bar 3', 'bar 4', 'bar 5']);
  });

  /** Long 1 at bar 1, a resting take-profit at 103.5 (fills in bar 3), a stop-and-reverse market at bar 3's close. */
  const trader = (): Strategy & { stops: number } => {
    const s = {
      name: 'test',
      stops: 0,
      onBar(ctx: StrategyContext, bar: { index: number }) {
        if (bar.index === 0) {
          ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 });
          ctx.submitOrder({ instrument: 0, side: 'sell', type: 'limit', price: 103.5, quantity: 1, reduceOnly: true });
        }
        if (bar.index === 3) ctx.submitOrder({ instrument: 0, side: 'sell', type: 'market', quantity: 2 });
      },
      onStop() {
        s.stops++;
      },
    };
    return s;
  };

  it('stopped before a bar and resumed from the saved JSON state: the uninterrupted run’s fills, funding and equity', () => {
    const funding = () => new TableFundingModel([fundingTable([])], { kind: 'constant', rate: 0.001 });
    const full = runBacktest(backtestSpec(frame, [A], { funding: funding() }), trader());
    expect(full.fills.map((f) => [f.side, f.price])).toEqual([['buy', 100], ['sell', 103.5], ['sell', 103]]);
    expect(full.funding.map((f) => f.ts)).toEqual([at('2024-01-01T08:00:00Z'), at('2024-01-02T00:00:00Z')]); // flat at the 16:00 close (take-profit in bar 3)
    expect(full.state).toBeUndefined();
    for (const stop of [1, 2, 3, 4, 5]) {
      const first = trader();
      const part = runBacktest(backtestSpec(frame, [A], { funding: funding() }), first, { stopBefore: stop });
      expect(first.stops).toBe(0);
      expect(part.equity.value.subarray(stop).every((v) => v === 0)).toBe(true);
      const state = JSON.parse(JSON.stringify(part.state)) as BacktestState;
      expect(state.nextBar).toBe(stop);
      const second = trader();
      const rest = runBacktest(backtestSpec(frame, [A], { funding: funding() }), second, { resume: state });
      expect(second.stops).toBe(1);
      expect([...part.fills, ...rest.fills], `stop ${stop}`).toEqual(full.fills);
      expect([...part.funding, ...rest.funding], `stop ${stop}`).toEqual(full.funding);
      expect(Array.from(rest.equity.value.subarray(stop)), `stop ${stop}`).toEqual(Array.from(full.equity.value.subarray(stop)));
      // Exposure counted from the records, as the metrics take it: the count over the position columns, each part alone.
      for (const r of [part, rest]) expect(r.exposedBars, `stop ${stop}`).toBe(Array.from(r.bars[0]!.position).filter((q) => q !== 0).length);
    }
    expect(full.exposedBars).toBe(4); // long 1 at the closes of bars 1 and 2, flat at 3 (take-profit), short 2 at 4 and 5
    expect(computeMetrics(full).exposure).toBe(exposure(full.bars.map((b) => b.position)));
    const warm = runBacktest(backtestSpec(frame, [A], { funding: funding(), warmupBars: 2 }), trader());
    expect(warm.exposedBars).toBe(Array.from(warm.bars[0]!.position).filter((q) => q !== 0).length);
  });

  it('a run stopped before its first bar hands back the start state; one stopped at the end needs no state', () => {
    const none = runBacktest(backtestSpec(frame, [A]), trader(), { stopBefore: 0 });
    expect(none.state!.nextBar).toBe(0);
    expect(none.fills).toEqual([]);
    const all = runBacktest(backtestSpec(frame, [A]), trader(), { stopBefore: 99 });
    expect(all.state).toBeUndefined();
  });

  it('resumed inside the warm-up: still warming up (orders held back) until the window', () => {
    const spec = backtestSpec(frame, [A], { warmupBars: 3 });
    const ids: string[] = [];
    const strategy = (): Strategy => ({ name: 'test', onBar: (ctx) => void ids.push(ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 50, quantity: 1 })) });
    const part = runBacktest(spec, strategy(), { stopBefore: 1 });
    runBacktest(spec, strategy(), { resume: JSON.parse(JSON.stringify(part.state)) as BacktestState });
    expect(ids.map((id) => id !== '')).toEqual([false, false, false, true, true, true]);
  });
});

describe('runBacktest: the warm-up ends at the window\'s first close', () => {
  /** Arms timers at the closes of bar 2 (warm-up) and bar 3 (window) unless already past; each sends a market buy. */
  const timed = (ids: string[]): Strategy => ({
    name: 'test',
    onStart(ctx) {
      for (const [name, iso] of [['warm', '2024-01-01T12:00:00Z'], ['window', '2024-01-01T16:00:00Z']] as const) if (at(iso) > ctx.now()) ctx.setTimer(name, at(iso));
    },
    onTimer: (ctx, name) => void ids.push(`${name} ${ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 })}`),
  });

  it('a timer at the window\'s first close trades; stopped exactly at the warm-up bar and resumed, the uninterrupted run', () => {
    // 6 bars, warm-up 3: the window opens at bar 3's close (16:00); bar 4 opens at 103.
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(101), flat(102), flat(103), flat(103), flat(104)] });
    const spec = backtestSpec(frame, [A], { warmupBars: 3 });
    const fullIds: string[] = [];
    const full = runBacktest(spec, timed(fullIds));
    // the warm-up timer's order is held (id ''); the window's is sent and fills at bar 4's open
    expect(fullIds).toEqual(['warm ', `window ${testOrderId('2024-01-01T16:00:00Z')}`]);
    expect(full.fills.map((f) => [f.ts, f.price])).toEqual([[at('2024-01-01T16:00:00Z'), 103]]);
    const part = runBacktest(spec, timed([]), { stopBefore: 3 });
    const restIds: string[] = [];
    const rest = runBacktest(spec, timed(restIds), { resume: JSON.parse(JSON.stringify(part.state)) as BacktestState });
    expect(restIds).toEqual([`window ${testOrderId('2024-01-01T16:00:00Z')}`]); // resumed at 12:00: only the window timer is armed
    expect([...part.fills, ...rest.fills]).toEqual(full.fills);
    expect(Array.from(rest.equity.value)).toEqual(Array.from(full.equity.value));
  });
});

describe('BarStepper', () => {
  const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(101), flat(102)] });

  it('bar is −1 before the first next(); finish() commits a bar left open (its orders reach the venue)', () => {
    const ids: string[] = [];
    const stepper = new BarStepper(backtestSpec(frame, [A]), scriptStrategy({ 1: (ctx) => void ids.push(ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 90, quantity: 1 })) }));
    expect(stepper.bar).toBe(-1);
    stepper.next();
    stepper.commit();
    expect(stepper.bar).toBe(0);
    // commit() hands the bar's commands to the venue at once: the order is answered before the next bar
    let ctx: StrategyContext | undefined;
    let id = '';
    const answered = new BarStepper(backtestSpec(frame, [A]), { name: 'test', onBar: (c, bar) => void (bar.index === 0 && (ctx = c, id = c.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 90, quantity: 1 }))) });
    answered.next();
    expect(ctx!.order(id)!.status).toBe('SUBMITTED');
    answered.commit();
    expect(ctx!.order(id)!.status).toBe('ACCEPTED');
    expect(stepper.bar).toBe(0);
    stepper.next();
    expect(stepper.bar).toBe(1);
    const r = stepper.finish();
    expect(r.notes).toEqual([]);
    expect(r.equity.value[1]).toBe(10_000);
    expect(r.equity.ts[1]).toBe(at('2024-01-01T08:00:00Z'));
  });

  it('refuses out-of-order calls with invalid_state errors naming the bar', () => {
    const stepper = new BarStepper(backtestSpec(frame, [A]), scriptStrategy({}));
    const error = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as { code: string; context: unknown; message: string };
      }
      throw new Error('expected a throw');
    };
    expect(error(() => stepper.commit())).toMatchObject({ code: 'invalid_state', context: {}, message: 'BarStepper: no bar to commit (call next first)' });
    stepper.next();
    expect(error(() => stepper.next())).toMatchObject({ code: 'invalid_state', context: { bar: 0 }, message: 'BarStepper: bar 0 must be committed before the next one' });
  });

  it('next() returns false once every bar ran', () => {
    const stepper = new BarStepper(backtestSpec(frame, [A]), scriptStrategy({}));
    let n = 0;
    while (stepper.next()) {
      stepper.commit();
      n++;
    }
    expect(n).toBe(3);
    expect(stepper.next()).toBe(false);
  });
});

describe('runBacktestWithSignals', () => {
  const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(101), flat(102), flat(103)] });

  it('forwards new stale events to the strategy before the bar, answers in place or by promise, notes the stale spans', async () => {
    const stale: StaleInputEvent[] = [{ instrument: 0, input: 'funding', lastValueTs: at('2023-12-31T16:00:00Z'), barTs: 0 }];
    const spans: StaleSpan[] = [
      { instrument: 0, input: 'funding', from: at('2024-01-01T04:00:00Z'), to: at('2024-01-01T12:00:00Z'), lastValueTs: at('2023-12-31T16:00:00Z') },
      { instrument: 0, input: 'dvol', from: at('2024-01-01T12:00:00Z'), to: NaN, lastValueTs: at('2024-01-01T00:00:00Z') },
    ];
    const stage = {
      staleEvents: stale,
      onBars(t: number, _present: readonly Uint8Array[], out: readonly Float64Array[]) {
        if (t % 2 === 0) out[0]![t] = t + 0.5;
        if (t === 1) stale.push({ instrument: 0, input: 'dvol', lastValueTs: at('2024-01-01T00:00:00Z'), barTs: at('2024-01-01T08:00:00Z') });
        if (t === 2) stale.push({ instrument: 0, input: 'reference', lastValueTs: 1, barTs: 2 }, { instrument: 0, input: 'funding', lastValueTs: 3, barTs: 4 });
        // odd bars answer later: the value is written only after a microtask (the runner must await it)
        return t % 2 === 0 ? undefined : Promise.resolve().then(() => void (out[0]![t] = t + 0.5));
      },
      staleSpans: () => spans,
    };
    const log: string[] = [];
    const strategy: Strategy = {
      name: 'test',
      onBar: (ctx, bar) => void log.push(`bar ${bar.index} ${ctx.history(0).columns['signal']![bar.index]}`),
      onStaleInput: (_ctx, e) => void log.push(`stale ${e.input}`),
    };
    const r = await runBacktestWithSignals(backtestSpec(frame, [A]), strategy, { stage, column: 'signal' });
    // the event already there when the run started is not forwarded again
    expect(log).toEqual(['bar 0 0.5', 'stale dvol', 'bar 1 1.5', 'stale reference', 'stale funding', 'bar 2 2.5', 'bar 3 3.5']);
    expect(r.notes).toEqual([
      `stale input funding for ${A.id}: from 2024-01-01T04:00:00.000Z to 2024-01-01T12:00:00.000Z (last value 2023-12-31T16:00:00.000Z): its features were NaN`,
      `stale input dvol for ${A.id}: from 2024-01-01T12:00:00.000Z to the end (last value 2024-01-01T00:00:00.000Z): its features were NaN`,
    ]);
    expect(r.equity.value.length).toBe(4);
  });

  it('a stage without stale reporting: no notes; stops and resumes like runBacktest', async () => {
    const stage = { onBars: (t: number, _p: readonly Uint8Array[], out: readonly Float64Array[]) => void (out[0]![t] = t) };
    const part = await runBacktestWithSignals(backtestSpec(frame, [A]), scriptStrategy({}), { stage, column: 'signal' }, { stopBefore: 2 });
    expect(part.state!.nextBar).toBe(2);
    expect(part.notes).toEqual([]);
  });
});

describe('result notes', () => {
  const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(100), flat(100), flat(100)] });

  it('lists the first 20 rejected orders and counts the rest', () => {
    // 25 post-only buys above the mark: each rejected on arrival
    const script: BarScript = { 0: (ctx) => { for (let k = 0; k < 25; k++) ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 101, quantity: 1, postOnly: true }); } };
    const r = runBacktest(backtestSpec(frame, [A]), scriptStrategy(script));
    const rejected = r.notes.filter((n) => n.startsWith('order '));
    expect(rejected).toHaveLength(20);
    expect(rejected[0]).toMatch(/^order \S+ rejected at 2024-01-01T04:00:00.000Z: post-only buy limit 101 would take liquidity at mark 100$/);
    expect(r.notes.at(-1)).toBe('… and 5 more rejected orders');
  });

  it('exactly 20 rejected orders: all listed, no count', () => {
    const script: BarScript = { 0: (ctx) => { for (let k = 0; k < 20; k++) ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 101, quantity: 1, postOnly: true }); } };
    const r = runBacktest(backtestSpec(frame, [A]), scriptStrategy(script));
    expect(r.notes.filter((n) => n.startsWith('order '))).toHaveLength(20);
    expect(r.notes.some((n) => n.startsWith('…'))).toBe(false);
  });

  it('notes the funding fallback per instrument (constant or zero rate) and the liquidations', () => {
    // long 1 of A and B over the 08:00 and 16:00 settlements; neither table has them
    const two = makeFrame({ timeframe: '4h', start, series: [[flat(100), flat(100), flat(100), flat(100), flat(100)], [flat(100), flat(100), flat(100), flat(100), flat(100)]] });
    const script: BarScript = { 0: (ctx, bar) => void ctx.submitOrder({ instrument: bar.instrument, side: 'buy', type: 'market', quantity: 1 }) };
    const constant = runBacktest(backtestSpec(two, [A, B], { funding: new TableFundingModel([fundingTable([]), null], { kind: 'constant', rate: 0.0002 }) }), scriptStrategy(script));
    expect(constant.notes).toEqual([`funding fallback for ${A.id}: 2 settlements from 2024-01-01T08:00:00.000Z to 2024-01-01T16:00:00.000Z had no funding data; applied a constant rate of 0.0002 per 8h`]);
    const zero = runBacktest(backtestSpec(two, [A, B], { funding: new TableFundingModel([null, fundingTable([['2024-01-01T08:00:00Z', 0.0001]])], { kind: 'zero' }) }), scriptStrategy(script));
    expect(zero.notes).toEqual([`funding fallback for ${B.id}: 1 settlements from 2024-01-01T16:00:00.000Z to 2024-01-01T16:00:00.000Z had no funding data; applied a zero rate`]);
  });

  it('notes risk denials and returns the risk summary; a run without risk activity has none', () => {
    const script: BarScript = { 0: (ctx) => { ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 10 }); ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }); } };
    const r = runBacktest(backtestSpec(frame, [A], { risk: { maxOrderNotional: 500 } }), scriptStrategy(script));
    expect(r.fills.map((f) => f.quantity)).toEqual([1]);
    expect(r.risk!.denials).toEqual({ max_order_notional: 1 });
    expect(r.notes.filter((n) => n.startsWith('risk:'))).toEqual(['risk: 1 order(s) denied before reaching the venue (max_order_notional 1)']);
    const calm = runBacktest(backtestSpec(frame, [A], { risk: { maxOrderNotional: 500 } }), scriptStrategy({ 0: (ctx) => void ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }) }));
    expect('risk' in calm).toBe(false); // absent, not undefined: the result's JSON has no risk key
    expect(calm.notes).toEqual([]);
  });
});

describe('result: risk state changes and flattens', () => {
  it('a drawdown beyond the limit: REDUCING, the working order canceled, the position flattened; noted and returned', () => {
    // Long 10 at 100 (fee 10 × 100 × 0.00055 = 0.55) and a buy limit at 30 that never fills. Peak equity 10 000 at
    // the bar 0 close; at the bar 2 close (12:00) equity is 10 000 − 0.55 + 10 × (40 − 100) = 9 399.45, a drawdown of
    // 600.55 / 10 000 = 0.060055 > 0.05. The flatten's sell of 10 fills at bar 3's open, 40.
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(100), [100, 100, 40, 40, 1000], flat(40), flat(40)] });
    const strategy = scriptStrategy({
      0: (ctx) => {
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 10 });
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 30, quantity: 1 });
      },
    });
    const r = runBacktest(backtestSpec(frame, [A], { risk: { maxDrawdown: 0.05 } }), strategy);
    const noon = at('2024-01-01T12:00:00Z');
    const limit = testOrderId('2024-01-01T04:00:00Z', 1), flatten = testOrderId('2024-01-01T12:00:00Z');
    expect(r.fills.map((f) => [f.ts, f.side, f.quantity, f.price, f.clientOrderId])).toEqual([
      [at('2024-01-01T04:00:00Z'), 'buy', 10, 100, testOrderId('2024-01-01T04:00:00Z')],
      [noon, 'sell', 10, 40, flatten], // bar 3 opens at 12:00, the time the flatten was sent
    ]);
    expect(Array.from(r.bars[0]!.position)).toEqual([0, 10, 10, 0, 0]);
    const reason = 'max_drawdown 0.05 < 0.060055: equity 9399.45 is below the peak 10000; every position is flattened';
    expect(r.risk).toEqual({
      denials: {},
      stateChanges: [{ ts: noon, from: 'ACTIVE', to: 'REDUCING', trigger: 'max_drawdown', reason }],
      flattens: [{ ts: noon, reason: 'risk: max_drawdown 0.05 < 0.060055', canceled: [limit], orders: [flatten] }],
    });
    // nothing was denied: no denial note
    expect(r.notes).toEqual([
      `risk: trading state ACTIVE -> REDUCING at 2024-01-01T12:00:00.000Z (max_drawdown): ${reason}`,
      'risk: flattened at 2024-01-01T12:00:00.000Z (risk: max_drawdown 0.05 < 0.060055): 1 working order(s) canceled, 1 reduce-only market order(s) sent',
    ]);
  });

  it('denials of several rules are noted per rule, comma-separated', () => {
    // At the bar 0 close (mark 100): 10 × 100 = 1000 > 500 per order; then 4 (400) passes; then 5 makes the
    // instrument's working notional 400 + 500 = 900 > 800.
    const frame = makeFrame({ timeframe: '4h', start, bars: [flat(100), flat(100)] });
    const script: BarScript = { 0: (ctx) => { for (const quantity of [10, 4, 5]) ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity }); } };
    const r = runBacktest(backtestSpec(frame, [A], { risk: { maxOrderNotional: 500, maxInstrumentNotional: 800 } }), scriptStrategy(script));
    expect(r.fills.map((f) => f.quantity)).toEqual([4]);
    expect(r.notes.filter((n) => n.startsWith('risk:'))).toEqual(['risk: 2 order(s) denied before reaching the venue (max_order_notional 1, max_instrument_notional 1)']);
  });

  it('notes the first 20 state changes and flattens and counts the rest', () => {
    // Before bar k opens (engine time = its open), by hand: HALTED (k even) or ACTIVE (k odd), then a flatten with
    // nothing to close: n bars make n changes and n flattens.
    const changeNote = (k: number) => `risk: trading state ${k % 2 === 0 ? 'ACTIVE -> HALTED' : 'HALTED -> ACTIVE'} at ${new Date(at(start) + k * 4 * 3_600_000).toISOString()} (manual): hand ${k}`;
    const flattenNote = (k: number) => `risk: flattened at ${new Date(at(start) + k * 4 * 3_600_000).toISOString()} (hand ${k}): 0 working order(s) canceled, 0 reduce-only market order(s) sent`;
    for (const n of [20, 23]) {
      const frame = makeFrame({ timeframe: '4h', start, bars: Array.from({ length: n }, () => flat(100)) });
      const r = runBacktest(backtestSpec(frame, [A]), scriptStrategy({}), {
        beforeBar(kernel, tsOpen) {
          const k = (tsOpen - at(start)) / (4 * 3_600_000);
          kernel.setTradingState(k % 2 === 0 ? 'HALTED' : 'ACTIVE', `hand ${k}`);
          kernel.flattenAll(`hand ${k}`);
        },
      });
      const first = Array.from({ length: 20 }, (_, k) => k);
      expect(r.notes, `${n} bars`).toEqual([
        ...first.map(changeNote),
        ...(n > 20 ? [`risk: … and ${n - 20} more trading state changes`] : []),
        ...first.map(flattenNote),
        ...(n > 20 ? [`risk: … and ${n - 20} more flattens`] : []),
      ]);
      expect(r.risk!.stateChanges.map((c) => c.reason)).toEqual(Array.from({ length: n }, (_, k) => `hand ${k}`));
      expect(r.risk!.flattens.map((f) => f.reason)).toEqual(Array.from({ length: n }, (_, k) => `hand ${k}`));
    }
  });
});

describe('annotations and the warm-up window', () => {
  const frame = makeFrame({ timeframe: '4h', start, series: [[flat(100), flat(101), flat(102), flat(103), flat(104)], [flat(50), flat(51), flat(52), flat(53), flat(54)]] });

  it('tiers and regimes before the window are dropped; the tier in force opens the window; bars are cut', () => {
    // warm-up 2 bars: the window starts at the bar 2 close (12:00)
    const strategy: Strategy = {
      name: 'test',
      onBar(ctx, bar) {
        const i = bar.instrument;
        if (i === 0 && bar.index === 0) ctx.annotateTier?.(0, 'OLD', 'warm');
        if (i === 0 && bar.index === 1) ctx.annotateTier?.(0, 'KELLY', 'warm');
        if (i === 1 && bar.index === 1) ctx.annotateTier?.(1, 'HALF', 'warm');
        if (i === 1 && bar.index === 2) ctx.annotateTier?.(1, 'FULL', 'window'); // at the window start: replaces the opening tier
        if (i === 0 && bar.index === 3) ctx.annotateTier?.(0, 'NONE', 'late');
        if (i === 0) ctx.annotateRegime?.(0, ['bull', 'bear'], [bar.index / 10, 1 - bar.index / 10]);
      },
    };
    const r = runBacktest(backtestSpec(frame, [A, B], { warmupBars: 2 }), strategy);
    const noon = at('2024-01-01T12:00:00Z');
    expect(r.annotations!.tiers).toEqual([
      { instrument: A.id, ts: noon, tier: 'KELLY', reason: 'warm' },
      { instrument: B.id, ts: noon, tier: 'FULL', reason: 'window' },
      { instrument: A.id, ts: at('2024-01-01T16:00:00Z'), tier: 'NONE', reason: 'late' },
    ]);
    const regime = r.annotations!.regimeProbabilities![0]!;
    expect(regime.instrument).toBe(A.id);
    expect(Array.from(regime.ts)).toEqual([noon, at('2024-01-01T16:00:00Z'), at('2024-01-01T20:00:00Z')]);
    expect(regime.probabilities.map((p) => Array.from(p))).toEqual([[0.2, 0.3, 0.4], [0.8, 0.7, 0.6]]);
    expect(Array.from(r.bars[1]!.open)).toEqual([52, 53, 54]);
    expect(Array.from(r.bars[0]!.ts)).toEqual([at('2024-01-01T08:00:00Z'), noon, at('2024-01-01T16:00:00Z')]);
    expect(Array.from(r.equity.ts)).toEqual([noon, at('2024-01-01T16:00:00Z'), at('2024-01-01T20:00:00Z')]);
  });

  it('the tiers in force when the window opens start it in instrument order, not in the order they were set', () => {
    // warm-up 3 bars: C sets its tier at bar 0, B at bar 1, A at bar 2; the window opens at the bar 3 close (16:00)
    const C = testInstrument({ symbol: 'CCCUSDT' });
    const frame3 = makeFrame({ timeframe: '4h', start, series: [0, 1, 2].map(() => [flat(100), flat(100), flat(100), flat(100)]) });
    const strategy: Strategy = { name: 'test', onBar: (ctx, bar) => void (bar.index === 2 - bar.instrument && ctx.annotateTier?.(bar.instrument, `T${bar.instrument}`, 'warm')) };
    const r = runBacktest(backtestSpec(frame3, [A, B, C], { warmupBars: 3 }), strategy);
    const open = at('2024-01-01T16:00:00Z');
    expect(r.annotations!.tiers).toEqual([A, B, C].map((x, i) => ({ instrument: x.id, ts: open, tier: `T${i}`, reason: 'warm' })));
  });

  it('without a warm-up every annotation is kept; without annotations there are none', () => {
    const strategy: Strategy = { name: 'test', onBar: (ctx, bar) => void (bar.index === 0 && bar.instrument === 0 && ctx.annotateTier?.(0, 'T', 'r')) };
    const r = runBacktest(backtestSpec(frame, [A, B]), strategy);
    expect(r.annotations).toEqual({ tiers: [{ instrument: A.id, ts: at('2024-01-01T04:00:00Z'), tier: 'T', reason: 'r' }] });
    expect(runBacktest(backtestSpec(frame, [A, B]), scriptStrategy({})).annotations).toBeUndefined();
  });
});
