import { pboBlockSums, pboFromBlockSums } from '../training/pbo.js';
import { returnMoments, type ReturnMoments } from '../training/stats.js';
import { deflatedSharpeFromTrials, type TrialRecord } from '../training/trial-ledger.js';
import type { SweepConfig, SweepPoint } from './sweep-config.js';
import { FileReturns, MemoryReturns, type ReturnsSpill } from './returns-spill.js';
import { SweepError } from './sweep-error.js';
import type { TrialRow } from './trial.js';

/** What a sweep's parent job (or the local runner) computes once every trial has a row. */
export interface SweepAggregate {
  readonly trials: number;
  readonly done: number;
  readonly failed: number;
  readonly objective: SweepConfig['objective'];
  /** Best done trial by the objective (first by config hash on ties); null when none is done or none has the metric. */
  readonly best: { readonly configHash: string; readonly point: SweepPoint; readonly value: number } | null;
  /** Deflated Sharpe Ratio of the best trial with every done trial counted (N distinct configs, V their Sharpe variance). */
  readonly deflatedSharpe: { readonly dsr: number; readonly benchmarkSharpe: number; readonly trials: number; readonly perPeriodSharpe: number } | null;
  /**
   * Probability of Backtest Overfitting of picking the best in-sample trial (per-bar returns of the done trials,
   * aligned on their common last bars, `pbo.blocks` blocks, Sharpe); null with < 2 done trials or too few bars.
   */
  readonly pbo: { readonly pbo: number; readonly splits: number; readonly blocks: number; readonly bars: number } | null;
}

/**
 * Aggregates the rows of a sweep: counts, the best trial by `config.objective`, its Deflated Sharpe Ratio and the
 * PBO of the selection. Deterministic: rows are taken in config-hash order whatever order they came in. The rows are
 * in memory already, so their returns are read where they are; {@link SweepAggregator} with a {@link FileReturns}
 * does the same for rows streamed from a store without holding them.
 */
export function aggregateSweep(config: Pick<SweepConfig, 'name' | 'objective' | 'pbo'>, trials: number, input: readonly TrialRow[]): SweepAggregate {
  const aggregator = new SweepAggregator(config, trials, new MemoryReturns());
  for (const row of input) aggregator.add(row);
  return aggregator.finish();
}

/**
 * The aggregate of the rows `feed` passes to its `add`, through a {@link SweepAggregator} whose returns go to a
 * temporary {@link FileReturns} (deleted when done, whatever happens): the streamed path of the store and the queue.
 * @throws SweepError `io` when the temporary file cannot be written or read; whatever `feed` throws.
 */
export async function aggregateStreamed(config: Pick<SweepConfig, 'name' | 'objective' | 'pbo'>, trials: number, feed: (add: (row: TrialRow) => void) => Promise<void>): Promise<SweepAggregate> {
  const spill = new FileReturns();
  try {
    const aggregator = new SweepAggregator(config, trials, spill);
    await feed((row) => aggregator.add(row));
    return aggregator.finish();
  } finally {
    spill.close();
  }
}

/** What the aggregator keeps of a done row: no returns (they are in the spill, `series`). */
interface DoneTrial {
  readonly configHash: string;
  readonly point: SweepPoint;
  readonly value: number | null;
  /** Id in the spill; -1 for a done row without returns. */
  readonly series: number;
  readonly length: number;
  readonly moments: ReturnMoments | null;
}

/** Config-hash order (the aggregator refuses a hash twice, so no two are equal). */
const byConfigHash = (a: DoneTrial, b: DoneTrial): number => (a.configHash < b.configHash ? -1 : 1);

/**
 * {@link aggregateSweep} one row at a time, for sweeps too large to hold (10,000 trials × 23,000 bars of returns is
 * 1.8 GB): `add` keeps a few numbers of each row (its objective value and return moments) and puts its returns in
 * `spill`; `finish` cuts the trials' common last bars into the PBO blocks reading one series at a time from the spill.
 * The aggregate is the same, bit for bit, as {@link aggregateSweep}'s of the same rows in any order: the PBO block
 * sums accumulate each trial's returns in time order, as the matrix version does. Close the spill after `finish`.
 */
