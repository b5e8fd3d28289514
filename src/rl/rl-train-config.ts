import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { deepFreeze, describeConfigIssue } from '../core/config-issues.js';
import { err, ok, type Result } from '../core/result.js';
import { WalkForwardConfig } from '../training/index.js';
import { CurriculumConfig } from './env/curriculum.js';
import { SizingEnvironmentConfig } from './env/sizing-environment.js';
import { RlError } from './rl-error.js';
import { SacConfig } from './sac-config.js';

/**
 * A SAC sizer training run (`tm train-rl --config experiments/rl/<name>.json`): which experiment's sizing pipeline
 * (strategy params, data, costs, regime fit) it trains over, the SAC hyperparameters, the curriculum schedule, the
 * reward, the purged walk-forward folds and the seed. Every object is `.strict()`; defaults are the schemas' own
 * ({@link SacConfig}, {@link CurriculumConfig}, {@link SizingEnvironmentConfig}, the signal pipeline's walk-forward).
 */
export const RlTrainConfig = z
  .object({
    /** Name of the run and of the actor packages (`<name>-<SYMBOL>`). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-"'),
    description: z.string().default(''),
    /** Experiment config file (e.g. experiments/momentum-regime-kelly.json): a regime-kelly strategy with a `regime` section. */
    experiment: z.string().min(1),
    /** Symbols of the experiment to train (one agent per symbol and fold); absent = all of them. */
    symbols: z.array(z.string().min(1)).min(1).optional(),
    /** Seed of everything trained (SAC weights, exploration, replay, curriculum order); each fold derives its own. */
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    /** SAC hyperparameters without `seed` (the top-level `seed` is used). */
    sac: SacConfig.prefault({}),
    curriculum: CurriculumConfig.prefault({}),
    /** Training environment (reward). */
    environment: SizingEnvironmentConfig.prefault({}),
    /** Purged walk-forward folds over the experiment's bars (the signal pipeline's planner and schema). */
    walkForward: WalkForwardConfig.prefault({}),
    /** Label horizon of the signal in bars (the purge is max(horizonBars, purgeGap)). */
    horizonBars: z.number().int().min(1).max(10_000).default(6),
    /** Bars replayed without trading before each out-of-sample test fold. */
    testWarmupBars: z.number().int().min(0).max(1_000_000).default(250),
  })
  .strict();
export type RlTrainConfig = z.output<typeof RlTrainConfig>;

/**
 * Parses a training-run config (parsed JSON) into a deep-frozen {@link RlTrainConfig} whose `sac.seed` is the
 * top-level `seed`. `where` names the source in messages, which name the JSON path, the rule and the value:
 * `experiments/rl/x.json: $.sac.batchSize: Too small: expected number to be >=1, was 0`.
 */
export function parseRlTrainConfig(json: unknown, where = 'config'): Result<RlTrainConfig, RlError> {
  const sac = json !== null && typeof json === 'object' ? (json as Record<string, unknown>)['sac'] : undefined;
  if (sac !== null && typeof sac === 'object' && Object.hasOwn(sac, 'seed')) {
    return err(new RlError('invalid_config', `${where}: $.sac.seed: set the top-level $.seed instead (one seed per run)`, { where, path: '$.sac.seed' }));
  }
  const parsed = RlTrainConfig.safeParse(json);
  if (!parsed.success) {
    const { path, problem } = describeConfigIssue(parsed.error.issues[0]!, json);
    return err(new RlError('invalid_config', `${where}: ${path}: ${problem}`, { where, path, problem }));
  }
  const data = parsed.data;
  return ok(deepFreeze({ ...data, sac: { ...data.sac, seed: data.seed } }));
}

/** Reads and parses a training-run config file ({@link parseRlTrainConfig}). */
export async function loadRlTrainConfig(file: string): Promise<Result<RlTrainConfig, RlError>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return err(new RlError('invalid_config', `${file}: cannot read the config: ${(e as Error).message}`, { where: file }, { cause: e }));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return err(new RlError('invalid_config', `${file}: $: not JSON (${(e as Error).message})`, { where: file, path: '$' }, { cause: e }));
  }
  return parseRlTrainConfig(json, file);
}
