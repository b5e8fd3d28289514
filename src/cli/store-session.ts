import { existsSync } from 'node:fs';
import { MarketStore, resolveStorePath } from '../data/index.js';

/**
 * Opens the store named by `--db`/`TM_DB`, runs `fn`, and always closes it. Commands that only read pass
 * `{ readOnly: true }`: they open the file READ_ONLY, so several can run side by side (a writer still excludes them),
 * and a reader of a store that does not exist yet sees an empty store (and creates no file).
 */
export async function withStore<T>(db: string | undefined, fn: (store: MarketStore) => Promise<T>, options: { readOnly?: boolean } = {}): Promise<T> {
  const path = resolveStorePath(db);
  const store = options.readOnly && !existsSync(path) ? await MarketStore.open(':memory:') : await MarketStore.open(path, options);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
