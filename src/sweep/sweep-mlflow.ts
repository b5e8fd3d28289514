import type { MlflowClient } from '../registry/index.js';
import type { SweepAggregate } from './aggregate.js';
import type { SweepConfig } from './sweep-config.js';
import type { TrialSummary } from './trial.js';

/** Where {@link logSweepToMlflow} put a sweep: the parent run and the child runs (one per trial row). */
export interface MlflowSweepRuns {
  readonly experimentId: string;
  readonly parentRunId: string;
  readonly childRuns: number;
  /** False when the sweep was logged already (its parent run found by the `tm.sweep_id` tag): nothing was added. */
  readonly created: boolean;
}

const metricsOf = (values: Readonly<Record<string, number | null | undefined>>) =>
  Object.entries(values)
    .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
    .map(([key, value]) => ({ key, value }));

/**
 * Logs a finished sweep to MLflow experiment `experiment`: a parent run (tag `tm.sweep_id`, params = the sweep's search,
 * objective and PBO blocks; metrics = trials, done, failed, best objective, DSR, PBO) and one child run per trial row
 * (tag `mlflow.parentRunId`, so the MLflow UI nests them; params = the point, metrics = the trial's metrics; a failed
 * trial is a FAILED run tagged with its error). Logging the same sweep again adds nothing.
 */
export async function logSweepToMlflow(client: MlflowClient, experiment: string, sweep: { sweepId: string; config: SweepConfig }, rows: readonly TrialSummary[], aggregate: SweepAggregate): Promise<MlflowSweepRuns> {
  const experimentId = await client.ensureExperiment(experiment);
  const existing = await client.searchRuns({ experimentIds: [experimentId], filter: `tags.\`tm.sweep_id\` = '${sweep.sweepId}' and tags.\`tm.sweep_role\` = 'parent'`, maxResults: 1 });
  if (existing.items.length > 0) return { experimentId, parentRunId: existing.items[0]!.info.run_id, childRuns: rows.length, created: false };
  const parent = await client.createRun({ experimentId, runName: sweep.sweepId, tags: { 'tm.sweep_id': sweep.sweepId, 'tm.sweep_role': 'parent' } });
  const parentRunId = parent.info.run_id;
  await client.logBatch({
    runId: parentRunId,
    params: { 'sweep.search': JSON.stringify(sweep.config.search).slice(0, 500), 'sweep.objective': sweep.config.objective, 'sweep.pbo_blocks': String(sweep.config.pbo.blocks), 'sweep.base': sweep.config.base },
    metrics: metricsOf({ trials: aggregate.trials, done: aggregate.done, failed: aggregate.failed, best_objective: aggregate.best?.value, dsr: aggregate.deflatedSharpe?.dsr, pbo: aggregate.pbo?.pbo }),
    tags: aggregate.best ? { 'tm.best_config_hash': aggregate.best.configHash, 'tm.best_point': JSON.stringify(aggregate.best.point) } : {},
  });
  for (const row of rows) {
    const child = await client.createRun({ experimentId, runName: `${sweep.config.name} ${row.configHash}`, tags: { 'mlflow.parentRunId': parentRunId, 'tm.sweep_id': sweep.sweepId, 'tm.config_hash': row.configHash, 'tm.sweep_role': 'trial' } });
    await client.logBatch({
      runId: child.info.run_id,
      params: Object.fromEntries(Object.entries(row.point).map(([k, v]) => [k, JSON.stringify(v)])),
      metrics: metricsOf({ ...(row.metrics ?? {}), attempts: row.attempts }),
      tags: row.error ? { 'tm.error': row.error.slice(0, 5000) } : {},
    });
    await client.updateRun(child.info.run_id, row.status === 'done' ? 'FINISHED' : 'FAILED');
  }
  await client.updateRun(parentRunId, 'FINISHED');
  return { experimentId, parentRunId, childRuns: rows.length, created: true };
}
