import { DAY_MS } from '../../core/time.js';
import type { OrderManager } from '../order-manager.js';
import type { Portfolio } from '../portfolio.js';
import { checkRiskLimits, RISK_RULES, RiskError, type RiskLimits, type RiskRule } from './risk-limits.js';
import { TRADING_STATES, type FlattenEvent, type TradingState, type TradingStateChange, type TradingStateTrigger } from './trading-state.js';

const ACTIVE = 0, REDUCING = 1, HALTED = 2;
const R_STATE = 0, R_NO_PRICE = 1, R_ORDER_NOTIONAL = 2, R_INSTRUMENT_NOTIONAL = 3, R_LEVERAGE = 4, R_ORDER_RATE = 5, R_INSTRUMENT_HALTED = 6;
/** Slots of the number scratch (doubles live in a typed array: object fields holding doubles would box them). */
/** Limits compare with a relative float tolerance (as the simulated venue's margin check): 3.2 × 100 is 320.00000000000006. */
const TOLERANCE = 1 + 1e-9;
const LIMIT = 0, VALUE = 1, EXTRA = 2, DAY = 3, DAY_START = 4, PEAK = 5, LAST_OBSERVED = 6;

/** The saved state of a {@link PreTradeRisk} (plain JSON; see `KernelState.risk`). */
export interface RiskState {
  readonly state: TradingState;
  readonly trigger: TradingStateTrigger | null;
  /** True once the drawdown rule flattened (it does not fire again until the operator sets ACTIVE). */
  readonly drawdownTripped: boolean;
  /** UTC day number (engine ms / day) of the current day, and the equity at its first bar close; null before the first bar. */
  readonly day: number | null;
  readonly dayStartEquity: number | null;
  readonly peakEquity: number | null;
  readonly lastObserved: number | null;
  /** Engine times of the orders that passed, oldest first (at most `throttle.maxOrders`). */
  readonly throttle: readonly number[];
  /** Instruments halted on their own (see {@link PreTradeRisk.haltInstrument}); absent in states saved before them. */
  readonly haltedInstruments?: readonly number[];
  readonly denials: Readonly<Partial<Record<RiskRule, number>>>;
  readonly changes: readonly TradingStateChange[];
  readonly flattens: readonly FlattenEvent[];
}

/**
 * The pre-trade risk engine: every order a strategy submits is checked here before it reaches the execution client
 * (NautilusTrader's `RiskEngine`), and the account is watched at bar closes. Rules, in the order they are checked:
 * 1. trading state: HALTED denies every order; REDUCING denies orders that do not reduce a position; an instrument
 *    halted on its own (`instrument_halted`, e.g. after a lost order) denies every order of that instrument;
 * 2. `no_price`: a market order of an instrument never marked cannot be valued (only when a notional rule is set);
 * 3. `max_order_notional`; then, for orders that add exposure (|position after| > |position|, never reduce-only):
 *    4. `max_instrument_notional` (gross position + working orders + the order), 5. `max_leverage`;
 * 6. `order_rate`: at most N orders per rolling window of engine time (only orders that passed count).
 * At bar closes ({@link observe}): a new UTC day re-bases the daily loss (and ends a daily-loss REDUCING state); the
 * peak equity rises; a drawdown beyond `maxDrawdown` asks the kernel to flatten and moves to `drawdownState`; a daily
 * loss beyond `maxDailyLoss` moves ACTIVE to REDUCING.
 *
 * Engine time only: the same bars and orders give the same decisions in backtests and live. The pass path
 * allocates nothing; a denial's reason string is built only when asked for ({@link denialReason}).
 */
