import { describe, expect, it } from 'vitest';
import { MONITORING_DEFAULTS, monitoringConfigFromEnv } from './monitoring-config.js';

describe('monitoringConfigFromEnv', () => {
  it('defaults when nothing is set, values from TM_* otherwise', () => {
    expect(monitoringConfigFromEnv({})).toEqual({ success: true, data: { ...MONITORING_DEFAULTS } });
    // The defaults themselves: loopback, the exporter port, info, and a runner name that is a valid label.
    expect(MONITORING_DEFAULTS).toEqual({ metricsHost: '127.0.0.1', metricsPort: 9464, logLevel: 'info', runner: 'trade-matrix' });
    expect(monitoringConfigFromEnv({ TM_METRICS_HOST: '', TM_RUNNER_NAME: '' })).toEqual({ success: true, data: { ...MONITORING_DEFAULTS } });
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
    // One message, the variables in declaration order, separated by '; '; the context holds what was read.
    expect(r.error.message).toMatch(/^monitoring environment: TM_METRICS_PORT: [^;]*; TM_LOG_LEVEL: [^;]*$/);
    expect(r.error.context).toEqual({ env: { metricsPort: '70000', logLevel: 'loud' } });
  });
});
