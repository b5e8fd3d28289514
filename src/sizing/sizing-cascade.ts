import type { BreakerState } from './circuit-breaker.js';
import type { Clock } from '../core/time.js';
import type { CascadeConfig } from './risk-config.js';
import type { RlProposal } from './rl-sizer.js';

/**
 * Sizing tiers, from most to least trusting. EMERGENCY_FLAT never holds a position (target fraction 0); PROBE is the
 * breaker's half-open probe position (Kelly × `cascade.halfOpenProbeScale`), a tier of its own that only exists when
 * that scale is > 0 (it is 0 by default: the breaker probes flat).
 */
export type SizingTier = 'FULL_RL' | 'BLENDED' | 'PURE_KELLY' | 'PROBE' | 'EMERGENCY_FLAT';

/**
 * Why a tier was chosen (first rule that applies, in this order):
 * - `breaker_open` → EMERGENCY_FLAT, fraction 0;
 * - `breaker_half_open` → EMERGENCY_FLAT, fraction 0: half-open with `halfOpenProbeScale` 0 (the default), the
 *   breaker's probe bars pass without a position;
 * - `breaker_probe` → PROBE, fraction = Kelly × `halfOpenProbeScale` (the probe position): half-open with a scale > 0;
 * - `no_rl_sizer` → PURE_KELLY: no RL sizer configured (RL counts as below every threshold);
 * - `rl_failed` → PURE_KELLY: the RL sizer threw or proposed a non-finite fraction or a confidence outside [0, 1];
 * - `rl_confident` → FULL_RL: confidence >= fullRl.minConfidence AND IC >= fullRl.minIc;
 * - `rl_medium` → BLENDED: confidence >= blended.minConfidence AND IC >= blended.minIc;
 * - `low_confidence` → PURE_KELLY: confidence < blended.minConfidence (IC may fail too);
 * - `low_ic` → PURE_KELLY: IC < blended.minIc or NaN.
 */
export type TierReason = 'breaker_open' | 'breaker_half_open' | 'breaker_probe' | 'no_rl_sizer' | 'rl_failed' | 'rl_confident' | 'rl_medium' | 'low_confidence' | 'low_ic';

/** The RL side of a decision: a proposal, no sizer configured, or a sizer that threw. */
export type RlOutcome = RlProposal | 'not_configured' | 'failed';

/** The numbers a tier was chosen on. `confidence` is 0 when there is no valid RL proposal; `ic` NaN while warming up. */
export interface TierInputs {
  readonly confidence: number;
  readonly ic: number;
  readonly breakerState: BreakerState;
}

/** A tier change (frozen); the first decision records the change from `null`. */
export interface TierChange {
  /** Engine time of the decision that changed the tier (epoch ms). */
  readonly tsEvent: number;
  readonly from: SizingTier | null;
  readonly to: SizingTier;
  readonly code: TierReason;
  /** Human-readable reason with the values and thresholds involved. */
  readonly reason: string;
  readonly inputs: TierInputs;
}

/** Outcome of one {@link SizingCascade.decide}: the tier and its target fraction (signed notional / equity, uncapped). */
export interface CascadeDecision {
  readonly tier: SizingTier;
  readonly code: TierReason;
  readonly fraction: number;
  /** Whether `fraction` is the half-open probe position. */
  readonly probe: boolean;
}

const TIER_OF: Readonly<Record<TierReason, SizingTier>> = Object.freeze({
  breaker_open: 'EMERGENCY_FLAT',
  breaker_half_open: 'EMERGENCY_FLAT',
  breaker_probe: 'PROBE',
  no_rl_sizer: 'PURE_KELLY',
  rl_failed: 'PURE_KELLY',
  rl_confident: 'FULL_RL',
  rl_medium: 'BLENDED',
  low_confidence: 'PURE_KELLY',
  low_ic: 'PURE_KELLY',
});

/** Returns the tier a {@link TierReason} leads to. */
export function tierOf(code: TierReason): SizingTier {
  return TIER_OF[code];
}

