/**
 * Monitoring settings of a runner: where `/metrics`, `/healthz`, `/readyz` listen, the log level and the runner name
 * on every log line and in `trade_matrix_runner_info`. Parsed once by the composition root from the environment
 * ({@link MONITORING_ENV}); deploy/k8s and docker/ set these names and are checked against {@link MONITORING_DEFAULTS}.
 */
import { z } from 'zod';
import { AppError } from '../core/app-error.js';
import { describeConfigIssue } from '../core/config-issues.js';
import type { Result } from '../core/result.js';
import { LOG_LEVELS } from './logger.js';

export const MONITORING_ENV = Object.freeze({
  metricsHost: 'TM_METRICS_HOST',
  metricsPort: 'TM_METRICS_PORT',
  logLevel: 'TM_LOG_LEVEL',
  runner: 'TM_RUNNER_NAME',
});

export const MONITORING_DEFAULTS = Object.freeze({
  /** Loopback by default; a container sets 0.0.0.0 so the kubelet and Prometheus reach it. */
  metricsHost: '127.0.0.1',
  /** The OpenTelemetry/Prometheus exporter convention; docker-compose.yml publishes it as TM_METRICS_PORT. */
  metricsPort: 9464,
  logLevel: 'info' as (typeof LOG_LEVELS)[number],
  runner: 'trade-matrix',
});

export const MonitoringConfig = z
  .object({
    metricsHost: z.string().min(1).default(MONITORING_DEFAULTS.metricsHost),
    metricsPort: z.coerce.number().int().min(0).max(65_535).default(MONITORING_DEFAULTS.metricsPort),
    logLevel: z.enum(LOG_LEVELS).default(MONITORING_DEFAULTS.logLevel),
    runner: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes (it is a metric label)').default(MONITORING_DEFAULTS.runner),
  })
  .strict();
export type MonitoringConfig = z.infer<typeof MonitoringConfig>;

/** Reads {@link MONITORING_ENV} from `env` (unset or empty = default). */
export function monitoringConfigFromEnv(env: Readonly<Record<string, string | undefined>>): Result<MonitoringConfig, AppError<'invalid_monitoring_config'>> {
  const raw = Object.fromEntries(Object.entries(MONITORING_ENV).flatMap(([key, name]) => (env[name] ? [[key, env[name]]] : [])));
  const parsed = MonitoringConfig.safeParse(raw);
  if (parsed.success) return { success: true, data: parsed.data };
  return { success: false, error: new AppError('invalid_monitoring_config', `monitoring environment: ${parsed.error.issues.map((i) => { const d = describeConfigIssue(i, raw); return `${MONITORING_ENV[d.path.slice(2) as keyof typeof MONITORING_ENV] ?? d.path}: ${d.problem}`; }).join('; ')}`, { env: raw }) };
}
