import { describe, expect, it } from 'vitest';
import { seededRandom as rng } from '../core/random.js';
import { parseIsoSecondsBytes } from './csv-fast.js';
import { parseCsv } from './table-reader.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');


describe('CSV decimal parsing (fused fast path in CsvColumnParser)', () => {
  const spec = [
    { name: 'ts', type: 'time' as const },
    { name: 'a', type: 'number' as const },
    { name: 'b', type: 'number' as const },
  ];
  const parse = (cells: readonly string[]) =>
    parseCsv('mem.csv', 'ts,a,b\n' + cells.map((c, i) => `2022-01-01T00:00:00Z,${c},${cells[cells.length - 1 - i]}`).join('\n') + '\n', spec);

  it('equals Number() bit for bit on 200k random decimals of up to 18 digits', () => {
    const r = rng(42);
    const cells: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const intDigits = Math.floor(r() * 9);
      const fracDigits = Math.floor(r() * 10);
      let s = r() < 0.1 ? '-' : '';
      s += intDigits === 0 ? '0' : String(Math.floor(r() * 10 ** intDigits));
      if (fracDigits > 0) s += '.' + String(Math.floor(r() * 10 ** fracDigits)).padStart(fracDigits, '0');
      cells.push(s);
    }
    const t = parse(cells);
    const a = t.numbers['a']!;
    for (let i = 0; i < cells.length; i++) expect(Object.is(a[i], Number(cells[i])), cells[i]).toBe(true);
  });

  it('parses forms outside the fast path like Number() and rejects non-numbers with file:line', () => {
    const t = parse(['1e5', '1.', '.5', '12345678901234567890', '0.0000000000000000000000001', '-0', '007']);
    expect(Array.from(t.numbers['a']!)).toEqual([1e5, 1, 0.5, 12345678901234567890, 1e-25, -0, 7]);
    for (const bad of ['', '-', 'NaN', 'abc', '1.2.3', ' 1', '0x10', 'Infinity', '1e400']) {
      expect(() => parse(['1', bad, '2']), JSON.stringify(bad)).toThrow(/^mem\.csv:3: a /);
    }
  });
});

describe('parseIsoSecondsBytes', () => {
  it('equals Date.parse for 50k random instants 1970..2100', () => {
    const r = rng(7);
    for (let i = 0; i < 50_000; i++) {
      const t = Math.floor(r() * 4.1e12 / 1000) * 1000;
      const s = new Date(t).toISOString().replace('.000Z', 'Z');
      const b = bytes(s);
      expect(parseIsoSecondsBytes(b, 0, b.length), s).toBe(t);
    }
  });

  it('rejects impossible dates and other forms', () => {
    for (const s of ['2023-02-29T00:00:00Z', '2022-13-01T00:00:00Z', '2022-01-32T00:00:00Z', '2022-01-01T24:00:00Z', '2022-01-01 00:00:00Z', '2022-01-01T00:00:00', 'x022-01-01T00:00:00Z']) {
      const b = bytes(s);
      expect(parseIsoSecondsBytes(b, 0, b.length), s).toBeNaN();
    }
    const leap = bytes('2024-02-29T12:30:15Z');
    expect(parseIsoSecondsBytes(leap, 0, leap.length)).toBe(Date.parse('2024-02-29T12:30:15Z'));
  });
});
