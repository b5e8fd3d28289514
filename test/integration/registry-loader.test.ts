/**
 * The 4-tier model loader against the real MLflow (artifacts proxied to MinIO) and MinIO from `scripts/services.sh`.
 * Outages are simulated per test with clients pointed at a closed port (refused) or at a server that accepts and never
 * answers (timeout); the shared services are never stopped.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createS3Client,
  featureValidator,
  formatModelCard,
  loadModel,
  memoryLogger,
  MlflowClient,
  ModelPackageError,
  modelSourceConfigFromEnv,
  parseMlflowClientConfig,
  parseModelSourceConfig,
  parseS3Config,
  publishModel,
  REGISTRY_DEFAULTS,
  RegistryError,
  S3ObjectStore,
  s3CredentialsFromEnv,
  sha256Hex,
  type ModelCard,
  type ModelSourceConfig,
  type PublishedModel,
} from '../../src/registry/index.js';
import { tempDir } from '../support/shared-data.js';

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (${process.env['TM_SERVICES_ERROR'] ?? 'run via npm test, or eval "$(bash scripts/services.sh env)" first'})`);
  return v;
}

const FEATURES = ['log-momentum-6', 'log-momentum-24', 'realized-vol-24', 'funding-rate'];
const SPEC_HASH = sha256Hex(new TextEncoder().encode(FEATURES.join('\n'))).slice(0, 16);
const expected = { featureNames: FEATURES, featureSpecHash: SPEC_HASH };

function makeCard(name: string, onnx: Uint8Array, overrides: Partial<ModelCard> = {}): ModelCard {
  return {
    schemaVersion: 1,
    name,
    featureNames: FEATURES,
    featureSpecHash: SPEC_HASH,
    onnxSha256: sha256Hex(onnx),
    dataRange: { from: '2022-01-01', to: '2024-01-01' },
    metrics: { sharpe: 1.4, hit_rate: 0.54 },
    gates: { passed: true, checks: { sharpe: { value: 1.4, threshold: 1, op: '>=', passed: true } } },
    seed: 42,
    gitCommit: 'c28e9920a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6',
    ...overrides,
  };
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A TCP server that accepts connections and never answers (a hung MLflow). */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// ---- a tiny real ONNX model, hand-encoded (protobuf wire format): y = x · w, x: float[1, n], w: float[n, 1].
const varint = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
};
const field = (no: number, wire: number) => varint(no * 8 + wire);
const vint = (no: number, n: number) => [...field(no, 0), ...varint(n)];
const bytes = (no: number, b: Uint8Array | number[]) => [...field(no, 2), ...varint(b.length), ...b];
const str = (no: number, s: string) => bytes(no, [...new TextEncoder().encode(s)]);
const tensorType = (dims: number[]) => bytes(1, [...vint(1, 1), ...bytes(2, dims.flatMap((d) => bytes(1, vint(1, d))))]);
const valueInfo = (name: string, dims: number[]) => [...str(1, name), ...bytes(2, tensorType(dims))];

/** ONNX ModelProto bytes (IR 8, opset 13) computing `y = MatMul(x, w)`. */
function linearOnnx(weights: readonly number[]): Uint8Array {
  const w = new Uint8Array(new Float32Array(weights).buffer);
  const initializer = [...vint(1, weights.length), ...vint(1, 1), ...vint(2, 1), ...str(8, 'w'), ...bytes(9, w)];
  const node = [...str(1, 'x'), ...str(1, 'w'), ...str(2, 'y'), ...str(3, 'linear'), ...str(4, 'MatMul')];
  const graph = [...bytes(1, node), ...str(2, 'linear'), ...bytes(5, initializer), ...bytes(11, valueInfo('x', [1, weights.length])), ...bytes(12, valueInfo('y', [1, 1]))];
  return new Uint8Array([...vint(1, 8), ...str(2, 'trade-matrix-test'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...vint(2, 13)])]);
}

const run = `${process.pid}-${Date.now().toString(36)}`;
const now = () => Date.now();

