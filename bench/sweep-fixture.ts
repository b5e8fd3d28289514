import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importPath, MarketStore } from '../src/data/index.js';

/** A market store in `dir` with Bybit BTCUSDT and ETHUSDT 1h bars from the shared data at `root`; returns its path. */
export async function sweepMarket(root: string, dir: string): Promise<string> {
  const db = join(dir, 'market.duckdb');
  const store = await MarketStore.open(db);
  try {
    for (const s of ['BTCUSDT', 'ETHUSDT']) await importPath(store, join(root, 'bybit', `${s}-1h.csv.gz`));
  } finally {
    store.close();
  }
  return db;
}

/** A fast × slow grid sweep file in `dir` over `experiments/sma-crossover-bybit.json` on 1h bars from 2023; returns its path. */
export function writeSweep(dir: string, name: string, fast: number[], slow: number[]): string {
  // the repository's Bybit SMA experiment, on 1h bars from 2023
  const base = JSON.parse(readFileSync('experiments/sma-crossover-bybit.json', 'utf8')) as { data: Record<string, unknown> };
  writeFileSync(join(dir, `${name}-base.json`), JSON.stringify({ ...base, name: `${name}-base`, data: { ...base.data, timeframe: '1h', start: '2023-01-01' } }));
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ name, base: `${name}-base.json`, search: { kind: 'grid', params: { 'params.fast': fast, 'params.slow': slow } }, retry: { attempts: 1, backoffMs: 0 } }));
  return join(dir, `${name}.json`);
}

