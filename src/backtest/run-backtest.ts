import type { OhlcvColumns, StaleInputEvent, StaleSpan } from '../core/bar.js';
import type { Instrument } from '../core/instrument.js';
import { timeframeMs } from '../core/time.js';
import type { BarFrame } from '../data/bar-frame.js';
import { TestClock } from '../engine/clock.js';
import type { FillLog } from '../engine/fill-log.js';
import { EngineError, Kernel, type KernelState } from '../engine/kernel.js';
import type { RiskLimits } from '../engine/risk/risk-limits.js';
import type { Strategy } from '../engine/strategy.js';
import type { BacktestAnnotations, BacktestResult, BacktestRisk, FillRecord, TierAnnotation, TradeRecord } from './backtest-result.js';
import { InstrumentFeeModel, type FeeModel, type FillModel, type FundingModel, type LatencyModel, type SlippageModel } from './execution-models.js';
import { BarRecords } from './bar-records.js';
import { FundingSchedule } from './funding-settlement.js';
import { SimulatedExecutionClient, type FillPrice, type SimulatedVenueState } from './simulated-execution-client.js';

/** What every simulation (bars or ticks) needs besides its market data and the strategy. */
export interface SimulationSpec {
  readonly name: string;
  readonly instruments: readonly Instrument[];
  readonly initialCash: number;
  readonly leverage: number;
  readonly fees?: FeeModel;
  readonly slippage: SlippageModel;
  readonly funding: FundingModel;
  /** Command latency to the simulated venue; default zero (commands arrive when sent). */
  readonly latency?: LatencyModel;
  /** Volume available to fills; default unlimited (every order fills completely at its price). */
  readonly fill?: FillModel;
  /** The run field of client order ids (1–8 of `[A-Za-z0-9-]`); default `bt`. */
  readonly runId?: string;
  /** Pre-trade risk limits of the kernel (see `PreTradeRisk`); absent = none. */
  readonly risk?: RiskLimits;
  /** The simulated venue's path checks (`SimulatedExecutionConfig.pathChecks`); default `skip-idle`. */
  readonly pathChecks?: 'skip-idle' | 'every-bar';
  /** The run's own fill prices by client order id (`SimulatedExecutionConfig.fillPrices`: `tm replay` of a venue run); absent = the models'. */
  readonly fillPrices?: ReadonlyMap<string, FillPrice>;
  /**
   * Bars at the start of the frame that only warm the strategy up (indicators, signal stage, regime filter, IC,
   * breaker): delivered, never traded (orders are held back), not part of the results. Default 0.
   */
  readonly warmupBars?: number;
  readonly periodsPerYear: number;
  readonly dataSources: BacktestResult['dataSources'];
  readonly notes?: readonly string[];
  readonly seed: number;
  readonly config: Readonly<Record<string, unknown>>;
}

/** Everything a bar backtest needs besides the strategy. Instruments[i] trades on frame series i. */
export interface BacktestSpec extends SimulationSpec {
  readonly frame: BarFrame;
  /** Extra per-bar columns aligned with `frame.ts` (one array per instrument), readable from history. */
  readonly columns?: Readonly<Record<string, readonly Float64Array[]>>;
}

/**
 * Wires one simulation: a TestClock at `start`, the kernel with the strategy, and the simulated exchange as its
 * execution client; resets the funding model's lookup state so a spec can be run again with identical results.
 */
export function createSimulation(spec: SimulationSpec, strategy: Strategy, start: number, historyCapacity: number, columns: readonly string[] = []) {
  const clock = new TestClock(start);
  const { instruments } = spec;
  const kernel = new Kernel({ instruments, initialCash: spec.initialCash, leverage: spec.leverage, historyCapacity, columns, ...(spec.runId !== undefined ? { runId: spec.runId } : {}), ...(spec.risk !== undefined ? { risk: spec.risk } : {}) }, { clock, strategy });
  const exchange = new SimulatedExecutionClient({ instruments, leverage: spec.leverage, ...(spec.pathChecks ? { pathChecks: spec.pathChecks } : {}), ...(spec.fillPrices ? { fillPrices: spec.fillPrices } : {}) }, kernel.portfolio, clock, {
    fees: spec.fees ?? new InstrumentFeeModel(),
    slippage: spec.slippage,
    ...(spec.latency ? { latency: spec.latency } : {}),
    ...(spec.fill ? { fill: spec.fill } : {}),
  });
  kernel.attachExecution(exchange);
  spec.funding.reset?.();
  return { clock, kernel, exchange };
}

