import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINES } from '../../src/config/network-deadlines.js';
import { MemoryStateStore, RedisStateStore } from '../../src/state/index.js';
import { runStateStoreContract } from './state-store.contract.js';

runStateStoreContract('MemoryStateStore', async () => {
  const store = new MemoryStateStore();
  return { store, tamper: async (r, i, text) => store.tamper(r, i, text), close: () => store.close() };
});

/** The real Redis of the test harness (REDIS_URL from scripts/services.sh env). */
runStateStoreContract('RedisStateStore (real Redis)', async () => {
  const url = process.env['REDIS_URL'];
  if (!url) throw new Error(`REDIS_URL is not set: the harness did not start Redis (${process.env['TM_SERVICES_ERROR'] ?? 'run bash scripts/services.sh up'})`);
  const prefix = 'tm:test:state:';
  const store = await RedisStateStore.connect(url, DEFAULT_DEADLINES, prefix);
  const raw = new Redis(url);
  return {
    store,
    tamper: async (r, i, text) => void (await raw.hset(prefix + r, i, text)),
    close: async () => {
      await raw.quit();
      await store.close();
    },
  };
});

describe('RedisStateStore.connect', () => {
  it('fails `unavailable` within the connect deadline when nothing listens, naming the URL without credentials', async () => {
    const started = performance.now();
    const failure = await RedisStateStore.connect('redis://user:s3cret@127.0.0.1:1', { ...DEFAULT_DEADLINES, connectMs: 300 }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'unavailable' });
    expect(String((failure as Error).message)).toMatch(/cannot connect to redis:\/\/\*\*\*@127\.0\.0\.1:1/);
    expect(String((failure as Error).message)).not.toContain('s3cret');
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
