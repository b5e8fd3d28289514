import { spearmanIc } from '../training/stats.js';
import type { RecentBars } from './saved-signal-state.js';

/** The quality gates a model's signals must pass on the warm-up window before a run opens positions (training's gates). */
export interface WarmupGates {
  readonly minIc: number;
  readonly maxPValue: number;
  readonly minSharpe: number;
}

/** The training gates' defaults: IC >= 0.05, p < 0.15, Sharpe > 0.5. */
export const DEFAULT_WARMUP_GATES: WarmupGates = { minIc: 0.05, maxPValue: 0.15, minSharpe: 0.5 };

/** The scores of the warm-up window and the verdict. */
export interface WarmupGateVerdict {
  readonly ic: number;
  readonly pValue: number;
  readonly sharpe: number;
  /** (signal, next-bar return) pairs scored, all instruments. */
  readonly count: number;
  readonly passed: boolean;
  /** What failed, e.g. `IC 0.012 < 0.05`; empty when passed. */
  readonly failures: readonly string[];
}

/**
 * Scores the signals of the warm-up window as training scores a fold: the Spearman IC (and its p-value) of each bar's
 * signal against the next bar's log return, pooled over the instruments, and the annualized Sharpe of the equal-weight
 * portfolio of sign(signal) × next return per bar time. Causal: a bar's signal is paired with a return that closed
 * before the first live bar. Deterministic.
 */
export function warmupGateVerdict(bars: RecentBars, timeframeMs: number, gates: WarmupGates): WarmupGateVerdict {
  const n = bars.size;
  const preds: number[] = [];
  const rets: number[] = [];
  const portfolio = new Float64Array(Math.max(0, n - 1));
  const counts = new Float64Array(Math.max(0, n - 1));
  for (let i = 0; i < bars.instruments; i++) {
    const p = bars.pack(i);
    const close = p.subarray(4 * n, 5 * n);
    const signal = p.subarray(7 * n, 8 * n);
    for (let k = 0; k + 1 < n; k++) {
      const r = Math.log(close[k + 1]! / close[k]!);
      const s = signal[k]!;
      if (!Number.isFinite(r) || !Number.isFinite(s)) continue;
      preds.push(s);
      rets.push(r);
      portfolio[k]! += Math.sign(s) * r;
      counts[k]!++;
    }
  }
  const { ic, pValue, count } = spearmanIc(preds, rets);
  let m = 0, sum = 0, sq = 0;
  for (let k = 0; k < portfolio.length; k++) {
    if (counts[k] === 0) continue;
    const x = portfolio[k]! / counts[k]!;
    m++;
    sum += x;
    sq += x * x;
  }
  const mean = m > 0 ? sum / m : NaN;
  const sd = m > 1 ? Math.sqrt((sq - m * mean * mean) / (m - 1)) : NaN;
  const sharpe = sd > 0 ? (mean / sd) * Math.sqrt((365 * 86_400_000) / timeframeMs) : NaN;
  const failures: string[] = [];
  if (!(ic >= gates.minIc)) failures.push(`IC ${fmt(ic)} < ${gates.minIc}`);
  if (!(pValue < gates.maxPValue)) failures.push(`p ${fmt(pValue)} >= ${gates.maxPValue}`);
  if (!(sharpe > gates.minSharpe)) failures.push(`Sharpe ${fmt(sharpe)} <= ${gates.minSharpe}`);
  return { ic, pValue, sharpe, count, passed: failures.length === 0, failures };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : String(x);
}
