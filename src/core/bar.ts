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
