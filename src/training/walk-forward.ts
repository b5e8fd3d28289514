import { computeMetrics, FixedBpsSlippage, InstrumentFeeModel, runBacktest, simpleReturns, TableFundingModel, type BacktestResult } from '../backtest/index.js';
import { BYBIT_LINEAR_PERPETUALS, type Instrument } from '../core/instrument.js';
import { formatUtc } from '../core/time.js';
import type { BarFrame } from '../data/index.js';
import { DEFAULT_EMBARGO_FRACTION, metaLabels, purgeMask, realizedVolatility, tripleBarrierLabels } from '../features/index.js';
import { deriveSeed, fitGradientBoosting, fitMore, fitRandomForest, TreeEnsembleModel, type FeatureMatrix } from '../models/index.js';
import { boruta, selectFeatures, type BorutaResult, type FeatureSelection } from './boruta.js';
import { fitMetaLabelModel, metaFeatureMatrix, metaLabelSignal } from './meta-label.js';
import { signalColumn } from '../strategies/signal-column.js';
import { deflatedSharpeRatio, hitRate, returnMoments, sampleVariance, spearmanIc } from './stats.js';
import { CONFIGURATIONS, type ConfigurationName, type TrainConfig } from './train-config.js';
import type { TrainingData } from './training-data.js';
import { TrainingError } from './training-error.js';

/** Key of the all-symbols result: IC over every symbol's pairs, Sharpe of the equal-weight portfolio backtest. */
export const ALL_SYMBOLS = 'ALL';

/** Where one test fold lies and which rows train for it (row indices into {@link TrainingData.ts}). */
export interface FoldPlan {
  readonly index: number;
  /** Test rows [testStart, testEnd). */
  readonly testStart: number;
  readonly testEnd: number;
  /** First training candidate row (0 for an expanding window). */
  readonly trainFrom: number;
  /** Training candidate rows kept after purge and embargo (per symbol, before rows without a label are dropped). */
  readonly trainRows: number;
  /** Candidate rows removed by `purgeMask` (purge before the fold; embargo after it never applies walking forward). */
  readonly purgedRows: number;
  readonly purgeGap: number;
  readonly embargo: number;
  /** UTC bar open times of the first and last test bar. */
  readonly testFrom: string;
  readonly testTo: string;
  readonly trainTo: string;
}

/** Out-of-sample quality of one signal on one symbol (or all) over one range. */
export interface SignalScore {
  /** Spearman IC of prediction vs realised forward return (raw h-bar log return). */
  readonly ic: number;
  /** Two-sided p-value (t-approximation with count / h observations, see `spearmanIc`). */
  readonly pValue: number;
  readonly count: number;
  readonly effectiveCount: number;
  /** Fraction of bars whose prediction sign matched the forward return's. */
  readonly hitRate: number;
  /** Annualised Sharpe of the engine backtest of the long/short signal after fees, slippage and funding (null if undefined). */
  readonly sharpe: number | null;
  readonly totalReturn: number;
  readonly maxDrawdown: number;
  readonly tradeCount: number;
  readonly feesPaid: number;
  readonly fundingPaid: number;
}

/** A gate decision: every check and the verdict. */
export interface GateResult {
  readonly ic: { readonly value: number; readonly threshold: number; readonly passed: boolean };
  readonly pValue: { readonly value: number; readonly threshold: number; readonly passed: boolean };
  readonly sharpe: { readonly value: number; readonly threshold: number; readonly passed: boolean };
  readonly passed: boolean;
}

/** The overall (all folds) score of one trial, with its Deflated Sharpe Ratio and gates. */
export interface OverallScore extends SignalScore {
  /** Per-bar (not annualised) Sharpe of the backtest's equity returns, and their moments (for the DSR). */
  readonly periodSharpe: number;
  readonly skewness: number;
  readonly kurtosis: number;
  readonly observations: number;
  /** Deflated Sharpe Ratio across all trials (probability the true Sharpe beats the expected best of N zero-skill trials). */
  readonly dsr: number;
  /** Per-bar SR₀ the DSR deflates against. */
  readonly benchmarkSharpe: number;
  readonly gates: GateResult;
}

/** Scores keyed by configuration, then symbol (or {@link ALL_SYMBOLS}). */
export type ScoreTable<S> = Readonly<Record<ConfigurationName, Readonly<Record<string, S>>>>;

