import type { StaleInputEvent } from '../core/bar.js';
import { DAY_MS, timeframeMs } from '../core/time.js';
import { checkModelCard, type ExperimentDeps, type ExperimentModel } from '../backtest/run-experiment.js';
import { DEFAULT_FEATURE_SPEC, DEFAULT_STALENESS, FeaturePipeline } from '../features/index.js';
import { SignalStage, type SignalModel } from '../signals/index.js';
import { StreamingFeatureInputs } from '../signals/streaming-inputs.js';
import type { SignalInputSource } from '../signals/signal-input-source.js';
import type { LiveBarSet } from './bar-feed.js';
import type { LiveModelColumn, LiveSetup } from './live-setup.js';

/** What a live run's signal stage reads (the experiment's `model` column). */
export interface LiveSignalsSpec {
  /** Name of the strategy's history column the signal lands in (the experiment's column name). */
  readonly column: string;
  /** Venue symbols of the instruments, engine order (their funding is asked under the same symbol). */
  readonly symbols: readonly string[];
  readonly timeframe: string;
  /** Funding settlements are an input (the model column's `fundingVenue`). */
  readonly funding: boolean;
  /** DVOL is an input. */
  readonly dvol: boolean;
  /** Reference symbol of the cross-asset features (e.g. `BTCUSDT`); absent: none. */
  readonly reference?: string;
  /** Missing reference bars bridged with the previous close; default `DEFAULT_STALENESS.referenceMaxAgeBars`. */
  readonly referenceMaxAgeBars?: number;
  /** The model the stage runs, for metrics (`trade_matrix_model_info`) and the runner's saved state; absent: unnamed. */
  readonly model?: LiveModelInfo;
  /** How far back the first request for funding and DVOL reaches before the first bar's close; default 45 days (the features read at most 21 settlements and 7 days). */
  readonly lookbackMs?: number;
}

/** The model a live signal stage runs. */
export interface LiveModelInfo {
  readonly name: string;
  readonly version: string;
  readonly loadedAtMs: number;
  /** sha256 of each instrument's ONNX file (engine order): the identity of the runner's saved state. */
  readonly checksums?: readonly string[];
}

/**
 * What a runner's saved state holds of one instrument's signal inputs besides its bars (see {@link LiveSignals.inputState}):
 * the funding settlements and DVOL days the features may still read, and the reference close bridging.
 */
export interface SignalInputState {
  readonly funding?: { readonly ts: readonly number[]; readonly rate: readonly number[] };
  readonly dvol?: { readonly ts: readonly number[]; readonly value: readonly number[] };
  /** The last reference close and its bar's open time (null: none yet). */
  readonly refLast: number | null;
  readonly refLastTs: number | null;
}

/**
 * The signal stage of a live run: the backtest's {@link SignalStage} (same pipeline, same models) over inputs that
 * grow one closed bar at a time ({@link StreamingFeatureInputs}). Before each bar set is dispatched, {@link onBarSet}
 * asks the {@link SignalInputSource} for the funding settlements and DVOL days known at the bar close and for the
 * reference asset's close, appends the bar, and runs the stage: the signal of instrument `i` is then in
 * `columns[i][0][0]`, which the runner hands to the kernel with the bar (the backtest's history column).
 */
export class LiveSignals {
  readonly stage: SignalStage;
  private readonly inputs: StreamingFeatureInputs[];
  private readonly values: Float64Array[];
  /** Per instrument: the columns handed to `Kernel.onBar` (one column, this bar's signal at index 0). */
  readonly columns: readonly (readonly Float64Array[])[];
  private readonly tf: number;
  private readonly refLast: Float64Array;
  private readonly refLastTs: Float64Array;
  private readonly refIndex: number;
  /** Per instrument: the time up to which funding and DVOL were asked for. */
  private readonly askedUntil: Float64Array;
  private horizon = -Infinity;
  private models: readonly SignalModel[];
  private modelInfo: LiveModelInfo | undefined;
  /** Wall seconds of the last bar set's feature computation (all instruments). */
  featureSeconds = 0;
  /** Wall seconds of the last bar set's model calls (all instruments). */
  inferenceSeconds = 0;

