import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { unwrap } from '../src/core/result.js';
import { importPath, MarketStore } from '../src/data/index.js';
import { loadTrainConfig, loadTrainingData, runWalkForward, trainFinalModels } from '../src/training/index.js';
import type { Benchmark } from './bench-result.js';

const CONFIG = 'experiments/train-gbdt-transfer.json';

/**
 * Wall time of the full default training of `tm train --config experiments/train-gbdt-transfer.json` over BTC/ETH/SOL
 * (binance-spot 4h 2022-01-01..2025-09-01): feature/label load from the store, the 5-fold purged walk-forward (Boruta per
 * fold, pooled / per-symbol / transfer GBDT and RF, 80 engine backtests + 16 overall) and the final model fit. One run
 * (it is deterministic; the store import is not timed).
 */
const bench: Benchmark = {
  name: 'train-walkforward',
  async run() {
    const root = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    const store = await MarketStore.open(':memory:');
    await importPath(store, join(root, 'binance-spot'));
    for (const s of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) await importPath(store, join(root, 'binance-futures', `${s}-funding.csv.gz`));
    await importPath(store, join(root, 'deribit'));
    const config = unwrap(await loadTrainConfig(CONFIG));
    const phases: Record<string, number> = {};
    const t0 = performance.now();
    const data = await loadTrainingData(store, config);
    const t1 = performance.now();
    const wf = runWalkForward(data, config);
    const t2 = performance.now();
    const final = trainFinalModels(data, config);
    const t3 = performance.now();
    store.close();
    phases['loadSeconds'] = Number(((t1 - t0) / 1000).toFixed(2));
    phases['walkForwardSeconds'] = Number(((t2 - t1) / 1000).toFixed(2));
    phases['finalModelSeconds'] = Number(((t3 - t2) / 1000).toFixed(2));
    return {
      name: 'train-walkforward',
      value: Number(((t3 - t0) / 1000).toFixed(2)),
      unit: 's',
      target: 60,
      better: 'lower',
      details: {
        config: CONFIG,
        rows: data.ts.length,
        symbols: data.symbols.map((s) => s.symbol),
        folds: wf.folds.length,
        borutaIterations: config.boruta.iterations,
        selectedFeatures: final.selection.names,
        ...phases,
        cpus: cpus().length,
        node: process.version,
      },
    };
  },
};
export default bench;