export class PreTradeRisk {
  /** True when {@link check} must run for new orders (an order rule is set, or the state is not ACTIVE). */
  engaged: boolean;
  /** True when bar closes must be {@link observe}d (a daily loss or drawdown rule is set). */
  readonly watchesEquity: boolean;
  /** Every change of the trading state, in order. */
  readonly changes: TradingStateChange[] = [];
  /** Every flatten, in order. */
  readonly flattens: FlattenEvent[] = [];
  /** Called on every state change (the kernel forwards it to the strategy and its listener). */
  onChange: ((change: TradingStateChange) => void) | undefined;
  private state = ACTIVE;
  private trigger: TradingStateTrigger | null = null;
  private drawdownTripped = false;
  private readonly orderRules: boolean;
  private readonly maxOrderNotional: number;
  private readonly maxInstrumentNotional: number;
  private readonly maxLeverage: number;
  private readonly maxDailyLoss: number;
  private readonly maxDrawdown: number;
  private readonly drawdownState: number;
  private readonly throttleMax: number;
  private readonly throttleWindow: number;
  /** Times of the last `throttleMax` orders that passed (ring; -Infinity = empty). */
  private readonly ring: Float64Array;
  private head = 0;
  private readonly num = new Float64Array(8).fill(NaN);
  private readonly denialCounts = new Int32Array(RISK_RULES.length);
  private lastRule = -1;
  private lastInstrument = 0;
  private lastSide = 0;
  /** 1 where an instrument is halted on its own. */
  private readonly halted: Uint8Array;
  private haltedCount = 0;

  /** @throws RiskError `invalid_risk_limits` naming the field and the value. */
  constructor(
    readonly limits: RiskLimits,
    private readonly portfolio: Portfolio,
    private readonly orders: OrderManager,
  ) {
    checkRiskLimits(limits);
    this.maxOrderNotional = limits.maxOrderNotional ?? Infinity;
    this.maxInstrumentNotional = limits.maxInstrumentNotional ?? Infinity;
    this.maxLeverage = limits.maxLeverage ?? Infinity;
    this.maxDailyLoss = limits.maxDailyLoss ?? Infinity;
    this.maxDrawdown = limits.maxDrawdown ?? Infinity;
    this.drawdownState = limits.drawdownState === 'HALTED' ? HALTED : REDUCING;
    this.throttleMax = limits.throttle?.maxOrders ?? 0;
    this.throttleWindow = limits.throttle?.windowMs ?? 0;
    this.ring = new Float64Array(this.throttleMax).fill(-Infinity);
    this.orderRules = limits.maxOrderNotional !== undefined || limits.maxInstrumentNotional !== undefined || limits.maxLeverage !== undefined || this.throttleMax > 0;
    this.halted = new Uint8Array(portfolio.quantity.length);
    this.engaged = this.orderRules;
    this.watchesEquity = this.maxDailyLoss < Infinity || this.maxDrawdown < Infinity;
  }

  /** The current trading state. */
  get tradingState(): TradingState {
    return TRADING_STATES[this.state]!;
  }

  /** Denials so far per rule (rules without any are absent). */
  denials(): Partial<Record<RiskRule, number>> {
    const out: Partial<Record<RiskRule, number>> = {};
    this.denialCounts.forEach((n, k) => {
      if (n > 0) out[RISK_RULES[k]!] = n;
    });
    return out;
  }

  /** Total denials. */
  get deniedCount(): number {
    return this.denialCounts.reduce((a, b) => a + b, 0);
  }

  /**
   * Returns true when an order of `quantity` (base units, > 0) on `side` (+1 buy, -1 sell) at limit `price` (NaN for
   * a market order) for `instrument` passes every rule at engine time `now`; a passing order counts for the throttle.
   * On false, {@link denialReason} says which rule, its limit and the value. `haltExempt`: the instrument's own halt
   * does not deny this order (the other rules still apply; see `Kernel.haltExempt`).
   */
  check(instrument: number, side: number, quantity: number, price: number, reduceOnly: boolean, now: number, haltExempt = false): boolean {
    const p = this.portfolio;
    const position = p.quantity[instrument]!;
    this.lastInstrument = instrument;
    this.lastSide = side;
    if (this.state === HALTED) return this.deny(R_STATE, 0, 0);
    if (this.haltedCount > 0 && this.halted[instrument] !== 0 && !haltExempt) return this.deny(R_INSTRUMENT_HALTED, 0, 0);
    if (this.state === REDUCING && !this.reduces(instrument, side, quantity, reduceOnly, position)) return this.deny(R_STATE, position, quantity);
    if (!this.orderRules) return true;
    // The mark, or the entry of a position taken before the instrument's first mark (0 when flat: no price, denied below).
    const mark = p.valuationPrice(instrument);
    const px = price === price ? price : mark;
    const notional = quantity * px;
    if (!(px > 0) && (this.maxOrderNotional < Infinity || this.maxInstrumentNotional < Infinity || this.maxLeverage < Infinity)) return this.deny(R_NO_PRICE, 0, 0);
    if (notional > this.maxOrderNotional * TOLERANCE) return this.deny(R_ORDER_NOTIONAL, this.maxOrderNotional, notional);
    const after = position + side * quantity;
    if (!reduceOnly && Math.abs(after) > Math.abs(position)) {
      const held = Math.abs(position) * mark;
      if (this.maxInstrumentNotional < Infinity) {
        const exposure = held + this.workingNotional(instrument, mark) + notional;
        if (exposure > this.maxInstrumentNotional * TOLERANCE) return this.deny(R_INSTRUMENT_NOTIONAL, this.maxInstrumentNotional, exposure);
      }
      if (this.maxLeverage < Infinity) {
        const equity = p.equity();
        const gross = p.grossExposure() - held + Math.abs(after) * px;
        const leverage = equity > 0 ? gross / equity : Infinity;
        if (leverage > this.maxLeverage * TOLERANCE) return this.deny(R_LEVERAGE, this.maxLeverage, leverage, equity);
      }
    }
    if (this.throttleMax > 0) {
      const ring = this.ring;
      if (ring[this.head]! > now - this.throttleWindow) {
        let inWindow = 1;
        for (let k = 0; k < ring.length; k++) if (ring[k]! > now - this.throttleWindow) inWindow++;
        return this.deny(R_ORDER_RATE, this.throttleMax, inWindow);
      }
      ring[this.head] = now;
      this.head = (this.head + 1) % ring.length;
    }
    return true;
  }

