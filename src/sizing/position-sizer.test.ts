/**
 * StrykerJS mutants of position-sizer.ts these tests leave alive (`TM_MUTATION_TESTS='src/sizing/**\/*.test.ts'`, run of
 * 2026-12-01: 79 killed, 7 survived before the tests for them; 2 are killed since), all equivalent:
 * - `(breakerState === 'closed' || rlSizer.observe !== undefined)` → `true`: with the breaker not closed and no
 *   observe(), the block only builds the RL state (pure) and neither observes nor proposes.
 * - the catch's `if (breakerState === 'closed') rl = 'failed'` → `if (true)`, and `'failed'` → `""` (2): the cascade
 *   decides by the breaker before it looks at the RL outcome when the breaker is not closed, any outcome that is not an
 *   object or 'not_configured' is a failed proposal, and the tier change records confidence 0 for every string.
 * - the leverage clamp `>` → `>=` and `<` → `<=` (2): at exactly ±limit both branches give the same value.
 */
import { describe, expect, it } from 'vitest';
import { BYBIT_LINEAR_PERPETUALS } from '../core/instrument.js';
import { normalDraw, seededRandom } from '../core/random.js';
import { unwrap } from '../core/result.js';
import { makeMsGarchModel } from '../regime/ms-garch-model.js';
import { RegimeFilter } from '../regime/regime-filter.js';
import type { RegimeLabel } from '../regime/regime-labels.js';
import { simulateMsGarch } from '../regime/simulate-ms-garch.js';
import { kellyPosition, regimeFraction } from './kelly.js';
import { createPositionSizer, type SizingDecision } from './position-sizer.js';
import { horizonVariance, RegimeForecast, type RegimeState } from './regime-forecast.js';
import { parseRiskConfig, type RiskConfigInput } from './risk-config.js';
import type { RlProposal, RlSizer, RlSizerState } from './rl-sizer.js';
import { RollingIc } from './rolling-ic.js';

class FakeClock {
  constructor(public t = 0) {}
  now(): number {
    return this.t;
  }
}

const BTC = BYBIT_LINEAR_PERPETUALS['BTCUSDT']!;
const BAR = 3_600_000;
const FOUR: RegimeLabel[] = ['crisis', 'bear', 'neutral', 'bull'];
/** Certainly bull next bar, next-bar variance 1e-4 (1% per bar). */
const BULL: RegimeState = { filtered: [0, 0, 0, 1], forecast: [0, 0, 0, 1], nextVariance: [9e-4, 4e-4, 1e-4, 1e-4], labels: FOUR };

/** An RL sizer answering from a script (or throwing), recording what it saw. */
class ScriptedRlSizer implements RlSizer {
  readonly name = 'scripted';
  readonly seen: RlSizerState[] = [];
  constructor(private readonly answer: (state: RlSizerState) => RlProposal) {}
  propose(state: RlSizerState): RlProposal {
    this.seen.push(state);
    return this.answer(state);
  }
}

function make(risk: RiskConfigInput = {}, rlSizer?: RlSizer) {
  const clock = new FakeClock(1_000_000);
  const config = unwrap(parseRiskConfig(risk));
  const sizer = createPositionSizer(config, { clock, instrument: BTC, barMs: BAR, ...(rlSizer ? { rlSizer } : {}) });
  return { clock, sizer, config };
}

const input = { edge: 2e-5, regime: BULL, ic: 0.06, signalConfidence: 0.7, equity: 10_000, price: 25_000 };

