/**
 * Every metric family trade-matrix exports, declared once. The registry factory (trading-metrics.ts), the README
 * table (scripts/metrics-table.ts), the dashboards and alert rules (their tests check every query names one of
 * these) all read this list.
 *
 * Naming: `trade_matrix_` + full words + unit suffix (`_usdt` quote currency, `_base` base-currency quantity,
 * `_seconds`, `_bytes`, `_ratio` for 0..1 fractions and multiples, `_basis_points`, `_timestamp_seconds` for Unix
 * times); counters end in `_total`. Labels are low-cardinality only (instrument, strategy, side, status, tier, reason,
 * kind, ...): never order ids, prices or timestamps.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Label names a metric may carry; each has a small, bounded value set. */
export type MetricLabel =
  | 'instrument'
  | 'strategy'
  | 'side'
  | 'status'
  | 'tier'
  | 'reason'
  | 'kind'
  | 'regime'
  | 'state'
  | 'model'
  | 'version'
  | 'stage'
  | 'code'
  | 'endpoint'
  | 'feed'
  | 'input'
  | 'liquidity'
  | 'outcome'
  | 'direction'
  | 'reference_instrument'
  | 'operation'
  | 'runner'
  | 'mode';

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  /** One sentence: what one sample means, with its unit. Becomes the HELP line and the README "meaning" column. */
  readonly help: string;
  readonly labels: readonly MetricLabel[];
  /** Histogram bucket upper bounds, ascending (histograms only). */
  readonly buckets?: readonly number[];
  /** Dashboard/README section. */
  readonly group: MetricGroup;
}

export type MetricGroup = 'account' | 'orders' | 'latency' | 'signals' | 'sizing' | 'regime' | 'breaker' | 'warmup' | 'reconciliation' | 'data' | 'market' | 'venue' | 'journal' | 'runner';

const FAST_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
const VENUE_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const FILL_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;
const INFERENCE_SECONDS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1] as const;
const SLIPPAGE_BASIS_POINTS = [0.5, 1, 2, 5, 10, 20, 50, 100] as const;
const TRADE_USDT = [-1000, -250, -100, -25, 0, 25, 100, 250, 1000] as const;

const c = (name: string, group: MetricGroup, labels: readonly MetricLabel[], help: string) => ({ name, type: 'counter', group, labels, help }) as const;
const g = (name: string, group: MetricGroup, labels: readonly MetricLabel[], help: string) => ({ name, type: 'gauge', group, labels, help }) as const;
const h = (name: string, group: MetricGroup, labels: readonly MetricLabel[], buckets: readonly number[], help: string) => ({ name, type: 'histogram', group, labels, buckets, help }) as const;

