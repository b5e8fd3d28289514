/**
 * training/: the ML signal pipeline — Boruta feature selection, purged walk-forward validation of pooled, per-symbol,
 * transfer (pooled GBDT fine-tuned per symbol with `fitMore`) and random-forest configurations, scored by Spearman IC
 * and by engine backtests of a long/short signal, the Deflated Sharpe Ratio across the configurations tried, quality
 * gates, and the final models. `tm train` (src/cli/train-command.ts) is its composition root.
 */
export { TrainingError, type TrainingErrorCode } from './training-error.js';
export { boruta, borutaDecision, selectFeatures, type BorutaDecision, type BorutaFeature, type BorutaParams, type BorutaResult, type FeatureSelection, type SelectionReason } from './boruta.js';
export {
  binomialLowerTail,
  binomialUpperTail,
  deflatedSharpeRatio,
  EULER_MASCHERONI,
  expectedMaxSharpe,
  hitRate,
  normalCdf,
  normalQuantile,
  pearson,
  rankAverage,
  returnMoments,
  spearmanIc,
  spearmanIcNeweyWest,
  studentTTwoSided,
  type DeflatedSharpe,
  type DeflatedSharpeInput,
  type InformationCoefficient,
  type ReturnMoments,
} from './stats.js';
export { CONFIGURATIONS, WalkForwardConfig, loadTrainConfig, parseTrainConfig, TrainConfig, trainFeatureSpec, type ConfigurationName } from './train-config.js';
export { loadTrainingData, type SymbolSeries, type TrainingData } from './training-data.js';
export {
  ALL_SYMBOLS,
  applyGates,
  backtestSignal,
  planFolds,
  runWalkForward,
  trainFinalModels,
  widenModel,
  type FinalModels,
  type FoldPlan,
  type FoldResult,
  type GateResult,
  type OverallScore,
  type ScoreTable,
  type SignalScore,
  type TrainingProgress,
  type WalkForwardResult,
} from './walk-forward.js';
export { buildModelPackages, cardGates, cardMetrics, foldMetricHistory, trainingReport, UNKNOWN_GIT_COMMIT, type ModelPackage } from './model-package.js';
export { binomialCoefficient, combinatorialPurgedSplits, type CpcvOptions, type CpcvPlan, type CpcvSplit } from './cpcv.js';
export { probabilityOfBacktestOverfitting, type PboOptions, type PboResult } from './pbo.js';
export { deflatedSharpeFromTrials, trialConfigHash, type LedgerDeflatedSharpe, type TrialRecord } from './trial-ledger.js';
export { fitMetaLabelModel, metaFeatureMatrix, metaLabelSignal } from './meta-label.js';
export {
  loadModelTableConfig,
  ModelTableConfig,
  modelTableMarkdown,
  parseModelTableConfig,
  runModelTable,
  TABLE_ROWS,
  type ExternalLearner,
  type ExternalLearnerInput,
  type ModelTableResult,
  type TableRow,
} from './model-table.js';
