import { PerformanceObserver } from 'node:perf_hooks';

/** Garbage-collector pauses seen between {@link watchGcPauses} and `stop()`. */
export interface GcPauses {
  /** Number of collections (scavenges and mark-compacts). */
  readonly count: number;
  /** Their summed pause time, ms. */
  readonly ms: number;
}

/**
 * Starts counting the collector's pauses (perf_hooks `gc` entries); `stop()` returns them once the entries of the
 * work done meanwhile were delivered (they arrive on a later turn of the event loop, hence the promise).
 */
export function watchGcPauses(): { stop(): Promise<GcPauses> } {
  let count = 0, ms = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      count++;
      ms += e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      await new Promise((resolve) => setTimeout(resolve, 0));
      observer.disconnect();
      return { count, ms };
    },
  };
}
