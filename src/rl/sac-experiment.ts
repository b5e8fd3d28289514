import { experimentSetup, SIZING_TIER_ORDER, tierAttribution, type ExperimentConfig, type ExperimentDeps } from '../backtest/index.js';
import { formatUtc } from '../core/time.js';
import type { CurriculumProgress } from './env/curriculum.js';
import { RlError } from './rl-error.js';
import type { RlTrainConfig } from './rl-train-config.js';
import { deflatedSharpes, walkForwardSac, type SacWalkForwardResult, type SizerScore, type SizerVariant } from './walk-forward-sac.js';

/** One point of a fold's learning curve (sampled every {@link SacExperimentOptions.curveEvery} environment steps). */
export interface LearningCurvePoint {
  readonly symbol: string;
  readonly fold: number;
  readonly stage: number;
  /** Environment steps since the fold's training started (all stages). */
  readonly step: number;
  readonly episodes: number;
  /** Reward sum of the last finished episode of the stage (NaN before one finished). */
  readonly episodeReward: number;
  /** Latest gradient step's statistics (NaN before learning started). */
  readonly criticLoss: number;
  readonly actorLoss: number;
  readonly entropy: number;
  readonly temperature: number;
}

/** A progress report of {@link runSacExperiment}: which symbol and fold trains, and the curriculum's progress. */
export interface SacExperimentProgress {
  readonly symbol: string;
  readonly symbolIndex: number;
  readonly fold: number;
  readonly folds: number;
  /** Environment steps done in the fold (all stages) and the fold's total. */
  readonly foldStep: number;
  readonly foldSteps: number;
  readonly progress: CurriculumProgress;
}

export interface SacExperimentOptions {
  readonly onProgress?: (p: SacExperimentProgress) => void;
  /** Learning-curve sampling period in environment steps (default 50). */
  readonly curveEvery?: number;
}

/** One row of the out-of-sample table: a symbol's variant over its concatenated test folds ({@link SizerScore} without the moments). */
export interface SacOosRow extends Omit<SizerScore, 'moments'> {
  readonly symbol: string;
  /** Deflated Sharpe over every trained variant of the run (all symbols' SAC and PURE_KELLY rows). */
  readonly deflatedSharpeAll: number | null;
  /** Share of the test bars in each sizing tier (SAC and PURE_KELLY rows; flat has none). */
  readonly tiers: Readonly<Record<string, number>> | null;
}

export interface SacExperimentSymbol {
  readonly symbol: string;
  readonly walkForward: SacWalkForwardResult;
  /** Bar open times of the frame (UTC) for the fold ranges. */
  readonly folds: readonly { readonly index: number; readonly train: readonly [string, string]; readonly test: readonly [string, string]; readonly gradientSteps: number }[];
  readonly notes: readonly string[];
}

export interface SacExperimentResult {
  readonly name: string;
  readonly symbols: readonly SacExperimentSymbol[];
  readonly rows: readonly SacOosRow[];
  /** Trials of the run-wide Deflated Sharpe (`deflatedSharpeAll`). */
  readonly trials: number;
  readonly curve: readonly LearningCurvePoint[];
}

/**
 * Trains and evaluates the SAC sizer of `config` on `experiment`'s sizing pipeline, one symbol at a time: the
 * experiment is set up for that symbol alone ({@link experimentSetup}: bars with warm-up, Bybit rules, fees,
 * slippage, funding, feature columns, the regime fitted before `data.start`), then {@link walkForwardSac} trains one
 * agent per purged fold through the curriculum and backtests SAC, PURE_KELLY and flat on the test bars. The table's
 * `deflatedSharpeAll` deflates every row with a Sharpe by all such rows of the run (every symbol's SAC and
 * PURE_KELLY). Deterministic: same store, configs and seed → same result.
 * @throws RlError `invalid_config` when the experiment is not regime-kelly, has no `regime` section or streams a
 *   `model` column (train over its stored predictions instead); ExperimentError / DataError from the setup.
 */
