import * as tf from '@tensorflow/tfjs';
import { deriveSeed, SeededRandom } from '../models/index.js';
import type { ActorWeights, DenseWeights } from './actor-network.js';
import type { ReplayBatch } from './replay-buffer.js';
import { invalidRlInput } from './rl-error.js';
import type { SacConfig } from './sac-config.js';

/** Losses and temperature after one gradient step. */
export interface SacUpdateStats {
  /** Sum of the two critics' mean squared TD errors. */
  readonly criticLoss: number;
  /** E[α log π(a|s) − min(Q1, Q2)(s, a)], a ~ π. */
  readonly actorLoss: number;
  /** α after the step. */
  readonly temperature: number;
  /** −E[log π(a|s)] of the batch (nats, squashed action space). */
  readonly entropy: number;
}

interface Dense {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
}

const LOG_2 = Math.log(2);
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

let backendReady: Promise<void> | undefined;

/** Selects the tfjs cpu backend once per process (deterministic pure-JS kernels; tfjs-node cannot install here). */
function cpuBackend(): Promise<void> {
  // PROD: tfjs's console notices (the "install tfjs-node" banner) are off; kernels and results are unchanged
  tf.env().set('PROD', true);
  backendReady ??= tf.setBackend('cpu').then((ok) => {
    if (!ok) throw new Error('tfjs: the cpu backend could not be initialised');
  });
  return backendReady;
}

/**
 * Soft Actor-Critic (Haarnoja et al. 2018, arXiv:1812.05905) in `@tensorflow/tfjs` on the cpu backend:
 * twin Q networks Q1, Q2 with Polyak-averaged targets, a squashed Gaussian actor a = tanh(μ(s) + σ(s) ε) whose
 * log-probability carries the tanh change-of-variables correction
 *   log π(a|s) = Σ_j [log N(u_j; μ_j, σ_j) − 2 (log 2 − u_j − softplus(−2 u_j))],  u = μ + σ ε,
 * and an automatic temperature α learned on log α with loss −log α · (log π(a|s) + H̄), H̄ = target entropy (−|A|).
 * One {@link update}: critics on y = r + γ (1 − done) (min_i Q'_i(s', a') − α log π(a'|s')), a' ~ π(s');
 * then the actor on E[α log π(a|s) − min_i Q_i(s, a)]; then α; then θ'_i ← (1 − τ) θ'_i + τ θ_i.
 *
 * Determinism: weights start from Glorot-uniform draws of a {@link SeededRandom} (biases 0), every Gaussian draw
 * comes from a seeded stream in JavaScript (no tfjs random op), and the cpu backend's kernels are sequential, so the
 * same config, seed and batches give byte-identical weights. Create with {@link createSacAgent}; call {@link dispose}.
 * @example
 * const agent = await createSacAgent(config, { observationSize: 9, actionSize: 1 });
 * const stats = agent.update(buffer.sample(config.batchSize));
 */
export class SacAgent {
  readonly config: SacConfig;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly targetEntropy: number;
  private readonly actorHidden: Dense[];
  private readonly actorMean: Dense;
  private readonly actorLogStd: Dense;
  private readonly critics: [Dense[], Dense[]];
  private readonly targets: [Dense[], Dense[]];
  private readonly logTemperature: tf.Variable;
  private readonly criticOptimizer: tf.Optimizer;
  private readonly actorOptimizer: tf.Optimizer;
  private readonly temperatureOptimizer: tf.Optimizer;
  private readonly noise: SeededRandom;
  private spare = Number.NaN;
  private steps = 0;

  /** Use {@link createSacAgent} (it selects the cpu backend first). */
  constructor(config: SacConfig, sizes: { readonly observationSize: number; readonly actionSize: number }) {
    const { observationSize, actionSize } = sizes;
    if (!Number.isInteger(observationSize) || observationSize < 1) invalidRlInput('observationSize', 'be an integer >= 1', observationSize);
    if (!Number.isInteger(actionSize) || actionSize < 1) invalidRlInput('actionSize', 'be an integer >= 1', actionSize);
    this.config = config;
    this.observationSize = observationSize;
    this.actionSize = actionSize;
    this.targetEntropy = config.targetEntropy ?? -actionSize;
    const init = new SeededRandom(deriveSeed(config.seed, 0));
    this.noise = new SeededRandom(deriveSeed(config.seed, 1));
    const hidden = config.hiddenSizes;
    const last = hidden[hidden.length - 1]!;
    this.actorHidden = stack(init, observationSize, hidden);
    this.actorMean = dense(init, last, actionSize);
    this.actorLogStd = dense(init, last, actionSize);
    const critic = () => [...stack(init, observationSize + actionSize, hidden), dense(init, last, 1)];
    this.critics = [critic(), critic()];
    // tfjs variable names are process-global: left to tfjs (unique), so several agents can coexist
    const copy = (net: Dense[]) => net.map((l) => ({ w: variable(l.w, false), b: variable(l.b, false) }));
    this.targets = [copy(this.critics[0]), copy(this.critics[1])];
    this.logTemperature = tf.tidy(() => tf.variable(tf.scalar(Math.log(config.initialTemperature)), true));
    this.criticOptimizer = tf.train.adam(config.criticLearningRate);
    this.actorOptimizer = tf.train.adam(config.actorLearningRate);
    this.temperatureOptimizer = tf.train.adam(config.temperatureLearningRate);
  }

