/**
 * The metrics of one runner (or one backtest): a factory, no module-level registry. The composition root calls
 * {@link createTradingMetrics} once and passes the result down; the runner, the backtest exporter and tests call its
 * typed facade (`metrics.orderSubmitted(instrument, side)`) instead of touching prom-client.
 *
 * Two registries:
 * - `registry` holds the families of {@link METRIC_DEFINITIONS}; its exposition passes `promtool check metrics`.
 * - `processRegistry` holds prom-client's default Node metrics (CPU, memory, event-loop lag, GC, handles). They are
 *   kept apart because they trip promtool's lint rule `non-counter metrics should not have "_total" suffix`:
 *   `nodejs_active_handles_total`, `nodejs_active_requests_total` and `nodejs_active_resources_total` are gauges
 *   (measured with promtool 2.42; trading-metrics.test.ts asserts exactly these findings). `/metrics` serves both.
 *
 * Hot-path calls are allocation-light: label children are looked up once per label tuple and cached in nested maps,
 * so a steady-state call is one or two `Map.get`s plus prom-client's own update.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRIC_DEFINITIONS, type MetricDefinition, type MetricType } from './metric-definitions.js';

type Definitions = (typeof METRIC_DEFINITIONS)[number];
/** Names of the families of one type, e.g. `NamesOf<'counter'>`. */
export type NamesOf<T extends MetricType> = Extract<Definitions, { readonly type: T }>['name'];
/** Label names of family `N`. */
export type LabelsOf<N extends Definitions['name']> = Extract<Definitions, { readonly name: N }>['labels'][number];

export type OrderSide = 'buy' | 'sell';
export type OrderStatus = 'accepted' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected' | 'expired';
export type Liquidity = 'maker' | 'taker';
export type BreakerState = 'closed' | 'open' | 'half_open';
export type SignalDirection = 'long' | 'short' | 'flat';
export type ReconciliationStatus = 'clean' | 'differences' | 'failed';
export type ReconciliationDifferenceKind = 'position' | 'order' | 'balance';
export type RunnerMode = 'paper' | 'live' | 'backtest';

export interface TradingMetricsOptions {
  /** Register prom-client's default Node metrics in `processRegistry` (off for backtests and benchmarks). */
  readonly processMetrics: boolean;
}

export interface AccountSnapshot {
  /** USDT. */
  readonly equity: number;
  readonly balance: number;
  readonly availableBalance: number;
  readonly marginUsed: number;
  readonly grossExposure: number;
  readonly netExposure: number;
}

export interface PositionSnapshot {
  /** Signed, base currency. */
  readonly quantity: number;
  /** Signed, USDT at the mark price. */
  readonly notional: number;
  readonly entryPrice: number;
  readonly unrealisedPnl: number;
  readonly realisedPnl: number;
  /** 0 when flat. */
  readonly liquidationPrice: number;
  /** |notional| / equity. */
  readonly leverage: number;
}

/** The metrics facade; every method takes plain values (times in epoch milliseconds, durations in seconds). */
export interface TradingMetrics {
  /** Custom families (promtool-clean). */
  readonly registry: Registry;
  /** prom-client default Node/process metrics (empty when `processMetrics` is off). */
  readonly processRegistry: Registry;
  /** Text exposition of both registries (what `/metrics` serves). */
  exposition(): Promise<string>;
  /** Typed raw access for families the facade does not cover. */
  counter<N extends NamesOf<'counter'>>(name: N): Counter<LabelsOf<N>>;
  gauge<N extends NamesOf<'gauge'>>(name: N): Gauge<LabelsOf<N>>;
  histogram<N extends NamesOf<'histogram'>>(name: N): Histogram<LabelsOf<N>>;

  runnerStarted(runner: string, version: string, mode: RunnerMode, startedAtMs: number): void;
  heartbeat(atMs: number): void;
  setReady(ready: boolean): void;
  /** Sets the drawdown limit the drawdown alert compares against (fraction, e.g. 0.2). */
  drawdownLimit(strategy: string, limit: number): void;
  /** Equity, balance, exposures; tracks peak equity and drawdown and the account leverage. */
  accountUpdated(strategy: string, account: AccountSnapshot): void;
  positionUpdated(instrument: string, position: PositionSnapshot): void;
  barClosed(instrument: string, closeTimeMs: number, closePrice: number, volume: number, intervalSeconds: number): void;
  marketUpdated(instrument: string, spreadBasisPoints: number, realisedVolatility: number, fundingRate: number): void;
  correlation(instrument: string, referenceInstrument: string, value: number): void;
  feedMessage(feed: string, instrument: string, lagSeconds: number): void;
  feedReconnected(feed: string): void;
  /** `staleCount` = inputs of this kind stale right now; `becameStale` counts a new stale event. */
  staleInputs(input: string, staleCount: number, becameStale: boolean): void;

