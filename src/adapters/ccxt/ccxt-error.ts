import { AppError } from '../../core/app-error.js';

/**
 * Codes of every expected failure of the generic ccxt adapter:
 * - `unknown_exchange`: the id is not one of ccxt's exchange ids.
 * - `unsupported`: the exchange (by ccxt's own metadata: `has`, `timeframes`, markets) cannot serve the request.
 * - `invalid_argument`: a symbol, timeframe, URL or limit this adapter cannot use.
 * - `network`, `rate_limited`, `venue_rejected`, `unexpected_status`: the request failed (see {@link toCcxtError}).
 * - `invalid_response`: a payload that breaks an invariant (non-finite value, `high < low`, unsorted time).
 */
export type CcxtErrorCode = 'unknown_exchange' | 'unsupported' | 'invalid_argument' | 'network' | 'rate_limited' | 'venue_rejected' | 'unexpected_status' | 'invalid_response';

/** A failure of the ccxt adapter; `context` holds the values involved (exchange, symbol, timeframe, status). */
export class CcxtError extends AppError<CcxtErrorCode> {}
