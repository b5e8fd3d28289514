import { Command, Option } from 'commander';
import { AppError } from '../core/app-error.js';
import { formatUtc } from '../core/time.js';
import { REGISTRY_ENV, type MlflowClient } from '../registry/index.js';
import { mlflowClient } from './models-commands.js';
import { formatTable, type CliIo } from './output.js';

/** One MLflow run as `tm runs ls` reports it. */
export interface RunRow {
  readonly experiment: string;
  readonly runId: string;
  readonly name: string;
  readonly status: string;
  readonly start: string;
  readonly seconds: number | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly params: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

/** Returns the newest `limit` runs (by start time) of the named experiments, or of every active experiment. */
export async function listRuns(client: MlflowClient, experimentNames: readonly string[], limit: number): Promise<RunRow[]> {
  const experiments = experimentNames.length > 0 ? await Promise.all(experimentNames.map((n) => client.getExperimentByName(n))) : await client.searchAllExperiments();
  if (experiments.length === 0) return [];
  const names = new Map(experiments.map((e) => [e.experiment_id, e.name]));
  const page = await client.searchRuns({ experimentIds: [...names.keys()], orderBy: ['attributes.start_time DESC'], maxResults: limit });
  return page.items.map((r) => ({
    experiment: names.get(r.info.experiment_id) ?? r.info.experiment_id,
    runId: r.info.run_id,
    name: r.info.run_name ?? '',
    status: r.info.status,
    start: r.info.start_time === undefined ? '' : formatUtc(r.info.start_time),
    seconds: r.info.start_time !== undefined && r.info.end_time !== undefined ? (r.info.end_time - r.info.start_time) / 1000 : null,
    // Latest value per metric key (a run may log a history).
    metrics: Object.fromEntries([...r.data.metrics].sort((a, b) => a.step - b.step).map((m) => [m.key, m.value])),
    params: r.data.params,
    tags: r.data.tags,
  }));
}

/**
 * Builds `tm runs` (`ls`): the MLflow runs of the tracking server named by --tracking-uri / MLFLOW_TRACKING_URI.
 * @example tm runs ls --experiment trade-matrix-train --limit 10
 */
export function runsCommand(io: CliIo, _setExit: (code: number) => void): Command {
  const runs = new Command('runs').description('MLflow runs: list the runs of the tracking server (when configured)');
  runs
    .command('ls')
    .description('list the newest runs (all experiments, or --experiment) with status, start, duration and their first metrics')
    .option('--experiment <name>', 'only this MLflow experiment (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--limit <n>', 'newest runs to list (1..1000)', '20')
    .addOption(new Option('--tracking-uri <url>', 'MLflow tracking server URL').env(REGISTRY_ENV.trackingUri))
    .option('--json', 'print the runs (with every metric, param and tag) as JSON')
    .action(async (opts: { experiment: string[]; limit: string; trackingUri?: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new AppError('invalid_option', `--limit must be an integer in [1, 1000], was ${JSON.stringify(opts.limit)}`, { limit: opts.limit });
      const rows = await listRuns(mlflowClient(opts.trackingUri), opts.experiment, limit);
      if (opts.json) return io.out(JSON.stringify(rows, null, 2));
      io.out(
        formatTable(
          rows.map((r) => ({
            experiment: r.experiment,
            run_id: r.runId,
            name: r.name,
            status: r.status,
            start: r.start,
            seconds: r.seconds === null ? '' : r.seconds.toFixed(1),
            metrics: Object.entries(r.metrics).slice(0, 4).map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`).join(' '),
          })),
        ),
      );
    });
  return runs;
}
