import { describe, expect, it } from 'vitest';
import type { Strategy, StrategyContext } from '../engine/strategy.js';
import { backtestSpec } from '../../test/support/engine-scenarios.js';
import { RL_BTC, signalMarket } from '../../test/support/rl-market.js';
import { BarStepper, runBacktest } from './run-backtest.js';

/** Buys 1 BTC when the signal is positive and sells when negative (flips), ordering from onBar, or later when deferred. */
function flipper(defer: boolean): Strategy & { pending: (() => void) | undefined } {
  const s: Strategy & { pending: (() => void) | undefined } = {
    name: 'flipper',
    pending: undefined,
    onBar(ctx: StrategyContext, bar) {
      const want = ctx.history(0).columns['signal']![bar.index]! > 0 ? 1 : -1;
      const order = want - ctx.position(0);
      const act = () => {
        if (order !== 0 && ctx.openOrderCount(0) === 0) ctx.submitOrder({ instrument: 0, side: order > 0 ? 'buy' : 'sell', type: 'market', quantity: Math.abs(order) });
      };
      if (defer) s.pending = act;
      else act();
    },
  };
  return s;
}

describe('BarStepper', () => {
  const { frame, signal } = signalMarket(120, 9);
  const spec = backtestSpec(frame, [RL_BTC], { name: 'stepper', columns: { signal: [signal] }, dataSources: [], warmupBars: 10 });

  it('an order given between next() and commit() trades as one given in onBar: the result equals runBacktest', () => {
    const reference = runBacktest(spec, flipper(false));
    const strategy = flipper(true);
    const stepper = new BarStepper(spec, strategy);
    let bars = 0;
    while (stepper.next()) {
      bars++;
      strategy.pending?.();
      strategy.pending = undefined;
      stepper.commit();
    }
    const result = stepper.finish();
    expect(bars).toBe(120);
    expect(reference.fills.length).toBeGreaterThan(10);
    expect(result.fills).toEqual(reference.fills);
    expect(Array.from(result.equity.value)).toEqual(Array.from(reference.equity.value));
  });

  it('refuses next() before the bar is committed and commit() without a bar; reports warm-up bars', () => {
    const stepper = new BarStepper(spec, flipper(true));
    expect(() => stepper.commit()).toThrow(/no bar to commit/);
    expect(stepper.next()).toBe(true);
    expect(stepper.bar).toBe(0);
    expect(stepper.warmingUp).toBe(true);
    expect(() => stepper.next()).toThrow(/bar 0 must be committed before the next one/);
    stepper.commit();
    for (let k = 1; k <= 10; k++) {
      stepper.next();
      if (k === 10) expect(stepper.warmingUp).toBe(false);
      stepper.commit();
    }
    expect(stepper.equity).toBe(10_000);
  });

  it('a run finished early refuses more bars and a second finish: its result reads records no later bar may change', () => {
    const stepper = new BarStepper(spec, flipper(false));
    for (let k = 0; k < 60; k++) {
      stepper.next();
      stepper.commit();
    }
    const result = stepper.finish();
    expect(() => stepper.next()).toThrow(/the run was finished at bar 60/);
    expect(() => stepper.finish()).toThrow(/finish was called already/);
    // Bars 10..59 of the window (the 10 warm-up bars are cut off): traded; the bars never run are 0.
    const position = Array.from(result.bars[0]!.position);
    expect(position).toHaveLength(110);
    expect(position.slice(0, 50).some((q) => q !== 0)).toBe(true);
    expect(position.slice(50).every((q) => q === 0)).toBe(true);
  });
});