  constructor(
    readonly spec: LiveSignalsSpec,
    pipeline: FeaturePipeline,
    models: SignalModel | readonly SignalModel[],
    private readonly source: SignalInputSource,
  ) {
    this.tf = timeframeMs(spec.timeframe);
    this.inputs = spec.symbols.map(() => new StreamingFeatureInputs(this.tf, { funding: spec.funding, dvol: spec.dvol, reference: spec.reference !== undefined }));
    this.stage = new SignalStage(pipeline, models, this.inputs);
    this.featureNames = pipeline.names;
    this.modelInfo = spec.model;
    this.models = Array.isArray(models) ? (models as readonly SignalModel[]) : spec.symbols.map(() => models as SignalModel);
    this.values = spec.symbols.map(() => new Float64Array(1).fill(NaN));
    this.columns = this.values.map((v) => [v]);
    this.refLast = new Float64Array(spec.symbols.length).fill(NaN);
    this.refLastTs = new Float64Array(spec.symbols.length).fill(NaN);
    this.refIndex = spec.reference === undefined ? -1 : spec.symbols.indexOf(spec.reference);
    this.askedUntil = new Float64Array(spec.symbols.length).fill(-Infinity);
  }

  /**
   * Tells the stage that every input up to `ts` (epoch ms, e.g. the first live bar's open) is already known: the
   * warm-up's bars are all in the past, so their funding and DVOL are asked for once, up to `ts`, not bar by bar.
   */
  knownUntil(ts: number): void {
    this.horizon = ts;
  }

  /** Bars the pipeline needs before its features are defined. */
  get warmupBars(): number {
    return this.stage.warmupBars;
  }

  /** Inputs that went stale so far, in order (the runner forwards new ones to the strategy before the bar). */
  get staleEvents(): readonly StaleInputEvent[] {
    return this.stage.staleEvents;
  }

  /** The pipeline's feature names, in order (what every model must take). */
  readonly featureNames: readonly string[];

  /** The model the stage runs (metrics). */
  get model(): LiveModelInfo | undefined {
    return this.modelInfo;
  }

  /**
   * Replaces the models (one per instrument, engine order) from the next bar on: the feature state carries on, only
   * the model changes (promote-to-live). Call between bars.
   * @throws TypeError when the count or a model's features differ (callers verify first: see `ModelWatch`).
   */
  swapModels(models: readonly SignalModel[], info: LiveModelInfo): void {
    if (models.length !== this.models.length) throw new TypeError(`swapModels: ${models.length} models for ${this.models.length} instruments`);
    for (const m of models) if (m.featureNames.length !== this.featureNames.length || m.featureNames.some((n, j) => n !== this.featureNames[j])) throw new TypeError(`swapModels: a model's features differ from the pipeline's`);
    this.models = models;
    this.modelInfo = info;
  }

  /** The latest funding settlement rate held for instrument `i` (NaN before the first). */
  fundingRate(i: number): number {
    const f = this.inputs[i]!.funding;
    return f === undefined || f.rate.length === 0 ? NaN : f.rate[f.rate.length - 1]!;
  }

  /** The signal of instrument `i` at its last bar (NaN before its first, or while its features are undefined). */
  value(i: number): number {
    return this.values[i]![0]!;
  }

  /** The reference close instrument `i`'s last bar was given (NaN: none, or no reference input). */
  lastReference(i: number): number {
    const x = this.inputs[i]!;
    return x.referenceClose === undefined || x.length === 0 ? NaN : x.referenceClose[x.length - 1]!;
  }

  /** The identity of instrument `i`'s model for the runner's saved state (checksum `unknown` when the spec has none). */
  identity(i: number): { readonly name: string; readonly version: string; readonly checksum: string } {
    const m = this.modelInfo;
    return { name: m?.name ?? 'unnamed', version: m?.version ?? 'unknown', checksum: m?.checksums?.[i] ?? 'unknown' };
  }

