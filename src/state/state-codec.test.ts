import { describe, expect, it } from 'vitest';
import { canonicalJson, decodeSnapshot, encodeSnapshot } from './state-codec.js';

/** The first implementation (JSON.stringify with a key-sorting replacer): every stored checksum was computed by it. */
function reference(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

describe('canonicalJson', () => {
  it('writes what the key-sorting replacer wrote (stored checksums stay valid), faster on arrays of plain values', () => {
    const values: unknown[] = [
      null, 0, -0, 1.5, NaN, Infinity, 'x"y', true, [], {},
      { b: 1, a: [3, 2, { d: null, c: undefined, e: () => 1 }], 10: 'ten', 2: 'two', '01': 'leading zero', '': 'empty' },
      [1, 'a', null, undefined, NaN, [2, { z: 1, y: [undefined] }]],
      { when: new Date(Date.UTC(2024, 0, 1)), typed: Float64Array.of(1, 2.5, NaN), nested: { ['4294967295']: 'not an index', ['4294967294']: 'index' } },
      { schemaVersion: 1, model: { name: 'm', version: 'v1', checksum: 'c'.repeat(64) }, barTs: 1, savedAt: 2, payload: { bars: 'AAAA', inputs: { funding: { ts: [1, 2], rate: [1e-4, -2e-5] }, refLast: null }, sets: 559 } },
    ];
    for (const v of values) expect(canonicalJson(v), JSON.stringify(reference(v))).toBe(reference(v));
  });
});

describe('decodeSnapshot', () => {
  const expectation = { schemaVersion: 1, model: { name: 'm', version: 'v1', checksum: 'c'.repeat(64) } };
  const snapshot = { schemaVersion: 1, model: expectation.model, barTs: 14_400_000, savedAt: 2, payload: { bars: 'AAAA', sets: 559, signal: [0.25, -1e-7] } };

  it('reads what encodeSnapshot wrote, and the same snapshot re-formatted (its canonical form has the checksum)', () => {
    const text = encodeSnapshot(snapshot as never);
    expect(decodeSnapshot(text, expectation, 'k')).toEqual({ success: true, data: snapshot });
    const pretty = JSON.stringify(JSON.parse(text), null, 2);
    expect(decodeSnapshot(pretty, expectation, 'k')).toEqual({ success: true, data: snapshot });
  });

  it('refuses a text whose body differs from its checksum by one character, stored as written or re-formatted', () => {
    const text = encodeSnapshot(snapshot as never);
    for (const bad of [text.replace('0.25', '0.26'), text.replace('"AAAA"', '"AAAB"'), JSON.stringify(JSON.parse(text.replace('559', '558')), null, 1)]) {
      const r = decodeSnapshot(bad, expectation, 'k');
      expect(r.success ? 'loaded' : r.error.code).toBe('corrupt');
    }
  });
});
