import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { computeMetrics, simpleReturns } from '../backtest/index.js';
import { describeConfigIssue } from '../core/config-issues.js';
import { err, ok, type Result } from '../core/result.js';
import { formatUtc } from '../core/time.js';
import { metaLabels, realizedVolatility, tripleBarrierLabels } from '../features/index.js';
import { deriveSeed, fitRidge, predictRidge } from '../models/index.js';
import { combinatorialPurgedSplits, type CpcvPlan } from './cpcv.js';
import { fitMetaLabelModel, metaFeatureMatrix, metaLabelSignal } from './meta-label.js';
import { probabilityOfBacktestOverfitting } from './pbo.js';
import { returnMoments, spearmanIc } from './stats.js';
import { CONFIGURATIONS, MetaModelFields, TrainConfig, type ConfigurationName } from './train-config.js';
import type { TrainingData } from './training-data.js';
import { TrainingError } from './training-error.js';
import { deflatedSharpeFromTrials, trialConfigHash, type TrialRecord } from './trial-ledger.js';
import { ALL_NEEDED, backtestSignal, fitModels, gather, modelFor, selectOnRows, type TrainingProgress } from './walk-forward.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `tm research model-table` config (`experiments/model-table-<name>.json`): the training config the models use
 * (`train`: data, features, label, GBDT / transfer / forest parameters, signal backtest, seed) and the CPCV, triple
 * barrier, meta-label, ridge and PBO settings. Unknown keys fail; defaults are declared here once.
 */
export const ModelTableConfig = z
  .object({
    name: z.string().regex(NAME, { message: 'must be letters, digits, ".", "_" or "-"' }),
    description: z.string().optional(),
    train: TrainConfig,
    /** Combinatorial purged cross-validation: N groups, k test groups per split, embargo rows (absent = ceil(1 % of the rows)). */
    cpcv: z
      .object({
        groups: z.number().int().min(3).max(16).default(6),
        testGroups: z.number().int().min(1).max(8).default(2),
        embargo: z.number().int().min(0).optional(),
      })
      .strict()
      .refine((c) => c.testGroups < c.groups, { message: 'must be < cpcv.groups', path: ['testGroups'] })
      .prefault({}),
    /** Triple barrier of the meta-labels: barriers in units of σ_t = realizedVolatility(close, volatilityWindow)[t] · sqrt(maxBars). */
    tripleBarrier: z
      .object({
        profit: z.number().gt(0).max(20).default(1),
        stop: z.number().gt(0).max(20).default(1),
        maxBars: z.number().int().min(1).max(500).default(6),
        volatilityWindow: z.number().int().min(2).default(42),
      })
      .strict()
      .prefault({}),
    /** The meta-label GBDT (secondary model) and its take-the-bet threshold on P(win). */
    meta: z.object(MetaModelFields).strict().prefault({}),
    /**
     * Adds the row pair of feature selection: `pooled+boruta`, the pooled GBDT on the features Boruta keeps (settings
     * `train.boruta`, run per split on that split's training rows only), next to `pooled` on every feature.
     */
    withBoruta: z.boolean().default(false),
    /** Ridge baseline: L2 penalty on standardised features. */
    ridge: z.object({ lambda: z.number().min(0).default(100) }).strict().prefault({}),
    /** PBO by CSCV over the table's configurations: S blocks of the path-averaged per-bar returns. */
    pbo: z
      .object({ blocks: z.number().int().min(2).max(16).refine((b) => b % 2 === 0, { message: 'must be even' }).default(10) })
      .strict()
      .prefault({}),
  })
  .strict();
export type ModelTableConfig = z.output<typeof ModelTableConfig>;

/** Parses a model-table config (parsed JSON); errors name the JSON path, the rule and the value. */
export function parseModelTableConfig(json: unknown, where = 'config'): Result<ModelTableConfig, TrainingError> {
  const parsed = ModelTableConfig.safeParse(json);
  if (parsed.success) return ok(parsed.data);
  const { path, problem } = describeConfigIssue(parsed.error.issues[0]!, json);
  return err(new TrainingError('invalid_config', `${where}: ${path}: ${problem}`, { where, path, problem }));
}

/** Reads and parses a model-table config file. */
export async function loadModelTableConfig(file: string): Promise<Result<ModelTableConfig, TrainingError>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    return err(new TrainingError('invalid_config', `${file}: cannot read the config as JSON: ${(e as Error).message}`, { where: file }, { cause: e }));
  }
  return parseModelTableConfig(json, file);
}

