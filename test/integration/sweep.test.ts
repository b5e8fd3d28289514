/**
 * The same 24-point sweep (SMA crossover fast × slow on real Bybit BTCUSDT 4h bars) run three ways — sequentially in
 * one process, by a local pool of 2 child processes, and as a BullMQ flow on the real Redis processed by 2 `tm worker`
 * processes — gives identical result rows (metrics and per-bar returns), one per configuration.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient, parseMlflowClientConfig } from '../../src/registry/index.js';
import { runTm } from '../support/cli.js';
import { tempDir } from '../support/shared-data.js';
import { resultRows, startWorker, sweepStore, writeSweep, type WorkerProcess } from '../support/sweep-fixtures.js';

const redisUrl = process.env['REDIS_URL'];

describe('tm sweep: sequential, local pool and BullMQ give identical rows', () => {
  const dir = tempDir('tm-sweep-');
  const db = join(dir, 'market.duckdb');
  const prefix = `tm-test-sweep-${process.pid}`;
  let sweep = '';
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    await sweepStore(db);
    sweep = writeSweep(dir, 'sma-grid');
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    if (redisUrl) {
      const r = new Redis(redisUrl);
      const keys = await r.keys(`${prefix}:*`);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('24 points: sequential = pool of 2 = 2 tm worker processes over BullMQ', async () => {
    const testStarted = Date.now();
    if (!redisUrl) throw new Error(`REDIS_URL is not set: ${process.env['TM_SERVICES_ERROR'] ?? 'run with the services (scripts/services.sh)'}`);
    const started = Promise.all([startWorker(redisUrl, prefix, db), startWorker(redisUrl, prefix, db)]);

    const sequential = await runTm(['sweep', '--config', sweep, '--workers', '0', '--db', db, '--results', join(dir, 'sequential.duckdb'), '--json']);
    expect(sequential.err).toBe('');
    expect(sequential.code).toBe(0);
    const pool = await runTm(['sweep', '--config', sweep, '--workers', '2', '--db', db, '--results', join(dir, 'pool.duckdb'), '--json']);
    expect(pool.code, pool.err).toBe(0);
    workers.push(...(await started));
    const queued = await runTm(['sweep', '--config', sweep, '--queue', redisUrl, '--prefix', prefix, '--results', join(dir, 'queue.duckdb'), '--json']);
    expect(queued.code, queued.err).toBe(0);

    const reference = await resultRows(join(dir, 'sequential.duckdb'));
    expect(reference).toHaveLength(24);
    expect(new Set(reference.map((r) => r.configHash)).size).toBe(24);
    expect(reference.every((r) => r.status === 'done' && r.returns !== null && r.returns.length > 4000)).toBe(true);
    // the grid really varies the result (a sweep of one repeated backtest would also be "identical")
    expect(new Set(reference.map((r) => r.metrics!.sharpe)).size).toBe(24);
    expect(await resultRows(join(dir, 'pool.duckdb'))).toEqual(reference);
    expect(await resultRows(join(dir, 'queue.duckdb'))).toEqual(reference);

    // both worker processes took trials; the parent job aggregated the same way as the local path
    const trialsBy = workers.map((w) => (w.output().match(/^trial .* done/gm) ?? []).length);
    expect(trialsBy[0]! + trialsBy[1]!).toBe(24);
    expect(trialsBy.every((n) => n > 0)).toBe(true);
    const aggregates = [sequential, pool, queued].map((r) => (JSON.parse(r.out) as { aggregate: unknown }).aggregate);
    expect(aggregates[1]).toEqual(aggregates[0]);
    expect(aggregates[2]).toEqual(aggregates[0]);
    const a = aggregates[0] as { done: number; pbo: { pbo: number; splits: number }; best: { point: Record<string, number> }; deflatedSharpe: { trials: number } };
    expect(a.done).toBe(24);
    expect(a.pbo.splits).toBe(70);
    expect(a.deflatedSharpe.trials).toBe(24);

    // status from the store and from Redis
    const id = (JSON.parse(queued.out) as { sweepId: string }).sweepId;
    const fromStore = await runTm(['sweep', 'status', id, '--results', join(dir, 'queue.duckdb')]);
    expect(fromStore.out).toContain(`sweep ${id} (sma-grid, ${redisUrl}/tm-sweep): 24 trials, done 24 failed 0, missing 0`);
    const fromRedis = await runTm(['sweep', 'status', id, '--queue', redisUrl, '--prefix', prefix, '--json']);
    expect(JSON.parse(fromRedis.out)).toMatchObject({ sweepId: id, trials: 24, done: 24, failed: 0, running: 0, status: 'aggregated' });

    // tm sweep ls: the queued sweep, collected into queue.duckdb (not into a store that does not exist, which it does not create)
    const listed = await runTm(['sweep', 'ls', '--queue', redisUrl, '--prefix', prefix, '--results', join(dir, 'queue.duckdb'), '--json']);
    expect(listed.code, listed.err).toBe(0);
    const [entry, ...others] = JSON.parse(listed.out) as { sweepId: string; queuedAt: number; ageDays: number; redisBytes: number; collected: boolean }[];
    expect(others).toEqual([]);
    expect(entry).toMatchObject({ sweepId: id, name: 'sma-grid', done: 24, trials: 24, status: 'aggregated', resultObjects: null, collected: true });
    expect(entry!.queuedAt).toBeGreaterThanOrEqual(testStarted);
    expect(entry!.queuedAt).toBeLessThanOrEqual(Date.now());
    expect(entry!.redisBytes).toBeGreaterThan(24 * 40_000); // 24 results of > 4000 returns in the hash
    const elsewhere = join(dir, 'no-store.duckdb');
    const table = await runTm(['sweep', 'ls', '--queue', redisUrl, '--prefix', prefix, '--results', elsewhere]);
    expect(table.out).toMatch(new RegExp(`${id} +sma-grid +aggregated +24 +0 +24 +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d +0\\.0 +\\d+\\.\\d\\d +redis +no$`, 'm'));
    expect(table.out).toContain(`1 sweeps on ${redisUrl} (prefix ${prefix}),`);
    expect(table.out).toContain(`; 0 collected into ${elsewhere}`);
    expect(existsSync(elsewhere)).toBe(false);
    const old = await runTm(['sweep', 'ls', '--queue', redisUrl, '--prefix', prefix, '--older-than', '1']);
    expect(old.out).toContain(`0 sweeps queued more than 1 days ago (or at an unknown time) on ${redisUrl}`);
    const bad = await runTm(['sweep', 'ls', '--queue', redisUrl, '--older-than', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--older-than must be a number of days >= 0, was "soon"');
    const collectedTable = await runTm(['sweep', 'ls', '--queue', redisUrl, '--prefix', prefix, '--results', join(dir, 'queue.duckdb')]);
    expect(collectedTable.out).toContain(`; 1 collected into ${join(dir, 'queue.duckdb')}\nfree the collected ones with tm sweep remove --collected --queue ${redisUrl} --prefix ${prefix} --results ${join(dir, 'queue.duckdb')}`);

    // tm sweep remove --collected: the collected sweep goes, one nobody collected stays
    const redis = new Redis(redisUrl);
    await redis.hset(`${prefix}:sweep:uncollected:meta`, { name: 'uncollected', trials: '2', status: 'queued', queuedAt: String(Date.now()) });
    redis.disconnect();
    const freed = await runTm(['sweep', 'remove', '--collected', '--queue', redisUrl, '--prefix', prefix, '--results', join(dir, 'queue.duckdb')]);
    expect(freed.code, freed.err).toBe(0);
    expect(freed.out.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^sweep ${id}: removed 0 result objects, its BullMQ flow and \\d keys \\(meta, results`)),
      `removed 1 collected sweeps from ${redisUrl} (prefix ${prefix}); 1 not collected into ${join(dir, 'queue.duckdb')} stay (tm sweep ls lists them)`,
    ]);
    const left = JSON.parse((await runTm(['sweep', 'ls', '--queue', redisUrl, '--prefix', prefix, '--json'])).out) as { sweepId: string }[];
    expect(left.map((s) => s.sweepId)).toEqual(['uncollected']);
    for (const [args, said] of [
      [[], 'give the id of the sweep to remove, or --collected for every collected one (tm sweep ls lists them)'],
      [[id, '--collected'], `give a sweep id or --collected, not both (was ${id} and --collected)`],
      [['--collected', '--force'], '--force removes one named sweep; --collected removes only collected ones (drop one of them)'],
    ] as const) {
      const refused = await runTm(['sweep', 'remove', ...args, '--queue', redisUrl, '--prefix', prefix]);
      expect(refused.code).toBe(2);
      expect(refused.err).toContain(`tm sweep remove: ${said}`);
    }

    // the sequential run again, logged to the real MLflow: a parent run with 24 nested child runs; twice adds nothing
    const experiment = `tm-test-sweep-${process.pid}-${Date.now().toString(36)}`;
    const logged = await runTm(['sweep', '--config', sweep, '--workers', '0', '--db', db, '--results', join(dir, 'sequential.duckdb'), '--mlflow', experiment, '--json']);
    expect(logged.code, logged.err).toBe(0);
    const runs = (JSON.parse(logged.out) as { mlflow: { experimentId: string; parentRunId: string; childRuns: number; created: boolean } }).mlflow;
    expect(runs).toMatchObject({ childRuns: 24, created: true });
    const client = new MlflowClient(parseMlflowClientConfig({ trackingUri: process.env['MLFLOW_TRACKING_URI'] }), { now: () => Date.now() });
    const children = await client.searchAllRuns({ experimentIds: [runs.experimentId], filter: `tags.\`mlflow.parentRunId\` = '${runs.parentRunId}'` });
    expect(children).toHaveLength(24);
    const best = a.best.point;
    const bestRun = children.find((c) => c.data.params['params.fast'] === String(best['params.fast']) && c.data.params['params.slow'] === String(best['params.slow']))!;
    const bestRow = reference.find((r) => r.point['params.fast'] === best['params.fast'] && r.point['params.slow'] === best['params.slow'])!;
    expect(bestRun.data.metrics.find((m) => m.key === 'sharpe')!.value).toBeCloseTo(bestRow.metrics!.sharpe!, 12);
    const parent = await client.getRun(runs.parentRunId);
    expect(parent.info.status).toBe('FINISHED');
    expect(parent.data.metrics.find((m) => m.key === 'pbo')!.value).toBeCloseTo(a.pbo.pbo, 12);
    const twice = await runTm(['sweep', '--config', sweep, '--workers', '0', '--db', db, '--results', join(dir, 'sequential.duckdb'), '--mlflow', experiment, '--json']);
    expect((JSON.parse(twice.out) as { mlflow: { created: boolean; parentRunId: string } }).mlflow).toMatchObject({ created: false, parentRunId: runs.parentRunId });

    // running the sweep again adds nothing: every trial has its row
    const again = await runTm(['sweep', '--config', sweep, '--workers', '0', '--db', db, '--results', join(dir, 'sequential.duckdb'), '--json']);
    expect(again.code).toBe(0);
    expect(await resultRows(join(dir, 'sequential.duckdb'))).toEqual(reference);
  });

  it('refuses a bad sweep file naming the path and the value', async () => {
    const bad = join(dir, 'bad.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, JSON.stringify({ name: 'bad', base: 'sma-grid-base.json', search: { kind: 'grid', params: { 'params.fast': [] } } }));
    const r = await runTm(['sweep', '--config', bad, '--workers', '0', '--db', db, '--results', join(dir, 'bad.duckdb')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}: $.search.params["params.fast"]: must list >= 1 value`);
  });
});
