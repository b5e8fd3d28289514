import { existsSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Folder of the real market data (`TM_SHARED_DATA`, default `../shared/data`). Throws when missing: tests never skip silently. */
export function sharedDataDir(): string {
  const dir = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
  if (!existsSync(join(dir, 'README.md'))) {
    throw new Error(`shared market data not found at ${dir}; set TM_SHARED_DATA to the folder holding README.md and the venue folders`);
  }
  return dir;
}

/** A fresh temp folder for one test file. */
export function tempDir(prefix = 'tm-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Creates the DuckDB store `db` with what `tm train` and `tm research model-table` read: binance-spot bars, the
 * binance-futures funding of `symbols`, and Deribit DVOL, from the shared data folder.
 */
export async function importTrainingStore(db: string, symbols: readonly string[] = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']): Promise<void> {
  const { importPath, MarketStore } = await import('../../src/data/index.js');
  const root = sharedDataDir();
  const store = await MarketStore.open(db);
  try {
    await importPath(store, join(root, 'binance-spot'));
    for (const s of symbols) await importPath(store, join(root, 'binance-futures', `${s}-funding.csv.gz`));
    await importPath(store, join(root, 'deribit'));
  } finally {
    store.close();
  }
}