/**
 * Runs a strategy over bars, event by event. Per timestamp (bar open time T, close time T + timeframe), in order:
 * 1. for each instrument with a bar at T (instrument order): working orders match against the bar's price path
 *    open → nearer extreme (high on a tie) → farther extreme → close; liquidation is checked along it (other
 *    instruments valued at their previous closes); then all instruments are marked at their closes;
 * 2. funding: every settlement the bar passed (the 00/08/16 UTC grid, or the funding model's own times) is settled at
 *    its close for open positions (position and mark at the close; see FundingSchedule);
 * 3. the clock moves to the close time; due timers fire;
 * 4. each instrument's bar is delivered to the strategy (instrument order); orders placed now work from the next bar;
 * 5. equity, positions and each instrument's cumulative mark-to-market PnL are recorded at the close.
 * Whatever the strategy annotated (`ctx.annotateTier`, `ctx.annotateRegime`) is returned as `annotations`.
 */
export function runBacktest(spec: BacktestSpec, strategy: Strategy, control: BacktestControl = {}): BacktestResult & { readonly state?: BacktestState } {
  const run = new BarRun(spec, strategy, control, {});
  run.start();
  run.runBars();
  return run.finish();
}

/**
 * A bar backtest driven from outside one bar at a time, with a pause at each close between the strategy's bar and the
 * venue's commands, so a caller can decide there (e.g. an RL environment: observe at the close, act, then let the
 * venue take the order). The events and their order are {@link runBacktest}'s; `runBacktest` and a stepper that calls
 * {@link next} then {@link commit} for every bar give the same result.
 * @example
 * const stepper = new BarStepper(spec, strategy);
 * while (stepper.next()) { decideSomething(); stepper.commit(); }
 * const result = stepper.finish();
 */
export class BarStepper {
  private readonly run: BarRun;
  private t: number;
  private open = false;
  private finished = false;

  constructor(spec: BacktestSpec, strategy: Strategy) {
    this.run = new BarRun(spec, strategy, {}, {});
    this.run.start();
    this.t = this.run.from;
  }

  /** Index of the bar delivered by the last {@link next} (−1 before the first). */
  get bar(): number {
    return this.open ? this.t : this.t - 1;
  }

  /** Whether the bar delivered by the last {@link next} is a warm-up bar (its orders are held back). */
  get warmingUp(): boolean {
    return this.run.isWarmUp(this.bar);
  }

  /** Account equity now (quote currency). */
  get equity(): number {
    return this.run.accountEquity;
  }

  /**
   * Runs the next bar up to its close: venue price path, marks, funding, timers, the bar to the strategy. Returns
   * false (doing nothing) when every bar ran.
   * @throws EngineError `invalid_state` when the previous bar was not committed, or the run was finished.
   */
  next(): boolean {
    if (this.finished) throw new EngineError('invalid_state', `BarStepper: the run was finished at bar ${this.t} (its result reads records that no later bar may change)`, { bar: this.t });
    if (this.open) throw new EngineError('invalid_state', `BarStepper: bar ${this.t} must be committed before the next one`, { bar: this.t });
    if (this.t >= this.run.until) return false;
    this.run.open(this.t);
    this.run.deliverBars(this.t);
    this.open = true;
    return true;
  }

  /** Sends the commands given since {@link next} to the venue and records the bar's equity and positions. */
  commit(): void {
    if (!this.open) throw new EngineError('invalid_state', 'BarStepper: no bar to commit (call next first)', {});
    this.run.dispatch(this.t);
    this.run.record(this.t);
    this.t++;
    this.open = false;
  }

  /** Ends the run (every bar must have been committed) and returns its result. */
  finish(): BacktestResult {
    if (this.finished) throw new EngineError('invalid_state', 'BarStepper: finish was called already', { bar: this.t });
    if (this.open) this.commit();
    this.finished = true;
    return this.run.finish();
  }
}

/**
 * {@link runBacktest} with a signal stage: at each bar close, before the strategy sees the bar, the stage turns the
 * bar (and the funding, DVOL and reference closes known then) into the signal value of column `column` of the
 * strategy's history (the model call is awaited between bars). The same stage object serves the live runner.
 * `stage` must have been built over this spec's instruments and bars (index t of the frame = index t of its inputs).
 */
