import { InvariantError } from '../core/app-error.js';
import type { OhlcvColumns } from '../core/bar.js';

/**
 * Bars of one instrument seen so far, appended as they close: the only market data a strategy can read.
 * Arrays have spare capacity; only indices `< length` hold data, so a strategy cannot see the future.
 * Extra `columns` (e.g. a precomputed signal) are appended in step with the bars.
 *
 * Two ways in: {@link push}/{@link pushFrom} copy a bar at once; a history {@link attach}ed to a frame (a backtest's
 * columns, which never change during the run) takes its next bars from the frame's rows in order, and a delivery is
 * only a count: the rows are copied when the history is next read (any field or {@link length}). A strategy that never
 * reads its history costs no copy and no fresh memory per bar; one that reads it every bar copies one row per bar, as
 * before. Either way what it reads is exactly the bars delivered so far: the arrays never hold a row of the source
 * that was not delivered.
 *
 * The count of bars delivered lives in `lengths[slot]`, an array the owner may share between histories: the kernel
 * counts a delivery to an attached history there itself (one typed-array increment per bar, no call and no field of
 * the history read: engine-bars measured the run-continuity checks of a per-bar `reference` call at about a tenth of
 * its time).
 */
export class BarHistory implements OhlcvColumns {
  /** Rows copied into the arrays (the first `n` bars). */
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
  /** The attached frame (see {@link attach}): its rows from `from` on (those `present` marks) are the next bars. */
  private source: OhlcvColumns | undefined = undefined;
  private sourceColumns: readonly Float64Array[] | undefined = undefined;
  private sourcePresent: Uint8Array | undefined = undefined;
  private from = 0;

  /**
   * @param lengths where the count of bars delivered is kept (index `slot`): shared with an owner that counts the
   * deliveries to an attached history itself (see {@link deliver}); a history of its own by default.
   */
  constructor(capacity: number, columnNames: readonly string[] = [], private readonly lengths: Int32Array = new Int32Array(1), private readonly slot = 0) {
    // The arrays are sized on the first copy: a history that is only delivered to and never read allocates nothing.
    this.capacity = Math.max(16, capacity);
    const empty = new Float64Array(0);
    this._ts = this._open = this._high = this._low = this._close = this._volume = empty;
    for (const c of columnNames) this._columns[c] = empty;
    this.columnNames = [...columnNames];
    lengths[slot] = 0;
  }

  /** Number of bars delivered so far (indices `< length` hold data). */
  get length(): number {
    return this.lengths[this.slot]!;
  }
  get ts(): Float64Array {
    this.catchUp();
    return this._ts;
  }
  get open(): Float64Array {
    this.catchUp();
    return this._open;
  }
  get high(): Float64Array {
    this.catchUp();
    return this._high;
  }
  get low(): Float64Array {
    this.catchUp();
    return this._low;
  }
  get close(): Float64Array {
    this.catchUp();
    return this._close;
  }
  get volume(): Float64Array {
    this.catchUp();
    return this._volume;
  }
  /** Extra columns by name, aligned with the bars. */
  get columns(): Readonly<Record<string, Float64Array>> {
    this.catchUp();
    return this._columns;
  }

  /** Sets every extra column at the last pushed bar from `values[k][t]` (k in declaration order). */
  setColumnsFrom(values: readonly Float64Array[], t: number): void {
    this.catchUp();
    const last = this.n - 1;
    for (let k = 0; k < values.length; k++) this._columns[this.columnNames[k]!]![last] = values[k]![t]!;
  }

  /** Appends one closed bar (grows the arrays when full). Returns its index. */
  push(ts: number, open: number, high: number, low: number, close: number, volume: number): number {
    this.catchUp();
    const i = this.n;
    if (i >= this._ts.length) this.grow(i + 1);
    this._ts[i] = ts;
    this._open[i] = open;
    this._high[i] = high;
    this._low[i] = low;
    this._close[i] = close;
    this._volume[i] = volume;
    this.n = this.lengths[this.slot] = i + 1;
    return i;
  }

