import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { OhlcvColumns } from '../core/bar.js';
import type { ModelIdentity, StateSnapshot, StateStore } from '../engine/state-store.js';
import type { SignalInputState } from './live-signals.js';

/** Schema of the runner state a live runner writes to its state store (a state of another schema is refused). */
export const RUNNER_STATE_SCHEMA = 1;
/** A saved state older than this (wall time since it was written) is not restored: the run bootstraps instead. */
export const DEFAULT_MAX_STATE_AGE_MS = 4 * 3_600_000;
/** Bars of the saved state whose signals are recomputed from the saved inputs before it is trusted. */
export const DEFAULT_VALIDATE_BARS = 3;
/** Largest |recomputed − saved| signal a validated state may show (see {@link validateTolerance}). */
export const VALIDATE_TOLERANCE = 1e-6;

/**
 * The state-store key of a run (what `tm live` uses): its id and a hash of its folder, so two folders of one run id
 * never share a state. Readers (notebooks, `tm live status`) find a run's state in Redis under `tm:state:<key>`.
 */
export function runnerStateKey(runId: string, dir: string): string {
  return `${runId}.${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 12)}`;
}

/** Bar columns of a saved state, in their order in the packed array. */
const COLUMNS = 8; // ts, open, high, low, close, volume, reference close, signal
const TS = 0, OPEN = 1, HIGH = 2, LOW = 3, CLOSE = 4, VOLUME = 5, REF = 6, SIGNAL = 7;

/**
 * The last `capacity` bar sets a runner processed, warm-up included (a ring of typed arrays, nothing allocated per
 * bar): what its saved state holds so that a restart can rebuild the signal stage and the strategy without asking
 * the venue for them. Per set: the open time, and per instrument its bar (absent: NaN open), reference close and signal.
 */
export class RecentBars {
  private readonly data: Float64Array;
  private readonly setTs: Float64Array;
  private head = 0;
  /** Sets held (at most `capacity`). */
  size = 0;

  constructor(
    readonly capacity: number,
    readonly instruments: number,
  ) {
    this.data = new Float64Array(Math.max(1, capacity) * instruments * COLUMNS);
    this.setTs = new Float64Array(Math.max(1, capacity));
  }

  /** Starts a new set at open time `ts` (every instrument absent until {@link put}). */
  beginSet(ts: number): void {
    if (this.capacity === 0) return;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    this.setTs[this.head] = ts;
    const base = this.head * this.instruments * COLUMNS;
    this.data.fill(NaN, base, base + this.instruments * COLUMNS);
  }

  /** Instrument `i`'s bar of the set begun last. */
  put(i: number, ts: number, open: number, high: number, low: number, close: number, volume: number, reference: number, signal: number): void {
    if (this.capacity === 0) return;
    const o = (this.head * this.instruments + i) * COLUMNS;
    const d = this.data;
    d[o + TS] = ts;
    d[o + OPEN] = open;
    d[o + HIGH] = high;
    d[o + LOW] = low;
    d[o + CLOSE] = close;
    d[o + VOLUME] = volume;
    d[o + REF] = reference;
    d[o + SIGNAL] = signal;
  }

  /** Open time of the newest set (-Infinity before the first). */
  get lastTs(): number {
    return this.size === 0 ? -Infinity : this.setTs[this.head]!;
  }

  /**
   * Instrument `i`'s columns over the held sets, oldest first, packed as `COLUMNS` runs of `size` float64 (ts,
   * open, high, low, close, volume, reference, signal; an absent bar has NaN everywhere but its set's open time).
   */
  pack(i: number): Float64Array {
    const n = this.size;
    const out = new Float64Array(n * COLUMNS);
    for (let k = 0; k < n; k++) {
      const slot = (this.head - n + 1 + k + this.capacity) % this.capacity;
      const o = (slot * this.instruments + i) * COLUMNS;
      for (let c = 0; c < COLUMNS; c++) out[c * n + k] = this.data[o + c]!;
      out[TS * n + k] = this.setTs[slot]!; // the set's time, present or not
    }
    return out;
  }
}

/** The payload of one instrument's saved state (`StateSnapshot.payload`). */
interface SavedPayload {
  readonly runId: string;
  readonly strategy: string;
  readonly timeframe: string;
  readonly instruments: readonly string[];
  /** Sets held. */
  readonly sets: number;
  /** `RecentBars.pack` as base64 of little-endian float64 (`sets` × 8 values). */
  readonly bars: string;
  /** The signal stage's inputs besides bars (absent: a run without a model column). */
  readonly inputs?: SignalInputState;
  /** Up to when the stage had asked its source for funding and DVOL (null: never). */
  readonly askedUntil: number | null;
  /** The run's journal (resolved path) and its size when the state was saved: a journal at least as long holds these bars. */
  readonly journal?: { readonly path: string; readonly bytes: number };
  /** What the strategy last annotated (sizing tier, regime probabilities, rolling IC and sizing inputs): checked after a replay. */
  readonly strategyState?: StrategySummary;
}

