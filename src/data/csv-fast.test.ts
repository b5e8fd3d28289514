import { describe, expect, it } from 'vitest';
import { seededRandom as rng } from '../core/random.js';
import { parseDecimalBytes, parseIsoSecondsBytes } from './csv-fast.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');


describe('parseDecimalBytes', () => {
  it('equals Number() bit for bit on 200k random decimals of up to 17 digits', () => {
    const r = rng(42);
    for (let i = 0; i < 200_000; i++) {
      const intDigits = Math.floor(r() * 9);
      const fracDigits = Math.floor(r() * 10);
      let s = r() < 0.1 ? '-' : '';
      s += intDigits === 0 ? '0' : String(Math.floor(r() * 10 ** intDigits));
      if (fracDigits > 0) s += '.' + String(Math.floor(r() * 10 ** fracDigits)).padStart(fracDigits, '0');
      const b = bytes(s);
      const fast = parseDecimalBytes(b, 0, b.length);
      if (Number.isNaN(fast)) continue; // fallback path: caller uses Number()
      expect(Object.is(fast, Number(s)), s).toBe(true);
    }
  });

  it('returns NaN (defers to the general parser) for forms it does not handle', () => {
    for (const s of ['', '-', '1e5', 'NaN', 'abc', '1.2.3', ' 1', '1,0', '12345678901234567890', '0x10', '1.']) {
      const b = bytes(s);
      expect(parseDecimalBytes(b, 0, b.length), s).toBeNaN();
    }
  });

  it('parses typical price fields exactly', () => {
    for (const s of ['95505.4', '0.0001', '-0.00012345', '46216.93', '6628.5', '16.536', '0']) {
      const b = bytes(s);
      expect(parseDecimalBytes(b, 0, b.length)).toBe(Number(s));
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