  /** Why the last {@link check} that returned false denied the order: `risk: <rule> <limit> < <value>` and details. */
  denialReason(): string {
    const n = this.num;
    const limit = n[LIMIT]!, value = n[VALUE]!;
    switch (this.lastRule) {
      case R_STATE:
        return this.state === HALTED
          ? 'risk: trading_state HALTED denies every new order (cancels only)'
          : `risk: trading_state REDUCING denies an order that does not reduce the position (position ${fmt(limit, 8)}, ${this.lastSide > 0 ? 'buy' : 'sell'} ${fmt(value, 8)})`;
      case R_NO_PRICE:
        return `risk: no_price instrument ${this.lastInstrument} has no mark to value a market order`;
      case R_ORDER_NOTIONAL:
        return `risk: max_order_notional ${fmt(limit, 2)} < ${fmt(value, 2)}`;
      case R_INSTRUMENT_NOTIONAL:
        return `risk: max_instrument_notional ${fmt(limit, 2)} < ${fmt(value, 2)} (position, working orders and this order of instrument ${this.lastInstrument})`;
      case R_LEVERAGE:
        return `risk: max_leverage ${fmt(limit, 6)} < ${fmt(value, 6)} (gross exposure after the order over equity ${fmt(n[EXTRA]!, 2)})`;
      case R_INSTRUMENT_HALTED:
        return `risk: instrument_halted instrument ${this.lastInstrument} is halted (cancels only)`;
      case R_ORDER_RATE:
        return `risk: order_rate ${limit} < ${value} orders in ${this.throttleWindow} ms`;
      default:
        return 'risk: no order was denied';
    }
  }

  /**
   * A bar closed at engine time `now` (every mark is at its close): the UTC day, the peak, the daily loss and the
   * drawdown are checked once per `now`. Returns true when the drawdown rule fired and the kernel must flatten.
   */
  observe(now: number): boolean {
    const n = this.num;
    if (n[LAST_OBSERVED] === now) return false;
    n[LAST_OBSERVED] = now;
    const equity = this.portfolio.equity();
    const day = Math.floor(now / DAY_MS);
    if (n[DAY] !== day) {
      n[DAY] = day;
      n[DAY_START] = equity;
      if (this.state === REDUCING && this.trigger === 'max_daily_loss') this.change(ACTIVE, now, 'utc_day_reset', `a new UTC day began (${new Date(day * DAY_MS).toISOString().slice(0, 10)}): the daily loss starts again from equity ${fmt(equity, 2)}`);
    }
    if (!(n[PEAK]! >= equity)) n[PEAK] = equity;
    const peak = n[PEAK]!;
    const drawdown = peak > 0 ? (peak - equity) / peak : equity < peak ? Infinity : 0;
    if (drawdown > this.maxDrawdown && !this.drawdownTripped) {
      this.drawdownTripped = true;
      const reason = `max_drawdown ${fmt(this.maxDrawdown, 6)} < ${fmt(drawdown, 6)}: equity ${fmt(equity, 2)} is below the peak ${fmt(peak, 2)}; every position is flattened`;
      // Already there (a daily-loss REDUCING, or HALTED by hand): the state stays; only a new UTC day no longer ends it.
      if (this.state === ACTIVE || (this.state === REDUCING && this.drawdownState === HALTED)) this.change(this.drawdownState, now, 'max_drawdown', reason);
      else if (this.trigger !== 'manual') this.trigger = 'max_drawdown';
      n[EXTRA] = drawdown;
      return true;
    }
    const start = n[DAY_START]!;
    if (this.state === ACTIVE && this.maxDailyLoss < Infinity) {
      const loss = start > 0 ? (start - equity) / start : Infinity;
      if (loss > this.maxDailyLoss) this.change(REDUCING, now, 'max_daily_loss', `max_daily_loss ${fmt(this.maxDailyLoss, 6)} < ${fmt(loss, 6)}: equity ${fmt(equity, 2)} against ${fmt(start, 2)} at the UTC day's first bar`);
    }
    return false;
  }

