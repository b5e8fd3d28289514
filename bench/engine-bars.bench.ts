import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { FixedBpsSlippage, TableFundingModel } from '../src/backtest/execution-models.js';
import { runBacktest, type BacktestSpec } from '../src/backtest/run-backtest.js';
import { BYBIT_LINEAR_PERPETUALS } from '../src/core/instrument.js';
import type { BarFrame } from '../src/data/bar-frame.js';
import { importPath, loadBars, MarketStore } from '../src/data/index.js';
import type { BarEvent, Strategy, StrategyContext } from '../src/engine/strategy.js';
import { median, type Benchmark } from './bench-result.js';
import { floorInChild } from './engine-floor.js';
import { MACHINE_WHAT, referenceLoopMs } from './machine-speed.js';

export const RUNS_PER_ROUND = 1000;
export const ROUNDS = 3;

/**
 * Bar events per second through `runBacktest` for an empty strategy that keeps one resting limit order working per
 * instrument, so the simulated venue matches on every bar (4 path points each) besides marking: the 3-symbol 4h
 * binance-spot frame of the default experiment (BTC/ETH/SOL, 2022-01-01..2025-09-01, 24,102 bar events per run) is
 * replayed 420 times per timing round (≥ 10 million events); the figure is the median of 3 rounds after a warm-up.
 * Each run is a full backtest: kernel, simulated exchange and result assembly included.
 */
/** Keeps one resting limit buy 20 % below the close working per instrument: placed when none works, never touched otherwise. */
export function restingOrder(): Strategy & { orders: number } {
  const s = {
    name: 'resting',
    orders: 0,
    onStart() {
      s.orders = 0;
    },
    onBar(ctx: StrategyContext, bar: BarEvent) {
      if (ctx.openOrderCount(bar.instrument) > 0) return;
      ctx.submitOrder({ instrument: bar.instrument, side: 'buy', type: 'limit', price: bar.close * 0.8, quantity: ctx.roundQuantity(bar.instrument, 50 / bar.close) || 0.01 });
      s.orders++;
    },
  };
  return s;
}

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];

/** The frame of the benchmark: binance-spot 4h BTCUSDT, ETHUSDT, SOLUSDT 2022-01-01..2025-09-01 from the shared data. */
export async function barsBenchFrame(): Promise<BarFrame> {
  const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
  const store = await MarketStore.open(':memory:');
  await importPath(store, join(root, 'binance-spot'));
  const frame = await loadBars(store, { venue: 'binance-spot', symbols: SYMBOLS, timeframe: '4h', start: Date.UTC(2022, 0, 1), end: Date.UTC(2025, 8, 1), missing: 'error' });
  store.close();
  return frame;
}

/** The backtest of the benchmark over {@link barsBenchFrame}'s frame: Bybit USDT perp rules, 10,000 USDT, no leverage. */
export function barsBenchSpec(frame: BarFrame): BacktestSpec {
  return {
    name: 'engine-bars',
    instruments: SYMBOLS.map((s) => BYBIT_LINEAR_PERPETUALS[s]!),
    frame,
    initialCash: 10_000,
    leverage: 1,
    slippage: new FixedBpsSlippage(2),
    funding: new TableFundingModel([null, null, null], { kind: 'zero' }),
    periodsPerYear: 2190,
    dataSources: [],
    seed: 1,
    config: {},
  };
}

const bench: Benchmark = {
  name: 'engine-bars',
  async run() {
    const frame = await barsBenchFrame();
    const eventsPerRun = frame.present.reduce((a, p) => a + p.reduce((x, y) => x + y, 0), 0);
    const spec = barsBenchSpec(frame);
    const strategy = restingOrder();
    let probe = runBacktest(spec, strategy);
    for (let k = 0; k < 40; k++) probe = runBacktest(spec, strategy); // warm-up (JIT)
    const rates: number[] = [], referenceMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      referenceMs.push(referenceLoopMs());
      const t0 = performance.now();
      for (let k = 0; k < RUNS_PER_ROUND; k++) runBacktest(spec, strategy);
      const seconds = (performance.now() - t0) / 1000;
      rates.push((RUNS_PER_ROUND * eventsPerRun) / seconds);
    }
    // Each floor runs in a fresh process: two variants in one process share their closures' type feedback, and the
    // second one measured 15–30 % slow.
    const floor = floorInChild('bars-eager');
    const lazyFloor = floorInChild('bars-lazy');
    return {
      name: 'engine-bars',
      value: Math.round(median(rates)),
      unit: 'bar-events/s',
      target: 50_000_000,
      better: 'higher',
      details: {
        statistic: `median of ${ROUNDS} timing rounds after 40 warm-up runs`,
        rounds: rates.map((r) => Math.round(r)),
        machine: { referenceMs, what: MACHINE_WHAT },
        eventsPerRun,
        runsPerRound: RUNS_PER_ROUND,
        eventsPerRound: RUNS_PER_ROUND * eventsPerRun,
        input: 'binance-spot 4h BTCUSDT, ETHUSDT, SOLUSDT 2022-01-01..2025-09-01 (../shared/data), Bybit USDT perp rules',
        strategy: 'onBar does nothing but keep one resting limit buy 20 % below the close working per instrument (placed once, re-placed after a fill)',
        venueBarsCheckedPerRun: probe.venueBarsChecked,
        venuePriceEventsPerRun: probe.venuePriceEvents,
        fillsPerRun: probe.fills.length,
        ordersPerRun: strategy.orders,
        floor: {
          value: floor.value,
          rounds: floor.rounds,
          machine: { referenceMs: floor.referenceMs },
          unit: 'bar-events/s',
          what: 'the same frame through a hand-written loop with no engine (bench/engine-floor.ts): resting-limit range check, mark, bar object to a strategy callback, equity/position/PnL recorded; what V8 on this machine does at most, not a target',
        },
        floorLazyBar: {
          value: lazyFloor.value,
          rounds: lazyFloor.rounds,
          machine: { referenceMs: lazyFloor.referenceMs },
          unit: 'bar-events/s',
          what: 'the floor loop handing the strategy a bar that reads its fields from the columns when asked (3 stores per event instead of 9)',
        },
        node: process.version,
        cpu: cpus()[0]?.model ?? 'unknown',
      },
    };
  },
};
export default bench;
