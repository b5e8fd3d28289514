import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { thrownAs } from '../../test/support/thrown.js';
import { probabilityOfBacktestOverfitting } from '../training/pbo.js';
import { returnMoments } from '../training/stats.js';
import { deflatedSharpeFromTrials, type TrialRecord } from '../training/trial-ledger.js';
import { aggregateSweep, SweepAggregator, type SweepAggregate } from './aggregate.js';
import { FileReturns, MemoryReturns, type ReturnsSpill } from './returns-spill.js';
import { SweepError } from './sweep-error.js';
import { doneRow, encodeReturns, failedRow, type TrialRow } from './trial.js';

/** Trials in the sweep (more than the rows: some are missing). */
const TRIALS = 99;
const CONFIG = { name: 'x', objective: 'sharpe' as const, pbo: { blocks: 6 } };

/** A seeded linear congruential generator in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** `n` done trials of `length(j)` returns each (noise with a per-trial drift, a few NaN), and two failed ones. */
function rows(n: number, length: (j: number) => number, seed = 7): TrialRow[] {
  const rnd = lcg(seed);
  const out: TrialRow[] = [];
  for (let j = 0; j < n; j++) {
    const r = Float64Array.from({ length: length(j) }, () => (rnd() - 0.5) / 50 + (j % 4) * 1e-4);
    if (r.length > 10) r[3] = NaN;
    const configHash = `h${String((j * 7919) % 1000).padStart(4, '0')}`;
    const m = returnMoments(r);
    out.push(doneRow('s', { configHash, point: { 'params.fast': j }, metrics: { sharpe: j % 5 === 0 ? null : m.sharpe, sortino: null, totalReturn: 0, cagr: null, calmar: null, maxDrawdown: 0, annualVolatility: null, tradeCount: 1, finalEquity: 1, bars: r.length + 1 }, returns: encodeReturns(r), startMs: 0 }, 1));
  }
  out.push(failedRow({ sweepId: 's', configHash: 'h9998', point: {} }, 'boom', 3), failedRow({ sweepId: 's', configHash: 'a0000', point: {} }, 'boom', 2));
  return out;
}

/**
 * The aggregate as it was computed before it streamed (kept here as the oracle): every done row's returns in one
 * T×N matrix (config-hash order, aligned on their common last bars, non-finite as 0), PBO over it, DSR of the best.
 */
function matrixAggregate(trials: number, input: readonly TrialRow[]): SweepAggregate {
  const sorted = [...input].sort((a, b) => (a.configHash < b.configHash ? -1 : 1));
  const done = sorted.filter((r) => r.status === 'done');
  let best: SweepAggregate['best'] = null;
  for (const r of done) {
    const v = r.metrics?.sharpe;
    if (typeof v === 'number' && Number.isFinite(v) && (best === null || v > best.value)) best = { configHash: r.configHash, point: r.point, value: v };
  }
  const ledger: TrialRecord[] = done.map((r) => {
    const m = returnMoments(r.returns!);
    return { configHash: r.configHash, name: `x ${JSON.stringify(r.point)}`, sharpe: Number.isFinite(m.sharpe) ? m.sharpe : 0, observations: m.count };
  });
  const m = returnMoments(done.find((r) => r.configHash === best!.configHash)!.returns!);
  const d = deflatedSharpeFromTrials(ledger, { sharpe: m.sharpe, observations: m.count, skewness: m.skewness, kurtosis: m.kurtosis });
  const bars = Math.min(...done.map((r) => r.returns!.length));
  const matrix = new Float64Array(bars * done.length);
  done.forEach((r, j) => {
    const offset = r.returns!.length - bars;
    for (let t = 0; t < bars; t++) matrix[t * done.length + j] = Number.isFinite(r.returns![offset + t]!) ? r.returns![offset + t]! : 0;
  });
  const p = probabilityOfBacktestOverfitting(matrix, bars, done.length, { blocks: CONFIG.pbo.blocks, metric: 'sharpe' });
  return {
    trials,
    done: done.length,
    failed: sorted.length - done.length,
    objective: 'sharpe',
    best,
    deflatedSharpe: { dsr: d.dsr, benchmarkSharpe: d.benchmarkSharpe, trials: d.trials, perPeriodSharpe: m.sharpe },
    pbo: { pbo: p.pbo, splits: p.splits, blocks: CONFIG.pbo.blocks, bars },
  };
}

