import { InvariantError } from '../core/app-error.js';
import { DAY_MS } from '../core/time.js';

/**
 * One feature's incremental form: reads the newest bar (and ring-buffered history) of a {@link BarStream}
 * and writes its outputs into a preallocated row. Implementations keep only fixed-size state (no per-bar allocation)
 * and use the same arithmetic, in the same order, as the feature's batch function, so both give identical values.
 */
export interface FeatureKernel {
  /** Writes this feature's outputs for the newest bar of `stream` into `row[offset ..]`. */
  update(stream: BarStream, row: Float64Array, offset: number): void;
  /**
   * Takes the newest bar of `stream` into the kernel's state without computing its outputs (a bar whose features
   * nobody reads: the warm-up replay of a saved runner state): any later {@link update} writes exactly what it would
   * have written had this bar been an `update`. Kernels without state of their own (they read only the stream) do nothing.
   */
  skip(stream: BarStream): void;
  /** Forgets all state (as if no bar had been seen). */
  reset(): void;
}

/** A kernel with no state of its own (it reads only the stream): skipping a bar or resetting changes nothing. */
export abstract class StatelessKernel implements FeatureKernel {
  abstract update(stream: BarStream, row: Float64Array, offset: number): void;
  skip(): void {}
  reset(): void {}
}

/** How much history a feature's kernel reads back from a {@link BarStream}. */
export interface StreamHistory {
  /** Largest `k` such that the kernel reads stream bar arrays at `t - k`. */
  readonly bars: number;
  /** Number of most recent funding settlements read. */
  readonly funding?: number;
  /** Number of most recent usable DVOL days read. */
  readonly dvol?: number;
}

/** Smallest power of two `>= n` (at least 2). */
export function ringSize(n: number): number {
  let c = 2;
  while (c < n) c *= 2;
  return c;
}

/**
 * The newest bars of one symbol in ring buffers, plus funding settlements and DVOL days as they become usable.
 * `t` counts bars since the start (0 = first bar); the value of bar `t - k` of a bar array `a` is `a[(t - k) & mask]`,
 * valid for `k <= t` and `k < capacity`. Shared by every kernel of an incremental pipeline.
 */
export class BarStream {
  readonly mask: number;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly referenceClose: Float64Array;
  /** `ln(close[t] / close[t-1])`, NaN at t = 0. */
  readonly logReturn: Float64Array;
  /** `ln(referenceClose[t] / referenceClose[t-1])`, NaN at t = 0. */
  readonly referenceLogReturn: Float64Array;
  /** Index of the newest bar since the start; -1 before the first bar. */
  t = -1;
  /** Open and close time of the newest bar (epoch ms). */
  tsOpen = NaN;
  tsClose = NaN;

  /** Funding settlements usable at the newest bar's close: count, and ring of their rates (newest at `(count - 1) & fundingMask`). */
  fundingCount = 0;
  /** Time of the newest usable funding settlement (NaN before the first). */
  lastFundingTs = NaN;
  readonly fundingMask: number;
  readonly fundingRate: Float64Array;
  /** DVOL days usable at the newest bar's close (day start + 24h <= close): count, rings of day starts and values. */
  dvolCount = 0;
  readonly dvolMask: number;
  readonly dvolTs: Float64Array;
  readonly dvolValue: Float64Array;

  private readonly pendingFunding = new TimedQueue();
  private readonly pendingDvol = new TimedQueue();

  constructor(readonly timeframeMs: number, history: StreamHistory) {
    const cap = ringSize(history.bars + 1);
    this.mask = cap - 1;
    this.open = new Float64Array(cap);
    this.high = new Float64Array(cap);
    this.low = new Float64Array(cap);
    this.close = new Float64Array(cap);
    this.volume = new Float64Array(cap);
    this.referenceClose = new Float64Array(cap);
    this.logReturn = new Float64Array(cap);
    this.referenceLogReturn = new Float64Array(cap);
    const fundingCap = ringSize(history.funding ?? 1);
    this.fundingMask = fundingCap - 1;
    this.fundingRate = new Float64Array(fundingCap);
    const dvolCap = ringSize(history.dvol ?? 1);
    this.dvolMask = dvolCap - 1;
    this.dvolTs = new Float64Array(dvolCap);
    this.dvolValue = new Float64Array(dvolCap);
  }

