import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './ensure-built.js';
import { median, percentile, type Benchmark } from './bench-result.js';
import { repoRoot } from '../src/core/repo-root.js';

/**
 * Wall-clock start-up of the compiled CLI, as a user types it: `node bin/tm.js --help` and `node bin/tm.js data ls`
 * (a store holding the 5 binance-spot/bybit 4h series of the shared data), each a fresh process. 2 warm-up starts,
 * then the median of 15. Builds dist/ first (`npm run build`) when it is missing or older than a source.
 *
 * Targets (ms, lower is better): `tm --help` 300, `tm data ls` 1000 (issue 18).
 */
const TARGETS = { help: 300, dataLs: 1000 } as const;
const WARMUP = 2;
const RUNS = 15;

const root = repoRoot(fileURLToPath(import.meta.url));

function startMs(args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['bin/tm.js', ...args], { cwd: root, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0 || r.stderr !== '') throw new Error(`tm ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  return ms;
}

function sample(args: readonly string[]): { median: number; p90: number; samples: number[] } {
  for (let i = 0; i < WARMUP; i++) startMs(args);
  const samples = Array.from({ length: RUNS }, () => startMs(args));
  return { median: Number(median(samples).toFixed(1)), p90: Number(percentile(samples, 90).toFixed(1)), samples: samples.map((s) => Number(s.toFixed(1))) };
}

const bench: Benchmark = {
  name: 'cli-startup',
  async run() {
    await ensureBuilt(root);
    const shared = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    const dir = mkdtempSync(join(tmpdir(), 'tm-bench-cli-'));
    const db = join(dir, 'market.duckdb');
    try {
      for (const file of ['binance-spot/BTCUSDT-4h.csv.gz', 'binance-spot/ETHUSDT-4h.csv.gz', 'binance-spot/SOLUSDT-4h.csv.gz', 'bybit/BTCUSDT-4h.csv.gz', 'bybit/ETHUSDT-4h.csv.gz']) {
        const r = spawnSync(process.execPath, ['bin/tm.js', 'data', 'import', join(shared, file), '--db', db], { cwd: root, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`tm data import ${file} failed: ${r.stderr}`);
      }
      const machine = { node: process.version, cpus: cpus().length, loadavg1: Number(loadavg()[0]!.toFixed(2)) };
      const help = sample(['--help']);
      const dataLs = sample(['data', 'ls', '--db', db]);
      const bare = sample(['--version']);
      return [
        { name: 'cli-startup-help', value: help.median, unit: 'ms', target: TARGETS.help, better: 'lower', details: { command: 'node bin/tm.js --help', statistic: 'median', runs: RUNS, p90: help.p90, samples: help.samples, versionMedianMs: bare.median, machine } },
        { name: 'cli-startup-data-ls', value: dataLs.median, unit: 'ms', target: TARGETS.dataLs, better: 'lower', details: { command: 'node bin/tm.js data ls --db <5-series store>', statistic: 'median', runs: RUNS, p90: dataLs.p90, samples: dataLs.samples, machine } },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
