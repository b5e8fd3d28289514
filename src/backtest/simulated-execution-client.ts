import type { OhlcvColumns } from '../core/bar.js';
import type { Instrument } from '../core/instrument.js';
import type { Fill, Liquidity, MutableOrderCommand, OrderAccepted, OrderCommand, OrderSide } from '../core/order.js';
import { blankCommand, copyCommand, QUANTITY_EPSILON } from '../core/order.js';
import { packedArray } from '../core/typed-arrays.js';
import type { Clock } from '../engine/clock.js';
import type { ExecutionClient, ExecutionEvents } from '../engine/execution-client.js';
import type { Portfolio } from '../engine/portfolio.js';
import { UNLIMITED_FILLS, ZERO_LATENCY, type FeeModel, type FillModel, type LatencyModel, type SlippageModel } from './execution-models.js';
import { InboundCommands } from './inbound-commands.js';

/** An order working at the simulated venue. */
interface WorkingOrder {
  /** The venue's copy of the command (a record reused with this one: see {@link SimulatedExecutionClient.submit}). */
  readonly order: MutableOrderCommand;
  /** Base quantity still to fill. */
  leaves: number;
  /** Base quantity filled so far. */
  filled: number;
  /** A limit order marketable when it arrived: takes liquidity at the next price if still marketable then. */
  takerOnArrival: boolean;
  /** IOC/FOK: true until its first matching opportunity has passed. */
  firstChance: boolean;
}

export interface SimulatedExecutionConfig {
  readonly instruments: readonly Instrument[];
  /** Max gross exposure / equity after a fill that adds exposure (spot instruments are always 1). */
  readonly leverage: number;
  /**
   * `every-bar` runs every bar's price path and the exact liquidation check at every price, with no cached range
   * triggers or liquidation bounds: the reference the default `skip-idle` (paths skipped when nothing on them can act)
   * must agree with fill for fill. Slower; for tests and for checking a surprising result.
   */
  readonly pathChecks?: 'skip-idle' | 'every-bar';
  /**
   * Give each fill a venue execution id, `<clientOrderId>:<quantity filled before it>`, as a live venue does: a fill
   * simulated again after a restart from a saved state (the paper runner's crash recovery) carries the same id, so
   * the journal and `tm replay` count it once. Off by default: backtests do not need a string per fill.
   */
  readonly executionIds?: boolean;
  /**
   * The price, fee per unit and quantity each listed order fills at, by client order id, instead of those of the fill
   * and fee models (whenever the venue fills it): `tm replay` of a venue run fills its orders as the run's venue did,
   * so that its account, and the decisions sized from it, follow the run's. Unlisted orders, and liquidations, fill
   * as the models say.
   */
  readonly fillPrices?: ReadonlyMap<string, FillPrice>;
}

const REFUSED_AS_RUN = 'refused as the run’s venue refused it (fillPrices)';

/** How {@link SimulatedExecutionConfig.fillPrices} fills an order. */
export interface FillPrice {
  /** Quote per unit. */
  readonly price: number;
  /** Fee per unit filled (quote). */
  readonly feePerUnit: number;
  /**
   * At most this much of the order fills; once it has, what is left of it is canceled. 0: the order is rejected (the
   * run's venue refused it, or the run declared it lost), from `notBefore` on; Infinity: no limit.
   */
  readonly quantity: number;
  /**
   * The order fills at no price while the engine's clock is before this time (ms; −Infinity: at any): during a bar's
   * path the clock is at the bar's open, so an order the run booked a fill of at a bar's close (after that close's
   * decisions) fills from the next bar's path on.
   */
  readonly notBefore: number;
}

/** The pluggable parts of the simulated venue (defaults: zero latency, unlimited fills). */
export interface SimulatedExecutionModels {
  readonly fees: FeeModel;
  readonly slippage: SlippageModel;
  readonly latency?: LatencyModel;
  readonly fill?: FillModel;
}

/** Working orders and seen ids of a {@link SimulatedExecutionClient} as plain JSON (for a restarted backtest). */
export interface SimulatedVenueState {
  readonly working: readonly { readonly order: OrderCommand; readonly leaves: number; readonly filled: number; readonly takerOnArrival: boolean; readonly firstChance: boolean }[];
  readonly seenIds: readonly string[];
  readonly venueOrders: number;
  readonly liquidations: number;
}

/**
 * The simulated venue behind the {@link ExecutionClient} port: commands arrive after the latency model's delay (zero
 * by default) and are answered through {@link ExecutionEvents} — accepted or rejected on arrival, then filled (in parts
 * when the fill model caps the volume), canceled or expired — exactly as a venue adapter reports them live.
 *
 * Matching, per price of the instrument's stream (the 4-point path of each bar, or trade ticks):
 * - market orders fill at the price, as taker, slipped;
 * - a limit order marketable on arrival is a taker at the next price if still marketable (post-only: rejected on
 *   arrival); otherwise it rests and fills at its limit price as maker when a price touches or crosses it;
 * - IOC fills what it can at its first matching opportunity and cancels the rest; FOK fills completely then or is canceled;
 * - quantities are floored to the lot size; reduce-only fills are capped at the position (the remainder is canceled);
 * - a fill that breaks a venue rule (minimum quantity or notional, spot short, reduce-only direction, margin) rejects
 *   the order (or cancels the remainder of a partly filled one);
 * - the cross-margined account is liquidated when equity falls to the maintenance margin (working orders canceled).
 * A duplicate client order id is rejected on arrival (Bybit's retCode 110072) and the first order stands.
 */
