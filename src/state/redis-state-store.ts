import { Redis } from 'ioredis';
import { redisDeadlineOptions, type NetworkDeadlines } from '../config/network-deadlines.js';
import type { StateExpectation, StateSnapshot, StateStore } from '../engine/state-store.js';
import { checkKeyPart, decodeSnapshot, encodeSnapshot, StateStoreError } from './state-codec.js';

/**
 * The state store in Redis (ioredis): one hash per runner, `tm:state:<runner>`, field = instrument, value = the
 * checksummed snapshot text. A bar's snapshots of all instruments go in one HSET (atomic: all or none), so a reader
 * never sees half a bar. The client is created by the composition root (deadlines: `redisDeadlineOptions`).
 */
export class RedisStateStore implements StateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'tm:state:',
  ) {}

  /**
   * Connects to `url` with bounded waits (`redisDeadlineOptions`: no offline queue, so it waits for the connection
   * here, within the connect deadline) and returns the store.
   * @throws StateStoreError `unavailable` naming the URL (credentials redacted) when Redis does not answer in time.
   */
  static async connect(url: string, deadlines: NetworkDeadlines, prefix?: string): Promise<RedisStateStore> {
    const redis = new Redis(url, { ...redisDeadlineOptions(deadlines), lazyConnect: true });
    // Connection errors surface as failed commands (no offline queue); without a listener ioredis prints each one.
    redis.on('error', () => undefined);
    try {
      await redis.connect();
    } catch (e) {
      redis.disconnect();
      throw new StateStoreError('unavailable', `redis state store: cannot connect to ${url.replace(/\/\/[^@/]*@/, '//***@')}: ${(e as Error).message}`, {}, { cause: e });
    }
    return new RedisStateStore(redis, prefix);
  }

  /**
   * The store of a long-running process (the live runner): connects to `url` within the connect deadline and keeps
   * reconnecting for ever in the background (every 0.2–5 s) when Redis is or goes down — meanwhile each command fails
   * at once (no offline queue), so a caller is never held up. Never throws: `error` says why it is not connected now.
   */
  static async openResilient(url: string, deadlines: NetworkDeadlines, prefix?: string): Promise<{ readonly store: RedisStateStore; readonly error?: string }> {
    const redis = new Redis(url, { ...redisDeadlineOptions(deadlines), retryStrategy: (times: number) => Math.min(times * 200, 5_000), lazyConnect: true });
    redis.on('error', () => undefined);
    const store = new RedisStateStore(redis, prefix);
    try {
      await redis.connect();
      return { store };
    } catch (e) {
      return { store, error: `redis state store: cannot connect to ${url.replace(/\/\/[^@/]*@/, '//***@')}: ${(e as Error).message}` };
    }
  }

  private key(runner: string): string {
    return this.prefix + checkKeyPart(runner, 'runner');
  }

  async saveAll(runner: string, snapshots: Readonly<Record<string, StateSnapshot>>): Promise<void> {
    const fields: string[] = [];
    for (const [instrument, s] of Object.entries(snapshots)) fields.push(checkKeyPart(instrument, 'instrument'), encodeSnapshot(s));
    if (fields.length === 0) return;
    try {
      await this.redis.hset(this.key(runner), ...fields);
    } catch (e) {
      throw new StateStoreError('unavailable', `redis state store: saving ${fields.length / 2} state(s) of ${runner} failed: ${(e as Error).message}`, { runner }, { cause: e });
    }
  }

  async load(runner: string, instrument: string, expect: StateExpectation) {
    let text: string | null;
    try {
      text = await this.redis.hget(this.key(runner), checkKeyPart(instrument, 'instrument'));
    } catch (e) {
      return { success: false as const, error: new StateStoreError('unavailable', `redis state store: reading ${runner}/${instrument} failed: ${(e as Error).message}`, { runner, instrument }, { cause: e }) };
    }
    if (text === null) return { success: true as const, data: undefined };
    return decodeSnapshot(text, expect, `redis:${this.key(runner)}/${instrument}`);
  }

  async instruments(runner: string): Promise<string[]> {
    return (await this.redis.hkeys(this.key(runner))).sort();
  }

  async clear(runner: string): Promise<void> {
    await this.redis.del(this.key(runner));
  }

  async close(): Promise<void> {
    // A client that is not connected (Redis down) cannot QUIT: it is disconnected.
    if (this.redis.status === 'ready') await this.redis.quit();
    else this.redis.disconnect();
  }
}
