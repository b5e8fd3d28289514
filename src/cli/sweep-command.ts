import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { Command, Option } from 'commander';
import { AppError } from '../core/app-error.js';
import { MarketStore, resolveStorePath } from '../data/index.js';
import { MlflowClient, mlflowClientConfigFromEnv, REGISTRY_ENV } from '../registry/index.js';
import { doneRow, failedRow, logSweepToMlflow, parseResultObjects, resolveSweepStorePath, SweepError, type MlflowSweepRuns, SweepStore, type SweepAggregate, type TrialRow, type TrialSummary } from '../sweep/index.js';
import { dbOption } from './cli-options.js';
import { formatTable, type CliIo } from './output.js';
import { createProgress } from './progress.js';
import { planSweep, type SweepPlan } from './sweep-job.js';
import { InProcessRunner, TrialPool, withRetry, type TrialRunner } from './sweep-pool.js';
import { connectQueue, enqueueSweep, forEachQueuedSweepRow, listQueuedSweeps, objectStoresFromEnv, QUEUE_DEFAULTS, queuedSweepStatus, removeQueuedSweep, startSweepWorker, sweepSource, waitForSweep, type QueuedSweepListing, type QueuedSweepStatus, type QueueTarget } from './sweep-queue.js';

interface QueueFlags {
  queue?: string;
  queueName: string;
  prefix: string;
}

interface SweepFlags extends QueueFlags {
  config: string;
  workers?: string;
  db?: string;
  results?: string;
  detach?: boolean;
  resultObjects?: string;
  json?: boolean;
  mlflow?: string | boolean;
}

function queueOptions(command: Command): Command {
  return command
    .option('--queue-name <name>', 'BullMQ queue name (workers listen on it)', QUEUE_DEFAULTS.queueName)
    .option('--prefix <prefix>', 'Redis key prefix of the queue and the sweep keys', QUEUE_DEFAULTS.prefix);
}

function targetOf(flags: QueueFlags): QueueTarget {
  if (!flags.queue || !/^rediss?:\/\//.test(flags.queue)) throw new AppError('invalid_option', `--queue must be a Redis URL like redis://127.0.0.1:6379, was ${JSON.stringify(flags.queue)}`, { queue: flags.queue });
  return { url: flags.queue, queueName: flags.queueName, prefix: flags.prefix };
}

function intFlag(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new AppError('invalid_option', `${name} must be an integer >= ${min}, was ${JSON.stringify(text)}`, { [name]: text });
  return n;
}

/** {@link queuedSweepStatus} for `command`, a Redis that cannot be read failing `unreachable` naming it. */
async function readQueuedStatus(command: string, connection: Redis, target: QueueTarget, sweepId: string): Promise<QueuedSweepStatus> {
  return fromQueue(command, target, () => queuedSweepStatus(connection, target, sweepId));
}

/** `read()`, a failure that is not the project's own error (an unreachable Redis) named for `command` (`unreachable`). */
async function fromQueue<T>(command: string, target: QueueTarget, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new SweepError('unreachable', `${command}: cannot read ${target.url}: ${(e as Error).message}`, { queue: target.url }, { cause: e });
  }
}

/** Where a queued sweep's aggregation stands, for `tm sweep status` and `tm sweep remove`. */
function statusLabel(s: Pick<QueuedSweepStatus, 'status' | 'aggregateError'>): string {
  return s.status === 'aggregated' ? 'aggregated' : s.status === 'queued' ? 'in progress' : `its parent job could not aggregate it: ${s.aggregateError ?? 'no reason recorded'}`;
}

/** The done/failed/running line of the progress bar and of `tm sweep status`. */
function countsLabel(c: { done: number; failed: number; running: number }): string {
  return `done ${c.done} failed ${c.failed} running ${c.running}`;
}

/**
 * Runs the trials of `plan` that the store has no done row for with `runner` (retries with back-off per the sweep's
 * `retry`), writing each row as it finishes (this process is the store's only writer). Returns every row of the sweep
 * without its returns (they are in the store).
 */
