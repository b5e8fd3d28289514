/**
 * LiveMetrics call by call over a real kernel (its venue a recorder: events are fed by hand) and the real metrics
 * facade: what each runner hook records, every value by hand. The paper run end to end (ccxt, the local v5 server,
 * promtool) is test/integration/live-metrics.test.ts.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { at, testInstrument } from '../../test/support/engine-scenarios.js';
import { readMetrics } from '../../test/support/metric-values.js';
import { tempDir } from '../../test/support/shared-data.js';
import { AppError } from '../core/app-error.js';
import type { OrderRequest } from '../core/order.js';
import { TestClock } from '../engine/clock.js';
import type { ExecutionClient } from '../engine/execution-client.js';
import { Kernel } from '../engine/kernel.js';
import { LiveMetrics, reasonLabel, startLiveMetrics, timeVenueCalls, type LiveMetricsOptions, type ObservedSignals } from './live-metrics.js';
import { createTradingMetrics } from './trading-metrics.js';

const T0 = at('2024-01-01T00:00:00Z');
const HOUR = 3_600_000;
const X = 'TESTUSDT-LINEAR.TEST';
const Y = 'OTHERUSDT-LINEAR.TEST';
/** A bar set's timings: received 2.5 s after the close of a bar opening at T0, processed in 0.25 s, persisted in 0.125 s. */
const TIMINGS = { receivedAtMs: T0 + HOUR + 2_500, processSeconds: 0.25, persistSeconds: 0.125 };

/**
 * A kernel over X and Y (leverage 10, cash 10,000) whose venue takes every command and reports nothing, and a
 * LiveMetrics on it; `wall` is performance.now() (ms) and `now` its Date.now().
 */
function setup(options: Partial<LiveMetricsOptions> = {}) {
  const kernel = new Kernel({ instruments: [testInstrument(), testInstrument({ symbol: 'OTHERUSDT', lotSize: 0.01 })], initialCash: 10_000, leverage: 10, runId: 'lm' }, { clock: new TestClock(T0), strategy: { name: 'test' } });
  const venue: ExecutionClient = { connect: () => undefined, submit: () => undefined, cancel: () => undefined };
  kernel.attachExecution(venue);
  const clock = { wall: 1_000, now: T0 + HOUR + 5_000 };
  vi.spyOn(performance, 'now').mockImplementation(() => clock.wall);
  const metrics = createTradingMetrics({ processMetrics: false });
  const live = new LiveMetrics(metrics, { runner: 'r1', version: '1.0.0', mode: 'paper', strategy: 'S', instruments: [X, Y], timeframeMs: HOUR, now: () => clock.now, ...options });
  const read = () => readMetrics(metrics);
  return { kernel, metrics, live, clock, read };
}

