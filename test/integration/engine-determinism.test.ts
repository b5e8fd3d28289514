import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BacktestResult } from '../../src/backtest/backtest-result.js';
import { FixedBpsSlippage, TableFundingModel } from '../../src/backtest/execution-models.js';
import { runBacktest, type BacktestSpec } from '../../src/backtest/run-backtest.js';
import { runTickBacktest, ticksFromBars } from '../../src/backtest/run-tick-backtest.js';
import { parseClientOrderId } from '../../src/core/client-order-id.js';
import { BYBIT_LINEAR_PERPETUALS } from '../../src/core/instrument.js';
import { timeframeMs } from '../../src/core/time.js';
import type { BarFrame } from '../../src/data/bar-frame.js';
import { importPath, loadBars, MarketStore } from '../../src/data/index.js';
import type { Strategy, StrategyContext } from '../../src/engine/strategy.js';
import { sharedDataDir } from '../support/shared-data.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'] as const;
const instruments = SYMBOLS.map((s) => BYBIT_LINEAR_PERPETUALS[s]!);
const SETTLEMENT_MS = 8 * 3_600_000;

/** JSON of a result with typed arrays written as plain arrays. */
const toJson = (r: BacktestResult): string => JSON.stringify(r, (_key, value: unknown) => (ArrayBuffer.isView(value) ? Array.from(value as Float64Array) : value));

/** SMA(20) vs SMA(50) of the closes, +1 / −1 per bar (0 before bar 49), precomputed from the frame. */
function smaSignal(close: Float64Array): Int8Array {
  const out = new Int8Array(close.length);
  for (let t = 49; t < close.length; t++) {
    let fast = 0, slow = 0;
    for (let k = t - 19; k <= t; k++) fast += close[k]!;
    for (let k = t - 49; k <= t; k++) slow += close[k]!;
    out[t] = fast / 20 > slow / 50 ? 1 : -1;
  }
  return out;
}

/** Equity-sized SMA crossover reading its own bar history (bar engine only), plus a resting take-profit limit. */
const equitySized: Strategy = {
  name: 'sma-equity',
  onBar(ctx, bar) {
    const i = bar.instrument;
    const h = ctx.history(i);
    if (h.length < 50) return;
    let fast = 0, slow = 0;
    for (let k = h.length - 20; k < h.length; k++) fast += h.close[k]!;
    for (let k = h.length - 50; k < h.length; k++) slow += h.close[k]!;
    const target = (fast / 20 > slow / 50 ? 1 : -1) * ctx.roundQuantity(i, (0.3 * ctx.equity()) / bar.close);
    for (const o of ctx.openOrders(i)) if (o.type === 'limit') ctx.cancelOrder(o.clientOrderId);
    const diff = target - ctx.position(i);
    if (diff !== 0) ctx.submitOrder({ instrument: i, side: diff > 0 ? 'buy' : 'sell', type: 'market', quantity: Math.abs(diff) });
    // a small take-profit 3 % away, reduce-only, to exercise limit matching
    if (target !== 0) {
      const side = target > 0 ? 'sell' : 'buy';
      const price = bar.close * (target > 0 ? 1.03 : 0.97);
      ctx.submitOrder({ instrument: i, side, type: 'limit', price, quantity: ctx.roundQuantity(i, Math.abs(target) / 4), reduceOnly: true });
    }
  },
};

/** Fixed size per instrument, target = signal × size: the same decision whichever runner calls it. */
const SIZE = [0.05, 1, 20];
function rebalance(ctx: StrategyContext, i: number, signal: number): void {
  const diff = signal * SIZE[i]! - ctx.position(i);
  if (Math.abs(diff) > 1e-12) ctx.submitOrder({ instrument: i, side: diff > 0 ? 'buy' : 'sell', type: 'market', quantity: Math.abs(diff) });
}