export async function runBacktestWithSignals(spec: BacktestSpec, strategy: Strategy, signals: { readonly stage: SignalStageLike; readonly column: string }, control: BacktestControl = {}): Promise<BacktestResult & { readonly state?: BacktestState }> {
  const T = spec.frame.ts.length;
  const values = spec.instruments.map(() => new Float64Array(T).fill(NaN));
  const run = new BarRun(spec, strategy, control, { [signals.column]: values });
  const present = spec.frame.present;
  run.start();
  let staleSeen = signals.stage.staleEvents?.length ?? 0;
  for (let t = run.from; t < run.until; t++) {
    run.open(t);
    const pending = signals.stage.onBars(t, present, values);
    if (pending !== undefined) await pending; // no await (no microtask hop) when the stage answered in place
    const stale = signals.stage.staleEvents;
    while (stale !== undefined && staleSeen < stale.length) run.staleInput(stale[staleSeen++]!);
    run.deliver(t);
    run.record(t);
  }
  const spans = signals.stage.staleSpans?.() ?? [];
  const ids = spec.instruments.map((x) => x.id);
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const s of spans) {
    run.note(`stale input ${s.input} for ${ids[s.instrument]}: from ${iso(s.from)} ${s.to === s.to ? `to ${iso(s.to)}` : 'to the end'} (last value ${iso(s.lastValueTs)}): its features were NaN`);
  }
  return run.finish();
}

/** What {@link runBacktestWithSignals} needs of a signal stage (src/signals' `SignalStage`). */
export interface SignalStageLike {
  /** Writes the signal of bar `t` of every present instrument `i` to `out[i][t]`: done on return, or when the promise settles. */
  onBars(t: number, present: readonly Uint8Array[], out: readonly Float64Array[]): Promise<void> | undefined;
  /** Inputs that went stale so far, in order (forwarded to the strategy's `onStaleInput` before the bar). */
  readonly staleEvents?: readonly StaleInputEvent[];
  /** Stale spans, for the result's notes. */
  staleSpans?(): readonly StaleSpan[];
}

/** Bits of BarRun.phases: steps 1–3 (path, marks, funding, timers), step 4 (bars to the strategy, then commands to the venue), step 5. */
const PHASE_OPEN = 1, PHASE_DELIVER = 2, PHASE_DISPATCH = 4, PHASE_RECORD = 8;
const ALL_PHASES = PHASE_OPEN | PHASE_DELIVER | PHASE_DISPATCH | PHASE_RECORD;
/** Columns of a run without instruments (BarRun.phases reads instrument 0's into locals). */
const NO_VALUES = new Float64Array(0), NO_PRESENCE = new Uint8Array(0);

/**
 * One bar backtest, in the phases every bar runner shares (see {@link runBacktest} for the order of events).
 * Methods take the bar index only: no number crosses a call boundary boxed.
 */
class BarRun {
  readonly from: number;
  readonly until: number;
  private readonly T: number;
  private readonly n: number;
  private readonly tf: number;
  private readonly clock: TestClock;
  private readonly kernel: Kernel;
  private readonly exchange: SimulatedExecutionClient;
  private readonly records: BarRecords;
  private readonly bars: OhlcvColumns[];
  /** The funding settlements of the run's instruments (`next`: Infinity when the model charges none of them). */
  private readonly fundingSchedule: FundingSchedule;
  /** Bars before this index are warm-up (see {@link BacktestSpec.warmupBars}). */
  readonly warmup: number;
  private readonly ts: Float64Array;
  private readonly present: readonly Uint8Array[];
  /** Every instrument has a bar at every time of the frame: the loop skips its presence checks. */
  private readonly dense: boolean;
  private readonly close: readonly Float64Array[];
  private readonly low: readonly Float64Array[];
  private readonly high: readonly Float64Array[];

