/**
 * Proof that the real-service harness works: each test talks to a service started by scripts/services.sh
 * (via the vitest global setup), found only through its environment variable.
 */
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import axios from 'axios';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

/** The value of a service variable; fails (never skips) with the global setup's reason when it is unset. */
function serviceEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    const why = process.env['TM_SERVICES_ERROR'] ?? 'the vitest global setup did not run';
    throw new Error(`${name} is not set: services are not available (${why}); run 'bash scripts/services.sh up'`);
  }
  return value;
}

function s3Client(): S3Client {
  return new S3Client({
    endpoint: serviceEnv('TM_S3_ENDPOINT'),
    region: serviceEnv('AWS_REGION'),
    forcePathStyle: true,
    credentials: { accessKeyId: serviceEnv('AWS_ACCESS_KEY_ID'), secretAccessKey: serviceEnv('AWS_SECRET_ACCESS_KEY') },
  });
}

const unique = `${Date.now()}-${randomUUID().slice(0, 8)}`;

describe('Redis (REDIS_URL)', () => {
  const redis = new Redis(serviceEnv('REDIS_URL'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  afterAll(async () => {
    redis.disconnect();
  });

  it('round-trips SET/GET and expires keys', async () => {
    await redis.connect();
    const key = `tm:test:services:${unique}`;
    expect(await redis.set(key, 'value-42', 'EX', 60)).toBe('OK');
    expect(await redis.get(key)).toBe('value-42');
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await redis.del(key)).toBe(1);
    expect(await redis.get(key)).toBeNull();
  });
});

describe('S3 (TM_S3_ENDPOINT, TM_S3_BUCKET)', () => {
  it('puts, gets, lists and deletes an object', async () => {
    const s3 = s3Client();
    const bucket = serviceEnv('TM_S3_BUCKET');
    const key = `test/services/${unique}/hello.txt`;
    const body = `hello from trade-matrix ${unique}`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe(body);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `test/services/${unique}/` }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([key]);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    s3.destroy();
  });
});

describe('MLflow tracking server (MLFLOW_TRACKING_URI)', () => {
  const mlflow = () => axios.create({ baseURL: `${serviceEnv('MLFLOW_TRACKING_URI')}/api/2.0/mlflow`, timeout: 30_000 });

  async function createRun(): Promise<{ experimentId: string; runId: string; artifactUri: string }> {
    const api = mlflow();
    const experiment = await api.post('/experiments/create', { name: `tm-harness-${unique}-${randomUUID().slice(0, 6)}` });
    const experimentId: string = experiment.data.experiment_id;
    expect(experimentId).toMatch(/^\d+$/);
    const run = await api.post('/runs/create', { experiment_id: experimentId, start_time: Date.now(), run_name: 'harness' });
    return { experimentId, runId: run.data.run.info.run_id, artifactUri: run.data.run.info.artifact_uri };
  }

  it('creates an experiment and a run, logs a metric and reads it back', async () => {
    const api = mlflow();
    const { experimentId, runId } = await createRun();
    const timestamp = Date.now();
    await api.post('/runs/log-metric', { run_id: runId, key: 'sharpe', value: 1.25, timestamp, step: 0 });
    await api.post('/runs/log-metric', { run_id: runId, key: 'sharpe', value: 1.5, timestamp: timestamp + 1, step: 1 });
    await api.post('/runs/log-parameter', { run_id: runId, key: 'fast', value: '10' });
    await api.post('/runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });

    const run = (await api.get('/runs/get', { params: { run_id: runId } })).data.run;
    expect(run.info.experiment_id).toBe(experimentId);
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.metrics).toEqual([{ key: 'sharpe', value: 1.5, timestamp: timestamp + 1, step: 1 }]);
    expect(run.data.params).toEqual([{ key: 'fast', value: '10' }]);
    const history = (await api.get('/metrics/get-history', { params: { run_id: runId, metric_key: 'sharpe' } })).data.metrics;
    expect(history.map((m: { value: number; step: number }) => [m.step, m.value])).toEqual([[0, 1.25], [1, 1.5]]);
  });

  it('stores artifacts through the server proxy on the S3 bucket', async () => {
    const { experimentId, runId, artifactUri } = await createRun();
    // --serve-artifacts: runs get mlflow-artifacts:/<experiment>/<run>/artifacts, stored under s3://<bucket>/mlflow/.
    const artifactPath = artifactUri.replace(/^mlflow-artifacts:(\/\/[^/]+)?\/?/, '');
    expect(artifactUri.startsWith('mlflow-artifacts:')).toBe(true);
    expect(artifactPath).toBe(`${experimentId}/${runId}/artifacts`);

    const proxy = axios.create({ baseURL: `${serviceEnv('MLFLOW_TRACKING_URI')}/api/2.0/mlflow-artifacts/artifacts`, timeout: 30_000 });
    const content = JSON.stringify({ model: 'sma-crossover', unique });
    const put = await proxy.put(`/${artifactPath}/model/meta.json`, content, { headers: { 'Content-Type': 'application/json' }, transformRequest: [(d) => d] });
    expect(put.status).toBe(200);
    const got = await proxy.get(`/${artifactPath}/model/meta.json`, { responseType: 'text', transformResponse: [(d) => d] });
    expect(got.data).toBe(content);
    const listing = (await proxy.get('', { params: { path: `${artifactPath}/model` } })).data;
    expect(listing.files).toEqual([{ path: 'meta.json', is_dir: false, file_size: content.length }]);

    const s3 = s3Client();
    const bucket = serviceEnv('TM_S3_BUCKET');
    const key = `mlflow/${artifactPath}/model/meta.json`;
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `mlflow/${artifactPath}/` }));
    expect(objects.Contents?.map((o) => [o.Key, o.Size])).toEqual([[key, content.length]]);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await object.Body!.transformToString()).toBe(content);
    s3.destroy();
  });
});
