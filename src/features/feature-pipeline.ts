import { AppError } from '../core/app-error.js';
import { describeConfigIssue } from '../core/config-issues.js';
import { BarStream, type FeatureKernel } from './bar-stream.js';
import { FEATURE_FUNCTIONS, type FeatureExtraInput, type FeatureFunction } from './feature-functions.js';
import { barCloseTimes, checkFeatureInputs, type FeatureErrorCode, type FeatureInputs } from './feature-inputs.js';
import { DEFAULT_FEATURE_SPEC, featureSpecHash, type FeatureSpec } from './feature-spec.js';

/** A feature matrix: `matrix[t * names.length + j]` is feature `names[j]` at bar `t` (row-major, rows × columns). */
export interface FeatureMatrix {
  readonly names: readonly string[];
  readonly rows: number;
  readonly columns: number;
  readonly matrix: Float64Array;
}

interface ResolvedEntry {
  readonly fn: FeatureFunction;
  readonly params: Record<string, unknown>;
  readonly offset: number;
  readonly width: number;
}

const NAME_RE = /^[a-z][a-z0-9_]*$/;

/**
 * The one feature pipeline used by training, backtests and live: built from a {@link FeatureSpec}, it computes the
 * whole feature matrix at once ({@link computeBatch}) or one row per closed bar ({@link createIncremental}); both give
 * identical values. Every value at bar t depends only on bars <= t, funding settlements at or before t's close, and
 * DVOL days that closed at or before t's close.
 * @example
 * const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
 * const { names, matrix } = pipeline.computeBatch(await featureInputsFromStore(store, { ... }));
 */
export class FeaturePipeline {
  /** Column names in order. */
  readonly names: readonly string[];
  /** {@link featureSpecHash} of the spec. */
  readonly hash: string;
  /**
   * Bars an incremental state must be fed before its rows equal a full-history batch (exactly for windowed features,
   * to ~1e-13 relative for EMA/Wilder smoothing): preload at least this many bars in live.
   */
  readonly warmupBars: number;
  /** Extra inputs the spec reads. */
  readonly requiredInputs: readonly FeatureExtraInput[];
  private readonly entries: readonly ResolvedEntry[];
  /** How old an external input may be before the features reading it are NaN (see {@link StalenessPolicy}). */
  readonly staleness: StalenessPolicy;

  private constructor(readonly spec: FeatureSpec, staleness: StalenessPolicy) {
    this.staleness = Object.freeze({ ...staleness });
    const names: string[] = [];
    const entries: ResolvedEntry[] = [];
    const seen = new Set<string>();
    const required = new Set<FeatureExtraInput>();
    let warmup = 0;
    spec.forEach((e, i) => {
      const where = `spec[${i}]`;
      if (typeof e.name !== 'string' || !NAME_RE.test(e.name)) {
        throw new AppError<FeatureErrorCode>('invalid_feature_spec', `${where}.name must be lower-case letters, digits and _ starting with a letter, was ${JSON.stringify(e.name)}`, { index: i, name: e.name });
      }
      if (seen.has(e.name)) throw new AppError<FeatureErrorCode>('invalid_feature_spec', `${where}.name must be unique, was ${JSON.stringify(e.name)} again`, { index: i, name: e.name });
      seen.add(e.name);
      const fn = (FEATURE_FUNCTIONS as Readonly<Record<string, FeatureFunction>>)[e.fn];
      if (!fn) {
        throw new AppError<FeatureErrorCode>('unknown_feature', `${where}.fn must be one of ${Object.keys(FEATURE_FUNCTIONS).join(', ')}, was ${JSON.stringify(e.fn)}`, { index: i, fn: e.fn });
      }
      const parsed = fn.params.safeParse(e.params);
      if (!parsed.success) {
        const issue = describeConfigIssue(parsed.error.issues[0]!, e.params);
        const key = `params${issue.path.slice(1)}`;
        throw new AppError<FeatureErrorCode>('invalid_feature_params', `${where} (${e.name}, ${e.fn}): ${key}: ${issue.problem}`, { index: i, name: e.name, path: key, problem: issue.problem });
      }
      const outputs = fn.outputs(parsed.data);
      entries.push({ fn, params: parsed.data, offset: names.length, width: outputs.length });
      for (const o of outputs) names.push(o === '' ? e.name : `${e.name}.${o}`);
      if (fn.input) required.add(fn.input);
      warmup = Math.max(warmup, fn.warmup(parsed.data));
    });
    this.names = Object.freeze(names);
    this.entries = entries;
    this.hash = featureSpecHash(spec);
    this.warmupBars = warmup;
    this.requiredInputs = Object.freeze([...required]);
  }

