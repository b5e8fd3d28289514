/**
 * Runs one engine workload over and over in this process, for an external profiler: `npm run bench:workload --
 * <workload> [--runs N] [--build DIR]`. Linux perf sees V8's builtins, the runtime and the collector's threads, which
 * the V8 CPU profiler of `bench:profile` folds into its callers or leaves out (it was perf that showed every
 * `Array.prototype.push` of the order path calling the builtin instead of being inlined, see core/typed-arrays.ts):
 * @example
 * node node_modules/typescript/bin/tsc -p tsconfig.bench.json
 * perf record -e cpu-clock -F 4000 -k mono -o /tmp/perf.data node --perf-prof --interpreted-frames-native-stack dist-bench/bench/workload.js engine-fills --runs 80
 * perf inject --jit -i /tmp/perf.data -o /tmp/perf.jit.data && perf report -i /tmp/perf.jit.data --sort sym
 */
import { fileURLToPath } from 'node:url';
import { usageFailure, wholeNumberOption } from './cli-options.js';
import { isWorkload, loadWorkload, WORKLOADS } from './workloads.js';

const USAGE = `usage: npm run bench:workload -- <${WORKLOADS.join('|')}> [--runs N] [--build DIR]
  --runs N      timed runs after 20 warm-up runs (default 60)
  --build DIR   the checkout whose dist-bench/ is run (default: the one this script is in)
Prints the mean time of a run (engine-bars: 50 backtests). Run it under a profiler (see bench/workload.ts).
TM_SHARED_DATA locates the market data.`;

const fail: (message: string) => never = usageFailure('bench:workload', USAGE);
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const name = args[0];
if (!isWorkload(name)) fail(`unknown workload ${JSON.stringify(name ?? '')}`);
const runs = wholeNumberOption(args, '--runs', 60, fail);
const build = args.includes('--build') ? args[args.indexOf('--build') + 1] : fileURLToPath(new URL('../..', import.meta.url));
if (build === undefined || build.startsWith('--')) fail('--build needs a directory');
const run = await loadWorkload(build, name);
for (let k = 0; k < 20; k++) run();
let total = 0;
for (let k = 0; k < runs; k++) total += run();
console.log(`${name}: ${(total / runs).toFixed(3)} ms a run, mean of ${runs} after 20 warm-up runs`);
