/**
 * The loader's tier logic (order, skips, fallbacks, budgets, what each tier fetches and reports) without any service:
 * an in-memory stand-in for the MLflow client's read calls, an in-memory {@link ObjectStore} and local folders.
 * The real MLflow + MinIO paths are covered by test/integration/registry-loader.test.ts; these tests pin the loader's
 * own decisions (and run in the mutation-testing set).
 *
 * StrykerJS mutants of model-loader.ts these tests leave alive, all equivalent (no observable difference):
 * - `tierEndpoint`: the fallbacks `config.s3 ? \`s3://<bucket>\` : 'S3'` and `'MLflow'` (3 string mutants, and `??` → `&&`
 *   on the S3 line) only name the endpoint in a timeout message, and a tier without its client is skipped before
 *   any await, so its deadline never fires; with a client, `&&` yields `s3://<bucket>`, which equals the client's
 *   location whenever the tier proceeds (a client of another bucket fails at once).
 * - the `context` objects of the `missing_file` (status not READY), `invalid_card` (status=failed), `unavailable`
 *   (client of another bucket) and local read errors (4 object-literal mutants): a tier error reaches the caller
 *   only as `TierAttempt.code` + `reason` and the log fields, never with its context.
 * - `/^runs:\/([0-9a-f]+)\/(.*)$/` without `$`: `(.*)` is greedy, so both match the same sources unless a source
 *   holds a line break (MLflow sources are URIs).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { minimalCard } from '../../test/support/model-card.js';
import type { MlflowClient } from './mlflow-client.js';
import type { ModelVersion, Run } from './mlflow-types.js';
import { LINEAGE_TAGS } from './model-artifact.js';
import { featureValidator, formatModelCard, type ModelCard } from './model-card.js';
import { loadModel, type ModelLoaderDeps } from './model-loader.js';
import { ObjectStoreError, type ObjectStore } from './object-store.js';
import { parseModelSourceConfig } from './registry-config.js';
import { ModelPackageError, RegistryError } from './registry-error.js';
import { memoryLogger } from './registry-logger.js';

const expected = { featureNames: ['a', 'b'], featureSpecHash: '0123456789abcdef' };
const validate = featureValidator(expected);
const RUN_ID = '0123456789abcdef0123456789abcdef';
const OTHER_RUN = 'fedcba9876543210fedcba9876543210';
const TRACKING = 'http://mlflow.test:5000';

/** A distinct model per tier, so a test can tell which tier served. */
function model(seed: number): { onnx: Uint8Array; card: ModelCard; cardText: string } {
  const onnx = new Uint8Array(Array.from({ length: 64 }, (_, i) => (i * 31 + seed) % 256));
  const card = minimalCard('m', onnx, expected.featureNames, expected.featureSpecHash);
  return { onnx, card, cardText: formatModelCard(card) };
}
const A = model(1);
const B = model(2);
const C = model(3);
const D = model(4);

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The MLflow client's read calls the loader makes, over in-memory versions, runs and artifacts. A registry that
 * answers "not found" does so with the real client's `RegistryError('not_found')`; `hang` makes every call hang,
 * `fail` makes every call throw it.
 */
class FakeRegistry {
  readonly trackingUri = TRACKING;
  readonly versions: ModelVersion[] = [];
  readonly aliases = new Map<string, string>();
  readonly runs = new Map<string, string>();
  readonly artifacts = new Map<string, Uint8Array>();
  readonly calls: string[] = [];
  hang = false;
  fail: Error | undefined;
  delayMs = 0;

