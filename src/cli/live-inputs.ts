import { StoreSignalInputs, type SignalInputSource, type StoreSignalInputsOptions, type TimedValue } from '../signals/signal-input-source.js';
import { withStore } from './store-session.js';

/**
 * The store as a live run's signal input source without holding it: each request opens the store READ_ONLY, asks,
 * and closes it, so a `tm data fetch` job can write to it between bars (DuckDB allows one writing process, and a
 * writer excludes readers). A request that cannot open the store (a writer holds it) answers "nothing new" and is
 * reported: the stage keeps the last values and marks the input stale once it is older than its limit.
 */
export class ShortLivedStoreInputs implements SignalInputSource {
  constructor(
    private readonly db: string | undefined,
    private readonly options: StoreSignalInputsOptions,
    private readonly onError: (message: string) => void,
  ) {}

  private async ask<T>(what: string, fallback: T, fn: (inputs: StoreSignalInputs) => Promise<T>): Promise<T> {
    try {
      return await withStore(this.db, (store) => fn(new StoreSignalInputs(store, this.options)), { readOnly: true });
    } catch (e) {
      this.onError(`store busy or unreadable (${what}): ${(e as Error).message}; taken as nothing new`);
      return fallback;
    }
  }

  funding(symbol: string, afterTs: number, upToTs: number): Promise<readonly TimedValue[]> {
    return this.ask(`funding of ${symbol}`, [], (s) => s.funding(symbol, afterTs, upToTs));
  }

  dvol(afterTs: number, upToTs: number): Promise<readonly TimedValue[]> {
    return this.ask('DVOL', [], (s) => s.dvol(afterTs, upToTs));
  }

  barClose(symbol: string, timeframe: string, ts: number): Promise<number> {
    return this.ask(`${symbol} close`, NaN, (s) => s.barClose(symbol, timeframe, ts));
  }
}
