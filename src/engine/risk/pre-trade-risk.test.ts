import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../backtest/run-backtest.js';
import type { OrderRequest, OrderSnapshot } from '../../core/order.js';
import { backtestSpec, testInstrument, booked, testOrderId } from '../../../test/support/engine-scenarios.js';
import { makeFrame, type Ohlcv } from '../../../test/support/frames.js';
import { garbageCollectionsDuring } from '../../../test/support/gc.js';
import { TestClock } from '../clock.js';
import { Kernel } from '../kernel.js';
import { OrderManager } from '../order-manager.js';
import { Portfolio } from '../portfolio.js';
import { PreTradeRisk, type RiskState } from './pre-trade-risk.js';
import { DAY_MS } from '../../core/time.js';
import type { BarEvent, Strategy } from '../strategy.js';
import { RiskError, type RiskLimits } from './risk-limits.js';
import type { TradingState, TradingStateChange } from './trading-state.js';

/** `n` 4h bars from 2024-01-01 00:00 UTC, all at `price` unless `bars` replaces some (index → bar). */
function frame(n: number, price = 100, bars: Record<number, Ohlcv> = {}) {
  return makeFrame({ timeframe: '4h', start: '2024-01-01T00:00:00Z', bars: Array.from({ length: n }, (_, k) => bars[k] ?? ([price, price, price, price, 1e9] as const)) });
}

