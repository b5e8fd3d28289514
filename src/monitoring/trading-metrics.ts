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
 * Hot path: prom-client's own `labels(...).inc()` re-validates and re-hashes the labels on every call (a string built
 * per call). Here every series is a cell (`{ labels, value }`, or bucket counts in a Float64Array) created once per
 * label tuple and found through nested maps, so a steady-state update is one to three `Map.get`s and a number write,
 * no allocation. The families are prom-client metric subclasses whose `get()` reads the cells at scrape time, so
 * prom-client still owns registration, HELP/TYPE and the text format (trading-metrics.test.ts compares the output
 * with plain prom-client metrics fed the same updates).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { InvariantError } from '../core/app-error.js';
import { METRIC_DEFINITIONS, type MetricDefinition, type MetricType } from './metric-definitions.js';

type Definitions = (typeof METRIC_DEFINITIONS)[number];
/** Names of the families of one type, e.g. `NamesOf<'counter'>`. */
export type NamesOf<T extends MetricType> = Extract<Definitions, { readonly type: T }>['name'];

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
  /** Sets the realised volatility alone (a runner without an order book or funding feed). */
  realisedVolatility(instrument: string, annualised: number): void;
  /** The latest funding rate known for `instrument` (fraction per settlement), e.g. the signal stage's funding input. */
  fundingRate(instrument: string, rate: number): void;
  /** The venue's bid/ask spread of `instrument`, basis points of the mid. */
  spread(instrument: string, basisPoints: number): void;
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
  /** Sets the cumulative funding gauge and counts `payments` settlements (default 1; 0 = gauge only). */
  fundingPaid(instrument: string, cumulativePaid: number, payments?: number): void;
  liquidated(instrument: string): void;

  decisionLatency(strategy: string, barCloseToDecisionSeconds: number): void;
  acknowledgementLatency(instrument: string, decisionToAcknowledgementSeconds: number): void;
  fillLatency(instrument: string, acknowledgementToFillSeconds: number): void;
  /** `featureSeconds` undefined: a strategy without a feature stage (only the total is observed). */
  barProcessed(strategy: string, featureSeconds: number | undefined, totalSeconds: number): void;
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
  /**
   * Creates at 0 the counter series whose label values are known up front (per instrument, side, status, outcome,
   * liquidity; the given inputs, feeds and state-store operations), so `rate`/`increase` panels read 0 instead of
   * no data before the first event (Prometheus practice: initialise the known label sets). Leaves existing values.
   */
  initialiseSeries(known: KnownLabels): void;
  /**
   * A recorder of the per-bar families of one instrument, strategy and model with every series resolved once: a bar
   * is one call, no label lookup, no allocation (the signal stage's hot path; `bench/metrics-overhead`).
   */
  barRecorder(instrument: string, strategy: string, model: string): BarRecorder;
}

/** See {@link TradingMetrics.barRecorder}. Times in epoch ms, durations in seconds. */
export interface BarRecorder {
  /**
   * What {@link TradingMetrics.barClosed}, `inference`, `signal` (direction from the sign of `signal`), `barProcessed`,
   * `decisionLatency` and `heartbeat` record for one bar, in one call.
   */
  record(closeTimeMs: number, closePrice: number, volume: number, intervalSeconds: number, featureSeconds: number, inferenceSeconds: number, totalSeconds: number, decisionSeconds: number, signal: number, confidence: number, heartbeatMs: number): void;
}

/** Label values a runner knows at start (see {@link TradingMetrics.initialiseSeries}). */
export interface KnownLabels {
  readonly instruments: readonly string[];
  readonly inputs?: readonly string[];
  readonly feeds?: readonly string[];
  readonly operations?: readonly string[];
  /** A venue run: the reconciliation counters by status and the duration histogram exist (at 0) before the first one. */
  readonly reconciliation?: boolean;
  /** A venue run: the rate limiter's endpoints (their wait counters exist at 0 before the first wait). */
  readonly rateLimitEndpoints?: readonly string[];
}

