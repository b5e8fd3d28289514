import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPath, MarketStore } from '../../src/data/index.js';
import { tm } from '../support/cli.js';
import { promtool } from '../support/promtool.js';
import { sharedDataDir, tempDir } from '../support/shared-data.js';

describe('tm backtest (real shared data)', () => {
  const dir = tempDir('tm-backtest-');
  const db = join(dir, 'market.duckdb');

  beforeAll(async () => {
    const store = await MarketStore.open(db);
    try {
      await importPath(store, sharedDataDir());
    } finally {
      store.close();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the default experiment deterministically and states the substitutions and the SOL funding fallback', async () => {
    const first = await tm('backtest', '--config', 'experiments/sma-crossover.json', '--db', db, '--out', join(dir, 'run1'));
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain(`report: ${join(dir, 'run1', 'report.html')}`);
    expect(first.out).toMatch(/total_return\s+cagr\s+sharpe/);
    const second = await tm('backtest', '--config', 'experiments/sma-crossover.json', '--db', db, '--out', join(dir, 'run2'));
    expect(second.code).toBe(0);
    const a = readFileSync(join(dir, 'run1', 'summary.json'));
    const b = readFileSync(join(dir, 'run2', 'summary.json'));
    expect(b.equals(a)).toBe(true);
    expect(existsSync(join(dir, 'run1', 'report.html'))).toBe(true);
    // The run's metrics in Prometheus text format, identical for identical runs; promtool accepts them.
    expect(first.out).toContain(`metrics: ${join(dir, 'run1', 'metrics.prom')}`);
    const exposition = readFileSync(join(dir, 'run1', 'metrics.prom'), 'utf8');
    expect(readFileSync(join(dir, 'run2', 'metrics.prom'), 'utf8')).toBe(exposition);
    expect(exposition).toMatch(/^trade_matrix_equity_usdt\{strategy="sma-crossover"\} \d/m);
    expect(promtool(['check', 'metrics'], exposition)).toEqual({ status: 0, output: '' });

    const summary = JSON.parse(a.toString('utf8')) as { dataSources: { symbol: string; note: string | null }[]; notes: string[]; counts: { fundingFallbackPayments: number } };
    expect(summary.dataSources.map((d) => d.note)).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT'].map((s) => `Bybit USDT perp rules on binance-spot ${s} prices`));
    const solFallback = summary.notes.find((n) => n.startsWith('funding fallback for SOLUSDT-LINEAR.BYBIT'));
    expect(solFallback).toBeDefined();
    expect(solFallback).toContain('applied a constant rate of 0.0001 per 8h');
    // The SOL fallback stops where Binance USDT-M SOL funding starts (2025-02-01), except the one settlement at the
    // exclusive end (2025-09-01T00:00, beyond the shared data's hold-out cut-off) that every symbol lacks.
    expect(summary.notes).toContain('SOLUSDT-LINEAR.BYBIT: funding rates from binance-futures SOLUSDT (636 settlements from 2025-02-01T00:00:00Z to 2025-08-31T16:00:00Z), applied to the Bybit contract');
    expect(summary.counts.fundingFallbackPayments).toBeGreaterThan(1000);
  });

  it('--funding strict refuses a run that would need the fallback rate, and runs one that does not', async () => {
    const refused = await tm('backtest', '--config', 'experiments/sma-crossover.json', '--to', '2025-08-31', '--funding', 'strict', '--db', db, '--out', join(dir, 'strict'));
    expect(refused.code).toBe(2);
    // SOL's Binance USDT-M funding starts 2025-02-01: 3,000+ funding times of the backtest (warm-up included) have none
    expect(refused.err).toMatch(/funding\.strict: binance-futures SOLUSDT has no settlement at \d{4} of \d{4} funding times of the backtest \(first missing 2021-12-\d\dT\d\d:00:00Z\)/);
    // BTC and ETH on Bybit prices with Binance funding are complete up to 2025-08-31 (the 2025-09-01 settlement is held out)
    const ok = await tm('backtest', '--config', 'experiments/sma-crossover-bybit.json', '--to', '2025-08-31', '--funding', 'strict', '--db', db, '--out', join(dir, 'strict-ok'));
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    const edge = await tm('backtest', '--config', 'experiments/sma-crossover-bybit.json', '--funding', 'strict', '--db', db, '--out', join(dir, 'strict-edge'));
    expect(edge.code).toBe(2);
    expect(edge.err).toMatch(/has no settlement at 1 of \d+ funding times .*first missing 2025-09-01T00:00:00Z/);
  });

  it('fails the prediction-driven experiment with a message naming the model and `tm train`', async () => {
    const r = await tm('backtest', '--config', 'experiments/signal-column.json', '--db', db, '--out', join(dir, 'signal'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('experiments/signal-column.json: column signal: the store has no predictions of model "gbdt-transfer"');
    expect(r.err).toContain('`tm train`');
    expect(existsSync(join(dir, 'signal', 'summary.json'))).toBe(false);
  });

  it('reports a bad experiment file by file, JSON path and problem', async () => {
    const file = join(dir, 'bad.json');
    const config = JSON.parse(readFileSync('experiments/sma-crossover.json', 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...config, name: 'bad', slipage: { model: 'fixed', bps: 1 } }));
    const r = await tm('backtest', '--config', file, '--db', db);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}: $.slipage: unknown key "slipage"`);
    writeFileSync(file, JSON.stringify({ ...config, name: 'bad', params: { fast: 50, slow: 20 } }));
    const p = await tm('backtest', '--config', file, '--db', db);
    expect(p.err).toContain(`${file}: $.params.slow: must be greater than fast, was 20`);
  });

  it('--all passes against the committed baselines, skipping only the experiment without predictions', async () => {
    const r = await tm('backtest', '--all', '--db', db, '--out', join(dir, 'all'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/sma-crossover\s+ok/);
    expect(r.out).toMatch(/sma-crossover-bybit\s+ok/);
    expect(r.out).toMatch(/buy-and-hold\s+ok/);
    expect(r.out).toMatch(/signal-column-momentum\s+ok/);
    expect(r.out).toMatch(/signal-column\s+skipped\s+0\s+.*no predictions of model "gbdt-transfer"/);
    expect(existsSync(join(dir, 'all', 'signal-column-momentum', 'report.html'))).toBe(true);
  });

  it('--all exits 1 on a tampered baseline or a missing one, and tolerates a relative change below 1e-9', async () => {
    const baselines = join(dir, 'baselines');
    cpSync('experiments/baselines', baselines, { recursive: true });
    const file = join(baselines, 'sma-crossover.json');
    const original = JSON.parse(readFileSync(file, 'utf8')) as { metrics: Record<string, number>; counts: Record<string, number> };

    writeFileSync(file, JSON.stringify({ ...original, metrics: { ...original.metrics, sharpe: original.metrics['sharpe']! * (1 + 1e-11) } }));
    expect((await tm('backtest', '--all', '--db', db, '--out', join(dir, 'all'), '--baselines', baselines)).code).toBe(0);

    writeFileSync(file, JSON.stringify({ ...original, metrics: { ...original.metrics, sharpe: original.metrics['sharpe']! * (1 + 1e-6) } }));
    const drift = await tm('backtest', '--all', '--db', db, '--out', join(dir, 'all'), '--baselines', baselines);
    expect(drift.code).toBe(1);
    expect(drift.out).toMatch(/sma-crossover\s+drift\s+1/);
    expect(drift.out).toMatch(/sma-crossover\s+\$\.metrics\.sharpe\s+.*relative 1e-9/);

    writeFileSync(file, JSON.stringify({ ...original, counts: { ...original.counts, fills: original.counts['fills']! + 1 } }));
    const count = await tm('backtest', '--all', '--db', db, '--out', join(dir, 'all'), '--baselines', baselines);
    expect(count.code).toBe(1);
    expect(count.out).toMatch(/\$\.counts\.fills\s+.*exact/);

    rmSync(file);
    const missing = await tm('backtest', '--all', '--db', db, '--out', join(dir, 'all'), '--baselines', baselines);
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/sma-crossover\s+missing-baseline/);

    const update = await tm('backtest', '--all', '--update-baseline', '--db', db, '--out', join(dir, 'all'), '--baselines', baselines);
    expect(update.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(readFileSync('experiments/baselines/sma-crossover.json', 'utf8'));
  });

  it('--all fails an experiment with a baseline but no data in the store, unless --allow-missing-data', async () => {
    const empty = join(dir, 'empty.duckdb');
    const r = await tm('backtest', '--all', '--db', empty, '--out', join(dir, 'none'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/sma-crossover\s+no-data/);
    const allowed = await tm('backtest', '--all', '--allow-missing-data', '--db', empty, '--out', join(dir, 'none'));
    expect(allowed.code).toBe(1); // nothing ran at all
    expect(allowed.out).toContain('no experiment ran');
  });
});