  /**
   * Validates `spec` and builds its pipeline.
   * @throws AppError `invalid_feature_spec` (bad or duplicate name), `unknown_feature` (fn), `invalid_feature_params` naming the param and value.
   */
  static fromSpec(spec: FeatureSpec = DEFAULT_FEATURE_SPEC, staleness: StalenessPolicy = DEFAULT_STALENESS): FeaturePipeline {
    return new FeaturePipeline(spec, staleness);
  }

  /** The entries (offset, width) of features reading each external input, for the staleness mask. @internal */
  columnsReading(input: 'funding' | 'dvol'): readonly { readonly offset: number; readonly width: number }[] {
    return this.entries.filter((e) => e.fn.input === input).map((e) => ({ offset: e.offset, width: e.width }));
  }

  /**
   * Computes every feature for every bar of `inputs`: NaN during each feature's warm-up and before its extra data starts.
   * @throws AppError `invalid_feature_input` for misaligned or unordered inputs; `missing_feature_input` naming the input a feature needs.
   */
  computeBatch(inputs: FeatureInputs): FeatureMatrix {
    checkFeatureInputs(inputs);
    for (const input of this.requiredInputs) {
      if (inputs[input] === undefined) {
        const users = this.spec.filter((e) => (FEATURE_FUNCTIONS as Readonly<Record<string, FeatureFunction>>)[e.fn]!.input === input).map((e) => e.name);
        throw new AppError<FeatureErrorCode>('missing_feature_input', `inputs.${input} is required by ${users.join(', ')}, was undefined`, { input, features: users });
      }
    }
    const rows = inputs.ts.length;
    const columns = this.names.length;
    const matrix = new Float64Array(rows * columns);
    const barClose = barCloseTimes(inputs);
    for (const e of this.entries) {
      const outputs = e.fn.batch(inputs, barClose, e.params);
      for (let k = 0; k < e.width; k++) {
        const col = outputs[k]!;
        const j = e.offset + k;
        for (let t = 0; t < rows; t++) matrix[t * columns + j] = col[t]!;
      }
    }
    // No silent forward-fill beyond the maximum age: features of a stale input are NaN.
    const age = inputAges(inputs, barClose);
    for (const input of ['funding', 'dvol'] as const) {
      const maxAge = input === 'funding' ? this.staleness.fundingMaxAgeMs : this.staleness.dvolMaxAgeMs;
      const ages = age[input];
      if (ages === undefined) continue;
      for (const { offset, width } of this.columnsReading(input)) {
        for (let t = 0; t < rows; t++) if (ages[t]! > maxAge) for (let k = 0; k < width; k++) matrix[t * columns + offset + k] = NaN;
      }
    }
    return { names: this.names, rows, columns, matrix };
  }

  /** Returns a fresh incremental state for bars of `timeframeMs` (see {@link IncrementalFeatures}). */
  createIncremental(options: { readonly timeframeMs: number }): IncrementalFeatures {
    return new IncrementalFeatures(this, this.entries, options.timeframeMs);
  }
}

/**
 * Builds the incremental form of `spec` (validated like {@link FeaturePipeline.fromSpec}).
 * @example
 * const features = createIncremental(DEFAULT_FEATURE_SPEC, { timeframeMs: 4 * HOUR_MS });
 * // in onBar, after pushing any funding settlement / DVOL day that is now known:
 * const row = features.update(bar.tsOpen, bar.open, bar.high, bar.low, bar.close, bar.volume, btcClose);
 */
export function createIncremental(spec: FeatureSpec, options: { readonly timeframeMs: number }): IncrementalFeatures {
  return FeaturePipeline.fromSpec(spec).createIncremental(options);
}

/**
 * The pipeline's per-bar form for live trading and event-driven backtests: fixed-size ring buffers and running state,
 * no allocation per bar. Feed closed bars in time order with {@link update}; it writes the newest bar's feature row into
 * {@link row} (the same preallocated array each time — read or copy it before the next update).
 * Funding settlements and DVOL days may be pushed any time before the bar that may use them (also all up front):
 * each is held back until a bar close it is usable at (settlement ts <= close; DVOL day + 24h <= close).
 */
