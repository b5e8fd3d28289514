/**
 * publishModel and the MLflow client against the real MLflow + MinIO. Faults are injected by an HTTP proxy in front
 * of the real MLflow (answers 500 to chosen requests, optionally after forwarding them), so the shared server is never
 * stopped.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createS3Client,
  MlflowClient,
  ModelPackageError,
  parseMlflowClientConfig,
  parseS3Config,
  proxiedArtifactPath,
  publishModel,
  RegistryError,
  S3ObjectStore,
  s3CredentialsFromEnv,
  sha256Hex,
  type ModelCard,
  type ObjectStore,
  type PublishCleanup,
} from '../../src/registry/index.js';

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (${process.env['TM_SERVICES_ERROR'] ?? 'run via npm test, or eval "$(bash scripts/services.sh env)" first'})`);
  return v;
}

const FEATURES = ['log-momentum-6', 'log-momentum-24', 'realized-vol-24'];

function makeCard(name: string, onnx: Uint8Array): ModelCard {
  return {
    schemaVersion: 1,
    name,
    featureNames: FEATURES,
    featureSpecHash: 'feedfacecafebeef',
    onnxSha256: sha256Hex(onnx),
    dataRange: { from: '2022-01-01', to: '2024-01-01T00:00:00Z' },
    metrics: { sharpe: 1.1 },
    gates: { passed: true, checks: { sharpe: { value: 1.1, threshold: 1, op: '>=', passed: true } } },
    seed: 7,
    gitCommit: 'abcdef1234567',
  };
}

type Verdict = 'forward' | 'fail' | 'forward-then-fail';

/** HTTP proxy in front of MLflow: `decide` sees each request (with its per-rule counter) and chooses its fate. */
class FaultProxy {
  readonly seen: { method: string; url: string; verdict: Verdict }[] = [];
  decide: (req: IncomingMessage) => Verdict = () => 'forward';
  private server!: Server;
  url = '';

  constructor(private readonly upstream: URL) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const verdict = this.decide(req);
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', verdict });
    const fail = () => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error_code: 'INTERNAL_ERROR', message: 'injected by FaultProxy' }));
    };
    if (verdict === 'fail') {
      req.resume();
      req.on('end', fail);
      return;
    }
    const up = httpRequest(
      { host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.upstream.host } },
      (upRes) => {
        if (verdict === 'forward-then-fail') {
          upRes.resume();
          upRes.on('end', fail);
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  }
}

/** Counts matching requests and returns `verdict` for the n-th one (1-based). */
function nth(n: number, match: (req: IncomingMessage) => boolean, verdict: Verdict = 'fail'): (req: IncomingMessage) => Verdict {
  let count = 0;
  return (req) => (match(req) && ++count === n ? verdict : 'forward');
}

const isArtifactPut = (req: IncomingMessage) => req.method === 'PUT' && (req.url ?? '').startsWith('/api/2.0/mlflow-artifacts/artifacts/');
const isVersionCreate = (req: IncomingMessage) => req.method === 'POST' && req.url === '/api/2.0/mlflow/model-versions/create';

const run = `${process.pid}-${Date.now().toString(36)}`;
const now = () => Date.now();

