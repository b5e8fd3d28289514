import { describe, expect, it } from 'vitest';
import { unwrap } from '../core/result.js';
import { defaultRiskConfig, parseRiskConfig, RiskConfig } from './risk-config.js';
import { SizingError } from './sizing-error.js';

describe('RiskConfig', () => {
  it('{} parses to the documented defaults', () => {
    const parsed = parseRiskConfig({});
    expect(parsed.success).toBe(true);
    expect(parsed.success && parsed.data).toEqual({
      horizonBars: 1,
      kelly: { maxFraction: 1, maxLeverage: 1, regimeFractionMode: 'weighted', regimeReturnScale: 1 },
      regimeFractions: { crisis: 0.17, bear: 0.25, neutral: 0.5, bull: 0.67 },
      ic: { window: 200, minPairs: 30 },
      cascade: { fullRl: { minConfidence: 0.5, minIc: 0.05 }, blended: { minConfidence: 0.3, minIc: 0.02, rlWeight: 0.5 }, halfOpenProbeScale: 0 },
      breaker: {
        cooldownMs: 3_600_000,
        probe: { bars: 1, failOnLosingTrade: true },
        drawdown: { enabled: true, limit: 0.1 },
        consecutiveLosses: { enabled: true, limit: 5 },
        staleData: { enabled: true, maxGapBars: 2 },
        modelErrors: { enabled: true, count: 3, windowMs: 600_000 },
        exchangeErrors: { enabled: true, count: 5, windowMs: 300_000 },
      },
    });
    expect(defaultRiskConfig()).toEqual(RiskConfig.parse({}));
  });

  it('is deep-frozen after parsing', () => {
    const config = defaultRiskConfig();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.breaker.drawdown)).toBe(true);
    expect(Object.isFrozen(config.cascade.fullRl)).toBe(true);
  });

  it('a partial section keeps the defaults of its other keys', () => {
    const parsed = parseRiskConfig({ breaker: { drawdown: { limit: 0.15 }, staleData: { enabled: false } }, regimeFractions: { crisis: 0 } });
    if (!parsed.success) throw parsed.error;
    expect(parsed.data.breaker.drawdown).toEqual({ enabled: true, limit: 0.15 });
    expect(parsed.data.breaker.staleData).toEqual({ enabled: false, maxGapBars: 2 });
    expect(parsed.data.breaker.cooldownMs).toBe(3_600_000);
    expect(parsed.data.regimeFractions).toEqual({ crisis: 0, bear: 0.25, neutral: 0.5, bull: 0.67 });
  });

  it('unknown keys fail at every level (strict), naming the path', () => {
    for (const [raw, path] of [
      [{ kely: {} }, '$.kely'],
      [{ kelly: { maxFraktion: 2 } }, '$.kelly.maxFraktion'],
      [{ breaker: { drawdown: { limit: 0.1, pct: 1 } } }, '$.breaker.drawdown.pct'],
      [{ cascade: { fullRl: { minConf: 0.5 } } }, '$.cascade.fullRl.minConf'],
    ] as const) {
      const parsed = parseRiskConfig(raw);
      expect(parsed.success).toBe(false);
      if (parsed.success) continue;
      expect(parsed.error).toBeInstanceOf(SizingError);
      expect(parsed.error.code).toBe('invalid_config');
      expect(parsed.error.context['path']).toBe(path);
      expect(parsed.error.message).toMatch(/unknown key/);
    }
  });

  it('several problems: the first is named and the others counted', () => {
    const parsed = parseRiskConfig({ horizonBars: 0, kelly: { maxLeverage: 101 }, breaker: { consecutiveLosses: { limit: 10_001 } } });
    expect(!parsed.success && parsed.error.message).toMatch(/^risk config \$\.horizonBars: .* \(and 2 more\)$/);
    expect(parseRiskConfig({ kelly: { maxFraction: 100, maxLeverage: 100 }, breaker: { consecutiveLosses: { limit: 10_000 } } }).success).toBe(true);
    expect(parseRiskConfig({ kelly: { maxFraction: 100.5 } }).success).toBe(false);
    expect(parseRiskConfig({ breaker: { consecutiveLosses: { limit: 2 } } }).success).toBe(true);
  });

  it('out-of-range values fail with the path and the actual value', () => {
    const parsed = parseRiskConfig({ regimeFractions: { bull: 1.5 } });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.message).toMatch(/^risk config \$\.regimeFractions\.bull: .*, was 1\.5$/);
    expect(parseRiskConfig({ kelly: { maxFraction: 0 } }).success).toBe(false);
    expect(parseRiskConfig({ breaker: { drawdown: { limit: 0 } } }).success).toBe(false);
    expect(parseRiskConfig({ breaker: { modelErrors: { count: 0 } } }).success).toBe(false);
    expect(parseRiskConfig({ horizonBars: 1.5 }).success).toBe(false);
    expect(parseRiskConfig({ kelly: { regimeFractionMode: 'max' } }).success).toBe(false);
  });

  it('both regime fraction modes can be written out (the default is weighted)', () => {
    for (const mode of ['weighted', 'argmax'] as const) expect(unwrap(parseRiskConfig({ kelly: { regimeFractionMode: mode } })).kelly.regimeFractionMode).toBe(mode);
  });

  it('BLENDED thresholds may not exceed FULL_RL thresholds; minPairs may not exceed the window', () => {
    const a = parseRiskConfig({ cascade: { blended: { minConfidence: 0.6 } } });
    expect(!a.success && a.error.context['path']).toBe('$.cascade.blended.minConfidence');
    const b = parseRiskConfig({ cascade: { fullRl: { minIc: 0.01 } } });
    expect(!b.success && b.error.context['path']).toBe('$.cascade.blended.minIc');
    const c = parseRiskConfig({ ic: { window: 20 } });
    expect(!c.success && c.error.context['path']).toBe('$.ic.minPairs');
    expect(parseRiskConfig({ ic: { window: 20, minPairs: 20 } }).success).toBe(true);
    expect(parseRiskConfig({ cascade: { blended: { minConfidence: 0.5, minIc: 0.05 } } }).success).toBe(true);
    expect(!a.success && a.error.message).toMatch(/must be <= cascade\.fullRl\.minConfidence/);
    expect(!b.success && b.error.message).toMatch(/must be <= cascade\.fullRl\.minIc/);
    expect(!c.success && c.error.message).toMatch(/must be <= ic\.window/);
  });
});
