/**
 * Records the local Bybit v5 venue's private responses into test/fixtures/bybit/*.local.json (the mapping tests of
 * src/adapters/bybit/bybit-execution-parse.test.ts read them). The venue clock is fixed so the files are reproducible:
 * `npx tsx test/support/record-bybit-fixtures.ts`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bybit as CcxtBybit } from 'ccxt';
import { BybitV5Venue, TEST_API_KEY, TEST_API_SECRET } from './bybit-v5-venue.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'bybit');

async function main(): Promise<void> {
  let t = Date.UTC(2026, 0, 5, 8, 0, 0);
  const venue = await BybitV5Venue.start({ now: () => (t += 7), recvWindowCheck: false, participation: 0.5 });
  const exchange = new CcxtBybit({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET, options: { defaultType: 'swap', fetchMarkets: { types: ['linear'] } } });
  exchange.urls['api'] = Object.fromEntries(Object.keys(exchange.urls['api'] as Record<string, string>).map((k) => [k, venue.url])) as typeof exchange.urls['api'];
  const x = exchange as unknown as Record<string, (p: Record<string, unknown>) => Promise<unknown>>;
  const save = (name: string, json: unknown) => writeFileSync(join(DIR, name), `${JSON.stringify({ _source: 'recorded from the local v5 venue (test/support/bybit-v5-venue.ts) by test/support/record-bybit-fixtures.ts', ...(json as object) }, null, 2)}\n`);
  try {
    await x['privatePostV5OrderCreate']!({ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.2', price: '99.5', timeInForce: 'GTC', orderLinkId: 'rec_limit_0' });
    await x['privatePostV5OrderCreate']!({ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.1', timeInForce: 'GTC', orderLinkId: 'rec_market_1' });
    await x['privatePostV5OrderCreate']!({ category: 'linear', symbol: 'BTCUSDT', side: 'Sell', orderType: 'Limit', qty: '0.1', price: '99.0', timeInForce: 'PostOnly', orderLinkId: 'rec_postonly_2' });
    venue.trade(100.2, 1); // market order fills 0.1 as taker
    venue.trade(99.5, 0.2); // limit fills 0.1 of 0.2 as maker
    save('http_get_order_realtime.local.json', await x['privateGetV5OrderRealtime']!({ category: 'linear', settleCoin: 'USDT' }));
    save('http_get_order_history.local.json', await x['privateGetV5OrderHistory']!({ category: 'linear', symbol: 'BTCUSDT' }));
    save('http_get_execution_list.local.json', await x['privateGetV5ExecutionList']!({ category: 'linear', symbol: 'BTCUSDT' }));
    save('http_get_position_list.local.json', await x['privateGetV5PositionList']!({ category: 'linear', symbol: 'BTCUSDT' }));
    save('http_get_account_wallet_balance.local.json', await x['privateGetV5AccountWalletBalance']!({ accountType: 'UNIFIED' }));
  } finally {
    await exchange.close();
    await venue.close();
  }
}

await main();