  /** What the last drawdown flatten was for (after {@link observe} returned true). */
  flattenReason(): string {
    return `risk: max_drawdown ${fmt(this.maxDrawdown, 6)} < ${fmt(this.num[EXTRA]!, 6)}`;
  }

  /**
   * Sets the state by hand (the operator, a kill switch, the live runner) at `now`. ACTIVE also re-bases the
   * drawdown peak and the day's start to the current equity and re-arms the drawdown rule (the operator accepted the
   * loss so far). Setting the state it already has records nothing.
   */
  setState(state: TradingState, now: number, reason: string): void {
    const code = TRADING_STATES.indexOf(state);
    if (code < 0) throw new RiskError('invalid_risk_state', `trading state must be one of ${TRADING_STATES.join(', ')}, was ${JSON.stringify(state)}`, { state });
    if (code === ACTIVE) {
      const equity = this.portfolio.equity();
      this.num[PEAK] = equity;
      this.num[DAY_START] = equity;
      this.drawdownTripped = false;
    }
    if (code !== this.state) this.change(code, now, 'manual', reason);
  }

  /**
   * Halts (or releases) one instrument at `now`, whatever the account's state: while halted, every new order of it is
   * denied (`instrument_halted`), cancels pass. Recorded as a change with `instrument` set; a no-op records nothing.
   */
  haltInstrument(instrument: number, halted: boolean, now: number, reason: string): void {
    if (!(instrument >= 0 && instrument < this.halted.length && Number.isInteger(instrument))) {
      throw new RiskError('invalid_risk_state', `instrument must be an index in [0, ${this.halted.length}), was ${instrument}`, { instrument });
    }
    if ((this.halted[instrument] !== 0) === halted) return;
    this.halted[instrument] = halted ? 1 : 0;
    this.haltedCount += halted ? 1 : -1;
    this.engaged = this.orderRules || this.state !== ACTIVE || this.haltedCount > 0;
    const change: TradingStateChange = { ts: now, from: halted ? 'ACTIVE' : 'HALTED', to: halted ? 'HALTED' : 'ACTIVE', trigger: 'manual', reason, instrument };
    this.changes.push(change);
    this.onChange?.(change);
  }

  /** True when `instrument` is halted on its own (see {@link haltInstrument}). */
  isInstrumentHalted(instrument: number): boolean {
    return this.halted[instrument] === 1;
  }

  /** Records a flatten the kernel carried out. */
  recordFlatten(event: FlattenEvent): void {
    this.flattens.push(event);
  }

  save(): RiskState {
    const n = this.num;
    const orNull = (x: number) => (Number.isFinite(x) ? x : null);
    const throttle: number[] = [];
    for (let k = 0; k < this.ring.length; k++) {
      const t = this.ring[(this.head + k) % this.ring.length]!;
      if (t > -Infinity) throttle.push(t);
    }
    return {
      state: this.tradingState, trigger: this.trigger, drawdownTripped: this.drawdownTripped,
      day: orNull(n[DAY]!), dayStartEquity: orNull(n[DAY_START]!), peakEquity: orNull(n[PEAK]!), lastObserved: orNull(n[LAST_OBSERVED]!),
      throttle, haltedInstruments: Array.from(this.halted.keys()).filter((i) => this.halted[i] !== 0), denials: this.denials(), changes: [...this.changes], flattens: [...this.flattens],
    };
  }