export class SimulatedExecutionClient implements ExecutionClient {
  private readonly working: WorkingOrder[][];
  /**
   * Working-order records of orders that left the book, reused by the next arrivals ({@link retire}): a record per
   * order was about a tenth of engine-fills' allocation, and less garbage means fewer young-generation collections,
   * each of which copies (and promotes) the run's order ids alive at that moment.
   */
  private readonly spareWorking: WorkingOrder[];
  private readonly available: Float64Array;
  /** Per instrument: the price at which the exact liquidation check must run (see {@link liquidationBound}). */
  private readonly liquidationBounds: Float64Array;
  /** Portfolio version each bound was computed at (-1: never). */
  private readonly boundVersions: Float64Array;
  /** Mark epoch each bound was computed at: with several instruments, other marks move between prices (see beginLiquidity). */
  private readonly boundEpochs: Float64Array;
  private markEpoch = 0;
  /** [equity, maintenance margin, portfolio version, mark epoch] of {@link refreshAccount} (version −1: never). */
  private readonly account = new Float64Array([0, 0, -1, -1]);
  /** Per instrument: the valuation price `account` was summed with. */
  private readonly accountValuation: Float64Array;
  /** [whether the account cannot be liquidated at any prices (1/0), portfolio version it was decided at] (see {@link fundedLongOnly}). */
  private readonly funded = new Float64Array([0, -1]);
  /**
   * Per instrument, what its working orders need from a bar's range (see {@link pathCanAct}), kept in typed arrays
   * and recomputed only after the list changed (`triggersStale`): whether one acts on any price (a market order, a
   * limit on its first chance), the highest resting buy limit (−∞ when none) and the lowest resting sell limit.
   * An order arriving must mark its instrument stale (the triggers would miss it); after a removal, a fill or a lost
   * first chance stale triggers only over-approximate (a path runs for nothing), so those marks save work, not fills.
   */
  private readonly triggersStale: Uint8Array;
  private readonly actsAnywhere: Uint8Array;
  private readonly highestBuy: Float64Array;
  private readonly lowestSell: Float64Array;
  private readonly everyBar: boolean;
  private readonly executionIds: boolean;
  private readonly fillPrices: ReadonlyMap<string, FillPrice> | undefined;
  /** [price, previous price, volume, time] of the price {@link processPoint} processes next (typed cells: never boxed). */
  private readonly point = new Float64Array(4);
  /** Bar time of the current mark epoch (a typed cell: storing a time never boxes it). */
  private readonly epochTime = new Float64Array(1).fill(NaN);
  private readonly multi: boolean;
  private readonly unlimited: boolean;
  private readonly inbox = new InboundCommands<WorkingOrder>();
  /**
   * Every client order id that reached the venue, in arrival order. Duplicates are found without hashing most ids:
   * an id above the greatest seen so far (string order) is new — in a backtest nearly every id, since the engine's
   * ids of one instrument grow with the decision time. Only an id at or below it is looked up in `seenIndex`, a hash
   * set of `seenIds[0..indexed)` brought up to date on that lookup (each id is hashed once at most).
   */
  private readonly seenIds: string[] = packedArray();
  private readonly seenIndex = new Set<string>();
  private indexed = 0;
  private greatestId = '';
  private readonly latency: LatencyModel;
  private readonly fillModel: FillModel;
  private readonly zeroLatency: boolean;
  private events: ExecutionEvents | undefined;
  private venueOrders = 0;
  /** The receiver keeps no event (ExecutionEvents.keepsNoEvents): acceptances and fills are reported in the two objects below, rewritten. */
  private reuseEvents = false;
  private readonly accepted = newAccepted();
  private readonly filled = newFill();
  liquidations = 0;
  /** Prices processed (path points or ticks) since construction: lets benchmarks prove the venue did its work. */
  pricesProcessed = 0;
  /** Bars whose range was checked against working orders or an open position (see {@link barsChecked}). */
  private checked = 0;
  /**
   * The quiet band of each instrument: while `quietVersion[i]` equals the portfolio's version, a bar of `i` whose low
   * is above `quietLow[i]` and whose high is below `quietHigh[i]` can do nothing at the venue (no command on its way,
   * no order that acts on any price, no resting limit in its range, no position or only a paid-for long book that no
   * price can liquidate). A bar runner checks that itself and skips the call to {@link processBar}, counting the bar in
   * `quietBars[i]`; `quietVersion[i]` is −1 while there is no band (anything that changes an instrument's orders or
   * the commands in flight removes it; fills and funding change the version). Set by {@link processBar} when it finds
   * a bar with nothing to do, never in the `every-bar` reference. A band ends when a command is sent (every
   * instrument: commands are processed at any instrument's prices) and when processBar runs (its instrument): orders
   * change only through commands and at the prices of a path, which only processBar runs in a bar run; fills,
   * liquidations and funding change the portfolio's version.
   */
  readonly quietLow: Float64Array;
  readonly quietHigh: Float64Array;
  readonly quietVersion: Float64Array;
  readonly quietBars: Float64Array;
  /** Per instrument: 1 when its quiet bars count as checked (it had working orders or a position when the band was set). */
  private readonly quietCounted: Uint8Array;

  constructor(
    private readonly config: SimulatedExecutionConfig,
    private readonly portfolio: Portfolio,
    private readonly clock: Clock,
    private readonly models: SimulatedExecutionModels,
  ) {
    this.working = config.instruments.map(() => packedArray<WorkingOrder>());
    this.spareWorking = packedArray<WorkingOrder>();
    this.triggersStale = new Uint8Array(config.instruments.length).fill(1);
    this.quietLow = new Float64Array(config.instruments.length);
    this.quietHigh = new Float64Array(config.instruments.length);
    this.quietVersion = new Float64Array(config.instruments.length).fill(-1);
    this.quietBars = new Float64Array(config.instruments.length);
    this.quietCounted = new Uint8Array(config.instruments.length);
    this.actsAnywhere = new Uint8Array(config.instruments.length);
    this.highestBuy = new Float64Array(config.instruments.length);
    this.lowestSell = new Float64Array(config.instruments.length);
    this.everyBar = config.pathChecks === 'every-bar';
    this.executionIds = config.executionIds === true;
    this.fillPrices = config.fillPrices;
    this.available = new Float64Array(config.instruments.length).fill(Infinity);
    this.liquidationBounds = new Float64Array(config.instruments.length);
    this.boundVersions = new Float64Array(config.instruments.length).fill(-1);
    this.boundEpochs = new Float64Array(config.instruments.length).fill(-1);
    this.accountValuation = new Float64Array(config.instruments.length);
    this.multi = config.instruments.length > 1;
    this.unlimited = (models.fill ?? UNLIMITED_FILLS) === UNLIMITED_FILLS;
    this.latency = models.latency ?? ZERO_LATENCY;
    this.fillModel = models.fill ?? UNLIMITED_FILLS;
    this.zeroLatency = this.latency === ZERO_LATENCY;
  }

  connect(events: ExecutionEvents): void {
    this.events = events;
    this.reuseEvents = events.keepsNoEvents === true;
  }

  /** Bars whose range was checked against working orders or an open position (by {@link processBar} or a runner's quiet band). */
  get barsChecked(): number {
    let n = this.checked;
    for (let i = 0; i < this.quietBars.length; i++) n += this.quietBars[i]! * this.quietCounted[i]!;
    return n;
  }

  /** Copies every command (see {@link submit}): the kernel sends one command object for all its orders. */
  readonly copiesCommands = true;