/** One fold's record. */
export interface FoldResult {
  readonly plan: FoldPlan;
  readonly boruta: BorutaResult;
  readonly selection: FeatureSelection;
  /** Training rows with a label, per symbol. */
  readonly trainRowsBySymbol: Readonly<Record<string, number>>;
  /** Pooled GBDT feature importance (normalised split gain) by feature name. */
  readonly importance: Readonly<Record<string, number>>;
  readonly scores: ScoreTable<SignalScore>;
  /** With `metaLabel`: the meta-labelled final configuration's scores by symbol (and ALL), and the meta model's training rows. */
  readonly meta?: { readonly scores: Readonly<Record<string, SignalScore>>; readonly trainRows: number };
}

/** The meta-labelled final configuration of a walk-forward run with `metaLabel` (see {@link runWalkForward}). */
export interface MetaLabelResult {
  /** The configuration filtered (`config.final`); its trials are named `<configuration>+meta/<SYMBOL|ALL>`. */
  readonly configuration: ConfigurationName;
  readonly threshold: number;
  /** Overall out-of-sample scores by symbol and ALL (DSR over every trial, gates as configured). */
  readonly overall: Readonly<Record<string, OverallScore>>;
  /** Fraction of out-of-sample bars with a primary prediction whose bet the meta model took. */
  readonly betRate: number;
  /** Out-of-sample meta-labelled signal per symbol, aligned with `data.ts` (NaN outside the test folds, 0 = no bet). */
  readonly predictions: readonly Float64Array[];
}

/** Result of {@link runWalkForward}. */
export interface WalkForwardResult {
  readonly folds: readonly FoldResult[];
  readonly overall: ScoreTable<OverallScore>;
  /** Trials N of the DSR = configurations × (symbols + the portfolio), and the variance of their per-bar Sharpes. */
  readonly trials: { readonly count: number; readonly sharpeVariance: number; readonly names: readonly string[] };
  /** Out-of-sample predictions per configuration and symbol, aligned with `data.ts` (NaN outside the test folds). */
  readonly predictions: Readonly<Record<ConfigurationName, readonly Float64Array[]>>;
  /** Rows [from, to) covered by the test folds. */
  readonly oosRange: { readonly from: number; readonly to: number };
  /** Present when the config has `metaLabel`. */
  readonly metaLabel?: MetaLabelResult;
}

/** Progress callback: `done` of `total` steps, with a label. */
export type TrainingProgress = (done: number, total: number, label: string) => void;

/**
 * Plans the K test folds: the rows after `initialTrainFraction` are split into K contiguous folds in time order; each
 * trains on the rows before it (all of them, or the last `rollingBars` with a rolling window) kept by `purgeMask`
 * (purge `max(h, purgeGap)` bars before the fold; embargo `max(h, embargo)` bars after it, which removes nothing
 * here since walk-forward trains on past rows only).
 * @throws TrainingError `insufficient_data` when a fold would have fewer than 10 test rows or 100 training rows.
 */
export function planFolds(rows: number, config: TrainConfig['walkForward'], horizon: number, ts?: Float64Array): FoldPlan[] {
  const firstTest = Math.floor(rows * config.initialTrainFraction);
  const span = rows - firstTest;
  const embargo = config.embargo ?? Math.ceil(DEFAULT_EMBARGO_FRACTION * rows);
  const when = (i: number) => (ts ? formatUtc(ts[Math.min(i, ts.length - 1)]!) : String(i));
  const plans: FoldPlan[] = [];
  for (let k = 0; k < config.folds; k++) {
    const testStart = firstTest + Math.floor((k * span) / config.folds);
    const testEnd = firstTest + Math.floor(((k + 1) * span) / config.folds);
    if (testEnd - testStart < 10) {
      throw new TrainingError('insufficient_data', `walk-forward fold ${k} has ${testEnd - testStart} test rows (need >= 10): ${rows} rows are too few for ${config.folds} folds`, { fold: k, rows });
    }
    const purge = Math.max(horizon, config.purgeGap);
    const trainFrom = config.window === 'rolling' ? Math.max(0, testStart - purge - config.rollingBars) : 0;
    const candidates = Int32Array.from({ length: testStart - trainFrom }, (_, i) => trainFrom + i);
    const keep = purgeMask(horizon, candidates, { start: testStart, end: testEnd }, embargo, { purgeGap: config.purgeGap, sampleCount: rows });
    let kept = 0;
    for (let i = 0; i < keep.length; i++) kept += keep[i]!;
    if (kept < 100) {
      throw new TrainingError('insufficient_data', `walk-forward fold ${k} keeps ${kept} training rows after a ${purge}-bar purge (need >= 100); lower initialTrainFraction/purgeGap or add data`, { fold: k, kept });
    }
    plans.push({
      index: k,
      testStart,
      testEnd,
      trainFrom,
      trainRows: kept,
      purgedRows: candidates.length - kept,
      purgeGap: config.purgeGap,
      embargo,
      testFrom: when(testStart),
      testTo: when(testEnd - 1),
      trainTo: when(trainFrom + kept - 1),
    });
  }
  return plans;
}

