import { AppError } from '../core/app-error.js';
import type { StaleInputEvent, StaleSpan } from '../core/bar.js';
import { DAY_MS } from '../core/time.js';
import type { FeatureInputs, FeaturePipeline, IncrementalFeatures } from '../features/index.js';

/** What the signal stage asks of a model: one prediction per feature row (an `OnnxModel` is one). */
export interface SignalModel {
  readonly featureNames: readonly string[];
  /** Predicts one row (the pipeline's feature row, in `featureNames` order). */
  predictOne(row: ArrayLike<number>): Promise<number>;
  /** The same without a promise, when the model can answer in place (an `OnnxModel` with `dispatch: 'direct'`). */
  readonly predictOneNow?: (row: ArrayLike<number>) => number;
  /** Predicts every row of a row-major float32 matrix (the cache path). */
  predict(rows: Float32Array): Promise<Float32Array>;
}

const INPUTS = ['funding', 'dvol', 'reference'] as const;

export type SignalErrorCode = 'feature_mismatch' | 'out_of_order';
export class SignalError extends AppError<SignalErrorCode> {}

/**
 * The signal stage: on each closed bar of an instrument, the features known at its close (incremental pipeline:
 * the bar, funding settlements <= its close, DVOL days whose day ended by its close, the reference asset's close)
 * → the model → the signal value. Run by the runners before the strategy's `onBar` (the value lands in the
 * strategy's history column), identical in backtests, notebooks and the live runner. Allocation-free per bar on
 * our side (the feature row and the model's input tensor are preallocated); the model call is awaited between bars.
 *
 * A precomputed prediction column ({@link predictColumn}) is only a cache of this stage: the same features (batch
 * pipeline == incremental pipeline, exactly) through the same model give the same values exactly.
 */
export class SignalStage {
  private readonly features: IncrementalFeatures[];
  private readonly fundingCursor: Int32Array;
  private readonly dvolCursor: Int32Array;
  private readonly next: Int32Array;
  /** Per instrument × input (funding, dvol, reference): the bar close it went stale at, NaN while fresh. */
  private readonly staleFrom: Float64Array;
  private readonly staleLast: Float64Array;
  /** Every input that went stale, in order (see {@link StaleInputEvent}); `spans()` pairs them with their recovery. */
  readonly staleEvents: StaleInputEvent[] = [];
  private readonly closedSpans: StaleSpan[] = [];
  /** Per instrument: open time of the newest bar with a reference close (NaN before the first). */
  private readonly referenceLast: Float64Array;

  private readonly models: readonly SignalModel[];
  /** Every model's `predictOneNow` (engine order) when all have one: {@link onBars} then runs without any await. */
  private readonly now: readonly ((row: ArrayLike<number>) => number)[] | null;

  /**
   * @param model one model for every instrument, or one per instrument (engine order; e.g. per-symbol transfer models).
   * @param inputs one {@link FeatureInputs} per instrument (engine order): bars, funding, DVOL and reference closes.
   * @throws SignalError `feature_mismatch` when a model's features are not the pipeline's, in order.
   */
  constructor(
    readonly pipeline: FeaturePipeline,
    model: SignalModel | readonly SignalModel[],
    private readonly inputs: readonly FeatureInputs[],
  ) {
    this.models = Array.isArray(model) ? (model as readonly SignalModel[]) : inputs.map(() => model as SignalModel);
    if (this.models.length !== inputs.length) throw new SignalError('feature_mismatch', `signal stage: ${this.models.length} models for ${inputs.length} instruments`, { models: this.models.length, instruments: inputs.length });
    for (const m of this.models) checkFeatures(pipeline.names, m.featureNames);
    this.now = this.models.every((m) => m.predictOneNow !== undefined) ? this.models.map((m) => m.predictOneNow!) : null;
    this.features = inputs.map((x) => pipeline.createIncremental({ timeframeMs: x.timeframeMs }));
    this.fundingCursor = new Int32Array(inputs.length);
    this.dvolCursor = new Int32Array(inputs.length);
    this.next = new Int32Array(inputs.length);
    this.staleFrom = new Float64Array(inputs.length * 3).fill(NaN);
    this.staleLast = new Float64Array(inputs.length * 3).fill(NaN);
    this.referenceLast = new Float64Array(inputs.length).fill(NaN);
  }

