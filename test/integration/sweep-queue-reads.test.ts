/**
 * What is read of queued sweeps in the real Redis:
 * - their rows, streamed a HSCAN page at a time (`forEachQueuedSweepRow`, what the collector and the parent job read)
 *   and aggregated without holding them (`aggregateQueuedSweep`): every trial comes once, a failure of a trial that
 *   later succeeded is not a row, and the aggregate equals the in-memory one bit for bit;
 * - the list of them (`listQueuedSweeps`, what `tm sweep ls` shows; its table and filters are tested in
 *   sweep.test.ts): every sweep meta key under the prefix, oldest first, with the memory of the sweep's own keys;
 * - and the commands' error when Redis cannot be reached.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateQueuedSweep, forEachQueuedSweepRow, listQueuedSweeps, QUEUE_DEFAULTS, sweepKeys, type QueueTarget } from '../../src/cli/sweep-queue.js';
import { aggregateSweep, encodeReturns, type TrialResult, type TrialRow } from '../../src/sweep/index.js';
import { runTm } from '../support/cli.js';

const redisUrl = process.env['REDIS_URL'];

describe('queued sweeps read from the real Redis', () => {
  const target: QueueTarget = { url: redisUrl ?? '', queueName: QUEUE_DEFAULTS.queueName, prefix: `tm-test-sweep-reads-${process.pid}` };
  let redis: Redis;

  beforeAll(() => {
    if (!redisUrl) throw new Error(`REDIS_URL is not set: ${process.env['TM_SERVICES_ERROR'] ?? 'run with the services (scripts/services.sh)'}`);
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    if (!redis) return;
    const keys = await redis.keys(`${target.prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('gives 300 results and 20 failures once each across HSCAN pages, and aggregates them as aggregateSweep does', async () => {
    const id = 'paged';
    const keys = sweepKeys(target, id);
    const results = new Map<string, TrialResult>();
    for (let j = 0; j < 300; j++) {
      const configHash = `h${String(j).padStart(4, '0')}`;
      const returns = Float64Array.from({ length: 400 + (j % 7) }, (_, t) => Math.sin(t * (1 + j / 100)) / 100 + (j % 3) * 1e-4);
      results.set(configHash, { configHash, point: { 'params.fast': j }, metrics: { sharpe: (j * 37) % 101, sortino: null, totalReturn: 0, cagr: null, calmar: null, maxDrawdown: 0, annualVolatility: null, tradeCount: 1, finalEquity: 1, bars: returns.length + 1 }, returns: encodeReturns(returns), startMs: 0 });
    }
    await redis.hset(keys.results, Object.fromEntries([...results].map(([h, result]) => [h, JSON.stringify({ result, attempts: 1 })])));
    // 30 failures: the first 10 are of trials that have a result (a failed attempt recorded before a later one won)
    const failures = Array.from({ length: 30 }, (_, k) => (k < 10 ? `h${String(k * 30).padStart(4, '0')}` : `f${k}`));
    await redis.hset(keys.failed, Object.fromEntries(failures.map((h) => [h, JSON.stringify({ error: `boom ${h}`, attempts: 3, point: { h } })])));
    expect(await redis.object('ENCODING', keys.results)).toBe('hashtable'); // paged by HSCAN, not one reply
    let pages = 0;
    for (let cursor = '0'; ; pages++) {
      cursor = (await redis.hscan(keys.results, cursor, 'COUNT', 64))[0];
      if (cursor === '0') break;
    }
    expect(pages).toBeGreaterThan(2);

    const rows: TrialRow[] = [];
    await forEachQueuedSweepRow(redis, target, id, () => undefined, (row) => void rows.push(row));
    const hashes = rows.map((r) => r.configHash);
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(rows.filter((r) => r.status === 'done').map((r) => r.configHash).sort()).toEqual([...results.keys()]);
    expect(rows.filter((r) => r.status === 'failed').map((r) => r.configHash).sort()).toEqual(failures.slice(10).sort());
    expect(rows.find((r) => r.configHash === 'f12')).toMatchObject({ status: 'failed', error: 'boom f12', attempts: 3 });
    expect(encodeReturns(rows.find((r) => r.configHash === 'h0123')!.returns!)).toBe(results.get('h0123')!.returns);

    const config = { name: 'paged', objective: 'sharpe' as const, pbo: { blocks: 8 } };
    const streamed = await aggregateQueuedSweep(redis, target, id, config, 400, () => undefined);
    expect(streamed).toStrictEqual(aggregateSweep(config, 400, rows));
    expect(streamed).toMatchObject({ trials: 400, done: 300, failed: 20, pbo: { bars: 400, blocks: 8, splits: 70 } });
  });

  it('lists every sweep under the prefix oldest first (unknown queue times first, then by id), with the bytes of its keys', async () => {
    const meta = (id: string, fields: Record<string, string>) => redis.hset(sweepKeys(target, id).meta, { name: `n-${id}`, status: 'queued', ...fields });
    await meta('b', { trials: '3', queuedAt: '2000' });
    await meta('a', { trials: '2', queuedAt: '2000', status: 'aggregated', resultObjects: 's3://bucket/p' });
    await meta('c', { trials: '1' });
    await meta('d', { trials: '4', queuedAt: '1000' });
    await redis.hset(sweepKeys(target, 'not-a-sweep').meta, { name: 'x' }); // no trials: not a sweep's meta
    await redis.hset(`${target.prefix}-other:sweep:e:meta`, { name: 'e', trials: '1' }); // another prefix
    await redis.hset(sweepKeys(target, 'd').results, { h1: 'x'.repeat(10_000), h2: 'y'.repeat(10_000) });
    await redis.hset(sweepKeys(target, 'd').failed, { h3: '{}' });

    const got = await listQueuedSweeps(redis, target);
    expect(got.map((s) => [s.sweepId, s.queuedAt, s.trials, s.status])).toEqual([
      ['c', null, 1, 'queued'],
      ['d', 1000, 4, 'queued'],
      ['a', 2000, 2, 'aggregated'],
      ['b', 2000, 3, 'queued'],
    ]);
    const d = got[1]!;
    expect(d).toMatchObject({ done: 2, failed: 1, name: 'n-d', resultObjects: null });
    expect(d.redisBytes).toBeGreaterThan(20_000);
    expect(d.redisBytes).toBeLessThan(got[0]!.redisBytes + 25_000);
    expect(got[2]!.resultObjects).toBe('s3://bucket/p');
    expect(got[0]!.redisBytes).toBeGreaterThan(0);
  });

  it('takes the prefix literally (a glob character in it matches only itself)', async () => {
    const glob: QueueTarget = { ...target, prefix: `${target.prefix}-[x]` };
    await redis.hset(sweepKeys(glob, 'z').meta, { name: 'z', trials: '1', queuedAt: '5' });
    await redis.hset(sweepKeys({ ...target, prefix: `${target.prefix}-x` }, 'y').meta, { name: 'y', trials: '1', queuedAt: '5' }); // `-[x]` as a glob matches `-x`
    expect((await listQueuedSweeps(redis, glob)).map((s) => s.sweepId)).toEqual(['z']);
  });

  it('tm sweep status, ls and remove --collected name a Redis they cannot reach (exit 2)', async () => {
    const dead = 'redis://127.0.0.1:1';
    for (const [args, command] of [
      [['status', 'x'], 'tm sweep status'],
      [['ls'], 'tm sweep ls'],
      [['remove', '--collected'], 'tm sweep remove'],
    ] as const) {
      const r = await runTm(['sweep', ...args, '--queue', dead]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`${command}: cannot read ${dead}: `);
    }
  });
});