  private async enter(call: string): Promise<void> {
    this.calls.push(call);
    if (this.hang) await never();
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.fail) throw this.fail;
  }

  addVersion(v: Partial<ModelVersion> & { version: string; source: string }): void {
    this.versions.push({ name: 'm', status: 'READY', tags: {}, aliases: [], ...v });
  }

  addPackage(root: string, pkg: { onnx: Uint8Array; cardText: string }): void {
    this.artifacts.set(`${root}/model.onnx`, pkg.onnx);
    this.artifacts.set(`${root}/card.json`, new TextEncoder().encode(pkg.cardText));
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    await this.enter(`alias ${name}@${alias}`);
    const version = this.aliases.get(`${name}@${alias}`);
    const v = this.versions.find((x) => x.name === name && x.version === version);
    if (!v) throw new RegistryError('not_found', `alias ${alias} of ${name} not found`);
    return v;
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    await this.enter(`version ${name}/${version}`);
    const v = this.versions.find((x) => x.name === name && x.version === version);
    if (!v) throw new RegistryError('not_found', `version ${name}/${version} not found`);
    return v;
  }

  async searchAllModelVersions(req: { filter?: string }): Promise<ModelVersion[]> {
    await this.enter(`search ${req.filter ?? ''}`);
    const name = /^name = '(.*)'$/.exec(req.filter ?? '')?.[1]?.replace(/''/g, "'");
    return this.versions.filter((v) => v.name === name);
  }

  async getRun(runId: string): Promise<Run> {
    await this.enter(`run ${runId}`);
    const artifactUri = this.runs.get(runId);
    if (artifactUri === undefined) throw new RegistryError('not_found', `run ${runId} not found`);
    return { info: { run_id: runId, experiment_id: '1', status: 'FINISHED', artifact_uri: artifactUri }, data: { metrics: [], params: {}, tags: {} } };
  }

  async downloadArtifact(root: string, path: string): Promise<Uint8Array> {
    await this.enter(`download ${root}/${path}`);
    const bytes = this.artifacts.get(`${root}/${path}`);
    if (!bytes) throw new RegistryError('not_found', `artifact ${root}/${path} not found`);
    return bytes;
  }

  /** The loader's view: it only calls the methods above. */
  client(): MlflowClient {
    return this as unknown as MlflowClient;
  }
}

/** An in-memory bucket. */
function memoryStore(bucket: string, objects: Record<string, Uint8Array | string> = {}, opts: { hang?: boolean } = {}): ObjectStore & { gets: string[] } {
  const gets: string[] = [];
  return {
    location: `s3://${bucket}`,
    gets,
    async get(key) {
      gets.push(key);
      if (opts.hang) await never();
      const v = objects[key];
      if (v === undefined) throw new ObjectStoreError('not_found', `s3://${bucket}/${key} does not exist`, { bucket, key, operation: 'get' });
      return typeof v === 'string' ? new TextEncoder().encode(v) : v;
    },
    put: async () => undefined,
    delete: async () => undefined,
  };
}

function localDir(packages: Record<string, { onnx: Uint8Array; cardText: string }> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tm-loader-tiers-'));
  for (const [sub, pkg] of Object.entries(packages)) {
    mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, sub, 'model.onnx'), pkg.onnx);
    writeFileSync(join(dir, sub, 'card.json'), pkg.cardText);
  }
  return dir;
}

function deps(over: Partial<ModelLoaderDeps> = {}) {
  const logger = memoryLogger();
  return { logger, d: { logger, validate, ...over } satisfies ModelLoaderDeps };
}

async function rejection(p: Promise<unknown>): Promise<ModelPackageError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof ModelPackageError)) throw new Error(`expected a ModelPackageError, got ${String(e)}`);
  return e;
}

/** A registry with `m@production` → version 3 (run-relative source), run RUN_ID, and package A behind it. */
function registryWithAlias(): FakeRegistry {
  const r = new FakeRegistry();
  r.runs.set(RUN_ID, 'mlflow-artifacts:/1/run/artifacts');
  r.addVersion({ version: '3', source: `runs:/${RUN_ID}/model`, run_id: RUN_ID, tags: { [LINEAGE_TAGS.onnxSha256]: A.card.onnxSha256 } });
  r.aliases.set('m@production', '3');
  r.addPackage('mlflow-artifacts:/1/run/artifacts/model', A);
  return r;
}

