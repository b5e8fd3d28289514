import { Command, Option } from 'commander';
import { networkDeadlinesFromEnv } from '../config/network-deadlines.js';
import { BYBIT_TIMEFRAMES, BybitMarketDataClient, checkBybitTimeframe, fetchHistory, MAX_KLINE_PAGE, parseSymbolArgument, formatStoreSymbol } from '../adapters/bybit/index.js';
import { AppError } from '../core/app-error.js';
import { formatUtc, parseUserTime } from '../core/time.js';
import { dbOption, withStore } from './data-commands.js';
import { formatTable, type CliIo } from './output.js';
import { createProgress, type Progress } from './progress.js';

/** Exchanges `tm data fetch` can fetch from. */
export const FETCH_EXCHANGES = ['bybit'] as const;

interface FetchFlags {
  exchange: (typeof FETCH_EXCHANGES)[number];
  symbols: string;
  timeframe: string;
  since: string;
  until?: string;
  funding: boolean;
  db?: string;
  apiUrl?: string;
  pageLimit: string;
  json?: boolean;
}

/**
 * Builds `tm data fetch`: downloads bar history (and funding history) from an exchange into the store, resuming each
 * series after its last stored bar, with a progress bar on a terminal and a summary table at the end.
 * @example tm data fetch --exchange bybit --symbols BTC/USDT:USDT,ETH/USDT:USDT --timeframe 4h --since 2022-01-01
 */
export function fetchCommand(io: CliIo): Command {
  return new Command('fetch')
    .description('fetch bar (and funding) history from an exchange into the store; resumes after the last stored bar')
    .addOption(new Option('--exchange <name>', 'exchange to fetch from').choices(FETCH_EXCHANGES).default('bybit'))
    .requiredOption('--symbols <list>', 'comma-separated ccxt symbols, e.g. BTC/USDT:USDT,ETH/USDT:USDT (BTCUSDT also accepted); stored as BTCUSDT')
    .requiredOption('--timeframe <tf>', `bar timeframe: ${BYBIT_TIMEFRAMES.join(', ')}`)
    .requiredOption('--since <date>', 'first bar to fetch (UTC date, e.g. 2022-01-01); a stored series resumes after its last bar')
    .option('--until <date>', 'fetch only bars opening before this UTC date (default: up to the last closed bar)')
    .option('--no-funding', 'do not fetch funding-rate history')
    .addOption(dbOption())
    .addOption(new Option('--api-url <url>', 'base URL replacing the exchange REST host (e.g. a local test server)').env('TM_BYBIT_API_URL'))
    .addOption(new Option('--page-limit <n>', `bars per request (1..${MAX_KLINE_PAGE})`).default(String(MAX_KLINE_PAGE)))
    .option('--json', 'print the per-symbol result as JSON')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .action(async (opts: FetchFlags) => {
      const request = parseFlags(opts);
      const timeoutMs = networkDeadlinesFromEnv(process.env).exchangeMs;
      const client = new BybitMarketDataClient({ timeoutMs, ...(opts.apiUrl === undefined ? {} : { apiUrl: opts.apiUrl }) });
      const progress = symbolProgress();
      const started = performance.now();
      const results = await withStore(opts.db, (store) =>
        fetchHistory(store, client, { ...request, now: () => Date.now(), onProgress: progress.update }),
      ).finally(async () => {
        progress.stop();
        await client.close();
      });
      const seconds = (performance.now() - started) / 1000;
      if (opts.json) return io.out(JSON.stringify(results, null, 2));
      io.out(
        formatTable(
          results.map((r) => ({
            symbol: r.symbol,
            tf: request.timeframe,
            pages: r.bars.pages,
            bars: r.bars.fetched,
            inserted: r.bars.inserted,
            first: r.bars.first === null ? '' : formatUtc(r.bars.first),
            last: r.bars.last === null ? '' : formatUtc(r.bars.last),
            resumed_after: r.bars.resumedAfter === null ? '' : formatUtc(r.bars.resumedAfter),
            funding: r.funding === undefined ? 'off' : r.funding.fetched,
            funding_last: r.funding?.last == null ? '' : formatUtc(r.funding.last),
          })),
        ),
      );
      const bars = results.reduce((a, r) => a + r.bars.fetched, 0);
      const funding = results.reduce((a, r) => a + (r.funding?.fetched ?? 0), 0);
      io.out(`fetched ${bars} bars${request.funding ? ` and ${funding} funding rates` : ''} for ${results.length} symbols from ${opts.exchange} in ${seconds.toFixed(2)} s`);
    });
}

/** Validates the flags; every message names the flag and the value. */
function parseFlags(opts: FetchFlags) {
  const symbols = opts.symbols.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (symbols.length === 0) throw new AppError('invalid_option', `--symbols must list at least one symbol like BTC/USDT:USDT, was ${JSON.stringify(opts.symbols)}`, { symbols: opts.symbols });
  const storeSymbols = symbols.map((s) => {
    const parsed = parseSymbolArgument(s);
    if (!parsed.success) throw new AppError('invalid_option', `--symbols: ${parsed.error.message}`, { symbol: s }, { cause: parsed.error });
    return formatStoreSymbol(parsed.data);
  });
  try {
    checkBybitTimeframe(opts.timeframe);
  } catch (e) {
    throw new AppError('invalid_option', `--timeframe: ${(e as Error).message}`, { timeframe: opts.timeframe }, { cause: e });
  }
  const since = parseUserTime(opts.since, '--since');
  const until = opts.until === undefined ? undefined : parseUserTime(opts.until, '--until');
  if (until !== undefined && until <= since) {
    throw new AppError('invalid_option', `--until must be after --since (${opts.since}), was ${JSON.stringify(opts.until)}`, { since: opts.since, until: opts.until });
  }
  const pageLimit = Number(opts.pageLimit);
  if (!Number.isInteger(pageLimit) || pageLimit < 1 || pageLimit > MAX_KLINE_PAGE) {
    throw new AppError('invalid_option', `--page-limit must be an integer in [1, ${MAX_KLINE_PAGE}], was ${JSON.stringify(opts.pageLimit)}`, { pageLimit: opts.pageLimit });
  }
  return { symbols: storeSymbols, timeframe: opts.timeframe, since, ...(until !== undefined ? { until } : {}), funding: opts.funding, pageLimit };
}

/** One progress bar per symbol, replaced when the next symbol starts. */
function symbolProgress(): { update: (symbol: string, done: number, total: number) => void; stop: () => void } {
  let current: { symbol: string; bar: Progress } | undefined;
  return {
    update: (symbol, done, total) => {
      if (current?.symbol !== symbol) {
        current?.bar.stop();
        current = { symbol, bar: createProgress(total, 'bars') };
      }
      current.bar.update(done, symbol);
    },
    stop: () => current?.bar.stop(),
  };
}
