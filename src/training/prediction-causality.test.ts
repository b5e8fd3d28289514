import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeFuture } from '../../test/support/feature-inputs.js';
import { sharedDataDir } from '../../test/support/shared-data.js';
import { seededRandom, type Random } from '../core/random.js';
import { DAY_MS } from '../core/time.js';
import { importPath, MarketStore } from '../data/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore, forwardLogReturn, type FeatureInputs } from '../features/index.js';
import { exportOnnx, fitGradientBoosting, loadOnnxModel, type OnnxModel, type TreeEnsembleModel } from '../models/index.js';

/**
 * Causality of model predictions on real data: with a FIXED model (no retraining), the prediction at bar t — feature row
 * of bar t from the pipeline, then the model — must not change when anything after t's close is altered or removed.
 * The features path is what could leak; a deliberately leaky feature column (bottom) shows the check can fail.
 */
const SEED = 20_250_902;

/** Copy of `x` with every input not known at bar t's close replaced by random values. */
function alterFuture(x: FeatureInputs, t: number, random: Random): FeatureInputs {
  const cut = x.ts[t]! + x.timeframeMs;
  const scale = (a: Float64Array) => a.map((v, i) => (i > t ? v * (0.5 + random()) : v));
  const rate = x.funding!.rate.map((r, i) => (x.funding!.ts[i]! > cut ? (random() - 0.5) * 0.01 : r));
  const value = x.dvol!.value.map((v, i) => (x.dvol!.ts[i]! + DAY_MS > cut ? 20 + random() * 100 : v));
  const high = scale(x.high);
  const low = scale(x.low);
  return {
    ...x,
    open: scale(x.open),
    high: high.map((h, i) => Math.max(h, low[i]!)),
    low: low.map((l, i) => Math.min(l, high[i]!)),
    close: scale(x.close),
    volume: scale(x.volume),
    referenceClose: scale(x.referenceClose!),
    funding: { ts: x.funding!.ts, rate },
    dvol: { ts: x.dvol!.ts, value },
  };
}

describe('prediction causality (fixed model, real data)', () => {
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  const d = pipeline.names.length;
  let x: FeatureInputs;
  let model: TreeEnsembleModel;
  let onnx: OnnxModel;
  let checkpoints: number[];

  /** Prediction at bar t from a fresh batch feature computation of `inputs`. */
  const predictAt = (inputs: FeatureInputs, t: number) => model.predictAt(pipeline.computeBatch(inputs).matrix, t * d);

  beforeAll(async () => {
    const root = sharedDataDir();
    const store = await MarketStore.open(':memory:');
    await importPath(store, join(root, 'binance-spot', 'BTCUSDT-4h.csv.gz'));
    await importPath(store, join(root, 'binance-spot', 'ETHUSDT-4h.csv.gz'));
    await importPath(store, join(root, 'binance-futures', 'ETHUSDT-funding.csv.gz'));
    await importPath(store, join(root, 'deribit', 'BTC-DVOL-1d.csv.gz'));
    x = await featureInputsFromStore(store, { venue: 'binance-spot', symbol: 'ETHUSDT', timeframe: '4h', start: Date.UTC(2022, 0, 1), fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' });
    store.close();
    // Fixed model: trained once on the first 3000 bars (labels h = 6), never refitted below.
    const { matrix } = pipeline.computeBatch(x);
    const label = forwardLogReturn(x.close, 6);
    const rows = 3000;
    model = fitGradientBoosting({ values: matrix.subarray(0, rows * d), rows, columns: d }, label.subarray(0, rows), { seed: 3, rounds: 60, maxDepth: 4, minLeaf: 30 });
    onnx = await loadOnnxModel(exportOnnx(model, { featureNames: pipeline.names, featureSpecHash: pipeline.hash }), { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
    const random = seededRandom(SEED);
    checkpoints = Array.from({ length: 6 }, () => 3200 + Math.floor(random() * (x.ts.length - 3300))).sort((a, b) => a - b);
  }, 120_000);

  afterAll(async () => {
    await onnx?.close();
  });

  it('the prediction at bar t is unchanged when everything after t is altered at random', () => {
    const random = seededRandom(SEED + 1);
    for (const t of checkpoints) {
      const before = predictAt(x, t);
      expect(Number.isFinite(before)).toBe(true);
      expect(predictAt(alterFuture(x, t, random), t), `bar ${t}`).toBe(before);
    }
  });

  it('the prediction at bar t is unchanged when everything after t is removed', () => {
    for (const t of checkpoints) expect(predictAt(removeFuture(x, t), t), `bar ${t}`).toBe(predictAt(x, t));
  });

  it('the live path (incremental features fed bar by bar + ONNX single-row predict) gives the batch prediction', async () => {
    const inc = pipeline.createIncremental({ timeframeMs: x.timeframeMs });
    const want = new Set(checkpoints);
    let fi = 0;
    let di = 0;
    const f = x.funding!;
    const dv = x.dvol!;
    const batch = pipeline.computeBatch(x).matrix;
    for (let t = 0; t <= checkpoints[checkpoints.length - 1]!; t++) {
      const close = x.ts[t]! + x.timeframeMs;
      for (; fi < f.ts.length && f.ts[fi]! <= close; fi++) inc.pushFunding(f.ts[fi]!, f.rate[fi]!);
      for (; di < dv.ts.length && dv.ts[di]! + DAY_MS <= close; di++) inc.pushDvol(dv.ts[di]!, dv.value[di]!);
      const row = inc.update(x.ts[t]!, x.open[t]!, x.high[t]!, x.low[t]!, x.close[t]!, x.volume[t]!, x.referenceClose![t]!);
      if (!want.has(t)) continue;
      const live = await onnx.predictOne(row);
      expect(live, `bar ${t}`).toBeCloseTo(model.predictAt(batch, t * d), 5);
    }
  });

  it('control: a feature column that reads the next bar makes the same check fail', () => {
    const importance = model.featureImportance();
    const top = importance.indexOf(Math.max(...importance));
    const leaky = (inputs: FeatureInputs, t: number) => {
      const m = pipeline.computeBatch(inputs).matrix.slice();
      // The model's most important column shifted one bar back (bar t reads bar t+1's value): a look-ahead bug.
      for (let i = 0; i + 1 < inputs.ts.length; i++) m[i * d + top] = m[(i + 1) * d + top]!;
      return model.predictAt(m, t * d);
    };
    const random = seededRandom(SEED + 2);
    const changed = checkpoints.filter((t) => leaky(alterFuture(x, t, random), t) !== leaky(x, t));
    expect(changed.length).toBeGreaterThan(0);
  });
});
