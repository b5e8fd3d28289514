import { BybitExecutionClient, type BybitError, type BybitExecutionConfigInput, type OrderLost } from '../../src/adapters/bybit/index.js';
import type { Instrument } from '../../src/core/instrument.js';
import { BYBIT_LINEAR_PERPETUALS } from '../../src/core/instrument.js';
import type { Clock } from '../../src/core/time.js';
import { BybitV5Venue, TEST_API_KEY, TEST_API_SECRET, type BybitV5VenueOptions } from './bybit-v5-venue.js';

/** Wall clock for the client under test (the live clock lives in src/live; tests may use real time). */
export const wallClock: Clock = { now: () => Date.now() };

/** The instruments the Bybit tests trade: BTCUSDT (index 0), ETHUSDT (1). */
export const BYBIT_TEST_INSTRUMENTS: readonly Instrument[] = [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!, BYBIT_LINEAR_PERPETUALS['ETHUSDT']!];

/** A local venue and a BybitExecutionClient (demo mode, the test keys) pointed at it. */
export async function startBybitPair(
  venueOptions: BybitV5VenueOptions = {},
  clientConfig: BybitExecutionConfigInput = {},
  extra: { onOrderLost?: (e: OrderLost) => void; onError?: (e: BybitError) => void; onRateLimitWait?: (seconds: number) => void; onVenueError?: (code: string) => void; sleep?: (ms: number) => Promise<void> } = {},
): Promise<{ venue: BybitV5Venue; client: BybitExecutionClient; close(): Promise<void> }> {
  const venue = await BybitV5Venue.start(venueOptions);
  const client = new BybitExecutionClient(
    { apiUrl: venue.url, rateLimitMs: 0, timeoutMs: 2_000, backoffBaseMs: 5, backoffMaxMs: 50, ...clientConfig },
    { instruments: BYBIT_TEST_INSTRUMENTS, keys: { apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET }, clock: wallClock, env: {}, ...extra },
  );
  return {
    venue,
    client,
    async close() {
      await client.close();
      await venue.close();
    },
  };
}

/** Flushes commands and polls until every command is answered (at most `rounds` polls). */
export async function settleClient(client: BybitExecutionClient, rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await client.flush();
    await client.poll();
    if (client.pending() === 0) return;
  }
  throw new Error(`BybitExecutionClient still has ${client.pending()} unanswered command(s) after ${rounds} polls`);
}
