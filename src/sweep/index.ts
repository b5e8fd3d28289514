/**
 * sweep/: parameter sweeps over experiments — the sweep config (grid or seeded random search), the trial job and its
 * one result row, the aggregate of a finished sweep (best trial, Deflated Sharpe, PBO) and the DuckDB results store.
 * `tm sweep` / `tm worker` (src/cli/sweep-command.ts) run the trials locally or through BullMQ on Redis.
 */
export { aggregateStreamed, aggregateSweep, SweepAggregator, type SweepAggregate } from './aggregate.js';
export { FileReturns, MemoryReturns, type ReturnsSpill } from './returns-spill.js';
export { applyPoint, expandSweep, loadSweepConfig, OBJECTIVES, parseSweepConfig, SweepConfig, sweepIdOf, type SweepPoint } from './sweep-config.js';
export { SweepError, type SweepErrorCode } from './sweep-error.js';
export { DEFAULT_SWEEP_STORE_PATH, resolveSweepStorePath, SweepStore, type SweepRecord } from './sweep-store.js';
export { decodeReturns, doneRow, encodeReturns, failedRow, type TrialJob, type TrialMetrics, type TrialResult, type TrialRow, type TrialSummary } from './trial.js';
export { logSweepToMlflow, type MlflowSweepRuns } from './sweep-mlflow.js';
export {
  formatResultObjects,
  getTrialObject,
  parseResultObjects,
  parseStoredTrial,
  putTrialObject,
  trialResultKey,
  type ResultObjects,
  type StoredTrial,
  type TrialObjectRef,
} from './trial-objects.js';