/** One row of the table: a model configuration, with or without the meta-label filter. */
export interface TableRowSpec {
  readonly key: string;
  /** A project configuration, the ridge baseline, or `external` (a learner outside this process, see {@link ExternalLearner}). */
  readonly model: ConfigurationName | 'ridge' | 'external';
  readonly meta: boolean;
  /** The model is fitted on the features Boruta keeps in each split (absent: every feature). */
  readonly boruta?: boolean;
}

/** The Boruta row of `withBoruta` (the pooled GBDT on the per-split selection), listed right after `pooled`. */
export const BORUTA_ROW: TableRowSpec = Object.freeze({ key: 'pooled+boruta', model: 'pooled', meta: false, boruta: true });

/** The rows in table order: each tree configuration without and with meta-labelling, then ridge (and XGBoost when run). */
export const TABLE_ROWS: readonly TableRowSpec[] = [
  ...CONFIGURATIONS.flatMap((c) => [
    { key: c, model: c, meta: false },
    { key: `${c}+meta`, model: c, meta: true },
  ]),
  { key: 'ridge', model: 'ridge', meta: false },
];

/** Pooled design handed to an external learner (e.g. XGBoost in Python): rows `s · rows + t` (symbol-major). */
export interface ExternalLearnerInput {
  readonly featureNames: readonly string[];
  /** Row-major `(symbols · rows) × features`. */
  readonly features: Float64Array;
  /** Training target per pooled row (NaN = unlabelled, never trained on). */
  readonly target: Float64Array;
  readonly symbols: number;
  readonly rows: number;
  /** Per CPCV split: pooled training rows (labelled, purged) and pooled test rows. */
  readonly splits: readonly { readonly train: Int32Array; readonly test: Int32Array }[];
  readonly seed: number;
  readonly gbdt: TrainConfig['gbdt'];
}

/** A learner outside this process trained on the same CPCV splits: returns, per split, a prediction per test row. */
export interface ExternalLearner {
  /** Row key in the table (e.g. `xgboost`). */
  readonly key: string;
  readonly name: string;
  fitPredict(input: ExternalLearnerInput): Promise<readonly Float64Array[]>;
}

/** Summary of one table row over the CPCV paths. */
export interface TableRow extends TableRowSpec {
  /** Annualised Sharpe of the 3-symbol portfolio backtest, per path. */
  readonly sharpeByPath: readonly number[];
  readonly sharpe: { readonly median: number; readonly p5: number; readonly p95: number; readonly mean: number };
  /** Spearman IC of the row's signal vs the raw forward return (all symbols), per path and median. */
  readonly icByPath: readonly number[];
  readonly icMedian: number;
  /** Share of (symbol, bar) rows with a non-zero signal (bets taken), averaged over paths. */
  readonly betRate: number;
  readonly tradesMedian: number;
  readonly totalReturnMedian: number;
  /** Per-bar Sharpe, moments and DSR of the path-averaged returns (the trial the ledger records). */
  readonly periodSharpe: number;
  readonly observations: number;
  readonly dsr: number;
  readonly configHash: string;
}

/** Result of {@link runModelTable}. */
export interface ModelTableResult {
  readonly name: string;
  readonly data: { readonly venue: string; readonly timeframe: string; readonly symbols: readonly string[]; readonly from: string; readonly to: string; readonly rows: number; readonly features: number };
  readonly cpcv: { readonly groups: number; readonly testGroups: number; readonly splits: number; readonly paths: number; readonly embargo: number; readonly horizon: number; readonly maxLabelSpan: number };
  readonly rows: readonly TableRow[];
  readonly pbo: { readonly value: number; readonly blocks: number; readonly splits: number; readonly configurations: number; readonly selectedMost: string };
  /** Trials in the ledger the DSR counted (distinct configuration hashes) and their Sharpe variance. */
  readonly dsrTrials: { readonly count: number; readonly sharpeVariance: number };
  readonly ledger: readonly TrialRecord[];
  /** With `withBoruta`: the features Boruta kept per split (count and names) and how often each feature was kept. */
  readonly boruta: null | { readonly featuresBySplit: readonly (readonly string[])[]; readonly keptCount: Readonly<Record<string, number>> };
  /** Per-split IC of the project's pooled GBDT and of each external learner on the same splits (when any ran). */
  readonly learnerGap: null | {
    readonly gbdtIcBySplit: readonly number[];
    readonly gbdtIcMean: number;
    readonly learners: readonly { readonly key: string; readonly name: string; readonly icBySplit: readonly number[]; readonly icMean: number; readonly betterSplits: number }[];
  };
  readonly seed: number;
}