/** The rows through a SweepAggregator on `spill` in their order, the spill closed after. */
function streamed(input: readonly TrialRow[], spill: ReturnsSpill): SweepAggregate {
  const a = new SweepAggregator(CONFIG, TRIALS, spill);
  try {
    for (const row of input) a.add(row);
    return a.finish();
  } finally {
    spill.close();
  }
}

const spills: [string, () => ReturnsSpill][] = [
  ['in memory', () => new MemoryReturns()],
  ['in a temporary file', () => new FileReturns()],
];

describe.each(spills)('SweepAggregator with its returns %s', (_, spill) => {
  it('equals the matrix aggregate bit for bit, whatever the order the rows arrive in (equal lengths)', () => {
    const input = rows(40, () => 600);
    const want = matrixAggregate(TRIALS, input);
    expect(want.pbo!.pbo).toBeGreaterThan(0); // a case where the selection matters
    expect(streamed(input, spill())).toStrictEqual(want);
    expect(streamed([...input].reverse(), spill())).toStrictEqual(want);
    expect(streamed([...input.slice(17), ...input.slice(0, 17)], spill())).toStrictEqual(want);
  });

  it('cuts the blocks from each trial\'s last bars when the lengths differ (the shortest sets the window)', () => {
    const input = rows(12, (j) => 300 + ((j * 37) % 50));
    const got = streamed(input, spill());
    expect(got.pbo!.bars).toBe(300);
    expect(got).toStrictEqual(matrixAggregate(TRIALS, input));
  });

  it('has no PBO with fewer done trials than 2 or fewer common bars than blocks; refuses a trial twice', () => {
    expect(streamed(rows(1, () => 100), spill()).pbo).toBeNull();
    expect(streamed(rows(3, (j) => (j === 1 ? 5 : 100)), spill()).pbo).toBeNull();
    const a = new SweepAggregator(CONFIG, 2, spill());
    const [row] = rows(1, () => 10);
    a.add(row!);
    const e = thrownAs(() => a.add(row!), SweepError);
    expect(e.code).toBe('invalid_state');
    expect(e.message).toBe(`sweep s: trial ${row!.configHash} was given to the aggregate twice`);
    expect(e.context).toEqual({ sweepId: 's', configHash: row!.configHash });
  });

  it('picks the first best by config hash on a tie, whatever the arrival order; skips objectives that are null, infinite or absent', () => {
    const input = rows(6, () => 50);
    const withSharpe = (row: TrialRow, sharpe: number | null, configHash = row.configHash): TrialRow => ({ ...row, configHash, metrics: row.metrics && { ...row.metrics, sharpe } });
    const tied = [withSharpe(input[0]!, 2, 'b1'), withSharpe(input[1]!, 2, 'b0'), withSharpe(input[2]!, 1, 'a0'), withSharpe(input[3]!, Infinity, 'a1'), { ...input[4]!, configHash: 'a2', metrics: null }];
    for (const order of [tied, [...tied].reverse()]) expect(streamed(order, spill()).best).toEqual({ configHash: 'b0', point: input[1]!.point, value: 2 });
    expect(streamed(tied.slice(3), spill()).best).toBeNull(); // none has a finite objective
  });

  it('leaves a done row without returns out of the DSR ledger and takes the PBO window as empty', () => {
    const input = rows(4, () => 50).slice(0, 4);
    const got = streamed([...input.slice(1), { ...input[0]!, returns: null }], spill());
    expect(got.done).toBe(4);
    expect(got.pbo).toBeNull();
    expect(got.deflatedSharpe?.trials).toBe(streamed(input.slice(1), spill()).deflatedSharpe?.trials);
    expect(got.deflatedSharpe?.trials).toBe(3);
  });

  it('has a DSR from 2 returns of the best on, and a PBO from 2 trials and as many common bars as blocks on', () => {
    const two = rows(2, (j) => (j === 0 ? 6 : 9));
    const got = streamed(two, spill());
    expect(got.pbo).toMatchObject({ bars: 6, blocks: 6, splits: 20 });
    expect(got).toStrictEqual(matrixAggregate(TRIALS, two));
    const best = (length: number) => rows(2, (j) => (j === 1 ? length : 30)).map((r, j) => ({ ...r, metrics: { ...r.metrics!, sharpe: j } }));
    expect(streamed(best(2), spill()).deflatedSharpe).not.toBeNull();
    expect(streamed(best(1), spill())).toMatchObject({ best: { value: 1 }, deflatedSharpe: null });
  });
});