/** The strategy's state as its kernel annotations show it (absent parts: the strategy annotates none). */
export interface StrategySummary {
  readonly tier?: string;
  readonly regime?: readonly number[];
  readonly sizing?: { readonly kellyFraction: number; readonly targetFraction: number; readonly ic: number; readonly signalConfidence: number; readonly variancePerBar: number };
}

/**
 * The differences between a saved strategy summary and the one rebuilt by a replay (numbers compared to `tolerance`
 * relative; NaN equals NaN); empty when they agree.
 */
export function strategyDifferences(saved: StrategySummary | undefined, rebuilt: StrategySummary, tolerance = 1e-9): string[] {
  if (saved === undefined) return [];
  const out: string[] = [];
  const near = (a: number, b: number) => (a !== a && b !== b) || Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));
  if (saved.tier !== rebuilt.tier) out.push(`tier ${saved.tier} saved, ${rebuilt.tier} rebuilt`);
  const r0 = saved.regime ?? [], r1 = rebuilt.regime ?? [];
  if (r0.length !== r1.length || r0.some((p, k) => !near(p ?? NaN, r1[k]!))) out.push(`regime probabilities ${JSON.stringify(r0)} saved, ${JSON.stringify(r1)} rebuilt`);
  for (const field of ['kellyFraction', 'targetFraction', 'ic', 'signalConfidence', 'variancePerBar'] as const) {
    const a = saved.sizing?.[field] ?? NaN, b = rebuilt.sizing?.[field] ?? NaN;
    if (!near(a ?? NaN, b)) out.push(`${field} ${a} saved, ${b} rebuilt`);
  }
  return out;
}

/** Who wrote a state, as a reader requires it. */
export interface SavedStateOwner {
  readonly runId: string;
  readonly strategy: string;
  readonly timeframe: string;
  readonly instruments: readonly string[];
}

/** One instrument's restored state: its bars over the saved sets (an absent bar is NaN but its set's time), and more. */
export interface RestoredInstrument extends OhlcvColumns {
  readonly reference: Float64Array;
  readonly signal: Float64Array;
  readonly inputs: SignalInputState | undefined;
  readonly askedUntil: number;
  readonly journal: { readonly path: string; readonly bytes: number } | undefined;
  readonly strategyState: StrategySummary | undefined;
}

/** A runner's state as read back from its store: every instrument's, of the same bar. */
export interface RestoredState {
  /** Open time of the last bar set the state includes. */
  readonly lastTs: number;
  /** Wall time it was written (epoch ms). */
  readonly savedAt: number;
  readonly sets: number;
  readonly instruments: readonly RestoredInstrument[];
}

/** Builds the snapshots of every instrument for the state store (one `saveAll`: atomic). */
export function savedSnapshots(owner: SavedStateOwner, bars: RecentBars, models: readonly ModelIdentity[], savedAt: number, timeframeMs: number, journal: { readonly path: string; readonly bytes: number }, inputs: (i: number, firstTs: number) => { readonly inputs: SignalInputState; readonly askedUntil: number } | undefined, strategy: (i: number) => StrategySummary): Record<string, StateSnapshot> {
  const out: Record<string, StateSnapshot> = {};
  owner.instruments.forEach((id, i) => {
    const packed = bars.pack(i);
    const firstTs = bars.size > 0 ? packed[0]! : bars.lastTs;
    const extra = inputs(i, firstTs);
    const payload: SavedPayload = {
      runId: owner.runId,
      strategy: owner.strategy,
      timeframe: owner.timeframe,
      instruments: owner.instruments,
      sets: bars.size,
      bars: Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength).toString('base64'),
      ...(extra !== undefined ? { inputs: extra.inputs } : {}),
      askedUntil: extra !== undefined && Number.isFinite(extra.askedUntil) ? extra.askedUntil : null,
      journal,
      strategyState: strategy(i),
    };
    out[id] = { schemaVersion: RUNNER_STATE_SCHEMA, model: models[i]!, barTs: bars.lastTs + timeframeMs, savedAt, payload: payload as unknown as Record<string, unknown> };
  });
  return out;
}

/** Why a saved state was not restored: `alert` when something is wrong (unreadable, corrupt), not merely absent or old. */
export interface StateRefusal {
  readonly reason: string;
  readonly alert: boolean;
}

