import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { importPath, MarketStore } from '../src/data/index.js';
import { median, type Benchmark } from './bench-result.js';

/** Import rate of the largest 1-minute file in ../shared/data into a fresh file-backed store (parse, validate, write, commit). */
const bench: Benchmark = {
  name: 'data-import',
  async run() {
    const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    const candidates: string[] = [];
    for (const venue of readdirSync(root, { withFileTypes: true })) {
      if (!venue.isDirectory()) continue;
      for (const f of readdirSync(join(root, venue.name))) if (/-1m[-.]/.test(f)) candidates.push(join(root, venue.name, f));
    }
    const file = candidates.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const rates: number[] = [];
    let rows = 0;
    for (let run = 0; run < 17; run++) {
      const db = join(tmpdir(), `tm-bench-import-${process.pid}-${run}.duckdb`);
      const store = await MarketStore.open(db);
      const t0 = performance.now();
      const result = await importPath(store, file);
      const ms = performance.now() - t0;
      store.close();
      rmSync(db, { force: true });
      rmSync(db + '.wal', { force: true });
      rows = result[0]!.rows;
      if (run >= 2) rates.push(rows / (ms / 1000)); // two warm-up runs (JIT)
    }
    return {
      name: 'data-import',
      value: Math.round(median(rates)),
      unit: 'rows/s',
      target: 1_000_000,
      better: 'higher',
      details: { file, rows, runs: rates.length, statistic: 'median', min: Math.round(Math.min(...rates)), max: Math.round(Math.max(...rates)) },
    };
  },
};
export default bench;
