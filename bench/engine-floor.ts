import type { BarFrame } from '../src/data/bar-frame.js';
import { median } from './bench-result.js';

/**
 * The floor under `engine-bars`: bar events per second of a hand-written loop over the same frame that does only the
 * least any event-by-event bar backtest must do per event, with no engine at all — a range check of one resting buy
 * limit per instrument, the mark, a bar object handed to a strategy callback (which looks at its open-order count,
 * as the benchmark's strategy does), and equity, position and PnL recorded per bar into arrays allocated per run.
 * No order lifecycle, no venue rules, no liquidation, funding, timers, history or risk. It tells how far the engine
 * is from what this machine and V8 can do at all; it is not a target.
 */
export function floorRate(frame: BarFrame, runs: number, rounds: number): { readonly value: number; readonly rounds: readonly number[] } {
  const n = frame.close.length;
  const T = frame.ts.length;
  const events = frame.present.reduce((a, p) => a + p.reduce((x, y) => x + y, 0), 0);
  const ctx = { open: new Int32Array(n) };
  const strategy = {
    onBar(c: typeof ctx, bar: { instrument: number; close: number }): void {
      if (c.open[bar.instrument]! > 0) return;
      c.open[bar.instrument] = 1;
    },
  };
  const bar = { instrument: 0, index: 0, tsOpen: 0, tsEvent: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
  const run = (): number => {
    const mark = new Float64Array(n).fill(NaN), q = new Float64Array(n), entry = new Float64Array(n), limit = new Float64Array(n);
    const count = new Int32Array(n);
    const equityTs = new Float64Array(T), equity = new Float64Array(T);
    const positions = Array.from({ length: n }, () => new Float64Array(T)), pnl = Array.from({ length: n }, () => new Float64Array(T));
    ctx.open.fill(0);
    const { ts, open, high, low, close, volume, present } = frame;
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < n; i++) {
        if (present[i]![t] === 0 || ctx.open[i] === 0 || low[i]![t]! > limit[i]!) continue;
        q[i] = q[i]! + 1;
        entry[i] = limit[i]!;
        ctx.open[i] = 0;
      }
      for (let i = 0; i < n; i++) if (present[i]![t] !== 0) mark[i] = close[i]![t]!;
      for (let i = 0; i < n; i++) {
        if (present[i]![t] === 0) continue;
        bar.instrument = i;
        bar.index = count[i]!++;
        bar.tsOpen = ts[t]!;
        bar.tsEvent = ts[t]! + 1;
        bar.open = open[i]![t]!;
        bar.high = high[i]![t]!;
        bar.low = low[i]![t]!;
        bar.close = close[i]![t]!;
        bar.volume = volume[i]![t]!;
        strategy.onBar(ctx, bar);
        if (ctx.open[i] === 1 && limit[i] !== bar.close * 0.8) limit[i] = bar.close * 0.8;
      }
      let e = 10_000;
      for (let i = 0; i < n; i++) {
        const u = q[i] === 0 ? 0 : q[i]! * (mark[i]! - entry[i]!);
        e += u;
        positions[i]![t] = q[i]!;
        pnl[i]![t] = u;
      }
      equityTs[t] = ts[t]! + 1;
      equity[t] = e;
    }
    return equity[T - 1]!;
  };
  for (let k = 0; k < 40; k++) run(); // warm-up (JIT)
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let k = 0; k < runs; k++) run();
    rates.push((runs * events) / ((performance.now() - t0) / 1000));
  }
  return { value: Math.round(median(rates)), rounds: rates.map((x) => Math.round(x)) };
}
