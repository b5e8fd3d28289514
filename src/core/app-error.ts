/**
 * Base class of every expected error in trade-matrix.
 *
 * Each folder exports its own union of `code`s; `context` carries the values involved
 * (file, line, field, value) so callers and tests can branch on data instead of parsing messages.
 */
export class AppError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: Code, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = Object.freeze({ ...context });
  }
}

/** Thrown when an internal invariant is violated (corrupt data is worse than no data). */
export class InvariantError extends AppError<'invariant'> {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('invariant', message, context);
  }
}

/** Throws {@link InvariantError} with `message` unless `condition` holds. */
export function invariant(condition: unknown, message: string, context: Record<string, unknown> = {}): asserts condition {
  if (!condition) throw new InvariantError(message, context);
}

/**
 * Returns a copy of `e` (same class, `code`, `name`) with `message`, `context` extended by `extra`, and `e` as its
 * `cause`. Works for every AppError subclass whatever its constructor takes (e.g. to put a file name in front).
 */
export function rewordError<E extends AppError>(e: E, message: string, extra: Record<string, unknown> = {}): E {
  const copy = Object.create(Object.getPrototypeOf(e) as object) as E;
  for (const key of Reflect.ownKeys(e)) Object.defineProperty(copy, key, Object.getOwnPropertyDescriptor(e, key)!);
  const define = (key: string, value: unknown, enumerable: boolean) => Object.defineProperty(copy, key, { value, writable: true, configurable: true, enumerable });
  define('message', message, false);
  define('context', Object.freeze({ ...e.context, ...extra }), true);
  define('cause', e, false);
  if (typeof e.stack === 'string') define('stack', `${e.name}: ${message}\n${e.stack.split('\n').slice(1).join('\n')}`, false);
  return copy;
}
