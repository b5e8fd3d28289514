import { describe, expect, it } from 'vitest';
import type { Fill, OrderSnapshot } from '../core/order.js';
import type { Strategy, StrategyContext } from '../engine/strategy.js';
import { at, backtestSpec, testInstrument, testOrderId } from '../../test/support/engine-scenarios.js';
import { makeFrame, type Ohlcv } from '../../test/support/frames.js';
import { FixedLatency, VolumeParticipationFillModel } from './execution-models.js';
import { runBacktest } from './run-backtest.js';

// Instrument: lot 0.001, min notional 5, maker 0.0002, taker 0.00055, no slippage (test/support/engine-scenarios.ts).
const X = testInstrument();
const start = '2024-01-01T00:00:00Z';

/** A strategy that runs `script[bar.index]` and records every hook call with the order snapshot it saw. */
function recording(script: Record<number, (ctx: StrategyContext) => void>) {
  const log: { hook: string; id: string; status?: string; filled?: number; leaves?: number; average?: number; quantity?: number; price?: number; fee?: number; reason?: string }[] = [];
  const snap = (hook: string, o: OrderSnapshot, reason?: string) =>
    log.push({ hook, id: o.clientOrderId, status: o.status, filled: o.filledQuantity, leaves: o.leavesQuantity, average: o.averageFillPrice, ...(reason ?? o.reason ? { reason: reason ?? o.reason } : {}) });
  const strategy: Strategy = {
    name: 'test',
    onBar(ctx, bar) {
      script[bar.index]?.(ctx);
    },
    onOrderAccepted: (_ctx, o) => snap('accepted', o),
    onOrderRejected: (_ctx, o) => snap('rejected', o),
    onOrderCanceled: (_ctx, o) => snap('canceled', o),
    onOrderCancelRejected: (_ctx, o, reason) => snap('cancel-rejected', o, reason),
    onOrderExpired: (_ctx, o) => snap('expired', o),
    onOrderFilled(ctx, f: Fill) {
      const o = ctx.order(f.clientOrderId)!;
      log.push({ hook: 'filled', id: f.clientOrderId, status: o.status, filled: o.filledQuantity, leaves: o.leavesQuantity, average: o.averageFillPrice, quantity: f.quantity, price: f.price, fee: f.fee });
    },
  };
  return { strategy, log };
}

