import { parseUtcMs, timeframeMs } from '../core/time.js';
import type { MarketStore } from '../data/index.js';
import { FeaturePipeline, featureInputsFromStore, forwardLogReturn, realizedVolatility, tripleBarrierLabels, type FeatureInputs } from '../features/index.js';
import { trainFeatureSpec, type TrainConfig } from './train-config.js';
import { TrainingError } from './training-error.js';

/** One symbol's rows in the training range, aligned with {@link TrainingData.ts}. */
export interface SymbolSeries {
  readonly symbol: string;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  /** Feature rows, row-major `rows × featureNames.length` (NaN = missing / warming up). */
  readonly features: Float64Array;
  /** Training label (see `label.target`); NaN where the horizon runs past the data or the scale is unknown. */
  readonly target: Float64Array;
  /** Raw forward log return over the label horizon, ln(close[t+h] / close[t]); NaN for the last h rows. */
  readonly forwardReturn: Float64Array;
  /** Funding settlements of the symbol's perpetual up to the last bar's close (the backtest's funding table). */
  readonly funding: { readonly ts: Float64Array; readonly rate: Float64Array } | null;
}

/** Everything the walk-forward reads: symbols on one bar grid, with features, labels and funding. */
export interface TrainingData {
  readonly venue: string;
  readonly timeframe: string;
  readonly timeframeMs: number;
  /** Bar open times of the rows (epoch ms), shared by every symbol. */
  readonly ts: Float64Array;
  readonly featureNames: readonly string[];
  readonly featureSpecHash: string;
  readonly horizon: number;
  readonly symbols: readonly SymbolSeries[];
}

/**
 * Loads the training rows of every configured symbol: inputs from the store via `featureInputsFromStore` (bars from
 * `warmupBars` before `data.start` so features are warm at the first row, funding, DVOL, BTC reference), the full
 * feature matrix of the pipeline, the label and the raw forward return; rows are cut to [start, end).
 * @throws TrainingError `misaligned_data` when the symbols' bar grids differ, `insufficient_data` without rows;
 * DataError from the store (`not_found`).
 */
export async function loadTrainingData(store: MarketStore, config: TrainConfig, pipeline: FeaturePipeline = FeaturePipeline.fromSpec(trainFeatureSpec(config))): Promise<TrainingData> {
  const { venue, timeframe, symbols } = config.data;
  const step = timeframeMs(timeframe);
  const start = parseUtcMs(config.data.start);
  const end = parseUtcMs(config.data.end);
  const loadFrom = start - pipeline.warmupBars * step;
  const out: SymbolSeries[] = [];
  let grid: Float64Array | undefined;
  for (const symbol of symbols) {
    const inputs = await featureInputsFromStore(store, {
      venue,
      symbol,
      timeframe,
      start: loadFrom,
      end,
      ...(pipeline.requiredInputs.includes('funding') ? { fundingVenue: config.data.fundingVenue } : {}),
      ...(pipeline.requiredInputs.includes('dvol') ? { dvol: config.data.dvol } : {}),
      ...(pipeline.requiredInputs.includes('referenceClose') ? { reference: config.data.reference } : {}),
    });
    const series = symbolSeries(symbol, inputs, pipeline, config, start);
    if (grid === undefined) grid = series.ts;
    else if (series.ts.length !== grid.length || series.ts.some((t, i) => t !== grid![i])) {
      throw new TrainingError('misaligned_data', `${symbol} has ${series.ts.length} ${timeframe} bars in [${config.data.start}, ${config.data.end}) on another grid than ${symbols[0]} (${grid.length} bars); every symbol needs the same bars`, {
        symbol,
        bars: series.ts.length,
        expected: grid.length,
      });
    }
    out.push(series.data);
  }
  if (!grid || grid.length < 10) throw new TrainingError('insufficient_data', `no ${timeframe} bars of ${symbols.join(', ')} on ${venue} in [${config.data.start}, ${config.data.end})`, { venue, symbols });
  return { venue, timeframe, timeframeMs: step, ts: grid, featureNames: pipeline.names, featureSpecHash: pipeline.hash, horizon: config.label.horizon, symbols: out };
}

/** Computes one symbol's features and labels over all loaded bars, then keeps rows with ts >= start. */
function symbolSeries(symbol: string, x: FeatureInputs, pipeline: FeaturePipeline, config: TrainConfig, start: number): { ts: Float64Array; data: SymbolSeries } {
  const { matrix, columns } = pipeline.computeBatch(x);
  const h = config.label.horizon;
  const forward = forwardLogReturn(x.close, h);
  const target = trainingTarget(x.close, config.label);
  let first = 0;
  while (first < x.ts.length && x.ts[first]! < start) first++;
  const cut = (a: Float64Array) => a.slice(first);
  const finiteTarget = cut(target).map((v) => (Number.isFinite(v) ? v : NaN));
  return {
    ts: cut(x.ts),
    data: {
      symbol,
      open: cut(x.open),
      high: cut(x.high),
      low: cut(x.low),
      close: cut(x.close),
      volume: cut(x.volume),
      features: matrix.slice(first * columns),
      target: finiteTarget,
      forwardReturn: cut(forward),
      funding: x.funding ? { ts: x.funding.ts, rate: x.funding.rate } : null,
    },
  };
}

/**
 * Returns the training label of every bar from its close series (see `label.target` in {@link TrainConfig}): the
 * forward h-bar log return, raw or divided by the causal σ_t · sqrt(h), or the triple-barrier label with barriers in
 * those units and the vertical barrier at h bars. Label t reads bars t..t+h only; NaN where it is not known.
 */
export function trainingTarget(close: Float64Array, label: TrainConfig['label']): Float64Array {
  const h = label.horizon;
  if (label.target === 'log-return') return forwardLogReturn(close, h);
  const scale = realizedVolatility(close, label.volatilityWindow).map((v) => v * Math.sqrt(h));
  if (label.target === 'volatility-scaled') return forwardLogReturn(close, h, { scaleBy: scale });
  return tripleBarrierLabels(close, scale, { profit: label.barriers.profit, stop: label.barriers.stop, maxBars: h }).label;
}
