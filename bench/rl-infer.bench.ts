import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { unwrap } from '../src/core/result.js';
import { SeededRandom } from '../src/models/index.js';
import { ACTOR_INPUT_NAME, createSacAgent, exportActorOnnx, parseSacConfig, readActorOnnx, SacRlSizer, SIZING_OBSERVATION_NAMES, SIZING_OBSERVATION_SPEC } from '../src/rl/index.js';
import type { RlSizerState } from '../src/sizing/index.js';
import { percentile, type Benchmark } from './bench-result.js';

/**
 * One RL sizing decision: `SacRlSizer.propose` = build the 14-column observation from the cascade's state, run the
 * exported SAC actor (read back from its ONNX bytes) through the typed-array forward pass, map the action to a share
 * of Kelly and compute the policy-std confidence (8-point Gauss–Hermite). Actors: the SacConfig default (64-64 ReLU,
 * figure `rl-infer-p99`) and the reference implementation's 256-256 (`rl-infer-p99-256x256`), both at their seeded
 * initial weights (a trained actor has
 * the same cost up to the share of zero ReLU outputs, which the forward pass skips). 20,000 seeded states; the first
 * pass warms the JIT and is not timed; the second times every decision with process.hrtime → p50/p99 in µs.
 * For reference, `details.onnxruntimeP99` (256-256 figure) is that actor run through an onnxruntime-node session
 * (1 thread, preallocated input), which the synchronous `propose` cannot use.
 */
const bench: Benchmark = {
  name: 'rl-infer',
  async run() {
    const random = new SeededRandom(2024);
    const n = 20_000;
    const states: RlSizerState[] = [];
    let equity = 10_000, fraction = 0;
    for (let t = 0; t < n; t++) {
      const p = random.nextFloat();
      equity *= 1 + (random.nextFloat() - 0.5) * 0.01;
      if (random.nextFloat() < 0.05) fraction = (random.nextFloat() - 0.5) * 2;
      states.push({ tsEvent: t * 14_400_000, edge: (random.nextFloat() - 0.5) * 0.01, variance: 1e-4 * (0.5 + random.nextFloat()), kellyFraction: (random.nextFloat() - 0.5) * 2, regimeProbabilities: [p * 0.2, p * 0.3, (1 - p) * 0.5, 1 - p * 0.5 - (1 - p) * 0.5], regimeLabels: ['crisis', 'bear', 'neutral', 'bull'], ic: random.nextFloat() * 0.2 - 0.05, signalConfidence: random.nextFloat(), equity, price: 30_000 * (1 + (random.nextFloat() - 0.5) * 0.1), currentFraction: fraction, breakerState: 'closed' });
    }
    const figures = [];
    let onnxruntimeP99 = Number.NaN;
    for (const hiddenSizes of [[64, 64], [256, 256]]) {
      const agent = await createSacAgent(unwrap(parseSacConfig({ seed: 1, hiddenSizes })), { observationSize: SIZING_OBSERVATION_NAMES.length, actionSize: 1 });
      const bytes = exportActorOnnx(agent.actorWeights(), { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC });
      agent.dispose();
      const { weights } = readActorOnnx(bytes, { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC });
      const latencies: number[] = [];
      let checksum = 0;
      for (let pass = 0; pass < 2; pass++) {
        const sizer = new SacRlSizer(weights, { name: 'bench' });
        for (let t = 0; t < n; t++) {
          const start = process.hrtime.bigint();
          const proposal = sizer.propose(states[t]!);
          const nanos = Number(process.hrtime.bigint() - start);
          if (pass === 1) latencies.push(nanos / 1000);
          checksum += proposal.fraction + proposal.confidence;
        }
      }
      if (hiddenSizes[0] === 256) {
        const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
        const input = new Float32Array(SIZING_OBSERVATION_NAMES.length);
        const feeds = { [ACTOR_INPUT_NAME]: new ort.Tensor('float32', input, [1, input.length]) };
        const ortLatencies: number[] = [];
        for (let t = 0; t < 4000; t++) {
          for (let k = 0; k < input.length; k++) input[k] = random.nextFloat() - 0.5;
          const start = process.hrtime.bigint();
          await session.run(feeds);
          if (t >= 1000) ortLatencies.push(Number(process.hrtime.bigint() - start) / 1000);
        }
        await session.release();
        onnxruntimeP99 = Number(percentile(ortLatencies, 99).toFixed(1));
      }
      const label = hiddenSizes.join('x');
      const details = { decisions: latencies.length, hiddenSizes, observationSize: SIZING_OBSERVATION_NAMES.length, p50: Number(percentile(latencies, 50).toFixed(2)), p999: Number(percentile(latencies, 99.9).toFixed(2)), max: Number(Math.max(...latencies).toFixed(1)), checksum, ...(hiddenSizes[0] === 256 ? { onnxruntimeP99 } : {}), cpus: cpus().length, node: process.version };
      figures.push({ name: hiddenSizes[0] === 64 ? 'rl-infer-p99' : `rl-infer-p99-${label}`, value: Number(percentile(latencies, 99).toFixed(2)), unit: 'µs', target: 20, better: 'lower' as const, details });
    }
    return figures;
  },
};
export default bench;
