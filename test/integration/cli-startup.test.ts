/**
 * The compiled CLI (dist/, what bin/tm.js runs): `tm --help` and `tm data ls` start from the build, load only the
 * packages they need (no ccxt, onnxruntime, tfjs; --help not even DuckDB or zod), and their wall-clock times are
 * printed (the targets live in bench/cli-startup.bench.ts). Builds dist/ first when it is missing or stale.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildState } from '../../bin/build-state.js';
import { sharedDataDir, tempDir } from '../support/shared-data.js';

const root = process.cwd();
const dir = tempDir('tm-cli-startup-');
const db = join(dir, 'market.duckdb');
const HEAVY = ['/node_modules/ccxt/', '/node_modules/onnxruntime-node/', '/node_modules/@tensorflow/', '/node_modules/danfojs-node/', '/node_modules/@aws-sdk/'];

function tm(args: string[], trace?: string): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = performance.now();
  const r = spawnSync(process.execPath, [...(trace ? ['--import', './test/support/module-trace.mjs'] : []), 'bin/tm.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...(trace ? { TM_MODULE_TRACE: trace } : {}) },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

/** Median wall time of `runs` starts (after one warm-up), in ms. */
function medianMs(args: string[], runs = 5): number {
  tm(args);
  const samples = Array.from({ length: runs }, () => tm(args).ms).sort((a, b) => a - b);
  return samples[runs >> 1]!;
}

function loadedPackages(args: string[]): string[] {
  const trace = join(dir, `trace-${args[0]}-${args.length}.txt`);
  writeFileSync(trace, '');
  const r = tm(args, trace);
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(trace, 'utf8').split('\n').filter((u) => u.startsWith('file:'));
}

describe('tm startup from the compiled build', () => {
  beforeAll(() => {
    if (buildState(root).built && buildState(root).stale === null) return;
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).toBe(0);
  }, 300_000);
  beforeAll(() => {
    const r = spawnSync(process.execPath, ['bin/tm.js', 'data', 'import', join(sharedDataDir(), 'bybit', 'BTCUSDT-4h.csv.gz'), '--db', db], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('tm --help runs dist/ and loads commander only (no DuckDB, zod or heavy package)', () => {
    const r = tm(['--help']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(''); // no "running the TypeScript sources through tsx" fallback
    expect(r.stdout).toMatch(/^Usage: tm \[options\] \[command\]/);
    const urls = loadedPackages(['--help']);
    expect(urls.some((u) => u.includes('/dist/src/cli/main.js'))).toBe(true);
    expect(urls.filter((u) => u.includes('/src/') && !u.includes('/dist/'))).toEqual([]);
    const packages = [...new Set(urls.filter((u) => u.includes('/node_modules/')).map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)![1]))];
    expect(packages).toEqual(['commander']);
    const ms = medianMs(['--help']);
    console.log(`tm --help (compiled): median ${ms.toFixed(0)} ms of 5 starts`);
  });

  it('tm data ls runs dist/ and loads DuckDB but no ccxt, onnxruntime or tfjs', () => {
    const r = tm(['data', 'ls', '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/bybit\s+BTCUSDT\s+4h/);
    const urls = loadedPackages(['data', 'ls', '--db', db]);
    expect(urls.some((u) => u.includes('/node_modules/@duckdb/'))).toBe(true);
    expect(urls.filter((u) => HEAVY.some((h) => u.includes(h)))).toEqual([]);
    const ms = medianMs(['data', 'ls', '--db', db]);
    console.log(`tm data ls (compiled, 1-series store): median ${ms.toFixed(0)} ms of 5 starts`);
  });

  it('falls back to tsx, saying so, when a source is newer than dist/', () => {
    const source = join(root, 'src/cli/output.ts');
    const { atime, mtime } = statSync(source);
    utimesSync(source, atime, new Date(Date.now() + 60_000));
    try {
      expect(buildState(root).stale).toBe('src/cli/output.ts');
      const r = tm(['--help']);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('tm: dist/ is older than src/cli/output.ts; running the TypeScript sources through tsx (slow start). Run `npm run build` for the fast CLI.\n');
      expect(r.stdout).toMatch(/^Usage: tm \[options\] \[command\]/);
    } finally {
      utimesSync(source, atime, mtime);
    }
    expect(buildState(root).stale).toBeNull();
  });
});
