import { sha256Hex, type ModelCard } from '../../src/registry/index.js';

/** A minimal valid card for `onnx` (gates passed, no metrics), for loader tests that need a package on disk. */
export function minimalCard(name: string, onnx: Uint8Array, featureNames: readonly string[], featureSpecHash: string): ModelCard {
  return {
    schemaVersion: 1,
    name,
    featureNames: [...featureNames],
    featureSpecHash,
    onnxSha256: sha256Hex(onnx),
    dataRange: { from: '2022-01-01', to: '2023-01-01' },
    metrics: {},
    gates: { passed: true, checks: {} },
    seed: 1,
    gitCommit: 'abcdef1',
  };
}
