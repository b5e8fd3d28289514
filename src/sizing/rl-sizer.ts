import type { RegimeLabel } from '../regime/regime-labels.js';
import type { BreakerState } from './circuit-breaker.js';

/**
 * What an {@link RlSizer} sees at a decision (the close of a bar). Fractions are position notional / equity,
 * signed (+ long, − short); returns are log returns in raw units; money in the quote currency.
 */
export interface RlSizerState {
  /** Engine time of the decision (epoch ms). */
  readonly tsEvent: number;
  /** Signal's expected log return over the horizon (μ). */
  readonly edge: number;
  /** Variance of the horizon log return (σ², raw units squared) from the regime model. */
  readonly variance: number;
  /** Capped, regime-scaled Kelly fraction (what PURE_KELLY would hold). */
  readonly kellyFraction: number;
  /** Filtered regime probabilities P(s_t = k | r_1..r_t), with their labels. */
  readonly regimeProbabilities: ArrayLike<number>;
  readonly regimeLabels: readonly RegimeLabel[];
  /** Rolling Spearman IC of the signal (NaN while warming up). */
  readonly ic: number;
  /** Confidence of the signal's latest prediction in [0, 1] (see `RollingIc`). */
  readonly signalConfidence: number;
  readonly equity: number;
  readonly price: number;
  /** Current position / equity (signed). */
  readonly currentFraction: number;
  readonly breakerState: BreakerState;
}

/** An RL sizer's answer: a target fraction (signed, notional / equity) and its confidence in [0, 1]. */
export interface RlProposal {
  readonly fraction: number;
  readonly confidence: number;
}

/**
 * A learned position sizer (e.g. the SAC agent of a later issue): proposes a target fraction and how confident it is.
 * The cascade uses the proposal only when the confidence and the signal's IC pass its thresholds, caps it at
 * `kelly.maxLeverage`, and treats a throw or an invalid proposal (non-finite fraction, confidence outside [0, 1]) as
 * a model error. Implementations must be deterministic for a given state and model (seeded if stochastic).
 */
export interface RlSizer {
  /** Name for logs and tier-change reasons, e.g. `sac-v3`. */
  readonly name: string;
  propose(state: RlSizerState): RlProposal;
  /**
   * Optional: sees the state of every decision, before `propose` and also when the breaker keeps RL out (propose is
   * asked only while it is closed), so path-dependent observations (bars in position, peak equity) follow every bar.
   * A throw counts as a failed proposal while the breaker is closed and is ignored otherwise.
   */
  observe?(state: RlSizerState): void;
}
