import { AppError } from '../core/app-error.js';
import type { Instrument } from '../core/instrument.js';
import { experimentVenueModels, warmupBarsWanted, type ExperimentConfig } from '../backtest/run-experiment.js';
import type { FeeModel, SlippageModel } from '../backtest/execution-models.js';
import type { RiskLimits } from '../engine/risk/risk-limits.js';
import type { Strategy, StrategyFactory } from '../engine/strategy.js';

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
}

/**
 * Builds the live setup of an experiment with a fresh strategy object. Columns computed over a whole frame
 * (features, stored predictions) and the pre-run regime fit are not available live yet and are refused by name.
 * @throws LiveSetupError `unknown_strategy`, `unsupported_in_live` naming the config path.
 */
export function liveSetup(config: ExperimentConfig, strategies: Readonly<Record<string, StrategyFactory>>): LiveSetup {
  const factory = Object.hasOwn(strategies, config.strategy) ? strategies[config.strategy] : undefined;
  if (factory === undefined) throw new LiveSetupError('unknown_strategy', `strategy must be one of ${Object.keys(strategies).join(', ')}, was ${JSON.stringify(config.strategy)}`, { path: '$.strategy' });
  for (const [name, c] of Object.entries(config.columns)) {
    throw new LiveSetupError('unsupported_in_live', `columns.${name} (source ${c.source}): column sources are not streamed by the live runner yet; run this experiment as a backtest`, { path: `$.columns.${name}` });
  }
  if (config.regime !== undefined) throw new LiveSetupError('unsupported_in_live', 'regime: the pre-run regime fit is not wired into the live runner yet; run this experiment as a backtest', { path: '$.regime' });
  const strategy = factory(config.params);
  const models = experimentVenueModels(config);
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
    // Live, a strategy always warms up on the bars it needs (a backtest may start cold when `warmup` is absent).
    ...(config.risk !== undefined ? { risk: config.risk } : {}),
    warmupBars: config.warmup === undefined ? (strategy.warmupBars ?? 0) : warmupBarsWanted(config, strategy, config.data.timeframe),
  };
}
