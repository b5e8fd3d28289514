/**
 * The facade of createTradingMetrics method by method: each call's families, labels and values by hand (counters add,
 * gauges set, histograms bucket with `le`), the series initialiseSeries creates, and what a call must not create.
 */
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../core/app-error.js';
import { readMetrics as read } from '../../test/support/metric-values.js';
import { createTradingMetrics } from './trading-metrics.js';

const X = 'BTCUSDT-LINEAR.BYBIT';
const Y = 'ETHUSDT-LINEAR.BYBIT';

describe('trading metrics facade, call by call', () => {
  it('runner, readiness and heartbeat: info 1, times in seconds', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    m.runnerStarted('r1', '1.2.3', 'paper', 5_000);
    m.heartbeat(7_500);
    m.setReady(true);
    let r = await read(m);
    expect(r.value('trade_matrix_runner_info', { runner: 'r1', version: '1.2.3', mode: 'paper' })).toBe(1);
    expect(r.value('trade_matrix_runner_start_timestamp_seconds')).toBe(5);
    expect(r.value('trade_matrix_runner_heartbeat_timestamp_seconds')).toBe(7.5);
    expect(r.value('trade_matrix_runner_ready')).toBe(1);
    m.setReady(false);
    r = await read(m);
    expect(r.value('trade_matrix_runner_ready')).toBe(0);
  });

  it('account: the first equity is the peak; no drawdown or leverage without positive equity', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    const account = { balance: 5, availableBalance: 4, marginUsed: 3, grossExposure: 100, netExposure: -20 };
    m.drawdownLimit('S', 0.2);
    m.accountUpdated('S', { ...account, equity: 0 });
    let r = await read(m);
    expect(r.value('trade_matrix_drawdown_limit_ratio', { strategy: 'S' })).toBe(0.2);
    expect(r.value('trade_matrix_peak_equity_usdt', { strategy: 'S' })).toBe(0);
    expect(r.value('trade_matrix_drawdown_ratio', { strategy: 'S' })).toBe(0);
    expect(r.value('trade_matrix_account_leverage_ratio', { strategy: 'S' })).toBe(0);
    expect(r.value('trade_matrix_balance_usdt', { strategy: 'S' })).toBe(5);
    expect(r.value('trade_matrix_available_balance_usdt', { strategy: 'S' })).toBe(4);
    expect(r.value('trade_matrix_margin_used_usdt', { strategy: 'S' })).toBe(3);
    expect(r.value('trade_matrix_gross_exposure_usdt', { strategy: 'S' })).toBe(100);
    expect(r.value('trade_matrix_net_exposure_usdt', { strategy: 'S' })).toBe(-20);
    m.accountUpdated('S', { ...account, equity: 200 });
    m.accountUpdated('S', { ...account, equity: 150 });
    // Another strategy's peak is its own.
    m.accountUpdated('T', { ...account, equity: 50 });
    r = await read(m);
    expect(r.value('trade_matrix_peak_equity_usdt', { strategy: 'S' })).toBe(200);
    expect(r.value('trade_matrix_drawdown_ratio', { strategy: 'S' })).toBe(0.25);
    expect(r.value('trade_matrix_account_leverage_ratio', { strategy: 'S' })).toBe(100 / 150);
    expect(r.value('trade_matrix_peak_equity_usdt', { strategy: 'T' })).toBe(50);
    expect(r.value('trade_matrix_drawdown_ratio', { strategy: 'T' })).toBe(0);
  });

  it('position, bar and market gauges', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    m.positionUpdated(X, { quantity: -2, notional: -200, entryPrice: 101, unrealisedPnl: 2, realisedPnl: 7, liquidationPrice: 150, leverage: 0.5 });
    m.barClosed(X, 3_600_000, 100, 12, 3600);
    m.barClosed(X, 7_200_000, 99, 13, 3600);
    m.marketUpdated(X, 1.5, 0.6, 0.0001);
    m.correlation(X, Y, 0.8);
    m.feedMessage('bybit', X, 0.25);
    m.feedMessage('bybit', Y, 0.5);
    m.feedReconnected('bybit');
    m.feedReconnected('bybit');
    let r = await read(m);
    expect(r.each({ instrument: X }, {
      position_quantity_base: -2,
      position_notional_usdt: -200,
      position_entry_price_usdt: 101,
      unrealised_pnl_usdt: 2,
      realised_pnl_usdt: 7,
      liquidation_price_usdt: 150,
      position_leverage_ratio: 0.5,
      last_bar_close_timestamp_seconds: 7200,
      market_price_usdt: 99,
      bar_volume_base: 13,
      bar_interval_seconds: 3600,
      bars_processed_total: 2,
      spread_basis_points: 1.5,
      realised_volatility_ratio: 0.6,
      funding_rate_ratio: 0.0001,
    })).toEqual({});
    expect(r.value('trade_matrix_return_correlation_ratio', { instrument: X, reference_instrument: Y })).toBe(0.8);
    expect(r.value('trade_matrix_data_feed_lag_seconds', { instrument: Y, feed: 'bybit' })).toBe(0.5);
    expect(r.value('trade_matrix_feed_messages_total', { feed: 'bybit' })).toBe(2);
    expect(r.value('trade_matrix_feed_reconnects_total', { feed: 'bybit' })).toBe(2);
    // The three market gauges one by one.
    m.realisedVolatility(X, 0.7);
    m.fundingRate(X, -0.0002);
    m.spread(X, 2.5);
    r = await read(m);
    expect(r.value('trade_matrix_realised_volatility_ratio', { instrument: X })).toBe(0.7);
    expect(r.value('trade_matrix_funding_rate_ratio', { instrument: X })).toBe(-0.0002);
    expect(r.value('trade_matrix_spread_basis_points', { instrument: X })).toBe(2.5);
  });

  it('stale inputs: the gauge is the count now, the counter counts each new stale event', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    m.staleInputs('funding', 2, true);
    m.staleInputs('funding', 1, false);
    m.staleInputs('dvol', 0, false);
    const r = await read(m);
    expect(r.value('trade_matrix_stale_inputs', { input: 'funding' })).toBe(1);
    expect(r.value('trade_matrix_stale_input_events_total', { input: 'funding' })).toBe(1);
    expect(r.series('trade_matrix_stale_input_events_total').map((s) => s.labels['input'])).toEqual(['funding']);
  });

  it('orders and fills: counters add per label set; a fee of 0 or a rebate is no fee paid; slippage only when known', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    m.orderSubmitted(X, 'buy');
    for (let k = 0; k < 2; k++) {
      m.orderUpdated(X, 'accepted');
      m.orderRejected(X, 'risk_notional');
    }
    m.orderCancelled(X, 'user');
    m.openOrders(X, 3);
    m.fill(X, 'buy', 'taker', 0.5, 100, 0.03, 1.5);
    m.fill(X, 'sell', 'maker', -0.25, 120, 0);
    m.fill(Y, 'buy', 'maker', 1, 10, -0.01);
    m.fill('SOLUSDT-LINEAR.BYBIT', 'buy', 'maker', 1, 10, 0);
    const r = await read(m);
    expect(r.value('trade_matrix_order_updates_total', { instrument: X, status: 'accepted' })).toBe(2);
    expect(r.value('trade_matrix_order_rejections_total', { instrument: X, reason: 'risk_notional' })).toBe(2);
    expect(r.value('trade_matrix_order_cancellations_total', { instrument: X, reason: 'user' })).toBe(1);
    expect(r.value('trade_matrix_open_orders', { instrument: X })).toBe(3);
    expect(r.value('trade_matrix_fills_total', { instrument: X, side: 'sell', liquidity: 'maker' })).toBe(1);
    expect(r.value('trade_matrix_filled_quantity_base_total', { instrument: X, side: 'sell' })).toBe(0.25);
    expect(r.value('trade_matrix_filled_notional_usdt_total', { instrument: X, side: 'sell' })).toBe(30);
    expect(r.value('trade_matrix_turnover_usdt_total', { instrument: X })).toBe(80);
    expect(r.value('trade_matrix_last_fill_price_usdt', { instrument: X })).toBe(120);
    expect(r.series('trade_matrix_fees_paid_usdt_total')).toEqual([{ labels: { instrument: X }, value: 0.03 }]);
    const slippage = r.histogram('trade_matrix_fill_slippage_basis_points', { instrument: X });
    expect(slippage).toMatchObject({ sum: 1.5, count: 1 });
    expect(slippage.buckets['1']).toBe(0);
    expect(slippage.buckets['2']).toBe(1);
    expect(r.histogram('trade_matrix_fill_slippage_basis_points', { instrument: Y }).series).toBe(0);
  });

  it('trades, funding and liquidations: a trade of 0 is a loss; funding sets the running total and counts payments', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    m.tradeClosed(X, 25);
    m.tradeClosed(X, 0);
    m.tradeClosed(X, -30);
    m.fundingPaid(X, 1.5);
    m.fundingPaid(X, 2, 0);
    m.fundingPaid(X, 2.5, 2);
    m.liquidated(X);
    const r = await read(m);
    expect(r.value('trade_matrix_trades_total', { instrument: X, outcome: 'win' })).toBe(1);
    expect(r.value('trade_matrix_trades_total', { instrument: X, outcome: 'loss' })).toBe(2);
    // Buckets (le): 25 is in le=25; 0 in le=0; -30 in le=-25.
    const pnl = r.histogram('trade_matrix_trade_pnl_usdt', { instrument: X });
    expect(pnl).toMatchObject({ sum: -5, count: 3 });
    expect([pnl.buckets['-100'], pnl.buckets['-25'], pnl.buckets['0'], pnl.buckets['25'], pnl.buckets['+Inf']]).toEqual([0, 1, 2, 3, 3]);
    expect(r.value('trade_matrix_funding_paid_usdt', { instrument: X })).toBe(2.5);
    expect(r.value('trade_matrix_funding_payments_total', { instrument: X })).toBe(3);
    expect(r.value('trade_matrix_liquidations_total', { instrument: X })).toBe(1);
  });

  it('latencies and the model: a strategy without a feature stage observes no feature time; swaps by outcome', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    m.acknowledgementLatency(X, 0.05);
    m.fillLatency(X, 0.3);
    m.barProcessed('S', undefined, 0.004);
    m.barProcessed('T', 0.001, 0.002);
    m.inference('model-a', 0.0002);
    m.signal(X, 'S', -0.4, 0.4, 'short');
    m.informationCoefficient(X, 'S', 0.07);
    m.modelLoaded('model-a', '3', 'production', 9_000);
    let r = await read(m);
    // Loaded: both swap outcomes exist at 0 before any swap.
    expect(r.value('trade_matrix_model_swaps_total', { model: 'model-a', status: 'succeeded' })).toBe(0);
    expect(r.value('trade_matrix_model_swaps_total', { model: 'model-a', status: 'failed' })).toBe(0);
    m.modelSwap('model-a', true);
    m.modelSwap('model-a', false);
    m.modelSwap('model-a', false);
    r = await read(m);
    expect(r.value('trade_matrix_model_swaps_total', { model: 'model-a', status: 'succeeded' })).toBe(1);
    expect(r.value('trade_matrix_model_swaps_total', { model: 'model-a', status: 'failed' })).toBe(2);
    expect(r.histogram('trade_matrix_decision_to_acknowledgement_seconds', { instrument: X })).toMatchObject({ sum: 0.05, count: 1 });
    expect(r.histogram('trade_matrix_decision_to_acknowledgement_seconds', { instrument: X }).buckets['0.05']).toBe(1); // on a bound: in it (le)
    expect(r.histogram('trade_matrix_decision_to_acknowledgement_seconds', { instrument: X }).buckets['0.025']).toBe(0);
    expect(r.histogram('trade_matrix_acknowledgement_to_fill_seconds', { instrument: X })).toMatchObject({ sum: 0.3, count: 1 });
    expect(r.histogram('trade_matrix_feature_computation_duration_seconds', { strategy: 'S' }).series).toBe(0);
    expect(r.histogram('trade_matrix_feature_computation_duration_seconds', { strategy: 'T' })).toMatchObject({ sum: 0.001, count: 1 });
    expect(r.histogram('trade_matrix_bar_processing_duration_seconds', { strategy: 'S' })).toMatchObject({ sum: 0.004, count: 1 });
    expect(r.histogram('trade_matrix_inference_duration_seconds', { model: 'model-a' })).toMatchObject({ sum: 0.0002, count: 1 });
    expect(r.value('trade_matrix_predictions_total', { model: 'model-a' })).toBe(1);
    expect(r.value('trade_matrix_signal_value', { instrument: X, strategy: 'S' })).toBe(-0.4);
    expect(r.value('trade_matrix_signal_confidence_ratio', { instrument: X, strategy: 'S' })).toBe(0.4);
    expect(r.value('trade_matrix_signals_total', { instrument: X, strategy: 'S', direction: 'short' })).toBe(1);
    expect(r.value('trade_matrix_rolling_information_coefficient_ratio', { instrument: X, strategy: 'S' })).toBe(0.07);
    expect(r.value('trade_matrix_model_loaded_timestamp_seconds', { model: 'model-a' })).toBe(9);
  });

  it('sizing, regime and breaker: a tie keeps the first regime the leader; the breaker is one-hot over its three states', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    m.sizing(X, 0.25, -0.5);
    m.volatilityForecast(X, 0.9);
    m.consecutiveLosses('S', 4);
    m.regime(X, ['calm', 'storm'], [0.5, 0.5]);
    m.regime(X, ['calm', 'storm'], [0.5, 0.5]);
    m.breaker('S', 'open', 'losses');
    let r = await read(m);
    expect(r.value('trade_matrix_kelly_fraction_ratio', { instrument: X })).toBe(0.25);
    expect(r.value('trade_matrix_target_position_fraction_ratio', { instrument: X })).toBe(-0.5);
    expect(r.value('trade_matrix_volatility_forecast_ratio', { instrument: X })).toBe(0.9);
    expect(r.value('trade_matrix_consecutive_losses', { strategy: 'S' })).toBe(4);
    expect(r.series('trade_matrix_regime_probability_ratio')).toHaveLength(2);
    expect(r.series('trade_matrix_regime_changes_total')).toEqual([{ labels: { instrument: X, regime: 'calm' }, value: 1 }]);
    expect(r.series('trade_matrix_circuit_breaker_state').map((s) => [s.labels['state'], s.value])).toEqual([['closed', 0], ['open', 1], ['half_open', 0]]);
    expect(r.value('trade_matrix_circuit_breaker_transitions_total', { strategy: 'S', state: 'open', reason: 'losses' })).toBe(1);
    // The tier is one-hot per instrument: another instrument's tiers are not its series.
    m.tier(X, 'FULL_RL', 'start');
    m.tier(Y, 'PURE_KELLY', 'start');
    m.tier(X, 'BLENDED', 'drift');
    r = await read(m);
    expect(r.series('trade_matrix_cascade_tier').map((s) => [s.labels['instrument'], s.labels['tier'], s.value])).toEqual([
      [X, 'FULL_RL', 0],
      [Y, 'PURE_KELLY', 1],
      [X, 'BLENDED', 1],
    ]);
    // A third, strictly larger probability takes the lead.
    m.regime(X, ['calm', 'storm', 'crash'], [0.2, 0.3, 0.5]);
    r = await read(m);
    expect(r.value('trade_matrix_regime_changes_total', { instrument: X, regime: 'crash' })).toBe(1);
  });

  it('warm-up, reconciliation, venue, journal and state store', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    m.warmupFinished('redis', 0.12, { [X]: 300, [Y]: 250 });
    m.warmupFinished('bootstrap', 2, { [X]: 400 });
    m.reconciled('differences', 0.3, 60_000, [{ instrument: X, kind: 'position' }, { instrument: X, kind: 'position' }, { instrument: Y, kind: 'order' }]);
    m.venueRequest('create_order', true, 0.04);
    m.venueRequest('create_order', false, 0.2);
    m.venueError('110072');
    m.rateLimitWait('create_order', 0.5);
    m.rateLimitWait('create_order', 0.25);
    m.journalAppended('fill', 120, 1_000);
    m.journalAppended('fill', 80, 1_080);
    m.stateStoreOperation('save', 0.002, true);
    m.stateStoreOperation('save', 0.003, false);
    m.stateStoreOperation('load', 0.001, true);
    const r = await read(m);
    expect(r.series('trade_matrix_warmup_tier').map((s) => [s.labels['tier'], s.value])).toEqual([['redis', 0], ['bootstrap', 1]]);
    expect(r.value('trade_matrix_warmup_duration_seconds')).toBe(2);
    expect(r.value('trade_matrix_warmup_bars', { instrument: X })).toBe(400);
    expect(r.value('trade_matrix_warmup_bars', { instrument: Y })).toBe(250);
    expect(r.value('trade_matrix_reconciliation_runs_total', { status: 'differences' })).toBe(1);
    expect(r.value('trade_matrix_reconciliation_differences_total', { instrument: X, kind: 'position' })).toBe(2);
    expect(r.value('trade_matrix_reconciliation_differences_total', { instrument: Y, kind: 'order' })).toBe(1);
    expect(r.value('trade_matrix_last_reconciliation_timestamp_seconds')).toBe(60);
    expect(r.histogram('trade_matrix_reconciliation_duration_seconds')).toMatchObject({ sum: 0.3, count: 1 });
    expect(r.value('trade_matrix_venue_requests_total', { endpoint: 'create_order', status: 'ok' })).toBe(1);
    expect(r.value('trade_matrix_venue_requests_total', { endpoint: 'create_order', status: 'error' })).toBe(1);
    expect(r.histogram('trade_matrix_venue_request_duration_seconds', { endpoint: 'create_order' })).toMatchObject({ sum: 0.04 + 0.2, count: 2 });
    expect(r.value('trade_matrix_venue_errors_total', { code: '110072' })).toBe(1);
    expect(r.value('trade_matrix_rate_limit_waits_total', { endpoint: 'create_order' })).toBe(2);
    expect(r.value('trade_matrix_rate_limit_wait_seconds_total', { endpoint: 'create_order' })).toBe(0.75);
    expect(r.value('trade_matrix_journal_entries_total', { kind: 'fill' })).toBe(2);
    expect(r.value('trade_matrix_journal_written_bytes_total')).toBe(200);
    expect(r.value('trade_matrix_journal_size_bytes')).toBe(1_080);
    expect(r.histogram('trade_matrix_state_store_operation_duration_seconds', { operation: 'save' })).toMatchObject({ sum: 0.005, count: 2 });
    expect(r.series('trade_matrix_state_store_errors_total')).toEqual([{ labels: { operation: 'save' }, value: 1 }]);
  });

  it('a non-finite observation is an invariant error naming the series', () => {
    const m = createTradingMetrics({ processMetrics: false });
    let error: unknown;
    try {
      m.fillLatency(X, Number.POSITIVE_INFINITY);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvariantError);
    expect(error).toMatchObject({ message: 'histogram observation must be finite, was Infinity', context: { labels: { instrument: X } } });
  });
});

