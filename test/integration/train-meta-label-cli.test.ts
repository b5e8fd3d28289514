/**
 * `tm train` with `metaLabel` in-process on the real market data (binance-spot BTC/ETH 4h) in a temp store, local
 * only: the summary line, the `+meta` rows, the meta-labelled predictions version in the store, the card metrics and
 * the training report's note (the exported ONNX stays the primary model).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { MarketStore } from '../../src/data/index.js';
import { parseModelCard } from '../../src/registry/index.js';
import { importTrainingStore, tempDir } from '../support/shared-data.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];

describe('tm train metaLabel (real data, temp store, no MLflow)', () => {
  const dir = tempDir('tm-train-meta-');
  const db = join(dir, 'market.duckdb');
  const configFile = join(dir, 'train-meta.json');
  const name = 'gbdt-meta-test';
  let run: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    await importTrainingStore(db, SYMBOLS);
    writeFileSync(
      configFile,
      JSON.stringify({
        name,
        data: { symbols: SYMBOLS, start: '2024-01-01', end: '2025-09-01' },
        walkForward: { folds: 2, initialTrainFraction: 0.5, purgeGap: 200 },
        boruta: { iterations: 3, trees: 8, maxRows: 600, maxDepth: 4 },
        gbdt: { rounds: 12, maxDepth: 3, maxBins: 32 },
        transfer: { rounds: 4 },
        randomForest: { trees: 6, maxDepth: 4, maxBins: 32 },
        final: 'pooled',
        metaLabel: { threshold: 0.5, rounds: 12 },
        seed: 7,
      }),
    );
    const stdout: string[] = [], stderr: string[] = [];
    const io: CliIo = { out: (t) => void stdout.push(t), err: (t) => void stderr.push(t) };
    const saved = process.env['MLFLOW_TRACKING_URI'];
    delete process.env['MLFLOW_TRACKING_URI'];
    try {
      const code = await main(['node', 'tm', 'train', '--config', configFile, '--db', db, '--out', join(dir, 'models')], io);
      run = { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
    } finally {
      if (saved !== undefined) process.env['MLFLOW_TRACKING_URI'] = saved;
    }
  }, 300_000);

  it('prints the meta rows and says the filter is evaluated, not exported', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/pooled\+meta +ALL /);
    expect(run.stdout).toMatch(/meta-labelling \(pooled\+meta, threshold 0\.5\): bets taken on \d+\.\d % of out-of-sample bars; signal at gbdt-meta-test@wf-meta; evaluated only: the exported ONNX is the primary model/);
  });

  it('writes the meta-labelled signal as <name>@wf-meta: the primary value or 0 on the same bars as @wf', async () => {
    const store = await MarketStore.open(db);
    try {
      const rows = await store.query(
        `SELECT p.symbol AS symbol, count(*) AS n, sum(CASE WHEN m.prediction = p.prediction THEN 1 ELSE 0 END) AS same, sum(CASE WHEN m.prediction = 0 THEN 1 ELSE 0 END) AS skipped
         FROM predictions p JOIN predictions m ON m.model = p.model AND m.symbol = p.symbol AND m.ts = p.ts AND m.model_version = 'wf-meta'
         WHERE p.model = ? AND p.model_version = 'wf' GROUP BY p.symbol ORDER BY p.symbol`,
        [name],
      );
      expect(rows.map((r) => r['symbol'])).toEqual(SYMBOLS);
      for (const r of rows) {
        expect(Number(r['n'])).toBeGreaterThan(1000);
        expect(Number(r['same']) + Number(r['skipped'])).toBe(Number(r['n']));
      }
    } finally {
      store.close();
    }
  });

  it('the card and the training report say it: meta_label.* metrics (in_package 0), +meta trials, the note', () => {
    const pkg = join(dir, 'models', name);
    const parsed = parseModelCard(readFileSync(join(pkg, 'card.json'), 'utf8'), 'card');
    expect(parsed.success).toBe(true);
    const card = parsed.success ? parsed.data : undefined!;
    expect(card.metrics['meta_label.in_package']).toBe(0);
    expect(card.metrics['meta_label.threshold']).toBe(0.5);
    expect(card.metrics['meta_label.bet_rate']).toBeGreaterThan(0);
    expect(card.metrics['walk_forward.trials']).toBe(5 * 3);
    const report = JSON.parse(readFileSync(join(pkg, 'training-report.json'), 'utf8'));
    expect(report.metaLabel.note).toMatch(/evaluated in the walk-forward only/);
    expect(report.trials.names).toContain('pooled+meta/ALL');
    expect(report.metaLabel.folds).toHaveLength(2);
  });
});
