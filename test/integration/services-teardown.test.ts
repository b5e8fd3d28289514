/**
 * `npm test` stops the services its global setup started, and only those: a real vitest run (the project's global
 * setup around one probe test, test/support/services-probe.vitest.config.ts) against a second services.sh instance
 * on free ports with its own state folder, so the services of this run are never touched.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/free-port.js';
import { servicesToStop } from '../../scripts/services-env.js';

const state = mkdtempSync(join(tmpdir(), 'tm-services-probe-'));
const SERVICE_VARS = ['REDIS_URL', 'MLFLOW_TRACKING_URI', 'TM_S3_ENDPOINT', 'MLFLOW_S3_ENDPOINT_URL', 'TM_SERVICES', 'TM_SERVICES_ERROR', 'TM_KEEP_SERVICES', 'TM_S3_BACKEND'];

async function probeEnv(): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', TM_SERVICES_STATE: state };
  for (const name of SERVICE_VARS) delete env[name];
  env['TM_S3_BACKEND'] = process.env['TM_S3_BACKEND'] ?? 'minio';
  env['TM_REDIS_PORT'] = String(await freePort());
  env['TM_MINIO_PORT'] = String(await freePort());
  env['TM_MINIO_CONSOLE_PORT'] = String(await freePort());
  env['TM_MLFLOW_PORT'] = String(await freePort());
  return env;
}

const services = (env: NodeJS.ProcessEnv, ...args: string[]) => spawnSync('bash', ['scripts/services.sh', ...args], { env, encoding: 'utf8' });
const running = (env: NodeJS.ProcessEnv) => services(env, 'running').stdout.split('\n').filter((l) => l !== '').sort();
const vitestProbe = (env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/support/services-probe.vitest.config.ts'], { env, encoding: 'utf8', timeout: 600_000 });

describe('npm test and the services it starts', () => {
  afterAll(() => rmSync(state, { recursive: true, force: true }));

  it('decides to stop exactly the services the run started, none with TM_KEEP_SERVICES=1', () => {
    expect(servicesToStop([], ['redis', 'minio', 'mlflow'], {})).toEqual(['redis', 'minio', 'mlflow']);
    expect(servicesToStop(['redis'], ['redis', 'minio', 'mlflow'], {})).toEqual(['minio', 'mlflow']);
    expect(servicesToStop([], ['redis', 'minio', 'mlflow'], { TM_KEEP_SERVICES: '1' })).toEqual([]);
    expect(servicesToStop([], ['redis'], { TM_KEEP_SERVICES: '0' })).toEqual(['redis']);
  });

  it('a run that started the services stops them; a run that found them running leaves them', { timeout: 900_000 }, async () => {
    const env = await probeEnv();
    expect(running(env)).toEqual([]);

    const first = vitestProbe(env);
    expect(first.status, `${first.stdout}\n${first.stderr}`).toBe(0);
    expect(first.stderr).toMatch(/redis stopped/);
    expect(running(env)).toEqual([]);
    expect(services(env, 'status').stdout).toMatch(/^redis\s+stopped/m);

    const up = services(env, 'up');
    expect(up.status, up.stderr).toBe(0);
    const before = running(env);
    expect(before).toEqual(['mlflow', env['TM_S3_BACKEND']!, 'redis'].sort());
    try {
      const second = vitestProbe(env);
      expect(second.status, `${second.stdout}\n${second.stderr}`).toBe(0);
      expect(running(env)).toEqual(before);
    } finally {
      services(env, 'down');
    }
    expect(running(env)).toEqual([]);
  });
});