describe('loadModel: tier 1 (alias / pinned version)', () => {
  it('serves name@alias: resolves a runs:/ source through the run, verifies, and reports version, run and every attempt', async () => {
    const r = registryWithAlias();
    const { logger, d } = deps({ mlflow: r.client() });
    const m = await loadModel(parseModelSourceConfig({ name: 'm', localDir: localDir() }), d);
    const location = 'm@production → version 3 (mlflow-artifacts:/1/run/artifacts/model)';
    expect(m).toStrictEqual({ tier: 'alias', location, card: A.card, onnxBytes: A.onnx, version: '3', runId: RUN_ID, attempts: [{ tier: 'alias', outcome: 'served', location }] });
    expect(r.calls).toEqual(['alias m@production', `run ${RUN_ID}`, 'download mlflow-artifacts:/1/run/artifacts/model/model.onnx', 'download mlflow-artifacts:/1/run/artifacts/model/card.json']);
    expect(logger.records).toEqual([{ level: 'info', message: 'model loaded', fields: { model: 'm', tier: 'alias', location, version: '3' } }]);
  });

  it('uses a non-runs:/ source as the artifact root as is (no run lookup), and a version without run id has no runId', async () => {
    const r = new FakeRegistry();
    r.addVersion({ version: '5', source: 'mlflow-artifacts:/1/abc/artifacts/model' });
    r.aliases.set('m@staging', '5');
    r.addPackage('mlflow-artifacts:/1/abc/artifacts/model', B);
    const { d } = deps({ mlflow: r.client() });
    const m = await loadModel(parseModelSourceConfig({ name: 'm', alias: 'staging', tiers: ['alias'] }), d);
    expect(m).toStrictEqual({
      tier: 'alias',
      location: 'm@staging → version 5 (mlflow-artifacts:/1/abc/artifacts/model)',
      card: B.card,
      onnxBytes: B.onnx,
      version: '5',
      attempts: [{ tier: 'alias', outcome: 'served', location: 'm@staging → version 5 (mlflow-artifacts:/1/abc/artifacts/model)' }],
    });
    expect(r.calls.some((c) => c.startsWith('run '))).toBe(false);
  });

  it('only a source that starts with runs:/<run id>/ is resolved through the run; trailing slashes of the run artifact uri are dropped', async () => {
    const r = new FakeRegistry();
    r.runs.set(RUN_ID, 'mlflow-artifacts:/1/xyz/artifacts//');
    r.addVersion({ version: '1', source: `runs:/${RUN_ID}/nested/model` });
    r.addVersion({ version: '2', source: `s3://bucket/runs:/${RUN_ID}/model` });
    r.aliases.set('m@production', '1');
    r.aliases.set('m@staging', '2');
    r.addPackage('mlflow-artifacts:/1/xyz/artifacts/nested/model', C);
    r.addPackage(`s3://bucket/runs:/${RUN_ID}/model`, D);
    const one = await loadModel(parseModelSourceConfig({ name: 'm', tiers: ['alias'] }), deps({ mlflow: r.client() }).d);
    expect(one.location).toBe('m@production → version 1 (mlflow-artifacts:/1/xyz/artifacts/nested/model)');
    expect(one.onnxBytes).toEqual(C.onnx);
    const two = await loadModel(parseModelSourceConfig({ name: 'm', alias: 'staging', tiers: ['alias'] }), deps({ mlflow: r.client() }).d);
    expect(two.location).toBe(`m@staging → version 2 (s3://bucket/runs:/${RUN_ID}/model)`);
    expect(two.onnxBytes).toEqual(D.onnx);
  });

  it('a pinned version is fetched by number (not by alias), named name/version, and the run tier is skipped', async () => {
    const r = registryWithAlias();
    r.addVersion({ version: '7', source: 'mlflow-artifacts:/1/v7/artifacts/model', run_id: OTHER_RUN });
    r.addPackage('mlflow-artifacts:/1/v7/artifacts/model', B);
    const { logger, d } = deps({ mlflow: r.client() });
    const m = await loadModel(parseModelSourceConfig({ name: 'm', version: '7', runId: RUN_ID, tiers: ['run', 'alias'] }), d);
    expect(m.tier).toBe('alias');
    expect(m.location).toBe('m/7 (mlflow-artifacts:/1/v7/artifacts/model)');
    expect(m.version).toBe('7');
    expect(m.runId).toBe(OTHER_RUN);
    expect(m.card).toEqual(B.card);
    expect(r.calls[0]).toBe('version m/7');
    expect(m.attempts).toEqual([
      { tier: 'run', outcome: 'skipped', reason: 'a run id names no registered version (m/7 is pinned)' },
      { tier: 'alias', outcome: 'served', location: 'm/7 (mlflow-artifacts:/1/v7/artifacts/model)' },
    ]);
    expect(logger.records[0]).toEqual({ level: 'info', message: 'model tier run skipped', fields: { model: 'm', tier: 'run', outcome: 'skipped', reason: 'a run id names no registered version (m/7 is pinned)' } });
  });

  it('is skipped, with its reason, without an MLflow client', async () => {
    const m = await loadModel(parseModelSourceConfig({ name: 'm', tiers: ['alias', 'local'], localDir: localDir({ m: A }) }), deps().d);
    expect(m.attempts[0]).toEqual({ tier: 'alias', outcome: 'skipped', reason: 'no MLflow client (MLFLOW_TRACKING_URI unset)' });
  });

  it('a version that is not READY fails the tier (missing_file, naming the status) and the next tier serves', async () => {
    const r = registryWithAlias();
    r.versions[0] = { ...r.versions[0]!, status: 'PENDING_REGISTRATION' };
    const dir = localDir({ m: D });
    const { logger, d } = deps({ mlflow: r.client() });
    const m = await loadModel(parseModelSourceConfig({ name: 'm', tiers: ['alias', 'local'], localDir: dir }), d);
    expect(m.tier).toBe('local');
    expect(m.attempts[0]).toEqual({ tier: 'alias', outcome: 'failed', code: 'missing_file', reason: 'm@production → version 3 has status PENDING_REGISTRATION, expected READY' });
    expect(logger.records[0]).toEqual({ level: 'warn', message: 'model tier alias failed', fields: { model: 'm', ...m.attempts[0] } });
  });

  it('a version tagged status=failed is refused (invalid_card) without downloading it', async () => {
    const r = registryWithAlias();
    r.versions[0] = { ...r.versions[0]!, tags: { ...r.versions[0]!.tags, [LINEAGE_TAGS.status]: 'failed' } };
    const e = await rejection(loadModel(parseModelSourceConfig({ name: 'm', tiers: ['alias'] }), deps({ mlflow: r.client() }).d));
    expect(e.context['attempts']).toEqual([
      { tier: 'alias', outcome: 'failed', code: 'invalid_card', reason: 'm@production → version 3: the version is tagged status=failed (its publish did not complete)' },
    ]);
    expect(r.calls.filter((c) => c.startsWith('download'))).toEqual([]);
  });

  it("a registry onnx_sha256 tag that disagrees with the card fails the tier (checksum_mismatch, with the location); without a tag the card's own checksum decides", async () => {
    const r = registryWithAlias();
    r.versions[0] = { ...r.versions[0]!, tags: { [LINEAGE_TAGS.onnxSha256]: 'f'.repeat(64) } };
    const { d } = deps({ mlflow: r.client() });
    const e = await rejection(loadModel(parseModelSourceConfig({ name: 'm', tiers: ['alias'] }), d));
    const location = 'm@production → version 3 (mlflow-artifacts:/1/run/artifacts/model)';
    expect(e.context['attempts']).toEqual([
      { tier: 'alias', outcome: 'failed', location, code: 'checksum_mismatch', reason: `${location}: card.onnxSha256 is ${A.card.onnxSha256} but the registry recorded ${'f'.repeat(64)}` },
    ]);
    r.versions[0] = { ...r.versions[0]!, tags: {} };
    expect((await loadModel(parseModelSourceConfig({ name: 'm', tiers: ['alias'] }), d)).card).toEqual(A.card);
  });

  it('a pinned version the registry lacks stops the load (version_not_found), naming the versions it has in numeric order; no lower tier runs', async () => {
    const r = new FakeRegistry();
    for (const v of ['10', '9', '2']) r.addVersion({ version: v, source: `mlflow-artifacts:/1/${v}/model` });
    const store = memoryStore('bucket', { 'p/model.onnx': A.onnx, 'p/card.json': A.cardText });
    const { logger, d } = deps({ mlflow: r.client(), objectStore: store });
    const e = await rejection(loadModel(parseModelSourceConfig({ name: 'm', version: '4', s3: { bucket: 'bucket', prefix: 'p' }, localDir: localDir({ 'm/4': A }) }), d));
    const message = `model m/4: the registry at ${TRACKING} has no version 4 of "m" (it has versions 2, 9, 10)`;
    expect(e.code).toBe('version_not_found');
    expect(e.message).toBe(message);
    expect(e.cause).toBeInstanceOf(RegistryError);
    expect(e.context).toEqual({ model: 'm', version: '4', versions: ['2', '9', '10'], attempts: [{ tier: 'alias', outcome: 'failed', code: 'version_not_found', reason: message }] });
    expect(r.calls).toEqual(['version m/4', "search name = 'm'"]);
    expect(store.gets).toEqual([]);
    expect(logger.records).toEqual([{ level: 'warn', message: 'model tier alias failed', fields: { model: 'm', tier: 'alias', code: 'version_not_found', reason: message } }]);
  });

  it('version_not_found says "version" for one and "no model of that name" for none, and quotes the name in the search filter', async () => {
    const one = new FakeRegistry();
    one.addVersion({ version: '1', source: 'x' });
    const e1 = await rejection(loadModel(parseModelSourceConfig({ name: 'm', version: '2', tiers: ['alias'] }), deps({ mlflow: one.client() }).d));
    expect(e1.message).toBe(`model m/2: the registry at ${TRACKING} has no version 2 of "m" (it has version 1)`);
    const none = new FakeRegistry();
    const e0 = await rejection(loadModel(parseModelSourceConfig({ name: "o'brien", version: '2', tiers: ['alias'] }), deps({ mlflow: none.client() }).d));
    expect(e0.message).toBe(`model o'brien/2: the registry at ${TRACKING} has no version 2 of "o'brien" (no model of that name is registered)`);
    expect(e0.context['versions']).toEqual([]);
    expect(none.calls[1]).toBe("search name = 'o''brien'");
  });

  it('a pinned-version lookup that fails otherwise (registry down) is a tier failure: the next tier serves', async () => {
    const r = new FakeRegistry();
    r.fail = new RegistryError('unavailable', 'MLflow unreachable (ECONNREFUSED)');
    const { d } = deps({ mlflow: r.client() });
    const m = await loadModel(parseModelSourceConfig({ name: 'm', version: '4', tiers: ['alias', 'local'], localDir: localDir({ 'm/4': B }) }), d);
    expect(m.tier).toBe('local');
    expect(m.attempts[0]).toEqual({ tier: 'alias', outcome: 'failed', code: 'unavailable', reason: 'MLflow unreachable (ECONNREFUSED)' });
    expect(r.calls).toEqual(['version m/4']);
  });

  it('an alias the registry does not have is a not_found tier failure, not an error of the load', async () => {
    const r = registryWithAlias();
    const { d } = deps({ mlflow: r.client() });
    const m = await loadModel(parseModelSourceConfig({ name: 'm', alias: 'nope', tiers: ['alias', 'local'], localDir: localDir({ m: B }) }), d);
    expect(m.tier).toBe('local');
    expect(m.attempts[0]).toMatchObject({ tier: 'alias', outcome: 'failed', code: 'not_found' });
  });
});

