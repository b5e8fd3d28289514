import { spawnSync } from 'node:child_process';
import { buildState } from '../bin/build-state.js';

/** Builds dist/ (`npm run build`) when it is missing or older than a source: benches that spawn `bin/tm.js` time the compiled CLI. */
export function ensureBuilt(root: string): void {
  const state = buildState(root);
  if (state.built && state.stale === null) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed: ${build.stdout}${build.stderr}`);
}
