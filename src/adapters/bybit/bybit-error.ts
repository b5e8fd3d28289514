import { AppError } from '../../core/app-error.js';

/**
 * Codes of every expected failure of the Bybit adapter:
 * - `network`: the request did not complete (refused, reset, timed out); retrying later may work.
 * - `rate_limited`: HTTP 429/403-throttle or Bybit retCode 10006/10018, still failing after the allowed retries.
 * - `venue_rejected`: Bybit answered with a non-zero `retCode` (context `retCode`), or does not list the symbol.
 * - `unexpected_status`: an HTTP status other than 200 that is not a rate limit (context `status`).
 * - `invalid_response`: a payload that breaks an invariant (non-finite price, `high < low`, unsorted time).
 * - `invalid_argument`: a symbol, timeframe or URL this adapter cannot map.
 * - `missing_credentials`: a private endpoint was called without keys (never for market data), or a key variable is unset.
 * - `key_file_refused`: the key file is unreadable, malformed, inside a git work tree or readable by group/others.
 * - `real_money_refused`: mainnet was asked for without all three switches (`mainnet`, `acceptRealMoney`, `TM_ALLOW_REAL_MONEY=1`).
 * - `authentication`: the venue refused the key or the signature (retCode 10003/10004, HTTP 401).
 *
 * Errors of the execution adapter never carry the API key, the secret, a signature or an `X-BAPI-*` header value.
 */
export type BybitErrorCode =
  | 'network'
  | 'rate_limited'
  | 'venue_rejected'
  | 'unexpected_status'
  | 'invalid_response'
  | 'invalid_argument'
  | 'missing_credentials'
  | 'key_file_refused'
  | 'real_money_refused'
  | 'authentication';

/** A failure of the Bybit adapter; `context` holds the values involved (symbol, status, retCode, attempts). */
export class BybitError extends AppError<BybitErrorCode> {}
