/**
 * Profiles an engine benchmark's timed work and says where the time goes: `npm run bench:profile -- engine-fills`
 * (or `engine-bars`). Builds the benchmark's frame, spec and strategy, warms up as the benchmark does, then samples
 * the V8 CPU profiler (node:inspector) over `--runs` full backtests only — no data loading, no floors. Writes
 * bench/results/<name>.cpuprofile (open it in Chrome DevTools → Performance, or VS Code) and prints self time by
 * area, by function and by line of the hottest functions (bench/profile-summary.ts). Profiling slows the runs down;
 * the shares, not the times, are the finding.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runBacktest, type BacktestSpec } from '../src/backtest/run-backtest.js';
import { repoRoot } from '../src/cli/doctor-command.js';
import type { Strategy } from '../src/engine/strategy.js';
import { barsBenchFrame, barsBenchSpec, restingOrder } from './engine-bars.bench.js';
import { fillsBenchFrame, fillsBenchSpec, smaReversal, smaSignalsOnly } from './engine-fills.bench.js';
import { formatProfileSummary, summarizeProfile, type CpuProfile } from './profile-summary.js';

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

const USAGE = `usage: npm run bench:profile -- <${Object.keys(WORKLOADS).join('|')}> [--runs N] [--interval US] [--top N] [--detail N] [--lines N]
  --runs N       backtests profiled after the warm-up (default: engine-bars 1000, engine-fills 40, engine-fills-no-orders 60)
  --interval US  sampling interval, microseconds (default 100)
  --top N        functions listed by self time (default 25)
  --detail N     functions whose hottest lines are listed (default 5)
  --lines N      lines listed per function (default 8)
Writes bench/results/<name>.cpuprofile and prints where the time went. TM_SHARED_DATA locates the market data.`;

function fail(message: string): never {
  console.error(`bench:profile: ${message}\n${USAGE}`);
  process.exit(2);
}

function intOption(args: readonly string[], flag: string, fallback: number): number {
  const k = args.indexOf(flag);
  if (k < 0) return fallback;
  const text = args[k + 1];
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value) || value < 1) fail(`${flag} needs a whole number >= 1, was ${JSON.stringify(text ?? '')}`);
  return value;
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const name = args[0];
if (name === undefined || !(name in WORKLOADS)) fail(name === undefined ? 'name a benchmark' : `unknown benchmark ${JSON.stringify(name)}`);
const known = new Set(['--runs', '--interval', '--top', '--detail', '--lines']);
for (let k = 1; k < args.length; k += 2) if (!known.has(args[k]!)) fail(`unknown option ${JSON.stringify(args[k])}`);

const work = await WORKLOADS[name]!();
const runs = intOption(args, '--runs', work.runs);
for (let k = 0; k < work.warmup; k++) runBacktest(work.spec, work.strategy);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: intOption(args, '--interval', 100) });
await session.post('Profiler.start');
const t0 = performance.now();
for (let k = 0; k < runs; k++) runBacktest(work.spec, work.strategy);
const wall = performance.now() - t0;
const { profile } = await session.post('Profiler.stop');
session.disconnect();

const root = repoRoot(fileURLToPath(import.meta.url));
const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
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
console.log(formatProfileSummary(summary, { top: intOption(args, '--top', 25), detail: intOption(args, '--detail', 5), lines: intOption(args, '--lines', 8), source }));
