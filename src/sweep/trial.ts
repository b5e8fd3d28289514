import type { SweepPoint } from './sweep-config.js';

/**
 * One trial job: everything a worker needs to run it, on any machine holding the store and the code. The experiment is
 * the base experiment JSON with the point applied (not yet parsed: the worker parses it and checks that its hash is
 * `configHash`, so a worker on other code or schema defaults refuses instead of writing a row under a wrong key).
 */
export interface TrialJob {
  readonly sweepId: string;
  /** `trialConfigHash` of the parsed experiment: the key of the trial's one result row. */
  readonly configHash: string;
  readonly point: SweepPoint;
  readonly experiment: Readonly<Record<string, unknown>>;
}

/** The metrics a trial reports (from the backtest's `computeMetrics`; null where the metric is undefined). */
export interface TrialMetrics {
  readonly sharpe: number | null;
  readonly sortino: number | null;
  readonly totalReturn: number;
  readonly cagr: number | null;
  readonly calmar: number | null;
  readonly maxDrawdown: number;
  readonly annualVolatility: number | null;
  readonly tradeCount: number;
  readonly finalEquity: number;
  readonly bars: number;
}

/** What the job function returns: a deterministic function of (config hash, experiment, store contents). */
export interface TrialResult {
  readonly configHash: string;
  readonly point: SweepPoint;
  readonly metrics: TrialMetrics;
  /**
   * Per-bar simple returns of the equity curve (the artifact PBO and CPCV are computed from) as base64 of their
   * float64 bytes ({@link encodeReturns}): exact, and 2× smaller and ~10× faster to move than a JSON array.
   */
  readonly returns: string;
  /** Close time of the first equity sample, epoch ms (returns of different trials are aligned on it). */
  readonly startMs: number;
}

/** The one result row of a trial in a sweep: `done` with its result, or `failed` with the error of its last attempt. */
export interface TrialRow {
  readonly sweepId: string;
  readonly configHash: string;
  readonly point: SweepPoint;
  readonly status: 'done' | 'failed';
  readonly metrics: TrialMetrics | null;
  /** Per-bar simple returns of the equity curve (decoded). */
  readonly returns: Float64Array | null;
  readonly startMs: number | null;
  readonly error: string | null;
  /** Attempts the trial took (retries and stalled re-runs included); not part of the result's identity. */
  readonly attempts: number;
}

/** A trial row without its returns: what tables, MLflow and counts read. */
export type TrialSummary = Omit<TrialRow, 'returns'>;

/** The row of a finished trial. */
export function doneRow(sweepId: string, result: TrialResult, attempts: number): TrialRow {
  return { sweepId, configHash: result.configHash, point: result.point, status: 'done', metrics: result.metrics, returns: decodeReturns(result.returns), startMs: result.startMs, error: null, attempts };
}

/** Base64 of the float64 bytes of `returns` (little-endian on every platform Node runs on here: x64, arm64). */
export function encodeReturns(returns: Float64Array): string {
  return Buffer.from(returns.buffer, returns.byteOffset, returns.byteLength).toString('base64');
}

/** The inverse of {@link encodeReturns} (a fresh, aligned array, decoded into place: no intermediate copy). */
export function decodeReturns(text: string): Float64Array {
  const out = new Float64Array(Buffer.byteLength(text, 'base64') / 8);
  Buffer.from(out.buffer).write(text, 'base64');
  return out;
}

/** The row of a trial whose last attempt threw `error`. */
export function failedRow(job: Pick<TrialJob, 'sweepId' | 'configHash' | 'point'>, error: string, attempts: number): TrialRow {
  return { sweepId: job.sweepId, configHash: job.configHash, point: job.point, status: 'failed', metrics: null, returns: null, startMs: null, error, attempts };
}
