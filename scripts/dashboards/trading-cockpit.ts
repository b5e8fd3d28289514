/** Trading Cockpit: portfolio, P&L, balance, leverage, positions, orders and flow, signals, cascade tier, regime, breaker, latency, equity curve. */
import type { DashboardSpec } from './build.js';

const I = '{instrument=~"$instrument"}';
const S = '{strategy=~"$strategy"}';
const rate = (metric: string, selector = I) => `sum by (instrument) (rate(${metric}${selector}[5m]))`;
const quantile = (q: number, metric: string, by: string, selector: string) => `histogram_quantile(${q}, sum by (le, ${by}) (rate(${metric}_bucket${selector}[5m])))`;
const STATE_MAPPINGS = { '0': { text: 'off', color: 'transparent' }, '1': { text: 'ACTIVE', color: 'blue' } };

export const tradingCockpit: DashboardSpec = {
  uid: 'trade-matrix-cockpit',
  title: 'trade-matrix / Trading Cockpit',
  description: 'Portfolio, P&L, positions, orders, signals, sizing cascade, regime, circuit breaker and latency of the runner.',
  tags: ['trade-matrix', 'trading'],
  variables: [
    { name: 'strategy', metric: 'trade_matrix_equity_usdt' },
    { name: 'instrument', metric: 'trade_matrix_position_quantity_base' },
  ],
  rows: [
    {
      row: 'Portfolio',
      panels: [
        { title: 'Equity', type: 'stat', unit: 'currencyUSD', queries: [{ expr: `sum(trade_matrix_equity_usdt${S})` }] },
        { title: 'Wallet balance', type: 'stat', unit: 'currencyUSD', queries: [{ expr: `sum(trade_matrix_balance_usdt${S})` }] },
        { title: 'Available balance', type: 'stat', unit: 'currencyUSD', queries: [{ expr: `sum(trade_matrix_available_balance_usdt${S})` }] },
        { title: 'Margin used', type: 'stat', unit: 'currencyUSD', queries: [{ expr: `sum(trade_matrix_margin_used_usdt${S})` }] },
        { title: 'Account leverage', type: 'gauge', unit: 'x', min: 0, max: 10, thresholds: [{ value: null, color: 'green' }, { value: 3, color: 'orange' }, { value: 5, color: 'red' }], queries: [{ expr: `max(trade_matrix_account_leverage_ratio${S})` }] },
        { title: 'Drawdown vs limit', type: 'gauge', unit: 'percentunit', min: 0, max: 0.5, thresholds: [{ value: null, color: 'green' }, { value: 0.1, color: 'orange' }, { value: 0.2, color: 'red' }], queries: [{ expr: `max(trade_matrix_drawdown_ratio${S})`, legend: 'drawdown' }, { expr: `max(trade_matrix_drawdown_limit_ratio${S})`, legend: 'limit' }] },
        { title: 'Equity curve', type: 'timeseries', unit: 'currencyUSD', width: 16, queries: [{ expr: `sum by (strategy) (trade_matrix_equity_usdt${S})`, legend: 'equity {{strategy}}' }, { expr: `sum by (strategy) (trade_matrix_peak_equity_usdt${S})`, legend: 'peak {{strategy}}' }] },
        { title: 'Drawdown', type: 'timeseries', unit: 'percentunit', width: 8, queries: [{ expr: `trade_matrix_drawdown_ratio${S}`, legend: '{{strategy}}' }] },
        { title: 'Gross and net exposure', type: 'timeseries', unit: 'currencyUSD', queries: [{ expr: `sum(trade_matrix_gross_exposure_usdt${S})`, legend: 'gross' }, { expr: `sum(trade_matrix_net_exposure_usdt${S})`, legend: 'net' }] },
        { title: 'Balance and margin', type: 'timeseries', unit: 'currencyUSD', queries: [{ expr: `sum(trade_matrix_balance_usdt${S})`, legend: 'balance' }, { expr: `sum(trade_matrix_margin_used_usdt${S})`, legend: 'margin used' }] },
      ],
    },
    {
      row: 'P&L',
      panels: [
        { title: 'Realised PnL', type: 'stat', unit: 'currencyUSD', queries: [{ expr: `sum(trade_matrix_realised_pnl_usdt${I})` }] },
        { title: 'Unrealised PnL', type: 'stat', unit: 'currencyUSD', queries: [{ expr: `sum(trade_matrix_unrealised_pnl_usdt${I})` }] },
        { title: 'Fees paid', type: 'stat', unit: 'currencyUSD', queries: [{ expr: `sum(trade_matrix_fees_paid_usdt_total${I})` }] },
        { title: 'Funding paid', type: 'stat', unit: 'currencyUSD', queries: [{ expr: `sum(trade_matrix_funding_paid_usdt${I})` }] },
        { title: 'Win rate', type: 'stat', unit: 'percentunit', queries: [{ expr: `sum(trade_matrix_trades_total{outcome="win"}) / sum(trade_matrix_trades_total)` }] },
        { title: 'Liquidations', type: 'stat', thresholds: [{ value: null, color: 'green' }, { value: 1, color: 'red' }], queries: [{ expr: `sum(trade_matrix_liquidations_total${I})` }] },
        { title: 'PnL by instrument', type: 'timeseries', unit: 'currencyUSD', queries: [{ expr: `trade_matrix_realised_pnl_usdt${I} + trade_matrix_unrealised_pnl_usdt${I}`, legend: '{{instrument}}' }] },
        { title: 'Round-trip PnL distribution', type: 'heatmap', unit: 'currencyUSD', queries: [{ expr: `sum by (le) (increase(trade_matrix_trade_pnl_usdt_bucket${I}[1h]))`, legend: '{{le}}' }] },
        { title: 'Fees and funding per hour', type: 'timeseries', unit: 'currencyUSD', queries: [{ expr: `sum(increase(trade_matrix_fees_paid_usdt_total${I}[1h]))`, legend: 'fees' }, { expr: `sum(rate(trade_matrix_funding_payments_total${I}[1h])) * 3600`, legend: 'funding settlements' }] },
        { title: 'Trades by outcome', type: 'bargauge', queries: [{ expr: 'sum by (outcome) (trade_matrix_trades_total)', legend: '{{outcome}}', instant: true }] },
      ],
    },
    {
      row: 'Positions',
      panels: [
        { title: 'Positions', type: 'table', width: 24, queries: [{ expr: `trade_matrix_position_quantity_base${I}` }, { expr: `trade_matrix_position_notional_usdt${I}` }, { expr: `trade_matrix_position_entry_price_usdt${I}` }, { expr: `trade_matrix_unrealised_pnl_usdt${I}` }, { expr: `trade_matrix_liquidation_price_usdt${I}` }, { expr: `trade_matrix_position_leverage_ratio${I}` }] },
        { title: 'Position notional', type: 'timeseries', unit: 'currencyUSD', queries: [{ expr: `trade_matrix_position_notional_usdt${I}`, legend: '{{instrument}}' }] },
        { title: 'Position leverage', type: 'timeseries', unit: 'x', queries: [{ expr: `trade_matrix_position_leverage_ratio${I}`, legend: '{{instrument}}' }] },
      ],
    },
    {
      row: 'Orders and flow',
      panels: [
        { title: 'Open orders', type: 'stat', queries: [{ expr: `sum(trade_matrix_open_orders${I})` }] },
        { title: 'Orders submitted (1h)', type: 'stat', queries: [{ expr: `sum(increase(trade_matrix_orders_submitted_total${I}[1h]))` }] },
        { title: 'Rejections (1h)', type: 'stat', thresholds: [{ value: null, color: 'green' }, { value: 1, color: 'orange' }], queries: [{ expr: `sum(increase(trade_matrix_order_rejections_total${I}[1h]))` }] },
        { title: 'Fill ratio', type: 'stat', unit: 'percentunit', queries: [{ expr: `sum(trade_matrix_order_updates_total{status="filled"}) / sum(trade_matrix_orders_submitted_total)` }] },
        { title: 'Maker share', type: 'stat', unit: 'percentunit', queries: [{ expr: `sum(trade_matrix_fills_total{liquidity="maker"}) / sum(trade_matrix_fills_total)` }] },
        { title: 'Turnover (24h)', type: 'stat', unit: 'currencyUSD', queries: [{ expr: `sum(increase(trade_matrix_turnover_usdt_total${I}[24h]))` }] },
        { title: 'Order rate by side', type: 'timeseries', unit: 'ops', queries: [{ expr: `sum by (side) (rate(trade_matrix_orders_submitted_total${I}[5m]))`, legend: '{{side}}' }] },
        { title: 'Order status transitions', type: 'timeseries', unit: 'ops', queries: [{ expr: `sum by (status) (rate(trade_matrix_order_updates_total${I}[5m]))`, legend: '{{status}}' }] },
        { title: 'Rejections by reason', type: 'timeseries', unit: 'ops', queries: [{ expr: `sum by (reason) (rate(trade_matrix_order_rejections_total${I}[5m]))`, legend: '{{reason}}' }] },
        { title: 'Cancellations by reason', type: 'timeseries', unit: 'ops', queries: [{ expr: `sum by (reason) (rate(trade_matrix_order_cancellations_total${I}[5m]))`, legend: '{{reason}}' }] },
        { title: 'Filled notional flow (buy − sell)', type: 'timeseries', unit: 'currencyUSD', queries: [{ expr: `sum by (instrument) (rate(trade_matrix_filled_notional_usdt_total{side="buy",instrument=~"$instrument"}[5m])) - sum by (instrument) (rate(trade_matrix_filled_notional_usdt_total{side="sell",instrument=~"$instrument"}[5m]))`, legend: '{{instrument}}' }] },
        { title: 'Filled quantity rate', type: 'timeseries', unit: 'short', queries: [{ expr: rate('trade_matrix_filled_quantity_base_total'), legend: '{{instrument}}' }] },
        { title: 'Slippage p50 / p95', type: 'timeseries', unit: 'short', queries: [{ expr: quantile(0.5, 'trade_matrix_fill_slippage_basis_points', 'instrument', I), legend: 'p50 {{instrument}}' }, { expr: quantile(0.95, 'trade_matrix_fill_slippage_basis_points', 'instrument', I), legend: 'p95 {{instrument}}' }] },
        { title: 'Last fill price', type: 'timeseries', unit: 'currencyUSD', queries: [{ expr: `trade_matrix_last_fill_price_usdt${I}`, legend: '{{instrument}}' }] },
      ],
    },
    {
      row: 'Signals and models',
      panels: [
        { title: 'Signal', type: 'timeseries', min: -1, max: 1, queries: [{ expr: `trade_matrix_signal_value${I}`, legend: '{{instrument}} {{strategy}}' }] },
        { title: 'Signal confidence', type: 'timeseries', unit: 'percentunit', min: 0, max: 1, queries: [{ expr: `trade_matrix_signal_confidence_ratio${I}`, legend: '{{instrument}}' }] },
        { title: 'Signals by direction', type: 'timeseries', unit: 'ops', queries: [{ expr: `sum by (direction) (rate(trade_matrix_signals_total${I}[5m]))`, legend: '{{direction}}' }] },
        { title: 'Rolling information coefficient', type: 'timeseries', min: -1, max: 1, queries: [{ expr: `trade_matrix_rolling_information_coefficient_ratio${I}`, legend: '{{instrument}}' }] },
        { title: 'Model in use', type: 'table', queries: [{ expr: 'trade_matrix_model_info' }, { expr: 'trade_matrix_model_loaded_timestamp_seconds * 1000' }] },
        { title: 'Model swaps', type: 'timeseries', unit: 'short', queries: [{ expr: 'sum by (model, status) (increase(trade_matrix_model_swaps_total[1h]))', legend: '{{model}} {{status}}' }] },
      ],
    },
    {
      row: 'Sizing cascade and regime',
      panels: [
        { title: 'Cascade tier', type: 'state-timeline', mappings: STATE_MAPPINGS, queries: [{ expr: `trade_matrix_cascade_tier${I} == 1`, legend: '{{instrument}} {{tier}}' }] },
        { title: 'Tier changes by reason', type: 'timeseries', unit: 'short', queries: [{ expr: `sum by (tier, reason) (increase(trade_matrix_cascade_tier_changes_total${I}[1h]))`, legend: '{{tier}} ({{reason}})' }] },
        { title: 'Kelly fraction', type: 'timeseries', unit: 'percentunit', queries: [{ expr: `trade_matrix_kelly_fraction_ratio${I}`, legend: '{{instrument}}' }] },
        { title: 'Target position (fraction of equity)', type: 'timeseries', unit: 'percentunit', queries: [{ expr: `trade_matrix_target_position_fraction_ratio${I}`, legend: '{{instrument}}' }] },
        { title: 'Regime probabilities', type: 'timeseries', unit: 'percentunit', min: 0, max: 1, width: 16, queries: [{ expr: `trade_matrix_regime_probability_ratio${I}`, legend: '{{instrument}} {{regime}}' }] },
        { title: 'Most likely regime', type: 'table', width: 8, queries: [{ expr: `topk by (instrument) (1, trade_matrix_regime_probability_ratio${I})` }] },
      ],
    },
    {
      row: 'Circuit breaker',
      panels: [
        { title: 'Breaker state', type: 'stat', width: 6, mappings: { '0': { text: 'closed', color: 'green' }, '1': { text: 'OPEN', color: 'red' } }, queries: [{ expr: `max(trade_matrix_circuit_breaker_state{state="open",strategy=~"$strategy"})` }] },
        { title: 'Consecutive losses', type: 'stat', width: 6, queries: [{ expr: `max(trade_matrix_consecutive_losses${S})` }] },
        { title: 'Breaker state over time', type: 'state-timeline', mappings: STATE_MAPPINGS, queries: [{ expr: `trade_matrix_circuit_breaker_state${S} == 1`, legend: '{{strategy}} {{state}}' }] },
        { title: 'Breaker transitions', type: 'timeseries', unit: 'short', width: 24, queries: [{ expr: `sum by (state, reason) (increase(trade_matrix_circuit_breaker_transitions_total${S}[1h]))`, legend: '{{state}} ({{reason}})' }] },
      ],
    },
    {
      row: 'Latency',
      panels: [
        { title: 'Bar close → decision p50 / p99', type: 'timeseries', unit: 's', queries: [{ expr: quantile(0.5, 'trade_matrix_bar_close_to_decision_seconds', 'strategy', S), legend: 'p50 {{strategy}}' }, { expr: quantile(0.99, 'trade_matrix_bar_close_to_decision_seconds', 'strategy', S), legend: 'p99 {{strategy}}' }] },
        { title: 'Decision → venue acknowledgement p50 / p99', type: 'timeseries', unit: 's', queries: [{ expr: quantile(0.5, 'trade_matrix_decision_to_acknowledgement_seconds', 'instrument', I), legend: 'p50 {{instrument}}' }, { expr: quantile(0.99, 'trade_matrix_decision_to_acknowledgement_seconds', 'instrument', I), legend: 'p99 {{instrument}}' }] },
        { title: 'Acknowledgement → fill p50 / p99', type: 'timeseries', unit: 's', queries: [{ expr: quantile(0.5, 'trade_matrix_acknowledgement_to_fill_seconds', 'instrument', I), legend: 'p50 {{instrument}}' }, { expr: quantile(0.99, 'trade_matrix_acknowledgement_to_fill_seconds', 'instrument', I), legend: 'p99 {{instrument}}' }] },
        { title: 'Inference p99', type: 'timeseries', unit: 's', queries: [{ expr: quantile(0.99, 'trade_matrix_inference_duration_seconds', 'model', ''), legend: '{{model}}' }] },
        { title: 'Per-bar pipeline p99 (features / total)', type: 'timeseries', unit: 's', queries: [{ expr: quantile(0.99, 'trade_matrix_feature_computation_duration_seconds', 'strategy', S), legend: 'features {{strategy}}' }, { expr: quantile(0.99, 'trade_matrix_bar_processing_duration_seconds', 'strategy', S), legend: 'total {{strategy}}' }] },
        { title: 'Decision latency heatmap', type: 'heatmap', unit: 's', queries: [{ expr: `sum by (le) (increase(trade_matrix_bar_close_to_decision_seconds_bucket${S}[5m]))`, legend: '{{le}}' }] },
      ],
    },
  ],
};
