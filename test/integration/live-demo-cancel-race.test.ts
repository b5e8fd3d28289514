/**
 * A strategy's cancel that loses the race to a fill, in demo mode (real ccxt through BybitExecutionClient against the
 * local Bybit v5 venue): the strategy cancels its working limit order at a bar's close, but the venue fills the order
 * while the cancel is on its way (a trade at the limit price), and refuses the cancel (110001). The run books the fill
 * after the bar; `tm replay` must play the race as the venue decided it, or its strategy, which then holds no
 * position, decides the other side from the next bar on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BybitExecutionClient } from '../../src/adapters/bybit/index.js';
import { BybitMarketDataClient } from '../../src/adapters/bybit/bybit-market-data-client.js';
import { timeframeMs } from '../../src/core/time.js';
import type { Strategy, StrategyFactory } from '../../src/engine/strategy.js';
import { LiveBarFeed } from '../../src/live/bar-feed.js';
import { readJournal } from '../../src/live/journal.js';
import { VirtualTime } from '../../src/live/live-clock.js';
import { LiveRunner } from '../../src/live/live-runner.js';
import { liveSetup } from '../../src/live/live-setup.js';
import { replayJournal } from '../../src/live/replay.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { BybitV5Venue, TEST_API_KEY, TEST_API_SECRET } from '../support/bybit-v5-venue.js';
import { demoSmaConfig, serverKlines, sharedFrame, VenueDrivingTime } from '../support/live-harness.js';
import { tempDir } from '../support/shared-data.js';

const WARMUP = 3;
const BARS = 24;
const frame = sharedFrame('2024-01-01T00:00:00Z', WARMUP + BARS + 1);
const tf = timeframeMs('4h');
const startTs = frame.ts[WARMUP]!;

/**
 * On BTCUSDT's bar: cancels its working order if one works, else places a limit order 0.3 % from the close, a buy when
 * flat or short, a sell when long (0.01 BTC): what it decides depends on whether its last order filled.
 */
const limitCancel: StrategyFactory = (): Strategy => ({
  name: 'limit-cancel',
  onBar(ctx, bar) {
    if (bar.instrument !== 0) return;
    const open = ctx.openOrders(0);
    if (open.length > 0) {
      for (const o of open) ctx.cancelOrder(o.clientOrderId);
      return;
    }
    const buy = ctx.position(0) <= 0;
    const price = Math.round(bar.close * (buy ? 0.997 : 1.003) * 10) / 10;
    ctx.submitOrder({ instrument: 0, side: buy ? 'buy' : 'sell', type: 'limit', price, quantity: 0.01 });
  },
});
const STRATEGIES_HERE: Readonly<Record<string, StrategyFactory>> = { ...STRATEGIES, 'limit-cancel': limitCancel };
const CONFIG = { ...demoSmaConfig('live-demo-cancel-race'), strategy: 'limit-cancel', params: {}, warmup: WARMUP };
const setup = liveSetup(CONFIG, STRATEGIES_HERE);

