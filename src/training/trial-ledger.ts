import { createHash } from 'node:crypto';
import { deflatedSharpeRatio, type DeflatedSharpe } from './stats.js';
import { TrainingError } from './training-error.js';

/** One configuration tried by a training or sweep run. */
export interface TrialRecord {
  /** {@link trialConfigHash} of the configuration. */
  readonly configHash: string;
  readonly name: string;
  /** Per-period (not annualised) Sharpe ratio of the trial's out-of-sample returns. */
  readonly sharpe: number;
  /** Number of returns the Sharpe was estimated from. */
  readonly observations: number;
}

/**
 * Returns a stable hash of a configuration: SHA-256 (hex, first 16 characters) of its canonical JSON (object keys
 * sorted at every level), so the same configuration written with keys in another order hashes the same.
 * @example trialConfigHash({ b: 1, a: [1, 2] }) === trialConfigHash({ a: [1, 2], b: 1 }); // true
 */
export function trialConfigHash(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Result of {@link deflatedSharpeFromTrials}. */
export interface LedgerDeflatedSharpe extends DeflatedSharpe {
  /** Distinct configurations in the ledger (N). */
  readonly trials: number;
  /** Sample variance of their Sharpe ratios (the last record of each configuration). */
  readonly sharpeVariance: number;
}

/**
 * Returns the Deflated Sharpe Ratio of a selected strategy counting every configuration in `ledger` as a trial:
 * N = the number of distinct `configHash`es (a configuration run twice counts once, with its last record) and
 * V = the sample variance of their Sharpe ratios ({@link deflatedSharpeRatio}).
 * @throws TrainingError `invalid_argument` for an empty ledger or a non-finite Sharpe in it.
 * @example
 * deflatedSharpeFromTrials(ledger, { sharpe: 0.04, observations: 2000, skewness: 0, kurtosis: 3 }).dsr;
 */
export function deflatedSharpeFromTrials(ledger: readonly TrialRecord[], selected: { sharpe: number; observations: number; skewness: number; kurtosis: number }): LedgerDeflatedSharpe {
  if (ledger.length === 0) throw new TrainingError('invalid_argument', '`ledger` must hold >= 1 trial, was empty', { trials: 0 });
  const last = new Map<string, number>();
  for (const r of ledger) {
    if (!Number.isFinite(r.sharpe)) throw new TrainingError('invalid_argument', `\`ledger\` trial ${r.name} (${r.configHash}) must have a finite sharpe, was ${r.sharpe}`, { trial: r.name, sharpe: r.sharpe });
    last.set(r.configHash, r.sharpe);
  }
  const sharpes = [...last.values()];
  const n = sharpes.length;
  const mean = sharpes.reduce((a, b) => a + b, 0) / n;
  const sharpeVariance = n > 1 ? sharpes.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { ...deflatedSharpeRatio({ ...selected, trials: n, sharpeVariance }), trials: n, sharpeVariance };
}
