import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeConfigIssue } from '../core/config-issues.js';
import { err, ok, type Result } from '../core/result.js';
import { parseUtcMs } from '../core/time.js';
import { DEFAULT_FEATURE_SPEC, FEATURE_FUNCTIONS, type FeatureFunctionName, type FeatureSpec } from '../features/index.js';
import { TrainingError } from './training-error.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const UtcDate = z.string().refine((s) => Number.isFinite(parseUtcMs(s)), { message: 'must be an ISO-8601 UTC date like 2022-01-01 or 2022-01-01T00:00:00Z' });
const VenueSymbol = z.string().regex(/^[A-Z0-9]{2,30}$/, { message: 'must be an upper-case venue symbol like BTCUSDT' });

/** Which bars and side inputs to train on. */
const TrainDataConfig = z
  .object({
    /** Store venue of the price series. */
    venue: z.string().min(1).default('binance-spot'),
    symbols: z
      .array(VenueSymbol)
      .min(1)
      .refine((s) => new Set(s).size === s.length, { message: 'must not repeat a symbol' })
      .default(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']),
    timeframe: z.string().regex(/^[1-9][0-9]*[mhdw]$/, { message: 'must look like 1m, 4h or 1d' }).default('4h'),
    /** Inclusive start of the training rows (bar open time), UTC; features warm up on bars before it. */
    start: UtcDate.default('2022-01-01'),
    /** Exclusive end (bar open time), UTC. */
    end: UtcDate.default('2025-09-01'),
    /** Venue of the funding settlements (feature input and backtest funding). */
    fundingVenue: z.string().min(1).default('binance-futures'),
    /** Load Deribit BTC DVOL for the DVOL features. */
    dvol: z.boolean().default(true),
    /** Reference symbol of the cross-asset features. */
    reference: VenueSymbol.default('BTCUSDT'),
  })
  .strict()
  .refine((d) => parseUtcMs(d.start) < parseUtcMs(d.end), { message: 'must be after data.start', path: ['end'] });

const FeatureEntry = z
  .object({
    name: z.string().min(1),
    fn: z.string().refine((f) => Object.hasOwn(FEATURE_FUNCTIONS, f), { message: `must be one of ${Object.keys(FEATURE_FUNCTIONS).join(', ')}` }),
    params: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).default({}),
  })
  .strict()
  .superRefine((e, ctx) => {
    // The feature function's own params schema, checked when the config is read (not a minute into training).
    const fn = Object.hasOwn(FEATURE_FUNCTIONS, e.fn) ? FEATURE_FUNCTIONS[e.fn as FeatureFunctionName] : undefined;
    const parsed = fn?.params.safeParse(e.params);
    if (!parsed || parsed.success) return;
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ['params', ...issue.path] } as never);
  });

/** The training label: the forward log return over `horizon` bars, optionally divided by causal volatility. */
const LabelConfig = z
  .object({
    /** Bars ahead h: label[t] = ln(close[t + h] / close[t]). */
    horizon: z.number().int().min(1).max(500).default(6),
    /**
     * `volatility-scaled` divides the label by realizedVolatility(close, volatilityWindow)[t] · sqrt(h) (known at t),
     * so pooled symbols share one scale; `log-return` trains on the raw return; `triple-barrier` trains on the
     * triple-barrier label (+1 profit barrier first, −1 stop first, sign of the return at the vertical barrier h bars
     * ahead; barriers `barriers.profit` / `barriers.stop` times that same σ·sqrt(h); NaN until known, so it never ends
     * later than t + h and the walk-forward purge of max(h, purgeGap) covers it). IC is always measured against the raw return.
     */
    target: z.enum(['volatility-scaled', 'log-return', 'triple-barrier']).default('volatility-scaled'),
    volatilityWindow: z.number().int().min(2).default(42),
    /** Profit / stop barriers of `triple-barrier`, in units of realizedVolatility(close, volatilityWindow)[t] · sqrt(h). */
    barriers: z.object({ profit: z.number().gt(0).max(20).default(1), stop: z.number().gt(0).max(20).default(1) }).strict().prefault({}),
  })
  .strict();

/** Purged walk-forward validation. */
export const WalkForwardConfig = z
  .object({
    /** Test folds K, in time order, covering the bars after the initial training window. */
    folds: z.number().int().min(1).max(50).default(5),
    /** Fraction of the rows before the first test fold (the first training window). */
    initialTrainFraction: z.number().gt(0).lt(1).default(0.4),
    /** `expanding`: train on every row before the fold (minus the purge); `rolling`: only the last `rollingBars` of them. */
    window: z.enum(['expanding', 'rolling']).default('expanding'),
    rollingBars: z.number().int().min(100).default(3000),
    /** Bars dropped before each test fold (never fewer than the label horizon); 200 as in the emulated system. */
    purgeGap: z.number().int().min(0).default(200),
    /** Bars embargoed after each test fold; absent = ceil(1 % of the rows). Walk-forward trains on past rows only, so it drops nothing. */
    embargo: z.number().int().min(0).optional(),
  })
  .strict();