  /**
   * Queues the order for its arrival, as a copy in a working-order record (one the book retired, or a new one): the
   * sender may reuse its command object at once, and an order costs the venue no object once the records are warm.
   */
  submit(order: OrderCommand): void {
    this.endQuietBands(); // a command on its way: every instrument's bars must run (see quietLow)
    const w = this.spareWorking.pop() ?? { order: blankCommand(), leaves: 0, filled: 0, takerOnArrival: false, firstChance: false };
    copyCommand(order, w.order);
    this.inbox.push(w, order.clientOrderId, order.instrument, this.arrivalTime(order.instrument));
  }

  cancel(clientOrderId: string, instrument: number): void {
    this.endQuietBands();
    this.inbox.push(undefined, clientOrderId, instrument, this.arrivalTime(instrument));
  }

  /** Ends every instrument's quiet band (a loop: `fill` was a builtin call per command, 1.3 % of the engine-fills profile). */
  private endQuietBands(): void {
    const v = this.quietVersion;
    for (let i = 0; i < v.length; i++) v[i] = -1;
  }

  /** When a command for `instrument` sent now reaches the venue (the latency model's delay). */
  private arrivalTime(instrument: number): number {
    const now = this.clock.now();
    return this.zeroLatency ? now : now + this.latency.commandLatency(instrument, now);
  }

  /** True when commands are on their way (call {@link processCommands} once time reaches them). */
  get hasCommands(): boolean {
    return this.inbox.length > 0;
  }

  /**
   * Processes every command that has arrived by `now`, in arrival order (ties: send order); commands sent from the
   * resulting callbacks that arrive by `now` too are processed in the same call.
   */
  processCommands(now: number): void {
    const inbox = this.inbox;
    for (;;) {
      const k = inbox.next(now);
      if (k < 0) return;
      const order = inbox.orderAt(k), id = inbox.idAt(k), instrument = inbox.instrumentAt(k), arrival = inbox.arrivalAt(k);
      inbox.removeAt(k);
      if (order !== undefined) this.arrive(order, arrival);
      else this.arriveCancel(id, instrument, arrival);
    }
  }

  /**
   * Whether any price in bar `t`'s range [low, high] can do something to instrument `i`: a working order that is a market order, a
   * limit on its first chance (arrival taker, IOC/FOK) or a resting limit the range touches, or a position the
   * range could liquidate. When none can, the whole path is a no-op and is skipped (same result, no work).
   */
  private pathCanAct(i: number, bars: OhlcvColumns, t: number): boolean {
    const low = bars.low[t]!, high = bars.high[t]!;
    if (this.triggersStale[i] !== 0) this.computeTriggers(i);
    if (this.actsAnywhere[i] !== 0 || low <= this.highestBuy[i]! || high >= this.lowestSell[i]!) return true;
    const q = this.portfolio.quantity[i]!;
    return q !== 0 && this.rangeMayLiquidate(i, q, low, high);
  }

  /**
   * True when no prices (≥ 0) of any instruments can liquidate the account as its cash and positions are now: every
   * position long and paid for. With longs only, equity − maintenance margin = cash − Σ q·entry + Σ q·(1 − m)·x
   * over the instruments' valuations x, smallest at x = 0: when cash − Σ q·entry is above 0 (by a relative 1e-9, for
   * rounding) and no margin rate m exceeds 1, equity stays above the margin at every price. Decided once per
   * portfolio version (fills, funding), not per bar: a long's liquidation bound is then 0 (see refreshBound), with no
   * per-bar account sums. The `every-bar` reference never asks (it checks every price exactly).
   */
  private fundedLongOnly(): boolean {
    const p = this.portfolio;
    const f = this.funded;
    if (f[1] === p.version) return f[0] === 1;
    const Q = p.quantity, E = p.entryPrice, R = p.maintenanceMarginRates;
    const cash = p.cash;
    let paid = 0, ok = 1;
    for (let k = 0; k < Q.length; k++) {
      const qk = Q[k]!;
      if (qk < 0 || R[k]! > 1) ok = 0;
      paid += qk * E[k]!;
    }
    f[0] = ok === 1 && cash - paid > 1e-9 * (Math.abs(cash) + Math.abs(paid)) + 1e-12 ? 1 : 0;
    f[1] = p.version;
    return f[0] === 1;
  }

  /**
   * Whether a price of instrument `i` (position `q` ≠ 0) in [low, high] may liquidate the account, other marks as they
   * are: false only when none can. One comparison with the liquidation bound; with several instruments (whose bounds
   * go stale at every bar time) first a test without the bound's division: as `i` goes from its valuation v to x,
   * equity − margin moves by (q − |q|·m)·(x − v), at most |q|·(1 + m)·|x − v| down, so when equity − margin exceeds
   * |q|·(1 + m)·max(v − low, high − v) (with a relative 1e-9 to spare for rounding) no price of the range liquidates.
   * Only when that fails is the bound computed.
   */
  private rangeMayLiquidate(i: number, q: number, low: number, high: number): boolean {
    const p = this.portfolio;
    if (this.multi) this.marksMoved();
    // A paid-for long's bound is 0 at no cost (refreshBound): nothing to test first.
    if (this.multi && (this.boundVersions[i] !== p.version || this.boundEpochs[i] !== this.markEpoch) && !(q > 0 && this.fundedLongOnly())) {
      // Several instruments: the bound would be stale at the next bar time (other marks move), so test first.
      this.refreshAccount();
      const acc = this.account;
      const v = this.accountValuation[i]!, mmr = p.maintenanceMarginRates[i]!;
      const room = acc[0]! - acc[1]!;
      const risk = Math.abs(q) * (1 + mmr) * Math.max(v - low, high - v);
      if (room - risk > 1e-9 * (Math.abs(acc[0]!) + acc[1]! + risk) + 1e-12) return false;
    }
    this.refreshBound(i);
    const bound = this.liquidationBounds[i]!;
    return q > 0 ? low <= bound : high >= bound;
  }

  /** Recomputes the range triggers of instrument `i`'s working orders (after its list or an order's first chance changed). */
  private computeTriggers(i: number): void {
    const list = this.working[i]!;
    let anywhere = 0, buy = -Infinity, sell = Infinity;
    for (let k = 0; k < list.length; k++) {
      const w = list[k]!;
      const o = w.order;
      // An order of fillPrices fills at the run's price whatever the path: every price may act on it.
      if (o.type === 'market' || w.takerOnArrival || w.firstChance || (this.fillPrices !== undefined && this.fillPrices.has(o.clientOrderId))) anywhere = 1;
      else if (o.side === 'buy') buy = Math.max(buy, o.price);
      else sell = Math.min(sell, o.price);
    }
    this.actsAnywhere[i] = anywhere;
    this.highestBuy[i] = buy;
    this.lowestSell[i] = sell;
    this.triggersStale[i] = 0;
  }

