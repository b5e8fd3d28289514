/**
 * The signal stage on real data (binance-spot 4h BTC/ETH/SOL 2022-01-01..2025-09-01, Binance USDT-M funding, Deribit
 * DVOL, BTC as the cross-asset reference), with a GBDT trained here on BTC's 2022 rows and served through
 * onnxruntime:
 * - cache == streaming: the precomputed prediction column (batch features → one batched ORT call) equals, bar for
 *   bar and with Object.is, the stage fed one closed bar at a time (incremental features → single-row ORT call);
 * - causality: cutting the inputs after bar T (bars, funding, DVOL, reference closes) changes no signal up to T;
 * - a backtest that streams the signals (runBacktestWithSignals) is identical to one reading the cached column.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FixedBpsSlippage, TableFundingModel } from '../../src/backtest/execution-models.js';
import { runBacktest, runBacktestWithSignals, type BacktestSpec } from '../../src/backtest/run-backtest.js';
import { BYBIT_LINEAR_PERPETUALS } from '../../src/core/instrument.js';
import { importPath, loadBars, MarketStore, type BarFrame } from '../../src/data/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore, type FeatureInputs } from '../../src/features/index.js';
import { exportOnnx, fitGradientBoosting, loadOnnxModel, type OnnxModel } from '../../src/models/index.js';
import { predictColumn, SignalStage } from '../../src/signals/index.js';
import { signalColumn } from '../../src/strategies/index.js';
import { removeFuture } from '../support/feature-inputs.js';
import { sharedDataDir } from '../support/shared-data.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const START = Date.UTC(2022, 0, 1);
const END = Date.UTC(2025, 8, 1);

describe('signal stage on BTC/ETH/SOL 4h', () => {
  let inputs: FeatureInputs[];
  let frame: BarFrame;
  let model: OnnxModel;
  let exportOnnxBytes: Uint8Array;
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  const cached: Float64Array[] = [];

  beforeAll(async () => {
    const store = await MarketStore.open(':memory:');
    const root = sharedDataDir();
    await importPath(store, `${root}/binance-spot`);
    for (const s of SYMBOLS) await importPath(store, `${root}/binance-futures/${s}-funding.csv.gz`, { venue: 'binance-futures' });
    await importPath(store, `${root}/deribit`);
    inputs = [];
    for (const symbol of SYMBOLS) {
      inputs.push(await featureInputsFromStore(store, { venue: 'binance-spot', symbol, timeframe: '4h', start: START, end: END, fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' }));
    }
    frame = await loadBars(store, { venue: 'binance-spot', symbols: SYMBOLS, timeframe: '4h', start: START, end: END, missing: 'error' });
    store.close();
    // A small GBDT on BTC's 2022 rows: target = next bar's log return (the model only needs to be a real model).
    const m = pipeline.computeBatch(inputs[0]!);
    const rows = inputs[0]!.ts.findIndex((t) => t >= Date.UTC(2023, 0, 1));
    const target = new Float64Array(rows);
    for (let t = 0; t < rows; t++) target[t] = Math.log(inputs[0]!.close[t + 1]! / inputs[0]!.close[t]!);
    const trees = fitGradientBoosting({ values: m.matrix.subarray(0, rows * m.columns), rows, columns: m.columns }, target, { seed: 7, rounds: 40, maxDepth: 4 });
    exportOnnxBytes = exportOnnx(trees, { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
    model = await loadOnnxModel(exportOnnxBytes, { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
    for (const x of inputs) cached.push(await predictColumn(pipeline, model, x));
  }, 240_000);

  it('streaming equals the cached column exactly (Object.is), every bar of every symbol', async () => {
    const stage = new SignalStage(pipeline, model, inputs);
    let compared = 0, mismatches = 0, finite = 0;
    for (let i = 0; i < inputs.length; i++) {
      for (let t = 0; t < inputs[i]!.ts.length; t++) {
        const v = await stage.onBar(i, t);
        compared++;
        if (!Object.is(v, cached[i]![t])) mismatches++;
        if (Number.isFinite(v)) finite++;
      }
    }
    expect(compared).toBe(3 * frame.ts.length);
    expect(finite).toBe(compared); // GBDT routes NaN features: every bar has a prediction
    expect(mismatches).toBe(0);
    expect(new Set(cached[1]!).size).toBeGreaterThan(100); // a real signal, not a constant
  });

  it('is causal: cutting every input after bar T changes no signal up to T', async () => {
    for (const cutAt of [3000, 6000]) {
      const cut = inputs.map((x) => removeFuture(x, cutAt));
      const stage = new SignalStage(pipeline, model, cut);
      for (let i = 0; i < cut.length; i++) {
        for (let t = 0; t < cut[i]!.ts.length; t++) expect(Object.is(await stage.onBar(i, t), cached[i]![t]), `${SYMBOLS[i]} bar ${t}`).toBe(true);
      }
      expect(cut[0]!.ts.length).toBeLessThan(inputs[0]!.ts.length);
    }
  });

  it('a backtest streaming the signal equals the one reading the cached column', async () => {
    expect(Array.from(frame.ts)).toEqual(Array.from(inputs[0]!.ts));
    const spec: BacktestSpec = {
      name: 'signal-stage', instruments: SYMBOLS.map((s) => BYBIT_LINEAR_PERPETUALS[s]!), frame, initialCash: 10_000, leverage: 2, slippage: new FixedBpsSlippage(2),
      funding: new TableFundingModel([null, null, null], { kind: 'zero' }), periodsPerYear: 2190, dataSources: [], seed: 1, config: {},
    };
    const strategy = () => signalColumn({ column: 'signal', threshold: 0.0005, allocation: 0.3 });
    const fromCache = runBacktest({ ...spec, columns: { signal: cached } }, strategy());
    const streamed = await runBacktestWithSignals(spec, strategy(), { stage: new SignalStage(pipeline, model, inputs), column: 'signal' });
    expect(fromCache.fills.length).toBeGreaterThan(50);
    expect(streamed.fills).toEqual(fromCache.fills);
    expect(Array.from(streamed.equity.value)).toEqual(Array.from(fromCache.equity.value));
    // one model object per instrument (as per-symbol transfer models): same result
    const expected = { featureNames: pipeline.names, featureSpecHash: pipeline.hash };
    const bytes = exportOnnxBytes;
    const own = await Promise.all(SYMBOLS.map(() => loadOnnxModel(bytes, expected)));
    const concurrent = await runBacktestWithSignals(spec, strategy(), { stage: new SignalStage(pipeline, own, inputs), column: 'signal' });
    for (const m of own) await m.close();
    expect(concurrent.fills).toEqual(fromCache.fills);
    // through onnxruntime's public, deferred run (awaited per bar): the same backtest
    const deferred = await loadOnnxModel(bytes, expected, { dispatch: 'deferred' });
    const awaited = await runBacktestWithSignals(spec, strategy(), { stage: new SignalStage(pipeline, deferred, inputs), column: 'signal' });
    await deferred.close();
    expect(awaited.fills).toEqual(fromCache.fills);
    expect(Array.from(awaited.equity.value)).toEqual(Array.from(fromCache.equity.value));
  });
});
