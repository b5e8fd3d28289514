/** Outcome of an operation whose failure is expected (I/O, venue rejects, user input). Shaped like Zod's safeParse. */
export type Result<T, E> = { readonly success: true; readonly data: T } | { readonly success: false; readonly error: E };

export const ok = <T>(data: T): Result<T, never> => ({ success: true, data });
export const err = <E>(error: E): Result<never, E> => ({ success: false, error });