  /** Gradient steps taken so far. */
  get updates(): number {
    return this.steps;
  }

  /** Current temperature α. */
  get temperature(): number {
    return Math.exp(this.logTemperature.dataSync()[0]!);
  }

  /**
   * Returns actions in [−1, 1] for `count` row-major observations: tanh(μ(s)) when `deterministic`, else a draw
   * tanh(μ + σ ε) with ε from the agent's seeded noise stream.
   * @throws RlError `invalid_input` when `observations.length` is not `count × observationSize`.
   */
  act(observations: Float32Array, count: number, deterministic: boolean): Float32Array {
    if (observations.length !== count * this.observationSize) invalidRlInput('observations.length', `equal count × observationSize = ${count * this.observationSize}`, observations.length);
    const eps = deterministic ? null : this.gaussian(count * this.actionSize);
    return tf.tidy(() => {
      const obs = tf.tensor2d(observations, [count, this.observationSize]);
      const { mean, logStd } = this.heads(obs);
      const u = eps === null ? mean : tf.add(mean, tf.mul(tf.exp(logStd), tf.tensor2d(eps, [count, this.actionSize])));
      return Float32Array.from(tf.tanh(u).dataSync() as Float32Array);
    });
  }

  /**
   * Returns the deterministic actions tanh(μ(s)) of `count` observations as a tfjs computation (the reference the
   * ONNX export is checked against).
   */
  meanAction(observations: Float32Array, count: number): Float32Array {
    return this.act(observations, count, true);
  }

  /**
   * Returns the reparameterised actions tanh(μ + σ ε) of `count` observations for the given standard normal draws
   * `eps` ([count × actionSize]) and their log-probabilities log π(a|s) (tanh-corrected, one per observation).
   * @throws RlError `invalid_input` for wrong lengths.
   */
  sampleWithLogProbability(observations: Float32Array, count: number, eps: Float32Array): { readonly actions: Float32Array; readonly logProbabilities: Float32Array } {
    if (observations.length !== count * this.observationSize) invalidRlInput('observations.length', `equal count × observationSize = ${count * this.observationSize}`, observations.length);
    if (eps.length !== count * this.actionSize) invalidRlInput('eps.length', `equal count × actionSize = ${count * this.actionSize}`, eps.length);
    return tf.tidy(() => {
      const p = this.sample(tf.tensor2d(observations, [count, this.observationSize]), tf.tensor2d(eps, [count, this.actionSize]));
      return { actions: Float32Array.from(p.action.dataSync() as Float32Array), logProbabilities: Float32Array.from(p.logProb.dataSync() as Float32Array) };
    });
  }

