import { z } from 'zod';
import { deepFreeze, describeConfigIssue } from '../../core/config-issues.js';
import type { Instrument } from '../../core/instrument.js';
import { err, ok, type Result } from '../../core/result.js';
import { InstrumentFeeModel, type BacktestSpec, type FeeModel } from '../../backtest/index.js';
import type { Liquidity } from '../../core/order.js';
import type { SacAgent } from '../sac-agent.js';
import { trainSac, type SacProgress } from '../sac-trainer.js';
import { ReplayBuffer } from '../replay-buffer.js';
import { deriveSeed, SeededRandom } from '../../models/index.js';
import { invalidRlInput, RlError } from '../rl-error.js';
import { SizingEnvironment, type SizingEnvironmentOptions } from './sizing-environment.js';

/** Which episodes a curriculum stage draws from: by realised volatility relative to the median episode. */
export type EpisodeSet = 'calm' | 'volatile' | 'all';

const Stage = z
  .object({
    /** Environment steps (decisions) of the stage. */
    steps: z.number().int().min(1).max(100_000_000),
    /** Multiplier of the spec's fees: 0 = no fees, 1 = the full fee model. */
    feeScale: z.number().min(0).max(1),
    /** `calm`: episodes whose realised volatility is at most the median episode's; `volatile`: above it; `all`. */
    episodes: z.enum(['calm', 'volatile', 'all']),
  })
  .strict();

/**
 * Curriculum of the sizer's training: stages run in order on one agent and one replay buffer. The default schedule
 * (issue 15: fees 0 → full, then calm → volatile regimes): 10k decisions on calm episodes without fees, 10k calm with
 * full fees, 20k volatile with full fees, 20k on every episode with full fees.
 */
export const CurriculumConfig = z
  .object({
    /** Decision bars per episode (each episode also replays `warmupBars` before it, without trading). */
    episodeBars: z.number().int().min(10).max(1_000_000).default(500),
    /** Warm-up bars replayed before each episode (regime filter, IC, breaker start warm). */
    warmupBars: z.number().int().min(0).max(1_000_000).default(250),
    stages: z
      .array(Stage)
      .min(1)
      .default([
        { steps: 10_000, feeScale: 0, episodes: 'calm' },
        { steps: 10_000, feeScale: 1, episodes: 'calm' },
        { steps: 20_000, feeScale: 1, episodes: 'volatile' },
        { steps: 20_000, feeScale: 1, episodes: 'all' },
      ]),
  })
  .strict();
export type CurriculumConfig = z.output<typeof CurriculumConfig>;

/** Parses a curriculum config (`.strict()`), fills the defaults and deep-freezes it. */
export function parseCurriculumConfig(raw: unknown): Result<CurriculumConfig, RlError> {
  const parsed = CurriculumConfig.safeParse(raw);
  if (parsed.success) return ok(deepFreeze(parsed.data) as CurriculumConfig);
  const first = describeConfigIssue(parsed.error.issues[0]!, raw);
  return err(new RlError('invalid_config', `curriculum config ${first.path}: ${first.problem}`, { path: first.path, problem: first.problem }));
}

/** The spec's fee model times `scale` (0 = free trading, 1 = unchanged). */
export class ScaledFeeModel implements FeeModel {
  constructor(
    private readonly base: FeeModel,
    private readonly scale: number,
  ) {}
  fee(instrument: Instrument, notional: number, liquidity: Liquidity): number {
    return this.scale * this.base.fee(instrument, notional, liquidity);
  }
}

/** One episode of a spec: decision bars [from, to) of its frame, and its realised volatility label. */
export interface Episode {
  readonly from: number;
  readonly to: number;
  /** Sample standard deviation of the episode's one-bar log closes' differences (raw units). */
  readonly volatility: number;
  /** `calm` when `volatility` <= the median over the spec's episodes, else `volatile`. */
  readonly label: 'calm' | 'volatile';
}

/**
 * Cuts the single-instrument `spec`'s bars after the first `warmupBars` into consecutive episodes of `episodeBars`
 * (a shorter tail is dropped) and labels each by realised volatility against the median episode.
 * @throws RlError `invalid_input` when no whole episode fits.
 */
