import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom as rng } from '../../src/core/random.js';
import { DataError, importPath, MarketStore, type DataErrorCode } from '../../src/data/index.js';
import { sharedDataDir, tempDir } from '../support/shared-data.js';


interface Variant {
  name: string;
  lines: string[];
  line: number;
  code: DataErrorCode;
}

const HEADER = 'ts,open,high,low,close,volume';
const COLUMNS = ['ts', 'open', 'high', 'low', 'close', 'volume'];

/** Builds malformed variants of a valid 4h CSV (`rows` without header); each says which line and code must be reported. */
function variants(rows: string[], count: number, seed: number): Variant[] {
  const r = rng(seed);
  const pick = (n: number) => Math.floor(r() * n);
  const row = (i: number) => rows[i]!.split(',');
  const withRow = (i: number, fields: string[]) => rows.map((x, k) => (k === i ? fields.join(',') : x));
  const ops: ((i: number) => Variant)[] = [
    (i) => ({ name: 'missing field', lines: withRow(i, row(i).slice(0, 5)), line: i + 2, code: 'malformed_row' }),
    (i) => ({ name: 'extra field', lines: withRow(i, [...row(i), '1']), line: i + 2, code: 'malformed_row' }),
    (i) => { const f = row(i); f[1 + pick(5)] = 'NaN'; return { name: 'NaN', lines: withRow(i, f), line: i + 2, code: 'invalid_value' }; },
    (i) => { const f = row(i); f[pick(6)] = ''; return { name: 'empty field', lines: withRow(i, f), line: i + 2, code: 'invalid_value' }; },
    (i) => { const f = row(i); f[1 + pick(5)] = 'abc'; return { name: 'text in number', lines: withRow(i, f), line: i + 2, code: 'invalid_value' }; },
    (i) => { const f = row(i); f[1 + pick(4)] = '-' + f[1 + pick(4)]; return { name: 'negative price', lines: withRow(i, f), line: i + 2, code: 'invalid_value' }; },
    (i) => { const f = row(i); f[1 + pick(4)] = '0'; return { name: 'zero price', lines: withRow(i, f), line: i + 2, code: 'invalid_value' }; },
    (i) => { const f = row(i); f[2] = String(Number(f[3]) * 0.99); return { name: 'high < low', lines: withRow(i, f), line: i + 2, code: 'invalid_value' }; },
    (i) => { const f = row(i); f[3] = String(Math.max(Number(f[1]), Number(f[4])) * 1.001); return { name: 'low > max(open, close)', lines: withRow(i, f), line: i + 2, code: 'invalid_value' }; },
    (i) => { const f = row(i); f[5] = '-' + (pick(100) + 1); return { name: 'negative volume', lines: withRow(i, f), line: i + 2, code: 'invalid_value' }; },
    (i) => { const f = row(i); f[1 + pick(5)] = pick(2) ? 'Infinity' : '1e400'; return { name: 'infinite', lines: withRow(i, f), line: i + 2, code: 'invalid_value' }; },
    (i) => { const f = row(i); f[1 + pick(5)] = ' ' + f[1]; return { name: 'padded number', lines: withRow(i, f), line: i + 2, code: 'invalid_value' }; },
    (i) => { const f = row(i); f[0] = ['2022-13-01T00:00:00Z', 'yesterday', '2022-01-01T00:00:00+02:00', '2023-02-30T00:00:00Z', ''][pick(5)]!; return { name: 'bad timestamp', lines: withRow(i, f), line: i + 2, code: 'invalid_value' }; },
    (i) => {
      const j = Math.min(i, rows.length - 2);
      const lines = [...rows];
      [lines[j], lines[j + 1]] = [lines[j + 1]!, lines[j]!];
      return { name: 'unsorted', lines, line: j + 3, code: 'unsorted' };
    },
    (i) => { const lines = [...rows]; lines.splice(i + 1, 0, rows[i]!); return { name: 'duplicate timestamp', lines, line: i + 3, code: 'duplicate_timestamp' }; },
    (i) => {
      const f = row(i);
      f[0] = new Date(Date.parse(f[0]!) + 3_600_000).toISOString().replace('.000Z', 'Z');
      return { name: 'off-grid timestamp', lines: withRow(i, f), line: i + 2, code: 'wrong_timeframe' };
    },
    (i) => { const lines = [...rows]; lines.splice(i, 0, ''); return { name: 'empty line', lines, line: i + 2, code: 'malformed_row' }; },
    (i) => {
      // A 1h series in a file named 4h: the second row is off the 4h grid.
      const start = Date.parse(row(0)[0]!);
      const lines = rows.map((x, k) => { const f = x.split(','); f[0] = new Date(start + k * 3_600_000).toISOString().replace('.000Z', 'Z'); return f.join(','); });
      void i;
      return { name: 'wrong timeframe (1h data)', lines, line: 3, code: 'wrong_timeframe' };
    },
  ];
  const headerOps: (() => Variant)[] = [
    () => ({ name: 'unknown column', lines: rows.map((x) => x + ',1'), line: 1, code: 'unknown_column', header: HEADER + ',turnover' } as Variant & { header: string }),
    () => { const k = 1 + pick(5); const h = COLUMNS.map((c, j) => (j === k ? c.toUpperCase() : c)).join(','); return { name: 'renamed column', lines: rows, line: 1, code: 'unknown_column', header: h } as Variant & { header: string }; },
    () => { const k = pick(6); const h = COLUMNS.filter((_, j) => j !== k).join(','); return { name: 'missing column', lines: rows.map((x) => x.split(',').filter((_, j) => j !== k).join(',')), line: 1, code: 'missing_column', header: h } as Variant & { header: string }; },
    () => ({ name: 'empty file', lines: [], line: 1, code: 'empty_file', header: '' } as Variant & { header: string }),
  ];
  const out: Variant[] = [];
  for (let v = 0; v < count; v++) {
    if (v % 10 === 9) {
      const h = headerOps[pick(headerOps.length)]!() as Variant & { header: string };
      out.push({ ...h, lines: h.header === '' ? [] : [h.header, ...h.lines] });
    } else {
      const op = ops[v % ops.length]!;
      const i = 1 + pick(rows.length - 2);
      const variant = op(i);
      out.push({ ...variant, lines: [HEADER, ...variant.lines] });
    }
  }
  return out;
}

