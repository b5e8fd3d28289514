import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backtestSpec } from '../../test/support/engine-scenarios.js';
import { InstrumentFeeModel } from '../backtest/execution-models.js';
import { computeMetrics } from '../backtest/metrics.js';
import { runBacktest, type BacktestSpec } from '../backtest/run-backtest.js';
import { BYBIT_LINEAR_PERPETUALS } from '../core/instrument.js';
import { normalDraw, seededRandom } from '../core/random.js';
import { HOUR_MS } from '../core/time.js';
import type { BarFrame } from '../data/index.js';
import { buyAndHold, signalColumn, smaCrossover, STRATEGIES } from './index.js';
import { TrancheBook } from './signal-column.js';

const STEP = 4 * HOUR_MS;
const STRATEGY_DIR = import.meta.dirname;

/** A hand-made one-symbol frame (not market data) following `close`. */
function frame(close: number[]): BarFrame {
  const n = close.length;
  const c = Float64Array.from(close);
  const o = Float64Array.from(close, (x, k) => (k === 0 ? x : close[k - 1]!));
  return {
    venue: 'test',
    timeframe: '4h',
    symbols: ['BTCUSDT'],
    ts: Float64Array.from({ length: n }, (_, k) => Date.UTC(2024, 0, 1) + k * STEP),
    open: [o],
    high: [Float64Array.from(c, (x, k) => Math.max(x, o[k]!))],
    low: [Float64Array.from(c, (x, k) => Math.min(x, o[k]!))],
    close: [c],
    volume: [new Float64Array(n).fill(1000)],
    present: [new Uint8Array(n).fill(1)],
    missing: { policy: 'error', filled: [0] },
  };
}

function spec(f: BarFrame, columns?: BacktestSpec['columns']): BacktestSpec {
  return backtestSpec(f, [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!], { name: 't', leverage: 2, dataSources: [], seed: 1, ...(columns ? { columns } : {}) });
}

const upThenDown = [...Array.from({ length: 40 }, (_, k) => 100 + k), ...Array.from({ length: 60 }, (_, k) => 139 - 2 * k)];

