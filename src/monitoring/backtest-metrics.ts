/**
 * Backtests export the runner's metric families: a finished run is replayed into a fresh {@link TradingMetrics}
 * (no process metrics) and written once as a Prometheus text-exposition file (node-exporter textfile collector
 * format, or `promtool check metrics` input). Families a backtest cannot observe (venue latency, reconciliation,
 * journal, ...) are declared but carry no samples.
 *
 * {@link BacktestMetricsSource} is the structural subset of `BacktestResult` this reads (backtest-metrics.test.ts
 * checks that a real `BacktestResult` satisfies it). Positions, entry prices, realised PnL and the balance are the
 * engine's own account at the end of the run (`BacktestResult.positions`): nothing here re-derives them from fills.
 */
import { writeFileDurable } from '../core/durable-file.js';
import { AppError } from '../core/app-error.js';
import { timeframeMs } from '../core/time.js';
import type { MonitoringErrorCode } from './metrics-server.js';
import { createTradingMetrics, type TradingMetrics } from './trading-metrics.js';

export interface BacktestMetricsSource {
  readonly name: string;
  readonly instruments: readonly string[];
  readonly initialCash: number;
  readonly equity: { readonly ts: Float64Array; readonly value: Float64Array };
  /** The bar period (`4h`, ...); anything else (a tick run's `tick`) has no interval. */
  readonly timeframe: string;
  /** Per instrument, the grid's rows: `present` (when given) marks those where the instrument had a bar. */
  readonly bars: readonly { readonly ts: Float64Array; readonly close: Float64Array; readonly present?: Uint8Array }[];
  /** The fields of `FillRecord` the replay reads. */
  readonly fills: readonly BacktestFill[];
  readonly trades: readonly { readonly instrument: string; readonly pnl: number }[];
  readonly funding: readonly { readonly instrument: string; readonly payment: number }[];
  /** The engine's account per instrument at the end (`PositionRecord`'s fields this reads), engine order. */
  readonly positions: readonly { readonly quantity: number; readonly entryPrice: number; readonly realizedPnl: number; readonly fees: number; readonly funding: number }[];
  readonly annotations?: {
    readonly tiers?: readonly { readonly instrument: string; readonly tier: string; readonly reason: string }[];
    readonly regimeProbabilities?: readonly { readonly instrument: string; readonly labels: readonly string[]; readonly ts: Float64Array; readonly probabilities: readonly Float64Array[] }[];
  };
}

type BacktestFill = Readonly<{ instrument: string; clientOrderId: string; side: 'buy' | 'sell'; quantity: number; price: number; fee: number; liquidity: 'maker' | 'taker'; reason?: 'liquidation' }>;

export interface BacktestMetricsOptions {
  /** Strategy label value (default: the run name). */
  readonly strategy?: string;
  /** trade-matrix version for `trade_matrix_runner_info`. */
  readonly version: string;
}

/**
 * Replays a finished backtest into a new metrics object: account and position gauges at the end of the run,
 * counters over the whole run (orders, fills, fees, turnover, funding, trades, bars, tier and regime changes).
 */