  /**
   * One SAC gradient step on `batch` (critics, actor, temperature, then Polyak targets).
   * @throws RlError `invalid_input` when the batch's matrices do not match the agent's sizes.
   */
  update(batch: ReplayBatch): SacUpdateStats {
    const n = batch.size, o = this.observationSize, a = this.actionSize;
    if (batch.observations.length !== n * o || batch.nextObservations.length !== n * o) invalidRlInput('batch.observations.length', `equal size × observationSize = ${n * o}`, batch.observations.length);
    if (batch.actions.length !== n * a) invalidRlInput('batch.actions.length', `equal size × actionSize = ${n * a}`, batch.actions.length);
    const { gamma } = this.config;
    const nextNoise = this.gaussian(n * a);
    const noise = this.gaussian(n * a);
    const criticVariables = this.critics.flat().flatMap((l) => [l.w, l.b]);
    const actorVariables = [...this.actorHidden, this.actorMean, this.actorLogStd].flatMap((l) => [l.w, l.b]);
    const stats = tf.tidy(() => {
      const obs = tf.tensor2d(batch.observations, [n, o]);
      const actions = tf.tensor2d(batch.actions, [n, a]);
      const next = tf.tensor2d(batch.nextObservations, [n, o]);
      const rewards = tf.tensor1d(batch.rewards);
      const notDone = tf.sub(1, tf.tensor1d(batch.dones));
      const alpha = tf.exp(this.logTemperature);
      // target y = r + γ (1 − d) (min Q'(s', a') − α log π(a'|s')), no gradient (computed outside the minimised closures)
      const nextPolicy = this.sample(next, tf.tensor2d(nextNoise, [n, a]));
      const nextQ = tf.minimum(this.q(this.targets[0], next, nextPolicy.action), this.q(this.targets[1], next, nextPolicy.action));
      const target = tf.add(rewards, tf.mul(tf.mul(gamma, notDone), tf.sub(nextQ, tf.mul(alpha, nextPolicy.logProb))));
      const criticLoss = this.criticOptimizer.minimize(() => {
        const e1 = tf.sub(this.q(this.critics[0], obs, actions), target);
        const e2 = tf.sub(this.q(this.critics[1], obs, actions), target);
        return tf.add(tf.mean(tf.square(e1)), tf.mean(tf.square(e2))) as tf.Scalar;
      }, true, criticVariables)!;
      let meanLogProb: tf.Tensor | undefined;
      const actorLoss = this.actorOptimizer.minimize(() => {
        const policy = this.sample(obs, tf.tensor2d(noise, [n, a]));
        meanLogProb = tf.keep(tf.mean(policy.logProb));
        const q = tf.minimum(this.q(this.critics[0], obs, policy.action), this.q(this.critics[1], obs, policy.action));
        return tf.mean(tf.sub(tf.mul(alpha, policy.logProb), q)) as tf.Scalar;
      }, true, actorVariables)!;
      const logProb = meanLogProb!.dataSync()[0]!;
      meanLogProb!.dispose();
      // ∂/∂ log α of −log α · (log π + H̄): the log-probability is a constant here
      const shift = logProb + this.targetEntropy;
      this.temperatureOptimizer.minimize(() => tf.mul(tf.neg(this.logTemperature), shift) as tf.Scalar, false, [this.logTemperature]);
      return { criticLoss: criticLoss.dataSync()[0]!, actorLoss: actorLoss.dataSync()[0]!, entropy: -logProb };
    });
    this.polyak();
    this.steps++;
    return { ...stats, temperature: this.temperature };
  }

  /** Returns a copy of the actor's weights (float32), e.g. for {@link exportActorOnnx} and {@link ActorNetwork}. */
  actorWeights(): ActorWeights {
    return {
      observationSize: this.observationSize,
      actionSize: this.actionSize,
      hidden: this.actorHidden.map(read),
      mean: read(this.actorMean),
      logStd: read(this.actorLogStd),
      logStdMin: this.config.logStdMin,
      logStdMax: this.config.logStdMax,
    };
  }