export async function runSacExperiment(config: RlTrainConfig, experiment: ExperimentConfig, deps: ExperimentDeps, options: SacExperimentOptions = {}): Promise<SacExperimentResult> {
  if (experiment.strategy !== 'regime-kelly') throw new RlError('invalid_config', `${config.experiment}: the SAC sizer trains over regime-kelly's sizing pipeline, the experiment's strategy is ${JSON.stringify(experiment.strategy)}`, { path: '$.experiment' });
  if (experiment.regime === undefined) throw new RlError('invalid_config', `${config.experiment}: the experiment needs a \`regime\` section (the sizer observes the regime probabilities)`, { path: '$.experiment' });
  if (Object.values(experiment.columns).some((c) => c.source === 'model')) {
    throw new RlError('invalid_config', `${config.experiment}: a streamed \`model\` column is not supported here; use its stored predictions (columns.<name>.source "predictions")`, { path: '$.experiment' });
  }
  const symbols = config.symbols ?? experiment.data.symbols;
  for (const [k, s] of symbols.entries()) {
    if (!experiment.data.symbols.includes(s)) throw new RlError('invalid_config', `$.symbols[${k}]: must be one of the experiment's symbols (${experiment.data.symbols.join(', ')}), was ${JSON.stringify(s)}`, { path: `$.symbols[${k}]` });
  }
  const every = options.curveEvery ?? 50;
  const foldSteps = config.curriculum.stages.reduce((s, x) => s + x.steps, 0);
  const stageStart = config.curriculum.stages.map((_, k) => config.curriculum.stages.slice(0, k).reduce((s, x) => s + x.steps, 0));
  const curve: LearningCurvePoint[] = [];
  const out: SacExperimentSymbol[] = [];
  for (const [symbolIndex, symbol] of symbols.entries()) {
    const setup = await experimentSetup({ ...experiment, data: { ...experiment.data, symbols: [symbol] } }, deps);
    const regime = setup.regimes![0]!;
    const wf = await walkForwardSac({
      spec: setup.spec,
      regime,
      strategyParams: experiment.params,
      sac: config.sac,
      curriculum: config.curriculum,
      environment: config.environment,
      walkForward: config.walkForward,
      horizonBars: config.horizonBars,
      warmupBars: config.testWarmupBars,
      onProgress: (fold, p) => {
        const foldStep = stageStart[p.stage]! + p.step;
        if (foldStep % every === 0 || p.step === p.stageSteps) {
          const u = p.update;
          curve.push({ symbol, fold, stage: p.stage, step: foldStep, episodes: p.episodes, episodeReward: p.lastEpisodeReward, criticLoss: u?.criticLoss ?? NaN, actorLoss: u?.actorLoss ?? NaN, entropy: u?.entropy ?? NaN, temperature: u?.temperature ?? NaN });
        }
        options.onProgress?.({ symbol, symbolIndex, fold, folds: config.walkForward.folds, foldStep, foldSteps, progress: p });
      },
    });
    const ts = setup.spec.frame.ts;
    const tf = ts.length > 1 ? ts[1]! - ts[0]! : 0;
    const at = (k: number) => formatUtc(k < ts.length ? ts[k]! : ts[ts.length - 1]! + tf);
    out.push({
      symbol,
      walkForward: wf,
      folds: wf.folds.map((f) => ({ index: f.index, train: [at(f.trainFrom), at(f.trainEnd)], test: [at(f.testStart), at(f.testEnd)], gradientSteps: f.gradientSteps.reduce((s, x) => s + x, 0) })),
      notes: setup.spec.notes ?? [],
    });
  }
  const rows = oosRows(out);
  return { name: config.name, symbols: out, rows, trials: rows.filter((r) => r.sharpe !== null).length, curve };
}

function oosRows(symbols: readonly SacExperimentSymbol[]): SacOosRow[] {
  const flat = symbols.flatMap((s) => s.walkForward.scores.map((score) => ({ symbol: s, score })));
  const all = deflatedSharpes(flat.map((x) => x.score.moments));
  return flat.map(({ symbol, score }, k) => ({
    symbol: symbol.symbol,
    variant: score.variant,
    observations: score.observations,
    sharpe: score.sharpe,
    totalReturn: score.totalReturn,
    maxDrawdown: score.maxDrawdown,
    deflatedSharpe: score.deflatedSharpe,
    deflatedSharpeAll: all[k] ?? null,
    tiers: tierShares(symbol.walkForward, score.variant),
  }));
}

