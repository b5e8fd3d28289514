/**
 * Bars of one instrument as columns: `open[t]` … at bar open time `ts[t]` (epoch ms). The one OHLCV column type:
 * stores, feeds, histories and features all read and write this shape (a `BarFrame` holds one per symbol as arrays).
 */
export interface OhlcvColumns {
  readonly ts: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/**
 * An external input of the features (funding settlements, DVOL, the cross-asset reference close) went stale at a bar's close: its newest value is
 * older than the feature pipeline's maximum age, so the features reading it are NaN from this bar until it refreshes.
 */
export interface StaleInputEvent {
  /** Engine index of the instrument whose features went stale. */
  readonly instrument: number;
  readonly input: 'funding' | 'dvol' | 'reference';
  /** Time of the newest value of the input (funding: settlement time; DVOL: the day; reference: open time of the last bar that had a reference close, possibly bridged), epoch ms. */
  readonly lastValueTs: number;
  /** Close time of the bar at which it went stale, epoch ms. */
  readonly barTs: number;
}

/** A span of bars over which an input was stale (`to` = the close of the first fresh bar, or NaN while still stale). */
export interface StaleSpan {
  readonly instrument: number;
  readonly input: 'funding' | 'dvol' | 'reference';
  readonly from: number;
  readonly to: number;
  readonly lastValueTs: number;
}