describe('registry: publishModel atomicity and the MLflow client (real MLflow + MinIO)', () => {
  let mlflow: MlflowClient;
  let store: S3ObjectStore;
  let proxy: FaultProxy;
  let viaProxy: MlflowClient;
  const experiment = `tm-test-publish-${run}`;
  const models: string[] = [];

  const modelName = (label: string) => {
    const name = `tm-test-publish-${label}-${run}`;
    models.push(name);
    return name;
  };

  /** Asserts that nothing registered remains for `name` and that the run is FAILED with the step recorded. */
  async function expectNothingRegistered(name: string, error: unknown, step: RegExp): Promise<PublishCleanup> {
    expect(error).toBeInstanceOf(ModelPackageError);
    const e = error as ModelPackageError;
    expect(e.code).toBe('publish_failed');
    expect(e.context['step']).toMatch(step);
    expect(await mlflow.searchAllModelVersions({ filter: `name = '${name}'` })).toEqual([]);
    const runId = e.context['runId'] as string;
    const runAfter = await mlflow.getRun(runId);
    expect(runAfter.info.status).toBe('FAILED');
    expect(runAfter.data.tags['publish.failed_step']).toMatch(step);
    return e.context['cleanup'] as PublishCleanup;
  }

  beforeAll(async () => {
    const trackingUri = requireEnv('MLFLOW_TRACKING_URI');
    const bucket = requireEnv('TM_S3_BUCKET');
    mlflow = new MlflowClient(parseMlflowClientConfig({ trackingUri }), { now });
    store = new S3ObjectStore(createS3Client(parseS3Config({ endpoint: requireEnv('TM_S3_ENDPOINT'), bucket }), s3CredentialsFromEnv(process.env)), bucket);
    proxy = await new FaultProxy(new URL(trackingUri)).start();
    viaProxy = new MlflowClient(parseMlflowClientConfig({ trackingUri: proxy.url, retryDelayMs: 10 }), { now });
  });

  afterAll(async () => {
    await proxy?.close();
    for (const m of models) await mlflow?.deleteRegisteredModel(m).catch(() => undefined);
  });

  for (const n of [1, 2]) {
    it(`MLflow answers 500 to artifact PUT #${n} → run FAILED, no registered version left`, async () => {
      const name = modelName(`put${n}`);
      const onnx = new Uint8Array(randomBytes(4096));
      proxy.decide = nth(n, isArtifactPut);
      const error = await publishModel(viaProxy, store, { experiment, runName: `put-${n}`, card: makeCard(name, onnx), onnxBytes: onnx, registeredModel: name }).catch((e: unknown) => e);
      proxy.decide = () => 'forward';
      const cleanup = await expectNothingRegistered(name, error, /^upload model\//);
      expect(cleanup).toMatchObject({ run: 'FAILED', versionsDeleted: [], versionsLeft: [], s3Deleted: [] });
      expect((error as ModelPackageError).message).toContain('INTERNAL_ERROR: injected by FaultProxy');
      expect(((error as ModelPackageError).cause as RegistryError).context).toMatchObject({ status: 500, errorCode: 'INTERNAL_ERROR' });
      // Artifact PUTs are not retried.
      expect(proxy.seen.filter((r) => r.method === 'PUT' && r.verdict === 'fail')).toHaveLength(1);
      proxy.seen.length = 0;
    });
  }

  it('model-versions/create fails AFTER MLflow created the version (500 on the way back) → the version is found by run id and deleted', async () => {
    const name = modelName('ambiguous');
    const onnx = new Uint8Array(randomBytes(4096));
    proxy.decide = nth(1, isVersionCreate, 'forward-then-fail');
    const error = await publishModel(viaProxy, store, { experiment, runName: 'ambiguous', card: makeCard(name, onnx), onnxBytes: onnx, registeredModel: name }).catch((e: unknown) => e);
    proxy.decide = () => 'forward';
    const cleanup = await expectNothingRegistered(name, error, /^create model version$/);
    expect(cleanup.versionsDeleted).toEqual(['1']);
  });

  it('S3 copy fails after the version was registered → version deleted, S3 objects written are deleted, run FAILED', async () => {
    const name = modelName('s3fail');
    const onnx = new Uint8Array(randomBytes(4096));
    const puts: string[] = [];
    const deletes: string[] = [];
    const flaky: ObjectStore = {
      location: store.location,
      get: (k) => store.get(k),
      put: async (k, b, t) => {
        puts.push(k);
        if (puts.length === 2) throw new Error('injected: S3 PutObject failed');
        await store.put(k, b, t);
      },
      delete: async (k) => {
        deletes.push(k);
        await store.delete(k);
      },
    };
    const error = await publishModel(mlflow, flaky, { experiment, runName: 's3fail', card: makeCard(name, onnx), onnxBytes: onnx, registeredModel: name }).catch((e: unknown) => e);
    const cleanup = await expectNothingRegistered(name, error, /^copy to s3:\/\//);
    expect(cleanup.versionsDeleted).toEqual(['1']);
    expect(cleanup.s3Deleted).toEqual([`models/${name}/1/model.onnx`, `models/${name}/1/card.json`]);
    expect(deletes).toEqual(cleanup.s3Deleted);
    const gone = await store.get(`models/${name}/1/model.onnx`).catch((e: unknown) => e);
    expect((gone as { code: string }).code).toBe('not_found');
  });

  it('a card whose onnxSha256 does not match the bytes is refused before anything is written', async () => {
    const name = modelName('badsum');
    const onnx = new Uint8Array(randomBytes(1024));
    const card = { ...makeCard(name, onnx), onnxSha256: '0'.repeat(64) };
    const before = proxy.seen.length;
    const error = await publishModel(viaProxy, store, { experiment, runName: 'badsum', card, onnxBytes: onnx, registeredModel: name }).catch((e: unknown) => e);
    expect((error as ModelPackageError).code).toBe('invalid_card');
    expect(proxy.seen.length).toBe(before);
  });

  it('publish succeeds through the proxy; logs params, step metrics (> one log-batch) and lineage tags; registers READY', async () => {
    const name = modelName('ok');
    const onnx = new Uint8Array(randomBytes(8192));
    const metricHistory = Array.from({ length: 1500 }, (_, step) => ({ key: 'train_loss', value: 1 / (step + 1), step }));
    const p = await publishModel(viaProxy, store, { experiment, runName: 'ok', card: makeCard(name, onnx), onnxBytes: onnx, registeredModel: name, params: { learning_rate: '0.05' }, metricHistory });
    expect(p.version).toBe('1');
    expect(proxy.seen.filter((r) => r.url === '/api/2.0/mlflow/runs/log-batch').length).toBeGreaterThanOrEqual(2);
    const r = await mlflow.getRun(p.runId);
    expect(r.info.status).toBe('FINISHED');
    expect(r.data.params).toMatchObject({ learning_rate: '0.05', seed: '7', feature_count: '3', feature_spec_hash: 'feedfacecafebeef', git_commit: 'abcdef1234567' });
    expect(r.data.metrics.find((m) => m.key === 'train_loss')).toMatchObject({ step: 1499 });
    expect(r.data.metrics.find((m) => m.key === 'sharpe')).toMatchObject({ value: 1.1, step: 0 });
    expect(r.data.tags).toMatchObject({ 'mlflow.source.git.commit': 'abcdef1234567', 'gate.passed': 'true', 'gate.sharpe': '1.1 >= 1: passed' });
    const v = await mlflow.getModelVersion(name, '1');
    expect(v).toMatchObject({ status: 'READY', source: `${r.info.artifact_uri}/model`, run_id: p.runId });
    expect(v.tags).toMatchObject({ onnx_sha256: sha256Hex(onnx), 'data_range.to': '2024-01-01T00:00:00Z', feature_spec_hash: 'feedfacecafebeef' });
    expect(Buffer.from(await mlflow.downloadArtifact(r.info.artifact_uri, 'model/model.onnx')).equals(Buffer.from(onnx))).toBe(true);
    expect(sha256Hex(await store.get(`${p.s3.prefix}/model.onnx`))).toBe(sha256Hex(onnx));
  });

  it('MLflow unreachable from the start → publish_failed at the first step, nothing to roll back', async () => {
    const name = modelName('down');
    const onnx = new Uint8Array(randomBytes(1024));
    const closed = await new FaultProxy(new URL(requireEnv('MLFLOW_TRACKING_URI'))).start();
    const url = closed.url;
    await closed.close();
    const down = new MlflowClient(parseMlflowClientConfig({ trackingUri: url, getRetries: 0 }), { now });
    const error = await publishModel(down, store, { experiment, runName: 'down', card: makeCard(name, onnx), onnxBytes: onnx, registeredModel: name }).catch((e: unknown) => e);
    expect((error as ModelPackageError).code).toBe('publish_failed');
    expect((error as ModelPackageError).context).toMatchObject({ step: 'experiment', runId: null, cleanup: { run: 'none', versionsDeleted: [] } });
    expect(((error as ModelPackageError).cause as RegistryError).code).toBe('unavailable');
  });

  it('GETs are retried on 5xx (getRetries), writes are sent once', async () => {
    proxy.seen.length = 0;
    proxy.decide = (req) => (req.url?.startsWith('/api/2.0/mlflow/registered-models/get') || req.url === '/api/2.0/mlflow/registered-models/create' ? 'fail' : 'forward');
    const get = await viaProxy.getRegisteredModel('whatever').catch((e: unknown) => e);
    const post = await viaProxy.createRegisteredModel('whatever').catch((e: unknown) => e);
    proxy.decide = () => 'forward';
    expect((get as RegistryError).code).toBe('server');
    expect((post as RegistryError).code).toBe('server');
    expect(proxy.seen.filter((r) => r.url.startsWith('/api/2.0/mlflow/registered-models/get')).length).toBe(3);
    expect(proxy.seen.filter((r) => r.url === '/api/2.0/mlflow/registered-models/create').length).toBe(1);
  });

  it('error codes map from MLflow error_code (not_found, already_exists, invalid) with the message in context', async () => {
    const missing = await mlflow.getExperimentByName(`tm-test-missing-${run}`).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'not_found', context: { errorCode: 'RESOURCE_DOES_NOT_EXIST' } });
    const name = modelName('dup');
    await mlflow.createRegisteredModel(name);
    const dup = await mlflow.createRegisteredModel(name).catch((e: unknown) => e);
    expect(dup).toMatchObject({ code: 'already_exists', context: { errorCode: 'RESOURCE_ALREADY_EXISTS', status: 400 } });
    expect((await mlflow.ensureRegisteredModel(name)).name).toBe(name);
    const experimentId = await mlflow.ensureExperiment(experiment);
    const r = await mlflow.createRun({ experimentId, runName: 'params' });
    await mlflow.logBatch({ runId: r.info.run_id, params: { a: '1' } });
    const changed = await mlflow.logBatch({ runId: r.info.run_id, params: { a: '2' } }).catch((e: unknown) => e);
    expect(changed).toMatchObject({ code: 'invalid', context: { errorCode: 'INVALID_PARAMETER_VALUE', mlflowMessage: expect.stringContaining('Changing param values is not allowed') } });
    const noVersion = await mlflow.createModelVersion({ name, source: 'mlflow-artifacts:/999/not-this-run/artifacts/model', runId: r.info.run_id }).catch((e: unknown) => e);
    expect(noVersion).toMatchObject({ code: 'invalid', context: { errorCode: 'INVALID_PARAMETER_VALUE' } });
    await mlflow.updateRun(r.info.run_id, 'KILLED');
  });

  it('searchRuns and searchModelVersions page through next_page_token', async () => {
    const experimentId = await mlflow.ensureExperiment(`tm-test-paging-${run}`);
    for (let i = 0; i < 3; i++) await mlflow.createRun({ experimentId, runName: `r${i}`, tags: { i: String(i) } });
    const first = await mlflow.searchRuns({ experimentIds: [experimentId], maxResults: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextPageToken).toBeTruthy();
    const all = await mlflow.searchAllRuns({ experimentIds: [experimentId], maxResults: 2, orderBy: ['attributes.start_time ASC'] });
    expect(all.map((x) => x.data.tags['i']).sort()).toEqual(['0', '1', '2']);

    const name = modelName('paging');
    await mlflow.createRegisteredModel(name);
    const src = all[0]!;
    for (let i = 0; i < 3; i++) {
      await mlflow.uploadArtifact(src.info.artifact_uri, `m${i}/x.bin`, new Uint8Array([i]));
      await mlflow.createModelVersion({ name, source: `${src.info.artifact_uri}/m${i}`, runId: src.info.run_id });
    }
    const page = await mlflow.searchModelVersions({ filter: `name = '${name}'`, maxResults: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.nextPageToken).toBeTruthy();
    expect((await mlflow.searchAllModelVersions({ filter: `name = '${name}'`, maxResults: 2 })).map((v) => v.version).sort()).toEqual(['1', '2', '3']);
    await mlflow.setModelVersionTag(name, '2', 'k', 'v');
    expect((await mlflow.getModelVersion(name, '2')).tags['k']).toBe('v');
    await mlflow.deleteModelVersionTag(name, '2', 'k');
    expect((await mlflow.getModelVersion(name, '2')).tags['k']).toBeUndefined();
    await mlflow.updateModelVersion(name, '2', 'described');
    expect((await mlflow.getModelVersion(name, '2')).description).toBe('described');
    await mlflow.setAlias(name, 'champion', '3');
    expect((await mlflow.getModelVersionByAlias(name, 'champion')).version).toBe('3');
    expect((await mlflow.getRegisteredModel(name)).aliases).toEqual({ champion: '3' });
    await mlflow.deleteAlias(name, 'champion');
    expect(await mlflow.getModelVersionByAlias(name, 'champion').catch((e: unknown) => (e as RegistryError).code)).toBe('not_found');
    expect(await mlflow.downloadArtifact(src.info.artifact_uri, 'm9/none.bin').catch((e: unknown) => (e as RegistryError).code)).toBe('not_found');
  });

  it('artifact paths: proxy path from mlflow-artifacts URIs; non-proxied roots and ".." are refused', () => {
    expect(proxiedArtifactPath('mlflow-artifacts:/1/abc/artifacts', 'model/card.json')).toBe('1/abc/artifacts/model/card.json');
    expect(proxiedArtifactPath('mlflow-artifacts://host:5000/1/abc/artifacts/', '/model')).toBe('1/abc/artifacts/model');
    expect(proxiedArtifactPath('http://h:1/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts', 'x')).toBe('1/abc/artifacts/x');
    expect(() => proxiedArtifactPath('s3://bucket/mlflow/1/abc/artifacts', 'x')).toThrow(/--serve-artifacts/);
    expect(() => proxiedArtifactPath('mlflow-artifacts:/1/abc/artifacts', '../../etc')).toThrow(/'\.\.'/);
  });

  it('a bearer token or URL password never appears in errors (message, context, cause)', async () => {
    const token = 'tm-secret-token-5f2c';
    const withToken = new MlflowClient(parseMlflowClientConfig({ trackingUri: proxy.url, token, getRetries: 0 }), { now });
    proxy.decide = () => 'fail';
    const failed = (await withToken.getRegisteredModel('x').catch((e: unknown) => e)) as RegistryError;
    proxy.decide = () => 'forward';
    const closed = await new FaultProxy(new URL(proxy.url)).start();
    await closed.close();
    const withPassword = closed.url.replace('http://', 'http://bob:pw-5f2c-secret@');
    const unreachable = (await new MlflowClient(parseMlflowClientConfig({ trackingUri: withPassword, token, getRetries: 0 }), { now }).getRun('0'.repeat(32)).catch((e: unknown) => e)) as RegistryError;
    for (const e of [failed, unreachable]) {
      const dump = JSON.stringify({ message: e.message, context: e.context, cause: String(e.cause), stack: e.stack });
      expect(dump).not.toContain(token);
      expect(dump).not.toContain('pw-5f2c-secret');
    }
    expect(unreachable.message).toContain(`tracking server ${closed.url} unreachable`);
    expect(unreachable.code).toBe('unavailable');
  });
});
