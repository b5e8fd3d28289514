import { AppError } from '../core/app-error.js';
import { growTo } from '../core/typed-arrays.js';

export type AnnotationErrorCode = 'invalid_annotation';
/** An annotation call with impossible arguments (no labels, a different number of probabilities, a bad instrument). */
export class AnnotationError extends AppError<AnnotationErrorCode> {}

/**
 * A tier change recorded through {@link Kernel.annotateTier}: from `ts` (engine time, epoch ms) on, `tier` (chosen by
 * rule `reason`) is in force for `instrument` — the engine index here, the instrument id in a backtest result.
 */
export interface TierAnnotationRecord<I = number> {
  readonly instrument: I;
  readonly ts: number;
  readonly tier: string;
  readonly reason: string;
}

/** Regime probabilities recorded through {@link Kernel.annotateRegime} for one instrument (index, or id in results). */
export interface RegimeAnnotationRecord<I = number> {
  readonly instrument: I;
  /** State labels, e.g. `crisis`, `bear`, `neutral`, `bull`. */
  readonly labels: readonly string[];
  /** Sample times (engine time, epoch ms: bar closes). */
  readonly ts: Float64Array;
  /** One array per label, aligned with `ts`: P(state = label | returns up to ts). */
  readonly probabilities: readonly Float64Array[];
}

/** Everything strategies annotated during a run (see `StrategyContext.annotateTier` / `annotateRegime`). */
export interface KernelAnnotations {
  readonly tiers: readonly TierAnnotationRecord[];
  /** Instruments with at least one sample, in engine order. */
  readonly regimes: readonly RegimeAnnotationRecord[];
}

/**
 * Stores annotations in typed arrays: tier changes as (ts, instrument, tier code, reason code) columns with interned
 * strings, regime samples as one time column plus one column per label per instrument. Appending copies numbers
 * into preallocated arrays that double when full, so a call allocates nothing (amortised).
 */
export class AnnotationRecorder {
  private readonly capacity: number;
  private readonly names: string[] = [];
  private readonly codes = new Map<string, number>();
  private tierTs = new Float64Array(64);
  private tierInstrument = new Int32Array(64);
  private tierCode = new Int32Array(64);
  private reasonCode = new Int32Array(64);
  private tierCount = 0;
  private readonly lastTier: Int32Array;
  private readonly lastReason: Int32Array;
  private readonly regimes: ({ labels: readonly string[]; ts: Float64Array; probabilities: Float64Array[]; length: number } | undefined)[];

  constructor(instruments: number, capacity: number) {
    this.capacity = Math.max(16, capacity);
    this.lastTier = new Int32Array(instruments).fill(-1);
    this.lastReason = new Int32Array(instruments).fill(-1);
    this.regimes = new Array(instruments).fill(undefined);
  }

  private intern(name: string): number {
    const code = this.codes.get(name);
    if (code !== undefined) return code;
    this.names.push(name);
    this.codes.set(name, this.names.length - 1);
    return this.names.length - 1;
  }

  tier(instrument: number, ts: number, tier: string, reason: string): void {
    const t = this.intern(tier), r = this.intern(reason);
    if (this.lastTier[instrument] === t && this.lastReason[instrument] === r) return;
    this.lastTier[instrument] = t;
    this.lastReason[instrument] = r;
    const n = this.tierCount;
    if (n === this.tierTs.length) {
      this.tierTs = grow(this.tierTs);
      this.tierInstrument = grow(this.tierInstrument);
      this.tierCode = grow(this.tierCode);
      this.reasonCode = grow(this.reasonCode);
    }
    this.tierTs[n] = ts;
    this.tierInstrument[n] = instrument;
    this.tierCode[n] = t;
    this.reasonCode[n] = r;
    this.tierCount = n + 1;
  }

  regime(instrument: number, ts: number, labels: readonly string[], probabilities: ArrayLike<number>): void {
    let log = this.regimes[instrument];
    if (log === undefined) {
      const k = labels.length;
      if (!(k >= 1)) throw new AnnotationError('invalid_annotation', `annotateRegime: \`labels\` must name >= 1 state, was ${k}`, { instrument, labels: k });
      log = { labels: Object.freeze([...labels]), ts: new Float64Array(this.capacity), probabilities: Array.from({ length: k }, () => new Float64Array(this.capacity)), length: 0 };
      this.regimes[instrument] = log;
    }
    const k = log.labels.length;
    if (probabilities.length !== k) {
      throw new AnnotationError('invalid_annotation', `annotateRegime: \`probabilities\` must have one entry per label (${k}) of instrument ${instrument}, was ${probabilities.length}`, { instrument, expected: k, actual: probabilities.length });
    }
    const n = log.length;
    if (n === log.ts.length) {
      log.ts = grow(log.ts);
      for (let s = 0; s < k; s++) log.probabilities[s] = grow(log.probabilities[s]!);
    }
    log.ts[n] = ts;
    for (let s = 0; s < k; s++) log.probabilities[s]![n] = probabilities[s]!;
    log.length = n + 1;
  }

  /**
   * Returns `instrument` when it is an index in [0, count).
   * @throws AnnotationError `invalid_annotation` naming the call (`what`) and the value otherwise.
   */
  checkInstrument(instrument: number, count: number, what: string): number {
    if (!(instrument >= 0 && instrument < count && Number.isInteger(instrument))) {
      throw new AnnotationError('invalid_annotation', `${what}: instrument must be an index in [0, ${count}), was ${instrument}`, { instrument });
    }
    return instrument;
  }

  /** The tier and reason in force for `instrument` (its last tier annotation), or undefined before the first. */
  tierOf(instrument: number): { readonly tier: string; readonly reason: string } | undefined {
    const t = this.lastTier[instrument]!;
    return t < 0 ? undefined : { tier: this.names[t]!, reason: this.names[this.lastReason[instrument]!]! };
  }

  /** The last regime sample of `instrument` (probabilities in label order, copied), or undefined before the first. */
  regimeOf(instrument: number): { readonly labels: readonly string[]; readonly probabilities: Float64Array } | undefined {
    const log = this.regimes[instrument];
    if (log === undefined || log.length === 0) return undefined;
    return { labels: log.labels, probabilities: Float64Array.from(log.probabilities, (p) => p[log.length - 1]!) };
  }

  /** Returns what was recorded (copies trimmed to length), or undefined when nothing was. */
  result(): KernelAnnotations | undefined {
    const regimes: RegimeAnnotationRecord[] = [];
    this.regimes.forEach((log, instrument) => {
      if (log === undefined || log.length === 0) return;
      regimes.push({ instrument, labels: log.labels, ts: log.ts.slice(0, log.length), probabilities: log.probabilities.map((p) => p.slice(0, log.length)) });
    });
    if (this.tierCount === 0 && regimes.length === 0) return undefined;
    const tiers: TierAnnotationRecord[] = [];
    for (let j = 0; j < this.tierCount; j++) {
      tiers.push({ instrument: this.tierInstrument[j]!, ts: this.tierTs[j]!, tier: this.names[this.tierCode[j]!]!, reason: this.names[this.reasonCode[j]!]! });
    }
    return { tiers, regimes };
  }
}

function grow<A extends Float64Array | Int32Array>(a: A): A {
  return growTo(a, a.length * 2);
}

