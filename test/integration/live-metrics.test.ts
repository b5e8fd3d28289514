/**
 * LiveMetrics on a paper run in this process (bars polled through ccxt from the local v5 server on a virtual clock,
 * pre-trade risk denying large orders): every counter agrees with the run's journal and kernel, the gauges with its
 * final state, and the exposition passes `promtool check metrics`.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FixedBpsSlippage } from '../../src/backtest/execution-models.js';
import { BYBIT_LINEAR_PERPETUALS } from '../../src/core/instrument.js';
import { timeframeMs } from '../../src/core/time.js';
import { LiveRunner } from '../../src/live/live-runner.js';
import { createTradingMetrics, LiveMetrics, timeVenueCalls } from '../../src/monitoring/index.js';
import { smaCrossover } from '../../src/strategies/sma-crossover.js';
import { liveMarket, sharedFrame } from '../support/live-harness.js';
import { promtool } from '../support/promtool.js';
import { tempDir } from '../support/shared-data.js';

const PARAMS = { fast: 10, slow: 30, allocation: 0.4, allowShort: true };
const WARMUP = 29;
const LIVE = 200;
const frame = sharedFrame('2024-01-01T00:00:00Z', WARMUP + LIVE);
const instruments = frame.symbols.map((s) => BYBIT_LINEAR_PERPETUALS[s]!);
const ids = instruments.map((x) => x.id);
const startTs = frame.ts[WARMUP]!;
const tf = timeframeMs('4h');

describe('LiveMetrics on a paper run', () => {
  it('counts what the journal and the kernel hold', async () => {
    const dir = tempDir('tm-live-metrics-');
    const market = await liveMarket(frame, startTs);
    onTestFinished(() => market.close());
    const metrics = createTradingMetrics({ processMetrics: false });
    const journalPath = join(dir, 'journal.jsonl');
    const live = new LiveMetrics(metrics, { runner: 'test', version: '0.1.0', mode: 'paper', strategy: 'sma', instruments: ids, timeframeMs: tf, journalPath, drawdownLimit: null });
    const feed = timeVenueCalls(market.feed, 'next', 'next_bar_set', metrics);
    const runner = new LiveRunner(
      { runId: 'lm1', mode: 'paper', instruments, timeframe: '4h', initialCash: 100_000, leverage: 10, dir, startTs, maxBars: LIVE, paper: { slippage: new FixedBpsSlippage(2) }, risk: { throttle: { maxOrders: 1, windowMs: 3 * 86_400_000 } } },
      { feed, pacer: market.time, strategy: smaCrossover(PARAMS), metrics: live },
    );
    expect(live.readiness()).toEqual({ warmedUp: false, reconciled: true, breakerNotOpen: true });
    const summary = await runner.run();
    expect(summary.liveBars).toBe(LIVE);

    const json = await metrics.registry.getMetricsAsJSON();
    const series = (name: string) => json.find((f) => f.name === name)!.values;
    const sum = (name: string, labels: Record<string, string> = {}) => series(name).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
    const records = readFileSync(journalPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { k: string; e?: string; warmup?: boolean });
    const kernel = runner.kernel;

    for (const id of ids) expect(sum('trade_matrix_bars_processed_total', { instrument: id })).toBe(LIVE);
    expect(sum('trade_matrix_orders_submitted_total')).toBe(records.filter((r) => r.k === 'submit').length);
    expect(sum('trade_matrix_fills_total')).toBe(kernel.fills.length);
    expect(kernel.fills.length).toBeGreaterThan(5);
    expect(sum('trade_matrix_fees_paid_usdt_total')).toBeCloseTo(kernel.portfolio.fees.reduce((a, b) => a + b, 0), 6);
    expect(sum('trade_matrix_trades_total')).toBe(kernel.tracker.trips.length);
    expect(sum('trade_matrix_order_rejections_total')).toBe(kernel.rejections.length);
    expect(kernel.rejections.length).toBeGreaterThan(0);
    expect(new Set(series('trade_matrix_order_rejections_total').map((v) => v.labels['reason']))).toEqual(new Set(['risk_order_rate']));
    expect(sum('trade_matrix_order_updates_total', { status: 'filled' })).toBe(new Set(kernel.fills.map((f) => f.clientOrderId)).size);
    expect(sum('trade_matrix_equity_usdt')).toBeCloseTo(kernel.equity(), 6);
    for (let i = 0; i < ids.length; i++) expect(sum('trade_matrix_position_quantity_base', { instrument: ids[i]! })).toBe(kernel.portfolio.quantity[i]);
    // Every journal record of the run, by kind; the size gauge is the file's.
    const kinds = new Map<string, number>();
    for (const r of records) kinds.set(r.k, (kinds.get(r.k) ?? 0) + 1);
    for (const [kind, count] of kinds) expect(sum('trade_matrix_journal_entries_total', { kind })).toBe(count);
    expect(sum('trade_matrix_journal_size_bytes')).toBe(statSync(journalPath).size);
    expect(sum('trade_matrix_journal_written_bytes_total')).toBe(statSync(journalPath).size);
    // Bar sets asked of the feed: warm-up, live bars, one poll each (the local server has them all).
    expect(sum('trade_matrix_venue_requests_total', { status: 'ok' })).toBe(WARMUP + LIVE);
    expect(series('trade_matrix_circuit_breaker_state').find((v) => v.labels['state'] === 'closed')!.value).toBe(1);
    expect(sum('trade_matrix_runner_ready')).toBe(0); // stopped
    expect(sum('trade_matrix_realised_volatility_ratio')).toBeGreaterThan(0);
    const check = promtool(['check', 'metrics'], await metrics.registry.metrics());
    expect(check.output).toBe('');
    expect(check.status).toBe(0);
  }, 60_000);
});
