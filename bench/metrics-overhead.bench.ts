import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { DAY_MS } from '../src/core/time.js';
import { importPath, MarketStore } from '../src/data/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore } from '../src/features/index.js';
import { exportOnnx, fitGradientBoosting, loadOnnxModel } from '../src/models/index.js';
import { createTradingMetrics, type BarRecorder } from '../src/monitoring/index.js';
import { syntheticProblem } from '../src/models/synthetic-problem.js';
import { median, type Benchmark } from './bench-result.js';

const ROUNDS = 9;
const INSTRUMENT = 'ETHUSDT-LINEAR.BYBIT';
const STRATEGY = 'signal';
const MODEL = 'bench-gbdt';

/**
 * Cost of the metrics facade on the signal stage, as the live runner runs it per closed bar: push funding / DVOL known
 * at the close, update the incremental default feature pipeline (31 columns), single-row ONNX predict (GBDT 150 rounds
 * depth 4 fitted on a synthetic matrix with the pipeline's column names; onnxruntime, 1 thread). "Metrics on" adds
 * what a runner records per bar: timestamps around features and inference (3 × performance.now), then the families of
 * barClosed, inference, signal, barProcessed, decisionLatency and heartbeat (4 histograms, 7 gauges, 3 counters)
 * through the bound per-bar recorder (`metrics.barRecorder(instrument, strategy, model)`: series resolved once, one
 * call per bar; trading-metrics.test.ts checks it exposes exactly what the 6 facade calls do). Bars: every ETHUSDT 4h binance-spot
 * bar of the shared data. One warm-up pass per mode, then 9 rounds of an off pass followed by an on pass; figure = median
 * over rounds of 1 − (bars/s on) / (bars/s off), in percent (pairs adjacent in time cancel most of the load drift of
 * a shared machine). Target ≤ 5 %.
 */
const bench: Benchmark = {
  name: 'metrics-overhead',
  async run() {
    const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    const store = await MarketStore.open(':memory:');
    await importPath(store, join(root, 'binance-spot'));
    for (const s of ['BTCUSDT', 'ETHUSDT']) await importPath(store, join(root, 'binance-futures', `${s}-funding.csv.gz`));
    await importPath(store, join(root, 'deribit'));
    const x = await featureInputsFromStore(store, { venue: 'binance-spot', symbol: 'ETHUSDT', timeframe: '4h', fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' });
    store.close();
    const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
    const expected = { featureNames: pipeline.names, featureSpecHash: pipeline.hash };
    const train = syntheticProblem(5_000, pipeline.names.length, 1);
    const fitted = fitGradientBoosting(train.matrix, train.target, { seed: 1, rounds: 150, maxDepth: 4, learningRate: 0.05, minLeaf: 20, subsample: 0.8, maxBins: 64 });
    const model = await loadOnnxModel(exportOnnx(fitted, expected), expected, { intraOpThreads: 1 });
    const inc = pipeline.createIncremental({ timeframeMs: x.timeframeMs });
    const n = x.ts.length;
    const f = x.funding!;
    const d = x.dvol!;
    const intervalSeconds = x.timeframeMs / 1000;
    let checksum = 0;

    /** One pass over every bar; returns bars per second. */
    async function pass(metrics: BarRecorder | undefined): Promise<number> {
      inc.reset();
      let fi = 0;
      let di = 0;
      const start = performance.now();
      for (let t = 0; t < n; t++) {
        const t0 = metrics ? performance.now() : 0;
        const close = x.ts[t]! + x.timeframeMs;
        for (; fi < f.ts.length && f.ts[fi]! <= close; fi++) inc.pushFunding(f.ts[fi]!, f.rate[fi]!);
        for (; di < d.ts.length && d.ts[di]! + DAY_MS <= close; di++) inc.pushDvol(d.ts[di]!, d.value[di]!);
        const row = inc.update(x.ts[t]!, x.open[t]!, x.high[t]!, x.low[t]!, x.close[t]!, x.volume[t]!, x.referenceClose![t]!);
        const t1 = metrics ? performance.now() : 0;
        const prediction = await model.predictOne(row);
        checksum += prediction;
        if (metrics) {
          const t2 = performance.now();
          metrics.record(close, x.close[t]!, x.volume[t]!, intervalSeconds, (t1 - t0) / 1000, (t2 - t1) / 1000, (t2 - t0) / 1000, (t2 - t0) / 1000, Math.sign(prediction), Math.min(1, Math.abs(prediction) * 100), close);
        }
      }
      return n / ((performance.now() - start) / 1000);
    }

    const registry = createTradingMetrics({ processMetrics: false });
    const metrics = registry.barRecorder(INSTRUMENT, STRATEGY, MODEL);
    await pass(undefined);
    await pass(metrics);
    const off: number[] = [];
    const on: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      off.push(await pass(undefined));
      on.push(await pass(metrics));
    }
    await model.close();
    const offMedian = median(off);
    const onMedian = median(on);
    const overhead = median(off.map((o, i) => 1 - on[i]! / o));
    const exposition = await registry.exposition();
    return {
      name: 'metrics-overhead',
      value: Number((overhead * 100).toFixed(2)),
      unit: '%',
      target: 5,
      better: 'lower' as const,
      details: {
        bars: n,
        barsPerSecondOff: Math.round(offMedian),
        barsPerSecondOn: Math.round(onMedian),
        samplesOff: off.map(Math.round),
        samplesOn: on.map(Math.round),
        recorderCallsPerBar: 1,
        expositionBytes: exposition.length,
        checksum,
        cpus: cpus().length,
        node: process.version,
      },
    };
  },
};
export default bench;
