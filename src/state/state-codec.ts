import { createHash } from 'node:crypto';
import { AppError } from '../core/app-error.js';
import { err, ok, type Result } from '../core/result.js';
import type { StateErrorCode, StateExpectation, StateSnapshot } from '../engine/state-store.js';

export class StateStoreError extends AppError<StateErrorCode> {}

/**
 * JSON with object keys sorted at every level: one text per value, so its checksum is stable. The text is
 * `JSON.stringify`'s with every object's entries sorted by key; arrays of plain values (the bulk of a runner state)
 * are written by `JSON.stringify` in one call.
 */
export function canonicalJson(value: unknown): string {
  return canonical(value) ?? 'null';
}

/** Array-index keys first, ascending (where JavaScript objects keep them), then the others in code-unit order. */
function byKey(a: string, b: string): number {
  const ia = ARRAY_INDEX.test(a) && Number(a) < 4294967295, ib = ARRAY_INDEX.test(b) && Number(b) < 4294967295;
  if (ia !== ib) return ia ? -1 : 1;
  if (ia) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

/** The canonical text of `v`, undefined where JSON leaves a value out (undefined, functions, symbols). */
function canonical(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.every((e) => e === null || (typeof e !== 'object' && typeof e !== 'function' && typeof e !== 'symbol' && e !== undefined))) return JSON.stringify(v);
    return `[${v.map((e) => canonical(e) ?? 'null').join(',')}]`;
  }
  const toJson = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJson === 'function') return canonical((toJson as () => unknown).call(v));
  const keys = Object.keys(v).sort(byKey);
  const parts: string[] = [];
  for (const k of keys) {
    const text = canonical((v as Record<string, unknown>)[k]);
    if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

const CHECKSUM_PREFIX = '{"checksum":"';
const SNAPSHOT_PREFIX = '","snapshot":';
/** Where the body starts in a text written by {@link encodeSnapshot} (after the prefix and the 64 hex digits). */
const BODY_AT = CHECKSUM_PREFIX.length + 64 + SNAPSHOT_PREFIX.length;

/** The stored text of a snapshot: `{ checksum, snapshot }` with checksum = sha256 of the snapshot's canonical JSON. */
export function encodeSnapshot(snapshot: StateSnapshot): string {
  const body = canonicalJson(snapshot);
  return `${CHECKSUM_PREFIX}${createHash('sha256').update(body).digest('hex')}${SNAPSHOT_PREFIX}${body}}`;
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
  // The checksum is of the snapshot's canonical JSON, which is the stored body itself when the text is as
  // `encodeSnapshot` wrote it: hashed as stored (no re-serialization); else the body is made canonical first.
  const stored = text.length > BODY_AT + 1 && text.startsWith(CHECKSUM_PREFIX) && text.startsWith(SNAPSHOT_PREFIX, CHECKSUM_PREFIX.length + 64) && text.endsWith('}') ? text.slice(BODY_AT, -1) : undefined;
  let actual = stored !== undefined ? createHash('sha256').update(stored).digest('hex') : undefined;
  if (actual !== parsed.checksum) actual = createHash('sha256').update(canonicalJson(snapshot)).digest('hex');
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
