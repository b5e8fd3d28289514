import { BybitMarketDataClient, checkBybitTimeframe, fetchHistory, formatStoreSymbol, MAX_KLINE_PAGE, parseSymbolArgument, type SeriesFetchResult } from '../adapters/bybit/index.js';
import { closeCcxtExchange, createCcxtExchange, fetchCcxtHistory, fetchDvol } from '../adapters/ccxt/index.js';
import { networkDeadlinesFromEnv } from '../config/network-deadlines.js';
import { AppError } from '../core/app-error.js';
import { formatUtc, parseUserTime } from '../core/time.js';
import type { FetchFlags } from './data-fetch-flags.js';
import { formatTable, type CliIo } from './output.js';
import { createProgress, type Progress } from './progress.js';
import { withStore } from './store-session.js';

const utcOrEmpty = (ms: number | null | undefined) => (ms == null ? '' : formatUtc(ms));

/** Runs `tm data fetch` (see data-fetch-command.ts): Bybit through its adapter, DVOL and other exchanges through the generic ccxt adapter. */
export async function runFetch(io: CliIo, opts: FetchFlags): Promise<void> {
  const since = parseUserTime(opts.since, '--since');
  const until = opts.until === undefined ? undefined : parseUserTime(opts.until, '--until');
  if (until !== undefined && until <= since) {
    throw new AppError('invalid_option', `--until must be after --since (${opts.since}), was ${JSON.stringify(opts.until)}`, { since: opts.since, until: opts.until });
  }
  const range = { since, ...(until !== undefined ? { until } : {}) };
  if (opts.dvol !== undefined) return fetchDvolSeries(io, opts, range);
  if (opts.symbols === undefined || opts.timeframe === undefined) {
    throw new AppError('invalid_option', `tm data fetch: give --symbols and --timeframe (or --dvol <currencies> with --exchange deribit)`, {});
  }
  const symbols = opts.symbols.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (symbols.length === 0) throw new AppError('invalid_option', `--symbols must list at least one symbol like BTC/USDT:USDT, was ${JSON.stringify(opts.symbols)}`, { symbols: opts.symbols });
  if (opts.exchange === 'bybit') return fetchBybit(io, opts, symbols, opts.timeframe, range);
  return fetchGeneric(io, opts, symbols, opts.timeframe, range);
}

interface Range {
  since: number;
  until?: number;
}

function pageLimit(opts: FetchFlags, max: number, fallback: number): number {
  if (opts.pageLimit === undefined) return fallback;
  const n = Number(opts.pageLimit);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new AppError('invalid_option', `--page-limit must be an integer in [1, ${max}], was ${JSON.stringify(opts.pageLimit)}`, { pageLimit: opts.pageLimit });
  return n;
}

async function fetchBybit(io: CliIo, opts: FetchFlags, symbols: string[], timeframe: string, range: Range): Promise<void> {
  const storeSymbols = symbols.map((s) => {
    const parsed = parseSymbolArgument(s);
    if (!parsed.success) throw new AppError('invalid_option', `--symbols: ${parsed.error.message}`, { symbol: s }, { cause: parsed.error });
    return formatStoreSymbol(parsed.data);
  });
  try {
    checkBybitTimeframe(timeframe);
  } catch (e) {
    throw new AppError('invalid_option', `--timeframe: ${(e as Error).message}`, { timeframe }, { cause: e });
  }
  if (opts.venue !== undefined && opts.venue !== 'bybit') throw new AppError('invalid_option', `--venue: the Bybit adapter stores under venue bybit, was ${JSON.stringify(opts.venue)}`, { venue: opts.venue });
  const limit = pageLimit(opts, MAX_KLINE_PAGE, MAX_KLINE_PAGE);
  const timeoutMs = networkDeadlinesFromEnv(process.env).exchangeMs;
  const client = new BybitMarketDataClient({ timeoutMs, ...(opts.apiUrl === undefined ? {} : { apiUrl: opts.apiUrl }) });
  const progress = symbolProgress();
  const started = performance.now();
  const results = await withStore(opts.db, (store) =>
    fetchHistory(store, client, { symbols: storeSymbols, timeframe, ...range, funding: opts.funding, pageLimit: limit, now: () => Date.now(), onProgress: progress.update }),
  ).finally(async () => {
    progress.stop();
    await client.close();
  });
  if (opts.json) return io.out(JSON.stringify(results, null, 2));
  io.out(formatTable(results.map((r) => seriesRow(r.symbol, timeframe, r.bars, r.funding === undefined ? 'off' : r.funding.fetched, r.funding?.last))));
  summaryLine(io, results.map((r) => ({ bars: r.bars.fetched, funding: r.funding?.fetched ?? 0 })), opts, started);
}

