import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../models/index.js';
import { ActorNetwork } from './actor-network.js';
import { ReplayBuffer } from './replay-buffer.js';
import { createSacAgent } from './sac-agent.js';
import { parseSacConfig, type SacConfigInput } from './sac-config.js';
import { trainSac, type Environment } from './sac-trainer.js';

function config(input: SacConfigInput) {
  const parsed = parseSacConfig(input);
  if (!parsed.success) throw parsed.error;
  return parsed.data;
}

/** One-step bandit: observation (1, 0), reward −(a − 0.6)², every step ends the episode; optimum a* = 0.6. */
const bandit: Environment = {
  observationSize: 2,
  actionSize: 1,
  reset: () => Float32Array.of(1, 0),
  step: (a) => ({ observation: Float32Array.of(1, 0), reward: -((a[0]! - 0.6) ** 2), done: true, truncated: false }),
};

/**
 * Toy-task settings (stated, not the reference defaults): small nets and batch so the test stays under ~10 s on the
 * shared 2-core machine; Adam 1e-3 and α₀ = 0.1 because the bandit's rewards are ~100× smaller than the entropy
 * term at α = 1 (with the defaults it needs several thousand steps).
 */
const TOY: SacConfigInput = { seed: 1, hiddenSizes: [32, 32], batchSize: 64, randomSteps: 200, learningStarts: 200, criticLearningRate: 1e-3, actorLearningRate: 1e-3, temperatureLearningRate: 1e-3, initialTemperature: 0.1 };

function sha256(a: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
}

describe('SAC agent', () => {
  it('declares the reference defaults (lr 3e-4, batch 256, τ 0.005, γ 0.99, target entropy −|A|; 64-64 ReLU, stated departure) and refuses unknown keys', async () => {
    const c = config({});
    expect(c).toMatchObject({ criticLearningRate: 3e-4, actorLearningRate: 3e-4, temperatureLearningRate: 3e-4, batchSize: 256, tau: 0.005, gamma: 0.99, hiddenSizes: [64, 64], initialTemperature: 1, logStdMin: -20, logStdMax: 2 });
    expect(c.targetEntropy).toBeUndefined();
    const agent = await createSacAgent(config({ hiddenSizes: [8] }), { observationSize: 3, actionSize: 2 });
    expect(agent.targetEntropy).toBe(-2);
    agent.dispose();
    const bad = parseSacConfig({ tua: 0.1 });
    expect(bad.success).toBe(false);
    if (!bad.success) expect(bad.error.message).toMatch(/sac config \$\.tua: unknown key "tua"/);
    const negative = parseSacConfig({ gamma: 1.5 });
    expect(negative.success).toBe(false);
    if (!negative.success) expect(negative.error).toMatchObject({ code: 'invalid_config', context: { path: '$.gamma' } });
  });

  it('log π(a|s) carries the tanh correction: equals log N(u; μ, σ) − log(1 − tanh(u)²) computed in float64', async () => {
    const agent = await createSacAgent(config({ seed: 3, hiddenSizes: [16] }), { observationSize: 4, actionSize: 2 });
    const random = new SeededRandom(11);
    const n = 50;
    const obs = Float32Array.from({ length: n * 4 }, () => 4 * random.nextFloat() - 2);
    const eps = Float32Array.from({ length: n * 2 }, () => 3 * random.nextFloat() - 1.5);
    const { actions, logProbabilities } = agent.sampleWithLogProbability(obs, n, eps);
    const actor = new ActorNetwork(agent.actorWeights());
    for (let r = 0; r < n; r++) {
      actor.forward(obs.subarray(r * 4, r * 4 + 4));
      let expected = 0;
      for (let j = 0; j < 2; j++) {
        const sigma = Math.exp(actor.logStd[j]!);
        const u = actor.mean[j]! + sigma * eps[r * 2 + j]!;
        expected += -0.5 * eps[r * 2 + j]! ** 2 - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI) - Math.log(1 - Math.tanh(u) ** 2);
        expect(actions[r * 2 + j]).toBeCloseTo(Math.tanh(u), 5);
      }
      expect(Math.abs(logProbabilities[r]! - expected)).toBeLessThan(1e-3 * Math.max(1, Math.abs(expected)));
    }
    agent.dispose();
  });

  it('converges on a one-step bandit with optimum 0.6: |tanh μ(s) − 0.6| < 0.05 after 800 environment steps (600 gradient steps)', async () => {
    const agent = await createSacAgent(config(TOY), bandit);
    const start = agent.meanAction(Float32Array.of(1, 0), 1)[0]!;
    expect(Math.abs(start - 0.6)).toBeGreaterThan(0.3);
    const first = trainSac(bandit, agent, { steps: 201 }); // 200 random steps, then the first update creates Adam's state
    const tensors = tf.memory().numTensors;
    const rest = trainSac(bandit, agent, { steps: 599, buffer: first.buffer });
    expect(tf.memory().numTensors).toBe(tensors); // updates allocate nothing that outlives them
    const gradientSteps = first.gradientSteps + rest.gradientSteps;
    expect(gradientSteps).toBe(601);
    const action = agent.meanAction(Float32Array.of(1, 0), 1)[0]!;
    expect(Math.abs(action - 0.6)).toBeLessThan(0.05);
    // the temperature adapted downwards (entropy above the target −1 at the start)
    expect(agent.temperature).toBeLessThan(0.1);
    agent.dispose();
  }, 60_000);

  it('is deterministic: two trainings with the same seed give byte-identical weights; another seed differs', async () => {
    const run = async (seed: number) => {
      const agent = await createSacAgent(config({ ...TOY, seed }), bandit);
      trainSac(bandit, agent, { steps: 260 });
      const w = agent.allWeights();
      agent.dispose();
      return w;
    };
    const [a, b, c] = [await run(5), await run(5), await run(6)];
    // no tensor outlives a run (a leak per update would exhaust memory in long trainings)
    const tensorsBefore = tf.memory().numTensors;
    await run(5);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(a.length).toBeGreaterThan(2000);
    expect(sha256(a)).toBe(sha256(b));
    expect(sha256(a)).not.toBe(sha256(c));
  }, 60_000);
});

