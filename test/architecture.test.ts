import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Import boundaries (STYLE.md §1) are checked by dependency-cruiser (.dependency-cruiser.cjs, the one table of which
 * src/ folder may import which) over src/, experiments/, scripts/ and bench/, static and dynamic import() alike.
 * The checks below are the ones an import linter cannot make.
 */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('architecture', () => {
  const src = join(process.cwd(), 'src');
  const files = sourceFiles(src);

  it('dependency-cruiser finds no violation of the import rules (folders, cycles, strategies, ccxt, tooling)', () => {
    const r = spawnSync(process.execPath, [join(process.cwd(), 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), '--config', '.dependency-cruiser.cjs', 'src', 'experiments', 'scripts', 'bench', '--output-type', 'err'], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(/no dependency violations found \((\d{3,}) modules/);
    expect(r.status).toBe(0);
  });

  it('the rules catch a planted violation (a strategy importing the backtest, and a cycle)', () => {
    const dir = mkdtempSync(join(process.cwd(), 'src', 'strategies', '.planted-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import { runBacktest } from '../../backtest/index.js';\nimport { b } from './b.js';\nexport const a = () => [runBacktest, b];\n");
      writeFileSync(join(dir, 'b.ts'), "import { a } from './a.js';\nexport const b = () => a;\n");
      const r = spawnSync(process.execPath, [join(process.cwd(), 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), '--config', '.dependency-cruiser.cjs', relative(process.cwd(), dir), '--output-type', 'err'], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stdout).toContain('strategies-stay-venue-free');
      expect(r.stdout).toContain('no-circular');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no top-level await in src/ (the notebooks’ tslab kernel loads dist/ through require(), which refuses such a module graph)', () => {
    // A statement at column 0 that awaits: `await x`, `const y = await x`, `export const z = await x`.
    const offenders = files.filter((f) => /^(?:export\s+)?(?:(?:const|let|var)\s+[^=\n]+=\s*)?await\b/m.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(src, f))).toEqual([]);
  });

  it('no Date.now() outside the live clock and CLI composition roots', () => {
    const offenders = files.filter((f) => /Date\.now\(\)/.test(readFileSync(f, 'utf8')) && !/^(live\/live-clock|cli\/)/.test(relative(src, f)));
    expect(offenders.map((f) => relative(src, f))).toEqual([]);
  });
});
