import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../backtest/run-backtest.js';
import { regimeKelly } from '../../strategies/index.js';
import { createSacAgent } from '../sac-agent.js';
import { parseSacConfig } from '../sac-config.js';
import { trainSac } from '../sac-trainer.js';
import { SizingEnvironment } from './sizing-environment.js';
import { backtestSpec } from '../../../test/support/engine-scenarios.js';
import { oneStateRegime, RL_BTC, signalMarket } from '../../../test/support/rl-market.js';

const { frame, signal } = signalMarket(300, 5);
// costs: the default Bybit fee model of the simulated venue (the spec helper's slippage is 0, funding none)
const spec = backtestSpec(frame, [RL_BTC], { name: 'rl-env-test', columns: { signal: [signal] }, leverage: 2, dataSources: [], seed: 1, warmupBars: 40 });
const strategyParams = { minRebalance: 0.01, risk: { horizonBars: 1, ic: { window: 30, minPairs: 10 } } };

function env(config?: unknown) {
  return new SizingEnvironment({ spec, regime: oneStateRegime(), strategyParams, ...(config !== undefined ? { config } : {}) });
}

/** Runs one episode with a constant action; returns observations, rewards and the backtest result. */
function episode(e: SizingEnvironment, u: number) {
  const observations = [Array.from(e.reset())];
  const rewards: number[] = [];
  const tiers: string[] = [];
  for (;;) {
    const r = e.step(Float32Array.of(u));
    rewards.push(r.reward);
    tiers.push(e.lastDecision!.tier);
    if (r.done) break;
    observations.push(Array.from(r.observation));
  }
  return { observations, rewards, tiers, result: e.result() };
}

describe('SizingEnvironment (SAC sizer over the engine)', () => {
  it('action +1 (full Kelly share) reproduces the regime-kelly backtest bar for bar: same fills, fees and equity', () => {
    const e = env();
    const run = episode(e, 1);
    const reference = runBacktest(spec, regimeKelly(strategyParams, { regimes: [oneStateRegime()] }));
    expect(run.result.fills.length).toBeGreaterThan(20);
    expect(run.result.feesPaid).toBeGreaterThan(0);
    expect(run.result.fills).toEqual(reference.fills);
    expect(Array.from(run.result.equity.value)).toEqual(Array.from(reference.equity.value));
    // one decision per bar after the 40 warm-up bars; the agent's action traded (FULL_RL) once the IC was defined
    expect(run.rewards.length).toBe(300 - 40);
    expect(run.tiers.filter((t) => t === 'FULL_RL').length).toBeGreaterThan(200);
  });

  it('reward: with scale 1 and no drawdown penalty the rewards telescope to ln(final / first-decision equity), after costs', () => {
    const e = env({ reward: { scale: 1, drawdownPenalty: 0 } });
    const run = episode(e, 0.2);
    const eq = run.result.equity.value;
    const first = eq[0]!; // equity at the close of the first decision bar (results start after warm-up)
    const sum = run.rewards.reduce((s, r) => s + r, 0);
    expect(sum).toBeCloseTo(Math.log(eq[eq.length - 1]! / first), 10);
    expect(run.result.feesPaid).toBeGreaterThan(0);
  });

  it('action −1 (share 0) never holds a position once the IC is defined; the drawdown penalty only ever lowers rewards', () => {
    const flat = episode(env(), -1);
    const positions = Array.from(flat.result.bars[0]!.position);
    const firstRl = flat.tiers.indexOf('FULL_RL');
    expect(firstRl).toBeGreaterThan(-1);
    expect(positions.slice(firstRl + 2).every((q) => q === 0)).toBe(true);
    const plain = episode(env({ reward: { drawdownPenalty: 0 } }), 0.5).rewards;
    const penalised = episode(env({ reward: { drawdownPenalty: 5 } }), 0.5).rewards;
    plain.forEach((r, k) => expect(penalised[k]!).toBeLessThanOrEqual(r + 1e-12));
    expect(penalised.some((r, k) => r < plain[k]! - 1e-9)).toBe(true);
  });

  it('observations are deterministic, finite, 14 columns; the position column follows the engine', () => {
    const a = episode(env(), 0.3), b = episode(env(), 0.3);
    expect(a.observations).toEqual(b.observations);
    expect(a.observations[0]!.length).toBe(14);
    expect(a.observations.flat().every(Number.isFinite)).toBe(true);
    expect(a.observations.some((o) => o[10]! > 0) && a.observations.some((o) => o[10]! < 0)).toBe(true);
    const e = env();
    expect(() => e.step(Float32Array.of(0))).toThrow(/must be reset before step/);
    expect(() => env({ reward: { scale: 0 } })).toThrow(/sizing environment config \$\.reward\.scale: /);
    expect(() => env({ rewards: {} })).toThrow(/unknown key "rewards"/);
  });

  it('SAC trains over it (seeded): two short trainings give byte-identical weights', async () => {
    const run = async () => {
      const parsed = parseSacConfig({ seed: 3, hiddenSizes: [16, 16], batchSize: 32, randomSteps: 40, learningStarts: 40 });
      if (!parsed.success) throw parsed.error;
      const e = env();
      const agent = await createSacAgent(parsed.data, e);
      const { gradientSteps } = trainSac(e, agent, { steps: 120 });
      const w = agent.allWeights();
      agent.dispose();
      return { w, gradientSteps };
    };
    const [x, y] = [await run(), await run()];
    expect(x.gradientSteps).toBe(81);
    expect(x.w.every(Number.isFinite)).toBe(true);
    expect(Buffer.from(x.w.buffer).equals(Buffer.from(y.w.buffer))).toBe(true);
  }, 60_000);
});
