/**
 * The parity "Done when" of the live runner: the same experiment over the same bars, run by the backtester and by the
 * live runner in demo mode — real ccxt through BybitExecutionClient against the local Bybit v5 venue, which matches
 * orders on its own feed of the same bars, on a fast clock — makes identical decisions and orders (ids, sides,
 * quantities), fills equal within the fee model, and `tm replay` of the run reports no divergence.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BybitExecutionClient } from '../../src/adapters/bybit/index.js';
import { FUNDING_INTERVAL_MS, TableFundingModel } from '../../src/backtest/execution-models.js';
import { runBacktest } from '../../src/backtest/run-backtest.js';
import { timeframeMs } from '../../src/core/time.js';
import { LiveBarFeed } from '../../src/live/bar-feed.js';
import { VirtualTime } from '../../src/live/live-clock.js';
import { LiveRunner, type LiveRunnerDeps, type LiveRunSummary } from '../../src/live/live-runner.js';
import { liveSetup } from '../../src/live/live-setup.js';
import { replayJournal } from '../../src/live/replay.js';
import { readJournal, type JournalRecord } from '../../src/live/journal.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { BybitMarketDataClient } from '../../src/adapters/bybit/bybit-market-data-client.js';
import { DEFAULT_LINEAR_INSTRUMENTS } from '../support/bybit-v5-server.js';
import { BybitV5Venue, TEST_API_KEY, TEST_API_SECRET } from '../support/bybit-v5-venue.js';
import { backtestSpec } from '../support/engine-scenarios.js';
import { demoSmaConfig, serverKlines, sharedFrame, VenueDrivingTime } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const CONFIG = demoSmaConfig('live-demo-parity');
const WARMUP = 29;
const LIVE = 300;
const frame = sharedFrame('2024-01-01T00:00:00Z', WARMUP + LIVE + 1);
const tf = timeframeMs('4h');
const startTs = frame.ts[WARMUP]!;

/** A demo run of CONFIG for `bars` live bars against `venue` (real ccxt through BybitExecutionClient), in a fresh folder. */
async function runDemo(venue: BybitV5Venue, pacer: VenueDrivingTime, runId: string, bars: number, fundingIntervalsMs?: readonly number[], deps: Pick<LiveRunnerDeps, 'log'> & { followIntervals?: boolean } = {}): Promise<{ runner: LiveRunner; summary: LiveRunSummary; dir: string }> {
  const setup = liveSetup(CONFIG, STRATEGIES);
  const dir = tempDir(`tm-live-${runId}-`);
  const client = new BybitExecutionClient({ apiUrl: venue.url, rateLimitMs: 0, timeoutMs: 5_000 }, { instruments: setup.instruments, keys: { apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET }, clock: { now: () => pacer.current() }, env: {} });
  const market = new BybitMarketDataClient({ apiUrl: venue.url, rateLimitMs: 1 });
  try {
    await client.prepare();
    const feed = new LiveBarFeed(market, frame.symbols, '4h', tf, pacer, { graceMs: 1_000, retryMs: 1_000, pageSize: 1000 });
    const runner = new LiveRunner(
      { runId, mode: 'demo', instruments: setup.instruments, timeframe: '4h', initialCash: 100_000, leverage: 10, dir, startTs, maxBars: bars, warmupBars: WARMUP, config: CONFIG, ...(fundingIntervalsMs !== undefined ? { fundingIntervalsMs } : {}) },
      { feed, pacer, strategy: setup.strategy, venue: client, ...(deps.followIntervals === true ? { fundingIntervals: market } : {}), ...(deps.log !== undefined ? { log: deps.log } : {}) },
    );
    return { runner, summary: await runner.run(), dir };
  } finally {
    await client.close();
    await market.close();
  }
}