export function episodes(spec: BacktestSpec, episodeBars: number, warmupBars: number): Episode[] {
  const close = spec.frame.close[0]!;
  const out: { from: number; to: number; volatility: number }[] = [];
  for (let from = warmupBars; from + episodeBars <= close.length; from += episodeBars) {
    let sum = 0, sumSq = 0, n = 0;
    for (let t = from + 1; t < from + episodeBars; t++) {
      const r = Math.log(close[t]! / close[t - 1]!);
      if (r !== r) continue;
      sum += r;
      sumSq += r * r;
      n++;
    }
    const mean = n > 0 ? sum / n : 0;
    out.push({ from, to: from + episodeBars, volatility: n > 1 ? Math.sqrt(Math.max(0, (sumSq - n * mean * mean) / (n - 1))) : 0 });
  }
  if (out.length === 0) invalidRlInput('spec.frame bars', `hold warmupBars + episodeBars = ${warmupBars + episodeBars} at least`, close.length);
  const sorted = out.map((e) => e.volatility).sort((a, b) => a - b);
  const median = sorted[(sorted.length - 1) >> 1]!;
  return out.map((e) => ({ ...e, label: e.volatility <= median ? 'calm' : 'volatile' }));
}

/** The spec of one episode: bars [from − warmupBars, to) with their columns, `warmupBars` warm-up, fees × feeScale. */
export function episodeSpec(spec: BacktestSpec, episode: Pick<Episode, 'from' | 'to'>, warmupBars: number, feeScale: number): BacktestSpec {
  const start = Math.max(0, episode.from - warmupBars), end = episode.to;
  const f = spec.frame;
  const cut = <T extends Float64Array | Uint8Array>(a: T): T => a.subarray(start, end) as T;
  const frame = { ...f, ts: cut(f.ts), open: f.open.map(cut), high: f.high.map(cut), low: f.low.map(cut), close: f.close.map(cut), volume: f.volume.map(cut), present: f.present.map(cut) };
  const columns = spec.columns === undefined ? undefined : Object.fromEntries(Object.entries(spec.columns).map(([name, perInstrument]) => [name, perInstrument.map(cut)]));
  return { ...spec, frame, ...(columns !== undefined ? { columns } : {}), warmupBars: episode.from - start, fees: new ScaledFeeModel(spec.fees ?? new InstrumentFeeModel(), feeScale) };
}

/** Progress of {@link trainCurriculum}: the SAC progress within the current stage. */
export interface CurriculumProgress extends SacProgress {
  readonly stage: number;
  readonly stageSteps: number;
}

/**
 * Trains `agent` through the curriculum's stages in order, on one replay buffer: each stage builds a
 * {@link SizingEnvironment} whose episodes are the stage's episode set of `options.spec` (in a seeded random order,
 * then cycled), with the
 * fees scaled by the stage's `feeScale`. Returns the gradient steps per stage.
 * @throws RlError `invalid_input` when a stage's episode set is empty.
 * @example
 * trainCurriculum(agent, { spec, regime, strategyParams }, curriculum, { onProgress: (p) => bar.update(p.step) });
 */
export function trainCurriculum(agent: SacAgent, environment: SizingEnvironmentOptions, curriculum: CurriculumConfig, options: { readonly onProgress?: (progress: CurriculumProgress) => void } = {}): number[] {
  const all = episodes(environment.spec, curriculum.episodeBars, curriculum.warmupBars);
  const buffer = new ReplayBuffer({ capacity: Math.min(agent.config.replayCapacity, curriculum.stages.reduce((s, x) => s + x.steps, 0)), observationSize: agent.observationSize, actionSize: agent.actionSize, seed: deriveSeed(agent.config.seed, 3) });
  return curriculum.stages.map((stage, k) => {
    const chosen = all.filter((e) => stage.episodes === 'all' || e.label === stage.episodes);
    if (chosen.length === 0) invalidRlInput(`curriculum.stages[${k}].episodes`, 'select at least one episode', stage.episodes);
    // a seeded shuffle: a stage shorter than its episodes does not train on the earliest ones only
    const order = new SeededRandom(deriveSeed(agent.config.seed, 200 + k));
    for (let i = chosen.length - 1; i > 0; i--) {
      const j = order.nextInt(i + 1);
      [chosen[i], chosen[j]] = [chosen[j]!, chosen[i]!];
    }
    const specs = chosen.map((e) => episodeSpec(environment.spec, e, curriculum.warmupBars, stage.feeScale));
    const env = new SizingEnvironment({ ...environment, spec: specs[0]!, episodes: specs });
    const { gradientSteps } = trainSac(env, agent, { steps: stage.steps, buffer, ...(options.onProgress ? { onProgress: (p: SacProgress) => options.onProgress!({ ...p, stage: k, stageSteps: stage.steps }) } : {}) });
    return gradientSteps;
  });
}
