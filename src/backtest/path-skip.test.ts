import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomTrader as seededTrader } from '../../test/support/random-trader.js';
import { sharedDataDir } from '../../test/support/shared-data.js';
import { BYBIT_LINEAR_PERPETUALS } from '../core/instrument.js';
import type { BarFrame } from '../data/bar-frame.js';
import { importPath, loadBars, MarketStore } from '../data/index.js';
import { FixedBpsSlippage, TableFundingModel } from './execution-models.js';
import { runBacktest, type BacktestSpec } from './run-backtest.js';

/**
 * The venue skips a bar's price path when nothing on it can act (cached range triggers of the working orders, cached
 * liquidation bounds that move with the other instruments' marks). The `every-bar` reference runs every path and the
 * exact liquidation check at every price; a seeded random trader on three real instruments at high leverage must get
 * the same fills, cancels, liquidations and equity either way.
 */
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
let frame: BarFrame;

beforeAll(async () => {
  const store = await MarketStore.open(':memory:');
  for (const s of SYMBOLS) await importPath(store, join(sharedDataDir(), 'binance-futures', `${s}-4h.csv.gz`), { venue: 'binance-futures' });
  frame = await loadBars(store, { venue: 'binance-futures', symbols: SYMBOLS, timeframe: '4h', start: Date.UTC(2025, 1, 1), end: Date.UTC(2025, 8, 1), missing: 'error' });
  store.close();
}, 60_000);

/** Mostly resting limits, sometimes marketable on arrival, up to 7× equity per order. */
const randomTrader = (seed: number) => seededTrader(seed, { size: 6, market: 0.08, limit: 0.3, away: 0.06, roundPrice: false, cancel: 0.1 });

function spec(pathChecks: 'skip-idle' | 'every-bar'): BacktestSpec {
  return {
    name: 'path-skip',
    instruments: SYMBOLS.map((s) => BYBIT_LINEAR_PERPETUALS[s]!),
    frame,
    initialCash: 10_000,
    leverage: 25,
    slippage: new FixedBpsSlippage(2),
    funding: new TableFundingModel([null, null, null], { kind: 'constant', rate: 0.0001 }),
    periodsPerYear: 2190,
    dataSources: [],
    seed: 1,
    config: {},
    pathChecks,
  };
}

describe('simulated venue: skipping idle bar paths changes nothing', () => {
  it.each([1, 2, 3, 4, 5, 6])('seed %i: the same fills, cancels, liquidations, funding and equity as checking every bar', (seed) => {
    const fast = runBacktest(spec('skip-idle'), randomTrader(seed));
    const reference = runBacktest(spec('every-bar'), randomTrader(seed));
    // The scenario is rich enough to mean something: maker and taker fills, liquidations, cancels on every side.
    expect(reference.fills.length).toBeGreaterThan(50);
    expect(reference.fills.some((f) => f.liquidity === 'maker')).toBe(true);
    expect(reference.liquidations).toBeGreaterThan(0);
    expect(reference.notes.some((n) => n.includes('rejected'))).toBe(true);
    // The reference did more venue work than the fast path (otherwise the comparison compares nothing).
    expect(reference.venuePriceEvents ?? 0).toBeGreaterThan(fast.venuePriceEvents ?? 0);
    expect(fast.fills).toEqual(reference.fills);
    expect(fast.trades).toEqual(reference.trades);
    expect(fast.funding).toEqual(reference.funding);
    expect(fast.notes).toEqual(reference.notes);
    expect(fast.liquidations).toBe(reference.liquidations);
    expect(fast.venueBarsChecked).toBe(reference.venueBarsChecked);
    expect(Array.from(fast.equity.value)).toEqual(Array.from(reference.equity.value));
  });
});