describe('live runner (demo mode, local Bybit v5 venue) vs backtester', () => {
  let venue: BybitV5Venue;
  let pacer: VenueDrivingTime;
  beforeAll(async () => {
    const time = new VirtualTime(startTs);
    const klines = serverKlines(frame);
    venue = await BybitV5Venue.start({ server: { klines }, now: () => time.current(), slippageBps: 2, initialPrice: 1 });
    pacer = new VenueDrivingTime(time, frame, (k) => frame.symbols.forEach((s, i) => venue.bar({ open: frame.open[i]![k]!, high: frame.high[i]![k]!, low: frame.low[i]![k]!, close: frame.close[i]![k]!, volume: frame.volume[i]![k]! }, s)));
  });
  afterAll(async () => venue.close());

  it('makes the backtest’s decisions and orders; fills equal within the fee model; the journal replays without divergence', async () => {
    const setup = liveSetup(CONFIG, STRATEGIES);
    const backtest = runBacktest(backtestSpec(frame, setup.instruments, { warmupBars: WARMUP, runId: 'dem1', slippage: setup.slippage, fees: setup.fees, initialCash: 100_000 }), setup.strategy);
    const { runner, summary, dir } = await runDemo(venue, pacer, 'dem1', LIVE);
    expect(summary.liveBars).toBe(LIVE);
    expect(summary.differences).toEqual([]);
    // The backtest's last bar's orders fill at a next open the live run has not reached: compare up to it.
    const until = frame.ts[WARMUP + LIVE - 1]! + tf;
    const bt = backtest.fills.filter((f) => f.ts < until);
    const live = runner.kernel.fills;
    expect(bt.length).toBeGreaterThan(10);
    // Quantities: the venue reports its decimal strings (1.89), the engine's lot flooring can carry float noise (1.8900000000000001).
    const lots = (q: number) => Math.round(q * 1e8) / 1e8;
    expect(live.map((f) => [f.clientOrderId, f.side, lots(f.quantity)])).toEqual(bt.map((f) => [f.clientOrderId, f.side, lots(f.quantity)]));
    // Prices: the venue fills on its tick grid, the backtest's slipped price is not rounded: at most half a tick apart;
    // fees follow (taker fee × quantity × that difference).
    let maxTicks = 0;
    for (let k = 0; k < bt.length; k++) {
      const x = setup.instruments[live[k]!.instrument]!;
      const ticks = Math.abs(live[k]!.price - bt[k]!.price) / x.tickSize;
      maxTicks = Math.max(maxTicks, ticks);
      expect(ticks).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(Math.abs(live[k]!.fee - bt[k]!.fee)).toBeLessThanOrEqual(x.takerFee * bt[k]!.quantity * x.tickSize + 1e-9);
    }
    console.log(`demo parity: ${live.length} fills, identical ids/sides/quantities, largest price difference ${maxTicks.toFixed(3)} ticks`);
    // The venue's books agree with the runner's.
    frame.symbols.forEach((s, i) => expect(venue.position(s)).toBeCloseTo(runner.kernel.position(i), 9));
    const orderLinkIds = venue.orders().map((o) => String(o['orderLinkId']));
    expect(new Set(orderLinkIds).size).toBe(orderLinkIds.length);
    // The venue fills as the models say, to half a tick: the replay agrees at the models' prices as at the run's.
    const report = replayJournal(`${dir}/journal.jsonl`, STRATEGIES, { fills: 'model' });
    expect(report.divergence).toBeUndefined();
    expect(report.fills.unmatched).toBe(0);
    expect(report.fills.maxPriceDiff).toBeLessThanOrEqual(Math.max(...setup.instruments.map((x) => x.tickSize)) / 2 + 1e-9);
    const atRun = replayJournal(`${dir}/journal.jsonl`, STRATEGIES);
    expect(atRun.fills.prices).toBe('run');
    expect(atRun.divergence).toBeUndefined();
    expect(atRun.fills.unmatched).toBe(0);
    expect(atRun.fills.maxPriceDiff).toBeLessThan(1e-9);
  }, 120_000);
});

