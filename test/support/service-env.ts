/**
 * Returns the environment variable `name` that `scripts/services.sh env` sets for a real service (MLflow, MinIO, ...).
 * @throws Error naming the variable and how to set it (with the services' start error when there was one).
 */
export function requireServiceEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (${process.env['TM_SERVICES_ERROR'] ?? 'run via npm test, or eval "$(bash scripts/services.sh env)" first'})`);
  return v;
}
