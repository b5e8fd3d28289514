import { timeframeMs } from '../core/time.js';
import type { BarFrame, MissingBarPolicy } from '../data/bar-frame.js';
import { DataError } from '../data/data-error.js';
import { loadBars } from '../data/load-bars.js';
import type { MarketStore } from '../data/market-store.js';
import { AppError } from '../core/app-error.js';
import type { DailySeries, FeatureErrorCode, FeatureInputs, FundingSettlements } from './feature-inputs.js';
import { DEFAULT_STALENESS } from './feature-pipeline.js';

/** Deribit BTC DVOL in the store's `external_series` table. */
export const DVOL_SERIES = Object.freeze({ source: 'deribit', series: 'BTC-DVOL', timeframe: '1d' });

export interface FeatureInputsRequest {
  readonly venue: string;
  readonly symbol: string;
  readonly timeframe: string;
  /** Inclusive start, epoch ms of a bar open; default: the first stored bar. */
  readonly start?: number;
  /** Exclusive end, epoch ms of a bar open; default: after the last stored bar. */
  readonly end?: number;
  /** Missing-bar policy for the symbol's bars; default `forward-fill` (recursive features would stay NaN after a NaN bar). */
  readonly missing?: MissingBarPolicy;
  /** Venue of the funding settlements (e.g. `binance-futures`); absent: no funding input. */
  readonly fundingVenue?: string;
  /** Symbol of the funding settlements; default `symbol`. */
  readonly fundingSymbol?: string;
  /** `true` loads Deribit BTC DVOL ({@link DVOL_SERIES}); an object names another daily series. */
  readonly dvol?: boolean | { readonly source: string; readonly series: string };
  /** Reference symbol for cross-asset features (e.g. `BTCUSDT`); absent: no reference input. */
  readonly reference?: string;
  /** Venue of the reference bars; default `venue`. */
  readonly referenceVenue?: string;
  /**
   * How many bars a missing reference bar may be bridged with the previous reference close (default
   * `DEFAULT_STALENESS.referenceMaxAgeBars`, 1); past it the reference close is NaN (stale), never carried on.
   */
  readonly referenceMaxAgeBars?: number;
}

/**
 * Loads the {@link FeatureInputs} of one symbol from the store: its bars (via `loadBars`), the reference close aligned
 * to the same bar open times (a missing reference bar takes the previous reference close: known at that time; NaN before
 * the reference's first bar), funding settlements with `ts <=` the last bar's close, and DVOL days usable by the last bar
 * (day + 24h <= its close). Earlier funding and DVOL rows are all loaded, so features are warm from the first bar.
 * @throws DataError `not_found` when the symbol, reference, funding or DVOL series has no data; `missing_bars` under the `error` policy.
 * @example
 * const inputs = await featureInputsFromStore(store, { venue: 'binance-spot', symbol: 'ETHUSDT', timeframe: '4h',
 *   fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' });
 */
