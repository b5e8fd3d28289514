import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { DAY_MS } from '../src/core/time.js';
import { unwrap } from '../src/core/result.js';
import { importPath, MarketStore } from '../src/data/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore } from '../src/features/index.js';
import { exportOnnx, loadOnnxModel } from '../src/models/index.js';
import { loadTrainConfig, loadTrainingData, trainFinalModels } from '../src/training/index.js';
import { percentile, type Benchmark } from './bench-result.js';

/**
 * Latency from a closed bar to a model prediction, as the live runner would do it: push the funding settlements / DVOL days
 * known at the bar's close, update the incremental default feature pipeline (31 columns) and run the ONNX model's
 * preallocated single-row predict (onnxruntime, 1 thread). The model is the real ETHUSDT transfer model of the default
 * training config (pooled GBDT 150 rounds + 60 fine-tune rounds, depth 4, trained on all 2022-01-01..2025-09-01 rows).
 * Bars: every ETHUSDT 4h binance-spot bar from 2019 (14,610); the first pass warms the JIT and is not timed; the second
 * pass times every bar after the pipeline's warm-up → p50 and p99 in µs.
 */
const bench: Benchmark = {
  name: 'signal-latency',
  async run() {
    const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    const store = await MarketStore.open(':memory:');
    await importPath(store, join(root, 'binance-spot'));
    for (const s of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) await importPath(store, join(root, 'binance-futures', `${s}-funding.csv.gz`));
    await importPath(store, join(root, 'deribit'));
    const config = unwrap(await loadTrainConfig('experiments/train-gbdt-transfer.json'));
    const final = trainFinalModels(await loadTrainingData(store, config), config);
    const x = await featureInputsFromStore(store, { venue: 'binance-spot', symbol: 'ETHUSDT', timeframe: '4h', fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' });
    store.close();
    const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
    const expected = { featureNames: pipeline.names, featureSpecHash: pipeline.hash };
    const model = await loadOnnxModel(exportOnnx(final.perSymbol['ETHUSDT']!, expected), expected, { intraOpThreads: 1 });
    const inc = pipeline.createIncremental({ timeframeMs: x.timeframeMs });
    const n = x.ts.length;
    const f = x.funding!;
    const d = x.dvol!;
    const latencies: number[] = [];
    let checksum = 0;
    for (let pass = 0; pass < 2; pass++) {
      inc.reset();
      let fi = 0;
      let di = 0;
      for (let t = 0; t < n; t++) {
        const start = performance.now();
        const close = x.ts[t]! + x.timeframeMs;
        for (; fi < f.ts.length && f.ts[fi]! <= close; fi++) inc.pushFunding(f.ts[fi]!, f.rate[fi]!);
        for (; di < d.ts.length && d.ts[di]! + DAY_MS <= close; di++) inc.pushDvol(d.ts[di]!, d.value[di]!);
        const row = inc.update(x.ts[t]!, x.open[t]!, x.high[t]!, x.low[t]!, x.close[t]!, x.volume[t]!, x.referenceClose![t]!);
        const prediction = await model.predictOne(row);
        const micros = (performance.now() - start) * 1000;
        if (pass === 1 && t >= pipeline.warmupBars) latencies.push(micros);
        checksum += prediction;
      }
    }
    await model.close();
    const details = {
      bars: latencies.length,
      symbol: 'ETHUSDT',
      features: pipeline.names.length,
      selectedFeatures: final.selection.names,
      trees: final.perSymbol['ETHUSDT']!.treeCount,
      p90: Number(percentile(latencies, 90).toFixed(1)),
      p999: Number(percentile(latencies, 99.9).toFixed(1)),
      max: Number(Math.max(...latencies).toFixed(1)),
      intraOpThreads: 1,
      checksum,
      cpus: cpus().length,
      node: process.version,
    };
    return [
      { name: 'signal-latency-p50', value: Number(percentile(latencies, 50).toFixed(1)), unit: 'µs', target: 100, better: 'lower' as const, details },
      { name: 'signal-latency-p99', value: Number(percentile(latencies, 99).toFixed(1)), unit: 'µs', target: 100, better: 'lower' as const, details },
    ];
  },
};
export default bench;