const buy = (quantity: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({ instrument: 0, side: 'buy', type: 'market', quantity, ...extra });
const sell = (quantity: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({ instrument: 0, side: 'sell', type: 'market', quantity, ...extra });

/**
 * Runs a scripted strategy (`script[bar index](kernel, bar)`; the context is the kernel) over `bars` with `limits`;
 * returns the result, every rejection the strategy heard and every state change it was told about.
 */
function run(bars: ReturnType<typeof frame>, limits: RiskLimits | undefined, script: Record<number, (k: Kernel, bar: BarEvent) => void>) {
  const rejected: OrderSnapshot[] = [];
  const changes: TradingStateChange[] = [];
  const strategy: Strategy = {
    name: 'test',
    onBar: (ctx, bar) => script[bar.index]?.(ctx as Kernel, bar),
    onOrderRejected: (_, order) => void rejected.push(order),
    onTradingStateChanged: (_, change) => void changes.push(change),
  };
  const result = runBacktest(backtestSpec(bars, [testInstrument()], limits ? { risk: limits } : {}), strategy);
  return { result, rejected, changes };
}

/** Submits `request` and returns the order's status and reason right after. */
function submit(k: Kernel, request: OrderRequest) {
  const id = k.submitOrder(request);
  const o = k.order(id)!;
  return { id, status: o.status, reason: o.reason };
}

describe('pre-trade risk: order rules (each denies past its limit, passes at and below it)', () => {
  it('max_order_notional: market orders at the mark, limit orders at their price', () => {
    const seen: ReturnType<typeof submit>[] = [];
    const { result, rejected } = run(frame(3), { maxOrderNotional: 1000, maxDrawdown: null }, {
      0: (k) => {
        seen.push(submit(k, buy(9.999)), submit(k, buy(10)), submit(k, buy(10.001)));
        seen.push(submit(k, buy(12.5, { type: 'limit', price: 80 })), submit(k, buy(12.501, { type: 'limit', price: 80 })));
      },
    });
    expect(seen.map((s) => s.status)).toEqual(['SUBMITTED', 'SUBMITTED', 'REJECTED', 'SUBMITTED', 'REJECTED']);
    expect(seen[2]!.reason).toBe('risk: max_order_notional 1000 < 1000.1');
    expect(seen[4]!.reason).toBe('risk: max_order_notional 1000 < 1000.08');
    // the strategy heard both denials; the venue never saw them (two market orders filled, 19.999 in all)
    expect(rejected.map((o) => o.clientOrderId)).toEqual([seen[2]!.id, seen[4]!.id]);
    expect(result.fills.map((f) => f.quantity)).toEqual([9.999, 10]);
    expect(result.risk!.denials).toEqual({ max_order_notional: 2 });
    expect(result.notes).toContain('risk: 2 order(s) denied before reaching the venue (max_order_notional 2)');
    expect(result.notes).toContain(`order ${testOrderId('2024-01-01T04:00:00.000Z', 2)} rejected at 2024-01-01T04:00:00.000Z: risk: max_order_notional 1000 < 1000.1`);
  });

  it('max_instrument_notional counts the position, working orders (market at the mark) and the order; reductions skip it', () => {
    const seen: ReturnType<typeof submit>[] = [];
    run(frame(4), { maxInstrumentNotional: 1000, maxDrawdown: null }, {
      0: (k) => void seen.push(submit(k, buy(5))),
      1: (k) => {
        // position 5 × 100 + working limit 2 × 90 + market 3.2 × 100 = 1000
        seen.push(submit(k, buy(2, { type: 'limit', price: 90 })), submit(k, buy(3.2)), submit(k, buy(0.001)));
        seen.push(submit(k, sell(5))); // reduces: passes
      },
    });
    expect(seen.map((s) => s.status)).toEqual(['SUBMITTED', 'SUBMITTED', 'SUBMITTED', 'REJECTED', 'SUBMITTED']);
    expect(seen[3]!.reason).toBe('risk: max_instrument_notional 1000 < 1000.1 (position, working orders and this order of instrument 0)');
  });

  it('max_leverage: gross exposure after the order over equity; an order that reduces exposure passes', () => {
    const seen: ReturnType<typeof submit>[] = [];
    const { result } = run(frame(4), { maxLeverage: 2, maxDrawdown: null }, {
      0: (k) => void seen.push(submit(k, buy(200.001)), submit(k, buy(200))),
      // filled at 100 with a taker fee of 11: equity 9989, exposure 20000 > 2 × 9989
      2: (k) => void seen.push(submit(k, buy(0.001)), submit(k, sell(50)), submit(k, sell(450))),
    });
    expect(seen.map((s) => s.status)).toEqual(['REJECTED', 'SUBMITTED', 'REJECTED', 'SUBMITTED', 'REJECTED']);
    expect(seen[0]!.reason).toBe('risk: max_leverage 2 < 2.00001 (gross exposure after the order over equity 10000)');
    expect(seen[2]!.reason).toMatch(/^risk: max_leverage 2 < 2\.0022\d* \(gross exposure after the order over equity 9989\)$/);
    // a reversal to short 250 adds exposure (|−250| > |200|): 25000 / 9989
    expect(seen[4]!.reason).toMatch(/^risk: max_leverage 2 < 2\.50/);
    expect(result.risk!.denials).toEqual({ max_leverage: 3 });
  });

  it('order_rate: N orders per rolling window of engine time; denied orders do not count, the window rolls', () => {
    const seen: string[][] = [];
    const tryFour = (k: Kernel) => void seen.push([1, 2, 3, 4].map(() => submit(k, buy(0.1, { type: 'limit', price: 50 })).status));
    const { result } = run(frame(4), { throttle: { maxOrders: 3, windowMs: 8 * 3600_000 }, maxDrawdown: null }, { 0: tryFour, 1: tryFour, 2: tryFour });
    // window 8h = two 4h bars: bar 1 still sees bar 0's three; bar 2 sees none of bar 0's (t − 8h is outside)
    expect(seen).toEqual([
      ['SUBMITTED', 'SUBMITTED', 'SUBMITTED', 'REJECTED'],
      ['REJECTED', 'REJECTED', 'REJECTED', 'REJECTED'],
      ['SUBMITTED', 'SUBMITTED', 'SUBMITTED', 'REJECTED'],
    ]);
    expect(result.notes).toContain(`order ${testOrderId('2024-01-01T04:00:00.000Z', 3)} rejected at 2024-01-01T04:00:00.000Z: risk: order_rate 3 < 4 orders in 28800000 ms`);
    expect(result.risk!.denials).toEqual({ order_rate: 6 });
  });

  it('no_price: a market order of an instrument never marked is denied when a notional rule is set', () => {
    const kernel = new Kernel({ instruments: [testInstrument()], initialCash: 1000, leverage: 1, risk: { maxOrderNotional: 100 } }, { clock: new TestClock(0), strategy: { name: 'test' } });
    kernel.attachExecution({ connect() {}, submit() {}, cancel() {} });
    const id = kernel.submitOrder(buy(1));
    expect(kernel.order(id)!.reason).toBe('risk: no_price instrument 0 has no mark to value a market order');
  });

  it('no limits: every order passes and nothing is reported', () => {
    const seen: string[] = [];
    const { result } = run(frame(3), undefined, { 0: (k) => void seen.push(submit(k, buy(1e4)).status) });
    expect(seen).toEqual(['SUBMITTED']);
    expect(result.risk).toBeUndefined();
    expect(result.notes.some((n) => n.includes('risk:'))).toBe(false);
  });

  it('limits are checked when the kernel is built', () => {
    const make = (risk: RiskLimits) => () => new Kernel({ instruments: [testInstrument()], initialCash: 1000, leverage: 1, risk }, { clock: new TestClock(0), strategy: { name: 'test' } });
    expect(make({ maxLeverage: 0 })).toThrow(RiskError);
    expect(make({ maxLeverage: 0 })).toThrow('risk.maxLeverage must be a number > 0, was 0');
    expect(make({ maxDrawdown: 1.5 })).toThrow('risk.maxDrawdown must be a number > 0 and <= 1, was 1.5');
    expect(make({ throttle: { maxOrders: 0.5, windowMs: 10 } })).toThrow('risk.throttle.maxOrders must be an integer >= 1, was 0.5');
  });
});

describe('pre-trade risk: trading states', () => {
  it('REDUCING passes only orders that reduce the position (working orders on that side count)', () => {
    const seen: ReturnType<typeof submit>[] = [];
    const { changes } = run(frame(4), {}, {
      0: (k) => void k.submitOrder(buy(1)),
      2: (k) => {
        k.setTradingState('REDUCING', 'operator: reduce only');
        expect(k.tradingState).toBe('REDUCING');
        seen.push(submit(k, buy(0.1)), submit(k, sell(1.5)), submit(k, sell(0.5)), submit(k, sell(0.5)), submit(k, sell(0.001)), submit(k, sell(5, { reduceOnly: true })));
      },
    });
    expect(seen.map((s) => s.status)).toEqual(['REJECTED', 'REJECTED', 'SUBMITTED', 'SUBMITTED', 'REJECTED', 'REJECTED']);
    expect(seen[0]!.reason).toBe('risk: trading_state REDUCING denies an order that does not reduce the position (position 1, buy 0.1)');
    expect(seen[1]!.reason).toBe('risk: trading_state REDUCING denies an order that does not reduce the position (position 1, sell 1.5)');
    expect(changes).toEqual([{ ts: Date.parse('2024-01-01T12:00:00Z'), from: 'ACTIVE', to: 'REDUCING', trigger: 'manual', reason: 'operator: reduce only' }]);
  });

  it('HALTED denies every new order but cancels pass; ACTIVE again lets orders through', () => {
    const seen: ReturnType<typeof submit>[] = [];
    let resting = '';
    let canceled = false;
    const { result } = run(frame(5), {}, {
      0: (k) => {
        k.submitOrder(buy(1));
        resting = k.submitOrder(buy(1, { type: 'limit', price: 50 }));
      },
      2: (k) => {
        k.setTradingState('HALTED', 'kill switch');
        seen.push(submit(k, sell(0.5)), submit(k, buy(0.5)), submit(k, sell(0.5, { reduceOnly: true })));
        canceled = k.cancelOrder(resting);
      },
      3: (k) => {
        k.setTradingState('ACTIVE', 'resume');
        seen.push(submit(k, buy(0.5)));
      },
    });
    expect(seen.map((s) => s.status)).toEqual(['REJECTED', 'REJECTED', 'REJECTED', 'SUBMITTED']);
    expect(seen[0]!.reason).toBe('risk: trading_state HALTED denies every new order (cancels only)');
    expect(canceled).toBe(true);
    expect(result.fills.map((f) => [f.side, f.quantity])).toEqual([['buy', 1], ['buy', 0.5]]);
    expect(result.risk!.stateChanges.map((c) => [c.from, c.to, c.trigger])).toEqual([['ACTIVE', 'HALTED', 'manual'], ['HALTED', 'ACTIVE', 'manual']]);
    expect(result.risk!.denials).toEqual({ trading_state: 3 });
    expect(result.notes).toContain('risk: trading state ACTIVE -> HALTED at 2024-01-01T12:00:00.000Z (manual): kill switch');
  });

  it('flattenAll cancels working orders and closes every position with reduce-only market orders, in any state', () => {
    let flattenOrders: readonly string[] = [];
    const positions: number[] = [];
    const { result } = run(frame(5), {}, {
      0: (k) => {
        k.submitOrder(sell(3));
        k.submitOrder(buy(1, { type: 'limit', price: 50 }));
      },
      2: (k) => {
        k.setTradingState('HALTED', 'kill');
        flattenOrders = k.flattenAll('kill switch').orders;
        expect(k.openOrders(0).map((o) => [o.status, o.reduceOnly, o.tag])).toEqual([['PENDING_CANCEL', false, undefined], ['SUBMITTED', true, 'risk-flatten']]);
      },
      3: (k) => void positions.push(k.position(0)),
    });
    expect(positions).toEqual([0]);
    expect(result.fills.at(-1)).toMatchObject({ clientOrderId: flattenOrders[0], side: 'buy', quantity: 3 });
    expect(result.risk!.flattens).toEqual([{ ts: Date.parse('2024-01-01T12:00:00Z'), reason: 'kill switch', canceled: [testOrderId('2024-01-01T04:00:00.000Z', 1)], orders: flattenOrders }]);
    expect(result.notes).toContain('risk: flattened at 2024-01-01T12:00:00.000Z (kill switch): 1 working order(s) canceled, 1 reduce-only market order(s) sent');
  });
});

describe('pre-trade risk: one instrument halted on its own', () => {
  it('denies every new order of that instrument (cancels pass), others trade; released, it trades again; kept across save/restore', () => {
    const bars = makeFrame({ timeframe: '4h', start: '2024-01-01T00:00:00Z', series: [0, 1].map(() => Array.from({ length: 4 }, () => [100, 100, 100, 100, 1e9] as const)) });
    const seen: (string | undefined)[] = [];
    let resting = '';
    let saved: ReturnType<Kernel['saveState']> | undefined;
    const strategy: Strategy = {
      name: 'test',
      onBar(ctx, bar) {
        const k = ctx as Kernel;
        if (bar.instrument !== 1) return;
        if (bar.index === 0) resting = k.submitOrder({ instrument: 1, side: 'buy', type: 'limit', price: 50, quantity: 1 });
        if (bar.index === 1) {
          k.setInstrumentHalted(1, true, 'order lost at the venue');
          seen.push(submit(k, { instrument: 1, side: 'buy', type: 'market', quantity: 1 }).reason, submit(k, { instrument: 0, side: 'buy', type: 'market', quantity: 1 }).status);
          seen.push(String(k.cancelOrder(resting)));
          saved = k.saveState();
        }
        if (bar.index === 2) {
          k.setInstrumentHalted(1, false, 'found it');
          seen.push(submit(k, { instrument: 1, side: 'buy', type: 'market', quantity: 1 }).status);
        }
      },
    };
    const result = runBacktest(backtestSpec(bars, [testInstrument(), testInstrument({ symbol: 'OTHERUSDT' })], {}), strategy);
    expect(seen).toEqual(['risk: instrument_halted instrument 1 is halted (cancels only)', 'SUBMITTED', 'true', 'SUBMITTED']);
    expect(result.risk!.stateChanges.map((c) => [c.instrument, c.from, c.to, c.reason])).toEqual([[1, 'ACTIVE', 'HALTED', 'order lost at the venue'], [1, 'HALTED', 'ACTIVE', 'found it']]);
    expect(result.risk!.denials).toEqual({ instrument_halted: 1 });
    expect(saved!.risk!.haltedInstruments).toEqual([1]);
    const restored = new Kernel({ instruments: [testInstrument(), testInstrument({ symbol: 'OTHERUSDT' })], initialCash: 1000, leverage: 1 }, { clock: new TestClock(0), strategy: { name: 'test' } });
    restored.restoreState(JSON.parse(JSON.stringify(saved)) as ReturnType<Kernel['saveState']>);
    expect([restored.risk.isInstrumentHalted(0), restored.risk.isInstrumentHalted(1)]).toEqual([false, true]);
    expect(() => restored.setInstrumentHalted(2, true, 'x')).toThrow('instrument must be an index in [0, 2), was 2');
  });
});

describe('pre-trade risk: ids exempt from an instrument halt (tm replay)', () => {
  it('an exempt id passes its instrument\'s halt and still meets every other rule; other ids are denied by the halt; the account\'s HALTED state denies them all', () => {
    const seen: string[] = [];
    const { result } = run(frame(3), { maxOrderNotional: 500 }, {
      0: (k) => {
        k.haltExempt = new Set(['ex-small', 'ex-large', 'ex-account']);
        k.setInstrumentHalted(0, true, 'lost order');
        seen.push(k.submitOrder(buy(1, { clientOrderId: 'ex-small' })), k.submitOrder(buy(10, { clientOrderId: 'ex-large' })), k.submitOrder(buy(1, { clientOrderId: 'not-exempt' })));
        k.setTradingState('HALTED', 'kill switch');
        seen.push(k.submitOrder(buy(1, { clientOrderId: 'ex-account' })));
      },
    });
    expect(seen).toEqual(['ex-small', 'ex-large', 'not-exempt', 'ex-account']);
    expect(result.fills.map((f) => f.clientOrderId)).toEqual(['ex-small']);
    expect(result.notes.filter((n) => n.startsWith('order '))).toEqual([
      expect.stringMatching(/^order ex-large rejected .*: risk: max_order_notional 500 < 1000$/),
      expect.stringMatching(/^order not-exempt rejected .*: risk: instrument_halted instrument 0 is halted \(cancels only\)$/),
      expect.stringMatching(/^order ex-account rejected .*: risk: trading_state HALTED denies every new order \(cancels only\)$/),
    ]);
  });
});

describe('pre-trade risk: drawdown and daily loss (watched at bar closes)', () => {
  const bar = (c: number): Ohlcv => [c, c, c, c, 1e9];

  it('a drawdown beyond 5 % of peak equity flattens (positions 0 after the next fills) and goes REDUCING; 4.96 % does not', () => {
    // long 100 at 100 (fee 5.5): close 95.1 → equity 9504.5 (4.955 % below the 10000 peak); 94.9 → 9484.5 (5.155 %)
    const bars = frame(8, 100, { 2: bar(95.1), 3: bar(94.9), 4: bar(94.9), 5: bar(94.9), 6: bar(94.9), 7: bar(94.9) });
    const positions: number[] = [];
    const states: string[] = [];
    let resting = '';
    const { result, changes, rejected } = run(bars, { maxDrawdown: 0.05 }, {
      0: (k) => void k.submitOrder(buy(100)),
      1: (k) => void (resting = k.submitOrder(sell(10, { type: 'limit', price: 120 }))),
      2: (k) => void states.push(k.tradingState),
      3: (k) => void states.push(k.tradingState),
      4: (k) => {
        positions.push(k.position(0));
        states.push(k.tradingState);
        k.submitOrder(buy(1)); // denied: REDUCING
      },
    });
    expect(states).toEqual(['ACTIVE', 'REDUCING', 'REDUCING']);
    expect(positions).toEqual([0]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ ts: Date.parse('2024-01-01T16:00:00Z'), from: 'ACTIVE', to: 'REDUCING', trigger: 'max_drawdown' });
    expect(changes[0]!.reason).toBe('max_drawdown 0.05 < 0.05155: equity 9484.5 is below the peak 10000; every position is flattened');
    expect(result.risk!.flattens[0]!.canceled).toEqual([resting]);
    expect(result.fills.at(-1)).toMatchObject({ side: 'sell', quantity: 100, price: 94.9, ts: Date.parse('2024-01-01T16:00:00Z') });
    expect(Array.from(result.bars[0]!.position.subarray(4))).toEqual([0, 0, 0, 0]);
    expect(rejected.map((o) => o.reason)).toEqual(['risk: trading_state REDUCING denies an order that does not reduce the position (position 0, buy 1)']);
  });

  it('drawdownState HALTED halts after the flatten; the rule fires once until the operator sets ACTIVE (peak re-based)', () => {
    const bars = frame(8, 100, { 2: bar(90), 3: bar(90), 4: bar(85), 5: bar(80), 6: bar(80), 7: bar(80) });
    const states: string[] = [];
    const { result } = run(bars, { maxDrawdown: 0.05, drawdownState: 'HALTED' }, {
      0: (k) => void k.submitOrder(buy(100)),
      3: (k) => {
        states.push(k.tradingState);
        k.setTradingState('ACTIVE', 'operator accepts the loss');
        k.submitOrder(buy(100));
      },
      5: (k) => void states.push(k.tradingState),
    });
    // flattened at 90 (bar 2), re-armed at bar 3 with peak = equity then, long again from bar 4's open (85); 80 at bar 5: 500 / 8990 > 5 %
    expect(states).toEqual(['HALTED', 'HALTED']);
    expect(result.risk!.stateChanges.map((c) => [c.to, c.trigger])).toEqual([['HALTED', 'max_drawdown'], ['ACTIVE', 'manual'], ['HALTED', 'max_drawdown']]);
    expect(result.risk!.flattens).toHaveLength(2);
    expect(result.bars[0]!.position[7]).toBe(0);
  });

  it('a daily loss beyond the limit moves to REDUCING until the next UTC day; just below it nothing happens', () => {
    // first bar closes 2024-01-01 04:00 (day start equity 10000); long 100 from 08:00 at 100 (fee 5.5)
    // 98.06 → equity 9800.5, loss 1.995 % (below 2 %); 97.95 → 9789.5, 2.105 %: REDUCING; the bar closing 2024-01-02 00:00 starts a new day
    const bars = frame(9, 100, { 2: bar(98.06), 3: bar(97.95), 4: bar(97.95), 5: bar(97.95), 6: bar(97.95), 7: bar(97.95), 8: bar(97.95) });
    const seen: [string, string][] = [];
    const probe = (k: Kernel) => void seen.push([k.tradingState, submit(k, buy(0.01)).status]);
    const { changes } = run(bars, { maxDailyLoss: 0.02, maxDrawdown: null }, { 0: (k) => void k.submitOrder(buy(100)), 2: probe, 3: probe, 4: probe, 5: probe });
    expect(seen).toEqual([['ACTIVE', 'SUBMITTED'], ['REDUCING', 'REJECTED'], ['REDUCING', 'REJECTED'], ['ACTIVE', 'SUBMITTED']]);
    expect(changes.map((c) => [new Date(c.ts).toISOString(), c.from, c.to, c.trigger])).toEqual([
      ['2024-01-01T16:00:00.000Z', 'ACTIVE', 'REDUCING', 'max_daily_loss'],
      ['2024-01-02T00:00:00.000Z', 'REDUCING', 'ACTIVE', 'utc_day_reset'],
    ]);
    expect(changes[0]!.reason).toMatch(/^max_daily_loss 0\.02 < 0\.02105: equity 9789\.5 against 10000 at the UTC day's first bar$/);
  });
});

describe('pre-trade risk: the pass path', () => {
  // Under mutation testing (StrykerJS worker) every statement is instrumented and allocates: the property is about
  // the real code only, so the test runs in `npm test` and is left out of mutant runs.
  it.skipIf(process.env['STRYKER_MUTATOR_WORKER'] !== undefined)('allocates nothing: 3 million bar observations and checks with every rule on cause at most 2 garbage collections (one object per call gives 6)', async () => {
    const limits: RiskLimits = { maxOrderNotional: 1e12, maxInstrumentNotional: 1e12, maxLeverage: 100, maxDailyLoss: 0.5, maxDrawdown: 0.5, throttle: { maxOrders: 64, windowMs: 1 } };
    const portfolio = new Portfolio([testInstrument()], 1e9);
    portfolio.mark[0] = 100;
    portfolio.applyFill(booked(0, 10, 100, 0));
    const risks = Array.from({ length: 13 }, () => new PreTradeRisk(limits, portfolio, new OrderManager(1)));
    const N = 250_000;
    // Engine times as boxed numbers made up front (an array holding a string keeps its numbers boxed), as the kernel
    // passes the one `now` it got from its clock: the loop itself then boxes nothing, only the risk code could allocate.
    const times: unknown[] = ['boxed'];
    for (let k = 1; k <= N; k++) times.push(1.7e12 + k * 60_000);
    const prices: unknown[] = ['boxed', NaN, 99.5];
    let passed = 0;
    const work = (risk: PreTradeRisk) => {
      for (let k = 1; k <= N; k++) {
        const now = times[k] as number;
        risk.observe(now);
        if (risk.check(0, (k & 1) === 0 ? 1 : -1, 1 + (k & 7), prices[1 + (k & 1)] as number, false, now)) passed++;
      }
    };
    work(risks[0]!); // warm-up: the JIT optimises the path
    // 12 × 250,000 calls: one 16-byte object each would be 48 MB, several young-generation collections
    expect(await garbageCollectionsDuring(() => risks.slice(1).forEach(work))).toBeLessThanOrEqual(2);
    expect(passed).toBe(13 * N);
    expect(risks.every((r) => r.deniedCount === 0)).toBe(true);
  });
});

describe('entry block (the live runner: warm-up protection, failed warm-up gates)', () => {
  it('denies orders that are not reduce-only with risk: <why>; reduce-only orders, cancels and flattening pass; lifted, orders pass again', () => {
    const seen: ReturnType<typeof submit>[] = [];
    let cancelled = false;
    const { rejected } = run(frame(4), undefined, {
      0: (k) => void seen.push(submit(k, buy(1))), // a position to reduce later
      1: (k) => {
        k.entryBlock = 'warm-up protection after a restart until 2024-01-01T12:00:00.000Z';
        seen.push(submit(k, buy(1)), submit(k, sell(2)), submit(k, sell(0.5, { reduceOnly: true })));
        const resting = k.submitOrder(sell(0.1, { type: 'limit', price: 1000, reduceOnly: true }));
        cancelled = k.cancelOrder(resting);
      },
      2: (k) => {
        k.entryBlock = undefined;
        seen.push(submit(k, buy(1)));
      },
    });
    expect(seen.map((s) => s.status)).toEqual(['SUBMITTED', 'REJECTED', 'REJECTED', 'SUBMITTED', 'SUBMITTED']);
    expect(seen[1]!.reason).toBe('risk: warm-up protection after a restart until 2024-01-01T12:00:00.000Z');
    expect(rejected.map((o) => o.clientOrderId)).toEqual([seen[1]!.id, seen[2]!.id]);
    expect(cancelled).toBe(true);
  });
});

describe('PreTradeRisk on its own (portfolio and orders by hand)', () => {
  const T0 = Date.parse('2024-01-01T00:00:00Z');
  const HOUR = 3600_000;
  /** A risk engine over `instruments` instruments marked at 100 (cash `cash`). */
  function setup(limits: RiskLimits, { instruments = 1, cash = 10_000 } = {}) {
    const portfolio = new Portfolio(Array.from({ length: instruments }, (_, k) => testInstrument({ symbol: `I${k}USDT` })), cash);
    portfolio.mark.fill(100);
    const orders = new OrderManager(instruments);
    const risk = new PreTradeRisk(limits, portfolio, orders);
    return { portfolio, orders, risk };
  }
  /** Code, message and context of the RiskError `f` throws. */
  function thrown(f: () => void): [string, string, unknown] {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(RiskError);
      return [(e as RiskError).code, (e as RiskError).message, (e as RiskError).context];
    }
    throw new Error('nothing thrown');
  }
  /** A working limit order (submitted) of `quantity` on `side`. */
  function working(orders: OrderManager, side: 'buy' | 'sell', quantity: number, price: number, instrument = 0) {
    const s = orders.create({ instrument, side, type: 'limit', quantity, price }, `W${orders.size}`, T0);
    orders.submitted(s, T0);
    return s;
  }

  it('engages for order rules or a state other than ACTIVE; watches equity for a daily loss or drawdown rule', () => {
    const flags = (limits: RiskLimits) => {
      const { risk } = setup(limits);
      return [risk.engaged, risk.watchesEquity];
    };
    expect(flags({})).toEqual([false, false]);
    expect(flags({ maxDrawdown: null })).toEqual([false, false]);
    expect(flags({ maxOrderNotional: 1 })).toEqual([true, false]);
    expect(flags({ maxInstrumentNotional: 1 })).toEqual([true, false]);
    expect(flags({ maxLeverage: 1 })).toEqual([true, false]);
    expect(flags({ throttle: { maxOrders: 1, windowMs: 1 } })).toEqual([true, false]);
    expect(flags({ maxDailyLoss: 0.1 })).toEqual([false, true]);
    expect(flags({ maxDrawdown: 0.1 })).toEqual([false, true]);

    const { risk } = setup({});
    const engaged: boolean[] = [];
    risk.setState('REDUCING', T0, 'x');
    engaged.push(risk.engaged);
    risk.setState('ACTIVE', T0, 'x');
    engaged.push(risk.engaged);
    risk.haltInstrument(0, true, T0, 'x');
    engaged.push(risk.engaged);
    risk.haltInstrument(0, true, T0, 'again'); // a no-op
    risk.haltInstrument(0, false, T0, 'x');
    engaged.push(risk.engaged);
    expect(engaged).toEqual([true, false, true, false]);
    expect(risk.changes.map((c) => [c.from, c.to, c.instrument])).toEqual([['ACTIVE', 'REDUCING', undefined], ['REDUCING', 'ACTIVE', undefined], ['ACTIVE', 'HALTED', 0], ['HALTED', 'ACTIVE', 0]]);
  });

  it('denialReason before any denial; denials counted per rule', () => {
    const { risk } = setup({ maxOrderNotional: 1000 });
    expect(risk.denialReason()).toBe('risk: no order was denied');
    expect(risk.check(0, 1, 11, NaN, false, T0)).toBe(false);
    expect(risk.check(0, 1, 5, NaN, false, T0)).toBe(true);
    risk.setState('HALTED', T0, 'x');
    expect(risk.check(0, 1, 5, NaN, false, T0)).toBe(false);
    expect(risk.check(0, -1, 5, NaN, false, T0)).toBe(false);
    expect([risk.denials(), risk.deniedCount]).toEqual([{ max_order_notional: 1, trading_state: 2 }, 3]);
  });

  it('no_price: a market order of an unmarked instrument is denied under each notional rule, not under the throttle alone', () => {
    for (const limits of [{ maxOrderNotional: 1e9 }, { maxInstrumentNotional: 1e9 }, { maxLeverage: 100 }] as RiskLimits[]) {
      const { portfolio, risk } = setup(limits);
      portfolio.mark[0] = NaN;
      expect(risk.check(0, 1, 1, NaN, false, T0)).toBe(false);
      expect(risk.denialReason()).toBe('risk: no_price instrument 0 has no mark to value a market order');
      // a limit order at a price > 0 can be valued; a limit price of 0 cannot
      expect(risk.check(0, 1, 1, 0, false, T0)).toBe(false);
    }
    const { portfolio, risk } = setup({ throttle: { maxOrders: 5, windowMs: 1 } });
    portfolio.mark[0] = NaN;
    expect(risk.check(0, 1, 1, NaN, false, T0)).toBe(true);
  });

  it('each notional limit passes an order exactly at its tolerance (1 + 1e-9) and denies just beyond', () => {
    const at = 1000 * (1 + 1e-9);
    const next = (x: number) => x * (1 + 1e-15);
    const order = setup({ maxOrderNotional: 1000 }).risk;
    expect([order.check(0, 1, 1, at, false, T0), order.check(0, 1, 1, next(at), false, T0)]).toEqual([true, false]);
    const instrument = setup({ maxInstrumentNotional: 1000 }).risk;
    expect([instrument.check(0, 1, 1, at, false, T0), instrument.check(0, 1, 1, next(at), false, T0)]).toEqual([true, false]);
    // equity 1 and no position: the leverage is the order's notional
    const lev = 2 * (1 + 1e-9);
    const leverage = setup({ maxLeverage: 2 }, { cash: 1 }).risk;
    expect([leverage.check(0, 1, 1, lev, false, T0), leverage.check(0, 1, 1, next(lev), false, T0)]).toEqual([true, false]);
  });

  it('orders that do not add exposure (a reversal to the same size, reduce-only) skip the instrument and leverage limits', () => {
    const { portfolio, risk } = setup({ maxInstrumentNotional: 150, maxLeverage: 0.01 });
    portfolio.applyFill(booked(0, 1, 100, 0));
    expect(risk.check(0, -1, 2, NaN, false, T0)).toBe(true); // long 1 → short 1
    expect(risk.check(0, -1, 3, NaN, true, T0)).toBe(true); // reduce-only
    expect(risk.check(0, 1, 0.1, NaN, false, T0)).toBe(false);
  });

  it('max_instrument_notional counts working orders of the instrument only (limit at their price, market at the mark)', () => {
    const { portfolio, orders, risk } = setup({ maxInstrumentNotional: 1000 }, { instruments: 2 });
    portfolio.applyFill(booked(0, 2, 100, 0)); // 200
    working(orders, 'buy', 3, 90); // 270
    const m = orders.create({ instrument: 0, side: 'sell', type: 'market', quantity: 1 }, 'M', T0); // 100 at the mark
    orders.submitted(m, T0);
    working(orders, 'buy', 50, 100, 1); // another instrument
    // 200 + 270 + 100 + 430 = 1000
    expect(risk.check(0, 1, 4.3, NaN, false, T0)).toBe(true);
    expect(risk.check(0, 1, 4.31, NaN, false, T0)).toBe(false);
    expect(risk.denialReason()).toBe('risk: max_instrument_notional 1000 < 1001 (position, working orders and this order of instrument 0)');
  });

  it('a limit order of an instrument never marked is held to max_instrument_notional and max_leverage (valued at its price)', () => {
    const notional = setup({ maxInstrumentNotional: 1000 });
    notional.portfolio.mark[0] = NaN;
    expect(notional.risk.check(0, 1, 10, 100, false, T0)).toBe(true);
    expect(notional.risk.check(0, 1, 11, 100, false, T0)).toBe(false);
    expect(notional.risk.denialReason()).toBe('risk: max_instrument_notional 1000 < 1100 (position, working orders and this order of instrument 0)');
    const leverage = setup({ maxLeverage: 2 }, { cash: 1000 });
    leverage.portfolio.mark[0] = NaN;
    expect(leverage.risk.check(0, 1, 20, 100, false, T0)).toBe(true);
    expect(leverage.risk.check(0, 1, 21, 100, false, T0)).toBe(false);
    expect(leverage.risk.denialReason()).toBe('risk: max_leverage 2 < 2.1 (gross exposure after the order over equity 1000)');
  });

  it('a position taken before the instrument\'s first mark counts at its entry price (market orders are priced there too)', () => {
    const notional = setup({ maxInstrumentNotional: 1000 });
    notional.portfolio.applyFill(booked(0, 5, 100, 0));
    notional.portfolio.mark[0] = NaN;
    expect(notional.risk.check(0, 1, 5, NaN, false, T0)).toBe(true); // 500 held + 5 × 100
    expect(notional.risk.check(0, 1, 6, NaN, false, T0)).toBe(false);
    expect(notional.risk.denialReason()).toBe('risk: max_instrument_notional 1000 < 1100 (position, working orders and this order of instrument 0)');
    const leverage = setup({ maxLeverage: 2 }, { cash: 1000 });
    leverage.portfolio.applyFill(booked(0, 10, 100, 0));
    leverage.portfolio.mark[0] = NaN;
    expect(leverage.risk.check(0, 1, 10, 100, false, T0)).toBe(true);
    expect(leverage.risk.check(0, 1, 11, 100, false, T0)).toBe(false);
    expect(leverage.risk.denialReason()).toBe('risk: max_leverage 2 < 2.1 (gross exposure after the order over equity 1000)');
  });

  it('max_leverage: an account without equity denies every order that adds exposure', () => {
    for (const cash of [0, -100]) {
      const { risk } = setup({ maxLeverage: 100 }, { cash });
      expect(risk.check(0, 1, 0.001, NaN, false, T0)).toBe(false);
      expect(risk.denialReason()).toBe(`risk: max_leverage 100 < Infinity (gross exposure after the order over equity ${cash})`);
    }
  });

  it('order_rate: the saved throttle lists the passed orders oldest first; restore keeps the newest that fit', () => {
    const { risk } = setup({ throttle: { maxOrders: 3, windowMs: 5 } });
    expect(risk.save().throttle).toEqual([]);
    expect([1, 2].map((t) => risk.check(0, 1, 1, NaN, false, t))).toEqual([true, true]);
    expect(risk.save().throttle).toEqual([1, 2]);
    expect([3, 4, 10].map((t) => risk.check(0, 1, 1, NaN, false, t))).toEqual([true, false, true]);
    expect(risk.denialReason()).toBe('risk: order_rate 3 < 4 orders in 5 ms');
    expect(risk.save().throttle).toEqual([2, 3, 10]);

    const r = setup({ throttle: { maxOrders: 3, windowMs: 5 } }).risk;
    r.restore({ ...risk.save(), throttle: [1, 2, 3, 4, 5] });
    expect(r.save().throttle).toEqual([3, 4, 5]);
    expect(r.check(0, 1, 1, NaN, false, 7)).toBe(false);
    expect(r.check(0, 1, 1, NaN, false, 8)).toBe(true);
    // fewer saved times than the ring: the empty places take orders
    const s = setup({ throttle: { maxOrders: 3, windowMs: 100 } }).risk;
    s.restore({ ...risk.save(), throttle: [5] });
    expect([6, 7, 8].map((t) => s.check(0, 1, 1, NaN, false, t))).toEqual([true, true, false]);
  });

  it('REDUCING: the opposite side up to the position with the working orders on that side; reduce-only counts for at most the position', () => {
    const { portfolio, orders, risk } = setup({});
    portfolio.applyFill(booked(0, 1, 100, 0));
    working(orders, 'sell', 0.4, 120);
    working(orders, 'buy', 5, 80); // the other side: does not count
    risk.setState('REDUCING', T0, 'x');
    expect(risk.check(0, -1, 0.6, NaN, false, T0)).toBe(true);
    expect(risk.check(0, -1, 0.61, NaN, false, T0)).toBe(false);
    expect(risk.check(0, -1, 0.6 * (1 + 1e-9) - 1e-17, NaN, false, T0)).toBe(true);
    expect(risk.check(0, -1, 0.5, NaN, true, T0)).toBe(true); // 0.5 + 0.4 ≤ 1
    expect(risk.check(0, -1, 5, NaN, true, T0)).toBe(false); // capped to 1, + 0.4 working
    expect(risk.check(0, 1, 0.1, NaN, false, T0)).toBe(false);
    expect(risk.denialReason()).toBe('risk: trading_state REDUCING denies an order that does not reduce the position (position 1, buy 0.1)');
    const flat = setup({}).risk;
    flat.setState('REDUCING', T0, 'x');
    expect([flat.check(0, 1, 1, NaN, true, T0), flat.check(0, -1, 1, NaN, true, T0)]).toEqual([false, false]);
  });

  it('REDUCING: a reduce-only order larger than the position passes when nothing else works on its side', () => {
    const { portfolio, risk } = setup({});
    portfolio.applyFill(booked(0, -2, 100, 0));
    risk.setState('REDUCING', T0, 'x');
    expect([risk.check(0, 1, 5, NaN, true, T0), risk.check(0, 1, 5, NaN, false, T0), risk.check(0, 1, 2 * (1 + 1e-9), NaN, false, T0)]).toEqual([true, false, true]);
  });

  it('observe: once per engine time; a drawdown exactly at the limit does not fire, beyond it does (reason, flatten reason)', () => {
    const { portfolio, risk } = setup({ maxDrawdown: 0.05 });
    portfolio.applyFill(booked(0, 100, 100, 0));
    expect(risk.observe(T0)).toBe(false);
    portfolio.mark[0] = 95; // equity 9500: exactly 5 % below the peak
    expect(risk.observe(T0 + HOUR)).toBe(false);
    portfolio.mark[0] = 94;
    expect(risk.observe(T0 + HOUR)).toBe(false); // the same bar close again: not looked at
    expect(risk.tradingState).toBe('ACTIVE');
    expect(risk.observe(T0 + 2 * HOUR)).toBe(true);
    expect(risk.flattenReason()).toBe('risk: max_drawdown 0.05 < 0.06');
    expect(risk.changes).toEqual([{ ts: T0 + 2 * HOUR, from: 'ACTIVE', to: 'REDUCING', trigger: 'max_drawdown', reason: 'max_drawdown 0.05 < 0.06: equity 9400 is below the peak 10000; every position is flattened' }]);
    // fires once until the operator sets ACTIVE
    portfolio.mark[0] = 90;
    expect(risk.observe(T0 + 3 * HOUR)).toBe(false);
  });

  it('observe: an account at or below zero equity counts as an infinite drawdown when it falls, none while it stays', () => {
    const { portfolio, risk } = setup({ maxDrawdown: 0.5 }, { cash: 0 });
    expect(risk.observe(T0)).toBe(false);
    expect(risk.observe(T0 + HOUR)).toBe(false); // equity 0 = peak 0
    portfolio.applyFill(booked(0, 0, 100, 10)); // a fee: equity −10
    expect(risk.observe(T0 + 2 * HOUR)).toBe(true);
    expect(risk.flattenReason()).toBe('risk: max_drawdown 0.5 < Infinity');
    const negative = setup({ maxDrawdown: 0.5 }, { cash: -100 });
    expect(negative.risk.observe(T0)).toBe(false);
    negative.portfolio.applyFill(booked(0, 0, 100, 10)); // −110 against a peak of −100
    expect(negative.risk.observe(T0 + HOUR)).toBe(true);
  });

  it('observe: a drawdown in a state already reducing keeps it (no new change), HALTED as drawdownState moves on; a manual trigger stays', () => {
    const fall = (limits: RiskLimits, before: (risk: PreTradeRisk) => void) => {
      const { portfolio, risk } = setup(limits);
      portfolio.applyFill(booked(0, 100, 100, 0));
      risk.observe(T0);
      before(risk);
      portfolio.mark[0] = 80;
      const fired = risk.observe(T0 + HOUR);
      return { fired, state: risk.save(), changes: risk.changes.map((c) => [c.from, c.to, c.trigger]) };
    };
    const manual = fall({ maxDrawdown: 0.1 }, (r) => r.setState('REDUCING', T0, 'operator'));
    expect(manual).toMatchObject({ fired: true, state: { state: 'REDUCING', trigger: 'manual', drawdownTripped: true }, changes: [['ACTIVE', 'REDUCING', 'manual']] });
    const halted = fall({ maxDrawdown: 0.1, drawdownState: 'HALTED' }, (r) => r.setState('REDUCING', T0, 'operator'));
    expect(halted).toMatchObject({ fired: true, state: { state: 'HALTED', trigger: 'max_drawdown' }, changes: [['ACTIVE', 'REDUCING', 'manual'], ['REDUCING', 'HALTED', 'max_drawdown']] });
    const manualHalt = fall({ maxDrawdown: 0.1, drawdownState: 'HALTED' }, (r) => r.setState('HALTED', T0, 'operator'));
    expect(manualHalt).toMatchObject({ fired: true, state: { state: 'HALTED', trigger: 'manual' }, changes: [['ACTIVE', 'HALTED', 'manual']] });
  });

  it('observe: a drawdown during a daily-loss REDUCING keeps the state but takes the trigger: the next UTC day no longer ends it', () => {
    const { portfolio, risk } = setup({ maxDailyLoss: 0.01, maxDrawdown: 0.1 });
    portfolio.applyFill(booked(0, 100, 100, 0));
    risk.observe(T0);
    portfolio.mark[0] = 95;
    expect(risk.observe(T0 + HOUR)).toBe(false);
    expect(risk.save()).toMatchObject({ state: 'REDUCING', trigger: 'max_daily_loss' });
    portfolio.mark[0] = 80;
    expect(risk.observe(T0 + 2 * HOUR)).toBe(true);
    expect(risk.save()).toMatchObject({ state: 'REDUCING', trigger: 'max_drawdown' });
    risk.observe(T0 + DAY_MS);
    expect(risk.tradingState).toBe('REDUCING');
    expect(risk.changes.map((c) => c.trigger)).toEqual(['max_daily_loss']);
  });

  it('engaged stays on while the account is not ACTIVE or an instrument is halted, whichever ends first', () => {
    const { risk } = setup({});
    risk.setState('REDUCING', T0, 'x');
    risk.haltInstrument(0, true, T0, 'x');
    risk.haltInstrument(0, false, T0, 'x');
    expect(risk.engaged).toBe(true);
    risk.haltInstrument(0, true, T0, 'x');
    risk.setState('ACTIVE', T0, 'x');
    expect(risk.engaged).toBe(true);
    risk.haltInstrument(0, false, T0, 'x');
    expect(risk.engaged).toBe(false);
  });

  it('observe: a daily loss exactly at the limit does not move to REDUCING; beyond it does until the next UTC day (with its reason)', () => {
    const { portfolio, risk } = setup({ maxDailyLoss: 0.02 });
    portfolio.applyFill(booked(0, 100, 100, 0));
    risk.observe(T0 + HOUR);
    portfolio.mark[0] = 98; // equity 9800: exactly 2 %
    risk.observe(T0 + 2 * HOUR);
    expect(risk.tradingState).toBe('ACTIVE');
    portfolio.mark[0] = 97.9;
    risk.observe(T0 + 3 * HOUR);
    expect(risk.tradingState).toBe('REDUCING');
    risk.observe(T0 + DAY_MS);
    expect(risk.changes.map((c) => [c.ts, c.from, c.to, c.trigger, c.reason])).toEqual([
      [T0 + 3 * HOUR, 'ACTIVE', 'REDUCING', 'max_daily_loss', "max_daily_loss 0.02 < 0.021: equity 9790 against 10000 at the UTC day's first bar"],
      [T0 + DAY_MS, 'REDUCING', 'ACTIVE', 'utc_day_reset', 'a new UTC day began (2024-01-02): the daily loss starts again from equity 9790'],
    ]);
    expect(risk.save().trigger).toBeNull();
  });

  it('observe: a new UTC day ends only a daily-loss REDUCING state; a day starting at or below zero equity is a loss beyond any limit', () => {
    const { risk } = setup({ maxDailyLoss: 0.02 });
    risk.observe(T0);
    risk.setState('REDUCING', T0, 'operator');
    risk.observe(T0 + DAY_MS);
    expect(risk.tradingState).toBe('REDUCING');
    for (const cash of [0, -100]) {
      const broke = setup({ maxDailyLoss: 0.5 }, { cash });
      broke.risk.observe(T0);
      expect(broke.risk.tradingState).toBe('REDUCING');
    }
  });

  it('setState: ACTIVE re-bases the peak and the day and re-arms the drawdown; other states keep them; the same state records nothing', () => {
    const { portfolio, risk } = setup({ maxDrawdown: 0.1 });
    portfolio.applyFill(booked(0, 100, 100, 0));
    risk.observe(T0);
    portfolio.mark[0] = 85;
    expect(risk.observe(T0 + HOUR)).toBe(true);
    risk.setState('HALTED', T0 + HOUR, 'operator');
    expect(risk.save()).toMatchObject({ state: 'HALTED', peakEquity: 10_000, dayStartEquity: 10_000, drawdownTripped: true });
    risk.setState('ACTIVE', T0 + 2 * HOUR, 'operator');
    expect(risk.save()).toMatchObject({ state: 'ACTIVE', trigger: null, peakEquity: 8500, dayStartEquity: 8500, drawdownTripped: false });
    risk.setState('ACTIVE', T0 + 2 * HOUR, 'again');
    expect(risk.changes).toHaveLength(3);
    expect(thrown(() => risk.setState('PAUSED' as TradingState, T0, 'x'))).toEqual(['invalid_risk_state', 'trading state must be one of ACTIVE, REDUCING, HALTED, was "PAUSED"', { state: 'PAUSED' }]);
  });

  it('haltInstrument: checks the index; tells onChange (none set is fine)', () => {
    const { risk } = setup({}, { instruments: 2 });
    for (const bad of [-1, 2, 0.5]) {
      expect(thrown(() => risk.haltInstrument(bad, true, T0, 'x'))).toEqual(['invalid_risk_state', `instrument must be an index in [0, 2), was ${bad}`, { instrument: bad }]);
    }
    risk.haltInstrument(0, true, T0, 'lost order');
    const heard: TradingStateChange[] = [];
    risk.onChange = (c) => void heard.push(c);
    risk.haltInstrument(0, false, T0 + 1, 'found');
    risk.setState('REDUCING', T0 + 2, 'x');
    expect(heard).toEqual([
      { ts: T0 + 1, from: 'HALTED', to: 'ACTIVE', trigger: 'manual', reason: 'found', instrument: 0 },
      { ts: T0 + 2, from: 'ACTIVE', to: 'REDUCING', trigger: 'manual', reason: 'x' },
    ]);
    expect(risk.changes[0]).toEqual({ ts: T0, from: 'ACTIVE', to: 'HALTED', trigger: 'manual', reason: 'lost order', instrument: 0 });
  });

  it('restore: state, halted instruments in range, denials of known rules, the once-per-time guard; an unknown state is refused', () => {
    const { portfolio, risk } = setup({ maxDrawdown: 0.1 }, { instruments: 2 });
    portfolio.applyFill(booked(0, 100, 100, 0));
    risk.observe(T0);
    const saved = { ...risk.save(), haltedInstruments: [-1, 0, 1, 5], denials: { order_rate: 2, nonsense: 3 } as RiskState['denials'] };
    const r = setup({ maxDrawdown: 0.1 }, { instruments: 2 });
    r.risk.restore(saved);
    expect(r.risk.save()).toEqual({ ...risk.save(), haltedInstruments: [0, 1], denials: { order_rate: 2 } });
    expect(r.risk.engaged).toBe(true);
    r.risk.haltInstrument(1, false, T0, 'x');
    expect(r.risk.engaged).toBe(true); // instrument 0 is still halted
    r.risk.haltInstrument(0, false, T0, 'x');
    expect(r.risk.engaged).toBe(false);
    // the restored engine already looked at T0: a fall seen at T0 again is ignored
    r.portfolio.applyFill(booked(0, 100, 100, 0));
    r.portfolio.mark[0] = 50;
    expect(r.risk.observe(T0)).toBe(false);
    expect(r.risk.observe(T0 + 1)).toBe(true);

    const one = setup({}, { instruments: 2 });
    one.risk.restore({ ...saved, haltedInstruments: [1] });
    expect([one.risk.engaged, one.risk.isInstrumentHalted(0), one.risk.isInstrumentHalted(1)]).toEqual([true, false, true]);
    const reducing = setup({});
    reducing.risk.restore({ ...saved, state: 'REDUCING', haltedInstruments: [] });
    expect(reducing.risk.engaged).toBe(true);
    const active = setup({});
    active.risk.restore({ ...saved, haltedInstruments: [] });
    expect(active.risk.engaged).toBe(false);
    expect(thrown(() => active.risk.restore({ ...saved, state: 'OFF' as TradingState }))).toEqual(['invalid_risk_state', 'saved risk state must be one of ACTIVE, REDUCING, HALTED, was "OFF"', { state: 'OFF' }]);
  });
});