describe('tm replay of a demo run whose venue fills away from the fill model', () => {
  it('at the run\'s fills (the default for venue runs) it follows the run\'s account: no divergence; at the models\' prices the sizing diverges in quantity', async () => {
    const bars = 160;
    const time = new VirtualTime(startTs);
    // The venue slips 30 bp where the experiment's model says 2: every fill's price, and so equity, differ from the models'.
    const slippy = await BybitV5Venue.start({ server: { klines: serverKlines(frame) }, now: () => time.current(), slippageBps: 30, initialPrice: 1 });
    const paced = new VenueDrivingTime(time, frame, (k) => frame.symbols.forEach((s, i) => slippy.bar({ open: frame.open[i]![k]!, high: frame.high[i]![k]!, low: frame.low[i]![k]!, close: frame.close[i]![k]!, volume: frame.volume[i]![k]! }, s)));
    try {
      const { runner, summary, dir } = await runDemo(slippy, paced, 'dslip', bars);
      expect(summary.liveBars).toBe(bars);
      const live = runner.kernel.fills;
      expect(live.length).toBeGreaterThan(6);
      const journal = `${dir}/journal.jsonl`;
      const atModel = replayJournal(journal, STRATEGIES, { fills: 'model' });
      expect(atModel.fills.prices).toBe('model');
      expect(atModel.fills.maxPriceDiff).toBeGreaterThan(1); // 30 bp against 2 bp of a price in the thousands
      expect(atModel.divergence).toMatchObject({ live: { quantity: expect.any(Number) }, replay: { quantity: expect.any(Number) } });
      const d = atModel.divergence!;
      expect(d.live!.id).toBe(d.replay!.id); // the same decision, sized from another equity
      expect(d.live!.quantity).not.toBe(d.replay!.quantity);
      const report = replayJournal(journal, STRATEGIES);
      expect(report.fills.prices).toBe('run');
      expect(report.divergence).toBeUndefined();
      expect(report.liveDecisions).toBeGreaterThanOrEqual(live.length);
      expect(report.fills.unmatched).toBe(0);
      expect(report.fills.maxPriceDiff).toBeLessThan(1e-6);
      expect(report.fills.maxFeeDiff).toBeLessThan(1e-6);
    } finally {
      await slippy.close();
    }
  }, 120_000);
});

