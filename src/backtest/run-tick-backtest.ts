import type { Strategy } from '../engine/strategy.js';
import type { BacktestResult } from './backtest-result.js';
import { FundingSchedule } from './funding-settlement.js';
import { buildResult, createSimulation, type SimulationSpec } from './run-backtest.js';

/** Trade ticks of one instrument, sorted by time: epoch ms, price, base quantity, aggressor side (+1 buy, -1 sell). */
export interface TickColumns {
  readonly ts: Float64Array;
  readonly price: Float64Array;
  readonly quantity: Float64Array;
  readonly side: Float64Array;
}

export interface TickBacktestSpec extends SimulationSpec {
  readonly ticks: readonly TickColumns[];
  /** Equity is sampled at every multiple of this interval (ms), e.g. 60_000. */
  readonly sampleEveryMs: number;
}

/**
 * Runs a strategy over trade ticks of several instruments merged by time (ties: instrument order). Per tick: working
 * orders of that instrument match against the tick price (same rules as bars), liquidation is checked, the
 * instrument is marked and the tick is delivered. Funding settles when time crosses a settlement (the 00/08/16 UTC grid, or the model's own times); equity is
 * sampled on the `sampleEveryMs` grid (value as of the last tick before the boundary).
 */
export function runTickBacktest(spec: TickBacktestSpec, strategy: Strategy): BacktestResult {
  const { instruments, ticks } = spec;
  const n = instruments.length;
  const { clock, kernel, exchange } = createSimulation(spec, strategy, Math.min(...ticks.map((t) => (t.ts.length ? t.ts[0]! : Infinity))), 16);
  const mark = kernel.portfolio.mark;
  const cursor = new Int32Array(n);
  const every = spec.sampleEveryMs;
  const start = clock.now();
  const end = Math.max(...ticks.map((t) => (t.ts.length ? t.ts[t.ts.length - 1]! : -Infinity)));
  const samples = Number.isFinite(start) ? Math.floor(end / every) - Math.floor(start / every) + 1 : 0;
  const equityTs = new Float64Array(samples);
  const equity = new Float64Array(samples);
  let sample = 0;
  let nextSample = (Math.floor(start / every) + 1) * every;
  // Funding: every settlement after the start, settled before the first tick at or after it (at the marks then).
  const funding = new FundingSchedule(spec.funding, n, start);

  kernel.start();
  for (;;) {
    // Next tick across instruments (ties → lowest index).
    let i = -1;
    let ts = Infinity;
    for (let k = 0; k < n; k++) {
      const c = cursor[k]!;
      const col = ticks[k]!.ts;
      if (c < col.length && col[c]! < ts) {
        ts = col[c]!;
        i = k;
      }
    }
    if (i < 0) break;
    while (ts >= nextSample) {
      equityTs[sample] = nextSample;
      equity[sample++] = kernel.portfolio.equity();
      nextSample += every;
    }
    if (ts >= funding.next) funding.settle(kernel, ts);
    const c = cursor[i]!;
    cursor[i] = c + 1;
    const tick = ticks[i]!;
    const price = tick.price[c]!;
    clock.advanceTo(ts);
    if (exchange.isActive(i) || exchange.hasCommands) {
      exchange.beginLiquidity(i, tick.quantity[c]!);
      exchange.processPrice(i, price, mark[i]!, tick.quantity[c]!, ts);
    }
    if (kernel.hasTimers) kernel.fireTimers();
    kernel.onTick(i, ts, price, tick.quantity[c]!, tick.side[c]!);
    if (exchange.hasCommands) exchange.processCommands(ts);
  }
  while (sample < samples) {
    equityTs[sample] = nextSample;
    equity[sample++] = kernel.portfolio.equity();
    nextSample += every;
  }
  kernel.stop();
  const noPositions = instruments.map(() => new Float64Array(0));
  return buildResult({ ...spec, timeframe: 'tick' }, kernel, exchange, { ts: equityTs, value: equity }, () => noPositions);
}

/**
 * Derives 4 trade ticks per bar from OHLCV bars: open → nearer extreme (high on a tie) → farther extreme → close,
 * the same path the bar engine uses, at tsOpen, +¼, +½ and +¾ of the bar, each with a quarter of the bar's volume
 * and side +1 when the price rose from the previous tick (else -1). Used where no real trade history exists.
 */
export function ticksFromBars(ts: Float64Array, open: Float64Array, high: Float64Array, low: Float64Array, close: Float64Array, volume: Float64Array, timeframeMs: number): TickColumns {
  const n = ts.length;
  const out = { ts: new Float64Array(4 * n), price: new Float64Array(4 * n), quantity: new Float64Array(4 * n), side: new Float64Array(4 * n) };
  let prev = NaN;
  for (let b = 0; b < n; b++) {
    const o = open[b]!, h = high[b]!, l = low[b]!;
    const highFirst = h - o <= o - l;
    const path = [o, highFirst ? h : l, highFirst ? l : h, close[b]!];
    for (let k = 0; k < 4; k++) {
      const j = 4 * b + k;
      out.ts[j] = ts[b]! + (k * timeframeMs) / 4;
      out.price[j] = path[k]!;
      out.quantity[j] = volume[b]! / 4;
      out.side[j] = path[k]! >= prev || prev !== prev ? 1 : -1;
      prev = path[k]!;
    }
  }
  return out;
}
