export { METRIC_DEFINITIONS, type MetricDefinition, type MetricGroup, type MetricLabel, type MetricName, type MetricType } from './metric-definitions.js';
export {
  createTradingMetrics,
  type AccountSnapshot,
  type BarRecorder,
  type KnownLabels,
  type BreakerState,
  type Liquidity,
  type NamesOf,
  type OrderSide,
  type OrderStatus,
  type PositionSnapshot,
  type ReconciliationDifferenceKind,
  type ReconciliationStatus,
  type RunnerMode,
  type SignalDirection,
  type TradingMetrics,
  type TradingMetricsOptions,
} from './trading-metrics.js';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions, type MonitoringError, type MonitoringErrorCode, type Readiness } from './metrics-server.js';
export { backtestMetrics, writeBacktestMetrics, writeExpositionFile, type BacktestMetricsOptions, type BacktestMetricsSource } from './backtest-metrics.js';
export { renderMetricsTable, replaceMetricsTable, METRICS_TABLE_END, METRICS_TABLE_START } from './metrics-table.js';
export { createLogger, serializeError, LOG_LEVELS, REDACT_CENSOR, REDACT_PATHS, type LoggerOptions, type LogLevel } from './logger.js';
export { monitoringConfigFromEnv, MonitoringConfig, MONITORING_DEFAULTS, MONITORING_ENV } from './monitoring-config.js';
export { LiveMetrics, reasonLabel, startLiveMetrics, timeVenueCalls, type BarTimings, type LiveMetricsOptions, type LiveMetricsStartOptions, type ObservedBarSet, type ObservedDifference } from './live-metrics.js';
