import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { computeMetrics } from '../backtest/metrics.js';
import { writeReport } from '../backtest/report.js';
import { ConfigError, parseBacktestConfig, type BacktestConfig } from '../config/backtest-config.js';
import { AppError } from '../core/app-error.js';
import { compareSummaries, loadOrThrow, run } from './backtest-command.js';
import { dbOption } from './cli-options.js';
import type { CliIo } from './output.js';
import { withStore } from './store-session.js';

interface ReportFlags {
  experiments: string;
  db?: string;
  open?: boolean;
  json?: boolean;
}

/** What `tm report` re-renders: a result folder (config from its summary.json) or an experiment file. */
interface ReportTarget {
  readonly config: BacktestConfig;
  /** Where the config came from (summary.json or the experiment file), for messages. */
  readonly source: string;
  readonly outDir: string;
  /** The summary.json text found in `outDir` before re-rendering, if any. */
  readonly previousSummary: string | null;
}

/**
 * Builds `tm report`: re-runs the run behind a result folder (the config recorded in its summary.json) or an
 * experiment (`experiments/<name>.json`, or a path to one), rewrites summary.json + report.html, says whether the new
 * summary equals the previous one, and prints the report path; `--open` opens it with the desktop's opener.
 * @example tm report sma-crossover --open
 */
export function reportCommand(io: CliIo, _setExit: (code: number) => void): Command {
  return new Command('report')
    .description('re-render the HTML report of a result folder or an experiment and print its path (--open opens it)')
    .argument('<result-dir|experiment>', 'a result folder holding summary.json (e.g. experiments/results/sma-crossover), an experiment name (sma-crossover) or file')
    .option('--experiments <dir>', 'folder of experiment files and of results/<name>/', 'experiments')
    .option('--open', 'open the report with xdg-open (Linux) or open (macOS) when one is available')
    .option('--json', 'print { name, report, summary, previous: "same" | "changed" | "none", drifted_fields } as JSON')
    .addOption(dbOption())
    .action(async (target: string, opts: ReportFlags) => {
      const t = await resolveTarget(target, opts.experiments);
      const result = await withStore(opts.db, (store) => run(store, t.source, t.config));
      const paths = await writeReport(t.outDir, result, computeMetrics(result));
      const drifts = t.previousSummary === null ? null : compareSummaries(JSON.parse(t.previousSummary), JSON.parse(await readFile(paths.summaryPath, 'utf8')));
      const previous = drifts === null ? 'none' : drifts.length === 0 ? 'same' : 'changed';
      if (opts.json) io.out(JSON.stringify({ name: t.config.name, report: paths.htmlPath, summary: paths.summaryPath, previous, drifted_fields: drifts?.length ?? 0 }, null, 2));
      else {
        if (previous === 'same') io.out(`${t.config.name}: summary unchanged (re-run from ${t.source})`);
        if (previous === 'changed') io.out(`${t.config.name}: ${drifts!.length} summary field(s) differ from the previous run (data or code changed since; first: ${drifts![0]!.path})`);
        io.out(`report: ${paths.htmlPath}`);
      }
      if (opts.open) openInBrowser(io, paths.htmlPath);
    });
}

async function resolveTarget(target: string, experiments: string): Promise<ReportTarget> {
  if (existsSync(target) && statSync(target).isDirectory()) {
    const summaryPath = join(target, 'summary.json');
    if (!existsSync(summaryPath)) throw new AppError('not_found', `${target} holds no summary.json: give a result folder written by tm backtest, or an experiment name`, { target });
    const text = await readFile(summaryPath, 'utf8');
    return { config: configFromSummary(summaryPath, text), source: summaryPath, outDir: target, previousSummary: text };
  }
  const file = target.endsWith('.json') ? target : join(experiments, `${target}.json`);
  if (!existsSync(file)) throw new AppError('not_found', `no result folder or experiment ${JSON.stringify(target)}: ${file} does not exist (list them with tm experiments ls)`, { target, file });
  const config = await loadOrThrow(file);
  const outDir = join(experiments, 'results', config.name);
  const summaryPath = join(outDir, 'summary.json');
  return { config, source: file, outDir, previousSummary: existsSync(summaryPath) ? await readFile(summaryPath, 'utf8') : null };
}

/** The run config recorded in a summary.json, parsed again (without the derived `periodsPerYear`). */
function configFromSummary(file: string, text: string): BacktestConfig {
  let summary: { config?: unknown };
  try {
    summary = JSON.parse(text) as { config?: unknown };
  } catch (e) {
    throw new ConfigError('invalid_json', `${file}: $: not valid JSON: ${(e as Error).message}`, { file, path: '$' }, { cause: e });
  }
  if (summary.config === null || typeof summary.config !== 'object') throw new ConfigError('invalid_config', `${file}: $.config: missing (not a backtest summary)`, { file, path: '$.config' });
  const { periodsPerYear: _derived, ...raw } = summary.config as Record<string, unknown>;
  const parsed = parseBacktestConfig(raw, `${file} $.config`);
  if (!parsed.success) throw parsed.error;
  return parsed.data;
}

/** Opens `path` with xdg-open (or macOS `open`) detached; says so when neither exists. */
function openInBrowser(io: CliIo, path: string): void {
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  const found = spawnSync('sh', ['-c', `command -v ${opener}`], { stdio: 'ignore' }).status === 0;
  if (!found) {
    io.err(`tm report: --open: ${opener} not found (no desktop browser here); open ${resolve(path)} yourself`);
    return;
  }
  spawn(opener, [resolve(path)], { detached: true, stdio: 'ignore' }).unref();
  io.out(`opened with ${opener}`);
}
