// Whether the compiled CLI (dist/, built by `npm run build` = the project's tsc -p tsconfig.build.json, run by `npm ci` through the
// `prepare` script) exists and is at least as new as every TypeScript source tsconfig.build.json compiles.
// Plain JavaScript on purpose: bin/tm.js runs it before anything is compiled. Costs a few ms (one stat per source).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Entry module of the compiled CLI, relative to the repository root. */
export const COMPILED_MAIN = 'dist/src/cli/main.js';

/** Folders of the `include` globs of tsconfig.build.json (`src/**\/*.ts` -> `src`). */
function includedFolders(root) {
  const config = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
  return (config.include ?? []).map((glob) => glob.split('/').filter((part) => !part.includes('*')).join('/')).filter((dir) => dir !== '');
}

function newestSource(dir, best) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return best;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) best = newestSource(path, best);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
      const mtime = statSync(path).mtimeMs;
      if (mtime > best.mtime) best = { path, mtime };
    }
  }
  return best;
}

/**
 * Returns `{ built, stale, main }`: `built` when dist/src/cli/main.js exists, `stale` = the repository-relative path of
 * a source newer than that build (null when the build is current or missing), `main` = the compiled entry's path.
 */
export function buildState(root) {
  const main = join(root, COMPILED_MAIN);
  if (!existsSync(main)) return { built: false, stale: null, main };
  const builtAt = statSync(main).mtimeMs;
  let newest = { path: null, mtime: -Infinity };
  for (const dir of includedFolders(root)) newest = newestSource(join(root, dir), newest);
  return { built: true, stale: newest.path !== null && newest.mtime > builtAt ? relative(root, newest.path) : null, main };
}
