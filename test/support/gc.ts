import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full garbage collection (V8's `gc`, exposed at run time). */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * Runs `work` and returns how many garbage collections started while it ran (PerformanceObserver 'gc' entries whose
 * start lies between work's start and end; entries arrive asynchronously, so they are collected for 20 ms after it
 * returns): the allocation-free hot paths keep this near zero. The heap is collected first (not counted), so garbage
 * left by earlier tests in the worker does not fill the young generation during `work` and count against it.
 * Collections the test runner's own work starts after `work` (its messages to the main process) are not counted.
 */
export async function garbageCollectionsDuring(work: () => void): Promise<number> {
  const { PerformanceObserver, performance } = await import('node:perf_hooks');
  collectGarbage();
  let collections = 0;
  let start = Infinity, end = Infinity;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.startTime >= start && entry.startTime <= end) collections++;
  });
  observer.observe({ entryTypes: ['gc'] });
  start = performance.now();
  work();
  end = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return collections;
}
