/**
 * An order taken over at a restart and then closed at the venue by somebody else, in demo mode (real ccxt through
 * BybitExecutionClient against the local Bybit v5 venue).
 *
 * Life A places a resting limit buy X far below the market and stops. Life B restores X: working at the venue and in
 * B's kernel, but not followed by B's new execution client, which reports only the ends of its own orders. During B
 * somebody cancels X by hand on the account (Bybit's web page, another app). The strategy keeps one resting order
 * working and places a new one only when none works. Before, B's kernel held X working until the next restart's
 * reconciliation: the strategy waited on an order the venue no longer had, and placed nothing for the rest of B.
 * Now the round after the bar in which X was canceled finds it: X is CANCELED in B's kernel and journal, and the
 * strategy's next bar places Z.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Strategy } from '../../src/engine/strategy.js';
import { readJournal } from '../../src/live/journal.js';
import { liveSetup } from '../../src/live/live-setup.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { signed } from '../support/bybit-v5-venue.js';
import { demoLife, demoSmaConfig, demoVenue, sharedFrame } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const CONFIG = demoSmaConfig('live-demo-taken-over-close');
const setup = liveSetup(CONFIG, STRATEGIES);
const WARMUP = 2;
const frame = sharedFrame('2024-01-01T00:00:00Z', 12);
/** The bar (frame index) at whose prints X is canceled by hand: B's second live bar. */
const K = WARMUP + 2;

/** Keeps one resting limit buy of BTCUSDT 20 % below the close working: places one when none works; logs the bars it placed at. */
function resting(placedAt: number[]): Strategy {
  return {
    name: 'resting',
    onBar(ctx, bar) {
      if (bar.instrument !== 0 || ctx.openOrderCount(0) > 0) return;
      const tick = ctx.instruments[0]!.tickSize;
      ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: Math.round((bar.close * 0.8) / tick) * tick, quantity: 0.01 });
      placedAt.push(frame.ts.indexOf(bar.tsOpen));
    },
  };
}

describe('demo run: an order taken over at a restart, canceled at the venue by somebody else', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('is closed in the kernel after the round of the bar it was canceled in, and the strategy\'s next bar replaces it', async () => {
    const startTs = frame.ts[WARMUP]!;
    let x: string | undefined;
    const { venue, market, pacer } = await demoVenue(frame, startTs, closers, (k, v, time) => {
      if (k !== K) return;
      // Somebody cancels X by hand during bar K (a signed request of the account's key, as Bybit's web page would).
      const body = JSON.stringify({ category: 'linear', symbol: 'BTCUSDT', orderLinkId: x });
      return signed(v, 'POST', '/v5/order/cancel', body, { timestamp: time.current() }).then((answer) => expect(answer.retCode).toBe(0));
    });
    const dir = tempDir('tm-live-demo-taken-over-');
    const placedAt: number[] = [];
    const life = (maxBars: number) => demoLife(venue, market, pacer, { runId: 'dtc', dir, instruments: setup.instruments, symbols: frame.symbols, startTs, maxBars, warmupBars: WARMUP, config: CONFIG, strategy: resting(placedAt) });

    // Life A: bar WARMUP only; X placed, resting at the venue when A stops.
    await life(1);
    expect(venue.orders().map((o) => o['orderStatus'])).toEqual(['New']);
    x = String(venue.orders()[0]!['orderLinkId']);
    // Life B: bars WARMUP+1 to K+2. X is canceled by hand at bar K's prints.
    const b = await life(K + 2 - WARMUP);
    const statuses = venue.orders().map((o) => [o['orderLinkId'], o['orderStatus']]);
    expect(statuses).toHaveLength(2);
    const z = String(statuses[1]![0]);
    expect(statuses).toEqual([[x, 'Cancelled'], [z, 'New']]);
    // The strategy placed X at WARMUP (life A), waited while X worked, and placed Z at the bar after K (the round after
    // bar K closed X). The warm-up replays bars before WARMUP in each life, where the kernel sends nothing.
    expect(placedAt.filter((k) => k >= WARMUP)).toEqual([WARMUP, K + 1]);
    expect(b.runner.kernel.order(x)?.status).toBe('CANCELED');
    expect(b.runner.kernel.order(z)?.status).toBe('ACCEPTED');
    const records = readJournal(`${dir}/journal.jsonl`).records;
    const canceled = records.filter((r) => r.k === 'event' && r.e === 'canceled');
    expect(canceled.map((r) => (r as { id: string }).id)).toEqual([x]);
    expect(String((canceled[0] as { reason: string }).reason)).toMatch(/at the venue/);
    // X's cancel is journaled before Z's submission: B learned of it before deciding bar K+1.
    expect(records.indexOf(canceled[0]!)).toBeLessThan(records.findIndex((r) => r.k === 'submit' && r.id === z));
    expect(b.runner.kernel.position(0)).toBe(0);
  }, 120_000);
});
