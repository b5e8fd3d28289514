/**
 * Bounded waits and no echoed secrets, against small local servers on 127.0.0.1 (a peer that accepts and never
 * answers; a peer that echoes the request headers into its error body) and, where noted, the real Redis.
 * Every test closes its servers; every wait is asserted against its deadline.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BybitMarketDataClient } from '../../src/adapters/bybit/index.js';
import { main } from '../../src/cli/main.js';
import { networkDeadlinesFromEnv, redisDeadlineOptions } from '../../src/config/network-deadlines.js';
import {
  createS3ObjectStore,
  featureValidator,
  formatModelCard,
  loadModel,
  memoryLogger,
  MlflowClient,
  ObjectStoreError,
  parseMlflowClientConfig,
  parseModelSourceConfig,
  parseS3Config,
  RegistryError,
} from '../../src/registry/index.js';
import { captureIo } from '../support/cli.js';
import { minimalCard } from '../support/model-card.js';
import { startEchoHeadersServer, startSilentServer, type LocalServer } from '../support/hostile-servers.js';

const TOKEN = 'mlflow-token-7f3a9c2e5b1d';
const now = () => Date.now();
const open: LocalServer[] = [];
const serve = async <S extends LocalServer>(s: Promise<S>): Promise<S> => {
  const server = await s;
  open.push(server);
  return server;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** Runs `fn`, returns [error, elapsed ms]. */
async function timed(fn: () => Promise<unknown>): Promise<[unknown, number]> {
  const started = performance.now();
  const e = await fn().then(
    () => undefined,
    (x: unknown) => x,
  );
  return [e, performance.now() - started];
}

/** Every string reachable from an error: message, stack, context, cause chain (what could end up in a log). */
function everything(e: unknown, depth = 0): string {
  if (depth > 6 || e === null || e === undefined) return '';
  if (typeof e !== 'object') return String(e);
  const err = e as Error & { context?: unknown };
  return [err.message, err.stack, JSON.stringify(err.context ?? {}), everything(err.cause, depth + 1)].join('\n');
}

