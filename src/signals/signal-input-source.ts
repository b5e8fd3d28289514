import { DAY_MS } from '../core/time.js';
import type { MarketStore } from '../data/index.js';
import { DVOL_SERIES } from '../features/index.js';

/** One funding settlement or one daily value (epoch ms, value). */
export interface TimedValue {
  readonly ts: number;
  readonly value: number;
}

/**
 * Where a streaming signal stage gets its inputs besides the bars themselves, as they become known (the port the
 * live runner's signal stage reads; one contract suite runs against each implementation):
 * - the store ({@link StoreSignalInputs}): paper runs over recorded data, and live runs whose store a `tm data fetch`
 *   job keeps current;
 * - the venue (the live folder's `VenueSignalInputs`: Bybit funding history and klines).
 * Every answer holds only what was known at `upToTs` (a bar close): causal by construction.
 */
export interface SignalInputSource {
  /** Funding settlements of `symbol` settled in (`afterTs`, `upToTs`], oldest first (value = rate per settlement). */
  funding(symbol: string, afterTs: number, upToTs: number): Promise<readonly TimedValue[]>;
  /** DVOL daily closes of days starting after `afterTs` and ended by `upToTs` (day start + 1 d <= upToTs), oldest first. */
  dvol(afterTs: number, upToTs: number): Promise<readonly TimedValue[]>;
  /** Close of `symbol`'s `timeframe` bar opening at `ts` once that bar closed; NaN when there is none. */
  barClose(symbol: string, timeframe: string, ts: number): Promise<number>;
}

/** Where in the store a {@link StoreSignalInputs} reads (the model column's `fundingVenue`, the bars' venue). */
export interface StoreSignalInputsOptions {
  /** Venue of the bars (the reference asset's closes). */
  readonly venue: string;
  /** Venue of the funding settlements (e.g. `binance-futures`). */
  readonly fundingVenue: string;
  /** Daily series of the DVOL input; default Deribit BTC DVOL. */
  readonly dvol?: { readonly source: string; readonly series: string };
}

/** Far enough back for "everything" (epoch ms; finite for SQL). */
const BEGINNING = -8.64e15;

/** {@link SignalInputSource} over a {@link MarketStore}: the same tables `featureInputsFromStore` reads for backtests. */
export class StoreSignalInputs implements SignalInputSource {
  constructor(
    private readonly store: MarketStore,
    private readonly options: StoreSignalInputsOptions,
  ) {}

  async funding(symbol: string, afterTs: number, upToTs: number): Promise<readonly TimedValue[]> {
    const rows = await this.store.query(
      `SELECT epoch_ms(ts)::DOUBLE AS ts, rate FROM funding_rates WHERE venue = ? AND symbol = ? AND epoch_ms(ts) > ? AND epoch_ms(ts) <= ? ORDER BY ts`,
      [this.options.fundingVenue, symbol, Math.max(afterTs, BEGINNING), upToTs],
    );
    return rows.map((r) => ({ ts: Number(r['ts']), value: Number(r['rate']) }));
  }

  async dvol(afterTs: number, upToTs: number): Promise<readonly TimedValue[]> {
    const { source, series } = this.options.dvol ?? DVOL_SERIES;
    const rows = await this.store.query(
      `SELECT epoch_ms(ts)::DOUBLE AS ts, value FROM external_series
       WHERE source = ? AND series = ? AND timeframe = ? AND epoch_ms(ts) > ? AND epoch_ms(ts) + ${DAY_MS} <= ? ORDER BY ts`,
      [source, series, DVOL_SERIES.timeframe, Math.max(afterTs, BEGINNING), upToTs],
    );
    return rows.map((r) => ({ ts: Number(r['ts']), value: Number(r['value']) }));
  }

  async barClose(symbol: string, timeframe: string, ts: number): Promise<number> {
    const rows = await this.store.query(`SELECT close FROM bars WHERE venue = ? AND symbol = ? AND timeframe = ? AND epoch_ms(ts) = ?`, [this.options.venue, symbol, timeframe, ts]);
    return rows.length === 0 ? NaN : Number(rows[0]!['close']);
  }
}
