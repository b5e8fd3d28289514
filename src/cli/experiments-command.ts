import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config/backtest-config.js';
import { AppError } from '../core/app-error.js';
import { formatUtc } from '../core/time.js';
import { compareSummaries } from './summary-drift.js';
import { formatTable, type CliIo } from './output.js';

/** One experiment file as `tm experiments ls` reports it. */
export interface ExperimentRow {
  readonly name: string;
  readonly file: string;
  /** `backtest` for `tm backtest` configs, `train` for `train-*.json` (`tm train`). */
  readonly kind: 'backtest' | 'train';
  readonly strategy: string | null;
  readonly data: string | null;
  readonly period: string | null;
  /** Config problem (schema failure), or null when the file is valid. */
  readonly invalid: string | null;
  /** Time summary.json of the last run was written (ISO UTC), or null when never run. */
  readonly lastRun: string | null;
  readonly sharpe: number | null;
  readonly totalReturn: number | null;
  readonly hasBaseline: boolean;
  /** Last run vs baseline: `ok`, `drift` (with `driftedFields`), `no-run`, `no-baseline`. */
  readonly drift: 'ok' | 'drift' | 'no-run' | 'no-baseline';
  readonly driftedFields: number;
  readonly report: string | null;
}

/**
 * Lists the experiment files of a folder with their last run (`results/<name>/summary.json`) and whether that run
 * drifts from `baselines/<name>.json` (the same comparison as `tm backtest --all`, without running anything).
 */
export async function listExperiments(dir: string): Promise<ExperimentRow[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch (e) {
    throw new AppError('not_found', `--experiments ${dir}: cannot list the folder: ${(e as Error).message}`, { dir }, { cause: e });
  }
  const rows: ExperimentRow[] = [];
  for (const f of files) {
    const name = basename(f, '.json');
    const file = join(dir, f);
    const summaryPath = join(dir, 'results', name, 'summary.json');
    const baselinePath = join(dir, 'baselines', `${name}.json`);
    const reportPath = join(dir, 'results', name, 'report.html');
    const hasBaseline = existsSync(baselinePath);
    const base = { name, file, hasBaseline, report: existsSync(reportPath) ? reportPath : null };
    if (f.startsWith('train-')) {
      rows.push({ ...base, kind: 'train', strategy: null, data: null, period: null, invalid: null, lastRun: null, sharpe: null, totalReturn: null, drift: 'no-run', driftedFields: 0, report: null });
      continue;
    }
    const loaded = await loadConfig(file);
    const config = loaded.success ? loaded.data : null;
    let lastRun: string | null = null;
    type Summary = { metrics?: { sharpe?: number | null; totalReturn?: number | null } };
    let summary = null as Summary | null;
    if (existsSync(summaryPath)) {
      lastRun = formatUtc(Math.floor(statSync(summaryPath).mtimeMs / 1000) * 1000);
      summary = JSON.parse(await readFile(summaryPath, 'utf8')) as Summary;
    }
    let drift: ExperimentRow['drift'] = summary === null ? 'no-run' : hasBaseline ? 'ok' : 'no-baseline';
    let driftedFields = 0;
    if (summary !== null && hasBaseline) {
      driftedFields = compareSummaries(JSON.parse(await readFile(baselinePath, 'utf8')), summary).length;
      if (driftedFields > 0) drift = 'drift';
    }
    rows.push({
      ...base,
      kind: 'backtest',
      strategy: config?.strategy ?? null,
      data: config ? `${config.data.venue} ${config.data.timeframe} ${config.data.symbols.join(',')}` : null,
      period: config ? `${config.data.start}..${config.data.end}` : null,
      invalid: loaded.success ? null : loaded.error.message,
      lastRun,
      sharpe: summary?.metrics?.sharpe ?? null,
      totalReturn: summary?.metrics?.totalReturn ?? null,
      drift,
      driftedFields,
    });
  }
  return rows;
}

/**
 * Builds `tm experiments` (`ls`).
 * @example tm experiments ls --json
 */
export function experimentsCommand(io: CliIo, _setExit: (code: number) => void): Command {
  const experiments = new Command('experiments').description('experiment configs: list them with their last run and baseline drift');
  experiments
    .command('ls')
    .description('list experiment files: strategy, data, period, last run (results/<name>/summary.json), Sharpe and return of that run, drift from baselines/<name>.json')
    .option('--experiments <dir>', 'folder of experiment files', 'experiments')
    .option('--json', 'print the rows as JSON')
    .action(async (opts: { experiments: string; json?: boolean }) => {
      const rows = await listExperiments(opts.experiments);
      if (opts.json) return io.out(JSON.stringify(rows, null, 2));
      const pct = (x: number | null) => (x === null ? '' : `${(x * 100).toFixed(2)} %`);
      io.out(
        formatTable(
          rows.map((r) => ({
            experiment: r.name,
            kind: r.kind,
            strategy: r.strategy ?? '',
            data: r.invalid ? `INVALID: ${r.invalid}` : (r.data ?? ''),
            period: r.period ?? '',
            last_run: r.lastRun ?? '',
            sharpe: r.sharpe === null ? '' : r.sharpe.toFixed(2),
            return: pct(r.totalReturn),
            baseline: r.kind === 'train' ? '' : r.drift === 'drift' ? `drift (${r.driftedFields} fields)` : r.drift,
          })),
        ),
      );
      io.out(`${rows.length} experiment files in ${opts.experiments}; run one with tm backtest --config <file>, all with tm backtest --all; re-render a report with tm report <name>`);
    });
  return experiments;
}