/**
 * How old an external input may be at a bar's close before the features reading it turn NaN (no silent forward-fill):
 * funding, measured from the newest settlement at or before the close (default 2 settlements = 16 h); DVOL, from the
 * end of the newest usable day (default 2 days); the cross-asset reference, by the loader (`featureInputsFromStore`),
 * which bridges at most 1 missing reference bar before the reference close turns NaN. Not part of the feature spec
 * hash: it changes no value of fresh data.
 */
export interface StalenessPolicy {
  readonly fundingMaxAgeMs: number;
  readonly dvolMaxAgeMs: number;
  /** Bars a missing reference (cross-asset) bar may be bridged by the loader before the reference close is NaN. */
  readonly referenceMaxAgeBars: number;
}
export const DEFAULT_STALENESS: StalenessPolicy = Object.freeze({ fundingMaxAgeMs: 16 * 3_600_000, dvolMaxAgeMs: 2 * 86_400_000, referenceMaxAgeBars: 1 });

/**
 * Per bar, the age (ms) of the newest usable funding settlement (close − its ts) and DVOL day (close − (day + 24 h));
 * NaN before the first one. Absent for an input `inputs` lacks.
 */
export function inputAges(inputs: FeatureInputs, barClose: Float64Array): { funding?: Float64Array; dvol?: Float64Array } {
  const out: { funding?: Float64Array; dvol?: Float64Array } = {};
  const pass = (ts: Float64Array, usableAt: number) => {
    const ages = new Float64Array(barClose.length).fill(NaN);
    let j = -1;
    for (let t = 0; t < barClose.length; t++) {
      while (j + 1 < ts.length && ts[j + 1]! + usableAt <= barClose[t]!) j++;
      if (j >= 0) ages[t] = barClose[t]! - (ts[j]! + usableAt);
    }
    return ages;
  };
  if (inputs.funding) out.funding = pass(inputs.funding.ts, 0);
  if (inputs.dvol) out.dvol = pass(inputs.dvol.ts, 86_400_000);
  return out;
}

export class IncrementalFeatures {
  readonly names: readonly string[];
  readonly hash: string;
  readonly warmupBars: number;
  /** The newest bar's features, in {@link names} order; overwritten by each {@link update}. */
  readonly row: Float64Array;
  private readonly stream: BarStream;
  private readonly kernels: FeatureKernel[];
  private readonly offsets: Int32Array;
  private readonly staleness: StalenessPolicy;
  private readonly fundingColumns: readonly { readonly offset: number; readonly width: number }[];
  private readonly dvolColumns: readonly { readonly offset: number; readonly width: number }[];

  /** @internal Use {@link FeaturePipeline.createIncremental} or {@link createIncremental}. */
  constructor(pipeline: FeaturePipeline, entries: readonly ResolvedEntry[], timeframeMs: number) {
    if (!(timeframeMs > 0)) throw new AppError<FeatureErrorCode>('invalid_feature_input', `\`timeframeMs\` must be > 0, was ${timeframeMs}`, { timeframeMs });
    this.names = pipeline.names;
    this.hash = pipeline.hash;
    this.warmupBars = pipeline.warmupBars;
    this.row = new Float64Array(pipeline.names.length);
    let bars = 1;
    let funding = 1;
    let dvol = 1;
    for (const e of entries) {
      const h = e.fn.history(e.params);
      bars = Math.max(bars, h.bars);
      funding = Math.max(funding, h.funding ?? 0);
      dvol = Math.max(dvol, h.dvol ?? 0);
    }
    this.stream = new BarStream(timeframeMs, { bars, funding, dvol });
    this.kernels = entries.map((e) => e.fn.kernel(e.params));
    this.offsets = Int32Array.from(entries, (e) => e.offset);
    this.staleness = pipeline.staleness;
    this.fundingColumns = pipeline.columnsReading('funding');
    this.dvolColumns = pipeline.columnsReading('dvol');
  }

  /** Bars fed so far. */
  get bars(): number {
    return this.stream.t + 1;
  }

