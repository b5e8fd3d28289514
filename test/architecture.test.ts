import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Import boundaries between src/ folders (STYLE.md §1). A folder may import only the folders listed for it;
 * `cli/` and `index.ts` assemble everything. ccxt may be imported only under adapters/bybit/.
 */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  data: ['core'],
  features: ['core', 'data'],
  regime: ['core', 'data', 'features'],
  sizing: ['core', 'regime'],
  models: ['core', 'data', 'features'],
  engine: ['core', 'data', 'features', 'regime', 'sizing', 'models'],
  backtest: ['core', 'data', 'features', 'regime', 'sizing', 'models', 'engine'],
  adapters: ['core', 'engine', 'data'],
  state: ['core', 'engine'],
  monitoring: ['core', 'engine'],
  registry: ['core', 'models', 'config'],
  live: ['core', 'data', 'features', 'regime', 'sizing', 'models', 'engine', 'adapters', 'state', 'monitoring', 'registry'],
  config: ['core'],
  notebook: ['core', 'data', 'backtest'],
  training: ['core', 'data', 'features', 'models', 'engine', 'backtest', 'regime', 'registry', 'config'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('architecture', () => {
  const src = join(process.cwd(), 'src');
  const files = sourceFiles(src);

  it('folders import only the folders they may depend on', () => {
    const violations: string[] = [];
    for (const file of files) {
      const rel = relative(src, file);
      const folder = rel.split('/')[0]!;
      if (!rel.includes('/') || folder === 'cli') continue;
      const allowed = ALLOWED[folder];
      if (!allowed) {
        violations.push(`${rel}: folder ${folder}/ has no entry in the architecture table`);
        continue;
      }
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.\.\/[^']+)'/g)) {
        const target = relative(src, join(file, '..', m[1]!)).split('/')[0]!;
        if (target !== folder && !allowed.includes(target)) violations.push(`${rel} imports ${target}/ (allowed: ${allowed.join(', ') || 'none'})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('only adapters/bybit imports ccxt', () => {
    const offenders = files.filter((f) => /from 'ccxt'/.test(readFileSync(f, 'utf8')) && !relative(src, f).startsWith('adapters/bybit/'));
    expect(offenders.map((f) => relative(src, f))).toEqual([]);
  });

  it('no Date.now() outside the live clock and CLI composition roots', () => {
    const offenders = files.filter((f) => /Date\.now\(\)/.test(readFileSync(f, 'utf8')) && !/^(live\/live-clock|cli\/)/.test(relative(src, f)));
    expect(offenders.map((f) => relative(src, f))).toEqual([]);
  });
});
