import { AppError, invariant } from '../core/app-error.js';
import { BYBIT_LINEAR_PERPETUALS, spotInstrument, type Instrument } from '../core/instrument.js';
import { formatUtc, parseUserTime, timeframeMs } from '../core/time.js';
import { DataError, loadBars, type BarFrame, type LoadBarsRequest, type MarketStore, type MissingBarPolicy } from '../data/index.js';
import { DEFAULT_FEATURE_SPEC, FEATURES, FeaturePipeline, featureInputsFromStore, type FeatureInputs } from '../features/index.js';
import { overlapsTraining, SignalStage, type ModelProvenance, type SignalModel } from '../signals/index.js';
import type { RiskLimits } from '../engine/risk/risk-limits.js';
import type { FittedRegime, Strategy, StrategyFactory } from '../engine/strategy.js';
import { fitMsGarch } from '../regime/index.js';
import type { BacktestResult } from './backtest-result.js';
import {
  FixedBpsSlippage,
  InstrumentFeeModel,
  TableFundingModel,
  VolumeParticipationSlippage,
  type FeeModel,
  type FundingFallback,
  type SlippageModel,
} from './execution-models.js';
import { runBacktest, runBacktestWithSignals, type BacktestSpec } from './run-backtest.js';

/**
 * What {@link runExperiment} reads from an experiment config. It is the shape of the parsed `BacktestConfig`
 * (src/config/backtest-config.ts), restated here because backtest/ does not depend on config/.
 */
export interface ExperimentConfig {
  readonly name: string;
  readonly strategy: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly data: {
    readonly venue: string;
    readonly symbols: readonly string[];
    readonly timeframe: string;
    readonly start: string;
    readonly end: string;
    readonly missingBars: MissingBarPolicy;
  };
  readonly instruments: 'bybit-linear' | 'spot';
  readonly funding: { readonly venue: string; readonly fallback: FundingFallback; readonly strict?: boolean };
  readonly columns: Readonly<Record<string, ExperimentColumnSource>>;
  readonly initialCash: number;
  readonly leverage: number;
  readonly slippage:
    | { readonly model: 'fixed'; readonly bps: number }
    | { readonly model: 'volume'; readonly baseBps: number; readonly impactBps: number; readonly exponent: number; readonly maxBps: number };
  readonly fees?: { readonly maker?: number | undefined; readonly taker?: number | undefined } | undefined;
  readonly seed: number;
  readonly periodsPerYear: number;
  /** Regime model fitted before the run (see {@link fitExperimentRegimes}); absent = none. */
  readonly regime?: ExperimentRegimeConfig | undefined;
  /** Warm-up before `data.start`: bars, a duration (`30d`) or `auto` (what strategy and feature columns need); absent = 0. */
  readonly warmup?: number | string | undefined;
  /** Pre-trade risk limits (the config's `risk` section); absent = none. */
  readonly risk?: RiskLimits | undefined;
}

/** The `regime` section of an experiment: fit window [fitStart, fitEnd) of bar open times (UTC dates), states, seed. */
export interface ExperimentRegimeConfig {
  readonly fitStart: string;
  readonly fitEnd: string;
  readonly states: number;
  readonly seed: number;
  /** 'refuse' (default): a degenerate fit stops the run; 'report': it runs, and the notes say why the fit is degenerate. */
  readonly onDegenerate?: 'refuse' | 'report';
}

/** Where an extra per-bar column comes from (see `columns` in the experiment config). */
export type ExperimentColumnSource =
  | { readonly source: 'predictions'; readonly model: string; readonly version?: string | undefined }
  | { readonly source: 'feature'; readonly feature: string; readonly params: Readonly<Record<string, unknown>> }
  | {
      readonly source: 'model';
      readonly model: string;
      readonly fundingVenue: string;
      readonly reference: string;
      readonly dvol: boolean;
      readonly allowInSample: boolean;
      readonly allowUngated: boolean;
    };

/** A loaded model for one symbol, with what its card says (see `ExperimentDeps.loadModel`). */
export interface ExperimentModel {
  readonly model: SignalModel;
  readonly card: ModelProvenance & { readonly metrics?: Readonly<Record<string, number>> };
  /** Version label written with its predictions (e.g. `local-<sha256 prefix>`). */
  readonly version: string;
  close(): Promise<void>;
}

export type { StrategyFactory } from '../engine/strategy.js';