/** Training rows [from, to) of each symbol whose label is finite. */
function labelledRows(data: TrainingData, s: number, from: number, to: number): Int32Array {
  const target = data.symbols[s]!.target;
  const out: number[] = [];
  for (let t = from; t < to; t++) if (Number.isFinite(target[t]!)) out.push(t);
  return Int32Array.from(out);
}

/** Gathers rows × selected columns of symbols' feature matrices into one row-major matrix (symbol order, then time). */
export function gather(data: TrainingData, parts: readonly { readonly s: number; readonly rows: Int32Array }[], columns: readonly number[]): { matrix: FeatureMatrix; target: Float64Array } {
  const d = data.featureNames.length;
  const width = columns.length;
  const total = parts.reduce((a, p) => a + p.rows.length, 0);
  const values = new Float64Array(total * width);
  const target = new Float64Array(total);
  let r = 0;
  for (const { s, rows } of parts) {
    const { features, target: y } = data.symbols[s]!;
    for (let i = 0; i < rows.length; i++, r++) {
      const t = rows[i]!;
      for (let j = 0; j < width; j++) values[r * width + j] = features[t * d + columns[j]!]!;
      target[r] = y[t]!;
    }
  }
  return { matrix: { values, rows: total, columns: width }, target };
}

function rangeRows(from: number, to: number): Int32Array {
  return Int32Array.from({ length: to - from }, (_, i) => from + i);
}

/** The models of one configuration set trained on the same rows and features. */
export interface TrainedModels {
  readonly pooled: TreeEnsembleModel;
  readonly perSymbol: readonly TreeEnsembleModel[];
  readonly transfer: readonly TreeEnsembleModel[];
  readonly forest: TreeEnsembleModel;
}

/** Which models to fit: the walk-forward fits all; the final fit only what the exported configuration needs. */
export type ModelNeed = Readonly<Record<ConfigurationName, boolean>>;

/**
 * Fits the configurations on the labelled rows of each symbol over the selected columns:
 * pooled GBDT (all symbols' rows, no symbol indicator), per-symbol GBDT, transfer (the pooled GBDT continued with
 * `fitMore` on the symbol's rows) and a pooled random forest. Seeds derive from `seed` and the role.
 */
export function fitModels(data: TrainingData, trainRows: readonly Int32Array[], columns: readonly number[], config: TrainConfig, seed: number, need: ModelNeed): Partial<TrainedModels> {
  const parts = trainRows.map((rows, s) => ({ s, rows }));
  const pooledSet = gather(data, parts, columns);
  const gbdt = { ...config.gbdt };
  const out: { pooled?: TreeEnsembleModel; perSymbol?: TreeEnsembleModel[]; transfer?: TreeEnsembleModel[]; forest?: TreeEnsembleModel } = {};
  if (need.pooled || need.transfer) out.pooled = fitGradientBoosting(pooledSet.matrix, pooledSet.target, { ...gbdt, seed: deriveSeed(seed, 1) });
  if (need['per-symbol']) {
    out.perSymbol = parts.map((p) => {
      const own = gather(data, [p], columns);
      return fitGradientBoosting(own.matrix, own.target, { ...gbdt, seed: deriveSeed(seed, 100 + p.s) });
    });
  }
  if (need.transfer) {
    out.transfer = parts.map((p) => {
      const own = gather(data, [p], columns);
      return fitMore(out.pooled!, own.matrix, own.target, config.transfer.rounds, { learningRate: config.transfer.learningRate });
    });
  }
  if (need['random-forest']) out.forest = fitRandomForest(pooledSet.matrix, pooledSet.target, { ...config.randomForest, seed: deriveSeed(seed, 2) });
  return out;
}

/** The model configuration `c` uses for symbol `s`. */
export function modelFor(models: Partial<TrainedModels>, c: ConfigurationName, s: number): TreeEnsembleModel {
  switch (c) {
    case 'pooled':
      return models.pooled!;
    case 'per-symbol':
      return models.perSymbol![s]!;
    case 'transfer':
      return models.transfer![s]!;
    case 'random-forest':
      return models.forest!;
  }
}

