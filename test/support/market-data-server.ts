import { afterAll, beforeAll, beforeEach } from 'vitest';
import { BybitMarketDataClient } from '../../src/adapters/bybit/bybit-market-data-client.js';
import { BybitV5Server, type BybitV5ServerData } from './bybit-v5-server.js';

/**
 * The local v5 server serving `data` and a ccxt market-data client on it, for the tests of one `describe` block:
 * started before them and closed after; before each test the server's faults and request log are cleared (and
 * `beforeEachTest` runs). Read `server` and `client` inside the tests (they exist once the block has started).
 */
export function marketDataServer(data: BybitV5ServerData, options: { readonly apiUrl?: (url: string) => string; readonly rateLimitMs?: number; readonly beforeEachTest?: () => void } = {}): { readonly server: BybitV5Server; readonly client: BybitMarketDataClient } {
  let server: BybitV5Server | undefined;
  let client: BybitMarketDataClient | undefined;
  beforeAll(async () => {
    server = await BybitV5Server.start(data);
    client = new BybitMarketDataClient({ apiUrl: options.apiUrl?.(server.url) ?? server.url, ...(options.rateLimitMs !== undefined ? { rateLimitMs: options.rateLimitMs } : {}) });
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });
  beforeEach(() => {
    server!.clearFaults();
    server!.requests.length = 0;
    options.beforeEachTest?.();
  });
  return {
    get server() {
      return server!;
    },
    get client() {
      return client!;
    },
  };
}
