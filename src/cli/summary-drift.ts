/** Relative tolerance for non-integer numbers (money figures, metrics) when comparing a summary with its baseline. */
export const BASELINE_RELATIVE_TOLERANCE = 1e-9;

/** One difference between a baseline summary and a new one. */
export interface SummaryDrift {
  /** JSON path, e.g. `$.metrics.sharpe`. */
  readonly path: string;
  readonly baseline: unknown;
  readonly actual: unknown;
  /** |a - b| / max(|a|, |b|) for two numbers, else null. */
  readonly relativeDiff: number | null;
  readonly rule: 'exact' | 'relative 1e-9' | 'missing' | 'unexpected' | 'type';
}

/**
 * Compares two summaries (parsed JSON). Integers (counts, epoch ms, integer money) must be equal; other numbers
 * may differ by {@link BASELINE_RELATIVE_TOLERANCE} relative to the larger magnitude; strings, booleans and nulls must
 * be equal; arrays must have the same length and objects the same keys. Returns every difference, in document order.
 */
export function compareSummaries(baseline: unknown, actual: unknown, path = '$'): SummaryDrift[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(baseline) !== kind(actual)) return [{ path, baseline, actual, relativeDiff: null, rule: 'type' }];
  if (typeof baseline === 'number' && typeof actual === 'number') {
    if (baseline === actual) return [];
    const relativeDiff = Math.abs(baseline - actual) / Math.max(Math.abs(baseline), Math.abs(actual));
    if (Number.isInteger(baseline) && Number.isInteger(actual)) return [{ path, baseline, actual, relativeDiff, rule: 'exact' }];
    return relativeDiff <= BASELINE_RELATIVE_TOLERANCE ? [] : [{ path, baseline, actual, relativeDiff, rule: 'relative 1e-9' }];
  }
  if (Array.isArray(baseline) && Array.isArray(actual)) {
    if (baseline.length !== actual.length) return [{ path: `${path}.length`, baseline: baseline.length, actual: actual.length, relativeDiff: null, rule: 'exact' }];
    return baseline.flatMap((b, i) => compareSummaries(b, actual[i], `${path}[${i}]`));
  }
  if (kind(baseline) === 'object') {
    const b = baseline as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const out: SummaryDrift[] = [];
    for (const key of Object.keys(b)) {
      if (!Object.hasOwn(a, key)) out.push({ path: `${path}.${key}`, baseline: b[key], actual: undefined, relativeDiff: null, rule: 'missing' });
      else out.push(...compareSummaries(b[key], a[key], `${path}.${key}`));
    }
    for (const key of Object.keys(a)) if (!Object.hasOwn(b, key)) out.push({ path: `${path}.${key}`, baseline: undefined, actual: a[key], relativeDiff: null, rule: 'unexpected' });
    return out;
  }
  return baseline === actual ? [] : [{ path, baseline, actual, relativeDiff: null, rule: 'exact' }];
}