  /** Starts a new liquidity period of instrument `i` (a bar, or a tick) with base `volume`: resets the fill model's budget. */
  beginLiquidity(i: number, volume: number): void {
    this.resetBudget(i, volume);
    if (this.multi) this.markEpoch++; // other instruments' marks may have moved: cached liquidation bounds are stale
  }

  /** The fill model's budget of instrument `i` for a liquidity period of base `volume`. */
  private resetBudget(i: number, volume: number): void {
    this.available[i] = this.unlimited ? Infinity : this.fillModel.available(volume);
  }

  /**
   * Runs bar `t` of `bars` (instrument `i`) through the venue: the intrabar path open → nearer extreme (high on
   * a tie) → farther extreme → close, stamped `tsOpen` for the open and `tsClose` for the rest (the gap from the
   * previous close to the open is not traded). Skips the path when nothing can happen on it: no command on its way,
   * no working order, and no position or one the bar's range cannot liquidate.
   */
  processBar(i: number, bars: OhlcvColumns, t: number, timeframeMs: number): void {
    // Small enough to inline into the runner's loop: most bars of most runs stop here.
    if (this.everyBar) return this.referenceBar(i, bars, t, timeframeMs);
    this.endQuiet(i);
    if (this.inbox.length === 0 && this.working[i]!.length === 0) {
      const q = this.portfolio.quantity[i]!;
      if (q === 0) return this.quiet(i);
      // A position and nothing else (most bars of a held position): one comparison with the liquidation bound, without
      // the trigger checks of pathCanAct.
      this.checked++;
      if (this.multi) this.marksMoved();
      this.refreshBound(i);
      const bound = this.liquidationBounds[i]!;
      if (q > 0 ? bars.low[t]! > bound : bars.high[t]! < bound) return this.quiet(i);
      this.runBarPath(i, bars, t, timeframeMs);
      return;
    }
    this.checked++;
    // The marks epoch moves where a liquidation bound is used: in rangeMayLiquidate, or at each price of the path.
    if (this.inbox.length === 0 && !this.pathCanAct(i, bars, t)) return this.quiet(i);
    this.runBarPath(i, bars, t, timeframeMs);
  }

  /**
   * A bar of instrument `i` found nothing to do: sets its quiet band (see {@link quietLow}) when one holds until its
   * orders, the commands in flight or the portfolio change. The band is the range between `i`'s resting limits
   * narrowed by its liquidation bound (a long is safe above it, a short below; a paid-for long's bound is 0, so a
   * long's band starts at 0 at least): with one instrument the bound depends on the portfolio only, and with several
   * only a paid-for long-only book's does (the others move with the other instruments' marks: no band then). Called
   * only with no command on its way and where no order of `i` acts on any price (none works, or pathCanAct found none).
   */
  private quiet(i: number): void {
    const q = this.portfolio.quantity[i]!;
    let bound = NaN;
    if (q !== 0) {
      if (this.multi && !(q > 0 && this.fundedLongOnly())) return;
      this.refreshBound(i);
      bound = this.liquidationBounds[i]!;
    }
    if (this.triggersStale[i] !== 0) this.computeTriggers(i);
    const buy = this.highestBuy[i]!, sell = this.lowestSell[i]!;
    this.quietLow[i] = q > 0 && !(buy >= bound) ? bound : buy;
    this.quietHigh[i] = q < 0 && !(sell <= bound) ? bound : sell;
    this.quietCounted[i] = q !== 0 || this.working[i]!.length > 0 ? 1 : 0;
    this.quietVersion[i] = this.portfolio.version;
  }

  /** Counts the bars a runner skipped in `i`'s band and ends the band (processBar runs: the band may no longer hold). */
  private endQuiet(i: number): void {
    this.checked += this.quietBars[i]! * this.quietCounted[i]!;
    this.quietBars[i] = 0;
    this.quietVersion[i] = -1;
  }

  /** {@link processBar} of the `every-bar` reference: the path of every bar with a command, an order or a position. */
  private referenceBar(i: number, bars: OhlcvColumns, t: number, timeframeMs: number): void {
    if (this.inbox.length === 0 && this.working[i]!.length === 0 && this.portfolio.quantity[i] === 0) return;
    this.checked++;
    this.runBarPath(i, bars, t, timeframeMs);
  }

  /**
   * A bar of another instrument may follow a mark move: cached liquidation bounds (which depend on the other marks)
   * are stale once the bar time changed. Marks move only between bar times (the runners mark every instrument after
   * all paths of a time ran), so the bars of one time share one epoch: a bound is computed once per instrument and
   * time, not once per instrument and bar of any instrument.
   */
  private marksMoved(): void {
    const now = this.clock.now();
    if (now !== this.epochTime[0]) {
      this.epochTime[0] = now;
      this.markEpoch++;
    }
  }

  /** The venue's price path of bar `t` (the caller counted the bar and found that something can happen on it). */
  private runBarPath(i: number, bars: OhlcvColumns, t: number, timeframeMs: number): void {
    const o = bars.open[t]!, h = bars.high[t]!, l = bars.low[t]!, c = bars.close[t]!, v = bars.volume[t]!;
    const tsOpen = bars.ts[t]!, tsClose = tsOpen + timeframeMs;
    this.resetBudget(i, v); // each price of the path moves the marks epoch (processPoint)
    const highFirst = h - o <= o - l;
    const e1 = highFirst ? h : l, e2 = highFirst ? l : h;
    const pt = this.point;
    for (let k = 0; k < 4; k++) {
      // All four numbers are written before each point's call (a callback of the one before may have used the cells).
      pt[0] = k === 0 ? o : k === 1 ? e1 : k === 2 ? e2 : c;
      pt[1] = k === 0 ? NaN : k === 1 ? o : k === 2 ? e1 : e2;
      pt[2] = v;
      pt[3] = k === 0 ? tsOpen : tsClose;
      this.processPoint(i);
    }
    // Nothing works and nothing is on its way (a market order filled, a position held): the band the next bar's
    // processBar would set first is set now, so that bar is counted in the runner's loop instead (engine-fills: one
    // processBar call fewer per order).
    if (!this.everyBar && this.inbox.length === 0 && this.working[i]!.length === 0) this.quiet(i);
  }

