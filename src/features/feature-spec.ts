import { createHash } from 'node:crypto';
import { AppError } from '../core/app-error.js';
import type { FeatureErrorCode } from './feature-inputs.js';
import type { FeatureFunctionName } from './feature-functions.js';

/** A param value of a spec entry (JSON scalars only, so the spec hashes stably). */
export type FeatureParamValue = number | boolean | string;

/**
 * One feature of a spec: `fn` names a function in `FEATURE_FUNCTIONS` (a name, not a JS function, so the spec is
 * plain data that serialises and hashes stably), `params` are its params (all required), and `name` names its
 * column(s): `name` for a one-output function, `name.<output>` otherwise.
 */
export interface FeatureSpecEntry {
  readonly name: string;
  readonly fn: FeatureFunctionName;
  readonly params: Readonly<Record<string, FeatureParamValue>>;
}

/** An ordered list of features: the column order of the feature matrix. */
export type FeatureSpec = readonly FeatureSpecEntry[];

/**
 * Version of the feature definitions, part of {@link featureSpecHash}. Bump it whenever any feature function's
 * arithmetic, warm-up or causality rule changes, so models trained on old features are told apart.
 */
export const FEATURE_SPEC_VERSION = 'trade-matrix.features/1';

const entry = (name: string, fn: FeatureFunctionName, params: Record<string, FeatureParamValue> = {}): FeatureSpecEntry =>
  Object.freeze({ name, fn, params: Object.freeze(params) });

/**
 * The default feature set, tuned for 4h bars (windows in bars: 6 = 1 day, 42 = 7 days, 180 = 30 days).
 * Needs funding settlements, DVOL and a reference (BTC) close; 31 columns.
 */
export const DEFAULT_FEATURE_SPEC: FeatureSpec = Object.freeze([
  entry('log_return_1', 'log-return', { horizon: 1 }),
  entry('log_return_3', 'log-return', { horizon: 3 }),
  entry('log_return_6', 'log-return', { horizon: 6 }),
  entry('log_return_12', 'log-return', { horizon: 12 }),
  entry('log_return_42', 'log-return', { horizon: 42 }),
  entry('realized_vol_12', 'realized-volatility', { window: 12 }),
  entry('realized_vol_42', 'realized-volatility', { window: 42 }),
  entry('realized_vol_180', 'realized-volatility', { window: 180 }),
  entry('parkinson_vol_42', 'parkinson-volatility', { window: 42 }),
  entry('garman_klass_vol_42', 'garman-klass-volatility', { window: 42 }),
  entry('rsi_14', 'rsi', { period: 14 }),
  entry('macd_12_26_9', 'macd', { fast: 12, slow: 26, signal: 9, normalize: true }),
  entry('atr_14', 'atr', { period: 14 }),
  entry('bollinger_b_20', 'bollinger-percent-b', { window: 20, width: 2 }),
  entry('volume_z_42', 'volume-zscore', { window: 42, log: true }),
  entry('funding_last', 'funding-rate-last'),
  entry('funding_mean_3', 'funding-rate-mean', { count: 3 }),
  entry('funding_mean_21', 'funding-rate-mean', { count: 21 }),
  entry('dvol_level', 'dvol-level'),
  entry('dvol_change_1d', 'dvol-change', { days: 1 }),
  entry('dvol_change_7d', 'dvol-change', { days: 7 }),
  entry('ref_log_return_1', 'reference-log-return', { horizon: 1 }),
  entry('ref_log_return_6', 'reference-log-return', { horizon: 6 }),
  entry('ref_log_return_42', 'reference-log-return', { horizon: 42 }),
  entry('ref_correlation_42', 'reference-correlation', { window: 42 }),
  entry('calendar', 'calendar'),
]);

/**
 * Returns JSON with object keys sorted at every level and no whitespace: equal values give equal strings.
 * @throws AppError `invalid_feature_spec` for values JSON cannot represent exactly (non-finite numbers, undefined, functions).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new AppError<FeatureErrorCode>('invalid_feature_spec', `feature spec values must be finite numbers, was ${value}`, { value });
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  throw new AppError<FeatureErrorCode>('invalid_feature_spec', `feature spec values must be JSON scalars, arrays or objects, was ${typeof value}`, { type: typeof value });
}

/**
 * Returns the spec's identity: hex sha256 of `canonicalJson({ version: FEATURE_SPEC_VERSION, features: [{ name, fn, params }...] })`.
 * Entry order matters (it is the column order); param key order does not. Changing any name, fn, param value or the
 * version changes the hash. Store it with trained models and predictions (`predictions.feature_spec_hash`).
 * @example
 * featureSpecHash(DEFAULT_FEATURE_SPEC); // '3f1c…' (64 hex digits)
 */
export function featureSpecHash(spec: FeatureSpec): string {
  const doc = { version: FEATURE_SPEC_VERSION, features: spec.map((e) => ({ name: e.name, fn: e.fn, params: e.params })) };
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}