describe('loadModel: tier 2 (run)', () => {
  it('serves <run artifact uri>/<artifactPath> with slashes trimmed, and names the run', async () => {
    const r = new FakeRegistry();
    r.runs.set(RUN_ID, 'mlflow-artifacts:/1/run/artifacts//');
    r.addPackage('mlflow-artifacts:/1/run/artifacts/pkg/model', C);
    const { logger, d } = deps({ mlflow: r.client() });
    const m = await loadModel(parseModelSourceConfig({ name: 'm', runId: RUN_ID, artifactPath: '//pkg/model//', tiers: ['run'] }), d);
    const location = `run ${RUN_ID} (mlflow-artifacts:/1/run/artifacts/pkg/model)`;
    expect(m).toStrictEqual({ tier: 'run', location, card: C.card, onnxBytes: C.onnx, runId: RUN_ID, attempts: [{ tier: 'run', outcome: 'served', location }] });
    expect(logger.records).toEqual([{ level: 'info', message: 'model loaded', fields: { model: 'm', tier: 'run', location } }]);
  });

  it('is skipped, with its reason, without a client or without a run id', async () => {
    const noClient = await loadModel(parseModelSourceConfig({ name: 'm', runId: RUN_ID, tiers: ['run', 'local'], localDir: localDir({ m: A }) }), deps().d);
    expect(noClient.attempts[0]).toEqual({ tier: 'run', outcome: 'skipped', reason: 'no MLflow client (MLFLOW_TRACKING_URI unset)' });
    const r = new FakeRegistry();
    const noRun = await loadModel(parseModelSourceConfig({ name: 'm', tiers: ['run', 'local'], localDir: localDir({ m: A }) }), deps({ mlflow: r.client() }).d);
    expect(noRun.attempts[0]).toEqual({ tier: 'run', outcome: 'skipped', reason: 'no run id configured (TM_MODEL_RUN_ID)' });
    expect(r.calls).toEqual([]);
  });
});