  orderSubmitted(instrument: string, side: OrderSide): void;
  orderUpdated(instrument: string, status: OrderStatus): void;
  orderRejected(instrument: string, reason: string): void;
  orderCancelled(instrument: string, reason: string): void;
  openOrders(instrument: string, count: number): void;
  /** One execution; `fee` in USDT (positive = paid); `slippageBasisPoints` against the decision price, adverse > 0 (omit when unknown). */
  fill(instrument: string, side: OrderSide, liquidity: Liquidity, quantity: number, price: number, fee: number, slippageBasisPoints?: number): void;
  tradeClosed(instrument: string, pnl: number): void;
  fundingPaid(instrument: string, cumulativePaid: number): void;
  liquidated(instrument: string): void;

  decisionLatency(strategy: string, barCloseToDecisionSeconds: number): void;
  acknowledgementLatency(instrument: string, decisionToAcknowledgementSeconds: number): void;
  fillLatency(instrument: string, acknowledgementToFillSeconds: number): void;
  barProcessed(strategy: string, featureSeconds: number, totalSeconds: number): void;
  inference(model: string, seconds: number): void;
  signal(instrument: string, strategy: string, value: number, confidence: number, direction: SignalDirection): void;
  informationCoefficient(instrument: string, strategy: string, value: number): void;
  modelLoaded(model: string, version: string, stage: string, loadedAtMs: number): void;
  modelSwap(model: string, succeeded: boolean): void;

  tier(instrument: string, tier: string, reason: string): void;
  sizing(instrument: string, kellyFraction: number, targetFraction: number): void;
  regime(instrument: string, labels: readonly string[], probabilities: ArrayLike<number>): void;
  volatilityForecast(instrument: string, annualised: number): void;
  breaker(strategy: string, state: BreakerState, reason: string): void;
  consecutiveLosses(strategy: string, count: number): void;

  warmupFinished(tier: string, durationSeconds: number, barsByInstrument: Readonly<Record<string, number>>): void;
  reconciled(status: ReconciliationStatus, durationSeconds: number, finishedAtMs: number, differences: readonly { readonly instrument: string; readonly kind: ReconciliationDifferenceKind }[]): void;

  venueRequest(endpoint: string, ok: boolean, seconds: number): void;
  venueError(code: string): void;
  rateLimitWait(endpoint: string, seconds: number): void;
  journalAppended(kind: string, bytes: number, sizeBytes: number): void;
  stateStoreOperation(operation: string, seconds: number, ok: boolean): void;
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

/** Cached label children: one lookup per label tuple, nested maps (no key concatenation). */
class Children<C> {
  private readonly root = new Map<string, unknown>();
  constructor(private readonly make: (...values: string[]) => C) {}

  one(a: string): C {
    let child = this.root.get(a) as C | undefined;
    if (child === undefined) this.root.set(a, (child = this.make(a)));
    return child;
  }

  two(a: string, b: string): C {
    let inner = this.root.get(a) as Map<string, C> | undefined;
    if (inner === undefined) this.root.set(a, (inner = new Map()));
    let child = inner.get(b);
    if (child === undefined) inner.set(b, (child = this.make(a, b)));
    return child;
  }

