import { z } from 'zod';
import { invariant } from '../../core/app-error.js';
import { deepFreeze, describeConfigIssue } from '../../core/config-issues.js';
import { BarStepper, type BacktestResult, type BacktestSpec } from '../../backtest/index.js';
import type { FittedRegime } from '../../engine/strategy.js';
import type { RlProposal, RlSizer, RlSizerState, SizingDecision } from '../../sizing/index.js';
import { regimeKellyStepwise, type RegimeKellyStepwise } from '../../strategies/index.js';
import { invalidRlInput, RlError } from '../rl-error.js';
import type { Environment, EnvironmentStep } from '../sac-trainer.js';
import { SIZING_OBSERVATION_NAMES, SizingObservation } from '../sizing-observation.js';

/**
 * Reward of one decision, always after costs: with E_t the account equity at the decision's close (fees, slippage,
 * funding and marks of the engine's simulated venue included) and DD_t = 1 − E_t / max_{s<=t} E_s,
 *
 *   r_t = scale · (ln(E_{t+1} / E_t) − drawdownPenalty · max(0, DD_{t+1} − DD_t))
 *
 * (log return minus a penalty on each new drawdown increment; scale 100 puts a 1 % bar near reward 1, the order of
 * the entropy term at the learned temperature).
 */
export const SizingEnvironmentConfig = z
  .object({
    reward: z
      .object({
        scale: z.number().gt(0).max(1e6).default(100),
        drawdownPenalty: z.number().min(0).max(1000).default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type SizingEnvironmentConfig = z.output<typeof SizingEnvironmentConfig>;

/** What a {@link SizingEnvironment} runs over. */
export interface SizingEnvironmentOptions {
  /** The backtest spec (one instrument; its frame, `columns`, fees, slippage, funding and `warmupBars` are the engine's). */
  readonly spec: BacktestSpec;
  /** Episode specs (same instrument), cycled in order by {@link SizingEnvironment.reset}; absent = `spec` every episode. */
  readonly episodes?: readonly BacktestSpec[];
  /** regime-kelly params (signal column, units, scale, `risk`); the cascade thresholds are replaced (see the class doc). */
  readonly strategyParams?: Readonly<Record<string, unknown>>;
  /** The instrument's fitted regime (as an experiment's `regime` section fits it). */
  readonly regime: FittedRegime;
  readonly config?: unknown;
}

/** RlSizer of the environment: proposes the pending share of Kelly and remembers the state it was handed. */
class PendingActionSizer implements RlSizer {
  readonly name = 'sac-environment';
  share = 1;
  lastState: RlSizerState | undefined;
  propose(state: RlSizerState): RlProposal {
    this.lastState = state;
    return { fraction: this.share * state.kellyFraction, confidence: 1 };
  }
}

/**
 * The SAC sizer's training environment over the real engine: a {@link BarStepper} runs the backtest (the spec's
 * simulated execution client, fees, slippage, funding and warm-up) with the regime-kelly strategy whose decisions are
 * deferred ({@link regimeKellyStepwise}); one decision per bar close of the instrument.
 *
 * - Observation: {@link SIZING_OBSERVATION_NAMES}, built by {@link SizingObservation} from the state the position
 *   sizer hands an RL sizer (`PositionSizer.rlState`), i.e. what `SacRlSizer` sees when deployed.
 * - Action: u ∈ [−1, 1] → share a = (u + 1) / 2 of the Kelly size; the sizer's RL proposal is a · f_kelly (the signal's
 *   sign through Kelly), exactly `SacRlSizer`'s mapping. The cascade's FULL_RL thresholds are set to confidence ≥ 0
 *   and IC ≥ −1 so that the agent's action is what trades whenever the breaker is closed and the IC is defined; the
 *   breaker (EMERGENCY_FLAT, the optional PROBE tier) and PURE_KELLY while the IC is NaN still apply, as deployed;
 *   {@link lastDecision} shows the tier. The deployed cascade gates the learned sizer with its own thresholds.
 * - Reward: see {@link SizingEnvironmentConfig} (log equity return minus a drawdown-increment penalty, after costs).
 * - Episode: one pass over the spec's bars (or the next of `episodes`, cycled; see `trainCurriculum`); warm-up bars
 *   decide at share 1 (orders held back, as in a backtest); the episode ends (`done`, no bootstrap) after the last
 *   decision. {@link result} is the episode's backtest result.
 *
 * Path state (entry, bars held, peak equity) advances on every decision bar here and in deployment (`SacRlSizer`
 * implements `RlSizer.observe`, which the position sizer calls even while the breaker keeps RL out).
 * @throws RlError `invalid_input` for a spec with other than one instrument; `invalid_config` for a bad config.
 * @example
 * const env = new SizingEnvironment({ spec, regime, strategyParams: { column: 'signal', risk: { horizonBars: 6 } } });
 * trainSac(env, agent, { steps: 20_000 });
 */
export class SizingEnvironment implements Environment {
  readonly observationSize = SIZING_OBSERVATION_NAMES.length;
  readonly actionSize = 1;
  readonly config: SizingEnvironmentConfig;
  private readonly options: SizingEnvironmentOptions;
  private readonly params: Readonly<Record<string, unknown>>;
  private stepper: BarStepper | undefined;
  private strategy: RegimeKellyStepwise | undefined;
  private sizer = new PendingActionSizer();
  private observation = new SizingObservation();
  private readonly current: Float32Array;
  private state: RlSizerState | undefined;
  private peak = 0;
  private decision: SizingDecision | undefined;
  private decisions = 0;
  private episodeCount = 0;

  constructor(options: SizingEnvironmentOptions) {
    for (const spec of [options.spec, ...(options.episodes ?? [])]) {
      if (spec.instruments.length !== 1) invalidRlInput('spec.instruments.length', 'be 1 (one decision per bar of one instrument)', spec.instruments.length);
    }
    if (options.episodes?.length === 0) invalidRlInput('episodes.length', 'be >= 1 when given', 0);
    const parsed = SizingEnvironmentConfig.safeParse(options.config ?? {});
    if (!parsed.success) {
      const issue = describeConfigIssue(parsed.error.issues[0]!, options.config);
      throw new RlError('invalid_config', `sizing environment config ${issue.path}: ${issue.problem}`, { path: issue.path, problem: issue.problem });
    }
    this.config = deepFreeze(parsed.data);
    this.options = options;
    const params = options.strategyParams ?? {};
    const risk = (params['risk'] ?? {}) as Record<string, unknown>;
    const always = { minConfidence: 0, minIc: -1 };
    this.params = { ...params, risk: { ...risk, cascade: { ...((risk['cascade'] as object | undefined) ?? {}), fullRl: always, blended: { ...always, rlWeight: 0.5 } } } };
    this.current = new Float32Array(this.observationSize);
  }

  /** The sizing decision of the last {@link step} (tier, fractions, quantity). */
  get lastDecision(): SizingDecision | undefined {
    return this.decision;
  }

  /** Decisions taken in this episode. */
  get decisionCount(): number {
    return this.decisions;
  }

  /**
   * Starts an episode: a fresh engine over the spec, run through warm-up to the first decision bar.
   * @throws RlError `invalid_input` when the spec has no bar to decide on.
   */
  reset(): Float32Array {
    this.sizer = new PendingActionSizer();
    this.observation = new SizingObservation();
    this.strategy = regimeKellyStepwise(this.params, { regimes: [this.options.regime], rlSizers: [this.sizer] });
    const episodes = this.options.episodes;
    const spec = episodes === undefined ? this.options.spec : episodes[this.episodeCount % episodes.length]!;
    this.episodeCount++;
    this.stepper = new BarStepper(spec, this.strategy.strategy);
    this.decision = undefined;
    this.decisions = 0;
    if (!this.advance()) invalidRlInput('spec.frame', 'hold at least one bar after warm-up to decide on', spec.frame.ts.length);
    this.peak = this.stepper.equity;
    return Float32Array.from(this.current);
  }

  /**
   * Applies `action` at the pending close (the order fills at the next open at the venue), runs the engine to the next
   * decision and returns its observation and the reward.
   * @throws RlError `invalid_input` before {@link reset} or after the episode ended, or for a non-finite action.
   */
  step(action: Float32Array): EnvironmentStep {
    const { stepper, strategy, state } = this;
    if (stepper === undefined || strategy === undefined || state === undefined) invalidRlInput('environment', 'be reset before step (and not finished)', 'not started');
    const u = action[0]!;
    if (!Number.isFinite(u)) invalidRlInput('action[0]', 'be finite', u);
    this.sizer.share = ((u > 1 ? 1 : u < -1 ? -1 : u) + 1) / 2;
    this.sizer.lastState = undefined;
    const before = stepper.equity;
    const drawdownBefore = 1 - before / this.peak;
    this.decision = strategy.decide(0);
    const seen = this.sizer.lastState as RlSizerState | undefined;
    invariant(seen === undefined || (Object.is(seen.kellyFraction, state.kellyFraction) && seen.equity === state.equity), 'the RL sizer must be handed the state the observation was built from', { observed: state.kellyFraction, decided: seen?.kellyFraction });
    this.decisions++;
    stepper.commit();
    this.state = undefined;
    const more = this.advance();
    const after = stepper.equity;
    if (after > this.peak) this.peak = after;
    const drawdownAfter = 1 - after / this.peak;
    const { scale, drawdownPenalty } = this.config.reward;
    const reward = scale * (Math.log(after / before) - drawdownPenalty * Math.max(0, drawdownAfter - drawdownBefore));
    return { observation: Float32Array.from(this.current), reward, done: !more, truncated: false };
  }

  /** Finishes the engine run of the episode (committing what is pending) and returns its backtest result. */
  result(): BacktestResult {
    if (this.stepper === undefined) invalidRlInput('environment', 'be reset before result', 'not started');
    const stepper = this.stepper;
    this.stepper = undefined;
    this.state = undefined;
    return stepper.finish();
  }

  /** Runs bars until one awaits a decision after warm-up (observation written); false when the bars ran out. */
  private advance(): boolean {
    const stepper = this.stepper!, strategy = this.strategy!;
    while (stepper.next()) {
      const pending = strategy.pending(0);
      if (pending === undefined) {
        stepper.commit();
        continue;
      }
      if (stepper.warmingUp) {
        this.sizer.share = 1;
        strategy.decide(0);
        stepper.commit();
        continue;
      }
      this.state = pending.sizer.rlState(pending.input);
      this.observation.update(this.state, this.current);
      return true;
    }
    return false;
  }
}
