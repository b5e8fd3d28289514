import { AppError } from '../core/app-error.js';
import type { DailySeries, FeatureInputs, FundingSettlements } from '../features/index.js';

export type StreamingInputsErrorCode = 'inputs_out_of_order';
export class StreamingInputsError extends AppError<StreamingInputsErrorCode> {}

/** Which optional inputs a {@link StreamingFeatureInputs} carries (those the pipeline reads). */
export interface StreamingInputsShape {
  readonly funding: boolean;
  readonly dvol: boolean;
  readonly reference: boolean;
  /** Initial bar capacity (grows by doubling); default 1024. */
  readonly capacity?: number;
}

/**
 * Feature inputs that grow one closed bar at a time (the live runner's): the signal stage reads them by bar index
 * exactly as it reads a stored frame's {@link FeatureInputs}, so the same stage object serves backtests and live runs.
 * Bars are appended in order ({@link pushBar} returns the bar's index); funding settlements and DVOL days are appended
 * as they become known (the stage uses each only from the bar close it is known at, as with a stored series).
 * Bar columns are capacity-sized buffers valid up to {@link length}; the funding and DVOL series are exact views.
 */
export class StreamingFeatureInputs implements FeatureInputs {
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  referenceClose: Float64Array | undefined;
  funding: FundingSettlements | undefined;
  dvol: DailySeries | undefined;
  /** Bars appended so far. */
  length = 0;
  private readonly fundingBuf: GrowingSeries | undefined;
  private readonly dvolBuf: GrowingSeries | undefined;

  constructor(
    readonly timeframeMs: number,
    shape: StreamingInputsShape,
  ) {
    const c = shape.capacity ?? 1024;
    this.ts = new Float64Array(c);
    this.open = new Float64Array(c);
    this.high = new Float64Array(c);
    this.low = new Float64Array(c);
    this.close = new Float64Array(c);
    this.volume = new Float64Array(c);
    this.referenceClose = shape.reference ? new Float64Array(c) : undefined;
    if (shape.funding) {
      this.fundingBuf = new GrowingSeries();
      this.funding = { ts: this.fundingBuf.tsView(), rate: this.fundingBuf.valueView() };
    }
    if (shape.dvol) {
      this.dvolBuf = new GrowingSeries();
      this.dvol = { ts: this.dvolBuf.tsView(), value: this.dvolBuf.valueView() };
    }
  }

  /** Open time of the newest bar (-Infinity before the first). */
  get lastBarTs(): number {
    return this.length === 0 ? -Infinity : this.ts[this.length - 1]!;
  }

  /** Time of the newest funding settlement held (-Infinity before the first). */
  get lastFundingTs(): number {
    return this.fundingBuf?.lastTs ?? -Infinity;
  }

  /** Day start of the newest DVOL value held (-Infinity before the first). */
  get lastDvolTs(): number {
    return this.dvolBuf?.lastTs ?? -Infinity;
  }

  /**
   * Appends a closed bar and returns its index.
   * @throws StreamingInputsError `inputs_out_of_order` when `ts` is not after the last bar's open time.
   */
  pushBar(ts: number, open: number, high: number, low: number, close: number, volume: number, referenceClose = NaN): number {
    if (!(ts > this.lastBarTs)) throw new StreamingInputsError('inputs_out_of_order', `bar at ${new Date(ts).toISOString()} is not after the last bar (${new Date(this.lastBarTs).toISOString()})`, { ts, last: this.lastBarTs });
    if (this.length === this.ts.length) this.grow();
    const t = this.length++;
    this.ts[t] = ts;
    this.open[t] = open;
    this.high[t] = high;
    this.low[t] = low;
    this.close[t] = close;
    this.volume[t] = volume;
    if (this.referenceClose !== undefined) this.referenceClose[t] = referenceClose;
    return t;
  }

  /** Appends a funding settlement newer than the last one held (an older or repeated one is ignored: sources overlap). */
  pushFunding(ts: number, rate: number): void {
    const b = this.fundingBuf;
    if (b !== undefined && b.push(ts, rate)) this.funding = { ts: b.tsView(), rate: b.valueView() };
  }

  /** Appends funding settlements in time order (as {@link pushFunding} each; the series' views are renewed once). */
  pushFundingSeries(ts: ArrayLike<number>, rate: ArrayLike<number>): void {
    const b = this.fundingBuf;
    if (b !== undefined && b.pushAll(ts, rate)) this.funding = { ts: b.tsView(), rate: b.valueView() };
  }

  /** Appends DVOL days in time order (as {@link pushDvol} each; the series' views are renewed once). */
  pushDvolSeries(ts: ArrayLike<number>, value: ArrayLike<number>): void {
    const b = this.dvolBuf;
    if (b !== undefined && b.pushAll(ts, value)) this.dvol = { ts: b.tsView(), value: b.valueView() };
  }

  /** Appends a DVOL day newer than the last one held (older or repeated ones are ignored). */
  pushDvol(ts: number, value: number): void {
    const b = this.dvolBuf;
    if (b !== undefined && b.push(ts, value)) this.dvol = { ts: b.tsView(), value: b.valueView() };
  }

  /** Forgets every bar, settlement and DVOL day (a warm-up that starts over). */
  reset(): void {
    this.length = 0;
    if (this.fundingBuf !== undefined) {
      this.fundingBuf.reset();
      this.funding = { ts: this.fundingBuf.tsView(), rate: this.fundingBuf.valueView() };
    }
    if (this.dvolBuf !== undefined) {
      this.dvolBuf.reset();
      this.dvol = { ts: this.dvolBuf.tsView(), value: this.dvolBuf.valueView() };
    }
  }

  private grow(): void {
    this.ts = grown(this.ts);
    this.open = grown(this.open);
    this.high = grown(this.high);
    this.low = grown(this.low);
    this.close = grown(this.close);
    this.volume = grown(this.volume);
    if (this.referenceClose !== undefined) this.referenceClose = grown(this.referenceClose);
  }
}

function grown(a: Float64Array): Float64Array {
  const b = new Float64Array(Math.max(16, a.length * 2));
  b.set(a);
  return b;
}

/** A time series appended in time order (capacity doubling); views are exact (`subarray` of the filled part). */
class GrowingSeries {
  private ts: Float64Array = new Float64Array(64);
  private value: Float64Array = new Float64Array(64);
  private n = 0;

  get lastTs(): number {
    return this.n === 0 ? -Infinity : this.ts[this.n - 1]!;
  }

  /** Appends (ts, value) when `ts` is after the last time held; returns whether it did. */
  push(ts: number, value: number): boolean {
    if (!(ts > this.lastTs)) return false;
    if (this.n === this.ts.length) {
      this.ts = grown(this.ts);
      this.value = grown(this.value);
    }
    this.ts[this.n] = ts;
    this.value[this.n] = value;
    this.n++;
    return true;
  }

  /** Appends each (ts, value) in order as {@link push} does; returns whether any was appended. */
  pushAll(ts: ArrayLike<number>, value: ArrayLike<number>): boolean {
    let added = false;
    for (let k = 0; k < ts.length; k++) added = this.push(ts[k]!, value[k]!) || added;
    return added;
  }

  reset(): void {
    this.n = 0;
  }

  tsView(): Float64Array {
    return this.ts.subarray(0, this.n);
  }

  valueView(): Float64Array {
    return this.value.subarray(0, this.n);
  }
}
