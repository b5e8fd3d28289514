import type { OhlcvColumns } from '../core/bar.js';

/**
 * Bars of one instrument seen so far, appended as they close: the only market data a strategy can read.
 * Arrays have spare capacity; only indices `< length` hold data, so a strategy cannot see the future.
 * Extra `columns` (e.g. a precomputed signal) are appended in step with the bars.
 *
 * Two ways in: {@link push}/{@link pushFrom} copy a bar at once; {@link reference} (a backtest over a frame that does
 * not change during the run) only notes which rows of the source were delivered, and the rows are copied when the
 * history is next read (any field or {@link length}). A strategy that never reads its history costs no copy and no
 * fresh memory per bar; one that reads it every bar copies one row per bar, as before. Either way what it reads is
 * exactly the bars delivered so far: the arrays never hold a row of the source that was not delivered.
 */
export class BarHistory implements OhlcvColumns {
  private n = 0;
  private capacity: number;
  private _ts: Float64Array; // bar open times
  private _open: Float64Array;
  private _high: Float64Array;
  private _low: Float64Array;
  private _close: Float64Array;
  private _volume: Float64Array;
  private readonly _columns: Record<string, Float64Array> = {};
  /** The extra columns in the order they were declared (for `setColumnsFrom`). */
  private readonly columnNames: readonly string[];
  /** Delivered but not yet copied: rows [from, from + pending) of `source` (and of `sourceColumns`). */
  private source: OhlcvColumns | undefined = undefined;
  private sourceColumns: readonly Float64Array[] | undefined = undefined;
  private from = 0;
  private pending = 0;

  constructor(capacity: number, columnNames: readonly string[] = []) {
    // The arrays are sized on the first copy: a history that is only referenced and never read allocates nothing.
    this.capacity = Math.max(16, capacity);
    const empty = new Float64Array(0);
    this._ts = this._open = this._high = this._low = this._close = this._volume = empty;
    for (const c of columnNames) this._columns[c] = empty;
    this.columnNames = [...columnNames];
  }

  /** Number of bars delivered so far (indices `< length` hold data). */
  get length(): number {
    return this.n + this.pending;
  }
  get ts(): Float64Array {
    if (this.pending > 0) this.flush();
    return this._ts;
  }
  get open(): Float64Array {
    if (this.pending > 0) this.flush();
    return this._open;
  }
  get high(): Float64Array {
    if (this.pending > 0) this.flush();
    return this._high;
  }
  get low(): Float64Array {
    if (this.pending > 0) this.flush();
    return this._low;
  }
  get close(): Float64Array {
    if (this.pending > 0) this.flush();
    return this._close;
  }
  get volume(): Float64Array {
    if (this.pending > 0) this.flush();
    return this._volume;
  }
  /** Extra columns by name, aligned with the bars. */
  get columns(): Readonly<Record<string, Float64Array>> {
    if (this.pending > 0) this.flush();
    return this._columns;
  }

  /** Sets every extra column at the last pushed bar from `values[k][t]` (k in declaration order). */
  setColumnsFrom(values: readonly Float64Array[], t: number): void {
    if (this.pending > 0) this.flush();
    const last = this.n - 1;
    for (let k = 0; k < values.length; k++) this._columns[this.columnNames[k]!]![last] = values[k]![t]!;
  }

  /** Appends one closed bar (grows the arrays when full). Returns its index. */
  push(ts: number, open: number, high: number, low: number, close: number, volume: number): number {
    if (this.pending > 0) this.flush();
    const i = this.n;
    if (i >= this._ts.length) this.grow(i + 1);
    this._ts[i] = ts;
    this._open[i] = open;
    this._high[i] = high;
    this._low[i] = low;
    this._close[i] = close;
    this._volume[i] = volume;
    this.n = i + 1;
    return i;
  }

