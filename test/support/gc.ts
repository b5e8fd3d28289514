import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { watchGcPauses } from '../../bench/gc-pauses.js';

/** A full garbage collection (V8's `gc`, exposed at run time). */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * Runs `work` and returns how many garbage collections started while it ran ({@link watchGcPauses}: collections the
 * test runner's own work starts afterwards are not counted): the allocation-free hot paths keep this near zero. The
 * heap is collected first (not counted), so garbage left by earlier tests in the worker does not fill the young
 * generation during `work` and count against it.
 */
export async function garbageCollectionsDuring(work: () => void): Promise<number> {
  collectGarbage();
  const pauses = watchGcPauses();
  work();
  return (await pauses.stop()).count;
}
