import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './repo-root.js';

describe('repoRoot', () => {
  const root = resolve(fileURLToPath(import.meta.url), '../../..');

  it('finds the trade-matrix package from a source module and from a compiled one a level deeper', () => {
    expect(repoRoot(fileURLToPath(import.meta.url))).toBe(root);
    expect(repoRoot(join(root, 'dist-bench/scripts/services-env.js'))).toBe(root);
    expect(repoRoot(join(root, 'package.json'))).toBe(root);
  });

  it('passes over packages of other names; the working directory when none is found', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-repo-root-'));
    try {
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'other' }));
      expect(repoRoot(join(dir, 'x.js'))).toBe(process.cwd());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
