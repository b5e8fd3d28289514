/**
 * StrykerJS mutants of sizing-cascade.ts these tests leave alive (`TM_MUTATION_TESTS='src/sizing/{kelly,sizing-cascade}.test.ts'`),
 * all equivalent:
 * - isValidProposal's `typeof rl === 'object'` → `true`: for the strings 'failed' / 'not_configured',
 *   `Number.isFinite(rl.fraction)` is `Number.isFinite(undefined)` = false anyway.
 * - `changes`: `if (this.total <= n)` → `if (false)` or `<`: the ring grows by push until it is full, so
 *   total <= ring.length only when they are equal, and then start = total % n = 0 copies the ring in the same order.
 * - record's `if (this.ring.length < CHANGE_LOG_LIMIT)` → `if (false)`: before the ring is full its length equals
 *   `total`, so `ring[total % LIMIT] = change` appends exactly as `push` does.
 */
import { describe, expect, it } from 'vitest';
import { unwrap } from '../core/result.js';
import type { BreakerState } from './circuit-breaker.js';
import { parseRiskConfig, type RiskConfigInput } from './risk-config.js';
import { CHANGE_LOG_LIMIT, describeTier, selectTier, SizingCascade, tierOf, type RlOutcome, type TierChange } from './sizing-cascade.js';

class FakeClock {
  constructor(public t = 0) {}
  now(): number {
    return this.t;
  }
}

/** The adjacent doubles of x: the tightest "just below" / "just above" there is. */
function nextDown(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + (x > 0 ? -1n : 1n));
  return view.getFloat64(0);
}
function nextUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + (x >= 0 ? 1n : -1n));
  return view.getFloat64(0);
}

const config = unwrap(parseRiskConfig({})).cascade;
const rl = (confidence: number, fraction = 0.8): RlOutcome => ({ fraction, confidence });

function make(cascade: RiskConfigInput['cascade'] = {}) {
  const clock = new FakeClock(5000);
  const heard: TierChange[] = [];
  const c = new SizingCascade(unwrap(parseRiskConfig({ cascade })).cascade, { clock, onTierChange: (e) => heard.push(e) });
  return { c, clock, heard };
}