export interface ExperimentDeps {
  readonly store: MarketStore;
  readonly strategies: Readonly<Record<string, StrategyFactory>>;
  /** Loads model `ref` (a `model` column's package) for `symbol`; needed only by experiments with a `model` column. */
  readonly loadModel?: (ref: string, symbol: string, pipeline: FeaturePipeline) => Promise<ExperimentModel>;
}

/** Codes of experiment failures. Config-related ones carry the JSON `path` of the offending value in `context`. */
export type ExperimentErrorCode =
  | 'unknown_strategy'
  | 'unknown_instrument'
  | 'unknown_feature'
  | 'invalid_feature_params'
  | 'missing_predictions'
  | 'missing_bars'
  | 'bar_gaps'
  | 'invalid_regime'
  | 'regime_fit_failed'
  | 'invalid_model'
  | 'missing_funding';

/** An experiment that cannot run as configured; the message says what is missing and how to get it. */
export class ExperimentError extends AppError<ExperimentErrorCode> {}

/**
 * Runs one experiment: resolves and validates the strategy, loads the bars, builds the instruments (Bybit USDT perp
 * rules or spot rules), the funding tables of `config.funding.venue`, the extra columns, the fee/slippage models, and
 * runs the bar backtest. Deterministic: the same store contents and config give the same result.
 *
 * Substitutions are stated, never silent: Bybit rules on another venue's prices get a `dataSources` note and a note;
 * funding taken from another venue gets a note; settlements without funding data use the stated fallback (noted by
 * the runner with counts and dates).
 *
 * Prediction columns: a row of the `predictions` table with time `ts` is the prediction made at the close of the
 * bar opening at `ts` (it may use that bar), so the strategy sees it with that bar. Bars without a row get NaN.
 *
 * Regime (`config.regime`): after the bars, funding and columns are loaded (so a missing prediction column fails
 * before the fit), one MS-GARCH model per symbol is fitted with {@link fitExperimentRegimes} on bars strictly before
 * `data.start`, and the strategy is built again as `factory(params, { regimes })` (the first build only checks the
 * params). The fit is stated in the notes.
 *
 * @throws ExperimentError `unknown_strategy`, `unknown_instrument`, `unknown_feature`, `invalid_feature_params`,
 *   `missing_predictions` (names the model and how to produce it), `invalid_regime` (fitEnd after data.start),
 *   `regime_fit_failed`; AppError `invalid_strategy_params` from the strategy factory; DataError from loading bars
 *   (`not_found`, `missing_bars`).
 * @example
 * const result = await runExperiment(config, { store, strategies: STRATEGIES });
 */
export async function runExperiment(config: ExperimentConfig, deps: ExperimentDeps): Promise<BacktestResult> {
  const { spec, strategy, signals } = await experimentSetup(config, deps);
  if (signals === undefined) return runBacktest(spec, strategy);
  try {
    return await runBacktestWithSignals(spec, strategy, signals);
  } finally {
    for (const m of signals.models) await m.close();
  }
}

/** What {@link runExperiment} runs: the backtest spec, the strategy (built with the fitted regimes) and the signal stage of a `model` column. */
export interface ExperimentSetup {
  readonly spec: BacktestSpec;
  readonly strategy: Strategy;
  /** One fitted regime per symbol (engine order) when the config has a `regime` section. */
  readonly regimes: readonly FittedRegime[] | undefined;
  /** The streamed `model` column, if any (its models must be closed by the caller). */
  readonly signals: Awaited<ReturnType<typeof modelSignals>>;
}

/**
 * Everything {@link runExperiment} does before the backtest runs (strategy, bars with warm-up, instruments, funding,
 * columns, model signals, regime fit), without running it: for runners that drive the same spec otherwise (e.g. the
 * RL sizer's walk-forward). Same errors as {@link runExperiment}.
 */