/** Whether an RL outcome is a usable proposal: finite fraction, confidence in [0, 1]. */
export function isValidProposal(rl: RlOutcome): rl is RlProposal {
  return typeof rl === 'object' && Number.isFinite(rl.fraction) && rl.confidence >= 0 && rl.confidence <= 1;
}

/**
 * Returns the rule that applies (see {@link TierReason}); thresholds are inclusive (a value equal to a threshold
 * passes it), and a NaN IC passes none. Pure; allocates nothing.
 */
export function selectTier(rl: RlOutcome, ic: number, breakerState: BreakerState, config: CascadeConfig): TierReason {
  if (breakerState === 'open') return 'breaker_open';
  if (breakerState === 'half-open') return config.halfOpenProbeScale > 0 ? 'breaker_probe' : 'breaker_half_open';
  if (rl === 'not_configured') return 'no_rl_sizer';
  if (!isValidProposal(rl)) return 'rl_failed';
  const c = rl.confidence;
  if (c >= config.fullRl.minConfidence && ic >= config.fullRl.minIc) return 'rl_confident';
  if (c >= config.blended.minConfidence && ic >= config.blended.minIc) return 'rl_medium';
  return c >= config.blended.minConfidence ? 'low_ic' : 'low_confidence';
}

/** Returns the human-readable reason of a tier choice, naming the values and the thresholds. */
export function describeTier(code: TierReason, inputs: TierInputs, config: CascadeConfig, rlName = 'RL sizer'): string {
  const c = fmt(inputs.confidence), ic = fmt(inputs.ic);
  const icText = (min: number, pass: boolean) => (Number.isNaN(inputs.ic) ? 'IC unavailable (NaN: too few pairs or constant ranks)' : `IC ${ic} ${pass ? '>=' : '<'} ${min}`);
  const failing = (minConfidence: number, minIc: number) =>
    [inputs.confidence < minConfidence ? `RL confidence ${c} < ${minConfidence}` : '', !(inputs.ic >= minIc) ? icText(minIc, false) : ''].filter((s) => s !== '').join(', ');
  switch (code) {
    case 'breaker_open':
      return 'circuit breaker open: flat';
    case 'breaker_half_open':
      return 'circuit breaker half-open: flat until the probe passes (cascade.halfOpenProbeScale 0: no probe position)';
    case 'breaker_probe':
      return `circuit breaker half-open: probe at ${config.halfOpenProbeScale} × the Kelly fraction`;
    case 'no_rl_sizer':
      return 'no RL sizer configured: Kelly only';
    case 'rl_failed':
      return `${rlName} failed (threw, or proposed a non-finite fraction or a confidence outside [0, 1]): Kelly only`;
    case 'rl_confident':
      return `RL confidence ${c} >= ${config.fullRl.minConfidence} and ${icText(config.fullRl.minIc, true)}`;
    case 'rl_medium':
      return `RL confidence ${c} >= ${config.blended.minConfidence} and ${icText(config.blended.minIc, true)}; below FULL_RL: ${failing(config.fullRl.minConfidence, config.fullRl.minIc)}; ${config.blended.rlWeight} × RL + ${1 - config.blended.rlWeight} × Kelly`;
    case 'low_confidence':
    case 'low_ic':
      return `below BLENDED: ${failing(config.blended.minConfidence, config.blended.minIc)}`;
  }
}

/** Tier changes a {@link SizingCascade} keeps in {@link SizingCascade.changes} (older ones only reach the listener). */
export const CHANGE_LOG_LIMIT = 10_000;

/** What a {@link SizingCascade} needs besides its config. */
export interface SizingCascadeDeps {
  /** Engine clock: stamps tier changes. */
  readonly clock: Clock;
  /** Called with every tier change, after it is appended to {@link SizingCascade.changes}. */
  readonly onTierChange?: (change: TierChange) => void;
  /** Name of the RL sizer for reasons (default `RL sizer`). */
  readonly rlName?: string;
}

