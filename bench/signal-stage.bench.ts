import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { InstrumentFeeModel, TableFundingModel, FixedBpsSlippage } from '../src/backtest/execution-models.js';
import { fitExperimentRegimes } from '../src/backtest/run-experiment.js';
import { runBacktestWithSignals, type BacktestSpec } from '../src/backtest/run-backtest.js';
import { loadConfig } from '../src/config/backtest-config.js';
import { BYBIT_LINEAR_PERPETUALS } from '../src/core/instrument.js';
import { unwrap } from '../src/core/result.js';
import { importPath, loadBars, MarketStore } from '../src/data/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore, type FeatureInputs } from '../src/features/index.js';
import { exportOnnx, loadOnnxModel, type OnnxModel } from '../src/models/index.js';
import { SignalStage } from '../src/signals/index.js';
import { regimeKelly } from '../src/strategies/index.js';
import { loadTrainConfig, loadTrainingData, trainFinalModels } from '../src/training/index.js';
import { median, type Benchmark } from './bench-result.js';

const ROUNDS = 5;

/**
 * Bar events per second of a full backtest of `experiments/gbdt-regime-kelly.json` (regime-kelly on BTC/ETH/SOL 4h,
 * 2022-01-01..2025-09-01, 3 × 8,034 bars) with streaming inference: every bar goes through the signal stage
 * (incremental 31-column features → the symbol's ONNX transfer model of `experiments/train-gbdt-transfer.json`,
 * trained here on all rows, one single-row onnxruntime-node call per bar on its native session, `dispatch: 'direct'`)
 * before the strategy's regime filter, rolling IC, breaker and sizer see it. No prediction cache. Median of 5 timed
 * runs after one warm-up run. `details.deferredDispatch` is the same backtest through onnxruntime-node's public
 * `InferenceSession.run` (setImmediate-deferred, awaited per bar), timed in rounds alternating with the direct ones.
 */
const bench: Benchmark = {
  name: 'signal-stage',
  async run() {
    const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    const store = await MarketStore.open(':memory:');
    await importPath(store, join(root, 'binance-spot'));
    await importPath(store, join(root, 'binance-futures'));
    await importPath(store, join(root, 'deribit'));
    const experiment = unwrap(await loadConfig('experiments/gbdt-regime-kelly.json'));
    const train = unwrap(await loadTrainConfig('experiments/train-gbdt-transfer.json'));
    const final = trainFinalModels(await loadTrainingData(store, train), train);
    const symbols = [...experiment.data.symbols];
    const start = Date.parse(experiment.data.start), end = Date.parse(experiment.data.end);
    const inputs: FeatureInputs[] = [];
    for (const symbol of symbols) inputs.push(await featureInputsFromStore(store, { venue: 'binance-spot', symbol, timeframe: '4h', start, end, fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' }));
    const frame = await loadBars(store, { venue: 'binance-spot', symbols, timeframe: '4h', start, end, missing: 'error' });
    const instruments = symbols.map((s) => BYBIT_LINEAR_PERPETUALS[s]!);
    const regimes = await fitExperimentRegimes(store, experiment, instruments);
    store.close();
    const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
    const expected = { featureNames: pipeline.names, featureSpecHash: pipeline.hash };
    const models: OnnxModel[] = [];
    const deferredModels: OnnxModel[] = [];
    for (const s of symbols) {
      const bytes = exportOnnx(final.perSymbol[s]!, expected);
      models.push(await loadOnnxModel(bytes, expected, { intraOpThreads: 1 }));
      deferredModels.push(await loadOnnxModel(bytes, expected, { intraOpThreads: 1, dispatch: 'deferred' }));
    }
    if (models.some((m) => m.dispatch !== 'direct')) throw new Error('signal-stage bench: onnxruntime-node does not expose its native session (dispatch fell back to deferred)');
    const spec: BacktestSpec = {
      name: 'signal-stage', instruments, frame, initialCash: 10_000, leverage: 2, fees: new InstrumentFeeModel(), slippage: new FixedBpsSlippage(2),
      funding: new TableFundingModel([null, null, null], { kind: 'zero' }), periodsPerYear: 2190, dataSources: [], seed: 1, config: {},
    };
    const events = frame.present.reduce((a, p) => a + p.reduce((x, y) => x + y, 0), 0);
    let fills = 0;
    const once = async (stageModels: readonly OnnxModel[]) => {
      const r = await runBacktestWithSignals(spec, regimeKelly(experiment.params, { regimes }), { stage: new SignalStage(pipeline, stageModels, inputs), column: 'signal' });
      fills = r.fills.length;
    };
    await once(models); // warm-up (JIT)
    await once(deferredModels);
    const rates: number[] = [];
    const deferredRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [stageModels, into] of [[models, rates], [deferredModels, deferredRates]] as const) {
        const t0 = performance.now();
        await once(stageModels);
        into.push(events / ((performance.now() - t0) / 1000));
      }
    }
    // Warm-up bootstrap: the first 1,600 bars of each symbol replayed through the signal stage (features + ONNX),
    // the regime filter, rolling IC and breaker, without trading: the live runner's full-bootstrap tier.
    const W = 1600;
    const cut = (a: Float64Array) => a.subarray(0, W);
    const warmFrame = { ...frame, ts: cut(frame.ts), open: frame.open.map(cut), high: frame.high.map(cut), low: frame.low.map(cut), close: frame.close.map(cut), volume: frame.volume.map(cut), present: frame.present.map((p) => p.subarray(0, W)) };
    const warmups: number[] = [];
    for (let round = 0; round < ROUNDS + 1; round++) {
      const t0 = performance.now();
      await runBacktestWithSignals({ ...spec, frame: warmFrame, warmupBars: W }, regimeKelly(experiment.params, { regimes }), { stage: new SignalStage(pipeline, models, inputs), column: 'signal' });
      if (round > 0) warmups.push(performance.now() - t0);
    }
    for (const m of [...models, ...deferredModels]) await m.close();
    const warmup = {
      name: 'warmup-bootstrap',
      value: Number(median(warmups).toFixed(1)),
      unit: 'ms',
      target: 300,
      better: 'lower' as const,
      details: { statistic: `median of ${ROUNDS} runs after 1 warm-up run`, runs: warmups.map((x) => Number(x.toFixed(1))), bars: W, symbols: symbols.length, includes: 'incremental features + ONNX inference + regime filter + rolling IC + breaker per bar; no orders' },
    };
    return [warmup, {
      name: 'signal-stage',
      value: Math.round(median(rates)),
      unit: 'bar-events/s',
      target: 50_000,
      better: 'higher' as const,
      details: {
        statistic: `median of ${ROUNDS} timed runs after 1 warm-up run`,
        rounds: rates.map((r) => Math.round(r)),
        barEventsPerRun: events,
        fillsPerRun: fills,
        models: `per-symbol transfer GBDTs of experiments/train-gbdt-transfer.json (${final.perSymbol[symbols[0]!]!.treeCount} trees for ${symbols[0]})`,
        inference: "onnxruntime-node, 1 intra-op thread, one single-row call per bar on its native session (dispatch 'direct': no await)",
        deferredDispatch: { value: Math.round(median(deferredRates)), rounds: deferredRates.map((r) => Math.round(r)), inference: "the same through onnxruntime-node's public InferenceSession.run (setImmediate-deferred, awaited per bar)" },
        node: process.version,
        cpu: cpus()[0]?.model ?? 'unknown',
      },
    }];
  },
};
export default bench;
