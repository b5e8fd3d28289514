import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { computeMetrics, type BacktestMetrics } from '../backtest/metrics.js';
import { writeReport } from '../backtest/report.js';
import { writeBacktestMetrics } from '../monitoring/index.js';
import { TM_VERSION } from './version.js';
import { ExperimentError, runExperiment } from '../backtest/run-experiment.js';
import { STRATEGIES } from '../strategies/index.js';
import { ConfigError, loadConfig, type BacktestConfig } from '../config/backtest-config.js';
import { AppError } from '../core/app-error.js';
import { DataError, type MarketStore } from '../data/index.js';
import { dbOption } from './cli-options.js';
import { checkConfigReferences } from './config-references.js';
import { loadExperimentModel } from './model-packages.js';
import { withStore } from './store-session.js';
import { formatTable, type CliIo } from './output.js';
import { BASELINE_RELATIVE_TOLERANCE, compareSummaries, type SummaryDrift } from './summary-drift.js';
import { parseOverride, type ConfigOverride } from './config-overrides.js';
import { loadOrThrow, overrideLabel } from './experiment-file.js';
import { createProgress } from './progress.js';

export { loadOrThrow } from './experiment-file.js';

export { BASELINE_RELATIVE_TOLERANCE, compareSummaries, type SummaryDrift } from './summary-drift.js';

interface BacktestFlags {
  config?: string;
  all?: boolean;
  out?: string;
  experiments: string;
  baselines?: string;
  updateBaseline?: boolean;
  allowMissingData?: boolean;
  db?: string;
  from?: string;
  to?: string;
  funding?: 'strict';
  set: string[];
  json?: boolean;
}

/** Outcome of one experiment under `--all`. */
type Status = 'ok' | 'drift' | 'missing-baseline' | 'updated' | 'no-data' | 'skipped' | 'error';
const FAILING: readonly Status[] = ['drift', 'missing-baseline', 'no-data', 'error'];

/**
 * Builds `tm backtest`: runs one experiment (`--config`) or every `experiments/*.json` (`--all`), writing
 * `summary.json` + `report.html` per experiment, and with `--all` checks each summary against
 * `experiments/baselines/<name>.json` (exit 1 on drift, a missing baseline, or a baselined experiment without data).
 * @example tm backtest --config experiments/sma-crossover.json
 */
export function backtestCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('backtest')
    .description('run an experiment file (--config) or all experiments with a baseline drift check (--all); writes summary.json and report.html (and metrics.prom with --config)')
    .option('--config <file>', 'experiment file, e.g. experiments/sma-crossover.json')
    .option('--all', 'run every <experiments>/*.json and compare each summary with <baselines>/<name>.json')
    .option('--out <dir>', 'output folder (default <config folder>/results/<name>/; with --all the parent of the per-experiment folders, default <experiments>/results)')
    .option('--experiments <dir>', 'folder of experiment files for --all', 'experiments')
    .option('--baselines <dir>', 'folder of baseline summaries (default <experiments>/baselines)')
    .option('--update-baseline', 'write each new summary as the baseline instead of comparing')
    .option('--allow-missing-data', 'with --all: an experiment whose data is not in the store is skipped even when it has a baseline (default: that fails)')
    .option('--from <date>', 'with --config: override data.start (inclusive bar open, UTC date)')
    .addOption(new Option('--funding <mode>', 'with --config: strict = refuse the run when a funding settlement is missing (never apply the fallback rate)').choices(['strict']))
    .option('--to <date>', 'with --config: override data.end (exclusive bar open, UTC date)')
    .option('--set <path=value>', 'with --config: override a config value, repeatable; value is JSON or a string (e.g. --set params.fast=10 --set leverage=1)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print the result (metrics, notes, paths; with --all the per-experiment rows and drifts) as JSON')
    .addOption(dbOption())
    .action(async (opts: BacktestFlags) => {
      if ((opts.config === undefined) === !opts.all) throw new AppError('invalid_arguments', 'tm backtest: give exactly one of --config <file> or --all');
      const overriding = opts.funding !== undefined || opts.from !== undefined || opts.to !== undefined || opts.set.length > 0;
      if (opts.all && overriding) throw new AppError('invalid_arguments', 'tm backtest: --from, --to and --set apply to one experiment (--config); --all runs the files as they are against their baselines');
      if (overriding && opts.updateBaseline) throw new AppError('invalid_arguments', 'tm backtest: --update-baseline writes the baseline of the file as it is; drop --from, --to and --set');
      if (opts.config !== undefined) await runOne(io, opts.config, opts);
      else setExit(await runAll(io, opts));
    });
}

