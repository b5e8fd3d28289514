import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { FixedBpsSlippage, TableFundingModel } from '../src/backtest/execution-models.js';
import { runBacktest, type BacktestSpec } from '../src/backtest/run-backtest.js';
import { BYBIT_LINEAR_PERPETUALS } from '../src/core/instrument.js';
import { MINUTE_MS } from '../src/core/time.js';
import type { BarFrame } from '../src/data/bar-frame.js';
import { importPath, loadBars, MarketStore } from '../src/data/index.js';
import type { Strategy } from '../src/engine/strategy.js';
import { median, type Benchmark } from './bench-result.js';
import { floorInChild, type FloorStrategy } from './engine-floor.js';
import { watchGcPauses, type GcPauses } from './gc-pauses.js';
import { MACHINE_WHAT, referenceLoopMs } from './machine-speed.js';

const REPEATS = 5;
export const ROUNDS = 15;
/** Slippage of every fill, in basis points against the taker. */
export const SLIPPAGE_BPS = 1;

/**
 * The SMA(fast)/SMA(slow) crossover's decisions: running sums of closes in a ring buffer, O(1) per bar, no allocation
 * (the sums live in a typed array: a closure variable holding a double would box it on every update).
 */
export function smaCross(fast = 10, slow = 30): { reset(): void; step(close: number): number } {
  const ring = new Float64Array(slow);
  const sums = new Float64Array(2); // [fast, slow]
  let n = 0, side = 0;
  return {
    reset() {
      ring.fill(0);
      sums.fill(0);
      n = 0;
      side = 0;
    },
    /** Feeds one close; returns the side (+1 long, −1 short) to turn to, or 0 to stay. */
    step(c: number): number {
      const k = n % slow;
      sums[1] = sums[1]! + c - ring[k]!;
      sums[0] = sums[0]! + c - (n >= fast ? ring[(n - fast) % slow]! : 0);
      ring[k] = c;
      n++;
      if (n < slow) return 0;
      const want = sums[0]! * slow > sums[1]! * fast ? 1 : -1;
      if (want === side) return 0;
      side = want;
      return want;
    },
  };
}

/** Order size of a turn to `side`: 1 for the first entry, 2 (reversing ±1) after. */
const turnQuantity = (orders: number): number => (orders === 0 ? 1 : 2);

/** SMA(10)/SMA(30) crossover that holds ±1 BTC and reverses on every cross (a 2 BTC market order; 1 BTC for the first entry). */
export function smaReversal(fast = 10, slow = 30): Strategy & { orders: number } {
  const cross = smaCross(fast, slow);
  const s = {
    name: 'sma-reversal',
    orders: 0,
    onStart() {
      cross.reset();
      s.orders = 0;
    },
    onBar(ctx: Parameters<NonNullable<Strategy['onBar']>>[0], bar: Parameters<NonNullable<Strategy['onBar']>>[1]) {
      const want = cross.step(bar.close);
      if (want === 0) return;
      ctx.submitOrder({ instrument: 0, side: want > 0 ? 'buy' : 'sell', type: 'market', quantity: turnQuantity(s.orders) });
      s.orders++;
    },
  };
  return s;
}

/** {@link smaReversal}'s SMAs and crosses without its orders: what the engine's bar loop costs with the same strategy work. */
export function smaSignalsOnly(fast = 10, slow = 30): Strategy & { crosses: number } {
  const cross = smaCross(fast, slow);
  const s = {
    name: 'sma-signals',
    crosses: 0,
    onStart() {
      cross.reset();
      s.crosses = 0;
    },
    onBar(_ctx: Parameters<NonNullable<Strategy['onBar']>>[0], bar: Parameters<NonNullable<Strategy['onBar']>>[1]) {
      if (cross.step(bar.close) !== 0) s.crosses++;
    },
  };
  return s;
}

/**
 * Bars per second of {@link ROUNDS} timed `runBacktest` runs of `strategy` after 5 warm-up runs, the machine's speed
 * just before each (see bench/machine-speed.ts), the collector's pauses during them, the operating system's share of
 * them (see {@link KernelTime}), and the fills of the last run.
 */
