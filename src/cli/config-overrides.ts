import { AppError } from '../core/app-error.js';

/** One `--set path=value` override: `path` is a dotted key path (`params.fast`, `data.symbols`). */
export interface ConfigOverride {
  readonly path: readonly string[];
  readonly value: unknown;
  readonly text: string;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Parses `path=value`. The value is read as JSON when it is valid JSON (`10`, `true`, `["BTCUSDT"]`, `{"kind":"zero"}`),
 * else taken as a string (`binance-spot`).
 * @throws AppError `invalid_option` naming the text when it has no `=` or a path segment is not a key.
 */
export function parseOverride(text: string): ConfigOverride {
  const eq = text.indexOf('=');
  const path = eq < 0 ? [] : text.slice(0, eq).split('.');
  if (eq <= 0 || !path.every((k) => KEY.test(k))) {
    throw new AppError('invalid_option', `--set must look like path=value (e.g. params.fast=10 or data.symbols='["BTCUSDT"]'), was ${JSON.stringify(text)}`, { set: text });
  }
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  return { path, value, text };
}

/**
 * Returns a deep copy of the parsed JSON `config` with each override applied in order (missing objects on the path are
 * created; the schema check afterwards rejects keys the config does not know).
 * @throws AppError `invalid_option` when a path crosses a value that is not an object.
 */
export function applyOverrides(config: unknown, overrides: readonly ConfigOverride[]): unknown {
  const out = structuredClone(config) as Record<string, unknown>;
  for (const o of overrides) {
    let node: Record<string, unknown> = out;
    for (const [i, key] of o.path.slice(0, -1).entries()) {
      const next = node[key] ?? (node[key] = {});
      if (next === null || typeof next !== 'object' || Array.isArray(next)) {
        throw new AppError('invalid_option', `--set ${o.text}: ${o.path.slice(0, i + 1).join('.')} is ${JSON.stringify(next)}, not an object`, { set: o.text });
      }
      node = next as Record<string, unknown>;
    }
    node[o.path[o.path.length - 1]!] = o.value;
  }
  return out;
}