describe('demo run: a strategy\'s cancel that loses the race to a fill', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  /**
   * A demo run of {@link limitCancel}; its first cancel waits at the venue before it is carried out, and meanwhile the
   * market trades at the order's limit price: `volume` of it (Infinity: the whole order fills, the cancel is refused).
   */
  async function raceRun(runId: string, volume: number) {
    const time = new VirtualTime(startTs);
    const venue = await BybitV5Venue.start({ server: { klines: serverKlines(frame) }, now: () => time.current(), slippageBps: 2, initialPrice: 1, recvWindowCheck: false, participation: 1 });
    closers.push(() => venue.close());
    const pacer = new VenueDrivingTime(time, frame, (k) => {
      frame.symbols.forEach((s, i) => venue.bar({ open: frame.open[i]![k]!, high: frame.high[i]![k]!, low: frame.low[i]![k]!, close: frame.close[i]![k]!, volume: frame.volume[i]![k]! }, s));
    });
    const market = new BybitMarketDataClient({ apiUrl: venue.url, rateLimitMs: 1 });
    closers.push(() => market.close());
    const dir = tempDir('tm-live-demo-race-');
    const client = new BybitExecutionClient({ apiUrl: venue.url, rateLimitMs: 0, timeoutMs: 5_000, backoffBaseMs: 1, backoffMaxMs: 5 }, { instruments: setup.instruments, keys: { apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET }, clock: { now: () => pacer.current() }, env: {} });
    closers.push(() => client.close());
    await client.prepare();
    const feed = new LiveBarFeed(market, frame.symbols, '4h', tf, pacer, { graceMs: 1_000, retryMs: 1_000, pageSize: 1000 });
    const runner = new LiveRunner(
      { runId, mode: 'demo', instruments: setup.instruments, timeframe: '4h', initialCash: 100_000, leverage: 10, dir, startTs, maxBars: BARS, warmupBars: WARMUP, config: CONFIG, restartProtectionMs: 0 },
      { feed, pacer, strategy: liveSetup(CONFIG, STRATEGIES_HERE).strategy, venue: client },
    );
    venue.injectFault('latency', { path: '/v5/order/cancel', count: 1 });
    let raced: string | undefined;
    let done = false;
    const run = runner.run().finally(() => void (done = true));
    while (!done && raced === undefined) {
      const cancel = venue.privateLog.find((e) => e.path === '/v5/order/cancel' && e.fault === 'latency');
      if (cancel?.orderLinkId !== undefined) {
        raced = cancel.orderLinkId;
        const order = venue.orders().find((o) => o['orderLinkId'] === raced)!;
        venue.trade(Number(order['price']), volume, String(order['symbol']));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const summary = await run;
    expect(summary.liveBars).toBe(BARS);
    expect(raced).toBeDefined();
    const { records } = readJournal(`${dir}/journal.jsonl`);
    /** The journal's records of order `id`, as `submit`, `cancel`, `fill` or `event <kind>`. */
    const of = (id: string) => records.flatMap((r): string[] => ('id' in r && r.id === id ? [r.k === 'event' ? `event ${r.e}` : r.k] : []));
    // Other orders were canceled in time, or filled within their bar: the strategy traded both ways.
    expect(records.filter((r) => r.k === 'cancel').length).toBeGreaterThan(1);
    expect(records.filter((r) => r.k === 'fill').length).toBeGreaterThan(1);
    frame.symbols.forEach((s, i) => expect(runner.kernel.position(i)).toBeCloseTo(venue.position(s), 9));
    return { raced: raced!, records, of, runner, venue, dir };
  }

  /** tm replay of the run agrees with it: the same decisions, the same fills at the same prices. */
  function expectReplayAgrees(dir: string): void {
    // At the run's fills (the default) and at the models' prices.
    for (const fills of ['run', 'model'] as const) {
      const report = replayJournal(`${dir}/journal.jsonl`, STRATEGIES_HERE, { fills });
      expect(report.divergence).toBeUndefined();
      expect(report.liveDecisions).toBe(report.replayDecisions);
      expect(report.fills.unmatched).toBe(0);
      expect(report.fills.live).toBe(report.fills.replay);
      // The raced order filled at its limit price in both (a maker fill); the others at the same prices too.
      expect(report.fills.maxPriceDiff).toBeLessThanOrEqual(setup.instruments[0]!.tickSize / 2 + 1e-9);
    }
  }

  it('the venue fills the order while its cancel is on the way: the run books the fill (cancel refused), and tm replay plays the race as the venue decided it', async () => {
    // Before, the replay carried the cancel out: its strategy, flat, bought where the run sold (divergence at 1).
    const { raced, of, runner, venue, dir } = await raceRun('race', Infinity);
    // Sent, accepted, its cancel sent; then its fill booked and the cancel refused (the venue had filled it; the client
    // learns the fill from the order's status when the cancel fails): FILLED.
    expect(of(raced)).toEqual(['submit', 'event accepted', 'cancel', 'fill', 'event cancel-rejected']);
    expect(venue.orders().find((o) => o['orderLinkId'] === raced)?.['orderStatus']).toBe('Filled');
    expect(runner.kernel.order(raced)?.status).toBe('FILLED');
    expectReplayAgrees(dir);
  }, 120_000);

  it('the venue fills part of the order while its cancel is on the way: the cancel takes the rest; tm replay fills that part first too', async () => {
    const { raced, of, runner, venue, dir } = await raceRun('rpart', 0.004);
    const order = venue.orders().find((o) => o['orderLinkId'] === raced)!;
    expect([order['orderStatus'], Number(order['cumExecQty'])]).toEqual(['Cancelled', 0.004]);
    expect(of(raced).slice(0, 3)).toEqual(['submit', 'event accepted', 'cancel']);
    expect(of(raced).slice(3).sort()).toEqual(['event canceled', 'fill']);
    expect(runner.kernel.order(raced)).toMatchObject({ status: 'CANCELED', filledQuantity: 0.004 });
    expectReplayAgrees(dir);
  }, 120_000);
});
