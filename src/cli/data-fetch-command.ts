import { Command, Option } from 'commander';
import { dbOption } from './cli-options.js';
import type { FetchFlags } from './data-fetch-flags.js';
import type { CliIo } from './output.js';

/** Flags of `tm data fetch` (parsed and checked by data-fetch-action.ts). */

/**
 * Builds `tm data fetch`: downloads bar history (and funding history) from Bybit or any ccxt exchange into the store,
 * or the Deribit DVOL index into the external-series table, resuming each series after its last stored row.
 * The ccxt adapters are imported when the command runs, so `tm --help` and `tm data ls` never load ccxt.
 * @example tm data fetch --exchange bybit --symbols BTC/USDT:USDT,ETH/USDT:USDT --timeframe 4h --since 2022-01-01
 */
export function fetchCommand(io: CliIo): Command {
  return new Command('fetch')
    .description('fetch bar (and funding) history from Bybit or any ccxt exchange, or the Deribit DVOL index, into the store; resumes after the last stored row')
    .addOption(new Option('--exchange <id>', 'bybit (the tested adapter) or any ccxt exchange id, e.g. binance, okx, deribit').default('bybit'))
    .option('--symbols <list>', 'comma-separated ccxt symbols, e.g. BTC/USDT:USDT,ETH/USDT:USDT (market ids like BTCUSDT also accepted); stored under the market id')
    .option('--timeframe <tf>', 'bar timeframe the exchange serves, e.g. 1h, 4h, 1d (bybit: 1m..1d)')
    .requiredOption('--since <date>', 'first bar to fetch (UTC date, e.g. 2022-01-01); a stored series resumes after its last row')
    .option('--until <date>', 'fetch only rows before this UTC date (default: up to the last closed bar)')
    .option('--no-funding', 'do not fetch funding-rate history (fetched where ccxt supports it for the market)')
    .option('--dvol <currencies>', 'with --exchange deribit: fetch the DVOL index of these currencies (e.g. BTC,ETH) into external_series as deribit/<CUR>-DVOL (timeframe: --timeframe, default 1d)')
    .option('--venue <name>', 'store venue of fetched bars and funding (default: the exchange id)')
    .addOption(dbOption())
    .addOption(new Option('--api-url <url>', 'base URL replacing the exchange REST hosts (e.g. a local test server)').env('TM_FETCH_API_URL'))
    .addOption(new Option('--page-limit <n>', 'rows per request (bybit 1..1000, default 1000; others default 500)'))
    .option('--json', 'print the per-series result as JSON')
    .action(async (opts: FetchFlags) => (await import('./data-fetch-action.js')).runFetch(io, opts));
}

export type { FetchFlags } from './data-fetch-flags.js';