const ORDER_STATUSES: readonly OrderStatus[] = ['accepted', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired'];

type Labels = Readonly<Record<string, string>>;
/** One counter or gauge series. */
interface ValueCell {
  readonly labels: Labels;
  value: number;
}
/** One histogram series: per-bucket (non-cumulative) counts, the last slot is +Inf. */
interface HistogramCell {
  readonly labels: Labels;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** The series of one family: cells created once per label tuple, found through nested maps (no key strings). */
class Cells<C extends { readonly labels: Labels }> {
  readonly all: C[] = [];
  private readonly root = new Map<string, unknown>();
  private single: C | undefined;

  constructor(
    private readonly labelNames: readonly string[],
    private readonly make: (labels: Labels) => C,
  ) {}

  private create(values: readonly string[]): C {
    const labels: Record<string, string> = {};
    for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]!] = values[i]!;
    const cell = this.make(labels);
    this.all.push(cell);
    return cell;
  }

  zero(): C {
    return (this.single ??= this.create([]));
  }

  one(a: string): C {
    let cell = this.root.get(a) as C | undefined;
    if (cell === undefined) this.root.set(a, (cell = this.create([a])));
    return cell;
  }

  two(a: string, b: string): C {
    let inner = this.root.get(a) as Map<string, C> | undefined;
    if (inner === undefined) this.root.set(a, (inner = new Map()));
    let cell = inner.get(b);
    if (cell === undefined) inner.set(b, (cell = this.create([a, b])));
    return cell;
  }

  three(a: string, b: string, c: string): C {
    let middle = this.root.get(a) as Map<string, Map<string, C>> | undefined;
    if (middle === undefined) this.root.set(a, (middle = new Map()));
    let inner = middle.get(b);
    if (inner === undefined) middle.set(b, (inner = new Map()));
    let cell = inner.get(c);
    if (cell === undefined) inner.set(c, (cell = this.create([a, b, c])));
    return cell;
  }

  /** Drops the series (a, b, c) of a three-label family. */
  removeThree(a: string, b: string, c: string): void {
    const inner = (this.root.get(a) as Map<string, Map<string, C>> | undefined)?.get(b);
    const cell = inner?.get(c);
    if (cell === undefined) return;
    inner!.delete(c);
    this.all.splice(this.all.indexOf(cell), 1);
  }
}

type Snapshot = MetricObjectWithValues<MetricValue<string>>;

/** A prom-client Counter or Gauge whose samples are the cells (read at scrape time). */
function valueFamily(definition: MetricDefinition, registry: Registry): Cells<ValueCell> {
  const cells = new Cells<ValueCell>(definition.labels, (labels) => ({ labels, value: 0 }));
  const Base = definition.type === 'counter' ? Counter : Gauge;
  const family = new (class extends (Base as typeof Gauge<string>) {
    override async get(): Promise<Snapshot> {
      const values = cells.all.map((cell) => ({ labels: { ...cell.labels }, value: cell.value }));
      return { name: definition.name, help: definition.help, type: definition.type, aggregator: 'sum', values } as unknown as Snapshot;
    }
  })({ name: definition.name, help: definition.help, labelNames: [...definition.labels], registers: [] });
  registry.registerMetric(family);
  return cells;
}

