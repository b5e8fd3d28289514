/**
 * StrykerJS mutants of bar-history.ts these tests leave alive, all equivalent in what the history holds (they change
 * only how much is copied or allocated, never which rows are visible):
 * - `reference`'s run-break condition made always true, or its first operand made false or `!==` (after a copy the
 *   source is unset, so a new run still starts): each only breaks runs more often, i.e. copies earlier (3 mutants);
 * - the growth rules: `Math.max(16, capacity)` → `Math.min`, `grow(i + 1)` → `grow(i - 1)` in `push` and `pushFrom`,
 *   `at + count > length` → `>=` or true in `flush`, the doubling start (`length === 0 ?` → true, `length * 2` →
 *   `/ 2`) and `n < needed` → `<=`: `grow` still doubles until every needed row fits, so only capacities differ (8).
 */
import { describe, expect, it } from 'vitest';
import type { OhlcvColumns } from '../core/bar.js';
import { BarHistory } from './bar-history.js';

/** A 40-row source whose every value is distinct: ts = 1000 + t, open = t + 0.1, …, signal = -t (all + `offset`). */
function source(offset = 0, T = 40): { bars: OhlcvColumns; signal: Float64Array } {
  const col = (f: (t: number) => number) => Float64Array.from({ length: T }, (_, t) => f(t) + offset);
  return {
    bars: { ts: col((t) => 1000 + t), open: col((t) => t + 0.1), high: col((t) => t + 0.2), low: col((t) => t + 0.3), close: col((t) => t + 0.4), volume: col((t) => t + 0.5) },
    signal: col((t) => -t),
  };
}

/** Every field of `h` up to its length, as rows. */
function rows(h: BarHistory): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < h.length; k++) out.push([h.ts[k]!, h.open[k]!, h.high[k]!, h.low[k]!, h.close[k]!, h.volume[k]!, h.columns['signal']![k]!]);
  return out;
}