  /** Queues a funding settlement (`ts` epoch ms, `rate` fraction); used from the first bar whose close is >= `ts`. */
  pushFunding(ts: number, rate: number): void {
    this.stream.pushFunding(ts, rate);
  }

  /** Queues a DVOL day (`dayTs` = the day's 00:00 UTC, `value` = its close); used from bar closes >= `dayTs + 24h`. */
  pushDvol(dayTs: number, value: number): void {
    this.stream.pushDvol(dayTs, value);
  }

  /**
   * Feeds one closed bar (`tsOpen` epoch ms, strictly increasing) and returns {@link row} holding its features.
   * `referenceClose` is the reference asset's close for the same bar (NaN when the spec has no cross-asset feature).
   * @throws InvariantError when `tsOpen` does not increase.
   */
  update(tsOpen: number, open: number, high: number, low: number, close: number, volume: number, referenceClose = NaN): Float64Array {
    const s = this.stream;
    s.advance(tsOpen, open, high, low, close, volume, referenceClose);
    const row = this.row;
    const kernels = this.kernels;
    const offsets = this.offsets;
    for (let k = 0; k < kernels.length; k++) kernels[k]!.update(s, row, offsets[k]!);
    this.updateAges();
    // No silent forward-fill beyond the maximum age (the same rule as the batch path).
    if (this.fundingAge > this.staleness.fundingMaxAgeMs) for (const c of this.fundingColumns) row.fill(NaN, c.offset, c.offset + c.width);
    if (this.dvolAge > this.staleness.dvolMaxAgeMs) for (const c of this.dvolColumns) row.fill(NaN, c.offset, c.offset + c.width);
    return row;
  }

  /**
   * Feeds one closed bar as {@link update} does, without computing its features ({@link row} keeps the previous
   * bar's): every kernel takes the bar into its state ({@link FeatureKernel.skip}), so the next `update` returns
   * exactly what it would after an `update` here. For bars whose features nobody reads (a saved state's warm-up
   * replay, where the signals are known); {@link fundingAge} and {@link dvolAge} are updated.
   * @throws InvariantError when `tsOpen` does not increase.
   */
  skip(tsOpen: number, open: number, high: number, low: number, close: number, volume: number, referenceClose = NaN): void {
    const s = this.stream;
    s.advance(tsOpen, open, high, low, close, volume, referenceClose);
    const kernels = this.kernels;
    for (let k = 0; k < kernels.length; k++) kernels[k]!.skip(s);
    this.updateAges();
  }

  /** The ages of the newest usable funding settlement and DVOL day at the newest bar's close. */
  private updateAges(): void {
    const s = this.stream;
    const tsClose = s.tsClose;
    this.fundingAge = s.fundingCount > 0 ? tsClose - s.lastFundingTs : NaN;
    this.dvolAge = s.dvolCount > 0 ? tsClose - (s.dvolTs[(s.dvolCount - 1) & s.dvolMask]! + 86_400_000) : NaN;
  }

  /** Age (ms) of the newest usable funding settlement at the last bar's close (NaN before the first). */
  fundingAge = NaN;
  /** Age (ms) of the newest usable DVOL day's end at the last bar's close (NaN before the first). */
  dvolAge = NaN;

  /** Which external inputs were stale at the last bar (their features are NaN): `funding`, `dvol`. */
  staleInputs(): ('funding' | 'dvol')[] {
    const out: ('funding' | 'dvol')[] = [];
    if (this.fundingColumns.length > 0 && this.fundingAge > this.staleness.fundingMaxAgeMs) out.push('funding');
    if (this.dvolColumns.length > 0 && this.dvolAge > this.staleness.dvolMaxAgeMs) out.push('dvol');
    return out;
  }

  /** Time of the newest usable value of `input` at the last bar's close (NaN before the first). */
  lastValueTs(input: 'funding' | 'dvol'): number {
    const s = this.stream;
    if (input === 'funding') return s.fundingCount > 0 ? s.lastFundingTs : NaN;
    return s.dvolCount > 0 ? s.dvolTs[(s.dvolCount - 1) & s.dvolMask]! : NaN;
  }

  /** Forgets all bars, queued and used settlements and DVOL days. */
  reset(): void {
    this.stream.reset();
    for (const k of this.kernels) k.reset();
    this.row.fill(0);
    this.fundingAge = NaN;
    this.dvolAge = NaN;
  }
}
