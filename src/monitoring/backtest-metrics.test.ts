import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BacktestResult } from '../backtest/backtest-result.js';
import { TableFundingModel } from '../backtest/execution-models.js';
import { runBacktest } from '../backtest/run-backtest.js';
import { backtestSpec, fundingTable, scriptStrategy, testInstrument } from '../../test/support/engine-scenarios.js';
import { makeFrame } from '../../test/support/frames.js';
import { readMetrics } from '../../test/support/metric-values.js';
import { promtool } from '../../test/support/promtool.js';
import { AppError } from '../core/app-error.js';
import { backtestMetrics, writeBacktestMetrics, writeExpositionFile, type BacktestMetricsOptions, type BacktestMetricsSource } from './backtest-metrics.js';

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

/** The exported families of `source`, read for exact checks (test/support/metric-values.ts). */
const exported = (source: BacktestMetricsSource, options: BacktestMetricsOptions = { version: '0.1.0' }) => readMetrics(backtestMetrics(source, options));

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
  it('counts only the bars an instrument had: a grid row without its bar is not processed, and its last close marks it', async () => {
    // B has no bar at the last two grid times (NaN, as an aligned frame holds them): the engine never saw those rows.
    const series = [0, 1].map((k) => Array.from({ length: 7 }, (_, t): [number, number, number, number, number] => [100 + k + t, 100 + k + t, 100 + k + t, 100 + k + t, 10]));
    const ragged = makeFrame({ timeframe: '4h', start: '2023-12-31T16:00:00Z', series });
    for (const t of [5, 6]) {
      ragged.present[1]![t] = 0;
      for (const column of [ragged.open, ragged.high, ragged.low, ragged.close, ragged.volume]) column[1]![t] = NaN;
    }
    const strategy = scriptStrategy({ 0: (ctx, bar) => void (bar.instrument === 1 && ctx.submitOrder({ instrument: 1, side: 'buy', type: 'market', quantity: 2 })) });
    const result = runBacktest(backtestSpec(ragged, [X, testInstrument({ symbol: 'OTHERUSDT' })]), strategy);
    expect(result.bars[1]!.present).toEqual(Uint8Array.of(1, 1, 1, 1, 1, 0, 0));
    const { value } = await exported(result);
    const B = { instrument: 'OTHERUSDT-LINEAR.TEST' };
    expect(value('trade_matrix_bars_processed_total', { instrument: X.id })).toBe(7);
    expect(value('trade_matrix_bars_processed_total', B)).toBe(5);
    // B's last bar: the one at 2024-01-01T08:00 (close 105), closing at 12:00.
    expect(value('trade_matrix_market_price_usdt', B)).toBe(105);
    expect(value('trade_matrix_last_bar_close_timestamp_seconds', B)).toBe(Date.parse('2024-01-01T12:00:00Z') / 1000);
    expect(value('trade_matrix_bar_interval_seconds', B)).toBe(4 * 3600);
    // Bought 2 at b1's open 102: unrealised 2 × (105 − 102) at B's mark, and the account adds up to the last equity.
    expect(value('trade_matrix_position_notional_usdt', B)).toBe(210);
    expect(value('trade_matrix_unrealised_pnl_usdt', B)).toBeCloseTo(6, 9);
    const last = result.equity.value[result.equity.value.length - 1]!;
    expect(value('trade_matrix_equity_usdt', { strategy: 'test' })).toBe(last);
    expect(value('trade_matrix_balance_usdt', { strategy: 'test' }) + 6).toBeCloseTo(last, 9);
    expect(value('trade_matrix_gross_exposure_usdt', { strategy: 'test' })).toBe(210);
  });

  it('exports every family it fills from a hand-made result, to hand-computed values', async () => {
    const ts = (iso: string) => Date.parse(iso);
    const source: BacktestMetricsSource = {
      name: 'hand',
      instruments: ['AUSDT', 'BUSDT'],
      initialCash: 1000,
      timeframe: '1h',
      equity: { ts: Float64Array.of(ts('2024-01-01T01:00:00Z'), ts('2024-01-01T02:00:00Z'), ts('2024-01-01T03:00:00Z'), ts('2024-01-01T04:00:00Z')), value: Float64Array.of(1000, 1100, 880, 990) },
      bars: [
        { ts: Float64Array.of(ts('2024-01-01T00:00:00Z'), ts('2024-01-01T01:00:00Z'), ts('2024-01-01T02:00:00Z'), ts('2024-01-01T03:00:00Z')), close: Float64Array.of(10, 11, 12, 13) },
        { ts: Float64Array.of(ts('2024-01-01T00:00:00Z'), ts('2024-01-01T01:00:00Z'), ts('2024-01-01T02:00:00Z'), ts('2024-01-01T03:00:00Z')), close: Float64Array.of(50, 40, 45, 20), present: Uint8Array.of(1, 0, 1, 1) },
      ],
      fills: [
        { instrument: 'AUSDT', clientOrderId: 'o1', side: 'buy', quantity: 4, price: 10, fee: 0.5, liquidity: 'taker' },
        { instrument: 'AUSDT', clientOrderId: 'o1', side: 'buy', quantity: 6, price: 11, fee: 0.25, liquidity: 'maker' },
        { instrument: 'BUSDT', clientOrderId: 'o2', side: 'sell', quantity: 3, price: 50, fee: 1, liquidity: 'taker' },
        { instrument: 'BUSDT', clientOrderId: 'liq-1', side: 'buy', quantity: 1, price: 45, fee: 0, liquidity: 'taker', reason: 'liquidation' },
      ],
      trades: [
        { instrument: 'BUSDT', pnl: 4 },
        { instrument: 'BUSDT', pnl: -2 },
        { instrument: 'AUSDT', pnl: 0 },
      ],
      funding: [
        { instrument: 'AUSDT', payment: 0.5 },
        { instrument: 'BUSDT', payment: -0.25 },
        { instrument: 'AUSDT', payment: -0.125 },
      ],
      positions: [
        { quantity: 10, entryPrice: 10.6, realizedPnl: 0, fees: 0.75, funding: 0.375 },
        { quantity: -2, entryPrice: 50, realizedPnl: 5, fees: 1, funding: -0.25 },
      ],
      annotations: {
        tiers: [
          { instrument: 'AUSDT', tier: 'FULL_RL', reason: 'start' },
          { instrument: 'AUSDT', tier: 'PURE_KELLY', reason: 'drift' },
        ],
        regimeProbabilities: [
          { instrument: 'AUSDT', labels: ['calm', 'storm'], ts: Float64Array.of(1, 2, 3), probabilities: [Float64Array.of(0.9, 0.3, 0.2), Float64Array.of(0.1, 0.7, 0.8)] },
        ],
      },
    };
    const { value, series } = await exported(source, { version: '9.9.9', strategy: 'S' });
    const A = { instrument: 'AUSDT' }, B = { instrument: 'BUSDT' }, S = { strategy: 'S' };
    expect(value('trade_matrix_runner_info', { runner: 'hand', version: '9.9.9', mode: 'backtest' })).toBe(1);
    expect(value('trade_matrix_runner_start_timestamp_seconds')).toBe(ts('2024-01-01T01:00:00Z') / 1000);
    // Orders: one per client order id with fills (o1 filled in two parts counts once).
    expect(value('trade_matrix_orders_submitted_total', { ...A, side: 'buy' })).toBe(1);
    expect(value('trade_matrix_orders_submitted_total', { ...B, side: 'sell' })).toBe(1);
    expect(value('trade_matrix_orders_submitted_total', { ...B, side: 'buy' })).toBe(1);
    expect(value('trade_matrix_order_updates_total', { ...A, status: 'filled' })).toBe(1);
    expect(value('trade_matrix_order_updates_total', { ...B, status: 'filled' })).toBe(2);
    expect(value('trade_matrix_fills_total', { ...A, side: 'buy', liquidity: 'taker' })).toBe(1);
    expect(value('trade_matrix_fills_total', { ...A, side: 'buy', liquidity: 'maker' })).toBe(1);
    expect(value('trade_matrix_filled_quantity_base_total', { ...A, side: 'buy' })).toBe(10);
    expect(value('trade_matrix_filled_notional_usdt_total', { ...A, side: 'buy' })).toBe(106);
    expect(value('trade_matrix_turnover_usdt_total', B)).toBe(195);
    expect(value('trade_matrix_fees_paid_usdt_total', A)).toBe(0.75);
    expect(value('trade_matrix_last_fill_price_usdt', B)).toBe(45);
    expect(value('trade_matrix_liquidations_total', B)).toBe(1);
    expect(series('trade_matrix_liquidations_total')).toEqual([{ labels: B, value: 1 }]);
    // Funding: the gauge ends at each instrument's running sum; one payment counted per settlement.
    expect(value('trade_matrix_funding_paid_usdt', A)).toBe(0.375);
    expect(value('trade_matrix_funding_paid_usdt', B)).toBe(-0.25);
    expect(value('trade_matrix_funding_payments_total', A)).toBe(2);
    expect(value('trade_matrix_funding_payments_total', B)).toBe(1);
    // Trades by outcome (0 is a loss: not a win).
    expect(value('trade_matrix_trades_total', { ...B, outcome: 'win' })).toBe(1);
    expect(value('trade_matrix_trades_total', { ...B, outcome: 'loss' })).toBe(1);
    expect(value('trade_matrix_trades_total', { ...A, outcome: 'loss' })).toBe(1);
    // Bars: A's four, B's three (its 01:00 row is not a bar); last closes 13 and 20, an hour after the last opens.
    expect(value('trade_matrix_bars_processed_total', A)).toBe(4);
    expect(value('trade_matrix_bars_processed_total', B)).toBe(3);
    expect(value('trade_matrix_market_price_usdt', B)).toBe(20);
    expect(value('trade_matrix_last_bar_close_timestamp_seconds', A)).toBe(ts('2024-01-01T04:00:00Z') / 1000);
    expect(value('trade_matrix_bar_interval_seconds', A)).toBe(3600);
    // Positions at the last closes: A long 10 from 10.6 at 13, B short 2 from 50 at 20.
    expect(value('trade_matrix_position_quantity_base', A)).toBe(10);
    expect(value('trade_matrix_position_notional_usdt', A)).toBe(130);
    expect(value('trade_matrix_position_notional_usdt', B)).toBe(-40);
    expect(value('trade_matrix_position_entry_price_usdt', A)).toBe(10.6);
    expect(value('trade_matrix_unrealised_pnl_usdt', A)).toBeCloseTo(10 * (13 - 10.6), 12);
    expect(value('trade_matrix_unrealised_pnl_usdt', B)).toBe(-2 * (20 - 50));
    expect(value('trade_matrix_realised_pnl_usdt', B)).toBe(5);
    expect(value('trade_matrix_liquidation_price_usdt', A)).toBe(0);
    expect(value('trade_matrix_position_leverage_ratio', A)).toBe(130 / 990);
    expect(value('trade_matrix_position_leverage_ratio', B)).toBe(40 / 990);
    // Account: the last equity; balance = cash + realised − fees − funding over instruments; peak and drawdown of the curve.
    expect(value('trade_matrix_equity_usdt', S)).toBe(990);
    expect(value('trade_matrix_balance_usdt', S)).toBe(1000 + 0 - 0.75 - 0.375 + 5 - 1 + 0.25);
    expect(value('trade_matrix_available_balance_usdt', S)).toBe(value('trade_matrix_balance_usdt', S));
    expect(value('trade_matrix_gross_exposure_usdt', S)).toBe(170);
    expect(value('trade_matrix_net_exposure_usdt', S)).toBe(90);
    expect(value('trade_matrix_account_leverage_ratio', S)).toBe(170 / 990);
    expect(value('trade_matrix_peak_equity_usdt', S)).toBe(1100);
    expect(value('trade_matrix_drawdown_ratio', S)).toBeCloseTo(1 - 990 / 1100, 12);
    // Annotations: the tier in force one-hot, each change counted; regime probabilities of the last row, leader changes.
    expect(value('trade_matrix_cascade_tier', { ...A, tier: 'PURE_KELLY' })).toBe(1);
    expect(value('trade_matrix_cascade_tier', { ...A, tier: 'FULL_RL' })).toBe(0);
    expect(value('trade_matrix_cascade_tier_changes_total', { ...A, tier: 'PURE_KELLY', reason: 'drift' })).toBe(1);
    expect(value('trade_matrix_regime_probability_ratio', { ...A, regime: 'storm' })).toBe(0.8);
    expect(value('trade_matrix_regime_probability_ratio', { ...A, regime: 'calm' })).toBe(0.2);
    expect(value('trade_matrix_regime_changes_total', { ...A, regime: 'calm' })).toBe(1);
    expect(value('trade_matrix_regime_changes_total', { ...A, regime: 'storm' })).toBe(1);
  });

  it('edge runs: no curve (equity = initial cash, start 0), no bar, one bar, flat with an old entry, no equity (no leverage), no bar period', async () => {
    const bar = (close: number) => ({ ts: Float64Array.of(Date.parse('2024-01-01T00:00:00Z')), close: Float64Array.of(close) });
    const source: BacktestMetricsSource = {
      name: 'edge',
      instruments: ['AUSDT', 'CUSDT', 'DUSDT'],
      initialCash: 0,
      timeframe: 'tick',
      equity: { ts: new Float64Array(0), value: new Float64Array(0) },
      bars: [{ ts: new Float64Array(0), close: new Float64Array(0) }, bar(7), bar(20)],
      fills: [],
      trades: [],
      funding: [],
      positions: [
        { quantity: 0, entryPrice: 0, realizedPnl: 0, fees: 0, funding: 0 },
        { quantity: 1, entryPrice: 5, realizedPnl: 0, fees: 0, funding: 0 },
        { quantity: 0, entryPrice: 50, realizedPnl: 0, fees: 0, funding: 0 },
      ],
    };
    const { value, series } = await exported(source);
    const S = { strategy: 'edge' }, A = { instrument: 'AUSDT' }, C = { instrument: 'CUSDT' }, D = { instrument: 'DUSDT' };
    expect(value('trade_matrix_runner_start_timestamp_seconds')).toBe(0);
    expect(value('trade_matrix_equity_usdt', S)).toBe(0);
    expect(value('trade_matrix_balance_usdt', S)).toBe(0);
    // A has no bar: valued at its entry, flat, nothing exposed.
    expect(value('trade_matrix_unrealised_pnl_usdt', A)).toBe(0);
    expect(value('trade_matrix_position_notional_usdt', A)).toBe(0);
    // C's one bar marks it: long 1 from 5 at 7. No bar period ('tick'): its close time is its open, no interval.
    expect(value('trade_matrix_unrealised_pnl_usdt', C)).toBe(2);
    expect(value('trade_matrix_position_notional_usdt', C)).toBe(7);
    expect(value('trade_matrix_last_bar_close_timestamp_seconds', C)).toBe(Date.parse('2024-01-01T00:00:00Z') / 1000);
    expect(value('trade_matrix_bar_interval_seconds', C)).toBe(0);
    // D is flat but its record carries an entry price (a hand-made result may): no unrealised PnL (not −0).
    expect(value('trade_matrix_unrealised_pnl_usdt', D)).toBe(0);
    expect(value('trade_matrix_gross_exposure_usdt', S)).toBe(7);
    // No equity: no leverage figure (0, not a division by 0).
    expect(value('trade_matrix_position_leverage_ratio', C)).toBe(0);
    expect(value('trade_matrix_account_leverage_ratio', S)).toBe(0);
    expect(series('trade_matrix_bars_processed_total').map((v) => [v.labels['instrument'], v.value])).toEqual([['CUSDT', 1], ['DUSDT', 1]]);
    expect(series('trade_matrix_cascade_tier')).toEqual([]);
    expect(series('trade_matrix_regime_probability_ratio')).toEqual([]);
  });

  it('a metrics file that cannot be written is an error naming it (code, path, cause)', () => {
    const path = join(dir, 'no-such-folder', 'metrics.prom');
    let error: unknown;
    try {
      writeExpositionFile(path, 'x 1\n');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'metrics_file_write_failed', context: { path } });
    expect((error as Error).message).toMatch(new RegExp(`^cannot write the metrics file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});
