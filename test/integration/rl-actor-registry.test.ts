/**
 * The SAC sizer's actor through the registry, against the real MLflow (artifacts proxied to MinIO) and MinIO from
 * `scripts/services.sh`: trained (toy task), exported to ONNX, published like the signal models (model card, learning
 * curve as metric history, registered version, alias), loaded back through the 4-tier loader (alias tier, then the
 * local tier), read with the observation check and run as the cascade's RL sizer.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/models/index.js';
import {
  createS3Client,
  featureValidator,
  formatModelCard,
  loadModel,
  memoryLogger,
  MlflowClient,
  ModelPackageError,
  parseMlflowClientConfig,
  parseModelSourceConfig,
  parseS3Config,
  publishModel,
  REGISTRY_DEFAULTS,
  S3ObjectStore,
  s3CredentialsFromEnv,
  sha256Hex,
  type ModelCard,
} from '../../src/registry/index.js';
import { createSacAgent, exportActorOnnx, parseSacConfig, readActorOnnx, SacRlSizer, SIZING_OBSERVATION_NAMES, SIZING_OBSERVATION_SPEC, trainSac, type Environment } from '../../src/rl/index.js';
import type { RlSizerState } from '../../src/sizing/index.js';
import { requireServiceEnv } from '../support/service-env.js';
import { tempDir } from '../support/shared-data.js';

const run = `${process.pid}-${Date.now().toString(36)}`;
const OBS = SIZING_OBSERVATION_NAMES.length;
const expected = { featureNames: SIZING_OBSERVATION_NAMES, featureSpecHash: SIZING_OBSERVATION_SPEC };

describe('registry: SAC actor published and loaded like the signal models (real MLflow + MinIO)', () => {
  const name = `tm-test-sac-actor-${run}`;
  let mlflow: MlflowClient | undefined;

  afterAll(async () => {
    await mlflow?.deleteRegisteredModel(name).catch(() => undefined);
  });

  it('train → export → publish (card, learning curve, version, alias) → loadModel (alias, then local) → SacRlSizer', async () => {
    const sac = parseSacConfig({ seed: 9, hiddenSizes: [16, 16], batchSize: 32, randomSteps: 50, learningStarts: 50, criticLearningRate: 1e-3, actorLearningRate: 1e-3, temperatureLearningRate: 1e-3, initialTemperature: 0.1 });
    if (!sac.success) throw sac.error;
    const random = new SeededRandom(4);
    const draw = () => Float32Array.from({ length: OBS }, () => random.nextFloat() - 0.5);
    const env: Environment = { observationSize: OBS, actionSize: 1, reset: draw, step: (a) => ({ observation: draw(), reward: -((a[0]! - 0.6) ** 2), done: true, truncated: false }) };
    const agent = await createSacAgent(sac.data, env);
    const curve: { key: string; value: number; step: number }[] = [];
    trainSac(env, agent, { steps: 250, onProgress: (p) => p.update && p.step % 50 === 0 && curve.push({ key: 'critic_loss', value: p.update.criticLoss, step: p.step }, { key: 'entropy', value: p.update.entropy, step: p.step }) });
    const onnxBytes = exportActorOnnx(agent.actorWeights(), { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC, metadata: { seed: '9' } });
    agent.dispose();
    const card: ModelCard = {
      schemaVersion: 1,
      name,
      featureNames: [...SIZING_OBSERVATION_NAMES],
      featureSpecHash: SIZING_OBSERVATION_SPEC,
      onnxSha256: sha256Hex(onnxBytes),
      dataRange: { from: '2024-01-01', to: '2024-02-01' },
      metrics: { final_critic_loss: curve.at(-2)!.value },
      gates: { passed: true, checks: {} },
      seed: 9,
      gitCommit: 'c28e9920a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6',
    };
    const bucket = requireServiceEnv('TM_S3_BUCKET');
    const s3 = parseS3Config({ endpoint: requireServiceEnv('TM_S3_ENDPOINT'), bucket, region: process.env['AWS_REGION'] ?? REGISTRY_DEFAULTS.region });
    const store = new S3ObjectStore(createS3Client(s3, s3CredentialsFromEnv(process.env)), bucket);
    mlflow = new MlflowClient(parseMlflowClientConfig({ trackingUri: requireServiceEnv('MLFLOW_TRACKING_URI') }), { now: () => Date.now() });
    const published = await publishModel(mlflow, store, { experiment: `tm-test-sac-${run}`, runName: 'sac-actor', card, onnxBytes, registeredModel: name, params: { hidden_sizes: '16,16', seed: '9' }, metricHistory: curve });
    await mlflow.setAlias(name, 'production', published.version!);
    expect(curve.length).toBe(10); // steps 50, 100, ..., 250 (learning starts at step 50)
    const history = await mlflow.getRun(published.runId);
    expect(history.info.status).toBe('FINISHED');
    // the run holds the learning curve's last points and the card's metric (MLflow keeps the latest value per key)
    const metrics = new Map(history.data.metrics.map((m) => [m.key, m]));
    expect(metrics.get('critic_loss')?.step).toBe(250);
    expect(metrics.get('entropy')?.step).toBe(250);
    expect(metrics.get('final_critic_loss')?.value).toBeCloseTo(card.metrics['final_critic_loss']!, 6);
    expect(history.data.params).toMatchObject({ hidden_sizes: '16,16' });

    const validate = featureValidator(expected);
    const fromAlias = await loadModel(parseModelSourceConfig({ name, tiers: ['alias'] }), { mlflow, objectStore: store, logger: memoryLogger(), validate });
    expect(fromAlias.tier).toBe('alias');
    expect(Buffer.from(fromAlias.onnxBytes).equals(Buffer.from(onnxBytes))).toBe(true);

    const localDir = join(tempDir('tm-rl-registry-'), 'models');
    mkdirSync(join(localDir, name), { recursive: true });
    writeFileSync(join(localDir, name, 'model.onnx'), onnxBytes);
    writeFileSync(join(localDir, name, 'card.json'), formatModelCard(card));
    const fromLocal = await loadModel(parseModelSourceConfig({ name, tiers: ['local'], localDir }), { logger: memoryLogger(), validate });
    expect(fromLocal.tier).toBe('local');

    // a pipeline with other observations refuses the package before any tier falls back
    const other = featureValidator({ featureNames: [...SIZING_OBSERVATION_NAMES].reverse(), featureSpecHash: SIZING_OBSERVATION_SPEC });
    await expect(loadModel(parseModelSourceConfig({ name, tiers: ['local'], localDir }), { logger: memoryLogger(), validate: other })).rejects.toBeInstanceOf(ModelPackageError);

    const state: RlSizerState = { tsEvent: 0, edge: 0.002, variance: 1e-4, kellyFraction: 0.4, regimeProbabilities: [1], regimeLabels: ['neutral'], ic: 0.1, signalConfidence: 0.6, equity: 10_000, price: 100, currentFraction: 0, breakerState: 'closed' };
    const proposals = [fromAlias.onnxBytes, fromLocal.onnxBytes, onnxBytes].map((bytes) => new SacRlSizer(readActorOnnx(bytes, { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC }).weights, { name }).propose(state));
    expect(proposals[0]).toEqual(proposals[2]);
    expect(proposals[1]).toEqual(proposals[2]);
    expect(proposals[0]!.fraction).toBeGreaterThan(0);
    expect(proposals[0]!.fraction).toBeLessThanOrEqual(0.4);
  }, 120_000);
});
