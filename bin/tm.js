#!/usr/bin/env node
// Entry point of the `tm` CLI. Runs the compiled JavaScript in dist/ (built by `npm ci` through the `prepare` script,
// or `npm run build`), which starts in ~0.1 s. When dist/ is missing or older than a source file it says so on stderr
// and runs the TypeScript sources through tsx instead (correct but seconds slower); `npm run tm` always uses tsx.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildState } from './build-state.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const state = buildState(root);
let main;
if (state.built && state.stale === null) {
  ({ main } = await import(pathToFileURL(state.main).href));
} else {
  const why = state.built ? `dist/ is older than ${state.stale}` : 'dist/ is missing';
  process.stderr.write(`tm: ${why}; running the TypeScript sources through tsx (slow start). Run \`npm run build\` for the fast CLI.\n`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(pathToFileURL(join(root, 'src/cli/main.ts')).href));
}
process.exitCode = await main(process.argv);
