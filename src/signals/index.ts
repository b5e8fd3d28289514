/**
 * Signals: the signal stage (bar → incremental features → model → signal) the runners run before the strategy sees a
 * bar, in backtests, notebooks and live; a precomputed prediction column is only its cache.
 */
export { predictColumn, SignalError, SignalStage, type SignalErrorCode, type SignalModel } from './signal-stage.js';
export { overlapsTraining, PredictError, predictRange, type ModelProvenance, type PredictErrorCode, type PredictedSeries, type PredictRangeRequest } from './predict-range.js';
