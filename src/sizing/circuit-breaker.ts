import type { Clock } from '../core/time.js';
import type { BreakerConfig } from './risk-config.js';
import { invalidInput } from './sizing-error.js';

/** `closed`: trading; `open`: flat, waiting for the cooldown; `half-open`: probing (see {@link CircuitBreaker}). */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What opens the breaker. `losing_probe_trade` only fires in half-open; `manual` is {@link CircuitBreaker.trip}. */
export type BreakerTrigger = 'drawdown' | 'consecutive_losses' | 'stale_data' | 'model_errors' | 'exchange_errors' | 'losing_probe_trade' | 'manual';

/** Why a transition happened: a trigger (→ open), the cooldown (open → half-open) or a passed probe (half-open → closed). */
export type BreakerCause = BreakerTrigger | 'cooldown_elapsed' | 'probe_passed';

/**
 * One state change of a {@link CircuitBreaker} (frozen). `values` holds the numbers behind it, by cause:
 * - `drawdown`: `drawdown` (fraction), `limit`, `peakEquity`, `equity` (quote currency);
 * - `consecutive_losses`: `consecutiveLosses`, `limit`, `pnl` (of the last trade, quote currency);
 * - `stale_data`: `gapMs` (engine ms since the last bar or the half-open entry), `maxGapMs`, `since` (epoch ms);
 * - `model_errors` / `exchange_errors`: `errors` (= count), `spanMs` (from the oldest to the newest of them), `windowMs`;
 * - `losing_probe_trade`: `pnl`;  `manual`: none;
 * - `cooldown_elapsed`: `openedAt` (epoch ms), `cooldownMs`, `elapsedMs`;
 * - `probe_passed`: `probeBars`.
 */
export interface BreakerTransition {
  /** Engine time of the transition (epoch ms). */
  readonly tsEvent: number;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly cause: BreakerCause;
  /** Human-readable reason naming the trigger and its values. */
  readonly reason: string;
  readonly values: Readonly<Record<string, number>>;
}

/** What a {@link CircuitBreaker} needs besides its config. */
export interface CircuitBreakerDeps {
  /** Engine clock (a test clock in backtests): every time comparison uses it. */
  readonly clock: Clock;
  /** Bar length in ms; the stale-data limit is `staleData.maxGapBars × barMs`. */
  readonly barMs: number;
  /** Called with every transition, after it is appended to {@link CircuitBreaker.transitions}. */
  readonly onTransition?: (transition: BreakerTransition) => void;
}

/**
 * Trading circuit breaker: a finite-state machine closed → open → half-open → closed | open, on engine time.
 *
 * - closed → open when an enabled trigger fires:
 *   drawdown (peak − equity) / peak >= `drawdown.limit`; `consecutiveLosses.limit` losing trades in a row;
 *   stale data (more than `maxGapBars × barMs` since the last bar, seen by {@link check} or on the next bar's
 *   arrival); `count` model errors or exchange errors within `windowMs` (each counts while its age < windowMs);
 *   or {@link trip}. Entering open restarts the drawdown peak at the current equity and the loss streak at 0.
 *   The stale-data timer starts at the first bar (nothing is stale before any bar arrived).
 * - open → half-open once `cooldownMs` of engine time has passed since opening (elapsed >= cooldown, so exactly
 *   at 1 h with the default). Entering half-open restarts the drawdown peak and the stale-data timer.
 * - half-open → closed when `probe.bars` bars arrive after the half-open entry with no trigger firing: the probe
 *   succeeded. Meanwhile the sizing cascade stays flat (EMERGENCY_FLAT), or holds at most the probe position
 *   (tier PROBE, Kelly × `cascade.halfOpenProbeScale`) when that scale is > 0.
 * - half-open → open when any trigger fires, or (with `probe.failOnLosingTrade`) a trade closes at a loss: the
 *   probe failed and a new cooldown starts.
 * Triggers are not evaluated while open (errors are still recorded).
 *
 * Every method first applies the transitions due by the clock (cooldown, stale data), so the state is current.
 * Scenario: per bar call {@link onBar} (with the marked equity), then size; report closed trades and errors as
 * they happen; in live, call {@link check} from a timer so stale data is seen without bars.
 * @example
 * const breaker = new CircuitBreaker(risk.breaker, { clock, barMs: timeframeMs('1h'), onTransition: log });
 * breaker.onBar(portfolio.equity); if (breaker.check() === 'open') ...
 */
