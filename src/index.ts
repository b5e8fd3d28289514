/**
 * The notebook surface of trade-matrix: everything a notebook or script may import.
 * Notebooks import only from here (built to dist/src/index.js); folders keep their internals private.
 */
export * from './core/index.js';
export * from './data/index.js';
export * from './engine/index.js';
export * from './features/index.js';
export * from './models/index.js';
export type { FeatureMatrix } from './features/index.js';
export * from './backtest/index.js';
export { loadConfig, parseBacktestConfig, ConfigError, type BacktestConfig } from './config/backtest-config.js';
export * from './notebook/index.js';
export * from './regime/index.js';
export * from './sizing/index.js';
export * from './training/index.js';
export * from './registry/index.js';
export * from './strategies/index.js';
export * from './signals/index.js';
export * from './live/index.js';
export * from './sweep/index.js';
// the sweep job function and the sequential runner of `tm sweep --workers 0`, for notebooks
export { planSweep, runTrial, type SweepPlan } from './cli/sweep-job.js';
export { runSweepLocally } from './cli/sweep-command.js';
export { InProcessRunner } from './cli/sweep-pool.js';
