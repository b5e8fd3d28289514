import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../state/memory-state-store.js';
import { loadSavedState, RecentBars, RUNNER_STATE_SCHEMA, savedSnapshots, strategyDifferences } from './saved-signal-state.js';

const TF = 3_600_000;
const OWNER = { runId: 'r1', strategy: 's', timeframe: '1h', instruments: ['A', 'B'] };
const MODELS = [{ name: 'm', version: 'v1', checksum: 'c1' }, { name: 'm', version: 'v1', checksum: 'c2' }];

function ring(sets: number, capacity: number): RecentBars {
  const r = new RecentBars(capacity, 2);
  for (let k = 0; k < sets; k++) {
    r.beginSet(k * TF);
    r.put(0, k * TF, 100 + k, 101 + k, 99 + k, 100.5 + k, 10 + k, NaN, k / 10);
    if (k % 2 === 0) r.put(1, k * TF, 200 + k, 201 + k, 199 + k, 200.5 + k, 20 + k, 100.5 + k, -k / 10); // B misses odd bars
  }
  return r;
}

describe('saved runner state', () => {
  it('the ring keeps the last `capacity` sets, oldest first, absent bars NaN but their set time kept', () => {
    const r = ring(7, 4);
    expect(r.size).toBe(4);
    const a = r.pack(0), b = r.pack(1);
    expect(Array.from(a.subarray(0, 4))).toEqual([3, 4, 5, 6].map((k) => k * TF));
    expect(Array.from(a.subarray(4 * 4, 5 * 4))).toEqual([103.5, 104.5, 105.5, 106.5]); // closes
    expect(Array.from(b.subarray(0, 4))).toEqual([3, 4, 5, 6].map((k) => k * TF));
    expect(Array.from(b.subarray(4, 8))).toEqual([NaN, 204, NaN, 206]); // opens: B's odd bars absent
    expect(Array.from(a.subarray(7 * 4, 8 * 4))).toEqual([0.3, 0.4, 0.5, 0.6]); // signals
  });

  it('round-trips through a store and refuses what does not fit: other setup, different bars, too old, malformed', async () => {
    const store = new MemoryStateStore();
    const r = ring(6, 4);
    const save = (owner = OWNER, savedAt = 1_000) => store.saveAll('k', savedSnapshots(owner, r, MODELS, savedAt, TF, { path: '/j', bytes: 5 }, () => undefined, (i) => ({ tier: i === 0 ? 'PURE_KELLY' : 'FLAT' })));
    await save();
    const ok = await loadSavedState(store, 'k', OWNER, MODELS, TF, 2_000, 3_600_000);
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(ok.state).toMatchObject({ lastTs: 5 * TF, savedAt: 1_000, sets: 4 });
    expect(Array.from(ok.state.instruments[1]!.close)).toEqual(Array.from(r.pack(1).subarray(16, 20)));
    expect(ok.state.instruments[0]).toMatchObject({ journal: { path: '/j', bytes: 5 }, strategyState: { tier: 'PURE_KELLY' } });
    expect(await loadSavedState(store, 'k', OWNER, MODELS, TF, 1_000 + 3_600_001, 3_600_000)).toMatchObject({ ok: false, reason: 'saved state is 1.00 h old (limit 1.00 h)', alert: false });
    expect(await loadSavedState(store, 'k', { ...OWNER, strategy: 't' }, MODELS, TF, 2_000, 3_600_000)).toMatchObject({ ok: false, reason: 'saved state of A was written by strategy "s", this run has "t"' });
    expect(await loadSavedState(store, 'k', OWNER, [MODELS[0]!, { ...MODELS[1]!, version: 'v2' }], TF, 2_000, 3_600_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/^saved state of B: .*written for model m v1/), alert: false });
    expect(await loadSavedState(store, 'none', OWNER, MODELS, TF, 2_000, 3_600_000)).toMatchObject({ ok: false, reason: 'no saved state of A', alert: false });
    // B's state of another bar (written later, alone): the states of one run must be of one bar.
    const later = ring(7, 4);
    await store.saveAll('k', { B: savedSnapshots(OWNER, later, MODELS, 1_000, TF, { path: '/j', bytes: 5 }, () => undefined, () => ({}))['B']! });
    expect(await loadSavedState(store, 'k', OWNER, MODELS, TF, 2_000, 3_600_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/^saved states are of different bars/), alert: true });
    // Well checksummed but malformed bars (a writer bug): refused with an alert, never half-read.
    await save();
    const snap = savedSnapshots(OWNER, r, MODELS, 1_000, TF, { path: '/j', bytes: 5 }, () => undefined, () => ({}))['A']!;
    await store.saveAll('k', { A: { ...snap, payload: { ...snap.payload, sets: 5 } } });
    expect(await loadSavedState(store, 'k', OWNER, MODELS, TF, 2_000, 3_600_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/^saved state of A is malformed: bars hold 256 bytes, 5 sets need 320/), alert: true });
    expect(RUNNER_STATE_SCHEMA).toBe(1);
  });

  it('strategy differences: tier, regime probabilities and sizing inputs, numbers to a relative tolerance', () => {
    const saved = { tier: 'PURE_KELLY', regime: [0.2, 0.8], sizing: { kellyFraction: 0.1, targetFraction: 0.05, ic: NaN, signalConfidence: 0.5, variancePerBar: 1e-4 } };
    expect(strategyDifferences(saved, { ...saved, regime: [0.2 + 1e-12, 0.8] })).toEqual([]);
    expect(strategyDifferences(undefined, {})).toEqual([]);
    expect(strategyDifferences(saved, { ...saved, tier: 'FLAT', sizing: { ...saved.sizing, ic: 0.1 } })).toEqual(['tier PURE_KELLY saved, FLAT rebuilt', 'ic NaN saved, 0.1 rebuilt']);
    expect(strategyDifferences(saved, { ...saved, regime: [0.3, 0.7] })[0]).toMatch(/^regime probabilities \[0.2,0.8\] saved, \[0.3,0.7\] rebuilt$/);
  });
});
