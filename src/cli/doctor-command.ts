import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { repoRoot } from '../core/repo-root.js';
import { formatTable, type CliIo } from './output.js';

/** `ok`; `warn` = works without it but something (a test group, a speed-up) is off; `missing` = fails what it names. */
export type CheckStatus = 'ok' | 'warn' | 'missing';

export interface DoctorCheck {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** The command that fixes it ('' when ok). */
  readonly fix: string;
}

/** Minimum versions: Node (engines), npm (package.json `allowScripts`, npm >= 11.16), Python (services venv), Go (MinIO build). */
export const MIN_VERSIONS = { node: [20, 0], npm: [11, 16], python: [3, 10], go: [1, 24] } as const;

const SERVICES_FIX = 'bash scripts/services.sh up   (first run installs Redis, Chromium, MinIO, the Python venv and the tslab kernel: ~15 min, needs root for apt-get and access to the apt, Go module proxy and PyPI registries)';

/** Parses the first `a.b` version in `text`, or null. */
export function parseVersion(text: string): [number, number] | null {
  const m = /(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

const atLeast = (v: readonly [number, number], min: readonly [number, number]) => v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);

function versionOf(command: string, args: string[]): string | null {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return null;
  return `${r.stdout}${r.stderr}`.trim();
}

function toolCheck(name: string, command: string, args: string[], min: readonly [number, number], status: CheckStatus, why: string, fix: string): DoctorCheck {
  const text = versionOf(command, args);
  const v = text === null ? null : parseVersion(text);
  if (v === null) return { check: name, status, detail: `not found (${why})`, fix };
  const shown = `${v[0]}.${v[1]}`;
  return atLeast(v, min) ? { check: name, status: 'ok', detail: shown, fix: '' } : { check: name, status, detail: `${shown} < ${min.join('.')} (${why})`, fix };
}

/** True when a TCP connection to host:port opens within `timeoutMs`. */
function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return r.ok;
  } catch {
    return false;
  }
}

/** The service URLs: the environment's, else what `bash scripts/services.sh env` prints (its ports honour TM_*_PORT). */
function serviceUrls(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const r = spawnSync('bash', [join(root, 'scripts/services.sh'), 'env'], { encoding: 'utf8', timeout: 10_000 });
  for (const m of (r.stdout ?? '').matchAll(/^export ([A-Z_0-9]+)='?([^'\n]*)'?$/gm)) out[m[1]!] = m[2]!;
  for (const name of ['REDIS_URL', 'TM_S3_ENDPOINT', 'MLFLOW_TRACKING_URI', 'TM_S3_BACKEND']) {
    const v = process.env[name];
    if (v) out[name] = v;
  }
  return out;
}

/**
 * A service behind `base` is ok when `base + healthPath` answers 2xx; when it does not but its port is open, another
 * process holds the port (services.sh would refuse to start there): the fix names the port variable to change.
 */
async function httpServiceCheck(check: string, base: string, healthPath: string, portVariable: string): Promise<DoctorCheck> {
  if (await httpOk(`${base}${healthPath}`)) return { check, status: 'ok', detail: `${base} healthy`, fix: '' };
  const url = new URL(base);
  const port = Number(url.port || 80);
  if (await portOpen(url.hostname, port)) {
    return { check, status: 'missing', detail: `port ${port} is open but ${base}${healthPath} does not answer: another process holds it`, fix: `stop that process, or choose another port: ${portVariable}=<free port> ${SERVICES_FIX}` };
  }
  return { check, status: 'missing', detail: `${base} not answering (port ${port} closed)`, fix: SERVICES_FIX };
}

async function serviceChecks(root: string): Promise<DoctorCheck[]> {
  const urls = serviceUrls(root);
  const checks: DoctorCheck[] = [];
  const redis = urls['REDIS_URL'] ? new URL(urls['REDIS_URL']) : null;
  if (redis === null) checks.push({ check: 'redis', status: 'missing', detail: 'no REDIS_URL and scripts/services.sh env failed', fix: SERVICES_FIX });
  else {
    const ok = await portOpen(redis.hostname, Number(redis.port || 6379));
    checks.push({ check: 'redis', status: ok ? 'ok' : 'missing', detail: `${redis.host} ${ok ? 'answers' : 'port closed'}`, fix: ok ? '' : SERVICES_FIX });
  }
  const s3 = urls['TM_S3_ENDPOINT'];
  const backend = urls['TM_S3_BACKEND'] ?? 'minio';
  if (s3) {
    checks.push(await httpServiceCheck(`s3 (${backend})`, s3, backend === 'moto' ? '/moto-api/' : '/minio/health/live', 'TM_MINIO_PORT'));
  }
  const mlflow = urls['MLFLOW_TRACKING_URI'];
  if (mlflow) {
    checks.push(await httpServiceCheck('mlflow', mlflow, '/health', 'TM_MLFLOW_PORT'));
  }
  const kernel = join(root, '.venv/share/jupyter/kernels/tslab/kernel.json');
  checks.push(existsSync(kernel) ? { check: 'tslab kernel', status: 'ok', detail: '.venv/share/jupyter/kernels/tslab', fix: '' } : { check: 'tslab kernel', status: 'missing', detail: 'not installed (notebooks cannot run)', fix: 'bash scripts/services.sh install' });
  return checks;
}

async function buildCheck(root: string): Promise<DoctorCheck> {
  const fix = 'npm run build';
  try {
    const { buildState } = (await import(pathToFileURL(join(root, 'bin/build-state.js')).href)) as { buildState(root: string): { built: boolean; stale: string | null } };
    const s = buildState(root);
    if (!s.built) return { check: 'compiled CLI', status: 'warn', detail: 'dist/ missing: tm runs through tsx (seconds per start)', fix };
    if (s.stale !== null) return { check: 'compiled CLI', status: 'warn', detail: `dist/ older than ${s.stale}: tm runs through tsx`, fix };
    return { check: 'compiled CLI', status: 'ok', detail: 'dist/ is current', fix: '' };
  } catch (e) {
    return { check: 'compiled CLI', status: 'warn', detail: `cannot read the build state: ${(e as Error).message}`, fix };
  }
}