  /** Appends bar `t` of `bars` (reads the columns: no number crosses a call boundary). Returns its index. */
  pushFrom(bars: OhlcvColumns, t: number): number {
    this.catchUp();
    const i = this.n;
    if (i >= this._ts.length) this.grow(i + 1);
    this._ts[i] = bars.ts[t]!;
    this._open[i] = bars.open[t]!;
    this._high[i] = bars.high[t]!;
    this._low[i] = bars.low[t]!;
    this._close[i] = bars.close[t]!;
    this._volume[i] = bars.volume[t]!;
    this.n = this.lengths[this.slot] = i + 1;
    return i;
  }

  /**
   * Attaches a frame: from now on each delivery ({@link deliver}) appends the next row of `source` from row `from` on
   * (with its values of `columns`, one array per declared column, in declaration order), skipping the rows `present`
   * marks 0 (every row counts when it is undefined). The caller guarantees that those rows never change afterwards (a
   * backtest's frame). Bars delivered before stay where they are; a push in between takes its place in delivery order.
   */
  attach(source: OhlcvColumns, columns: readonly Float64Array[] | undefined, present: Uint8Array | undefined, from: number): void {
    this.catchUp();
    this.source = source;
    this.sourceColumns = columns;
    this.sourcePresent = present;
    this.from = from;
  }

  /** Appends the next row of the attached frame (see {@link attach}); returns its index. Copies nothing now. */
  deliver(): number {
    if (this.source === undefined) throw new InvariantError('BarHistory.deliver: no frame attached (attach one first, or push the bar)');
    return this.lengths[this.slot]!++;
  }

  /** Copies the delivered rows not yet copied (if any): every read and write of the arrays starts here. */
  private catchUp(): void {
    if (this.lengths[this.slot]! > this.n) this.flush();
  }

  /**
   * Copies the delivered rows not yet copied into the arrays (plain loops: no view object, so a one-row copy allocates
   * nothing): the next rows of the attached frame, in order.
   */
  private flush(): void {
    const at = this.n, count = this.lengths[this.slot]! - at;
    const src = this.source;
    if (src === undefined) throw new InvariantError(`BarHistory: ${count} bar(s) delivered with no frame attached`, { delivered: count });
    if (at + count > this._ts.length) this.grow(at + count);
    const present = this.sourcePresent, cols = this.sourceColumns;
    let from = this.from;
    if (present === undefined) {
      if (from + count > src.ts.length) throw new InvariantError(`BarHistory: ${from + count - src.ts.length} delivered bar(s) past the attached frame's ${src.ts.length} rows`, { from, delivered: count, rows: src.ts.length });
      this.copyRows(src, cols, from, count, at);
      from += count;
    } else {
      // The present rows from `from` on, in runs of consecutive rows.
      for (let k = 0; k < count; ) {
        while (from < present.length && present[from] === 0) from++;
        let run = 0;
        while (k + run < count && from + run < present.length && present[from + run] !== 0) run++;
        if (run === 0) throw new InvariantError(`BarHistory: ${count - k} delivered bar(s) past the attached frame's last present row`, { from, delivered: count, rows: src.ts.length });
        this.copyRows(src, cols, from, run, at + k);
        from += run;
        k += run;
      }
    }
    this.from = from;
    this.n = at + count;
  }

  /** Copies rows [start, start + count) of the frame to index `at` on. */
  private copyRows(src: OhlcvColumns, cols: readonly Float64Array[] | undefined, start: number, count: number, at: number): void {
    copyRows(this._ts, src.ts, start, count, at);
    copyRows(this._open, src.open, start, count, at);
    copyRows(this._high, src.high, start, count, at);
    copyRows(this._low, src.low, start, count, at);
    copyRows(this._close, src.close, start, count, at);
    copyRows(this._volume, src.volume, start, count, at);
    if (cols !== undefined) for (let k = 0; k < cols.length; k++) copyRows(this._columns[this.columnNames[k]!]!, cols[k]!, start, count, at);
  }

  /** The bars and columns as plain JSON (for a saved run state). */
  save(): { length: number; columns: Record<string, number[]> } {
    this.catchUp();
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