export async function runSweepLocally(plan: SweepPlan, runner: TrialRunner, store: SweepStore, onProgress: (c: { done: number; failed: number; running: number }) => void = () => {}): Promise<TrialSummary[]> {
  const have = new Set((await store.summaries(plan.sweepId)).filter((r) => r.status === 'done').map((r) => r.configHash));
  const counts = { done: have.size, failed: 0, running: 0 };
  let writes: Promise<unknown> = Promise.resolve();
  const { attempts, backoffMs } = plan.config.retry;
  onProgress(counts);
  await Promise.all(
    plan.jobs
      .filter((job) => !have.has(job.configHash))
      .map(async (job) => {
        let row: TrialRow;
        try {
          const { value, attempts: took } = await withRetry(async () => {
            counts.running++;
            onProgress(counts);
            try {
              return await runner.run(job);
            } finally {
              counts.running--;
            }
          }, attempts, backoffMs);
          row = doneRow(plan.sweepId, value.result, took);
          counts.done++;
        } catch (e) {
          row = failedRow(job, (e as Error).message, (e as { attempts?: number }).attempts ?? attempts);
          counts.failed++;
        }
        onProgress(counts);
        writes = writes.then(() => store.putRow(row));
        await writes;
      }),
  );
  return store.summaries(plan.sweepId);
}

function printSweep(io: CliIo, plan: SweepPlan, rows: readonly TrialSummary[], aggregate: SweepAggregate, storePath: string, seconds: number): void {
  const objective = plan.config.objective;
  const ranked = [...rows].sort((a, b) => (b.metrics?.[objective] ?? -Infinity) - (a.metrics?.[objective] ?? -Infinity));
  const num = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? '' : x.toFixed(d));
  io.out(
    formatTable(
      ranked.slice(0, 10).map((r) => ({
        config_hash: r.configHash,
        point: JSON.stringify(r.point),
        status: r.status,
        [objective]: num(r.metrics?.[objective]),
        total_return: num(r.metrics?.totalReturn),
        max_drawdown: num(r.metrics?.maxDrawdown),
        trades: r.metrics?.tradeCount ?? '',
        attempts: r.attempts,
        error: r.error ?? '',
      })),
    ),
  );
  if (rows.length > 10) io.out(`(top 10 of ${rows.length} by ${objective})`);
  for (const r of rows.filter((x) => x.status === 'failed').slice(0, 5)) io.out(`failed ${r.configHash} ${JSON.stringify(r.point)} after ${r.attempts} attempts: ${r.error}`);
  const best = aggregate.best ? `best ${JSON.stringify(aggregate.best.point)} ${objective} ${aggregate.best.value.toFixed(3)}` : 'no best trial';
  const dsr = aggregate.deflatedSharpe ? `DSR ${aggregate.deflatedSharpe.dsr.toFixed(3)} over ${aggregate.deflatedSharpe.trials} trials` : 'DSR n/a';
  const pbo = aggregate.pbo ? `PBO ${aggregate.pbo.pbo.toFixed(3)} (${aggregate.pbo.splits} splits of ${aggregate.pbo.blocks} blocks, ${aggregate.pbo.bars} bars)` : 'PBO n/a';
  io.out(`sweep ${plan.sweepId}: ${aggregate.trials} trials, ${aggregate.done} done, ${aggregate.failed} failed in ${seconds.toFixed(1)} s; ${best}; ${dsr}; ${pbo}`);
  io.out(`results: ${storePath} (tm sweep status ${plan.sweepId})`);
}

