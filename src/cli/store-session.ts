import { MarketStore, resolveStorePath } from '../data/index.js';

/** Opens the store named by `--db`/`TM_DB`, runs `fn`, and always closes it. */
export async function withStore<T>(db: string | undefined, fn: (store: MarketStore) => Promise<T>): Promise<T> {
  const store = await MarketStore.open(resolveStorePath(db));
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
