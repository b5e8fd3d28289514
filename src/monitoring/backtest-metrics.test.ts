import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BacktestResult } from '../backtest/backtest-result.js';
import { TableFundingModel } from '../backtest/execution-models.js';
import { runBacktest } from '../backtest/run-backtest.js';
import { backtestSpec, fundingTable, scriptStrategy, testInstrument } from '../../test/support/engine-scenarios.js';
import { makeFrame } from '../../test/support/frames.js';
import { promtool } from '../../test/support/promtool.js';
import { backtestMetrics, writeBacktestMetrics, type BacktestMetricsSource } from './backtest-metrics.js';

const X = testInstrument();
const frame = makeFrame({
  timeframe: '4h',
  start: '2023-12-31T16:00:00Z',
  bars: [
    [100, 100, 100, 100, 1000],
    [100, 102, 99, 101, 1000],
    [101, 103, 100, 102, 1000],
    [102, 105, 101, 104, 1000],
    [104, 106, 103, 105, 1000],
    [105, 111, 104, 110, 1000],
    [110, 111, 107, 108, 1000],
  ],
});

/** Long 2 at b1's open, add 1 at b3's open, sell 1.5 at b4's open (partial close), hold the rest to the end. */
function run(): BacktestResult {
  const funding = new TableFundingModel([fundingTable([['2024-01-01T00:00:00Z', 0.0001], ['2024-01-01T08:00:00Z', -0.0002], ['2024-01-01T16:00:00Z', 0.0003]])], { kind: 'zero' });
  const strategy = scriptStrategy({
    0: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 2 }),
    2: (ctx) => ctx.submitOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 1 }),
    3: (ctx) => ctx.submitOrder({ instrument: 0, side: 'sell', type: 'market', quantity: 1.5 }),
  });
  return runBacktest(backtestSpec(frame, [X], { funding }), strategy);
}

const dir = mkdtempSync(join(tmpdir(), 'tm-backtest-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('backtest metrics export', () => {
  it('a real BacktestResult is a BacktestMetricsSource', () => {
    const source: BacktestMetricsSource = run();
    expect(source.fills.length).toBe(3);
  });

  it('replays the run: counters match the result, and balance + unrealised PnL reproduces the final equity', async () => {
    const result = run();
    const m = backtestMetrics(result, { version: '0.1.0' });
    const families = await m.registry.getMetricsAsJSON();
    const value = (name: string, labels: Record<string, string> = {}) =>
      families.find((f) => f.name === name)!.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
    const sum = (name: string) => families.find((f) => f.name === name)!.values.reduce((s, v) => s + v.value, 0);
    const last = result.equity.value.length - 1;

    expect(sum('trade_matrix_fills_total')).toBe(result.fills.length);
    expect(sum('trade_matrix_fees_paid_usdt_total')).toBeCloseTo(result.feesPaid, 9);
    expect(sum('trade_matrix_turnover_usdt_total')).toBeCloseTo(result.turnoverNotional, 9);
    expect(sum('trade_matrix_funding_paid_usdt')).toBeCloseTo(result.fundingPaid, 9);
    expect(result.fundingPaid).not.toBe(0);
    expect(sum('trade_matrix_bars_processed_total')).toBe(frame.ts.length);
    expect(value('trade_matrix_equity_usdt')).toBe(result.equity.value[last]);
    expect(value('trade_matrix_peak_equity_usdt')).toBe(Math.max(...result.equity.value));
    expect(value('trade_matrix_position_quantity_base')).toBeCloseTo(1.5, 12);
    expect(value('trade_matrix_position_quantity_base')).toBeCloseTo(result.bars[0]!.position.at(-1)!, 12);
    expect(value('trade_matrix_runner_info', { mode: 'backtest', runner: 'test' })).toBe(1);
    // By hand (no slippage): bought 2 at 100 and 1 at 102 (entry 302/3), sold 1.5 at 104: realised 1.5 × (104 − 302/3) = 5.
    expect(value('trade_matrix_position_entry_price_usdt')).toBeCloseTo(302 / 3, 9);
    expect(sum('trade_matrix_realised_pnl_usdt')).toBeCloseTo(5, 9);
    expect(sum('trade_matrix_unrealised_pnl_usdt')).toBeCloseTo(1.5 * (108 - 302 / 3), 9);
    const balance = value('trade_matrix_balance_usdt')!;
    expect(balance).toBeCloseTo(10_000 + 5 - result.feesPaid - result.fundingPaid, 9);
    // The account's gauges agree with the engine's equity curve: balance + unrealised PnL = the last equity.
    expect(balance + sum('trade_matrix_unrealised_pnl_usdt')).toBeCloseTo(result.equity.value[last]!, 6);
  });

  it('writes a text file that promtool accepts', async () => {
    const path = join(dir, 'backtest.prom');
    const text = await writeBacktestMetrics(run(), path, { version: '0.1.0', strategy: 'scripted' });
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(text).toContain('trade_matrix_equity_usdt{strategy="scripted"}');
    const check = promtool(['check', 'metrics'], text);
    expect(check.output).toBe('');
    expect(check.status).toBe(0);
  });
});
