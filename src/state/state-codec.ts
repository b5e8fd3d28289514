import { createHash } from 'node:crypto';
import { AppError } from '../core/app-error.js';
import { err, ok, type Result } from '../core/result.js';
import type { StateErrorCode, StateExpectation, StateSnapshot } from '../engine/state-store.js';

export class StateStoreError extends AppError<StateErrorCode> {}

/** JSON with object keys sorted at every level: one text per value, so its checksum is stable. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

/** The stored text of a snapshot: `{ checksum, snapshot }` with checksum = sha256 of the snapshot's canonical JSON. */
export function encodeSnapshot(snapshot: StateSnapshot): string {
  const body = canonicalJson(snapshot);
  return `{"checksum":"${createHash('sha256').update(body).digest('hex')}","snapshot":${body}}`;
}

/**
 * Parses a stored text and checks it against its checksum and `expect` (schema version, then model name, version and
 * checksum). `where` names the key in errors.
 */
export function decodeSnapshot(text: string, expect: StateExpectation, where: string): Result<StateSnapshot, StateStoreError> {
  let parsed: { checksum?: unknown; snapshot?: unknown };
  try {
    parsed = JSON.parse(text) as { checksum?: unknown; snapshot?: unknown };
  } catch (e) {
    return err(new StateStoreError('corrupt', `${where}: stored state is not JSON: ${(e as Error).message}`, { where }));
  }
  const snapshot = parsed.snapshot as StateSnapshot | undefined;
  if (typeof parsed.checksum !== 'string' || snapshot === undefined || snapshot === null || typeof snapshot !== 'object') {
    return err(new StateStoreError('corrupt', `${where}: stored state lacks its checksum or snapshot`, { where }));
  }
  const actual = createHash('sha256').update(canonicalJson(snapshot)).digest('hex');
  if (actual !== parsed.checksum) return err(new StateStoreError('corrupt', `${where}: stored state does not match its checksum (${actual} vs ${parsed.checksum})`, { where }));
  if (snapshot.schemaVersion !== expect.schemaVersion) {
    return err(new StateStoreError('schema_mismatch', `${where}: state written by schema version ${snapshot.schemaVersion}, this runner reads ${expect.schemaVersion}`, { where, found: snapshot.schemaVersion, expected: expect.schemaVersion }));
  }
  const m = snapshot.model, e = expect.model;
  if (m?.name !== e.name || m?.version !== e.version || m?.checksum !== e.checksum) {
    return err(new StateStoreError('model_mismatch', `${where}: state written for model ${m?.name} ${m?.version} (${String(m?.checksum).slice(0, 12)}), this runner serves ${e.name} ${e.version} (${e.checksum.slice(0, 12)})`, { where }));
  }
  return ok(snapshot);
}

/** Checks a runner or instrument name used in keys: `[A-Za-z0-9._-]{1,64}`. @throws StateStoreError `corrupt`. */
export function checkKeyPart(value: string, field: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value)) throw new StateStoreError('corrupt', `state store: \`${field}\` must be 1-64 of [A-Za-z0-9._-], was ${JSON.stringify(value)}`, { field, value });
  return value;
}