/**
 * Reads the saved state of every instrument of `owner` (their model identities in `models`, engine order) and checks
 * it: present for every instrument, of this schema and model (checked by the store), written by the same run setup,
 * of the same bar, not older than `maxAgeMs` at wall time `now`, its bars well formed. Never throws: a state that
 * cannot be used is a refusal naming why.
 */
export async function loadSavedState(store: StateStore, key: string, owner: SavedStateOwner, models: readonly ModelIdentity[], timeframeMs: number, now: number, maxAgeMs: number): Promise<{ readonly ok: true; readonly state: RestoredState } | ({ readonly ok: false } & StateRefusal)> {
  const refuse = (reason: string, alert: boolean) => ({ ok: false as const, reason, alert });
  let loaded;
  try {
    loaded = await Promise.all(owner.instruments.map((_, i) => store.load(key, owner.instruments[i]!, { schemaVersion: RUNNER_STATE_SCHEMA, model: models[i]! })));
  } catch (e) {
    return refuse(`state store unavailable: ${(e as Error).message}`, true);
  }
  const instruments: RestoredInstrument[] = [];
  let lastTs = NaN, savedAt = NaN, sets = -1;
  for (let i = 0; i < loaded.length; i++) {
    const id = owner.instruments[i]!;
    const r = loaded[i]!;
    if (!r.success) {
      const code = r.error.code;
      // Another model or schema is expected after a promotion or an upgrade; corruption and an unreachable store are not.
      return refuse(`saved state of ${id}: ${r.error.message}`, code === 'corrupt' || code === 'unavailable');
    }
    const s = r.data;
    if (s === undefined) return refuse(`no saved state of ${id}`, false);
    const p = s.payload as unknown as SavedPayload;
    for (const field of ['runId', 'strategy', 'timeframe'] as const) {
      if (p[field] !== owner[field]) return refuse(`saved state of ${id} was written by ${field} ${JSON.stringify(p[field])}, this run has ${JSON.stringify(owner[field])}`, false);
    }
    if (!Array.isArray(p.instruments) || p.instruments.join(',') !== owner.instruments.join(',')) return refuse(`saved state of ${id} trades ${String(p.instruments)}, this run ${owner.instruments.join(', ')}`, false);
    const open = s.barTs - timeframeMs;
    if (i === 0) ({ savedAt, sets } = { savedAt: s.savedAt, sets: p.sets }), (lastTs = open);
    else if (open !== lastTs || p.sets !== sets) return refuse(`saved states are of different bars (${owner.instruments[0]} ${new Date(lastTs).toISOString()}, ${id} ${new Date(open).toISOString()})`, true);
    const bars = decodeBars(p, timeframeMs, open);
    if (typeof bars === 'string') return refuse(`saved state of ${id} is malformed: ${bars}`, true);
    instruments.push({ ...bars, inputs: p.inputs, askedUntil: p.askedUntil ?? -Infinity, journal: p.journal, strategyState: p.strategyState });
  }
  const age = now - savedAt;
  if (!(age <= maxAgeMs)) return refuse(`saved state is ${(age / 3_600_000).toFixed(2)} h old (limit ${(maxAgeMs / 3_600_000).toFixed(2)} h)`, false);
  return { ok: true, state: { lastTs, savedAt, sets, instruments } };
}

function decodeBars(p: SavedPayload, tf: number, lastTs: number): Omit<RestoredInstrument, 'inputs' | 'askedUntil' | 'journal' | 'strategyState'> | string {
  const n = p.sets;
  if (!(Number.isInteger(n) && n >= 0) || typeof p.bars !== 'string') return `sets must be an integer >= 0 with its bars, was ${JSON.stringify(n)}`;
  const bytes = Buffer.from(p.bars, 'base64');
  if (bytes.byteLength !== n * COLUMNS * 8) return `bars hold ${bytes.byteLength} bytes, ${n} sets need ${n * COLUMNS * 8}`;
  const all = new Float64Array(n * COLUMNS);
  new Uint8Array(all.buffer).set(bytes);
  const col = (c: number) => all.subarray(c * n, (c + 1) * n);
  const ts = col(TS);
  for (let k = 0; k < n; k++) {
    if (!(ts[k]! % tf === 0) || (k > 0 && !(ts[k]! > ts[k - 1]!))) return `set ${k} opens at ${ts[k]}, not on the ${tf} ms grid after the previous one`;
  }
  if (n > 0 && ts[n - 1] !== lastTs) return `the last set opens at ${ts[n - 1]}, the state is of the bar at ${lastTs}`;
  return { ts, open: col(OPEN), high: col(HIGH), low: col(LOW), close: col(CLOSE), volume: col(VOLUME), reference: col(REF), signal: col(SIGNAL) };
}
