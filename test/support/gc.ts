import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full garbage collection (V8's `gc`, exposed at run time). */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * Runs `work` and returns how many garbage collections the process reported meanwhile (PerformanceObserver 'gc'
 * entries, collected for 20 ms after it returns): the allocation-free hot paths keep this near zero. The heap is
 * collected first (not counted), so garbage left by earlier tests in the worker does not fill the young generation
 * during `work` and count against it.
 */
export async function garbageCollectionsDuring(work: () => void): Promise<number> {
  const { PerformanceObserver } = await import('node:perf_hooks');
  collectGarbage();
  let collections = 0;
  const observer = new PerformanceObserver((list) => {
    collections += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  work();
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return collections;
}