async function sweepAction(io: CliIo, opts: SweepFlags): Promise<void> {
  const started = performance.now();
  const plan = await planSweep(opts.config);
  const dbPath = resolveStorePath(opts.db);
  const progress = createProgress(plan.jobs.length, 'trials');
  const onProgress = (c: { done: number; failed: number; running: number }) => progress.update(c.done + c.failed, countsLabel(c));
  let rows: TrialSummary[];
  let aggregate: SweepAggregate;
  let store: SweepStore | undefined;
  let mlflowRuns: MlflowSweepRuns | undefined;
  const source = opts.queue ? sweepSource({ url: opts.queue, queueName: opts.queueName }) : 'local';
  try {
    if (opts.queue) {
      if (opts.workers !== undefined) throw new AppError('invalid_option', 'tm sweep: --workers runs trials on this machine; with --queue the trials run on `tm worker` processes (drop one of them)');
      const target = targetOf(opts);
      const resultObjects = opts.resultObjects === undefined ? undefined : parseResultObjects(opts.resultObjects);
      const connection = connectQueue(target, (m) => io.err(`redis: ${m}`));
      try {
        const added = await enqueueSweep(connection, target, plan, resultObjects);
        if (opts.detach) {
          io.out(`sweep ${plan.sweepId}: ${added ? `queued ${plan.jobs.length} trials` : 'already queued'} on ${source}; follow it with tm sweep status ${plan.sweepId} --queue ${target.url}, collect it with the same tm sweep command without --detach`);
          return;
        }
        if (!added) io.err(`sweep ${plan.sweepId}: already queued on ${source}; waiting for it`);
        const final = await waitForSweep(connection, target, plan.sweepId, onProgress);
        if (final.status === 'aggregate-failed') io.err(`sweep ${plan.sweepId}: its parent job could not aggregate it (${final.aggregateError ?? 'no reason recorded'}); aggregating here`);
        store = await SweepStore.open(resolveSweepStorePath(opts.results));
        await store.putSweep({ sweepId: plan.sweepId, name: plan.config.name, config: plan.config, trials: plan.jobs.length, source });
        await forEachQueuedSweepRow(connection, target, plan.sweepId, objectStoresFromEnv(process.env), (row) => store!.putRow(row));
        rows = await store.summaries(plan.sweepId);
        aggregate = final.aggregate ?? (await store.aggregate(plan.sweepId, plan.config, plan.jobs.length));
      } finally {
        connection.disconnect();
      }
    } else {
      if (opts.detach) throw new AppError('invalid_option', 'tm sweep: --detach queues the sweep for tm worker processes; give --queue redis://... (or drop --detach to run it here)');
      if (opts.resultObjects !== undefined) throw new AppError('invalid_option', 'tm sweep: --result-objects is where tm worker processes put the results of a queued sweep; give --queue redis://... (a local run writes its rows to the results store)');
      const workers = intFlag('--workers', opts.workers, 1, 0);
      store = await SweepStore.open(resolveSweepStorePath(opts.results));
      await store.putSweep({ sweepId: plan.sweepId, name: plan.config.name, config: plan.config, trials: plan.jobs.length, source });
      const market = workers === 0 ? await MarketStore.open(dbPath, { readOnly: true }) : undefined;
      const runner: TrialRunner = market ? new InProcessRunner(market) : new TrialPool(workers, dbPath);
      try {
        rows = await runSweepLocally(plan, runner, store, onProgress);
      } finally {
        await runner.close();
        market?.close();
      }
      aggregate = await store.aggregate(plan.sweepId, plan.config, plan.jobs.length);
    }
    await store.setAggregate(plan.sweepId, aggregate);
    if (opts.mlflow !== undefined && opts.mlflow !== false) {
      const mlflowConfig = mlflowClientConfigFromEnv(process.env);
      if (!mlflowConfig) throw new AppError('invalid_option', `tm sweep --mlflow: set ${REGISTRY_ENV.trackingUri} (e.g. eval "$(bash scripts/services.sh env)"); the rows are in ${store.path}`);
      const experiment = typeof opts.mlflow === 'string' ? opts.mlflow : plan.config.name;
      mlflowRuns = await logSweepToMlflow(new MlflowClient(mlflowConfig, { now: () => Date.now() }), experiment, plan, rows, aggregate);
    }
  } finally {
    progress.stop();
    store?.close();
  }
  const seconds = (performance.now() - started) / 1000;
  if (opts.json) {
    io.out(JSON.stringify({ sweepId: plan.sweepId, source, seconds: Number(seconds.toFixed(3)), aggregate, ...(mlflowRuns ? { mlflow: mlflowRuns } : {}), rows }, null, 2));
    return;
  }
  printSweep(io, plan, rows, aggregate, resolveSweepStorePath(opts.results), seconds);
  if (mlflowRuns) io.out(`mlflow: ${mlflowRuns.created ? 'logged' : 'already logged as'} parent run ${mlflowRuns.parentRunId} with ${mlflowRuns.childRuns} child runs (experiment ${mlflowRuns.experimentId})`);
}

