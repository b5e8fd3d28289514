import { PerformanceObserver } from 'node:perf_hooks';
import { seededRandom } from '../src/core/random.js';
import { makeMsGarchModel, RegimeFilter, simulateMsGarch } from '../src/regime/index.js';
import { median, percentile, type Benchmark } from './bench-result.js';

/**
 * One-bar MS-GARCH filter update (RegimeFilter.update), 4 states: µs per update. 2,000 timed batches of 1,000
 * updates (2e6 updates) over a seeded simulated 4-state path; the figure is the median batch time / 1,000.
 * `garbageCollectionsDuringRun` counts GCs in the loop (the samples array is the only allocation there).
 */
const bench: Benchmark = {
  name: 'regime-update',
  async run() {
    const model = makeMsGarchModel({
      mean: [-0.003, -0.0015, 0, 0.002],
      omega: [1.8e-4, 4.5e-5, 7.2e-6, 2e-5],
      alpha: [0.1, 0.08, 0.05, 0.05],
      beta: [0.7, 0.72, 0.75, 0.75],
      transition: [[0.97, 0.02, 0.005, 0.005], [0.01, 0.98, 0.005, 0.005], [0.002, 0.005, 0.985, 0.008], [0.002, 0.004, 0.004, 0.99]],
    });
    const seed = 2024;
    const returns = simulateMsGarch(model, 100_000, seededRandom(seed)).returns;
    const filter = new RegimeFilter(model, { initialVariance: 1e-4 });
    const batch = 1000, batches = 2000, warmup = 200;
    const samples: number[] = [];
    let i = 0;
    // garbage collections during the timed loop: an allocation per update would show up as frequent scavenges
    let collections = 0;
    const observer = new PerformanceObserver((list) => { collections += list.getEntries().length; });
    observer.observe({ entryTypes: ['gc'] });
    for (let b = 0; b < warmup + batches; b++) {
      const t0 = performance.now();
      for (let j = 0; j < batch; j++) {
        filter.update(returns[i]!);
        if (++i === returns.length) i = 0;
      }
      const us = ((performance.now() - t0) * 1000) / batch;
      if (b >= warmup) samples.push(us);
    }
    await new Promise((r) => setTimeout(r, 50));
    observer.disconnect();
    return {
      name: 'regime-update',
      value: Number(median(samples).toFixed(4)),
      unit: 'µs',
      target: 5,
      better: 'lower',
      details: {
        states: 4,
        updates: batches * batch,
        batchSize: batch,
        statistic: 'median of per-batch mean',
        p90: Number(percentile(samples, 90).toFixed(4)),
        seed,
        garbageCollectionsDuringRun: collections,
        lastFiltered: Array.from(filter.filtered, (p) => Number(p.toFixed(6))),
      },
    };
  },
};
export default bench;