  /** True when instrument `i` has working orders or a position (otherwise processPrice is a no-op). */
  isActive(i: number): boolean {
    return this.working[i]!.length > 0 || this.portfolio.quantity[i] !== 0;
  }

  /**
   * Fills the working order `clientOrderId` of `instrument` at `price` (default: the instrument's mark) at `now`, up to
   * `quantity` (whole lots; default all of it), before the commands in flight (a cancel of it) reach the venue: a race
   * the live venue decided that way (the order filled before the cancel of a stop or of the strategy reached it, which
   * was then refused, or filled in part before the cancel took the rest). `tm replay` reproduces such a journaled race
   * with it. What the price or `quantity` leaves unfilled (a limit not marketable at it) works on. Returns false,
   * changing nothing, when the order is not working or there is no price (no mark).
   */
  fillBeforeCommands(clientOrderId: string, instrument: number, now: number, price = this.portfolio.mark[instrument]!, quantity = Infinity): boolean {
    const list = this.working[instrument]!;
    const k = this.workingIndex(clientOrderId, instrument);
    if (k < 0 || price !== price) return false;
    const one = [list[k]!];
    removeAt(list, k);
    const pt = this.point;
    pt[0] = price;
    pt[1] = price;
    pt[2] = Infinity;
    pt[3] = now;
    const budget = this.available[instrument]!;
    this.available[instrument] = quantity;
    this.match(instrument, one);
    this.available[instrument] = budget;
    if (one.length > 0) list.splice(k, 0, one[0]!);
    return true;
  }

  /**
   * Refuses, at `now`, every working reduce-only order that would not reduce its position now (flat, or on the
   * order's side): what its next price would do (see `fill`), done without one. `tm replay` calls it between two stops
   * with no price between, where the live venue had refused such an order on arrival (Bybit 110017: a fill the first
   * stop's cancel came too late for had turned the position around).
   */
  refuseNonReducing(now: number): void {
    for (let i = 0; i < this.working.length; i++) {
      const list = this.working[i]!, position = this.portfolio.quantity[i]!;
      for (let k = 0; k < list.length; ) {
        const w = list[k]!;
        if (w.order.reduceOnly && !reduces(w.order.side, position)) {
          removeAt(list, k);
          this.refuse(w, notReducing(w.order.side, position), now);
          this.retire(w);
          this.triggersStale[i] = 1;
        } else k++;
      }
    }
  }

  /**
   * Trades at the marks (the portfolio's last prices) at `now`: the commands that arrived by `now`, then one price per
   * active instrument with a mark, at its mark (its own previous price, no volume cap). A paper run's orders sent
   * after its last bar (the flatten of a stop or kill switch) fill here, and `tm replay` fills them the same way.
   */
  fillAtMarks(now: number): void {
    this.processCommands(now);
    const mark = this.portfolio.mark;
    for (let i = 0; i < mark.length; i++) {
      const m = mark[i]!;
      if (this.isActive(i) && m === m) this.processPrice(i, m, m, Infinity, now);
    }
  }

  /**
   * Processes one price of instrument `i` at `ts`: commands that arrived by `ts` first, then working orders fill,
   * then liquidation is checked.
   * @param previous the price before this one (for the liquidation price to lie on the path), NaN if unknown.
   * @param volume base volume of the bar (or tick) this price belongs to, for volume-based slippage.
   */
  processPrice(i: number, price: number, previous: number, volume: number, ts: number): void {
    const pt = this.point;
    pt[0] = price;
    pt[1] = previous;
    pt[2] = volume;
    pt[3] = ts;
    this.processPoint(i);
  }

  /**
   * {@link processPrice} of the numbers in {@link point}: a bar path hands its four prices over through the typed
   * cells, because doubles passed to a call that is not inlined are boxed (up to 4 allocations per price).
   */
  private processPoint(i: number): void {
    const pt = this.point;
    // Read first: the callbacks of the commands and fills below may use the cells.
    const price = pt[0]!, previous = pt[1]!, volume = pt[2]!, ts = pt[3]!;
    this.pricesProcessed++;
    // Called from outside a bar path (e.g. the paper runner's last prices at shutdown) the marks may have moved since
    // the bounds were cached; inside one (same clock time as its processBar) this compares and moves nothing.
    if (this.multi) this.marksMoved();
    if (this.inbox.length > 0) this.processCommands(ts);
    const list = this.working[i]!;
    if (list.length > 0) {
      pt[0] = price; // match reads the cells: written again after the commands' callbacks
      pt[2] = volume;
      pt[3] = ts;
      this.match(i, list);
    }
    const q = this.portfolio.quantity[i]!;
    if (q === 0) return;
    // Cheap pre-filter: prices clearly on the safe side of the liquidation price skip the exact check.
    if (!this.everyBar) {
      this.refreshBound(i);
      const bound = this.liquidationBounds[i]!;
      if (q > 0 ? price > bound : price < bound) return;
    }
    this.checkLiquidation(i, price, previous, ts);
  }

  /**
   * The liquidation bound of instrument `i` (at its position), from `liquidationBounds[i]`: recomputed only after a fill
   * or funding (portfolio version) or a move of other marks (epoch). Written to the typed array, not returned: a
   * double returned from a call that is not inlined is boxed, one allocation per bar.
   */
  private refreshBound(i: number): void {
    const p = this.portfolio;
    const q = p.quantity[i]!;
    if (this.boundVersions[i] === p.version && this.boundEpochs[i] === this.markEpoch) return;
    this.boundVersions[i] = p.version;
    this.boundEpochs[i] = this.markEpoch;
    const mmr = p.maintenanceMarginRates[i]!;
    if (mmr === 0) {
      this.liquidationBounds[i] = q > 0 ? -Infinity : Infinity; // never liquidates (checkLiquidation returns at once)
      return;
    }
    if (q > 0 && this.fundedLongOnly()) {
      this.liquidationBounds[i] = 0; // no price ≥ 0 liquidates a paid-for long-only book; lower ones get the exact check
      return;
    }
    // A price beyond which `i` cannot be liquidated while cash, positions and the other instruments' marks stay as
    // they are: equity E(x) = A + q·x and maintenance margin M(x) = B + |q|·m·x meet at x* = (A − B) / (|q|·m − q);
    // a long is safe above x*, a short below. A = equity − q·v and B = margin − |q|·v·m, from the account's equity and
    // margin (see refreshAccount) and the valuation v of `i` they were summed with. Widened by a relative 1e-9 of x*
    // and of the sums' size so that rounding never skips a liquidation the exact check would make; ±Infinity (always
    // check) when x* is not finite.
    this.refreshAccount();
    const acc = this.account;
    const equity = acc[0]!, margin = acc[1]!, v = this.accountValuation[i]!;
    const den = Math.abs(q) * mmr - q;
    const x = (equity - q * v - (margin - Math.abs(q) * v * mmr)) / den;
    if (!Number.isFinite(x)) {
      this.liquidationBounds[i] = q > 0 ? Infinity : -Infinity;
      return;
    }
    const slack = 1e-9 * Math.abs(x) + 1e-12 * ((Math.abs(equity) + margin) / Math.abs(den)) + 1e-12;
    this.liquidationBounds[i] = q > 0 ? x + slack : x - slack;
  }

