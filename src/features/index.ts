import { z } from 'zod';
import { AppError } from '../core/app-error.js';
import { describeConfigIssue } from '../core/config-issues.js';
import { logMomentum } from './momentum.js';

export { logMomentum } from './momentum.js';

/** Bars of one symbol, columnar, as a feature reads them (aligned with a `BarFrame` row). */
export interface FeatureInput {
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** A named causal feature: `compute(bars, params)[t]` depends only on bars `<= t`. */
export interface FeatureDefinition {
  readonly description: string;
  /** Validates (and defaults) the feature's params. */
  readonly params: z.ZodType<Record<string, unknown>>;
  compute(bars: FeatureInput, params: Readonly<Record<string, unknown>>): Float64Array;
  /** Bars before the first defined value (what a run's warm-up must replay for this column). */
  warmupBars?(params: Readonly<Record<string, unknown>>): number;
}

/** Every built-in feature, by name. */
export const FEATURES: Readonly<Record<string, FeatureDefinition>> = Object.freeze({
  'log-momentum': {
    description: 'ln(close[t] / close[t - lookback])',
    params: z.object({ lookback: z.number().int().min(1) }).strict(),
    compute: (bars: FeatureInput, params: Readonly<Record<string, unknown>>) => logMomentum(bars.close, params['lookback'] as number),
    warmupBars: (params: Readonly<Record<string, unknown>>) => params['lookback'] as number,
  },
});

/**
 * Computes feature `name` with `params` over one symbol's bars.
 * @throws AppError `unknown_feature` for a name not in {@link FEATURES}; `invalid_feature_params` naming the param and value.
 */
export function computeFeature(name: string, bars: FeatureInput, params: Readonly<Record<string, unknown>>): Float64Array {
  const def = FEATURES[name];
  if (!def) throw new AppError('unknown_feature', `feature must be one of ${Object.keys(FEATURES).join(', ')}, was ${JSON.stringify(name)}`, { feature: name });
  const parsed = def.params.safeParse(params);
  if (!parsed.success) {
    const issue = describeConfigIssue(parsed.error.issues[0]!, params);
    const key = `params${issue.path.slice(1)}`;
    throw new AppError('invalid_feature_params', `feature ${name}: ${key}: ${issue.problem}`, { feature: name, path: key, problem: issue.problem });
  }
  return def.compute(bars, parsed.data);
}

// The feature pipeline: one spec, batch + incremental paths, labels and store loader.
export type { DailySeries, FeatureErrorCode, FeatureInputs, FundingSettlements } from './feature-inputs.js';
export { barCloseTimes } from './feature-inputs.js';
export { DEFAULT_FEATURE_SPEC, FEATURE_SPEC_VERSION, canonicalJson, featureSpecHash, type FeatureParamValue, type FeatureSpec, type FeatureSpecEntry } from './feature-spec.js';
export { FEATURE_FUNCTIONS, type FeatureExtraInput, type FeatureFunction, type FeatureFunctionName } from './feature-functions.js';
export { DEFAULT_STALENESS, FeaturePipeline, IncrementalFeatures, createIncremental, inputAges, type FeatureMatrix, type StalenessPolicy } from './feature-pipeline.js';
export { DVOL_SERIES, featureInputsFromFrame, featureInputsFromStore, type FeatureInputsRequest } from './load-feature-inputs.js';
export { DEFAULT_EMBARGO_FRACTION, DEFAULT_PURGE_GAP, forwardLogReturn, purgeMask, type FoldRange, type PurgeOptions } from './labels.js';
export { BARRIER, metaLabels, tripleBarrierLabels, type TripleBarrierLabels, type TripleBarrierOptions } from './triple-barrier.js';
export { logReturn } from './returns.js';
export { garmanKlassVolatility, parkinsonVolatility, realizedVolatility } from './volatility.js';
export { bollingerPercentB, exponentialMovingAverage, macd, normalizedAverageTrueRange, relativeStrengthIndex, volumeZScore, type MacdColumns } from './oscillators.js';
export { fundingRateLast, fundingRateMean } from './funding.js';
export { dvolChange, dvolLevel } from './dvol.js';
export { rollingReturnCorrelation } from './cross-asset.js';
export { calendarFeatures, type CalendarColumns } from './calendar.js';