  /**
   * Loads a state saved by {@link save} (the limits are this engine's own: a smaller throttle keeps the newest times).
   * @throws RiskError `invalid_risk_state` when the state names an unknown trading state.
   */
  restore(s: RiskState): void {
    const code = TRADING_STATES.indexOf(s.state);
    if (code < 0) throw new RiskError('invalid_risk_state', `saved risk state must be one of ${TRADING_STATES.join(', ')}, was ${JSON.stringify(s.state)}`, { state: s.state });
    this.state = code;
    this.halted.fill(0);
    for (const i of s.haltedInstruments ?? []) if (i >= 0 && i < this.halted.length) this.halted[i] = 1;
    this.haltedCount = this.halted.reduce((a, b) => a + b, 0);
    this.engaged = this.orderRules || code !== ACTIVE || this.haltedCount > 0;
    this.trigger = s.trigger;
    this.drawdownTripped = s.drawdownTripped;
    const n = this.num;
    n[DAY] = s.day ?? NaN;
    n[DAY_START] = s.dayStartEquity ?? NaN;
    n[PEAK] = s.peakEquity ?? NaN;
    n[LAST_OBSERVED] = s.lastObserved ?? NaN;
    this.ring.fill(-Infinity);
    this.head = 0;
    const times = s.throttle.slice(-this.ring.length);
    for (const t of times) {
      this.ring[this.head] = t;
      this.head = (this.head + 1) % this.ring.length;
    }
    this.denialCounts.fill(0);
    for (const [rule, count] of Object.entries(s.denials)) {
      const k = RISK_RULES.indexOf(rule as RiskRule);
      if (k >= 0) this.denialCounts[k] = count ?? 0;
    }
    this.changes.length = 0;
    this.changes.push(...s.changes);
    this.flattens.length = 0;
    this.flattens.push(...s.flattens);
  }

  /**
   * True when the order reduces the position: the opposite side, and no more than the position together with the
   * working orders on its side (a reduce-only order counts for at most the position, as the venue caps it).
   */
  private reduces(instrument: number, side: number, quantity: number, reduceOnly: boolean, position: number): boolean {
    if (!(position * side < 0)) return false;
    const size = Math.abs(position);
    const q = reduceOnly && quantity > size ? size : quantity;
    return q + this.workingQuantity(instrument, side) <= size * (1 + 1e-9);
  }

  /** Leaves of the open orders of `instrument` on `side`. */
  private workingQuantity(instrument: number, side: number): number {
    const o = this.orders;
    let q = 0;
    for (let k = 0; k < o.openCount(instrument); k++) {
      const s = o.openSlot(instrument, k);
      if (o.sideOf(s) === side) q += o.leaves(s);
    }
    return q;
  }

  /** Σ leaves × price of the open orders of `instrument` (market orders at `mark`). */
  private workingNotional(instrument: number, mark: number): number {
    const o = this.orders;
    let v = 0;
    for (let k = 0; k < o.openCount(instrument); k++) {
      const s = o.openSlot(instrument, k);
      const price = o.priceOf(s);
      v += o.leaves(s) * (price === price ? price : mark);
    }
    return v;
  }

  private deny(rule: number, limit: number, value: number, extra = NaN): false {
    this.lastRule = rule;
    this.num[LIMIT] = limit;
    this.num[VALUE] = value;
    this.num[EXTRA] = extra;
    this.denialCounts[rule]!++;
    return false;
  }

  private change(to: number, now: number, trigger: TradingStateTrigger, reason: string): void {
    const change: TradingStateChange = { ts: now, from: TRADING_STATES[this.state]!, to: TRADING_STATES[to]!, trigger, reason };
    this.state = to;
    this.trigger = to === ACTIVE ? null : trigger;
    this.engaged = this.orderRules || to !== ACTIVE || this.haltedCount > 0;
    this.changes.push(change);
    this.onChange?.(change);
  }
}

/** `x` with at most `digits` decimals, trailing zeros dropped (61234.5, 0.0531). */
function fmt(x: number, digits: number): string {
  return Number.isFinite(x) ? String(Number(x.toFixed(digits))) : String(x);
}