async function storeCheck(db: string | undefined): Promise<DoctorCheck> {
  const { resolveStorePath, MarketStore, listSeries } = await import('../data/index.js');
  const path = resolveStorePath(db);
  const fix = 'tm data import ../shared/data   (or tm data fetch ...)';
  if (!existsSync(path)) return { check: 'store', status: 'missing', detail: `${path} does not exist`, fix };
  try {
    const store = await MarketStore.open(path, { readOnly: true });
    try {
      const series = await listSeries(store);
      return series.length > 0 ? { check: 'store', status: 'ok', detail: `${path}: ${series.length} series`, fix: '' } : { check: 'store', status: 'missing', detail: `${path} holds no series`, fix };
    } finally {
      store.close();
    }
  } catch (e) {
    return { check: 'store', status: 'missing', detail: `${path}: cannot open: ${(e as Error).message.split('\n')[0]}`, fix: 'close the process holding the store, or pass --db <file>' };
  }
}

function sharedDataCheck(root: string): DoctorCheck {
  const env = process.env['TM_SHARED_DATA'];
  const fallback = resolve(root, '../shared/data');
  if (env !== undefined && env !== '') {
    return existsSync(env) && statSync(env).isDirectory()
      ? { check: 'TM_SHARED_DATA', status: 'ok', detail: env, fix: '' }
      : { check: 'TM_SHARED_DATA', status: 'missing', detail: `${env} is not a folder`, fix: `export TM_SHARED_DATA=${existsSync(fallback) ? fallback : '<folder with the historical data>'}` };
  }
  return existsSync(fallback)
    ? { check: 'TM_SHARED_DATA', status: 'ok', detail: `unset; the default ../shared/data exists (${fallback})`, fix: '' }
    : { check: 'TM_SHARED_DATA', status: 'missing', detail: `unset and ${fallback} does not exist (data tests and the demo need it)`, fix: 'export TM_SHARED_DATA=<folder with the historical data>' };
}

/** Runs every check; independent of the current directory except for the store path (`--db`/TM_DB, default data/market.duckdb). */
export async function runDoctor(options: { db?: string; root?: string } = {}): Promise<DoctorCheck[]> {
  const root = options.root ?? repoRoot(fileURLToPath(import.meta.url));
  const node = parseVersion(process.versions.node)!;
  const checks: DoctorCheck[] = [
    atLeast(node, MIN_VERSIONS.node) ? { check: 'node', status: 'ok', detail: process.versions.node, fix: '' } : { check: 'node', status: 'missing', detail: `${process.versions.node} < 20`, fix: 'install Node 20 LTS (https://nodejs.org)' },
    toolCheck('npm', 'npm', ['--version'], MIN_VERSIONS.npm, 'warn', 'older npm ignores package.json allowScripts and lets onnxruntime-node try to download CUDA', 'npm install -g npm@11   (or: ONNXRUNTIME_NODE_INSTALL=skip npm ci)'),
    toolCheck('python3', 'python3', ['--version'], MIN_VERSIONS.python, 'missing', 'MLflow, MinIO fallback and Jupyter run in .venv', 'apt-get install -y python3 python3-venv'),
    toolCheck('go', 'go', ['version'], MIN_VERSIONS.go, 'warn', 'only to build MinIO on first install; without it the S3 tests use moto', 'install Go >= 1.24 from https://go.dev/dl'),
    existsSync('/usr/bin/chromium') ? { check: 'chromium', status: 'ok', detail: '/usr/bin/chromium', fix: '' } : { check: 'chromium', status: 'warn', detail: 'not found (the report rendering test needs it)', fix: 'apt-get install -y chromium   (or bash scripts/services.sh install)' },
    await buildCheck(root),
    ...(await serviceChecks(root)),
    await storeCheck(options.db),
    sharedDataCheck(root),
  ];
  return checks;
}

/**
 * Builds `tm doctor`: checks what the workbench needs and prints, per missing piece, the command that fixes it.
 * Exit 1 when anything is `missing` (a `warn` does not fail).
 * @example tm doctor --json
 */
export function doctorCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('doctor')
    .description('check Node/npm/Python/Go, services, ports, the store and TM_SHARED_DATA; print what is missing and the command that fixes it')
    .option('--db <file>', 'DuckDB store file to check (env TM_DB, default data/market.duckdb)')
    .option('--json', 'print the checks as JSON')
    .action(async (opts: { db?: string; json?: boolean }) => {
      const checks = await runDoctor(opts.db === undefined ? {} : { db: opts.db });
      const missing = checks.filter((c) => c.status === 'missing');
      if (opts.json) io.out(JSON.stringify(checks, null, 2));
      else {
        io.out(formatTable(checks.map((c) => ({ check: c.check, status: c.status === 'ok' ? 'ok' : c.status.toUpperCase(), detail: c.detail }))));
        const fixes = checks.filter((c) => c.status !== 'ok');
        if (fixes.length > 0) {
          io.out('\nto fix:');
          for (const c of fixes) io.out(`  ${c.check}: ${c.fix}`);
        }
        io.out(missing.length === 0 ? `\nall required pieces present${fixes.length ? ` (${fixes.length} warnings)` : ''}` : `\n${missing.length} missing: ${missing.map((c) => c.check).join(', ')}`);
      }
      if (missing.length > 0) setExit(1);
    });
}
