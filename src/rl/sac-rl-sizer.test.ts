import { describe, expect, it } from 'vitest';
import { computeMetrics, tierAttribution } from '../backtest/metrics.js';
import { renderHtmlReport } from '../backtest/report.js';
import { runBacktest } from '../backtest/run-backtest.js';
import { SeededRandom } from '../models/index.js';
import type { RlSizerState } from '../sizing/index.js';
import { regimeKelly } from '../strategies/index.js';
import { exportActorOnnx, readActorOnnx } from './actor-onnx.js';
import { createSacAgent } from './sac-agent.js';
import { parseSacConfig } from './sac-config.js';
import { policyConfidence, SacRlSizer } from './sac-rl-sizer.js';
import { trainSac, type Environment } from './sac-trainer.js';
import { SIZING_OBSERVATION_NAMES, SIZING_OBSERVATION_SPEC, SizingObservation } from './sizing-observation.js';
import { backtestSpec } from '../../test/support/engine-scenarios.js';
import { oneStateRegime, RL_BTC as BTC, signalMarket } from '../../test/support/rl-market.js';

const OBS = SIZING_OBSERVATION_NAMES.length;

function state(over: Partial<RlSizerState> = {}): RlSizerState {
  return { tsEvent: 0, edge: 0.002, variance: 1e-4, kellyFraction: 0.5, regimeProbabilities: [0.25, 0.75], regimeLabels: ['bear', 'bull'], ic: 0.1, signalConfidence: 0.7, equity: 10_000, price: 100, currentFraction: 0, breakerState: 'closed', ...over };
}

/**
 * A toy task over the sizing observation space (random observations, reward −(a − 0.6)² for a = tanh(μ(s)) ∈ [−1, 1]):
 * not a trading result, only a trained actor whose policy has narrowed (entropy driven to −1), exported to ONNX and
 * read back, so the cascade sees a real SAC actor with a real confidence.
 */
let trained: Promise<Uint8Array> | undefined;
function trainedActorBytes(): Promise<Uint8Array> {
  trained ??= trainActor();
  return trained;
}

async function trainActor(): Promise<Uint8Array> {
  const parsed = parseSacConfig({ seed: 2, hiddenSizes: [32, 32], batchSize: 64, randomSteps: 200, learningStarts: 200, criticLearningRate: 1e-3, actorLearningRate: 1e-3, temperatureLearningRate: 1e-3, initialTemperature: 0.1 });
  if (!parsed.success) throw parsed.error;
  const random = new SeededRandom(3);
  const draw = () => Float32Array.from({ length: OBS }, () => random.nextFloat() - 0.5);
  const env: Environment = { observationSize: OBS, actionSize: 1, reset: draw, step: (a) => ({ observation: draw(), reward: -((a[0]! - 0.6) ** 2), done: true, truncated: false }) };
  const agent = await createSacAgent(parsed.data, env);
  trainSac(env, agent, { steps: 700 });
  const bytes = exportActorOnnx(agent.actorWeights(), { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC });
  agent.dispose();
  return bytes;
}