  /** Stale spans so far (closed ones, then the ones still open with `to` NaN), in the order they started. */
  staleSpans(): StaleSpan[] {
    const open: StaleSpan[] = [];
    for (let k = 0; k < this.staleFrom.length; k++) {
      const from = this.staleFrom[k]!;
      if (from === from) open.push({ instrument: Math.floor(k / 3), input: INPUTS[k % 3]!, from, to: NaN, lastValueTs: this.staleLast[k]! });
    }
    return [...this.closedSpans, ...open].sort((a, b) => a.from - b.from || a.instrument - b.instrument);
  }

  /** Records transitions of instrument `i`'s inputs between fresh and stale at bar `t` (close `close`). */
  private trackStaleness(i: number, t: number, inc: IncrementalFeatures, close: number): void {
    const policy = this.pipeline.staleness;
    const x = this.inputs[i]!;
    const ref = x.referenceClose;
    if (ref !== undefined && ref[t] === ref[t]) this.referenceLast[i] = x.ts[t]!;
    for (let k = 0; k < 3; k++) {
      const input = INPUTS[k]!;
      let stale: boolean;
      if (k === 0) stale = x.funding !== undefined && inc.fundingAge > policy.fundingMaxAgeMs;
      else if (k === 1) stale = x.dvol !== undefined && inc.dvolAge > policy.dvolMaxAgeMs;
      else stale = ref !== undefined && ref[t] !== ref[t] && this.referenceLast[i] === this.referenceLast[i]; // NaN after a first value
      const slot = i * 3 + k;
      const from = this.staleFrom[slot]!;
      if (stale && from !== from) {
        const lastValueTs = k === 2 ? this.referenceLast[i]! : inc.lastValueTs(input as 'funding' | 'dvol');
        this.staleFrom[slot] = close;
        this.staleLast[slot] = lastValueTs;
        this.staleEvents.push({ instrument: i, input, lastValueTs, barTs: close });
      } else if (!stale && from === from) {
        this.closedSpans.push({ instrument: i, input, from, to: close, lastValueTs: this.staleLast[slot]! });
        this.staleFrom[slot] = NaN;
      }
    }
  }

  /**
   * Feeds bar `t` of every instrument with `present[i][t] !== 0` and writes its signal to `out[i][t]`, one instrument
   * after another (allocates nothing on our side; running the per-instrument model calls concurrently was measured
   * no faster on 2 cores and would allocate per bar). When every model answers in place (`predictOneNow`: onnxruntime's
   * native call is synchronous on this thread either way) the bar is done on return and nothing is returned;
   * otherwise the returned promise settles when every model has answered.
   */
  onBars(t: number, present: readonly Uint8Array[], out: readonly Float64Array[]): Promise<void> | undefined {
    const now = this.now;
    if (now === null) return this.onBarsAwaited(t, present, out);
    for (let i = 0; i < out.length; i++) if (present[i]![t] !== 0) out[i]![t] = now[i]!(this.featuresOf(i, t));
    return undefined;
  }

  private async onBarsAwaited(t: number, present: readonly Uint8Array[], out: readonly Float64Array[]): Promise<void> {
    for (let i = 0; i < out.length; i++) if (present[i]![t] !== 0) out[i]![t] = await this.onBar(i, t);
  }

  /** Bars the pipeline needs before its features are defined (the warm-up a run should replay before trading). */
  get warmupBars(): number {
    return this.pipeline.warmupBars;
  }