async function statusAction(io: CliIo, sweepId: string, opts: QueueFlags & { results?: string; json?: boolean }): Promise<void> {
  if (opts.queue) {
    const connection = connectQueue(targetOf(opts), () => {}, { waitForever: false });
    try {
      const s = await readQueuedStatus('tm sweep status', connection, targetOf(opts), sweepId);
      if (opts.json) return io.out(JSON.stringify(s, null, 2));
      io.out(`sweep ${sweepId} (${s.name}) on ${opts.queue}: ${s.trials} trials, ${countsLabel(s)}, waiting ${Math.max(0, s.trials - s.done - s.failed - s.running)}; ${statusLabel(s)}`);
      if (s.resultObjects !== null) io.out(`results: ${s.resultObjects} (Redis holds a reference per trial)`);
      if (s.aggregate?.best) io.out(`best ${JSON.stringify(s.aggregate.best.point)} ${s.aggregate.objective} ${s.aggregate.best.value.toFixed(3)}`);
    } finally {
      connection.disconnect();
    }
    return;
  }
  const store = await SweepStore.open(resolveSweepStorePath(opts.results));
  try {
    const sweep = await store.sweep(sweepId);
    if (!sweep) throw new AppError('not_found', `sweep ${sweepId}: the results store ${store.path} has no such sweep (a queued one: add --queue redis://...)`, { sweepId });
    const rows = await store.summaries(sweepId);
    const done = rows.filter((r) => r.status === 'done').length, failed = rows.length - done;
    if (opts.json) return io.out(JSON.stringify({ sweepId, name: sweep.name, source: sweep.source, trials: sweep.trials, done, failed, aggregate: sweep.aggregate }, null, 2));
    io.out(`sweep ${sweepId} (${sweep.name}, ${sweep.source}): ${sweep.trials} trials, done ${done} failed ${failed}, missing ${sweep.trials - rows.length}`);
    if (sweep.aggregate?.best) io.out(`best ${JSON.stringify(sweep.aggregate.best.point)} ${sweep.aggregate.objective} ${sweep.aggregate.best.value.toFixed(3)}`);
    if (sweep.aggregate?.pbo) io.out(`PBO ${sweep.aggregate.pbo.pbo.toFixed(3)}; DSR ${sweep.aggregate.deflatedSharpe?.dsr.toFixed(3) ?? 'n/a'}`);
  } finally {
    store.close();
  }
}

/** What a results store holds of a sweep: its done rows, and whether it holds its aggregate. */
interface StoredState {
  readonly kept: number;
  readonly aggregated: boolean;
}

/**
 * What the results store at `path` holds of each of `sweepIds` (in their order), the store opened once; nothing held
 * when there is no store (asking a store does not create one).
 */
async function storedStates(path: string, sweepIds: readonly string[]): Promise<StoredState[]> {
  if (!existsSync(path)) return sweepIds.map(() => ({ kept: 0, aggregated: false }));
  const store = await SweepStore.open(path);
  try {
    const states: StoredState[] = [];
    for (const id of sweepIds) states.push({ kept: await store.doneCount(id), aggregated: (await store.sweep(id))?.aggregate != null });
    return states;
  } finally {
    store.close();
  }
}

/** A queued sweep is collected once aggregated and the results store holds its aggregate and every done row Redis has. */
function isCollected(status: Pick<QueuedSweepStatus, 'status' | 'done'>, held: StoredState): boolean {
  return status.status !== 'queued' && held.aggregated && held.kept >= status.done;
}

const DAY_MS = 86_400_000;

/**
 * `tm sweep ls --queue …`: every sweep Redis holds on that queue, oldest first, with its progress, age, the memory of
 * its keys and whether the results store holds it (collected): the sweeps to collect, and those `tm sweep remove`
 * can free.
 */