describe('every remote call ends within its deadline (silent peer: accepts, never answers)', () => {
  it('MLflow: a GET fails as a timeout naming the endpoint and elapsed time, within the deadline, not retried', async () => {
    const hung = await serve(startSilentServer());
    const client = new MlflowClient(parseMlflowClientConfig({ trackingUri: hung.url, timeoutMs: 400, getRetries: 2 }), { now });
    const [e, ms] = await timed(() => client.getRegisteredModel('x'));
    expect(e).toBeInstanceOf(RegistryError);
    expect((e as RegistryError).context).toMatchObject({ transport: 'timeout', deadlineMs: 400 });
    expect((e as RegistryError).message).toMatch(new RegExp(`^MLflow GET /api/2\\.0/mlflow/registered-models/get timed out: tracking server ${hung.url} did not answer within 400 ms \\(gave up after \\d+ ms\\)$`));
    expect(ms).toBeGreaterThanOrEqual(390);
    expect(ms).toBeLessThan(1_500);
    expect(hung.connections()).toBe(1); // a timeout is not retried
  });

  it('S3: get fails `timeout` within the call budget (attempts × per-attempt deadline + connect)', async () => {
    const hung = await serve(startSilentServer());
    const config = parseS3Config({ endpoint: hung.url, bucket: 'bucket-x', timeoutMs: 400, connectTimeoutMs: 300, maxAttempts: 2 });
    const store = createS3ObjectStore(config, { accessKeyId: 'AKIAHANGTEST00000001', secretAccessKey: 'not-used-secret' });
    const [e, ms] = await timed(() => store.get('models/a/model.onnx'));
    expect(e).toBeInstanceOf(ObjectStoreError);
    expect((e as ObjectStoreError).code).toBe('timeout');
    expect((e as ObjectStoreError).message).toMatch(/s3:\/\/bucket-x\/models\/a\/model\.onnx/);
    expect((e as ObjectStoreError).message).toMatch(/timed out/);
    expect(ms).toBeLessThan(400 * 2 + 300 + 1_000);
    const [put] = await timed(() => store.put('k', new Uint8Array([1]), 'application/octet-stream'));
    expect((put as ObjectStoreError).code).toBe('timeout');
  });

  it('Bybit (ccxt): a market-data request fails `network` within the exchange deadline', async () => {
    const hung = await serve(startSilentServer());
    const client = new BybitMarketDataClient({ apiUrl: hung.url, timeoutMs: 400 });
    try {
      const [e, ms] = await timed(() => client.fetchBarsPage('BTCUSDT', '4h', Date.UTC(2024, 0, 1), 10));
      expect(e).toMatchObject({ code: 'network' });
      expect(ms).toBeLessThan(2_500);
    } finally {
      await client.close();
    }
  });

  it('Redis (ioredis with the deadline options): a silent peer is reported as a timeout within the deadline, reconnects are bounded, a command fails at once', async () => {
    const hung = await serve(startSilentServer());
    const redis = new Redis({ host: '127.0.0.1', port: hung.port, lazyConnect: true, ...redisDeadlineOptions({ ...networkDeadlinesFromEnv({}), connectMs: 300, redisCommandMs: 300 }) });
    const started = performance.now();
    const firstError = new Promise<[Error, number]>((resolve) => redis.once('error', (e: Error) => resolve([e, performance.now() - started])));
    redis.on('error', () => undefined);
    try {
      const [e, ms] = await timed(() => redis.connect());
      const [first, firstMs] = await firstError;
      expect(first.message).toMatch(/ETIMEDOUT|timed out/i);
      expect(firstMs).toBeGreaterThanOrEqual(290);
      expect(firstMs).toBeLessThan(1_000);
      // The silent peer accepts TCP, so the wait that expires is ioredis's ready check (a command, commandTimeout);
      // then at most 3 reconnects with back-off 200 + 400 + 600 ms, and connect() gives up.
      expect(e).toBeInstanceOf(Error);
      expect(ms).toBeLessThan(4 * 300 + 1_200 + 1_000);
      const [cmd, cmdMs] = await timed(() => redis.ping());
      expect(cmd).toBeInstanceOf(Error);
      expect(cmdMs).toBeLessThan(500);
    } finally {
      redis.disconnect();
    }
  });

  it('Redis (real service): the same options connect and answer', async () => {
    const port = Number(process.env['TM_REDIS_PORT'] ?? /:(\d+)/.exec(process.env['TM_REDIS_URL'] ?? '')?.[1] ?? 16379);
    const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, ...redisDeadlineOptions(networkDeadlinesFromEnv({})) });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('`tm models ls` against a hung MLflow exits 2 within TM_MLFLOW_TIMEOUT_MS, saying "timed out"', async () => {
    const hung = await serve(startSilentServer());
    const saved = process.env['TM_MLFLOW_TIMEOUT_MS'];
    process.env['TM_MLFLOW_TIMEOUT_MS'] = '500';
    try {
      const io = captureIo();
      const started = performance.now();
      const code = await main(['node', 'tm', 'models', 'ls', '--tracking-uri', hung.url], io);
      expect(code).toBe(2);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(io.text()).toMatch(new RegExp(`timed out: tracking server ${hung.url} did not answer within 500 ms`));
    } finally {
      if (saved === undefined) delete process.env['TM_MLFLOW_TIMEOUT_MS'];
      else process.env['TM_MLFLOW_TIMEOUT_MS'] = saved;
    }
  });
});

describe('the 4-tier loader moves on within its budget', () => {
  const onnx = new Uint8Array(Array.from({ length: 512 }, (_, i) => (i * 13) % 251));
  const card = minimalCard('hung-tiers', onnx, ['f1'], 'abcdef0123456789');

  it('alias, run and s3 all hang (with long per-request deadlines) → each tier fails `timeout` at its budget → local serves', async () => {
    const mlflowPeer = await serve(startSilentServer());
    const s3Peer = await serve(startSilentServer());
    const localDir = mkdtempSync(join(tmpdir(), 'tm-hung-tiers-'));
    mkdirSync(join(localDir, card.name));
    writeFileSync(join(localDir, card.name, 'model.onnx'), onnx);
    writeFileSync(join(localDir, card.name, 'card.json'), formatModelCard(card));
    // Per-request deadlines far above the tier budget: the budget alone must bound each tier.
    const mlflow = new MlflowClient(parseMlflowClientConfig({ trackingUri: mlflowPeer.url, timeoutMs: 30_000, getRetries: 3 }), { now });
    const objectStore = createS3ObjectStore(parseS3Config({ endpoint: s3Peer.url, bucket: 'hung-bucket', timeoutMs: 30_000, maxAttempts: 3 }), {
      accessKeyId: 'AKIAHANGTEST00000001',
      secretAccessKey: 'not-used-secret',
    });
    const config = parseModelSourceConfig({ name: card.name, runId: 'a'.repeat(32), s3: { bucket: 'hung-bucket', prefix: 'models/hung' }, localDir });
    const logger = memoryLogger();
    const started = performance.now();
    const model = await loadModel(config, { mlflow, objectStore, logger, validate: featureValidator({ featureNames: ['f1'], featureSpecHash: card.featureSpecHash }), tierBudgetMs: 600 });
    const ms = performance.now() - started;
    expect(model.tier).toBe('local');
    expect(model.attempts.map((a) => `${a.tier}:${a.code ?? a.outcome}`)).toEqual(['alias:timeout', 'run:timeout', 's3:timeout', 'local:served']);
    expect(model.attempts[0]!.reason).toMatch(new RegExp(`^model tier alias: ${mlflowPeer.url} did not answer within 600 ms \\(timed out after \\d+ ms\\)$`));
    expect(model.attempts[2]!.reason).toMatch(/^model tier s3: s3:\/\/hung-bucket did not answer within 600 ms/);
    expect(ms).toBeGreaterThanOrEqual(3 * 590);
    expect(ms).toBeLessThan(3 * 600 + 1_500);
  });
});

