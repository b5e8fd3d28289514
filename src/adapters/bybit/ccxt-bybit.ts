import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Ccxt from 'ccxt';

/** What the Bybit adapters take from ccxt: the Bybit exchange class and the error classes it throws. */
type CcxtBybitModule = Pick<typeof Ccxt, 'bybit' | 'BadResponse' | 'BaseError' | 'AuthenticationError' | 'DDoSProtection' | 'ExchangeError' | 'InvalidNonce' | 'NetworkError' | 'RateLimitExceeded'>;

/**
 * Loads ccxt's Bybit exchange module and its error classes alone (`ccxt/js/src/bybit.js`, `js/src/base/errors.js`):
 * ccxt's entry point imports all of its ~110 exchanges (≈ 0.6 s of a CLI start, 3× the Bybit module alone), and a
 * live run needs one. Those files are what the entry point itself re-exports, so the classes are the very same
 * objects (`instanceof` holds across both ways of importing; checked by ccxt-bybit.test.ts).
 * Synchronous (`require` of the ES modules, Node ≥ 20.19), so this module has no top-level await: a CommonJS
 * consumer (the tslab kernel of the notebooks) can load the adapters. On an older Node, or when the package layout
 * differs (another ccxt version), falls back to ccxt's CommonJS entry point: slower, same behaviour.
 */
function loadCcxtBybit(): { readonly module: CcxtBybitModule; readonly source: 'bybit-module' | 'package' } {
  const require = createRequire(import.meta.url);
  try {
    // ccxt's package exports only its entry point; its files sit at fixed places below the package root (dist/ccxt.cjs).
    const root = dirname(dirname(require.resolve('ccxt')));
    const exchange = require(join(root, 'js', 'src', 'bybit.js')) as { default: typeof Ccxt.bybit };
    const errors = require(join(root, 'js', 'src', 'base', 'errors.js')) as typeof Ccxt;
    if (typeof exchange.default !== 'function' || typeof errors.RateLimitExceeded !== 'function') throw new Error('unexpected ccxt layout');
    return { module: { ...errors, bybit: exchange.default }, source: 'bybit-module' };
  } catch {
    return { module: require('ccxt') as typeof Ccxt, source: 'package' };
  }
}

const loaded = loadCcxtBybit();

/**
 * Default burst of the ccxt request throttle of the Bybit clients, in ccxt cost units (one unit = `rateLimitMs` of
 * refill, 20 ms by default; Bybit's listing endpoints cost 5, i.e. ccxt's 10 requests/s). ccxt's own bucket holds
 * 1 unit, so even the first requests of a process go out 100 ms apart. With 50 units the bucket starts full and
 * refills while idle: up to 11 cost-5 requests leave at once (a start-up reconciliation needs ≤ 10, far below
 * Bybit's per-endpoint limits of 50/s and its per-IP 600 per 5 s), then the steady rate stays ccxt's (10 cost-5
 * requests/s). Rate-limit answers (10006, 429) still back off on top of it.
 */
export const DEFAULT_RATE_LIMIT_BURST = 50;

/** ccxt's `tokenBucket` for a throttle holding `burst` cost units, full at start (see {@link DEFAULT_RATE_LIMIT_BURST}). */
export function burstBucket(burst: number): { readonly capacity: number; readonly tokens: number } {
  // ccxt needs a capacity of at least one unit (its own default) to refill at all.
  const capacity = Math.max(1, burst);
  return { capacity, tokens: burst };
}

/** How ccxt was loaded: `bybit-module` (the Bybit files alone) or `package` (the fallback: ccxt's entry point). */
export const ccxtSource = loaded.source;
export const { bybit: CcxtBybit, BadResponse, BaseError, AuthenticationError, DDoSProtection, ExchangeError, InvalidNonce, NetworkError, RateLimitExceeded } = loaded.module;
export type CcxtBybit = Ccxt.bybit;
export type { OHLCV } from 'ccxt';