export async function experimentSetup(config: ExperimentConfig, deps: ExperimentDeps): Promise<ExperimentSetup> {
  const { store } = deps;
  const { venue, symbols, timeframe } = config.data;
  const factory = Object.hasOwn(deps.strategies, config.strategy) ? deps.strategies[config.strategy] : undefined;
  if (!factory) {
    throw new ExperimentError('unknown_strategy', `strategy must be one of ${Object.keys(deps.strategies).join(', ')}, was ${JSON.stringify(config.strategy)}`, {
      path: '$.strategy',
      strategy: config.strategy,
    });
  }
  let strategy = factory(config.params);
  const models = experimentVenueModels(config);
  const instruments = models.instruments;
  checkFeatureColumns(config.columns);

  const start = parseUserTime(config.data.start, 'data.start');
  const wanted = warmupBarsWanted(config, strategy, timeframe);
  const frame = await loadSectionBars(
    store,
    { venue, symbols, timeframe, start: start - wanted * timeframeMs(timeframe), end: parseUserTime(config.data.end, 'data.end'), missing: config.data.missingBars },
    (symbol, range, gaps) =>
      gaps !== undefined
        ? { code: 'bar_gaps', path: '$.data.missingBars', message: `data section (data.missingBars ${JSON.stringify(config.data.missingBars)}, range ${range}): ${gaps}` }
        : {
            code: 'missing_bars',
            path: `$.data.symbols[${symbols.indexOf(symbol)}]`,
            message: `data section: ${venue} has no ${timeframe} bars of ${symbol} in ${range}${wanted > 0 ? ` (data.start minus ${wanted} warm-up bars to data.end)` : ' (data.start to data.end)'}; import or fetch them (tm data import / tm data fetch), or change data.venue, data.symbols or the dates`,
          },
  );
  let warmupBars = 0;
  while (warmupBars < frame.ts.length && frame.ts[warmupBars]! < start) warmupBars++;
  const notes: string[] = [];
  if (wanted > 0 && warmupBars < wanted) notes.push(`warm-up: ${wanted} bars wanted before ${config.data.start}, the store holds ${warmupBars}`);
  const dataSources = instruments.map((instrument, k) => {
    const source = { instrument: instrument.id, venue, symbol: symbols[k]!, timeframe };
    if (instrument.kind !== 'linear-perpetual' || venue === 'bybit') return source;
    const note = `Bybit USDT perp rules on ${venue} ${symbols[k]} prices`;
    notes.push(`${instrument.id}: ${note} (the backtest trades Bybit contract rules, fees and margin on another venue's price series)`);
    return { ...source, note };
  });
  if (frame.missing.policy !== 'error') {
    frame.missing.filled.forEach((filled, k) => {
      if (filled > 0) notes.push(`${symbols[k]}: ${filled} missing ${timeframe} bars handled by the ${frame.missing.policy} policy`);
    });
  }

  const tables = await fundingTables(store, config, instruments, frame, notes);
  const columns: Record<string, Float64Array[]> = {};
  for (const [name, source] of Object.entries(config.columns)) {
    if (source.source === 'model') continue; // streamed while the backtest runs (below)
    columns[name] = source.source === 'feature' ? featureColumn(frame, source, name, notes) : await predictionColumn(store, frame, source, name, notes);
  }
  const signals = await modelSignals(config, deps, frame, notes);
  let regimes: FittedRegime[] | undefined;
  if (config.regime !== undefined) {
    regimes = await fitExperimentRegimes(store, config, instruments);
    for (const r of regimes) notes.push(describeRegimeFit(r, timeframe));
    strategy = factory(config.params, { regimes });
  }

  const spec: BacktestSpec = {
      name: config.name,
      instruments,
      frame,
      ...(Object.keys(columns).length > 0 ? { columns } : {}),
      initialCash: config.initialCash,
      leverage: config.leverage,
      fees: models.fees,
      slippage: models.slippage,
      funding: new TableFundingModel(tables, config.funding.fallback),
      periodsPerYear: config.periodsPerYear,
      dataSources,
      notes,
      seed: config.seed,
      config: config as unknown as Readonly<Record<string, unknown>>,
      warmupBars,
      ...(config.risk !== undefined ? { risk: config.risk } : {}),
  };
  return { spec, strategy, regimes, signals };
}

/**
 * The experiment's `model` column, if any: loads the package per symbol (`deps.loadModel`), refuses in-sample windows
 * and ungated models unless the column allows them, notes what the cards say, and builds the signal stage over the
 * frame's bars (warm-up included) for `runBacktestWithSignals`.
 */
