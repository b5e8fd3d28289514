/**
 * Vitest global setup: starts the real services (scripts/services.sh up) and puts the variables of
 * `services.sh env` into process.env before any test worker is forked, so workers inherit them.
 * When the run ends it stops the services it started itself (not those that were already running), unless
 * TM_KEEP_SERVICES=1; `bash scripts/services.sh down` stops them later.
 *
 * TM_SERVICES=external: start (and stop) nothing; variables already set in the environment win, the rest default to
 * services.sh env. CI=true: a service that cannot start fails the run. Elsewhere a failure is a loud warning,
 * the variables stay unset and TM_SERVICES_ERROR says why, so service tests fail with that reason (never skip).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runningServices, servicesDown, servicesEnv, servicesToStop, servicesUp } from '../../scripts/services-env.js';
import { scanTree } from '../support/secret-scan.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../support/bybit-v5-venue.js';

/**
 * Every file the suite writes goes under one private TMPDIR (test workers and the processes they spawn inherit it):
 * at the end it is scanned, with the run folders the CLI writes in the repository and the crash campaigns' kept
 * files, for the test venue's API key and secret. A hit fails the run: keys must never reach a log, error, journal or report.
 */
function privateTmpdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tm-suite-'));
  process.env['TMPDIR'] = dir;
  return dir;
}

function scanForSecrets(dir: string): void {
  const secrets = [TEST_API_KEY, TEST_API_SECRET];
  // TM_CRASH_KEEP: where the crash campaigns keep their journals, lives' output and the venue's books (the nightly uploads them).
  const keep = process.env['TM_CRASH_KEEP'];
  const roots = [dir, resolve('runs'), resolve('experiments/results'), ...(keep !== undefined ? [resolve(keep)] : [])];
  let files = 0, bytes = 0;
  const hits: string[] = [];
  for (const root of roots) {
    const r = scanTree(root, secrets);
    files += r.files;
    bytes += r.bytes;
    hits.push(...r.hits.map((h) => `${h.where} holds the ${h.secret === TEST_API_KEY ? 'API key' : 'API secret'}`));
  }
  console.log(`[secret scan] ${files} files (${(bytes / 1e6).toFixed(1)} MB) written by the suite scanned for the test API key and secret: ${hits.length} hits`);
  if (hits.length > 0) {
    // An error thrown from a global teardown does not fail a vitest run: set the exit code, then say why.
    process.exitCode = 1;
    console.error(`secret scan FAILED: the test API key or secret reached files the suite wrote:\n${hits.join('\n')}`);
  }
}

function isCi(): boolean {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

export default function setup(): () => void {
  const suiteTmp = privateTmpdir();
  const external = process.env['TM_SERVICES'] === 'external';
  let before: string[] = [];
  try {
    if (!external) {
      before = runningServices();
      servicesUp();
    }
    const env = servicesEnv();
    for (const [name, value] of Object.entries(env)) {
      if (external && process.env[name] !== undefined) continue;
      process.env[name] = value;
    }
    delete process.env['TM_SERVICES_ERROR'];
  } catch (error) {
    if (isCi()) throw error;
    const message = error instanceof Error ? error.message : String(error);
    process.env['TM_SERVICES_ERROR'] = message;
    console.warn(`\n*** real services are NOT available: ${message}\n*** tests that need Redis/MLflow/S3/Jupyter will fail; see 'bash scripts/services.sh status'\n`);
  }
  return () => {
    try {
      scanForSecrets(suiteTmp);
    } finally {
      if (process.env['TM_KEEP_TEST_FILES'] !== '1') rmSync(suiteTmp, { recursive: true, force: true });
    }
    if (external) return;
    const after = runningServices();
    const stop = servicesToStop(before, after);
    if (stop.length > 0) servicesDown(stop);
    const kept = after.filter((name) => !before.includes(name) && !stop.includes(name));
    if (kept.length > 0) console.warn(`[services] left running (TM_KEEP_SERVICES=1): ${kept.join(', ')}; stop them with 'bash scripts/services.sh down'`);
  };
}