  constructor(
    private readonly spec: BacktestSpec,
    strategy: Strategy,
    private readonly control: BacktestControl,
    extraColumns: Readonly<Record<string, readonly Float64Array[]>>,
  ) {
    const { frame, instruments } = spec;
    const columns = { ...(spec.columns ?? {}), ...extraColumns };
    const columnNames = Object.keys(columns);
    this.n = instruments.length;
    const T = (this.T = frame.ts.length);
    this.tf = timeframeMs(frame.timeframe);
    this.from = control.resume?.nextBar ?? 0;
    this.until = Math.min(T, control.stopBefore ?? T);
    const sim = createSimulation(spec, strategy, T > 0 ? (this.from > 0 ? control.resume!.kernel.now : frame.ts[0]!) : 0, T, columnNames);
    this.clock = sim.clock;
    this.kernel = sim.kernel;
    this.exchange = sim.exchange;
    if (control.resume) {
      this.kernel.restoreState(control.resume.kernel);
      this.exchange.restore(control.resume.venue);
    }
    this.records = new BarRecords(this.kernel.portfolio);
    // Per instrument: its bars as one OHLCV column set.
    this.bars = instruments.map((_, i) => ({ ts: frame.ts, open: frame.open[i]!, high: frame.high[i]!, low: frame.low[i]!, close: frame.close[i]!, volume: frame.volume[i]! }));
    this.warmup = spec.warmupBars ?? 0;
    this.ts = frame.ts;
    this.present = frame.present;
    this.dense = frame.present.every(hasNoZero);
    // Each instrument's history takes the frame's rows (and its extra columns, in declaration order) from the first
    // bar of the run on, after any restored ones.
    for (let i = 0; i < this.n; i++) {
      const values = columnNames.length > 0 ? columnNames.map((name) => columns[name]![i]!) : undefined;
      this.kernel.attachFrame(i, this.bars[i]!, values, this.dense ? undefined : frame.present[i], this.from, this.tf);
    }
    this.close = frame.close;
    this.low = frame.low;
    this.high = frame.high;
    // Settlements after the first bar's open (a run resumed at bar `from` pays those its bars pass, not earlier ones);
    // none at all when no instrument can be charged (e.g. spot instruments, funding tables of none).
    this.fundingSchedule = new FundingSchedule(spec.funding, instruments.length, T > 0 ? frame.ts[this.from < T ? this.from : 0]! : 0);
  }

  private readonly extraNotes: string[] = [];

  /** Adds a note to the result. */
  note(text: string): void {
    this.extraNotes.push(text);
  }

  /** An input of the signal stage went stale: the strategy hears it (e.g. its breaker's stale-data trigger). */
  staleInput(event: StaleInputEvent): void {
    this.kernel.onStaleInput(event);
  }

  start(): void {
    this.kernel.start();
  }


  /** Every bar from `from` to `until`, steps 1–5. */
  runBars(): void {
    this.phases(this.from, this.until, ALL_PHASES);
  }

  /** Steps 1–3 of bar `t`: every instrument's price path at the venue, marks, funding, clock to the close, timers. */
  open(t: number): void {
    this.phases(t, t + 1, PHASE_OPEN);
  }

  /** Step 4 of bar `t`: each instrument's bar to the strategy; commands sent now reach the venue (zero latency) or wait. */
  deliver(t: number): void {
    this.phases(t, t + 1, PHASE_DELIVER | PHASE_DISPATCH);
  }

  /** Step 4, first half: each instrument's bar to the strategy. */
  deliverBars(t: number): void {
    this.phases(t, t + 1, PHASE_DELIVER);
  }

  /** Step 4, second half: commands sent since the bars were delivered reach the venue (zero latency) or wait. */
  dispatch(t: number): void {
    this.phases(t, t + 1, PHASE_DISPATCH);
  }

  /** Step 5 of bar `t`: equity, positions and per-instrument mark-to-market PnL at the close (logged in {@link BarRecords}; the curve written by {@link finish}, the other columns when first read). */
  record(t: number): void {
    this.phases(t, t + 1, PHASE_RECORD);
  }

