/**
 * Hostile-but-realistic inputs to the CLI, each with its exit code and message: unreadable `.csv.gz`/`.csv` files
 * (symlink loop, dangling link, a folder behind the name), upper-case extensions, a timeframe in the file name that the
 * rows contradict, trailing blank lines, multi-file rollback, typos and absurd numbers in a backtest config, and a bad
 * feature parameter in a training config. Everything runs in-process through `main` on temp files and stores.
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MarketStore } from '../../src/data/index.js';
import { runTm } from '../support/cli.js';
import { tempDir } from '../support/shared-data.js';

const tm = (...args: string[]) => runTm(args);

/** `n` bars of `stepHours` spacing from 2024-01-01, as CSV text. */
function barsCsv(n: number, stepHours: number, trailing = '\n'): string {
  const rows = ['ts,open,high,low,close,volume'];
  for (let i = 0; i < n; i++) {
    const ts = new Date(Date.UTC(2024, 0, 1) + i * stepHours * 3_600_000).toISOString().replace('.000Z', 'Z');
    rows.push(`${ts},100,101,99,100.5,10`);
  }
  return rows.join('\n') + trailing;
}

async function seriesCount(db: string): Promise<number> {
  if (!existsSync(db)) return 0;
  const store = await MarketStore.open(db, { readOnly: true });
  try {
    return Number((await store.query('SELECT count(*) AS n FROM bar_data'))[0]!['n']);
  } finally {
    store.close();
  }
}

describe('(4) unreadable files: a typed DataError, exit 2, no stack trace', () => {
  for (const ext of ['.csv.gz', '.csv']) {
    it(`symlink loop, dangling link and a folder behind a ${ext} name`, async () => {
      const root = tempDir('tm-unreadable-');
      const cases: [string, (p: string) => void, RegExp][] = [
        ['loop', (p) => symlinkSync(p, p), /symbolic link loop/],
        ['dangling', (p) => symlinkSync(join(root, 'nowhere'), p), /no such file \(dangling symbolic link\?\)/],
        ['folder', (p) => (mkdirSync(join(root, 'real-folder'), { recursive: true }), symlinkSync(join(root, 'real-folder'), p)), /is a folder, not a file/],
      ];
      for (const [label, make, message] of cases) {
        const venue = join(root, label, 'binance-spot');
        mkdirSync(venue, { recursive: true });
        const file = join(venue, `BTCUSDT-1h${ext}`);
        make(file);
        const r = await tm('data', 'import', join(root, label), '--db', join(root, `${label}.duckdb`));
        expect(r.code, `${label}${ext}: ${r.err}`).toBe(2);
        expect(r.err).toMatch(new RegExp(`^tm: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read file \\(`));
        expect(r.err).toMatch(message);
        expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
      }
    });
  }
});

