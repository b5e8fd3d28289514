import { deepFreeze, describeConfigIssue, formatJsonPath } from '../core/config-issues.js';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { AppError } from '../core/app-error.js';
import { err, ok, type Result } from '../core/result.js';
import { DAY_MS, parseUtcMs, timeframeMs } from '../core/time.js';
import { RiskConfig } from './risk-config.js';

/** Codes of config failures: the file cannot be read, is not JSON, or does not fit the schema. */
export type ConfigErrorCode = 'io' | 'invalid_json' | 'invalid_config';

/**
 * A config file that cannot be used. `context` holds `file`, `path` (JSON path of the offending value, `$` for the
 * whole document, e.g. `$.data.timeframe`), `problem`, and for schema failures every zod issue as `issues`.
 * The message reads `<file>: <path>: <problem>`.
 */
export class ConfigError extends AppError<ConfigErrorCode> {}

const KEBAB = /^[a-z0-9][a-z0-9-]*$/;

const Timeframe = z.string().refine((s) => /^([1-9][0-9]*)([mhdw])$/.test(s), { message: 'must look like 1m, 4h or 1d' });
const UtcDate = z.string().refine((s) => Number.isFinite(parseUtcMs(s)), { message: 'must be an ISO-8601 UTC date like 2022-01-01 or 2022-01-01T00:00:00Z' });
const VenueSymbol = z.string().regex(/^[A-Z0-9]{2,30}$/, { message: 'must be an upper-case venue symbol like BTCUSDT' });
const Fraction = z.number().min(0).max(1);

/** Which bars to trade on: one venue, several symbols, one timeframe, [start, end). */
const DataConfig = z
  .object({
    /** Store venue of the price series, e.g. `binance-spot`, `bybit`. */
    venue: z.string().min(1),
    symbols: z.array(VenueSymbol).min(1).refine((s) => new Set(s).size === s.length, { message: 'must not repeat a symbol' }),
    timeframe: Timeframe,
    /** Inclusive start (bar open time), UTC. */
    start: UtcDate,
    /** Exclusive end (bar open time), UTC. */
    end: UtcDate,
    /** What to do where a symbol lacks a bar on the common grid (see `MissingBarPolicy` in data/). */
    missingBars: z.enum(['error', 'nan', 'forward-fill', 'intersect']).default('error'),
  })
  .strict()
  .refine((d) => parseUtcMs(d.start) < parseUtcMs(d.end), { message: 'must be after data.start', path: ['end'] });

const FundingFallbackConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant'), rate: z.number().min(-0.05).max(0.05) }).strict(),
  z.object({ kind: z.literal('zero') }).strict(),
]);

/** Where funding settlements come from, and what to assume where that table has none. Spot instruments pay none. */
const FundingConfig = z
  .object({
    /** Store venue of the `funding_rates` table to apply (symbol = the traded symbol). */
    venue: z.string().min(1).default('binance-futures'),
    fallback: FundingFallbackConfig.default({ kind: 'constant', rate: 0.0001 }),
    /** Refuse the run when any funding time of a perpetual in the backtest range has no settlement (never use `fallback`). */
    strict: z.boolean().default(false),
  })
  .strict();

const SlippageConfig = z.discriminatedUnion('model', [
  /** A constant `bps` against the taker. */
  z.object({ model: z.literal('fixed'), bps: z.number().min(0).max(1000) }).strict(),
  /** `baseBps + impactBps × (quantity / barVolume)^exponent`, capped at `maxBps`. */
  z
    .object({
      model: z.literal('volume'),
      baseBps: z.number().min(0).max(1000),
      impactBps: z.number().min(0).max(100_000),
      exponent: z.number().gt(0).max(2).default(0.5),
      maxBps: z.number().gt(0).max(10_000).default(500),
    })
    .strict(),
]);

/**
 * An extra per-bar column strategies read from their history (e.g. `signal`):
 * - `predictions`: rows of the store's `predictions` table for `model` (and `version`; absent = the only version
 *   stored, an error when there are several) on the experiment's venue, symbols and timeframe;
 * - `feature`: a causal feature of `src/features/` computed from the bars, with its `params`.
 */
