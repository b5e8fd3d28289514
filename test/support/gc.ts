/**
 * Runs `work` and returns how many garbage collections the process reported meanwhile (PerformanceObserver 'gc'
 * entries, collected for 20 ms after it returns): the allocation-free hot paths keep this near zero.
 */
export async function garbageCollectionsDuring(work: () => void): Promise<number> {
  const { PerformanceObserver } = await import('node:perf_hooks');
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
