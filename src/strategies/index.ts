/**
 * Registry of the strategies experiments can name (and `tm strategies ls` lists) (`"strategy": "<name>"` in `experiments/*.json`). Each entry is a
 * factory `(params) => Strategy` that validates its params with a zod schema.
 */
import type { StrategyFactory } from '../engine/strategy.js';
import { buyAndHold } from './buy-and-hold.js';
import { regimeKelly } from './regime-kelly.js';
import { signalColumn } from './signal-column.js';
import { smaCrossover } from './sma-crossover.js';

export { buyAndHold, BuyAndHoldParams } from './buy-and-hold.js';
export { NO_SIGNAL_REASON, regimeKelly, RegimeKellyParams, regimeKellyStepwise, type RegimeKellyStepwise } from './regime-kelly.js';
export { signalColumn, SignalColumnParams } from './signal-column.js';
export { smaCrossover, SmaCrossoverParams } from './sma-crossover.js';

export type { StrategyFactory };

/** Every strategy by name (= file name in this folder): what experiments, the CLI, notebooks and the live runner use. */
export const STRATEGIES: Readonly<Record<string, StrategyFactory>> = Object.freeze({
  'buy-and-hold': buyAndHold,
  'sma-crossover': smaCrossover,
  'signal-column': signalColumn,
  'regime-kelly': regimeKelly,
});