  /**
   * Instrument `i`'s inputs a saved state must hold so that replaying bars from `firstBarTs` on gives the features
   * of an uninterrupted run: the settlements and DVOL days within the request lookback of that bar's close (what
   * {@link gather} asks for a first bar), and the reference bridging.
   */
  inputState(i: number, firstBarTs: number): SignalInputState {
    const x = this.inputs[i]!;
    const from = firstBarTs + this.tf - (this.spec.lookbackMs ?? 45 * DAY_MS);
    const tail = (ts: Float64Array, v: Float64Array, after: number) => {
      let k = 0;
      while (k < ts.length && !(ts[k]! >= after)) k++;
      return { ts: Array.from(ts.subarray(k)), v: Array.from(v.subarray(k)) };
    };
    const out: { funding?: SignalInputState['funding']; dvol?: SignalInputState['dvol']; refLast: number | null; refLastTs: number | null } = { refLast: nullIfNaN(this.refLast[i]!), refLastTs: nullIfNaN(this.refLastTs[i]!) };
    if (x.funding !== undefined) {
      const t = tail(x.funding.ts, x.funding.rate, from);
      out.funding = { ts: t.ts, rate: t.v };
    }
    if (x.dvol !== undefined) {
      const t = tail(x.dvol.ts, x.dvol.value, from - DAY_MS);
      out.dvol = { ts: t.ts, value: t.v };
    }
    return out;
  }

  /** Restores instrument `i`'s inputs from a saved state (before its first bar): the settlements, DVOL days and reference bridging. */
  restoreInputs(i: number, state: SignalInputState, askedUntil: number): void {
    const x = this.inputs[i]!;
    if (state.funding !== undefined) x.pushFundingSeries(state.funding.ts, state.funding.rate);
    if (state.dvol !== undefined) x.pushDvolSeries(state.dvol.ts, state.dvol.value);
    this.refLast[i] = state.refLast ?? NaN;
    this.refLastTs[i] = state.refLastTs ?? NaN;
    this.askedUntil[i] = askedUntil;
  }

  /**
   * A saved bar set replayed (warm-up tier 1): each present bar goes into the features from the restored inputs (no
   * input request, the reference close given per instrument in `refs`), its signal is the saved one `saved[i]`, and
   * the features are computed and the model run only where `check[i]` is set — to validate the state (elsewhere the
   * features only take the bar into their state: `SignalStage.skipFeatures`). Returns the largest |model − saved| of the
   * checked instruments (0 when none; Infinity when one side is NaN and the other not): a number when every checked
   * model answers in place (no promise per set), else a promise. `from`: the first instrument (internal).
   */
  replaySaved(set: LiveBarSet, refs: Float64Array, saved: Float64Array, check: Uint8Array, from = 0): number | Promise<number> {
    let worst = 0;
    for (let i = from; i < this.inputs.length; i++) {
      const b = set.bars[i];
      const v = this.values[i]!;
      v[0] = NaN;
      if (b === undefined) continue;
      const t = this.inputs[i]!.pushBar(b.ts, b.open, b.high, b.low, b.close, b.volume, refs[i]!);
      v[0] = saved[i]!;
      if (check[i] === 0) {
        this.stage.skipFeatures(i, t);
        continue;
      }
      const row = this.stage.featuresOf(i, t);
      const m = this.models[i]!;
      // A model without an in-place answer: the rest of the set waits for it (bars of one instrument stay in order).
      if (m.predictOneNow === undefined) return this.replayRest(set, refs, saved, check, i, row, worst);
      worst = Math.max(worst, difference(m.predictOneNow(row), saved[i]!));
    }
    return worst;
  }