/** Linear-interpolation quantile (type 7) of finite values; NaN when none. */
export function quantile(values: readonly number[], q: number): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const h = (v.length - 1) * q, lo = Math.floor(h), hi = Math.ceil(h);
  return v[lo]! + (h - lo) * (v[hi]! - v[lo]!);
}

/**
 * Returns, per row, the last row each of its labels depends on: the later of the regression label's end (t + h) and
 * the triple barrier's end for a long and a short bet on every symbol (t + maxBars where not decided).
 */
export function labelEnds(data: TrainingData, sigma: readonly Float64Array[], barrier: ModelTableConfig['tripleBarrier']): Int32Array {
  const T = data.ts.length;
  const end = Int32Array.from({ length: T }, (_, t) => t + data.horizon);
  data.symbols.forEach((x, s) => {
    for (const side of [1, -1]) {
      const tb = tripleBarrierLabels(x.close, sigma[s]!, { profit: barrier.profit, stop: barrier.stop, maxBars: barrier.maxBars, side: new Float64Array(T).fill(side) });
      for (let t = 0; t < T; t++) end[t] = Math.max(end[t]!, tb.end[t]! >= 0 ? tb.end[t]! : t + barrier.maxBars);
    }
  });
  return end;
}

function finiteRows(target: Float64Array, rows: Int32Array): Int32Array {
  return rows.filter((t) => Number.isFinite(target[t]!));
}

type Predictions = Float64Array[]; // per symbol, length T (NaN outside the rows written)

/**
 * Fits every tree configuration and the ridge baseline on `trainRows` and predicts `predictRows` (all symbols):
 * returns predictions per row key without meta (`pooled`, …, `ridge`), per symbol over the full grid.
 */
function fitAndPredict(data: TrainingData, trainRows: readonly Int32Array[], predictRows: Int32Array, config: ModelTableConfig, seed: number, withRidge: boolean): Map<string, Predictions> {
  const T = data.ts.length;
  const columns = data.featureNames.map((_, j) => j);
  const models = fitModels(data, trainRows, columns, config.train, seed, ALL_NEEDED);
  const out = new Map<string, Predictions>();
  for (const c of [...CONFIGURATIONS, ...(withRidge ? (['ridge'] as const) : [])]) out.set(c, data.symbols.map(() => new Float64Array(T).fill(NaN)));
  const ridge = withRidge ? (() => { const p = gather(data, trainRows.map((rows, s) => ({ s, rows })), columns); return fitRidge(p.matrix, p.target, config.ridge.lambda); })() : null;
  const buffer = new Float64Array(predictRows.length);
  for (let s = 0; s < data.symbols.length; s++) {
    const test = gather(data, [{ s, rows: predictRows }], columns).matrix;
    for (const c of CONFIGURATIONS) {
      modelFor(models, c, s).predictInto(test.values, test.rows, buffer);
      const target = out.get(c)![s]!;
      predictRows.forEach((t, i) => (target[t] = buffer[i]!));
    }
    if (ridge) {
      const p = predictRidge(ridge, test.values, test.rows);
      const target = out.get('ridge')![s]!;
      predictRows.forEach((t, i) => (target[t] = p[i]!));
    }
  }
  return out;
}

/**
 * Runs the model table: combinatorial purged CV (purge and embargo from each row's real label end, {@link labelEnds})
 * over the rows of `data`; in every split the pooled / per-symbol / transfer GBDT and the pooled random forest
 * (every pipeline feature, no Boruta) and a ridge baseline are fitted on the training rows and predict the test rows;
 * the meta-label variant of each tree configuration takes or skips the primary's bet with a secondary GBDT trained on
 * the training rows' meta-labels (triple barrier with the primary's side), where the primary predictions it learns
 * from are out-of-sample: two inner purged halves of the training rows, each predicted by models fitted on the other.
 * Each CPCV path (a full out-of-sample prediction series) of each row is backtested by the engine (3-symbol portfolio,
 * `signal-column`, fees, slippage, funding): the Sharpe distribution over paths, IC, PBO (CSCV over the rows'
 * path-averaged per-bar returns) and the DSR of each row against every trial in the ledger (this run's rows plus
 * `priorLedger`). Each of `externals` is trained on the same splits (pooled) and is a row of the table; its per-split
 * IC is set next to the pooled GBDT's (the learner gap). Deterministic for the same data, config and learner.
 * @throws TrainingError `insufficient_data` when the rows are too few for the groups; ModelError from fitting.
 */
