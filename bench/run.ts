/**
 * Runs benchmarks: `npm run bench` runs every `bench/*.bench.ts`; `npm run bench -- <name> [...]` runs the named ones.
 * Each writes bench/results/<name>.json and prints one JSON line per figure to stdout. Exits 1 when any figure misses
 * its target (after running them all), 2 on an unknown name.
 *
 * `npm run bench` compiles the benches and the code they time with tsc (tsconfig.bench.json → dist-bench/) and runs
 * them with plain node, as the CLI runs from dist/. Under the tsx loader engine-bars measured 8.7–10.7 M bar-events/s
 * against 11.2–13.1 M compiled (four alternating runs each), and the loop of bench/engine-floor.ts ran 35–45 % slower
 * even as tsc output loaded with `node --import tsx`. This file also runs from source (`npx tsx bench/run.ts`).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { meetsTarget, type Benchmark, type BenchResult } from './bench-result.js';
import { repoRoot } from '../src/core/repo-root.js';

const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.bench.ts' : '.bench.js';
const available = readdirSync(here).filter((f) => f.endsWith(ext)).map((f) => f.slice(0, -ext.length)).sort();
const resultsDir = join(repoRoot(fileURLToPath(import.meta.url)), 'bench', 'results');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
if (process.argv.includes('--help')) {
  console.log(`usage: npm run bench [-- <name> ...]\navailable: ${available.join(', ')}`);
  process.exit(0);
}
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.map((u) => JSON.stringify(u)).join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
mkdirSync(resultsDir, { recursive: true });
let failed = 0;
for (const name of wanted.length ? wanted : available) {
  const mod = (await import(pathToFileURL(join(here, `${name}${ext}`)).href)) as { default: Benchmark };
  const raw = await mod.default.run();
  const date = new Date().toISOString();
  const results: BenchResult[] = (Array.isArray(raw) ? raw : [raw]).map((r) => ({ ...r, command: `npm run bench -- ${name}`, date }));
  writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify(results.length === 1 ? results[0] : results, null, 2) + '\n');
  for (const r of results) {
    console.log(JSON.stringify(r));
    if (!meetsTarget(r)) {
      failed++;
      console.error(`bench: ${r.name} = ${r.value} ${r.unit} misses its target (${r.better === 'higher' ? '>=' : '<='} ${r.target})`);
    }
  }
}
if (failed > 0) {
  console.error(`bench: ${failed} figure(s) miss their targets`);
  process.exitCode = 1;
}
