/**
 * An order declared lost that the venue had after all, in demo mode (real ccxt through BybitExecutionClient against
 * the local Bybit v5 venue). The runner's BTCUSDT market buy at bar WARMUP reaches the venue, but its answer never
 * comes and the venue's order listings answer empty (stale reads, as Bybit's eventually consistent listings can): the
 * runner asks after each bar, gets "unknown" three times, declares the order lost (REJECTED, BTCUSDT halted). The
 * venue filled it at the next bar's prints. When the listings catch up, the client finds the order and reports its
 * acceptance and fill. Before, the kernel refused both (REJECTED takes no event): every later venue round stopped at
 * that error and the runner's position never held the fill. Now the order was REJECTED by inference only, so the
 * venue's word is taken: accepted, filled, the position equal to the venue's; BTCUSDT stays halted (a human looks).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Strategy } from '../../src/engine/strategy.js';
import { readJournal } from '../../src/live/journal.js';
import type { LiveStatus } from '../../src/live/live-runner.js';
import type { LiveRunnerState } from '../../src/live/runner-state.js';
import { liveSetup } from '../../src/live/live-setup.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { runTm } from '../support/cli.js';
import { demoLife, demoSmaConfig, demoVenue, sharedFrame } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const CONFIG = demoSmaConfig('live-demo-lost-found');
const setup = liveSetup(CONFIG, STRATEGIES);
const WARMUP = 2;
const frame = sharedFrame('2024-01-01T00:00:00Z', 12);
/** The bar (frame index) at whose prints the venue's order listings catch up. */
const FOUND = WARMUP + 6;
const LAST = FOUND + 2;

/** Buys 0.01 BTCUSDT (instrument 0) at market at bar WARMUP, nothing else. */
const buyOnce: Strategy = {
  name: 'buy-once',
  onBar(ctx, bar) {
    if (bar.instrument === 0 && bar.tsOpen === frame.ts[WARMUP]) ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 0.01 });
  },
};

describe('demo run: an order declared lost that the venue had', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('takes its acceptance and fill when the venue reports it after all: FILLED, the position the venue\'s, no venue round failing; the instrument stays halted', async () => {
    const startTs = frame.ts[WARMUP]!;
    const { venue, market, pacer } = await demoVenue(frame, startTs, closers, (k, v) => {
      if (k === WARMUP) {
        // Before the runner hears that bar WARMUP closed (and decides): its order is taken but not answered, and the
        // order listings miss it.
        v.injectFault('never_answered', { path: '/v5/order/create', count: 1 });
        v.injectFault('stale_read', { path: '/v5/order/realtime', count: 1_000_000 });
        v.injectFault('stale_read', { path: '/v5/order/history', count: 1_000_000 });
      }
      if (k === FOUND) v.clearInjectedFaults();
    });
    const dir = tempDir('tm-live-demo-lost-');
    const log: string[] = [];
    const { runner } = await demoLife(venue, market, pacer, { runId: 'dlf', dir, instruments: setup.instruments, symbols: frame.symbols, startTs, maxBars: LAST + 1 - WARMUP, warmupBars: WARMUP, config: CONFIG, strategy: buyOnce, log: (line) => log.push(line) });
    const records = readJournal(`${dir}/journal.jsonl`).records;

    const sent = venue.orders().filter((o) => String(o['orderLinkId']).startsWith('dlf_'));
    expect(sent.map((o) => [o['symbol'], o['orderStatus']])).toEqual([['BTCUSDT', 'Filled']]); // the venue took and filled it
    const x = String(sent[0]!['orderLinkId']);
    expect(venue.faultCounts()['never_answered']).toBe(1);
    // Declared lost while the listings missed it.
    expect(log.filter((l) => l.startsWith('ALERT lost order'))).toEqual([expect.stringContaining(`order ${x} unknown to the venue after 3 queries`)]);
    const events = records.filter((r) => r.k === 'event' && (r as { id?: string }).id === x).map((r) => (r as { e: string }).e);
    expect(events).toEqual(['rejected', 'accepted']);
    // Then taken as the venue reports it: accepted, its fill booked once, the position the venue's.
    expect(runner.kernel.order(x)).toMatchObject({ status: 'FILLED', filledQuantity: 0.01 });
    expect(records.filter((r) => r.k === 'fill' && (r as { id: string }).id === x)).toHaveLength(1);
    expect(runner.kernel.position(0)).toBeCloseTo(venue.position('BTCUSDT'), 9);
    expect(venue.position('BTCUSDT')).toBeCloseTo(0.01, 9);
    // No venue round failed on it (before: "event accept is not allowed in state REJECTED" at each venue round from FOUND on).
    expect(log.filter((l) => l.startsWith('venue:'))).toEqual([]);
    // The lost order's halt stands: a human looks. Its loss stays listed, marked found: a reconcile record during the
    // run, an ALERT line, status.json and state.json, `tm live status`.
    expect(runner.kernel.risk.isInstrumentHalted(0)).toBe(true);
    const btc = setup.instruments[0]!.id;
    const found = records.filter((r) => r.k === 'reconcile' && r.kind === 'lost_order_found');
    expect(found.map((r) => (r as { detail: unknown }).detail)).toEqual([{ id: x, instrument: btc, status: 'FILLED', filled: 0.01, during: 'run' }]);
    expect(log.filter((l) => l.startsWith('ALERT order'))).toEqual([`ALERT order ${x} declared lost was reported by the venue after all (FILLED, 0.01 filled): taken over; new orders of ${btc} stay halted`]);
    const lost = [{ id: x, instrument: btc, ts: expect.any(Number), reason: `order ${x} unknown to the venue after 3 queries`, found: { ts: (found[0] as { t: number }).t, status: 'FILLED' } }];
    expect((JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as LiveStatus).lostOrders).toEqual(lost);
    expect((JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as LiveRunnerState).lostOrders).toEqual(lost);
    const shown = await runTm(['live', 'status', '--dir', dir]);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(new RegExp(`^LOST ${x} \\(${btc.replace('.', '\\.')}\\) at \\S+: order ${x} unknown to the venue after 3 queries; reported by the venue after all at \\S+ \\(FILLED\\), taken over; listed until a restart with --unhalt$`, 'm'));
  }, 120_000);
});
