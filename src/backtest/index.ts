export type { BacktestAnnotations, BacktestResult, FillRecord, RegimeProbabilities, TierAnnotation, TradeRecord } from './backtest-result.js';
export {
  FixedBpsSlippage,
  FUNDING_INTERVAL_MS,
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
export { runBacktest, type BacktestSpec } from './run-backtest.js';
export { fitExperimentRegimes, runExperiment, ExperimentError, type ExperimentDeps } from './run-experiment.js';
export { runTickBacktest, ticksFromBars, type TickBacktestSpec, type TickColumns } from './run-tick-backtest.js';
export { SimulatedExchange } from './simulated-exchange.js';
