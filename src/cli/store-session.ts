import { existsSync } from 'node:fs';
import { MarketStore, resolveStorePath } from '../data/index.js';

/**
 * Opens the store named by `--db`/`TM_DB`, runs `fn`, and always closes it. With `readOnly` an existing store is opened
 * read-only (no schema statements: faster, and other readers may hold it too); a missing one is created as usual.
 */
export async function withStore<T>(db: string | undefined, fn: (store: MarketStore) => Promise<T>, options: { readOnly?: boolean } = {}): Promise<T> {
  const path = resolveStorePath(db);
  const store = await MarketStore.open(path, { readOnly: options.readOnly === true && existsSync(path) });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