describe('loadModel: tier 3 (s3)', () => {
  it('serves s3://<bucket>/<prefix>/ with the prefix trimmed of slashes', async () => {
    const store = memoryStore('models-bucket', { 'models/m/3/model.onnx': D.onnx, 'models/m/3/card.json': D.cardText });
    const { logger, d } = deps({ objectStore: store });
    const m = await loadModel(parseModelSourceConfig({ name: 'm', s3: { bucket: 'models-bucket', prefix: '//models/m/3//' }, tiers: ['s3'] }), d);
    const location = 's3://models-bucket/models/m/3/';
    expect(m).toStrictEqual({ tier: 's3', location, card: D.card, onnxBytes: D.onnx, attempts: [{ tier: 's3', outcome: 'served', location }] });
    expect(store.gets.sort()).toEqual(['models/m/3/card.json', 'models/m/3/model.onnx']);
    expect(logger.records).toEqual([{ level: 'info', message: 'model loaded', fields: { model: 'm', tier: 's3', location } }]);
  });

  it('is skipped without a bucket/prefix or without a client, and refuses a client of another bucket', async () => {
    const local = localDir({ m: A });
    const noConfig = await loadModel(parseModelSourceConfig({ name: 'm', tiers: ['s3', 'local'], localDir: local }), deps({ objectStore: memoryStore('b1b') }).d);
    expect(noConfig.attempts[0]).toEqual({ tier: 's3', outcome: 'skipped', reason: 'no S3 bucket/prefix configured (TM_S3_BUCKET + TM_MODEL_S3_PREFIX)' });
    const s3 = { bucket: 'b1b', prefix: 'p' };
    const noClient = await loadModel(parseModelSourceConfig({ name: 'm', s3, tiers: ['s3', 'local'], localDir: local }), deps().d);
    expect(noClient.attempts[0]).toEqual({ tier: 's3', outcome: 'skipped', reason: 'no S3 client' });
    const other = memoryStore('other', { 'p/model.onnx': B.onnx, 'p/card.json': B.cardText });
    const wrong = await loadModel(parseModelSourceConfig({ name: 'm', s3, tiers: ['s3', 'local'], localDir: local }), deps({ objectStore: other }).d);
    expect(wrong.tier).toBe('local');
    expect(wrong.attempts[0]).toEqual({ tier: 's3', outcome: 'failed', code: 'unavailable', reason: 'the S3 client serves s3://other, the config asks for s3://b1b' });
    expect(other.gets).toEqual([]);
  });

  it('a missing object fails the tier with the store error code', async () => {
    const store = memoryStore('b1b', { 'p/card.json': A.cardText });
    const m = await loadModel(parseModelSourceConfig({ name: 'm', s3: { bucket: 'b1b', prefix: 'p' }, tiers: ['s3', 'local'], localDir: localDir({ m: B }) }), deps({ objectStore: store }).d);
    expect(m.attempts[0]).toEqual({ tier: 's3', outcome: 'failed', code: 'not_found', reason: 's3://b1b/p/model.onnx does not exist' });
  });
});