export const METRIC_DEFINITIONS = [
  // account and portfolio
  g('trade_matrix_equity_usdt', 'account', ['strategy'], 'Account equity (balance + unrealised PnL), USDT.'),
  g('trade_matrix_balance_usdt', 'account', ['strategy'], 'Wallet balance (cash after realised PnL, fees and funding), USDT.'),
  g('trade_matrix_available_balance_usdt', 'account', ['strategy'], 'Balance free for new margin, USDT.'),
  g('trade_matrix_margin_used_usdt', 'account', ['strategy'], 'Initial margin held by open positions and orders, USDT.'),
  g('trade_matrix_peak_equity_usdt', 'account', ['strategy'], 'Highest equity seen since start, USDT.'),
  g('trade_matrix_drawdown_ratio', 'account', ['strategy'], 'Current drawdown from peak equity: 1 - equity / peak (0..1).'),
  g('trade_matrix_drawdown_limit_ratio', 'account', ['strategy'], 'Configured maximum drawdown before trading halts (0..1).'),
  g('trade_matrix_account_leverage_ratio', 'account', ['strategy'], 'Gross position notional / equity.'),
  g('trade_matrix_gross_exposure_usdt', 'account', ['strategy'], 'Sum of |position notional| over instruments, USDT.'),
  g('trade_matrix_net_exposure_usdt', 'account', ['strategy'], 'Sum of signed position notional over instruments, USDT.'),
  g('trade_matrix_realised_pnl_usdt', 'account', ['instrument'], 'Cumulative realised PnL of the instrument before fees and funding, USDT.'),
  g('trade_matrix_unrealised_pnl_usdt', 'account', ['instrument'], 'Unrealised PnL of the open position at the mark price, USDT.'),
  c('trade_matrix_fees_paid_usdt_total', 'account', ['instrument'], 'Trading fees paid, USDT.'),
  g('trade_matrix_funding_paid_usdt', 'account', ['instrument'], 'Cumulative net funding paid (negative = received), USDT.'),
  c('trade_matrix_funding_payments_total', 'account', ['instrument'], 'Funding settlements applied to an open position.'),
  g('trade_matrix_position_quantity_base', 'account', ['instrument'], 'Signed position size (long > 0), base currency.'),
  g('trade_matrix_position_notional_usdt', 'account', ['instrument'], 'Signed position notional at the mark price, USDT.'),
  g('trade_matrix_position_entry_price_usdt', 'account', ['instrument'], 'Average entry price of the open position, USDT.'),
  g('trade_matrix_position_leverage_ratio', 'account', ['instrument'], '|Position notional| / equity.'),
  g('trade_matrix_liquidation_price_usdt', 'account', ['instrument'], 'Estimated liquidation price of the open position, USDT (0 when flat).'),
  c('trade_matrix_liquidations_total', 'account', ['instrument'], 'Positions closed by liquidation.'),
  c('trade_matrix_turnover_usdt_total', 'account', ['instrument'], 'Gross traded notional (sum |quantity x price| over fills), USDT.'),
  c('trade_matrix_trades_total', 'account', ['instrument', 'outcome'], 'Closed round trips by outcome (win, loss).'),
  h('trade_matrix_trade_pnl_usdt', 'account', ['instrument'], TRADE_USDT, 'Net PnL per closed round trip, USDT.'),
  // orders and fills
  c('trade_matrix_orders_submitted_total', 'orders', ['instrument', 'side'], 'Orders sent to the venue.'),
  c('trade_matrix_order_updates_total', 'orders', ['instrument', 'status'], 'Order status transitions (accepted, partially_filled, filled, cancelled, rejected, expired).'),
  g('trade_matrix_open_orders', 'orders', ['instrument'], 'Orders resting at the venue.'),
  c('trade_matrix_order_rejections_total', 'orders', ['instrument', 'reason'], 'Orders refused by pre-trade risk or the venue, by reason.'),
  c('trade_matrix_order_cancellations_total', 'orders', ['instrument', 'reason'], 'Orders cancelled, by reason.'),
  c('trade_matrix_fills_total', 'orders', ['instrument', 'side', 'liquidity'], 'Fills (executions) received, by maker/taker liquidity.'),
  c('trade_matrix_filled_quantity_base_total', 'orders', ['instrument', 'side'], 'Filled quantity, base currency.'),
  c('trade_matrix_filled_notional_usdt_total', 'orders', ['instrument', 'side'], 'Filled notional, USDT.'),
  g('trade_matrix_last_fill_price_usdt', 'orders', ['instrument'], 'Price of the latest fill, USDT.'),
  h('trade_matrix_fill_slippage_basis_points', 'orders', ['instrument'], SLIPPAGE_BASIS_POINTS, 'Adverse slippage of a fill against the decision price, basis points.'),
  // latency
  h('trade_matrix_bar_close_to_decision_seconds', 'latency', ['strategy'], FAST_SECONDS, 'Time from a bar close to the strategy decision on it.'),
  h('trade_matrix_decision_to_acknowledgement_seconds', 'latency', ['instrument'], VENUE_SECONDS, 'Time from the decision to the venue acknowledging the order.'),
  h('trade_matrix_acknowledgement_to_fill_seconds', 'latency', ['instrument'], FILL_SECONDS, 'Time from the venue acknowledgement to the (first) fill.'),
  h('trade_matrix_inference_duration_seconds', 'latency', ['model'], INFERENCE_SECONDS, 'Model inference time per bar.'),
  h('trade_matrix_feature_computation_duration_seconds', 'latency', ['strategy'], FAST_SECONDS, 'Incremental feature update time per bar.'),
  h('trade_matrix_bar_processing_duration_seconds', 'latency', ['strategy'], FAST_SECONDS, 'Whole per-bar pipeline time (features, inference, sizing, orders).'),
  h('trade_matrix_venue_request_duration_seconds', 'latency', ['endpoint'], VENUE_SECONDS, 'Venue REST request round trip, by endpoint.'),
  // signals and models
  g('trade_matrix_signal_value', 'signals', ['instrument', 'strategy'], 'Latest signal (-1 short .. +1 long).'),
  g('trade_matrix_signal_confidence_ratio', 'signals', ['instrument', 'strategy'], 'Confidence of the latest signal (0..1).'),
  c('trade_matrix_signals_total', 'signals', ['instrument', 'strategy', 'direction'], 'Signals emitted, by direction (long, short, flat).'),
  c('trade_matrix_predictions_total', 'signals', ['model'], 'Model predictions made.'),
  g('trade_matrix_model_info', 'signals', ['model', 'version', 'stage'], 'Model in use (value 1): name, registry version and stage.'),
  g('trade_matrix_model_loaded_timestamp_seconds', 'signals', ['model'], 'When the model in use was loaded, Unix seconds.'),
  c('trade_matrix_model_swaps_total', 'signals', ['model', 'status'], 'Hot model swaps attempted, by status (succeeded, failed).'),
  g('trade_matrix_rolling_information_coefficient_ratio', 'signals', ['instrument', 'strategy'], 'Rolling rank correlation of signal and next return (-1..1).'),
  // sizing cascade
  g('trade_matrix_cascade_tier', 'sizing', ['instrument', 'tier'], 'Sizing tier in force (value 1 on the active tier, 0 on the others).'),
  c('trade_matrix_cascade_tier_changes_total', 'sizing', ['instrument', 'tier', 'reason'], 'Sizing tier changes, by new tier and the rule that chose it.'),
  g('trade_matrix_kelly_fraction_ratio', 'sizing', ['instrument'], 'Kelly fraction applied to the latest order (0..1).'),
  g('trade_matrix_target_position_fraction_ratio', 'sizing', ['instrument'], 'Target position as a signed fraction of equity.'),
  // regime
  g('trade_matrix_regime_probability_ratio', 'regime', ['instrument', 'regime'], 'Filtered probability of each regime (0..1; sums to 1 per instrument).'),
  c('trade_matrix_regime_changes_total', 'regime', ['instrument', 'regime'], 'Changes of the most likely regime, by new regime.'),
  g('trade_matrix_volatility_forecast_ratio', 'regime', ['instrument'], 'Annualised volatility forecast of the regime model.'),
  // circuit breaker
  g('trade_matrix_circuit_breaker_state', 'breaker', ['strategy', 'state'], 'Circuit breaker state (value 1 on the current state: closed, open, half_open).'),
  c('trade_matrix_circuit_breaker_transitions_total', 'breaker', ['strategy', 'state', 'reason'], 'Circuit breaker transitions, by new state and reason.'),
  g('trade_matrix_consecutive_losses', 'breaker', ['strategy'], 'Losing round trips in a row.'),
  // warm-up
  g('trade_matrix_warmup_tier', 'warmup', ['tier'], 'Warm-up source in use (value 1 on the active tier: cache, store, venue; none for a run that warms up on no bars).'),
  g('trade_matrix_warmup_duration_seconds', 'warmup', [], 'Duration of the last warm-up.'),
  g('trade_matrix_warmup_bars', 'warmup', ['instrument'], 'Bars loaded during warm-up.'),
  g('trade_matrix_runner_ready', 'warmup', [], '1 when warmed up, reconciled and the breaker is not open (what /readyz reports).'),
  // reconciliation
  c('trade_matrix_reconciliation_runs_total', 'reconciliation', ['status'], 'Reconciliations with the venue, by status (clean, differences, failed).'),
  c('trade_matrix_reconciliation_differences_total', 'reconciliation', ['instrument', 'kind'], 'Differences found between local state and the venue, by kind (position, order, balance).'),
  g('trade_matrix_last_reconciliation_timestamp_seconds', 'reconciliation', [], 'When the last reconciliation finished, Unix seconds.'),
  h('trade_matrix_reconciliation_duration_seconds', 'reconciliation', [], VENUE_SECONDS, 'Duration of a reconciliation.'),
  // data feed
  g('trade_matrix_stale_inputs', 'data', ['input'], 'Inputs currently older than their freshness limit (count).'),
  c('trade_matrix_stale_input_events_total', 'data', ['input'], 'Times an input went stale.'),
  g('trade_matrix_data_feed_lag_seconds', 'data', ['instrument', 'feed'], 'Local receive time minus venue event time of the latest message.'),
  g('trade_matrix_last_bar_close_timestamp_seconds', 'data', ['instrument'], 'Close time of the latest bar processed, Unix seconds.'),
  g('trade_matrix_bar_interval_seconds', 'data', ['instrument'], 'Bar period the runner trades on.'),
  c('trade_matrix_bars_processed_total', 'data', ['instrument'], 'Bars processed.'),
  c('trade_matrix_feed_messages_total', 'data', ['feed'], 'Market-data messages received.'),
  c('trade_matrix_feed_reconnects_total', 'data', ['feed'], 'Market-data stream reconnects.'),
  // market
  g('trade_matrix_market_price_usdt', 'market', ['instrument'], 'Latest close (mark) price, USDT.'),
  g('trade_matrix_bar_volume_base', 'market', ['instrument'], 'Volume of the latest bar, base currency.'),
  g('trade_matrix_spread_basis_points', 'market', ['instrument'], 'Best ask minus best bid over mid, basis points.'),
  g('trade_matrix_realised_volatility_ratio', 'market', ['instrument'], 'Annualised realised volatility over the feature window.'),
  g('trade_matrix_funding_rate_ratio', 'market', ['instrument'], 'Current funding rate per settlement (fraction).'),
  g('trade_matrix_return_correlation_ratio', 'market', ['instrument', 'reference_instrument'], 'Rolling correlation of bar returns with a reference instrument (-1..1).'),
  // venue
  c('trade_matrix_venue_requests_total', 'venue', ['endpoint', 'status'], 'Venue REST requests, by endpoint and status (ok, error).'),
  c('trade_matrix_venue_errors_total', 'venue', ['code'], 'Venue errors, by BybitError code.'),
  c('trade_matrix_rate_limit_waits_total', 'venue', ['endpoint'], 'Requests delayed by the rate limiter.'),
  c('trade_matrix_rate_limit_wait_seconds_total', 'venue', ['endpoint'], 'Time spent waiting for the rate limiter.'),
  // journal and state
  g('trade_matrix_journal_size_bytes', 'journal', [], 'Size of the event journal on disk.'),
  c('trade_matrix_journal_written_bytes_total', 'journal', [], 'Bytes appended to the event journal.'),
  c('trade_matrix_journal_entries_total', 'journal', ['kind'], 'Journal entries appended, by event kind.'),
  h('trade_matrix_state_store_operation_duration_seconds', 'journal', ['operation'], FAST_SECONDS, 'State store operation time (Redis, or a live run\'s state.json), by operation.'),
  c('trade_matrix_state_store_errors_total', 'journal', ['operation'], 'State store operations that failed.'),
  // runner
  g('trade_matrix_runner_info', 'runner', ['runner', 'version', 'mode'], 'Runner identity (value 1): name, trade-matrix version, mode (paper, live, backtest).'),
  g('trade_matrix_runner_start_timestamp_seconds', 'runner', [], 'When the runner started, Unix seconds.'),
  g('trade_matrix_runner_heartbeat_timestamp_seconds', 'runner', [], 'Last main-loop heartbeat, Unix seconds.'),
] as const satisfies readonly MetricDefinition[];

export type MetricName = (typeof METRIC_DEFINITIONS)[number]['name'];
