import { AppError } from '../core/app-error.js';
import { DAY_MS } from '../core/time.js';

/** Error codes of the feature pipeline. */
export type FeatureErrorCode = 'unknown_feature' | 'invalid_feature_params' | 'invalid_feature_spec' | 'missing_feature_input' | 'invalid_feature_input';
export type FeatureError = AppError<FeatureErrorCode>;

/** Points of an irregular series in time order: `ts[i]` (epoch ms, strictly increasing) and its value. */
export interface FundingSettlements {
  /** Settlement times, epoch ms, strictly increasing. A settlement at `s` is usable from bar closes `>= s`. */
  readonly ts: Float64Array;
  /** Fraction paid per settlement (0.0001 = 0.01 %). */
  readonly rate: Float64Array;
}

/** One value per UTC day: `ts` = the day's 00:00 UTC, `value` = the day's close (usable from `ts + 24h`). */
export interface DailySeries {
  /** Day starts, epoch ms at 00:00 UTC, strictly increasing. */
  readonly ts: Float64Array;
  readonly value: Float64Array;
}

/**
 * Everything the feature pipeline reads for ONE symbol, as aligned columnar arrays (index = bar).
 * Bar `t` covers [ts[t], ts[t] + timeframeMs) and its features are known at its close, `ts[t] + timeframeMs`.
 */
export interface FeatureInputs {
  /** Bar open times, epoch ms, strictly increasing. */
  readonly ts: Float64Array;
  /** Bar length in ms (e.g. 14_400_000 for 4h). */
  readonly timeframeMs: number;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  /** Base-asset volume per bar. */
  readonly volume: Float64Array;
  /** 1 where the store had the bar, 0 where the missing-bar policy filled it (informational; features do not read it). */
  readonly present?: Uint8Array;
  /** Funding settlements of the symbol's perpetual (any time range; only settlements `<=` a bar's close are used for it). */
  readonly funding?: FundingSettlements;
  /** Deribit BTC DVOL daily closes, in annualised volatility points. */
  readonly dvol?: DailySeries;
  /** Close of the reference asset (e.g. BTCUSDT) at the same bar open times `ts`; NaN where unknown. */
  readonly referenceClose?: Float64Array;
}

/** Returns bar close times `ts[t] + timeframeMs` (epoch ms): the time each bar's features become known. */
export function barCloseTimes(inputs: Pick<FeatureInputs, 'ts' | 'timeframeMs'>): Float64Array {
  const out = new Float64Array(inputs.ts.length);
  for (let t = 0; t < out.length; t++) out[t] = inputs.ts[t]! + inputs.timeframeMs;
  return out;
}

/**
 * Checks the shape of `inputs`: equal lengths, strictly increasing times, DVOL days at 00:00 UTC.
 * @throws AppError `invalid_feature_input` naming the field, the rule and the offending value.
 */
export function checkFeatureInputs(inputs: FeatureInputs): void {
  const n = inputs.ts.length;
  const fail = (message: string, context: Record<string, unknown>): never => {
    throw new AppError<FeatureErrorCode>('invalid_feature_input', message, context);
  };
  if (!(inputs.timeframeMs > 0)) fail(`\`timeframeMs\` must be > 0, was ${inputs.timeframeMs}`, { timeframeMs: inputs.timeframeMs });
  for (const field of ['open', 'high', 'low', 'close', 'volume', 'referenceClose'] as const) {
    const a = inputs[field];
    if (a !== undefined && a.length !== n) fail(`\`${field}\` must have ${n} values like \`ts\`, had ${a.length}`, { field, length: a.length, expected: n });
  }
  increasing('ts', inputs.ts, fail);
  if (inputs.funding) {
    if (inputs.funding.rate.length !== inputs.funding.ts.length) fail(`\`funding.rate\` must have ${inputs.funding.ts.length} values like \`funding.ts\`, had ${inputs.funding.rate.length}`, { field: 'funding.rate' });
    increasing('funding.ts', inputs.funding.ts, fail);
  }
  if (inputs.dvol) {
    if (inputs.dvol.value.length !== inputs.dvol.ts.length) fail(`\`dvol.value\` must have ${inputs.dvol.ts.length} values like \`dvol.ts\`, had ${inputs.dvol.value.length}`, { field: 'dvol.value' });
    increasing('dvol.ts', inputs.dvol.ts, fail);
    for (let i = 0; i < inputs.dvol.ts.length; i++) {
      const d = inputs.dvol.ts[i]!;
      if (d % DAY_MS !== 0) fail(`\`dvol.ts\` must be days at 00:00 UTC, was ${d} at index ${i}`, { field: 'dvol.ts', index: i, value: d });
    }
  }
}

function increasing(field: string, a: Float64Array, fail: (m: string, c: Record<string, unknown>) => never): void {
  for (let i = 1; i < a.length; i++) {
    if (!(a[i]! > a[i - 1]!)) fail(`\`${field}\` must be strictly increasing, was ${a[i - 1]} then ${a[i]} at index ${i}`, { field, index: i });
  }
}

/**
 * Checks that integer param `param` of `feature` is `>= min`.
 * @throws AppError `invalid_feature_params`, e.g. "`window` must be an integer >= 2, was 1".
 */
export function checkIntegerParam(feature: string, param: string, value: number, min: number): void {
  if (!(Number.isInteger(value) && value >= min)) {
    throw new AppError<FeatureErrorCode>('invalid_feature_params', `${feature}: \`${param}\` must be an integer >= ${min}, was ${value}`, { feature, param, value });
  }
}