/** Share of the variant's test bars (all folds) in each sizing tier; null when the variant annotated none. */
function tierShares(wf: SacWalkForwardResult, variant: SizerVariant): Record<string, number> | null {
  const bars = new Map<string, number>();
  let total = 0;
  for (const f of wf.folds) {
    const a = tierAttribution(f.results[variant]);
    if (a === null) continue;
    for (const t of a.total) {
      bars.set(t.tier, (bars.get(t.tier) ?? 0) + t.bars);
      total += t.bars;
    }
  }
  if (total === 0) return null;
  const order = [...SIZING_TIER_ORDER, ...[...bars.keys()].filter((t) => !SIZING_TIER_ORDER.includes(t)).sort()];
  return Object.fromEntries(order.map((t) => [t, (bars.get(t) ?? 0) / total]));
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const num = (x: number | null, d: number) => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));

/**
 * The out-of-sample table as Markdown: one row per symbol and variant (annualised Sharpe, total return, worst fold
 * drawdown, Deflated Sharpe per symbol and over the run, sizing-tier shares), the folds' ranges, and how to reproduce.
 */
export function sacOosMarkdown(result: SacExperimentResult, context: { readonly config: RlTrainConfig; readonly command: string; readonly seconds: number; readonly experiment: string }): string {
  const { config } = context;
  const lines = [
    `# SAC sizer out of sample: ${result.name}`,
    '',
    config.description,
    '',
    `Experiment: ${context.experiment} (sizing pipeline, data, costs, regime). SAC ${config.sac.hiddenSizes.join('-')}, batch ${config.sac.batchSize}, lr ${config.sac.actorLearningRate}, τ ${config.sac.tau}, γ ${config.sac.gamma}, seed ${config.seed}; curriculum ${config.curriculum.stages.map((s) => `${s.steps} ${s.episodes} fees×${s.feeScale}`).join(' → ')} (episodes of ${config.curriculum.episodeBars} bars after ${config.curriculum.warmupBars} warm-up); walk-forward ${config.walkForward.folds} folds, ${config.walkForward.window}, initial train ${config.walkForward.initialTrainFraction}, purge max(${config.horizonBars}, ${config.walkForward.purgeGap}) bars; ${config.testWarmupBars} warm-up bars replayed before each test fold. Wall time ${context.seconds.toFixed(0)} s.`,
    '',
    `Sharpe: annualised, bar returns of the equity over the concatenated test folds. DSR (symbol): over that symbol's SAC and PURE_KELLY; DSR (all): over all ${result.trials} rows with a Sharpe. Tiers: share of test bars in FULL_RL / BLENDED / PURE_KELLY / EMERGENCY_FLAT (none = before the first decision).`,
    '',
    '| symbol | sizer | Sharpe | total return | max drawdown | DSR (symbol) | DSR (all) | FULL_RL | BLENDED | PURE_KELLY | EMERGENCY_FLAT |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...result.rows.map((r) => {
      const t = (k: string) => (r.tiers === null ? '' : pct(r.tiers[k] ?? 0));
      return `| ${r.symbol} | ${r.variant} | ${num(r.sharpe, 2)} | ${pct(r.totalReturn)} | ${pct(r.maxDrawdown)} | ${num(r.deflatedSharpe, 3)} | ${num(r.deflatedSharpeAll, 3)} | ${t('FULL_RL')} | ${t('BLENDED')} | ${t('PURE_KELLY')} | ${t('EMERGENCY_FLAT')} |`;
    }),
    '',
    '| symbol | fold | train (UTC) | test (UTC) | gradient steps |',
    '| --- | ---: | --- | --- | ---: |',
    ...result.symbols.flatMap((s) => s.folds.map((f) => `| ${s.symbol} | ${f.index} | ${f.train[0]} → ${f.train[1]} | ${f.test[0]} → ${f.test[1]} | ${f.gradientSteps} |`)),
    '',
    `Reproduce: \`${context.command}\``,
    '',
  ];
  return lines.join('\n');
}