export async function engineRates(spec: BacktestSpec, strategy: Strategy): Promise<{ rates: number[]; referenceMs: number[]; pauses: GcPauses; kernel: KernelTime; fills: number }> {
  let fills = 0;
  for (let k = 0; k < 5; k++) fills = runBacktest(spec, strategy).fills.length; // warm-up (JIT)
  const rates: number[] = [], referenceMs: number[] = [];
  referenceLoopMs(); // its warm-up, before the collector's window
  const gc = watchGcPauses();
  const before = process.resourceUsage();
  for (let round = 0; round < ROUNDS; round++) {
    referenceMs.push(referenceLoopMs());
    const t0 = performance.now();
    runBacktest(spec, strategy);
    rates.push(spec.frame.ts.length / ((performance.now() - t0) / 1000));
  }
  const after = process.resourceUsage();
  const kernel: KernelTime = {
    systemMsPerRun: Math.round(((after.systemCPUTime - before.systemCPUTime) / 1000 / ROUNDS) * 100) / 100,
    minorPageFaultsPerRun: Math.round((after.minorPageFault - before.minorPageFault) / ROUNDS),
  };
  return { rates, referenceMs, pauses: await gc.stop(), kernel, fills };
}

const RECORD_ROUNDS = 5;

/**
 * Milliseconds to read a result's fill and trade records once (built on that read), and then its position and PnL
 * columns (written on the first read of any), medians of {@link RECORD_ROUNDS} runs, each timed apart from its run;
 * with the number of records read.
 */
function recordsReadMs(spec: BacktestSpec, strategy: Strategy): { ms: number; columnsMs: number; fills: number; trades: number } {
  const times: number[] = [], columnTimes: number[] = [];
  let fills = 0, trades = 0;
  for (let k = 0; k < RECORD_ROUNDS; k++) {
    const result = runBacktest(spec, strategy);
    const t0 = performance.now();
    fills = result.fills.length;
    trades = result.trades.length;
    const t1 = performance.now();
    if (result.bars[0]!.position.length !== frameLength(spec)) throw new Error('engine-fills: the position column does not span the frame');
    columnTimes.push(performance.now() - t1);
    times.push(t1 - t0);
  }
  return { ms: Math.round(median(times) * 100) / 100, columnsMs: Math.round(median(columnTimes) * 100) / 100, fills, trades };
}

const frameLength = (spec: BacktestSpec): number => spec.frame.ts.length - (spec.warmupBars ?? 0);

/**
 * The operating system's part of the timed runs (process.resourceUsage over them, per run): system CPU time (every
 * thread of the process: the collector's helpers too) and minor page faults, most of them first touches of memory the
 * allocator fetched afresh (a run's result columns: 3 × 365,695 doubles, 8.8 MB).
 */
export interface KernelTime {
  readonly systemMsPerRun: number;
  readonly minorPageFaultsPerRun: number;
}

const KERNEL_WHAT = 'system CPU time (all threads) and minor page faults per timed run (process.resourceUsage): the operating system’s part, mostly first touches of freshly allocated memory';

/** {@link smaReversal} for the fills floor: the same decisions through `submit(side, quantity)`. */
export function smaReversalFloor(): FloorStrategy {
  const cross = smaCross();
  let orders = 0;
  return {
    reset() {
      cross.reset();
      orders = 0;
    },
    onBar(submit, bar) {
      const want = cross.step(bar.close);
      if (want === 0) return;
      submit(want, turnQuantity(orders));
      orders++;
    },
  };
}

/** `frame` (one symbol) repeated `times` back to back on a continuous time grid. */
function repeatFrame(frame: BarFrame, times: number, stepMs: number): BarFrame {
  const T = frame.ts.length;
  const rep = (a: Float64Array) => {
    const out = new Float64Array(T * times);
    for (let r = 0; r < times; r++) out.set(a, r * T);
    return out;
  };
  const t0 = frame.ts[0]!;
  return {
    ...frame,
    ts: Float64Array.from({ length: T * times }, (_, k) => t0 + k * stepMs),
    open: [rep(frame.open[0]!)],
    high: [rep(frame.high[0]!)],
    low: [rep(frame.low[0]!)],
    close: [rep(frame.close[0]!)],
    volume: [rep(frame.volume[0]!)],
    present: [new Uint8Array(T * times).fill(1)],
  };
}

/** Loads the BTCUSDT 1-minute file (73,139 bars) repeated 5 times: 365,695 bars. */
export async function fillsBenchFrame(): Promise<BarFrame> {
  const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
  const store = await MarketStore.open(':memory:');
  await importPath(store, join(root, 'binance-futures', 'BTCUSDT-1m-2025-05_06.csv.gz'), { venue: 'binance-futures' });
  const frame = await loadBars(store, { venue: 'binance-futures', symbols: ['BTCUSDT'], timeframe: '1m', start: Date.UTC(2025, 4, 4), end: Date.UTC(2025, 5, 25), missing: 'error' });
  store.close();
  return repeatFrame(frame, REPEATS, MINUTE_MS);
}

