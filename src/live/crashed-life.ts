import { TRADING_STATES } from '../engine/risk/trading-state.js';
import type { JournalRecord } from './journal.js';

type StateRecord = Extract<JournalRecord, { k: 'state' }>;

/** A state change the runner and `tm replay` apply from the journal: an instrument's (`instrument` ≥ 0) or the account's by hand (−1). */
export interface JournaledStateChange {
  readonly instrument: number;
  readonly state: string;
  readonly reason: string;
}

/**
 * The state change a `state` record journals, when it is one the run applies by hand: any halt or release of one
 * instrument (`"HALTED ETHUSDT"`: lost orders, refused fills, position differences, the venue breaker, `--unhalt`), or
 * the account's state set by hand (trigger `manual`: the kill switch, `--unhalt`). The account's changes its risk
 * limits make (or journaled before triggers were recorded) give undefined: a risk engine makes them itself. A record
 * that is not this run's — an instrument `ids` does not hold, an instrument's state other than HALTED or ACTIVE, an
 * account state none of TRADING_STATES — gives `instrument` −2 (for the caller to refuse or skip).
 */
export function journaledStateChange(r: StateRecord, ids: readonly string[]): JournaledStateChange | undefined {
  const space = r.state.indexOf(' ');
  if (space < 0) {
    if (r.trigger !== 'manual') return undefined;
    return { instrument: (TRADING_STATES as readonly string[]).includes(r.state) ? -1 : -2, state: r.state, reason: r.reason };
  }
  const at = ids.indexOf(r.state.slice(space + 1)), state = r.state.slice(0, space);
  return { instrument: at < 0 || (state !== 'HALTED' && state !== 'ACTIVE') ? -2 : at, state, reason: r.reason };
}

/** Whether `r` journals a decision made at its time `t`: an order sent (`submit`) or denied by the pre-trade risk. */
export function isDecision(r: JournalRecord): r is Extract<JournalRecord, { k: 'submit' }> | Extract<JournalRecord, { k: 'event' }> {
  return r.k === 'submit' || (r.k === 'event' && r.e === 'denied');
}

/**
 * The records of `records[from, to)` that a crashed venue life journaled in force at the bars a stop passes
 * (LiveRunner.passCrashedBars: a life stopped before its first bar, after a restart, applies its stop after `lastBar`,
 * the last bar a crashed life journaled a decision of), as the index range `[start, end)`: from the start of the life
 * that journaled the last decision made at `lastBar`'s close (an order sent or denied) to the first live bar record
 * after `lastBar` (or that life's end). The state changes journaled there (e.g. a halt set at its reconciliation,
 * before the bar whose order it denied) were in force when the stop came, though no saved state holds them: the runner
 * applies them again and `tm replay` keeps them. Undefined when `records[from, to)` holds no such decision.
 * @example passedLifeRange(tail, 0, ownStart, lastBar, tf) // [3, 41]
 */
export function passedLifeRange(records: readonly JournalRecord[], from: number, to: number, lastBar: number, tf: number): readonly [number, number] | undefined {
  const close = lastBar + tf;
  let k = to - 1;
  for (; k >= from; k--) {
    const r = records[k]!;
    if (isDecision(r) && r.t === close) break;
  }
  if (k < from) return undefined;
  let start = k;
  while (start > from && records[start - 1]!.k !== 'start') start--;
  let end = k + 1;
  for (; end < to; end++) {
    const r = records[end]!;
    if (r.k === 'start' || (r.k === 'bar' && r.warmup === undefined && r.ts > lastBar)) break;
  }
  return [start, end];
}

/**
 * The state changes the stopping life applies again (LiveRunner.applyCrashedStates), in their journal order, from the
 * journal tail `records` after its restored state, which ends with the stopping life's own records (from its start
 * record): those of {@link passedLifeRange} up to `lastBar` that are this run's (see {@link journaledStateChange}),
 * but for a release of an instrument the stopping life halted itself (its reconciliation's halt is newer than the
 * crashed life's release; tm replay applies it after the release too, from the next live bar).
 * @example crashedStateChanges(tail, lastBar, tf, ['BTCUSDT-LINEAR.BYBIT']) // [{ state: 'HALTED BTCUSDT-LINEAR.BYBIT', change: { instrument: 0, … } }]
 */
export function crashedStateChanges(records: readonly JournalRecord[], lastBar: number, tf: number, ids: readonly string[]): { readonly state: string; readonly change: JournaledStateChange }[] {
  const own = records.findLastIndex((r) => r.k === 'start');
  const range = passedLifeRange(records, 0, own < 0 ? records.length : own, lastBar, tf);
  if (range === undefined) return [];
  const haltedHere = new Set<number>();
  for (const r of own < 0 ? [] : records.slice(own + 1)) {
    const c = r.k === 'state' ? journaledStateChange(r, ids) : undefined;
    if (c !== undefined && c.instrument >= 0 && c.state === 'HALTED') haltedHere.add(c.instrument);
  }
  const changes: { readonly state: string; readonly change: JournaledStateChange }[] = [];
  for (const r of records.slice(range[0], range[1])) {
    if (r.k !== 'state') continue;
    const c = journaledStateChange(r, ids);
    if (c === undefined || c.instrument === -2) continue; // not this run's (tm replay refuses such a journal)
    if (c.state !== 'HALTED' && haltedHere.has(c.instrument)) continue;
    changes.push({ state: r.state, change: c });
  }
  return changes;
}

/** A difference the stopping life's own reconciliation found that halts its instrument (see {@link reconciledHalts}). */
export interface ReconciledHalt {
  readonly instrument: number;
  readonly kind: 'position_mismatch' | 'fill_refused';
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * The differences that halt an instrument (`position_mismatch`, `fill_refused`) journaled by the stopping life itself
 * (the `reconcile` records after the last start record of `records`), in journal order, instruments `ids` does not hold
 * skipped. Their halts leave no state record when the restored state held the instrument halted already (a halt of a
 * halted instrument changes nothing): LiveRunner.applyCrashedStates halts such an instrument again when a crashed
 * life's release, applied after the reconciliation, let it trade though it still differs from the venue.
 * @example reconciledHalts(tail, ['BTCUSDT-LINEAR.BYBIT', 'ETHUSDT-LINEAR.BYBIT']) // [{ instrument: 1, kind: 'position_mismatch', detail: { … } }]
 */
export function reconciledHalts(records: readonly JournalRecord[], ids: readonly string[]): ReconciledHalt[] {
  const own = records.findLastIndex((r) => r.k === 'start');
  const halts: ReconciledHalt[] = [];
  for (const r of records.slice(own + 1)) {
    if (r.k !== 'reconcile' || (r.kind !== 'position_mismatch' && r.kind !== 'fill_refused')) continue;
    const instrument = ids.indexOf(String(r.detail['instrument']));
    if (instrument >= 0) halts.push({ instrument, kind: r.kind, detail: r.detail });
  }
  return halts;
}