describe('selectTier: thresholds at the boundaries (defaults FULL_RL 0.50 / 0.05, BLENDED 0.30 / 0.02)', () => {
  const tier = (confidence: number, ic: number, breaker: BreakerState = 'closed') => selectTier(rl(confidence), ic, breaker, config);

  it('nextDown / nextUp give the adjacent doubles', () => {
    expect(nextDown(0.5)).toBeLessThan(0.5);
    expect(nextUp(0.5)).toBeGreaterThan(0.5);
    expect(nextDown(0.5)).toBe(0.5 - 2 ** -54); // one ulp below 0.5
    expect(nextUp(nextDown(0.05))).toBe(0.05);
  });

  it('FULL_RL exactly at confidence 0.50 and IC 0.05 (inclusive)', () => {
    expect(tier(0.5, 0.05)).toBe('rl_confident');
  });

  it('FULL_RL just above both thresholds', () => {
    expect(tier(nextUp(0.5), nextUp(0.05))).toBe('rl_confident');
    expect(tier(1, 1)).toBe('rl_confident');
  });

  it('BLENDED just below the FULL_RL confidence or IC', () => {
    expect(tier(nextDown(0.5), 0.05)).toBe('rl_medium');
    expect(tier(0.5, nextDown(0.05))).toBe('rl_medium');
    expect(tier(nextDown(0.5), nextDown(0.05))).toBe('rl_medium');
  });

  it('BLENDED exactly at confidence 0.30 and IC 0.02, and just above', () => {
    expect(tier(0.3, 0.02)).toBe('rl_medium');
    expect(tier(nextUp(0.3), nextUp(0.02))).toBe('rl_medium');
    // high confidence but medium IC is BLENDED too
    expect(tier(0.9, 0.02)).toBe('rl_medium');
  });

  it('PURE_KELLY just below the BLENDED confidence or IC', () => {
    expect(tier(nextDown(0.3), 0.02)).toBe('low_confidence');
    expect(tier(0.3, nextDown(0.02))).toBe('low_ic');
    expect(tier(nextDown(0.3), nextDown(0.02))).toBe('low_confidence');
    expect(tier(0.9, nextDown(0.02))).toBe('low_ic');
    expect(tier(0, 0.9)).toBe('low_confidence');
  });

  it('a NaN IC (warming up) passes no threshold; a negative IC fails', () => {
    expect(tier(1, Number.NaN)).toBe('low_ic');
    expect(tier(1, -0.3)).toBe('low_ic');
  });

  it('no RL sizer → PURE_KELLY whatever the IC; an invalid proposal → PURE_KELLY (rl_failed)', () => {
    expect(selectTier('not_configured', 1, 'closed', config)).toBe('no_rl_sizer');
    expect(selectTier('failed', 1, 'closed', config)).toBe('rl_failed');
    expect(selectTier({ fraction: Number.NaN, confidence: 0.9 }, 1, 'closed', config)).toBe('rl_failed');
    expect(selectTier({ fraction: 0.5, confidence: 1.01 }, 1, 'closed', config)).toBe('rl_failed');
    expect(selectTier({ fraction: 0.5, confidence: Number.NaN }, 1, 'closed', config)).toBe('rl_failed');
    expect(selectTier({ fraction: 0.5, confidence: -0.1 }, 1, 'closed', config)).toBe('rl_failed');
  });

  it('the breaker decides first: open and half-open → EMERGENCY_FLAT (PROBE with a probe scale > 0) even with a confident RL and a high IC', () => {
    expect(tier(1, 1, 'open')).toBe('breaker_open');
    expect(tier(1, 1, 'half-open')).toBe('breaker_half_open');
    const probing = unwrap(parseRiskConfig({ cascade: { halfOpenProbeScale: 0.25 } })).cascade;
    expect(selectTier(rl(1), 1, 'half-open', probing)).toBe('breaker_probe');
    expect(selectTier(rl(1), 1, 'open', probing)).toBe('breaker_open');
    expect(tierOf('breaker_half_open')).toBe('EMERGENCY_FLAT');
    expect(tierOf('breaker_probe')).toBe('PROBE');
    expect(selectTier('not_configured', Number.NaN, 'open', config)).toBe('breaker_open');
  });

  it('thresholds are configurable, boundaries stay inclusive', () => {
    const custom = unwrap(parseRiskConfig({ cascade: { fullRl: { minConfidence: 0.7, minIc: 0.1 }, blended: { minConfidence: 0.4, minIc: 0.03 } } })).cascade;
    expect(selectTier(rl(0.7), 0.1, 'closed', custom)).toBe('rl_confident');
    expect(selectTier(rl(nextDown(0.7)), 0.1, 'closed', custom)).toBe('rl_medium');
    expect(selectTier(rl(0.7), nextDown(0.1), 'closed', custom)).toBe('rl_medium');
    expect(selectTier(rl(0.4), 0.03, 'closed', custom)).toBe('rl_medium');
    expect(selectTier(rl(nextDown(0.4)), 0.03, 'closed', custom)).toBe('low_confidence');
    expect(selectTier(rl(0.4), nextDown(0.03), 'closed', custom)).toBe('low_ic');
    expect(selectTier(rl(0.5), 0.05, 'closed', custom)).toBe('rl_medium'); // FULL_RL under the defaults
  });
});

describe('SizingCascade.decide: fractions per tier', () => {
  it('FULL_RL: the RL fraction', () => {
    const { c } = make();
    expect(c.decide(0.2, rl(0.5, 0.8), 0.05, 'closed')).toEqual({ tier: 'FULL_RL', code: 'rl_confident', fraction: 0.8, probe: false });
  });

  it('BLENDED: 0.5 · RL + 0.5 · Kelly = 0.5 · 0.8 + 0.5 · 0.2 = 0.5; rlWeight configurable (0.25 → 0.35)', () => {
    expect(make().c.decide(0.2, rl(0.3, 0.8), 0.02, 'closed')).toEqual({ tier: 'BLENDED', code: 'rl_medium', fraction: 0.5, probe: false });
    expect(make({ blended: { rlWeight: 0.25 } }).c.decide(0.2, rl(0.3, 0.8), 0.02, 'closed').fraction).toBeCloseTo(0.35, 15);
  });

  it('PURE_KELLY: the Kelly fraction', () => {
    expect(make().c.decide(0.2, rl(0.1, 0.8), 0.5, 'closed')).toEqual({ tier: 'PURE_KELLY', code: 'low_confidence', fraction: 0.2, probe: false });
    expect(make().c.decide(-0.3, 'not_configured', 0.5, 'closed')).toEqual({ tier: 'PURE_KELLY', code: 'no_rl_sizer', fraction: -0.3, probe: false });
  });

  it('EMERGENCY_FLAT is flat: 0 when open and, by default (halfOpenProbeScale 0), when half-open', () => {
    expect(make().c.decide(0.4, rl(1), 1, 'open')).toEqual({ tier: 'EMERGENCY_FLAT', code: 'breaker_open', fraction: 0, probe: false });
    expect(make().c.decide(0.4, rl(1), 1, 'half-open')).toEqual({ tier: 'EMERGENCY_FLAT', code: 'breaker_half_open', fraction: 0, probe: false });
    expect(make().c.decide(-0.4, 'not_configured', Number.NaN, 'half-open').fraction).toBe(0);
  });

  it('PROBE: with halfOpenProbeScale 0.25 the half-open breaker holds Kelly × 0.25 (0.4 → 0.1) as its own tier; open stays flat', () => {
    const { c } = make({ halfOpenProbeScale: 0.25 });
    expect(c.decide(0.4, rl(1), 1, 'half-open')).toEqual({ tier: 'PROBE', code: 'breaker_probe', fraction: 0.1, probe: true });
    expect(c.decide(0.4, rl(1), 1, 'open')).toEqual({ tier: 'EMERGENCY_FLAT', code: 'breaker_open', fraction: 0, probe: false });
  });
});