  /**
   * Feeds bar `t` of instrument `i` (bars of an instrument in order, none skipped) and returns its signal.
   * @throws SignalError `out_of_order` when `t` is not the instrument's next bar.
   */
  async onBar(i: number, t: number): Promise<number> {
    const row = this.featuresOf(i, t);
    return this.now !== null ? this.now[i]!(row) : this.models[i]!.predictOne(row);
  }

  /** The features of bar `t` of instrument `i` (the stage's preallocated row; valid until the next call). */
  featuresOf(i: number, t: number): Float64Array {
    return this.feed(i, t, true)!;
  }

  /**
   * Feeds bar `t` of instrument `i` as {@link featuresOf} does (inputs, staleness) without computing its features
   * ({@link IncrementalFeatures.skip}): for a bar whose signal is known (a saved state's warm-up replay). The next
   * bar's features are exactly those of a stage that computed this one.
   */
  skipFeatures(i: number, t: number): void {
    this.feed(i, t, false);
  }

  /** Bar `t` of instrument `i` into its features: computed (`emit`, the row returned) or only taken into their state. */
  private feed(i: number, t: number, emit: boolean): Float64Array | undefined {
    if (t !== this.next[i]) throw new SignalError('out_of_order', `signal stage: instrument ${i} expected bar ${this.next[i]}, got ${t}`, { instrument: i, expected: this.next[i], actual: t });
    this.next[i] = t + 1;
    const x = this.inputs[i]!;
    const inc = this.features[i]!;
    const close = x.ts[t]! + x.timeframeMs;
    const f = x.funding;
    if (f !== undefined) {
      let c = this.fundingCursor[i]!;
      for (; c < f.ts.length && f.ts[c]! <= close; c++) inc.pushFunding(f.ts[c]!, f.rate[c]!);
      this.fundingCursor[i] = c;
    }
    const d = x.dvol;
    if (d !== undefined) {
      let c = this.dvolCursor[i]!;
      for (; c < d.ts.length && d.ts[c]! + DAY_MS <= close; c++) inc.pushDvol(d.ts[c]!, d.value[c]!);
      this.dvolCursor[i] = c;
    }
    const ref = x.referenceClose === undefined ? NaN : x.referenceClose[t]!;
    let row: Float64Array | undefined;
    if (emit) row = inc.update(x.ts[t]!, x.open[t]!, x.high[t]!, x.low[t]!, x.close[t]!, x.volume[t]!, ref);
    else inc.skip(x.ts[t]!, x.open[t]!, x.high[t]!, x.low[t]!, x.close[t]!, x.volume[t]!, ref);
    this.trackStaleness(i, t, inc, close);
    return row;
  }

  /** Forgets every bar (a new run). */
  reset(): void {
    for (const f of this.features) f.reset();
    this.fundingCursor.fill(0);
    this.dvolCursor.fill(0);
    this.next.fill(0);
    this.staleFrom.fill(NaN);
    this.staleLast.fill(NaN);
    this.referenceLast.fill(NaN);
    this.staleEvents.length = 0;
    this.closedSpans.length = 0;
  }
}

function checkFeatures(names: readonly string[], model: readonly string[]): void {
  const k = model.findIndex((n, j) => n !== names[j]);
  if (model.length === names.length && k < 0) return;
  const at = k >= 0 ? k : Math.min(names.length, model.length);
  throw new SignalError('feature_mismatch', `the model's features differ from the pipeline's at index ${at}: model ${JSON.stringify(model[at])}, pipeline ${JSON.stringify(names[at])}`, {
    index: at,
    model: model[at],
    pipeline: names[at],
  });
}

/**
 * The cache path: the whole prediction column of one instrument at once (batch features → one batched model call).
 * Equal, value for value, to feeding every bar through {@link SignalStage.onBar}.
 */
export async function predictColumn(pipeline: FeaturePipeline, model: SignalModel, inputs: FeatureInputs): Promise<Float64Array> {
  checkFeatures(pipeline.names, model.featureNames);
  const m = pipeline.computeBatch(inputs);
  const out = await model.predict(Float32Array.from(m.matrix));
  return Float64Array.from(out);
}