async function modelSignals(config: ExperimentConfig, deps: ExperimentDeps, frame: BarFrame, notes: string[]) {
  const entries = Object.entries(config.columns).filter((e): e is [string, Extract<ExperimentColumnSource, { source: 'model' }>] => e[1].source === 'model');
  if (entries.length === 0) return undefined;
  if (entries.length > 1) throw new ExperimentError('invalid_model', `columns: one model column per experiment (the signal stage writes one), found ${entries.map(([n]) => n).join(', ')}`, { path: '$.columns' });
  const [column, source] = entries[0]!;
  const path = `$.columns.${column}`;
  if (!deps.loadModel) throw new ExperimentError('invalid_model', `column ${column}: a model column needs a model loader (tm backtest provides one; pass deps.loadModel)`, { path });
  const { symbols, timeframe } = config.data;
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  const models: ExperimentModel[] = [];
  const inputs: FeatureInputs[] = [];
  const windowFrom = parseUserTime(config.data.start, 'data.start'), windowTo = parseUserTime(config.data.end, 'data.end');
  const tf = timeframeMs(timeframe);
  try {
    for (const symbol of symbols) {
      const m = await deps.loadModel(source.model, symbol, pipeline);
      models.push(m);
      notes.push(checkModelCard(m, { column, source, symbol, from: windowFrom, to: windowTo, window: `the backtest [${config.data.start}, ${config.data.end})` }));
      const x = await featureInputsFromStore(deps.store, { venue: frame.venue, symbol, timeframe, start: frame.ts[0]!, end: frame.ts[frame.ts.length - 1]! + tf, fundingVenue: source.fundingVenue, dvol: source.dvol, reference: source.reference });
      if (x.ts.length !== frame.ts.length || x.ts.some((t, k) => t !== frame.ts[k])) {
        throw new ExperimentError('invalid_model', `column ${column}: the feature inputs of ${symbol} are not on the backtest's bar grid (${x.ts.length} bars vs ${frame.ts.length}); use data.missingBars 'error' or fill the gaps`, { path });
      }
      inputs.push(x);
    }
  } catch (e) {
    for (const m of models) await m.close();
    throw e;
  }
  return { stage: new SignalStage(pipeline, models.map((m) => m.model), inputs), column, models };
}

/**
 * Checks a loaded model column's card against the window it is to run on (a backtest's, or a live run's from its
 * start on) and returns the note stating it: refuses an overlap with the training range unless `allowInSample`, and
 * a model whose quality gates failed unless `allowUngated`.
 * @throws ExperimentError `invalid_model` naming the column path to set.
 */
export function checkModelCard(
  m: Pick<ExperimentModel, 'card' | 'version'>,
  at: { readonly column: string; readonly source: Extract<ExperimentColumnSource, { source: 'model' }>; readonly symbol: string; readonly from: number; readonly to: number; readonly window: string },
): string {
  const { column, source, symbol } = at;
  const path = `$.columns.${column}`;
  const c = m.card;
  const inSample = overlapsTraining(c, at.from, at.to);
  if (inSample && !source.allowInSample) {
    throw new ExperimentError('invalid_model', `column ${column}: model ${c.name} was trained on [${c.dataRange.from}, ${c.dataRange.to}), which overlaps ${at.window}; set ${path}.allowInSample to run it in-sample`, { path: `${path}.allowInSample` });
  }
  if (!c.gatesPassed && !source.allowUngated) throw new ExperimentError('invalid_model', `column ${column}: model ${c.name} failed its quality gates; set ${path}.allowUngated to run it anyway`, { path: `${path}.allowUngated` });
  return (
    `column ${column}: model ${c.name} (${m.version}, trained on [${c.dataRange.from}, ${c.dataRange.to}), gates ${c.gatesPassed ? 'passed' : 'FAILED'}) streamed for ${symbol} through the signal stage (features → ONNX per bar)` +
    (inSample ? ` — IN-SAMPLE: ${at.window} overlaps the training range` : '') +
    (c.gatesPassed ? '' : ' — UNGATED: run although its quality gates failed')
  );
}

/** Bars of warm-up `config.warmup` asks for: a count, a duration over the timeframe (rounded up), or `auto`. */
export function warmupBarsWanted(config: ExperimentConfig, strategy: Strategy, timeframe: string): number {
  const w = config.warmup ?? 0;
  if (typeof w === 'number') return w;
  if (w === 'auto') {
    let bars = strategy.warmupBars ?? 0;
    for (const source of Object.values(config.columns)) {
      if (source.source === 'model') bars = Math.max(bars, FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC).warmupBars);
      if (source.source !== 'feature') continue;
      const def = FEATURES[source.feature];
      if (def?.warmupBars) bars = Math.max(bars, def.warmupBars(def.params.parse(source.params)));
    }
    return bars;
  }
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[w.at(-1) as 'm' | 'h' | 'd' | 'w'];
  return Math.ceil((Number(w.slice(0, -1)) * unit) / timeframeMs(timeframe));
}

