import type { Instrument } from '../core/instrument.js';
import { CircuitBreaker, type BreakerState, type BreakerTransition } from './circuit-breaker.js';
import type { Clock } from '../core/time.js';
import { kellyPosition, regimeFraction } from './kelly.js';
import { fractionToQuantity, type SizedQuantity } from './order-quantity.js';
import { horizonVariance, type RegimeState } from './regime-forecast.js';
import type { RiskConfig } from './risk-config.js';
import type { RlProposal, RlSizer, RlSizerState } from './rl-sizer.js';
import { SizingCascade, type RlOutcome, type SizingTier, type TierChange, type TierReason } from './sizing-cascade.js';
import { invalidInput } from './sizing-error.js';

/** Per-bar inputs of a sizing decision. Money in the quote currency; quantities in base units. */
export interface SizingInput {
  /** μ: the signal's expected log return over `horizonBars` (raw units). NaN = no prediction (Kelly fraction 0). */
  readonly edge: number;
  readonly regime: RegimeState;
  /** Rolling Spearman IC (NaN while warming up). */
  readonly ic: number;
  /** Confidence of the latest prediction in [0, 1] (passed to the RL sizer). */
  readonly signalConfidence: number;
  readonly equity: number;
  /** Price the quantity is computed at (last close or mark), quote per base unit. */
  readonly price: number;
  /** Current signed position, base units (default 0). */
  readonly currentQuantity?: number;
}

/** One full sizing decision. Fractions are signed notional / equity. */
export interface SizingDecision {
  /** Engine time of the decision (epoch ms). */
  readonly tsEvent: number;
  readonly tier: SizingTier;
  readonly code: TierReason;
  readonly breakerState: BreakerState;
  /** σ²_H, raw log-return units squared. */
  readonly variance: number;
  /** Regime fraction g in [0, 1]. */
  readonly regimeFraction: number;
  /** Capped, regime-scaled Kelly fraction. */
  readonly kellyFraction: number;
  /** The RL proposal, when a sizer was asked and answered validly. */
  readonly rl: RlProposal | null;
  /** Final target fraction: the tier's fraction capped to ±kelly.maxLeverage. */
  readonly fraction: number;
  /** Whether `fraction` is the half-open probe position. */
  readonly probe: boolean;
  readonly quantity: SizedQuantity;
}

/** The parts a {@link PositionSizer} drives. */
export interface PositionSizerDeps {
  readonly clock: Clock;
  readonly instrument: Instrument;
  readonly breaker: CircuitBreaker;
  readonly cascade: SizingCascade;
  /** Absent: no RL sizer configured (the cascade never leaves PURE_KELLY for an RL tier). */
  readonly rlSizer?: RlSizer;
}

/**
 * One sizing decision per bar: regime-weighted Kelly → RL proposal (only while the breaker is closed) → cascade
 * (with the breaker's current state) → leverage cap → order quantity. A throwing or invalid RL sizer is reported
 * to the breaker as a model error. Feed the breaker its bars, equity, trades and errors separately.
 *
 *   σ²_H = H · Σ_k π_{k,t+1} h_{k,t+1} / s²,  g = regimeFraction(p_t),  f_kelly = clamp(clamp(μ/σ², ±maxFraction) · g, ±maxLeverage)
 *   f = clamp(cascade fraction, ±maxLeverage),  quantity = fractionToQuantity(f, equity, price, instrument, current)
 * @example
 * const sizer = createPositionSizer(risk, { clock, instrument, barMs: timeframeMs('1h') });
 * breaker.onBar(equity); regime.update();
 * const decision = sizer.decide({ edge, regime, ic: ic.ic, signalConfidence: ic.confidence, equity, price: close });
 */
export class PositionSizer {
  private readonly config: RiskConfig;
  private readonly deps: PositionSizerDeps;

  constructor(config: RiskConfig, deps: PositionSizerDeps) {
    this.config = config;
    this.deps = deps;
  }

  get breaker(): CircuitBreaker {
    return this.deps.breaker;
  }

  get cascade(): SizingCascade {
    return this.deps.cascade;
  }

