import { describe, expect, it } from 'vitest';
import { sweepSource } from './sweep-queue.js';

describe('sweepSource', () => {
  it('records the queue as <url>/<queue name>, without the credentials of the URL', () => {
    expect(sweepSource({ url: 'redis://127.0.0.1:6379', queueName: 'tm-sweep' })).toBe('redis://127.0.0.1:6379/tm-sweep');
    expect(sweepSource({ url: 'redis://:s3cret-pass@redis.internal:6379/2', queueName: 'q' })).toBe('redis://[REDACTED]@redis.internal:6379/2/q');
    expect(sweepSource({ url: 'rediss://user:pw@host', queueName: 'q' })).toBe('rediss://[REDACTED]@host/q');
  });
});
