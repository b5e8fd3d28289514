import { describe, expect, it } from 'vitest';
import type { Strategy } from '../engine/strategy.js';
import { backtestSpec, testInstrument } from '../../test/support/engine-scenarios.js';
import { makeFrame, type Ohlcv } from '../../test/support/frames.js';
import { runBacktest, runBacktestWithSignals } from './run-backtest.js';

const X = testInstrument();
/** 80 1h bars: up 40, then down 40. */
const bars: Ohlcv[] = Array.from({ length: 80 }, (_, k) => {
  const c = k < 40 ? 100 + k : 140 - (k - 40) * 1.5;
  return [c, c + 0.5, c - 0.5, c, 1000];
});
const frame = makeFrame({ timeframe: '1h', start: '2024-01-01T00:00:00Z', bars });

/** Long when the close is above its 20-bar mean, short below; the decision needs 20 bars of history. */
function meanReversion(decisions: { index: number; ts: number; id: string }[]): Strategy {
  return {
    name: 'test',
    onBar(ctx, bar) {
      const h = ctx.history(0);
      if (h.length < 20) return;
      let sum = 0;
      for (let k = h.length - 20; k < h.length; k++) sum += h.close[k]!;
      const want = bar.close > sum / 20 ? 1 : -1;
      const delta = want - ctx.position(0);
      if (delta === 0 || ctx.openOrderCount(0) > 0) return;
      decisions.push({ index: bar.index, ts: bar.tsEvent, id: ctx.submitOrder({ instrument: 0, side: delta > 0 ? 'buy' : 'sell', type: 'market', quantity: Math.abs(delta) }) });
    },
  };
}

describe('warm-up before the window', () => {
  it('replays the warm-up bars without trading: results start at the window, the first decision can be on its first bar', () => {
    const decisions: { index: number; ts: number; id: string }[] = [];
    const r = runBacktest(backtestSpec(frame, [X], { warmupBars: 25 }), meanReversion(decisions));
    // decisions 19..24 fell in the warm-up: held back (id ''), never filled
    const held = decisions.filter((d) => d.index < 25);
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((d) => d.id === '')).toBe(true);
    // the window starts at bar 25: the strategy already has 25 bars of history and decides on the window's first bar
    expect(decisions.find((d) => d.index >= 25)!.index).toBe(25);
    expect(r.equity.ts.length).toBe(55);
    expect(r.equity.ts[0]).toBe(frame.ts[25]! + 3_600_000);
    expect(r.bars[0]!.ts.length).toBe(55);
    expect(r.bars[0]!.present).toEqual(frame.present[0]!.subarray(25));
    expect(r.fills[0]!.ts).toBe(frame.ts[26]); // the window's first order fills at the next open
    expect(r.notes[0]).toMatch(/^warm-up: 25 bars from 2024-01-01T00:00:00.000Z to 2024-01-02T00:00:00.000Z .* orders held back, none traded\)$/);
  });

  it('a cold start cannot decide until its own history fills; warm-up makes the window trade like a longer run', () => {
    const cold: { index: number; ts: number; id: string }[] = [];
    const window = makeFrame({ timeframe: '1h', start: '2024-01-02T01:00:00Z', bars: bars.slice(25) });
    runBacktest(backtestSpec(window, [X]), meanReversion(cold));
    expect(cold[0]!.index).toBe(19); // 20 bars needed
    // with warm-up, the window's decisions are those of one uninterrupted run from bar 0 (once the position agrees)
    const warm: { index: number; ts: number; id: string }[] = [];
    const full: { index: number; ts: number; id: string }[] = [];
    runBacktest(backtestSpec(frame, [X], { warmupBars: 25 }), meanReversion(warm));
    runBacktest(backtestSpec(frame, [X]), meanReversion(full));
    const after = (d: { ts: number }[]) => d.filter((x) => x.ts > frame.ts[40]!).map((x) => x.ts);
    expect(after(warm)).toEqual(after(full));
  });

  it('is causal: cutting bars after the window end changes no decision before it', () => {
    const all: { index: number; ts: number; id: string }[] = [];
    const cutFrame = makeFrame({ timeframe: '1h', start: '2024-01-01T00:00:00Z', bars: bars.slice(0, 60) });
    const cut: { index: number; ts: number; id: string }[] = [];
    runBacktest(backtestSpec(frame, [X], { warmupBars: 25 }), meanReversion(all));
    runBacktest(backtestSpec(cutFrame, [X], { warmupBars: 25 }), meanReversion(cut));
    expect(cut).toEqual(all.filter((d) => d.index < 60));
  });

  it('the signal stage runs through the warm-up too (its values fill the history before the window)', async () => {
    const seen: number[] = [];
    const stage = {
      onBars: async (t: number, present: readonly Uint8Array[], out: readonly Float64Array[]) => {
        for (let i = 0; i < out.length; i++) if (present[i]![t] !== 0) out[i]![t] = t * 10;
      },
    };
    const strategy: Strategy = { name: 'test', onBar: (ctx, bar) => void seen.push(ctx.history(0).columns['signal']![bar.index]!) };
    const r = await runBacktestWithSignals(backtestSpec(frame, [X], { warmupBars: 10 }), strategy, { stage, column: 'signal' });
    expect(seen.slice(0, 12)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
    expect(r.equity.value.length).toBe(70);
  });
});