  /**
   * Makes the sizing decision for the current bar.
   * @throws SizingError `invalid_input` for a non-finite edge other than NaN, a non-positive variance, equity or price
   *   breaking {@link fractionToQuantity}'s rules.
   */
  decide(input: SizingInput): SizingDecision {
    const { config, deps } = this;
    const breakerState = deps.breaker.check();
    const { variance, g, kelly } = this.kellyOf(input);
    const now = deps.clock.now();
    const current = input.currentQuantity ?? 0;
    // The RL sizer is asked only while the breaker is closed: otherwise the breaker rules decide before RL counts.
    let rl: RlOutcome = 'not_configured';
    const rlSizer = deps.rlSizer;
    if (rlSizer !== undefined && (breakerState === 'closed' || rlSizer.observe !== undefined)) {
      try {
        const state = this.stateOf(input, now, variance, kelly, breakerState);
        rlSizer.observe?.(state);
        if (breakerState === 'closed') rl = rlSizer.propose(state);
      } catch {
        if (breakerState === 'closed') rl = 'failed';
      }
    }
    const decision = deps.cascade.decide(kelly, rl, input.ic, breakerState);
    if (decision.code === 'rl_failed') deps.breaker.onModelError();
    const limit = config.kelly.maxLeverage;
    const fraction = decision.fraction > limit ? limit : decision.fraction < -limit ? -limit : decision.fraction;
    return {
      tsEvent: now,
      tier: decision.tier,
      code: decision.code,
      breakerState,
      variance,
      regimeFraction: g,
      kellyFraction: kelly,
      rl: typeof rl === 'object' && decision.code !== 'rl_failed' ? rl : null,
      fraction,
      probe: decision.probe,
      quantity: fractionToQuantity(fraction, input.equity, input.price, deps.instrument, current),
    };
  }

  /**
   * Returns the state {@link decide} would hand the RL sizer for `input` at the clock's current time (the breaker
   * checked as `decide` checks it; idempotent at one time), for environments that observe before they act.
   * @throws SizingError as {@link decide} for invalid inputs.
   */
  rlState(input: SizingInput): RlSizerState {
    const { variance, kelly } = this.kellyOf(input);
    return this.stateOf(input, this.deps.clock.now(), variance, kelly, this.deps.breaker.check());
  }

  /** σ²_H, the regime fraction g and the capped Kelly fraction of `input` (0 without a prediction). */
  private kellyOf(input: SizingInput): { variance: number; g: number; kelly: number } {
    const config = this.config;
    const variance = horizonVariance(input.regime, config.horizonBars, config.kelly.regimeReturnScale);
    const g = regimeFraction(input.regime.filtered, input.regime.labels, config.regimeFractions, config.kelly.regimeFractionMode);
    if (input.edge === Infinity || input.edge === -Infinity) invalidInput('edge', 'be finite or NaN (no prediction)', input.edge);
    const kelly = Number.isNaN(input.edge) ? 0 : kellyPosition(input.edge, variance, g, config.kelly);
    return { variance, g, kelly };
  }

  private stateOf(input: SizingInput, now: number, variance: number, kelly: number, breakerState: BreakerState): RlSizerState {
    const current = input.currentQuantity ?? 0;
    return {
      tsEvent: now,
      edge: input.edge,
      variance,
      kellyFraction: kelly,
      regimeProbabilities: input.regime.filtered,
      regimeLabels: input.regime.labels,
      ic: input.ic,
      signalConfidence: input.signalConfidence,
      equity: input.equity,
      price: input.price,
      currentFraction: input.equity > 0 ? (current * input.price) / input.equity : 0,
      breakerState,
    };
  }
}

/** Options of {@link createPositionSizer}. */
export interface CreatePositionSizerOptions {
  readonly clock: Clock;
  readonly instrument: Instrument;
  /** Bar length, ms (stale-data limit). */
  readonly barMs: number;
  readonly rlSizer?: RlSizer;
  readonly onTierChange?: (change: TierChange) => void;
  readonly onBreakerTransition?: (transition: BreakerTransition) => void;
}

/**
 * Builds a {@link PositionSizer} with its {@link CircuitBreaker} and {@link SizingCascade} from a parsed risk config.
 * @example
 * const risk = unwrap(parseRiskConfig(raw));
 * const sizer = createPositionSizer(risk, { clock, instrument: BYBIT_LINEAR_PERPETUALS.BTCUSDT, barMs: 3_600_000 });
 */
export function createPositionSizer(config: RiskConfig, options: CreatePositionSizerOptions): PositionSizer {
  const breaker = new CircuitBreaker(config.breaker, { clock: options.clock, barMs: options.barMs, ...(options.onBreakerTransition ? { onTransition: options.onBreakerTransition } : {}) });
  const cascade = new SizingCascade(config.cascade, {
    clock: options.clock,
    ...(options.onTierChange ? { onTierChange: options.onTierChange } : {}),
    ...(options.rlSizer ? { rlName: `RL sizer ${options.rlSizer.name}` } : {}),
  });
  return new PositionSizer(config, { clock: options.clock, instrument: options.instrument, breaker, cascade, ...(options.rlSizer ? { rlSizer: options.rlSizer } : {}) });
}
