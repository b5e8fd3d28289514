import { describe, expect, it } from 'vitest';
import { crashedStateChanges, journaledStateChange, passedLifeRange, reconciledHalts } from './crashed-life.js';
import type { JournalRecord } from './journal.js';

const TF = 10;
const start = (restart: boolean): JournalRecord => ({ k: 'start', at: 0, runId: 'r', mode: 'demo', strategy: 's', instruments: ['A', 'B'], timeframe: '10ms', restart });
const bar = (ts: number, warmup = false): JournalRecord => ({ k: 'bar', i: 0, ts, o: 1, h: 1, l: 1, c: 1, v: 1, ...(warmup ? { warmup: true as const } : {}) });
const state = (s: string, trigger?: 'manual'): JournalRecord => ({ k: 'state', t: 0, state: s, reason: `why ${s}`, ...(trigger !== undefined ? { trigger } : {}) });
const submit = (t: number, id: string): JournalRecord => ({ k: 'submit', t, id, i: 0, side: 'buy', type: 'market', q: 1, tif: 'GTC' });
const denied = (t: number, id: string): JournalRecord => ({ k: 'event', t, e: 'denied', id, reason: 'risk: x' });

describe('passedLifeRange', () => {
  // 0: the saving life's tail, 2: life A (crashed), 12: the stopping life.
  const records: JournalRecord[] = [
    bar(20), // 0: the saving life journaled bar 20, died before saving it
    start(true), // 1: A
    state('HALTED B'), // 2: A's reconciliation
    bar(10, true), // 3: A's warm-up
    bar(20), // 4
    submit(30, 'a1'), // 5: bar 20 decided
    state('HALTED A'), // 6: after bar 20 (its poll)
    bar(30), // 7
    denied(40, 'a2'), // 8: bar 30 decided
    state('ACTIVE B'), // 9: after bar 30
    bar(40), // 10: journaled, not decided (A died)
    state('HALTED A'), // 11
    start(true), // 12: the stopping life
  ];

  it('spans the life that made the last decision at the bar\'s close, from its start to its first live bar after that bar', () => {
    expect(passedLifeRange(records, 0, 12, 30, TF)).toEqual([2, 10]);
    expect(passedLifeRange(records, 0, 12, 20, TF)).toEqual([2, 7]);
  });

  it('undefined when no decision was made at the bar\'s close in the range', () => {
    expect(passedLifeRange(records, 0, 12, 40, TF)).toBeUndefined(); // bar 40 journaled, never decided
    expect(passedLifeRange(records, 0, 5, 20, TF)).toBeUndefined(); // the decision is past `to`
    expect(passedLifeRange(records, 6, 12, 20, TF)).toBeUndefined(); // … or before `from`
  });

  it('a life with no start record in the range (the one that saved the state) starts at `from`; a later start ends the span', () => {
    const tail: JournalRecord[] = [state('HALTED A'), bar(20), submit(30, 'x'), state('HALTED B'), start(true), bar(20)];
    expect(passedLifeRange(tail, 0, 6, 20, TF)).toEqual([0, 4]);
    expect(passedLifeRange(tail, 1, 6, 20, TF)).toEqual([1, 4]);
  });

  it('the last decision of the bar decides the life (a later life that decided the bar again)', () => {
    const again: JournalRecord[] = [start(true), state('HALTED A'), bar(20), submit(30, 'x'), start(true), state('HALTED B'), bar(20), submit(30, 'x'), start(true)];
    expect(passedLifeRange(again, 0, 8, 20, TF)).toEqual([5, 8]);
  });
});

