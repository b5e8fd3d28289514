/**
 * `tm research model-table` in-process on the real market data (binance-spot BTC/ETH/SOL 4h, binance-futures funding,
 * Deribit DVOL) in a temp store, with a tiny config: the Markdown + JSON files, every row with and without meta, the
 * XGBoost learner gap on the same splits (project venv python), determinism, and the DSR's trial count from the ledger.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import type { ModelTableResult } from '../../src/training/index.js';
import { importTrainingStore, tempDir } from '../support/shared-data.js';

function tinyConfig(seed: number): Record<string, unknown> {
  return {
    name: 'tiny',
    train: {
      name: 'tiny',
      data: { start: '2025-01-01', end: '2025-07-01' },
      gbdt: { rounds: 10, maxDepth: 3, maxBins: 32, minLeaf: 50 },
      transfer: { rounds: 5 },
      randomForest: { trees: 8, maxDepth: 4, maxBins: 32 },
      seed,
    },
    cpcv: { groups: 4, testGroups: 2 },
    meta: { rounds: 10 },
    pbo: { blocks: 4 },
  };
}

async function tm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [], stderr: string[] = [];
  const io: CliIo = { out: (t) => void stdout.push(t), err: (t) => void stderr.push(t) };
  const code = await main(['node', 'tm', ...args], io);
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

describe('tm research model-table (real data, temp store)', () => {
  const dir = tempDir('tm-model-table-');
  const db = join(dir, 'market.duckdb');
  const python = process.env['TM_PYTHON'] ?? resolve('.venv/bin/python');
  const run = (seed: number, out: string, extra: string[] = []) => {
    const config = join(dir, `tiny-${seed}.json`);
    writeFileSync(config, JSON.stringify(tinyConfig(seed)));
    return tm(['research', 'model-table', '--config', config, '--db', db, '--out', join(dir, out), '--xgboost', '--python', python, ...extra]);
  };
  const json = (out: string) => JSON.parse(readFileSync(join(dir, out.replace(/\.md$/, '.json')), 'utf8')) as ModelTableResult;

  beforeAll(() => importTrainingStore(db), 120_000);

  it('writes the table: 9 rows + 2 XGBoost variants, CPCV paths, PBO, DSR, learner gap; deterministic; the ledger counts distinct trials', async () => {
    const first = await run(7, 'a.md', ['--ledger', join(dir, 'ledger.jsonl')]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const a = json('a.md');
    expect(a.rows.map((r) => r.key)).toEqual(['pooled', 'pooled+meta', 'per-symbol', 'per-symbol+meta', 'transfer', 'transfer+meta', 'random-forest', 'random-forest+meta', 'ridge', 'xgboost', 'xgboost-nan-right']);
    expect(a.cpcv).toMatchObject({ groups: 4, testGroups: 2, splits: 6, paths: 3 });
    for (const r of a.rows) {
      expect(r.sharpeByPath).toHaveLength(3);
      expect(r.sharpeByPath.every(Number.isFinite)).toBe(true);
      expect(r.sharpe.p5).toBeLessThanOrEqual(r.sharpe.median);
      expect(r.sharpe.median).toBeLessThanOrEqual(r.sharpe.p95);
      expect(r.dsr).toBeGreaterThanOrEqual(0);
      expect(r.dsr).toBeLessThanOrEqual(1);
      // meta rows skip some bets, the others always bet
      if (r.meta) expect(r.betRate).toBeLessThan(1);
      else expect(r.betRate).toBeGreaterThan(0.99);
    }
    expect(a.pbo.value).toBeGreaterThanOrEqual(0);
    expect(a.pbo.value).toBeLessThanOrEqual(1);
    expect(a.pbo.splits).toBe(6); // C(4, 2)
    expect(a.dsrTrials.count).toBe(11);
    expect(a.learnerGap!.gbdtIcBySplit).toHaveLength(6);
    const [xgb, nanRight] = a.learnerGap!.learners;
    expect([xgb!.key, nanRight!.key]).toEqual(['xgboost', 'xgboost-nan-right']);
    for (const l of [xgb!, nanRight!]) {
      expect(l.icBySplit).toHaveLength(6);
      expect(l.icBySplit.every(Number.isFinite)).toBe(true);
      expect(l.icBySplit).not.toEqual(a.learnerGap!.gbdtIcBySplit);
    }
    // SOL's funding starts 2025-02-01 (binance-futures): its funding features are missing in January, so the variants differ
    expect(nanRight!.icBySplit).not.toEqual(xgb!.icBySplit);
    const md = readFileSync(join(dir, 'a.md'), 'utf8');
    expect(md).toContain('| pooled | yes |');
    expect(md).toMatch(/PBO \(CSCV over the 11 configurations/);
    expect(md).toContain('Learner gap');

    // the same config again: identical result; the ledger's trials are the same configurations (N stays 11)
    const second = await run(7, 'b.md', ['--ledger', join(dir, 'ledger.jsonl')]);
    expect(second.code).toBe(0);
    const b = json('b.md');
    expect(b.rows).toEqual(a.rows.map((r) => ({ ...r })));
    expect(b.dsrTrials.count).toBe(11);
    expect(readFileSync(join(dir, 'ledger.jsonl'), 'utf8').trim().split('\n')).toHaveLength(22);
    // another seed adds 11 configurations: N = 22
    const third = await run(8, 'c.md', ['--ledger', join(dir, 'ledger.jsonl')]);
    expect(third.code).toBe(0);
    expect(json('c.md').dsrTrials.count).toBe(22);
  }, 300_000);

  it('withBoruta: the pooled + Boruta row right after pooled, Boruta run per split on its training rows, its kept features listed', async () => {
    const config = join(dir, 'tiny-boruta.json');
    writeFileSync(config, JSON.stringify({ ...tinyConfig(7), withBoruta: true, train: { ...(tinyConfig(7)['train'] as object), boruta: { iterations: 4, trees: 8, maxRows: 800, maxDepth: 4 } } }));
    const r = await tm(['research', 'model-table', '--config', config, '--db', db, '--out', join(dir, 'b.md')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const b = json('b.md');
    expect(b.rows.map((x) => x.key)).toEqual(['pooled', 'pooled+boruta', 'pooled+meta', 'per-symbol', 'per-symbol+meta', 'transfer', 'transfer+meta', 'random-forest', 'random-forest+meta', 'ridge']);
    const pooled = b.rows[0]!, selected = b.rows[1]!;
    expect(selected).toMatchObject({ model: 'pooled', meta: false, boruta: true });
    expect(selected.configHash).not.toBe(pooled.configHash);
    // same splits and seeds, fewer features: another model
    expect(selected.icByPath).not.toEqual(pooled.icByPath);
    expect(b.boruta!.featuresBySplit).toHaveLength(6);
    for (const names of b.boruta!.featuresBySplit) {
      expect(names.length).toBeGreaterThanOrEqual(9); // boruta.minFeatures
      expect(names.length).toBeLessThanOrEqual(13); // boruta.maxFeatures
    }
    expect(Object.values(b.boruta!.keptCount).reduce((x, y) => x + y, 0)).toBe(b.boruta!.featuresBySplit.reduce((x, f) => x + f.length, 0));
    expect(b.pbo.configurations).toBe(10);
    const md = readFileSync(join(dir, 'b.md'), 'utf8');
    expect(md).toContain('| pooled + Boruta | no |');
    expect(md).toMatch(/Boruta \(train\.boruta settings, per split on its training rows\): \d+–\d+ of \d+ features kept/);
  });

  it('--help names the options; a bad --out is refused', async () => {
    const help = await tm(['research', 'model-table', '--help']);
    expect(help.stdout).toMatch(/--config <file>[\s\S]*--xgboost[\s\S]*--ledger/);
    const bad = await tm(['research', 'model-table', '--config', 'x.json', '--out', 'table.txt']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--out must end in .md');
  });
});