describe('no secret reaches stdout, stderr, logs or errors (peer echoes request headers)', () => {
  it('MLflow client: the echoed Authorization header is redacted from message, context and cause', async () => {
    for (const format of ['mlflow', 'text'] as const) {
      const echo = await serve(startEchoHeadersServer(format, format === 'mlflow' ? 401 : 502));
      const client = new MlflowClient(parseMlflowClientConfig({ trackingUri: echo.url, token: TOKEN, getRetries: 0, timeoutMs: 2_000 }), { now });
      const e = await client.getRegisteredModel('m').catch((x: unknown) => x);
      expect(echo.received[0]!['authorization']).toBe(`Bearer ${TOKEN}`); // the token was sent...
      expect(e).toBeInstanceOf(RegistryError);
      expect(everything(e)).not.toContain(TOKEN); // ...and is nowhere in the error
      expect((e as RegistryError).message).toContain('[REDACTED]');
    }
  });

  it('the loader logs and throws no token when every MLflow tier answers with an echo of its headers', async () => {
    const echo = await serve(startEchoHeadersServer('mlflow', 401));
    const mlflow = new MlflowClient(parseMlflowClientConfig({ trackingUri: echo.url, token: TOKEN, getRetries: 0 }), { now });
    const logger = memoryLogger();
    const e = await loadModel(parseModelSourceConfig({ name: 'echoed', runId: 'b'.repeat(32), tiers: ['alias', 'run'] }), { mlflow, logger, validate: () => ({ success: true, data: undefined }) }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'no_model_available' });
    expect(echo.received).toHaveLength(2);
    expect(logger.records.filter((r) => r.level === 'warn')).toHaveLength(2);
    expect(JSON.stringify(logger.records)).not.toContain(TOKEN);
    expect(everything(e)).not.toContain(TOKEN);
  });

  it('`tm models ls` and `tm promote` print no token (client redaction alone: the CLI is given no env secrets)', async () => {
    const echo = await serve(startEchoHeadersServer('mlflow', 401));
    const saved = process.env['MLFLOW_TRACKING_TOKEN'];
    process.env['MLFLOW_TRACKING_TOKEN'] = TOKEN;
    try {
      for (const args of [['models', 'ls'], ['promote', 'm', '--version', '1']]) {
        const io = captureIo();
        const code = await main(['node', 'tm', ...args, '--tracking-uri', echo.url], io, {});
        expect(code).toBe(2);
        expect(io.text()).toMatch(/UNAUTHENTICATED/);
        expect(io.text()).not.toContain(TOKEN);
      }
      expect(echo.received.length).toBeGreaterThanOrEqual(2);
      expect(echo.received.every((h) => h['authorization'] === `Bearer ${TOKEN}`)).toBe(true);
    } finally {
      if (saved === undefined) delete process.env['MLFLOW_TRACKING_TOKEN'];
      else process.env['MLFLOW_TRACKING_TOKEN'] = saved;
    }
  });

  it('S3: an error body echoing the signed Authorization header loses the signature and the access key id', async () => {
    const echo = await serve(startEchoHeadersServer('s3', 403));
    const accessKeyId = 'AKIAECHOTEST00000001';
    const store = createS3ObjectStore(parseS3Config({ endpoint: echo.url, bucket: 'echo-bucket', maxAttempts: 1, timeoutMs: 2_000 }), { accessKeyId, secretAccessKey: 'echo-secret-key-123' });
    const e = await store.get('a/b').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ObjectStoreError);
    const sent = String(echo.received[0]!['authorization']);
    const signature = /Signature=([0-9a-f]+)/.exec(sent)![1]!;
    const text = everything(e);
    expect(text).not.toContain(signature);
    expect(text).not.toContain(accessKeyId);
    expect(text).not.toContain('echo-secret-key-123');
  });

  it('the CLI redacts secret env values from anything it prints, whatever the source', async () => {
    const io = captureIo();
    const code = await main(['node', 'tm', 'backtest', '--config', `/nonexistent/${TOKEN}.json`], io, { MLFLOW_TRACKING_TOKEN: TOKEN });
    expect(code).toBe(2);
    expect(io.text()).toContain('[REDACTED]');
    expect(io.text()).not.toContain(TOKEN);
  });
});