describe('(5) typos and sloppy files', () => {
  it('upper-case extensions (.CSV.GZ, .CSV) are imported, not skipped', async () => {
    const root = tempDir('tm-case-');
    mkdirSync(join(root, 'binance-spot'));
    writeFileSync(join(root, 'binance-spot', 'BTCUSDT-1h.CSV.GZ'), gzipSync(barsCsv(5, 1)));
    writeFileSync(join(root, 'binance-spot', 'ETHUSDT-1h.Csv'), barsCsv(3, 1));
    const db = join(root, 'm.duckdb');
    const r = await tm('data', 'import', root, '--db', db);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('imported 2 files, 8 rows');
  });

  it('4h data named -1h is refused with the measured spacing; nothing is imported', async () => {
    const root = tempDir('tm-spacing-');
    mkdirSync(join(root, 'binance-spot'));
    const file = join(root, 'binance-spot', 'BTCUSDT-1h.csv.gz');
    writeFileSync(file, gzipSync(barsCsv(50, 4)));
    const db = join(root, 'm.duckdb');
    const r = await tm('data', 'import', file, '--db', db);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`tm: ${file}:3: the file name says 1h but no two consecutive rows are 1h apart: the smallest step is 4h (14400000 ms, first at this line); rename the file to the data's timeframe`);
    expect(await seriesCount(db)).toBe(0);
    // The same rows under the right name import; a 1h file with gaps (smallest step 1h) is still a 1h file.
    const right = join(root, 'binance-spot', 'BTCUSDT-4h.csv.gz');
    writeFileSync(right, gzipSync(barsCsv(50, 4)));
    expect((await tm('data', 'import', right, '--db', db)).code).toBe(0);
  });

  it('trailing blank lines are accepted; a blank line before more rows is refused naming its line', async () => {
    const root = tempDir('tm-blank-');
    mkdirSync(join(root, 'binance-spot'));
    const ok = join(root, 'binance-spot', 'BTCUSDT-1h.csv');
    writeFileSync(ok, barsCsv(4, 1, '\n\n\r\n\n'));
    const r = await tm('data', 'import', ok, '--db', join(root, 'a.duckdb'));
    expect(r.err).toBe('');
    expect(r.out).toContain('imported 1 files, 4 rows');
    const gz = join(root, 'binance-spot', 'ETHUSDT-1h.csv.gz');
    writeFileSync(gz, gzipSync(barsCsv(4, 1, '\n\n')));
    expect((await tm('data', 'import', gz, '--db', join(root, 'b.duckdb'))).code).toBe(0);
    const bad = join(root, 'binance-spot', 'SOLUSDT-1h.csv');
    const lines = barsCsv(4, 1).split('\n');
    lines.splice(3, 0, '');
    writeFileSync(bad, lines.join('\n'));
    const refused = await tm('data', 'import', bad, '--db', join(root, 'c.duckdb'));
    expect(refused.code).toBe(2);
    expect(refused.err).toBe(`tm: ${bad}:4: empty line before more rows (blank lines are allowed only at the end of the file)`);
  });

  it('a multi-file import that fails says which files were rolled back and which were not read', async () => {
    const root = tempDir('tm-rollback-');
    const venue = join(root, 'binance-spot');
    mkdirSync(venue);
    writeFileSync(join(venue, 'AAAUSDT-1h.csv'), barsCsv(5, 1));
    writeFileSync(join(venue, 'BBBUSDT-1h.csv'), barsCsv(5, 1));
    writeFileSync(join(venue, 'CCCUSDT-1h.csv'), barsCsv(5, 1).replace('100.5,10', '100.5,-1'));
    writeFileSync(join(venue, 'DDDUSDT-1h.csv'), barsCsv(5, 1));
    const db = join(root, 'm.duckdb');
    const r = await tm('data', 'import', root, '--db', db);
    expect(r.code).toBe(2);
    expect(r.err).toContain('CCCUSDT-1h.csv:2: volume must be >= 0, was -1');
    expect(r.err).toMatch(/\(nothing was imported: rolled back 2 files imported before it \(.*AAAUSDT-1h\.csv, .*BBBUSDT-1h\.csv\); 1 later file was not read\)$/);
    expect(await seriesCount(db)).toBe(0);
  });

  describe('backtest config', () => {
    const root = tempDir('tm-config-');
    const db = join(root, 'm.duckdb');
    const write = (name: string, extra: Record<string, unknown>): string => {
      const file = join(root, `${name}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          name,
          strategy: 'sma-crossover',
          params: { fast: 2, slow: 4 },
          data: { venue: 'binance-spot', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-01-09' },
          slippage: { model: 'fixed', bps: 1 },
          ...extra,
        }),
      );
      return file;
    };

    it('an unknown funding.venue is an error naming the section (exit 2), not a run on the fallback rate', async () => {
      const store = await MarketStore.open(db);
      const ts = Float64Array.from({ length: 60 }, (_, i) => Date.UTC(2024, 0, 1) + i * 4 * 3_600_000);
      const px = Float64Array.from({ length: 60 }, (_, i) => 100 + Math.sin(i / 3) * 5);
      await store.upsertBars('binance-spot', 'BTCUSDT', '4h', { ts, open: px, high: px.map((x) => x + 1), low: px.map((x) => x - 1), close: px, volume: px });
      await store.upsertFunding('binance-futures', 'BTCUSDT', Float64Array.of(Date.UTC(2024, 0, 1)), Float64Array.of(0.0001));
      store.close();
      const typo = write('typo-funding', { funding: { venue: 'binanse-futures' } });
      const r = await tm('backtest', '--config', typo, '--db', db, '--out', join(root, 'out'));
      expect(r.code).toBe(2);
      expect(r.err).toBe(`tm: ${typo}: $.funding.venue: unknown funding venue "binanse-futures": the store holds funding rates of binance-futures (fix the spelling, or import that venue's funding)`);
      const venue = write('typo-venue', { data: { venue: 'binance-spott', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-01-09' } });
      const v = await tm('backtest', '--config', venue, '--db', db, '--out', join(root, 'out'));
      expect(v.code).toBe(2);
      expect(v.err).toContain(`${venue}: $.data.venue: no bars of venue "binance-spott" in the store (it holds binance-spot)`);
      const symbol = write('typo-symbol', { data: { venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSTD'], timeframe: '4h', start: '2024-01-01', end: '2024-01-09' } });
      const y = await tm('backtest', '--config', symbol, '--db', db, '--out', join(root, 'out'));
      expect(y.code).toBe(2);
      expect(y.err).toBe(`tm: ${symbol}: $.data.symbols[1]: no 4h bars of ETHUSTD on binance-spot in the store (it holds BTCUSDT)`);
      const fine = write('fine', {});
      const f = await tm('backtest', '--config', fine, '--db', db, '--out', join(root, 'out'));
      expect(f.err).toBe('');
      expect(f.code).toBe(0);
    });

    it('a bad feature parameter of a column names the parameter and its value, not the whole params object', async () => {
      const file = write('bad-feature', { columns: { signal: { source: 'feature', feature: 'log-momentum', params: { lookback: 0, note: 'y'.repeat(40) } } } });
      const r = await tm('backtest', '--config', file, '--db', db);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`^tm: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\$\\.columns\\.signal\\.params\\.\\w+: .*, was (0|"y+")$`));
      expect(r.err).not.toContain('params were');
    });

    it('initialCash 1e308 (and Infinity-like, zero, negative) fails at the config, naming the field', async () => {
      for (const cash of [1e308, 1e15, 0, -5]) {
        const file = write(`cash-${String(cash).replace(/[^0-9a-z]/gi, '')}`, { initialCash: cash });
        const r = await tm('backtest', '--config', file, '--db', db);
        expect(r.code).toBe(2);
        expect(r.err).toMatch(new RegExp(`^tm: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\$\\.initialCash: .*, was ${JSON.stringify(cash).replace('+', '\\+')}$`));
      }
    });
  });
});

describe('(7) training config errors name the file and the bad value', () => {
  it('a bad feature parameter fails before training: file, JSON path, value (not the whole params object)', async () => {
    const root = tempDir('tm-train-config-');
    const file = join(root, 'train-bad.json');
    writeFileSync(file, JSON.stringify({ name: 'bad', features: [{ name: 'r', fn: 'log-return', params: { horizon: -3, comment: 'x'.repeat(50) } }] }));
    const r = await tm('train', '--config', file, '--db', join(root, 'm.duckdb'), '--out', join(root, 'models'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^tm: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\$\\.features\\[0\\]\\.params\\.horizon: .*, was -3$`));
    expect(r.err).not.toContain('xxxxxxxxxx');
    expect(existsSync(join(root, 'models'))).toBe(false);
  });

  it('an error raised during the training run (no data for the config) names the config file', async () => {
    const root = tempDir('tm-train-run-');
    const file = join(root, 'train-empty.json');
    writeFileSync(file, JSON.stringify({ name: 'empty' }));
    const saved = process.env['MLFLOW_TRACKING_URI'];
    delete process.env['MLFLOW_TRACKING_URI'];
    try {
      const db = join(root, 'm.duckdb');
      (await MarketStore.open(db)).close();
      const r = await tm('train', '--config', file, '--db', db, '--out', join(root, 'models'));
      expect(r.code).toBe(2);
      expect(r.err.startsWith(`tm: ${file}: `)).toBe(true);
    } finally {
      if (saved !== undefined) process.env['MLFLOW_TRACKING_URI'] = saved;
    }
  });
});