  /** Appends bar `t` of `bars` (reads the columns: no number crosses a call boundary). Returns its index. */
  pushFrom(bars: OhlcvColumns, t: number): number {
    if (this.pending > 0) this.flush();
    const i = this.n;
    if (i >= this._ts.length) this.grow(i + 1);
    this._ts[i] = bars.ts[t]!;
    this._open[i] = bars.open[t]!;
    this._high[i] = bars.high[t]!;
    this._low[i] = bars.low[t]!;
    this._close[i] = bars.close[t]!;
    this._volume[i] = bars.volume[t]!;
    this.n = i + 1;
    return i;
  }

  /**
   * Appends bar `t` of `bars` with its extra column values `columns[k][t]` by reference: copied when the history is
   * next read. The caller guarantees that row `t` of `bars` and `columns` does not change afterwards (a backtest's
   * frame). Consecutive rows of one source cost one comparison each. Returns the bar's index.
   */
  reference(bars: OhlcvColumns, t: number, columns: readonly Float64Array[] | undefined): number {
    if (this.pending === 0 || bars !== this.source || columns !== this.sourceColumns || t !== this.from + this.pending) {
      if (this.pending > 0) this.flush();
      this.source = bars;
      this.sourceColumns = columns;
      this.from = t;
    }
    this.pending++;
    return this.n + this.pending - 1;
  }

  /** Copies the referenced rows into the arrays (plain loops: no view object, so a one-row flush allocates nothing). */
  private flush(): void {
    const src = this.source!, from = this.from, count = this.pending, at = this.n;
    this.pending = 0;
    if (at + count > this._ts.length) this.grow(at + count);
    copyRows(this._ts, src.ts, from, count, at);
    copyRows(this._open, src.open, from, count, at);
    copyRows(this._high, src.high, from, count, at);
    copyRows(this._low, src.low, from, count, at);
    copyRows(this._close, src.close, from, count, at);
    copyRows(this._volume, src.volume, from, count, at);
    const cols = this.sourceColumns;
    if (cols !== undefined) for (let k = 0; k < cols.length; k++) copyRows(this._columns[this.columnNames[k]!]!, cols[k]!, from, count, at);
    this.n = at + count;
    this.source = undefined;
    this.sourceColumns = undefined;
  }

  /** The bars and columns as plain JSON (for a saved run state). */
  save(): { length: number; columns: Record<string, number[]> } {
    if (this.pending > 0) this.flush();
    const n = this.n;
    const columns: Record<string, number[]> = {
      ts: Array.from(this._ts.subarray(0, n)), open: Array.from(this._open.subarray(0, n)), high: Array.from(this._high.subarray(0, n)),
      low: Array.from(this._low.subarray(0, n)), close: Array.from(this._close.subarray(0, n)), volume: Array.from(this._volume.subarray(0, n)),
    };
    for (const [name, a] of Object.entries(this._columns)) columns[`column:${name}`] = Array.from(a.subarray(0, n), (v) => v);
    return { length: n, columns };
  }

  /** Loads bars saved by {@link save} into this empty history. */
  restore(state: { readonly length: number; readonly columns: Readonly<Record<string, readonly number[]>> }): void {
    for (let k = 0; k < state.length; k++) {
      const c = state.columns;
      this.push(c['ts']![k]!, c['open']![k]!, c['high']![k]!, c['low']![k]!, c['close']![k]!, c['volume']![k]!);
      for (const name of this.columnNames) {
        const saved = c[`column:${name}`];
        this._columns[name]![k] = saved?.[k] ?? NaN; // a column the saved state lacks is unknown, not 0
      }
    }
  }

  /** Grows every array to hold at least `needed` bars (the constructor's capacity first, then doubling). */
  private grow(needed: number): void {
    let n = this._ts.length === 0 ? this.capacity : this._ts.length * 2;
    while (n < needed) n *= 2;
    this.capacity = n;
    const g = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this._ts = g(this._ts);
    this._open = g(this._open);
    this._high = g(this._high);
    this._low = g(this._low);
    this._close = g(this._close);
    this._volume = g(this._volume);
    for (const k of this.columnNames) this._columns[k] = g(this._columns[k]!);
  }
}

/** `to[at + j] = from[start + j]` for j < count. */
function copyRows(to: Float64Array, from: Float64Array, start: number, count: number, at: number): void {
  for (let j = 0; j < count; j++) to[at + j] = from[start + j]!;
}