describe('PositionSizer: one full decision (hand-computed)', () => {
  it('PURE_KELLY without an RL sizer: 2e-5 / 1e-4 = 0.2 × bull 0.67 = 0.134 → 1,340 / 25,000 = 0.0536 → 0.053 BTC', () => {
    const { sizer } = make();
    const d = sizer.decide(input);
    expect(d).toMatchObject({ tsEvent: 1_000_000, tier: 'PURE_KELLY', code: 'no_rl_sizer', breakerState: 'closed', regimeFraction: 0.67, rl: null, probe: false });
    expect(d.variance).toBeCloseTo(1e-4, 18);
    expect(d.kellyFraction).toBeCloseTo(0.134, 14);
    expect(d.fraction).toBe(d.kellyFraction);
    expect(d.quantity).toMatchObject({ targetQuantity: 0.053, orderQuantity: 0.053, reason: 'ok' });
    expect(sizer.cascade.changes[0]!.reason).toContain('no RL sizer configured');
  });

  it('uses the horizon: H = 4 → σ² = 4e-4, so an 8e-5 edge gives the same 0.134', () => {
    const { sizer } = make({ horizonBars: 4 });
    const d = sizer.decide({ ...input, edge: 8e-5 });
    expect(d.variance).toBeCloseTo(4e-4, 18);
    expect(d.kellyFraction).toBeCloseTo(0.134, 14);
  });

  it('argmax vs weighted regime fraction on a split regime: 0.5 bear + 0.5 bull', () => {
    const split: RegimeState = { ...BULL, filtered: [0, 0.5, 0, 0.5] };
    // weighted 0.5 · 0.25 + 0.5 · 0.67 = 0.46; argmax (tie → lower index, bear) 0.25
    expect(make().sizer.decide({ ...input, regime: split }).regimeFraction).toBeCloseTo(0.46, 15);
    expect(make({ kelly: { regimeFractionMode: 'argmax' } }).sizer.decide({ ...input, regime: split }).regimeFraction).toBe(0.25);
  });

  it('a NaN edge (no prediction) sizes 0 and closes the position', () => {
    const d = make().sizer.decide({ ...input, edge: Number.NaN, currentQuantity: 0.05 });
    expect(d.kellyFraction).toBe(0);
    expect(d.quantity).toMatchObject({ targetQuantity: 0, orderQuantity: -0.05, reason: 'zero_fraction' });
  });

  it('FULL_RL follows the RL fraction, capped at kelly.maxLeverage (1.5 → 1 → 0.4 BTC)', () => {
    const rl = new ScriptedRlSizer(() => ({ fraction: 1.5, confidence: 0.9 }));
    const d = make({}, rl).sizer.decide({ ...input, currentQuantity: 0.1 });
    expect(d).toMatchObject({ tier: 'FULL_RL', fraction: 1, rl: { fraction: 1.5, confidence: 0.9 } });
    expect(d.quantity).toMatchObject({ targetQuantity: 0.4, reason: 'ok' });
    expect(d.quantity.orderQuantity).toBeCloseTo(0.3, 15);
    // the RL sizer saw the Kelly fraction, the regime and the current fraction 0.1 × 25,000 / 10,000 = 0.25
    expect(rl.seen[0]).toMatchObject({ tsEvent: 1_000_000, edge: 2e-5, ic: 0.06, signalConfidence: 0.7, equity: 10_000, price: 25_000, currentFraction: 0.25, breakerState: 'closed' });
    expect(rl.seen[0]!.kellyFraction).toBeCloseTo(0.134, 14);
  });

  it('BLENDED: 0.5 · 0.6 + 0.5 · 0.134 = 0.367', () => {
    const d = make({}, new ScriptedRlSizer(() => ({ fraction: 0.6, confidence: 0.4 }))).sizer.decide(input);
    expect(d.tier).toBe('BLENDED');
    expect(d.fraction).toBeCloseTo(0.367, 14);
  });

  it('a throwing RL sizer → PURE_KELLY (rl_failed) and a model error; the 3rd within 10 min opens the breaker', () => {
    const rl = new ScriptedRlSizer(() => {
      throw new Error('onnx session died');
    });
    const { sizer, clock } = make({}, rl);
    const decisions: SizingDecision[] = [];
    for (let i = 0; i < 4; i++) {
      decisions.push(sizer.decide(input));
      clock.t += 60_000;
    }
    expect(decisions.map((d) => d.code)).toEqual(['rl_failed', 'rl_failed', 'rl_failed', 'breaker_open']);
    expect(decisions[0]!.fraction).toBeCloseTo(0.134, 14);
    expect(decisions[3]).toMatchObject({ tier: 'EMERGENCY_FLAT', fraction: 0, breakerState: 'open' });
    expect(sizer.breaker.transitions[0]).toMatchObject({ cause: 'model_errors' });
    // the RL sizer is not asked while the breaker is open
    expect(rl.seen).toHaveLength(3);
  });

  it('an RL sizer with observe() sees every decision, also while the breaker is open; propose only while closed', () => {
    const observed: string[] = [];
    const rl: RlSizer = {
      name: 'observing',
      observe: (state) => void observed.push(state.breakerState),
      propose: () => {
        throw new Error('model down');
      },
    };
    const { sizer, clock } = make({}, rl);
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      codes.push(sizer.decide(input).code);
      clock.t += 60_000;
    }
    expect(codes).toEqual(['rl_failed', 'rl_failed', 'rl_failed', 'breaker_open', 'breaker_open']);
    expect(observed).toEqual(['closed', 'closed', 'closed', 'open', 'open']);
  });

  it('decisions that are not rl_failed report no model error: 5 within 10 min leave the breaker closed', () => {
    for (const rl of [undefined, new ScriptedRlSizer(() => ({ fraction: 0.5, confidence: 0.9 }))]) {
      const { sizer, clock } = make({}, rl);
      const codes: string[] = [];
      for (let i = 0; i < 5; i++) {
        codes.push(sizer.decide(input).code);
        clock.t += 60_000;
      }
      expect(codes).toEqual(new Array(5).fill(rl ? 'rl_confident' : 'no_rl_sizer'));
      expect(sizer.breaker.transitions).toEqual([]);
    }
  });

  it('while the breaker is open an observing RL sizer is not asked to propose, and no proposal is reported', () => {
    let proposals = 0;
    const rl: RlSizer = {
      name: 'observing',
      observe: () => undefined,
      propose: () => (proposals++, { fraction: 0.5, confidence: 0.9 }),
    };
    const { sizer } = make({}, rl);
    expect(sizer.decide(input)).toMatchObject({ code: 'rl_confident', rl: { fraction: 0.5, confidence: 0.9 } });
    sizer.breaker.trip('x');
    expect(sizer.decide(input)).toMatchObject({ code: 'breaker_open', rl: null, fraction: 0 });
    expect(proposals).toBe(1);
  });

  it('an invalid RL proposal (confidence 2) counts as a failure too', () => {
    const d = make({}, new ScriptedRlSizer(() => ({ fraction: 0.5, confidence: 2 }))).sizer.decide(input);
    expect(d).toMatchObject({ code: 'rl_failed', rl: null });
  });

  it('half-open by default: EMERGENCY_FLAT, target 0 BTC (no probe position); closed again after a clean bar', () => {
    const { sizer, clock } = make();
    sizer.breaker.onBar(10_000);
    sizer.breaker.trip('test');
    expect(sizer.decide({ ...input, currentQuantity: 0.05 })).toMatchObject({ tier: 'EMERGENCY_FLAT', fraction: 0, probe: false, quantity: { targetQuantity: 0 } });
    clock.t += BAR;
    sizer.breaker.onBar(10_000);
    expect(sizer.decide({ ...input, currentQuantity: 0 })).toMatchObject({ tier: 'EMERGENCY_FLAT', code: 'breaker_half_open', breakerState: 'half-open', fraction: 0, probe: false, quantity: { targetQuantity: 0 } });
    clock.t += BAR;
    sizer.breaker.onBar(10_000);
    expect(sizer.decide(input)).toMatchObject({ tier: 'PURE_KELLY', breakerState: 'closed' });
    expect(sizer.cascade.changes.map((c) => c.to)).toEqual(['EMERGENCY_FLAT', 'PURE_KELLY']);
  });

  it('half-open with halfOpenProbeScale 0.25: the PROBE tier, Kelly × 0.25 = 0.0335 → 0.013 BTC; closed again after a clean bar', () => {
    const { sizer, clock } = make({ cascade: { halfOpenProbeScale: 0.25 } });
    sizer.breaker.onBar(10_000);
    sizer.breaker.trip('test');
    expect(sizer.decide(input)).toMatchObject({ tier: 'EMERGENCY_FLAT', fraction: 0, probe: false });
    clock.t += BAR; // exactly the 1 h cooldown
    sizer.breaker.onBar(10_000);
    const probe = sizer.decide(input);
    expect(probe).toMatchObject({ tier: 'PROBE', code: 'breaker_probe', breakerState: 'half-open', probe: true });
    expect(probe.fraction).toBeCloseTo(0.0335, 15);
    expect(probe.quantity.targetQuantity).toBe(0.013);
    clock.t += BAR;
    sizer.breaker.onBar(10_000);
    expect(sizer.decide(input)).toMatchObject({ tier: 'PURE_KELLY', breakerState: 'closed' });
    expect(sizer.cascade.changes.map((c) => c.to)).toEqual(['EMERGENCY_FLAT', 'PROBE', 'PURE_KELLY']);
  });
});

