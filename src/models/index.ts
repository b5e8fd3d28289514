/**
 * Models: regression tree ensembles trained in TypeScript, their ONNX export, and validated onnxruntime
 * inference (also for scikit-learn / XGBoost models exported from Python).
 *
 * Training ({@link fitGradientBoosting}, {@link fitRandomForest}, {@link fitMore}) takes a row-major
 * {@link FeatureMatrix} (Float64Array, NaN = missing) and a Float32/Float64 target, bins features into
 * float32 quantile cut points, and grows histogram trees. Every random draw comes from the required `seed`:
 * the same seed, data and params give a byte-identical `JSON.stringify(model)` and `exportOnnx` output.
 *
 * Inference: {@link TreeEnsembleModel.predictInto} walks the trees in TypeScript without allocating;
 * {@link exportOnnx} writes an ONNX `ai.onnx.ml.TreeEnsembleRegressor` that onnxruntime evaluates to the
 * same values (float32 thresholds and leaves; agreement to float32 summation error, tested ≤ 1e-5);
 * {@link loadOnnxModel} opens any single-input, single-output ONNX regressor and refuses it unless its
 * `metadata_props` feature names (in order) and feature spec hash match the pipeline's.
 *
 * @example
 * const model = fitGradientBoosting({ values, rows, columns }, target, { seed: 42, rounds: 300, maxDepth: 5 });
 * const tuned = fitMore(model, symbolMatrix, symbolTarget, 100, { learningRate: 0.02 });
 * const bytes = exportOnnx(tuned, { featureNames, featureSpecHash, trainedAt: clock.now().toISOString() });
 * const onnx = await loadOnnxModel(bytes, { featureNames, featureSpecHash });
 * const signal = await onnx.predictOne(latestRow);
 */

/** Errors of this folder: `ModelError` with a `ModelErrorCode`. */
export { ModelError, type ModelErrorCode } from './model-error.js';
/** Seeded PRNG used for every random draw in training. */
export { SeededRandom, deriveSeed } from './seeded-random.js';
export type { FeatureMatrix, RegressionTarget } from './feature-matrix.js';
/** The trained ensemble: prediction, importance, JSON form. */
export { TreeEnsembleModel, type TreeAggregate, type TreeEnsembleJson, type TreeEnsembleKind, type TreeJson } from './tree-ensemble.js';
export type { RegressionTree } from './tree-builder.js';
export { fitRandomForest } from './random-forest.js';
export { fitGradientBoosting, fitMore } from './gradient-boosting.js';
/** Ridge regression (the linear baseline of the model table). */
export { fitRidge, predictRidge, type RidgeModel } from './ridge-regression.js';
/** Parameter schemas (defaults declared once, there). */
export { GradientBoostingParamsSchema, RandomForestParamsSchema, type GradientBoostingParams, type RandomForestParams } from './model-params.js';
/** ONNX export of a tree ensemble and its fixed signature / opsets. */
export { exportOnnx, ONNX_INPUT_NAME, ONNX_IR_VERSION, ONNX_ML_OPSET, ONNX_OPSET, ONNX_OUTPUT_NAME, type OnnxExportOptions } from './onnx-export.js';
/** Validated onnxruntime-node inference. */
export { loadOnnxModel, OnnxModel, readOnnxMetadata, type OnnxDispatch, type OnnxLoadOptions, type OnnxModelExpectation } from './onnx-model.js';
/** The official ONNX protobuf schema, parsed with protobufjs. */
export { onnxSchema } from './onnx-schema.js';
export { syntheticProblem, type SyntheticProblem } from './synthetic-problem.js';
