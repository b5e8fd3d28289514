import type { z } from 'zod';

/** `$.data.symbols[1]` style path of a config value (`$.columns["a-b"]` for keys that are not identifiers). */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  return '$' + path.map((p) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(p)) ? `.${String(p)}` : `[${JSON.stringify(String(p))}]`)).join('');
}

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Describes a zod issue of a config as `{ path, problem, code }`: unknown keys are named ("remove it or fix its
 * spelling"), other problems carry the value found (`, was 1`) or say it was missing.
 */
export function describeConfigIssue(issue: z.core.$ZodIssue, raw: unknown): { path: string; problem: string; code: string } {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    return {
      path: formatJsonPath([...issue.path, keys[0]!]),
      problem: `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')}: remove it or fix its spelling`,
      code: issue.code,
    };
  }
  const actual = valueAt(raw, issue.path);
  const was = actual.found ? `, was ${JSON.stringify(actual.value)}` : issue.code === 'invalid_type' ? ', was missing' : '';
  return { path: formatJsonPath(issue.path), problem: `${issue.message}${was}`, code: issue.code };
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): { found: boolean; value?: unknown } {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !(p in (v as object))) return { found: false };
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return { found: true, value: v };
}