/** The command-line overrides of one run: `--from`/`--to` are `data.start`/`data.end`, then every `--set` in order. */
function overridesOf(opts: BacktestFlags): ConfigOverride[] {
  return [
    ...(opts.from !== undefined ? [{ path: ['data', 'start'], value: opts.from, text: `data.start=${opts.from}` }] : []),
    ...(opts.to !== undefined ? [{ path: ['data', 'end'], value: opts.to, text: `data.end=${opts.to}` }] : []),
    ...(opts.funding === 'strict' ? [{ path: ['funding', 'strict'], value: true, text: 'funding.strict=true' }] : []),
    ...opts.set.map(parseOverride),
  ];
}

/** Runs one experiment; errors name the config file (config-shaped problems become a {@link ConfigError} with the JSON path). */
export async function run(store: MarketStore, file: string, config: BacktestConfig) {
  await checkConfigReferences(store, file, config);
  try {
    return await runExperiment(config, { store, strategies: STRATEGIES, loadModel: loadExperimentModel });
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    const path = e.context['path'];
    const configShaped = ['unknown_strategy', 'unknown_instrument', 'unknown_feature', 'invalid_feature_params', 'invalid_strategy_params'].includes(e.code);
    if (configShaped && typeof path === 'string') {
      let problem = typeof e.context['problem'] === 'string' ? String(e.context['problem']) : e.message;
      if (e.code === 'invalid_feature_params') problem = featureParamProblem(problem, config, path);
      throw new ConfigError('invalid_config', `${file}: ${path}: ${problem}`, { file, path, problem }, { cause: e });
    }
    if (e instanceof ExperimentError) throw new ExperimentError(e.code, `${file}: ${e.message}`, { ...e.context, file }, { cause: e });
    if (e instanceof DataError) throw new DataError(e.code, `${file}: ${e.message}`, { ...e.context, file }, { cause: e });
    throw new AppError(e.code, `${file}: ${e.message}`, { ...e.context, file }, { cause: e });
  }
}

/**
 * A feature-parameter problem that names the value at `path` (`$.columns.signal.params.lookback`) instead of quoting
 * the whole params object.
 */