/** The models configuration `c` needs (the pooled GBDT is also the transfer models' base). */
export function needFor(c: ConfigurationName): ModelNeed {
  return { pooled: c !== 'random-forest', 'per-symbol': c === 'per-symbol', transfer: c === 'transfer', 'random-forest': c === 'random-forest' };
}

/** Predictions of configuration `c` on `rows` of every symbol, aligned with `data.ts` (NaN elsewhere). */
function predictRows(data: TrainingData, models: Partial<TrainedModels>, c: ConfigurationName, rows: Int32Array, columns: readonly number[]): Float64Array[] {
  return data.symbols.map((_, s) => {
    const out = new Float64Array(data.ts.length).fill(NaN);
    if (rows.length === 0) return out;
    const m = gather(data, [{ s, rows }], columns).matrix;
    const p = new Float64Array(m.rows);
    modelFor(models, c, s).predictInto(m.values, m.rows, p);
    rows.forEach((t, i) => (out[t] = p[i]!));
    return out;
  });
}

/**
 * The meta-label filter of one fold (see `metaLabel` in {@link TrainConfig}). Reads the training rows `trainRows`
 * (purged before the test fold by >= h, so their meta-labels, which end by t + h, never read a test bar) and, for the
 * test rows, only their feature rows and `primary`'s predictions there. Inner out-of-sample primary predictions:
 * `kept` (the fold's training candidates, in time order) is split at its middle row m; models of `c` fitted on the
 * rows t + h < m predict the later half, models fitted on the rows t >= m + h predict the earlier half. Returns the
 * filtered signal per symbol (aligned with `data.ts`, NaN outside `testRows`) and the meta model's training rows.
 */
export function metaLabelFold(
  data: TrainingData,
  kept: Int32Array,
  trainRows: readonly Int32Array[],
  testRows: Int32Array,
  columns: readonly number[],
  primary: readonly Float64Array[],
  sigma: readonly Float64Array[],
  config: TrainConfig,
  seed: number,
): { signal: Float64Array[]; trainRows: number } {
  const meta = config.metaLabel!;
  const c = config.final;
  const h = data.horizon;
  const middle = kept[Math.floor(kept.length / 2)]!;
  const fitEarly = trainRows.map((rows) => rows.filter((t) => t + h < middle));
  const fitLate = trainRows.map((rows) => rows.filter((t) => t >= middle + h));
  const early = kept.filter((t) => t < middle), late = kept.filter((t) => t >= middle);
  const onLate = predictRows(data, fitModels(data, fitEarly, columns, config, deriveSeed(seed, 11), needFor(c)), c, late, columns);
  const onEarly = predictRows(data, fitModels(data, fitLate, columns, config, deriveSeed(seed, 12), needFor(c)), c, early, columns);
  const parts: { s: number; rows: Int32Array }[] = [];
  const target: number[] = [];
  const inner: number[] = [];
  data.symbols.forEach((x, s) => {
    const oos = onEarly[s]!.map((v, t) => (Number.isFinite(v) ? v : onLate[s]![t]!));
    const side = oos.map((v) => (v > 0 ? 1 : v < 0 ? -1 : NaN));
    const labels = metaLabels(tripleBarrierLabels(x.close, sigma[s]!, { profit: meta.barriers.profit, stop: meta.barriers.stop, maxBars: h, side }));
    const rows = trainRows[s]!.filter((t) => Number.isFinite(labels[t]!) && Number.isFinite(oos[t]!));
    parts.push({ s, rows });
    rows.forEach((t) => {
      target.push(labels[t]!);
      inner.push(oos[t]!);
    });
  });
  const model = fitMetaLabelModel(metaFeatureMatrix(gather(data, parts, columns).matrix, inner), Float64Array.from(target), {
    seed: deriveSeed(seed, 20),
    rounds: meta.rounds,
    maxDepth: meta.maxDepth,
    learningRate: meta.learningRate,
    minLeaf: meta.minLeaf,
    maxBins: config.gbdt.maxBins,
    subsample: config.gbdt.subsample,
    featureFraction: config.gbdt.featureFraction,
  });
  const signal = data.symbols.map((_, s) => {
    const out = new Float64Array(data.ts.length).fill(NaN);
    const test = gather(data, [{ s, rows: testRows }], columns).matrix;
    const primaryTest = Float64Array.from(testRows, (t) => primary[s]![t]!);
    const probability = new Float64Array(testRows.length);
    model.predictInto(metaFeatureMatrix(test, primaryTest).values, testRows.length, probability);
    const filtered = metaLabelSignal(primaryTest, probability, meta.threshold);
    testRows.forEach((t, i) => (out[t] = filtered[i]!));
    return out;
  });
  return { signal, trainRows: target.length };
}

