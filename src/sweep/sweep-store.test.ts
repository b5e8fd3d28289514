import { describe, expect, it } from 'vitest';
import { aggregateSweep } from './aggregate.js';
import { SweepStore } from './sweep-store.js';
import { decodeReturns, doneRow, encodeReturns, failedRow, type TrialResult, type TrialRow } from './trial.js';

const result = (configHash: string, sharpe: number, returns: number[]): TrialResult => ({
  configHash,
  point: { 'params.fast': configHash.length },
  metrics: { sharpe, sortino: null, totalReturn: 0.1, cagr: null, calmar: null, maxDrawdown: -0.1, annualVolatility: 0.5, tradeCount: 3, finalEquity: 11000, bars: returns.length + 1 },
  returns: encodeReturns(Float64Array.from(returns)),
  startMs: 0,
});

describe('sweep store (DuckDB)', () => {
  it('keeps one row per trial: a duplicate done row is ignored, a failed row is replaced by a done one, never the reverse', async () => {
    const store = await SweepStore.open(':memory:');
    try {
      const r = result('aaaa', 1, [0.01, -0.02, 0.03]);
      expect(await store.putRow(doneRow('s', r, 1))).toBe(true);
      expect(await store.putRow(doneRow('s', { ...r, metrics: { ...r.metrics, sharpe: 99 } }, 2))).toBe(false);
      expect(await store.putRow(failedRow({ sweepId: 's', configHash: 'aaaa', point: r.point }, 'boom', 3))).toBe(false);
      expect(await store.putRow(failedRow({ sweepId: 's', configHash: 'bbbb', point: {} }, 'boom', 3))).toBe(true);
      expect(await store.putRow(doneRow('s', result('bbbb', 2, [0.5]), 4))).toBe(true);
      const rows = await store.rows('s');
      expect(rows.map((x) => [x.configHash, x.status, x.metrics?.sharpe, x.attempts])).toEqual([
        ['aaaa', 'done', 1, 1],
        ['bbbb', 'done', 2, 4],
      ]);
      expect(Array.from(rows[0]!.returns!)).toEqual([0.01, -0.02, 0.03]);
    } finally {
      store.close();
    }
  });

  it('round-trips returns exactly through base64', () => {
    const x = Float64Array.from([0.1 + 0.2, -1e-300, Number.MIN_VALUE, 123456.789]);
    expect(decodeReturns(encodeReturns(x))).toEqual(x);
    expect(decodeReturns(encodeReturns(x.subarray(1)))).toEqual(x.subarray(1));
  });

  it('aggregates: best by the objective, failures counted, PBO over aligned returns, same result whatever the row order', () => {
    const rows = [
      doneRow('s', result('c1', 0.5, Array.from({ length: 64 }, (_, t) => Math.sin(t) / 100)), 1),
      doneRow('s', result('c2', 1.5, Array.from({ length: 66 }, (_, t) => Math.cos(t) / 100 + 0.001)), 1),
      doneRow('s', result('c3', 1.0, Array.from({ length: 64 }, (_, t) => ((t % 5) - 2) / 100)), 1),
      failedRow({ sweepId: 's', configHash: 'c4', point: {} }, 'boom', 3),
    ];
    const a = aggregateSweep({ name: 'x', objective: 'sharpe', pbo: { blocks: 4 } }, 4, rows);
    expect(a).toMatchObject({ trials: 4, done: 3, failed: 1, best: { configHash: 'c2', value: 1.5 } });
    expect(a.pbo).toMatchObject({ splits: 6, blocks: 4, bars: 64 });
    expect(a.deflatedSharpe!.trials).toBe(3);
    expect(aggregateSweep({ name: 'x', objective: 'sharpe', pbo: { blocks: 4 } }, 4, [...rows].reverse())).toEqual(a);
  });

  it('streams a sweep\'s rows a page at a time in config-hash order, gives them without returns, and aggregates them as aggregateSweep does', async () => {
    const store = await SweepStore.open(':memory:');
    try {
      const rows = ['c5', 'c1', 'c4', 'c2', 'c3'].map((h, k) => doneRow('s', result(h, k / 2, Array.from({ length: 40 + k }, (_, t) => Math.sin(t * (k + 1)) / 100)), 1));
      rows.push(failedRow({ sweepId: 's', configHash: 'c0', point: {} }, 'boom', 3));
      for (const r of rows) await store.putRow(r);
      await store.putRow(doneRow('other', result('c9', 1, [0.01, 0.02]), 1));
      const sorted = await store.rows('s');
      expect(sorted.map((r) => r.configHash)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
      for (const pageSize of [1, 2, 3, 6, 64]) {
        const seen: TrialRow[] = [];
        await store.forEachRow('s', (r) => void seen.push(r), pageSize);
        expect(seen).toStrictEqual(sorted);
      }
      expect(await store.summaries('s')).toStrictEqual(sorted.map(({ returns: _, ...r }) => r));
      const config = { name: 'x', objective: 'sharpe' as const, pbo: { blocks: 4 } };
      expect(await store.aggregate('s', config, 7)).toStrictEqual(aggregateSweep(config, 7, rows));
    } finally {
      store.close();
    }
  });
});