/**
 * Fits the experiment's regime models: for each symbol (engine order), a `regime.states`-state MS-GARCH(1,1)
 * ({@link fitMsGarch}, seed `regime.seed`, default fit options) on the raw log returns ln(close_t / close_{t-1}) of
 * consecutive bars of that symbol (venue and timeframe of `data`) with open times in [fitStart, fitEnd). A return
 * whose bar pair straddles a missing bar is left out. Uses no bar at or after `data.start` (fitEnd <= data.start).
 * @throws ExperimentError `invalid_regime` when `regime` is absent or fitEnd > data.start or fitStart >= fitEnd;
 *   `regime_fit_failed` when the fit rejects the returns (too few, constant) or finds no finite likelihood;
 *   DataError `not_found` when a symbol has no bar in the window.
 * @example
 * const regimes = await fitExperimentRegimes(store, config, instruments); // regimes[0].labels: crisis, bear, neutral, bull
 */
export async function fitExperimentRegimes(store: MarketStore, config: ExperimentConfig, instruments: readonly Instrument[]): Promise<FittedRegime[]> {
  const regime = config.regime;
  if (regime === undefined) throw new ExperimentError('invalid_regime', 'the experiment has no `regime` section to fit', { path: '$.regime' });
  const fitStart = parseUserTime(regime.fitStart, 'regime.fitStart');
  const fitEnd = parseUserTime(regime.fitEnd, 'regime.fitEnd');
  const dataStart = parseUserTime(config.data.start, 'data.start');
  if (!(fitStart < fitEnd)) {
    throw new ExperimentError('invalid_regime', `regime.fitEnd must be after regime.fitStart (${regime.fitStart}), was ${JSON.stringify(regime.fitEnd)}`, { path: '$.regime.fitEnd', value: regime.fitEnd });
  }
  if (fitEnd > dataStart) {
    throw new ExperimentError('invalid_regime', `regime.fitEnd must be <= data.start (${config.data.start}): the regime is fitted only on bars before the backtest, was ${JSON.stringify(regime.fitEnd)}`, {
      path: '$.regime.fitEnd',
      value: regime.fitEnd,
    });
  }
  const { venue, symbols, timeframe } = config.data;
  const out: FittedRegime[] = [];
  for (const [k, symbol] of symbols.entries()) {
    const bars = await loadSectionBars(store, { venue, symbols: [symbol], timeframe, start: fitStart, end: fitEnd, missing: 'nan' }, () => ({
      code: 'regime_fit_failed',
      path: '$.regime',
      message: noRegimeBars(venue, timeframe, symbol, regime),
    }));
    const close = bars.close[0]!;
    const returns = new Float64Array(Math.max(0, close.length - 1));
    let n = 0;
    for (let t = 1; t < close.length; t++) {
      const r = Math.log(close[t]! / close[t - 1]!);
      if (Number.isFinite(r)) returns[n++] = r;
    }
    if (n === 0) {
      throw new ExperimentError('regime_fit_failed', noRegimeBars(venue, timeframe, symbol, regime), { path: '$.regime', symbol, venue });
    }
    let fit;
    try {
      fit = fitMsGarch(returns.subarray(0, n), { seed: regime.seed, states: regime.states, onDegenerate: regime.onDegenerate ?? 'refuse' });
    } catch (e) {
      throw new ExperimentError('regime_fit_failed', `regime fit of ${venue} ${symbol} ${timeframe} on [${regime.fitStart}, ${regime.fitEnd}): ${(e as Error).message}`, { path: '$.regime', symbol }, { cause: e });
    }
    out.push({
      instrument: instruments[k]!.id,
      symbol,
      model: fit.model,
      labels: fit.labels,
      initialVariance: fit.initialVariance,
      returnScale: 1,
      fitStart,
      fitEnd,
      returns: n,
      logLikelihood: fit.logLikelihood,
      converged: fit.converged,
      seed: fit.seed,
      ...(fit.verdict === 'degenerate' ? { degenerate: fit.degenerateReasons.map((r) => r.message) } : {}),
    });
  }
  return out;
}