describe('a demo run whose venue charges funding', () => {
  // ETHUSDT on the 8 h grid, then as a contract that settles every 4 h (Bybit's fundingInterval 240), which the runner
  // is told: it asks for payments at every 4 h close and books ETH's at each, as the backtest's 4-hourly table charges.
  it.each([
    { eth: FUNDING_INTERVAL_MS, runId: 'dfund' },
    { eth: 4 * 3_600_000, runId: 'dfund4' },
  ])('books the venue’s payments before the settlement close’s decisions, as the backtest books its table’s: the same orders; its cash is the venue’s wallet; tm replay books them too (ETH every $eth ms)', async ({ eth, runId }) => {
    const bars = 120;
    const RATE = 0.001; // per settlement, on every position: large, so that sizing from equity feels it
    const time = new VirtualTime(startTs);
    const charging = await BybitV5Venue.start({ server: { klines: serverKlines(frame) }, now: () => time.current(), slippageBps: 2, initialPrice: 1 });
    const intervalOf = (s: string) => (s === 'ETHUSDT' ? eth : FUNDING_INTERVAL_MS);
    // As the clock passes a close on a symbol's settlement grid the venue prints the bar, then settles funding at its close.
    const paced = new VenueDrivingTime(time, frame, (k) =>
      frame.symbols.forEach((s, i) => {
        charging.bar({ open: frame.open[i]![k]!, high: frame.high[i]![k]!, low: frame.low[i]![k]!, close: frame.close[i]![k]!, volume: frame.volume[i]![k]! }, s);
        if ((frame.ts[k]! + tf) % intervalOf(s) === 0) charging.settleFunding(RATE, s);
      }),
    );
    try {
      const setup = liveSetup(CONFIG, STRATEGIES);
      // The backtest: BTC's table is empty (the constant fallback at each 8 h settlement); ETH's lists every one of its settlements.
      const every = (interval: number) => {
        const ts = Float64Array.from({ length: Math.floor((frame.ts[frame.ts.length - 1]! - frame.ts[0]!) / interval) + 2 }, (_, k) => (Math.floor(frame.ts[0]! / interval) + 1 + k) * interval);
        return { ts, rate: new Float64Array(ts.length).fill(RATE) };
      };
      const tables = frame.symbols.map((s) => (s === 'ETHUSDT' ? every(intervalOf(s)) : { ts: new Float64Array(0), rate: new Float64Array(0) }));
      const funding = new TableFundingModel(tables, { kind: 'constant', rate: RATE });
      const backtest = runBacktest(backtestSpec(frame, setup.instruments, { warmupBars: WARMUP, runId, slippage: setup.slippage, fees: setup.fees, initialCash: 100_000, funding }), setup.strategy);
      const { runner, summary, dir } = await runDemo(charging, paced, runId, bars, frame.symbols.map(intervalOf));
      expect(summary.liveBars).toBe(bars);
      expect(summary.differences).toEqual([]);
      const until = frame.ts[WARMUP + bars - 1]! + tf;
      const lots = (q: number) => Math.round(q * 1e8) / 1e8;
      const bt = backtest.fills.filter((f) => f.ts < until);
      expect(bt.length).toBeGreaterThan(6);
      expect(runner.kernel.fills.map((f) => [f.clientOrderId, f.side, lots(f.quantity)])).toEqual(bt.map((f) => [f.clientOrderId, f.side, lots(f.quantity)]));
      // The payments: the venue's own, each once, and the backtest's table's, settlement by settlement.
      const paid = runner.kernel.fundingEvents;
      expect(paid.length).toBeGreaterThan(20);
      expect(paid.every((e) => e.source === 'venue')).toBe(true);
      const btPaid = backtest.funding.filter((e) => e.ts <= until); // the last close's settlement is booked before its decision
      expect(paid.map((e) => [e.ts + tf, e.instrument])).toEqual(btPaid.map((e) => [e.ts, setup.instruments.findIndex((x) => x.id === e.instrument)]));
      const offGrid = paid.filter((e) => (e.ts + tf) % FUNDING_INTERVAL_MS !== 0);
      if (eth === FUNDING_INTERVAL_MS) expect(offGrid).toEqual([]);
      else expect(offGrid.length).toBeGreaterThan(10);
      paid.forEach((e, k) => expect(e.payment).toBeCloseTo(btPaid[k]!.payment, 6));
      expect(runner.kernel.portfolio.cash).toBeCloseTo(charging.walletBalance(), 6);
      // tm replay books the journaled payments at the run's fills: no divergence. Without them it sizes from more
      // equity than the run had, and diverges.
      const journal = `${dir}/journal.jsonl`;
      const report = replayJournal(journal, STRATEGIES);
      expect(report.divergence).toBeUndefined();
      expect(report.fills.unmatched).toBe(0);
      expect(report.funding.payments).toBe(paid.length);
      expect(report.funding.paid).toBeCloseTo(paid.reduce((a, e) => a + e.payment, 0), 6);
      const stripped = join(tempDir('tm-replay-nofunding-'), 'journal.jsonl');
      writeFileSync(stripped, readFileSync(journal, 'utf8').split('\n').filter((l) => !l.startsWith('{"k":"funding"')).join('\n'));
      const without = replayJournal(stripped, STRATEGIES);
      expect(without.funding.payments).toBe(0);
      expect(without.divergence).toMatchObject({ live: { quantity: expect.any(Number) }, replay: { quantity: expect.any(Number) } });
    } finally {
      await charging.close();
    }
  }, 120_000);

  it('follows a venue that changes a contract\'s funding interval (ETHUSDT 8 h, 4 h, 8 h again): each payment booked once, the first of the shorter interval at the former one\'s next settlement (its payment off the 8 h grid the sign), the others at their own; cash is the wallet; tm replay agrees', async () => {
    const bars = 120;
    const RATE = 0.001;
    const H = 3_600_000;
    const SHORT = Math.ceil(frame.ts[WARMUP + 30]! / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS;
    const BACK = SHORT + 6 * 24 * H;
    const ethAt = (close: number) => (close >= SHORT && close < BACK ? 4 * H : FUNDING_INTERVAL_MS);
    const time = new VirtualTime(startTs);
    const instruments = DEFAULT_LINEAR_INSTRUMENTS.map((x) => ({ ...x }));
    const ethInfo = instruments.find((x) => x['symbol'] === 'ETHUSDT')!;
    const charging = await BybitV5Venue.start({ server: { klines: serverKlines(frame), instruments: { linear: instruments } }, now: () => time.current(), slippageBps: 2, initialPrice: 1 });
    // The venue states ETH's interval in force from each close on, and settles each symbol on its own.
    const paced = new VenueDrivingTime(time, frame, (k) =>
      frame.symbols.forEach((s, i) => {
        const close = frame.ts[k]! + tf;
        ethInfo['fundingInterval'] = ethAt(close) / 60_000;
        charging.bar({ open: frame.open[i]![k]!, high: frame.high[i]![k]!, low: frame.low[i]![k]!, close: frame.close[i]![k]!, volume: frame.volume[i]![k]! }, s);
        if (close % (s === 'ETHUSDT' ? ethAt(close) : FUNDING_INTERVAL_MS) === 0) charging.settleFunding(RATE, s);
      }),
    );
    try {
      const lines: string[] = [];
      const { runner, summary, dir } = await runDemo(charging, paced, 'dfundsw', bars, frame.symbols.map(() => FUNDING_INTERVAL_MS), { followIntervals: true, log: (line) => lines.push(line) });
      expect(summary.liveBars).toBe(bars);
      expect(summary.differences).toEqual([]);
      // Asked on the signs only: a payment off the 8 h grid (4 h now), and a 4 h settlement the venue paid nothing for (8 h again).
      expect(lines.filter((l) => l.startsWith('funding:'))).toEqual(["funding: ETHUSDT settles every 4 h now (was 8 h; the venue's fundingInterval)", "funding: ETHUSDT settles every 8 h now (was 4 h; the venue's fundingInterval)"]);
      expect(charging.server.requests.filter((r) => r.path === '/v5/market/instruments-info' && r.query['symbol'] !== undefined).length).toBeLessThan(10);
      const journal = `${dir}/journal.jsonl`;
      const eth = frame.symbols.indexOf('ETHUSDT');
      const booked = readJournal(journal).records.filter((r): r is Extract<JournalRecord, { k: 'funding' }> => r.k === 'funding');
      const ethBooked = booked.filter((r) => r.i === eth).map((r) => ({ settlement: Math.floor(r.ts / H) * H, close: r.t + tf }));
      // Each ETH payment once; ETH paid every 4 h between SHORT and BACK (off the 8 h grid: the shorter interval's).
      expect(new Set(booked.map((r) => r.exec)).size).toBe(booked.length);
      const shorter = ethBooked.filter((b) => b.settlement % FUNDING_INTERVAL_MS !== 0);
      expect(shorter.length).toBeGreaterThan(5);
      expect(shorter.every((b) => b.settlement > SHORT && b.settlement < BACK)).toBe(true);
      // Booked at its own settlement's close, but for the first of the shorter interval: at the former one's next.
      const late = ethBooked.filter((b) => b.close !== b.settlement);
      expect(late).toEqual([{ settlement: shorter[0]!.settlement, close: shorter[0]!.settlement + 4 * H }]);
      expect(runner.kernel.portfolio.cash).toBeCloseTo(charging.walletBalance(), 6);
      const report = replayJournal(journal, STRATEGIES);
      expect(report.divergence).toBeUndefined();
      expect(report.fills.unmatched).toBe(0);
      expect(report.funding.payments).toBe(booked.length);
    } finally {
      await charging.close();
    }
  }, 120_000);
});
