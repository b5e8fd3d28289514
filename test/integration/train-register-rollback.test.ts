/**
 * `tm train --register` checks before work and commits after work (real MLflow + MinIO; a TCP proxy in front of
 * MLflow is cut to kill the registry mid-run). The store's predictions and the models/ folder must be exactly as
 * before whenever the run fails, and the message must say so.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { importPath, MarketStore } from '../../src/data/index.js';
import { runTm } from '../support/cli.js';
import { sharedDataDir, tempDir } from '../support/shared-data.js';
import { startCutProxy, type LocalServer } from '../support/hostile-servers.js';

function fastConfig(name: string, seed: number): Record<string, unknown> {
  return {
    name,
    data: { start: '2023-01-01', end: '2025-09-01' },
    walkForward: { folds: 2, initialTrainFraction: 0.5, purgeGap: 200 },
    boruta: { iterations: 3, trees: 6, maxRows: 600, maxDepth: 3 },
    gbdt: { rounds: 8, maxDepth: 3, maxBins: 32 },
    transfer: { rounds: 3 },
    randomForest: { trees: 6, maxDepth: 3, maxBins: 32 },
    seed,
  };
}

const tm = (args: string[]) => runTm(args);

/** Every file under `dir` with its sha256 and mtime: equal snapshots = nothing was rewritten. */
function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = `${createHash('sha256').update(readFileSync(p)).digest('hex')}@${statSync(p).mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

async function predictionsDigest(db: string): Promise<string> {
  const store = await MarketStore.open(db, { readOnly: true });
  try {
    const r = await store.query(`SELECT count(*)::VARCHAR AS n, coalesce(sum(hash(COLUMNS(*)))::VARCHAR, '') AS h FROM predictions`);
    return JSON.stringify(r[0]);
  } finally {
    store.close();
  }
}

function withEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

describe('tm train --register: check before work, commit after work (real MLflow + MinIO)', () => {
  const dir = tempDir('tm-train-register-');
  const db = join(dir, 'market.duckdb');
  const out = join(dir, 'models');
  const name = `rollback-${process.pid}`;
  const config = join(dir, 'train-rollback.json');
  const trackingUri = process.env['MLFLOW_TRACKING_URI'];
  let before: { files: Record<string, string>; predictions: string };
  const proxies: LocalServer[] = [];
  let restore: (() => void) | undefined;

  afterEach(async () => {
    restore?.();
    restore = undefined;
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  beforeAll(async () => {
    if (!trackingUri || !process.env['TM_S3_BUCKET']) throw new Error('MLFLOW_TRACKING_URI / TM_S3_BUCKET not set: eval "$(bash scripts/services.sh env)"');
    const root = sharedDataDir();
    const store = await MarketStore.open(db);
    await importPath(store, join(root, 'binance-spot'));
    for (const s of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) await importPath(store, join(root, 'binance-futures', `${s}-funding.csv.gz`));
    await importPath(store, join(root, 'deribit'));
    store.close();
    // A first, local-only run leaves models/ and predictions behind: the state a failed run must not touch.
    writeFileSync(config, JSON.stringify(fastConfig(name, 1)));
    const undo = withEnv({ MLFLOW_TRACKING_URI: undefined });
    try {
      const first = await tm(['train', '--config', config, '--db', db, '--out', out]);
      expect(first.err).toBe('');
      expect(first.code).toBe(0);
    } finally {
      undo();
    }
    before = { files: snapshotDir(out), predictions: await predictionsDigest(db) };
    expect(Object.keys(before.files).length).toBeGreaterThan(2);
    expect(JSON.parse(before.predictions).n).not.toBe('0');
    // The next runs would write other bytes (another seed), so an overwrite could not go unnoticed.
    writeFileSync(config, JSON.stringify(fastConfig(name, 2)));
  }, 600_000);

  it('registry killed mid-registration → exit 2, the message says nothing was written, store and models/ exactly as before', async () => {
    let registering = false;
    const proxy = await startCutProxy(trackingUri!, (text) => (registering ||= /POST \/api\/2\.0\/mlflow\/model-versions\/create/.test(text)));
    proxies.push(proxy);
    restore = withEnv({ MLFLOW_TRACKING_URI: proxy.url, TM_MLFLOW_TIMEOUT_MS: '3000' });
    const r = await tm(['train', '--config', config, '--db', db, '--out', out, '--register', name]);
    expect(registering).toBe(true); // the registry died in the middle of registering, after training
    expect(proxy.isCut()).toBe(true);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${config}: training finished but publishing to MLflow failed`);
    expect(r.err).toContain(`Nothing was written locally: ${join(out, name)}/ and the store's predictions of ${name}@`);
    expect(snapshotDir(out)).toEqual(before.files);
    expect(await predictionsDigest(db)).toBe(before.predictions);
  }, 600_000);

  it('registry unreachable before training → fails within the deadline, before any training, nothing written', async () => {
    const proxy = await startCutProxy(trackingUri!, () => true);
    proxies.push(proxy);
    restore = withEnv({ MLFLOW_TRACKING_URI: proxy.url, TM_MLFLOW_TIMEOUT_MS: '2000' });
    const r = await tm(['train', '--config', config, '--db', db, '--out', out, '--register', name]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tm: MLflow check before training failed: .*; nothing was trained or written$/);
    expect(r.ms).toBeLessThan(10_000);
    expect(snapshotDir(out)).toEqual(before.files);
    expect(await predictionsDigest(db)).toBe(before.predictions);
  }, 60_000);

  it('bucket unset with MLflow configured → refused before training', async () => {
    restore = withEnv({ TM_S3_BUCKET: undefined });
    const r = await tm(['train', '--config', config, '--db', db, '--out', out, '--register', name]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tm: MLFLOW_TRACKING_URI is set but TM_S3_BUCKET is not: .*; nothing was trained or written$/);
    expect(r.ms).toBeLessThan(5_000);
    expect(snapshotDir(out)).toEqual(before.files);
  }, 60_000);
});
