/**
 * A position changed at the venue while the runner runs, in demo mode (real ccxt through BybitExecutionClient against
 * the local Bybit v5 venue): somebody buys BTCUSDT by hand on the run's account during bar K. Reconciliation compares
 * positions at a start only, so before, the runner went on trading BTCUSDT against a position it did not hold until
 * the next restart. Now the venue round after each bar compares the positions of instruments with no open order: the
 * difference seen in two rounds in a row (after bars K and K+1) halts BTCUSDT as a start's reconciliation would, and
 * the strategy's buy at bar K+2 is denied. ETHUSDT, untouched, trades on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Strategy } from '../../src/engine/strategy.js';
import { readJournal, type JournalRecord } from '../../src/live/journal.js';
import { VirtualTime } from '../../src/live/live-clock.js';
import { liveSetup } from '../../src/live/live-setup.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { BybitV5Venue, signed } from '../support/bybit-v5-venue.js';
import { demoLife, demoSmaConfig, demoVenue, sharedFrame } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const CONFIG = demoSmaConfig('live-demo-position-drift');
const setup = liveSetup(CONFIG, STRATEGIES);
const WARMUP = 2;
const frame = sharedFrame('2024-01-01T00:00:00Z', 12);
/** The bar (frame index) during whose prints somebody buys BTCUSDT by hand. */
const K = WARMUP + 2;
const BY_HAND = { orderLinkId: 'by-hand-btc-1', symbol: 'BTCUSDT', side: 'Buy', qty: 0.05 } as const;

/** Buys 0.01 of BTCUSDT (instrument 0) and of ETHUSDT (1) at market at the bars (frame indices) `at`. */
function buyer(at: readonly number[]): Strategy {
  return {
    name: 'buyer',
    onBar(ctx, bar) {
      if (bar.instrument > 1 || !at.includes(frame.ts.indexOf(bar.tsOpen))) return;
      ctx.submitOrder({ instrument: bar.instrument, side: 'buy', type: 'market', quantity: bar.instrument === 0 ? 0.01 : 0.1 });
    },
  };
}

describe('demo run: a position changed at the venue during the run', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  /**
   * One demo life over bars WARMUP..last with the {@link buyer} strategy buying at `buys`; `during(k, venue)` runs at
   * bar k's prints, after the bar traded (awaited before the runner learns that bar k closed).
   */
  async function live(buys: readonly number[], last: number, during: (k: number, venue: BybitV5Venue, time: VirtualTime) => void | Promise<void>) {
    const startTs = frame.ts[WARMUP]!;
    const { venue, market, pacer } = await demoVenue(frame, startTs, closers, during);
    const dir = tempDir('tm-live-demo-drift-');
    const log: string[] = [];
    const { runner } = await demoLife(venue, market, pacer, { runId: 'dpd', dir, instruments: setup.instruments, symbols: frame.symbols, startTs, maxBars: last + 1 - WARMUP, warmupBars: WARMUP, config: CONFIG, strategy: buyer(buys), log: (line) => log.push(line) });
    return { runner, venue, log, records: readJournal(`${dir}/journal.jsonl`).records };
  }

  it('halts its instrument after two venue rounds that find it differing; orders of it are denied from then on, other instruments trade on', async () => {
    expect(setup.instruments.slice(0, 2).map((x) => x.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    const { runner, venue, log, records } = await live([WARMUP, K + 2], K + 2, async (k, v, time) => {
      if (k !== K) return;
      const body = JSON.stringify({ category: 'linear', symbol: BY_HAND.symbol, side: BY_HAND.side, orderType: 'Market', qty: String(BY_HAND.qty), orderLinkId: BY_HAND.orderLinkId });
      expect((await signed(v, 'POST', '/v5/order/create', body, { timestamp: time.current() })).retCode).toBe(0);
      v.trade(v.lastPrice(BY_HAND.symbol), Infinity, BY_HAND.symbol);
    });

    expect(venue.position('BTCUSDT')).toBeCloseTo(0.01 + BY_HAND.qty, 9); // the runner's first buy and the one by hand
    expect(runner.kernel.position(0)).toBeCloseTo(0.01, 9);
    expect(runner.kernel.risk.isInstrumentHalted(0)).toBe(true);
    expect(runner.kernel.risk.isInstrumentHalted(1)).toBe(false);
    const mismatches = records.filter((r): r is Extract<JournalRecord, { k: 'reconcile' }> => r.k === 'reconcile' && r.kind === 'position_mismatch');
    expect(mismatches.map((r) => r.detail)).toEqual([{ instrument: setup.instruments[0]!.id, runner: runner.kernel.position(0), venue: venue.position('BTCUSDT'), during: 'run' }]);
    // Found in the round after bar K+1 (the second in a row): before bar K+2's decisions.
    const liveBar = (k: number) => records.findIndex((r) => r.k === 'bar' && r.i === 0 && r.ts === frame.ts[k] && r.warmup !== true);
    const at = records.indexOf(mismatches[0]!);
    expect(liveBar(K + 1)).toBeGreaterThan(0);
    expect(at).toBeGreaterThan(liveBar(K + 1));
    expect(at).toBeLessThan(liveBar(K + 2));
    // Bar K+2: the BTCUSDT buy denied by the halt, the ETHUSDT buy sent and filled.
    const denied = records.filter((r) => r.k === 'event' && r.e === 'denied').map((r) => String((r as { reason: string }).reason));
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatch(/instrument_halted instrument 0/);
    expect(runner.kernel.risk.changes.filter((c) => c.to === 'HALTED').map((c) => [c.instrument, c.reason])).toEqual([[0, expect.stringMatching(/^position differs from the venue's \(0\.01 vs 0\.06\d*\) during the run$/)]]);
    expect(venue.orders().filter((o) => String(o['orderLinkId']).startsWith('dpd_')).map((o) => o['symbol'])).toEqual(['BTCUSDT', 'ETHUSDT', 'ETHUSDT']);
    expect(runner.kernel.position(1)).toBeCloseTo(venue.position('ETHUSDT'), 9);
    expect(log.filter((l) => l.startsWith('ALERT'))).toEqual([expect.stringMatching(/^ALERT position differs from the venue's .* during the run: new orders of BTCUSDT-LINEAR.BYBIT halted$/)]);
  }, 120_000);
  it('does not judge an instrument with an open order: a fill the venue\'s position holds but its execution listing does not show yet is no difference', async () => {
    // The runner's BTCUSDT buy at WARMUP fills at bar WARMUP+1's prints; the execution listing answers empty (a stale
    // read) until bar WARMUP+4's prints: for three rounds the venue's position holds the fill and the runner's does not.
    const { runner, venue, log, records } = await live([WARMUP], WARMUP + 4, (k, v) => {
      if (k === WARMUP + 1) v.injectFault('stale_read', { path: '/v5/execution/list', count: 1_000_000 });
      if (k === WARMUP + 4) v.clearInjectedFaults();
    });
    expect(venue.faultCounts()['stale_read']).toBeGreaterThanOrEqual(3);
    expect(records.filter((r) => r.k === 'reconcile')).toEqual([]);
    expect(runner.kernel.risk.isInstrumentHalted(0)).toBe(false);
    expect(log.filter((l) => l.startsWith('ALERT'))).toEqual([]);
    // Booked once listed: the runner's position is the venue's.
    expect(records.filter((r) => r.k === 'fill').map((r) => (r as { i: number }).i)).toEqual([0, 1]);
    expect(runner.kernel.position(0)).toBeCloseTo(venue.position('BTCUSDT'), 9);
  }, 120_000);
});
