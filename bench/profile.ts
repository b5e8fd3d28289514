/**
 * Profiles an engine benchmark's timed work and says where the time goes: `npm run bench:profile -- engine-fills`
 * (or `engine-bars`). Builds the benchmark's frame, spec and strategy, warms up as the benchmark does, then samples
 * the V8 CPU profiler (node:inspector) over `--runs` full backtests only — no data loading, no floors. Writes
 * bench/results/<name>.cpuprofile (open it in Chrome DevTools → Performance, or VS Code) and prints self time by
 * area, by function and by line of the hottest functions (bench/profile-summary.ts). Profiling slows the runs down;
 * the shares, not the times, are the finding. With `--heap`, the sampling heap profiler instead (objects the collector
 * freed included): bytes allocated per run and per fill (or bar event), by area and function, and
 * bench/results/<name>.heapprofile (Chrome DevTools → Memory).
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runBacktest, type BacktestSpec } from '../src/backtest/run-backtest.js';
import { repoRoot } from '../src/core/repo-root.js';
import type { Strategy } from '../src/engine/strategy.js';
import { barsBenchFrame, barsBenchSpec, restingOrder } from './engine-bars.bench.js';
import { fillsBenchFrame, fillsBenchSpec, smaReversal, smaSignalsOnly } from './engine-fills.bench.js';
import { usageFailure, wholeNumberOption } from './cli-options.js';
import { formatHeapSummary, formatProfileSummary, summarizeHeapProfile, summarizeProfile, type CpuProfile, type HeapProfileNode } from './profile-summary.js';

interface Workload {
  readonly spec: BacktestSpec;
  readonly strategy: Strategy;
  readonly warmup: number;
  readonly runs: number;
}

const WORKLOADS: Record<string, () => Promise<Workload>> = {
  'engine-bars': async () => ({ spec: barsBenchSpec(await barsBenchFrame()), strategy: restingOrder(), warmup: 40, runs: 1000 }),
  'engine-fills': async () => ({ spec: fillsBenchSpec(await fillsBenchFrame()), strategy: smaReversal(), warmup: 5, runs: 40 }),
  // engine-fills' run with the same SMAs and crosses but no orders (its `withoutOrders` figure): the bar loop alone.
  'engine-fills-no-orders': async () => ({ spec: fillsBenchSpec(await fillsBenchFrame()), strategy: smaSignalsOnly(), warmup: 5, runs: 60 }),
};

const USAGE = `usage: npm run bench:profile -- <${Object.keys(WORKLOADS).join('|')}> [--heap] [--runs N] [--interval N] [--top N] [--detail N] [--lines N]
  --heap         where the memory goes instead of the time: V8's sampling heap profiler, objects the collector
                 freed included (bytes allocated per run, per fill or bar event, by area and function)
  --runs N       backtests profiled after the warm-up (default: engine-bars 1000, engine-fills 40, engine-fills-no-orders 60;
                 with --heap a tenth of that)
  --interval N   sampling interval: microseconds (default 100); with --heap, bytes (default 512)
  --top N        functions listed by self time or bytes (default 25)
  --detail N     functions whose hottest lines are listed (default 5; not with --heap)
  --lines N      lines listed per function (default 8; not with --heap)
Writes bench/results/<name>.cpuprofile (--heap: <name>.heapprofile) and prints where the time (memory) went.
TM_SHARED_DATA locates the market data.`;

const fail = usageFailure('bench:profile', USAGE);
const intOption = (args: readonly string[], flag: string, fallback: number): number => wholeNumberOption(args, flag, fallback, fail);

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const name = args.filter((a) => a !== '--heap')[0];
if (name === undefined || !(name in WORKLOADS)) fail(name === undefined ? 'name a benchmark' : `unknown benchmark ${JSON.stringify(name)}`);
const heap = args.includes('--heap');
const valued = args.filter((a) => a !== '--heap');
const known = new Set(['--runs', '--interval', '--top', '--detail', '--lines']);
for (let k = 1; k < valued.length; k += 2) if (!known.has(valued[k]!)) fail(`unknown option ${JSON.stringify(valued[k])}`);

const work = await WORKLOADS[name]!();
const runs = intOption(valued, '--runs', heap ? Math.max(1, Math.round(work.runs / 10)) : work.runs);
let last = runBacktest(work.spec, work.strategy);
for (let k = 1; k < work.warmup; k++) last = runBacktest(work.spec, work.strategy);
const session = new Session();
session.connect();
const root = repoRoot(fileURLToPath(import.meta.url));
const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });

if (heap) {
  // Objects the collector freed are kept in the profile (without them it holds only what outlives the runs).
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: intOption(valued, '--interval', 512), includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  for (let k = 0; k < runs; k++) runBacktest(work.spec, work.strategy);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  const out = join(dir, `${name}.heapprofile`);
  writeFileSync(out, JSON.stringify(profile));
  // Per fill where the run trades on many bars (engine-fills: one order, one fill), else per bar event (engine-bars'
  // few fills are not its unit).
  const events = work.spec.frame.present.reduce((a, p) => a + p.reduce((x, y) => x + y, 0), 0);
  const per = last.fills.length > events / 100 ? { unit: 'fill', count: last.fills.length } : { unit: 'bar event', count: events };
  console.log(`${name}: ${runs} backtests sampled (heap); profile: ${out}`);
  console.log(formatHeapSummary(summarizeHeapProfile(profile.head as HeapProfileNode, pathToFileURL(root).href), { runs, per, top: intOption(valued, '--top', 25) }));
  process.exit(0);
}
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: intOption(valued, '--interval', 100) });
await session.post('Profiler.start');
const t0 = performance.now();
for (let k = 0; k < runs; k++) runBacktest(work.spec, work.strategy);
const wall = performance.now() - t0;
const { profile } = await session.post('Profiler.stop');
session.disconnect();

const out = join(dir, `${name}.cpuprofile`);
writeFileSync(out, JSON.stringify(profile));
const summary = summarizeProfile(profile as CpuProfile, pathToFileURL(root).href);
const sources = new Map<string, readonly string[] | undefined>();
const source = (file: string) => {
  if (!sources.has(file)) {
    let text: readonly string[] | undefined;
    for (const candidate of [join(root, 'dist-bench', file), join(root, file)]) {
      try {
        text = readFileSync(candidate, 'utf8').split('\n');
        break;
      } catch {
        // not there: the next candidate
      }
    }
    sources.set(file, text);
  }
  return sources.get(file);
};
console.log(`${name}: ${runs} backtests profiled in ${wall.toFixed(0)} ms (${(wall / runs).toFixed(2)} ms each, under the profiler); profile: ${out}`);
console.log(formatProfileSummary(summary, { top: intOption(valued, '--top', 25), detail: intOption(valued, '--detail', 5), lines: intOption(valued, '--lines', 8), source }));
