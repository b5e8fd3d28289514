import type { OhlcvColumns } from '../core/bar.js';

/**
 * Bars of one instrument seen so far, appended as they close: the only market data a strategy can read.
 * Arrays have spare capacity; only indices `< length` hold data, so a strategy cannot see the future.
 * Extra `columns` (e.g. a precomputed signal) are appended in step with the bars.
 */
export class BarHistory implements OhlcvColumns {
  length = 0;
  ts: Float64Array; // bar open times
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  readonly columns: Record<string, Float64Array> = {};
  /** The extra columns in the order they were declared (for `setColumnsFrom`). */
  private readonly columnNames: readonly string[];

  constructor(capacity: number, columnNames: readonly string[] = []) {
    const n = Math.max(16, capacity);
    this.ts = new Float64Array(n);
    this.open = new Float64Array(n);
    this.high = new Float64Array(n);
    this.low = new Float64Array(n);
    this.close = new Float64Array(n);
    this.volume = new Float64Array(n);
    for (const c of columnNames) this.columns[c] = new Float64Array(n);
    this.columnNames = [...columnNames];
  }

  /** Sets every extra column at the last pushed bar from `values[k][t]` (k in declaration order). */
  setColumnsFrom(values: readonly Float64Array[], t: number): void {
    const last = this.length - 1;
    for (let k = 0; k < values.length; k++) this.columns[this.columnNames[k]!]![last] = values[k]![t]!;
  }

  /** Appends one closed bar (grows the arrays when full). Returns its index. */
  push(ts: number, open: number, high: number, low: number, close: number, volume: number): number {
    const i = this.length;
    if (i === this.ts.length) this.grow();
    this.ts[i] = ts;
    this.open[i] = open;
    this.high[i] = high;
    this.low[i] = low;
    this.close[i] = close;
    this.volume[i] = volume;
    this.length = i + 1;
    return i;
  }

  /** Appends bar `t` of `bars` (reads the columns: no number crosses a call boundary). Returns its index. */
  pushFrom(bars: OhlcvColumns, t: number): number {
    const i = this.length;
    if (i === this.ts.length) this.grow();
    this.ts[i] = bars.ts[t]!;
    this.open[i] = bars.open[t]!;
    this.high[i] = bars.high[t]!;
    this.low[i] = bars.low[t]!;
    this.close[i] = bars.close[t]!;
    this.volume[i] = bars.volume[t]!;
    this.length = i + 1;
    return i;
  }


  /** The bars and columns as plain JSON (for a saved run state). */
  save(): { length: number; columns: Record<string, number[]> } {
    const n = this.length;
    const columns: Record<string, number[]> = {
      ts: Array.from(this.ts.subarray(0, n)), open: Array.from(this.open.subarray(0, n)), high: Array.from(this.high.subarray(0, n)),
      low: Array.from(this.low.subarray(0, n)), close: Array.from(this.close.subarray(0, n)), volume: Array.from(this.volume.subarray(0, n)),
    };
    for (const [name, a] of Object.entries(this.columns)) columns[`column:${name}`] = Array.from(a.subarray(0, n), (v) => v);
    return { length: n, columns };
  }

  /** Loads bars saved by {@link save} into this empty history. */
  restore(state: { readonly length: number; readonly columns: Readonly<Record<string, readonly number[]>> }): void {
    for (let k = 0; k < state.length; k++) {
      const c = state.columns;
      this.push(c['ts']![k]!, c['open']![k]!, c['high']![k]!, c['low']![k]!, c['close']![k]!, c['volume']![k]!);
      for (const name of Object.keys(this.columns)) {
        const saved = c[`column:${name}`];
        if (saved !== undefined) this.columns[name]![k] = saved[k] ?? NaN;
      }
    }
  }

  private grow(): void {
    const n = this.ts.length * 2;
    const g = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.ts = g(this.ts);
    this.open = g(this.open);
    this.high = g(this.high);
    this.low = g(this.low);
    this.close = g(this.close);
    this.volume = g(this.volume);
    for (const k of Object.keys(this.columns)) this.columns[k] = g(this.columns[k]!);
  }
}