describe('strategies (src/strategies)', () => {
  it('registry names match the module files', () => {
    const files = readdirSync(STRATEGY_DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !['index.ts', 'shared.ts'].includes(f));
    expect(Object.keys(STRATEGIES).sort()).toEqual(files.map((f) => f.replace(/\.ts$/, '')).sort());
  });

  it('experiments/ holds configs and baselines only: no TypeScript (strategies live in src/strategies)', () => {
    const experiments = join(import.meta.dirname, '..', '..', 'experiments');
    const code = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? code(join(dir, e.name)) : /\.(ts|js|mjs|cjs)$/.test(e.name) ? [join(dir, e.name)] : []));
    expect(code(experiments)).toEqual([]);
  });

  it('validate params with their schemas, naming the parameter and value', () => {
    expect(() => smaCrossover({ fast: 20, slow: 10 })).toThrow('strategy sma-crossover: $.params.slow: must be greater than fast, was 10');
    expect(() => smaCrossover({ fats: 3 })).toThrow('$.params.fats: unknown parameter "fats" of strategy sma-crossover');
    expect(() => buyAndHold({ allocation: -1 })).toThrow(/\$\.params\.allocation: .*was -1/);
    expect(() => signalColumn({ threshold: 'high' })).toThrow(/\$\.params\.threshold: .*was "high"/);
    expect(() => smaCrossover({ fast: 20, slow: 10 })).toThrow(expect.objectContaining({ code: 'invalid_strategy_params', context: expect.objectContaining({ path: '$.params.slow' }) }));
    expect(smaCrossover(undefined).name).toBe('sma-crossover');
  });

  it('buy-and-hold buys once and holds', () => {
    const r = runBacktest(spec(frame(upThenDown)), buyAndHold({ allocation: 0.5 }));
    expect(r.fills).toHaveLength(1);
    expect(r.fills[0]!.side).toBe('buy');
    expect(r.fills[0]!.quantity).toBeCloseTo(50, 9);
    expect(r.bars[0]!.position.at(-1)).toBeCloseTo(50, 9);
  });

  it('sma-crossover goes long on the way up and short on the way down (flat without allowShort)', () => {
    const params = { fast: 3, slow: 10, allocation: 0.5 };
    const long = runBacktest(spec(frame(upThenDown)), smaCrossover({ ...params, allowShort: true }));
    const pos = long.bars[0]!.position;
    expect(pos[20]).toBeGreaterThan(0);
    expect(pos[99]).toBeLessThan(0);
    const flat = runBacktest(spec(frame(upThenDown)), smaCrossover({ ...params, allowShort: false })).bars[0]!.position;
    expect(flat[20]).toBeGreaterThan(0);
    expect(flat[99]).toBe(0);
    expect(Math.min(...flat)).toBe(0);
  });

  it('signal-column follows the column: long above +threshold, short below -threshold, flat between or on NaN', () => {
    const close = Array.from({ length: 12 }, () => 100);
    const signal = Float64Array.of(NaN, 0.5, 0.5, 0.05, -0.5, -0.5, NaN, 0.2, 0.2, 0.2, -0.01, -0.01);
    const r = runBacktest(spec(frame(close), { signal: [signal] }), signalColumn({ threshold: 0.1, allocation: 0.5 }));
    // Orders placed at bar k's close fill at bar k+1's open, so the position at close k+1 reflects signal k.
    const dir = Array.from(r.bars[0]!.position, Math.sign);
    expect(dir).toEqual([0, 0, 1, 1, 0, -1, -1, 0, 1, 1, 1, 0]);
  });

  it('TrancheBook: tranche k mod N is re-decided, an unchanged direction rolls over, the target is the sum', () => {
    const book = new TrancheBook(3);
    // (wanted, size) → tranches after the call → target
    expect(book.decide(1, 10)).toBe(10); // [+10, 0, 0]
    expect(book.decide(1, 11)).toBe(21); // [+10, +11, 0]
    expect(book.decide(-1, 12)).toBe(9); // [+10, +11, −12]
    expect(book.decide(1, 99)).toBe(9); // tranche 0 stays long: kept at +10 (not resized to 99)
    expect(book.decide(0, 99)).toBe(-2); // tranche 1 flat: [+10, 0, −12]
    expect(book.decide(1, 5)).toBe(15); // tranche 2 long: [+10, 0, +5]
    expect(book.decide(-1, 4)).toBe(1); // tranche 0 short: [−4, 0, +5]
  });

  it('signal-column holding.tranches 3: hand-computed positions (allocation 0.3 → three tranches of 10 BTC at 100, no fees)', () => {
    const close = Array.from({ length: 10 }, () => 100);
    const signal = Float64Array.of(1, 1, -1, 1, 1, 1, -1, NaN, 1, 1);
    const zeroFee = { fees: new InstrumentFeeModel({ maker: 0, taker: 0 }) };
    const run = (tranches: number) => runBacktest({ ...spec(frame(close), { signal: [signal] }), ...zeroFee }, signalColumn({ allocation: 0.3, holding: { tranches } }));
    const r = run(3);
    // equity stays 10,000 (flat prices, no fees, no slippage): tranche size 0.1 × 10,000 / 100 = 10
    // close k decides tranche k mod 3; targets 10, 20, 10, 10 (t0 kept), 10 (t1 kept), 30 (t2 − → +), 10 (t0 + → −),
    // 0 (t1 + → flat), 0 (t2 kept +), 10 (t0 − → +); the position at close k+1 is the target of close k
    expect(Array.from(r.bars[0]!.position)).toEqual([0, 10, 20, 10, 10, 10, 30, 10, 0, 0]);
    expect(r.fills.map((f) => (f.side === 'buy' ? f.quantity : -f.quantity))).toEqual([10, 10, -10, 20, -20, -10]);
    // tranches: 1 is the one-position policy (re-decided every bar): ±30 on every direction change
    expect(Array.from(run(1).bars[0]!.position)).toEqual([0, 30, 30, -30, 30, 30, 30, -30, 0, 30]);
  });

  it('signal-column holding.tranches 6 on a noisy 6-bar forecast: far fewer round trips and less turnover than re-deciding every bar', () => {
    // a slow component plus noise (as a 6-bar forecast whose sign flips on noise), over a random walk, with fees
    const random = seededRandom(11);
    const n = 1200;
    const close: number[] = [];
    let p = 100;
    for (let t = 0; t < n; t++) close.push((p *= Math.exp(0.01 * normalDraw(random))));
    const signal = Float64Array.from({ length: n }, (_, t) => 0.6 * Math.sin((2 * Math.PI * t) / 90) + normalDraw(random));
    const metrics = (tranches: number) => computeMetrics(runBacktest(spec(frame(close), { signal: [signal] }), signalColumn({ allocation: 0.3, holding: { tranches } })));
    const every = metrics(1), held = metrics(6);
    // measured: 506 vs 135 round trips, turnover 304 vs 55; the fills stay about as many (507 vs 547): a tranche
    // change is a small order of allocation / 6
    expect(every.tradeCount).toBeGreaterThan(300);
    expect(held.tradeCount).toBeLessThan(every.tradeCount / 3);
    expect(held.turnover).toBeLessThan(every.turnover / 3);
    expect(held.feesPaid).toBeLessThan(every.feesPaid / 3);
  });

  it('signal-column refuses holding.tranches outside 1..1000', () => {
    expect(() => signalColumn({ holding: { tranches: 0 } })).toThrow(/\$\.params\.holding\.tranches: .*was 0/);
    expect(() => signalColumn({ holding: { bars: 6 } })).toThrow('$.params.holding.bars: unknown parameter "bars" of strategy signal-column');
  });

  it('signal-column refuses to run without its column', () => {
    expect(() => runBacktest(spec(frame([1, 2, 3])), signalColumn({}))).toThrow('strategy signal-column: column "signal" is not provided');
  });
});
