import { describe, expect, it } from 'vitest';
import { checkRiskLimits, RiskError, type RiskLimits } from './risk-limits.js';

/** The RiskError `checkRiskLimits(limits)` throws (fails the test when it throws nothing). */
function errorOf(limits: RiskLimits): RiskError {
  try {
    checkRiskLimits(limits);
  } catch (e) {
    expect(e).toBeInstanceOf(RiskError);
    return e as RiskError;
  }
  throw new Error(`no error for ${JSON.stringify(limits)}`);
}

describe('checkRiskLimits', () => {
  it('accepts no limits, every limit at its bounds, and null for maxDrawdown', () => {
    expect(() => checkRiskLimits({})).not.toThrow();
    expect(() => checkRiskLimits({ maxDrawdown: null })).not.toThrow();
    const all: RiskLimits = { maxOrderNotional: 0.01, maxInstrumentNotional: 1e12, maxLeverage: 100, maxDailyLoss: 1, maxDrawdown: 1, drawdownState: 'HALTED', throttle: { maxOrders: 1, windowMs: 1 } };
    expect(() => checkRiskLimits(all)).not.toThrow();
    expect(() => checkRiskLimits({ drawdownState: 'REDUCING', throttle: { maxOrders: 10, windowMs: 0.5 } })).not.toThrow();
  });

  it('every positive limit: the error names the field and the value (fractions also their upper bound 1)', () => {
    const cases: [RiskLimits, string, string, unknown][] = [
      [{ maxOrderNotional: 0 }, 'maxOrderNotional', 'risk.maxOrderNotional must be a number > 0, was 0', 0],
      [{ maxInstrumentNotional: -5 }, 'maxInstrumentNotional', 'risk.maxInstrumentNotional must be a number > 0, was -5', -5],
      [{ maxLeverage: NaN }, 'maxLeverage', 'risk.maxLeverage must be a number > 0, was NaN', NaN],
      [{ maxDailyLoss: 1.01 }, 'maxDailyLoss', 'risk.maxDailyLoss must be a number > 0 and <= 1, was 1.01', 1.01],
      [{ maxDailyLoss: 0 }, 'maxDailyLoss', 'risk.maxDailyLoss must be a number > 0 and <= 1, was 0', 0],
      [{ maxDrawdown: 2 }, 'maxDrawdown', 'risk.maxDrawdown must be a number > 0 and <= 1, was 2', 2],
      [{ throttle: { maxOrders: 5, windowMs: 0 } }, 'throttle.windowMs', 'risk.throttle.windowMs must be a number > 0, was 0', 0],
    ];
    for (const [limits, field, message, value] of cases) {
      const e = errorOf(limits);
      expect(e.code).toBe('invalid_risk_limits');
      expect(e.message).toBe(message);
      expect(e.context).toEqual({ field, value });
    }
  });

  it('drawdownState must be REDUCING or HALTED', () => {
    const e = errorOf({ drawdownState: 'ACTIVE' as unknown as 'HALTED' });
    expect([e.code, e.message]).toEqual(['invalid_risk_limits', 'risk.drawdownState must be REDUCING or HALTED, was "ACTIVE"']);
    expect(e.context).toEqual({ field: 'drawdownState', value: 'ACTIVE' });
  });

  it('throttle.maxOrders must be an integer >= 1', () => {
    for (const maxOrders of [0, -1, 1.5, NaN]) {
      const e = errorOf({ throttle: { maxOrders, windowMs: 1000 } });
      expect([e.code, e.message]).toEqual(['invalid_risk_limits', `risk.throttle.maxOrders must be an integer >= 1, was ${maxOrders}`]);
      expect(e.context).toEqual({ field: 'throttle.maxOrders', value: maxOrders });
    }
  });
});
