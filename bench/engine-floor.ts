import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BarFrame } from '../src/data/bar-frame.js';
import { growTo } from '../src/core/typed-arrays.js';
import type { RoundTrip } from '../src/engine/trade-tracker.js';
import { median } from './bench-result.js';
import { referenceLoopMs } from './machine-speed.js';

/** A floor figure: the median rate, each round's rate, and (fills) the fills it made per run. */
export interface FloorFigure {
  readonly value: number;
  readonly rounds: readonly number[];
  /** The machine's speed just before each round (bench/machine-speed.ts), in the order of `rounds`. */
  readonly referenceMs: readonly number[];
  readonly fills?: number;
  /** The operating system's part of the timed runs (`fills-no-orders`: see engine-fills' KernelTime). */
  readonly kernel?: { readonly systemMsPerRun: number; readonly minorPageFaultsPerRun: number };
}

/**
 * What `bench/floor-child` measures: engine-bars' floor loop with a filled-in or a lazy bar, engine-fills' floor loop,
 * or (`fills-no-orders`, not a floor) the engine on engine-fills' run with a strategy that computes the same SMAs and
 * crosses but sends no orders.
 */
export type FloorKind = 'bars-eager' | 'bars-lazy' | 'fills' | 'fills-no-orders';

/**
 * Measures one floor in a fresh node process (`bench/floor-child`, with this process's loader flags): loops measured
 * one after another in one process share their closures' type feedback, which slows the later ones.
 */