  three(a: string, b: string, c: string): C {
    let middle = this.root.get(a) as Map<string, Map<string, C>> | undefined;
    if (middle === undefined) this.root.set(a, (middle = new Map()));
    let inner = middle.get(b);
    if (inner === undefined) middle.set(b, (inner = new Map()));
    let child = inner.get(c);
    if (child === undefined) inner.set(c, (child = this.make(a, b, c)));
    return child;
  }
}

function build(definition: MetricDefinition, registry: Registry): AnyMetric {
  const common = { name: definition.name, help: definition.help, labelNames: [...definition.labels], registers: [registry] };
  switch (definition.type) {
    case 'counter':
      return new Counter(common);
    case 'gauge':
      return new Gauge(common);
    case 'histogram':
      return new Histogram({ ...common, buckets: [...(definition.buckets ?? [])] });
  }
}

/**
 * Creates the registries and every family of {@link METRIC_DEFINITIONS}.
 * @example
 * const metrics = createTradingMetrics({ processMetrics: true });
 * metrics.orderSubmitted('BTCUSDT-LINEAR.BYBIT', 'buy');
 */
export function createTradingMetrics(options: TradingMetricsOptions): TradingMetrics {
  const registry = new Registry();
  const processRegistry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: processRegistry });
  const byName = new Map<string, AnyMetric>();
  for (const definition of METRIC_DEFINITIONS) byName.set(definition.name, build(definition, registry));

  const counter = <N extends NamesOf<'counter'>>(name: N) => byName.get(name) as Counter<LabelsOf<N>>;
  const gauge = <N extends NamesOf<'gauge'>>(name: N) => byName.get(name) as Gauge<LabelsOf<N>>;
  const histogram = <N extends NamesOf<'histogram'>>(name: N) => byName.get(name) as Histogram<LabelsOf<N>>;
  const counters = (name: NamesOf<'counter'>) => {
    const m = counter(name) as Counter<string>;
    return new Children((...v: string[]) => m.labels(...v));
  };
  const gauges = (name: NamesOf<'gauge'>) => {
    const m = gauge(name) as Gauge<string>;
    return new Children((...v: string[]) => m.labels(...v));
  };
  const histograms = (name: NamesOf<'histogram'>) => {
    const m = histogram(name) as Histogram<string>;
    return new Children((...v: string[]) => m.labels(...v));
  };

  const g = {
    equity: gauges('trade_matrix_equity_usdt'),
    balance: gauges('trade_matrix_balance_usdt'),
    available: gauges('trade_matrix_available_balance_usdt'),
    margin: gauges('trade_matrix_margin_used_usdt'),
    peak: gauges('trade_matrix_peak_equity_usdt'),
    drawdown: gauges('trade_matrix_drawdown_ratio'),
    drawdownLimit: gauges('trade_matrix_drawdown_limit_ratio'),
    accountLeverage: gauges('trade_matrix_account_leverage_ratio'),
    gross: gauges('trade_matrix_gross_exposure_usdt'),
    net: gauges('trade_matrix_net_exposure_usdt'),
    realised: gauges('trade_matrix_realised_pnl_usdt'),
    unrealised: gauges('trade_matrix_unrealised_pnl_usdt'),
    fundingPaid: gauges('trade_matrix_funding_paid_usdt'),
    quantity: gauges('trade_matrix_position_quantity_base'),
    notional: gauges('trade_matrix_position_notional_usdt'),
    entry: gauges('trade_matrix_position_entry_price_usdt'),
    positionLeverage: gauges('trade_matrix_position_leverage_ratio'),
    liquidationPrice: gauges('trade_matrix_liquidation_price_usdt'),
    openOrders: gauges('trade_matrix_open_orders'),
    lastFill: gauges('trade_matrix_last_fill_price_usdt'),
    signal: gauges('trade_matrix_signal_value'),
    confidence: gauges('trade_matrix_signal_confidence_ratio'),
    ic: gauges('trade_matrix_rolling_information_coefficient_ratio'),
    modelLoaded: gauges('trade_matrix_model_loaded_timestamp_seconds'),
    tier: gauges('trade_matrix_cascade_tier'),
    kelly: gauges('trade_matrix_kelly_fraction_ratio'),
    target: gauges('trade_matrix_target_position_fraction_ratio'),
    regime: gauges('trade_matrix_regime_probability_ratio'),
    volatilityForecast: gauges('trade_matrix_volatility_forecast_ratio'),
    breaker: gauges('trade_matrix_circuit_breaker_state'),
    losses: gauges('trade_matrix_consecutive_losses'),
    warmupTier: gauges('trade_matrix_warmup_tier'),
    warmupBars: gauges('trade_matrix_warmup_bars'),
    stale: gauges('trade_matrix_stale_inputs'),
    lag: gauges('trade_matrix_data_feed_lag_seconds'),
    lastBar: gauges('trade_matrix_last_bar_close_timestamp_seconds'),
    interval: gauges('trade_matrix_bar_interval_seconds'),
    price: gauges('trade_matrix_market_price_usdt'),
    volume: gauges('trade_matrix_bar_volume_base'),
    spread: gauges('trade_matrix_spread_basis_points'),
    realisedVolatility: gauges('trade_matrix_realised_volatility_ratio'),
    fundingRate: gauges('trade_matrix_funding_rate_ratio'),
    correlation: gauges('trade_matrix_return_correlation_ratio'),
    runnerInfo: gauges('trade_matrix_runner_info'),
  };
  const c = {
    fees: counters('trade_matrix_fees_paid_usdt_total'),
    fundingPayments: counters('trade_matrix_funding_payments_total'),
    liquidations: counters('trade_matrix_liquidations_total'),
    turnover: counters('trade_matrix_turnover_usdt_total'),
    trades: counters('trade_matrix_trades_total'),
    submitted: counters('trade_matrix_orders_submitted_total'),
    updates: counters('trade_matrix_order_updates_total'),
    rejections: counters('trade_matrix_order_rejections_total'),
    cancellations: counters('trade_matrix_order_cancellations_total'),
    fills: counters('trade_matrix_fills_total'),
    filledQuantity: counters('trade_matrix_filled_quantity_base_total'),
    filledNotional: counters('trade_matrix_filled_notional_usdt_total'),
    signals: counters('trade_matrix_signals_total'),
    predictions: counters('trade_matrix_predictions_total'),
    swaps: counters('trade_matrix_model_swaps_total'),
    tierChanges: counters('trade_matrix_cascade_tier_changes_total'),
    regimeChanges: counters('trade_matrix_regime_changes_total'),
    breakerTransitions: counters('trade_matrix_circuit_breaker_transitions_total'),
    reconciliations: counters('trade_matrix_reconciliation_runs_total'),
    differences: counters('trade_matrix_reconciliation_differences_total'),
    staleEvents: counters('trade_matrix_stale_input_events_total'),
    bars: counters('trade_matrix_bars_processed_total'),
    messages: counters('trade_matrix_feed_messages_total'),
    reconnects: counters('trade_matrix_feed_reconnects_total'),
    requests: counters('trade_matrix_venue_requests_total'),
    venueErrors: counters('trade_matrix_venue_errors_total'),
    rateLimitWaits: counters('trade_matrix_rate_limit_waits_total'),
    rateLimitSeconds: counters('trade_matrix_rate_limit_wait_seconds_total'),
    journalEntries: counters('trade_matrix_journal_entries_total'),
    stateErrors: counters('trade_matrix_state_store_errors_total'),
  };
  const h = {
    tradePnl: histograms('trade_matrix_trade_pnl_usdt'),
    slippage: histograms('trade_matrix_fill_slippage_basis_points'),
    decision: histograms('trade_matrix_bar_close_to_decision_seconds'),
    acknowledgement: histograms('trade_matrix_decision_to_acknowledgement_seconds'),
    fillLatency: histograms('trade_matrix_acknowledgement_to_fill_seconds'),
    inference: histograms('trade_matrix_inference_duration_seconds'),
    features: histograms('trade_matrix_feature_computation_duration_seconds'),
    barTotal: histograms('trade_matrix_bar_processing_duration_seconds'),
    venue: histograms('trade_matrix_venue_request_duration_seconds'),
    stateStore: histograms('trade_matrix_state_store_operation_duration_seconds'),
  };
  const ready = gauge('trade_matrix_runner_ready');
  const heartbeat = gauge('trade_matrix_runner_heartbeat_timestamp_seconds');
  const started = gauge('trade_matrix_runner_start_timestamp_seconds');
  const warmupDuration = gauge('trade_matrix_warmup_duration_seconds');
  const lastReconciliation = gauge('trade_matrix_last_reconciliation_timestamp_seconds');
  const reconciliationDuration = histogram('trade_matrix_reconciliation_duration_seconds');
  const journalSize = gauge('trade_matrix_journal_size_bytes');
  const journalWritten = counter('trade_matrix_journal_written_bytes_total');

  /** One-hot gauges (tier, breaker state, warm-up tier, regime leader): the values set to 1 so far, per key. */
  const peaks = new Map<string, number>();
  const oneHot = new Map<string, Set<string>>();
  const mostLikelyRegime = new Map<string, string>();
  const loadedModels = new Map<string, { version: string; stage: string }>();
  const setOneHot = (children: Children<Gauge.Internal<string>>, key: string, active: string, scope: string) => {
    const slot = `${scope}\u0000${key}`;
    let seen = oneHot.get(slot);
    if (seen === undefined) oneHot.set(slot, (seen = new Set()));
    seen.add(active);
    for (const value of seen) (key === '' ? children.one(value) : children.two(key, value)).set(value === active ? 1 : 0);
  };

  return {
    registry,
    processRegistry,
    async exposition() {
      const custom = await registry.metrics();
      return options.processMetrics ? `${custom}\n${await processRegistry.metrics()}` : custom;
    },
    counter,
    gauge,
    histogram,

    runnerStarted(runner, version, mode, startedAtMs) {
      g.runnerInfo.three(runner, version, mode).set(1);
      started.set(startedAtMs / 1000);
    },
    heartbeat: (atMs) => heartbeat.set(atMs / 1000),
    setReady: (isReady) => ready.set(isReady ? 1 : 0),
    drawdownLimit: (strategy, limit) => g.drawdownLimit.one(strategy).set(limit),
    accountUpdated(strategy, a) {
      g.equity.one(strategy).set(a.equity);
      g.balance.one(strategy).set(a.balance);
      g.available.one(strategy).set(a.availableBalance);
      g.margin.one(strategy).set(a.marginUsed);
      g.gross.one(strategy).set(a.grossExposure);
      g.net.one(strategy).set(a.netExposure);
      const peak = Math.max(peaks.get(strategy) ?? a.equity, a.equity);
      peaks.set(strategy, peak);
      g.peak.one(strategy).set(peak);
      g.drawdown.one(strategy).set(peak > 0 ? 1 - a.equity / peak : 0);
      g.accountLeverage.one(strategy).set(a.equity > 0 ? a.grossExposure / a.equity : 0);
    },
    positionUpdated(instrument, p) {
      g.quantity.one(instrument).set(p.quantity);
      g.notional.one(instrument).set(p.notional);
      g.entry.one(instrument).set(p.entryPrice);
      g.unrealised.one(instrument).set(p.unrealisedPnl);
      g.realised.one(instrument).set(p.realisedPnl);
      g.liquidationPrice.one(instrument).set(p.liquidationPrice);
      g.positionLeverage.one(instrument).set(p.leverage);
    },
    barClosed(instrument, closeTimeMs, closePrice, volume, intervalSeconds) {
      g.lastBar.one(instrument).set(closeTimeMs / 1000);
      g.price.one(instrument).set(closePrice);
      g.volume.one(instrument).set(volume);
      g.interval.one(instrument).set(intervalSeconds);
      c.bars.one(instrument).inc();
    },
    marketUpdated(instrument, spreadBasisPoints, realisedVolatility, fundingRate) {
      g.spread.one(instrument).set(spreadBasisPoints);
      g.realisedVolatility.one(instrument).set(realisedVolatility);
      g.fundingRate.one(instrument).set(fundingRate);
    },
    correlation: (instrument, reference, value) => g.correlation.two(instrument, reference).set(value),
    feedMessage(feed, instrument, lagSeconds) {
      c.messages.one(feed).inc();
      g.lag.two(instrument, feed).set(lagSeconds);
    },
    feedReconnected: (feed) => c.reconnects.one(feed).inc(),
    staleInputs(input, staleCount, becameStale) {
      g.stale.one(input).set(staleCount);
      if (becameStale) c.staleEvents.one(input).inc();
    },

    orderSubmitted: (instrument, side) => c.submitted.two(instrument, side).inc(),
    orderUpdated: (instrument, status) => c.updates.two(instrument, status).inc(),
    orderRejected: (instrument, reason) => c.rejections.two(instrument, reason).inc(),
    orderCancelled: (instrument, reason) => c.cancellations.two(instrument, reason).inc(),
    openOrders: (instrument, count) => g.openOrders.one(instrument).set(count),
    fill(instrument, side, liquidity, quantity, price, fee, slippageBasisPoints) {
      const notional = Math.abs(quantity * price);
      c.fills.three(instrument, side, liquidity).inc();
      c.filledQuantity.two(instrument, side).inc(Math.abs(quantity));
      c.filledNotional.two(instrument, side).inc(notional);
      c.turnover.one(instrument).inc(notional);
      if (fee > 0) c.fees.one(instrument).inc(fee);
      g.lastFill.one(instrument).set(price);
      if (slippageBasisPoints !== undefined) h.slippage.one(instrument).observe(slippageBasisPoints);
    },
    tradeClosed(instrument, pnl) {
      c.trades.two(instrument, pnl > 0 ? 'win' : 'loss').inc();
      h.tradePnl.one(instrument).observe(pnl);
    },
    fundingPaid(instrument, cumulativePaid) {
      g.fundingPaid.one(instrument).set(cumulativePaid);
      c.fundingPayments.one(instrument).inc();
    },
    liquidated: (instrument) => c.liquidations.one(instrument).inc(),

    decisionLatency: (strategy, seconds) => h.decision.one(strategy).observe(seconds),
    acknowledgementLatency: (instrument, seconds) => h.acknowledgement.one(instrument).observe(seconds),
    fillLatency: (instrument, seconds) => h.fillLatency.one(instrument).observe(seconds),
    barProcessed(strategy, featureSeconds, totalSeconds) {
      h.features.one(strategy).observe(featureSeconds);
      h.barTotal.one(strategy).observe(totalSeconds);
    },
    inference(model, seconds) {
      h.inference.one(model).observe(seconds);
      c.predictions.one(model).inc();
    },
    signal(instrument, strategy, value, confidence, direction) {
      g.signal.two(instrument, strategy).set(value);
      g.confidence.two(instrument, strategy).set(confidence);
      c.signals.three(instrument, strategy, direction).inc();
    },
    informationCoefficient: (instrument, strategy, value) => g.ic.two(instrument, strategy).set(value),
    modelLoaded(model, version, stage, loadedAtMs) {
      // One info series per model: the previous version's series goes away.
      const info = gauge('trade_matrix_model_info') as Gauge<string>;
      const previous = loadedModels.get(model);
      if (previous !== undefined) info.remove(model, previous.version, previous.stage);
      loadedModels.set(model, { version, stage });
      info.labels(model, version, stage).set(1);
      g.modelLoaded.one(model).set(loadedAtMs / 1000);
    },
    modelSwap: (model, succeeded) => c.swaps.two(model, succeeded ? 'succeeded' : 'failed').inc(),

    tier(instrument, tier, reason) {
      setOneHot(g.tier, instrument, tier, 'tier');
      c.tierChanges.three(instrument, tier, reason).inc();
    },
    sizing(instrument, kellyFraction, targetFraction) {
      g.kelly.one(instrument).set(kellyFraction);
      g.target.one(instrument).set(targetFraction);
    },
    regime(instrument, labels, probabilities) {
      let best = 0;
      for (let i = 0; i < labels.length; i++) {
        g.regime.two(instrument, labels[i]!).set(probabilities[i]!);
        if (probabilities[i]! > probabilities[best]!) best = i;
      }
      const leader = labels[best]!;
      if (mostLikelyRegime.get(instrument) !== leader) {
        mostLikelyRegime.set(instrument, leader);
        c.regimeChanges.two(instrument, leader).inc();
      }
    },
    volatilityForecast: (instrument, annualised) => g.volatilityForecast.one(instrument).set(annualised),
    breaker(strategy, state, reason) {
      for (const s of ['closed', 'open', 'half_open'] as const) g.breaker.two(strategy, s).set(s === state ? 1 : 0);
      c.breakerTransitions.three(strategy, state, reason).inc();
    },
    consecutiveLosses: (strategy, count) => g.losses.one(strategy).set(count),

    warmupFinished(tier, durationSeconds, barsByInstrument) {
      setOneHot(g.warmupTier, '', tier, 'warmup');
      warmupDuration.set(durationSeconds);
      for (const [instrument, bars] of Object.entries(barsByInstrument)) g.warmupBars.one(instrument).set(bars);
    },
    reconciled(status, durationSeconds, finishedAtMs, differences) {
      c.reconciliations.one(status).inc();
      reconciliationDuration.observe(durationSeconds);
      lastReconciliation.set(finishedAtMs / 1000);
      for (const d of differences) c.differences.two(d.instrument, d.kind).inc();
    },

    venueRequest(endpoint, ok, seconds) {
      c.requests.two(endpoint, ok ? 'ok' : 'error').inc();
      h.venue.one(endpoint).observe(seconds);
    },
    venueError: (code) => c.venueErrors.one(code).inc(),
    rateLimitWait(endpoint, seconds) {
      c.rateLimitWaits.one(endpoint).inc();
      c.rateLimitSeconds.one(endpoint).inc(seconds);
    },
    journalAppended(kind, bytes, sizeBytes) {
      c.journalEntries.one(kind).inc();
      journalWritten.inc(bytes);
      journalSize.set(sizeBytes);
    },
    stateStoreOperation(operation, seconds, ok) {
      h.stateStore.one(operation).observe(seconds);
      if (!ok) c.stateErrors.one(operation).inc();
    },
  };
}
