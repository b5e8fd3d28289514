/**
 * Position sizing: the risk half of a strategy. Regime-weighted Kelly sizing over the MS-GARCH regime model, order
 * quantities under an instrument's lot / minimum rules, a causal rolling Spearman IC with signal confidence, the
 * 4-tier cascade FULL_RL → BLENDED → PURE_KELLY → EMERGENCY_FLAT (truly flat; an optional PROBE tier holds the
 * half-open breaker's probe position), and a circuit breaker on engine time.
 *
 * Units: edges and returns are log returns in raw units; variances raw units squared (the regime model's scale is
 * removed with `kelly.regimeReturnScale`); fractions are signed position notional / equity; money in the quote
 * currency; quantities in base units; times in engine-clock epoch ms.
 *
 * Configuration: one zod schema, {@link RiskConfig} (`.strict()`, defaults declared there only); parse it once with
 * {@link parseRiskConfig} and pass its sections down.
 */
export { CircuitBreaker, type BreakerCause, type BreakerState, type BreakerTransition, type BreakerTrigger, type CircuitBreakerDeps } from './circuit-breaker.js';
export { kellyFraction, kellyPosition, kellyPositions, regimeFraction, regimeFractions, type KellyLimits } from './kelly.js';
export { fractionToQuantity, type QuantityReason, type SizedQuantity } from './order-quantity.js';
export { createPositionSizer, PositionSizer, type CreatePositionSizerOptions, type PositionSizerDeps, type SizingDecision, type SizingInput } from './position-sizer.js';
export { horizonVariance, horizonVariances, RegimeForecast, type RegimeState } from './regime-forecast.js';
export {
  defaultRiskConfig,
  parseRiskConfig,
  RiskConfig,
  type BreakerConfig,
  type CascadeConfig,
  type IcConfig,
  type KellyConfig,
  type RegimeFractions,
  type RiskConfigInput,
} from './risk-config.js';
export type { RlProposal, RlSizer, RlSizerState } from './rl-sizer.js';
export { RollingIc, spearman, type RollingIcOptions } from './rolling-ic.js';
export {
  CHANGE_LOG_LIMIT,
  describeTier,
  isValidProposal,
  selectTier,
  SizingCascade,
  tierOf,
  type CascadeDecision,
  type RlOutcome,
  type SizingCascadeDeps,
  type SizingTier,
  type TierChange,
  type TierInputs,
  type TierReason,
} from './sizing-cascade.js';
export { SizingError, type SizingErrorCode } from './sizing-error.js';
