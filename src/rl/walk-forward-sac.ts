import { computeMetrics, runBacktest, simpleReturns, type BacktestResult, type BacktestSpec } from '../backtest/index.js';
import type { FittedRegime, Strategy } from '../engine/strategy.js';
import { deriveSeed } from '../models/index.js';
import { regimeKelly } from '../strategies/index.js';
import { deflatedSharpeRatio, planFolds, returnMoments, type ReturnMoments, type TrainConfig } from '../training/index.js';
import { exportActorOnnx, readActorOnnx } from './actor-onnx.js';
import { episodeSpec, trainCurriculum, type CurriculumConfig, type CurriculumProgress } from './env/curriculum.js';
import { createSacAgent } from './sac-agent.js';
import type { SacConfig } from './sac-config.js';
import { SacRlSizer } from './sac-rl-sizer.js';
import { SIZING_OBSERVATION_NAMES, SIZING_OBSERVATION_SPEC } from './sizing-observation.js';

/** The sizers compared out of sample. */
export type SizerVariant = 'SAC' | 'PURE_KELLY' | 'flat';
export const SIZER_VARIANTS: readonly SizerVariant[] = Object.freeze(['SAC', 'PURE_KELLY', 'flat']);

/** What {@link walkForwardSac} runs. */
export interface SacWalkForwardOptions {
  /** One instrument's whole history (frame, signal column, fees, slippage, funding); its `warmupBars` is ignored. */
  readonly spec: BacktestSpec;
  /**
   * The instrument's fitted regime. It is used in every fold as given: fit it on bars before the first test fold
   * (or accept the leak knowingly); the signal column must be out-of-sample predictions likewise.
   */
  readonly regime: FittedRegime;
  /** regime-kelly params of the sizing pipeline (signal column, units, `risk`: the deployed cascade thresholds). */
  readonly strategyParams?: Readonly<Record<string, unknown>>;
  readonly sac: SacConfig;
  readonly curriculum: CurriculumConfig;
  /** `SizingEnvironment` config (reward). */
  readonly environment?: unknown;
  /** The signal pipeline's purged walk-forward folds (same planner and config). */
  readonly walkForward: TrainConfig['walkForward'];
  /** Label horizon of the signal (the purge is max(horizon, purgeGap) bars). */
  readonly horizonBars: number;
  /** Bars replayed (without trading) before each test fold. */
  readonly warmupBars: number;
  readonly onProgress?: (fold: number, progress: CurriculumProgress) => void;
}

/** One fold: where it tested, what trained, and each variant's test backtest. */
export interface SacFold {
  readonly index: number;
  /** Test bars [testStart, testEnd) of the spec's frame; training bars [trainFrom, trainEnd) (purge removed). */
  readonly testStart: number;
  readonly testEnd: number;
  readonly trainFrom: number;
  readonly trainEnd: number;
  readonly gradientSteps: readonly number[];
  /** The fold's exported actor (ONNX). */
  readonly actor: Uint8Array;
  readonly results: Readonly<Record<SizerVariant, BacktestResult>>;
}

/** Out-of-sample figures of one variant over the concatenated test folds. */
export interface SizerScore {
  readonly variant: SizerVariant;
  /** Bar returns of the equity (per fold, concatenated). */
  readonly observations: number;
  /** Annualised Sharpe (per-bar Sharpe × sqrt(periods per year)); null without variance (flat). */
  readonly sharpe: number | null;
  /** Compounded return over the folds. */
  readonly totalReturn: number;
  /** Worst fold's maximum drawdown (fraction <= 0, e.g. -0.25 = 25 % below the peak; the engine metrics' sign). */
  readonly maxDrawdown: number;
  /** Deflated Sharpe over the variants with a Sharpe (trials = their count); null for flat. */
  readonly deflatedSharpe: number | null;
  /** Per-bar moments of the returns (for a Deflated Sharpe over more trials, e.g. every symbol's variants). */
  readonly moments: ReturnMoments;
}

export interface SacWalkForwardResult {
  readonly folds: readonly SacFold[];
  readonly scores: readonly SizerScore[];
}

/**
 * Walk-forward training and out-of-sample evaluation of the SAC sizer with the signal pipeline's purged folds
 * (`planFolds` over the spec's bars): per fold, a new agent (seed derived from `sac.seed` and the fold) trains
 * through the curriculum on the training bars, its actor is exported to ONNX and read back, and the test bars (with
 * `warmupBars` replayed before them) are backtested through the engine three times: regime-kelly with the actor as
 * its RL sizer (the cascade's own thresholds decide FULL_RL / BLENDED / PURE_KELLY), regime-kelly alone
 * (PURE_KELLY), and flat (no orders). Scores are over the concatenated test bars; the Deflated Sharpe uses the
 * variants with a Sharpe as the trials.
 * @throws TrainingError `insufficient_data` from the fold planner; RlError from the environment or curriculum.
 */