describe('PositionSizer: RL state, caps, inputs and listeners', () => {
  it('rlState is the state decide hands the RL sizer, at the clock time; current fraction 0 when equity is 0', () => {
    const rl = new ScriptedRlSizer(() => ({ fraction: 0.2, confidence: 0.9 }));
    const { sizer, clock } = make({}, rl);
    clock.t = 2_000_000;
    const state = sizer.rlState({ ...input, currentQuantity: -0.2 });
    sizer.decide({ ...input, currentQuantity: -0.2 });
    expect(state).toEqual(rl.seen[0]);
    expect(state).toMatchObject({ tsEvent: 2_000_000, variance: 1e-4, regimeProbabilities: BULL.filtered, regimeLabels: FOUR, currentFraction: -0.5, breakerState: 'closed' });
    expect(sizer.rlState({ ...input, equity: 0, currentQuantity: 1 }).currentFraction).toBe(0);
    expect(sizer.rlState(input).currentFraction).toBe(0);
    sizer.breaker.trip('x');
    expect(sizer.rlState(input).breakerState).toBe('open');
  });

  it('caps a short RL fraction at −maxLeverage, and reports no RL proposal without a sizer', () => {
    const short = make({}, new ScriptedRlSizer(() => ({ fraction: -3, confidence: 0.9 }))).sizer.decide(input);
    expect(short).toMatchObject({ tier: 'FULL_RL', fraction: -1, rl: { fraction: -3, confidence: 0.9 }, quantity: { targetQuantity: -0.4 } });
    expect(make().sizer.decide(input)).toMatchObject({ code: 'no_rl_sizer', rl: null });
  });

  it('a throwing observe() is a failed proposal while closed and ignored while the breaker is open (no model error)', () => {
    const rl: RlSizer = {
      name: 'observer',
      observe: () => {
        throw new Error('observation failed');
      },
      propose: () => ({ fraction: 0.5, confidence: 0.9 }),
    };
    const { sizer } = make({}, rl);
    expect(sizer.decide(input)).toMatchObject({ code: 'rl_failed', rl: null });
    sizer.breaker.trip('x');
    const transitions = sizer.breaker.transitions.length;
    for (let i = 0; i < 5; i++) expect(sizer.decide(input).code).toBe('breaker_open');
    expect(sizer.breaker.transitions).toHaveLength(transitions);
  });

  it('an infinite edge is refused (NaN means no prediction, ±Infinity is corrupt)', () => {
    const { sizer } = make();
    expect(() => sizer.decide({ ...input, edge: Number.POSITIVE_INFINITY })).toThrow(/`edge` must be finite or NaN \(no prediction\), was Infinity/);
    expect(() => sizer.decide({ ...input, edge: Number.NEGATIVE_INFINITY })).toThrow('`edge` must be finite or NaN (no prediction), was -Infinity');
  });

  it('createPositionSizer wires the listeners and names the RL sizer in tier reasons', () => {
    const clock = new FakeClock(5_000);
    const changes: string[] = [];
    const transitions: string[] = [];
    const rl = new ScriptedRlSizer(() => ({ fraction: Number.NaN, confidence: 0.9 }));
    const sizer = createPositionSizer(unwrap(parseRiskConfig({})), {
      clock,
      instrument: BTC,
      barMs: BAR,
      rlSizer: rl,
      onTierChange: (c) => changes.push(`${c.to}: ${c.reason}`),
      onBreakerTransition: (t) => transitions.push(`${t.to}: ${t.cause}`),
    });
    sizer.decide(input);
    expect(changes).toEqual(['PURE_KELLY: RL sizer scripted failed (threw, or proposed a non-finite fraction or a confidence outside [0, 1]): Kelly only']);
    sizer.breaker.trip('x');
    expect(transitions).toEqual(['open: manual']);
    const plain = createPositionSizer(unwrap(parseRiskConfig({})), { clock, instrument: BTC, barMs: BAR });
    plain.decide(input);
    expect(plain.cascade.changes[0]!.reason).toBe('no RL sizer configured: Kelly only');
    expect(plain.cascade.tier).toBe('PURE_KELLY');
  });

  it('the breaker gets the bar length: a stale gap is 2 × barMs', () => {
    const clock = new FakeClock(0);
    const sizer = createPositionSizer(unwrap(parseRiskConfig({})), { clock, instrument: BTC, barMs: 1000 });
    sizer.breaker.onBar(1);
    clock.t = 2000;
    expect(sizer.breaker.check()).toBe('closed');
    clock.t = 2001;
    expect(sizer.breaker.check()).toBe('open');
  });
});