const ColumnSourceConfig = z.discriminatedUnion('source', [
  z.object({ source: z.literal('predictions'), model: z.string().min(1), version: z.string().min(1).optional() }).strict(),
  z.object({ source: z.literal('feature'), feature: z.string().regex(KEBAB, { message: 'must be a feature name like log-momentum' }), params: z.record(z.string(), z.unknown()).default({}) }).strict(),
  /**
   * A trained model package streamed bar by bar through the signal stage (incremental features → ONNX) while the
   * backtest runs: `model` is the package folder (`models/<name>`; per-symbol packages in `<name>/<SYMBOL>/`) or
   * `<name>@<alias>` (the 4-tier loader: MLflow alias → run → S3 → local `TM_MODELS_DIR`) or `<name>/<version>`
   * (a pinned registered version, e.g. `gbdt-transfer/3`: MLflow → its S3 copy → local `TM_MODELS_DIR/<name>/<version>`).
   * Windows overlapping the training range and models whose gates failed are refused unless allowed.
   */
  z
    .object({
      source: z.literal('model'),
      model: z.string().min(1),
      fundingVenue: z.string().min(1).default('binance-futures'),
      reference: z.string().min(1).default('BTCUSDT'),
      dvol: z.boolean().default(true),
      allowInSample: z.boolean().default(false),
      allowUngated: z.boolean().default(false),
    })
    .strict(),
]);

/**
 * A regime model fitted once before the run: a `states`-state MS-GARCH(1,1) per traded symbol, fitted by maximum
 * likelihood (seed `seed`) to the raw log returns of that symbol's closes on the experiment's venue and timeframe
 * with bar open times in [fitStart, fitEnd). fitEnd must be <= data.start, so the fit sees only bars that closed
 * before the backtest's first bar closed. The runner passes the fitted models to the strategy factory.
 */
const RegimeConfig = z
  .object({
    /** Inclusive start of the fit window (bar open time), UTC. */
    fitStart: UtcDate,
    /** Exclusive end of the fit window (bar open time), UTC; <= data.start. */
    fitEnd: UtcDate,
    /** Number of Markov states (4: crisis, bear, neutral, bull). */
    states: z.number().int().min(1).max(12).default(4),
    /** Seed of the fit's perturbed starts. */
    seed: z.number().int().min(0).default(1),
    /**
     * What to do with a fit the diagnostics call degenerate (a bound binds, a state is almost never occupied, a flat
     * Hessian): `refuse` stops the experiment naming the parameter; `report` runs it and says so in the report notes.
     */
    onDegenerate: z.enum(['refuse', 'report']).default('refuse'),
  })
  .strict()
  .refine((r) => parseUtcMs(r.fitStart) < parseUtcMs(r.fitEnd), { message: 'must be after regime.fitStart', path: ['fitEnd'] });

const BacktestConfigObject = z
  .object({
    /** Experiment name = the config file's name without `.json`; names the results folder and the baseline. */
    name: z.string().regex(KEBAB, { message: 'must be kebab-case (a-z, 0-9, -)' }),
    description: z.string().default(''),
    /** Strategy name in the `src/strategies` registry (`STRATEGIES`), e.g. `sma-crossover`. */
    strategy: z.string().regex(KEBAB, { message: 'must be a strategy module name like sma-crossover' }),
    /** Strategy parameters, validated by the strategy's own schema. */
    params: z.record(z.string(), z.unknown()).default({}),
    data: DataConfig,
    /** Trading rules: Bybit USDT linear perpetuals (`bybit-linear`) or spot pairs of the price venue (`spot`). */
    instruments: z.enum(['bybit-linear', 'spot']).default('bybit-linear'),
    funding: FundingConfig.prefault({}),
    /** Extra columns by name (see {@link ColumnSourceConfig}); none by default. */
    columns: z.record(z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, { message: 'column names must be identifiers like signal' }), ColumnSourceConfig).default({}),
    /** Starting cash, quote currency (USDT): finite, > 0 and < 1e15 (beyond that order quantities lose precision or overflow). */
    initialCash: z.number().finite().gt(0).lt(1e15, { message: 'must be < 1e15 (a larger cash amount overflows order quantities)' }).default(10_000),
    /** Max gross exposure / equity. */
    leverage: z.number().positive().max(100).default(1),
    slippage: SlippageConfig,
    /** Fee rates (fractions of notional) replacing the instruments' own; absent = the instruments' rates. */
    fees: z.object({ maker: Fraction.optional(), taker: Fraction.optional() }).strict().optional(),
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(1),
    /** Regime model fitted before the run on data before `data.start` (see {@link RegimeConfig}); absent = none. */
    regime: RegimeConfig.optional(),
    /** Pre-trade risk limits checked on every order (see {@link RiskConfig}); absent = none. */
    risk: RiskConfig.optional(),
    /**
     * Bars replayed before `data.start` without trading (strategy, feature columns, regime filter, IC and breaker warm
     * up; the first decision can then happen on the window's first bar): a number of bars, a duration (`30d`, `12h`,
     * `2w`), or `auto` = what the strategy and the feature columns declare they need. Capped by what the store holds.
     */
    warmup: z.union([z.literal('auto'), z.number().int().min(0).max(1_000_000), z.string().regex(/^[1-9][0-9]*[mhdw]$/, { message: "must be 'auto', a number of bars or a duration like 30d" })]).default('auto'),
  })
  .strict()
  .refine((c) => c.regime === undefined || parseUtcMs(c.regime.fitEnd) <= parseUtcMs(c.data.start), {
    message: 'must be <= data.start (the regime is fitted only on bars before the backtest)',
    path: ['regime', 'fitEnd'],
  });

