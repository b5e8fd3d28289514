/**
 * The whole project type-checks (`npm run typecheck`: src, tests, bench, scripts, with unused locals refused). The
 * suite runs the TypeScript sources through vitest's transform, which strips types without checking them, and the
 * build checks src alone: without this test a type error in a test, a benchmark or a script passed CI.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = process.cwd();

describe('typecheck', () => {
  it('tsc -p tsconfig.json --noEmit reports nothing', () => {
    const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--noEmit'], { cwd: root, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  }, 180_000);
});