  /**
   * The one implementation of steps 1–5: runs the `phases` (PHASE_* bits) of every bar from `from` to `until`. A full
   * run is one call (its loop keeps every array it touches in locals: 5–10 % faster than a call per step and bar);
   * the stepper and the signal runner call it for one phase of one bar. A method of its own, compiled once as a
   * function: as a loop inside {@link runBacktest} it was compiled on-stack and deoptimised at the end of every run.
   */
  private phases(from: number, until: number, phases: number): void {
    const { n, kernel, exchange, clock, bars, control, warmup, tf } = this;
    const P = this.present, C = this.close, TS = this.ts;
    const dense = this.dense;
    const fundingSchedule = this.fundingSchedule;
    const mark = kernel.portfolio.mark;
    const records = this.records;
    const portfolio = kernel.portfolio;
    const L = this.low, H = this.high;
    const QL = exchange.quietLow, QH = exchange.quietHigh, QV = exchange.quietVersion, QB = exchange.quietBars;
    const single = n === 1;
    const P0 = P[0] ?? NO_PRESENCE, L0 = L[0] ?? NO_VALUES, H0 = H[0] ?? NO_VALUES, C0 = C[0] ?? NO_VALUES;
    const bars0 = bars[0]!;
    const open = (phases & PHASE_OPEN) !== 0, deliver = (phases & PHASE_DELIVER) !== 0;
    const dispatch = (phases & PHASE_DISPATCH) !== 0, record = (phases & PHASE_RECORD) !== 0;
    for (let t = from; t < until; t++) {
      const tsOpen = TS[t]!;
      const tsClose = tsOpen + tf;
      if (open) {
        // Everything of bar t (hook, path, timers at its close, the bar) is warm-up or window alike: decided here, not
        // at the bar's delivery, so timers due at the window's first close trade and a run resumed at any bar agrees.
        kernel.warmingUp = t < warmup;
        if (control.beforeBar !== undefined) control.beforeBar(kernel, tsOpen);
        clock.advanceToTime(TS, t, 0);
        if (single) {
          // One instrument (most runs): its columns in locals, no loop (the same steps as below).
          if (dense || P0[t] !== 0) {
            if (QV[0] === portfolio.version && L0[t]! > QL[0]! && H0[t]! < QH[0]!) QB[0]!++;
            else exchange.processBar(0, bars0, t, tf);
            mark[0] = C0[t]!;
          }
        } else {
          for (let i = 0; i < n; i++) {
            if (!dense && P[i]![t] === 0) continue;
            // In the venue's quiet band nothing can happen on the bar: counted, not called (see quietLow).
            if (QV[i] === portfolio.version && L[i]![t]! > QL[i]! && H[i]![t]! < QH[i]!) QB[i]!++;
            else exchange.processBar(i, bars[i]!, t, tf);
          }
          // Marks move to the closes only after every instrument's path ran, so no path sees another's future close.
          for (let i = 0; i < n; i++) if (dense || P[i]![t] !== 0) mark[i] = C[i]![t]!;
        }
        // Funding: every settlement up to this close (the schedule is only consulted once a settlement is reached).
        if (tsClose >= fundingSchedule.next) fundingSchedule.settle(kernel, tsClose);
        clock.advanceToTime(TS, t, tf);
        if (kernel.hasTimers) kernel.fireTimers();
      }
      if (deliver) {
        // Marked at its close above: the kernel delivers the bar (its history counts the frame's row).
        if (single) {
          if (dense || P0[t] !== 0) kernel.onFrameBar(0, t);
        } else for (let i = 0; i < n; i++) if (dense || P[i]![t] !== 0) kernel.onFrameBar(i, t);
      }
      if (dispatch && exchange.hasCommands) {
        if (control.beforeCommands !== undefined) control.beforeCommands(kernel, tsOpen, exchange);
        exchange.processCommands(clock.now());
      }
      if (record) {
        records.close(t);
        if (control.afterBar !== undefined) control.afterBar(kernel, tsOpen, exchange);
      }
    }
  }

  /** Whether bar `t` is a warm-up bar (orders held back). */
  isWarmUp(t: number): boolean {
    return t < this.warmup;
  }

  /** Account equity now (quote currency, marked at the last closes). */
  get accountEquity(): number {
    return this.kernel.equity();
  }

