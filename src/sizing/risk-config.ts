import { deepFreeze, describeConfigIssue } from '../core/config-issues.js';
import { z } from 'zod';
import { err, ok, type Result } from '../core/result.js';
import { SizingError } from './sizing-error.js';

const Probability = z.number().min(0).max(1);
const Correlation = z.number().min(-1).max(1);
const DurationMs = z.number().int().min(0).max(30 * 86_400_000);

/**
 * Kelly sizing (see `kelly.ts`): f = μ / σ², capped to ±`maxFraction`, times the regime fraction, capped to
 * ±`maxLeverage`. Fractions are position notional / equity (1 = fully invested, unlevered).
 */
const KellyConfig = z
  .object({
    /** Cap on |μ / σ²| before the regime fraction (1 = never more than full equity at full Kelly). */
    maxFraction: z.number().gt(0).max(100).default(1),
    /** Cap on the final |fraction| (gross leverage); every tier, RL included, is held to it. */
    maxLeverage: z.number().gt(0).max(100).default(1),
    /**
     * How filtered regime probabilities p_k pick the regime fraction: `weighted` = Σ_k p_k · fraction(label_k)
     * (continuous, no jump when the leading regime changes); `argmax` = the fraction of the most probable state.
     */
    regimeFractionMode: z.enum(['weighted', 'argmax']).default('weighted'),
    /**
     * Scale of the regime model's returns relative to raw log returns (100 when it was fitted on percent returns):
     * model variances are divided by its square to get raw log-return variances.
     */
    regimeReturnScale: z.number().gt(0).finite().default(1),
  })
  .strict();

/** Multiplier of the Kelly fraction per regime label (the "fractional Kelly" of each regime). */
const RegimeFractionsConfig = z
  .object({
    crisis: Probability.default(0.17),
    bear: Probability.default(0.25),
    neutral: Probability.default(0.5),
    bull: Probability.default(0.67),
  })
  .strict();

/** Rolling Spearman IC and signal confidence (see `rolling-ic.ts`). */
const IcConfig = z
  .object({
    /** Completed (prediction, forward return) pairs in the rolling window; also the prediction window of the confidence. */
    window: z.number().int().min(3).max(100_000).default(200),
    /** Fewer pairs (or predictions) than this: IC is NaN and confidence 0. */
    minPairs: z.number().int().min(3).default(30),
  })
  .strict()
  .refine((c) => c.minPairs <= c.window, { message: 'must be <= ic.window', path: ['minPairs'] });

/** Tier thresholds (inclusive: a value equal to a threshold passes it). IC NaN passes no threshold. */
const CascadeConfig = z
  .object({
    /** FULL_RL when RL confidence >= minConfidence AND rolling IC >= minIc. */
    fullRl: z.object({ minConfidence: Probability.default(0.5), minIc: Correlation.default(0.05) }).strict().prefault({}),
    /** BLENDED (rlWeight · RL + (1 − rlWeight) · Kelly) when not FULL_RL and both of these hold. */
    blended: z.object({ minConfidence: Probability.default(0.3), minIc: Correlation.default(0.02), rlWeight: Probability.default(0.5) }).strict().prefault({}),
    /**
     * Breaker half-open: 0 (default) = stay flat (EMERGENCY_FLAT) until the probe bars pass; > 0 = the PROBE tier holds
     * the Kelly fraction times this (the probe position), so a losing probe trade can fail the probe.
     */
    halfOpenProbeScale: Probability.default(0),
  })
  .strict()
  .refine((c) => c.blended.minConfidence <= c.fullRl.minConfidence, { message: 'must be <= cascade.fullRl.minConfidence', path: ['blended', 'minConfidence'] })
  .refine((c) => c.blended.minIc <= c.fullRl.minIc, { message: 'must be <= cascade.fullRl.minIc', path: ['blended', 'minIc'] });

const ErrorBurstTrigger = (count: number, windowMs: number) =>
  z
    .object({
      enabled: z.boolean().default(true),
      /** Opens when this many errors fall within `windowMs` (an error counts while its age < windowMs). */
      count: z.number().int().min(1).max(10_000).default(count),
      windowMs: DurationMs.min(1).default(windowMs),
    })
    .strict()
    .prefault({});

