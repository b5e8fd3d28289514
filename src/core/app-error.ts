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
