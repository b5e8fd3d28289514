/**
 * Risk state across a restart: a backtest with every risk rule on, stopped before bar k, its state serialised to JSON
 * and resumed in a fresh kernel, gives the uninterrupted run's orders, fills, equity, denials, state changes and
 * flattens.
 */
import { describe, expect, it } from 'vitest';
import { runBacktest, type BacktestState } from '../../backtest/run-backtest.js';
import { backtestSpec, testInstrument } from '../../../test/support/engine-scenarios.js';
import { makeFrame, randomWalkBars } from '../../../test/support/frames.js';
import type { Kernel } from '../kernel.js';
import type { Strategy } from '../strategy.js';
import type { RiskLimits } from './risk-limits.js';

/**
 * SMA(5/20) reversal between long 40 and short 45 units with a resting reduce-only take-profit; every 150 bars an "operator" sets ACTIVE
 * again, so the drawdown rule can fire more than once.
 */
function strategy(submitted: string[]): Strategy {
  return {
    name: 'riskrestart',
    onBar(ctx, bar) {
      const k = ctx as Kernel;
      if (bar.index % 150 === 0 && k.tradingState !== 'ACTIVE') k.setTradingState('ACTIVE', 'operator resumes');
      const h = ctx.history(0);
      if (h.length < 20) return;
      let fast = 0, slow = 0;
      for (let j = h.length - 5; j < h.length; j++) fast += h.close[j]!;
      for (let j = h.length - 20; j < h.length; j++) slow += h.close[j]!;
      const want = fast / 5 > slow / 20 ? 40 : -45;
      const position = ctx.position(0);
      if (Math.sign(position) === Math.sign(want)) return;
      for (const o of ctx.openOrders(0)) ctx.cancelOrder(o.clientOrderId);
      submitted.push(ctx.submitOrder({ instrument: 0, side: want > 0 ? 'buy' : 'sell', type: 'market', quantity: Math.abs(want - position) }));
      submitted.push(ctx.submitOrder({ instrument: 0, side: want > 0 ? 'sell' : 'buy', type: 'limit', price: bar.close * (want > 0 ? 1.02 : 0.98), quantity: 20, reduceOnly: true }));
    },
  };
}

describe('risk state across a backtest stop and resume', () => {
  const frame = makeFrame({ timeframe: '1h', start: '2024-01-01T00:00:00Z', bars: randomWalkBars(3000, 7) });
  const risk: RiskLimits = { maxLeverage: 0.42, maxDailyLoss: 0.02, maxDrawdown: 0.06, throttle: { maxOrders: 3, windowMs: 6 * 3600_000 } };
  const spec = backtestSpec(frame, [testInstrument()], { runId: 'risk1', risk });

  it('a resumed run gives the uninterrupted run, risk included', () => {
    const fullIds: string[] = [];
    const full = runBacktest(spec, strategy(fullIds));
    const r = full.risk!;
    // every kind of risk activity happens in this run
    expect(Object.keys(r.denials).sort()).toEqual(['max_leverage', 'order_rate', 'trading_state']);
    expect(new Set(r.stateChanges.map((c) => c.trigger))).toEqual(new Set(['max_daily_loss', 'utc_day_reset', 'max_drawdown', 'manual']));
    expect(r.flattens.length).toBeGreaterThan(1);

    for (const stop of [25, 700, 1500, 2999]) {
      const firstIds: string[] = [];
      const first = runBacktest(spec, strategy(firstIds), { stopBefore: stop });
      const saved = JSON.parse(JSON.stringify(first.state)) as BacktestState;
      const secondIds: string[] = [];
      const second = runBacktest(spec, strategy(secondIds), { resume: saved });
      expect([...firstIds, ...secondIds], `stop ${stop}`).toEqual(fullIds);
      expect([...first.fills, ...second.fills]).toEqual(full.fills);
      expect(second.equity.value[frame.ts.length - 1]).toBe(full.equity.value[frame.ts.length - 1]);
      expect(second.risk, `stop ${stop}`).toEqual(full.risk);
    }
  });

  it('a state saved before pre-trade risk existed (no `risk` field) still restores; the risk engine starts fresh', () => {
    const first = runBacktest(spec, strategy([]), { stopBefore: 700 });
    const { risk: _, ...oldKernel } = JSON.parse(JSON.stringify(first.state!.kernel)) as BacktestState['kernel'];
    const second = runBacktest(spec, strategy([]), { resume: { ...first.state!, kernel: oldKernel } });
    expect(second.equity.value.length).toBe(frame.ts.length);
    expect(second.risk!.stateChanges.every((c) => c.ts >= frame.ts[700]!)).toBe(true);
  });
});
