/**
 * The state store port: what a runner persists per (runner, instrument) so a restart can resume without losing its
 * signal — last processed bar, signal-stage state, rolling IC, regime filter, breaker, cascade tier, order cursors,
 * model identity. Implementations: `RedisStateStore` (live) and `MemoryStateStore` (backtests, tests); one contract
 * suite (`test/contract/state-store.contract.ts`) runs against both.
 */

/** Which model produced a state: a state written for another model (or version, or file) is refused. */
export interface ModelIdentity {
  readonly name: string;
  readonly version: string;
  /** sha256 of the model file. */
  readonly checksum: string;
}

/** One saved state of one runner × instrument. `payload` is the runner's own JSON (plain data only). */
export interface StateSnapshot {
  readonly schemaVersion: number;
  readonly model: ModelIdentity;
  /** Close time of the last bar the state includes (epoch ms). */
  readonly barTs: number;
  /** When it was written (engine time, epoch ms). */
  readonly savedAt: number;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** What a reader requires of a state (anything else is refused, never half-read). */
export interface StateExpectation {
  readonly schemaVersion: number;
  readonly model: ModelIdentity;
}

export type StateErrorCode = 'schema_mismatch' | 'model_mismatch' | 'corrupt' | 'unavailable';

export interface StateStore {
  /** Writes the snapshots of one bar for several instruments atomically (all or none). */
  saveAll(runner: string, snapshots: Readonly<Record<string, StateSnapshot>>): Promise<void>;
  /**
   * Reads the state of `instrument`: `undefined` when there is none; a {@link StateStoreError} result when it was
   * written by another schema or model, or does not match its checksum.
   */
  load(runner: string, instrument: string, expect: StateExpectation): Promise<{ readonly success: true; readonly data: StateSnapshot | undefined } | { readonly success: false; readonly error: Error & { readonly code: StateErrorCode } }>;
  /** Instruments with a saved state for `runner`, sorted. */
  instruments(runner: string): Promise<string[]>;
  /** Forgets every state of `runner`. */
  clear(runner: string): Promise<void>;
  close(): Promise<void>;
}