export class CircuitBreaker {
  private readonly config: BreakerConfig;
  private readonly clock: Clock;
  private readonly maxGapMs: number;
  private readonly onTransition: ((transition: BreakerTransition) => void) | undefined;
  private readonly log: BreakerTransition[] = [];
  private readonly modelErrors: ErrorBurst;
  private readonly exchangeErrors: ErrorBurst;
  private current: BreakerState = 'closed';
  private openedAt = NaN;
  private halfOpenAt = NaN;
  /** Last bar arrival or half-open entry (epoch ms); NaN before the first bar. */
  private staleFrom = NaN;
  private equity = NaN;
  private peak = NaN;
  private losses = 0;
  private probeBars = 0;

  /** @throws SizingError `invalid_input` when `barMs` is not finite and > 0. */
  constructor(config: BreakerConfig, deps: CircuitBreakerDeps) {
    if (!(deps.barMs > 0 && deps.barMs < Infinity)) invalidInput('barMs', 'be finite and > 0', deps.barMs);
    this.config = config;
    this.clock = deps.clock;
    this.maxGapMs = config.staleData.maxGapBars * deps.barMs;
    this.onTransition = deps.onTransition;
    this.modelErrors = new ErrorBurst(config.modelErrors.count);
    this.exchangeErrors = new ErrorBurst(config.exchangeErrors.count);
  }

  /** State after the last call (no clock read; {@link check} applies transitions due by time first). */
  get state(): BreakerState {
    return this.current;
  }

  /** Every transition so far, oldest first (frozen events). */
  get transitions(): readonly BreakerTransition[] {
    return this.log;
  }

  /** Equity peak the drawdown is measured from (NaN before the first equity). */
  get peakEquity(): number {
    return this.peak;
  }

  /** Losing trades in a row since the last win, breakeven or open. */
  get consecutiveLosses(): number {
    return this.losses;
  }

  /** Applies the transitions due at the clock's time (cooldown elapsed, stale data) and returns the state. */
  check(): BreakerState {
    this.advance(this.clock.now());
    return this.current;
  }

  /**
   * A bar arrived (now = the clock's time): detects a stale gap before it, restarts the stale timer, marks
   * `equity` (quote currency, optional) for the drawdown trigger, and in half-open counts the bar towards the probe.
   * @throws SizingError `invalid_input` when `equity` is given and not finite.
   */
  onBar(equity?: number): BreakerState {
    const now = this.clock.now();
    this.advance(now);
    this.staleFrom = now;
    if (equity !== undefined) this.markEquity(equity, now);
    if (this.current === 'half-open' && now > this.halfOpenAt) {
      this.probeBars++;
      if (this.probeBars >= this.config.probe.bars) {
        this.transition(now, 'closed', 'probe_passed', `probe passed: ${this.probeBars} bar(s) in half-open without a trigger`, { probeBars: this.probeBars });
      }
    }
    return this.current;
  }

  /** Marks equity between bars (quote currency) for the drawdown trigger. @throws SizingError `invalid_input` when not finite. */
  onEquity(equity: number): BreakerState {
    const now = this.clock.now();
    this.advance(now);
    this.markEquity(equity, now);
    return this.current;
  }

  /**
   * A trade (round trip) closed with realised `pnl` (quote currency, after fees): pnl < 0 extends the loss streak,
   * pnl >= 0 ends it. In half-open a loss fails the probe when `probe.failOnLosingTrade`.
   * @throws SizingError `invalid_input` when `pnl` is not finite.
   */
  onTradeClosed(pnl: number): BreakerState {
    if (!Number.isFinite(pnl)) invalidInput('pnl', 'be finite', pnl);
    const now = this.clock.now();
    this.advance(now);
    if (this.current === 'open') return this.current;
    if (this.current === 'half-open' && pnl < 0 && this.config.probe.failOnLosingTrade) {
      this.fire(now, 'losing_probe_trade', `a trade closed at a loss of ${pnl} during the probe`, { pnl });
      return this.current;
    }
    this.losses = pnl < 0 ? this.losses + 1 : 0;
    const trigger = this.config.consecutiveLosses;
    if (trigger.enabled && this.losses >= trigger.limit) {
      this.fire(now, 'consecutive_losses', `${this.losses} losing trades in a row reached the limit ${trigger.limit} (last pnl ${pnl})`, { consecutiveLosses: this.losses, limit: trigger.limit, pnl });
    }
    return this.current;
  }

  /** A model / inference error happened now (failed or invalid prediction, RL sizer failure). */
  onModelError(): BreakerState {
    return this.recordError(this.modelErrors, this.config.modelErrors, 'model_errors', 'model errors');
  }

  /** An exchange error happened now (order reject, timeout, disconnect). */
  onExchangeError(): BreakerState {
    return this.recordError(this.exchangeErrors, this.config.exchangeErrors, 'exchange_errors', 'exchange errors');
  }