/** One note per fitted regime: window, size, seed, convergence and per-state mean / unconditional volatility (4 significant digits). */
export function describeRegimeFit(r: FittedRegime, timeframe: string): string {
  const m = r.model;
  const states = r.labels
    .map((label, k) => `${label} mean ${sig4(m.mean[k]!)} unconditional vol ${sig4(Math.sqrt(m.omega[k]! / (1 - m.alpha[k]! - m.beta[k]!)))} stay ${sig4(m.transition[k * m.states + k]!)}`)
    .join('; ');
  const verdict = r.degenerate ? ` — DEGENERATE fit, kept because regime.onDegenerate is "report": ${r.degenerate.join('; ')}` : '';
  return `${r.instrument}: regime = ${m.states}-state MS-GARCH(1,1) fitted on ${r.returns} ${r.symbol} ${timeframe} log returns of bars opening in [${formatUtc(r.fitStart)}, ${formatUtc(r.fitEnd)}) (before the backtest; seed ${r.seed}, ${r.converged ? 'converged' : 'NOT converged'}): ${states}${verdict}`;
}

function sig4(x: number): string {
  return String(Number(x.toPrecision(4)));
}

/**
 * The instruments (venue rules), fee and slippage models of an experiment: what every runner of it — the backtest,
 * the live runner's paper venue, `tm replay` — must share.
 */
export function experimentVenueModels(config: Pick<ExperimentConfig, 'instruments' | 'data' | 'fees' | 'slippage'>): { readonly instruments: Instrument[]; readonly fees: FeeModel; readonly slippage: SlippageModel } {
  return {
    instruments: config.data.symbols.map((symbol, k) => instrumentFor(config.instruments, config.data.venue, symbol, k)),
    fees: new InstrumentFeeModel({ ...(config.fees?.maker !== undefined ? { maker: config.fees.maker } : {}), ...(config.fees?.taker !== undefined ? { taker: config.fees.taker } : {}) }),
    slippage: slippageModel(config.slippage),
  };
}

function instrumentFor(rules: ExperimentConfig['instruments'], venue: string, symbol: string, k: number): Instrument {
  if (rules === 'bybit-linear') {
    const instrument = Object.hasOwn(BYBIT_LINEAR_PERPETUALS, symbol) ? BYBIT_LINEAR_PERPETUALS[symbol] : undefined;
    if (!instrument) {
      throw new ExperimentError('unknown_instrument', `no Bybit USDT linear perpetual rules for ${JSON.stringify(symbol)}; known: ${Object.keys(BYBIT_LINEAR_PERPETUALS).join(', ')}`, {
        path: `$.data.symbols[${k}]`,
        symbol,
      });
    }
    return instrument;
  }
  if (!symbol.endsWith('USDT') || symbol.length <= 4) {
    throw new ExperimentError('unknown_instrument', `spot rules need a USDT pair like BTCUSDT, was ${JSON.stringify(symbol)}`, { path: `$.data.symbols[${k}]`, symbol });
  }
  return spotInstrument(symbol, venue, symbol.slice(0, -4));
}

function slippageModel(c: ExperimentConfig['slippage']): SlippageModel {
  return c.model === 'fixed' ? new FixedBpsSlippage(c.bps) : new VolumeParticipationSlippage(c.baseBps, c.impactBps, c.exponent, c.maxBps);
}

/** Loads each perpetual's funding settlements from `funding_rates` of the funding venue over the frame; spot gets null. */
async function fundingTables(
  store: MarketStore,
  config: ExperimentConfig,
  instruments: readonly Instrument[],
  frame: BarFrame,
  notes: string[],
): Promise<({ ts: Float64Array; rate: Float64Array } | null)[]> {
  const fundingVenue = config.funding.venue;
  const first = frame.ts.length > 0 ? frame.ts[0]! : 0;
  const last = frame.ts.length > 0 ? frame.ts[frame.ts.length - 1]! + timeframeMs(frame.timeframe) : 0;
  const out: ({ ts: Float64Array; rate: Float64Array } | null)[] = [];
  for (const instrument of instruments) {
    if (instrument.kind !== 'linear-perpetual') {
      out.push(null);
      continue;
    }
    const rows = await store.query(
      `SELECT epoch_ms(ts)::DOUBLE AS t, rate FROM funding_rates WHERE venue = ? AND symbol = ? AND ts >= epoch_ms(?::BIGINT) AND ts <= epoch_ms(?::BIGINT) ORDER BY ts`,
      [fundingVenue, instrument.symbol, first, last],
    );
    const ts = Float64Array.from(rows, (r) => Number(r['t']));
    const rate = Float64Array.from(rows, (r) => Number(r['rate']));
    for (let k = 1; k < ts.length; k++) {
      invariant(ts[k]! > ts[k - 1]!, `funding_rates of ${fundingVenue} ${instrument.symbol} has two settlements at ${formatUtc(ts[k]!)}; run \`tm data check\``, {
        venue: fundingVenue,
        symbol: instrument.symbol,
      });
    }
    if (config.funding.strict === true) checkFundingCoverage(ts, first + timeframeMs(frame.timeframe), last, fundingVenue, instrument.symbol);
    const range = ts.length > 0 ? `${ts.length} settlements from ${formatUtc(ts[0]!)} to ${formatUtc(ts[ts.length - 1]!)}` : 'no settlements in the backtest range';
    notes.push(`${instrument.id}: funding rates from ${fundingVenue} ${instrument.symbol} (${range})${fundingVenue === 'bybit' ? '' : `, applied to the Bybit contract`}`);
    out.push({ ts, rate });
  }
  return out;
}