/** Runs Boruta on the pooled labelled rows (all columns) and keeps 9–13 features. */
export function selectOnRows(data: TrainingData, trainRows: readonly Int32Array[], config: TrainConfig, seed: number): { result: BorutaResult; selection: FeatureSelection } {
  const all = data.featureNames.map((_, j) => j);
  const pooled = gather(
    data,
    trainRows.map((rows, s) => ({ s, rows })),
    all,
  );
  const b = config.boruta;
  const result = boruta(pooled.matrix, pooled.target, data.featureNames, {
    seed,
    iterations: b.iterations,
    alpha: b.alpha,
    bonferroni: b.bonferroni,
    maxRows: b.maxRows,
    trees: b.trees,
    maxDepth: b.maxDepth,
    minLeaf: b.minLeaf,
    maxBins: b.maxBins,
  });
  return { result, selection: selectFeatures(result, Math.min(b.minFeatures, all.length), Math.min(b.maxFeatures, all.length)) };
}

/**
 * Backtests a prediction series with the engine: one Bybit USDT linear perpetual per symbol on `data`'s prices over
 * rows [from, to), the `signal-column` strategy (src/strategies) trading the predictions, instrument fees (taker `backtest.takerFee`),
 * fixed-bps slippage and funding from the symbol's settlements (the stated fallback where there are none).
 * @throws TrainingError `invalid_config` for a symbol without Bybit linear perpetual rules.
 */
export function backtestSignal(data: TrainingData, symbolIndices: readonly number[], from: number, to: number, predictions: readonly Float64Array[], config: TrainConfig, name: string): BacktestResult {
  const bt = config.backtest;
  const pick = <T>(f: (s: number) => T) => symbolIndices.map(f);
  const slice = (a: Float64Array) => a.subarray(from, to);
  const instruments: Instrument[] = pick((s) => {
    const symbol = data.symbols[s]!.symbol;
    const instrument = Object.hasOwn(BYBIT_LINEAR_PERPETUALS, symbol) ? BYBIT_LINEAR_PERPETUALS[symbol] : undefined;
    if (!instrument) throw new TrainingError('invalid_config', `no Bybit USDT linear perpetual rules for ${symbol}; known: ${Object.keys(BYBIT_LINEAR_PERPETUALS).join(', ')}`, { symbol });
    return instrument;
  });
  const frame: BarFrame = {
    venue: data.venue,
    timeframe: data.timeframe,
    symbols: pick((s) => data.symbols[s]!.symbol),
    ts: slice(data.ts),
    open: pick((s) => slice(data.symbols[s]!.open)),
    high: pick((s) => slice(data.symbols[s]!.high)),
    low: pick((s) => slice(data.symbols[s]!.low)),
    close: pick((s) => slice(data.symbols[s]!.close)),
    volume: pick((s) => slice(data.symbols[s]!.volume)),
    present: pick(() => new Uint8Array(to - from).fill(1)),
    missing: { policy: 'error', filled: pick(() => 0) },
  };
  const fallback = bt.fundingFallback.kind === 'constant' ? { kind: 'constant' as const, rate: bt.fundingFallback.rate } : { kind: 'zero' as const };
  return runBacktest(
    {
      name,
      instruments,
      frame,
      columns: { signal: pick((s) => slice(predictions[s]!)) },
      initialCash: bt.initialCash,
      leverage: bt.leverage,
      fees: new InstrumentFeeModel({ maker: bt.makerFee, taker: bt.takerFee }),
      slippage: new FixedBpsSlippage(bt.slippageBps),
      funding: new TableFundingModel(
        pick((s) => data.symbols[s]!.funding),
        fallback,
      ),
      periodsPerYear: bt.periodsPerYear,
      dataSources: pick((s) => ({ instrument: instruments[symbolIndices.indexOf(s)]!.id, venue: data.venue, symbol: data.symbols[s]!.symbol, timeframe: data.timeframe, note: `Bybit USDT perp rules on ${data.venue} prices` })),
      seed: config.seed,
      config: { threshold: bt.threshold, allocation: bt.allocation },
    },
    signalColumn({ column: 'signal', threshold: bt.threshold, allocation: bt.allocation / symbolIndices.length, allowShort: true }),
  );
}