  /** {@link replaySaved} from instrument `i` on, whose features `row` are computed and whose model answers by promise. */
  private async replayRest(set: LiveBarSet, refs: Float64Array, saved: Float64Array, check: Uint8Array, i: number, row: Float64Array, worst: number): Promise<number> {
    worst = Math.max(worst, difference(await this.models[i]!.predictOne(row), saved[i]!));
    const tail = this.replaySaved(set, refs, saved, check, i + 1);
    return Math.max(worst, typeof tail === 'number' ? tail : await tail);
  }

  /** Up to when funding and DVOL of instrument `i` were asked from the source (-Infinity: never). */
  askedUntilOf(i: number): number {
    return this.askedUntil[i]!;
  }

  /** Sets the signal of instrument `i`'s current bar (a replay from saved signals). */
  setValue(i: number, value: number): void {
    this.values[i]![0] = value;
  }

  /** Forgets every bar and input (a warm-up that starts over after a saved state failed its validation). */
  reset(): void {
    for (const x of this.inputs) x.reset();
    this.stage.reset();
    this.values.forEach((v) => (v[0] = NaN));
    this.refLast.fill(NaN);
    this.refLastTs.fill(NaN);
    this.askedUntil.fill(-Infinity);
    this.gathered = { ts: NaN, refClose: NaN };
  }

  /** The reference close of the set gathered by {@link gather} (NaN: none), and the set it belongs to. */
  private gathered: { ts: number; refClose: number } = { ts: NaN, refClose: NaN };

  /**
   * The I/O of bar set `set`: the funding settlements and DVOL days known at its close and the reference asset's
   * close, asked from the source (the live runner calls it with the bar fetch, before its decision clock starts).
   * {@link onBarSet} gathers by itself when this was not called for the set.
   */
  async gather(set: LiveBarSet): Promise<void> {
    const { spec, source, tf } = this;
    const close = set.ts + tf;
    const lookback = spec.lookbackMs ?? 45 * DAY_MS;
    // The reference asset's close of this bar time: from the set when it trades here, else asked once per set.
    const refClose = spec.reference === undefined ? NaN : this.refIndex >= 0 ? (set.bars[this.refIndex]?.close ?? NaN) : await source.barClose(spec.reference, spec.timeframe, set.ts);
    for (let i = 0; i < this.inputs.length; i++) {
      if (set.bars[i] === undefined || !(close > this.askedUntil[i]!)) continue;
      const x = this.inputs[i]!;
      // Inputs known by `upTo` (the bar close, or the horizon of a warm-up over past bars: one request for all of
      // them); the stage itself uses a settlement or a DVOL day only from the first bar close it is known at.
      const upTo = Math.max(close, this.horizon);
      if (spec.funding) for (const f of await source.funding(spec.symbols[i]!, Math.max(x.lastFundingTs, close - lookback), upTo)) x.pushFunding(f.ts, f.value);
      if (spec.dvol) for (const d of await source.dvol(Math.max(x.lastDvolTs, close - lookback - DAY_MS), upTo)) x.pushDvol(d.ts, d.value);
      this.askedUntil[i] = upTo;
    }
    this.gathered = { ts: set.ts, refClose };
  }