  /**
   * Returns every learned value as one float32 array in a fixed order (actor, Q1, Q2, Q1', Q2', log α): for
   * determinism checks and checkpoints' hashes.
   */
  allWeights(): Float32Array {
    const parts = [...this.actorHidden, this.actorMean, this.actorLogStd, ...this.critics.flat(), ...this.targets.flat()].flatMap((l) => [l.w.dataSync(), l.b.dataSync()]);
    parts.push(this.logTemperature.dataSync());
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Releases the tfjs variables and optimizer state. */
  dispose(): void {
    for (const l of [...this.actorHidden, this.actorMean, this.actorLogStd, ...this.critics.flat(), ...this.targets.flat()]) {
      l.w.dispose();
      l.b.dispose();
    }
    this.logTemperature.dispose();
    this.criticOptimizer.dispose();
    this.actorOptimizer.dispose();
    this.temperatureOptimizer.dispose();
  }

  private heads(obs: tf.Tensor2D): { mean: tf.Tensor2D; logStd: tf.Tensor2D } {
    let h: tf.Tensor2D = obs;
    for (const l of this.actorHidden) h = tf.relu(tf.add(tf.matMul(h, l.w as tf.Tensor2D), l.b)) as tf.Tensor2D;
    const mean = tf.add(tf.matMul(h, this.actorMean.w as tf.Tensor2D), this.actorMean.b) as tf.Tensor2D;
    const logStd = tf.clipByValue(tf.add(tf.matMul(h, this.actorLogStd.w as tf.Tensor2D), this.actorLogStd.b), this.config.logStdMin, this.config.logStdMax) as tf.Tensor2D;
    return { mean, logStd };
  }

  /** Reparameterised draw a = tanh(μ + σ ε) and its log-probability with the tanh correction, one per row. */
  private sample(obs: tf.Tensor2D, eps: tf.Tensor2D): { action: tf.Tensor2D; logProb: tf.Tensor1D } {
    const { mean, logStd } = this.heads(obs);
    const u = tf.add(mean, tf.mul(tf.exp(logStd), eps));
    const gaussian = tf.sum(tf.sub(tf.sub(tf.mul(-0.5, tf.square(eps)), logStd), HALF_LOG_2PI), 1);
    // log(1 − tanh(u)²) = 2 (log 2 − u − softplus(−2u)), numerically stable (as Spinning Up and SB3)
    const correction = tf.sum(tf.mul(2, tf.sub(tf.sub(LOG_2, u), tf.softplus(tf.mul(-2, u)))), 1);
    return { action: tf.tanh(u) as tf.Tensor2D, logProb: tf.sub(gaussian, correction) as tf.Tensor1D };
  }

  private q(net: readonly Dense[], obs: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
    let h = tf.concat([obs, actions], 1);
    for (let i = 0; i < net.length - 1; i++) h = tf.relu(tf.add(tf.matMul(h, net[i]!.w as tf.Tensor2D), net[i]!.b)) as tf.Tensor2D;
    const out = net[net.length - 1]!;
    return tf.reshape(tf.add(tf.matMul(h, out.w as tf.Tensor2D), out.b), [-1]) as tf.Tensor1D;
  }

  private polyak(): void {
    const tau = this.config.tau;
    tf.tidy(() => {
      for (let k = 0; k < 2; k++) {
        const source = this.critics[k]!, target = this.targets[k]!;
        for (let i = 0; i < source.length; i++) {
          target[i]!.w.assign(tf.add(tf.mul(1 - tau, target[i]!.w), tf.mul(tau, source[i]!.w)));
          target[i]!.b.assign(tf.add(tf.mul(1 - tau, target[i]!.b), tf.mul(tau, source[i]!.b)));
        }
      }
    });
  }

  /** `count` standard normal draws (Box–Muller pairs) from the seeded noise stream. */
  private gaussian(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      if (this.spare === this.spare) {
        out[i] = this.spare;
        this.spare = Number.NaN;
        continue;
      }
      let u = this.noise.nextFloat();
      while (u === 0) u = this.noise.nextFloat();
      const r = Math.sqrt(-2 * Math.log(u)), t = 2 * Math.PI * this.noise.nextFloat();
      out[i] = r * Math.cos(t);
      this.spare = r * Math.sin(t);
    }
    return out;
  }
}

/**
 * Creates a {@link SacAgent} on the tfjs cpu backend (selected once per process).
 * @throws RlError `invalid_input` for an observation or action size that is not a positive integer.
 */
export async function createSacAgent(config: SacConfig, sizes: { readonly observationSize: number; readonly actionSize: number }): Promise<SacAgent> {
  await cpuBackend();
  return new SacAgent(config, sizes);
}

/** Glorot-uniform weights (limit √(6 / (in + out))) from `random`, zero biases. */
function dense(random: SeededRandom, inputSize: number, outputSize: number): Dense {
  const limit = Math.sqrt(6 / (inputSize + outputSize));
  const w = new Float32Array(inputSize * outputSize);
  for (let i = 0; i < w.length; i++) w[i] = (2 * random.nextFloat() - 1) * limit;
  return tf.tidy(() => ({ w: tf.variable(tf.tensor2d(w, [inputSize, outputSize]), true), b: tf.variable(tf.zeros([outputSize]), true) }));
}

/** A variable holding a copy of `source` (the copy's temporary tensor is released; variables outlive tidy). */
function variable(source: tf.Tensor, trainable: boolean): tf.Variable {
  return tf.tidy(() => tf.variable(source.clone(), trainable));
}

function stack(random: SeededRandom, inputSize: number, hidden: readonly number[]): Dense[] {
  return hidden.map((size, i) => dense(random, i === 0 ? inputSize : hidden[i - 1]!, size));
}

function read(l: Dense): DenseWeights {
  const [inputSize, outputSize] = l.w.shape as [number, number];
  return { inputSize, outputSize, weight: Float32Array.from(l.w.dataSync() as Float32Array), bias: Float32Array.from(l.b.dataSync() as Float32Array) };
}
