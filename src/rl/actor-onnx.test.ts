import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../models/index.js';
import { ActorNetwork } from './actor-network.js';
import { ACTOR_ACTION_NAME, ACTOR_INPUT_NAME, ACTOR_LOG_STD_NAME, exportActorOnnx, readActorOnnx } from './actor-onnx.js';
import { createSacAgent } from './sac-agent.js';
import { parseSacConfig } from './sac-config.js';
import { trainSac, type Environment } from './sac-trainer.js';

const OBSERVATIONS = 12;
const NAMES = Array.from({ length: OBSERVATIONS }, (_, i) => `obs_${i}`);
const HASH = 'sha256:test-observation-spec';

/** Contextual toy task (optimum tanh-shaped in the first observation) so that training moves every weight and bias. */
function toyEnvironment(seed: number): Environment {
  const random = new SeededRandom(seed);
  const draw = () => Float32Array.from({ length: OBSERVATIONS }, () => 2 * random.nextFloat() - 1);
  let current = draw();
  return {
    observationSize: OBSERVATIONS,
    actionSize: 1,
    reset: () => (current = draw()),
    step: (a) => {
      const reward = -((a[0]! - 0.8 * Math.tanh(3 * current[0]!)) ** 2);
      current = draw();
      return { observation: current, reward, done: true, truncated: false };
    },
  };
}

/** 10,000 seeded observations, N(0, 2²) per column: wide enough to saturate tanh and switch ReLUs. */
function observations(count: number): Float32Array {
  const random = new SeededRandom(2024);
  return Float32Array.from({ length: count * OBSERVATIONS }, () => {
    const u = Math.max(random.nextFloat(), 1e-12);
    return 2 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
  });
}

describe('SAC actor ONNX export', () => {
  it('tfjs mean action, onnxruntime-node and the typed-array forward pass agree to 1e-5 on 10,000 observations', async () => {
    const parsed = parseSacConfig({ seed: 4, hiddenSizes: [64, 64], batchSize: 32, randomSteps: 40, learningStarts: 40 });
    if (!parsed.success) throw parsed.error;
    const agent = await createSacAgent(parsed.data, { observationSize: OBSERVATIONS, actionSize: 1 });
    trainSac(toyEnvironment(1), agent, { steps: 100 });
    const weights = agent.actorWeights();
    expect(weights.mean.bias[0]).not.toBe(0); // trained: biases moved away from their zero initialisation
    const bytes = exportActorOnnx(weights, { observationNames: NAMES, observationSpecHash: HASH, metadata: { seed: '4' } });

    const n = 10_000;
    const x = observations(n);
    const reference = agent.meanAction(x, n);
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const out = await session.run({ [ACTOR_INPUT_NAME]: new ort.Tensor('float32', x, [n, OBSERVATIONS]) });
    const onnxAction = out[ACTOR_ACTION_NAME]!.data as Float32Array;
    const onnxLogStd = out[ACTOR_LOG_STD_NAME]!.data as Float32Array;
    await session.release();
    expect(onnxAction.length).toBe(n);

    const read = readActorOnnx(bytes, { observationNames: NAMES, observationSpecHash: HASH });
    expect(read.metadata['seed']).toBe('4');
    const actor = new ActorNetwork(read.weights);
    let maxTfjs = 0, maxTyped = 0, maxLogStd = 0, saturated = 0;
    for (let r = 0; r < n; r++) {
      actor.forward(x.subarray(r * OBSERVATIONS, (r + 1) * OBSERVATIONS));
      maxTfjs = Math.max(maxTfjs, Math.abs(reference[r]! - onnxAction[r]!));
      maxTyped = Math.max(maxTyped, Math.abs(actor.action[0]! - onnxAction[r]!));
      maxLogStd = Math.max(maxLogStd, Math.abs(actor.logStd[0]! - onnxLogStd[r]!));
      if (Math.abs(onnxAction[r]!) > 0.9) saturated++;
    }
    expect(maxTfjs).toBeLessThanOrEqual(1e-5);
    expect(maxTyped).toBeLessThanOrEqual(1e-5);
    expect(maxLogStd).toBeLessThanOrEqual(1e-5);
    // the inputs cover more than a sliver of the action range
    const spread = Math.max(...onnxAction) - Math.min(...onnxAction);
    expect(spread).toBeGreaterThan(0.5);
    expect(saturated).toBeLessThan(n);
    agent.dispose();
  }, 60_000);

  it('reads back the exact weights and refuses an actor trained on other observations', async () => {
    const parsed = parseSacConfig({ seed: 8, hiddenSizes: [5, 3] });
    if (!parsed.success) throw parsed.error;
    const agent = await createSacAgent(parsed.data, { observationSize: 4, actionSize: 2 });
    const weights = agent.actorWeights();
    agent.dispose();
    const names = ['a', 'b', 'c', 'd'];
    const bytes = exportActorOnnx(weights, { observationNames: names, observationSpecHash: 'h1' });
    expect(Buffer.from(exportActorOnnx(weights, { observationNames: names, observationSpecHash: 'h1' })).equals(Buffer.from(bytes))).toBe(true);
    const read = readActorOnnx(bytes, { observationNames: names, observationSpecHash: 'h1' });
    expect(read.weights.hidden.map((l) => [l.inputSize, l.outputSize])).toEqual([[4, 5], [5, 3]]);
    expect(Array.from(read.weights.hidden[1]!.weight)).toEqual(Array.from(weights.hidden[1]!.weight));
    expect(Array.from(read.weights.logStd.weight)).toEqual(Array.from(weights.logStd.weight));
    expect([read.weights.logStdMin, read.weights.logStdMax, read.weights.actionSize]).toEqual([-20, 2, 2]);
    expect(() => readActorOnnx(bytes, { observationNames: ['a', 'c', 'b', 'd'], observationSpecHash: 'h1' })).toThrow('observation order mismatch at index 1: the environment expects "c", the actor has "b"');
    expect(() => readActorOnnx(bytes, { observationNames: names, observationSpecHash: 'h2' })).toThrow(/observation spec hash mismatch/);
    expect(() => exportActorOnnx(weights, { observationNames: ['a', 'b'], observationSpecHash: 'h1' })).toThrow(/observationNames.length must equal the actor's observationSize = 4, was 2/);
    expect(() => exportActorOnnx(weights, { observationNames: names, observationSpecHash: 'h1', metadata: { format: 'x' } })).toThrow(/metadata key must not be one of/);
    expect(() => readActorOnnx(new Uint8Array([1, 2, 3]), { observationNames: names, observationSpecHash: 'h1' })).toThrow(/ONNX ModelProto|format must be/);
  });
});