describe('ReplayBuffer', () => {
  it('overwrites the oldest transition when full and samples the same batches for the same seed', () => {
    const make = () => new ReplayBuffer({ capacity: 3, observationSize: 1, actionSize: 1, seed: 9 });
    const a = make(), b = make();
    for (const buffer of [a, b]) for (let k = 0; k < 5; k++) buffer.add([k], [0], k, [k + 1], k === 4);
    expect(a.size).toBe(3);
    const batch = Array.from(a.sample(64).rewards);
    expect(new Set(batch)).toEqual(new Set([2, 3, 4]));
    expect(Array.from(b.sample(64).rewards)).toEqual(batch);
    const s = a.sample(64);
    for (let r = 0; r < 64; r++) {
      expect(s.nextObservations[r]).toBe(s.observations[r]! + 1);
      expect(s.dones[r]).toBe(s.rewards[r] === 4 ? 1 : 0);
    }
  });

  it('refuses wrong lengths, non-finite values and actions outside [-1, 1]', () => {
    const buffer = new ReplayBuffer({ capacity: 2, observationSize: 2, actionSize: 1, seed: 1 });
    expect(() => buffer.sample(1)).toThrow(/buffer size/);
    expect(() => buffer.add([1], [0], 0, [1, 2], false)).toThrow('`observation.length` must equal observationSize = 2, was 1');
    expect(() => buffer.add([1, NaN], [0], 0, [1, 2], false)).toThrow(/observation\[1\]` must be finite/);
    expect(() => buffer.add([1, 2], [1.5], 0, [1, 2], false)).toThrow(/action\[0\]` must lie in \[-1, 1\]/);
    expect(() => buffer.add([1, 2], [0], Infinity, [1, 2], false)).toThrow(/`reward` must be finite/);
  });
});