describe('SacRlSizer', () => {
  it('policy confidence: 1 for a deterministic policy, 0 for one as spread as a uniform guess, decreasing in σ', () => {
    expect(policyConfidence(0.3, 1e-9)).toBeCloseTo(1, 9);
    expect(policyConfidence(0, 3)).toBe(0);
    const c = [0.01, 0.05, 0.2, 0.5].map((s) => policyConfidence(0.4, s));
    for (let i = 1; i < c.length; i++) expect(c[i]!).toBeLessThan(c[i - 1]!);
    // sd of (tanh(u) + 1) / 2 ≈ (1 − tanh²(0.4)) σ / 2 for small σ (delta method)
    expect(1 - (1 - c[0]!) * (1 / Math.sqrt(12))).toBeCloseTo(1 - ((1 - Math.tanh(0.4) ** 2) * 0.01) / 2, 4);
  });

  it('observation: signal z, regime slots by label, entry price, drawdown and time in position follow the decisions', () => {
    const o = new SizingObservation();
    const out = new Float32Array(o.size);
    o.update(state(), out);
    expect(Array.from(out.slice(0, 10))).toEqual(Array.from(Float32Array.of(0.2, 0.7, 0.1, 1, 0, 0.25, 0, 0.75, Math.log(0.01), 0.5)));
    o.update(state({ currentFraction: 0.5, price: 100, equity: 10_100 }), out);
    expect([out[11], out[12], out[13]]).toEqual([0, 0, 0]);
    o.update(state({ currentFraction: 0.5, price: 110, equity: 9_090, ic: Number.NaN }), out);
    expect(out[2]).toBe(0);
    expect(out[3]).toBe(0);
    expect(out[11]).toBeCloseTo(Math.log(1.1), 6);
    expect(out[12]).toBeCloseTo(0.1, 6);
    expect(out[13]).toBeCloseTo(Math.log(2) / 5, 6);
    o.update(state({ currentFraction: -0.2, price: 90 }), out);
    expect([out[11], out[13]]).toEqual([0, 0]);
  });

  it('proposes share × Kelly with the sign of the signal, and refuses an actor of another observation size', async () => {
    const bytes = await trainedActorBytes();
    const { weights } = readActorOnnx(bytes, { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC });
    const sizer = new SacRlSizer(weights, { name: 'sac-test' });
    const long = sizer.propose(state({ kellyFraction: 0.5 }));
    expect(long.fraction).toBeGreaterThan(0);
    expect(long.fraction).toBeLessThanOrEqual(0.5);
    expect(long.confidence).toBeGreaterThan(0.5);
    const short = new SacRlSizer(weights, { name: 'sac-test' }).propose(state({ kellyFraction: -0.5, edge: -0.002 }));
    expect(short.fraction).toBeLessThan(0);
    expect(new SacRlSizer(weights, { name: 'x' }).propose(state({ kellyFraction: 0, edge: Number.NaN })).fraction).toBe(0);
    // observe() then propose() on the same state advances the path state once, as propose() alone
    const a = new SacRlSizer(weights, { name: 'a' }), b = new SacRlSizer(weights, { name: 'b' });
    for (let k = 0; k < 5; k++) {
      const s = state({ currentFraction: k > 1 ? 0.3 : 0, price: 100 + k, equity: 10_000 - 50 * k });
      a.observe(s);
      expect(a.propose(s)).toEqual(b.propose(s));
    }
    expect(() => new SacRlSizer({ ...weights, observationSize: 3 }, { name: 'x' })).toThrow(/weights.observationSize` must equal the sizing observation's 14 columns, was 3/);
  }, 60_000);

  it('plugged into the cascade of a backtest: the tier table holds FULL_RL and BLENDED (default thresholds 0.50/0.05 and 0.30/0.02)', async () => {
    const bytes = await trainedActorBytes();
    const { weights } = readActorOnnx(bytes, { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC });
    const { frame, signal } = signalMarket(500, 17);
    const spec = backtestSpec(frame, [BTC], { name: 'sac-sizer-test', columns: { signal: [signal] }, leverage: 2, dataSources: [], seed: 1 });
    const params = { minRebalance: 0.01, risk: { horizonBars: 1, ic: { window: 60, minPairs: 20 } } };
    const withRl = runBacktest(spec, regimeKelly(params, { regimes: [oneStateRegime()], rlSizers: [new SacRlSizer(weights, { name: 'sac-test' })] }));
    const table = tierAttribution(withRl)!;
    const row = (tier: string) => table.total.find((s) => s.tier === tier);
    if (process.env['TM_PRINT_TIERS']) console.log('TIERS', JSON.stringify(table.total));
    expect(row('FULL_RL')?.bars ?? 0).toBeGreaterThan(50);
    expect(row('BLENDED')?.bars ?? 0).toBeGreaterThan(0);
    const reasons = new Set(withRl.annotations!.tiers!.map((t) => `${t.tier}:${t.reason}`));
    expect(reasons).toContain('FULL_RL:rl_confident');
    expect(reasons).toContain('BLENDED:rl_medium');
    const html = renderHtmlReport(withRl, computeMetrics(withRl));
    const section = html.slice(html.indexOf('<table id="tier-attribution">'));
    expect(section).toMatch(/<th scope="row">FULL_RL<\/th><td class="num">[1-9]/);
    expect(section).toMatch(/<th scope="row">BLENDED<\/th><td class="num">(?!0\.00 %)/);
    // without the sizer the same run never leaves PURE_KELLY for an RL tier
    const withoutRl = runBacktest(spec, regimeKelly(params, { regimes: [oneStateRegime()] }));
    const without = tierAttribution(withoutRl)!.total;
    expect(without.filter((s) => s.tier === 'FULL_RL' || s.tier === 'BLENDED').map((s) => s.bars)).toEqual([0, 0]);
    expect(Array.from(withRl.bars[0]!.position)).not.toEqual(Array.from(withoutRl.bars[0]!.position));
  }, 60_000);
});