const market = (instrument: number, side: 'buy' | 'sell', quantity: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({ instrument, side, type: 'market', quantity, ...extra });
/** Fills `quantity` of order `id` at `price` (fee 0 unless given). */
function fill(kernel: Kernel, id: string, instrument: number, side: 'buy' | 'sell', quantity: number, price: number, fee = 0) {
  kernel.onOrderFilled({ instrument, clientOrderId: id, side, quantity, price, fee, liquidity: 'taker', tsEvent: T0, tsInit: T0 });
}
/** Both instruments' bars present (closes 100 and 50, volumes 3 and 4) at the bar opening at `ts`. */
const bars = (ts = T0) => ({ ts, bars: [{ close: 100, volume: 3 }, { close: 50, volume: 4 }] });

afterEach(() => void vi.restoreAllMocks());

describe('LiveMetrics: start, warm-up and readiness', () => {
  it('a paper run starts unready with its info, heartbeat, zero series and no drawdown limit unless given', async () => {
    const { live, metrics, read } = setup({ drawdownLimit: null });
    const r = await read();
    expect(r.value('trade_matrix_runner_info', { runner: 'r1', version: '1.0.0', mode: 'paper' })).toBe(1);
    expect(r.value('trade_matrix_runner_start_timestamp_seconds')).toBe((T0 + HOUR + 5_000) / 1000);
    expect(r.value('trade_matrix_runner_heartbeat_timestamp_seconds')).toBe((T0 + HOUR + 5_000) / 1000);
    expect(r.value('trade_matrix_runner_ready')).toBe(0);
    expect(r.value('trade_matrix_open_orders', { instrument: X })).toBe(0);
    expect(r.value('trade_matrix_open_orders', { instrument: Y })).toBe(0);
    expect(await metrics.registry.metrics()).not.toContain('trade_matrix_drawdown_limit_ratio{');
    // Paper: no venue, so no reconciliation or rate-limit series; the inputs, feed and state operations are known.
    expect(r.series('trade_matrix_reconciliation_runs_total')).toEqual([]);
    expect(r.series('trade_matrix_rate_limit_waits_total')).toEqual([]);
    expect(r.value('trade_matrix_stale_input_events_total', { input: 'bars' })).toBe(0);
    expect(r.value('trade_matrix_feed_messages_total', { feed: 'bybit-kline' })).toBe(0);
    expect(r.value('trade_matrix_state_store_errors_total', { operation: 'save_state' })).toBe(0);
    expect(r.value('trade_matrix_state_store_errors_total', { operation: 'save_runner_state' })).toBe(0);
    expect(r.histogram('trade_matrix_decision_to_acknowledgement_seconds', { instrument: Y }).count).toBe(0);
    expect(live.readiness()).toEqual({ warmedUp: false, reconciled: true, breakerNotOpen: true });
  });

  it('a venue run has reconciliation and rate-limit series and is not reconciled until it reconciles; a drawdown limit is a gauge', async () => {
    const { live, kernel, read } = setup({ mode: 'live', drawdownLimit: 0.2 });
    let r = await read();
    expect(r.value('trade_matrix_drawdown_limit_ratio', { strategy: 'S' })).toBe(0.2);
    expect(r.value('trade_matrix_rate_limit_waits_total', { endpoint: 'private' })).toBe(0);
    expect(r.series('trade_matrix_reconciliation_runs_total').map((s) => s.labels['status']).sort()).toEqual(['clean', 'differences']);
    expect(live.readiness()).toEqual({ warmedUp: false, reconciled: false, breakerNotOpen: true });
    live.warmedUp(kernel, 120, 1.5);
    expect(live.readiness()).toEqual({ warmedUp: true, reconciled: false, breakerNotOpen: true });
    r = await read();
    expect(r.value('trade_matrix_runner_ready')).toBe(0); // warmed up, not reconciled
    live.reconciled([], 0.75);
    expect(live.readiness()).toEqual({ warmedUp: true, reconciled: true, breakerNotOpen: true });
    r = await read();
    expect(r.value('trade_matrix_runner_ready')).toBe(1);
  });

  it('warmedUp records the tier, time and bars, the model in use and the breaker, and counts nothing that came before', async () => {
    const { live, kernel, read } = setup();
    // Warm-up events: a fill, a round trip, a rejection, a funding payment, a state change; none is counted later.
    const a = kernel.submitOrder(market(0, 'buy', 1));
    fill(kernel, a, 0, 'buy', 1, 100);
    fill(kernel, kernel.submitOrder(market(0, 'sell', 1)), 0, 'sell', 1, 90);
    kernel.onOrderRejected({ kind: 'rejected', clientOrderId: kernel.submitOrder(market(1, 'buy', 1)), reason: 'no', tsEvent: T0 });
    kernel.onVenueFunding(1, T0, 2, 0.0001, 50);
    kernel.setTradingState('REDUCING', 'warm-up');
    kernel.setTradingState('ACTIVE', 'warm-up over');
    live.warmedUp(kernel, 120, 1.5, { model: { name: 'gbdt', version: '7', loadedAtMs: 4_000 } }, 'store');
    let r = await read();
    expect(r.value('trade_matrix_warmup_tier', { tier: 'store' })).toBe(1);
    expect(r.value('trade_matrix_warmup_duration_seconds')).toBe(1.5);
    expect(r.value('trade_matrix_warmup_bars', { instrument: X })).toBe(120);
    expect(r.value('trade_matrix_warmup_bars', { instrument: Y })).toBe(120);
    expect(r.value('trade_matrix_model_info', { model: 'gbdt', version: '7', stage: 'paper' })).toBe(1);
    expect(r.value('trade_matrix_model_loaded_timestamp_seconds', { model: 'gbdt' })).toBe(4);
    expect(r.value('trade_matrix_circuit_breaker_state', { strategy: 'S', state: 'closed' })).toBe(1);
    expect(r.value('trade_matrix_circuit_breaker_transitions_total', { strategy: 'S', state: 'closed', reason: 'start' })).toBe(1);
    expect(r.value('trade_matrix_runner_ready')).toBe(1); // paper: nothing to reconcile
    // The account at the warm-up's end: realised −10 on X, the funding on Y.
    expect(r.value('trade_matrix_realised_pnl_usdt', { instrument: X })).toBe(-10);
    expect(r.value('trade_matrix_equity_usdt', { strategy: 'S' })).toBe(10_000 - 10 - 2);
    live.bar(kernel, bars(), TIMINGS);
    r = await read();
    expect(r.value('trade_matrix_fills_total', { instrument: X, side: 'buy', liquidity: 'taker' })).toBe(0);
    expect(r.value('trade_matrix_trades_total', { instrument: X, outcome: 'loss' })).toBe(0);
    expect(r.series('trade_matrix_order_rejections_total')).toEqual([]);
    expect(r.value('trade_matrix_funding_payments_total', { instrument: Y })).toBe(0);
    expect(r.value('trade_matrix_funding_paid_usdt', { instrument: Y })).toBe(2); // the gauge is the account's
    // The warm-up's state changes are not transitions of the run: only the start's.
    expect(r.series('trade_matrix_circuit_breaker_transitions_total')).toEqual([{ labels: { strategy: 'S', state: 'closed', reason: 'start' }, value: 1 }]);
  });

  it('stopped in the warm-up: the account, but none of the warm-up’s or earlier lives’ fills, trips or state changes', async () => {
    const { live, kernel, read } = setup();
    fill(kernel, kernel.submitOrder(market(0, 'buy', 1)), 0, 'buy', 1, 100);
    fill(kernel, kernel.submitOrder(market(0, 'sell', 1)), 0, 'sell', 1, 110);
    fill(kernel, kernel.submitOrder(market(1, 'buy', 2)), 1, 'buy', 2, 50);
    kernel.setTradingState('HALTED', 'warm-up');
    live.stopped(kernel);
    const r = await read();
    expect(r.series('trade_matrix_fills_total').filter((v) => v.value > 0)).toEqual([]);
    expect(r.series('trade_matrix_trades_total').filter((v) => v.value > 0)).toEqual([]);
    expect(r.series('trade_matrix_circuit_breaker_transitions_total')).toEqual([]);
    expect(r.value('trade_matrix_position_quantity_base', { instrument: Y })).toBe(2);
    expect(r.value('trade_matrix_realised_pnl_usdt', { instrument: X })).toBe(10);
    expect(r.value('trade_matrix_runner_ready')).toBe(0);
  });

  it('without a model or tier: the venue tier, no model series', async () => {
    const { live, kernel, metrics, read } = setup();
    live.warmedUp(kernel, 0, 0);
    const r = await read();
    expect(r.value('trade_matrix_warmup_tier', { tier: 'venue' })).toBe(1);
    expect(r.series('trade_matrix_model_info')).toEqual([]);
    expect(await metrics.registry.metrics()).not.toContain('trade_matrix_drawdown_limit_ratio{'); // none given
  });
});

describe('LiveMetrics: the account', () => {
  it('equity, exposures, margin at the leverage, and each position at its mark', async () => {
    const { live, kernel, read } = setup();
    fill(kernel, kernel.submitOrder(market(0, 'buy', 2)), 0, 'buy', 2, 100, 0.5);
    fill(kernel, kernel.submitOrder(market(1, 'sell', 1)), 1, 'sell', 1, 50);
    kernel.portfolio.mark[0] = 110;
    kernel.portfolio.mark[1] = 40;
    live.warmedUp(kernel, 0, 0);
    const r = await read();
    // Cash 10,000 − 0.5 fee; unrealised +20 on X, +10 on Y.
    const equity = 9_999.5 + 20 + 10;
    expect(r.each({ strategy: 'S' }, { equity_usdt: equity, balance_usdt: 9_999.5, gross_exposure_usdt: 260, net_exposure_usdt: 180, margin_used_usdt: 26, available_balance_usdt: equity - 26 })).toEqual({});
    expect(r.each({ instrument: X }, { position_quantity_base: 2, position_notional_usdt: 220, position_entry_price_usdt: 100, unrealised_pnl_usdt: 20, realised_pnl_usdt: 0, position_leverage_ratio: 220 / equity, liquidation_price_usdt: 0 })).toEqual({});
    // Y short 1 at 50, marked 40: equity reaches its maintenance margin at (−40 − equity) / (−1 − 0.005).
    expect(r.each({ instrument: Y }, { position_quantity_base: -1, position_notional_usdt: -40, position_entry_price_usdt: 50, unrealised_pnl_usdt: 10, position_leverage_ratio: 40 / equity, liquidation_price_usdt: (-40 - equity) / (-1 - 0.005) })).toEqual({});
  });

  it('a long whose equity covers little has a liquidation price; a flat instrument has zeros; one never marked counts at its entry', async () => {
    const { live, kernel, read } = setup();
    fill(kernel, kernel.submitOrder(market(0, 'buy', 1000)), 0, 'buy', 1000, 100);
    kernel.portfolio.mark[0] = 99; // equity 9,000
    live.warmedUp(kernel, 0, 0);
    let r = await read();
    expect(r.value('trade_matrix_liquidation_price_usdt', { instrument: X })).toBeCloseTo((99_000 - 9_000) / (1000 - 5), 9);
    expect(r.each({ instrument: Y }, { position_quantity_base: 0, position_notional_usdt: 0, position_entry_price_usdt: 0, unrealised_pnl_usdt: 0, liquidation_price_usdt: 0, position_leverage_ratio: 0 })).toEqual({});
    // Y bought before its first mark: at its entry (no unrealised PnL, exposure at 50).
    fill(kernel, kernel.submitOrder(market(1, 'buy', 2)), 1, 'buy', 2, 50);
    live.stopped(kernel);
    r = await read();
    expect(r.each({ instrument: Y }, { position_notional_usdt: 100, unrealised_pnl_usdt: 0, position_entry_price_usdt: 50 })).toEqual({});
    expect(r.value('trade_matrix_gross_exposure_usdt', { strategy: 'S' })).toBe(99_000 + 100);
  });

  it('equity at or below zero: no position leverage', async () => {
    const { live, kernel, read } = setup();
    fill(kernel, kernel.submitOrder(market(0, 'buy', 1000)), 0, 'buy', 1000, 100);
    kernel.portfolio.mark[0] = 90; // equity 0
    live.warmedUp(kernel, 0, 0);
    const r = await read();
    expect(r.value('trade_matrix_equity_usdt', { strategy: 'S' })).toBe(0);
    expect(r.value('trade_matrix_position_leverage_ratio', { instrument: X })).toBe(0);
  });
});

/** A warmed-up run of {@link setup} and `handOver`: marks an instrument, submits a market order, hands it over at a wall time. */
function warmedRun() {
  const run = setup();
  run.live.warmedUp(run.kernel, 0, 0);
  const handOver = (instrument: number, side: 'buy' | 'sell', quantity: number, mark: number, wall: number): string => {
    run.kernel.portfolio.mark[instrument] = mark;
    const id = run.kernel.submitOrder(market(instrument, side, quantity));
    run.clock.wall = wall;
    run.live.handedOver(run.kernel, id);
    return id;
  };
  return { ...run, handOver };
}

describe('LiveMetrics: orders and fills', () => {
  it('an order through accepted, partially filled and filled: each status once, latencies from the hand-over, slippage against the decision mark', async () => {
    const { live, kernel, clock, read, handOver } = warmedRun();
    const id = handOver(0, 'buy', 2, 100, 1_000);
    live.handedOver(kernel, 'not-an-order'); // unknown: nothing
    kernel.onOrderAccepted({ kind: 'accepted', clientOrderId: id, venueOrderId: 'v1', tsEvent: T0 });
    clock.wall = 1_400;
    live.bar(kernel, bars(), TIMINGS);
    let r = await read();
    expect(r.value('trade_matrix_orders_submitted_total', { instrument: X, side: 'buy' })).toBe(1);
    expect(r.value('trade_matrix_orders_submitted_total', { instrument: X, side: 'sell' })).toBe(0);
    expect(r.value('trade_matrix_order_updates_total', { instrument: X, status: 'accepted' })).toBe(1);
    expect(r.histogram('trade_matrix_decision_to_acknowledgement_seconds', { instrument: X })).toMatchObject({ count: 1, sum: 0.4 });
    expect(r.value('trade_matrix_open_orders', { instrument: X })).toBe(1);
    expect(r.series('trade_matrix_open_orders')).toHaveLength(2);
    live.bar(kernel, bars(T0 + HOUR / 2), TIMINGS); // still accepted: nothing counted again
    r = await read();
    expect(r.value('trade_matrix_order_updates_total', { instrument: X, status: 'accepted' })).toBe(1);
    expect(r.histogram('trade_matrix_decision_to_acknowledgement_seconds', { instrument: X }).count).toBe(1);
    fill(kernel, id, 0, 'buy', 0.5, 100.5);
    clock.wall = 2_000;
    live.bar(kernel, bars(T0 + HOUR), TIMINGS);
    r = await read();
    expect(r.value('trade_matrix_order_updates_total', { instrument: X, status: 'accepted' })).toBe(1);
    expect(r.value('trade_matrix_order_updates_total', { instrument: X, status: 'partially_filled' })).toBe(1);
    expect(r.histogram('trade_matrix_acknowledgement_to_fill_seconds', { instrument: X })).toMatchObject({ count: 1, sum: 0.6 });
    fill(kernel, id, 0, 'buy', 1.5, 99);
    clock.wall = 3_000;
    live.bar(kernel, bars(T0 + 2 * HOUR), TIMINGS);
    live.bar(kernel, bars(T0 + 3 * HOUR), TIMINGS); // nothing new: nothing counted again
    r = await read();
    expect(r.value('trade_matrix_order_updates_total', { instrument: X, status: 'filled' })).toBe(1);
    expect(r.value('trade_matrix_order_updates_total', { instrument: X, status: 'partially_filled' })).toBe(1);
    expect(r.histogram('trade_matrix_acknowledgement_to_fill_seconds', { instrument: X }).count).toBe(1); // the first fill only
    expect(r.histogram('trade_matrix_decision_to_acknowledgement_seconds', { instrument: X }).count).toBe(1);
    expect(r.value('trade_matrix_fills_total', { instrument: X, side: 'buy', liquidity: 'taker' })).toBe(2);
    expect(r.value('trade_matrix_filled_quantity_base_total', { instrument: X, side: 'buy' })).toBe(2);
    expect(r.value('trade_matrix_open_orders', { instrument: X })).toBe(0);
    // Slippage in basis points of the decision mark 100, adverse > 0: +50, then −100 (bought below it).
    const slippage = r.histogram('trade_matrix_fill_slippage_basis_points', { instrument: X });
    expect(slippage.count).toBe(2);
    expect(slippage.sum).toBeCloseTo(-50, 9);
  });

  it('filled before the runner saw it accepted: accepted and filled both counted, the fill latency 0; a sell’s slippage is adverse when below the mark', async () => {
    const { live, kernel, clock, read, handOver } = warmedRun();
    const id = handOver(1, 'sell', 1, 50, 500);
    fill(kernel, id, 1, 'sell', 1, 49.5);
    clock.wall = 800;
    live.bar(kernel, bars(), TIMINGS);
    const r = await read();
    expect(r.value('trade_matrix_orders_submitted_total', { instrument: Y, side: 'sell' })).toBe(1);
    expect(r.value('trade_matrix_order_updates_total', { instrument: Y, status: 'accepted' })).toBe(1);
    expect(r.value('trade_matrix_order_updates_total', { instrument: Y, status: 'filled' })).toBe(1);
    expect(r.histogram('trade_matrix_decision_to_acknowledgement_seconds', { instrument: Y })).toMatchObject({ count: 1, sum: 0.3 });
    expect(r.histogram('trade_matrix_acknowledgement_to_fill_seconds', { instrument: Y })).toMatchObject({ count: 1, sum: 0 });
    expect(r.histogram('trade_matrix_fill_slippage_basis_points', { instrument: Y }).sum).toBeCloseTo(100, 9);
  });

  it('a venue rejection: no acknowledgement, the status and the reason’s first word; a fill of an order never handed over has no slippage', async () => {
    const { live, kernel, read } = setup();
    live.warmedUp(kernel, 0, 0);
    const id = kernel.submitOrder(market(0, 'buy', 1));
    live.handedOver(kernel, id);
    kernel.onOrderRejected({ kind: 'rejected', clientOrderId: id, reason: 'Insufficient margin (110007)', tsEvent: T0 });
    fill(kernel, kernel.submitOrder(market(1, 'buy', 1)), 1, 'buy', 1, 50);
    // Handed over before the instrument's first mark: no decision price, no slippage.
    const unmarked = kernel.submitOrder(market(1, 'buy', 1));
    live.handedOver(kernel, unmarked);
    fill(kernel, unmarked, 1, 'buy', 1, 50);
    live.bar(kernel, bars(), TIMINGS);
    live.bar(kernel, bars(T0 + HOUR), TIMINGS);
    const r = await read();
    expect(r.value('trade_matrix_order_updates_total', { instrument: X, status: 'rejected' })).toBe(1);
    expect(r.value('trade_matrix_order_updates_total', { instrument: X, status: 'accepted' })).toBe(0);
    expect(r.histogram('trade_matrix_decision_to_acknowledgement_seconds', { instrument: X }).count).toBe(0);
    expect(r.series('trade_matrix_order_rejections_total')).toEqual([{ labels: { instrument: X, reason: 'insufficient' }, value: 1 }]);
    expect(r.value('trade_matrix_fills_total', { instrument: Y, side: 'buy', liquidity: 'taker' })).toBe(2);
    expect(r.series('trade_matrix_fill_slippage_basis_points')).toEqual([]);
  });

  it('a pre-trade risk denial is a rejection labelled by its rule', async () => {
    const { live, kernel, read } = setup();
    live.warmedUp(kernel, 0, 0);
    kernel.setTradingState('HALTED', 'kill switch');
    kernel.submitOrder(market(0, 'buy', 1));
    live.bar(kernel, bars(), TIMINGS);
    const r = await read();
    expect(kernel.rejections[0]!.reason).toMatch(/^risk: /);
    expect(r.series('trade_matrix_order_rejections_total')).toEqual([{ labels: { instrument: X, reason: expect.stringMatching(/^risk_[a-z_]+$/) }, value: 1 }]);
  });

  it('a cancel through PENDING_CANCEL to CANCELED, and an expiry; a rejection of an id the kernel does not hold is labelled unknown', async () => {
    const { live, kernel, read } = setup();
    live.warmedUp(kernel, 0, 0);
    const limit = kernel.submitOrder(market(0, 'buy', 1, { type: 'limit', price: 90 }));
    const ioc = kernel.submitOrder(market(1, 'buy', 1, { type: 'limit', price: 40, timeInForce: 'IOC' }));
    live.handedOver(kernel, limit);
    live.handedOver(kernel, ioc);
    kernel.onOrderAccepted({ kind: 'accepted', clientOrderId: limit, venueOrderId: 'v1', tsEvent: T0 });
    live.bar(kernel, bars(), TIMINGS);
    kernel.cancelOrder(limit);
    live.bar(kernel, bars(T0 + HOUR), TIMINGS); // PENDING_CANCEL: no status of its own
    let r = await read();
    expect(r.series('trade_matrix_order_updates_total').filter((s) => s.value > 0)).toEqual([{ labels: { instrument: X, status: 'accepted' }, value: 1 }]);
    kernel.onOrderCanceled({ kind: 'canceled', clientOrderId: limit, reason: 'user request', tsEvent: T0 });
    kernel.onOrderExpired({ kind: 'expired', clientOrderId: ioc, reason: 'IOC remainder', tsEvent: T0 });
    kernel.rejections.push({ ts: T0, clientOrderId: 'elsewhere', reason: 'risk: max_order_notional 1 < 2' });
    live.bar(kernel, bars(T0 + 2 * HOUR), TIMINGS);
    r = await read();
    expect(r.value('trade_matrix_order_updates_total', { instrument: X, status: 'cancelled' })).toBe(1);
    expect(r.value('trade_matrix_order_cancellations_total', { instrument: X, reason: 'user' })).toBe(1);
    expect(r.value('trade_matrix_order_updates_total', { instrument: Y, status: 'accepted' })).toBe(1); // acknowledged by its end
    expect(r.value('trade_matrix_order_updates_total', { instrument: Y, status: 'expired' })).toBe(1);
    expect(r.series('trade_matrix_order_cancellations_total')).toHaveLength(1);
    expect(r.value('trade_matrix_order_rejections_total', { instrument: 'unknown', reason: 'risk_max_order_notional' })).toBe(1);
    // Neither filled: no fill latency.
    expect(r.histogram('trade_matrix_acknowledgement_to_fill_seconds', { instrument: X }).count).toBe(0);
    expect(r.histogram('trade_matrix_acknowledgement_to_fill_seconds', { instrument: Y }).count).toBe(0);
    expect(r.value('trade_matrix_open_orders', { instrument: X })).toBe(0);
  });

  it('round trips: wins and losses, the losing streak (a trip of 0 is a loss), funding payments, liquidations', async () => {
    const { live, kernel, read } = setup();
    live.warmedUp(kernel, 0, 0);
    const trip = async (exit: number) => {
      fill(kernel, kernel.submitOrder(market(0, 'buy', 1)), 0, 'buy', 1, 100);
      fill(kernel, kernel.submitOrder(market(0, 'sell', 1)), 0, 'sell', 1, exit);
      live.bar(kernel, bars(), TIMINGS);
      return (await read()).value('trade_matrix_consecutive_losses', { strategy: 'S' });
    };
    expect(await trip(90)).toBe(1);
    expect(await trip(100)).toBe(2);
    expect(await trip(120)).toBe(0);
    expect(await trip(99)).toBe(1);
    kernel.onVenueFunding(0, T0, 1.5, 0.0001, 100);
    kernel.onVenueFunding(0, T0, 0.5, 0.0001, 100);
    kernel.onOrderFilled({ instrument: 1, clientOrderId: 'liq-1', side: 'sell', quantity: 1, price: 40, fee: 0, liquidity: 'taker', tsEvent: T0, tsInit: T0, reason: 'liquidation' });
    live.bar(kernel, bars(), TIMINGS);
    const r = await read();
    expect(r.value('trade_matrix_trades_total', { instrument: X, outcome: 'loss' })).toBe(3);
    expect(r.value('trade_matrix_trades_total', { instrument: X, outcome: 'win' })).toBe(1);
    expect(r.histogram('trade_matrix_trade_pnl_usdt', { instrument: X }).sum).toBe(-10 + 0 + 20 - 1);
    expect(r.value('trade_matrix_funding_payments_total', { instrument: X })).toBe(2);
    expect(r.value('trade_matrix_funding_paid_usdt', { instrument: X })).toBe(kernel.portfolio.funding[0]);
    expect(Math.abs(kernel.portfolio.funding[0]!)).toBe(2);
    expect(r.value('trade_matrix_liquidations_total', { instrument: Y })).toBe(1);
    expect(r.value('trade_matrix_liquidations_total', { instrument: X })).toBe(0);
    expect(r.each({ instrument: X }, { position_quantity_base: 0, position_entry_price_usdt: 0, position_notional_usdt: 0, unrealised_pnl_usdt: 0 })).toEqual({});
  });
});

describe('LiveMetrics: bars, market and strategy state', () => {
  it('a bar: closes, lag, a missing instrument as a stale input, decision and processing times, the state save, the heartbeat', async () => {
    const { live, kernel, clock, read } = setup();
    live.warmedUp(kernel, 0, 0);
    clock.now = T0 + 9 * HOUR;
    live.bar(kernel, { ts: T0, bars: [{ close: 101, volume: 7 }, undefined] }, TIMINGS);
    let r = await read();
    expect(r.each({ instrument: X }, { bars_processed_total: 1, market_price_usdt: 101, bar_volume_base: 7, last_bar_close_timestamp_seconds: (T0 + HOUR) / 1000, bar_interval_seconds: 3600 })).toEqual({});
    expect(r.value('trade_matrix_bars_processed_total', { instrument: Y })).toBe(0);
    expect(r.value('trade_matrix_data_feed_lag_seconds', { instrument: X, feed: 'bybit-kline' })).toBe(2.5);
    expect(r.series('trade_matrix_data_feed_lag_seconds')).toHaveLength(1);
    expect(r.value('trade_matrix_feed_messages_total', { feed: 'bybit-kline' })).toBe(1);
    expect(r.value('trade_matrix_stale_inputs', { input: 'bars' })).toBe(1);
    expect(r.value('trade_matrix_stale_input_events_total', { input: 'bars' })).toBe(1);
    expect(r.histogram('trade_matrix_bar_close_to_decision_seconds', { strategy: 'S' })).toMatchObject({ count: 1, sum: 2.75 });
    expect(r.histogram('trade_matrix_bar_processing_duration_seconds', { strategy: 'S' })).toMatchObject({ count: 1, sum: 0.25 });
    expect(r.series('trade_matrix_feature_computation_duration_seconds')).toEqual([]);
    expect(r.histogram('trade_matrix_state_store_operation_duration_seconds', { operation: 'save_state' })).toMatchObject({ count: 1, sum: 0.125 });
    expect(r.value('trade_matrix_state_store_errors_total', { operation: 'save_state' })).toBe(0);
    expect(r.value('trade_matrix_runner_heartbeat_timestamp_seconds')).toBe((T0 + 9 * HOUR) / 1000);
    // Every bar present, received before its close (a pacer ahead of the bar's end): lag 0, nothing stale.
    live.bar(kernel, bars(T0 + HOUR), { ...TIMINGS, receivedAtMs: T0 + HOUR });
    r = await read();
    expect(r.value('trade_matrix_data_feed_lag_seconds', { instrument: Y, feed: 'bybit-kline' })).toBe(0);
    expect(r.value('trade_matrix_stale_inputs', { input: 'bars' })).toBe(0);
    expect(r.value('trade_matrix_stale_input_events_total', { input: 'bars' })).toBe(1);
    expect(r.histogram('trade_matrix_bar_close_to_decision_seconds', { strategy: 'S' })).toMatchObject({ count: 2, sum: 2.75 + 0.25 });
  });

  it('realised volatility and correlation over the window once it is full, ring wrap included; a missing close pauses an instrument', async () => {
    const { live, kernel, read } = setup({ volatilityWindow: 3 });
    live.warmedUp(kernel, 0, 0);
    const xs = [100, 110, 99, 104, 101, 120];
    const ys = [50, 52, 51, 55, 50, 49];
    const step = (k: number, y: number | undefined) => live.bar(kernel, { ts: T0 + k * HOUR, bars: [{ close: xs[k]!, volume: 1 }, y === undefined ? undefined : { close: y, volume: 1 }] }, TIMINGS);
    for (let k = 0; k < 3; k++) step(k, ys[k]);
    expect((await read()).series('trade_matrix_realised_volatility_ratio')).toEqual([]); // 3 closes: 2 returns
    step(3, ys[3]);
    const expected = (k: number) => {
      const rx = [1, 2, 3].map((j) => Math.log(xs[k - 3 + j]! / xs[k - 4 + j]!));
      const ry = [1, 2, 3].map((j) => Math.log(ys[k - 3 + j]! / ys[k - 4 + j]!));
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      const cov = (a: number[], b: number[]) => a.reduce((s, v, j) => s + (v - mean(a)) * (b[j]! - mean(b)), 0) / (a.length - 1);
      return { x: Math.sqrt(cov(rx, rx) * 8760), y: Math.sqrt(cov(ry, ry) * 8760), corr: cov(rx, ry) / Math.sqrt(cov(rx, rx) * cov(ry, ry)) };
    };
    let r = await read();
    expect(r.value('trade_matrix_realised_volatility_ratio', { instrument: X })).toBeCloseTo(expected(3).x, 9);
    expect(r.value('trade_matrix_realised_volatility_ratio', { instrument: Y })).toBeCloseTo(expected(3).y, 9);
    expect(r.value('trade_matrix_return_correlation_ratio', { instrument: Y, reference_instrument: X })).toBeCloseTo(expected(3).corr, 9);
    expect(r.value('trade_matrix_return_correlation_ratio', { instrument: X, reference_instrument: X })).toBeCloseTo(1, 12);
    step(4, ys[4]);
    step(5, ys[5]); // the ring's slots wrapped: the window is closes 2–5
    r = await read();
    expect(r.value('trade_matrix_realised_volatility_ratio', { instrument: X })).toBeCloseTo(expected(5).x, 9);
    expect(r.value('trade_matrix_return_correlation_ratio', { instrument: Y, reference_instrument: X })).toBeCloseTo(expected(5).corr, 9);
    // Y's close 0 at one bar (bad data, paused like a missing close): its window holds a gap for the next 3 bars (X goes on; no correlation of Y).
    const before = r.value('trade_matrix_realised_volatility_ratio', { instrument: Y });
    const corrBefore = r.value('trade_matrix_return_correlation_ratio', { instrument: Y, reference_instrument: X });
    xs.push(118, 125, 119, 121);
    for (let k = 6; k < 10; k++) step(k, k === 6 ? 0 : 50 + k);
    r = await read();
    expect(r.value('trade_matrix_realised_volatility_ratio', { instrument: Y })).toBe(before);
    expect(r.value('trade_matrix_return_correlation_ratio', { instrument: Y, reference_instrument: X })).toBe(corrBefore);
    expect(r.value('trade_matrix_realised_volatility_ratio', { instrument: X })).toBeCloseTo(expected(9).x, 9);
    ys.push(0, 57, 58, 59, 60);
    step(10, 60);
    r = await read();
    expect(r.value('trade_matrix_realised_volatility_ratio', { instrument: Y })).toBeCloseTo(expected(10).y, 9);
  });

  it('the first instrument missing: no correlation for anyone, the others’ volatility still; a constant series has no correlation', async () => {
    const { live, kernel, read } = setup({ volatilityWindow: 2 });
    live.warmedUp(kernel, 0, 0);
    const xs = [100, 104, 101, 103];
    const ys = [50, 51, 53, 53];
    const step = (k: number) => live.bar(kernel, { ts: T0 + k * HOUR, bars: [k === 2 ? undefined : { close: xs[k]!, volume: 1 }, { close: ys[k]!, volume: 1 }] }, TIMINGS);
    for (let k = 0; k < 3; k++) step(k); // X's window: one return, then the gap
    let r = await read();
    expect(r.series('trade_matrix_return_correlation_ratio')).toEqual([]);
    expect(r.series('trade_matrix_realised_volatility_ratio').map((s) => s.labels['instrument'])).toEqual([Y]);
    const a = Math.log(51 / 50), b = Math.log(53 / 51), m = (a + b) / 2;
    expect(r.value('trade_matrix_realised_volatility_ratio', { instrument: Y })).toBeCloseTo(Math.sqrt(((a - m) ** 2 + (b - m) ** 2) * 8760), 9);
    // Y constant (every return 0): volatility 0, and no correlation (a variance of 0 has none).
    const { live: other, kernel: k2, read: read2 } = setup({ volatilityWindow: 2 });
    other.warmedUp(k2, 0, 0);
    for (let k = 0; k < 3; k++) other.bar(k2, { ts: T0 + k * HOUR, bars: [{ close: xs[k]!, volume: 1 }, { close: 50, volume: 1 }] }, TIMINGS);
    r = await read2();
    expect(r.value('trade_matrix_realised_volatility_ratio', { instrument: Y })).toBe(0);
    expect(r.series('trade_matrix_return_correlation_ratio').map((s) => s.labels['instrument'])).toEqual([X]);
  });

  it('the signal stage: model time and predictions, signal, confidence, direction and IC per present instrument, funding rates known', async () => {
    const { live, kernel, read } = setup();
    live.warmedUp(kernel, 0, 0);
    kernel.annotateSizing(0, 0.3, 0.2, 0.07, 0.8, 0.0001);
    kernel.annotateSizing(1, 0.1, -0.1, NaN, 0.4, 0.0004);
    const values = [0.6, -0.2];
    const signals: ObservedSignals = { model: { name: 'gbdt', version: '3', loadedAtMs: 0 }, value: (i) => values[i]!, fundingRate: (i) => (i === 1 ? NaN : 0.0001), featureSeconds: 0.01, inferenceSeconds: 0.002 };
    live.bar(kernel, bars(), TIMINGS, signals);
    let r = await read();
    expect(r.histogram('trade_matrix_inference_duration_seconds', { model: 'gbdt' })).toMatchObject({ count: 1, sum: 0.002 });
    expect(r.value('trade_matrix_predictions_total', { model: 'gbdt' })).toBe(1);
    expect(r.histogram('trade_matrix_feature_computation_duration_seconds', { strategy: 'S' })).toMatchObject({ count: 1, sum: 0.01 });
    expect(r.series('trade_matrix_funding_rate_ratio')).toEqual([{ labels: { instrument: X }, value: 0.0001 }]);
    expect(r.each({ instrument: X, strategy: 'S' }, { signal_value: 0.6, signal_confidence_ratio: 0.8, rolling_information_coefficient_ratio: 0.07 })).toEqual({});
    expect(r.each({ instrument: Y, strategy: 'S' }, { signal_value: -0.2, signal_confidence_ratio: 0.4 })).toEqual({});
    expect(r.series('trade_matrix_rolling_information_coefficient_ratio')).toHaveLength(1); // Y's IC is NaN: not exported
    expect(r.value('trade_matrix_signals_total', { instrument: X, strategy: 'S', direction: 'long' })).toBe(1);
    expect(r.value('trade_matrix_signals_total', { instrument: Y, strategy: 'S', direction: 'short' })).toBe(1);
    // Y absent, X's signal NaN, then 0: no signal for an absent bar or a NaN; 0 is flat. No model: no inference.
    values[0] = NaN;
    live.bar(kernel, { ts: T0 + HOUR, bars: [{ close: 1, volume: 1 }, undefined] }, TIMINGS, { ...signals, model: undefined });
    values[0] = 0;
    values[1] = 0.5;
    live.bar(kernel, { ts: T0 + 2 * HOUR, bars: [{ close: 1, volume: 1 }, undefined] }, TIMINGS, { ...signals, model: undefined });
    r = await read();
    expect(r.value('trade_matrix_predictions_total', { model: 'gbdt' })).toBe(1);
    expect(r.value('trade_matrix_signals_total', { instrument: X, strategy: 'S', direction: 'flat' })).toBe(1);
    expect(r.value('trade_matrix_signals_total', { instrument: X, strategy: 'S', direction: 'long' })).toBe(1);
    expect(r.value('trade_matrix_signal_value', { instrument: Y, strategy: 'S' })).toBe(-0.2);
    expect(r.series('trade_matrix_signals_total').reduce((s, v) => s + v.value, 0)).toBe(3);
  });

  it('a signal without sizing annotations: confidence NaN, no IC', async () => {
    const { live, kernel, read } = setup();
    live.warmedUp(kernel, 0, 0);
    live.bar(kernel, bars(), TIMINGS, { model: undefined, value: () => 1, fundingRate: () => NaN, featureSeconds: 0, inferenceSeconds: 0 });
    const r = await read();
    expect(r.value('trade_matrix_signal_confidence_ratio', { instrument: X, strategy: 'S' })).toBeNaN();
    expect(r.series('trade_matrix_rolling_information_coefficient_ratio')).toEqual([]);
    expect(r.series('trade_matrix_funding_rate_ratio')).toEqual([]);
  });

  it('strategy state: a tier change counted once (a new reason is a change), regimes, sizing fractions, the annualised volatility forecast', async () => {
    const { live, kernel, read } = setup();
    live.warmedUp(kernel, 0, 0);
    kernel.annotateTier(0, 'BLENDED', 'ic low');
    kernel.annotateRegime(0, ['bull', 'bear'], [0.7, 0.3]);
    kernel.annotateSizing(0, 0.3, 0.2, 0.07, 0.8, 0.0001);
    kernel.annotateSizing(1, 0.1, -0.1, 0.02, 0.4, -1); // no forecast
    live.bar(kernel, bars(), TIMINGS);
    live.bar(kernel, bars(T0 + HOUR), TIMINGS);
    let r = await read();
    expect(r.value('trade_matrix_cascade_tier', { instrument: X, tier: 'BLENDED' })).toBe(1);
    expect(r.value('trade_matrix_cascade_tier_changes_total', { instrument: X, tier: 'BLENDED', reason: 'ic low' })).toBe(1);
    expect(r.series('trade_matrix_cascade_tier').filter((s) => s.labels['instrument'] === Y)).toEqual([]);
    expect(r.value('trade_matrix_regime_probability_ratio', { instrument: X, regime: 'bull' })).toBe(0.7);
    expect(r.value('trade_matrix_regime_probability_ratio', { instrument: X, regime: 'bear' })).toBe(0.3);
    expect(r.each({ instrument: X }, { kelly_fraction_ratio: 0.3, target_position_fraction_ratio: 0.2, volatility_forecast_ratio: Math.sqrt(0.0001 * 8760) })).toEqual({});
    expect(r.each({ instrument: Y }, { kelly_fraction_ratio: 0.1, target_position_fraction_ratio: -0.1 })).toEqual({});
    expect(r.series('trade_matrix_volatility_forecast_ratio').map((s) => s.labels['instrument'])).toEqual([X]);
    expect(r.series('trade_matrix_kelly_fraction_ratio').map((s) => s.labels['instrument'])).toEqual([X, Y]);
    kernel.annotateTier(0, 'BLENDED', 'drawdown');
    kernel.annotateSizing(1, 0.1, -0.1, 0.02, 0.4, 0); // a forecast of 0 is exported
    live.bar(kernel, bars(T0 + 2 * HOUR), TIMINGS);
    r = await read();
    expect(r.value('trade_matrix_cascade_tier_changes_total', { instrument: X, tier: 'BLENDED', reason: 'drawdown' })).toBe(1);
    expect(r.value('trade_matrix_cascade_tier_changes_total', { instrument: X, tier: 'BLENDED', reason: 'ic low' })).toBe(1);
    expect(r.value('trade_matrix_volatility_forecast_ratio', { instrument: Y })).toBe(0);
  });
});

describe('LiveMetrics: breaker, reconciliation, journal, state store, stop', () => {
  it('the account’s trading state is the breaker (REDUCING half open, HALTED open and unready); an instrument’s own halt is not', async () => {
    const { live, kernel, read } = setup();
    live.warmedUp(kernel, 0, 0);
    kernel.setTradingState('REDUCING', 'drawdown');
    live.bar(kernel, bars(), TIMINGS);
    let r = await read();
    expect(r.value('trade_matrix_circuit_breaker_state', { strategy: 'S', state: 'half_open' })).toBe(1);
    expect(r.value('trade_matrix_circuit_breaker_state', { strategy: 'S', state: 'closed' })).toBe(0);
    const trigger = kernel.risk.changes.at(-1)!.trigger;
    expect(r.value('trade_matrix_circuit_breaker_transitions_total', { strategy: 'S', state: 'half_open', reason: trigger })).toBe(1);
    expect(live.readiness().breakerNotOpen).toBe(true);
    kernel.setInstrumentHalted(1, true, 'lost order');
    kernel.setTradingState('HALTED', 'kill');
    live.bar(kernel, bars(T0 + HOUR), TIMINGS);
    r = await read();
    expect(r.value('trade_matrix_circuit_breaker_state', { strategy: 'S', state: 'open' })).toBe(1);
    expect(r.series('trade_matrix_circuit_breaker_transitions_total').reduce((s, v) => s + v.value, 0)).toBe(3); // start, half open, open
    expect(live.readiness()).toEqual({ warmedUp: true, reconciled: true, breakerNotOpen: false });
    expect(r.value('trade_matrix_runner_ready')).toBe(0);
    kernel.setTradingState('ACTIVE', 'operator');
    live.bar(kernel, bars(T0 + 2 * HOUR), TIMINGS);
    r = await read();
    expect(r.value('trade_matrix_circuit_breaker_state', { strategy: 'S', state: 'closed' })).toBe(1);
    expect(r.value('trade_matrix_runner_ready')).toBe(1);
  });

  it('reconciliation: clean or differences, each difference by instrument (id, index or the account) and kind', async () => {
    const { live, clock, read } = setup({ mode: 'live' });
    clock.now = T0 + 7_000;
    live.reconciled([], 0.25);
    live.reconciled([], 0.25);
    live.reconciled(
      [
        { kind: 'missed_fill', detail: { instrument: Y } },
        { kind: 'position_mismatch', detail: { instrument: 0 } },
        { kind: 'adopted_order', detail: { instrument: 1 } },
        { kind: 'balance_mismatch', detail: {} },
        { kind: 'resent', detail: { instrument: 5 } },
      ],
      1.25,
    );
    const r = await read();
    expect(r.value('trade_matrix_reconciliation_runs_total', { status: 'clean' })).toBe(2);
    expect(r.value('trade_matrix_reconciliation_runs_total', { status: 'differences' })).toBe(1);
    expect(r.value('trade_matrix_last_reconciliation_timestamp_seconds')).toBe((T0 + 7_000) / 1000);
    expect(r.histogram('trade_matrix_reconciliation_duration_seconds')).toMatchObject({ count: 3, sum: 1.75 });
    expect(r.each({ instrument: Y, kind: 'position' }, { reconciliation_differences_total: 1 })).toEqual({});
    expect(r.each({ instrument: X, kind: 'position' }, { reconciliation_differences_total: 1 })).toEqual({});
    expect(r.each({ instrument: Y, kind: 'order' }, { reconciliation_differences_total: 1 })).toEqual({});
    expect(r.each({ instrument: 'account', kind: 'balance' }, { reconciliation_differences_total: 1 })).toEqual({});
    expect(r.each({ instrument: 'unknown', kind: 'order' }, { reconciliation_differences_total: 1 })).toEqual({});
    expect(r.series('trade_matrix_reconciliation_differences_total').reduce((s, v) => s + v.value, 0)).toBe(5);
  });

  it('the journal: records appended after creation, by kind, only once complete; bytes and the file’s size', async () => {
    const dir = tempDir('tm-live-metrics-journal-');
    const journalPath = join(dir, 'journal.jsonl');
    const old = '{"k":"start","t":1}\n';
    writeFileSync(journalPath, old);
    const { live, kernel, read } = setup({ journalPath });
    live.warmedUp(kernel, 0, 0);
    const submit = '{"k":"submit","t":2,"id":"a"}\n';
    const fillLine = '{"k":"fill","t":3,"q":1}\n';
    appendFileSync(journalPath, submit + fillLine + '{"k":"cancel"');
    live.bar(kernel, bars(), TIMINGS);
    let r = await read();
    expect(r.value('trade_matrix_journal_entries_total', { kind: 'submit' })).toBe(1);
    expect(r.value('trade_matrix_journal_entries_total', { kind: 'fill' })).toBe(1);
    expect(r.series('trade_matrix_journal_entries_total')).toHaveLength(2); // the start is older; the cancel is not complete
    expect(r.value('trade_matrix_journal_written_bytes_total')).toBe(submit.length + fillLine.length);
    expect(r.value('trade_matrix_journal_size_bytes')).toBe(old.length + submit.length + fillLine.length);
    // The rest of the cancel, a record of the non-ASCII reason (bytes, not characters) and a line of no kind.
    const rest = ',"reason":"prix trop élevé"}\n';
    appendFileSync(journalPath, rest + 'garbage{"k":"fill"}\n');
    live.stopped(kernel);
    r = await read();
    const cancelBytes = Buffer.byteLength('{"k":"cancel"' + rest);
    expect(r.value('trade_matrix_journal_entries_total', { kind: 'cancel' })).toBe(1);
    expect(r.value('trade_matrix_journal_entries_total', { kind: 'unknown' })).toBe(1);
    expect(r.value('trade_matrix_journal_written_bytes_total')).toBe(submit.length + fillLine.length + cancelBytes + 'garbage{"k":"fill"}\n'.length);
    expect(r.value('trade_matrix_journal_size_bytes')).toBe(old.length + submit.length + fillLine.length + cancelBytes + 'garbage{"k":"fill"}\n'.length);
  });

  it('a journal larger than one read, and one created after the metrics: every record counted', async () => {
    const dir = tempDir('tm-live-metrics-journal-');
    const journalPath = join(dir, 'journal.jsonl');
    const { live, kernel, read } = setup({ journalPath });
    live.warmedUp(kernel, 0, 0);
    live.bar(kernel, bars(), TIMINGS); // no file yet: nothing
    const line = `{"k":"bar","pad":"${'x'.repeat(1000)}"}\n`;
    appendFileSync(journalPath, line.repeat(200)); // 200 KB: four reads of 64 KiB, lines across their edges
    live.bar(kernel, bars(T0 + HOUR), TIMINGS);
    const r = await read();
    expect(r.value('trade_matrix_journal_entries_total', { kind: 'bar' })).toBe(200);
    expect(r.value('trade_matrix_journal_size_bytes')).toBe(200 * line.length);
    expect(r.value('trade_matrix_journal_written_bytes_total')).toBe(200 * line.length);
  });

  it('state saves: timed per operation, a failed one counted as an error', async () => {
    const { live, read } = setup();
    live.stateSaved(0.02, true);
    live.stateSaved(0.5, false);
    const r = await read();
    expect(r.histogram('trade_matrix_state_store_operation_duration_seconds', { operation: 'save_runner_state' })).toMatchObject({ count: 2, sum: 0.52 });
    expect(r.value('trade_matrix_state_store_errors_total', { operation: 'save_runner_state' })).toBe(1);
  });

  it('stopped: unready, with the fills and account state after the last bar', async () => {
    const { live, kernel, read } = setup();
    live.warmedUp(kernel, 0, 0);
    fill(kernel, kernel.submitOrder(market(0, 'buy', 1)), 0, 'buy', 1, 100);
    kernel.setTradingState('REDUCING', 'stop');
    live.stopped(kernel);
    const r = await read();
    expect(r.value('trade_matrix_runner_ready')).toBe(0);
    expect(live.readiness().warmedUp).toBe(false);
    expect(r.value('trade_matrix_fills_total', { instrument: X, side: 'buy', liquidity: 'taker' })).toBe(1);
    expect(r.value('trade_matrix_position_quantity_base', { instrument: X })).toBe(1);
    expect(r.value('trade_matrix_circuit_breaker_state', { strategy: 'S', state: 'half_open' })).toBe(1);
  });

  it('spread by instrument index, model swaps: a success loads the version, a refusal does not', async () => {
    const { live, clock, read } = setup();
    live.spread(1, 2.5);
    live.spread(7, 1); // an index the run does not have: labelled by the number
    clock.now = 12_000;
    live.modelSwap('gbdt', '8', true);
    live.modelSwap('gbdt', '9', false);
    const r = await read();
    expect(r.value('trade_matrix_spread_basis_points', { instrument: Y })).toBe(2.5);
    expect(r.value('trade_matrix_spread_basis_points', { instrument: '7' })).toBe(1);
    expect(r.value('trade_matrix_model_swaps_total', { model: 'gbdt', status: 'succeeded' })).toBe(1);
    expect(r.value('trade_matrix_model_swaps_total', { model: 'gbdt', status: 'failed' })).toBe(1);
    expect(r.series('trade_matrix_model_info')).toEqual([{ labels: { model: 'gbdt', version: '8', stage: 'paper' }, value: 1 }]);
    expect(r.value('trade_matrix_model_loaded_timestamp_seconds', { model: 'gbdt' })).toBe(12);
  });
});

describe('reasonLabel', () => {
  it('a risk rule, else the first word in lower case, else unknown', () => {
    expect(reasonLabel('risk: max_order_notional 50000 < 61234.5')).toBe('risk_max_order_notional');
    expect(reasonLabel('risk:order_rate')).toBe('risk_order_rate');
    expect(reasonLabel('not a risk: max_order_notional')).toBe('not');
    expect(reasonLabel('lost: order x unknown to the venue after 3 queries')).toBe('lost');
    expect(reasonLabel('110007 Insufficient balance')).toBe('insufficient');
    expect(reasonLabel('post_only would take')).toBe('post_only');
    expect(reasonLabel('110007 42')).toBe('unknown');
    expect(reasonLabel('')).toBe('unknown');
    expect(reasonLabel(undefined)).toBe('unknown');
  });
});

describe('timeVenueCalls and startLiveMetrics', () => {
  it('times the named method: ok, failures by AppError code, error name or unknown; other members pass through bound', async () => {
    const metrics = createTradingMetrics({ processMetrics: false });
    let wall = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (wall += 250));
    const source = {
      label: 'venue',
      calls: 0,
      async fetch(x: number): Promise<number> {
        this.calls++;
        if (x === 1) throw new AppError('rate_limited', 'slow down');
        if (x === 2) throw new RangeError('bad');
        if (x === 3) throw 'a string';
        return x * 2;
      },
      other(): string {
        return this.label;
      },
    };
    const timed = timeVenueCalls(source, 'fetch', 'kline', metrics);
    expect(await timed.fetch(5)).toBe(10);
    for (const x of [1, 2, 3]) await expect(timed.fetch(x)).rejects.toBeDefined();
    expect(timed.other()).toBe('venue');
    expect(timed.label).toBe('venue');
    expect(source.calls).toBe(4);
    const r = await readMetrics(metrics);
    expect(r.value('trade_matrix_venue_requests_total', { endpoint: 'kline', status: 'ok' })).toBe(1);
    expect(r.value('trade_matrix_venue_requests_total', { endpoint: 'kline', status: 'error' })).toBe(3);
    expect(r.series('trade_matrix_venue_errors_total')).toEqual([
      { labels: { code: 'rate_limited' }, value: 1 },
      { labels: { code: 'RangeError' }, value: 1 },
      { labels: { code: 'unknown' }, value: 1 },
    ]);
    expect(r.histogram('trade_matrix_venue_request_duration_seconds', { endpoint: 'kline' })).toMatchObject({ count: 4, sum: 1 });
  });

  it('startLiveMetrics serves the run’s metrics with the process metrics, named by the environment; a bad name is refused', async () => {
    const { live, server, timeVenueCalls: timed } = await startLiveMetrics({ port: 0, env: { TM_METRICS_HOST: '127.0.0.1', TM_RUNNER_NAME: 'desk-2' }, mode: 'demo', version: '1.0.0', strategy: 'S', instruments: [X], timeframeMs: HOUR });
    try {
      const feed = timed({ fetchBarsPage: async () => 'page', other: 1 });
      expect(await feed.fetchBarsPage()).toBe('page');
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toContain('trade_matrix_runner_info{runner="desk-2",version="1.0.0",mode="live"} 1');
      expect(text).toMatch(/^process_cpu_user_seconds_total /m);
      expect(text).toContain('trade_matrix_venue_requests_total{endpoint="kline",status="ok"} 1');
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
      expect(live.readiness().reconciled).toBe(false);
    } finally {
      await server.close();
    }
    const paper = await startLiveMetrics({ port: 0, env: {}, mode: 'paper', version: '1.0.0', strategy: 'S', instruments: [X], timeframeMs: HOUR });
    await paper.server.close();
    expect(paper.live.readiness().reconciled).toBe(true);
    const error = await startLiveMetrics({ port: 0, env: { TM_RUNNER_NAME: 'Desk 2' }, mode: 'paper', version: '1', strategy: 'S', instruments: [X], timeframeMs: HOUR }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid_monitoring_config');
    expect((error as Error).message).toContain('TM_RUNNER_NAME');
  });
});
