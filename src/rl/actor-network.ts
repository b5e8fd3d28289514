import { invalidRlInput } from './rl-error.js';

/** One dense layer y = x · W + b; `weight` is row-major [inputSize × outputSize] (as tfjs matMul and ONNX Gemm with transB = 0). */
export interface DenseWeights {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/**
 * The weights of a SAC actor: a ReLU trunk (`hidden`), then two linear heads over the last hidden layer, the
 * pre-tanh Gaussian mean μ(s) and its log standard deviation (clipped to [logStdMin, logStdMax]). The deterministic
 * action is tanh(μ(s)) in [−1, 1]; the stochastic one tanh(μ(s) + σ(s) ε), ε ~ N(0, I).
 */
export interface ActorWeights {
  readonly observationSize: number;
  readonly actionSize: number;
  readonly hidden: readonly DenseWeights[];
  readonly mean: DenseWeights;
  readonly logStd: DenseWeights;
  readonly logStdMin: number;
  readonly logStdMax: number;
}

/**
 * Allocation-free float32 forward pass of an {@link ActorWeights} for one observation (the inference path of
 * {@link SacRlSizer}; the ONNX parity test checks it against onnxruntime on the exported graph). Accumulates in
 * float64 and rounds each layer's output to float32, as a float32 Gemm does up to summation order.
 * @example
 * const actor = new ActorNetwork(weights);
 * actor.forward(observation);
 * const action = actor.action[0]; const logStd = actor.logStd[0];
 */
export class ActorNetwork {
  readonly weights: ActorWeights;
  /** tanh(μ(s)) after {@link forward}: the deterministic action in [−1, 1], one per action dimension. */
  readonly action: Float32Array;
  /** μ(s) (pre-tanh mean) after {@link forward}. */
  readonly mean: Float32Array;
  /** Clipped log σ(s) after {@link forward}. */
  readonly logStd: Float32Array;
  private readonly buffers: Float32Array[];
  private readonly accumulator: Float64Array;

  constructor(weights: ActorWeights) {
    this.weights = weights;
    this.action = new Float32Array(weights.actionSize);
    this.mean = new Float32Array(weights.actionSize);
    this.logStd = new Float32Array(weights.actionSize);
    this.buffers = weights.hidden.map((l) => new Float32Array(l.outputSize));
    this.accumulator = new Float64Array(Math.max(weights.actionSize, ...weights.hidden.map((l) => l.outputSize)));
  }

  /**
   * Runs the actor on one observation; results in {@link action}, {@link mean} and {@link logStd}.
   * @throws RlError `invalid_input` when `observation.length !== observationSize`.
   */
  forward(observation: ArrayLike<number>): void {
    const w = this.weights;
    if (observation.length !== w.observationSize) invalidRlInput('observation.length', `equal observationSize = ${w.observationSize}`, observation.length);
    let input: ArrayLike<number> = observation;
    for (let l = 0; l < w.hidden.length; l++) {
      const out = this.buffers[l]!;
      dense(w.hidden[l]!, input, out, this.accumulator);
      for (let j = 0; j < out.length; j++) if (!(out[j]! > 0)) out[j] = 0;
      input = out;
    }
    dense(w.mean, input, this.mean, this.accumulator);
    dense(w.logStd, input, this.logStd, this.accumulator);
    for (let j = 0; j < w.actionSize; j++) {
      this.action[j] = Math.tanh(this.mean[j]!);
      const s = this.logStd[j]!;
      this.logStd[j] = s < w.logStdMin ? w.logStdMin : s > w.logStdMax ? w.logStdMax : s;
    }
  }
}

/** out = input · W + b, row by row of W (sequential memory; zero inputs, e.g. after ReLU, are skipped). */
function dense(layer: DenseWeights, input: ArrayLike<number>, out: Float32Array, acc: Float64Array): void {
  const { inputSize: n, outputSize: m, weight, bias } = layer;
  for (let j = 0; j < m; j++) acc[j] = bias[j]!;
  for (let i = 0; i < n; i++) {
    const x = input[i]!;
    if (x === 0) continue;
    const row = i * m;
    for (let j = 0; j < m; j++) acc[j] += x * weight[row + j]!;
  }
  for (let j = 0; j < m; j++) out[j] = acc[j]!;
}
