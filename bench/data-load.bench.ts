import { join, resolve } from 'node:path';
import { importPath, loadBars, MarketStore } from '../src/data/index.js';
import { median, type Benchmark } from './bench-result.js';

/** Time to load 3 symbols × all their 4h bars (binance-spot BTC/ETH/SOL) from DuckDB into aligned typed arrays. */
const bench: Benchmark = {
  name: 'data-load',
  async run() {
    const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    const store = await MarketStore.open(':memory:');
    await importPath(store, join(root, 'binance-spot'));
    const request = { venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], timeframe: '4h', missing: 'nan' as const };
    const samples: number[] = [];
    let bars = 0;
    for (let run = 0; run < 25; run++) {
      const t0 = performance.now();
      const frame = await loadBars(store, request);
      const ms = performance.now() - t0;
      bars = frame.present.reduce((a, p) => a + p.reduce((x, y) => x + y, 0), 0);
      if (run >= 5) samples.push(ms);
    }
    store.close();
    return {
      name: 'data-load',
      value: Number(median(samples).toFixed(2)),
      unit: 'ms',
      target: 20,
      better: 'lower',
      details: { bars, symbols: request.symbols, runs: samples.length, statistic: 'median', p90: Number([...samples].sort((a, b) => a - b)[Math.floor(samples.length * 0.9)]!.toFixed(2)) },
    };
  },
};
export default bench;