describe('initialiseSeries', () => {
  it('creates at 0 exactly the known series (a venue run: reconciliation and rate limits too); values already counted stay', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    m.orderSubmitted(X, 'buy');
    m.initialiseSeries({ instruments: [X], inputs: ['funding'], feeds: ['bybit'], operations: ['save'], reconciliation: true, rateLimitEndpoints: ['create_order'] });
    const r = await read(m);
    const labelled = (name: string) => r.series(name).map((s) => [s.labels, s.value]);
    const each = (labels: Record<string, string>[]) => labels.map((l) => [l, 0]);
    for (const name of ['trade_matrix_fees_paid_usdt_total', 'trade_matrix_funding_payments_total', 'trade_matrix_liquidations_total', 'trade_matrix_turnover_usdt_total', 'trade_matrix_bars_processed_total']) {
      expect(labelled(name), name).toEqual(each([{ instrument: X }]));
    }
    expect(labelled('trade_matrix_trades_total')).toEqual(each([{ instrument: X, outcome: 'win' }, { instrument: X, outcome: 'loss' }]));
    expect(labelled('trade_matrix_order_updates_total')).toEqual(each(['accepted', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired'].map((status) => ({ instrument: X, status }))));
    expect(labelled('trade_matrix_orders_submitted_total')).toEqual([[{ instrument: X, side: 'buy' }, 1], [{ instrument: X, side: 'sell' }, 0]]);
    for (const name of ['trade_matrix_filled_quantity_base_total', 'trade_matrix_filled_notional_usdt_total']) {
      expect(labelled(name), name).toEqual(each([{ instrument: X, side: 'buy' }, { instrument: X, side: 'sell' }]));
    }
    expect(labelled('trade_matrix_fills_total')).toEqual(
      each([
        { instrument: X, side: 'buy', liquidity: 'maker' },
        { instrument: X, side: 'buy', liquidity: 'taker' },
        { instrument: X, side: 'sell', liquidity: 'maker' },
        { instrument: X, side: 'sell', liquidity: 'taker' },
      ]),
    );
    expect(labelled('trade_matrix_stale_input_events_total')).toEqual(each([{ input: 'funding' }]));
    expect(labelled('trade_matrix_feed_messages_total')).toEqual(each([{ feed: 'bybit' }]));
    expect(labelled('trade_matrix_feed_reconnects_total')).toEqual(each([{ feed: 'bybit' }]));
    expect(labelled('trade_matrix_state_store_errors_total')).toEqual(each([{ operation: 'save' }]));
    expect(labelled('trade_matrix_rate_limit_waits_total')).toEqual(each([{ endpoint: 'create_order' }]));
    expect(labelled('trade_matrix_rate_limit_wait_seconds_total')).toEqual(each([{ endpoint: 'create_order' }]));
    expect(labelled('trade_matrix_reconciliation_runs_total')).toEqual(each([{ status: 'clean' }, { status: 'differences' }]));
    expect(labelled('trade_matrix_reconciliation_differences_total')).toEqual(each([{ instrument: X, kind: 'order' }, { instrument: X, kind: 'position' }, { instrument: 'account', kind: 'balance' }]));
    expect(r.histogram('trade_matrix_reconciliation_duration_seconds')).toMatchObject({ sum: 0, count: 0 });
    expect(r.histogram('trade_matrix_decision_to_acknowledgement_seconds', { instrument: X })).toMatchObject({ sum: 0, count: 0 });
    expect(r.histogram('trade_matrix_acknowledgement_to_fill_seconds', { instrument: X })).toMatchObject({ sum: 0, count: 0 });
  });

  it('a run that is not a venue run, with no inputs, feeds or operations: none of those series', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    m.initialiseSeries({ instruments: [X] });
    const r = await read(m);
    for (const name of ['trade_matrix_stale_input_events_total', 'trade_matrix_feed_messages_total', 'trade_matrix_feed_reconnects_total', 'trade_matrix_state_store_errors_total', 'trade_matrix_rate_limit_waits_total', 'trade_matrix_rate_limit_wait_seconds_total', 'trade_matrix_reconciliation_runs_total', 'trade_matrix_reconciliation_differences_total', 'trade_matrix_reconciliation_duration_seconds']) {
      expect(r.series(name), name).toEqual([]);
    }
  });
});

describe('bar recorder bound after the facade wrote its series', () => {
  it('carries the values, histogram sums and counts already there, and its heartbeat is in seconds', async () => {
    const m = createTradingMetrics({ processMetrics: false });
    m.decisionLatency('S', 0.003);
    m.barProcessed('S', 0.0004, 0.004);
    m.inference('model-a', 0.0002);
    m.signal(X, 'S', 0, 0.1, 'flat');
    m.barClosed(X, 3_600_000, 100, 1, 3600);
    const recorder = m.barRecorder(X, 'S', 'model-a');
    recorder.record(7_200_000, 101, 2, 3600, 0.0005, 0.0003, 0.005, 0.01, 0, 0.2, 7_200_500);
    const r = await read(m);
    expect(r.histogram('trade_matrix_bar_close_to_decision_seconds', { strategy: 'S' })).toMatchObject({ sum: 0.003 + 0.01, count: 2 });
    expect(r.histogram('trade_matrix_feature_computation_duration_seconds', { strategy: 'S' })).toMatchObject({ sum: 0.0004 + 0.0005, count: 2 });
    // 0.0005 is on a bound: in le=0.0005, as the facade buckets it.
    expect(r.histogram('trade_matrix_feature_computation_duration_seconds', { strategy: 'S' }).buckets['0.0005']).toBe(2);
    expect(r.histogram('trade_matrix_bar_processing_duration_seconds', { strategy: 'S' })).toMatchObject({ sum: 0.004 + 0.005, count: 2 });
    expect(r.histogram('trade_matrix_inference_duration_seconds', { model: 'model-a' })).toMatchObject({ sum: 0.0002 + 0.0003, count: 2 });
    expect(r.value('trade_matrix_predictions_total', { model: 'model-a' })).toBe(2);
    expect(r.value('trade_matrix_bars_processed_total', { instrument: X })).toBe(2);
    // A signal of 0 is flat, by the recorder as by the facade.
    expect(r.value('trade_matrix_signals_total', { instrument: X, strategy: 'S', direction: 'flat' })).toBe(2);
    expect(r.value('trade_matrix_signals_total', { instrument: X, strategy: 'S', direction: 'short' })).toBe(0);
    expect(r.value('trade_matrix_runner_heartbeat_timestamp_seconds')).toBe(7200.5);
    expect(r.value('trade_matrix_last_bar_close_timestamp_seconds', { instrument: X })).toBe(7200);
  });
});
