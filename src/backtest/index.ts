export type { BacktestAnnotations, BacktestResult, BacktestRisk, FillRecord, RegimeProbabilities, TierAnnotation, TradeRecord } from './backtest-result.js';
export {
  FixedBpsSlippage,
  FixedLatency,
  FUNDING_INTERVAL_MS,
  UNLIMITED_FILLS,
  VolumeParticipationFillModel,
  ZERO_LATENCY,
  type FillModel,
  type LatencyModel,
  InstrumentFeeModel,
  TableFundingModel,
  VolumeParticipationSlippage,
  type FeeModel,
  type FundingFallback,
  type FundingModel,
  type SlippageModel,
} from './execution-models.js';
export {
  computeMetrics,
  drawdownSeries,
  monthlyReturns,
  NO_TIER,
  rollingSharpe,
  simpleReturns,
  SIZING_TIER_ORDER,
  tierAttribution,
  type BacktestMetrics,
  type TierAttribution,
  type TierStats,
} from './metrics.js';
export { renderHtmlReport, summarize, writeReport, type BacktestSummary, type ReportPaths } from './report.js';
export { BarStepper, runBacktest, type BacktestControl, type BacktestSpec, type BacktestState, type SimulationSpec } from './run-backtest.js';
export { experimentSetup, experimentVenueModels, fitExperimentRegimes, runExperiment, ExperimentError, type ExperimentConfig, type ExperimentDeps, type ExperimentSetup } from './run-experiment.js';
export { runTickBacktest, ticksFromBars, type TickBacktestSpec, type TickColumns } from './run-tick-backtest.js';
export { SimulatedExecutionClient, type SimulatedExecutionConfig, type SimulatedExecutionModels, type SimulatedVenueState } from './simulated-execution-client.js';
