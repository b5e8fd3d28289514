/** Pieces of model-driven live tests: a store with the model's inputs, and a tiny GBDT package trained on 2022 BTC bars. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importPath, MarketStore } from '../../src/data/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore } from '../../src/features/index.js';
import { exportOnnx, fitGradientBoosting } from '../../src/models/index.js';
import { formatModelCard, ModelCard, sha256Hex } from '../../src/registry/index.js';
import { sharedDataDir } from './shared-data.js';

/** Imports Bybit 4h bars of `symbols`, their Binance USDT-M funding and Deribit DVOL into the store file `db`. */
export async function modelInputsStore(db: string, symbols: readonly string[], timeframes: readonly string[] = ['4h']): Promise<void> {
  const root = sharedDataDir();
  await withStore(db, async (store) => {
    for (const s of symbols) {
      for (const tf of timeframes) await importPath(store, join(root, 'bybit', `${s}-${tf}.csv.gz`), { venue: 'bybit' });
      await importPath(store, join(root, 'binance-futures', `${s}-funding.csv.gz`), { venue: 'binance-futures' });
    }
    await importPath(store, join(root, 'deribit'));
  });
}

async function withStore<T>(db: string, fn: (store: MarketStore) => Promise<T>): Promise<T> {
  const store = await MarketStore.open(db);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/**
 * A small GBDT of the default feature pipeline trained on BTCUSDT's 2022 Bybit 4h rows of `db` (target: the next
 * bar's log return; `seed` varies the model), and its card (gates passed, trained on [2022-01-01, 2023-01-01)).
 */
export async function tinyModel(db: string, name = 'tiny-gbdt', seed = 11): Promise<{ onnx: Uint8Array; card: ModelCard }> {
  const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
  const train = await withStore(db, (store) => featureInputsFromStore(store, { venue: 'bybit', symbol: 'BTCUSDT', timeframe: '4h', start: Date.UTC(2022, 0, 1), end: Date.UTC(2023, 0, 1), fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' }));
  const m = pipeline.computeBatch(train);
  const rows = m.rows - 1;
  const target = Float64Array.from({ length: rows }, (_, t) => Math.log(train.close[t + 1]! / train.close[t]!));
  const onnx = exportOnnx(fitGradientBoosting({ values: m.matrix.subarray(0, rows * m.columns), rows, columns: m.columns }, target, { seed, rounds: 30, maxDepth: 3, subsample: 0.7 }), { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
  const card = ModelCard.parse({
    schemaVersion: 1, name, featureNames: [...pipeline.names], featureSpecHash: pipeline.hash, onnxSha256: sha256Hex(onnx),
    dataRange: { from: '2022-01-01T00:00:00Z', to: '2023-01-01T00:00:00Z' }, metrics: {}, gates: { passed: true, checks: {} }, seed, gitCommit: '0000000',
  });
  return { onnx, card };
}

/** Writes {@link tinyModel} as a model package (model.onnx + card.json) to `folder`. */
export async function writeTinyModelPackage(folder: string, db: string, name = 'tiny-gbdt'): Promise<void> {
  const { onnx, card } = await tinyModel(db, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'model.onnx'), onnx);
  writeFileSync(join(folder, 'card.json'), formatModelCard(card));
}

/**
 * The raw config of a regime-kelly experiment on a GBDT's `model` column (features from bars, Binance funding, DVOL,
 * BTC as reference; allowUngated), 4h bars of `symbols` on Bybit in [start, end), the regime fitted on the year before.
 */
export function regimeKellyModelExperiment(name: string, symbols: readonly string[], start: string, end: string, model = 'test-gbdt'): Record<string, unknown> {
  const year = (iso: string, delta: number) => `${Number(iso.slice(0, 4)) + delta}${iso.slice(4)}`;
  return {
    name,
    strategy: 'regime-kelly',
    params: { column: 'signal', signalScale: 1, minRebalance: 0.1, risk: { horizonBars: 1, ic: { window: 30, minPairs: 10 }, kelly: { maxFraction: 1, maxLeverage: 1 } } },
    data: { venue: 'bybit', symbols: [...symbols], timeframe: '4h', start, end, missingBars: 'error' },
    instruments: 'bybit-linear',
    funding: { venue: 'bybit', fallback: { kind: 'zero' } },
    columns: { signal: { source: 'model', model, fundingVenue: 'binance-futures', reference: 'BTCUSDT', dvol: true, allowUngated: true } },
    regime: { fitStart: year(start, -1), fitEnd: start, states: 2, seed: 1, onDegenerate: 'report' },
    warmup: 'auto',
    initialCash: 100_000,
    leverage: 3,
    slippage: { model: 'fixed', bps: 2 },
    seed: 1,
  };
}