  /**
   * The account's equity (`account[0]`) and maintenance margin (`account[1]`) at the current valuations
   * (Portfolio.valuationPrice: an instrument not yet marked counts at its entry), and the valuation of each instrument
   * they were summed with (`accountValuation`), recomputed only after a fill or funding (portfolio version) or a move
   * of the marks (epoch): one pass over the instruments per bar time, shared by every instrument's bound. The sums of
   * Portfolio.equity and maintenanceMargin in one loop: calling those two (three loops, two doubles returned boxed)
   * made engine-bars about 10 % slower.
   */
  private refreshAccount(): void {
    const p = this.portfolio;
    const acc = this.account;
    if (acc[2] === p.version && acc[3] === this.markEpoch) return;
    const Q = p.quantity, M = p.mark, E = p.entryPrice, R = p.maintenanceMarginRates, V = this.accountValuation;
    let equity = p.cash, margin = 0;
    for (let k = 0; k < Q.length; k++) {
      const qk = Q[k]!;
      const mk = M[k]!;
      const vk = mk === mk ? mk : E[k]!;
      V[k] = vk;
      if (qk === 0) continue;
      equity += qk * (vk - E[k]!); // + 0 before the first mark, as Portfolio.equityInto skips the term
      margin += Math.abs(qk) * vk * R[k]!;
    }
    acc[0] = equity;
    acc[1] = margin;
    acc[2] = p.version;
    acc[3] = this.markEpoch;
  }

  /** Command `w` (a working-order record holding the venue's copy, see {@link submit}) reaches the venue at `ts`. */
  private arrive(w: WorkingOrder, ts: number): void {
    const order = w.order;
    const id = order.clientOrderId;
    const refusal = this.arrivalRefusal(order);
    if (refusal !== undefined) {
      this.reject(id, refusal, ts);
      this.retire(w);
      return;
    }
    const i = order.instrument;
    // A limit marketable at the mark on arrival takes liquidity at the next price if still marketable then.
    const takerOnArrival = order.type === 'limit' && (order.side === 'buy' ? order.price >= this.portfolio.mark[i]! : order.price <= this.portfolio.mark[i]!);
    const accepted = this.reuseEvents ? this.accepted : newAccepted();
    accepted.clientOrderId = id;
    accepted.venueOrderId = `SIM-${++this.venueOrders}`;
    accepted.tsEvent = ts;
    this.events!.onOrderAccepted(accepted);
    w.leaves = order.quantity;
    w.filled = 0;
    w.takerOnArrival = takerOnArrival;
    w.firstChance = order.timeInForce !== 'GTC';
    this.working[i]!.push(w);
    this.triggersStale[i] = 1;
  }

  /** Why the venue refuses `order` on arrival (a duplicate id, a post-only limit that would take, a spot short, a run's refusal), or undefined. */
  private arrivalRefusal(order: OrderCommand): string | undefined {
    const id = order.clientOrderId;
    if (!this.recordNewId(id)) return `duplicate client order id ${id} (the venue already holds an order with it)`;
    const run = this.fillPrices === undefined ? undefined : this.fillPrices.get(id);
    if (run !== undefined && run.quantity === 0 && this.clock.now() >= run.notBefore) return REFUSED_AS_RUN;
    const i = order.instrument;
    if (order.type === 'limit' && order.postOnly) {
      const mark = this.portfolio.mark[i]!;
      if (order.side === 'buy' ? order.price >= mark : order.price <= mark) return `post-only ${order.side} limit ${order.price} would take liquidity at mark ${mark}`;
    }
    const instrument = this.config.instruments[i]!;
    if (instrument.kind === 'spot' && order.side === 'sell' && !order.reduceOnly && this.portfolio.quantity[i]! <= 0) return `spot ${instrument.symbol} cannot be sold short`;
    return undefined;
  }

  /** Records `id` as seen and returns true, or returns false when it was seen before (see {@link seenIds}). */
  private recordNewId(id: string): boolean {
    if (id > this.greatestId) {
      this.greatestId = id;
      this.seenIds.push(id);
      return true;
    }
    const index = this.seenIndex, ids = this.seenIds;
    for (; this.indexed < ids.length; this.indexed++) index.add(ids[this.indexed]!);
    // One hash probe: `add` leaves the set as it was for an id it already holds.
    const size = index.size;
    if (index.add(id).size === size) return false;
    ids.push(id);
    this.indexed++;
    return true;
  }

  /** Index of working order `clientOrderId` in `working[instrument]`; −1 when it is not working there (or no such instrument). */
  private workingIndex(clientOrderId: string, instrument: number): number {
    const list = this.working[instrument];
    return list === undefined ? -1 : list.findIndex((w) => w.order.clientOrderId === clientOrderId);
  }

  private arriveCancel(clientOrderId: string, instrument: number, ts: number): void {
    const list = this.working[instrument];
    const k = this.workingIndex(clientOrderId, instrument);
    if (k < 0) {
      this.events!.onOrderCancelRejected({ kind: 'cancel-rejected', clientOrderId, reason: `order ${clientOrderId} is not working (unknown, or already filled, canceled or rejected)`, tsEvent: ts });
      return;
    }
    this.retire(list![k]!);
    removeAt(list!, k);
    this.triggersStale[instrument] = 1;
    this.events!.onOrderCanceled({ kind: 'canceled', clientOrderId, reason: 'canceled on request', tsEvent: ts });
  }