async function listAction(io: CliIo, opts: QueueFlags & { results?: string; olderThan?: string; json?: boolean }, now: () => number = Date.now): Promise<void> {
  const target = targetOf(opts);
  let olderThanDays = 0;
  if (opts.olderThan !== undefined) {
    olderThanDays = Number(opts.olderThan);
    if (!(opts.olderThan.trim() !== '' && Number.isFinite(olderThanDays) && olderThanDays >= 0)) throw new AppError('invalid_option', `--older-than must be a number of days >= 0, was ${JSON.stringify(opts.olderThan)}`, { olderThan: opts.olderThan });
  }
  const connection = connectQueue(target, () => {}, { waitForever: false });
  let sweeps: QueuedSweepListing[];
  try {
    sweeps = await fromQueue('tm sweep ls', target, () => listQueuedSweeps(connection, target));
  } finally {
    connection.disconnect();
  }
  const t = now();
  const ageDays = (s: QueuedSweepListing): number | null => (s.queuedAt === null ? null : (t - s.queuedAt) / DAY_MS);
  if (opts.olderThan !== undefined) sweeps = sweeps.filter((s) => (ageDays(s) ?? Infinity) > olderThanDays);
  const path = resolveSweepStorePath(opts.results);
  const held = await storedStates(path, sweeps.map((s) => s.sweepId));
  const rows = sweeps.map((s, k) => ({ ...s, ageDays: ageDays(s), collected: isCollected(s, held[k]!) }));
  if (opts.json) return io.out(JSON.stringify(rows.map(({ aggregate: _, ...r }) => r), null, 2));
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(2);
  if (rows.length > 0) {
    io.out(
      formatTable(
        rows.map((r) => ({
          sweep: r.sweepId,
          name: r.name,
          status: r.status === 'queued' ? 'in progress' : r.status,
          done: r.done,
          failed: r.failed,
          trials: r.trials,
          queued: r.queuedAt === null ? 'unknown' : new Date(r.queuedAt).toISOString().slice(0, 16).replace('T', ' '),
          age_days: r.ageDays === null ? '' : r.ageDays.toFixed(1),
          redis_mib: mib(r.redisBytes),
          results: r.resultObjects ?? 'redis',
          collected: r.collected ? 'yes' : 'no',
        })),
      ),
    );
  }
  const filter = opts.olderThan === undefined ? '' : ` queued more than ${olderThanDays} days ago (or at an unknown time)`;
  const collected = rows.filter((r) => r.collected);
  io.out(`${rows.length} sweeps${filter} on ${target.url} (prefix ${target.prefix}), ${mib(rows.reduce((sum, r) => sum + r.redisBytes, 0))} MiB of Redis in their keys; ${collected.length} collected into ${path}`);
  if (collected.length > 0) io.out(`free the collected ones with tm sweep remove --collected --queue ${target.url}${target.prefix === QUEUE_DEFAULTS.prefix ? '' : ` --prefix ${target.prefix}`}${opts.results === undefined ? '' : ` --results ${opts.results}`}`);
}

/**
 * `tm sweep remove <id> --queue …`: removes a queued sweep from Redis and its result objects, once the results store
 * holds every row Redis has for it and its aggregate (collected), or with `--force` whatever its state;
 * `tm sweep remove --collected --queue …`: every collected sweep on the queue.
 */
async function removeAction(io: CliIo, sweepId: string | undefined, opts: QueueFlags & { results?: string; force?: boolean; collected?: boolean }): Promise<void> {
  if (opts.collected && sweepId !== undefined) throw new AppError('invalid_arguments', `tm sweep remove: give a sweep id or --collected, not both (was ${sweepId} and --collected)`);
  if (opts.collected && opts.force) throw new AppError('invalid_arguments', 'tm sweep remove: --force removes one named sweep; --collected removes only collected ones (drop one of them)');
  if (!opts.collected && sweepId === undefined) throw new AppError('invalid_arguments', 'tm sweep remove: give the id of the sweep to remove, or --collected for every collected one (tm sweep ls lists them)');
  const target = targetOf(opts);
  const path = resolveSweepStorePath(opts.results);
  const connection = connectQueue(target, () => {}, { waitForever: false });
  try {
    if (sweepId !== undefined) {
      const status = await readQueuedStatus('tm sweep remove', connection, target, sweepId);
      if (!opts.force) {
        const [held] = (await storedStates(path, [sweepId])) as [StoredState];
        if (!isCollected(status, held)) {
          throw new SweepError(
            'invalid_state',
            `tm sweep remove: sweep ${sweepId} is not collected: Redis has ${status.done} done of ${status.trials} trials (${statusLabel(status)}), the results store ${path} holds ${held.kept} done rows${held.aggregated ? '' : ' and no aggregate'}. Collect it (the tm sweep command without --detach), or remove it anyway with --force`,
            { sweepId, redisDone: status.done, storeDone: held.kept },
          );
        }
      }
      return io.out(await removeOne(connection, target, status));
    }
    const sweeps = await fromQueue('tm sweep remove', target, () => listQueuedSweeps(connection, target));
    const held = await storedStates(path, sweeps.map((s) => s.sweepId));
    const collected = sweeps.filter((s, k) => isCollected(s, held[k]!));
    for (const s of collected) io.out(await removeOne(connection, target, s));
    io.out(`removed ${collected.length} collected sweeps from ${target.url} (prefix ${target.prefix}); ${sweeps.length - collected.length} not collected into ${path} stay (tm sweep ls lists them)`);
  } finally {
    connection.disconnect();
  }
}

