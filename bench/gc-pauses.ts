import { performance, PerformanceObserver } from 'node:perf_hooks';

/** Garbage-collector pauses that started between {@link watchGcPauses} and `stop()`. */
export interface GcPauses {
  /** Number of collections (scavenges and mark-compacts). */
  readonly count: number;
  /** Their summed pause time, ms. */
  readonly ms: number;
}

/**
 * Starts counting the collector's pauses (perf_hooks `gc` entries). `stop()` closes the window and returns the pauses
 * that started inside it, once their entries were delivered (they arrive on a later turn of the event loop, hence the
 * promise and its 20 ms wait); collections started after `stop()` was called (e.g. by a test runner's own messages
 * during the wait) are not counted.
 */
export function watchGcPauses(): { stop(): Promise<GcPauses> } {
  const start = performance.now();
  let end = Infinity, count = 0, ms = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.startTime < start || e.startTime > end) continue;
      count++;
      ms += e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      end = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 20));
      observer.disconnect();
      return { count, ms };
    },
  };
}