/**
 * The 4-tier sizing cascade FULL_RL → BLENDED → PURE_KELLY → EMERGENCY_FLAT, plus the optional PROBE tier of a
 * half-open breaker (rules in {@link TierReason}),
 * with the target fraction of each tier:
 *   FULL_RL: f_rl;  BLENDED: w · f_rl + (1 − w) · f_kelly (w = blended.rlWeight, default 0.5);  PURE_KELLY: f_kelly;
 *   EMERGENCY_FLAT: 0 (breaker open, or half-open without probing);  PROBE: f_kelly × halfOpenProbeScale (half-open, scale > 0).
 * Only tier CHANGES are events: each is frozen, kept in {@link changes} and passed to `onTierChange`. There is no
 * hysteresis: an input hovering at a threshold changes the tier on every crossing (each one an event).
 * @example
 * const cascade = new SizingCascade(risk.cascade, { clock, onTierChange: (c) => logger.info(c) });
 * const { tier, fraction } = cascade.decide(kelly, rlSizer ? rlSizer.propose(state) : 'not_configured', ic, breaker.check());
 */
export class SizingCascade {
  private readonly config: CascadeConfig;
  private readonly clock: Clock;
  private readonly onTierChange: ((change: TierChange) => void) | undefined;
  private readonly rlName: string;
  /** The last {@link CHANGE_LOG_LIMIT} changes, a ring: `ring[(total − 1) % limit]` is the newest. */
  private readonly ring: TierChange[] = [];
  private total = 0;
  private current: SizingTier | null = null;

  constructor(config: CascadeConfig, deps: SizingCascadeDeps) {
    this.config = config;
    this.clock = deps.clock;
    this.onTierChange = deps.onTierChange;
    this.rlName = deps.rlName ?? 'RL sizer';
  }

  /** Tier of the last decision (null before the first). */
  get tier(): SizingTier | null {
    return this.current;
  }

  /**
   * The tier changes kept, oldest first (frozen events): all of them, or the last {@link CHANGE_LOG_LIMIT} when there
   * were more (a cascade flapping at a threshold must not grow memory without bound; the listener hears every one).
   * Returns a new array.
   */
  get changes(): readonly TierChange[] {
    const n = this.ring.length;
    if (this.total <= n) return this.ring.slice();
    const start = this.total % n;
    return [...this.ring.slice(start), ...this.ring.slice(0, start)];
  }

  /** Number of tier changes since construction (>= `changes.length`). */
  get changeCount(): number {
    return this.total;
  }

  /**
   * Chooses the tier for this bar and returns its target fraction (not capped: the caller applies the leverage cap).
   * `kellyFraction` is the capped, regime-scaled Kelly fraction; `ic` the rolling IC (NaN = unavailable).
   */
  decide(kellyFraction: number, rl: RlOutcome, ic: number, breakerState: BreakerState): CascadeDecision {
    const code = selectTier(rl, ic, breakerState, this.config);
    const tier = TIER_OF[code];
    if (tier !== this.current) this.record(tier, code, rl, ic, breakerState);
    let fraction: number;
    switch (code) {
      case 'breaker_open':
      case 'breaker_half_open':
        fraction = 0;
        break;
      case 'breaker_probe':
        fraction = kellyFraction * this.config.halfOpenProbeScale;
        break;
      case 'rl_confident':
        fraction = (rl as RlProposal).fraction;
        break;
      case 'rl_medium': {
        const w = this.config.blended.rlWeight;
        fraction = w * (rl as RlProposal).fraction + (1 - w) * kellyFraction;
        break;
      }
      default:
        fraction = kellyFraction;
    }
    return { tier, code, fraction, probe: code === 'breaker_probe' };
  }

  private record(tier: SizingTier, code: TierReason, rl: RlOutcome, ic: number, breakerState: BreakerState): void {
    const inputs: TierInputs = Object.freeze({ confidence: isValidProposal(rl) ? rl.confidence : 0, ic, breakerState });
    const change: TierChange = Object.freeze({
      tsEvent: this.clock.now(),
      from: this.current,
      to: tier,
      code,
      reason: describeTier(code, inputs, this.config, this.rlName),
      inputs,
    });
    this.current = tier;
    if (this.ring.length < CHANGE_LOG_LIMIT) this.ring.push(change);
    else this.ring[this.total % CHANGE_LOG_LIMIT] = change;
    this.total++;
    this.onTierChange?.(change);
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 1e6) / 1e6) : String(x);
}