describe('aggregateSweep', () => {
  it('is the aggregator over rows in memory', () => {
    const input = rows(10, () => 200);
    expect(aggregateSweep(CONFIG, TRIALS, input)).toStrictEqual(matrixAggregate(TRIALS, input));
  });
});

describe.each(spills)('a returns spill %s', (_, spill) => {
  it('refuses a window outside a series, an unknown series and any read after close, naming them', () => {
    const f = spill();
    f.append(Float64Array.of(1, 2, 3, 4, 5));
    const where = f instanceof FileReturns ? 'file' : 'memory';
    const refused = (id: number, from: number, count: number) => thrownAs(() => f.read(id, from, count), SweepError);
    expect(refused(0, 3, 3)).toMatchObject({ code: 'invalid_state', message: `sweep aggregate: read of values 3..6 of series 0 from the ${where}: series 0 holds 5 values`, context: { id: 0, from: 3, count: 3 } });
    expect(refused(0, -1, 2).message).toBe(`sweep aggregate: read of values -1..1 of series 0 from the ${where}: series 0 holds 5 values`);
    expect(refused(1, 0, 1).message).toBe(`sweep aggregate: read of values 0..1 of series 1 from the ${where}: no such series`);
    expect(f.read(0, 0, 5)).toStrictEqual(Float64Array.of(1, 2, 3, 4, 5));
    f.close();
    expect(refused(0, 0, 1).message).toMatch(/^sweep aggregate: read of values 0\.\.1 of series 0 from the (closed file|memory): /);
    f.close(); // closing twice is harmless
  });
});

describe('FileReturns', () => {
  it('reads back exactly what it wrote, any window of any series, and deletes its file on close', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-spill-test-'));
    try {
      const f = new FileReturns(dir);
      const a = Float64Array.from([0.1 + 0.2, -0, Number.MIN_VALUE, NaN, 1e300]);
      const b = Float64Array.from({ length: 5000 }, (_, i) => Math.sin(i));
      expect([f.append(a), f.append(b.subarray(1000)), f.append(new Float64Array(0))]).toEqual([0, 1, 2]);
      expect(f.read(0, 0, 5)).toStrictEqual(a);
      expect(f.read(1, 3990, 10)).toStrictEqual(b.subarray(4990));
      expect(f.read(0, 1, 2)).toStrictEqual(a.subarray(1, 3));
      expect(f.read(2, 0, 0)).toStrictEqual(new Float64Array(0));
      expect(readdirSync(dir)).toHaveLength(1);
      const e = thrownAs(() => f.read(0, 3, 3), SweepError);
      expect(e.message).toBe('sweep aggregate: read of values 3..6 of series 0 from the file: series 0 holds 5 values');
      f.close();
      expect(readdirSync(dir)).toEqual([]);
      expect(thrownAs(() => f.read(0, 0, 1), SweepError).message).toContain('from the closed file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says so when its file was cut short or it is written after close', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-spill-test-'));
    try {
      const f = new FileReturns(dir);
      f.append(Float64Array.of(1, 2, 3, 4));
      const file = join(dir, readdirSync(dir)[0]!, 'returns.f64');
      truncateSync(file, 20);
      const e = thrownAs(() => f.read(0, 1, 3), SweepError);
      expect(e).toMatchObject({ code: 'io', message: `sweep aggregate: cannot read series 0 from ${file}: end of file at byte 20`, context: { path: file } });
      expect(e.cause).toBeInstanceOf(Error);
      f.close();
      const w = thrownAs(() => f.append(Float64Array.of(1)), SweepError);
      expect(w).toMatchObject({ code: 'invalid_state', message: `sweep aggregate: append to ${file} after it was closed`, context: { path: file } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the folder it cannot create its file in', () => {
    const e = thrownAs(() => new FileReturns('/nonexistent/tm'), SweepError);
    expect(e.code).toBe('io');
    expect(e.context).toEqual({ path: '/nonexistent/tm' });
    expect(e.cause).toBeInstanceOf(Error);
    expect(e.message).toMatch(/^sweep aggregate: cannot create a returns file in \/nonexistent\/tm: ENOENT/);
    expect(existsSync('/nonexistent/tm')).toBe(false);
  });
});
