import { afterAll } from 'vitest';
import { settleClient, startBybitPair } from '../support/bybit-execution-harness.js';
import { runExecutionClientContract, type EventRecorder, type ExecutionVenueHarness, type HarnessOptions } from './execution-client.contract.js';

const open: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of open) await close();
});

/**
 * BybitExecutionClient (real ccxt) against the local Bybit v5 venue: BTCUSDT (lot 0.001, tick 0.1, min notional 5),
 * maker 0.02 %, taker 0.055 %, 100,000 USDT, leverage 10, first price 100. `trade` waits for the commands' requests,
 * advances the venue's feed, then polls the client once; `settle` polls until every command is answered.
 */
async function makeBybitHarness(recorder: EventRecorder, options: HarnessOptions): Promise<ExecutionVenueHarness> {
  const pair = await startBybitPair({ ...(options.participation !== undefined ? { participation: options.participation } : {}) });
  open.push(() => pair.close());
  pair.client.connect(recorder);
  await pair.client.prepare();
  return {
    client: pair.client,
    async trade(price, volume) {
      await pair.client.flush();
      pair.venue.trade(price, volume);
      await pair.client.poll();
    },
    settle: () => settleClient(pair.client),
    position: () => pair.venue.position('BTCUSDT'),
    close: () => pair.close(),
  };
}

runExecutionClientContract('BybitExecutionClient (local v5 venue)', makeBybitHarness);