describe('journaledStateChange', () => {
  const ids = ['A', 'B'];
  it('an instrument\'s halt or release, whatever its trigger; the account\'s set by hand only', () => {
    expect(journaledStateChange(state('HALTED B') as Extract<JournalRecord, { k: 'state' }>, ids)).toEqual({ instrument: 1, state: 'HALTED', reason: 'why HALTED B' });
    expect(journaledStateChange(state('ACTIVE A') as Extract<JournalRecord, { k: 'state' }>, ids)).toEqual({ instrument: 0, state: 'ACTIVE', reason: 'why ACTIVE A' });
    expect(journaledStateChange(state('HALTED', 'manual') as Extract<JournalRecord, { k: 'state' }>, ids)).toEqual({ instrument: -1, state: 'HALTED', reason: 'why HALTED' });
    expect(journaledStateChange(state('REDUCING') as Extract<JournalRecord, { k: 'state' }>, ids)).toBeUndefined();
  });
  it('not this run\'s: an instrument it does not hold, an instrument\'s state other than HALTED or ACTIVE, an unknown account state: −2', () => {
    for (const [s, trigger] of [['HALTED C'], ['REDUCING A'], ['PAUSED', 'manual']] as const) {
      expect(journaledStateChange(state(s, trigger) as Extract<JournalRecord, { k: 'state' }>, ids)?.instrument).toBe(-2);
    }
  });
});

describe('crashedStateChanges', () => {
  const ids = ['A', 'B'];
  const applied = (records: JournalRecord[], lastBar: number) => crashedStateChanges(records, lastBar, TF, ids).map((c) => c.state);

  it('the crashed life\'s halts and releases up to the passed bar, and its account changes by hand, in order', () => {
    const records: JournalRecord[] = [
      start(true), state('ACTIVE', 'manual'), state('ACTIVE A'), state('HALTED B'), state('REDUCING'), bar(20), denied(30, 'x'),
      state('HALTED A'), bar(30), state('ACTIVE B'), // after the passed bar 20: not applied
      start(true),
    ];
    expect(applied(records, 20)).toEqual(['ACTIVE', 'ACTIVE A', 'HALTED B', 'HALTED A']);
    expect(applied(records, 30)).toEqual([]); // bar 30 journaled, never decided
  });

  it('a release of an instrument the stopping life halted itself is left out; its halts are not', () => {
    const records: JournalRecord[] = [start(true), state('ACTIVE A'), state('ACTIVE B'), state('HALTED B'), bar(20), submit(30, 'x'), start(true), state('HALTED A')];
    expect(applied(records, 20)).toEqual(['ACTIVE B', 'HALTED B']);
  });

  it('records not of this run are left out (tm replay refuses them); none without a decision at the bar\'s close', () => {
    const records: JournalRecord[] = [start(true), state('HALTED C'), state('PAUSED', 'manual'), state('HALTED A'), bar(20), submit(30, 'x'), start(true)];
    expect(applied(records, 20)).toEqual(['HALTED A']);
    expect(applied(records, 10)).toEqual([]);
    expect(applied([], 20)).toEqual([]);
  });
});

describe('reconciledHalts', () => {
  const reconcile = (kind: string, instrument: string): JournalRecord => ({ k: 'reconcile', t: 0, kind, detail: { instrument, runner: 0, venue: 1 } });

  it('lists the halting differences the last life reconciled, in order; other kinds, other lives and unknown instruments skipped', () => {
    const records: JournalRecord[] = [
      start(false),
      reconcile('position_mismatch', 'A'), // an earlier life's
      start(true),
      reconcile('missed_fill', 'A'),
      reconcile('fill_refused', 'B'),
      reconcile('position_mismatch', 'A'),
      reconcile('position_mismatch', 'C'), // not an instrument of the run
      reconcile('balance_mismatch', 'A'),
    ];
    expect(reconciledHalts(records, ['A', 'B'])).toEqual([
      { instrument: 1, kind: 'fill_refused', detail: { instrument: 'B', runner: 0, venue: 1 } },
      { instrument: 0, kind: 'position_mismatch', detail: { instrument: 'A', runner: 0, venue: 1 } },
    ]);
    expect(reconciledHalts(records.slice(0, 3), ['A', 'B'])).toEqual([]);
  });
});
