import { probabilityOfBacktestOverfitting } from '../training/pbo.js';
import { returnMoments } from '../training/stats.js';
import { deflatedSharpeFromTrials, type TrialRecord } from '../training/trial-ledger.js';
import type { SweepConfig, SweepPoint } from './sweep-config.js';
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
 * Returns the trial-ledger records of the done rows: per-period Sharpe of each trial's returns and their count, as
 * `deflatedSharpeFromTrials` counts them.
 */
export function ledgerRecords(rows: readonly TrialRow[], name: string): TrialRecord[] {
  return rows
    .filter((r) => r.status === 'done' && r.returns !== null)
    .map((r) => {
      const m = returnMoments(r.returns!);
      return { configHash: r.configHash, name: `${name} ${JSON.stringify(r.point)}`, sharpe: Number.isFinite(m.sharpe) ? m.sharpe : 0, observations: m.count };
    });
}

/**
 * Aggregates the rows of a sweep: counts, the best trial by `config.objective`, its Deflated Sharpe Ratio and the
 * PBO of the selection. Deterministic: rows are taken in config-hash order whatever order they came in.
 */
export function aggregateSweep(config: Pick<SweepConfig, 'name' | 'objective' | 'pbo'>, trials: number, input: readonly TrialRow[]): SweepAggregate {
  const rows = [...input].sort((a, b) => (a.configHash < b.configHash ? -1 : a.configHash > b.configHash ? 1 : 0));
  const done = rows.filter((r) => r.status === 'done');
  let best: SweepAggregate['best'] = null;
  for (const r of done) {
    const value = r.metrics?.[config.objective];
    if (typeof value === 'number' && Number.isFinite(value) && (best === null || value > best.value)) best = { configHash: r.configHash, point: r.point, value };
  }
  let deflatedSharpe: SweepAggregate['deflatedSharpe'] = null;
  const ledger = ledgerRecords(done, config.name);
  const bestRow = best === null ? undefined : done.find((r) => r.configHash === best!.configHash);
  if (bestRow?.returns && ledger.length > 0) {
    const m = returnMoments(bestRow.returns);
    if (m.count >= 2 && Number.isFinite(m.sharpe)) {
      const d = deflatedSharpeFromTrials(ledger, { sharpe: m.sharpe, observations: m.count, skewness: Number.isFinite(m.skewness) ? m.skewness : 0, kurtosis: Number.isFinite(m.kurtosis) ? m.kurtosis : 3 });
      deflatedSharpe = { dsr: d.dsr, benchmarkSharpe: d.benchmarkSharpe, trials: d.trials, perPeriodSharpe: m.sharpe };
    }
  }
  let pbo: SweepAggregate['pbo'] = null;
  const series = done.map((r) => r.returns ?? []);
  const bars = series.length > 0 ? Math.min(...series.map((s) => s.length)) : 0;
  if (series.length >= 2 && bars >= config.pbo.blocks) {
    const matrix = new Float64Array(bars * series.length);
    series.forEach((s, j) => {
      const offset = s.length - bars;
      for (let t = 0; t < bars; t++) matrix[t * series.length + j] = Number.isFinite(s[offset + t]!) ? s[offset + t]! : 0;
    });
    const r = probabilityOfBacktestOverfitting(matrix, bars, series.length, { blocks: config.pbo.blocks, metric: 'sharpe' });
    pbo = { pbo: r.pbo, splits: r.splits, blocks: config.pbo.blocks, bars };
  }
  return { trials, done: done.length, failed: rows.length - done.length, objective: config.objective, best, deflatedSharpe, pbo };
}