  finish(): BacktestResult & { readonly state?: BacktestState } {
    const { kernel, exchange } = this;
    this.control.inspect?.(kernel);
    // Warm-up bars are not part of the results: views from the first bar of the window on (no copies).
    const w = Math.min(this.warmup, this.T);
    const f = this.spec.frame;
    const cut = (a: Float64Array) => (w === 0 ? a : a.subarray(w));
    const frame: BarFrame = w === 0 ? f : { ...f, ts: cut(f.ts), open: f.open.map(cut), high: f.high.map(cut), low: f.low.map(cut), close: f.close.map(cut), volume: f.volume.map(cut), present: f.present.map((p) => p.subarray(w)) };
    const notes = [...(this.spec.notes ?? []), ...this.extraNotes];
    if (w > 0) {
      notes.unshift(`warm-up: ${w} bars from ${new Date(f.ts[0]!).toISOString()} to ${new Date(f.ts[w - 1]!).toISOString()} replayed before the window (features, signals, filters and breaker warmed; ${kernel.ordersHeldInWarmUp} orders held back, none traded)`);
    }
    const spec = { ...this.spec, frame, notes };
    const T = this.T, n = f.close.length, dense = this.dense;
    const equity = uninitialised(T);
    const records = this.records, tf = this.tf;
    records.writeOut(f, { equity }, dense);
    // The curve's times (BarRecords.closeTimes) and each instrument's position and PnL columns are written when first
    // read: a run read only for its equity values or totals (a sweep's metrics, a benchmark) writes no 8 bytes per bar
    // for them. Written with the curve, they were two thirds of engine-fills' 8.8 MB a run (six sevenths of
    // engine-bars'), and that external memory's pressure set off most of the collector's full collections.
    let times: Float64Array | undefined;
    const curve = {
      get ts(): Float64Array {
        return (times ??= cut(records.closeTimes(f.ts, tf, T)));
      },
      value: cut(equity),
    };
    let columns: { positions: Float64Array[]; pnl: Float64Array[] } | undefined;
    const written = () => {
      if (columns === undefined) {
        const buffer = uninitialised(2 * n * T);
        const column = (k: number) => buffer.subarray(k * T, (k + 1) * T);
        const positions = Array.from({ length: n }, (_, i) => column(i)), pnl = Array.from({ length: n }, (_, i) => column(n + i));
        records.writeOut(f, { positions, pnl }, dense);
        columns = { positions: positions.map(cut), pnl: pnl.map(cut) };
      }
      return columns;
    };
    const positions = () => written().positions, pnl = () => written().pnl;
    const exposedBars = records.exposedCloses(w);
    const windowStart = w > 0 && curve.ts.length > 0 ? curve.ts[0]! : -Infinity;
    if (this.until < this.T) {
      // Stopped early: no onStop (the run goes on elsewhere); hand back what a restart needs.
      const result = buildResult(spec, kernel, exchange, curve, positions, pnl, windowStart, exposedBars);
      return { ...result, state: { nextBar: this.until, kernel: kernel.saveState(), venue: exchange.save() } };
    }
    kernel.stop();
    return buildResult(spec, kernel, exchange, curve, positions, pnl, windowStart, exposedBars);
  }
}

/** Whether `present` holds no 0 (Buffer's indexOf is a memchr: ~10× a typed array's `indexOf(0)` on 8,000 bars). */
function hasNoZero(present: Uint8Array): boolean {
  return Buffer.from(present.buffer, present.byteOffset, present.length).indexOf(0) < 0;
}

/**
 * `length` doubles of uninitialised memory (`BarRecords.writeOut` writes every index): a run's result columns. Zeroed,
 * they were cleared with a memset of all of them (glibc's calloc reuses the freed buffer of an earlier run), wasted
 * where positions are held (perf: about 2 % of engine-fills). The per-instrument columns share one buffer: one
 * allocation instead of 2n.
 */
function uninitialised(length: number): Float64Array {
  return new Float64Array(Buffer.allocUnsafeSlow(8 * length).buffer, 0, length);
}

/** A bar backtest stopped before bar `nextBar`: enough to resume it in a new process (plain JSON). */
export interface BacktestState {
  readonly nextBar: number;
  readonly kernel: KernelState;
  readonly venue: SimulatedVenueState;
}

/** Stop and resume points of {@link runBacktest} (both optional: the default runs every bar). */
export interface BacktestControl {
  /** Stop before this bar index (no onStop; the result carries `state`). */
  readonly stopBefore?: number;
  /** Resume a run saved by a stopped one (same spec and strategy type): continues at `resume.nextBar`. */
  readonly resume?: BacktestState;
  /** Called with the kernel once the run ended, before the result is built (e.g. `tm replay` reads its order book). */
  readonly inspect?: (kernel: Kernel) => void;
  /** Called before each bar time is opened, with its open time (e.g. `tm replay` applies the live run's entry blocks). */
  readonly beforeBar?: (kernel: Kernel, tsOpen: number) => void;
  /**
   * Called after the strategy saw a bar time that sent commands, before they reach the simulated venue (the clock at
   * its close), with its open time and the venue (e.g. `tm replay` fills an order whose cancel the live venue refused,
   * as it had filled the order first). Not called for a bar time without commands (the bar loop's common case).
   */
  readonly beforeCommands?: (kernel: Kernel, tsOpen: number, venue: SimulatedExecutionClient) => void;
  /**
   * Called after each bar time was recorded (the clock at its close), with its open time and the simulated venue
   * (e.g. `tm replay` applies a live run's stop there, and fills its flatten at the marks as the paper run did).
   */
  readonly afterBar?: (kernel: Kernel, tsOpen: number, venue: SimulatedExecutionClient) => void;
}

