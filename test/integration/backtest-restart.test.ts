/**
 * Restart safety of order ids: a backtest stopped before bar k, its state serialised to JSON and resumed in a fresh
 * kernel and venue, issues the same client order ids for the same decisions as the uninterrupted run, and never two
 * orders with one id.
 */
import { describe, expect, it } from 'vitest';
import { runBacktest, type BacktestState } from '../../src/backtest/run-backtest.js';
import { parseClientOrderId } from '../../src/core/client-order-id.js';
import type { Strategy } from '../../src/engine/strategy.js';
import { backtestSpec, testInstrument } from '../support/engine-scenarios.js';
import { makeFrame, randomWalkBars } from '../support/frames.js';

/** SMA(10/30) reversal with a resting reduce-only take-profit (canceled on each reversal): orders live across bars. */
function strategy(submitted: string[]): Strategy {
  return {
    name: 'restart',
    onBar(ctx, bar) {
      const h = ctx.history(0);
      if (h.length < 30) return;
      let fast = 0, slow = 0;
      for (let k = h.length - 10; k < h.length; k++) fast += h.close[k]!;
      for (let k = h.length - 30; k < h.length; k++) slow += h.close[k]!;
      const want = fast / 10 > slow / 30 ? 1 : -1;
      const position = ctx.position(0);
      if (Math.sign(position) === want) return;
      for (const o of ctx.openOrders(0)) ctx.cancelOrder(o.clientOrderId);
      submitted.push(ctx.submitOrder({ instrument: 0, side: want > 0 ? 'buy' : 'sell', type: 'market', quantity: Math.abs(want - position) }));
      submitted.push(ctx.submitOrder({ instrument: 0, side: want > 0 ? 'sell' : 'buy', type: 'limit', price: bar.close * (want > 0 ? 1.02 : 0.98), quantity: 0.5, reduceOnly: true }));
    },
  };
}

describe('backtest stop and resume', () => {
  const frame = makeFrame({ timeframe: '1h', start: '2024-01-01T00:00:00Z', bars: randomWalkBars(3000, 11) });
  const spec = backtestSpec(frame, [testInstrument()], { runId: 'restart1' });

  it('resumed runs issue the same ids for the same decisions and never reuse an id', () => {
    const fullIds: string[] = [];
    const full = runBacktest(spec, strategy(fullIds));
    expect(full.fills.length).toBeGreaterThan(150);
    expect(full.fills.some((f) => f.liquidity === 'maker')).toBe(true);
    expect(new Set(fullIds).size).toBe(fullIds.length);

    for (const stop of [31, 500, 1234, 2999]) {
      const firstIds: string[] = [];
      const first = runBacktest(spec, strategy(firstIds), { stopBefore: stop });
      const saved = JSON.parse(JSON.stringify(first.state)) as BacktestState; // a new process reads it back
      expect(saved.nextBar).toBe(stop);
      const secondIds: string[] = [];
      const second = runBacktest(spec, strategy(secondIds), { resume: saved });
      const ids = [...firstIds, ...secondIds];
      expect(ids, `stop ${stop}`).toEqual(fullIds);
      expect(new Set(ids).size).toBe(ids.length);
      // the fills before the stop and after the restart are the uninterrupted run's, in order
      expect([...first.fills, ...second.fills]).toEqual(full.fills);
      expect(second.equity.value[frame.ts.length - 1]).toBe(full.equity.value[frame.ts.length - 1]);
      expect(second.notes.filter((n) => /duplicate/.test(n))).toEqual([]);
    }
    expect(fullIds.every((id) => parseClientOrderId(id).success && id.startsWith('restart1_restart_0_'))).toBe(true);
  });

  it('replaying a decision whose order the saved state already holds sends nothing twice', () => {
    const first = runBacktest(spec, strategy([]), { stopBefore: 600 });
    const state = first.state!;
    const held = state.kernel.orders.orders;
    const last = parseClientOrderId(held.at(-1)!.clientOrderId);
    if (!last.success) throw last.error;
    // A process that crashed after sending the decision of the last bar but before saving its id counters replays
    // that decision: same instrument, same decision time, sequence from 0 again.
    const replayed: string[] = [];
    const replay: Strategy = {
      name: 'restart',
      onStart(ctx) {
        replayed.push(ctx.submitOrder({ instrument: 0, side: held.at(-2)!.side, type: 'market', quantity: held.at(-2)!.quantity }));
      },
    };
    const resumed = runBacktest(spec, replay, {
      stopBefore: 600,
      resume: { ...state, kernel: { ...state.kernel, now: last.data.time, idSequence: [{ time: -1, next: 0 }] } },
    });
    expect(replayed).toEqual([held.at(-2)!.clientOrderId]);
    expect(resumed.state!.kernel.orders.orders).toHaveLength(held.length); // nothing new was created or sent
    expect(resumed.notes.filter((n) => /duplicate/.test(n))).toEqual([]);
  });
});
