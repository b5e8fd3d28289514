/** Outcome of an operation whose failure is expected (I/O, venue rejects, user input). Shaped like Zod's safeParse. */
export type Result<T, E> = { readonly success: true; readonly data: T } | { readonly success: false; readonly error: E };

export const ok = <T>(data: T): Result<T, never> => ({ success: true, data });
export const err = <E>(error: E): Result<never, E> => ({ success: false, error });

/** Returns the data of a successful result or throws its error (for notebooks and scripts that want to stop on failure). */
export function unwrap<T, E>(result: Result<T, E>): T {
  if (result.success) return result.data;
  throw (result as { readonly error: E }).error;
}
