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
import { runningServices, servicesDown, servicesEnv, servicesToStop, servicesUp } from '../../scripts/services-env.js';

function isCi(): boolean {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

export default function setup(): () => void {
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
    if (external) return;
    const after = runningServices();
    const stop = servicesToStop(before, after);
    if (stop.length > 0) servicesDown(stop);
    const kept = after.filter((name) => !before.includes(name) && !stop.includes(name));
    if (kept.length > 0) console.warn(`[services] left running (TM_KEEP_SERVICES=1): ${kept.join(', ')}; stop them with 'bash scripts/services.sh down'`);
  };
}
