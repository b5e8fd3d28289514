/**
 * Registry of the strategies experiments can name (`"strategy": "<name>"` in `experiments/*.json`). Each entry is a
 * factory `(params) => Strategy` that validates its params with a zod schema.
 */
import type { Strategy, StrategySetup } from '../../src/engine/strategy.js';
import { buyAndHold } from './buy-and-hold.js';
import { regimeKelly } from './regime-kelly.js';
import { signalColumn } from './signal-column.js';
import { smaCrossover } from './sma-crossover.js';

export { buyAndHold, BuyAndHoldParams } from './buy-and-hold.js';
export { NO_SIGNAL_REASON, regimeKelly, RegimeKellyParams } from './regime-kelly.js';
export { signalColumn, SignalColumnParams } from './signal-column.js';
export { smaCrossover, SmaCrossoverParams } from './sma-crossover.js';

/**
 * Builds a strategy from unvalidated params; `setup` holds what the runner computed before the run (fitted regimes).
 * @throws AppError `invalid_strategy_params`.
 */
export type StrategyFactory = (params: unknown, setup?: StrategySetup) => Strategy;

/** Every experiment strategy by module name (= file name in this folder). */
export const STRATEGIES: Readonly<Record<string, StrategyFactory>> = Object.freeze({
  'buy-and-hold': buyAndHold,
  'sma-crossover': smaCrossover,
  'signal-column': signalColumn,
  'regime-kelly': regimeKelly,
});