export function floorInChild(kind: FloorKind): FloorFigure {
  const child = fileURLToPath(new URL(`./floor-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
  const out = execFileSync(process.execPath, [...process.execArgv, child, kind], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as FloorFigure;
}

/**
 * A bar that reads its fields from the frame's columns when asked: setting it costs three stores per event instead
 * of nine, and a strategy pays only for the fields it reads. The kindest bar hand-over to the floor below.
 */
class LazyBar {
  instrument = 0;
  index = 0;
  t = 0;
  constructor(private readonly frame: BarFrame) {}
  get tsOpen(): number {
    return this.frame.ts[this.t]!;
  }
  get open(): number {
    return this.frame.open[this.instrument]![this.t]!;
  }
  get high(): number {
    return this.frame.high[this.instrument]![this.t]!;
  }
  get low(): number {
    return this.frame.low[this.instrument]![this.t]!;
  }
  get close(): number {
    return this.frame.close[this.instrument]![this.t]!;
  }
  get volume(): number {
    return this.frame.volume[this.instrument]![this.t]!;
  }
}

/**
 * The floor under `engine-bars`: bar events per second of a hand-written loop over the same frame that does only the
 * least any event-by-event bar backtest must do per event, with no engine at all — a range check of one resting buy
 * limit per instrument, the mark, a bar object handed to a strategy callback (which looks at its open-order count,
 * as the benchmark's strategy does), and equity, position and PnL recorded per bar into arrays allocated per run.
 * No order lifecycle, no venue rules, no liquidation, funding, timers, history or risk. It tells how far the engine
 * is from what this machine and V8 can do at all; it is not a target. `bars: 'lazy'` hands the strategy a
 * {@link LazyBar} instead of a filled-in bar object.
 */
export function floorRate(frame: BarFrame, runs: number, rounds: number, bars: 'eager' | 'lazy' = 'eager'): FloorFigure {
  const n = frame.close.length;
  const T = frame.ts.length;
  const events = frame.present.reduce((a, p) => a + p.reduce((x, y) => x + y, 0), 0);
  const ctx = { open: new Int32Array(n) };
  const strategy = {
    onBar(c: typeof ctx, bar: { instrument: number; close: number }): void {
      if (c.open[bar.instrument]! > 0) return;
      c.open[bar.instrument] = 1;
    },
  };
  const bar = { instrument: 0, index: 0, tsOpen: 0, tsEvent: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
  const lazy = new LazyBar(frame);
  const run = (): number => {
    const mark = new Float64Array(n).fill(NaN), q = new Float64Array(n), entry = new Float64Array(n), limit = new Float64Array(n);
    const count = new Int32Array(n);
    const equityTs = new Float64Array(T), equity = new Float64Array(T);
    const positions = Array.from({ length: n }, () => new Float64Array(T)), pnl = Array.from({ length: n }, () => new Float64Array(T));
    ctx.open.fill(0);
    const { ts, open, high, low, close, volume, present } = frame;
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < n; i++) {
        if (present[i]![t] === 0 || ctx.open[i] === 0 || low[i]![t]! > limit[i]!) continue;
        q[i] = q[i]! + 1;
        entry[i] = limit[i]!;
        ctx.open[i] = 0;
      }
      for (let i = 0; i < n; i++) if (present[i]![t] !== 0) mark[i] = close[i]![t]!;
      for (let i = 0; i < n; i++) {
        if (present[i]![t] === 0) continue;
        const c = close[i]![t]!;
        if (bars === 'lazy') {
          lazy.instrument = i;
          lazy.t = t;
          lazy.index = count[i]!++;
          strategy.onBar(ctx, lazy);
        } else {
          bar.instrument = i;
          bar.index = count[i]!++;
          bar.tsOpen = ts[t]!;
          bar.tsEvent = ts[t]! + 1;
          bar.open = open[i]![t]!;
          bar.high = high[i]![t]!;
          bar.low = low[i]![t]!;
          bar.close = c;
          bar.volume = volume[i]![t]!;
          strategy.onBar(ctx, bar);
        }
        if (ctx.open[i] === 1 && limit[i] !== c * 0.8) limit[i] = c * 0.8;
      }
      let e = 10_000;
      for (let i = 0; i < n; i++) {
        const u = q[i] === 0 ? 0 : q[i]! * (mark[i]! - entry[i]!);
        e += u;
        positions[i]![t] = q[i]!;
        pnl[i]![t] = u;
      }
      equityTs[t] = ts[t]! + 1;
      equity[t] = e;
    }
    return equity[T - 1]!;
  };
  return timedRates(run, 40, rounds, runs, events);
}

/**
 * The median and each round's rate (`units` per call of `run`, per second) of `rounds` timed rounds of `runs` calls,
 * after `warmups` calls (JIT), with the machine's speed just before each round.
 */
function timedRates(run: () => unknown, warmups: number, rounds: number, runs: number, units: number): FloorFigure {
  for (let k = 0; k < warmups; k++) run();
  const rates: number[] = [], referenceMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    referenceMs.push(referenceLoopMs());
    const t0 = performance.now();
    for (let k = 0; k < runs; k++) run();
    rates.push((runs * units) / ((performance.now() - t0) / 1000));
  }
  return { value: Math.round(median(rates)), rounds: rates.map((x) => Math.round(x)), referenceMs };
}

/** A fill as the fills floor reports it (built when read from the numbers the run logged, as the engine's result is). */
interface FloorFill {
  readonly sequence: number;
  readonly ts: number;
  readonly side: number;
  readonly quantity: number;
  readonly price: number;
  readonly fee: number;
}

/** A closed round trip as the fills floor records it: the engine's numbers of one (PnL before fees). */
type FloorTrip = Pick<RoundTrip, 'entryTs' | 'exitTs' | 'entryPrice' | 'exitPrice' | 'quantity' | 'pnl'>;

/** One run of the fills floor: equity per bar, and its fills and round trips (objects built on each read). */
export interface FillsFloorRun {
  readonly equity: Float64Array;
  readonly fills: readonly FloorFill[];
  readonly trips: readonly FloorTrip[];
}

/** A strategy of the fills floor: sees each bar and may give one market order through `submit(side, quantity)`. */
export interface FloorStrategy {
  onBar(submit: (side: number, quantity: number) => void, bar: { close: number }): void;
  reset(): void;
}

/**
 * The loop under `engine-fills`: a function running the least an event-by-event backtest of a one-instrument case
 * must do, with no engine: a filled-in bar object to the strategy callback, a market order given at a close filling
 * at the next bar's open moved `slippageBps` against it with a taker fee of `takerFee` × notional, one position
 * (quantity, average entry, realized PnL), each fill's and each closed or reversed position's numbers logged into
 * typed arrays that double when full (objects built only when read, as the engine's result builds its records), and
 * equity, position and PnL recorded per bar into arrays allocated per run. No order lifecycle, ids,
 * events, venue rules, liquidation, funding or timers. Each call is a full run from the start.
 */
export function fillsFloor(
  frame: BarFrame,
  strategy: FloorStrategy,
  options: { readonly slippageBps: number; readonly takerFee: number; readonly initialCash: number },
): () => FillsFloorRun {
  const T = frame.ts.length;
  const { ts } = frame;
  const open = frame.open[0]!, high = frame.high[0]!, low = frame.low[0]!, close = frame.close[0]!, volume = frame.volume[0]!;
  const tf = T > 1 ? ts[1]! - ts[0]! : 0;
  const slip = options.slippageBps / 10_000;
  const pending = new Float64Array(2); // [side, quantity] of the order given at the last close (side 0: none)
  const submit = (side: number, quantity: number): void => {
    pending[0] = side;
    pending[1] = quantity;
  };
  const bar = { instrument: 0, index: 0, tsOpen: 0, tsEvent: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
  const book = new Float64Array(4); // [quantity, average entry, realized, fees]
  return () => {
    strategy.reset();
    pending[0] = 0;
    book.fill(0);
    let fillLog = new Float64Array(FILL_NUMBERS * 256), tripLog = new Float64Array(TRIP_NUMBERS * 256);
    let nFills = 0, nTrips = 0;
    const equity = new Float64Array(T), position = new Float64Array(T), pnl = new Float64Array(T);
    let entryTs = 0;
    for (let t = 0; t < T; t++) {
      if (pending[0] !== 0) {
        const side = pending[0]!, quantity = pending[1]!;
        pending[0] = 0;
        const price = open[t]! * (1 + side * slip);
        const fee = quantity * price * options.takerFee;
        book[3] = book[3]! + fee;
        if ((nFills + 1) * FILL_NUMBERS > fillLog.length) fillLog = growTo(fillLog, 2 * fillLog.length);
        const f = nFills++ * FILL_NUMBERS;
        fillLog[f] = ts[t]!;
        fillLog[f + 1] = side;
        fillLog[f + 2] = quantity;
        fillLog[f + 3] = price;
        fillLog[f + 4] = fee;
        let q = book[0]!, rest = quantity;
        if (q !== 0 && Math.sign(q) !== side) {
          const closed = Math.min(Math.abs(q), rest);
          const gain = closed * (price - book[1]!) * Math.sign(q);
          book[2] = book[2]! + gain;
          if ((nTrips + 1) * TRIP_NUMBERS > tripLog.length) tripLog = growTo(tripLog, 2 * tripLog.length);
          const r = nTrips++ * TRIP_NUMBERS;
          tripLog[r] = entryTs;
          tripLog[r + 1] = ts[t]!;
          tripLog[r + 2] = book[1]!;
          tripLog[r + 3] = price;
          tripLog[r + 4] = closed * Math.sign(q);
          tripLog[r + 5] = gain;
          q += side * closed;
          rest -= closed;
          if (q === 0) book[1] = 0;
        }
        if (rest > 0) {
          book[1] = q === 0 ? price : (book[1]! * Math.abs(q) + price * rest) / (Math.abs(q) + rest);
          if (q === 0) entryTs = ts[t]!;
          q += side * rest;
        }
        book[0] = q;
      }
      bar.index = t;
      bar.tsOpen = ts[t]!;
      bar.tsEvent = ts[t]! + tf;
      bar.open = open[t]!;
      bar.high = high[t]!;
      bar.low = low[t]!;
      bar.close = close[t]!;
      bar.volume = volume[t]!;
      strategy.onBar(submit, bar);
      const q = book[0]!;
      const total = book[2]! - book[3]! + (q === 0 ? 0 : q * (close[t]! - book[1]!));
      equity[t] = options.initialCash + total;
      position[t] = q;
      pnl[t] = total;
    }
    const fl = fillLog, tl = tripLog;
    const fillAt = (k: number, x: number) => fl[k * FILL_NUMBERS + x]!, tripAt = (k: number, x: number) => tl[k * TRIP_NUMBERS + x]!;
    return {
      equity,
      get fills(): FloorFill[] {
        return Array.from({ length: nFills }, (_, k) => ({ sequence: k, ts: fillAt(k, 0), side: fillAt(k, 1), quantity: fillAt(k, 2), price: fillAt(k, 3), fee: fillAt(k, 4) }));
      },
      get trips(): FloorTrip[] {
        return Array.from({ length: nTrips }, (_, k) => ({ entryTs: tripAt(k, 0), exitTs: tripAt(k, 1), entryPrice: tripAt(k, 2), exitPrice: tripAt(k, 3), quantity: tripAt(k, 4), pnl: tripAt(k, 5) }));
      },
    };
  };
}

/** Numbers logged per fill (ts, side, quantity, price, fee) and per round trip (entry and exit ts and price, quantity, PnL). */
const FILL_NUMBERS = 5, TRIP_NUMBERS = 6;

/** Bars per second of {@link fillsFloor}: the median of `rounds` timed runs after 5 warm-up runs. */
export function fillsFloorRate(frame: BarFrame, strategy: FloorStrategy, options: Parameters<typeof fillsFloor>[2] & { readonly rounds: number }): FloorFigure {
  const run = fillsFloor(frame, strategy, options);
  const fills = run().fills.length; // every run makes the same fills (each starts from scratch)
  return { ...timedRates(run, 4, options.rounds, 1, frame.ts.length), fills };
}