/**
 * `funding.strict`: every funding time (00/08/16 UTC) from the first bar close to the last must have a settlement.
 * @throws ExperimentError `missing_funding` naming the venue, symbol, how many are missing and the first one.
 */
function checkFundingCoverage(ts: Float64Array, fromClose: number, toClose: number, venue: string, symbol: string): void {
  const step = 8 * 3_600_000;
  let missing = 0, firstMissing = NaN, total = 0, k = 0;
  for (let t = Math.ceil(fromClose / step) * step; t <= toClose; t += step) {
    total++;
    while (k < ts.length && ts[k]! < t) k++;
    if (k < ts.length && ts[k] === t) continue;
    if (missing++ === 0) firstMissing = t;
  }
  if (missing > 0) {
    throw new ExperimentError(
      'missing_funding',
      `funding.strict: ${venue} ${symbol} has no settlement at ${missing} of ${total} funding times of the backtest (first missing ${formatUtc(firstMissing)}); fetch them (tm data fetch ... --funding) or leave strict off to apply funding.fallback`,
      { path: '$.funding.strict', venue, symbol, missing, firstMissing: formatUtc(firstMissing) },
    );
  }
}

function checkFeatureColumns(columns: ExperimentConfig['columns']): void {
  for (const [name, source] of Object.entries(columns)) {
    if (source.source !== 'feature') continue;
    const def = Object.hasOwn(FEATURES, source.feature) ? FEATURES[source.feature] : undefined;
    if (!def) {
      throw new ExperimentError('unknown_feature', `feature must be one of ${Object.keys(FEATURES).join(', ')}, was ${JSON.stringify(source.feature)}`, {
        path: `$.columns.${name}.feature`,
        feature: source.feature,
      });
    }
    const parsed = def.params.safeParse(source.params);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const key = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [])].map(String).join('.');
      throw new ExperimentError('invalid_feature_params', `feature ${source.feature}: ${issue.message}, params were ${JSON.stringify(source.params)}`, {
        path: `$.columns.${name}.params${key ? `.${key}` : ''}`,
        feature: source.feature,
      });
    }
  }
}

function featureColumn(frame: BarFrame, source: Extract<ExperimentColumnSource, { source: 'feature' }>, name: string, notes: string[]): Float64Array[] {
  const def = FEATURES[source.feature]!;
  const params = def.params.parse(source.params);
  notes.push(`column ${name}: feature ${source.feature} ${JSON.stringify(params)} (${def.description}) of ${frame.venue} ${frame.timeframe} bars, computed causally`);
  return frame.symbols.map((_, s) =>
    def.compute({ open: frame.open[s]!, high: frame.high[s]!, low: frame.low[s]!, close: frame.close[s]!, volume: frame.volume[s]! }, params),
  );
}