/** Removes a queued sweep (see removeQueuedSweep) and returns the line that says what went. */
async function removeOne(connection: Redis, target: QueueTarget, status: QueuedSweepStatus): Promise<string> {
  const removed = await removeQueuedSweep(connection, target, status.sweepId, objectStoresFromEnv(process.env));
  return `sweep ${status.sweepId}: removed ${removed.objects} result objects${status.resultObjects === null ? '' : ` under ${status.resultObjects}`}, ${removed.flow ? 'its BullMQ flow' : 'no BullMQ flow (gone already)'} and ${removed.keys} keys (${removed.names.join(', ')}) from ${target.url} (prefix ${target.prefix})`;
}

/**
 * Builds `tm sweep` (run or queue a sweep), `tm sweep status <id>`, `tm sweep ls` and `tm sweep remove <id> | --collected`.
 * @example tm sweep --config experiments/sweeps/sma-crossover-grid.json --workers 2
 */
export function sweepCommand(io: CliIo, _setExit: (code: number) => void): Command {
  const sweep = new Command('sweep')
    .description('parameter sweep over an experiment: run it locally (--workers N) or as a BullMQ flow on Redis (--queue); one result row per trial, best trial, Deflated Sharpe, PBO; tm sweep status <id>, ls, remove <id>')
    .option('--config <file>', 'sweep file (base experiment, search, objective, pbo, retry)')
    .option('--workers <n>', 'local run: N worker processes (0 = sequentially in this process); default 1')
    .option('--queue <url>', 'queue the sweep as a BullMQ flow on this Redis (e.g. redis://127.0.0.1:6379) and wait for tm worker processes to run it')
    .option('--detach', 'with --queue: queue and return (collect later by running the same command without --detach)')
    .option('--result-objects <s3-url>', 'with --queue: workers put each trial\'s result (metrics, per-bar returns) in this S3/MinIO location, s3://bucket/prefix, and Redis keeps only a reference per trial (S3 settings from TM_S3_ENDPOINT, AWS_* where tm worker and tm sweep run)')
    .option('--results <file>', 'sweep results store, DuckDB (env TM_SWEEP_DB)', undefined)
    .option('--json', 'print the aggregate and the rows (without returns) as JSON')
    .option('--mlflow [experiment]', 'log the sweep to MLflow (MLFLOW_TRACKING_URI): a parent run with one child run per trial, in this experiment (default: the sweep name)')
    .addOption(dbOption())
    .enablePositionalOptions(); // `tm sweep status <id> --results f`: options after `status` are its own
  queueOptions(sweep).action(async (opts: SweepFlags) => {
    if (!opts.config) throw new AppError('invalid_arguments', 'tm sweep: --config <file> is required (or tm sweep status <id>)');
    await sweepAction(io, opts);
  });
  queueOptions(
    sweep
      .command('status <id>')
      .description('progress of a sweep: done/failed/running trials and the aggregate, from the results store, or from Redis with --queue')
      .option('--queue <url>', 'read the queued sweep from this Redis instead of the results store')
      .option('--results <file>', 'sweep results store, DuckDB (env TM_SWEEP_DB)')
      .option('--json', 'print the status as JSON'),
  ).action(async (id: string, opts: QueueFlags & { results?: string; json?: boolean }) => statusAction(io, id, opts));
  queueOptions(
    sweep
      .command('ls')
      .description('list the sweeps queued on a Redis, oldest first: progress, age, Redis memory of their keys, and whether the results store holds them (collected)')
      .requiredOption('--queue <url>', 'the Redis the sweeps were queued on')
      .option('--results <file>', 'the results store they are collected into, DuckDB (env TM_SWEEP_DB)')
      .option('--older-than <days>', 'only sweeps queued more than this many days ago (and those queued before queue times were recorded)')
      .option('--json', 'print the list as JSON'),
  ).action(async (opts: QueueFlags & { results?: string; olderThan?: string; json?: boolean }) => listAction(io, opts));
  queueOptions(
    sweep
      .command('remove [id]')
      .description('remove a collected queued sweep (or, with --collected, every collected one) from Redis (its keys and BullMQ flow) and its result objects; the rows in the results store stay')
      .requiredOption('--queue <url>', 'the Redis the sweep was queued on')
      .option('--results <file>', 'the results store it was collected into, DuckDB (env TM_SWEEP_DB)')
      .option('--collected', 'instead of one id: every sweep on the queue that the results store holds (its aggregate and every done row)')
      .option('--force', 'remove it even when the results store does not hold its rows and aggregate (they are then lost)'),
  ).action(async (id: string | undefined, opts: QueueFlags & { results?: string; force?: boolean; collected?: boolean }) => removeAction(io, id, opts));
  return sweep;
}