  /** Matches instrument `i`'s working orders against the price, volume and time in {@link point} (read first). */
  private match(i: number, list: WorkingOrder[]): void {
    const pt = this.point;
    const price = pt[0]!, volume = pt[2]!, ts = pt[3]!;
    this.triggersStale[i] = 1; // orders may fill, leave the book or lose their first chance
    for (let k = 0; k < list.length; ) {
      const w = list[k]!;
      const o = w.order;
      const run = this.fillPrices === undefined ? undefined : this.fillPrices.get(o.clientOrderId);
      if (run !== undefined && this.clock.now() < run.notBefore) {
        k++; // held until the engine time the run booked its fill (or its refusal) at
        continue;
      }
      if (run !== undefined && run.quantity === 0) {
        removeAt(list, k);
        this.retire(w);
        this.reject(o.clientOrderId, REFUSED_AS_RUN, ts);
        continue;
      }
      let fillAt = NaN;
      let liquidity: Liquidity = 'taker';
      if (run !== undefined && run.price === run.price) {
        // The run's venue filled it (by now, see notBefore): at any price, whatever the models' trigger says of it.
        fillAt = run.price;
        if (o.type === 'limit' && !w.takerOnArrival) liquidity = 'maker';
        w.takerOnArrival = false;
      } else if (o.type === 'market') {
        fillAt = this.models.slippage.fillPrice(o.side, price, w.leaves, volume);
      } else if (w.takerOnArrival) {
        w.takerOnArrival = false;
        const marketable = o.side === 'buy' ? price <= o.price : price >= o.price;
        if (marketable) {
          const slipped = this.models.slippage.fillPrice(o.side, price, w.leaves, volume);
          fillAt = o.side === 'buy' ? Math.min(slipped, o.price) : Math.max(slipped, o.price);
        }
      } else if (o.side === 'buy' ? price <= o.price : price >= o.price) {
        fillAt = o.price;
        liquidity = 'maker';
      }
      const firstChance = w.firstChance;
      w.firstChance = false;
      if (fillAt !== fillAt) {
        if (firstChance) this.close(list, k, `${o.timeInForce} ${o.side} ${o.type} was not marketable at its first price ${price}`, ts);
        else k++;
        continue;
      }
      const budget = this.available[i]!;
      let quantity = w.leaves;
      if (budget < quantity) {
        // A partial fill takes whole lots of what the fill model leaves available.
        const lot = this.config.instruments[i]!.lotSize;
        quantity = Math.floor(budget / lot + 1e-9) * lot;
      }
      if (o.timeInForce === 'FOK' && quantity < w.leaves * (1 - QUANTITY_EPSILON)) {
        this.close(list, k, `FOK ${o.side} ${o.type} could not fill completely: ${quantity} of ${w.leaves} available`, ts);
        continue;
      }
      if (!(quantity > 0)) {
        if (firstChance) this.close(list, k, `IOC ${o.side} ${o.type}: no volume available at its first price`, ts);
        else k++;
        continue;
      }
      if (this.fill(i, w, quantity, fillAt, liquidity, ts, run)) {
        if (budget !== Infinity) this.available[i] = budget - quantity;
        if (w.leaves <= QUANTITY_EPSILON * o.quantity) {
          removeAt(list, k);
          this.retire(w);
          continue;
        }
        if (o.timeInForce === 'IOC') {
          this.close(list, k, `IOC remainder ${w.leaves} canceled after its first price`, ts);
          continue;
        }
        if (run !== undefined && w.filled >= run.quantity - QUANTITY_EPSILON * o.quantity) {
          this.close(list, k, `remainder ${w.leaves} canceled: the run’s venue filled ${w.filled} of it (fillPrices)`, ts);
          continue;
        }
        if (o.reduceOnly && this.portfolio.quantity[i] === 0) {
          this.close(list, k, `reduce-only remainder ${w.leaves} canceled: the position is closed`, ts);
          continue;
        }
        k++;
      } else {
        removeAt(list, k); // rejected or canceled inside fill()
        this.retire(w);
      }
    }
  }

  /** Removes `list[k]` and reports it canceled. */
  private close(list: WorkingOrder[], k: number, reason: string, ts: number): void {
    const w = list[k]!;
    removeAt(list, k);
    this.events!.onOrderCanceled({ kind: 'canceled', clientOrderId: w.order.clientOrderId, reason, tsEvent: ts });
    this.retire(w);
  }

  /** Keeps the record of an order that left the book for the next arrival (see {@link spareWorking}). */
  private retire(w: WorkingOrder): void {
    this.spareWorking.push(w);
  }

  /**
   * Fills up to `wanted` of `w` at `price` (`run`: its {@link SimulatedExecutionConfig.fillPrices} entry, whose price
   * `match` passed, and whose fee and quantity apply), after the venue's checks. Returns false when the order left the book instead (rejected; or, once partly
   * filled, its remainder canceled).
   */
  private fill(i: number, w: WorkingOrder, wanted: number, price: number, liquidity: Liquidity, ts: number, run: FillPrice | undefined): boolean {
    const o = w.order;
    const instrument = this.config.instruments[i]!;
    const position = this.portfolio.quantity[i]!;
    let quantity = run === undefined ? wanted : Math.min(wanted, run.quantity - w.filled);
    if (o.reduceOnly) {
      if (!reduces(o.side, position)) return this.refuse(w, notReducing(o.side, position), ts);
      quantity = Math.min(quantity, Math.abs(position));
    }
    quantity = Math.floor(quantity / instrument.lotSize + 1e-9) * instrument.lotSize;
    if (quantity < instrument.minQuantity - 1e-12) return this.refuse(w, `quantity ${o.quantity} is below the minimum ${instrument.minQuantity} after flooring to lot size ${instrument.lotSize}`, ts);
    const notional = quantity * price;
    // Venue minimums apply to the order: a part of an accepted order may be smaller.
    const partial = w.filled > 0 || quantity < w.leaves - 1e-12;
    if (notional < instrument.minNotional && !o.reduceOnly && !partial) return this.refuse(w, `notional ${notional.toFixed(2)} is below the minimum ${instrument.minNotional}`, ts);
    const delta = o.side === 'buy' ? quantity : -quantity;
    const after = position + delta;
    if (instrument.kind === 'spot' && after < -1e-12) return this.refuse(w, `spot ${instrument.symbol} cannot be sold short (position ${position}, sell ${quantity})`, ts);
    const fee = run === undefined ? this.models.fees.fee(instrument, notional, liquidity) : run.feePerUnit * quantity;
    if (Math.abs(after) > Math.abs(position)) {
      // Exposure grows: gross exposure after the fill must stay within leverage × equity (after the fee).
      const leverage = instrument.kind === 'spot' ? 1 : Math.min(this.config.leverage, instrument.maxLeverage);
      const equity = this.portfolio.equityAt(i, price) - fee;
      const held = Math.abs(position) * this.portfolio.valuationPrice(i); // never NaN: 0 × the entry 0 when flat
      const gross = this.portfolio.grossExposure() - held + Math.abs(after) * price;
      if (gross > leverage * equity * (1 + 1e-9)) {
        return this.refuse(w, `insufficient margin: gross exposure ${gross.toFixed(2)} would exceed ${leverage}x equity ${equity.toFixed(2)}`, ts);
      }
    }
    // The whole order counts as done when what is left is below one lot (a reduce-only cap leaves the rest to cancel).
    const rest = w.leaves - quantity;
    w.leaves = o.reduceOnly || rest >= instrument.lotSize - 1e-12 ? rest : 0;
    const before = w.filled;
    w.filled += quantity;
    const fill = this.reuseEvents ? this.filled : newFill();
    fill.instrument = i;
    fill.clientOrderId = o.clientOrderId;
    fill.side = o.side;
    fill.quantity = quantity;
    fill.price = price;
    fill.fee = fee;
    fill.liquidity = liquidity;
    fill.tsEvent = ts;
    fill.tsInit = this.clock.now();
    fill.tag = o.tag;
    fill.executionId = this.executionIds ? `${o.clientOrderId}:${before}` : undefined;
    this.events!.onOrderFilled(fill);
    return true;
  }