export function fillsBenchSpec(frame: BarFrame): BacktestSpec {
  return {
    name: 'engine-fills',
    instruments: [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!],
    frame,
    initialCash: 10_000_000,
    leverage: 10,
    slippage: new FixedBpsSlippage(SLIPPAGE_BPS),
    funding: new TableFundingModel([null], { kind: 'zero' }),
    periodsPerYear: 525_600,
    dataSources: [],
    seed: 1,
    config: {},
  };
}

/**
 * Bars per second of a full `runBacktest` (kernel, simulated venue, fills, result assembly with the equity curve; the fill and trade records, positions and PnL are built when first read: see `details.records` and `details.columns`) of {@link smaReversal}
 * on the Binance USDT-M BTCUSDT 1-minute file (2025-05-04..2025-06-24, 73,139 bars) repeated 5 times back to back
 * (365,695 bars, ~14,750 fills), the strategy's own SMAs included. Median of 15 timed runs after 5 warm-up runs
 * (garbage collection lands on some runs more than others: single runs spread from about 55 to 110 ms).
 */
const bench: Benchmark = {
  name: 'engine-fills',
  async run() {
    const frame = await fillsBenchFrame();
    const spec = fillsBenchSpec(frame);
    const strategy = smaReversal();
    const { rates, referenceMs, pauses, kernel, fills } = await engineRates(spec, strategy);
    const value = Math.round(median(rates));
    const records = recordsReadMs(spec, strategy);
    const floor = floorInChild('fills');
    const noOrders = floorInChild('fills-no-orders');
    // Time per run with orders minus without, per order: what an order's whole cycle costs (submit, accept, fill, position, trip, records).
    const orderUs = ((frame.ts.length / value - frame.ts.length / noOrders.value) / strategy.orders) * 1e6;
    return {
      name: 'engine-fills',
      value,
      unit: 'bars/s',
      target: 20_000_000,
      better: 'higher',
      details: {
        statistic: `median of ${ROUNDS} timed runs after 5 warm-up runs`,
        rounds: rates.map((r) => Math.round(r)),
        machine: { referenceMs, what: MACHINE_WHAT },
        bars: frame.ts.length,
        fills,
        orders: strategy.orders,
        gc: {
          collectionsPerRun: Math.round((pauses.count / ROUNDS) * 100) / 100,
          msPerRun: Math.round((pauses.ms / ROUNDS) * 100) / 100,
          what: 'garbage-collector pauses (perf_hooks gc entries) during the timed runs, per run',
        },
        kernel: { ...kernel, what: KERNEL_WHAT },
        records: {
          value: records.ms,
          unit: 'ms',
          fills: records.fills,
          trades: records.trades,
          what: `median over ${RECORD_ROUNDS} runs of the time to read result.fills and result.trades once after a run (the records are built on that first read, outside the timed runs: a run read only for its curve and totals builds none)`,
        },
        columns: {
          value: records.columnsMs,
          unit: 'ms',
          what: `median over ${RECORD_ROUNDS} runs of the time to read result.bars[0].position once after a run: the position and PnL columns (2 × 365,695 doubles) are written on the first read of any, outside the timed runs (the equity curve is written in them)`,
        },
        input: 'binance-futures BTCUSDT-1m-2025-05_06 (73,139 bars) repeated 5x (../shared/data), Bybit BTCUSDT perp rules, 1 bp slippage',
        strategy: 'SMA(10)/SMA(30) crossover reversing ±1 BTC on every cross, running sums in the strategy',
        withoutOrders: {
          value: noOrders.value,
          rounds: noOrders.rounds,
          machine: { referenceMs: noOrders.referenceMs },
          unit: 'bars/s',
          ...(noOrders.kernel !== undefined ? { kernel: { ...noOrders.kernel, what: KERNEL_WHAT } } : {}),
          what: 'the same engine run, in a fresh process, with a strategy that computes the same SMAs and crosses but sends no orders: the bar loop, the strategy and the result without the order cycle',
        },
        perOrder: {
          value: Math.round(orderUs * 1000) / 1000,
          unit: 'µs',
          what: '(time per run − time per run without orders) / orders, from the two medians: the cost of one order’s whole cycle (submit, venue accept and fill, position, round trip, records)',
        },
        floor: {
          value: floor.value,
          rounds: floor.rounds,
          machine: { referenceMs: floor.referenceMs },
          fills: floor.fills,
          unit: 'bars/s',
          what: 'the same strategy and frame through a hand-written loop with no engine (bench/engine-floor.ts fillsFloorRate): market fills at the next open with slippage and taker fee, one position, fills and round trips logged in typed arrays (objects built when read, as the engine’s result builds its records), equity/position/PnL recorded; what V8 on this machine does at most, not a target',
        },
        node: process.version,
        cpu: cpus()[0]?.model ?? 'unknown',
      },
    };
  },
};
export default bench;
