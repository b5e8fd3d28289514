import { SeededRandom } from '../models/index.js';
import { invalidRlInput } from './rl-error.js';

/** A minibatch drawn from a {@link ReplayBuffer}: row-major float32 matrices of `size` rows (reused between draws). */
export interface ReplayBatch {
  readonly size: number;
  /** [size × observationSize] */
  readonly observations: Float32Array;
  /** [size × actionSize], actions in the squashed space [−1, 1]. */
  readonly actions: Float32Array;
  /** [size] */
  readonly rewards: Float32Array;
  /** [size × observationSize] */
  readonly nextObservations: Float32Array;
  /** [size]: 1 when the transition ended the episode (no bootstrap from the next observation), else 0. */
  readonly dones: Float32Array;
}

/**
 * Fixed-capacity ring buffer of transitions (s, a, r, s', done) over preallocated Float32Arrays: no per-transition
 * objects. Once full, a new transition overwrites the oldest. Sampling draws indices uniformly with replacement from
 * its own {@link SeededRandom}, so the same seed and the same transitions give the same batches.
 * @example
 * const buffer = new ReplayBuffer({ capacity: 100_000, observationSize: 9, actionSize: 1, seed: 7 });
 * buffer.add(obs, action, reward, nextObs, false);
 * const batch = buffer.sample(256);
 */
export class ReplayBuffer {
  readonly capacity: number;
  readonly observationSize: number;
  readonly actionSize: number;
  private readonly observations: Float32Array;
  private readonly actions: Float32Array;
  private readonly rewards: Float32Array;
  private readonly nextObservations: Float32Array;
  private readonly dones: Float32Array;
  private readonly random: SeededRandom;
  private next = 0;
  private count = 0;
  private batch: ReplayBatch | undefined;

  /** @throws RlError `invalid_input` for a capacity, observation or action size that is not a positive integer. */
  constructor(options: { readonly capacity: number; readonly observationSize: number; readonly actionSize: number; readonly seed: number }) {
    const { capacity, observationSize, actionSize, seed } = options;
    for (const [name, v] of [['capacity', capacity], ['observationSize', observationSize], ['actionSize', actionSize]] as const) {
      if (!Number.isInteger(v) || v < 1) invalidRlInput(name, 'be an integer >= 1', v);
    }
    this.capacity = capacity;
    this.observationSize = observationSize;
    this.actionSize = actionSize;
    this.observations = new Float32Array(capacity * observationSize);
    this.actions = new Float32Array(capacity * actionSize);
    this.rewards = new Float32Array(capacity);
    this.nextObservations = new Float32Array(capacity * observationSize);
    this.dones = new Float32Array(capacity);
    this.random = new SeededRandom(seed);
  }

  /** Number of stored transitions (<= capacity). */
  get size(): number {
    return this.count;
  }

  /**
   * Stores one transition (copies the arrays).
   * @throws RlError `invalid_input` for a wrong length or a non-finite value (a NaN would poison every later update).
   */
  add(observation: ArrayLike<number>, action: ArrayLike<number>, reward: number, nextObservation: ArrayLike<number>, done: boolean): void {
    const o = this.observationSize, a = this.actionSize;
    if (observation.length !== o) invalidRlInput('observation.length', `equal observationSize = ${o}`, observation.length);
    if (nextObservation.length !== o) invalidRlInput('nextObservation.length', `equal observationSize = ${o}`, nextObservation.length);
    if (action.length !== a) invalidRlInput('action.length', `equal actionSize = ${a}`, action.length);
    if (!Number.isFinite(reward)) invalidRlInput('reward', 'be finite', reward);
    const i = this.next;
    for (let k = 0; k < o; k++) {
      const x = observation[k]!, y = nextObservation[k]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) invalidRlInput(`observation[${k}]`, 'be finite (in both observation and nextObservation)', Number.isFinite(x) ? y : x);
      this.observations[i * o + k] = x;
      this.nextObservations[i * o + k] = y;
    }
    for (let k = 0; k < a; k++) {
      const x = action[k]!;
      if (!(x >= -1 && x <= 1)) invalidRlInput(`action[${k}]`, 'lie in [-1, 1] (squashed action space)', x);
      this.actions[i * a + k] = x;
    }
    this.rewards[i] = reward;
    this.dones[i] = done ? 1 : 0;
    this.next = (i + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /**
   * Draws `batchSize` transitions uniformly with replacement into a batch object that is reused by the next call
   * (copy what must outlive it).
   * @throws RlError `invalid_input` when the buffer is empty or `batchSize` is not a positive integer.
   */
  sample(batchSize: number): ReplayBatch {
    if (!Number.isInteger(batchSize) || batchSize < 1) invalidRlInput('batchSize', 'be an integer >= 1', batchSize);
    if (this.count === 0) invalidRlInput('buffer size', 'be >= 1 to sample', 0);
    const o = this.observationSize, a = this.actionSize;
    let b = this.batch;
    if (b === undefined || b.size !== batchSize) {
      b = { size: batchSize, observations: new Float32Array(batchSize * o), actions: new Float32Array(batchSize * a), rewards: new Float32Array(batchSize), nextObservations: new Float32Array(batchSize * o), dones: new Float32Array(batchSize) };
      this.batch = b;
    }
    for (let r = 0; r < batchSize; r++) {
      const i = this.random.nextInt(this.count);
      b.observations.set(this.observations.subarray(i * o, i * o + o), r * o);
      b.nextObservations.set(this.nextObservations.subarray(i * o, i * o + o), r * o);
      b.actions.set(this.actions.subarray(i * a, i * a + a), r * a);
      b.rewards[r] = this.rewards[i]!;
      b.dones[r] = this.dones[i]!;
    }
    return b;
  }
}