  /**
   * Runs the stage on every bar of `set` (bars of one instrument in order); absent bars leave NaN. Where `known[i]` is
   * set, instrument `i`'s features advance but its model is not called: its signal is `knownValues[i]` (a gap filled
   * from the run's prediction history).
   */
  async onBarSet(set: LiveBarSet, known?: Uint8Array, knownValues?: Float64Array): Promise<void> {
    if (this.gathered.ts !== set.ts) await this.gather(set);
    const { spec, tf } = this;
    const refClose = this.gathered.refClose;
    this.featureSeconds = 0;
    this.inferenceSeconds = 0;
    const maxAge = (spec.referenceMaxAgeBars ?? DEFAULT_STALENESS.referenceMaxAgeBars) * tf;
    for (let i = 0; i < this.inputs.length; i++) {
      const b = set.bars[i];
      const v = this.values[i]!;
      v[0] = NaN;
      if (b === undefined) continue;
      const x = this.inputs[i]!;
      let ref = NaN;
      if (spec.reference !== undefined) {
        // As `featureInputsFromStore`: the latest reference close at or before this bar, bridged at most maxAge.
        if (refClose === refClose) {
          this.refLast[i] = refClose;
          this.refLastTs[i] = b.ts;
        }
        ref = b.ts - this.refLastTs[i]! <= maxAge ? this.refLast[i]! : NaN;
      }
      const t = x.pushBar(b.ts, b.open, b.high, b.low, b.close, b.volume, ref);
      // What `SignalStage.onBar` does, in its two parts, each timed (metrics).
      const t0 = performance.now();
      if (known !== undefined && known[i] !== 0) {
        // A known signal: the features only take the bar into their state.
        this.stage.skipFeatures(i, t);
        v[0] = knownValues![i]!;
        this.featureSeconds += (performance.now() - t0) / 1000;
        continue;
      }
      const row = this.stage.featuresOf(i, t);
      const t1 = performance.now();
      const m = this.models[i]!;
      // The model answers in place when it can (onnxruntime's direct dispatch), without a promise per bar.
      v[0] = m.predictOneNow !== undefined ? m.predictOneNow(row) : await m.predictOne(row);
      this.featureSeconds += (t1 - t0) / 1000;
      this.inferenceSeconds += (performance.now() - t1) / 1000;
    }
  }

}

/** What {@link openLiveSignals} needs besides the setup. */
export interface LiveSignalsDeps {
  /** Loads the model column's package for a symbol (`tm live`: the 4-tier loader, as `tm backtest`). */
  readonly loadModel: NonNullable<ExperimentDeps['loadModel']>;
  /** Funding, DVOL and reference closes as they become known. */
  readonly source: SignalInputSource;
  /** Open time of the first live bar: the run's window starts there (a model trained on later bars is in-sample). */
  readonly from: number;
  /** Wall clock (epoch ms) of the model's load time in metrics. */
  readonly now: () => number;
}

/**
 * Loads the setup's model column (one package per symbol), checks each card against the live window (in-sample and
 * ungated models refused unless the column allows them, as in backtests) and builds the {@link LiveSignals}.
 * Returns the notes stating what runs, and `close` releasing the models.
 * @throws ExperimentError `invalid_model`; the loader's errors (checksum, features, registry).
 */
export async function openLiveSignals(setup: LiveSetup & { readonly modelColumn: LiveModelColumn }, deps: LiveSignalsDeps): Promise<{ readonly signals: LiveSignals; readonly notes: readonly string[]; close(): Promise<void>; readonly models: readonly ExperimentModel[] }> {
  const { column, source } = setup.modelColumn;
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  const models: ExperimentModel[] = [];
  const notes: string[] = [];
  const close = async () => {
    for (const m of models) await m.close();
  };
  try {
    for (const symbol of setup.symbols) {
      const m = await deps.loadModel(source.model, symbol, pipeline);
      models.push(m);
      notes.push(checkModelCard(m, { column, source, symbol, from: deps.from, to: Infinity, window: `the live run from ${new Date(deps.from).toISOString()}` }));
    }
    const first = models[0]!;
    const spec: LiveSignalsSpec = { column, symbols: setup.symbols, timeframe: setup.timeframe, funding: true, dvol: source.dvol, reference: source.reference, model: { name: first.card.name, version: first.version, loadedAtMs: deps.now(), checksums: models.map((m) => m.card.onnxSha256 ?? 'unknown') } };
    return { signals: new LiveSignals(spec, pipeline, models.map((m) => m.model), deps.source), notes, close, models };
  } catch (e) {
    await close();
    throw e;
  }
}

/** |model − saved| (0 when both are NaN, Infinity when one is). */
function difference(p: number, s: number): number {
  const d = p === s || (p !== p && s !== s) ? 0 : Math.abs(p - s);
  return d === d ? d : Infinity;
}

function nullIfNaN(x: number): number | null {
  return x === x ? x : null;
}
