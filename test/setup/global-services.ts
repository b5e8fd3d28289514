/**
 * Vitest global setup: starts the real services (scripts/services.sh up) and puts the variables of
 * `services.sh env` into process.env before any test worker is forked, so workers inherit them.
 *
 * TM_SERVICES=external: start nothing; variables already set in the environment win, the rest default to
 * services.sh env. CI=true: a service that cannot start fails the run. Elsewhere a failure is a loud warning,
 * the variables stay unset and TM_SERVICES_ERROR says why, so service tests fail with that reason (never skip).
 */
import { servicesEnv, servicesUp } from '../../scripts/services-env.js';

function isCi(): boolean {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

export default function setup(): void {
  const external = process.env['TM_SERVICES'] === 'external';
  try {
    if (!external) servicesUp();
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
}
