import { BybitExecutionClient, loadBybitKeys } from '../adapters/bybit/index.js';
import { networkDeadlinesFromEnv } from '../config/network-deadlines.js';
import type { Instrument } from '../core/instrument.js';
import type { LiveMode } from '../live/live-runner.js';
import type { TradingMetrics } from '../monitoring/trading-metrics.js';
import type { CliIo } from './output.js';

/** The switches and places of a venue client: `--i-accept-real-money`, `--api-url`, `--key-file`. */
export interface VenueFlags {
  readonly iAcceptRealMoney?: boolean;
  readonly apiUrl?: string;
  readonly keyFile?: string;
}

/**
 * The Bybit execution client of a live run in `mode` trading `setup.instruments`: demo by default, testnet or mainnet
 * by switches (the adapter refuses mainnet without all three), keys from BYBIT_API_KEY/BYBIT_API_SECRET or
 * `--key-file`, one REST deadline from TM_EXCHANGE_TIMEOUT_MS. Its markets and clock are loaded by `prepare()`, which
 * the runner awaits before reconciling.
 */
export function createBybitVenue(mode: Exclude<LiveMode, 'paper'>, opts: VenueFlags, setup: { readonly instruments: readonly Instrument[] }, io: CliIo, metrics?: Pick<TradingMetrics, 'venueError' | 'rateLimitWait'>): BybitExecutionClient {
  const env = process.env;
  return new BybitExecutionClient(
    { testnet: mode === 'testnet', mainnet: mode === 'mainnet', acceptRealMoney: opts.iAcceptRealMoney === true, ...(opts.apiUrl !== undefined ? { apiUrl: opts.apiUrl } : {}), timeoutMs: networkDeadlinesFromEnv(env).exchangeMs },
    { instruments: setup.instruments, keys: loadBybitKeys(env, opts.keyFile !== undefined ? { keyFile: opts.keyFile } : {}), clock: { now: () => Date.now() }, env, onError: (e) => io.err(`bybit: ${e.message}`), onOrderLost: (e) => io.err(`ALERT bybit: order ${e.clientOrderId} lost: ${e.reason}`),
      ...(metrics ? { onVenueError: (code: string) => metrics.venueError(code), onRateLimitWait: (seconds: number) => metrics.rateLimitWait('private', seconds) } : {}) },
  );
}

/** Starts `client.prepare()` now; a failure surfaces where the runner awaits it (never as an unhandled rejection meanwhile). */
export function preparing(client: BybitExecutionClient): Promise<void> {
  const p = client.prepare();
  p.catch(() => undefined);
  return p;
}
