export { CcxtError, type CcxtErrorCode } from './ccxt-error.js';
export {
  callCcxt,
  ccxtCapabilities,
  ccxtExchangeIds,
  checkCcxtTimeframe,
  closeCcxtExchange,
  createCcxtExchange,
  toCcxtError,
  type CcxtCapabilities,
  type CcxtExchangeConfig,
} from './ccxt-exchange.js';
export { fetchCcxtHistory, type CcxtFetchOptions, type CcxtSymbolFetchResult } from './fetch-ccxt-history.js';
export { DVOL_RESOLUTIONS, DVOL_SOURCE, fetchDvol, type DvolFetchOptions, type DvolFetchResult, type SeriesStore } from './fetch-dvol.js';