describe('PositionSizer over a regime filter, a rolling IC and an engine clock (scenario)', () => {
  const model = makeMsGarchModel({
    mean: [-0.003, -0.0015, 0, 0.002],
    omega: [1.8e-4, 4.5e-5, 7.2e-6, 2e-5],
    alpha: [0.1, 0.08, 0.05, 0.05],
    beta: [0.7, 0.72, 0.75, 0.75],
    transition: [[0.97, 0.02, 0.005, 0.005], [0.01, 0.98, 0.005, 0.005], [0.002, 0.005, 0.985, 0.008], [0.002, 0.004, 0.004, 0.99]],
  });
  const path = simulateMsGarch(model, 600, seededRandom(17));

  function run(gapAt: number | null) {
    const clock = new FakeClock(1_600_000_000_000);
    const config = unwrap(parseRiskConfig({ ic: { window: 100, minPairs: 20 } }));
    const rl = new ScriptedRlSizer((s) => ({ fraction: Math.tanh(s.edge * 500), confidence: 0.6 }));
    const sizer = createPositionSizer(config, { clock, instrument: BTC, barMs: BAR, rlSizer: rl });
    const filter = new RegimeFilter(model, { initialVariance: 1e-4 });
    const regime = new RegimeForecast(filter);
    const ic = new RollingIc({ ...config.ic, horizonBars: config.horizonBars });
    const noise = seededRandom(4);
    let close = 30_000;
    const out: SizingDecision[] = [];
    for (let t = 0; t < path.returns.length; t++) {
      clock.t += gapAt === t ? 4 * BAR : BAR;
      const r = path.returns[t]!;
      close *= Math.exp(r);
      filter.update(r);
      regime.update();
      // a weak signal: the next return plus noise
      const edge = 0.2 * (path.returns[t + 1] ?? 0) + normalDraw(noise) * 0.003;
      ic.update(edge, close);
      sizer.breaker.onBar(10_000);
      out.push(sizer.decide({ edge, regime, ic: ic.ic, signalConfidence: ic.confidence, equity: 10_000, price: close }));
    }
    return { out, sizer, config };
  }

  it('is deterministic and every Kelly fraction equals the pure chain recomputed from the decision', () => {
    const a = run(null), b = run(null);
    expect(b.out).toEqual(a.out);
    const tiers = new Set(a.out.map((d) => d.tier));
    expect(tiers.has('PURE_KELLY')).toBe(true); // warm-up: IC NaN
    expect(tiers.has('FULL_RL') || tiers.has('BLENDED')).toBe(true);
    for (const d of a.out) {
      expect(Math.abs(d.fraction)).toBeLessThanOrEqual(a.config.kelly.maxLeverage);
      expect(d.regimeFraction).toBeGreaterThanOrEqual(0.17);
      expect(d.regimeFraction).toBeLessThanOrEqual(0.67);
    }
    // every tier change is an event with its inputs
    expect(a.sizer.cascade.changes.length).toBeGreaterThanOrEqual(2);
    expect(a.sizer.cascade.changes[0]!.from).toBeNull();
  });

  it('a 4-bar gap in the data opens the breaker (stale data) on the next bar: EMERGENCY_FLAT, then probing after 1 h', () => {
    const { out, sizer } = run(300);
    expect(out[299]!.breakerState).toBe('closed');
    expect(out[300]).toMatchObject({ tier: 'EMERGENCY_FLAT', fraction: 0, breakerState: 'open' });
    expect(sizer.breaker.transitions[0]).toMatchObject({ cause: 'stale_data', values: { gapMs: 4 * BAR, maxGapMs: 2 * BAR } });
    // next bar is 1 h later = the cooldown: half-open, still flat (no probe position by default)
    expect(out[301]).toMatchObject({ tier: 'EMERGENCY_FLAT', breakerState: 'half-open', fraction: 0, probe: false });
    expect(out[302]!.breakerState).toBe('closed');
  });

  it('the pure chain reproduces a decision', () => {
    const filter = new RegimeFilter(model, { initialVariance: 1e-4 });
    const regime = new RegimeForecast(filter);
    for (let t = 0; t < 50; t++) filter.update(path.returns[t]!);
    regime.update();
    const { sizer, config } = make();
    const d = sizer.decide({ ...input, regime });
    const variance = horizonVariance(regime, 1, 1);
    const g = regimeFraction(regime.filtered, regime.labels, config.regimeFractions, 'weighted');
    expect(d.variance).toBe(variance);
    expect(d.regimeFraction).toBe(g);
    expect(d.kellyFraction).toBe(kellyPosition(2e-5, variance, g, config.kelly));
  });
});
