import { FixedBpsSlippage, TableFundingModel, type FundingModel } from '../../src/backtest/execution-models.js';
import type { BacktestSpec } from '../../src/backtest/run-backtest.js';
import { formatClientOrderId } from '../../src/core/client-order-id.js';
import type { Instrument } from '../../src/core/instrument.js';
import type { BarFrame } from '../../src/data/bar-frame.js';
import type { FillAmounts } from '../../src/engine/portfolio.js';
import type { BarEvent, Strategy, StrategyContext } from '../../src/engine/strategy.js';

/**
 * A fill of signed quantity `delta` (buy ≥ 0) of instrument `i` at `price` paying `fee`, at `tsEvent`: what
 * `Portfolio.applyFill` and `TradeTracker.onFill` read of a fill, for hand-computed tests.
 */
export function booked(i: number, delta: number, price: number, fee: number, tsEvent = 0): FillAmounts & { tsEvent: number } {
  return { instrument: i, side: delta >= 0 ? 'buy' : 'sell', quantity: Math.abs(delta), price, fee, tsEvent };
}

/**
 * A linear perpetual with round numbers for hand-computed tests: lot 0.001, min notional 5, maker 0.02 %,
 * taker 0.055 %, maintenance margin 0.5 %, max leverage 100.
 */
export function testInstrument(overrides: Partial<Instrument> & { symbol?: string } = {}): Instrument {
  const symbol = overrides.symbol ?? 'TESTUSDT';
  return {
    id: `${symbol}-LINEAR.TEST`,
    symbol,
    venue: 'TEST',
    kind: 'linear-perpetual',
    baseCurrency: symbol.replace(/USDT$/, ''),
    quoteCurrency: 'USDT',
    tickSize: 0.01,
    lotSize: 0.001,
    minQuantity: 0.001,
    minNotional: 5,
    contractMultiplier: 1,
    makerFee: 0.0002,
    takerFee: 0.00055,
    maxLeverage: 100,
    maintenanceMarginRate: 0.005,
    ...overrides,
  };
}

/** No funding at all (every instrument treated as having no funding table). */
export function noFunding(instruments: number): FundingModel {
  return new TableFundingModel(Array.from({ length: instruments }, () => null), { kind: 'zero' });
}

/** Funding table from `[iso time, rate]` pairs. */
export function fundingTable(rows: readonly (readonly [string, number])[]): { ts: Float64Array; rate: Float64Array } {
  return { ts: Float64Array.from(rows, ([t]) => Date.parse(t)), rate: Float64Array.from(rows, ([, r]) => r) };
}

/** A bar backtest spec with test defaults (cash 10 000, leverage 10, no slippage, no funding) and `overrides`. */
export function backtestSpec(frame: BarFrame, instruments: readonly Instrument[], overrides: Partial<BacktestSpec> = {}): BacktestSpec {
  return {
    name: 'test',
    instruments,
    frame,
    initialCash: 10_000,
    leverage: 10,
    slippage: new FixedBpsSlippage(0),
    funding: noFunding(instruments.length),
    periodsPerYear: 2190,
    dataSources: instruments.map((x, i) => ({ instrument: x.id, venue: frame.venue, symbol: frame.symbols[i]!, timeframe: frame.timeframe })),
    seed: 0,
    config: {},
    ...overrides,
  };
}

/** What a scripted strategy does at the close of bar `index` of instrument `bar.instrument`. */
export type BarScript = Readonly<Record<number, (ctx: StrategyContext, bar: BarEvent) => void>>;

/**
 * A strategy that runs `script[bar.index]` at each bar close (for every instrument; check `bar.instrument` when it
 * matters) and records what it saw after each bar in `seen`.
 */
export function scriptStrategy(script: BarScript): Strategy & { seen: { index: number; instrument: number; position: number; entry: number; equity: number; openOrders: number }[] } {
  const seen: { index: number; instrument: number; position: number; entry: number; equity: number; openOrders: number }[] = [];
  return {
    name: 'test',
    seen,
    onBar(ctx, bar) {
      seen.push({ index: bar.index, instrument: bar.instrument, position: ctx.position(bar.instrument), entry: ctx.averageEntryPrice(bar.instrument), equity: ctx.equity(), openOrders: ctx.openOrders(bar.instrument).length });
      script[bar.index]?.(ctx, bar);
    },
  };
}

/**
 * The client order id the kernel gives the `sequence`-th order a scripted strategy (name `test`, run `bt`) sends
 * for `instrument` at the close `iso` (the decision time).
 */
export function testOrderId(iso: string, sequence = 0, instrument = 0): string {
  return formatClientOrderId({ run: 'bt', strategy: 'test', instrument, time: Date.parse(iso), sequence });
}

/** Epoch ms of an ISO time (shorthand). */
export const at = (iso: string): number => Date.parse(iso);
