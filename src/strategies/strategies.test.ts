import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backtestSpec } from '../../test/support/engine-scenarios.js';
import { runBacktest, type BacktestSpec } from '../backtest/run-backtest.js';
import { BYBIT_LINEAR_PERPETUALS } from '../core/instrument.js';
import { HOUR_MS } from '../core/time.js';
import type { BarFrame } from '../data/index.js';
import { buyAndHold, signalColumn, smaCrossover, STRATEGIES } from './index.js';

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

  it('signal-column refuses to run without its column', () => {
    expect(() => runBacktest(spec(frame([1, 2, 3])), signalColumn({}))).toThrow('strategy signal-column: column "signal" is not provided');
  });
});
