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

  private constructor(readonly spec: FeatureSpec) {
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
  static fromSpec(spec: FeatureSpec = DEFAULT_FEATURE_SPEC): FeaturePipeline {
    return new FeaturePipeline(spec);
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
export class IncrementalFeatures {
  readonly names: readonly string[];
  readonly hash: string;
  readonly warmupBars: number;
  /** The newest bar's features, in {@link names} order; overwritten by each {@link update}. */
  readonly row: Float64Array;
  private readonly stream: BarStream;
  private readonly kernels: FeatureKernel[];
  private readonly offsets: Int32Array;

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
    return row;
  }

  /** Forgets all bars, queued and used settlements and DVOL days. */
  reset(): void {
    this.stream.reset();
    for (const k of this.kernels) k.reset();
    this.row.fill(0);
  }
}
