import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { FixedBpsSlippage, TableFundingModel } from '../src/backtest/execution-models.js';
import { runTickBacktest, ticksFromBars, type TickBacktestSpec, type TickColumns } from '../src/backtest/run-tick-backtest.js';
import { BYBIT_LINEAR_PERPETUALS } from '../src/core/instrument.js';
import { HOUR_MS, MINUTE_MS } from '../src/core/time.js';
import { importPath, loadBars, MarketStore } from '../src/data/index.js';
import type { Strategy } from '../src/engine/strategy.js';
import { median, type Benchmark } from './bench-result.js';

const MIN_TICKS_PER_ROUND = 10_000_000;
const ROUNDS = 3;
/** The two contiguous windows of real Binance USDT-M BTCUSDT 1-minute bars in ../shared/data. */
const WINDOWS = [
  { start: Date.UTC(2023, 6, 18), end: Date.UTC(2023, 7, 18) },
  { start: Date.UTC(2025, 4, 4), end: Date.UTC(2025, 5, 25) },
];

/** Keeps one resting limit order working: 0.05 % below the price when flat (buy), 0.05 % above when long (sell). */
function restingOrderStrategy(): Strategy {
  return {
    name: 'resting',
    onTick(ctx, tick) {
      if (ctx.openOrderCount(0) > 0) return;
      const long = ctx.position(0) > 0;
      ctx.submitOrder({ instrument: 0, side: long ? 'sell' : 'buy', type: 'limit', price: Math.round(tick.price * (long ? 1.0005 : 0.9995) * 10) / 10, quantity: 0.001 });
    },
  };
}

function concat(parts: readonly TickColumns[]): TickColumns {
  const join = (k: keyof TickColumns) => {
    const out = new Float64Array(parts.reduce((a, p) => a + p[k].length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p[k], at);
      at += p[k].length;
    }
    return out;
  };
  return { ts: join('ts'), price: join('price'), quantity: join('quantity'), side: join('side') };
}

/**
 * Ticks per second through `runTickBacktest` with a strategy that keeps one resting limit order working, so the
 * simulated exchange matches on every tick and fills regularly. There is no real trade-tick history in
 * ../shared/data, so the ticks are derived from the real 1-minute bars with `ticksFromBars` (documented in `details`);
 * the tick set is replayed until each timing round has processed ≥ 10 million ticks; median of 3 rounds.
 */
const bench: Benchmark = {
  name: 'engine-ticks',
  async run() {
    const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    const store = await MarketStore.open(':memory:');
    await importPath(store, join(root, 'binance-futures'));
    const parts: TickColumns[] = [];
    let bars = 0;
    for (const w of WINDOWS) {
      const f = await loadBars(store, { venue: 'binance-futures', symbols: ['BTCUSDT'], timeframe: '1m', start: w.start, end: w.end, missing: 'error' });
      bars += f.ts.length;
      parts.push(ticksFromBars(f.ts, f.open[0]!, f.high[0]!, f.low[0]!, f.close[0]!, f.volume[0]!, MINUTE_MS));
    }
    store.close();
    const ticks = concat(parts);
    const ticksPerRun = ticks.ts.length;
    const runsPerRound = Math.ceil(MIN_TICKS_PER_ROUND / ticksPerRun);
    const spec: TickBacktestSpec = {
      name: 'engine-ticks',
      instruments: [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!],
      ticks: [ticks],
      initialCash: 10_000,
      leverage: 1,
      slippage: new FixedBpsSlippage(2),
      funding: new TableFundingModel([null], { kind: 'zero' }),
      sampleEveryMs: HOUR_MS,
      periodsPerYear: 8760,
      dataSources: [],
      seed: 1,
      config: {},
    };
    const warm = runTickBacktest(spec, restingOrderStrategy()); // warm-up (JIT)
    const fillsPerRun = warm.fills.length;
    const rates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      for (let k = 0; k < runsPerRound; k++) runTickBacktest(spec, restingOrderStrategy());
      const seconds = (performance.now() - t0) / 1000;
      rates.push((runsPerRound * ticksPerRun) / seconds);
    }
    return {
      name: 'engine-ticks',
      value: Math.round(median(rates)),
      unit: 'ticks/s',
      target: 5_000_000,
      better: 'higher',
      details: {
        statistic: `median of ${ROUNDS} timing rounds after 1 warm-up run`,
        rounds: rates.map((r) => Math.round(r)),
        ticksPerRun,
        runsPerRound,
        ticksPerRound: runsPerRound * ticksPerRun,
        fillsPerRun,
        derivation:
          `no real trade ticks exist in the shared data, so ticks are derived from ${bars} real Binance USDT-M BTCUSDT 1m bars ` +
          '(binance-futures, 2023-07-18..2023-08-17 and 2025-05-04..2025-06-24) by ticksFromBars: 4 ticks per bar, open -> nearer extreme ' +
          '(high on a tie) -> farther extreme -> close at +0/15/30/45 s, each with a quarter of the bar volume, side +1 when the price ' +
          'rose from the previous tick (else -1); the two windows are concatenated in time order',
        strategy: 'one resting limit order of 0.001 BTC at all times: buy 0.05 % below the tick price when flat, sell 0.05 % above when long',
        equitySampling: '1 h grid',
        node: process.version,
        cpu: cpus()[0]?.model ?? 'unknown',
      },
    };
  },
};
export default bench;
