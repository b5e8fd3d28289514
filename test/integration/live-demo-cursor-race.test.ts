/**
 * The execution-cursor race at runner level, in demo mode (real ccxt through BybitExecutionClient against the local
 * Bybit v5 venue), as the nightly demo crash campaign found it (50 kills, seed 20261206) and made deterministic here.
 *
 * Life A places a resting limit buy X and stops; life B restores it (X working at the venue, in B's kernel, not
 * followed by B's new execution client: its fills reach B only through the runner's own execution queries,
 * `bookUntracked`). X fills at the prints of bar K, and B's venue round after bar K fails (the execution listing
 * answers 5xx), so X's fill is not booked then. B also decided a market buy Y at bar K, which fills at bar K+1: after
 * that bar the client reports Y's fill, which moves the execution cursor (a minute before the newest booked
 * execution) four hours past X's fill. Queried from the cursor, X's fill was never asked for again in that life
 * (the account held 0.01 BTC more than the runner, until a restart's reconciliation found it). The runner now asks
 * from a minute before the oldest open order the client does not follow.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { timeframeMs } from '../../src/core/time.js';
import type { Strategy } from '../../src/engine/strategy.js';
import { readJournal } from '../../src/live/journal.js';
import { liveSetup } from '../../src/live/live-setup.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { demoLife, demoSmaConfig, demoVenue, sharedFrame } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const CONFIG = demoSmaConfig('live-demo-cursor-race');
const setup = liveSetup(CONFIG, STRATEGIES);
const WARMUP = 2;
const frame = sharedFrame('2024-01-01T00:00:00Z', 120);
const tf = timeframeMs('4h');
const QUANTITY = 0.01;

/**
 * Bar K of BTCUSDT (frame index) whose low first goes 0.2 % below every low since X was placed (at the close of bar
 * WARMUP), at least three bars later, and X's limit price between the two: X rests until K's prints and fills there.
 */
function dip(): { k: number; price: number } {
  const low = frame.low[0]!;
  const tick = setup.instruments[0]!.tickSize;
  let min = frame.close[0]![WARMUP]!;
  for (let k = WARMUP + 1; k < frame.ts.length - 2; k++) {
    if (k >= WARMUP + 3 && low[k]! < min * 0.998) return { k, price: Math.round((low[k]! + min) / 2 / tick) * tick };
    min = Math.min(min, low[k]!);
  }
  throw new Error('no dip in the frame');
}

/** Buys X (limit at `x.price`) at the bar opening at `x.ts` and Y (market) at the bar opening at `y.ts`, on BTCUSDT. */
function scripted(x: { readonly ts: number; readonly price: number }, y: { readonly ts: number }): Strategy {
  return {
    name: 'cursor-race',
    onBar(ctx, bar) {
      if (bar.instrument !== 0) return;
      if (bar.tsOpen === x.ts) ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: x.price, quantity: QUANTITY });
      if (bar.tsOpen === y.ts) ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: QUANTITY });
    },
  };
}

describe('demo run: the fill of an order taken over at a restart, left behind the execution cursor by a later fill', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('is booked after the round that found the later fill: X FILLED once in the journal, the runner\'s position and cash the venue\'s', async () => {
    const { k: K, price } = dip();
    const startTs = frame.ts[WARMUP]!;
    const { venue, market, pacer } = await demoVenue(frame, startTs, closers, (k, v) => {
      // X fills at bar K's prints; B's round after bar K fails (its execution queries answer 5xx) until bar K+1 prints.
      if (k === K) v.injectFault('server_error', { path: '/v5/execution/list', count: 1_000_000 });
      if (k === K + 1) v.clearInjectedFaults();
    });
    const dir = tempDir('tm-live-demo-cursor-');
    const strategy = scripted({ ts: frame.ts[WARMUP]!, price }, { ts: frame.ts[K]! });
    const life = (maxBars: number) => demoLife(venue, market, pacer, { runId: 'dcr', dir, instruments: setup.instruments, symbols: frame.symbols, startTs, maxBars, warmupBars: WARMUP, config: CONFIG, strategy });

    // Life A: bar WARMUP only; X placed, resting at the venue when A stops.
    await life(1);
    const linkIds = () => venue.orders().map((o) => String(o['orderLinkId']));
    expect(venue.orders().map((o) => o['orderStatus'])).toEqual(['New']);
    const x = linkIds()[0]!;
    // Life B: bars WARMUP+1 to K+1.
    const b = await life(K + 1 - WARMUP);
    const y = linkIds().find((id) => id !== x)!;
    expect(venue.orders().map((o) => [o['orderLinkId'], o['orderStatus']])).toEqual([[x, 'Filled'], [y, 'Filled']]);
    const execution = (id: string) => venue.executions().find((e) => e['orderLinkId'] === id)!;
    // The race as the campaign met it: X's execution four hours before Y's, the round between them failed.
    expect(Number(execution(y)['execTime']) - Number(execution(x)['execTime'])).toBe(tf);
    expect(venue.faultCounts()['server_error']).toBeGreaterThan(0);
    expect(b.runner.venueErrors).toBe(1);
    // X's fill booked once, after Y's (the round after bar K+1 found both), on X taken over from A: FILLED.
    const fills = readJournal(`${dir}/journal.jsonl`).records.flatMap((r) => (r.k === 'fill' ? [[r.id, r.exec]] : []));
    expect(fills).toEqual([[y, String(execution(y)['execId'])], [x, String(execution(x)['execId'])]]);
    expect(b.runner.kernel.order(x)?.status).toBe('FILLED');
    expect(b.runner.kernel.order(y)?.status).toBe('FILLED');
    expect(b.runner.kernel.position(0)).toBeCloseTo(venue.position('BTCUSDT'), 9);
    expect(venue.position('BTCUSDT')).toBeCloseTo(2 * QUANTITY, 9);
    expect(Math.abs(b.runner.kernel.portfolio.cash - venue.walletBalance())).toBeLessThan(1e-6);
  }, 120_000);
});
