import { z } from 'zod';
import { deepFreeze, describeConfigIssue } from '../core/config-issues.js';
import { err, ok, type Result } from '../core/result.js';
import { RlError } from './rl-error.js';

/**
 * Soft Actor-Critic hyperparameters. Defaults follow the reference implementation of Haarnoja et al. (2018),
 * "Soft Actor-Critic Algorithms and Applications" (arXiv:1812.05905, table 1; the same values as OpenAI Spinning Up
 * and Stable-Baselines3): Adam with learning rate 3e-4 for the critics, the actor and the temperature; minibatch 256;
 * Polyak coefficient τ = 0.005; discount γ = 0.99; one gradient step per environment step; replay capacity 10^6;
 * automatic temperature with target entropy −|A| (absent `targetEntropy`); the actor's log standard deviation
 * clipped to [−20, 2]; initial temperature 1 (log α = 0), as softlearning and SB3.
 *
 * One departure: two hidden layers of 64 ReLU units, not the reference's 256 (sized for MuJoCo's 17–376-dimensional
 * observations; the sizer has 14 and one action). Measured on this 2-core machine under load (README): a 256-256
 * actor's decision costs p50 93 µs against the 20 µs target (64-64: p99 17 µs), and a 256-256 / batch-256 gradient
 * step ~1.3 s on the tfjs cpu backend (64-64: ~0.12 s). `hiddenSizes: [256, 256]` restores the reference.
 */
export const SacConfig = z
  .object({
    /** Seed of every random draw: weight initialisation, exploration noise, replay sampling. */
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    /** Hidden layer widths of the actor and of each Q network (ReLU); see the schema's doc for why not 256-256. */
    hiddenSizes: z.array(z.number().int().min(1).max(4096)).min(1).max(8).default([64, 64]),
    /** Adam learning rate of the twin Q networks. */
    criticLearningRate: z.number().gt(0).max(1).default(3e-4),
    /** Adam learning rate of the actor. */
    actorLearningRate: z.number().gt(0).max(1).default(3e-4),
    /** Adam learning rate of log α (the entropy temperature). */
    temperatureLearningRate: z.number().gt(0).max(1).default(3e-4),
    /** Minibatch size of one gradient step. */
    batchSize: z.number().int().min(1).max(1_000_000).default(256),
    /** Polyak coefficient of the target networks: θ' ← (1 − τ) θ' + τ θ after every gradient step. */
    tau: z.number().gt(0).max(1).default(0.005),
    /** Discount factor γ. */
    gamma: z.number().min(0).max(1).default(0.99),
    /** Initial temperature α (entropy weight); learned from then on. */
    initialTemperature: z.number().gt(0).max(1e6).default(1),
    /** Target entropy of the automatic temperature; absent = −|A| (the reference heuristic). */
    targetEntropy: z.number().finite().optional(),
    /** Replay buffer capacity (transitions). */
    replayCapacity: z.number().int().min(1).max(100_000_000).default(1_000_000),
    /** Environment steps with uniform random actions before the policy acts (exploration warm-up). */
    randomSteps: z.number().int().min(0).default(10_000),
    /** No gradient step before the buffer holds this many transitions. */
    learningStarts: z.number().int().min(1).default(1_000),
    /** Gradient steps per environment step. */
    gradientStepsPerStep: z.number().int().min(1).max(1_000).default(1),
    /** Clip range of the actor's log standard deviation (pre-tanh Gaussian). */
    logStdMin: z.number().finite().default(-20),
    logStdMax: z.number().finite().default(2),
  })
  .strict()
  .refine((c) => c.logStdMin < c.logStdMax, { message: 'must be < logStdMax', path: ['logStdMin'] });
export type SacConfig = z.output<typeof SacConfig>;
export type SacConfigInput = z.input<typeof SacConfig>;

/**
 * Parses a SAC config (`.strict()`: unknown keys fail), fills the defaults and deep-freezes it.
 * @example
 * const sac = parseSacConfig({ seed: 7, hiddenSizes: [64, 64] });
 * if (!sac.success) throw sac.error;
 */
export function parseSacConfig(raw: unknown): Result<SacConfig, RlError> {
  const parsed = SacConfig.safeParse(raw);
  if (parsed.success) return ok(deepFreeze(parsed.data) as SacConfig);
  const issues = parsed.error.issues.map((i) => describeConfigIssue(i, raw));
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return err(new RlError('invalid_config', `sac config ${first.path}: ${first.problem}${more}`, { path: first.path, problem: first.problem, issues }));
}
