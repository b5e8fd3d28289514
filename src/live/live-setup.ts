import { AppError } from '../core/app-error.js';
import type { Instrument } from '../core/instrument.js';
import { experimentVenueModels, warmupBarsWanted, type ExperimentColumnSource, type ExperimentConfig } from '../backtest/run-experiment.js';
import type { FeeModel, SlippageModel } from '../backtest/execution-models.js';
import type { RiskLimits } from '../engine/risk/risk-limits.js';
import { makeMsGarchModel } from '../regime/index.js';
import type { FittedRegime, Strategy, StrategyFactory } from '../engine/strategy.js';

export type LiveSetupErrorCode = 'unknown_strategy' | 'unsupported_in_live';
export class LiveSetupError extends AppError<LiveSetupErrorCode> {}

/** What a live run (and `tm replay`) takes from an experiment config: the same objects a backtest of it builds. */
export interface LiveSetup {
  readonly name: string;
  readonly strategy: Strategy;
  readonly instruments: readonly Instrument[];
  readonly symbols: readonly string[];
  readonly timeframe: string;
  readonly initialCash: number;
  readonly leverage: number;
  readonly fees: FeeModel;
  readonly slippage: SlippageModel;
  readonly warmupBars: number;
  /** Pre-trade risk limits (the config's `risk` section), absent = none. */
  readonly risk?: RiskLimits;
  /** The experiment as run live (a `--model` written into its model column). */
  readonly config: ExperimentConfig;
  /** The experiment's model column, streamed live through the signal stage (absent: the strategy reads no model). */
  readonly modelColumn?: LiveModelColumn;
}

/** A model column of a live run: its name (the strategy's history column) and where the model and its inputs come from. */
export interface LiveModelColumn {
  readonly column: string;
  readonly source: Extract<ExperimentColumnSource, { source: 'model' }>;
}

export interface LiveSetupOptions {
  /**
   * `tm live --model <ref>`: the model streamed into the experiment's model column (replacing its `model`), or into
   * its stored-predictions column (which has no rows for bars yet to come), with the model column's default inputs.
   */
  readonly model?: string;
  /** The experiment's regime fit (`fitExperimentRegimes` on the store's bars before `data.start`), when it has a `regime` section. */
  readonly regimes?: readonly FittedRegime[];
}

/**
 * Builds the live setup of an experiment with a fresh strategy object: the same objects a backtest of it builds.
 * A `model` column is streamed live (see `LiveSignals`); a stored-predictions column only with `options.model` (the
 * store has no predictions of bars yet to come); a `feature` column is refused; a `regime` section needs its fit
 * (`options.regimes`, fitted from the store on bars before `data.start`, as the backtest does).
 * @throws LiveSetupError `unknown_strategy`, `unsupported_in_live` naming the config path.
 */
export function liveSetup(config: ExperimentConfig, strategies: Readonly<Record<string, StrategyFactory>>, options: LiveSetupOptions = {}): LiveSetup {
  const factory = Object.hasOwn(strategies, config.strategy) ? strategies[config.strategy] : undefined;
  if (factory === undefined) throw new LiveSetupError('unknown_strategy', `strategy must be one of ${Object.keys(strategies).join(', ')}, was ${JSON.stringify(config.strategy)}`, { path: '$.strategy' });
  let modelColumn: LiveModelColumn | undefined;
  for (const [name, c] of Object.entries(config.columns)) {
    if (modelColumn !== undefined) throw new LiveSetupError('unsupported_in_live', `columns.${name}: one model column per live run (the signal stage writes one), ${modelColumn.column} is already one`, { path: `$.columns.${name}` });
    if (c.source === 'model') modelColumn = { column: name, source: options.model === undefined ? c : { ...c, model: options.model } };
    else if (c.source === 'predictions' && options.model !== undefined) modelColumn = { column: name, source: { source: 'model', model: options.model, ...MODEL_COLUMN_DEFAULTS } };
    else if (c.source === 'predictions') {
      throw new LiveSetupError('unsupported_in_live', `columns.${name} reads the store's stored predictions of model ${c.model}, which hold no bars yet to come: run live with --model <name@alias | folder> to stream a model through the signal stage instead`, { path: `$.columns.${name}` });
    } else {
      throw new LiveSetupError('unsupported_in_live', `columns.${name} (feature ${c.feature}): feature columns are computed over a whole frame and not streamed by the live runner; use a model column`, { path: `$.columns.${name}` });
    }
  }
  if (options.model !== undefined && modelColumn === undefined) throw new LiveSetupError('unsupported_in_live', `--model ${options.model}: the experiment has no column to stream a model into (add {"source": "model"} to columns)`, { path: '$.columns' });
  if (config.regime !== undefined && options.regimes === undefined) {
    throw new LiveSetupError('unsupported_in_live', 'regime: the experiment needs its regime fit (fitted from the store on bars before data.start): give the live run a store (tm live --store)', { path: '$.regime' });
  }
  const strategy = config.regime !== undefined ? factory(config.params, { regimes: options.regimes! }) : factory(config.params);
  const models = experimentVenueModels(config);
  // The experiment as run live: its model column as streamed (what the journal records and `tm replay` rebuilds).
  const effective: ExperimentConfig = modelColumn === undefined ? config : { ...config, columns: { [modelColumn.column]: modelColumn.source } };
  return {
    name: config.name,
    strategy,
    instruments: models.instruments,
    symbols: config.data.symbols,
    timeframe: config.data.timeframe,
    initialCash: config.initialCash,
    leverage: config.leverage,
    fees: models.fees,
    slippage: models.slippage,
    ...(config.risk !== undefined ? { risk: config.risk } : {}),
    ...(modelColumn !== undefined ? { modelColumn } : {}),
    // Live, a strategy always warms up on the bars it needs (a backtest may start cold when `warmup` is absent).
    warmupBars: warmupBarsWanted(config.warmup === undefined ? { ...effective, warmup: 'auto' } : effective, strategy, config.data.timeframe),
    config: effective,
  };
}

/** The inputs of a model column that does not name them (the config schema's defaults). */
const MODEL_COLUMN_DEFAULTS = { fundingVenue: 'binance-futures', reference: 'BTCUSDT', dvol: true, allowInSample: false, allowUngated: false } as const;

/** A regime fit as plain JSON (the journal's start record carries it, so `tm replay` needs no store): typed arrays as arrays, Infinity as null. */
export function regimesToJson(regimes: readonly FittedRegime[]): unknown[] {
  const plain = (a: Float64Array) => Array.from(a, (x) => (Number.isFinite(x) ? x : null));
  return regimes.map((r) => ({
    ...r,
    model: { mean: plain(r.model.mean), omega: plain(r.model.omega), alpha: plain(r.model.alpha), beta: plain(r.model.beta), transition: plain(r.model.transition), nu: plain(r.model.nu) },
  }));
}

/** Reads {@link regimesToJson}'s output back (the same numbers exactly: JSON keeps every double). */
export function regimesFromJson(json: readonly unknown[]): FittedRegime[] {
  return json.map((x) => {
    const r = x as FittedRegime & { model: Record<'mean' | 'omega' | 'alpha' | 'beta' | 'transition' | 'nu', (number | null)[]> };
    const m = r.model;
    return { ...r, model: makeMsGarchModel({ mean: m.mean as number[], omega: m.omega as number[], alpha: m.alpha as number[], beta: m.beta as number[], transition: m.transition as number[], nu: m.nu.map((v) => v ?? Infinity) }) };
  });
}
