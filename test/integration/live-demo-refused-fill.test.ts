/**
 * An execution the kernel refuses during a run, in demo mode (real ccxt through BybitExecutionClient against the local
 * Bybit v5 venue). Life A places a resting limit buy X far below the market and stops. Its saved state is then made to
 * disagree with the venue: X EXPIRED in the state, still working at the venue (a state written from a wrong report; the
 * test edits state.json to make one). Life B restores X as EXPIRED; during B the venue fills X. B's client does not
 * follow X (it is not its own), so the runner's per-bar booking finds X's execution, and the kernel refuses it:
 * EXPIRED takes no fill. Before, that error ended every venue round from then on (the position, in-flight and
 * taken-over-order checks after it never ran), once per bar. Now it is reported once, as a reconciliation difference
 * during the run (journal, ALERT line), BTCUSDT is halted (its position lacks a fill the venue made: a human decides),
 * and the rounds go on.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Strategy } from '../../src/engine/strategy.js';
import { readJournal, type JournalRecord } from '../../src/live/journal.js';
import { liveSetup } from '../../src/live/live-setup.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { demoLife, demoSmaConfig, demoVenue, sharedFrame } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const CONFIG = demoSmaConfig('live-demo-refused-fill');
const setup = liveSetup(CONFIG, STRATEGIES);
const WARMUP = 2;
const frame = sharedFrame('2024-01-01T00:00:00Z', 12);
/** The bar (frame index) at whose prints the venue fills X: B's second live bar. */
const K = WARMUP + 2;
const LAST = K + 3;

/** Places one resting limit buy of 0.01 BTCUSDT 20 % below the close at bar WARMUP, nothing else. */
const restOnce: Strategy = {
  name: 'rest-once',
  onBar(ctx, bar) {
    if (bar.instrument !== 0 || bar.tsOpen !== frame.ts[WARMUP]) return;
    const tick = ctx.instruments[0]!.tickSize;
    ctx.submitOrder({ instrument: 0, side: 'buy', type: 'limit', price: Math.round((bar.close * 0.8) / tick) * tick, quantity: 0.01 });
  },
};

describe('demo run: an execution the kernel refuses', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('is reported once as fill_refused during the run, halts its instrument, and the venue rounds go on', async () => {
    const startTs = frame.ts[WARMUP]!;
    let xPrice = NaN;
    const { venue, market, pacer } = await demoVenue(frame, startTs, closers, (k, v) => {
      if (k === K) v.trade(xPrice, Infinity, 'BTCUSDT'); // a print at X's price: the venue fills X
    });
    const dir = tempDir('tm-live-demo-refused-');
    const log: string[] = [];
    const life = (maxBars: number) => demoLife(venue, market, pacer, { runId: 'drf', dir, instruments: setup.instruments, symbols: frame.symbols, startTs, maxBars, warmupBars: WARMUP, config: CONFIG, strategy: restOnce, log: (line) => log.push(line) });

    // Life A: bar WARMUP only; X placed, resting at the venue when A stops.
    await life(1);
    expect(venue.orders().map((o) => o['orderStatus'])).toEqual(['New']);
    const x = String(venue.orders()[0]!['orderLinkId']);
    xPrice = Number(venue.orders()[0]!['price']);
    // The saved state disagrees with the venue: X EXPIRED.
    const statePath = join(dir, 'state.json');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { kernel: { orders: { orders: { clientOrderId: string; status: string }[] } } };
    const saved = state.kernel.orders.orders.find((o) => o.clientOrderId === x)!;
    expect(saved.status).toBe('ACCEPTED');
    saved.status = 'EXPIRED';
    writeFileSync(statePath, JSON.stringify(state));
    log.length = 0;

    // Life B: bars WARMUP+1 to LAST; the venue fills X at bar K's prints.
    const b = await life(LAST - WARMUP);
    expect(venue.orders().map((o) => [o['orderLinkId'], o['orderStatus']])).toEqual([[x, 'Filled']]);
    expect(venue.position('BTCUSDT')).toBeCloseTo(0.01, 9);
    // Listed at every round from K on, refused each time, reported once.
    const records = readJournal(`${dir}/journal.jsonl`).records;
    const refused = records.filter((r): r is Extract<JournalRecord, { k: 'reconcile' }> => r.k === 'reconcile' && r.kind === 'fill_refused');
    expect(refused.map((r) => r.detail)).toEqual([{ id: x, execution: expect.any(String), instrument: setup.instruments[0]!.id, side: 'buy', quantity: 0.01, price: xPrice, reason: expect.stringMatching(/not allowed in state EXPIRED/), during: 'run' }]);
    expect(log.filter((l) => l.startsWith('ALERT'))).toEqual([expect.stringMatching(new RegExp(`^ALERT execution \\S+ of order ${x} \\(buy 0\\.01 at ${xPrice}\\) refused: .*: new orders of BTCUSDT-LINEAR\\.BYBIT halted$`))]);
    // The rounds went on: none ended in an error (before: one "venue: ..." line per bar from K on).
    expect(log.filter((l) => l.startsWith('venue:'))).toEqual([]);
    // Not booked: the kernel's X and position are as restored; BTCUSDT halted for it.
    expect(b.runner.kernel.order(x)?.status).toBe('EXPIRED');
    expect(b.runner.kernel.position(0)).toBe(0);
    expect(records.filter((r) => r.k === 'fill')).toEqual([]);
    expect(b.runner.kernel.risk.isInstrumentHalted(0)).toBe(true);
    expect(b.runner.kernel.risk.changes.map((c) => c.reason)).toEqual([expect.stringMatching(new RegExp(`^execution \\S+ of order ${x} .* refused: `))]);
  }, 120_000);
});
