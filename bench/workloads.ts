/**
 * The timed runs of the engine benches as plain functions, loaded from the compiled benches of a build: what
 * `bench:ab` pairs and `bench:workload` repeats for an external profiler.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const WORKLOADS = ['engine-fills', 'engine-fills-no-orders', 'engine-bars'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Whether `text` names a workload. */
export function isWorkload(text: string | undefined): text is Workload {
  return WORKLOADS.includes(text as Workload);
}

/**
 * One timed run of `workload` from the compiled benches of `build` (a checkout with `dist-bench/`): returns a function
 * that runs it once and gives its time in ms. engine-fills (and its no-orders variant) is one backtest; engine-bars is
 * 50 backtests of its frame.
 */
export async function loadWorkload(build: string, workload: Workload): Promise<() => number> {
  const root = pathToFileURL(resolve(build)).href;
  const { runBacktest } = (await import(`${root}/dist-bench/src/backtest/run-backtest.js`)) as typeof import('../src/backtest/run-backtest.js');
  if (workload === 'engine-bars') {
    const m = (await import(`${root}/dist-bench/bench/engine-bars.bench.js`)) as typeof import('./engine-bars.bench.js');
    const spec = m.barsBenchSpec(await m.barsBenchFrame());
    const strategy = m.restingOrder();
    return () => {
      const t0 = performance.now();
      for (let k = 0; k < 50; k++) runBacktest(spec, strategy);
      return performance.now() - t0;
    };
  }
  const m = (await import(`${root}/dist-bench/bench/engine-fills.bench.js`)) as typeof import('./engine-fills.bench.js');
  const spec = m.fillsBenchSpec(await m.fillsBenchFrame());
  const strategy = workload === 'engine-fills' ? m.smaReversal() : m.smaSignalsOnly();
  return () => {
    const t0 = performance.now();
    runBacktest(spec, strategy);
    return performance.now() - t0;
  };
}
