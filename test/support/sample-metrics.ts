/**
 * Sample values for every metric family, shaped so that every dashboard query returns data and every alert rule
 * fires: the breaker is open, one input is stale, SOL has not had a bar for 3 periods, drawdown (0.238) is over its
 * limit (0.2), reconciliation differences and failed model swaps keep increasing ({@link tickSampleMetrics}).
 * Used by the exporter process (test/support/metrics-exporter.ts) and the metrics tests.
 */
import type { TradingMetrics } from '../../src/monitoring/index.js';

export const SAMPLE_INSTRUMENTS = ['BTCUSDT-LINEAR.BYBIT', 'ETHUSDT-LINEAR.BYBIT', 'SOLUSDT-LINEAR.BYBIT'] as const;
export const SAMPLE_STRATEGY = 'regime-kelly';
export const SAMPLE_MODEL = 'btc-direction';
const INTERVAL_SECONDS = 4 * 3600;
const PRICES = [60_000, 3_000, 150];

/** Sets a value on every family of METRIC_DEFINITIONS. `nowMs` is the wall clock of the exporter. */
export function populateSampleMetrics(m: TradingMetrics, nowMs: number): void {
  m.runnerStarted('paper-1', '0.1.0', 'paper', nowMs - 3_600_000);
  m.heartbeat(nowMs);
  m.drawdownLimit(SAMPLE_STRATEGY, 0.2);
  m.accountUpdated(SAMPLE_STRATEGY, { equity: 10_500, balance: 10_400, availableBalance: 9_000, marginUsed: 1_400, grossExposure: 14_000, netExposure: 6_000 });
  m.accountUpdated(SAMPLE_STRATEGY, { equity: 8_000, balance: 8_200, availableBalance: 6_500, marginUsed: 1_500, grossExposure: 15_000, netExposure: 5_000 });
  SAMPLE_INSTRUMENTS.forEach((instrument, k) => {
    const price = PRICES[k]!;
    const quantity = k === 1 ? -1 : 0.1 * (k + 1);
    // SOL (k = 2) last closed 3 bars ago: "no bar for 2 periods" fires for it only.
    const lastClose = Math.floor(nowMs / (INTERVAL_SECONDS * 1000)) * INTERVAL_SECONDS * 1000 - (k === 2 ? 3 * INTERVAL_SECONDS * 1000 : 0);
    m.barClosed(instrument, lastClose, price, 1000 + k, INTERVAL_SECONDS);
    m.marketUpdated(instrument, 1.5 + k, 0.6 + 0.1 * k, 0.0001 * (k + 1));
    m.correlation(instrument, SAMPLE_INSTRUMENTS[0], k === 0 ? 1 : 0.8 - 0.1 * k);
    m.feedMessage('bybit-kline', instrument, 0.2 + 0.1 * k);
    m.positionUpdated(instrument, { quantity, notional: quantity * price, entryPrice: price * 0.99, unrealisedPnl: quantity * price * 0.01, realisedPnl: 50 * (k + 1), liquidationPrice: price * (quantity > 0 ? 0.5 : 1.5), leverage: Math.abs(quantity * price) / 8_000 });
    m.orderSubmitted(instrument, 'buy');
    m.orderSubmitted(instrument, 'sell');
    m.orderUpdated(instrument, 'accepted');
    m.orderUpdated(instrument, 'filled');
    m.orderRejected(instrument, 'insufficient_margin');
    m.orderCancelled(instrument, 'strategy');
    m.openOrders(instrument, k);
    m.fill(instrument, 'buy', 'taker', 0.1, price, price * 0.1 * 0.00055, 2.5);
    m.fill(instrument, 'sell', 'maker', 0.1, price * 1.01, price * 0.1 * 0.0002, 0.5);
    m.tradeClosed(instrument, k === 1 ? -40 : 120);
    m.fundingPaid(instrument, 1.25 * (k + 1));
    m.liquidated(instrument);
    m.acknowledgementLatency(instrument, 0.08);
    m.fillLatency(instrument, 0.4);
    m.signal(instrument, SAMPLE_STRATEGY, k === 1 ? -0.4 : 0.6, 0.7, k === 1 ? 'short' : 'long');
    m.informationCoefficient(instrument, SAMPLE_STRATEGY, 0.05);
    m.tier(instrument, 'kelly', 'no_rl_sizer');
    m.tier(instrument, k === 0 ? 'rl' : 'kelly', k === 0 ? 'rl_sizer_ready' : 'no_rl_sizer');
    m.sizing(instrument, 0.25, k === 1 ? -0.1 : 0.15);
    m.regime(instrument, ['crisis', 'bear', 'neutral', 'bull'], [0.05, 0.15, 0.3, 0.5]);
    m.volatilityForecast(instrument, 0.55);
  });
  m.staleInputs('funding', 1, true);
  m.staleInputs('bars', 0, false);
  m.feedReconnected('bybit-kline');
  m.decisionLatency(SAMPLE_STRATEGY, 0.004);
  m.barProcessed(SAMPLE_STRATEGY, 0.0008, 0.003);
  m.inference(SAMPLE_MODEL, 0.0002);
  m.modelLoaded(SAMPLE_MODEL, '3', 'production', nowMs - 600_000);
  m.modelSwap(SAMPLE_MODEL, true);
  m.modelSwap(SAMPLE_MODEL, false);
  m.breaker(SAMPLE_STRATEGY, 'open', 'consecutive_losses');
  m.consecutiveLosses(SAMPLE_STRATEGY, 5);
  m.warmupFinished('store', 4.2, Object.fromEntries(SAMPLE_INSTRUMENTS.map((i) => [i, 500])));
  m.setReady(false);
  m.reconciled('differences', 0.3, nowMs - 60_000, [{ instrument: SAMPLE_INSTRUMENTS[0], kind: 'position' }]);
  m.venueRequest('order_create', true, 0.09);
  m.venueRequest('order_create', false, 0.5);
  m.venueError('rate_limited');
  m.rateLimitWait('order_create', 0.25);
  m.journalAppended('fill', 512, 65_536);
  m.stateStoreOperation('save_state', 0.001, true);
  m.stateStoreOperation('save_state', 0.002, false);
}

/** What a live runner does between scrapes: bars, signals, a reconciliation difference and a failed model swap. */
export function tickSampleMetrics(m: TradingMetrics, nowMs: number): void {
  m.heartbeat(nowMs);
  for (const instrument of SAMPLE_INSTRUMENTS.slice(0, 2)) {
    m.orderSubmitted(instrument, 'buy');
    m.fill(instrument, 'buy', 'taker', 0.1, 100, 0.01, 1);
    m.acknowledgementLatency(instrument, 0.07);
    m.fillLatency(instrument, 0.3);
    m.tradeClosed(instrument, 10);
  }
  m.barProcessed(SAMPLE_STRATEGY, 0.0007, 0.0025);
  m.stateStoreOperation('save_state', 0.0015, true);
  m.decisionLatency(SAMPLE_STRATEGY, 0.003);
  m.inference(SAMPLE_MODEL, 0.00025);
  m.reconciled('differences', 0.2, nowMs, [{ instrument: SAMPLE_INSTRUMENTS[0], kind: 'position' }]);
  m.modelSwap(SAMPLE_MODEL, false);
  m.staleInputs('funding', 1, true);
  m.venueRequest('order_create', true, 0.1);
  m.venueError('rate_limited');
  m.journalAppended('fill', 256, 65_536 + 256);
}