describe('BarHistory.reference (rows copied when read)', () => {
  it('holds exactly the delivered rows, in order, whatever the pattern of reads, gaps and copies in between', () => {
    const { bars, signal } = source();
    const other = source(500);
    // Delivered rows of `bars` (gaps at 5–6 and 20), a copied bar in between, and reads at chosen points.
    const delivered = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23];
    const readAt = new Set([2, 9, 10, 22]);
    const lazy = new BarHistory(4, ['signal']);
    const eager = new BarHistory(4, ['signal']);
    const columns = [signal], otherColumns = [other.signal]; // one array per source, as the kernel passes them
    for (const t of delivered) {
      expect(lazy.reference(bars, t, columns)).toBe(eager.pushFrom(bars, t));
      eager.setColumnsFrom([signal], t);
      if (t === 12) {
        // Row 13 of `bars` with other column arrays, then row 14 of another source (a second frame): each breaks the
        // run although its row number follows on.
        expect(lazy.reference(bars, 13, otherColumns)).toBe(eager.pushFrom(bars, 13));
        eager.setColumnsFrom(otherColumns, 13);
        expect(lazy.reference(other.bars, 14, otherColumns)).toBe(eager.pushFrom(other.bars, 14));
        eager.setColumnsFrom(otherColumns, 14);
      }
      expect(lazy.length).toBe(eager.length);
      if (readAt.has(t)) expect(rows(lazy)).toEqual(rows(eager));
    }
    expect(rows(lazy)).toEqual(rows(eager));
    expect(lazy.length).toBe(delivered.length + 2);
  });

  it('never shows a row that was not delivered: past the length the arrays hold nothing of the source', () => {
    const { bars, signal } = source();
    const h = new BarHistory(64, ['signal']);
    const columns = [signal];
    for (let t = 0; t < 10; t++) h.reference(bars, t, columns);
    expect(h.length).toBe(10);
    expect(h.close[9]).toBe(9.4);
    // Rows 10.. of the source exist (the future); the history's arrays must not hold them.
    for (let k = 10; k < h.close.length; k++) expect(h.close[k]).toBe(0);
    for (let k = 10; k < h.columns['signal']!.length; k++) expect(h.columns['signal']![k]).toBe(0);
  });

  it('saves what was referenced (nothing is lost when a run is stopped before any read)', () => {
    const { bars, signal } = source();
    const h = new BarHistory(16, ['signal']);
    const columns = [signal];
    for (let t = 0; t < 25; t++) h.reference(bars, t, columns);
    const saved = h.save();
    expect(saved.length).toBe(25);
    expect(saved.columns['close']![24]).toBe(24.4);
    expect(saved.columns['column:signal']![24]).toBe(-24);
    const back = new BarHistory(16, ['signal']);
    back.restore(saved);
    expect(rows(back)).toEqual(rows(h));
  });

  it.each(['ts', 'open', 'high', 'low', 'close', 'volume', 'columns', 'length'] as const)('reading %s first sees every referenced row', (field) => {
    const { bars, signal } = source();
    const columns = [signal];
    const h = new BarHistory(16, ['signal']);
    for (let t = 0; t < 5; t++) h.reference(bars, t, columns);
    const first = field === 'columns' ? h.columns['signal']! : field === 'length' ? h.length : h[field];
    if (field === 'length') expect(first).toBe(5);
    else expect(Array.from((first as Float64Array).subarray(0, 5))).toEqual(field === 'columns' ? [0, -1, -2, -3, -4] : Array.from(bars[field].subarray(0, 5)));
  });

  it('copies pending references before a push, a pushFrom or a setColumnsFrom, so the rows stay in delivery order', () => {
    const { bars, signal } = source();
    const columns = [signal];
    const h = new BarHistory(2, ['signal']);
    h.reference(bars, 0, columns);
    h.reference(bars, 1, columns);
    expect(h.push(9000, 1, 2, 3, 4, 5)).toBe(2); // after the two referenced rows
    h.reference(bars, 2, columns);
    expect(h.pushFrom(bars, 7)).toBe(4);
    h.reference(bars, 3, columns);
    h.setColumnsFrom([Float64Array.of(-99)], 0); // sets the last row: the referenced row 3, copied first
    expect(h.length).toBe(6);
    expect(Array.from(h.ts.subarray(0, 6))).toEqual([1000, 1001, 9000, 1002, 1007, 1003]);
    expect(Array.from(h.close.subarray(0, 6))).toEqual([0.4, 1.4, 4, 2.4, 7.4, 3.4]);
    // The pushed rows' column stays unset (0); the referenced rows carry theirs, the last one overwritten.
    expect(Array.from(h.columns['signal']!.subarray(0, 6))).toEqual([0, -1, 0, -2, 0, -99]);
  });

  it('has no extra column unless one is declared (and saves only the six OHLCV columns then)', () => {
    const { bars } = source();
    const h = new BarHistory(4);
    h.pushFrom(bars, 0);
    expect(Object.keys(h.columns)).toEqual([]);
    expect(Object.keys(h.save().columns)).toEqual(['ts', 'open', 'high', 'low', 'close', 'volume']);
  });

  it('references rows without extra columns (no column arrays given)', () => {
    const { bars } = source();
    const h = new BarHistory(4);
    for (let t = 0; t < 3; t++) h.reference(bars, t, undefined);
    expect(Array.from(h.close.subarray(0, 3))).toEqual([0.4, 1.4, 2.4]);
  });

  it('breaks the run when a row does not follow on, also when it goes back', () => {
    const { bars, signal } = source();
    const columns = [signal];
    const h = new BarHistory(4, ['signal']);
    for (const t of [10, 11, 8, 7]) h.reference(bars, t, columns);
    expect(Array.from(h.ts.subarray(0, 4))).toEqual([1010, 1011, 1008, 1007]);
    expect(Array.from(h.columns['signal']!.subarray(0, 4))).toEqual([-10, -11, -8, -7]);
  });

  it('restores a saved history that lacks a declared column with NaN in it', () => {
    const { bars } = source();
    const plain = new BarHistory(16);
    for (let t = 0; t < 3; t++) plain.pushFrom(bars, t);
    const back = new BarHistory(16, ['signal']);
    back.restore(plain.save());
    expect(back.length).toBe(3);
    expect(Array.from(back.columns['signal']!.subarray(0, 3))).toEqual([NaN, NaN, NaN]);
    expect(back.close[2]).toBe(2.4);
  });
});
