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
export function describeConfigIssue(union: z.core.$ZodIssue, raw: unknown): { path: string; problem: string; code: string } {
  const issue = closestBranch(union);
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

/**
 * For a union that no branch matched (`invalid_union`, e.g. `"default"` or a list of features), the issue of the branch
 * that got furthest (its first issue has the longest path), with the union's path in front; other issues as they are.
 * So a bad entry deep in a list is named (`$.features[0].fn`) instead of the whole list being quoted.
 */
function closestBranch(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || !Array.isArray(issue.errors) || issue.errors.length === 0) return issue;
  let best: z.core.$ZodIssue | undefined;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first && (best === undefined || first.path.length > best.path.length)) best = first;
  }
  if (best === undefined || best.path.length === 0) return issue;
  return closestBranch({ ...best, path: [...issue.path, ...best.path] } as z.core.$ZodIssue);
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): { found: boolean; value?: unknown } {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !(p in (v as object))) return { found: false };
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return { found: true, value: v };
}
