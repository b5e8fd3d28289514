import { describe, expect, it } from 'vitest';
import { DeadlineError, withDeadline } from './deadline.js';

describe('withDeadline', () => {
  it('returns the result of a call that ends in time', async () => {
    await expect(withDeadline('op', 'http://x', 1000, async () => 42)).resolves.toBe(42);
  });

  it('rejects with a DeadlineError naming operation, endpoint and elapsed time, and aborts the signal', async () => {
    let signal: AbortSignal | undefined;
    const started = performance.now();
    const e = await withDeadline('MLflow GET /x', 'http://127.0.0.1:1', 80, (s) => {
      signal = s;
      return new Promise<never>(() => undefined);
    }).catch((x: unknown) => x);
    const elapsed = performance.now() - started;
    expect(e).toBeInstanceOf(DeadlineError);
    expect((e as DeadlineError).message).toMatch(/^MLflow GET \/x: http:\/\/127\.0\.0\.1:1 did not answer within 80 ms \(timed out after \d+ ms\)$/);
    expect((e as DeadlineError).context['elapsedMs']).toBeGreaterThanOrEqual(79);
    expect(elapsed).toBeLessThan(1000);
    expect(signal?.aborted).toBe(true);
  });

  it('passes through the call’s own error', async () => {
    await expect(withDeadline('op', 'x', 1000, async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
  });
});