export class SweepAggregator {
  private readonly done: DoneTrial[] = [];
  private readonly seen = new Set<string>();
  private failed = 0;

  constructor(private readonly config: Pick<SweepConfig, 'name' | 'objective' | 'pbo'>, private readonly trials: number, private readonly spill: ReturnsSpill) {}

  /** Takes one row. @throws SweepError `invalid_state` for a second row of the same trial. */
  add(row: TrialRow): void {
    if (this.seen.has(row.configHash)) throw new SweepError('invalid_state', `sweep ${row.sweepId}: trial ${row.configHash} was given to the aggregate twice`, { sweepId: row.sweepId, configHash: row.configHash });
    this.seen.add(row.configHash);
    if (row.status !== 'done') {
      this.failed++;
      return;
    }
    const value = row.metrics?.[this.config.objective];
    const returns = row.returns;
    this.done.push({
      configHash: row.configHash,
      point: row.point,
      value: typeof value === 'number' && Number.isFinite(value) ? value : null,
      series: returns === null ? -1 : this.spill.append(returns),
      length: returns === null ? 0 : returns.length,
      moments: returns === null ? null : returnMoments(returns),
    });
  }

  /** The aggregate of the rows added so far. */
  finish(): SweepAggregate {
    const { config, trials } = this;
    const done = [...this.done].sort(byConfigHash);
    let best: DoneTrial | null = null;
    for (const r of done) if (r.value !== null && (best === null || r.value > best.value!)) best = r;
    const ledger: TrialRecord[] = [];
    for (const r of done) {
      if (r.moments !== null) ledger.push({ configHash: r.configHash, name: `${config.name} ${JSON.stringify(r.point)}`, sharpe: Number.isFinite(r.moments.sharpe) ? r.moments.sharpe : 0, observations: r.moments.count });
    }
    let deflatedSharpe: SweepAggregate['deflatedSharpe'] = null;
    const m = best?.moments;
    if (m && ledger.length > 0 && m.count >= 2 && Number.isFinite(m.sharpe)) {
      const d = deflatedSharpeFromTrials(ledger, { sharpe: m.sharpe, observations: m.count, skewness: Number.isFinite(m.skewness) ? m.skewness : 0, kurtosis: Number.isFinite(m.kurtosis) ? m.kurtosis : 3 });
      deflatedSharpe = { dsr: d.dsr, benchmarkSharpe: d.benchmarkSharpe, trials: d.trials, perPeriodSharpe: m.sharpe };
    }
    return {
      trials,
      done: done.length,
      failed: this.failed,
      objective: config.objective,
      best: best === null ? null : { configHash: best.configHash, point: best.point, value: best.value! },
      deflatedSharpe,
      pbo: this.pbo(done),
    };
  }

  /** PBO over the common last bars of the done trials (`done` in config-hash order = the matrix's columns). */
  private pbo(done: readonly DoneTrial[]): SweepAggregate['pbo'] {
    const n = done.length, blocks = this.config.pbo.blocks;
    let bars = Infinity;
    for (const r of done) bars = Math.min(bars, r.length);
    if (n < 2 || bars < blocks) return null;
    const sums = pboBlockSums(bars, n, blocks);
    for (let j = 0; j < n; j++) {
      const r = done[j]!;
      const s = this.spill.read(r.series, r.length - bars, bars);
      for (let b = 0; b < blocks; b++) {
        let sum = 0, sq = 0;
        for (let t = sums.start[b]!; t < sums.start[b + 1]!; t++) {
          const x = Number.isFinite(s[t]!) ? s[t]! : 0;
          sum += x;
          sq += x * x;
        }
        sums.sum[b * n + j] = sum;
        sums.sq[b * n + j] = sq;
      }
    }
    const r = pboFromBlockSums(sums, 'sharpe');
    return { pbo: r.pbo, splits: r.splits, blocks, bars };
  }
}