  /** A fill the venue refuses: the order is rejected, or (already partly filled) its remainder canceled. */
  private refuse(w: WorkingOrder, reason: string, ts: number): false {
    if (w.filled > 0) this.events!.onOrderCanceled({ kind: 'canceled', clientOrderId: w.order.clientOrderId, reason, tsEvent: ts });
    else this.reject(w.order.clientOrderId, reason, ts);
    return false;
  }

  /**
   * Liquidates every position when equity with `i` at `price` is at or below the maintenance margin. The
   * liquidation price of `i` is where equity equals maintenance margin, clamped onto the path from `previous` to
   * `price`; other instruments close at their marks. Liquidation fills pay the taker fee.
   */
  private checkLiquidation(i: number, price: number, previous: number, ts: number): void {
    const p = this.portfolio;
    const q = p.quantity[i]!;
    const mmr = this.config.instruments[i]!.maintenanceMarginRate;
    if (mmr === 0) return;
    if (p.equityAt(i, price) > p.maintenanceMargin(i, price)) return;
    // Solve cash + U_others + q (x − entry) = MM_others + |q| x mmr for x.
    const equityOthers = p.equity() - q * (p.valuationPrice(i) - p.entryPrice[i]!);
    const mmOthers = p.maintenanceMargin(i, 0);
    let x = (mmOthers - equityOthers + q * p.entryPrice[i]!) / (q - Math.abs(q) * mmr);
    const lo = Math.min(previous === previous ? previous : price, price);
    const hi = Math.max(previous === previous ? previous : price, price);
    if (!(x >= lo && x <= hi)) x = price;
    this.liquidations++;
    for (let k = 0; k < p.quantity.length; k++) {
      const qk = p.quantity[k]!;
      if (qk === 0) continue;
      const at = k === i ? x : p.valuationPrice(k);
      const instrument = this.config.instruments[k]!;
      const quantity = Math.abs(qk);
      this.events!.onOrderFilled({
        instrument: k, clientOrderId: `liquidation-${this.liquidations}-${k}`, side: qk > 0 ? 'sell' : 'buy', quantity, price: at,
        fee: this.models.fees.fee(instrument, quantity * at, 'taker'), liquidity: 'taker', tsEvent: ts, tsInit: this.clock.now(), reason: 'liquidation',
      });
    }
    this.triggersStale.fill(1);
    for (const list of this.working) {
      for (const w of list.splice(0)) {
        this.events!.onOrderCanceled({ kind: 'canceled', clientOrderId: w.order.clientOrderId, reason: 'canceled by liquidation', tsEvent: ts });
        this.retire(w);
      }
    }
  }

  private reject(clientOrderId: string, reason: string, ts: number): void {
    this.events!.onOrderRejected({ kind: 'rejected', clientOrderId, reason, tsEvent: ts });
  }

  /** Working orders and seen ids, for a backtest stopped and resumed later (commands in flight are not saved: save between events). */
  save(): SimulatedVenueState {
    return {
      working: this.working.flatMap((list) => list.map((w) => ({ order: { ...w.order }, leaves: w.leaves, filled: w.filled, takerOnArrival: w.takerOnArrival, firstChance: w.firstChance }))),
      seenIds: this.seenIds.slice(),
      venueOrders: this.venueOrders,
      liquidations: this.liquidations,
    };
  }

  /** Loads a state saved by {@link save} into this fresh client. */
  restore(state: SimulatedVenueState): void {
    for (const w of state.working) this.working[w.order.instrument]!.push({ ...w, order: copyCommand(w.order, blankCommand()) });
    this.triggersStale.fill(1);
    for (const id of state.seenIds) this.recordNewId(id);
    this.venueOrders = state.venueOrders;
    this.liquidations = state.liquidations;
  }
}

type MutableFill = { -readonly [K in keyof Fill]: Fill[K] };
type MutableAccepted = { -readonly [K in keyof OrderAccepted]: OrderAccepted[K] };

/** An acceptance event, to be written over. */
function newAccepted(): MutableAccepted {
  return { kind: 'accepted', clientOrderId: '', venueOrderId: '', tsEvent: 0 };
}

/** A fill object with every field a venue fill has (one shape for all of them), to be written over. */
function newFill(): MutableFill {
  return { instrument: 0, clientOrderId: '', side: 'buy', quantity: 0, price: 0, fee: 0, liquidity: 'taker', tsEvent: 0, tsInit: 0, tag: undefined, executionId: undefined };
}

/** Removes `list[k]` keeping the order of the rest, without the array `splice` allocates for what it removed. */
function removeAt<T>(list: T[], k: number): void {
  for (let j = k + 1; j < list.length; j++) list[j - 1] = list[j]!;
  list.pop(); // not `length--`: setting the length is a runtime call, pop is inlined
}

/** Whether an order on `side` reduces `position` (a buy a short, a sell a long). */
function reduces(side: OrderSide, position: number): boolean {
  return side === 'buy' ? position < 0 : position > 0;
}

/** Why a reduce-only order on `side` is refused with `position`. */
function notReducing(side: OrderSide, position: number): string {
  return `reduce-only ${side} with position ${position} would not reduce it`;
}