export function backtestMetrics(result: BacktestMetricsSource, options: BacktestMetricsOptions): TradingMetrics {
  const metrics = createTradingMetrics({ processMetrics: false });
  const strategy = options.strategy ?? result.name;
  const n = result.equity.ts.length;
  metrics.runnerStarted(result.name, options.version, 'backtest', n > 0 ? result.equity.ts[0]! : 0);

  const seenOrders = new Set<string>();
  for (const f of result.fills) {
    if (!seenOrders.has(f.clientOrderId)) {
      seenOrders.add(f.clientOrderId);
      metrics.orderSubmitted(f.instrument, f.side);
      metrics.orderUpdated(f.instrument, 'filled');
    }
    metrics.fill(f.instrument, f.side, f.liquidity, f.quantity, f.price, f.fee);
    if (f.reason === 'liquidation') metrics.liquidated(f.instrument);
  }
  // Cumulative funding per instrument, payment by payment (the gauge's path); the totals are the engine's.
  const fundingSoFar = new Map<string, number>();
  for (const p of result.funding) {
    const paid = (fundingSoFar.get(p.instrument) ?? 0) + p.payment;
    fundingSoFar.set(p.instrument, paid);
    metrics.fundingPaid(p.instrument, paid);
  }
  for (const t of result.trades) metrics.tradeClosed(t.instrument, t.pnl);

  // Walk the equity curve so peak equity and drawdown are the run's; the last point is set with the full account below.
  for (let i = 0; i < n - 1; i++) {
    const value = result.equity.value[i]!;
    metrics.accountUpdated(strategy, { equity: value, balance: value, availableBalance: value, marginUsed: 0, grossExposure: 0, netExposure: 0 });
  }
  const equity = n > 0 ? result.equity.value[n - 1]! : result.initialCash;
  let gross = 0;
  let net = 0;
  let balance = result.initialCash;
  const intervalMs = barIntervalMs(result.timeframe);
  result.instruments.forEach((instrument, k) => {
    const bars = result.bars[k]!;
    const present = bars.present;
    // Only the instrument's own bars: a grid row it had no bar at (NaN or forward-filled) was never processed.
    let last = -1;
    for (let i = 0; i < bars.ts.length; i++) {
      if (present !== undefined && present[i] === 0) continue;
      metrics.barClosed(instrument, bars.ts[i]! + intervalMs, bars.close[i]!, 0, intervalMs / 1000);
      last = i;
    }
    // The engine's own account of the instrument (its one position accounting), marked at its last close.
    const position = result.positions[k]!;
    const quantity = position.quantity;
    const close = last >= 0 ? bars.close[last]! : position.entryPrice;
    const notional = quantity * close;
    gross += Math.abs(notional);
    net += notional;
    balance += position.realizedPnl - position.fees - position.funding;
    metrics.positionUpdated(instrument, {
      quantity,
      notional,
      entryPrice: position.entryPrice,
      unrealisedPnl: quantity === 0 ? 0 : quantity * (close - position.entryPrice),
      realisedPnl: position.realizedPnl,
      liquidationPrice: 0,
      leverage: equity > 0 ? Math.abs(notional) / equity : 0,
    });
  });
  metrics.accountUpdated(strategy, { equity, balance, availableBalance: balance, marginUsed: 0, grossExposure: gross, netExposure: net });

  for (const t of result.annotations?.tiers ?? []) metrics.tier(t.instrument, t.tier, t.reason);
  for (const r of result.annotations?.regimeProbabilities ?? []) {
    const row = new Float64Array(r.labels.length);
    for (let i = 0; i < r.ts.length; i++) {
      for (let j = 0; j < row.length; j++) row[j] = r.probabilities[j]![i]!;
      metrics.regime(r.instrument, r.labels, row);
    }
  }
  return metrics;
}

/** The length of a bar of `timeframe` in ms; 0 for one that is not a bar period (a tick run's `tick`). */
function barIntervalMs(timeframe: string): number {
  try {
    return timeframeMs(timeframe);
  } catch {
    return 0;
  }
}

/**
 * Writes `text` to `path` atomically: temp file in the same folder, fsync, rename.
 * @throws MonitoringError `metrics_file_write_failed`.
 */
export function writeExpositionFile(path: string, text: string): void {
  try {
    writeFileDurable(path, text);
  } catch (e) {
    throw new AppError<MonitoringErrorCode>('metrics_file_write_failed', `cannot write the metrics file ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
}

/**
 * Exports a finished backtest as a Prometheus text file at `path` and returns the text.
 * @example
 * await writeBacktestMetrics(result, 'runs/x/metrics.prom', { version: '0.1.0' });
 */
export async function writeBacktestMetrics(result: BacktestMetricsSource, path: string, options: BacktestMetricsOptions): Promise<string> {
  const text = await backtestMetrics(result, options).exposition();
  writeExpositionFile(path, text);
  return text;
}
