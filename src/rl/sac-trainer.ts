import { deriveSeed, SeededRandom } from '../models/index.js';
import { ReplayBuffer } from './replay-buffer.js';
import { invalidRlInput } from './rl-error.js';
import type { SacAgent, SacUpdateStats } from './sac-agent.js';

/** What an environment returns for one action. */
export interface EnvironmentStep {
  readonly observation: ArrayLike<number>;
  /** Reward of the transition (after costs, for trading environments). */
  readonly reward: number;
  /** Terminal: the episode ended by the task itself, no bootstrap from `observation`. */
  readonly done: boolean;
  /** Cut by a time limit: the next observation still bootstraps, but the episode restarts. */
  readonly truncated: boolean;
}

/** A steppable environment with continuous actions in [−1, 1]^actionSize (the SAC agent's squashed space). */
export interface Environment {
  readonly observationSize: number;
  readonly actionSize: number;
  /** Starts an episode; returns its first observation. */
  reset(): ArrayLike<number>;
  step(action: Float32Array): EnvironmentStep;
}

/** Progress of {@link trainSac} after an environment step (with the latest gradient step's statistics, once learning started). */
export interface SacProgress {
  readonly step: number;
  readonly episodes: number;
  /** Sum of rewards of the last finished episode (NaN before the first ends). */
  readonly lastEpisodeReward: number;
  readonly update: SacUpdateStats | null;
}

/**
 * Runs `steps` environment steps of SAC: uniform random actions for the first `config.randomSteps` steps (from a
 * seeded stream), then draws from the policy; each transition goes to a seeded {@link ReplayBuffer}; once it holds
 * `config.learningStarts` transitions, `config.gradientStepsPerStep` gradient steps follow each environment step.
 * Returns the buffer (for inspection) and the number of gradient steps taken. With `options.buffer` (e.g. across the
 * stages of a curriculum) training continues on it: transitions already stored count towards `randomSteps`, and
 * the exploration stream is derived from the seed and the buffer's size.
 * @throws RlError `invalid_input` when the environment's or the buffer's sizes differ from the agent's, or `steps` is
 *   not an integer >= 0.
 * @example
 * const agent = await createSacAgent(config, env);
 * trainSac(env, agent, { steps: 50_000, onProgress: (p) => bar.update(p.step) });
 */
export function trainSac(env: Environment, agent: SacAgent, options: { readonly steps: number; readonly buffer?: ReplayBuffer; readonly onProgress?: (progress: SacProgress) => void }): { readonly buffer: ReplayBuffer; readonly gradientSteps: number } {
  const { steps, onProgress } = options;
  const config = agent.config;
  if (!Number.isInteger(steps) || steps < 0) invalidRlInput('steps', 'be an integer >= 0', steps);
  if (env.observationSize !== agent.observationSize) invalidRlInput('env.observationSize', `equal the agent's ${agent.observationSize}`, env.observationSize);
  if (env.actionSize !== agent.actionSize) invalidRlInput('env.actionSize', `equal the agent's ${agent.actionSize}`, env.actionSize);
  const buffer = options.buffer ?? new ReplayBuffer({ capacity: Math.min(config.replayCapacity, Math.max(1, steps)), observationSize: env.observationSize, actionSize: env.actionSize, seed: deriveSeed(config.seed, 3) });
  if (buffer.observationSize !== agent.observationSize || buffer.actionSize !== agent.actionSize) invalidRlInput('buffer sizes', `equal the agent's (${agent.observationSize}, ${agent.actionSize})`, `(${buffer.observationSize}, ${buffer.actionSize})`);
  const stored = buffer.size;
  const explore = new SeededRandom(stored === 0 ? deriveSeed(config.seed, 2) : deriveSeed(deriveSeed(config.seed, 2), stored));
  let observation = Float32Array.from(env.reset());
  let episodes = 0, episodeReward = 0, lastEpisodeReward = Number.NaN, gradientSteps = 0;
  let update: SacUpdateStats | null = null;
  for (let t = 0; t < steps; t++) {
    let action: Float32Array;
    if (stored + t < config.randomSteps) {
      action = new Float32Array(env.actionSize);
      for (let k = 0; k < action.length; k++) action[k] = 2 * explore.nextFloat() - 1;
    } else {
      action = agent.act(observation, 1, false);
    }
    const r = env.step(action);
    buffer.add(observation, action, r.reward, r.observation, r.done);
    episodeReward += r.reward;
    if (r.done || r.truncated) {
      episodes++;
      lastEpisodeReward = episodeReward;
      episodeReward = 0;
      observation = Float32Array.from(env.reset());
    } else {
      observation = Float32Array.from(r.observation);
    }
    if (buffer.size >= config.learningStarts) {
      for (let g = 0; g < config.gradientStepsPerStep; g++) {
        update = agent.update(buffer.sample(config.batchSize));
        gradientSteps++;
      }
    }
    onProgress?.({ step: t + 1, episodes, lastEpisodeReward, update });
  }
  return { buffer, gradientSteps };
}
