/**
 * `tm train-rl` in-process on the real market data (binance-spot SOLUSDT 4h + binance-futures funding) in a temp store,
 * over experiments/momentum-regime-kelly.json with a tiny SAC config (8-8 nets, 60 decisions, 1 fold: seconds):
 * --help, config validation naming the field, the files (actor ONNX + card per symbol, OOS table Markdown + JSON),
 * the actor read back as the cascade's RL sizer, determinism, and --register against the real MLflow + MinIO.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient, parseMlflowClientConfig, parseModelCard, verifyChecksum } from '../../src/registry/index.js';
import { readActorOnnx, SIZING_OBSERVATION_NAMES, SIZING_OBSERVATION_SPEC } from '../../src/rl/index.js';
import { tm as tmRun } from '../support/cli.js';
import { requireServiceEnv, withoutMlflow } from '../support/service-env.js';
import { importTrainingStore, tempDir } from '../support/shared-data.js';

async function tm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await tmRun(...args);
  return { code: r.code, stdout: r.out, stderr: r.err };
}

function tinyConfig(name: string): Record<string, unknown> {
  return {
    name,
    experiment: 'experiments/momentum-regime-kelly.json',
    symbols: ['SOLUSDT'],
    seed: 3,
    sac: { hiddenSizes: [8, 8], batchSize: 16, randomSteps: 20, learningStarts: 20, initialTemperature: 0.1, actorLearningRate: 0.001, criticLearningRate: 0.001, temperatureLearningRate: 0.001 },
    curriculum: { episodeBars: 60, warmupBars: 100, stages: [{ steps: 30, feeScale: 0, episodes: 'calm' }, { steps: 30, feeScale: 1, episodes: 'all' }] },
    walkForward: { folds: 1, initialTrainFraction: 0.6, purgeGap: 200, embargo: 0 },
    testWarmupBars: 250,
  };
}



describe('tm train-rl (real data, temp store)', () => {
  const dir = tempDir('tm-train-rl-');
  const db = join(dir, 'market.duckdb');
  const suffix = randomBytes(4).toString('hex');
  const registered = `tm-test-rl-${suffix}`;
  let client: MlflowClient | undefined;

  beforeAll(async () => {
    await importTrainingStore(db, ['SOLUSDT']);
  }, 120_000);
  afterAll(async () => {
    await client?.deleteRegisteredModel(`${registered}.SOLUSDT`).catch(() => undefined);
  });

  it('--help names the options', async () => {
    const r = await tm(['train-rl', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--config <file>', '--out <dir>', '--register [model]', '--db <file>', '--curve-every <steps>']) expect(r.stdout).toContain(flag);
  });

  it('refuses a config with an unknown or invalid field, naming it (exit 2, nothing trained)', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...tinyConfig('bad'), sac: { batchSize: 16, batchsize: 4 } }));
    let r = await tm(['train-rl', '--config', file, '--db', db, '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: $.sac.batchsize: unknown key "batchsize"`);
    writeFileSync(file, JSON.stringify({ ...tinyConfig('bad'), curriculum: { stages: [{ steps: 0, feeScale: 0, episodes: 'calm' }] } }));
    r = await tm(['train-rl', '--config', file, '--db', db, '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\$\.curriculum\.stages\[0\]\.steps: .*>=1.*was 0/);
    writeFileSync(file, JSON.stringify({ ...tinyConfig('bad'), sac: { seed: 4 } }));
    r = await tm(['train-rl', '--config', file, '--db', db, '--out', join(dir, 'out')]);
    expect(r.stderr).toContain('$.sac.seed: set the top-level $.seed instead');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('trains, writes the actor package and the OOS table (SAC vs PURE_KELLY vs flat, DSR), deterministically', async () => {
    const file = join(dir, 'tiny.json');
    writeFileSync(file, JSON.stringify(tinyConfig('tiny')));
    const runs = [];
    for (const out of ['a', 'b']) {
      const r = await withoutMlflow(() => tm(['train-rl', '--config', file, '--db', db, '--out', join(dir, out)]));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      runs.push(r);
    }
    expect(runs[0]!.stdout).toContain('| SOLUSDT | SAC |');
    expect(runs[0]!.stdout).toContain('mlflow: not logged');
    const pkg = join(dir, 'a', 'tiny', 'SOLUSDT');
    const onnx = new Uint8Array(readFileSync(join(pkg, 'model.onnx')));
    expect(Buffer.from(onnx).equals(readFileSync(join(dir, 'b', 'tiny', 'SOLUSDT', 'model.onnx')))).toBe(true);
    const card = parseModelCard(readFileSync(join(pkg, 'card.json'), 'utf8'), pkg);
    if (!card.success) throw card.error;
    expect(card.data).toMatchObject({ name: 'tiny-SOLUSDT', featureNames: [...SIZING_OBSERVATION_NAMES], featureSpecHash: SIZING_OBSERVATION_SPEC, seed: 3 });
    expect(verifyChecksum(card.data, onnx, pkg).success).toBe(true);
    expect(Object.keys(card.data.gates.checks)).toEqual(['oos_sharpe_vs_pure_kelly']);
    const actor = readActorOnnx(onnx, { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC });
    expect(actor.weights.hidden.map((l) => l.outputSize)).toEqual([8, 8]);

    const table = JSON.parse(readFileSync(join(dir, 'a', 'tiny', 'oos.json'), 'utf8'));
    expect(table.rows.map((r: { symbol: string; variant: string }) => `${r.symbol}/${r.variant}`)).toEqual(['SOLUSDT/SAC', 'SOLUSDT/PURE_KELLY', 'SOLUSDT/flat']);
    expect(table.rows[2]).toMatchObject({ sharpe: null, totalReturn: 0, maxDrawdown: 0, deflatedSharpeAll: null, tiers: null });
    for (const row of table.rows.slice(0, 2)) {
      expect(row.deflatedSharpeAll).toBeGreaterThanOrEqual(0);
      expect(row.deflatedSharpeAll).toBeLessThanOrEqual(1);
      expect(row.maxDrawdown).toBeLessThan(0);
      expect(Object.values(row.tiers as Record<string, number>).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 9);
    }
    expect(table.trials).toBe(2);
    expect(table.folds[0].folds).toHaveLength(1);
    // learning curve: sampled every 50 steps and at each stage's end, with the SAC losses once learning started
    expect(table.curve.map((c: { step: number }) => c.step)).toEqual([30, 50, 60]);
    expect(Number.isFinite(table.curve.at(-1).criticLoss)).toBe(true);
    expect(readFileSync(join(dir, 'a', 'tiny', 'oos.md'), 'utf8')).toContain('DSR (all)');
  }, 120_000);

  it('--register publishes the actor and registers <model>.<SYMBOL> (real MLflow + MinIO)', async () => {
    const trackingUri = requireServiceEnv('MLFLOW_TRACKING_URI');
    client = new MlflowClient(parseMlflowClientConfig({ trackingUri }), { now: () => 0 });
    const file = join(dir, 'reg.json');
    writeFileSync(file, JSON.stringify(tinyConfig(`rl-${suffix}`)));
    const r = await tm(['train-rl', '--config', file, '--db', db, '--out', join(dir, 'reg'), '--register', registered]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mlflow: run [0-9a-f]+ version 1/);
    const versions = await client.searchAllModelVersions({ filter: `name = '${registered}.SOLUSDT'` });
    expect(versions.map((v) => v.version)).toEqual(['1']);
  }, 120_000);
});
