/**
 * The state-store contract: every `StateStore` (Redis, memory) must round-trip a runner's per-instrument state,
 * write one bar of several instruments atomically, and refuse — never half-read — a state written by another schema
 * or model, or one that no longer matches its checksum.
 */
import { describe, expect, it } from 'vitest';
import type { StateExpectation, StateSnapshot, StateStore } from '../../src/engine/state-store.js';

export interface StateStoreHarness {
  readonly store: StateStore;
  /** Overwrites the stored text of one state (simulated corruption). */
  tamper(runner: string, instrument: string, text: string): Promise<void>;
  close(): Promise<void>;
}

const MODEL = { name: 'gbdt-transfer', version: 'v3', checksum: 'a'.repeat(64) };
const EXPECT: StateExpectation = { schemaVersion: 1, model: MODEL };

function snapshot(barTs: number, extra: Record<string, unknown> = {}): StateSnapshot {
  return {
    schemaVersion: 1,
    model: MODEL,
    barTs,
    savedAt: barTs + 5,
    payload: { features: { window: [1.5, 2.25, -3], count: 3 }, regime: { probabilities: [0.1, 0.2, 0.3, 0.4], variance: 1e-4 }, breaker: 'closed', tier: 'PURE_KELLY', cursors: { order: 'r1_sma_0_lque6ps0_1' }, ...extra },
  };
}

export function runStateStoreContract(name: string, make: () => Promise<StateStoreHarness>): void {
  describe(`StateStore contract: ${name}`, () => {
    const runner = () => `runner-${Math.random().toString(36).slice(2, 10)}`;

    it('round-trips one bar of several instruments, written together, listed in order', async () => {
      const h = await make();
      try {
        const r = runner();
        expect(await h.store.load(r, 'BTCUSDT', EXPECT)).toEqual({ success: true, data: undefined });
        await h.store.saveAll(r, { ETHUSDT: snapshot(2_000), BTCUSDT: snapshot(2_000, { note: 'btc' }) });
        expect(await h.store.instruments(r)).toEqual(['BTCUSDT', 'ETHUSDT']);
        expect(await h.store.load(r, 'BTCUSDT', EXPECT)).toEqual({ success: true, data: snapshot(2_000, { note: 'btc' }) });
        await h.store.saveAll(r, { BTCUSDT: snapshot(3_000) });
        const later = await h.store.load(r, 'BTCUSDT', EXPECT);
        expect(later.success && later.data?.barTs).toBe(3_000);
        await h.store.clear(r);
        expect(await h.store.instruments(r)).toEqual([]);
      } finally {
        await h.close();
      }
    });

    it('refuses a state of another schema version, model, version or model file — by code, never half-read', async () => {
      const h = await make();
      try {
        const r = runner();
        await h.store.saveAll(r, { BTCUSDT: snapshot(2_000) });
        const refused = async (expect_: StateExpectation) => {
          const res = await h.store.load(r, 'BTCUSDT', expect_);
          return res.success ? 'loaded' : res.error.code;
        };
        expect(await refused({ ...EXPECT, schemaVersion: 2 })).toBe('schema_mismatch');
        expect(await refused({ ...EXPECT, model: { ...MODEL, name: 'other' } })).toBe('model_mismatch');
        expect(await refused({ ...EXPECT, model: { ...MODEL, version: 'v4' } })).toBe('model_mismatch');
        expect(await refused({ ...EXPECT, model: { ...MODEL, checksum: 'b'.repeat(64) } })).toBe('model_mismatch');
        expect(await refused(EXPECT)).toBe('loaded');
      } finally {
        await h.close();
      }
    });

    it('refuses a state that does not match its checksum, or is not JSON', async () => {
      const h = await make();
      try {
        const r = runner();
        await h.store.saveAll(r, { BTCUSDT: snapshot(2_000), ETHUSDT: snapshot(2_000) });
        const res = await h.store.load(r, 'BTCUSDT', EXPECT);
        if (!res.success || !res.data) throw new Error('expected a state');
        // change one payload number but keep the recorded checksum
        const good = JSON.stringify({ probe: 1 });
        await h.tamper(r, 'BTCUSDT', `{"checksum":"${'0'.repeat(64)}","snapshot":${JSON.stringify(res.data)}}`);
        const bad = await h.store.load(r, 'BTCUSDT', EXPECT);
        expect(bad.success ? 'loaded' : bad.error.code).toBe('corrupt');
        await h.tamper(r, 'ETHUSDT', good.slice(0, -3));
        const broken = await h.store.load(r, 'ETHUSDT', EXPECT);
        expect(broken.success ? 'loaded' : broken.error.code).toBe('corrupt');
      } finally {
        await h.close();
      }
    });

    it('names a bad runner or instrument key', async () => {
      const h = await make();
      try {
        await expect(h.store.saveAll('bad runner', { BTCUSDT: snapshot(1) })).rejects.toThrow(/`runner` must be 1-64 of/);
        await expect(h.store.saveAll(runner(), { 'BTC/USDT': snapshot(1) })).rejects.toThrow(/`instrument` must be 1-64 of/);
      } finally {
        await h.close();
      }
    });
  });
}