export async function runModelTable(
  data: TrainingData,
  config: ModelTableConfig,
  options: { readonly onProgress?: TrainingProgress; readonly externals?: readonly ExternalLearner[]; readonly priorLedger?: readonly TrialRecord[] } = {},
): Promise<ModelTableResult> {
  const T = data.ts.length;
  const S = data.symbols.length;
  const { groups, testGroups } = config.cpcv;
  if (T < groups * 50) throw new TrainingError('insufficient_data', `model table: ${T} rows are too few for ${groups} CPCV groups (need >= ${groups * 50})`, { rows: T, groups });
  const embargo = config.cpcv.embargo ?? Math.ceil(0.01 * T);
  const tb = config.tripleBarrier;
  const sigma = data.symbols.map((x) => realizedVolatility(x.close, tb.volatilityWindow).map((v) => v * Math.sqrt(tb.maxBars)));
  const ends = labelEnds(data, sigma, tb);
  let maxLabelSpan = 0;
  ends.forEach((e, t) => (maxLabelSpan = Math.max(maxLabelSpan, e - t)));
  const plan: CpcvPlan = combinatorialPurgedSplits(T, { groups, testGroups, horizon: data.horizon, embargo, labelEnd: ends });
  const externals = options.externals ?? [];
  const rowSpecs: TableRowSpec[] = [...TABLE_ROWS, ...externals.map((x) => ({ key: x.key, model: 'external' as const, meta: false }))];
  if (config.withBoruta) rowSpecs.splice(rowSpecs.findIndex((r) => r.key === 'pooled') + 1, 0, BORUTA_ROW);
  const borutaFeatures: string[][] = [];
  const total = plan.splits.length + rowSpecs.length * plan.paths + externals.length;
  let done = 0;
  const step = (label: string) => options.onProgress?.(++done, total, label);
  // pathPredictions[row][path][symbol]: Float64Array(T)
  const pathPredictions = new Map<string, Float64Array[][]>(rowSpecs.map((r) => [r.key, Array.from({ length: plan.paths }, () => data.symbols.map(() => new Float64Array(T).fill(NaN)))]));
  const copyToPaths = (key: string, splitIndex: number, predictions: Predictions) => {
    const split = plan.splits[splitIndex]!;
    for (const g of split.testGroups) {
      for (let p = 0; p < plan.paths; p++) {
        if (plan.pathSplits[p * groups + g] !== splitIndex) continue;
        for (let s = 0; s < S; s++) {
          const to = pathPredictions.get(key)![p]![s]!;
          for (let t = plan.groupStart[g]!; t < plan.groupStart[g + 1]!; t++) to[t] = predictions[s]![t]!;
        }
      }
    }
  };
  const gbdtSplitIc: number[] = [];
  const gbdtSplitPredictions: Predictions[] = [];

  for (const split of plan.splits) {
    const seed = deriveSeed(config.train.seed, 5000 + split.index);
    const trainRows = data.symbols.map((x) => finiteRows(x.target, split.train));
    const primary = fitAndPredict(data, trainRows, split.test, config, seed, true);
    for (const [key, predictions] of primary) copyToPaths(key, split.index, predictions);
    gbdtSplitPredictions.push(primary.get('pooled')!);
    gbdtSplitIc.push(splitIc(data, split.test, primary.get('pooled')!));
    if (config.withBoruta) {
      // Boruta on this split's training rows only, then the pooled GBDT (same seed as `pooled`) on what it keeps
      const { selection } = selectOnRows(data, trainRows, config.train, deriveSeed(seed, 7));
      borutaFeatures.push([...selection.names]);
      const models = fitModels(data, trainRows, selection.indices, config.train, seed, { pooled: true, 'per-symbol': false, transfer: false, 'random-forest': false });
      const predictions = data.symbols.map((_, s) => {
        const out = new Float64Array(T).fill(NaN);
        const test = gather(data, [{ s, rows: split.test }], selection.indices).matrix;
        const p = new Float64Array(test.rows);
        models.pooled!.predictInto(test.values, test.rows, p);
        split.test.forEach((t, i) => (out[t] = p[i]!));
        return out;
      });
      copyToPaths(BORUTA_ROW.key, split.index, predictions);
    }

    // inner out-of-sample primary predictions on the training rows: halves A (earlier) and B (later), purged
    const all = split.train;
    const middle = all[Math.floor(all.length / 2)]!;
    const halfA = all.filter((t) => t < middle), halfB = all.filter((t) => t >= middle);
    let endA = -1;
    halfA.forEach((t) => (endA = Math.max(endA, ends[t]!)));
    const fitA = halfA.filter((t) => ends[t]! < middle);
    const fitB = halfB.filter((t) => t > endA + embargo);
    const innerOnB = fitAndPredict(data, data.symbols.map((x) => finiteRows(x.target, fitA)), halfB, config, deriveSeed(seed, 11), false);
    const innerOnA = fitAndPredict(data, data.symbols.map((x) => finiteRows(x.target, fitB)), halfA, config, deriveSeed(seed, 12), false);
    const columns = data.featureNames.map((_, j) => j);
    for (const c of CONFIGURATIONS) {
      const oos = data.symbols.map((_, s) => {
        const a = innerOnA.get(c)![s]!, b = innerOnB.get(c)![s]!;
        return a.map((v, t) => (Number.isFinite(v) ? v : b[t]!));
      });
      // meta-labels of the training rows: the triple barrier with the inner primary's side
      const parts: { s: number; rows: Int32Array }[] = [];
      const metaTarget: number[] = [];
      const metaPrimary: number[] = [];
      data.symbols.forEach((x, s) => {
        const side = oos[s]!.map((v) => (v > 0 ? 1 : v < 0 ? -1 : NaN));
        const labels = metaLabels(tripleBarrierLabels(x.close, sigma[s]!, { profit: tb.profit, stop: tb.stop, maxBars: tb.maxBars, side }));
        const rows = all.filter((t) => Number.isFinite(labels[t]!));
        parts.push({ s, rows });
        rows.forEach((t) => { metaTarget.push(labels[t]!); metaPrimary.push(oos[s]![t]!); });
      });
      const base = gather(data, parts, columns).matrix;
      const meta = fitMetaLabelModel(metaFeatureMatrix(base, metaPrimary), Float64Array.from(metaTarget), {
        seed: deriveSeed(seed, 20 + CONFIGURATIONS.indexOf(c)),
        rounds: config.meta.rounds,
        maxDepth: config.meta.maxDepth,
        learningRate: config.meta.learningRate,
        minLeaf: config.meta.minLeaf,
        maxBins: config.train.gbdt.maxBins,
        subsample: config.train.gbdt.subsample,
        featureFraction: config.train.gbdt.featureFraction,
      });
      const filtered = data.symbols.map((_, s) => {
        const test = gather(data, [{ s, rows: split.test }], columns).matrix;
        const primaryTest = Float64Array.from(split.test, (t) => primary.get(c)![s]![t]!);
        const probability = new Float64Array(split.test.length);
        meta.predictInto(metaFeatureMatrix(test, primaryTest).values, split.test.length, probability);
        const signal = metaLabelSignal(primaryTest, probability, config.meta.threshold);
        const out = new Float64Array(T).fill(NaN);
        split.test.forEach((t, i) => (out[t] = signal[i]!));
        return out;
      });
      copyToPaths(`${c}+meta`, split.index, filtered);
    }
    step(`split ${split.index + 1}/${plan.splits.length} (test groups ${split.testGroups.join(',')})`);
  }

  const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const learners: NonNullable<ModelTableResult['learnerGap']>['learners'][number][] = [];
  const input = externals.length > 0 ? externalInput(data, plan, config) : null;
  for (const learner of externals) {
    const predictions = await learner.fitPredict(input!);
    if (predictions.length !== plan.splits.length) throw new TrainingError('invalid_argument', `external learner ${learner.name} returned ${predictions.length} splits' predictions, expected ${plan.splits.length}`, { learner: learner.name });
    const icBySplit: number[] = [];
    plan.splits.forEach((split, k) => {
      const test = input!.splits[k]!.test;
      const p = predictions[k]!;
      if (p.length !== test.length) throw new TrainingError('invalid_argument', `external learner ${learner.name}: split ${k} has ${p.length} predictions, expected ${test.length}`, { split: k });
      const bySymbol: Predictions = data.symbols.map(() => new Float64Array(T).fill(NaN));
      test.forEach((row, i) => (bySymbol[Math.floor(row / T)]![row % T] = p[i]!));
      icBySplit.push(splitIc(data, split.test, bySymbol));
      copyToPaths(learner.key, k, bySymbol);
    });
    learners.push({ key: learner.key, name: learner.name, icBySplit, icMean: mean(icBySplit), betterSplits: icBySplit.filter((v, k) => v > gbdtSplitIc[k]!).length });
    step(`${learner.name}: ${plan.splits.length} splits`);
  }
  const learnerGap: ModelTableResult['learnerGap'] = learners.length > 0 ? { gbdtIcBySplit: gbdtSplitIc, gbdtIcMean: mean(gbdtSplitIc), learners } : null;

  // backtests: every row, every path
  const symbolIndices = data.symbols.map((_, s) => s);
  const pathMeanReturns = new Map<string, Float64Array>();
  const partial = rowSpecs.map((spec) => {
    const sharpeByPath: number[] = [], icByPath: number[] = [], trades: number[] = [], totals: number[] = [];
    let bets = 0, cells = 0;
    let meanReturns: Float64Array | null = null;
    for (let p = 0; p < plan.paths; p++) {
      const predictions = pathPredictions.get(spec.key)![p]!;
      const result = backtestSignal(data, symbolIndices, 0, T, predictions, config.train, `${config.name}/${spec.key}/path${p}`);
      const m = computeMetrics(result);
      sharpeByPath.push(m.sharpe ?? NaN);
      trades.push(m.tradeCount);
      totals.push(m.totalReturn);
      const returns = simpleReturns(result.equity.value);
      if (!meanReturns) meanReturns = new Float64Array(returns.length);
      for (let i = 0; i < returns.length; i++) meanReturns[i] += (Number.isFinite(returns[i]!) ? returns[i]! : 0) / plan.paths;
      const xs: number[] = [], ys: number[] = [];
      predictions.forEach((pred, s) => {
        const fwd = data.symbols[s]!.forwardReturn;
        for (let t = 0; t < T; t++) {
          xs.push(pred[t]!);
          ys.push(fwd[t]!);
          if (Number.isFinite(pred[t]!)) { cells++; if (pred[t] !== 0) bets++; }
        }
      });
      icByPath.push(spearmanIc(xs, ys, data.horizon).ic);
      step(`backtest ${spec.key} path ${p + 1}/${plan.paths}`);
    }
    pathMeanReturns.set(spec.key, meanReturns!);
    const moments = returnMoments(meanReturns!);
    const configHash = trialConfigHash({ row: spec, model: modelSettings(spec, config), data: config.train.data, features: config.train.features, label: config.train.label, cpcv: config.cpcv, backtest: config.train.backtest, seed: config.train.seed });
    return { spec, sharpeByPath, icByPath, trades, totals, betRate: cells > 0 ? bets / cells : NaN, moments, configHash };
  });

  const ledger: TrialRecord[] = [...(options.priorLedger ?? []), ...partial.map((r) => ({ configHash: r.configHash, name: `${config.name}/${r.spec.key}`, sharpe: r.moments.sharpe, observations: r.moments.count }))];
  const rows: TableRow[] = partial.map((r) => {
    const d = deflatedSharpeFromTrials(ledger, { sharpe: r.moments.sharpe, observations: r.moments.count, skewness: Number.isFinite(r.moments.skewness) ? r.moments.skewness : 0, kurtosis: Number.isFinite(r.moments.kurtosis) ? r.moments.kurtosis : 3 });
    const finite = r.sharpeByPath.filter(Number.isFinite);
    return {
      ...r.spec,
      sharpeByPath: r.sharpeByPath,
      sharpe: { median: quantile(r.sharpeByPath, 0.5), p5: quantile(r.sharpeByPath, 0.05), p95: quantile(r.sharpeByPath, 0.95), mean: finite.reduce((a, b) => a + b, 0) / finite.length },
      icByPath: r.icByPath,
      icMedian: quantile(r.icByPath, 0.5),
      betRate: r.betRate,
      tradesMedian: quantile(r.trades, 0.5),
      totalReturnMedian: quantile(r.totals, 0.5),
      periodSharpe: r.moments.sharpe,
      observations: r.moments.count,
      dsr: d.dsr,
      configHash: r.configHash,
    };
  });
  const dsrTrials = deflatedSharpeFromTrials(ledger, { sharpe: 0, observations: 2, skewness: 0, kurtosis: 3 });

  const length = pathMeanReturns.get(rowSpecs[0]!.key)!.length;
  const matrix = new Float64Array(length * rowSpecs.length);
  rowSpecs.forEach((spec, j) => pathMeanReturns.get(spec.key)!.forEach((v, i) => (matrix[i * rowSpecs.length + j] = v)));
  const pbo = probabilityOfBacktestOverfitting(matrix, length, rowSpecs.length, { blocks: config.pbo.blocks, metric: 'sharpe' });
  const picks = new Map<number, number>();
  pbo.selected.forEach((j) => picks.set(j, (picks.get(j) ?? 0) + 1));
  const most = [...picks.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;

  return {
    name: config.name,
    data: { venue: data.venue, timeframe: data.timeframe, symbols: data.symbols.map((x) => x.symbol), from: formatUtc(data.ts[0]!), to: formatUtc(data.ts[T - 1]!), rows: T, features: data.featureNames.length },
    cpcv: { groups, testGroups, splits: plan.splits.length, paths: plan.paths, embargo, horizon: data.horizon, maxLabelSpan },
    rows,
    pbo: { value: pbo.pbo, blocks: config.pbo.blocks, splits: pbo.splits, configurations: rowSpecs.length, selectedMost: `${rowSpecs[most[0]]!.key} (${most[1]}/${pbo.splits})` },
    dsrTrials: { count: dsrTrials.trials, sharpeVariance: dsrTrials.sharpeVariance },
    ledger,
    boruta: config.withBoruta ? { featuresBySplit: borutaFeatures, keptCount: Object.fromEntries(data.featureNames.map((f) => [f, borutaFeatures.filter((names) => names.includes(f)).length])) } : null,
    learnerGap,
    seed: config.train.seed,
  };
}

/** The parameters a row's models use (what its trial hash covers). */
function modelSettings(spec: TableRowSpec, config: ModelTableConfig): unknown {
  const t = config.train;
  const primary = spec.model === 'ridge' ? config.ridge : spec.model === 'random-forest' ? t.randomForest : spec.model === 'transfer' ? { gbdt: t.gbdt, transfer: t.transfer } : t.gbdt;
  if (spec.boruta) return { primary, boruta: t.boruta };
  return spec.meta ? { primary, meta: config.meta, tripleBarrier: config.tripleBarrier } : primary;
}

/** Spearman IC of a split's predictions over its test rows (all symbols) vs the raw forward return. */
function splitIc(data: TrainingData, test: Int32Array, predictions: Predictions): number {
  const xs: number[] = [], ys: number[] = [];
  predictions.forEach((pred, s) => test.forEach((t) => { xs.push(pred[t]!); ys.push(data.symbols[s]!.forwardReturn[t]!); }));
  return spearmanIc(xs, ys, data.horizon).ic;
}

/** The pooled design and the CPCV splits in pooled row numbers (`s · T + t`) for an external learner. */
export function externalInput(data: TrainingData, plan: CpcvPlan, config: ModelTableConfig): ExternalLearnerInput {
  const T = data.ts.length, S = data.symbols.length, d = data.featureNames.length;
  const features = new Float64Array(S * T * d);
  const target = new Float64Array(S * T);
  data.symbols.forEach((x, s) => { features.set(x.features, s * T * d); target.set(x.target, s * T); });
  const pooled = (rows: Int32Array, labelledOnly: boolean) => {
    const out: number[] = [];
    for (let s = 0; s < S; s++) for (const t of rows) if (!labelledOnly || Number.isFinite(data.symbols[s]!.target[t]!)) out.push(s * T + t);
    return Int32Array.from(out);
  };
  return { featureNames: data.featureNames, features, target, symbols: S, rows: T, splits: plan.splits.map((sp) => ({ train: pooled(sp.train, true), test: pooled(sp.test, false) })), seed: config.train.seed, gbdt: config.train.gbdt };
}

const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

/** Renders the result as Markdown: settings, the table, PBO, the DSR's trial count and the learner gap. */
export function modelTableMarkdown(r: ModelTableResult, command: string): string {
  const lines = [
    `# Model table: ${r.name}`,
    '',
    `Data: ${r.data.venue} ${r.data.timeframe} ${r.data.symbols.join(', ')}, ${r.data.from} → ${r.data.to} (${r.data.rows} bars per symbol, ${r.data.features} features, ${r.boruta ? 'no Boruta except the pooled + Boruta row' : 'no Boruta'}). Seed ${r.seed}.`,
    `CPCV: N = ${r.cpcv.groups} groups, k = ${r.cpcv.testGroups} test groups → ${r.cpcv.splits} splits, φ = ${r.cpcv.paths} backtest paths; purge by each row's label end (longest label span ${r.cpcv.maxLabelSpan} bars, regression label ${r.cpcv.horizon} bars), embargo ${r.cpcv.embargo} bars.`,
    'Sharpe: annualised, engine backtest of the 3-symbol portfolio (signal-column long/short, fees, slippage, funding) on each path; 5 % / 95 % are linear-interpolation quantiles over the paths.',
    'IC: Spearman of the signal vs the raw forward return, all symbols, median over paths (meta rows: the filtered signal, skipped bets = 0).',
    `DSR: per-bar Sharpe of the path-averaged returns, deflated by N = ${r.dsrTrials.count} trials from the ledger (Sharpe variance ${r.dsrTrials.sharpeVariance.toExponential(2)}).`,
    '',
    '| configuration | meta | Sharpe median | Sharpe 5 % | Sharpe 95 % | IC median | bets taken | trades (median) | total return (median) | DSR |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map((x) => `| ${x.model === 'external' ? x.key : x.boruta ? `${x.model} + Boruta` : x.model} | ${x.meta ? 'yes' : 'no'} | ${fmt(x.sharpe.median)} | ${fmt(x.sharpe.p5)} | ${fmt(x.sharpe.p95)} | ${fmt(x.icMedian, 4)} | ${(x.betRate * 100).toFixed(1)} % | ${fmt(x.tradesMedian, 0)} | ${(x.totalReturnMedian * 100).toFixed(1)} % | ${fmt(x.dsr, 3)} |`),
    '',
    `PBO (CSCV over the ${r.pbo.configurations} configurations' path-averaged per-bar returns, S = ${r.pbo.blocks} blocks, ${r.pbo.splits} splits): **${fmt(r.pbo.value, 3)}**; most often selected in-sample: ${r.pbo.selectedMost}.`,
  ];
  if (r.boruta) {
    const counts = r.boruta.featuresBySplit.map((f) => f.length).sort((a, b) => a - b);
    const kept = Object.entries(r.boruta.keptCount).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    lines.push(
      '',
      `Boruta (train.boruta settings, per split on its training rows): ${counts[0]}–${counts[counts.length - 1]} of ${r.data.features} features kept (median ${quantile(counts, 0.5)}); kept in n of ${counts.length} splits: ${kept.map(([f, n]) => `${f} ${n}`).join(', ')}.`,
    );
  }
  if (r.learnerGap) {
    const g = r.learnerGap;
    lines.push(
      '',
      '## Learner gap: the project pooled GBDT vs external learners (same CPCV splits, pooled rows, features and labels)',
      '',
      `Mean per-split IC: project GBDT ${fmt(g.gbdtIcMean, 4)}; ${g.learners.map((l) => `${l.name} ${fmt(l.icMean, 4)} (gap ${fmt(l.icMean - g.gbdtIcMean, 4)}, higher on ${l.betterSplits}/${g.gbdtIcBySplit.length} splits)`).join('; ')}.`,
      '',
      `| split | project GBDT IC | ${g.learners.map((l) => `${l.name} IC`).join(' | ')} |`,
      `| ---: | ---: | ${g.learners.map(() => '---:').join(' | ')} |`,
      ...g.gbdtIcBySplit.map((v, k) => `| ${k} | ${fmt(v, 4)} | ${g.learners.map((l) => fmt(l.icBySplit[k]!, 4)).join(' | ')} |`),
    );
  }
  lines.push('', `Reproduce: \`${command}\``, '');
  return lines.join('\n');
}