async function digest(store: MarketStore): Promise<string> {
  const bars = await store.query(`SELECT count(*)::VARCHAR AS n, coalesce(sum(hash(COLUMNS(*)))::VARCHAR, '') AS h FROM bars`);
  const series = await store.query(`SELECT count(*)::VARCHAR AS n FROM bar_series`);
  return JSON.stringify({ bars, series });
}

describe('bad input files are rejected with file, line and problem, and nothing is written', () => {
  const root = tempDir('tm-fuzz-');
  const venueDir = join(root, 'fuzzvenue');
  let store: MarketStore;
  let rows: string[];
  let before: string;

  beforeAll(async () => {
    const text = gunzipSync(readFileSync(join(sharedDataDir(), 'bybit/BTCUSDT-4h.csv.gz'))).toString('utf8');
    rows = text.split('\n').slice(1, 41);
    mkdirSync(venueDir, { recursive: true });
    store = await MarketStore.open(join(root, 'market.duckdb'));
    // Existing data the failed imports must leave untouched, including the same series.
    writeFileSync(join(venueDir, 'BTCUSDT-4h.csv'), [HEADER, ...rows.slice(0, 20)].join('\n') + '\n');
    await importPath(store, venueDir);
    rmSync(join(venueDir, 'BTCUSDT-4h.csv'));
    before = await digest(store);
  });
  afterAll(() => store.close());

  it('generates ≥ 200 variants', () => {
    expect(variants(rows, 230, 1).length).toBeGreaterThanOrEqual(200);
  });

  it('rejects each of 230 variants naming file, line and problem; the store is row-for-row unchanged', async () => {
    const all = variants(rows, 230, 20261124);
    const seen = new Set<string>();
    for (const [k, v] of all.entries()) {
      const gz = k % 3 === 0;
      // Half the variants go to a series with stored bars (parse, then upsert), half to a new series (streamed:
      // rows are appended while the file is still being read, so a late bad row must roll all of them back).
      const symbol = k % 4 < 2 ? 'BTCUSDT' : 'NEWUSDT';
      const file = join(venueDir, `${symbol}-4h.csv${gz ? '.gz' : ''}`);
      const body = Buffer.from(v.lines.length ? v.lines.join('\n') + '\n' : '');
      writeFileSync(file, gz ? gzipSync(body) : body);
      // Every other variant shares the import with a valid file that is processed first (same transaction).
      const valid = join(venueDir, 'AAAUSDT-4h.csv');
      if (k % 2 === 0) writeFileSync(valid, [HEADER, ...rows].join('\n') + '\n');
      let error: unknown;
      try {
        await importPath(store, venueDir);
      } catch (e) {
        error = e;
      }
      rmSync(file);
      rmSync(valid, { force: true });
      const label = `variant ${k} (${v.name})`;
      expect(error, label).toBeInstanceOf(DataError);
      const e = error as DataError;
      expect({ label, code: e.code, file: e.context['file'], line: e.context['line'] }).toEqual({ label, code: v.code, file, line: v.line });
      expect(e.message.startsWith(`${file}:${v.line}: `), `${label}: ${e.message}`).toBe(true);
      expect(String(e.context['problem']).length, label).toBeGreaterThan(5);
      seen.add(v.name);
    }
    expect(seen.size).toBeGreaterThanOrEqual(20);
    expect(await digest(store)).toBe(before);
    // The store still accepts a good import afterwards (no half-open transaction).
    writeFileSync(join(venueDir, 'BTCUSDT-4h.csv'), [HEADER, ...rows].join('\n') + '\n');
    const ok = await importPath(store, venueDir);
    expect(ok[0]).toMatchObject({ rows: 40, inserted: 20, updated: 0 });
  });
});

describe('a bad row late in a large file rolls back rows already streamed into the store', () => {
  it('imports nothing from a 73k-row 1m file whose second-to-last row is bad', async () => {
    const root = tempDir('tm-late-');
    const dir = join(root, 'latevenue');
    mkdirSync(dir, { recursive: true });
    const lines = gunzipSync(readFileSync(join(sharedDataDir(), 'binance-futures/BTCUSDT-1m-2025-05_06.csv.gz'))).toString('utf8').trimEnd().split('\n');
    const bad = lines.length - 2;
    const fields = lines[bad]!.split(',');
    fields[2] = String(Number(fields[3]) / 2); // high < low
    lines[bad] = fields.join(',');
    const file = join(dir, 'BTCUSDT-1m.csv.gz');
    writeFileSync(file, gzipSync(Buffer.from(lines.join('\n') + '\n')));
    const store = await MarketStore.open(join(root, 'market.duckdb'));
    try {
      const empty = await digest(store);
      expect(JSON.parse(empty)).toMatchObject({ bars: [{ n: '0' }], series: [{ n: '0' }] });
      await expect(importPath(store, dir)).rejects.toMatchObject({ code: 'invalid_value', context: { file, line: bad + 1 } });
      expect(await digest(store)).toBe(empty);
    } finally {
      store.close();
    }
  });
});
