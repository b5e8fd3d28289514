import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedBpsSlippage, TableFundingModel } from '../../src/backtest/execution-models.js';
import type { BacktestResult } from '../../src/backtest/backtest-result.js';
import { runBacktest } from '../../src/backtest/run-backtest.js';
import { BYBIT_LINEAR_PERPETUALS } from '../../src/core/instrument.js';
import type { BarFrame } from '../../src/data/bar-frame.js';
import { importPath, loadBars, MarketStore } from '../../src/data/index.js';
import type { Strategy } from '../../src/engine/strategy.js';
import { sharedDataDir } from '../support/shared-data.js';

/**
 * Differential test (STYLE.md §5): an SMA-crossover strategy run through the event engine (`runBacktest`) against an
 * independent array computation of the same rules, written below without any engine or backtest code.
 *
 * Rules both sides implement:
 * - bars: Binance spot 4h closes of BTC, ETH, SOL, 2022-01-01 ≤ open time < 2025-09-01, traded with Bybit USDT-perp rules
 *   (lot 0.001 / 0.01 / 0.1, min notional 5, taker 0.055 %);
 * - signal at each bar close t (from t = 49): +1 when SMA20(close) > SMA50(close), else −1;
 * - target = signal × floor(0.3 × equity / close / lot + 1e-9) × lot, equity at that close (after funding);
 * - the difference target − position is sent as a market order and fills at the next bar's open × (1 ± 2 bp),
 *   after flooring to the lot, unless its notional is below 5 USDT; fee = quantity × fill price × 0.00055;
 * - funding at bar closes on the 00/08/16 UTC grid: payment = position × close × rate (positive = paid), rates from the
 *   Binance USDT-M funding files for BTC and ETH, a constant 0.0001 for SOL (and for any settlement missing from a table);
 * - equity = cash + Σ position × close.
 * The engine sizes from cash + Σ q (mark − average entry); the reference from cash + Σ q × close with cash carrying the
 * full traded notional. They agree to rounding; floor() boundaries are assumed not to be hit within that rounding.
 */

const FAST = 20;
const SLOW = 50;
const FRACTION = 0.3;
const SLIPPAGE_BPS = 2;
const FALLBACK_RATE = 0.0001;
const INITIAL_CASH = 10_000;
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'] as const;
const START = Date.parse('2022-01-01T00:00:00Z');
const END = Date.parse('2025-09-01T00:00:00Z');
const BAR_MS = 4 * 3_600_000;
const SETTLEMENT_MS = 8 * 3_600_000;

interface FundingTable {
  ts: Float64Array;
  rate: Float64Array;
}

// ---------------------------------------------------------------------------------------------------------------
// Engine side
// ---------------------------------------------------------------------------------------------------------------

/** Mean of `values[end − window .. end − 1]`, summed oldest first. */
function trailingMean(values: Float64Array, end: number, window: number): number {
  let s = 0;
  for (let k = end - window; k < end; k++) s += values[k]!;
  return s / window;
}

