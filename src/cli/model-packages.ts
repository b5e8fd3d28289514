import type { ExperimentModel } from '../backtest/run-experiment.js';
import type { FeaturePipeline } from '../features/index.js';
import { loadModelPackage } from '../registry/index.js';

/** A model package for `symbol` from `dir`, checked against `pipeline` (see `loadModelPackage`). */
export function loadPackage(dir: string, symbol: string, pipeline: FeaturePipeline) {
  return loadModelPackage(dir, symbol, { featureNames: pipeline.names, featureSpecHash: pipeline.hash });
}

/** {@link loadPackage} in the shape experiments take (`ExperimentDeps.loadModel`). */
export async function loadExperimentModel(ref: string, symbol: string, pipeline: FeaturePipeline): Promise<ExperimentModel> {
  const p = await loadPackage(ref, symbol, pipeline);
  return {
    model: p.model,
    card: { name: p.card.name, dataRange: p.card.dataRange, gatesPassed: p.card.gates.passed, metrics: p.card.metrics },
    version: p.version,
    close: () => p.model.close(),
  };
}