function featureParamProblem(problem: string, config: BacktestConfig, path: string): string {
  let value: unknown = config;
  for (const key of path.replace(/^\$\.?/, '').split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  const rule = problem.replace(/, params were .*$/s, '');
  return value === undefined ? rule : `${rule}, was ${JSON.stringify(value)}`;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)} %`);
const num = (x: number | null, d = 2) => (x === null ? 'n/a' : x.toFixed(d));

function keyMetrics(m: BacktestMetrics): Record<string, string> {
  return {
    total_return: pct(m.totalReturn),
    cagr: pct(m.cagr),
    sharpe: num(m.sharpe),
    sortino: num(m.sortino),
    max_drawdown: pct(m.maxDrawdown),
    trades: String(m.tradeCount),
    fees: num(m.feesPaid),
    funding: num(m.fundingPaid),
    final_equity: num(m.finalEquity),
  };
}

async function runOne(io: CliIo, file: string, opts: BacktestFlags): Promise<void> {
  const overrides = overridesOf(opts);
  const config = await loadOrThrow(file, overrides);
  const started = performance.now();
  const label = overrideLabel(file, overrides);
  const result = await withStore(opts.db, (store) => run(store, label, config), { readOnly: true });
  const metrics = computeMetrics(result);
  const out = opts.out ?? join(dirname(file), 'results', config.name);
  const paths = await writeReport(out, result, metrics);
  // The run as the runner's Prometheus families (text exposition; node-exporter textfile / promtool format).
  const metricsFile = join(out, 'metrics.prom');
  await writeBacktestMetrics(result, metricsFile, { version: TM_VERSION });
  const seconds = (performance.now() - started) / 1000;
  if (opts.json) {
    io.out(JSON.stringify({ name: config.name, config: file, overrides: overrides.map((o) => o.text), seconds: Number(seconds.toFixed(3)), metrics, notes: result.notes, summary: paths.summaryPath, report: paths.htmlPath }, null, 2));
    return;
  }
  io.out(`${config.name}: ${config.strategy} on ${config.data.venue} ${config.data.timeframe} ${config.data.symbols.join(', ')} from ${config.data.start} to ${config.data.end} (${seconds.toFixed(2)} s)`);
  io.out(formatTable([keyMetrics(metrics)]));
  for (const note of result.notes) io.out(`note: ${note}`);
  if (opts.updateBaseline) {
    const baselines = opts.baselines ?? join(dirname(file), 'baselines');
    await mkdir(baselines, { recursive: true });
    await writeFile(join(baselines, `${config.name}.json`), await readFile(paths.summaryPath, 'utf8'));
    io.out(`baseline: ${join(baselines, `${config.name}.json`)}`);
  }
  io.out(`summary: ${paths.summaryPath}`);
  io.out(`report: ${paths.htmlPath}`);
  io.out(`metrics: ${metricsFile}`);
}

interface Row {
  experiment: string;
  status: Status;
  detail: string;
  drifts: SummaryDrift[];
}

async function runAll(io: CliIo, opts: BacktestFlags): Promise<number> {
  const dir = opts.experiments;
  const baselines = opts.baselines ?? join(dir, 'baselines');
  const outRoot = opts.out ?? join(dir, 'results');
  let files: string[];
  try {
    // train-*.json are `tm train` configs, not backtests.
    files = (await readdir(dir)).filter((f) => f.endsWith('.json') && !f.startsWith('train-')).sort();
  } catch (e) {
    throw new AppError('not_found', `--experiments ${dir}: cannot list the folder: ${(e as Error).message}`, { dir }, { cause: e });
  }
  if (files.length === 0) throw new AppError('not_found', `--experiments ${dir}: holds no *.json experiment file`, { dir });
  if (opts.updateBaseline) await mkdir(baselines, { recursive: true });

  const rows: Row[] = [];
  const progress = createProgress(files.length, 'experiments');
  try {
    await withStore(opts.db, async (store) => {
      for (const [k, f] of files.entries()) {
        const file = join(dir, f);
        const name = basename(f, '.json');
        progress.update(k, name);
        rows.push(await checkOne(store, file, name, baselines, outRoot, opts));
      }
      progress.update(files.length, '');
    }, { readOnly: true });
  } finally {
    progress.stop();
  }

  const known = new Set(files.map((f) => basename(f, '.json')));
  const orphans = existsSync(baselines) ? (await readdir(baselines)).filter((f) => f.endsWith('.json') && !known.has(basename(f, '.json'))) : [];

  const failed = rows.filter((r) => FAILING.includes(r.status)).length;
  const noneRan = rows.every((r) => r.status === 'skipped' || r.status === 'no-data');
  if (opts.json) {
    io.out(JSON.stringify({ experiments: rows, orphanBaselines: orphans.map((o) => join(baselines, o)), reports: outRoot }, null, 2));
    return noneRan || failed > 0 ? 1 : 0;
  }
  io.out(formatTable(rows.map((r) => ({ experiment: r.experiment, status: r.status, drifted_fields: r.drifts.length, detail: r.detail }))));
  const driftRows = rows.flatMap((r) =>
    r.drifts.slice(0, 20).map((d) => ({
      experiment: r.experiment,
      path: d.path,
      baseline: show(d.baseline),
      actual: show(d.actual),
      relative_diff: d.relativeDiff === null ? '' : d.relativeDiff.toExponential(2),
      rule: d.rule,
    })),
  );
  if (driftRows.length > 0) {
    io.out('');
    io.out(`drift (tolerances: integers exact, other numbers relative ${BASELINE_RELATIVE_TOLERANCE}, strings exact; first 20 per experiment):`);
    io.out(formatTable(driftRows));
  }
  for (const o of orphans) io.out(`warning: baseline ${join(baselines, o)} has no experiment file`);
  const count = (s: Status) => rows.filter((r) => r.status === s).length;
  io.out(
    `backtest --all: ${rows.length} experiments: ${count('ok')} ok, ${count('updated')} baselines written, ${count('drift')} drift, ${count('missing-baseline')} missing baseline, ` +
      `${count('no-data')} without data (baselined), ${count('skipped')} skipped, ${count('error')} errors; reports in ${outRoot}`,
  );
  if (noneRan) {
    io.out('backtest --all: no experiment ran (no data in the store?): run `tm data import <path>` first');
    return 1;
  }
  return failed > 0 ? 1 : 0;
}

function show(v: unknown): string {
  const s = v === undefined ? '(absent)' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

async function checkOne(store: MarketStore, file: string, name: string, baselines: string, outRoot: string, opts: BacktestFlags): Promise<Row> {
  const baselineFile = join(baselines, `${name}.json`);
  const hasBaseline = existsSync(baselineFile);
  const loaded = await loadConfig(file);
  if (!loaded.success) return { experiment: name, status: 'error', detail: loaded.error.message, drifts: [] };
  let summaryText: string;
  try {
    const result = await run(store, file, loaded.data);
    const paths = await writeReport(join(outRoot, name), result);
    summaryText = await readFile(paths.summaryPath, 'utf8');
  } catch (e) {
    const missingData = isMissingData(e);
    if (!(e instanceof AppError)) throw e;
    if (!missingData) return { experiment: name, status: 'error', detail: e.message, drifts: [] };
    if (hasBaseline && !opts.allowMissingData) return { experiment: name, status: 'no-data', detail: `${e.message} (has a baseline, so it must run; --allow-missing-data to skip)`, drifts: [] };
    return { experiment: name, status: 'skipped', detail: e.message, drifts: [] };
  }
  const absolute = resolve(outRoot, name);
  const where = relative(process.cwd(), absolute).startsWith('..') ? absolute : relative(process.cwd(), absolute);
  if (opts.updateBaseline) {
    await writeFile(baselineFile, summaryText);
    return { experiment: name, status: 'updated', detail: `baseline ${baselineFile}; report ${where}/report.html`, drifts: [] };
  }
  if (!hasBaseline) return { experiment: name, status: 'missing-baseline', detail: `no ${baselineFile}; run tm backtest --all --update-baseline and commit it`, drifts: [] };
  let baseline: unknown;
  try {
    baseline = JSON.parse(await readFile(baselineFile, 'utf8'));
  } catch (e) {
    return { experiment: name, status: 'error', detail: `${baselineFile}: not valid JSON: ${(e as Error).message}`, drifts: [] };
  }
  const drifts = compareSummaries(baseline, JSON.parse(summaryText));
  return drifts.length === 0
    ? { experiment: name, status: 'ok', detail: `report ${where}/report.html`, drifts }
    : { experiment: name, status: 'drift', detail: `${drifts.length} field(s) differ from ${baselineFile}`, drifts };
}

/**
 * Whether a failed run lacked data (its error, or one in its cause chain, is a store miss: no bars of a series — also
 * when the regime fit window is the section without them — or no predictions), as opposed to a broken run.
 */
function isMissingData(e: unknown): boolean {
  for (let x = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++) {
    if (x instanceof DataError && x.code === 'not_found') return true;
    if (x instanceof ExperimentError && (x.code === 'missing_predictions' || x.code === 'missing_bars')) return true;
  }
  return false;
}
