export { BybitError, type BybitErrorCode } from './bybit-error.js';
export {
  BYBIT_TIMEFRAMES,
  BybitMarketDataClient,
  checkBybitTimeframe,
  MAX_FUNDING_PAGE,
  MAX_KLINE_PAGE,
  type BarPage,
  type BybitMarketDataClientConfig,
  type BybitTimeframe,
  type FundingPage,
  type InstrumentInfo,
  type MarketDataClient,
} from './bybit-market-data-client.js';
export { BYBIT_VENUE, fetchHistory, type FetchHistoryOptions, type HistoryStore, type SeriesFetchResult, type SymbolFetchResult } from './fetch-history.js';
export {
  formatStoreSymbol,
  formatUnifiedSymbol,
  parseStoreSymbol,
  parseSymbolArgument,
  parseUnifiedSymbol,
  storeToUnifiedSymbol,
  unifiedToStoreSymbol,
  type LinearSymbol,
} from './symbols.js';
export {
  BybitExecutionClient,
  BybitExecutionConfig,
  toExecutionError,
  type BybitExecutionConfigInput,
  type BybitExecutionDeps,
  type OrderLost,
} from './bybit-execution-client.js';
export { isPostOnlyReject, orderReason, parseBalanceReport, parseFillReport, parseOrderReport, parsePositionReport, type SymbolIndex } from './bybit-execution-parse.js';
export { loadBybitKeys, resolveBybitEnvironment, type BybitEnvironment, type BybitEnvironmentSwitches, type BybitKeys, type LoadBybitKeysOptions } from './bybit-keys.js';
