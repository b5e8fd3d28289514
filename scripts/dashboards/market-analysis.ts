/** Market Analysis: prices, spread, volatility, funding, correlation, volume, regime. */
import type { DashboardSpec } from './build.js';

const I = '{instrument=~"$instrument"}';

export const marketAnalysis: DashboardSpec = {
  uid: 'trade-matrix-market',
  title: 'trade-matrix / Market Analysis',
  description: 'Prices, spread, volatility, funding and cross-asset correlation of the traded instruments.',
  tags: ['trade-matrix', 'market'],
  variables: [{ name: 'instrument', metric: 'trade_matrix_market_price_usdt' }],
  rows: [
    {
      row: 'Prices',
      panels: [
        { title: 'Last price', type: 'stat', width: 8, unit: 'currencyUSD', queries: [{ expr: `trade_matrix_market_price_usdt${I}`, legend: '{{instrument}}' }] },
        { title: 'Return since 24h', type: 'stat', width: 8, unit: 'percentunit', queries: [{ expr: `trade_matrix_market_price_usdt${I} / (trade_matrix_market_price_usdt${I} offset 24h or trade_matrix_market_price_usdt${I}) - 1`, legend: '{{instrument}}' }] },
        { title: 'Bars processed (24h)', type: 'stat', width: 8, queries: [{ expr: `sum by (instrument) (increase(trade_matrix_bars_processed_total${I}[24h]))`, legend: '{{instrument}}' }] },
        { title: 'Price', type: 'timeseries', unit: 'currencyUSD', width: 24, queries: [{ expr: `trade_matrix_market_price_usdt${I}`, legend: '{{instrument}}' }] },
        { title: 'Price relative to 24h ago', type: 'timeseries', unit: 'percentunit', queries: [{ expr: `trade_matrix_market_price_usdt${I} / (trade_matrix_market_price_usdt${I} offset 24h or trade_matrix_market_price_usdt${I}) - 1`, legend: '{{instrument}}' }] },
        { title: 'Bar volume', type: 'timeseries', unit: 'short', queries: [{ expr: `trade_matrix_bar_volume_base${I}`, legend: '{{instrument}}' }] },
      ],
    },
    {
      row: 'Spread and liquidity',
      panels: [
        { title: 'Spread', type: 'timeseries', unit: 'short', description: 'basis points', queries: [{ expr: `trade_matrix_spread_basis_points${I}`, legend: '{{instrument}}' }] },
        { title: 'Current spread', type: 'bargauge', unit: 'short', queries: [{ expr: `trade_matrix_spread_basis_points${I}`, legend: '{{instrument}}', instant: true }] },
        { title: 'Slippage p95 by instrument', type: 'bargauge', unit: 'short', queries: [{ expr: `histogram_quantile(0.95, sum by (le, instrument) (rate(trade_matrix_fill_slippage_basis_points_bucket${I}[1h])))`, legend: '{{instrument}}', instant: true }] },
        { title: 'Traded notional rate', type: 'timeseries', unit: 'currencyUSD', queries: [{ expr: `sum by (instrument) (rate(trade_matrix_turnover_usdt_total${I}[1h])) * 3600`, legend: '{{instrument}} per hour' }] },
      ],
    },
    {
      row: 'Volatility',
      panels: [
        { title: 'Realised volatility (annualised)', type: 'timeseries', unit: 'percentunit', queries: [{ expr: `trade_matrix_realised_volatility_ratio${I}`, legend: '{{instrument}}' }] },
        { title: 'Forecast vs realised volatility', type: 'timeseries', unit: 'percentunit', queries: [{ expr: `trade_matrix_volatility_forecast_ratio${I}`, legend: 'forecast {{instrument}}' }, { expr: `trade_matrix_realised_volatility_ratio${I}`, legend: 'realised {{instrument}}' }] },
        { title: 'Volatility now', type: 'bargauge', unit: 'percentunit', queries: [{ expr: `trade_matrix_realised_volatility_ratio${I}`, legend: '{{instrument}}', instant: true }] },
        { title: 'Regime probabilities', type: 'timeseries', unit: 'percentunit', min: 0, max: 1, queries: [{ expr: `trade_matrix_regime_probability_ratio${I}`, legend: '{{instrument}} {{regime}}' }] },
        { title: 'Regime changes (24h)', type: 'bargauge', queries: [{ expr: `sum by (regime) (increase(trade_matrix_regime_changes_total${I}[24h]))`, legend: '{{regime}}', instant: true }] },
      ],
    },
    {
      row: 'Funding',
      panels: [
        { title: 'Funding rate', type: 'timeseries', unit: 'percentunit', queries: [{ expr: `trade_matrix_funding_rate_ratio${I}`, legend: '{{instrument}}' }] },
        { title: 'Funding rate annualised (3 settlements a day)', type: 'bargauge', unit: 'percentunit', queries: [{ expr: `trade_matrix_funding_rate_ratio${I} * 3 * 365`, legend: '{{instrument}}', instant: true }] },
        { title: 'Funding paid', type: 'timeseries', unit: 'currencyUSD', queries: [{ expr: `trade_matrix_funding_paid_usdt${I}`, legend: '{{instrument}}' }] },
      ],
    },
    {
      row: 'Correlation',
      panels: [
        { title: 'Return correlation with the reference', type: 'timeseries', min: -1, max: 1, queries: [{ expr: `trade_matrix_return_correlation_ratio${I}`, legend: '{{instrument}} vs {{reference_instrument}}' }] },
        { title: 'Correlation matrix (latest)', type: 'table', queries: [{ expr: `trade_matrix_return_correlation_ratio${I}` }] },
        { title: 'Data feed lag', type: 'timeseries', unit: 's', width: 24, queries: [{ expr: `trade_matrix_data_feed_lag_seconds${I}`, legend: '{{instrument}} {{feed}}' }] },
      ],
    },
  ],
};
