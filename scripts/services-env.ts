/**
 * Node side of scripts/services.sh: start the real services and read the environment variables
 * through which tests and notebooks find them. Used by the vitest global setup and the notebook runner.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../src/core/app-error.js';
import { repoRoot } from '../src/core/repo-root.js';

export type ServicesErrorCode = 'services_start_failed' | 'services_env_failed' | 'services_env_unparsable';
export type ServicesError = AppError<ServicesErrorCode>;

/** Repository root (see core/repo-root.ts): compiled into dist-bench/scripts/, the folder above is dist-bench/, with no services.sh. */
export const REPO_ROOT = repoRoot(fileURLToPath(import.meta.url));
const SERVICES_SCRIPT = resolve(REPO_ROOT, 'scripts/services.sh');

/** Names `services.sh env` prints; a client needs nothing else to reach the services. */
export const SERVICE_ENV_NAMES = [
  'REDIS_URL',
  'MLFLOW_TRACKING_URI',
  'TM_S3_ENDPOINT',
  'MLFLOW_S3_ENDPOINT_URL',
  'TM_S3_BUCKET',
  'TM_S3_BACKEND',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
  'TM_PYTHON',
  'TM_JUPYTER',
] as const;
export type ServiceEnvName = (typeof SERVICE_ENV_NAMES)[number];
export type ServiceEnv = Readonly<Record<ServiceEnvName, string>>;

/**
 * Parses `export NAME=value` lines (value bare or single-quoted with `'\''` escapes, as services.sh writes them).
 * @throws AppError `services_env_unparsable` on any other non-empty line.
 */
export function parseExportLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) {
      throw new AppError<ServicesErrorCode>('services_env_unparsable', `line ${index + 1} of services.sh env is not 'export NAME=value': ${JSON.stringify(line)}`, { line: index + 1, text: line });
    }
    let value = m[2]!;
    if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
      value = value.slice(1, -1).replaceAll(`'\\''`, "'");
    }
    out[m[1]!] = value;
  }
  return out;
}

/** Runs `services.sh up` (installs what is missing, starts what is down). Progress goes to stderr. */
export function servicesUp(): void {
  const result = spawnSync('bash', [SERVICES_SCRIPT, 'up'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.error || result.status !== 0) {
    throw new AppError<ServicesErrorCode>(
      'services_start_failed',
      `bash scripts/services.sh up failed (exit ${result.status ?? result.error?.message}); logs are in .services/logs/`,
      { status: result.status, signal: result.signal },
      { cause: result.error },
    );
  }
}

/** Reads `services.sh env`, checking that every name in {@link SERVICE_ENV_NAMES} is present. */
export function servicesEnv(): ServiceEnv {
  const result = spawnSync('bash', [SERVICES_SCRIPT, 'env'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.error || result.status !== 0) {
    throw new AppError<ServicesErrorCode>('services_env_failed', `bash scripts/services.sh env failed (exit ${result.status})`, { status: result.status }, { cause: result.error });
  }
  const parsed = parseExportLines(result.stdout);
  const missing = SERVICE_ENV_NAMES.filter((name) => !(name in parsed));
  if (missing.length > 0) {
    throw new AppError<ServicesErrorCode>('services_env_failed', `services.sh env did not print ${missing.join(', ')}`, { missing });
  }
  return parsed as ServiceEnv;
}

/** Services of scripts/services.sh (this checkout's state folder) running now with today's settings. */
export function runningServices(): string[] {
  const result = spawnSync('bash', [SERVICES_SCRIPT, 'running'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.error || result.status !== 0) {
    throw new AppError<ServicesErrorCode>('services_env_failed', `bash scripts/services.sh running failed (exit ${result.status})`, { status: result.status }, { cause: result.error });
  }
  return result.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** Stops the named services (`services.sh down NAME...`); progress goes to stderr. */
export function servicesDown(names: readonly string[]): void {
  if (names.length === 0) return;
  const result = spawnSync('bash', [SERVICES_SCRIPT, 'down', ...names], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.error || result.status !== 0) {
    throw new AppError<ServicesErrorCode>('services_start_failed', `bash scripts/services.sh down ${names.join(' ')} failed (exit ${result.status})`, { status: result.status, names }, { cause: result.error });
  }
}

/**
 * The services a test run must stop when it ends: those running after its `up` that were not running before it
 * (so a run never stops services someone else started), none when `TM_KEEP_SERVICES=1`.
 */
export function servicesToStop(before: readonly string[], after: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  if (env['TM_KEEP_SERVICES'] === '1') return [];
  return after.filter((name) => !before.includes(name));
}
