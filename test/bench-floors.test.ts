/**
 * The engine benches' floors (bench/engine-floor.ts) must do the work they stand for: the fills floor, run over the
 * frame the engine runs, makes the engine's fills and its equity per bar. A floor that skipped work would report a
 * rate no engine could be held to.
 */
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../src/backtest/run-backtest.js';
import { fillsBenchSpec, smaReversal, smaReversalFloor, smaSignalsOnly, SLIPPAGE_BPS } from '../bench/engine-fills.bench.js';
import { fillsFloor } from '../bench/engine-floor.js';
import { makeFrame, randomWalkBars } from './support/frames.js';

describe('engine-fills floor', () => {
  const frame = makeFrame({ timeframe: '1m', start: '2025-05-04T00:00:00Z', bars: randomWalkBars(3000, 7), symbols: ['BTCUSDT'] });
  const spec = fillsBenchSpec(frame);
  const engine = runBacktest(spec, smaReversal());
  const floor = fillsFloor(frame, smaReversalFloor(), { slippageBps: SLIPPAGE_BPS, takerFee: spec.instruments[0]!.takerFee, initialCash: spec.initialCash })();

  it('makes the engine’s fills: time, side, quantity, price and fee', () => {
    expect(engine.fills.length).toBeGreaterThan(100);
    expect(floor.fills.length).toBe(engine.fills.length);
    floor.fills.forEach((f, k) => {
      const e = engine.fills[k]!;
      expect([f.ts, f.side, f.quantity]).toEqual([e.ts, e.side === 'buy' ? 1 : -1, e.quantity]);
      expect(f.price).toBeCloseTo(e.price, 9);
      expect(f.fee).toBeCloseTo(e.fee, 9);
    });
  });

  it('records the engine’s equity at every bar and one round trip per closed or reversed position', () => {
    const worst = floor.equity.reduce((m, v, t) => Math.max(m, Math.abs(v - engine.equity.value[t]!)), 0);
    expect(worst).toBeLessThan(1e-6);
    expect(floor.trips.length).toBe(engine.trades.length);
    floor.trips.forEach((r, k) => {
      const e = engine.trades[k]!;
      expect([r.entryTs, r.exitTs, Math.abs(r.quantity)]).toEqual([e.entryTs, e.exitTs, e.quantity]);
      expect(r.entryPrice).toBeCloseTo(e.entryPrice, 9);
      expect(r.exitPrice).toBeCloseTo(e.exitPrice, 9);
      expect(r.pnl).toBeCloseTo(e.pnl + e.fees + e.funding, 6); // the engine's trip PnL is net of its fees and funding
    });
  });

  it('the run without orders sees the same crosses as the strategy that trades them, and trades nothing', () => {
    const trading = smaReversal();
    runBacktest(spec, trading);
    const signals = smaSignalsOnly();
    const quiet = runBacktest(spec, signals);
    expect(trading.orders).toBeGreaterThan(100);
    expect(signals.crosses).toBe(trading.orders);
    expect(quiet.fills).toEqual([]);
  });

  it('starts every run from scratch (a second run repeats the first)', () => {
    const run = fillsFloor(frame, smaReversalFloor(), { slippageBps: SLIPPAGE_BPS, takerFee: spec.instruments[0]!.takerFee, initialCash: spec.initialCash });
    const first = run();
    expect(run().equity).toEqual(first.equity);
  });
});