describe('loadModel: tier 4 (local)', () => {
  it('serves <localDir>/<name>/, or <localDir>/<name>/<version>/ for a pinned version', async () => {
    const dir = localDir({ m: A, 'm/2': B });
    const { logger, d } = deps();
    const latest = await loadModel(parseModelSourceConfig({ name: 'm', tiers: ['local'], localDir: dir }), d);
    expect(latest).toStrictEqual({ tier: 'local', location: `${join(dir, 'm')}/`, card: A.card, onnxBytes: new Uint8Array(A.onnx), attempts: [{ tier: 'local', outcome: 'served', location: `${join(dir, 'm')}/` }] });
    expect(logger.records).toEqual([{ level: 'info', message: 'model loaded', fields: { model: 'm', tier: 'local', location: `${join(dir, 'm')}/` } }]);
    const pinned = await loadModel(parseModelSourceConfig({ name: 'm', version: '2', tiers: ['local'], localDir: dir }), d);
    expect(pinned.location).toBe(`${join(dir, 'm', '2')}/`);
    expect(pinned.card).toEqual(B.card);
  });

  it('a missing file is missing_file ("no such file"); an unreadable one is unavailable with the system message', async () => {
    const dir = localDir();
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'card.json'), A.cardText);
    const e = await rejection(loadModel(parseModelSourceConfig({ name: 'm', tiers: ['local'], localDir: dir }), deps().d));
    expect(e.context['attempts']).toEqual([{ tier: 'local', outcome: 'failed', code: 'missing_file', reason: `${join(dir, 'm', 'model.onnx')}: no such file` }]);
    mkdirSync(join(dir, 'm', 'model.onnx'));
    const e2 = await rejection(loadModel(parseModelSourceConfig({ name: 'm', tiers: ['local'], localDir: dir }), deps().d));
    const attempt = (e2.context['attempts'] as { code: string; reason: string }[])[0]!;
    expect(attempt.code).toBe('unavailable');
    expect(attempt.reason).toMatch(new RegExp(`^${join(dir, 'm', 'model.onnx').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: EISDIR: illegal operation on a directory`));
  });
});

