import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository root: the nearest folder above `from` (a file path) holding the package.json named trade-matrix,
 * whether the module runs from its source folder or compiled into dist/ or dist-bench/ (one level deeper, with no
 * package.json of their own); the working directory when there is none.
 */
export function repoRoot(from: string): string {
  let dir = dirname(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"trade-matrix"/.test(readFileSync(pkg, 'utf8'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}
