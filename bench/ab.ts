/**
 * Paired A/B timing of two builds of the engine: `npm run bench:ab -- <build A> <build B> [options]`. A build is a
 * checkout whose benches are compiled (`dist-bench/`, e.g. by `npm run bench` or `npx tsc -p tsconfig.bench.json`).
 * Each of `--processes` fresh node processes loads both builds, warms both up, then times them alternately (A B, B A,
 * …), so that both see the same machine states; the verdict is the median of the pairs' ratios B/A (bench/ab-summary.ts).
 * On this 2-core VM the machine's speed steps by 2-3x within seconds (bench/machine-speed.ts): two benchmark runs
 * taken apart differ by more than most changes, paired runs do not. Two copies of one build give the noise floor
 * (median ratios 0.994-1.007 over 6 processes of 60 pairs for engine-fills, 2026-12-05).
 * @example
 * git worktree add /tmp/old HEAD~1 && ln -s "$PWD/node_modules" /tmp/old/ && (cd /tmp/old && npx tsc -p tsconfig.bench.json)
 * npm run bench:ab -- /tmp/old . --workload engine-fills --pairs 60 --processes 6
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageFailure, wholeNumberOption } from './cli-options.js';
import { formatPairedSummary, pairedSummary, type TimedPair } from './ab-summary.js';
import { isWorkload, loadWorkload, WORKLOADS } from './workloads.js';

const USAGE = `usage: npm run bench:ab -- <build A> <build B> [--workload ${WORKLOADS.join('|')}] [--pairs N] [--processes K]
  <build A>, <build B>  checkouts with compiled benches (dist-bench/: npx tsc -p tsconfig.bench.json in each)
  --workload W          what one timed run is (default engine-fills; engine-bars: 50 backtests of its frame)
  --pairs N             timed pairs per process, after 5 warm-up runs of each build (default 40)
  --processes K         fresh processes, one after another (default 4)
Prints each process's figures and all pairs' together: the median of the ratios B/A (below 1: B is faster).
TM_SHARED_DATA locates the market data.`;

const fail: (message: string) => never = usageFailure('bench:ab', USAGE);
const option = (args: readonly string[], flag: string, fallback: number): number => wholeNumberOption(args, flag, fallback, fail);

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const child = args[0] === '--child';
const rest = child ? args.slice(1) : args;
const [buildA, buildB] = rest;
if (buildA === undefined || buildB === undefined || buildA.startsWith('--') || buildB.startsWith('--')) fail('name two builds');
const workloadText = rest.includes('--workload') ? rest[rest.indexOf('--workload') + 1] : 'engine-fills';
if (!isWorkload(workloadText)) fail(`unknown workload ${JSON.stringify(workloadText ?? '')}`);
const workload = workloadText;
const pairsPerProcess = option(rest, '--pairs', 40);

if (child) {
  const a = await loadWorkload(buildA, workload), b = await loadWorkload(buildB, workload);
  for (let k = 0; k < 5; k++) {
    a();
    b();
  }
  const pairs: TimedPair[] = [];
  for (let k = 0; k < pairsPerProcess; k++) {
    // Alternating which runs first: neither build always runs right after the other's collections.
    if (k % 2 === 0) {
      const x = a();
      pairs.push([x, b()]);
    } else {
      const y = b();
      pairs.push([a(), y]);
    }
  }
  console.log(JSON.stringify(pairs));
} else {
  const processes = option(rest, '--processes', 4);
  const script = fileURLToPath(import.meta.url);
  const all: TimedPair[] = [];
  console.log(`${workload}: A ${resolve(buildA)}, B ${resolve(buildB)}; ${processes} processes of ${pairsPerProcess} pairs`);
  for (let p = 0; p < processes; p++) {
    const out = execFileSync(process.execPath, [...process.execArgv, script, '--child', ...rest], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const pairs = JSON.parse(out.trim().split('\n').pop()!) as TimedPair[];
    all.push(...pairs);
    console.log(`process ${p + 1}: ${formatPairedSummary(pairedSummary(pairs))}`);
  }
  console.log(`all: ${formatPairedSummary(pairedSummary(all))}`);
}