/** Boruta inside each fold (training rows only). */
const BorutaConfig = z
  .object({
    iterations: z.number().int().min(1).max(500).default(50),
    alpha: z.number().gt(0).lt(1).default(0.05),
    bonferroni: z.boolean().default(true),
    maxRows: z.number().int().min(100).default(2500),
    trees: z.number().int().min(1).default(30),
    maxDepth: z.number().int().min(1).max(64).default(6),
    minLeaf: z.number().int().min(1).default(25),
    maxBins: z.number().int().min(2).max(256).default(32),
    /** Features kept per fold: at least `minFeatures` (filled from tentative, then rejected by importance), at most `maxFeatures`. */
    minFeatures: z.number().int().min(1).default(9),
    maxFeatures: z.number().int().min(1).default(13),
  })
  .strict()
  .refine((b) => b.minFeatures <= b.maxFeatures, { message: 'must be >= boruta.minFeatures', path: ['maxFeatures'] });

const GradientBoostingConfig = z
  .object({
    rounds: z.number().int().min(1).default(150),
    learningRate: z.number().gt(0).max(1).default(0.05),
    maxDepth: z.number().int().min(1).max(32).default(4),
    minLeaf: z.number().int().min(1).default(50),
    lambda: z.number().min(0).default(1),
    subsample: z.number().gt(0).max(1).default(0.8),
    featureFraction: z.number().gt(0).max(1).default(0.8),
    maxBins: z.number().int().min(2).max(256).default(64),
  })
  .strict();

/** Fine-tuning of the pooled model on one symbol (`fitMore`). */
const TransferConfig = z
  .object({
    rounds: z.number().int().min(1).default(60),
    learningRate: z.number().gt(0).max(1).default(0.03),
  })
  .strict();

const RandomForestConfig = z
  .object({
    trees: z.number().int().min(1).default(60),
    maxDepth: z.number().int().min(1).max(64).default(6),
    minLeaf: z.number().int().min(1).default(50),
    sampleFraction: z.number().gt(0).max(1).default(0.5),
    maxBins: z.number().int().min(2).max(256).default(64),
  })
  .strict();

/** The backtest that scores each configuration's signal (the engine's `runBacktest`; no second PnL code). */
const SignalBacktestConfig = z
  .object({
    /** Long when prediction > threshold, short when < -threshold (prediction units = label units). */
    threshold: z.number().min(0).default(0),
    /** Position notional per symbol as a fraction of equity (divided by the symbol count in the 3-symbol portfolio). */
    allocation: z.number().gt(0).max(10).default(1),
    leverage: z.number().gt(0).max(100).default(2),
    initialCash: z.number().gt(0).default(10_000),
    /** Taker fee (market orders), fraction of notional: Bybit non-VIP 0.055 %. */
    takerFee: z.number().min(0).max(0.01).default(0.00055),
    makerFee: z.number().min(-0.01).max(0.01).default(0.0002),
    slippageBps: z.number().min(0).max(1000).default(2),
    /** Funding assumed where the funding table has no settlement (SOL before 2025-02 on binance-futures). */
    fundingFallback: z
      .discriminatedUnion('kind', [z.object({ kind: z.literal('constant'), rate: z.number().min(-0.05).max(0.05) }).strict(), z.object({ kind: z.literal('zero') }).strict()])
      .default({ kind: 'constant', rate: 0.0001 }),
    /** Bars per year for the annualised Sharpe (4h: 2190). */
    periodsPerYear: z.number().gt(0).default(2190),
  })
  .strict();

/** Promotion gates on the final configuration's overall out-of-sample result (all symbols). */
const GatesConfig = z
  .object({
    /** Spearman IC must be >= this. */
    minIc: z.number().default(0.05),
    /** IC p-value must be < this. */
    maxPValue: z.number().gt(0).max(1).default(0.15),
    /** Annualised Sharpe after fees must be > this. */
    minSharpe: z.number().default(0.5),
  })
  .strict();

/** The meta-label GBDT (secondary model) and its take-the-bet threshold on P(win): the fields `tm train`'s `metaLabel` and the model table's `meta` share. */
export const MetaModelFields = {
  threshold: z.number().gt(0).lt(1).default(0.5),
  rounds: z.number().int().min(1).default(40),
  maxDepth: z.number().int().min(1).max(32).default(3),
  learningRate: z.number().gt(0).max(1).default(0.05),
  minLeaf: z.number().int().min(1).default(100),
};