/** Scores predictions of symbols over rows [from, to): IC/hit rate over their pairs, Sharpe of their backtest. */
function score(data: TrainingData, symbolIndices: readonly number[], from: number, to: number, predictions: readonly Float64Array[], config: TrainConfig, name: string): { score: SignalScore; result: BacktestResult } {
  const p: number[] = [];
  const r: number[] = [];
  for (const s of symbolIndices) {
    const pred = predictions[s]!;
    const fwd = data.symbols[s]!.forwardReturn;
    for (let t = from; t < to; t++) {
      p.push(pred[t]!);
      r.push(fwd[t]!);
    }
  }
  const ic = spearmanIc(p, r, data.horizon);
  const result = backtestSignal(data, symbolIndices, from, to, predictions, config, name);
  const m = computeMetrics(result);
  return {
    score: {
      ic: ic.ic,
      pValue: ic.pValue,
      count: ic.count,
      effectiveCount: ic.effectiveCount,
      hitRate: hitRate(p, r),
      sharpe: m.sharpe,
      totalReturn: m.totalReturn,
      maxDrawdown: m.maxDrawdown,
      tradeCount: m.tradeCount,
      feesPaid: m.feesPaid,
      fundingPaid: m.fundingPaid,
    },
    result,
  };
}

/** Applies the gates: IC >= minIc, p < maxPValue, Sharpe > minSharpe (a null Sharpe fails). */
export function applyGates(s: Pick<SignalScore, 'ic' | 'pValue' | 'sharpe'>, gates: TrainConfig['gates']): GateResult {
  const ic = { value: s.ic, threshold: gates.minIc, passed: s.ic >= gates.minIc };
  const pValue = { value: s.pValue, threshold: gates.maxPValue, passed: s.pValue < gates.maxPValue };
  const sharpe = { value: s.sharpe ?? NaN, threshold: gates.minSharpe, passed: s.sharpe !== null && s.sharpe > gates.minSharpe };
  return { ic, pValue, sharpe, passed: ic.passed && pValue.passed && sharpe.passed };
}

/** Keys scored per configuration: every symbol, then {@link ALL_SYMBOLS}. */
function targets(data: TrainingData): { key: string; symbols: number[] }[] {
  return [...data.symbols.map((x, s) => ({ key: x.symbol, symbols: [s] })), { key: ALL_SYMBOLS, symbols: data.symbols.map((_, s) => s) }];
}

export const ALL_NEEDED: ModelNeed = { pooled: true, 'per-symbol': true, transfer: true, 'random-forest': true };

/**
 * Runs the purged walk-forward: for each fold (time order) Boruta on the fold's pooled training rows only, then the
 * four configurations fitted on those rows and features, predictions on the fold's test rows, and their scores (IC,
 * p-value, hit rate, and the Sharpe of an engine backtest of the long/short signal, per symbol and for the 3-symbol
 * portfolio). Overall scores join the folds' out-of-sample predictions (one backtest over the whole test span);
 * each overall (configuration, symbol-or-portfolio) is one DSR trial; gates are applied to each. With `metaLabel`,
 * the final configuration's test predictions also pass through the fold's meta-label filter ({@link metaLabelFold},
 * fitted on that fold's training rows only); its scores are trials too (`<final>+meta/<key>`), in `metaLabel`.
 * Deterministic: the same data and config give the same result.
 * @throws TrainingError `insufficient_data` (see {@link planFolds}); ModelError from fitting.
 * @example const wf = runWalkForward(await loadTrainingData(store, config), config);
 */
