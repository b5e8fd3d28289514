import { AppError } from './app-error.js';

/**
 * A network call that did not finish within its deadline. `context` holds `operation` (e.g. `MLflow GET /api/...`,
 * `S3 get s3://bucket/key`), `endpoint` (without credentials), `deadlineMs` and `elapsedMs` (measured).
 */
export class DeadlineError extends AppError<'timeout'> {}

/** Builds the {@link DeadlineError} for `operation` against `endpoint` after `elapsedMs` of a `deadlineMs` budget. */
export function deadlineError(operation: string, endpoint: string, deadlineMs: number, elapsedMs: number, cause?: unknown): DeadlineError {
  return new DeadlineError(
    'timeout',
    `${operation}: ${endpoint} did not answer within ${deadlineMs} ms (timed out after ${Math.round(elapsedMs)} ms)`,
    { operation, endpoint, deadlineMs, elapsedMs: Math.round(elapsedMs) },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Runs `fn` with an `AbortSignal` that fires after `deadlineMs`, and settles no later than that: when the deadline
 * passes first, the signal is aborted (so the transport closes its socket) and the returned promise rejects with a
 * {@link DeadlineError} naming `operation`, `endpoint` and the elapsed time, whatever `fn` does afterwards.
 * Elapsed time is measured with the monotonic `performance.now()`.
 * @example await withDeadline('S3 get', 'http://127.0.0.1:19000', 5000, (signal) => client.send(cmd, { abortSignal: signal }));
 */
export async function withDeadline<T>(operation: string, endpoint: string, deadlineMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = deadlineError(operation, endpoint, deadlineMs, performance.now() - started);
      controller.abort(e);
      reject(e);
    }, deadlineMs);
  });
  try {
    const work = fn(controller.signal);
    work.catch(() => undefined); // a late rejection after the deadline is not an unhandled one
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