async function fetchGeneric(io: CliIo, opts: FetchFlags, symbols: string[], timeframe: string, range: Range): Promise<void> {
  const exchange = createCcxtExchange(opts.exchange, { timeoutMs: networkDeadlinesFromEnv(process.env).exchangeMs, ...(opts.apiUrl === undefined ? {} : { apiUrl: opts.apiUrl }) });
  const limit = pageLimit(opts, 5000, 500);
  const progress = symbolProgress();
  const started = performance.now();
  const results = await withStore(opts.db, (store) =>
    fetchCcxtHistory(store, exchange, { symbols, timeframe, ...range, funding: opts.funding, pageLimit: limit, now: () => Date.now(), onProgress: progress.update, ...(opts.venue ? { venue: opts.venue } : {}) }),
  ).finally(async () => {
    progress.stop();
    await closeCcxtExchange(exchange);
  });
  if (opts.json) return io.out(JSON.stringify(results, null, 2));
  io.out(
    formatTable(
      results.map((r) => ({
        ...seriesRow(r.symbol, timeframe, r.bars, r.funding === undefined ? 'off' : r.funding === null ? `skipped: ${r.fundingSkipped}` : r.funding.fetched, r.funding?.last),
        unified: r.unified,
      })),
    ),
  );
  summaryLine(io, results.map((r) => ({ bars: r.bars.fetched, funding: r.funding?.fetched ?? 0 })), opts, started);
}

async function fetchDvolSeries(io: CliIo, opts: FetchFlags, range: Range): Promise<void> {
  if (opts.symbols !== undefined) throw new AppError('invalid_option', `--dvol fetches index series, not markets: drop --symbols ${JSON.stringify(opts.symbols)}`, { symbols: opts.symbols });
  const currencies = opts.dvol!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (currencies.length === 0) throw new AppError('invalid_option', `--dvol must list currencies like BTC,ETH, was ${JSON.stringify(opts.dvol)}`, { dvol: opts.dvol });
  const exchange = createCcxtExchange(opts.exchange, { timeoutMs: networkDeadlinesFromEnv(process.env).exchangeMs, ...(opts.apiUrl === undefined ? {} : { apiUrl: opts.apiUrl }) });
  const started = performance.now();
  const results = await withStore(opts.db, (store) => fetchDvol(store, exchange, { currencies, ...range, now: () => Date.now(), ...(opts.timeframe ? { timeframe: opts.timeframe } : {}) })).finally(() =>
    closeCcxtExchange(exchange),
  );
  if (opts.json) return io.out(JSON.stringify(results, null, 2));
  io.out(
    formatTable(
      results.map((r) => ({ source: 'deribit', series: r.series, tf: r.timeframe, pages: r.pages, points: r.fetched, inserted: r.inserted, first: utcOrEmpty(r.first), last: utcOrEmpty(r.last), resumed_after: utcOrEmpty(r.resumedAfter) })),
    ),
  );
  const points = results.reduce((a, r) => a + r.fetched, 0);
  io.out(`fetched ${points} DVOL points for ${results.length} currencies from deribit in ${((performance.now() - started) / 1000).toFixed(2)} s`);
}

/** One summary-table row of a fetched symbol (bars, then funding as a count or why there is none). */
function seriesRow(symbol: string, timeframe: string, bars: SeriesFetchResult, funding: string | number, fundingLast: number | null | undefined): Record<string, unknown> {
  return {
    symbol,
    tf: timeframe,
    pages: bars.pages,
    bars: bars.fetched,
    inserted: bars.inserted,
    first: utcOrEmpty(bars.first),
    last: utcOrEmpty(bars.last),
    resumed_after: utcOrEmpty(bars.resumedAfter),
    funding,
    funding_last: utcOrEmpty(fundingLast),
  };
}

function summaryLine(io: CliIo, counts: { bars: number; funding: number }[], opts: FetchFlags, started: number): void {
  const bars = counts.reduce((a, r) => a + r.bars, 0);
  const funding = counts.reduce((a, r) => a + r.funding, 0);
  const seconds = (performance.now() - started) / 1000;
  io.out(`fetched ${bars} bars${opts.funding ? ` and ${funding} funding rates` : ''} for ${counts.length} symbols from ${opts.exchange} in ${seconds.toFixed(2)} s`);
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
