/** Fixtures of the sweep tests: a small real-data store, a base experiment and sweep files, `tm worker` processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importPath, MarketStore } from '../../src/data/index.js';
import { SweepStore, type TrialRow } from '../../src/sweep/index.js';
import { sharedDataDir } from './shared-data.js';

/** Imports Bybit BTCUSDT bars of `timeframes` from the shared data into a new store at `db`. */
export async function sweepStore(db: string, timeframes: readonly string[] = ['4h']): Promise<void> {
  const store = await MarketStore.open(db);
  try {
    for (const tf of timeframes) await importPath(store, join(sharedDataDir(), 'bybit', `BTCUSDT-${tf}.csv.gz`));
  } finally {
    store.close();
  }
}

/** Writes a base experiment (SMA crossover on Bybit BTCUSDT) and a grid sweep over it into `dir`; returns the sweep file. */
export function writeSweep(dir: string, name: string, options: { timeframe?: string; start?: string; end?: string; fast?: number[]; slow?: number[]; attempts?: number; backoffMs?: number } = {}): string {
  // the repository's Bybit SMA experiment on BTCUSDT alone, over a shorter period (a cheap trial)
  const repository = JSON.parse(readFileSync('experiments/sma-crossover-bybit.json', 'utf8')) as { data: Record<string, unknown>; params: Record<string, unknown> };
  const base = {
    ...repository,
    name: `${name}-base`,
    params: { ...repository.params, allocation: 0.5 },
    data: { ...repository.data, symbols: ['BTCUSDT'], timeframe: options.timeframe ?? '4h', start: options.start ?? '2023-01-01', end: options.end ?? '2025-01-01' },
  };
  writeFileSync(join(dir, `${name}-base.json`), JSON.stringify(base));
  const sweep = {
    name,
    base: `${name}-base.json`,
    search: { kind: 'grid', params: { 'params.fast': options.fast ?? [5, 10, 20, 30], 'params.slow': options.slow ?? [50, 75, 100, 150, 200, 250] } },
    objective: 'sharpe',
    pbo: { blocks: 8 },
    retry: { attempts: options.attempts ?? 3, backoffMs: options.backoffMs ?? 200 },
  };
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(sweep));
  return file;
}

/** The rows of the one sweep in the results store `file`, without `attempts` (not part of a result's identity). */
export async function resultRows(file: string): Promise<Omit<TrialRow, 'attempts'>[]> {
  const store = await SweepStore.open(file);
  try {
    const rows: TrialRow[] = [];
    for (const id of await sweepIds(store)) rows.push(...(await store.rows(id)));
    return rows.map(({ attempts: _attempts, ...r }) => r);
  } finally {
    store.close();
  }
}

async function sweepIds(store: SweepStore): Promise<string[]> {
  const connection = (store as unknown as { connection: { runAndReadAll(sql: string): Promise<{ getRowObjectsJS(): Record<string, unknown>[] }> } }).connection;
  return (await connection.runAndReadAll('SELECT sweep_id FROM sweeps ORDER BY sweep_id')).getRowObjectsJS().map((r) => String(r['sweep_id']));
}

/** A `tm worker` process (bin/tm.js) and everything it printed. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `tm worker --queue <url> --prefix <prefix> --db <db> ...extra` (environment `env`, default this process's);
 * resolves once it says it is listening.
 */
export async function startWorker(url: string, prefix: string, db: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['bin/tm.js', 'worker', '--queue', url, '--prefix', prefix, '--db', db, ...extra], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'], env });
  let text = '';
  child.stdout!.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (text += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tm worker did not start within 30 s: ${text}`)), 30_000);
    const check = () => {
      if (/^worker .* stop with Ctrl-C/m.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`tm worker exited (${code}) before it started: ${text}`)));
  });
  return {
    child,
    output: () => text,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Waits until `predicate` holds, polling every `ms`; throws after `timeoutMs`. */
export async function until(predicate: () => Promise<boolean>, timeoutMs: number, ms = 20): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, ms));
  }
}