/**
 * Builds `tm worker`: runs queued sweep trials (and aggregates finished sweeps) on this machine until SIGINT/SIGTERM.
 * @example tm worker --queue redis://127.0.0.1:6379 --concurrency 2
 */
export function workerCommand(io: CliIo, _setExit: (code: number) => void): Command {
  const worker = new Command('worker')
    .description('BullMQ worker: run queued sweep trials on this machine (tm worker --queue redis://...)')
    .addHelpText('after', '\nThe trials of a sweep queued with --result-objects need S3 settings where the worker runs: TM_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.')
    .requiredOption('--queue <url>', 'Redis URL of the queue, e.g. redis://127.0.0.1:6379')
    .option('--concurrency <n>', 'trials run at once (child processes)', '1')
    .addOption(new Option('--lock-duration <ms>', 'job lock lifetime without renewal; a worker silent for longer loses its job to another worker').default('30000'))
    .addOption(new Option('--stalled-interval <ms>', 'how often stalled jobs (expired locks) are moved back to wait').default('30000'))
    .addOption(new Option('--max-stalled <n>', 'stalls after which a job fails').default('1'))
    .addOption(dbOption());
  queueOptions(worker).action(async (opts: QueueFlags & { concurrency: string; lockDuration: string; stalledInterval: string; maxStalled: string; db?: string }) => {
    const target = targetOf(opts);
    const concurrency = intFlag('--concurrency', opts.concurrency, 1, 1);
    const workerName = `${hostname()}:${process.pid}`;
    const connection = connectQueue(target, (m) => io.err(`redis: ${m}`));
    const pool = new TrialPool(concurrency, resolveStorePath(opts.db));
    const w = startSweepWorker(connection, target, pool, {
      lockDurationMs: intFlag('--lock-duration', opts.lockDuration, 30000, 100),
      stalledIntervalMs: intFlag('--stalled-interval', opts.stalledInterval, 30000, 100),
      maxStalledCount: intFlag('--max-stalled', opts.maxStalled, 1, 0),
      workerName,
      objectStores: objectStoresFromEnv(process.env),
      onJob: (e) => io.out(`${e.kind} ${e.sweepId}${e.configHash ? ` ${e.configHash}` : ''} ${e.ok ? 'done' : `failed: ${e.error}`} (${e.ms.toFixed(0)} ms)`),
    });
    w.on('error', (e) => io.err(`worker: ${e.message}`));
    await w.waitUntilReady();
    io.out(`worker ${workerName} on ${target.url} queue ${target.queueName} (prefix ${target.prefix}), ${concurrency} trial process(es); stop with Ctrl-C`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await w.close();
    await pool.close();
    connection.disconnect();
  });
  return worker;
}
