/**
 * An order acknowledged twice, in demo mode (real ccxt through BybitExecutionClient against the local Bybit v5
 * venue). The runner's BTCUSDT market buy X is taken by the venue, but the Bybit client's own lookups of it in the
 * round after that bar read stale listings (as Bybit's eventually consistent order listings can), while the runner's
 * in-flight query a moment later finds it: the runner takes it as accepted. A round later the client finds X too and
 * reports its acceptance, then its fill. Before, that second acceptance was an invariant error (ACCEPTED takes no
 * acceptance): that poll ended there, and X's fill came a round late. Now a repeated acknowledgement changes nothing
 * (heard by the strategy once) and the fill is booked in that poll.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Strategy } from '../../src/engine/strategy.js';
import { readJournal } from '../../src/live/journal.js';
import { liveSetup } from '../../src/live/live-setup.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { demoLife, demoSmaConfig, demoVenue, sharedFrame } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const CONFIG = demoSmaConfig('live-demo-double-ack');
const setup = liveSetup(CONFIG, STRATEGIES);
const WARMUP = 2;
const frame = sharedFrame('2024-01-01T00:00:00Z', 12);
/** The bar (frame index) at whose close the runner buys. */
const K = WARMUP + 1;

describe('demo run: an order acknowledged by the runner\'s query and then by the client', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('takes the second acknowledgement as a repeat: no venue poll fails, the fill is booked when the client finds the order, the strategy hears one acceptance', async () => {
    const accepted: string[] = [];
    const filledAt: number[] = [];
    const strategy: Strategy = {
      name: 'buy-once',
      onBar(ctx, bar) {
        if (bar.instrument === 0 && bar.tsOpen === frame.ts[K]) ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 0.01 });
      },
      onOrderAccepted(_ctx, o) {
        accepted.push(o.clientOrderId);
      },
      onOrderFilled(ctx) {
        filledAt.push(ctx.now());
      },
    };
    const startTs = frame.ts[WARMUP]!;
    const { venue, market, pacer } = await demoVenue(frame, startTs, closers, (k, v) => {
      if (k !== K) return;
      // The round after bar K: the client's listing of working orders and its lookup of X (realtime, then history)
      // read stale; the runner's in-flight query after them (at once: inFlightMs 0) does not.
      v.injectFault('stale_read', { path: '/v5/order/realtime', count: 2 });
      v.injectFault('stale_read', { path: '/v5/order/history', count: 1 });
    });
    const log: string[] = [];
    const dir = tempDir('tm-live-demo-double-ack-');
    const { runner } = await demoLife(venue, market, pacer, { runId: 'dda', dir, instruments: setup.instruments, symbols: frame.symbols, startTs, maxBars: K + 3 - WARMUP, warmupBars: WARMUP, config: CONFIG, strategy, log: (line) => log.push(line), inFlightMs: 0 });

    expect(venue.faultCounts()['stale_read']).toBe(3);
    const x = String(venue.orders()[0]!['orderLinkId']);
    expect(venue.orders().map((o) => o['orderStatus'])).toEqual(['Filled']);
    const records = readJournal(`${dir}/journal.jsonl`).records;
    // Acknowledged twice (the runner's query, then the client), journaled as the venue said it; heard once.
    expect(records.filter((r) => r.k === 'event' && (r as { id: string }).id === x).map((r) => (r as { e: string }).e)).toEqual(['accepted', 'accepted']);
    expect(accepted).toEqual([x]);
    expect(log.filter((l) => l.startsWith('venue:'))).toEqual([]);
    expect(runner.kernel.order(x)).toMatchObject({ status: 'FILLED', filledQuantity: 0.01 });
    expect(runner.kernel.position(0)).toBeCloseTo(venue.position('BTCUSDT'), 9);
    // X filled at bar K+1's prints and was booked by the poll before bar K+1 is dispatched (engine time still bar K's
    // close); before, that poll failed on the second acknowledgement and the fill came a round later (bar K+1's close).
    expect(filledAt).toEqual([frame.ts[K + 1]!]);
  }, 120_000);
});