/** A prom-client Histogram whose samples are the cells: cumulative `_bucket` series, `_sum`, `_count`. */
function histogramFamily(definition: MetricDefinition, registry: Registry): { cells: Cells<HistogramCell>; bounds: Float64Array } {
  const bounds = Float64Array.from(definition.buckets ?? []);
  const cells = new Cells<HistogramCell>(definition.labels, (labels) => ({ labels, counts: new Float64Array(bounds.length + 1), sum: 0, count: 0 }));
  const name = definition.name;
  const samples = () =>
    cells.all.flatMap((cell) => {
      const out: { labels: Labels; sharedLabels: Labels; value: number; metricName: string }[] = [];
      let cumulative = 0;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += cell.counts[i]!;
        out.push({ labels: { le: bounds[i]! as unknown as string }, sharedLabels: cell.labels, value: cumulative, metricName: `${name}_bucket` });
      }
      out.push({ labels: { le: '+Inf' }, sharedLabels: cell.labels, value: cell.count, metricName: `${name}_bucket` });
      out.push({ labels: {}, sharedLabels: cell.labels, value: cell.sum, metricName: `${name}_sum` });
      out.push({ labels: {}, sharedLabels: cell.labels, value: cell.count, metricName: `${name}_count` });
      return out;
    });
  const family = new (class extends Histogram<string> {
    /** What the registry formats (labels `le` first, then the series labels, as prom-client does). */
    async getForPromString(): Promise<Snapshot> {
      return { name, help: definition.help, type: 'histogram', aggregator: 'sum', values: samples() } as unknown as Snapshot;
    }

    override async get(): Promise<Snapshot> {
      const values = samples().map((v) => ({ value: v.value, metricName: v.metricName, labels: { ...v.sharedLabels, ...v.labels } }));
      return { name, help: definition.help, type: 'histogram', aggregator: 'sum', values } as unknown as Snapshot;
    }
  })({ name, help: definition.help, labelNames: [...definition.labels], buckets: [...bounds], registers: [] });
  registry.registerMetric(family);
  return { cells, bounds };
}

/** Adds one observation to a histogram cell. @throws InvariantError on a non-finite value. */
function observe(cell: HistogramCell, bounds: Float64Array, value: number): void {
  if (!Number.isFinite(value)) throw new InvariantError(`histogram observation must be finite, was ${value}`, { labels: cell.labels });
  let i = 0;
  while (i < bounds.length && value > bounds[i]!) i++;
  cell.counts[i]! += 1;
  cell.sum += value;
  cell.count += 1;
}

interface Slot {
  readonly slab: Float64Array;
  readonly index: number;
}
interface HistogramSlot extends Slot {
  readonly bounds: Float64Array;
}

