/**
 * StrykerJS mutants of bar-history.ts these tests leave alive, all equivalent in what the history holds (they change
 * only how much is copied or allocated, never which rows are visible):
 * - the growth rules: `Math.max(16, capacity)` → `Math.min`, `grow(i + 1)` → `grow(i - 1)` in `push` and `pushFrom`,
 *   `at + count > length` → `>=` or true in `flush`, the doubling start (`length === 0 ?` → true, `length * 2` →
 *   `/ 2`) and `n < needed` → `<=`: `grow` still doubles until every needed row fits, so only capacities differ (8).
 */
import { describe, expect, it } from 'vitest';
import type { OhlcvColumns } from '../core/bar.js';
import { InvariantError } from '../core/app-error.js';
import { BarHistory } from './bar-history.js';
import { thrown } from '../../test/support/thrown.js';

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

describe('BarHistory attached to a frame (rows copied when read)', () => {
  it('holds exactly the delivered rows, in order, whatever the pattern of reads, gaps, pushes and frames in between', () => {
    const { bars, signal } = source();
    const other = source(500);
    // Rows of `bars` present from row 0 (gaps at 5–6 and 20), a pushed bar after row 9, and reads at chosen points;
    // after row 23, rows 30.. of another frame (every row present).
    const present = Uint8Array.from({ length: 40 }, (_, t) => (t === 5 || t === 6 || t === 20 ? 0 : 1));
    const delivered = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23];
    const readAt = new Set([2, 9, 10, 22]);
    const lazy = new BarHistory(4, ['signal']);
    const eager = new BarHistory(4, ['signal']);
    lazy.attach(bars, [signal], present, 0);
    for (const t of delivered) {
      expect(lazy.deliver()).toBe(eager.pushFrom(bars, t));
      eager.setColumnsFrom([signal], t);
      if (t === 9) {
        expect(lazy.push(9000, 1, 2, 3, 4, 5)).toBe(eager.push(9000, 1, 2, 3, 4, 5));
      }
      expect(lazy.length).toBe(eager.length);
      if (readAt.has(t)) expect(rows(lazy)).toEqual(rows(eager));
    }
    lazy.attach(other.bars, [other.signal], undefined, 30);
    for (let t = 30; t < 34; t++) {
      expect(lazy.deliver()).toBe(eager.pushFrom(other.bars, t));
      eager.setColumnsFrom([other.signal], t);
      if (t === 31) expect(rows(lazy)).toEqual(rows(eager));
    }
    expect(rows(lazy)).toEqual(rows(eager));
    expect(lazy.length).toBe(delivered.length + 1 + 4);
  });

  it('counts a delivery made by its owner in the shared lengths (the kernel\'s way) as one made by deliver', () => {
    const { bars, signal } = source();
    const lengths = new Int32Array(3);
    const h = new BarHistory(4, ['signal'], lengths, 2);
    h.attach(bars, [signal], undefined, 5);
    lengths[2]!++;
    expect(h.deliver()).toBe(1);
    lengths[2]!++;
    expect(h.length).toBe(3);
    expect(Array.from(h.ts.subarray(0, 3))).toEqual([1005, 1006, 1007]);
    expect(h.push(9000, 1, 2, 3, 4, 5)).toBe(3);
    expect(lengths[2]).toBe(4);
    expect(lengths[0]).toBe(0);
  });

  it('never shows a row that was not delivered: past the length the arrays hold nothing of the source', () => {
    const { bars, signal } = source();
    const h = new BarHistory(64, ['signal']);
    h.attach(bars, [signal], undefined, 0);
    for (let t = 0; t < 10; t++) h.deliver();
    expect(h.length).toBe(10);
    expect(h.close[9]).toBe(9.4);
    // Rows 10.. of the source exist (the future); the history's arrays must not hold them.
    for (let k = 10; k < h.close.length; k++) expect(h.close[k]).toBe(0);
    for (let k = 10; k < h.columns['signal']!.length; k++) expect(h.columns['signal']![k]).toBe(0);
  });

  it('saves what was delivered (nothing is lost when a run is stopped before any read)', () => {
    const { bars, signal } = source();
    const h = new BarHistory(16, ['signal']);
    h.attach(bars, [signal], undefined, 0);
    for (let t = 0; t < 25; t++) h.deliver();
    const saved = h.save();
    expect(saved.length).toBe(25);
    expect(saved.columns['close']![24]).toBe(24.4);
    expect(saved.columns['column:signal']![24]).toBe(-24);
    const back = new BarHistory(16, ['signal']);
    back.restore(saved);
    expect(rows(back)).toEqual(rows(h));
    // A restored history attached to the rest of the frame continues after the restored rows.
    back.attach(bars, [signal], undefined, 25);
    back.deliver();
    expect(back.length).toBe(26);
    expect(back.close[25]).toBe(25.4);
  });

  it.each(['ts', 'open', 'high', 'low', 'close', 'volume', 'columns', 'length'] as const)('reading %s first sees every delivered row', (field) => {
    const { bars, signal } = source();
    const h = new BarHistory(16, ['signal']);
    h.attach(bars, [signal], undefined, 0);
    for (let t = 0; t < 5; t++) h.deliver();
    const first = field === 'columns' ? h.columns['signal']! : field === 'length' ? h.length : h[field];
    if (field === 'length') expect(first).toBe(5);
    else expect(Array.from((first as Float64Array).subarray(0, 5))).toEqual(field === 'columns' ? [0, -1, -2, -3, -4] : Array.from(bars[field].subarray(0, 5)));
  });

  it('copies delivered rows before a push, a pushFrom or a setColumnsFrom, so the rows stay in delivery order', () => {
    const { bars, signal } = source();
    const h = new BarHistory(2, ['signal']);
    h.attach(bars, [signal], undefined, 0);
    h.deliver();
    h.deliver();
    expect(h.push(9000, 1, 2, 3, 4, 5)).toBe(2); // after the two delivered rows
    h.deliver();
    expect(h.pushFrom(bars, 7)).toBe(4);
    h.deliver();
    h.setColumnsFrom([Float64Array.of(-99)], 0); // sets the last row: the delivered row 3, copied first
    expect(h.length).toBe(6);
    expect(Array.from(h.ts.subarray(0, 6))).toEqual([1000, 1001, 9000, 1002, 1007, 1003]);
    expect(Array.from(h.close.subarray(0, 6))).toEqual([0.4, 1.4, 4, 2.4, 7.4, 3.4]);
    // The pushed rows' column stays unset (0); the delivered rows carry theirs, the last one overwritten.
    expect(Array.from(h.columns['signal']!.subarray(0, 6))).toEqual([0, -1, 0, -2, 0, -99]);
  });

  it('refuses a delivery with no frame attached, and rows past the frame when read (an invariant error each)', () => {
    const { bars } = source(0, 6);
    expect(() => new BarHistory(4).deliver()).toThrow(/BarHistory\.deliver: no frame attached/);
    const dense = new BarHistory(4);
    dense.attach(bars, undefined, undefined, 4);
    dense.deliver();
    dense.deliver();
    dense.deliver(); // row 6 of a 6-row frame
    const past = thrown(() => dense.close);
    expect(past).toBeInstanceOf(InvariantError);
    expect(past).toMatchObject({ message: expect.stringMatching(/1 delivered bar\(s\) past the attached frame's 6 rows/), context: { from: 4, delivered: 3, rows: 6 } });
    const sparse = new BarHistory(4);
    sparse.attach(bars, undefined, Uint8Array.of(1, 1, 0, 1, 0, 0), 1);
    sparse.deliver();
    sparse.deliver();
    sparse.deliver(); // rows 1 and 3 are the last present ones
    expect(thrown(() => sparse.length + sparse.ts.length)).toMatchObject({ message: expect.stringMatching(/1 delivered bar\(s\) past the attached frame's last present row/), context: { from: 6, delivered: 3, rows: 6 } }); // from: where the search for a present row ended
    // A frame whose last row is present: the copy that reaches it stops there (no row past the frame is read).
    const tail = new BarHistory(4);
    tail.attach(bars, undefined, Uint8Array.of(0, 0, 0, 0, 1, 1), 3);
    for (let k = 0; k < 3; k++) tail.deliver();
    expect(thrown(() => tail.close)).toMatchObject({ message: expect.stringMatching(/1 delivered bar\(s\) past the attached frame's last present row/), context: { from: 6, delivered: 3, rows: 6 } });
    // An owner that counts a delivery to a history with no frame (never attached) is refused when it is read.
    const lengths = new Int32Array(1);
    const bare = new BarHistory(4, [], lengths, 0);
    lengths[0] = 1;
    expect(thrown(() => bare.close)).toMatchObject({ message: expect.stringMatching(/1 bar\(s\) delivered with no frame attached/), context: { delivered: 1 } });
  });

  it('has no extra column unless one is declared (and saves only the six OHLCV columns then)', () => {
    const { bars } = source();
    const h = new BarHistory(4);
    h.pushFrom(bars, 0);
    expect(Object.keys(h.columns)).toEqual([]);
    expect(Object.keys(h.save().columns)).toEqual(['ts', 'open', 'high', 'low', 'close', 'volume']);
  });

  it('takes rows without extra columns (no column arrays attached)', () => {
    const { bars } = source();
    const h = new BarHistory(4);
    h.attach(bars, undefined, undefined, 0);
    for (let t = 0; t < 3; t++) h.deliver();
    expect(Array.from(h.close.subarray(0, 3))).toEqual([0.4, 1.4, 2.4]);
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