/** Assembles the {@link BacktestResult} of a finished run. Shared by the bar and tick runners. */
export function buildResult(
  spec: Pick<BacktestSpec, 'name' | 'instruments' | 'initialCash' | 'periodsPerYear' | 'dataSources' | 'notes' | 'seed' | 'config' | 'funding'> & { frame?: BarFrame; timeframe?: string },
  kernel: Kernel,
  exchange: SimulatedExecutionClient,
  equity: { ts: Float64Array; value: Float64Array },
  /** Each instrument's position column, asked for when a result's `bars[i].position` is first read. */
  positions: () => readonly Float64Array[],
  /** Each instrument's PnL column (bar runs), asked for when first read. */
  pnl?: () => readonly Float64Array[],
  /** Engine time the results start at (the first bar close after a warm-up); annotations before it are dropped. */
  windowStart = -Infinity,
  /** {@link BacktestResult.exposedBars} (bar runs). */
  exposedBars?: number,
): BacktestResult {
  const ids = spec.instruments.map((x) => x.id);
  // The fill and trade records are built when first read (then kept), from the kernel's compact logs as they are
  // now: a run whose caller reads only the curve and the totals (a sweep's metrics) builds none of them. Built at
  // once they were a quarter of engine-fills' allocation, and kept alive while the next run's collections copied them.
  const log = kernel.fillLog, tracker = kernel.tracker;
  const fillCount = log.length, tripCount = tracker.closedCount;
  let fills: FillRecord[] | undefined, trades: TradeRecord[] | undefined;
  const notes = [...(spec.notes ?? [])];
  const fallback = (spec.funding as { fallbackUsed?: { count: number; first: number; last: number }[]; fallback?: { kind: string; rate?: number } }).fallbackUsed;
  if (fallback) {
    fallback.forEach((u, i) => {
      if (u.count === 0) return;
      const fb = (spec.funding as { fallback?: { kind: string; rate?: number } }).fallback!;
      notes.push(
        `funding fallback for ${ids[i]}: ${u.count} settlements from ${new Date(u.first).toISOString()} to ${new Date(u.last).toISOString()} had no funding data; applied ${fb.kind === 'constant' ? `a constant rate of ${fb.rate} per 8h` : 'a zero rate'}`,
      );
    });
  }
  if (exchange.liquidations > 0) notes.push(`${exchange.liquidations} liquidation(s) occurred`);
  for (const r of kernel.rejections.slice(0, 20)) notes.push(`order ${r.clientOrderId} rejected at ${new Date(r.ts).toISOString()}: ${r.reason}`);
  if (kernel.rejections.length > 20) notes.push(`… and ${kernel.rejections.length - 20} more rejected orders`);
  const risk = riskOf(kernel, notes);
  const p = kernel.portfolio;
  const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  const frame = spec.frame;
  return {
    name: spec.name,
    instruments: ids,
    dataSources: spec.dataSources,
    timeframe: frame?.timeframe ?? spec.timeframe ?? '',
    periodsPerYear: spec.periodsPerYear,
    initialCash: spec.initialCash,
    equity,
    bars: spec.instruments.map((_, i) => {
      const prices = {
        ts: frame ? frame.ts : new Float64Array(0),
        open: frame ? frame.open[i]! : new Float64Array(0),
        high: frame ? frame.high[i]! : new Float64Array(0),
        low: frame ? frame.low[i]! : new Float64Array(0),
        close: frame ? frame.close[i]! : new Float64Array(0),
        present: frame ? frame.present[i]! : new Uint8Array(0),
      };
      if (pnl === undefined) return { ...prices, get position() { return positions()[i]!; } };
      return { ...prices, get position() { return positions()[i]!; }, get pnl() { return pnl()[i]!; } };
    }),
    get fills(): readonly FillRecord[] {
      return (fills ??= fillRecords(log, ids, fillCount));
    },
    get trades(): readonly TradeRecord[] {
      return (trades ??= tracker.tripsNamed(ids, tripCount));
    },
    funding: kernel.fundingEvents.map((e) => ({ ts: e.ts, instrument: ids[e.instrument]!, rate: e.rate, markPrice: e.markPrice, position: e.position, payment: e.payment, source: e.source })),
    notes,
    turnoverNotional: sum(p.turnover),
    feesPaid: sum(p.fees),
    fundingPaid: sum(p.funding),
    positions: ids.map((instrument, i) => ({ instrument, quantity: p.quantity[i]!, entryPrice: p.entryPrice[i]!, realizedPnl: p.realized[i]!, fees: p.fees[i]!, funding: p.funding[i]! })),
    liquidations: exchange.liquidations,
    ...(exposedBars !== undefined ? { exposedBars } : {}),
    venuePriceEvents: exchange.pricesProcessed,
    venueBarsChecked: exchange.barsChecked,
    seed: spec.seed,
    config: spec.config,
    ...annotationsOf(kernel, ids, windowStart),
    ...(risk !== undefined ? { risk } : {}),
  };
}

