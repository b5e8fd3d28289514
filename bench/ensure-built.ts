import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Builds dist/ (`npm run build`) when it is missing or older than a source: benches that spawn `bin/tm.js` time the compiled CLI. */
export async function ensureBuilt(root: string): Promise<void> {
  // Loaded from the repository (not relative to this module, which also runs compiled from dist-bench/).
  const { buildState } = (await import(pathToFileURL(join(root, 'bin/build-state.js')).href)) as typeof import('../bin/build-state.js');
  const state = buildState(root);
  if (state.built && state.stale === null) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed: ${build.stdout}${build.stderr}`);
}