async function predictionColumn(
  store: MarketStore,
  frame: BarFrame,
  source: Extract<ExperimentColumnSource, { source: 'predictions' }>,
  name: string,
  notes: string[],
): Promise<Float64Array[]> {
  const { venue, timeframe, symbols } = frame;
  const where = `model = ? AND venue = ? AND timeframe = ? AND symbol IN (${symbols.map(() => '?').join(', ')})`;
  const key = [source.model, venue, timeframe, ...symbols];
  const produce = `produce them with \`tm train\` (it writes the model's out-of-sample predictions to the store's predictions table), or point columns.${name} at another source`;
  const versions = (await store.query(`SELECT DISTINCT model_version AS v FROM predictions WHERE ${where} ORDER BY v`, key)).map((r) => String(r['v']));
  const path = `$.columns.${name}`;
  if (versions.length === 0) {
    throw new ExperimentError('missing_predictions', `column ${name}: the store has no predictions of model ${JSON.stringify(source.model)} for ${venue} ${timeframe} ${symbols.join(', ')}; ${produce}`, {
      path,
      model: source.model,
      venue,
      timeframe,
    });
  }
  let version = source.version;
  if (version === undefined) {
    if (versions.length > 1) {
      throw new ExperimentError('missing_predictions', `column ${name}: model ${JSON.stringify(source.model)} has ${versions.length} versions in the store (${versions.join(', ')}); set columns.${name}.version to one of them`, {
        path: `${path}.version`,
        model: source.model,
        versions,
      });
    }
    version = versions[0]!;
  } else if (!versions.includes(version)) {
    throw new ExperimentError('missing_predictions', `column ${name}: model ${JSON.stringify(source.model)} has no version ${JSON.stringify(version)} in the store (stored: ${versions.join(', ')}); ${produce}`, {
      path: `${path}.version`,
      model: source.model,
      version,
      versions,
    });
  }
  const rows = await store.query(`SELECT symbol, epoch_ms(ts)::DOUBLE AS t, prediction FROM predictions WHERE ${where} AND model_version = ? ORDER BY symbol, ts`, [...key, version]);
  const index = new Map<number, number>();
  frame.ts.forEach((t, g) => index.set(t, g));
  const symbolIndex = new Map(symbols.map((s, k) => [s, k]));
  const out = symbols.map(() => new Float64Array(frame.ts.length).fill(NaN));
  const covered = symbols.map(() => 0);
  for (const r of rows) {
    const g = index.get(Number(r['t']));
    if (g === undefined) continue;
    const s = symbolIndex.get(String(r['symbol']))!;
    invariant(Number.isNaN(out[s]![g]!), `predictions of ${source.model}@${version} for ${String(r['symbol'])} have two rows at ${formatUtc(Number(r['t']))}`, { model: source.model, version });
    out[s]![g] = Number(r['prediction']);
    covered[s]!++;
  }
  if (covered.every((c) => c === 0)) {
    throw new ExperimentError('missing_predictions', `column ${name}: predictions of model ${JSON.stringify(source.model)} version ${JSON.stringify(version)} cover none of the ${frame.ts.length} ${timeframe} bars from ${formatUtc(frame.ts[0]!)}; ${produce}`, {
      path,
      model: source.model,
      version,
    });
  }
  notes.push(
    `column ${name}: predictions of model ${source.model} version ${version} (${venue} ${timeframe}); bars covered: ${symbols.map((s, k) => `${s} ${covered[k]}/${frame.ts.length}`).join(', ')}; uncovered bars are NaN`,
  );
  return out;
}

/** The message of a regime fit window without bars (or returns) of `symbol`: the regime section is the cause. */
function noRegimeBars(venue: string, timeframe: string, symbol: string, regime: { readonly fitStart: string; readonly fitEnd: string }): string {
  return `regime section: the regime fit needs ${venue} ${timeframe} bars of ${symbol} in its fit window [${regime.fitStart}, ${regime.fitEnd}) and the store has none there; move $.regime.fitStart/fitEnd to where the venue has ${symbol}, or trade it on another venue`;
}

/**
 * {@link loadBars} for one section of the experiment: a symbol without a bar in the range (or, under the `error`
 * policy, with missing bars: `gaps` is then the store's message) becomes an ExperimentError that names the section,
 * the venue, the series and the range (the store alone would only say "no 4h bars for X").
 */
async function loadSectionBars(
  store: MarketStore,
  request: LoadBarsRequest,
  describe: (symbol: string, range: string, gaps?: string) => { code: ExperimentErrorCode; path: string; message: string },
): Promise<BarFrame> {
  try {
    return await loadBars(store, request);
  } catch (e) {
    const symbol = e instanceof DataError && (e.code === 'not_found' || e.code === 'missing_bars') ? e.context['symbol'] : undefined;
    if (typeof symbol !== 'string') throw e;
    const range = `[${formatUtc(request.start!)}, ${formatUtc(request.end!)})`;
    const { code, path, message } = describe(symbol, range, (e as DataError).code === 'missing_bars' ? (e as DataError).message : undefined);
    throw new ExperimentError(code, message, { path, venue: request.venue, symbol, timeframe: request.timeframe }, { cause: e });
  }
}