/** {@link observe} on a histogram bound to a slab (bucket counts, sum, count from `index`). @throws InvariantError on a non-finite value. */
function observeSlot(h: HistogramSlot, value: number): void {
  if (!Number.isFinite(value)) throw new InvariantError(`histogram observation must be finite, was ${value}`, {});
  const { slab, index, bounds } = h;
  const n = bounds.length;
  let i = 0;
  while (i < n && value > bounds[i]!) i++;
  slab[index + i]! += 1;
  slab[index + n + 1]! += value;
  slab[index + n + 2]! += 1;
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
  const families = new Map<string, Cells<ValueCell> | { cells: Cells<HistogramCell>; bounds: Float64Array }>();
  for (const definition of METRIC_DEFINITIONS) {
    families.set(definition.name, definition.type === 'histogram' ? histogramFamily(definition, registry) : valueFamily(definition, registry));
  }
  const counters = (name: NamesOf<'counter'>) => families.get(name) as Cells<ValueCell>;
  const gauges = (name: NamesOf<'gauge'>) => families.get(name) as Cells<ValueCell>;
  const histograms = (name: NamesOf<'histogram'>) => {
    const family = families.get(name) as { cells: Cells<HistogramCell>; bounds: Float64Array };
    return {
      one: (a: string, value: number) => observe(family.cells.one(a), family.bounds, value),
      zero: (value: number) => observe(family.cells.zero(), family.bounds, value),
      /** Creates the label-less series with empty buckets (no observation). */
      touchZero: () => void family.cells.zero(),
      /** Creates series `a` with empty buckets (no observation). */
      touch: (a: string) => void family.cells.one(a),
      /** The series `a` and the bucket bounds (for recorders that observe without a lookup). */
      series: (a: string) => ({ cell: family.cells.one(a), bounds: family.bounds }),
    };
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
  const ready = gauges('trade_matrix_runner_ready');
  const heartbeat = gauges('trade_matrix_runner_heartbeat_timestamp_seconds');
  const started = gauges('trade_matrix_runner_start_timestamp_seconds');
  const warmupDuration = gauges('trade_matrix_warmup_duration_seconds');
  const lastReconciliation = gauges('trade_matrix_last_reconciliation_timestamp_seconds');
  const reconciliationDuration = histograms('trade_matrix_reconciliation_duration_seconds');
  const journalSize = gauges('trade_matrix_journal_size_bytes');
  const journalWritten = counters('trade_matrix_journal_written_bytes_total');
  const modelInfo = gauges('trade_matrix_model_info');

  /** One-hot gauges (tier, breaker state, warm-up tier, regime leader): the values set to 1 so far, per key. */
  const peaks = new Map<string, number>();
  const oneHot = new Map<string, Set<string>>();
  const mostLikelyRegime = new Map<string, string>();
  const loadedModels = new Map<string, { version: string; stage: string }>();
  const setOneHot = (cells: Cells<ValueCell>, key: string, active: string, scope: string) => {
    const slot = `${scope}\u0000${key}`;
    let seen = oneHot.get(slot);
    if (seen === undefined) oneHot.set(slot, (seen = new Set()));
    seen.add(active);
    for (const value of seen) (key === '' ? cells.one(value) : cells.two(key, value)).value = value === active ? 1 : 0;
  };

  /**
   * Bar recorders write their series into one contiguous Float64Array (a few cache lines) instead of a dozen cell
   * objects and their boxed doubles: after a model's inference has evicted the caches, a bar's updates cost a few
   * cache misses instead of dozens. Each bound cell's `value` (histograms: `counts`, `sum`, `count`) becomes a view of
   * its slot, so the facade's other methods and the scrape read and write the same numbers.
   */
  const slots = new Map<object, { readonly slab: Float64Array; readonly index: number }>();
  const recorders = new Map<string, BarRecorder>();
  const slot = (slab: Float64Array, index: number) => ({ get: () => slab[index]!, set: (v: number) => void (slab[index] = v), enumerable: true });
  const createBarRecorder = (instrument: string, strategy: string, model: string): BarRecorder => {
    const values = [g.lastBar.one(instrument), g.price.one(instrument), g.volume.one(instrument), g.interval.one(instrument), c.bars.one(instrument), c.predictions.one(model), g.signal.two(instrument, strategy), g.confidence.two(instrument, strategy), c.signals.three(instrument, strategy, 'long'), c.signals.three(instrument, strategy, 'short'), c.signals.three(instrument, strategy, 'flat'), heartbeat.zero()];
    const histograms = [h.inference.series(model), h.features.series(strategy), h.barTotal.series(strategy), h.decision.series(strategy)];
    let size = 0;
    for (const v of values) if (!slots.has(v)) size += 1;
    for (const x of histograms) if (!slots.has(x.cell)) size += x.bounds.length + 3;
    const slab = new Float64Array(size);
    let next = 0;
    const bindValue = (cell: ValueCell) => {
      let bound = slots.get(cell);
      if (bound === undefined) {
        const index = next++;
        slab[index] = cell.value;
        Object.defineProperty(cell, 'value', slot(slab, index));
        slots.set(cell, (bound = { slab, index }));
      }
      return bound;
    };
    /** Layout: bucket counts (bounds + 1, the last +Inf), sum, count. */
    const bindHistogram = ({ cell, bounds }: { cell: HistogramCell; bounds: Float64Array }) => {
      let bound = slots.get(cell);
      if (bound === undefined) {
        const index = next;
        next += bounds.length + 3;
        slab.set(cell.counts, index);
        slab[index + bounds.length + 1] = cell.sum;
        slab[index + bounds.length + 2] = cell.count;
        Object.defineProperty(cell, 'counts', { value: slab.subarray(index, index + bounds.length + 1), enumerable: true });
        Object.defineProperty(cell, 'sum', slot(slab, index + bounds.length + 1));
        Object.defineProperty(cell, 'count', slot(slab, index + bounds.length + 2));
        slots.set(cell, (bound = { slab, index }));
      }
      return { ...bound, bounds };
    };
    const [lastBar, price, volumeSlot, interval, bars, predictions, signalSlot, confidenceSlot, long, short, flat, beat] = values.map(bindValue) as [Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot];
    const [inference, features, total, decision] = histograms.map(bindHistogram) as [HistogramSlot, HistogramSlot, HistogramSlot, HistogramSlot];
    return {
      record(closeTimeMs, closePrice, volume, intervalSeconds, featureSeconds, inferenceSeconds, totalSeconds, decisionSeconds, signal, confidence, heartbeatMs) {
        lastBar.slab[lastBar.index] = closeTimeMs / 1000;
        price.slab[price.index] = closePrice;
        volumeSlot.slab[volumeSlot.index] = volume;
        interval.slab[interval.index] = intervalSeconds;
        bars.slab[bars.index]! += 1;
        observeSlot(inference, inferenceSeconds);
        predictions.slab[predictions.index]! += 1;
        signalSlot.slab[signalSlot.index] = signal;
        confidenceSlot.slab[confidenceSlot.index] = confidence;
        const direction = signal > 0 ? long : signal < 0 ? short : flat;
        direction.slab[direction.index]! += 1;
        observeSlot(features, featureSeconds);
        observeSlot(total, totalSeconds);
        observeSlot(decision, decisionSeconds);
        beat.slab[beat.index] = heartbeatMs / 1000;
      },
    };
  };

  return {
    registry,
    processRegistry,
    async exposition() {
      const custom = await registry.metrics();
      return options.processMetrics ? `${custom}\n${await processRegistry.metrics()}` : custom;
    },

    runnerStarted(runner, version, mode, startedAtMs) {
      g.runnerInfo.three(runner, version, mode).value = 1;
      started.zero().value = startedAtMs / 1000;
    },
    heartbeat: (atMs) => void (heartbeat.zero().value = atMs / 1000),
    setReady: (isReady) => void (ready.zero().value = isReady ? 1 : 0),
    drawdownLimit: (strategy, limit) => g.drawdownLimit.one(strategy).value = limit,
    accountUpdated(strategy, a) {
      g.equity.one(strategy).value = a.equity;
      g.balance.one(strategy).value = a.balance;
      g.available.one(strategy).value = a.availableBalance;
      g.margin.one(strategy).value = a.marginUsed;
      g.gross.one(strategy).value = a.grossExposure;
      g.net.one(strategy).value = a.netExposure;
      const peak = Math.max(peaks.get(strategy) ?? a.equity, a.equity);
      peaks.set(strategy, peak);
      g.peak.one(strategy).value = peak;
      g.drawdown.one(strategy).value = peak > 0 ? 1 - a.equity / peak : 0;
      g.accountLeverage.one(strategy).value = a.equity > 0 ? a.grossExposure / a.equity : 0;
    },
    positionUpdated(instrument, p) {
      g.quantity.one(instrument).value = p.quantity;
      g.notional.one(instrument).value = p.notional;
      g.entry.one(instrument).value = p.entryPrice;
      g.unrealised.one(instrument).value = p.unrealisedPnl;
      g.realised.one(instrument).value = p.realisedPnl;
      g.liquidationPrice.one(instrument).value = p.liquidationPrice;
      g.positionLeverage.one(instrument).value = p.leverage;
    },
    barClosed(instrument, closeTimeMs, closePrice, volume, intervalSeconds) {
      g.lastBar.one(instrument).value = closeTimeMs / 1000;
      g.price.one(instrument).value = closePrice;
      g.volume.one(instrument).value = volume;
      g.interval.one(instrument).value = intervalSeconds;
      c.bars.one(instrument).value += 1;
    },
    marketUpdated(instrument, spreadBasisPoints, realisedVolatility, fundingRate) {
      g.spread.one(instrument).value = spreadBasisPoints;
      g.realisedVolatility.one(instrument).value = realisedVolatility;
      g.fundingRate.one(instrument).value = fundingRate;
    },
    realisedVolatility: (instrument, annualised) => void (g.realisedVolatility.one(instrument).value = annualised),
    fundingRate: (instrument, rate) => void (g.fundingRate.one(instrument).value = rate),
    spread: (instrument, basisPoints) => void (g.spread.one(instrument).value = basisPoints),
    correlation: (instrument, reference, value) => g.correlation.two(instrument, reference).value = value,
    feedMessage(feed, instrument, lagSeconds) {
      c.messages.one(feed).value += 1;
      g.lag.two(instrument, feed).value = lagSeconds;
    },
    feedReconnected: (feed) => c.reconnects.one(feed).value += 1,
    staleInputs(input, staleCount, becameStale) {
      g.stale.one(input).value = staleCount;
      if (becameStale) c.staleEvents.one(input).value += 1;
    },

    orderSubmitted: (instrument, side) => c.submitted.two(instrument, side).value += 1,
    orderUpdated: (instrument, status) => c.updates.two(instrument, status).value += 1,
    orderRejected: (instrument, reason) => c.rejections.two(instrument, reason).value += 1,
    orderCancelled: (instrument, reason) => c.cancellations.two(instrument, reason).value += 1,
    openOrders: (instrument, count) => g.openOrders.one(instrument).value = count,
    fill(instrument, side, liquidity, quantity, price, fee, slippageBasisPoints) {
      const notional = Math.abs(quantity * price);
      c.fills.three(instrument, side, liquidity).value += 1;
      c.filledQuantity.two(instrument, side).value += Math.abs(quantity);
      c.filledNotional.two(instrument, side).value += notional;
      c.turnover.one(instrument).value += notional;
      if (fee > 0) c.fees.one(instrument).value += fee;
      g.lastFill.one(instrument).value = price;
      if (slippageBasisPoints !== undefined) h.slippage.one(instrument, slippageBasisPoints);
    },
    tradeClosed(instrument, pnl) {
      c.trades.two(instrument, pnl > 0 ? 'win' : 'loss').value += 1;
      h.tradePnl.one(instrument, pnl);
    },
    fundingPaid(instrument, cumulativePaid, payments = 1) {
      g.fundingPaid.one(instrument).value = cumulativePaid;
      c.fundingPayments.one(instrument).value += payments;
    },
    liquidated: (instrument) => c.liquidations.one(instrument).value += 1,

    decisionLatency: (strategy, seconds) => h.decision.one(strategy, seconds),
    acknowledgementLatency: (instrument, seconds) => h.acknowledgement.one(instrument, seconds),
    fillLatency: (instrument, seconds) => h.fillLatency.one(instrument, seconds),
    barProcessed(strategy, featureSeconds, totalSeconds) {
      if (featureSeconds !== undefined) h.features.one(strategy, featureSeconds);
      h.barTotal.one(strategy, totalSeconds);
    },
    inference(model, seconds) {
      h.inference.one(model, seconds);
      c.predictions.one(model).value += 1;
    },
    signal(instrument, strategy, value, confidence, direction) {
      g.signal.two(instrument, strategy).value = value;
      g.confidence.two(instrument, strategy).value = confidence;
      c.signals.three(instrument, strategy, direction).value += 1;
    },
    informationCoefficient: (instrument, strategy, value) => g.ic.two(instrument, strategy).value = value,
    modelLoaded(model, version, stage, loadedAtMs) {
      // One info series per model: the previous version's series goes away.
      const previous = loadedModels.get(model);
      if (previous !== undefined) modelInfo.removeThree(model, previous.version, previous.stage);
      loadedModels.set(model, { version, stage });
      modelInfo.three(model, version, stage).value = 1;
      g.modelLoaded.one(model).value = loadedAtMs / 1000;
      // Both swap outcomes exist from the first load on (at 0), so increase() sees the first swap or refusal.
      c.swaps.two(model, 'succeeded');
      c.swaps.two(model, 'failed');
    },
    modelSwap: (model, succeeded) => c.swaps.two(model, succeeded ? 'succeeded' : 'failed').value += 1,

    tier(instrument, tier, reason) {
      setOneHot(g.tier, instrument, tier, 'tier');
      c.tierChanges.three(instrument, tier, reason).value += 1;
    },
    sizing(instrument, kellyFraction, targetFraction) {
      g.kelly.one(instrument).value = kellyFraction;
      g.target.one(instrument).value = targetFraction;
    },
    regime(instrument, labels, probabilities) {
      let best = 0;
      for (let i = 0; i < labels.length; i++) {
        g.regime.two(instrument, labels[i]!).value = probabilities[i]!;
        if (probabilities[i]! > probabilities[best]!) best = i;
      }
      const leader = labels[best]!;
      if (mostLikelyRegime.get(instrument) !== leader) {
        mostLikelyRegime.set(instrument, leader);
        c.regimeChanges.two(instrument, leader).value += 1;
      }
    },
    volatilityForecast: (instrument, annualised) => g.volatilityForecast.one(instrument).value = annualised,
    breaker(strategy, state, reason) {
      for (const s of ['closed', 'open', 'half_open'] as const) g.breaker.two(strategy, s).value = s === state ? 1 : 0;
      c.breakerTransitions.three(strategy, state, reason).value += 1;
    },
    consecutiveLosses: (strategy, count) => g.losses.one(strategy).value = count,

    warmupFinished(tier, durationSeconds, barsByInstrument) {
      setOneHot(g.warmupTier, '', tier, 'warmup');
      warmupDuration.zero().value = durationSeconds;
      for (const [instrument, bars] of Object.entries(barsByInstrument)) g.warmupBars.one(instrument).value = bars;
    },
    reconciled(status, durationSeconds, finishedAtMs, differences) {
      c.reconciliations.one(status).value += 1;
      reconciliationDuration.zero(durationSeconds);
      lastReconciliation.zero().value = finishedAtMs / 1000;
      for (const d of differences) c.differences.two(d.instrument, d.kind).value += 1;
    },

    venueRequest(endpoint, ok, seconds) {
      c.requests.two(endpoint, ok ? 'ok' : 'error').value += 1;
      h.venue.one(endpoint, seconds);
    },
    venueError: (code) => c.venueErrors.one(code).value += 1,
    rateLimitWait(endpoint, seconds) {
      c.rateLimitWaits.one(endpoint).value += 1;
      c.rateLimitSeconds.one(endpoint).value += seconds;
    },
    journalAppended(kind, bytes, sizeBytes) {
      c.journalEntries.one(kind).value += 1;
      journalWritten.zero().value += bytes;
      journalSize.zero().value = sizeBytes;
    },
    stateStoreOperation(operation, seconds, ok) {
      h.stateStore.one(operation, seconds);
      if (!ok) c.stateErrors.one(operation).value += 1;
    },
    barRecorder(instrument, strategy, model) {
      const key = `${instrument}\u0000${strategy}\u0000${model}`;
      let recorder = recorders.get(key);
      if (recorder === undefined) recorders.set(key, (recorder = createBarRecorder(instrument, strategy, model)));
      return recorder;
    },
    initialiseSeries(known) {
      // Touching a cell creates its series at 0; values already counted stay.
      for (const instrument of known.instruments) {
        for (const family of [c.fees, c.fundingPayments, c.liquidations, c.turnover, c.bars]) family.one(instrument);
        for (const outcome of ['win', 'loss']) c.trades.two(instrument, outcome);
        for (const status of ORDER_STATUSES) c.updates.two(instrument, status);
        for (const side of ['buy', 'sell'] as const) {
          for (const family of [c.submitted, c.filledQuantity, c.filledNotional]) family.two(instrument, side);
          for (const liquidity of ['maker', 'taker']) c.fills.three(instrument, side, liquidity);
        }
      }
      for (const input of known.inputs ?? []) c.staleEvents.one(input);
      for (const feed of known.feeds ?? []) (c.messages.one(feed), c.reconnects.one(feed));
      for (const operation of known.operations ?? []) c.stateErrors.one(operation);
      for (const endpoint of known.rateLimitEndpoints ?? []) (c.rateLimitWaits.one(endpoint), c.rateLimitSeconds.one(endpoint));
      // The order latency histograms exist empty from the start: the first fills then show as an increase (rate > 0).
      for (const instrument of known.instruments) (h.acknowledgement.touch(instrument), h.fillLatency.touch(instrument));
      if (known.reconciliation) {
        for (const status of ['clean', 'differences'] as const) c.reconciliations.one(status);
        reconciliationDuration.touchZero();
        for (const instrument of known.instruments) for (const kind of ['order', 'position'] as const) c.differences.two(instrument, kind);
        c.differences.two('account', 'balance');
      }
    },
  };
}