/** The first `count` fills of `log` as result records, instruments named by `ids`. */
function fillRecords(log: FillLog, ids: readonly string[], count: number): FillRecord[] {
  // Plain literals, no spread: a spread builds each record through the generic copy path (several times the time
  // and memory of a literal, on every fill of a run).
  const fills: FillRecord[] = [];
  for (let k = 0; k < count; k++) {
    const r: { -readonly [K in keyof FillRecord]: FillRecord[K] } = {
      ts: log.tsEventOf(k), instrument: ids[log.instrumentOf(k)]!, clientOrderId: log.clientOrderIdOf(k), side: log.sideOf(k),
      quantity: log.quantityOf(k), price: log.priceOf(k), fee: log.feeOf(k), liquidity: log.liquidityOf(k),
    };
    if (log.isLiquidation(k)) r.reason = 'liquidation';
    fills.push(r);
  }
  return fills;
}

/** What the pre-trade risk engine did (denials per rule, state changes, flattens), noted; undefined when nothing. */
function riskOf(kernel: Kernel, notes: string[]): BacktestRisk | undefined {
  const r = kernel.risk;
  const denials = r.denials();
  const denied = r.deniedCount;
  if (denied === 0 && r.changes.length === 0 && r.flattens.length === 0) return undefined;
  const iso = (ms: number) => new Date(ms).toISOString();
  if (denied > 0) notes.push(`risk: ${denied} order(s) denied before reaching the venue (${Object.entries(denials).map(([rule, n]) => `${rule} ${n}`).join(', ')})`);
  for (const c of r.changes.slice(0, 20)) notes.push(`risk: trading state ${c.from} -> ${c.to} at ${iso(c.ts)} (${c.trigger}): ${c.reason}`);
  if (r.changes.length > 20) notes.push(`risk: … and ${r.changes.length - 20} more trading state changes`);
  for (const f of r.flattens.slice(0, 20)) notes.push(`risk: flattened at ${iso(f.ts)} (${f.reason}): ${f.canceled.length} working order(s) canceled, ${f.orders.length} reduce-only market order(s) sent`);
  if (r.flattens.length > 20) notes.push(`risk: … and ${r.flattens.length - 20} more flattens`);
  return { denials, stateChanges: [...r.changes], flattens: [...r.flattens] };
}

/** The kernel's annotations with instrument ids, as the optional `annotations` field (nothing when none were made). */
function annotationsOf(kernel: Kernel, ids: readonly string[], from = -Infinity): { annotations?: BacktestAnnotations } {
  const a = kernel.annotations();
  if (a === undefined) return {};
  // Only the window counts: warm-up samples are dropped; the tier in force when the window opens starts at `from`.
  const tiers: TierAnnotation[] = [];
  const before = new Map<number, TierAnnotation>();
  for (const x of a.tiers) {
    const t = { instrument: ids[x.instrument]!, ts: x.ts, tier: x.tier, reason: x.reason };
    if (x.ts >= from) tiers.push(t);
    else before.set(x.instrument, { ...t, ts: from });
  }
  const opening = [...before.entries()].filter(([i]) => !a.tiers.some((x) => x.instrument === i && x.ts === from)).sort((p, q) => p[0] - q[0]).map(([, t]) => t);
  tiers.unshift(...opening);
  const regimes = a.regimes.map((r) => {
    let k = 0;
    while (k < r.ts.length && r.ts[k]! < from) k++;
    return { instrument: ids[r.instrument]!, labels: r.labels, ts: r.ts.subarray(k), probabilities: r.probabilities.map((p) => p.subarray(k)) };
  });
  const annotations: BacktestAnnotations = {
    ...(tiers.length > 0 ? { tiers } : {}),
    ...(regimes.length > 0 ? { regimeProbabilities: regimes } : {}),
  };
  return { annotations };
}