const smaCrossover: Strategy = {
  name: 'sma-crossover',
  onBar(ctx, bar) {
    const i = bar.instrument;
    const h = ctx.history(i);
    if (h.length < SLOW) return;
    const signal = trailingMean(h.close, h.length, FAST) > trailingMean(h.close, h.length, SLOW) ? 1 : -1;
    const target = signal * ctx.roundQuantity(i, (FRACTION * ctx.equity()) / bar.close);
    const diff = target - ctx.position(i);
    if (diff !== 0) ctx.submitOrder({ instrument: i, side: diff > 0 ? 'buy' : 'sell', type: 'market', quantity: Math.abs(diff) });
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Reference side: plain arrays, no engine code.
// ---------------------------------------------------------------------------------------------------------------

interface ReferenceFill {
  instrument: number;
  ts: number;
  side: 'buy' | 'sell';
  quantity: number;
  price: number;
  fee: number;
}

interface Reference {
  positions: Float64Array[];
  equity: Float64Array;
  fills: ReferenceFill[];
  fees: number;
  funding: number;
  fundingBySymbol: number[];
  fallbackCount: number[];
}

function referenceBacktest(ts: Float64Array, open: readonly Float64Array[], close: readonly Float64Array[], lots: readonly number[], tables: readonly (FundingTable | null)[]): Reference {
  const T = ts.length;
  const n = open.length;
  const takerFee = 0.00055;
  const minNotional = 5;
  const floorLots = (q: number, lot: number) => Math.floor(q / lot + 1e-9) * lot;

  // Vectorized SMAs (NaN before enough bars), summed oldest first like the strategy.
  const sma = (c: Float64Array, w: number) => {
    const out = new Float64Array(T).fill(NaN);
    for (let t = w - 1; t < T; t++) {
      let s = 0;
      for (let k = t - w + 1; k <= t; k++) s += c[k]!;
      out[t] = s / w;
    }
    return out;
  };
  const fast = close.map((c) => sma(c, FAST));
  const slow = close.map((c) => sma(c, SLOW));
  const rateAt = tables.map((tb) => new Map(tb ? Array.from(tb.ts, (t, k) => [t, tb.rate[k]!] as const) : []));

  let cash = INITIAL_CASH;
  const pos = new Float64Array(n);
  const pending = new Float64Array(n);
  const positions = Array.from({ length: n }, () => new Float64Array(T));
  const equity = new Float64Array(T);
  const fills: ReferenceFill[] = [];
  let fees = 0;
  const fundingBySymbol = new Array<number>(n).fill(0);
  const fallbackCount = new Array<number>(n).fill(0);

  for (let t = 0; t < T; t++) {
    // 1. orders from the previous close fill at this open
    for (let i = 0; i < n; i++) {
      const want = pending[i]!;
      pending[i] = 0;
      if (want === 0) continue;
      const quantity = floorLots(Math.abs(want), lots[i]!);
      if (quantity < lots[i]! - 1e-12) continue;
      const side = want > 0 ? 'buy' : 'sell';
      const price = open[i]![t]! * (side === 'buy' ? 1 + SLIPPAGE_BPS * 1e-4 : 1 - SLIPPAGE_BPS * 1e-4);
      if (quantity * price < minNotional) continue;
      const fee = quantity * price * takerFee;
      const signed = side === 'buy' ? quantity : -quantity;
      cash -= signed * price + fee;
      pos[i] = pos[i]! + signed;
      fees += fee;
      fills.push({ instrument: i, ts: ts[t]!, side, quantity, price, fee });
    }
    // 2. funding at closes on the 8h grid, marked at the close
    const closeTs = ts[t]! + BAR_MS;
    if (closeTs % SETTLEMENT_MS === 0) {
      for (let i = 0; i < n; i++) {
        if (pos[i] === 0) continue;
        let rate = rateAt[i]!.get(closeTs);
        if (rate === undefined) {
          rate = FALLBACK_RATE;
          fallbackCount[i]!++;
        }
        const payment = pos[i]! * close[i]![t]! * rate;
        cash -= payment;
        fundingBySymbol[i]! += payment;
      }
    }
    // 3. equity at the close
    let e = cash;
    for (let i = 0; i < n; i++) e += pos[i]! * close[i]![t]!;
    equity[t] = e;
    for (let i = 0; i < n; i++) positions[i]![t] = pos[i]!;
    // 4. targets → orders for the next open
    for (let i = 0; i < n; i++) {
      if (!(slow[i]![t]! === slow[i]![t]!)) continue;
      const signal = fast[i]![t]! > slow[i]![t]! ? 1 : -1;
      const target = signal * floorLots((FRACTION * e) / close[i]![t]!, lots[i]!);
      pending[i] = target - pos[i]!;
    }
  }
  return { positions, equity, fills, fees, funding: fundingBySymbol.reduce((a, b) => a + b, 0), fundingBySymbol, fallbackCount };
}

// ---------------------------------------------------------------------------------------------------------------

const relativeError = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);

describe('engine parity: SMA crossover on Binance spot 4h 2022-01-01..2025-09-01 (BTC, ETH, SOL)', () => {
  const dir = sharedDataDir();
  let store: MarketStore;
  let frame: BarFrame;
  let tables: (FundingTable | null)[];
  let result: BacktestResult;
  let reference: Reference;

  beforeAll(async () => {
    store = await MarketStore.open(':memory:');
    await importPath(store, join(dir, 'binance-spot'));
    for (const s of ['BTCUSDT', 'ETHUSDT']) await importPath(store, join(dir, 'binance-futures', `${s}-funding.csv.gz`));
    frame = await loadBars(store, { venue: 'binance-spot', symbols: [...SYMBOLS], timeframe: '4h', start: START, end: END, missing: 'error' });
    const fundingOf = async (symbol: string): Promise<FundingTable> => {
      const rows = await store.query(`SELECT epoch_ms(ts)::DOUBLE AS ts, rate FROM funding_rates WHERE venue = 'binance-futures' AND symbol = ? ORDER BY ts`, [symbol]);
      return { ts: Float64Array.from(rows, (r) => Number(r['ts'])), rate: Float64Array.from(rows, (r) => Number(r['rate'])) };
    };
    // SOL: an empty table, so every SOL settlement takes the constant fallback.
    tables = [await fundingOf('BTCUSDT'), await fundingOf('ETHUSDT'), { ts: new Float64Array(0), rate: new Float64Array(0) }];

    const instruments = SYMBOLS.map((s) => BYBIT_LINEAR_PERPETUALS[s]!);
    result = runBacktest(
      {
        name: 'sma-crossover-parity',
        instruments,
        frame,
        initialCash: INITIAL_CASH,
        leverage: 5,
        slippage: new FixedBpsSlippage(SLIPPAGE_BPS),
        funding: new TableFundingModel(tables, { kind: 'constant', rate: FALLBACK_RATE }),
        periodsPerYear: 2190,
        dataSources: instruments.map((x, i) => ({ instrument: x.id, venue: 'binance-spot', symbol: SYMBOLS[i]!, timeframe: '4h', note: 'Bybit perp rules on Binance spot prices' })),
        seed: 0,
        config: { fast: FAST, slow: SLOW, fraction: FRACTION },
      },
      smaCrossover,
    );
    reference = referenceBacktest(frame.ts, frame.open, frame.close, instruments.map((x) => x.lotSize), tables);
  }, 120_000);
  afterAll(() => store?.close());

  it('loads the expected data (guards the test itself)', () => {
    // 2022-01-01 .. 2025-08-31T20:00 = 1339 days × 6 bars
    expect(frame.ts.length).toBe(1339 * 6);
    expect(frame.ts[0]).toBe(START);
    expect(frame.close[0]![0]).toBeGreaterThan(40_000); // BTC ≈ 46 000 on 2022-01-01
    expect(tables[0]!.ts.length).toBeGreaterThan(6000);
    expect(tables[1]!.ts.length).toBeGreaterThan(6000);
  });

  it('trades a lot and never hits a margin rejection or liquidation (the reference models neither)', () => {
    expect(result.fills.length).toBeGreaterThan(1000);
    expect(result.liquidations).toBe(0);
    expect(result.notes.filter((n) => /insufficient margin|liquidation/.test(n))).toEqual([]);
  });

  it('holds exactly the same positions at every bar close', () => {
    for (let i = 0; i < SYMBOLS.length; i++) {
      const engine = result.bars[i]!.position;
      const ref = reference.positions[i]!;
      const first = engine.findIndex((q, t) => q !== ref[t]);
      expect(first, `${SYMBOLS[i]} first differing bar`).toBe(-1);
    }
  });

  it('makes the same fills (time, side, quantity, price exactly; fee to 1e-12 relative)', () => {
    expect(result.fills.length).toBe(reference.fills.length);
    const ids = result.instruments;
    for (let k = 0; k < reference.fills.length; k++) {
      const e = result.fills[k]!;
      const r = reference.fills[k]!;
      expect([e.instrument, e.ts, e.side, e.quantity, e.price], `fill ${k}`).toEqual([ids[r.instrument], r.ts, r.side, r.quantity, r.price]);
      expect(relativeError(e.fee, r.fee)).toBeLessThan(1e-12);
    }
  });

  it('pays the same fees and funding, and ends with the same equity (1e-9 relative)', () => {
    expect(relativeError(result.feesPaid, reference.fees)).toBeLessThan(1e-9);
    expect(relativeError(result.fundingPaid, reference.funding)).toBeLessThan(1e-9);
    for (let i = 0; i < SYMBOLS.length; i++) {
      const engine = result.funding.filter((f) => f.instrument === result.instruments[i]).reduce((a, f) => a + f.payment, 0);
      expect(relativeError(engine, reference.fundingBySymbol[i]!), SYMBOLS[i]).toBeLessThan(1e-9);
    }
    const T = frame.ts.length;
    expect(relativeError(result.equity.value[T - 1]!, reference.equity[T - 1]!)).toBeLessThan(1e-9);
    let worst = 0;
    for (let t = 0; t < T; t++) worst = Math.max(worst, relativeError(result.equity.value[t]!, reference.equity[t]!));
    expect(worst).toBeLessThan(1e-9);
  });

  it('reports the funding fallback: every SOL settlement, and for BTC/ETH only the 2025-09-01 one past their tables', () => {
    // The BTC and ETH tables end at 2025-08-31T16:00 (hold-out rule); the last bar closes at 2025-09-01T00:00.
    expect(reference.fallbackCount.slice(0, 2)).toEqual([1, 1]);
    // SOL: 8034 closes (04:00 2022-01-01 .. 00:00 2025-09-01), every second one on the 8h grid = 4017 settlements,
    // minus the 25 before the first position (filled at the open of bar 50, 2022-01-09T08:00; first payment 16:00) = 3992.
    expect(reference.fallbackCount[2]).toBe(3992);
    const notes = result.notes.filter((n) => n.startsWith('funding fallback'));
    const tail = 'had no funding data; applied a constant rate of 0.0001 per 8h';
    expect(notes).toEqual([
      `funding fallback for BTCUSDT-LINEAR.BYBIT: 1 settlements from 2025-09-01T00:00:00.000Z to 2025-09-01T00:00:00.000Z ${tail}`,
      `funding fallback for ETHUSDT-LINEAR.BYBIT: 1 settlements from 2025-09-01T00:00:00.000Z to 2025-09-01T00:00:00.000Z ${tail}`,
      `funding fallback for SOLUSDT-LINEAR.BYBIT: 3992 settlements from 2022-01-09T16:00:00.000Z to 2025-09-01T00:00:00.000Z ${tail}`,
    ]);
  });
});