export function runWalkForward(data: TrainingData, config: TrainConfig, onProgress?: TrainingProgress): WalkForwardResult {
  const T = data.ts.length;
  const plans = planFolds(T, config.walkForward, data.horizon, data.ts);
  const total = plans.length * 3;
  let done = 0;
  const step = (label: string) => onProgress?.(++done, total, label);
  const predictions = Object.fromEntries(CONFIGURATIONS.map((c) => [c, data.symbols.map(() => new Float64Array(T).fill(NaN))])) as Record<ConfigurationName, Float64Array[]>;
  const folds: FoldResult[] = [];
  const metaName = `${config.final}+meta`;
  const metaPredictions = config.metaLabel ? data.symbols.map(() => new Float64Array(T).fill(NaN)) : null;
  const sigma = config.metaLabel ? data.symbols.map((x) => realizedVolatility(x.close, config.label.volatilityWindow).map((v) => v * Math.sqrt(data.horizon))) : [];

  for (const plan of plans) {
    const foldSeed = deriveSeed(config.seed, 1000 + plan.index);
    const candidates = rangeRows(plan.trainFrom, plan.testStart);
    const keep = purgeMask(data.horizon, candidates, { start: plan.testStart, end: plan.testEnd }, plan.embargo, { purgeGap: plan.purgeGap, sampleCount: T });
    const kept = candidates.filter((_, i) => keep[i] === 1);
    const trainRows = data.symbols.map((_, s) => {
      const target = data.symbols[s]!.target;
      return kept.filter((t) => Number.isFinite(target[t]!));
    });
    const { result: borutaResult, selection } = selectOnRows(data, trainRows, config, deriveSeed(foldSeed, 7));
    step(`fold ${plan.index + 1}/${plans.length}: boruta kept ${selection.names.length}`);

    const models = fitModels(data, trainRows, selection.indices, config, foldSeed, ALL_NEEDED);
    const testRows = rangeRows(plan.testStart, plan.testEnd);
    for (let s = 0; s < data.symbols.length; s++) {
      const test = gather(data, [{ s, rows: testRows }], selection.indices).matrix;
      const out = new Float64Array(test.rows);
      for (const c of CONFIGURATIONS) {
        modelFor(models, c, s).predictInto(test.values, test.rows, out);
        predictions[c][s]!.set(out, plan.testStart);
      }
    }
    const importance: Record<string, number> = {};
    const pooledImportance = models.pooled!.featureImportance();
    selection.indices.forEach((j, k) => (importance[data.featureNames[j]!] = pooledImportance[k]!));
    step(`fold ${plan.index + 1}/${plans.length}: models fitted`);

    const scores = Object.fromEntries(
      CONFIGURATIONS.map((c) => [c, Object.fromEntries(targets(data).map((x) => [x.key, score(data, x.symbols, plan.testStart, plan.testEnd, predictions[c], config, `${config.name}/${c}/fold${plan.index}/${x.key}`).score]))]),
    ) as unknown as ScoreTable<SignalScore>;
    let meta: FoldResult['meta'];
    if (metaPredictions) {
      const fold = metaLabelFold(data, kept, trainRows, testRows, selection.indices, predictions[config.final], sigma, config, deriveSeed(foldSeed, 31));
      fold.signal.forEach((x, s) => metaPredictions[s]!.set(x.subarray(plan.testStart, plan.testEnd), plan.testStart));
      const metaScores = Object.fromEntries(targets(data).map((x) => [x.key, score(data, x.symbols, plan.testStart, plan.testEnd, metaPredictions, config, `${config.name}/${metaName}/fold${plan.index}/${x.key}`).score]));
      meta = { scores: metaScores, trainRows: fold.trainRows };
    }
    folds.push({
      plan,
      boruta: borutaResult,
      selection,
      trainRowsBySymbol: Object.fromEntries(data.symbols.map((x, s) => [x.symbol, trainRows[s]!.length])),
      importance,
      scores,
      ...(meta ? { meta } : {}),
    });
    step(`fold ${plan.index + 1}/${plans.length}: scored`);
  }

  const from = plans[0]!.testStart;
  const to = plans[plans.length - 1]!.testEnd;
  const raw: { c: ConfigurationName | typeof metaName; key: string; score: SignalScore; returns: Float64Array }[] = [];
  const series: [ConfigurationName | typeof metaName, readonly Float64Array[]][] = CONFIGURATIONS.map((c) => [c, predictions[c]]);
  if (metaPredictions) series.push([metaName, metaPredictions]);
  for (const [c, p] of series) {
    for (const x of targets(data)) {
      const { score: sc, result } = score(data, x.symbols, from, to, p, config, `${config.name}/${c}/overall/${x.key}`);
      raw.push({ c, key: x.key, score: sc, returns: simpleReturns(result.equity.value) });
    }
  }
  const moments = raw.map((r) => returnMoments(r.returns));
  const sharpeVariance = sampleVariance(moments.map((m) => m.sharpe));
  const trials = raw.length;
  const overall = Object.fromEntries(CONFIGURATIONS.map((c) => [c, {} as Record<string, OverallScore>])) as Record<ConfigurationName, Record<string, OverallScore>>;
  const metaOverall: Record<string, OverallScore> = {};
  raw.forEach((r, i) => {
    const m = moments[i]!;
    const deflated =
      m.count >= 2 ? deflatedSharpeRatio({ sharpe: m.sharpe, observations: m.count, skewness: m.skewness, kurtosis: m.kurtosis, trials, sharpeVariance }) : { dsr: NaN, benchmarkSharpe: NaN };
    (r.c === metaName ? metaOverall : overall[r.c as ConfigurationName])[r.key] = {
      ...r.score,
      periodSharpe: m.sharpe,
      skewness: m.skewness,
      kurtosis: m.kurtosis,
      observations: m.count,
      dsr: deflated.dsr,
      benchmarkSharpe: deflated.benchmarkSharpe,
      gates: applyGates(r.score, config.gates),
    };
  });
  let metaLabel: MetaLabelResult | undefined;
  if (metaPredictions) {
    let bets = 0, candidates = 0;
    for (let s = 0; s < data.symbols.length; s++) {
      for (let t = from; t < to; t++) {
        const v = metaPredictions[s]![t]!;
        if (!Number.isFinite(v)) continue;
        candidates++;
        if (v !== 0) bets++;
      }
    }
    metaLabel = { configuration: config.final, threshold: config.metaLabel!.threshold, overall: metaOverall, betRate: candidates > 0 ? bets / candidates : NaN, predictions: metaPredictions };
  }
  return {
    folds,
    overall,
    trials: { count: trials, sharpeVariance, names: raw.map((r) => `${r.c}/${r.key}`) },
    predictions,
    oosRange: { from, to },
    ...(metaLabel ? { metaLabel } : {}),
  };
}

