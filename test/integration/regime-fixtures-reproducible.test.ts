import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/shared-data.js';

/** The committed regime reference fixtures are exactly what python/regime/make_fixtures.py writes (arch, statsmodels). */
describe('regime reference fixtures are reproducible', () => {
  it('regenerating them with the Python script gives byte-identical files', () => {
    const python = process.env['TM_PYTHON'] ?? resolve('.venv/bin/python');
    const out = tempDir('tm-regime-fixtures-');
    const run = spawnSync(python, ['python/regime/make_fixtures.py'], { env: { ...process.env, TM_FIXTURE_OUT: out }, encoding: 'utf8', timeout: 300_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const committed = join('test', 'fixtures', 'regime');
    const names = readdirSync(committed).filter((f) => f.endsWith('.json')).sort();
    expect(readdirSync(out).sort()).toEqual(names);
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const name of names) expect(readFileSync(join(out, name), 'utf8'), name).toBe(readFileSync(join(committed, name), 'utf8'));
  }, 300_000);
});
