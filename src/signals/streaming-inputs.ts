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
  private fundingBuf: { ts: Float64Array; rate: Float64Array; n: number } | undefined;
  private dvolBuf: { ts: Float64Array; value: Float64Array; n: number } | undefined;

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
      this.fundingBuf = { ts: new Float64Array(64), rate: new Float64Array(64), n: 0 };
      this.funding = { ts: this.fundingBuf.ts.subarray(0, 0), rate: this.fundingBuf.rate.subarray(0, 0) };
    }
    if (shape.dvol) {
      this.dvolBuf = { ts: new Float64Array(64), value: new Float64Array(64), n: 0 };
      this.dvol = { ts: this.dvolBuf.ts.subarray(0, 0), value: this.dvolBuf.value.subarray(0, 0) };
    }
  }

  /** Open time of the newest bar (-Infinity before the first). */
  get lastBarTs(): number {
    return this.length === 0 ? -Infinity : this.ts[this.length - 1]!;
  }

  /** Time of the newest funding settlement held (-Infinity before the first). */
  get lastFundingTs(): number {
    const b = this.fundingBuf;
    return b === undefined || b.n === 0 ? -Infinity : b.ts[b.n - 1]!;
  }

  /** Day start of the newest DVOL value held (-Infinity before the first). */
  get lastDvolTs(): number {
    const b = this.dvolBuf;
    return b === undefined || b.n === 0 ? -Infinity : b.ts[b.n - 1]!;
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
    if (b === undefined || !(ts > this.lastFundingTs)) return;
    if (b.n === b.ts.length) {
      b.ts = grown(b.ts);
      b.rate = grown(b.rate);
    }
    b.ts[b.n] = ts;
    b.rate[b.n] = rate;
    b.n++;
    this.funding = { ts: b.ts.subarray(0, b.n), rate: b.rate.subarray(0, b.n) };
  }

  /** Appends a DVOL day newer than the last one held (older or repeated ones are ignored). */
  pushDvol(ts: number, value: number): void {
    const b = this.dvolBuf;
    if (b === undefined || !(ts > this.lastDvolTs)) return;
    if (b.n === b.ts.length) {
      b.ts = grown(b.ts);
      b.value = grown(b.value);
    }
    b.ts[b.n] = ts;
    b.value[b.n] = value;
    b.n++;
    this.dvol = { ts: b.ts.subarray(0, b.n), value: b.value.subarray(0, b.n) };
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
