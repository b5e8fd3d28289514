import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/shared-data.js';

/**
 * Relative tolerance of a number the script writes (|regenerated − committed| ≤ tolerance × max(1, |committed|)).
 * The pinned packages give the same numbers to the last bit on one machine, not on every CPU: OpenBLAS and numpy
 * pick their kernels by the CPU's instruction sets (AVX-512 or not), and the last bits move. Measured on an AVX-512
 * EPYC against fixtures written on the machine of an earlier session (2026-12-03): the filters and tests computed
 * from fixed inputs moved by at most 1e-13 relative; the cases fitted by arch's own optimizer (SLSQP, label
 * `*-fitted`), whose path the last bits steer, by up to 1.3e-6.
 */
const EXACT = 1e-12;
const FITTED = 1e-5;

interface Difference {
  readonly path: string;
  readonly committed: unknown;
  readonly regenerated: unknown;
}

/**
 * The places where `got` differs from `want`: keys, lengths, strings, integers and booleans exactly; numbers within
 * the tolerance (FITTED inside a case labelled `*-fitted`, else EXACT).
 */
function differences(want: unknown, got: unknown, path = '', tolerance = EXACT): Difference[] {
  if (typeof want === 'number' && typeof got === 'number') {
    const ok = Object.is(want, got) || Math.abs(got - want) <= tolerance * Math.max(1, Math.abs(want));
    return ok ? [] : [{ path, committed: want, regenerated: got }];
  }
  if (Array.isArray(want) && Array.isArray(got)) {
    if (want.length !== got.length) return [{ path: `${path}.length`, committed: want.length, regenerated: got.length }];
    return want.flatMap((w, k) => differences(w, got[k], `${path}[${k}]`, tolerance));
  }
  if (want !== null && got !== null && typeof want === 'object' && typeof got === 'object' && !Array.isArray(want) && !Array.isArray(got)) {
    const a = want as Record<string, unknown>, b = got as Record<string, unknown>;
    const keys = Object.keys(a).sort();
    if (keys.join('\n') !== Object.keys(b).sort().join('\n')) return [{ path: `${path} keys`, committed: keys, regenerated: Object.keys(b).sort() }];
    const inner = typeof a['label'] === 'string' && a['label'].endsWith('-fitted') ? FITTED : tolerance;
    return keys.flatMap((k) => differences(a[k], b[k], `${path}.${k}`, inner));
  }
  return Object.is(want, got) ? [] : [{ path, committed: want, regenerated: got }];
}

/** The committed regime reference fixtures are what python/regime/make_fixtures.py writes (arch, statsmodels). */
describe('regime reference fixtures are reproducible', () => {
  it('regenerating them with the Python script gives the same files (numbers to the last bits the CPU may move)', () => {
    const python = process.env['TM_PYTHON'] ?? resolve('.venv/bin/python');
    const out = tempDir('tm-regime-fixtures-');
    const run = spawnSync(python, ['python/regime/make_fixtures.py'], { env: { ...process.env, TM_FIXTURE_OUT: out }, encoding: 'utf8', timeout: 300_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const committed = join('test', 'fixtures', 'regime');
    const names = readdirSync(committed).filter((f) => f.endsWith('.json')).sort();
    expect(readdirSync(out).sort()).toEqual(names);
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const name of names) {
      const found = differences(JSON.parse(readFileSync(join(committed, name), 'utf8')), JSON.parse(readFileSync(join(out, name), 'utf8')));
      expect(found.slice(0, 5), `${name}: ${found.length} differences`).toEqual([]);
    }
  }, 300_000);

  it('its comparison: exact where nothing was fitted, looser only inside a fitted case, structure always exact', () => {
    expect(differences({ a: [1.5, 2] }, { a: [1.5 * (1 + 5e-13), 2] })).toEqual([]);
    expect(differences({ a: [1.5] }, { a: [1.5 * (1 + 1e-9)] })).toHaveLength(1);
    expect(differences({ cases: [{ label: 'arch-fitted', omega: 0.1174 }] }, { cases: [{ label: 'arch-fitted', omega: 0.1174 * (1 + 1e-6) }] })).toEqual([]);
    expect(differences({ cases: [{ label: 'given', omega: 0.1174 }] }, { cases: [{ label: 'given', omega: 0.1174 * (1 + 1e-6) }] })).toEqual([{ path: '.cases[0].omega', committed: 0.1174, regenerated: 0.1174 * (1 + 1e-6) }]);
    expect(differences({ cases: [{ label: 'arch-fitted', omega: 0.1174 }] }, { cases: [{ label: 'arch-fitted', omega: 0.1175 }] })).toHaveLength(1);
    expect(differences({ a: [1, 2] }, { a: [1] })).toEqual([{ path: '.a.length', committed: 2, regenerated: 1 }]);
    expect(differences({ a: 'arch 8.0.0' }, { a: 'arch 8.0.1' })).toHaveLength(1);
    expect(differences({ a: 1 }, { b: 1 })).toHaveLength(1);
    expect(differences({ a: 1 }, { a: '1' })).toHaveLength(1);
    expect(differences({ a: null }, { a: 0 })).toHaveLength(1);
  });
});
