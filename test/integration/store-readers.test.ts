/**
 * Read-only commands share the store: they open DuckDB READ_ONLY, so readers run side by side; a writer excludes them
 * and the refusal names the process holding the lock. Lock holders run in child processes (DuckDB locks per process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { MarketStore } from '../../src/data/index.js';
import { captureIo } from '../support/cli.js';
import { tempDir } from '../support/shared-data.js';

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.stdin?.end();
    if (c.exitCode === null) await new Promise((r) => c.once('exit', r));
  }
});

/** Starts a child that holds the store (`ro` or `rw`) until its stdin closes; resolves with its pid once it holds it. */
function hold(db: string, mode: 'ro' | 'rw'): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/hold-store.ts', db, mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`holder did not start within 20 s: ${err}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /held (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`holder exited ${code}: ${err}`));
    });
  });
}

/** Runs `tm <args>` as its own process; resolves with exit code and output. */
function tmProcess(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['bin/tm.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

describe('readers in read-only mode', () => {
  const db = join(tempDir('tm-readers-'), 'market.duckdb');

  beforeAll(async () => {
    const store = await MarketStore.open(db);
    const ts = Float64Array.from({ length: 6 }, (_, i) => Date.UTC(2024, 0, 1) + i * 3_600_000);
    const one = new Float64Array(6).fill(100);
    await store.upsertBars('binance-spot', 'BTCUSDT', '1h', { ts, open: one, high: one, low: one, close: one, volume: one });
    store.close();
  });

  it('two read-only commands run concurrently on one store (while a third reader holds it open)', async () => {
    const holder = await hold(db, 'ro');
    expect(holder).toBeGreaterThan(0);
    const [ls, check] = await Promise.all([tmProcess('data', 'ls', '--db', db, '--json'), tmProcess('data', 'check', '--db', db, '--json')]);
    expect(ls.err).toBe('');
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.out)).toEqual([expect.objectContaining({ venue: 'binance-spot', symbol: 'BTCUSDT', timeframe: '1h', rows: 6 })]);
    expect(check.err).toBe('');
    expect(check.code).toBe(0);
    // And in this process too, alongside the holder.
    const io = captureIo();
    expect(await main(['node', 'tm', 'data', 'ls', '--db', db], io)).toBe(0);
    expect(io.text()).toContain('BTCUSDT');
  }, 60_000);

  it('while a writer holds the store, a reader exits 2 naming the lock holder and what to do', async () => {
    const pid = await hold(db, 'rw');
    const io = captureIo();
    const code = await main(['node', 'tm', 'data', 'ls', '--db', db], io);
    expect(code).toBe(2);
    expect(io.text()).toContain(`store ${db} is locked by process ${pid} (`);
    expect(io.text()).toContain('hold-store.ts');
    expect(io.text()).toContain('a writer (tm data import / fetch / resample, tm train) has it open');
    expect(io.text()).toContain(`Wait for that process to finish, stop it (kill ${pid}), or use another --db`);
  }, 60_000);

  it('a writer is refused while a reader holds the store, and the message names the reader', async () => {
    const pid = await hold(db, 'ro');
    const e = await MarketStore.open(db).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'locked', context: { pid } });
  }, 60_000);

  it('a reader of a store file that does not exist sees an empty store and creates no file', async () => {
    const missing = join(tempDir('tm-readers-'), 'none.duckdb');
    const io = captureIo();
    expect(await main(['node', 'tm', 'data', 'ls', '--db', missing, '--json'], io)).toBe(0);
    expect(io.text()).toBe('[]');
    const { existsSync } = await import('node:fs');
    expect(existsSync(missing)).toBe(false);
  });
});
