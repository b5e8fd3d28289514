import { describe, expect, it } from 'vitest';
import { MONITORING_DEFAULTS, monitoringConfigFromEnv } from './monitoring-config.js';

describe('monitoringConfigFromEnv', () => {
  it('defaults when nothing is set, values from TM_* otherwise', () => {
    expect(monitoringConfigFromEnv({})).toEqual({ success: true, data: { ...MONITORING_DEFAULTS } });
    expect(monitoringConfigFromEnv({ TM_METRICS_PORT: '9500', TM_METRICS_HOST: '0.0.0.0', TM_LOG_LEVEL: 'debug', TM_RUNNER_NAME: 'paper-1' })).toEqual({
      success: true,
      data: { metricsPort: 9500, metricsHost: '0.0.0.0', logLevel: 'debug', runner: 'paper-1' },
    });
  });

  it('names the variable, the rule and the value', () => {
    const r = monitoringConfigFromEnv({ TM_METRICS_PORT: '70000', TM_LOG_LEVEL: 'loud' });
    expect(r.success).toBe(false);
    if (r.success) return;
    expect(r.error.code).toBe('invalid_monitoring_config');
    expect(r.error.message).toMatch(/TM_METRICS_PORT: .*, was "70000"/);
    expect(r.error.message).toMatch(/TM_LOG_LEVEL: .*, was "loud"/);
  });
});