describe('loadModel: tier order, fallbacks and the end of the line', () => {
  it('tries tiers in config order and stops at the first that serves', async () => {
    const r = registryWithAlias();
    r.runs.set(OTHER_RUN, 'mlflow-artifacts:/1/other/artifacts');
    r.addPackage('mlflow-artifacts:/1/other/artifacts/model', B);
    const store = memoryStore('b1b', { 'p/model.onnx': C.onnx, 'p/card.json': C.cardText });
    const config = { name: 'm', runId: OTHER_RUN, s3: { bucket: 'b1b', prefix: 'p' }, localDir: localDir({ m: D }) };
    const d = deps({ mlflow: r.client(), objectStore: store }).d;
    expect((await loadModel(parseModelSourceConfig({ ...config, tiers: ['s3', 'alias'] }), d)).card).toEqual(C.card);
    expect((await loadModel(parseModelSourceConfig({ ...config, tiers: ['run', 's3'] }), d)).card).toEqual(B.card);
    expect((await loadModel(parseModelSourceConfig({ ...config, tiers: ['local', 'alias'] }), d)).card).toEqual(D.card);
    expect((await loadModel(parseModelSourceConfig(config), d)).card).toEqual(A.card);
  });

  it('a corrupted package (bad card, checksum) fails its tier with the location and the next tier serves', async () => {
    const store = memoryStore('b1b', { 'p/model.onnx': C.onnx, 'p/card.json': '{"schemaVersion": 1' });
    const dir = localDir({ m: D });
    const { logger, d } = deps({ objectStore: store });
    const m = await loadModel(parseModelSourceConfig({ name: 'm', s3: { bucket: 'b1b', prefix: 'p' }, tiers: ['s3', 'local'], localDir: dir }), d);
    expect(m.tier).toBe('local');
    expect(m.attempts[0]).toMatchObject({ tier: 's3', outcome: 'failed', location: 's3://b1b/p/', code: 'invalid_card' });
    expect(m.attempts).toHaveLength(2);
    expect(logger.records[0]).toMatchObject({ level: 'warn', message: 'model tier s3 failed', fields: { model: 'm', tier: 's3', location: 's3://b1b/p/', code: 'invalid_card' } });
  });

  it('a feature mismatch stops the load at that tier (lower tiers are not tried), naming the location', async () => {
    const store = memoryStore('b1b', { 'p/model.onnx': C.onnx, 'p/card.json': C.cardText });
    const { logger, d } = deps({ objectStore: store, validate: featureValidator({ ...expected, featureNames: ['b', 'a'] }) });
    const e = await rejection(loadModel(parseModelSourceConfig({ name: 'm', s3: { bucket: 'b1b', prefix: 'p' }, tiers: ['s3', 'local'], localDir: localDir({ m: C }) }), d));
    expect(e.code).toBe('feature_mismatch');
    expect(e.message).toMatch(/^s3:\/\/b1b\/p\/: .+; not falling back to other tiers$/);
    expect(e.context).toMatchObject({ tier: 's3', location: 's3://b1b/p/' });
    const attempts = e.context['attempts'] as { tier: string; outcome: string; code: string }[];
    expect(attempts.map((a) => [a.tier, a.outcome, a.code])).toEqual([['s3', 'failed', 'feature_mismatch']]);
    expect(logger.records.map((x) => x.message)).toEqual(['model tier s3 failed']);
  });

  it('when no tier serves: no_model_available, every tier with its outcome and reason in the message and the context', async () => {
    const r = new FakeRegistry();
    r.fail = new Error('socket hang up');
    const { logger, d } = deps({ mlflow: r.client() });
    const dir = localDir();
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'card.json'), A.cardText);
    const e = await rejection(loadModel(parseModelSourceConfig({ name: 'm', localDir: dir }), d));
    expect(e.code).toBe('no_model_available');
    const local = join(dir, 'm', 'model.onnx');
    expect(e.message).toBe(
      'no tier served model "m": alias: failed (socket hang up); run: skipped (no run id configured (TM_MODEL_RUN_ID)); s3: skipped (no S3 bucket/prefix configured (TM_S3_BUCKET + TM_MODEL_S3_PREFIX)); ' +
        `local: failed (${local}: no such file)`,
    );
    expect(e.context).toEqual({ model: 'm', attempts: expect.any(Array) });
    expect(e.context['attempts']).toEqual([
      { tier: 'alias', outcome: 'failed', code: 'error', reason: 'socket hang up' },
      { tier: 'run', outcome: 'skipped', reason: 'no run id configured (TM_MODEL_RUN_ID)' },
      { tier: 's3', outcome: 'skipped', reason: 'no S3 bucket/prefix configured (TM_S3_BUCKET + TM_MODEL_S3_PREFIX)' },
      { tier: 'local', outcome: 'failed', code: 'missing_file', reason: `${local}: no such file` },
    ]);
    expect(logger.records.map((x) => [x.level, x.message])).toEqual([
      ['warn', 'model tier alias failed'],
      ['info', 'model tier run skipped'],
      ['info', 'model tier s3 skipped'],
      ['warn', 'model tier local failed'],
    ]);
  });

  it('a tier without a reason is listed by its outcome alone in the summary', async () => {
    const r = new FakeRegistry();
    r.fail = new Error('');
    const e = await rejection(loadModel(parseModelSourceConfig({ name: 'm', tiers: ['alias'] }), deps({ mlflow: r.client() }).d));
    expect(e.message).toBe('no tier served model "m": alias: failed');
  });
});