describe('registry: 4-tier model loader (real MLflow + MinIO)', () => {
  let mlflow: MlflowClient;
  let store: S3ObjectStore;
  let bucket: string;
  let deadMlflow: MlflowClient;
  let deadStore: S3ObjectStore;
  let localDir: string;
  const name = `tm-test-loader-${run}`;
  const onnx = new Uint8Array(randomBytes(64 * 1024));
  const card = makeCard(name, onnx);
  let published: PublishedModel;
  const created: string[] = [];

  /** Config with only `tiers`, pointing at the published package in every tier. */
  const config = (overrides: Partial<ModelSourceConfig> = {}): ModelSourceConfig =>
    parseModelSourceConfig({ name, runId: published.runId, s3: { bucket, prefix: published.s3.prefix }, localDir, ...overrides });

  beforeAll(async () => {
    const trackingUri = requireEnv('MLFLOW_TRACKING_URI');
    bucket = requireEnv('TM_S3_BUCKET');
    const s3Config = parseS3Config({ endpoint: requireEnv('TM_S3_ENDPOINT'), bucket, region: process.env['AWS_REGION'] ?? REGISTRY_DEFAULTS.region });
    const credentials = s3CredentialsFromEnv(process.env);
    mlflow = new MlflowClient(parseMlflowClientConfig({ trackingUri }), { now });
    store = new S3ObjectStore(createS3Client(s3Config, credentials), bucket);
    const dead = await closedPort();
    deadMlflow = new MlflowClient(parseMlflowClientConfig({ trackingUri: `http://127.0.0.1:${dead}`, getRetries: 1, retryDelayMs: 10 }), { now });
    deadStore = new S3ObjectStore(createS3Client(parseS3Config({ endpoint: `http://127.0.0.1:${dead}`, bucket, maxAttempts: 1, timeoutMs: 2000 }), credentials), bucket);

    published = await publishModel(mlflow, store, { experiment: `tm-test-loader-${run}`, runName: 'loader-round-trip', card, onnxBytes: onnx, registeredModel: name });
    created.push(name);
    await mlflow.setAlias(name, 'production', published.version!);

    localDir = join(tempDir('tm-registry-'), 'models');
    mkdirSync(join(localDir, name), { recursive: true });
    writeFileSync(join(localDir, name, 'model.onnx'), onnx);
    writeFileSync(join(localDir, name, 'card.json'), formatModelCard(card));
  });

  afterAll(async () => {
    for (const m of created) await mlflow?.deleteRegisteredModel(m).catch(() => undefined);
  });

  it('round trip: publish → register → alias → load by alias (tier 1 serves the same bytes)', async () => {
    expect(published.version).toBe('1');
    expect(published.source).toBe(`${published.artifactUri}/model`);
    expect(published.artifactUri).toMatch(/^mlflow-artifacts:\//);
    const version = await mlflow.getModelVersion(name, '1');
    expect(version.status).toBe('READY');
    expect(version.aliases).toEqual(['production']);
    expect(version.tags).toMatchObject({ git_commit: card.gitCommit, feature_spec_hash: SPEC_HASH, onnx_sha256: card.onnxSha256, 'gate.passed': 'true', 'data_range.from': '2022-01-01' });
    expect((await mlflow.getRun(published.runId)).info.status).toBe('FINISHED');
    expect((await mlflow.listArtifacts(published.runId, 'model')).map((f) => f.path).sort()).toEqual(['model/card.json', 'model/model.onnx']);

    const logger = memoryLogger();
    const model = await loadModel(config(), { mlflow, objectStore: store, logger, validate: featureValidator(expected) });
    expect(model.tier).toBe('alias');
    expect(model.version).toBe('1');
    expect(model.runId).toBe(published.runId);
    expect(Buffer.from(model.onnxBytes).equals(Buffer.from(onnx))).toBe(true);
    expect(model.card).toEqual(card);
    expect(model.attempts).toEqual([{ tier: 'alias', outcome: 'served', location: expect.stringContaining(`${name}@production → version 1`) }]);
    expect(logger.records.filter((r) => r.level === 'warn')).toEqual([]);
  });

  it('a real ONNX model round-trips through publish → alias → load and runs in onnxruntime with the card\'s feature order', async () => {
    const oname = `tm-test-onnx-${run}`;
    const weights = [0.5, -1, 2, 0.25];
    const onnxBytes = linearOnnx(weights);
    const p = await publishModel(mlflow, store, { experiment: `tm-test-loader-${run}`, runName: 'onnx', card: makeCard(oname, onnxBytes), onnxBytes, registeredModel: oname });
    created.push(oname);
    await mlflow.setAlias(oname, 'production', p.version!);
    const model = await loadModel(parseModelSourceConfig({ name: oname, tiers: ['alias'] }), { mlflow, logger: memoryLogger(), validate: featureValidator(expected) });
    expect(model.tier).toBe('alias');
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(model.onnxBytes);
    expect(session.inputNames).toEqual(['x']);
    const row = Object.fromEntries(model.card.featureNames.map((f, i) => [f, i + 1]));
    const x = new Float32Array(model.card.featureNames.map((f) => row[f]!));
    const out = await session.run({ x: new ort.Tensor('float32', x, [1, x.length]) });
    expect(out['y']!.data[0]).toBeCloseTo(0.5 * 1 - 1 * 2 + 2 * 3 + 0.25 * 4, 5);
    await session.release();
  });

  it('tier 2 (run id + artifact path) and tier 3 (S3 copy) serve the same package when asked for', async () => {
    const deps = { mlflow, objectStore: store, logger: memoryLogger(), validate: featureValidator(expected) };
    const byRun = await loadModel(config({ tiers: ['run'] }), deps);
    expect(byRun.tier).toBe('run');
    expect(byRun.card.onnxSha256).toBe(card.onnxSha256);
    const byS3 = await loadModel(config({ tiers: ['s3'] }), deps);
    expect(byS3.tier).toBe('s3');
    expect(byS3.location).toBe(`s3://${bucket}/models/${name}/1/`);
    expect(sha256Hex(byS3.onnxBytes)).toBe(card.onnxSha256);
  });

  it('MLflow unreachable (connection refused) → tiers 1 and 2 fail with "unavailable" and are logged → tier 3 (S3) serves', async () => {
    const logger = memoryLogger();
    const model = await loadModel(config(), { mlflow: deadMlflow, objectStore: store, logger, validate: featureValidator(expected) });
    expect(model.tier).toBe('s3');
    expect(model.attempts.map((a) => [a.tier, a.outcome, a.code])).toEqual([
      ['alias', 'failed', 'unavailable'],
      ['run', 'failed', 'unavailable'],
      ['s3', 'served', undefined],
    ]);
    const warnings = logger.records.filter((r) => r.level === 'warn');
    expect(warnings.map((w) => w.fields['tier'])).toEqual(['alias', 'run']);
    expect(String(warnings[0]!.fields['reason'])).toMatch(/unreachable \(ECONNREFUSED\)/);
  });

  it('MLflow hanging (accepts, never answers) → request timeout → tier 3 serves', async () => {
    const hung = await silentServer();
    try {
      const slow = new MlflowClient(parseMlflowClientConfig({ trackingUri: hung.url, timeoutMs: 300, getRetries: 0 }), { now });
      const model = await loadModel(config({ tiers: ['alias', 's3'] }), { mlflow: slow, objectStore: store, logger: memoryLogger(), validate: featureValidator(expected) });
      expect(model.tier).toBe('s3');
      expect(model.attempts[0]).toMatchObject({ tier: 'alias', outcome: 'failed', code: 'unavailable', reason: expect.stringMatching(/timed out: tracking server http:\/\/127\.0\.0\.1:\d+ did not answer within 300 ms/) });
    } finally {
      await hung.close();
    }
  });

  it('MLflow and S3 unreachable → tier 4 (local dir) serves', async () => {
    const logger = memoryLogger();
    const model = await loadModel(config(), { mlflow: deadMlflow, objectStore: deadStore, logger, validate: featureValidator(expected) });
    expect(model.tier).toBe('local');
    expect(model.location).toBe(`${join(localDir, name)}/`);
    expect(model.attempts.map((a) => `${a.tier}:${a.outcome}:${a.code ?? ''}`)).toEqual(['alias:failed:unavailable', 'run:failed:unavailable', 's3:failed:unavailable', 'local:served:']);
    expect(logger.records.filter((r) => r.level === 'warn')).toHaveLength(3);
  });

  it('tiers without inputs are skipped with a reason (no MLflow client, no run id, no S3 prefix)', async () => {
    const logger = memoryLogger();
    const model = await loadModel(parseModelSourceConfig({ name, localDir }), { logger, validate: featureValidator(expected) });
    expect(model.tier).toBe('local');
    expect(model.attempts.slice(0, 3).map((a) => [a.tier, a.outcome])).toEqual([
      ['alias', 'skipped'],
      ['run', 'skipped'],
      ['s3', 'skipped'],
    ]);
    expect(logger.records.filter((r) => r.level === 'info' && String(r.message).includes('skipped'))).toHaveLength(3);
  });

  it('corrupted artifacts: tampered registry artifact (in MinIO) and tampered S3 copy are rejected by checksum; the next tier serves', async () => {
    // Own package, so tampering does not disturb the other tests.
    const tname = `tm-test-tamper-${run}`;
    const tonnx = new Uint8Array(randomBytes(32 * 1024));
    const tcard = makeCard(tname, tonnx);
    const p = await publishModel(mlflow, store, { experiment: `tm-test-loader-${run}`, runName: 'tamper', card: tcard, onnxBytes: tonnx, registeredModel: tname });
    created.push(tname);
    await mlflow.setAlias(tname, 'production', p.version!);
    const bad = tonnx.slice();
    bad[1000] = bad[1000]! ^ 0xff;
    // The MLflow server stores run artifacts under s3://<bucket>/mlflow/<experiment>/<run>/artifacts/.
    const mlflowKey = `${REGISTRY_DEFAULTS.mlflowArtifactsPrefix}/${p.artifactUri.replace(/^mlflow-artifacts:\/+/, '')}/model/model.onnx`;
    await store.put(mlflowKey, bad, 'application/octet-stream');

    const tdir = join(tempDir('tm-registry-'), 'models');
    mkdirSync(join(tdir, tname), { recursive: true });
    writeFileSync(join(tdir, tname, 'model.onnx'), tonnx);
    writeFileSync(join(tdir, tname, 'card.json'), formatModelCard(tcard));
    const cfg = parseModelSourceConfig({ name: tname, tiers: ['alias', 's3', 'local'], s3: { bucket, prefix: p.s3.prefix }, localDir: tdir });
    const deps = { mlflow, objectStore: store, validate: featureValidator(expected) };

    const logger = memoryLogger();
    const viaS3 = await loadModel(cfg, { ...deps, logger });
    expect(viaS3.tier).toBe('s3');
    expect(viaS3.attempts[0]).toMatchObject({ tier: 'alias', outcome: 'failed', code: 'checksum_mismatch' });
    expect(viaS3.attempts[0]!.reason).toMatch(new RegExp(`sha256 of model.onnx is [0-9a-f]{64}, the card says ${tcard.onnxSha256} \\(corrupted or tampered artifact\\)`));
    expect(logger.records.find((r) => r.level === 'warn')?.fields).toMatchObject({ tier: 'alias', code: 'checksum_mismatch' });

    await store.put(`${p.s3.prefix}/model.onnx`, bad, 'application/octet-stream');
    const viaLocal = await loadModel(cfg, { ...deps, logger: memoryLogger() });
    expect(viaLocal.tier).toBe('local');
    expect(viaLocal.attempts.map((a) => a.code ?? a.outcome)).toEqual(['checksum_mismatch', 'checksum_mismatch', 'served']);

    writeFileSync(join(tdir, tname, 'model.onnx'), bad);
    const error = await loadModel(cfg, { ...deps, logger: memoryLogger() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelPackageError);
    expect((error as ModelPackageError).code).toBe('no_model_available');
    expect((error as ModelPackageError).message).toMatch(/alias: failed \(.*sha256 of model.onnx.*\); s3: failed \(.*tampered.*\); local: failed \(.*tampered/);
  });

  it("the version's onnx_sha256 tag is checked against the card: a tag that disagrees fails tier 1 (checksum_mismatch), the next tier serves", async () => {
    const sname = `tm-test-shatag-${run}`;
    const sonnx = new Uint8Array(randomBytes(16 * 1024));
    const scard = makeCard(sname, sonnx);
    const p = await publishModel(mlflow, store, { experiment: `tm-test-loader-${run}`, runName: 'sha-tag', card: scard, onnxBytes: sonnx, registeredModel: sname });
    created.push(sname);
    await mlflow.setAlias(sname, 'production', p.version!);
    const cfg = parseModelSourceConfig({ name: sname, tiers: ['alias', 's3'], s3: { bucket, prefix: p.s3.prefix } });
    const deps = { mlflow, objectStore: store, validate: featureValidator(expected) };
    expect((await loadModel(cfg, { ...deps, logger: memoryLogger() })).tier).toBe('alias');
    // Package (card + onnx) intact and self-consistent; only the registry's record differs.
    const recorded = 'f'.repeat(64);
    await mlflow.setModelVersionTag(sname, p.version!, 'onnx_sha256', recorded);
    const model = await loadModel(cfg, { ...deps, logger: memoryLogger() });
    expect(model.tier).toBe('s3');
    expect(model.attempts[0]).toMatchObject({ tier: 'alias', outcome: 'failed', code: 'checksum_mismatch' });
    expect(model.attempts[0]!.reason).toContain(`card.onnxSha256 is ${scard.onnxSha256} but the registry recorded ${recorded}`);
  });

  it('a card that does not fit the schema is rejected (invalid_card) and the next tier is tried', async () => {
    const cname = `tm-test-badcard-${run}`;
    const dir = join(tempDir('tm-registry-'), 'models');
    mkdirSync(join(dir, cname), { recursive: true });
    writeFileSync(join(dir, cname, 'model.onnx'), onnx);
    writeFileSync(join(dir, cname, 'card.json'), JSON.stringify({ ...makeCard(cname, onnx), featureNames: 'not-a-list' }));
    const prefix = `models/${cname}/s3-only`;
    await store.put(`${prefix}/model.onnx`, onnx, 'application/octet-stream');
    await store.put(`${prefix}/card.json`, new TextEncoder().encode(formatModelCard(makeCard(cname, onnx))), 'application/json');
    const model = await loadModel(parseModelSourceConfig({ name: cname, tiers: ['local', 's3'], s3: { bucket, prefix }, localDir: dir }), {
      objectStore: store,
      logger: memoryLogger(),
      validate: featureValidator(expected),
    });
    expect(model.tier).toBe('s3');
    expect(model.attempts[0]).toMatchObject({ tier: 'local', code: 'invalid_card', reason: expect.stringContaining('`featureNames`') });
  });

  it('wrong feature order → refused, naming the first mismatching feature; lower tiers are NOT tried', async () => {
    const swapped = [FEATURES[0]!, FEATURES[2]!, FEATURES[1]!, FEATURES[3]!];
    const logger = memoryLogger();
    const error = await loadModel(config(), { mlflow, objectStore: store, logger, validate: featureValidator({ featureNames: swapped, featureSpecHash: SPEC_HASH }) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelPackageError);
    const e = error as ModelPackageError;
    expect(e.code).toBe('feature_mismatch');
    expect(e.message).toContain('feature 1 is "log-momentum-24" in the model card but "realized-vol-24" in the running pipeline');
    expect(e.message).toContain('not falling back');
    expect(e.context).toMatchObject({ tier: 'alias', index: 1, cardFeature: 'log-momentum-24', pipelineFeature: 'realized-vol-24' });
    expect((e.context['attempts'] as unknown[]).length).toBe(1);
    expect(logger.records.filter((r) => r.level === 'warn').map((r) => r.fields['code'])).toEqual(['feature_mismatch']);

    // Same rule in the last tier, and for a missing feature / a different spec hash.
    const local = parseModelSourceConfig({ name, tiers: ['local'], localDir });
    const fewer = await loadModel(local, { logger: memoryLogger(), validate: featureValidator({ featureNames: FEATURES.slice(0, 3), featureSpecHash: SPEC_HASH }) }).catch((x: unknown) => x);
    expect((fewer as ModelPackageError).message).toContain('feature 3 is "funding-rate" in the model card but missing from the running pipeline (card has 4 features, pipeline 3)');
    const rehashed = await loadModel(local, { logger: memoryLogger(), validate: featureValidator({ featureNames: FEATURES, featureSpecHash: 'ffffffffffffffff' }) }).catch((x: unknown) => x);
    expect((rehashed as ModelPackageError).code).toBe('feature_mismatch');
    expect((rehashed as ModelPackageError).message).toContain(`featureSpecHash is ${SPEC_HASH} in the model card but ffffffffffffffff in the running pipeline`);
  });

  it('an alias that does not exist is a not_found tier failure, not an error of the load', async () => {
    const model = await loadModel(config({ alias: 'champion', tiers: ['alias', 'local'] }), { mlflow, logger: memoryLogger(), validate: featureValidator(expected) });
    expect(model.tier).toBe('local');
    expect(model.attempts[0]).toMatchObject({ tier: 'alias', code: 'not_found', reason: expect.stringContaining('has no alias "champion"') });
  });

  it('a pinned version (name/version) is served by tier 1 from that version; the run tier is skipped', async () => {
    const logger = memoryLogger();
    const model = await loadModel(config({ version: '1' }), { mlflow, objectStore: store, logger, validate: featureValidator(expected) });
    expect(model.tier).toBe('alias');
    expect(model.version).toBe('1');
    expect(model.card).toEqual(card);
    expect(model.location).toMatch(new RegExp(`^${name}/1 \\(mlflow-artifacts:/`));
    // MLflow down: the S3 copy of that version serves; the run tier never serves a pinned version
    const fallback = await loadModel(config({ version: '1', tiers: ['alias', 'run', 's3'] }), { mlflow: deadMlflow, objectStore: store, logger: memoryLogger(), validate: featureValidator(expected) });
    expect(fallback.attempts.map((a) => `${a.tier}:${a.outcome}:${a.code ?? ''}`)).toEqual(['alias:failed:unavailable', 'run:skipped:', 's3:served:']);
    expect(fallback.location).toBe(`s3://${bucket}/models/${name}/1/`);
    expect(() => parseModelSourceConfig({ name, version: 'v1' })).toThrow(/`version` must be a registered version number like 3/);
  });

  it('a version the registry does not have stops the load with version_not_found, naming the versions it has; lower tiers are NOT tried', async () => {
    const logger = memoryLogger();
    const e = await loadModel(config({ version: '7' }), { mlflow, objectStore: store, logger, validate: featureValidator(expected) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ModelPackageError);
    expect((e as ModelPackageError).code).toBe('version_not_found');
    expect((e as ModelPackageError).message).toBe(`model ${name}/7: the registry at ${mlflow.trackingUri} has no version 7 of "${name}" (it has version 1)`);
    expect((e as ModelPackageError).context).toMatchObject({ model: name, version: '7', versions: ['1'], attempts: [{ tier: 'alias', outcome: 'failed', code: 'version_not_found' }] });
    expect(logger.records.filter((r) => r.level === 'warn').map((r) => r.fields['tier'])).toEqual(['alias']);
    const unknown = await loadModel(parseModelSourceConfig({ name: `tm-test-never-registered-${run}`, version: '1', localDir }), { mlflow, logger: memoryLogger(), validate: featureValidator(expected) }).catch((x: unknown) => x);
    expect((unknown as ModelPackageError).code).toBe('version_not_found');
    expect((unknown as ModelPackageError).message).toContain('(no model of that name is registered)');
  });

  it('config from the harness env names (MLFLOW_TRACKING_URI, TM_S3_BUCKET, TM_MODEL_S3_PREFIX, TM_MODELS_DIR)', async () => {
    const env = { ...process.env, TM_MODEL_S3_PREFIX: published.s3.prefix, TM_MODELS_DIR: localDir, TM_MODEL_ALIAS: 'production' };
    const cfg = modelSourceConfigFromEnv(env, name);
    expect(cfg).toMatchObject({ name, alias: 'production', s3: { bucket, prefix: published.s3.prefix }, localDir, tiers: ['alias', 'run', 's3', 'local'] });
    expect(() => modelSourceConfigFromEnv({ TM_MODEL_RUN_ID: 'not-a-run' }, name)).toThrow(/`runId`/);
    expect(() => parseModelSourceConfig({ name, surprise: 1 })).toThrow(/surprise/);
    const model = await loadModel(cfg, { mlflow, objectStore: store, logger: memoryLogger(), validate: featureValidator(expected) });
    expect(model.tier).toBe('alias');
  });

  it('MLflow errors carry error_code and message; network errors are "unavailable"', async () => {
    const missing = await mlflow.getModelVersion(name, '999').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RegistryError);
    expect((missing as RegistryError).code).toBe('not_found');
    expect((missing as RegistryError).context).toMatchObject({ status: 404, errorCode: 'RESOURCE_DOES_NOT_EXIST', mlflowMessage: expect.stringContaining('not found') });
    const down = await deadMlflow.getRegisteredModel(name).catch((e: unknown) => e);
    expect((down as RegistryError).code).toBe('unavailable');
  });
});
