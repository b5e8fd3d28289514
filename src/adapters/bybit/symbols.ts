import { err, ok, type Result } from '../../core/result.js';
import { BybitError } from './bybit-error.js';

/**
 * A Bybit USDT-settled linear perpetual, the only market kind this adapter maps so far.
 * Its ccxt unified symbol is `BTC/USDT:USDT`; its venue-native (and store) symbol is `BTCUSDT`.
 */
export interface LinearSymbol {
  readonly base: string;
  readonly quote: 'USDT';
  readonly settle: 'USDT';
}

const UNIFIED_RE = /^([A-Z0-9]+)\/([A-Z0-9]+):([A-Z0-9]+)$/;
const STORE_RE = /^([A-Z0-9]+)USDT$/;

/**
 * Parses a ccxt unified symbol of a USDT linear perpetual (`BTC/USDT:USDT`).
 * Fails with `invalid_argument` for other shapes: spot (`BTC/USDT`), inverse (`BTC/USD:BTC`), dated futures
 * (`BTC/USDT:USDT-250926`), USDC-settled contracts, lowercase text.
 */
export function parseUnifiedSymbol(text: string): Result<LinearSymbol, BybitError> {
  const m = UNIFIED_RE.exec(text);
  if (!m) {
    return err(symbolError(text, 'symbol must be a ccxt unified linear perpetual symbol like BTC/USDT:USDT'));
  }
  const [, base, quote, settle] = m;
  if (quote !== 'USDT' || settle !== 'USDT') {
    return err(symbolError(text, `symbol must be quoted and settled in USDT (a linear perpetual like ${base}/USDT:USDT)`));
  }
  return ok({ base: base!, quote: 'USDT', settle: 'USDT' });
}

/** Formats a linear perpetual as its ccxt unified symbol, e.g. `BTC/USDT:USDT`. */
export function formatUnifiedSymbol(symbol: LinearSymbol): string {
  return `${symbol.base}/${symbol.quote}:${symbol.settle}`;
}

/** Parses a venue-native (store) symbol of a USDT linear perpetual (`BTCUSDT`). */
export function parseStoreSymbol(text: string): Result<LinearSymbol, BybitError> {
  const m = STORE_RE.exec(text);
  if (!m) return err(symbolError(text, 'symbol must be a Bybit USDT linear perpetual like BTCUSDT'));
  return ok({ base: m[1]!, quote: 'USDT', settle: 'USDT' });
}

/** Formats a linear perpetual as its venue-native symbol, which is also how the store names it, e.g. `BTCUSDT`. */
export function formatStoreSymbol(symbol: LinearSymbol): string {
  return `${symbol.base}${symbol.quote}`;
}

/**
 * Returns the store symbol of a ccxt unified symbol: `BTC/USDT:USDT` → `BTCUSDT`.
 * @throws BybitError `invalid_argument` when `unified` is not a USDT linear perpetual.
 */
export function unifiedToStoreSymbol(unified: string): string {
  return formatStoreSymbol(unwrap(parseUnifiedSymbol(unified)));
}

/**
 * Returns the ccxt unified symbol of a store symbol: `BTCUSDT` → `BTC/USDT:USDT`.
 * @throws BybitError `invalid_argument` when `store` is not a USDT linear perpetual.
 */
export function storeToUnifiedSymbol(store: string): string {
  return formatUnifiedSymbol(unwrap(parseStoreSymbol(store)));
}

/**
 * Parses a symbol given by a user in either form (`BTC/USDT:USDT` or `BTCUSDT`).
 * @example parseSymbolArgument('ETH/USDT:USDT') // ok({ base: 'ETH', quote: 'USDT', settle: 'USDT' })
 */
export function parseSymbolArgument(text: string): Result<LinearSymbol, BybitError> {
  const trimmed = text.trim();
  return trimmed.includes('/') ? parseUnifiedSymbol(trimmed) : parseStoreSymbol(trimmed);
}

function unwrap(r: Result<LinearSymbol, BybitError>): LinearSymbol {
  if (!r.success) throw r.error;
  return r.data;
}

function symbolError(text: string, rule: string): BybitError {
  return new BybitError('invalid_argument', `${rule}, was ${JSON.stringify(text)}`, { symbol: text });
}
