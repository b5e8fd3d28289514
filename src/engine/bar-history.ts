/**
 * Bars of one instrument seen so far, appended as they close: the only market data a strategy can read.
 * Arrays have spare capacity; only indices `< length` hold data, so a strategy cannot see the future.
 * Extra `columns` (e.g. a precomputed signal) are appended in step with the bars.
 */
export class BarHistory {
  length = 0;
  ts: Float64Array; // bar open times
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  readonly columns: Record<string, Float64Array> = {};

  constructor(capacity: number, columnNames: readonly string[] = []) {
    const n = Math.max(16, capacity);
    this.ts = new Float64Array(n);
    this.open = new Float64Array(n);
    this.high = new Float64Array(n);
    this.low = new Float64Array(n);
    this.close = new Float64Array(n);
    this.volume = new Float64Array(n);
    for (const c of columnNames) this.columns[c] = new Float64Array(n);
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

  /** Sets extra column `name` at the last pushed bar. */
  setColumn(name: string, value: number): void {
    this.columns[name]![this.length - 1] = value;
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