describe('order lifecycle through the kernel and the simulated venue', () => {
  it('partial fills (volume cap): quantities, average price and fees per fill by hand', () => {
    // cap 0.1 % of volume: bars of volume 1000 let 1.0 fill per bar, at each bar's open (taker, no slippage).
    const bars: Ohlcv[] = [[100, 100, 100, 100, 1000], [100, 101, 99, 100, 1000], [110, 111, 109, 110, 1000], [120, 121, 119, 120, 500], [130, 131, 129, 130, 1000]];
    const { strategy, log } = recording({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 2.5 }) });
    const r = runBacktest(backtestSpec(makeFrame({ timeframe: '4h', start, bars }), [X], { fill: new VolumeParticipationFillModel(0.001) }), strategy);
    const id = testOrderId('2024-01-01T04:00:00Z');
    // fills: 1 @ 100, 1 @ 110, 0.5 @ 120 (bar 3 has volume 500 → 0.5 available); average = (100 + 110 + 60) / 2.5 = 108
    expect(r.fills.map((f) => [f.quantity, f.price])).toEqual([[1, 100], [1, 110], [0.5, 120]]);
    expect(log).toEqual([
      { hook: 'accepted', id, status: 'ACCEPTED', filled: 0, leaves: 2.5, average: NaN },
      { hook: 'filled', id, status: 'PARTIALLY_FILLED', filled: 1, leaves: 1.5, average: 100, quantity: 1, price: 100, fee: 100 * 0.00055 },
      { hook: 'filled', id, status: 'PARTIALLY_FILLED', filled: 2, leaves: 0.5, average: 105, quantity: 1, price: 110, fee: 110 * 0.00055 },
      { hook: 'filled', id, status: 'FILLED', filled: 2.5, leaves: 0, average: 108, quantity: 0.5, price: 120, fee: 0.5 * 120 * 0.00055 },
    ]);
    expect(r.feesPaid).toBeCloseTo((100 + 110 + 60) * 0.00055, 12);
  });

  it('a resting limit fills in parts at its limit as maker, each part with the maker fee', () => {
    // sell limit 2 @ 105 (cap 0.1 % → 1 per bar); bars 1 and 2 reach 106.
    const bars: Ohlcv[] = [[100, 100, 100, 100, 1000], [100, 106, 99, 104, 1000], [104, 106, 103, 104, 1000], [104, 104, 104, 104, 1000]];
    const { strategy, log } = recording({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'limit', price: 105, quantity: 2 }) });
    const r = runBacktest(backtestSpec(makeFrame({ timeframe: '4h', start, bars }), [X], { fill: new VolumeParticipationFillModel(0.001) }), strategy);
    expect(r.fills.map((f) => [f.quantity, f.price, f.liquidity, f.fee])).toEqual([[1, 105, 'maker', 105 * 0.0002], [1, 105, 'maker', 105 * 0.0002]]);
    expect(log.map((l) => l.status)).toEqual(['ACCEPTED', 'PARTIALLY_FILLED', 'FILLED']);
  });

  it('cancel race: the cancel arrives after the fill → cancel rejected, the order stays FILLED', () => {
    // latency 1 min. bar 0 close 04:00: buy limit 99 (arrives 04:01). bar 1 (04:00–08:00) never reaches 99.
    // bar 1 close 08:00: cancel sent, arrives 08:01 — but bar 2 opens at 98 at 08:00 and fills the limit first.
    const bars: Ohlcv[] = [[100, 100, 100, 100, 1000], [100, 101, 99.5, 100, 1000], [98, 99, 97, 98, 1000], [98, 98, 98, 98, 1000]];
    let id = '';
    const { strategy, log } = recording({
      0: (ctx) => void (id = ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 99, quantity: 1 })),
      1: (ctx) => expect(ctx.cancelOrder(id)).toBe(true),
    });
    const r = runBacktest(backtestSpec(makeFrame({ timeframe: '4h', start, bars }), [X], { latency: new FixedLatency(60_000) }), strategy);
    expect(r.fills.map((f) => [f.ts, f.price, f.liquidity])).toEqual([[at('2024-01-01T08:00:00Z'), 99, 'maker']]);
    expect(log.map((l) => [l.hook, l.status])).toEqual([['accepted', 'ACCEPTED'], ['filled', 'FILLED'], ['cancel-rejected', 'FILLED']]);
    expect(log[2]!.reason).toMatch(/not working/);
  });

  it('cancel before any fill: PENDING_CANCEL, then CANCELED; the order never fills', () => {
    const bars: Ohlcv[] = [[100, 100, 100, 100, 1000], [100, 101, 99.5, 100, 1000], [98, 99, 97, 98, 1000]];
    let id = '';
    const seen: string[] = [];
    const { strategy, log } = recording({
      0: (ctx) => void (id = ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 99, quantity: 1 })),
      1: (ctx) => {
        ctx.cancelOrder(id);
        seen.push(ctx.order(id)!.status);
      },
    });
    const r = runBacktest(backtestSpec(makeFrame({ timeframe: '4h', start, bars }), [X]), strategy);
    expect(seen).toEqual(['PENDING_CANCEL']);
    expect(r.fills).toEqual([]);
    expect(log.map((l) => [l.hook, l.status])).toEqual([['accepted', 'ACCEPTED'], ['canceled', 'CANCELED']]);
  });

  it('latency: a market order that arrives after the open fills at the next price of the path', () => {
    // bar 1 path: open 100 → high 102 (nearer) → low 97 → close 101; the order arrives at 04:00:00.5, after the open.
    const bars: Ohlcv[] = [[100, 100, 100, 100, 1000], [100, 102, 97, 101, 1000]];
    const { strategy } = recording({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }) });
    const zero = runBacktest(backtestSpec(makeFrame({ timeframe: '4h', start, bars }), [X]), strategy);
    const late = runBacktest(backtestSpec(makeFrame({ timeframe: '4h', start, bars }), [X], { latency: new FixedLatency(500) }), recording({ 0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }) }).strategy);
    expect(zero.fills.map((f) => f.price)).toEqual([100]);
    expect(late.fills.map((f) => f.price)).toEqual([102]);
  });

  it('IOC, FOK, post-only and reduce-only reach the strategy as venue events with reasons', () => {
    const bars: Ohlcv[] = [[100, 100, 100, 100, 1000], [100, 100, 100, 100, 1000], [100, 100, 100, 100, 1000]];
    const { strategy, log } = recording({
      0: (ctx) => {
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 99, quantity: 1, timeInForce: 'IOC' }); // not marketable → canceled
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 2, timeInForce: 'FOK' }); // 1 available → canceled
        ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 100.5, quantity: 1, postOnly: true }); // marketable → rejected
        ctx.submitOrder({ instrument: 0, side: 'sell', type: 'market', quantity: 1, reduceOnly: true }); // flat → rejected
      },
    });
    runBacktest(backtestSpec(makeFrame({ timeframe: '4h', start, bars }), [X], { fill: new VolumeParticipationFillModel(0.001) }), strategy);
    const byId = (seq: number) => log.filter((l) => l.id === testOrderId('2024-01-01T04:00:00Z', seq)).map((l) => `${l.hook}:${l.status}`);
    expect(byId(0)).toEqual(['accepted:ACCEPTED', 'canceled:CANCELED']);
    expect(byId(1)).toEqual(['accepted:ACCEPTED', 'canceled:CANCELED']);
    expect(byId(2)).toEqual(['rejected:REJECTED']);
    expect(byId(3)).toEqual(['accepted:ACCEPTED', 'rejected:REJECTED']);
    expect(log.find((l) => l.id === testOrderId('2024-01-01T04:00:00Z', 1) && l.hook === 'canceled')!.reason).toMatch(/FOK .* could not fill completely/);
  });

  it('strategies only get frozen snapshots: they cannot change the engine’s orders', () => {
    const bars: Ohlcv[] = [[100, 100, 100, 100, 1000], [100, 101, 99.5, 100, 1000], [100, 100, 100, 100, 1000]];
    const seen: OrderSnapshot[] = [];
    const strategy: Strategy = {
      name: 'test',
      onBar(ctx, bar) {
        if (bar.index === 0) ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: 90, quantity: 1 });
        if (bar.index === 1) {
          const [o] = ctx.openOrders(0);
          seen.push(o!);
          expect(Object.isFrozen(o)).toBe(true);
          expect(() => ((o as { status: string }).status = 'FILLED')).toThrow(TypeError);
          expect(ctx.openOrderCount(0)).toBe(1);
        }
      },
    };
    runBacktest(backtestSpec(makeFrame({ timeframe: '4h', start, bars }), [X]), strategy);
    expect(seen[0]!.status).toBe('ACCEPTED');
  });
});