/** The final model(s) fitted on every labelled row, widened to read the full pipeline row. */
export interface FinalModels {
  readonly boruta: BorutaResult;
  readonly selection: FeatureSelection;
  /** The package model: the pooled GBDT for `pooled`, `per-symbol` and `transfer` (their shared base), the forest for `random-forest`. */
  readonly primary: TreeEnsembleModel;
  /** Per-symbol models for `per-symbol` and `transfer`, by symbol. */
  readonly perSymbol: Readonly<Record<string, TreeEnsembleModel>>;
  /** Importance of the primary model by selected feature name. */
  readonly importance: Readonly<Record<string, number>>;
  /** Labelled rows per symbol the final models were fitted on. */
  readonly trainRowsBySymbol: Readonly<Record<string, number>>;
}

/**
 * Fits the final model(s) of `config.final` on every labelled row of the data (Boruta on all of them first), and
 * widens each to the full pipeline row: the trees' feature indices are mapped from the selected columns to the
 * pipeline's, so the exported ONNX reads exactly the pipeline's features in order (unselected ones are never split on).
 */
export function trainFinalModels(data: TrainingData, config: TrainConfig): FinalModels {
  const T = data.ts.length;
  const seed = deriveSeed(config.seed, 999_999);
  const trainRows = data.symbols.map((_, s) => labelledRows(data, s, 0, T));
  const { result, selection } = selectOnRows(data, trainRows, config, deriveSeed(seed, 7));
  const c = config.final;
  const models = fitModels(data, trainRows, selection.indices, config, seed, needFor(c));
  const d = data.featureNames.length;
  const primary = c === 'random-forest' ? models.forest! : models.pooled!;
  const perSymbol: Record<string, TreeEnsembleModel> = {};
  if (c === 'per-symbol' || c === 'transfer') data.symbols.forEach((x, s) => (perSymbol[x.symbol] = widenModel(modelFor(models, c, s), selection.indices, d)));
  const importance: Record<string, number> = {};
  const raw = primary.featureImportance();
  selection.indices.forEach((j, k) => (importance[data.featureNames[j]!] = raw[k]!));
  return {
    boruta: result,
    selection,
    primary: widenModel(primary, selection.indices, d),
    perSymbol,
    importance,
    trainRowsBySymbol: Object.fromEntries(data.symbols.map((x, s) => [x.symbol, trainRows[s]!.length])),
  };
}

/**
 * Returns `model` (fitted on the columns `selected` of a `featureCount`-column matrix) as a model over all
 * `featureCount` columns: identical predictions on full rows.
 */
export function widenModel(model: TreeEnsembleModel, selected: readonly number[], featureCount: number): TreeEnsembleModel {
  const json = model.toJSON();
  return TreeEnsembleModel.fromJSON({
    ...json,
    featureCount,
    trees: json.trees.map((t) => ({ ...t, feature: t.feature.map((f) => (f >= 0 ? selected[f]! : f)) })),
  });
}