  /**
   * An external input the signal depends on went stale (its newest value at `lastValueTs` is past the maximum age):
   * the stale-data trigger fires (when enabled), like a gap in the bars.
   */
  onStaleInput(input: string, lastValueTs: number): BreakerState {
    this.check();
    if (this.config.staleData.enabled) this.fire(this.clock.now(), 'stale_data', `input ${input} is stale: its newest value is from ${new Date(lastValueTs).toISOString()}`, { lastValueTs });
    return this.current;
  }

  /** Opens the breaker by hand (kill switch); `reason` goes into the transition. No effect while open. */
  trip(reason: string): BreakerState {
    const now = this.clock.now();
    this.advance(now);
    this.fire(now, 'manual', `manual trip: ${reason}`, {});
    return this.current;
  }

  private recordError(burst: ErrorBurst, trigger: BreakerConfig['modelErrors'], cause: 'model_errors' | 'exchange_errors', what: string): BreakerState {
    const now = this.clock.now();
    this.advance(now);
    const span = burst.record(now);
    if (this.current !== 'open' && trigger.enabled && span < trigger.windowMs) {
      this.fire(now, cause, `${trigger.count} ${what} within ${span} ms (window ${trigger.windowMs} ms)`, { errors: trigger.count, spanMs: span, windowMs: trigger.windowMs });
    }
    return this.current;
  }

  private advance(now: number): void {
    if (this.current === 'open') {
      const elapsed = now - this.openedAt;
      if (!(elapsed >= this.config.cooldownMs)) return;
      this.halfOpenAt = now;
      this.probeBars = 0;
      this.peak = this.equity;
      this.staleFrom = Number.isNaN(this.staleFrom) ? NaN : now;
      this.transition(now, 'half-open', 'cooldown_elapsed', `cooldown of ${this.config.cooldownMs} ms elapsed (${elapsed} ms since open): probing`, { openedAt: this.openedAt, cooldownMs: this.config.cooldownMs, elapsedMs: elapsed });
    }
    const gap = now - this.staleFrom;
    if (this.config.staleData.enabled && gap > this.maxGapMs) {
      this.fire(now, 'stale_data', `no bar for ${gap} ms of engine time (limit ${this.maxGapMs} ms)`, { gapMs: gap, maxGapMs: this.maxGapMs, since: this.staleFrom });
    }
  }

  private markEquity(equity: number, now: number): void {
    if (!Number.isFinite(equity)) invalidInput('equity', 'be finite', equity);
    this.equity = equity;
    if (!(this.peak >= equity)) this.peak = equity;
    const trigger = this.config.drawdown;
    if (this.current === 'open' || !trigger.enabled || !(this.peak > 0)) return;
    const drawdown = (this.peak - equity) / this.peak;
    if (drawdown >= trigger.limit) {
      this.fire(now, 'drawdown', `drawdown ${pct(drawdown)} from peak equity ${this.peak} (equity ${equity}) reached the limit ${pct(trigger.limit)}`, { drawdown, limit: trigger.limit, peakEquity: this.peak, equity });
    }
  }

  /** Opens the breaker (from closed or half-open) because of `cause`. */
  private fire(now: number, cause: BreakerTrigger, reason: string, values: Record<string, number>): void {
    if (this.current === 'open') return;
    const text = this.current === 'half-open' ? `probe failed: ${reason}` : reason;
    this.openedAt = now;
    this.losses = 0;
    this.probeBars = 0;
    this.peak = this.equity;
    this.transition(now, 'open', cause, text, values);
  }

  private transition(now: number, to: BreakerState, cause: BreakerCause, reason: string, values: Record<string, number>): void {
    const event: BreakerTransition = Object.freeze({ tsEvent: now, from: this.current, to, cause, reason, values: Object.freeze({ ...values }) });
    this.current = to;
    this.log.push(event);
    this.onTransition?.(event);
  }
}

/** Timestamps of the last `count` errors (ring); {@link record} returns the span they cover. */
class ErrorBurst {
  private readonly times: Float64Array;
  private total = 0;
  private next = 0;

  constructor(count: number) {
    this.times = new Float64Array(count);
  }

  /** Records an error at `now`; returns now − (time of the count-th most recent error), or Infinity with fewer errors. */
  record(now: number): number {
    const n = this.times.length;
    this.times[this.next] = now;
    this.next = this.next + 1 === n ? 0 : this.next + 1;
    this.total++;
    // once full, `next` points at the oldest of the last n
    return this.total >= n ? now - this.times[this.next]! : Infinity;
  }
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}
