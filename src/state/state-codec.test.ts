import { describe, expect, it } from 'vitest';
import { canonicalJson } from './state-codec.js';

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