export async function featureInputsFromStore(store: MarketStore, request: FeatureInputsRequest): Promise<FeatureInputs> {
  const step = timeframeMs(request.timeframe);
  const frame = await loadBars(store, {
    venue: request.venue,
    symbols: [request.symbol],
    timeframe: request.timeframe,
    ...(request.start !== undefined ? { start: request.start } : {}),
    ...(request.end !== undefined ? { end: request.end } : {}),
    missing: request.missing ?? 'forward-fill',
  });
  const ts = frame.ts;
  const n = ts.length;
  const lastClose = ts[n - 1]! + step;

  let referenceClose: Float64Array | undefined;
  if (request.reference !== undefined) {
    const ref = await loadBars(store, { venue: request.referenceVenue ?? request.venue, symbols: [request.reference], timeframe: request.timeframe, start: ts[0]!, end: ts[n - 1]! + 1, missing: 'nan' });
    referenceClose = new Float64Array(n).fill(NaN);
    const rts = ref.ts;
    const rclose = ref.close[0]!;
    let j = 0;
    let last = NaN;
    let lastTs = NaN;
    const maxAge = (request.referenceMaxAgeBars ?? DEFAULT_STALENESS.referenceMaxAgeBars) * step;
    for (let t = 0; t < n; t++) {
      // The latest non-NaN reference close of a bar opening at or before ts[t] (it closes no later than bar t), while
      // that bar is at most `referenceMaxAgeBars` older than bar t: no silent forward-fill beyond the maximum age.
      for (; j < rts.length && rts[j]! <= ts[t]!; j++) {
        if (rclose[j] === rclose[j]) {
          last = rclose[j]!;
          lastTs = rts[j]!;
        }
      }
      referenceClose[t] = ts[t]! - lastTs <= maxAge ? last : NaN;
    }
  }

  let funding: FundingSettlements | undefined;
  if (request.fundingVenue !== undefined) {
    const symbol = request.fundingSymbol ?? request.symbol;
    const rows = await store.query(
      `SELECT epoch_ms(ts)::DOUBLE AS ts, rate FROM funding_rates WHERE venue = ? AND symbol = ? AND ts <= epoch_ms(?::BIGINT) ORDER BY ts`,
      [request.fundingVenue, symbol, lastClose],
    );
    if (rows.length === 0) {
      throw new DataError('not_found', `no funding settlements for ${symbol} on ${request.fundingVenue} up to the last bar's close`, { venue: request.fundingVenue, symbol });
    }
    funding = { ts: Float64Array.from(rows, (r) => Number(r['ts'])), rate: Float64Array.from(rows, (r) => Number(r['rate'])) };
  }

  let dvol: DailySeries | undefined;
  if (request.dvol) {
    const { source, series } = request.dvol === true ? DVOL_SERIES : request.dvol;
    const key = [source, series, DVOL_SERIES.timeframe];
    const count = await store.query(`SELECT count(*) AS n FROM external_series WHERE source = ? AND series = ? AND timeframe = ?`, key);
    if (Number(count[0]!['n']) === 0) {
      throw new DataError('not_found', `no ${source} ${series} (1d) series in the store`, { source, series });
    }
    const rows = await store.query(
      `SELECT epoch_ms(ts)::DOUBLE AS ts, value FROM external_series
       WHERE source = ? AND series = ? AND timeframe = ? AND epoch_ms(ts) + 86400000 <= ? ORDER BY ts`,
      [...key, lastClose],
    );
    dvol = { ts: Float64Array.from(rows, (r) => Number(r['ts'])), value: Float64Array.from(rows, (r) => Number(r['value'])) };
  }

  return {
    ts,
    timeframeMs: step,
    open: frame.open[0]!,
    high: frame.high[0]!,
    low: frame.low[0]!,
    close: frame.close[0]!,
    volume: frame.volume[0]!,
    present: frame.present[0]!,
    ...(funding ? { funding } : {}),
    ...(dvol ? { dvol } : {}),
    ...(referenceClose ? { referenceClose } : {}),
  };
}

/**
 * Returns the {@link FeatureInputs} of `symbol` from a multi-symbol {@link BarFrame} (no copy: the frame's arrays are
 * shared); `reference` names another symbol of the same frame whose close becomes `referenceClose`.
 * @throws AppError `missing_feature_input` when `symbol` or `reference` is not in the frame.
 * @example
 * const frame = await loadBars(store, { venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', missing: 'forward-fill' });
 * const eth = featureInputsFromFrame(frame, 'ETHUSDT', { reference: 'BTCUSDT' });
 */
export function featureInputsFromFrame(
  frame: BarFrame,
  symbol: string,
  extra: { readonly reference?: string; readonly funding?: FundingSettlements; readonly dvol?: DailySeries } = {},
): FeatureInputs {
  const index = (name: string, field: string): number => {
    const i = frame.symbols.indexOf(name);
    if (i < 0) throw new AppError<FeatureErrorCode>('missing_feature_input', `\`${field}\` must be one of the frame's symbols ${frame.symbols.join(', ')}, was ${JSON.stringify(name)}`, { [field]: name });
    return i;
  };
  const s = index(symbol, 'symbol');
  return {
    ts: frame.ts,
    timeframeMs: timeframeMs(frame.timeframe),
    open: frame.open[s]!,
    high: frame.high[s]!,
    low: frame.low[s]!,
    close: frame.close[s]!,
    volume: frame.volume[s]!,
    present: frame.present[s]!,
    ...(extra.reference !== undefined ? { referenceClose: bridgedReference(frame, index(extra.reference, 'reference')) } : {}),
    ...(extra.funding ? { funding: extra.funding } : {}),
    ...(extra.dvol ? { dvol: extra.dvol } : {}),
  };
}

/**
 * The reference's closes on the frame's grid with the loader's rule: a bar the store lacked (`present` 0) takes the
 * previous present close while that bar is at most `DEFAULT_STALENESS.referenceMaxAgeBars` old, NaN after.
 */
function bridgedReference(frame: BarFrame, r: number): Float64Array {
  const step = timeframeMs(frame.timeframe);
  const maxAge = DEFAULT_STALENESS.referenceMaxAgeBars * step;
  const close = frame.close[r]!, present = frame.present[r]!;
  const out = new Float64Array(frame.ts.length).fill(NaN);
  let last = NaN, lastTs = NaN;
  for (let t = 0; t < out.length; t++) {
    if (present[t] !== 0 && close[t] === close[t]) {
      last = close[t]!;
      lastTs = frame.ts[t]!;
    }
    if (frame.ts[t]! - lastTs <= maxAge) out[t] = last;
  }
  return out;
}