describe('SizingCascade: tier-change events', () => {
  it('emits an event only when the tier changes; the first decision is a change from null', () => {
    const { c, clock, heard } = make();
    c.decide(0.2, rl(0.6), 0.06, 'closed'); // FULL_RL
    clock.t += 1000;
    c.decide(0.2, rl(0.7), 0.08, 'closed'); // FULL_RL again: no event
    clock.t += 1000;
    c.decide(0.2, rl(0.4), 0.03, 'closed'); // BLENDED
    clock.t += 1000;
    c.decide(0.2, rl(0.4), 0.01, 'closed'); // PURE_KELLY (low_ic)
    clock.t += 1000;
    c.decide(0.2, rl(0.1), 0.01, 'closed'); // PURE_KELLY (low_confidence): same tier, no event
    clock.t += 1000;
    c.decide(0.2, rl(0.9), 0.9, 'open'); // EMERGENCY_FLAT
    clock.t += 1000;
    c.decide(0.2, rl(0.9), 0.9, 'half-open'); // EMERGENCY_FLAT (half-open, no probe position): same tier
    clock.t += 1000;
    c.decide(0.2, rl(0.9), 0.9, 'closed'); // FULL_RL
    expect(c.changes.map((e) => [e.tsEvent, e.from, e.to, e.code])).toEqual([
      [5000, null, 'FULL_RL', 'rl_confident'],
      [7000, 'FULL_RL', 'BLENDED', 'rl_medium'],
      [8000, 'BLENDED', 'PURE_KELLY', 'low_ic'],
      [10_000, 'PURE_KELLY', 'EMERGENCY_FLAT', 'breaker_open'],
      [12_000, 'EMERGENCY_FLAT', 'FULL_RL', 'rl_confident'],
    ]);
    expect(heard).toEqual(c.changes);
    expect(c.tier).toBe('FULL_RL');
  });

  it('events are frozen and carry the inputs {confidence, ic, breakerState} and a reason with values and thresholds', () => {
    const { c } = make({ halfOpenProbeScale: 0.25 });
    c.decide(0.2, rl(0.5), 0.05, 'closed');
    c.decide(0.2, rl(0.45), 0.05, 'closed');
    c.decide(0.2, rl(0.29), Number.NaN, 'closed');
    c.decide(0.2, rl(0.9), 0.9, 'half-open');
    const [full, blended, kelly, probe] = c.changes;
    expect(full).toMatchObject({ inputs: { confidence: 0.5, ic: 0.05, breakerState: 'closed' }, reason: 'RL confidence 0.5 >= 0.5 and IC 0.05 >= 0.05' });
    expect(blended!.reason).toBe('RL confidence 0.45 >= 0.3 and IC 0.05 >= 0.02; below FULL_RL: RL confidence 0.45 < 0.5; 0.5 × RL + 0.5 × Kelly');
    expect(kelly!.reason).toBe('below BLENDED: RL confidence 0.29 < 0.3, IC unavailable (NaN: too few pairs or constant ranks)');
    expect(kelly!.inputs.ic).toBeNaN();
    expect(probe).toMatchObject({ to: 'PROBE', inputs: { confidence: 0.9, ic: 0.9, breakerState: 'half-open' }, reason: 'circuit breaker half-open: probe at 0.25 × the Kelly fraction' });
    const flat = make();
    flat.c.decide(0.2, rl(0.9), 0.9, 'half-open');
    expect(flat.c.changes[0]).toMatchObject({ to: 'EMERGENCY_FLAT', code: 'breaker_half_open', reason: 'circuit breaker half-open: flat until the probe passes (cascade.halfOpenProbeScale 0: no probe position)' });
    for (const e of c.changes) {
      expect(Object.isFrozen(e)).toBe(true);
      expect(Object.isFrozen(e.inputs)).toBe(true);
    }
  });

  it('without an RL sizer the tier reason says "no RL sizer configured" and confidence counts as 0', () => {
    const { c } = make();
    c.decide(0.1, 'not_configured', 0.9, 'closed');
    expect(c.changes[0]).toMatchObject({ from: null, to: 'PURE_KELLY', code: 'no_rl_sizer', inputs: { confidence: 0, ic: 0.9, breakerState: 'closed' } });
    expect(c.changes[0]!.reason).toContain('no RL sizer configured');
  });

  it('describeTier names the failing conditions', () => {
    const inputs = { confidence: 0.2, ic: 0.01, breakerState: 'closed' as const };
    expect(describeTier('low_confidence', inputs, config)).toBe('below BLENDED: RL confidence 0.2 < 0.3, IC 0.01 < 0.02');
    expect(describeTier('low_ic', { ...inputs, confidence: 0.9 }, config)).toBe('below BLENDED: IC 0.01 < 0.02');
    expect(describeTier('breaker_open', inputs, config)).toBe('circuit breaker open: flat');
    expect(describeTier('rl_failed', inputs, config, 'RL sizer sac-v1')).toMatch(/^RL sizer sac-v1 failed/);
    expect(describeTier('rl_failed', inputs, config)).toMatch(/^RL sizer failed \(threw/);
  });

  it('BLENDED names only the FULL_RL condition that fails: confidence exactly 0.5 passes, IC 0.03 < 0.05 does not', () => {
    expect(describeTier('rl_medium', { confidence: 0.5, ic: 0.03, breakerState: 'closed' }, config)).toBe(
      'RL confidence 0.5 >= 0.3 and IC 0.03 >= 0.02; below FULL_RL: IC 0.03 < 0.05; 0.5 × RL + 0.5 × Kelly',
    );
  });

  it('a failed RL sizer → PURE_KELLY at the Kelly fraction; without a listener or an rlName the change is kept and names "RL sizer"', () => {
    const c = new SizingCascade(config, { clock: new FakeClock(7) });
    expect(c.decide(0.1, 'failed', 0.9, 'closed')).toEqual({ tier: 'PURE_KELLY', code: 'rl_failed', fraction: 0.1, probe: false });
    expect(c.tier).toBe('PURE_KELLY');
    expect(c.changes).toHaveLength(1);
    expect(c.changes[0]!.reason).toMatch(/^RL sizer failed \(threw/);
    const named = new SizingCascade(config, { clock: new FakeClock(7), rlName: 'RL sizer sac-v2' });
    named.decide(0.1, 'failed', 0.9, 'closed');
    expect(named.changes[0]!.reason).toMatch(/^RL sizer sac-v2 failed/);
  });

  it('changes is a copy: changing the returned array leaves the log as it was', () => {
    const { c } = make();
    c.decide(0.1, 'not_configured', 0.9, 'closed');
    (c.changes as TierChange[]).pop();
    expect(c.changes).toHaveLength(1);
  });
});

describe('SizingCascade: the change log is bounded', () => {
  it(`keeps the last ${CHANGE_LOG_LIMIT} changes, oldest first, while the listener hears every one`, () => {
    const { c, clock, heard } = make();
    const flips = CHANGE_LOG_LIMIT + 2500;
    for (let i = 0; i < flips; i++) {
      clock.t = i;
      c.decide(0.1, rl(i % 2 === 0 ? 0.9 : 0.1), 0.1, 'closed'); // FULL_RL / PURE_KELLY alternately
    }
    expect(c.changeCount).toBe(flips);
    expect(heard).toHaveLength(flips);
    const kept = c.changes;
    expect(kept).toHaveLength(CHANGE_LOG_LIMIT);
    expect(kept[0]!.tsEvent).toBe(2500);
    expect(kept[CHANGE_LOG_LIMIT - 1]!.tsEvent).toBe(flips - 1);
    expect(kept.every((e, i) => i === 0 || e.tsEvent === kept[i - 1]!.tsEvent + 1)).toBe(true);
  });
});