describe('engine determinism and bar/tick agreement on Binance spot 4h (BTC, ETH, SOL), 2022-01-01..2025-09-01', () => {
  const dir = sharedDataDir();
  let store: MarketStore;
  let frame: BarFrame;
  let tables: { ts: Float64Array; rate: Float64Array }[];

  beforeAll(async () => {
    store = await MarketStore.open(':memory:');
    await importPath(store, join(dir, 'binance-spot'));
    for (const s of ['BTCUSDT', 'ETHUSDT']) await importPath(store, join(dir, 'binance-futures', `${s}-funding.csv.gz`));
    frame = await loadBars(store, { venue: 'binance-spot', symbols: [...SYMBOLS], timeframe: '4h', start: Date.parse('2022-01-01T00:00:00Z'), end: Date.parse('2025-09-01T00:00:00Z') });
    const fundingOf = async (symbol: string) => {
      const rows = await store.query(`SELECT epoch_ms(ts)::DOUBLE AS ts, rate FROM funding_rates WHERE venue = 'binance-futures' AND symbol = ? ORDER BY ts`, [symbol]);
      return { ts: Float64Array.from(rows, (r) => Number(r['ts'])), rate: Float64Array.from(rows, (r) => Number(r['rate'])) };
    };
    tables = [await fundingOf('BTCUSDT'), await fundingOf('ETHUSDT'), { ts: new Float64Array(0), rate: new Float64Array(0) }];
  }, 120_000);
  afterAll(() => store?.close());

  const specOf = (overrides: Partial<BacktestSpec> = {}): BacktestSpec => ({
    name: 'determinism',
    instruments,
    frame,
    initialCash: 10_000,
    leverage: 10,
    slippage: new FixedBpsSlippage(2),
    funding: new TableFundingModel(tables, { kind: 'constant', rate: 0.0001 }),
    periodsPerYear: 2190,
    dataSources: instruments.map((x, i) => ({ instrument: x.id, venue: 'binance-spot', symbol: SYMBOLS[i]!, timeframe: '4h' })),
    seed: 7,
    config: { strategy: 'sma-equity' },
    ...overrides,
  });

  it('the same spec object run twice gives byte-identical JSON', () => {
    const spec = specOf();
    const a = toJson(runBacktest(spec, equitySized));
    const b = toJson(runBacktest(spec, equitySized));
    expect(a.length).toBeGreaterThan(100_000);
    const parsed = JSON.parse(a) as { fills: { liquidity: string }[]; funding: { source: string }[] };
    expect(parsed.fills.some((f) => f.liquidity === 'maker')).toBe(true); // the take-profits do fill
    expect(parsed.funding.some((f) => f.source === 'table')).toBe(true);
    expect(b === a).toBe(true);
    // and a freshly built identical spec gives the same bytes too
    expect(toJson(runBacktest(specOf(), equitySized)) === a).toBe(true);
  });

  /*
   * Bar engine vs tick engine over ticksFromBars(bars) (open → nearer extreme → farther extreme → close at +0, +¼, +½, +¾
   * of the bar), with a strategy that acts only at bar boundaries: at a bar's close in the bar run, at the bar's close
   * tick (+¾) in the tick run, from a precomputed signal and fixed sizes. A market order placed there fills at the next
   * price, which is the next bar's open in both runs.
   *
   * Expected to match exactly: every fill (time, side, quantity, price, fee, taker), every funding settlement (time,
   * position, mark = the bar close, rate, payment), fees and funding totals, and equity at the closes that are not
   * funding settlements.
   * Expected to differ, by design:
   * - equity sampled at a settlement close: the bar run books that settlement at the close, the tick run at the first
   *   tick at/after it, after its sample; they differ by exactly that settlement's payments;
   * - the settlement at the last bar's close: the tick run ends at the last (close) tick, ¼ bar earlier, so it never
   *   books it (and its funding-fallback notes count one settlement fewer);
   * - anything sized from equity (the tick-run strategy acts before the settlement at its close is booked);
   * - the tick runner keeps no bar history (the strategy reads a precomputed signal) and records no per-bar positions;
   * - intra-bar fills of resting limits: same price, but stamped at the tick time rather than the bar close;
   * - volume-based slippage (a derived tick carries ¼ of the bar volume);
   * - liquidation on a gap at the open: the tick run treats the close→open jump as a traded segment;
   * - margin checks at an open: the bar run marks instruments earlier in the list at their current close.
   */
  describe('tick run over ticksFromBars vs bar run, market orders at bar boundaries', () => {
    let bar: BacktestResult;
    let tick: BacktestResult;
    let signals: Int8Array[];

    beforeAll(() => {
      signals = frame.close.map((c) => smaSignal(c));
      const barStrategy: Strategy = { name: 'boundary', onBar: (ctx, b) => rebalance(ctx, b.instrument, signals[b.instrument]![b.index]!) };
      const tf = timeframeMs(frame.timeframe);
      const t0 = frame.ts[0]!;
      const tickStrategy: Strategy = {
        name: 'boundary',
        onTick(ctx, t) {
          const offset = (t.tsEvent - t0) % tf;
          if (offset !== (3 * tf) / 4) return; // only the close tick of each bar
          rebalance(ctx, t.instrument, signals[t.instrument]![(t.tsEvent - t0 - offset) / tf]!);
        },
      };
      bar = runBacktest(specOf(), barStrategy);
      tick = runTickBacktest(
        {
          name: 'determinism',
          instruments,
          ticks: instruments.map((_, i) => ticksFromBars(frame.ts, frame.open[i]!, frame.high[i]!, frame.low[i]!, frame.close[i]!, frame.volume[i]!, tf)),
          initialCash: 10_000,
          leverage: 10,
          slippage: new FixedBpsSlippage(2),
          funding: new TableFundingModel(tables, { kind: 'constant', rate: 0.0001 }),
          sampleEveryMs: tf,
          periodsPerYear: 2190,
          dataSources: [],
          seed: 7,
          config: {},
        },
        tickStrategy,
      );
    });

    it('makes identical fills', () => {
      expect(bar.fills.length).toBeGreaterThan(200);
      expect(bar.liquidations).toBe(0);
      expect(tick.liquidations).toBe(0);
      // Client order ids carry the decision time, which differs by design (bar close vs the close tick at +¾).
      const withoutIds = (fills: BacktestResult['fills']) => fills.map(({ clientOrderId: _id, ...rest }) => rest);
      expect(withoutIds(tick.fills)).toEqual(withoutIds(bar.fills));
      expect(tick.fills.map((f) => parseClientOrderId(f.clientOrderId).success)).not.toContain(false);
    });

    it('books identical funding settlements and totals (up to the last tick)', () => {
      // The bar run books the settlement at the last bar's close (2025-09-01T00:00); the tick run ends at its last tick
      // (2025-08-31T23:00, the last close tick) and never reaches that settlement.
      const lastTick = frame.ts[frame.ts.length - 1]! + (3 * timeframeMs(frame.timeframe)) / 4;
      const barUpToLastTick = bar.funding.filter((f) => f.ts <= lastTick);
      expect(bar.funding.length - barUpToLastTick.length).toBe(3); // BTC, ETH, SOL at 2025-09-01T00:00
      expect(barUpToLastTick.length).toBeGreaterThan(10_000);
      expect(tick.funding).toEqual(barUpToLastTick);
      const finalPayments = bar.funding.filter((f) => f.ts > lastTick).reduce((a, f) => a + f.payment, 0);
      expect(Math.abs(tick.fundingPaid - (bar.fundingPaid - finalPayments))).toBeLessThan(1e-9);
      expect(tick.feesPaid).toBe(bar.feesPaid);
      expect(tick.turnoverNotional).toBe(bar.turnoverNotional);
      expect(tick.trades).toEqual(bar.trades);
    });

    it('samples the same equity at every close except settlements, where it differs by that settlement', () => {
      expect(Array.from(tick.equity.ts)).toEqual(Array.from(bar.equity.ts));
      const paidAt = new Map<number, number>();
      for (const f of bar.funding) paidAt.set(f.ts, (paidAt.get(f.ts) ?? 0) + f.payment);
      let settlements = 0;
      for (let t = 0; t < bar.equity.ts.length; t++) {
        const ts = bar.equity.ts[t]!;
        if (ts % SETTLEMENT_MS !== 0) {
          expect(tick.equity.value[t], new Date(ts).toISOString()).toBe(bar.equity.value[t]);
        } else {
          settlements++;
          // bar equity already paid this settlement, the tick sample not yet
          expect(Math.abs(tick.equity.value[t]! - (bar.equity.value[t]! + (paidAt.get(ts) ?? 0)))).toBeLessThan(1e-9);
        }
      }
      expect(settlements).toBe(4017);
    });
  });
});