/**
 * Meta-labelling (López de Prado 2018, ch. 3.6) of the final configuration in the walk-forward: per fold a secondary
 * GBDT learns P(the primary's bet wins) from the training rows only — their triple-barrier meta-labels (the primary's
 * side, barriers `barriers.profit` / `barriers.stop` × σ_t · sqrt(h) with σ_t = realizedVolatility(close,
 * label.volatilityWindow)[t], vertical barrier at the label horizon h, so every label ends by t + h and the purge
 * covers it), where the primary predictions it learns from are out-of-sample (two inner purged halves of the
 * training rows, each predicted by models fitted on the other) — and the test rows keep the primary prediction
 * where P > `threshold` and are 0 (no bet) elsewhere.
 */
const MetaLabelConfig = z
  .object({
    ...MetaModelFields,
    barriers: z.object({ profit: z.number().gt(0).max(20).default(1), stop: z.number().gt(0).max(20).default(1) }).strict().prefault({}),
  })
  .strict();

/** The configurations compared by the walk-forward (the "trials" of the Deflated Sharpe Ratio, with the symbols). */
export const CONFIGURATIONS = ['pooled', 'per-symbol', 'transfer', 'random-forest'] as const;
export type ConfigurationName = (typeof CONFIGURATIONS)[number];

/**
 * `tm train` config (`experiments/train-<name>.json`). Unknown keys fail; every default is declared here once.
 * @example { "name": "gbdt-transfer", "seed": 42 }
 */
export const TrainConfig = z
  .object({
    /** Model name: `models/<name>/`, the card's name, the predictions table's `model`. */
    name: z.string().regex(NAME, { message: 'must be letters, digits, ".", "_" or "-"' }),
    description: z.string().optional(),
    data: TrainDataConfig.prefault({}),
    /** Feature spec: `default` = DEFAULT_FEATURE_SPEC, or an explicit list of `{ name, fn, params }`. */
    features: z.union([z.literal('default'), z.array(FeatureEntry).min(1)]).default('default'),
    label: LabelConfig.prefault({}),
    walkForward: WalkForwardConfig.prefault({}),
    boruta: BorutaConfig.prefault({}),
    gbdt: GradientBoostingConfig.prefault({}),
    transfer: TransferConfig.prefault({}),
    randomForest: RandomForestConfig.prefault({}),
    backtest: SignalBacktestConfig.prefault({}),
    gates: GatesConfig.prefault({}),
    /**
     * Meta-labelling of the `final` configuration (absent = off): scored as extra walk-forward trials
     * (`<final>+meta`, counted in the DSR), its out-of-sample signal written to the store as
     * `<name>@<predictionsVersion>-meta`. The exported ONNX stays the primary model; the gates judge the primary.
     */
    metaLabel: MetaLabelConfig.optional(),
    /** Configuration whose OOS predictions go to the predictions table and whose final model(s) are exported. */
    final: z.enum(CONFIGURATIONS).default('transfer'),
    /** `model_version` of the walk-forward predictions in the store (rows of that version are replaced on each run). */
    predictionsVersion: z.string().regex(NAME).default('wf'),
    /** MLflow experiment the run is logged to (when MLFLOW_TRACKING_URI is set). */
    experiment: z.string().min(1).default('tm-train'),
    /** Seed of every random draw (Boruta, forests, boosting). */
    seed: z.number().int().min(0).max(0xffffffff).default(42),
  })
  .strict();
export type TrainConfig = z.output<typeof TrainConfig>;

/** Returns the feature spec a config names. */
export function trainFeatureSpec(config: TrainConfig): FeatureSpec {
  if (config.features === 'default') return DEFAULT_FEATURE_SPEC;
  return config.features.map((e) => ({ name: e.name, fn: e.fn as FeatureFunctionName, params: e.params }));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Parses a training config (parsed JSON) into a deep-frozen {@link TrainConfig}. `where` names the source in messages.
 * Errors name the JSON path, the rule and the value: `experiments/train-x.json: $.walkForward.folds: Too small: expected number to be >=1, was 0`.
 */
export function parseTrainConfig(json: unknown, where = 'config'): Result<TrainConfig, TrainingError> {
  const parsed = TrainConfig.safeParse(json);
  if (parsed.success) return ok(deepFreeze(parsed.data));
  const { path, problem } = describeConfigIssue(parsed.error.issues[0]!, json);
  return err(new TrainingError('invalid_config', `${where}: ${path}: ${problem}`, { where, path, problem, issues: parsed.error.issues }));
}

/** Reads and parses a training config file. */
export async function loadTrainConfig(file: string): Promise<Result<TrainConfig, TrainingError>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return err(new TrainingError('invalid_config', `${file}: cannot read the config: ${(e as Error).message}`, { where: file }, { cause: e }));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return err(new TrainingError('invalid_config', `${file}: $: not JSON (${(e as Error).message})`, { where: file, path: '$' }, { cause: e }));
  }
  return parseTrainConfig(json, file);
}
