/**
 * The live runner (demo mode, real ccxt, the same kernel and strategy as a backtest) under seeded venue faults of every
 * kind the local Bybit v5 venue injects — latency, accepted-but-never-answered, 5xx, 10006, HTTP 429/403, 10002,
 * 110007, partial fills, dropped connections, stale reads, venue restarts, answers late after the request was carried
 * out — plus a burst of 5xx that must open the venue breaker (and close it once the venue answers again). The runner
 * runs in chunks, restarted from its state between chunks, until TM_FAULT_COUNT faults (default 150 in CI; 1,000 in
 * the nightly workflow) were injected, seed TM_FAULT_SEED. It never crashes, never has a decision placed twice at the
 * venue, and ends with the venue's positions. Every fault kind is counted in the output.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { BybitExecutionClient } from '../../src/adapters/bybit/index.js';
import { BybitMarketDataClient } from '../../src/adapters/bybit/bybit-market-data-client.js';
import { BYBIT_LINEAR_PERPETUALS } from '../../src/core/instrument.js';
import { timeframeMs } from '../../src/core/time.js';
import { LiveBarFeed } from '../../src/live/bar-feed.js';
import { VirtualTime } from '../../src/live/live-clock.js';
import { LiveRunner } from '../../src/live/live-runner.js';
import { readJournal } from '../../src/live/journal.js';
import { smaCrossover } from '../../src/strategies/sma-crossover.js';
import { BybitV5Venue, TEST_API_KEY, TEST_API_SECRET, type VenueFaultKind } from '../support/bybit-v5-venue.js';
import { serverKlines, sharedFrame, VenueDrivingTime } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const FAULT_COUNT = Number(process.env['TM_FAULT_COUNT'] ?? 150);
const SEED = Number(process.env['TM_FAULT_SEED'] ?? 7);
const RATES: Partial<Record<VenueFaultKind, number>> = {
  latency: 0.03, never_answered: 0.02, server_error: 0.03, rate_limit: 0.02, http_429: 0.02, http_403: 0.01, timestamp: 0.02,
  insufficient_balance: 0.03, dropped_connection: 0.02, stale_read: 0.02, restart: 0.01, late_answer: 0.02, partial_fill: 0.3,
};
const CHUNK = 40;
const EVERY_KIND = ['latency', 'never_answered', 'server_error', 'rate_limit', 'http_429', 'http_403', 'timestamp', 'insufficient_balance', 'dropped_connection', 'stale_read', 'restart', 'late_answer'] as const;
const frame = sharedFrame('2022-06-01T00:00:00Z', 3000);
const tf = timeframeMs('4h');
const instruments = frame.symbols.map((s) => BYBIT_LINEAR_PERPETUALS[s]!);

describe(`live runner under ${FAULT_COUNT} seeded venue faults (seed ${SEED})`, () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of closers) await c();
  });

  it('never crashes, never places a decision twice, opens and closes the venue breaker, ends with the venue’s positions', async () => {
    const time = new VirtualTime(frame.ts[30]!);
    const klines = serverKlines(frame);
    const venue = await BybitV5Venue.start({ server: { klines }, now: () => time.current(), slippageBps: 2, initialPrice: 1, recvWindowCheck: false, faults: { seed: SEED, rates: RATES, latencyMs: [5, 60] } });
    closers.push(() => venue.close());
    let burstAt = -1;
    const pacer = new VenueDrivingTime(time, frame, (k) => {
      // A venue outage mid-run: the next requests of every path answer 5xx.
      if (k === burstAt) venue.injectFault('server_error', { count: 30 });
      // Every kind at least once, whatever the seed draws: one of each, spread over bars 34..45.
      const kind = EVERY_KIND[k - 34];
      if (kind !== undefined) venue.injectFault(kind);
      frame.symbols.forEach((s, i) => venue.bar({ open: frame.open[i]![k]!, high: frame.high[i]![k]!, low: frame.low[i]![k]!, close: frame.close[i]![k]!, volume: frame.volume[i]![k]! }, s));
    });
    const market = new BybitMarketDataClient({ apiUrl: venue.url, rateLimitMs: 0, timeoutMs: 2_000 });
    closers.push(() => market.close());
    const dir = tempDir('tm-live-faults-');
    const total = () => Object.entries(venue.faultCounts()).filter(([k]) => k !== 'duplicate_order_link_id').reduce((a, [, n]) => a + (n ?? 0), 0);
    const chunk = async (bars: number) => {
      const client = new BybitExecutionClient({ apiUrl: venue.url, rateLimitMs: 0, timeoutMs: 400, backoffBaseMs: 5, backoffMaxMs: 40 }, { instruments, keys: { apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET }, clock: { now: () => time.current() }, env: {} });
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            await client.prepare();
            break;
          } catch (e) {
            if (attempt > 20) throw e; // a start under faults is retried, as a supervisor would
          }
        }
        const feed = new LiveBarFeed(market, frame.symbols, '4h', tf, pacer, { graceMs: 0, retryMs: 1_000, pageSize: 200 });
        const runner = new LiveRunner({ runId: 'flt', mode: 'demo', instruments, timeframe: '4h', initialCash: 100_000, leverage: 10, dir, startTs: frame.ts[30]!, maxBars: bars, inFlightMs: 0 }, { feed, pacer, strategy: smaCrossover({ fast: 3, slow: 12, allocation: 0.3, allowShort: true }), venue: client });
        const summary = await runner.run(); // must not throw: every venue failure is survived
        expect(summary.liveBars).toBe(bars);
        return runner;
      } finally {
        await client.close();
      }
    };

    let chunks = 0;
    const breaker: { open: boolean }[] = [];
    let burstDone = false;
    while (total() < FAULT_COUNT) {
      if (!burstDone && chunks === 1) {
        burstAt = 30 + CHUNK + 20; // bar 20 of the second life
        burstDone = true;
      }
      const t0 = performance.now();
      const runner = await chunk(CHUNK);
      console.log(`chunk ${chunks}: ${((performance.now() - t0) / 1000).toFixed(1)} s, faults so far ${total()}, venue errors ${runner.venueErrors}`);
      breaker.push(...runner.breakerChanges);
      chunks++;
      expect(chunks).toBeLessThan(60);
    }
    // The faults stop; one more chunk reconciles and settles.
    venue.setFaults(undefined);
    const last = await chunk(6);
    breaker.push(...last.breakerChanges);

    const counts = venue.faultCounts();
    const injected = total();
    console.log(`live faults: ${injected} injected over ${chunks + 1} runner lives (${(chunks * CHUNK + 6)} bars): ${JSON.stringify(counts)}; breaker ${breaker.map((b) => (b.open ? 'open' : 'closed')).join(' → ')}`);
    expect(injected).toBeGreaterThanOrEqual(FAULT_COUNT);
    for (const kind of Object.keys(RATES)) expect(counts[kind as VenueFaultKind] ?? 0, `fault kind ${kind} never injected`).toBeGreaterThan(0);
    // Never the same decision placed twice: one venue order per orderLinkId, and every journaled decision at most once.
    const ids = venue.orders().map((o) => String(o['orderLinkId']));
    expect(new Set(ids).size).toBe(ids.length);
    const { records } = readJournal(`${dir}/journal.jsonl`);
    const decisions = new Map<string, string>();
    for (const r of records) if (r.k === 'submit') {
      const c = JSON.stringify({ ...r, t: 0 });
      expect(decisions.get(r.id) ?? c).toBe(c);
      decisions.set(r.id, c);
    }
    expect(ids.filter((id) => !decisions.has(id))).toEqual([]);
    // No position differs from the venue's during a run (the in-run position check halts on two rounds in a row): every
    // fill of the run is booked, and no fault (a stale listing, a lost answer) makes one seem to differ.
    expect(records.filter((r) => r.k === 'reconcile' && r.kind === 'position_mismatch' && r.detail['during'] === 'run').map((r) => (r as { detail: unknown }).detail)).toEqual([]);
    // The breaker opened during the outage and closed after it.
    expect(breaker.some((b) => b.open)).toBe(true);
    expect(breaker.at(-1)?.open ?? false).toBe(false);
    // Positions: the runner's (after its last reconciliation) are the venue's.
    frame.symbols.forEach((s, i) => expect(last.kernel.position(i)).toBeCloseTo(venue.position(s), 9));
  }, 600_000);
});
