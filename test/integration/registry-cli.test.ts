/** `tm models ls` and `tm promote` against the real MLflow + MinIO. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import {
  createS3Client,
  MlflowClient,
  parseMlflowClientConfig,
  parseS3Config,
  publishModel,
  S3ObjectStore,
  s3CredentialsFromEnv,
  sha256Hex,
  type ModelCard,
} from '../../src/registry/index.js';

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (${process.env['TM_SERVICES_ERROR'] ?? 'run via npm test, or eval "$(bash scripts/services.sh env)" first'})`);
  return v;
}

function captureIo(): CliIo & { stdout: string[]; stderr: string[]; text(): string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t), text: () => [...stdout, ...stderr].join('\n') };
}

function makeCard(name: string, onnx: Uint8Array, passed: boolean): ModelCard {
  return {
    schemaVersion: 1,
    name,
    featureNames: ['f1', 'f2'],
    featureSpecHash: 'a1b2c3d4e5f60718',
    onnxSha256: sha256Hex(onnx),
    dataRange: { from: '2021-06-01', to: '2024-06-01' },
    metrics: { sharpe: passed ? 1.3 : 0.4 },
    gates: {
      passed,
      checks: {
        sharpe: { value: passed ? 1.3 : 0.4, threshold: 1, op: '>=', passed },
        max_drawdown: { value: 0.12, threshold: 0.25, op: '<=', passed: true },
      },
    },
    seed: 1,
    gitCommit: passed ? '1111111aaaaaaa' : '2222222bbbbbbb',
  };
}

const run = `${process.pid}-${Date.now().toString(36)}`;

describe('tm models ls / tm promote (real MLflow)', () => {
  let mlflow: MlflowClient;
  let trackingUri: string;
  const name = `tm-test-cli-${run}`;
  const tm = async (...args: string[]) => {
    const io = captureIo();
    const code = await main(['node', 'tm', ...args], io);
    return { code, io };
  };

  beforeAll(async () => {
    trackingUri = requireEnv('MLFLOW_TRACKING_URI');
    const bucket = requireEnv('TM_S3_BUCKET');
    mlflow = new MlflowClient(parseMlflowClientConfig({ trackingUri }), { now: () => Date.now() });
    const store = new S3ObjectStore(createS3Client(parseS3Config({ endpoint: requireEnv('TM_S3_ENDPOINT'), bucket }), s3CredentialsFromEnv(process.env)), bucket);
    for (const passed of [false, true]) {
      const onnx = new Uint8Array(randomBytes(2048));
      await publishModel(mlflow, store, { experiment: `tm-test-cli-${run}`, runName: passed ? 'good' : 'bad', card: makeCard(name, onnx, passed), onnxBytes: onnx, registeredModel: name });
    }
  });

  afterAll(async () => {
    await mlflow?.deleteRegisteredModel(name).catch(() => undefined);
  });

  it('--help of both commands', async () => {
    const ls = await tm('models', 'ls', '--help');
    expect(ls.code).toBe(0);
    expect(ls.io.text()).toContain('Usage: tm models ls');
    expect(ls.io.text()).toContain('--tracking-uri <url>');
    const promote = await tm('promote', '--help');
    expect(promote.code).toBe(0);
    expect(promote.io.text()).toMatch(/Usage: tm promote \[options\] <name>/);
    expect(promote.io.text()).toContain('--force');
    expect(promote.io.text()).toContain('(env: MLFLOW_TRACKING_URI)');
  });

  it('refuses a version whose gates failed, naming the failing gate; the alias is not set', async () => {
    const r = await tm('promote', name, '--version', '1', '--alias', 'production', '--tracking-uri', trackingUri);
    expect(r.code).toBe(2);
    expect(r.io.stderr.join('\n')).toContain(`refusing to point ${name}@production at version 1: its gates failed: sharpe (0.4 >= 1: failed)`);
    expect(await mlflow.getModelVersionByAlias(name, 'production').catch((e: { code: string }) => e.code)).toBe('not_found');
  });

  it('--force without --reason is refused', async () => {
    const r = await tm('promote', name, '--version', '1', '--alias', 'production', '--force', '--tracking-uri', trackingUri);
    expect(r.code).toBe(2);
    expect(r.io.stderr.join('\n')).toContain('`--force` requires `--reason');
  });

  it('--force --reason promotes and records promotion.forced / promotion.reason', async () => {
    const r = await tm('promote', name, '--version', '1', '--alias', 'production', '--force', '--reason', 'hotfix: v2 not trained yet', '--tracking-uri', trackingUri);
    expect(r.code).toBe(0);
    expect(r.io.stdout.join('\n')).toContain(`promoted ${name} version 1 to @production (was unset); gates failed`);
    expect(r.io.stdout.join('\n')).toContain('FORCED past failed gates: hotfix: v2 not trained yet');
    const v = await mlflow.getModelVersion(name, '1');
    expect(v.aliases).toEqual(['production']);
    expect(v.tags).toMatchObject({ 'promotion.forced': 'true', 'promotion.reason': 'hotfix: v2 not trained yet', 'promotion.alias': 'production' });
    expect(v.tags['promotion.at']).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('promoting a passing version moves the alias and records the previous version', async () => {
    const r = await tm('promote', name, '--version', '2', '--alias', 'production', '--tracking-uri', trackingUri, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.io.stdout.join(''))).toMatchObject({ version: '2', alias: 'production', previousVersion: '1', gate: 'passed', forced: false });
    const v = await mlflow.getModelVersion(name, '2');
    expect(v.tags).toMatchObject({ 'promotion.forced': 'false', 'promotion.previous_version': '1' });
    expect((await mlflow.getModelVersionByAlias(name, 'production')).version).toBe('2');
  });

  it('a version tagged status=failed is refused even with --force', async () => {
    await mlflow.setModelVersionTag(name, '1', 'status', 'failed');
    const r = await tm('promote', name, '--version', '1', '--alias', 'champion', '--force', '--reason', 'x', '--tracking-uri', trackingUri);
    expect(r.code).toBe(2);
    expect(r.io.stderr.join('\n')).toContain('tagged status=failed');
    await mlflow.deleteModelVersionTag(name, '1', 'status');
  });

  it('models ls shows versions, aliases, gate verdicts (forced marked) and lineage', async () => {
    const r = await tm('models', 'ls', '--name', name, '--tracking-uri', trackingUri);
    expect(r.code).toBe(0);
    const lines = r.io.stdout.join('\n').split('\n');
    expect(lines[0]).toMatch(/^model\s+version\s+status\s+aliases\s+gate\s+git_commit\s+data\s+run_id\s+created$/);
    expect(lines.find((l) => /\s2\s+READY\s+@production\s+passed\s+1111111aaaaa\s+2021-06-01\.\.2024-06-01/.test(l))).toBeDefined();
    expect(lines.find((l) => /\s1\s+READY\s+failed \(forced\)\s+2222222bbbbb\s/.test(l))).toBeDefined();
    const json = await tm('models', 'ls', '--name', name, '--tracking-uri', trackingUri, '--json');
    const rows = JSON.parse(json.io.stdout.join('')) as { version: string; aliases: string[]; gate: string; tags: Record<string, string> }[];
    expect(rows.map((x) => [x.version, x.aliases, x.gate])).toEqual([
      ['2', ['production'], 'passed'],
      ['1', [], 'failed'],
    ]);
    const all = await tm('models', 'ls', '--tracking-uri', trackingUri);
    expect(all.io.stdout.join('\n')).toContain(name);
  });

  it('clear errors: unknown version, bad arguments, unreachable or unset tracking server', async () => {
    const unknown = await tm('promote', name, '--version', '99', '--tracking-uri', trackingUri);
    expect(unknown.code).toBe(2);
    expect(unknown.io.stderr.join('\n')).toMatch(/RESOURCE_DOES_NOT_EXIST: Model Version \(name=.*, version=99\) not found/);
    const bad = await tm('promote', name, '--version', 'latest', '--tracking-uri', trackingUri);
    expect(bad.io.stderr.join('\n')).toContain('--version must be a positive integer, was "latest"');
    const down = await tm('models', 'ls', '--tracking-uri', 'http://127.0.0.1:1');
    expect(down.code).toBe(2);
    expect(down.io.stderr.join('\n')).toContain('tracking server http://127.0.0.1:1 unreachable');
    const saved = process.env['MLFLOW_TRACKING_URI'];
    delete process.env['MLFLOW_TRACKING_URI'];
    try {
      const unset = await tm('models', 'ls');
      expect(unset.code).toBe(2);
      expect(unset.io.stderr.join('\n')).toContain('pass --tracking-uri <url> or set MLFLOW_TRACKING_URI');
    } finally {
      process.env['MLFLOW_TRACKING_URI'] = saved;
    }
  });
});