export async function walkForwardSac(options: SacWalkForwardOptions): Promise<SacWalkForwardResult> {
  const { spec, regime, sac, curriculum, walkForward, horizonBars, warmupBars } = options;
  const params = options.strategyParams ?? {};
  const rows = spec.frame.ts.length;
  const plans = planFolds(rows, walkForward, horizonBars, spec.frame.ts);
  const folds: SacFold[] = [];
  for (const plan of plans) {
    const trainEnd = plan.testStart - Math.max(horizonBars, walkForward.purgeGap);
    const trainSpec = episodeSpec(spec, { from: plan.trainFrom, to: trainEnd }, 0, 1);
    const agent = await createSacAgent({ ...sac, seed: deriveSeed(sac.seed, 100 + plan.index) }, { observationSize: SIZING_OBSERVATION_NAMES.length, actionSize: 1 });
    let gradientSteps: number[];
    let actor: Uint8Array;
    try {
      gradientSteps = trainCurriculum(agent, { spec: trainSpec, regime, strategyParams: params, ...(options.environment !== undefined ? { config: options.environment } : {}) }, curriculum, options.onProgress ? { onProgress: (p) => options.onProgress!(plan.index, p) } : {});
      actor = exportActorOnnx(agent.actorWeights(), { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC, metadata: { fold: String(plan.index), seed: String(agent.config.seed) } });
    } finally {
      agent.dispose();
    }
    const weights = readActorOnnx(actor, { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC }).weights;
    const testSpec = episodeSpec(spec, { from: plan.testStart, to: plan.testEnd }, warmupBars, 1);
    const flat: Strategy = { name: 'flat' };
    const results = {
      SAC: runBacktest(testSpec, regimeKelly(params, { regimes: [regime], rlSizers: [new SacRlSizer(weights, { name: `sac-fold-${plan.index}` })] })),
      PURE_KELLY: runBacktest(testSpec, regimeKelly(params, { regimes: [regime] })),
      flat: runBacktest(testSpec, flat),
    };
    folds.push({ index: plan.index, testStart: plan.testStart, testEnd: plan.testEnd, trainFrom: plan.trainFrom, trainEnd, gradientSteps, actor, results });
  }
  return { folds, scores: score(folds, spec.periodsPerYear) };
}

function score(folds: readonly SacFold[], periodsPerYear: number): SizerScore[] {
  const raw = SIZER_VARIANTS.map((variant) => {
    const returns: number[] = [];
    let growth = 1, maxDrawdown = 0;
    for (const f of folds) {
      const r = f.results[variant];
      for (const x of simpleReturns(r.equity.value)) returns.push(x);
      const v = r.equity.value;
      growth *= v.length > 0 ? v[v.length - 1]! / f.results[variant].initialCash : 1;
      maxDrawdown = Math.min(maxDrawdown, computeMetrics(r).maxDrawdown);
    }
    const m = returnMoments(returns);
    return { variant, moments: m, totalReturn: growth - 1, maxDrawdown, hasSharpe: m.count > 1 && m.std > 0 };
  });
  const dsr = deflatedSharpes(raw.map((x) => x.moments));
  return raw.map(({ variant, moments, totalReturn, maxDrawdown, hasSharpe }, k) => ({
    variant,
    observations: moments.count,
    sharpe: hasSharpe ? moments.sharpe * Math.sqrt(periodsPerYear) : null,
    totalReturn,
    maxDrawdown,
    deflatedSharpe: dsr[k] ?? null,
    moments,
  }));
}

/**
 * Deflated Sharpe of each trial (per-bar return moments) over the trials that have a Sharpe (at least 2 returns
 * with variance): trials = their count, Sharpe variance = the sample variance of their per-bar Sharpes. Null for a
 * trial without a Sharpe (e.g. flat).
 */
export function deflatedSharpes(trials: readonly ReturnMoments[]): (number | null)[] {
  const has = (m: ReturnMoments) => m.count > 1 && m.std > 0;
  const sharpes = trials.filter(has).map((m) => m.sharpe);
  const meanSharpe = sharpes.reduce((s, x) => s + x, 0) / Math.max(1, sharpes.length);
  const variance = sharpes.length > 1 ? sharpes.reduce((s, x) => s + (x - meanSharpe) ** 2, 0) / (sharpes.length - 1) : 0;
  return trials.map((m) => (has(m) ? deflatedSharpeRatio({ sharpe: m.sharpe, observations: m.count, skewness: m.skewness, kurtosis: m.kurtosis, trials: sharpes.length, sharpeVariance: variance }).dsr : null));
}