describe('loadModel: tier budget', () => {
  it('a hung remote tier fails "timeout" within its budget, naming the tier and the endpoint, and the next tier serves', async () => {
    const r = registryWithAlias();
    r.hang = true;
    const store = memoryStore('b1b', {}, { hang: true });
    const { d } = deps({ mlflow: r.client(), objectStore: store, tierBudgetMs: 40 });
    const started = performance.now();
    const m = await loadModel(parseModelSourceConfig({ name: 'm', s3: { bucket: 'b1b', prefix: 'p' }, tiers: ['alias', 's3', 'local'], localDir: localDir({ m: B }) }), d);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(m.tier).toBe('local');
    expect(m.attempts.slice(0, 2)).toEqual([
      { tier: 'alias', outcome: 'failed', code: 'timeout', reason: expect.stringMatching(new RegExp(`^model tier alias: ${TRACKING} did not answer within 40 ms`)) },
      { tier: 's3', outcome: 'failed', code: 'timeout', reason: expect.stringMatching(/^model tier s3: s3:\/\/b1b did not answer within 40 ms/) },
    ]);
  });

  it('the run tier has the same budget', async () => {
    const r = new FakeRegistry();
    r.hang = true;
    const m = await loadModel(parseModelSourceConfig({ name: 'm', runId: RUN_ID, tiers: ['run', 'local'], localDir: localDir({ m: B }) }), deps({ mlflow: r.client(), tierBudgetMs: 30 }).d);
    expect(m.attempts[0]).toMatchObject({ tier: 'run', outcome: 'failed', code: 'timeout' });
  });

  it('without tierBudgetMs the default budget (5 s) applies: a tier answering in 60 ms is served', async () => {
    const r = registryWithAlias();
    r.delayMs = 20;
    const m = await loadModel(parseModelSourceConfig({ name: 'm', tiers: ['alias'] }), deps({ mlflow: r.client() }).d);
    expect(m.tier).toBe('alias');
  });

  it('the local tier has no budget: a model.onnx that takes longer than the budget to read (a pipe written after 80 ms) is waited for', async () => {
    const dir = localDir();
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'card.json'), A.cardText);
    execFileSync('mkfifo', [join(dir, 'm', 'model.onnx')]);
    const writer = sleep(80).then(() => writeFile(join(dir, 'm', 'model.onnx'), A.onnx));
    const started = performance.now();
    const m = await loadModel(parseModelSourceConfig({ name: 'm', tiers: ['local'], localDir: dir }), deps({ tierBudgetMs: 10 }).d);
    await writer;
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
    expect(m.tier).toBe('local');
    expect(m.onnxBytes).toEqual(A.onnx);
  });
});
