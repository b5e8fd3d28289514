import { Command } from 'commander';
import { parseUserTime } from '../core/time.js';
import { checkStore, hasProblems, importPath, listDataFiles, listSeries, resampleBars } from '../data/index.js';
import { dbOption } from './cli-options.js';
import { fetchCommand } from './data-fetch-command.js';
import { formatTable, type CliIo } from './output.js';
import { createProgress } from './progress.js';
import { withStore } from './store-session.js';


/** Builds `tm data` and its subcommands. `setExit` records the process exit code. */
export function dataCommand(io: CliIo, setExit: (code: number) => void): Command {
  const data = new Command('data').description('market-data store: import, fetch, check, list and resample bars');

  data
    .command('import')
    .description('import CSV, CSV.gz or Parquet files (a file or a folder, recursively) in one transaction; venue = parent folder name')
    .argument('<path>', 'file or folder, e.g. ../shared/data')
    .addOption(dbOption())
    .option('--venue <name>', 'venue for every file instead of the parent folder name')
    .option('--json', 'print the per-file result as JSON')
    .action(async (path: string, opts: { db?: string; venue?: string; json?: boolean }) => {
      const total = (await listDataFiles(path)).length;
      const progress = createProgress(total, 'files');
      const started = performance.now();
      const results = await withStore(opts.db, (store) =>
        importPath(store, path, { ...(opts.venue ? { venue: opts.venue } : {}), onProgress: (done, _total, file) => progress.update(done, file) }),
      ).finally(() => progress.stop());
      const seconds = (performance.now() - started) / 1000;
      if (opts.json) return io.out(JSON.stringify(results, null, 2));
      io.out(formatTable(results.map((r) => ({ file: r.file, kind: r.kind.kind, rows: r.rows, inserted: r.inserted, updated: r.updated }))));
      const rows = results.reduce((a, r) => a + r.rows, 0);
      const changed = results.reduce((a, r) => a + r.inserted + r.updated, 0);
      io.out(`imported ${results.length} files, ${rows} rows (${changed} inserted or updated) in ${seconds.toFixed(2)} s`);
    });

  data
    .command('check')
    .description('per series: rows, first/last bar, gaps, duplicates, OHLC inconsistencies, non-positive values; exit 1 on problems')
    .addOption(dbOption())
    .option('--since <date>', 'only check rows at or after this UTC date')
    .option('--until <date>', 'only check rows before this UTC date')
    .option('--strict', 'treat gaps as problems too (default: gaps are reported, not failed)')
    .option('--gaps', 'list the gap ranges of each series')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { db?: string; since?: string; until?: string; strict?: boolean; gaps?: boolean; json?: boolean }) => {
      const since = opts.since === undefined ? undefined : parseUserTime(opts.since, '--since');
      const until = opts.until === undefined ? undefined : parseUserTime(opts.until, '--until');
      const checks = await withStore(opts.db, (store) => checkStore(store, { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) }), { readOnly: true });
      const failing = checks.filter((c) => hasProblems(c, opts.strict ?? false));
      if (opts.json) {
        io.out(JSON.stringify(checks, null, 2));
      } else {
        io.out(
          formatTable(
            checks.map((c) => ({
              table: c.table, venue: c.venue, symbol: c.symbol, tf: c.timeframe, rows: c.rows, first: c.first, last: c.last,
              gaps: c.gaps, duplicates: c.duplicates, ohlc_bad: c.ohlcInconsistent, non_positive: c.nonPositive,
              status: hasProblems(c, opts.strict ?? false) ? 'PROBLEM' : 'ok',
            })),
          ),
        );
        if (opts.gaps) {
          for (const c of checks.filter((x) => x.gapRanges.length > 0)) {
            io.out(`gaps in ${c.venue} ${c.symbol} ${c.timeframe}: ${c.gapRanges.map((g) => `${g.from} (+${g.missing})`).join(', ')}${c.gapRanges.length === 20 ? ' …' : ''}`);
          }
        }
        io.out(checks.length === 0 ? 'the store is empty: run `tm data import <path>` or `tm data fetch`' : `${checks.length} series checked, ${failing.length} with problems`);
      }
      if (checks.length === 0 || failing.length > 0) setExit(1);
    });

  data
    .command('ls')
    .description('list stored series with row counts and date ranges')
    .addOption(dbOption())
    .option('--json', 'print as JSON')
    .action(async (opts: { db?: string; json?: boolean }) => {
      const rows = await withStore(opts.db, listSeries, { readOnly: true });
      io.out(opts.json ? JSON.stringify(rows, null, 2) : formatTable(rows as unknown as Record<string, unknown>[]));
    });

  data
    .command('resample')
    .description('resample stored bars to a coarser timeframe in SQL (buckets aligned to 00:00 UTC)')
    .addOption(dbOption())
    .requiredOption('--venue <name>', 'venue, e.g. binance-futures')
    .requiredOption('--symbol <symbol>', 'symbol, e.g. BTCUSDT')
    .requiredOption('--from <timeframe>', 'source timeframe, e.g. 1m')
    .requiredOption('--to <timeframe>', 'target timeframe, e.g. 4h')
    .option('--partial', 'also write buckets that miss sub-bars (default: complete buckets only)')
    .option('--replace', 'replace target bars that already exist (default: only add missing ones)')
    .action(async (opts: { db?: string; venue: string; symbol: string; from: string; to: string; partial?: boolean; replace?: boolean }) => {
      const r = await withStore(opts.db, (store) =>
        resampleBars(store, { venue: opts.venue, symbol: opts.symbol, from: opts.from, to: opts.to, completeOnly: !opts.partial, replace: opts.replace ?? false }),
      );
      io.out(`${opts.venue} ${opts.symbol} ${opts.from} -> ${opts.to}: ${r.buckets} buckets (${r.partial} partial${opts.partial ? '' : ', skipped'}), ${r.inserted} inserted, ${r.updated} updated`);
    });

  data.addCommand(fetchCommand(io));
  return data;
}