  /** Queues a funding settlement; it becomes usable at the first bar whose close is `>= ts`. */
  pushFunding(ts: number, rate: number): void {
    this.pendingFunding.push(ts, rate, 'funding settlement');
  }

  /** Queues a DVOL day (`dayTs` = the day's 00:00 UTC, `value` = its close); usable at bar closes `>= dayTs + 24h`. */
  pushDvol(dayTs: number, value: number): void {
    if (dayTs % DAY_MS !== 0) throw new InvariantError(`DVOL \`dayTs\` must be a day at 00:00 UTC, was ${dayTs}`, { dayTs });
    this.pendingDvol.push(dayTs, value, 'DVOL day');
  }

  /** Appends a closed bar and moves the funding settlements and DVOL days usable at its close out of the queues. */
  advance(tsOpen: number, open: number, high: number, low: number, close: number, volume: number, referenceClose: number): void {
    if (!(tsOpen > this.tsOpen) && this.t >= 0) {
      throw new InvariantError(`bar open times must be strictly increasing, was ${this.tsOpen} then ${tsOpen}`, { previous: this.tsOpen, tsOpen });
    }
    const t = ++this.t;
    const i = t & this.mask;
    const p = (t - 1) & this.mask;
    this.tsOpen = tsOpen;
    const tsClose = (this.tsClose = tsOpen + this.timeframeMs);
    this.open[i] = open;
    this.high[i] = high;
    this.low[i] = low;
    this.close[i] = close;
    this.volume[i] = volume;
    this.referenceClose[i] = referenceClose;
    this.logReturn[i] = t >= 1 ? Math.log(close / this.close[p]!) : NaN;
    this.referenceLogReturn[i] = t >= 1 ? Math.log(referenceClose / this.referenceClose[p]!) : NaN;
    const f = this.pendingFunding;
    while (f.size > 0 && f.firstTs() <= tsClose) {
      this.fundingRate[this.fundingCount++ & this.fundingMask] = f.firstValue();
      this.lastFundingTs = f.firstTs();
      f.shift();
    }
    const d = this.pendingDvol;
    while (d.size > 0 && d.firstTs() + DAY_MS <= tsClose) {
      const j = this.dvolCount++ & this.dvolMask;
      this.dvolTs[j] = d.firstTs();
      this.dvolValue[j] = d.firstValue();
      d.shift();
    }
  }

  /** Forgets every bar, settlement and DVOL day (queued ones too). */
  reset(): void {
    this.t = -1;
    this.tsOpen = NaN;
    this.tsClose = NaN;
    this.fundingCount = 0;
    this.lastFundingTs = NaN;
    this.dvolCount = 0;
    this.pendingFunding.clear();
    this.pendingDvol.clear();
  }
}

/** FIFO of (time, value) pairs with strictly increasing times; grows by doubling, never per push in steady state. */
class TimedQueue {
  private ts = new Float64Array(16);
  private value = new Float64Array(16);
  private head = 0;
  private tail = 0;
  private lastTs = -Infinity;

  get size(): number {
    return this.tail - this.head;
  }

  push(ts: number, value: number, what: string): void {
    if (!(ts > this.lastTs)) throw new InvariantError(`${what} times must be strictly increasing, was ${this.lastTs} then ${ts}`, { previous: this.lastTs, ts });
    this.lastTs = ts;
    if (this.tail === this.ts.length) {
      if (this.head > 0) {
        this.ts.copyWithin(0, this.head, this.tail);
        this.value.copyWithin(0, this.head, this.tail);
        this.tail -= this.head;
        this.head = 0;
      } else {
        const ts2 = new Float64Array(this.ts.length * 2);
        const v2 = new Float64Array(this.ts.length * 2);
        ts2.set(this.ts);
        v2.set(this.value);
        this.ts = ts2;
        this.value = v2;
      }
    }
    this.ts[this.tail] = ts;
    this.value[this.tail++] = value;
  }

  firstTs(): number {
    return this.ts[this.head]!;
  }

  firstValue(): number {
    return this.value[this.head]!;
  }

  shift(): void {
    if (++this.head === this.tail) this.head = this.tail = 0;
  }

  clear(): void {
    this.head = this.tail = 0;
    this.lastTs = -Infinity;
  }
}