/** Circuit breaker (see `circuit-breaker.ts`); durations in engine-clock milliseconds. */
const BreakerConfig = z
  .object({
    /** Time in `open` before `half-open` (engine clock, so backtests behave like live). */
    cooldownMs: DurationMs.default(3_600_000),
    probe: z
      .object({
        /** Bars that must arrive in half-open with no trigger firing to close the breaker. */
        bars: z.number().int().min(1).max(10_000).default(1),
        /** A trade closed at a loss while half-open fails the probe. */
        failOnLosingTrade: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Opens when (peak − equity) / peak >= limit; the peak restarts at the equity of every open / half-open entry. */
    drawdown: z.object({ enabled: z.boolean().default(true), limit: z.number().gt(0).max(1).default(0.1) }).strict().prefault({}),
    /** Opens when this many closed trades in a row lose (pnl < 0; pnl = 0 ends a streak). */
    consecutiveLosses: z.object({ enabled: z.boolean().default(true), limit: z.number().int().min(1).max(10_000).default(5) }).strict().prefault({}),
    /** Opens when no bar arrives for more than maxGapBars × bar length of engine time. */
    staleData: z.object({ enabled: z.boolean().default(true), maxGapBars: z.number().gt(0).max(10_000).default(2) }).strict().prefault({}),
    /** Model / inference errors (failed or invalid predictions, RL sizer failures). */
    modelErrors: ErrorBurstTrigger(3, 600_000),
    /** Exchange errors (rejects, timeouts, disconnects reported by the execution client). */
    exchangeErrors: ErrorBurstTrigger(5, 300_000),
  })
  .strict();

/**
 * Schema of the risk half of a strategy: Kelly limits, regime fractions, IC window, cascade thresholds and circuit
 * breaker. Unknown keys fail; every default is declared here and nowhere else, so `RiskConfig.parse({})` is the
 * default configuration.
 */
export const RiskConfig = z
  .object({
    /** Holding horizon H of the signal, in bars: μ is the expected log return over H bars, the IC pairs a prediction with the H-bar forward return. */
    horizonBars: z.number().int().min(1).max(10_000).default(1),
    kelly: KellyConfig.prefault({}),
    regimeFractions: RegimeFractionsConfig.prefault({}),
    ic: IcConfig.prefault({}),
    cascade: CascadeConfig.prefault({}),
    breaker: BreakerConfig.prefault({}),
  })
  .strict();

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** A parsed, deep-frozen risk config (every default filled in). */
export type RiskConfig = DeepReadonly<z.output<typeof RiskConfig>>;
/** What a risk config may contain before defaults. */
export type RiskConfigInput = z.input<typeof RiskConfig>;
export type KellyConfig = RiskConfig['kelly'];
export type RegimeFractions = RiskConfig['regimeFractions'];
export type IcConfig = RiskConfig['ic'];
export type CascadeConfig = RiskConfig['cascade'];
export type BreakerConfig = RiskConfig['breaker'];

/**
 * Parses a risk config value (e.g. the `risk` section of a run config). Returns the deep-frozen config, or a
 * {@link SizingError} `invalid_config` whose message names the path, the problem and the value
 * (`context.issues` holds every zod issue).
 * @example
 * const risk = parseRiskConfig({ breaker: { drawdown: { limit: 0.15 } } });
 * if (!risk.success) throw risk.error;
 */
export function parseRiskConfig(raw: unknown): Result<RiskConfig, SizingError> {
  const parsed = RiskConfig.safeParse(raw);
  if (parsed.success) return ok(deepFreeze(parsed.data) as RiskConfig);
  const issues = parsed.error.issues.map((i) => describeConfigIssue(i, raw));
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return err(new SizingError('invalid_config', `risk config ${first.path}: ${first.problem}${more}`, { path: first.path, problem: first.problem, issues }));
}

/** Returns the default risk config (deep-frozen): `RiskConfig.parse({})`. */
export function defaultRiskConfig(): RiskConfig {
  return deepFreeze(RiskConfig.parse({})) as RiskConfig;
}


