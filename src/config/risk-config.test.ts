import { describe, expect, it } from 'vitest';
import { runBacktest } from '../backtest/run-backtest.js';
import { backtestSpec, testInstrument } from '../../test/support/engine-scenarios.js';
import { makeFrame } from '../../test/support/frames.js';
import type { Kernel } from '../engine/kernel.js';
import { parseBacktestConfig, type BacktestConfigInput } from './backtest-config.js';

const base = {
  name: 'risky',
  strategy: 'sma-crossover',
  data: { venue: 'binance-spot', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-01-01', end: '2024-02-01' },
  slippage: { model: 'fixed', bps: 1 },
} satisfies BacktestConfigInput;

function parse(risk: unknown) {
  return parseBacktestConfig({ ...base, risk }, 'risky.json');
}

describe('experiment config: risk', () => {
  it('is absent unless given (no limits: existing experiments are unchanged)', () => {
    const r = parseBacktestConfig(base, 'risky.json');
    expect(r.success && r.data.risk).toBe(undefined);
    expect(r.success && Object.hasOwn(r.data, 'risk')).toBe(false);
  });

  it('an empty block gets the emulated system’s drawdown rule (5 %, then REDUCING) and nothing else', () => {
    const r = parse({});
    expect(r.success && r.data.risk).toEqual({ maxDrawdown: 0.05, drawdownState: 'REDUCING' });
    const off = parse({ maxDrawdown: null });
    expect(off.success && off.data.risk).toEqual({ maxDrawdown: null, drawdownState: 'REDUCING' });
  });

  it('takes every limit', () => {
    const risk = { maxOrderNotional: 50_000, maxInstrumentNotional: 100_000, maxLeverage: 3, maxDailyLoss: 0.03, maxDrawdown: 0.1, drawdownState: 'HALTED', throttle: { maxOrders: 10, windowMs: 60_000 } };
    const r = parse(risk);
    expect(r.success && r.data.risk).toEqual(risk);
  });

  it('names the path and the problem of a bad value or an unknown key', () => {
    const bad = (risk: unknown) => {
      const r = parse(risk);
      if (r.success) throw new Error('expected a failure');
      return r.error.message;
    };
    expect(bad({ maxLeverage: -1 })).toMatch(/^risky\.json: \$\.risk\.maxLeverage: /);
    expect(bad({ maxDailyLoss: 1.5 })).toMatch(/^risky\.json: \$\.risk\.maxDailyLoss: /);
    expect(bad({ maxOrderNotionl: 5 })).toMatch(/^risky\.json: \$\.risk.*maxOrderNotionl/);
    expect(bad({ throttle: { maxOrders: 2 } })).toMatch(/^risky\.json: \$\.risk\.throttle\.windowMs: /);
    expect(bad({ drawdownState: 'ACTIVE' })).toMatch(/^risky\.json: \$\.risk\.drawdownState: /);
  });

  it('the parsed block drives runBacktest: orders past a limit are denied, the drawdown flattens', () => {
    const r = parse({ maxOrderNotional: 5000, maxDrawdown: 0.05 });
    if (!r.success) throw r.error;
    const bars = Array.from({ length: 6 }, (_, k) => (k < 3 ? 100 : 90)).map((c) => [c, c, c, c, 1e6] as const);
    const frame = makeFrame({ timeframe: '4h', start: '2024-01-01T00:00:00Z', bars });
    const statuses: string[] = [];
    const result = runBacktest(backtestSpec(frame, [testInstrument()], { risk: r.data.risk }), {
      name: 'test',
      onBar(ctx, bar) {
        if (bar.index !== 0) return;
        for (const quantity of [50.001, 50]) statuses.push(ctx.order(ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity }))!.status);
        statuses.push((ctx as Kernel).tradingState);
      },
    });
    expect(statuses).toEqual(['REJECTED', 'SUBMITTED', 'ACTIVE']);
    expect(result.risk!.denials).toEqual({ max_order_notional: 1 });
    expect(result.risk!.stateChanges.map((c) => [c.to, c.trigger])).toEqual([['REDUCING', 'max_drawdown']]);
    expect(result.bars[0]!.position[frame.ts.length - 1]).toBe(0);
  });
});
