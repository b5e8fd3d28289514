/**
 * Bars of N symbols aligned on one timestamp axis, as columnar typed arrays.
 * `open[s][i]` is symbol `s`'s open at `ts[i]`; `present[s][i]` is 1 when the store had that bar and 0 when the
 * missing-bar policy filled it (NaN or forward-filled).
 */
export interface BarFrame {
  readonly venue: string;
  readonly timeframe: string;
  readonly symbols: readonly string[];
  /** Bar open times, epoch ms, strictly increasing. */
  readonly ts: Float64Array;
  readonly open: readonly Float64Array[];
  readonly high: readonly Float64Array[];
  readonly low: readonly Float64Array[];
  readonly close: readonly Float64Array[];
  readonly volume: readonly Float64Array[];
  readonly present: readonly Uint8Array[];
  /** How missing bars were handled, and how many were filled per symbol. */
  readonly missing: { readonly policy: MissingBarPolicy; readonly filled: readonly number[] };
}

/**
 * What to do where a symbol has no bar on the common grid:
 * - `error`: throw `missing_bars` naming the symbol and the first missing timestamp;
 * - `nan`: keep the grid point, fields NaN, `present` 0;
 * - `forward-fill`: open/high/low/close = previous close, volume 0, `present` 0 (NaN before a symbol's first bar);
 * - `intersect`: drop grid points where any symbol lacks a bar.
 */
export type MissingBarPolicy = 'error' | 'nan' | 'forward-fill' | 'intersect';
export const MISSING_BAR_POLICIES: readonly MissingBarPolicy[] = ['error', 'nan', 'forward-fill', 'intersect'];