/**
 * Schema of an experiment file (`experiments/<name>.json`). Unknown keys fail; defaults are declared here only.
 * The parsed value adds `periodsPerYear` derived from `data.timeframe` (365 days / bar length: 4h → 2190).
 */
export const BacktestConfig = BacktestConfigObject.transform((c) => ({ ...c, periodsPerYear: (365 * DAY_MS) / timeframeMs(c.data.timeframe) }));

/** A parsed, deep-frozen experiment config. */
export type BacktestConfig = DeepReadonly<z.output<typeof BacktestConfig>>;
/** What an experiment file may contain (before defaults). */
export type BacktestConfigInput = z.input<typeof BacktestConfig>;
export type ColumnSourceConfig = BacktestConfig['columns'][string];
export type SlippageConfig = BacktestConfig['slippage'];
export type RegimeConfig = NonNullable<BacktestConfig['regime']>;

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/**
 * Parses an already-read config value. `file` names the source in errors.
 * Returns the frozen config, or a {@link ConfigError} naming the file, the JSON path and the problem.
 */
export function parseBacktestConfig(raw: unknown, file: string): Result<BacktestConfig, ConfigError> {
  const parsed = BacktestConfig.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => describeConfigIssue(i, raw));
    const first = issues[0]!;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    return err(new ConfigError('invalid_config', `${file}: ${first.path}: ${first.problem}${more}`, { file, path: first.path, problem: first.problem, issues }));
  }
  const stem = basename(file).replace(/\.json$/, '');
  if (file.endsWith('.json') && parsed.data.name !== stem) {
    const problem = `name must equal the file name without .json (${JSON.stringify(stem)}), was ${JSON.stringify(parsed.data.name)}`;
    return err(new ConfigError('invalid_config', `${file}: $.name: ${problem}`, { file, path: '$.name', problem }));
  }
  return ok(deepFreeze(parsed.data) as BacktestConfig);
}

/**
 * Reads and parses an experiment file.
 * Returns the typed, deep-frozen config, or a {@link ConfigError} (`io`, `invalid_json`, `invalid_config`) naming the
 * file, the JSON path and the problem.
 * @example
 * const loaded = await loadConfig('experiments/sma-crossover.json');
 * if (!loaded.success) throw loaded.error;
 */
export async function loadConfig(file: string): Promise<Result<BacktestConfig, ConfigError>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const problem = `cannot read the file: ${(e as Error).message}`;
    return err(new ConfigError('io', `${file}: ${problem}`, { file, path: '$', problem }, { cause: e }));
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const problem = `not valid JSON: ${(e as Error).message}`;
    return err(new ConfigError('invalid_json', `${file}: $: ${problem}`, { file, path: '$', problem }, { cause: e }));
  }
  return parseBacktestConfig(raw, file);
}

export { deepFreeze, formatJsonPath };
