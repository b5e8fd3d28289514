import { AppError } from '../core/app-error.js';

/**
 * Codes of {@link ModelError}:
 * - `invalid_params`: a training parameter is out of range (names the parameter and its value).
 * - `invalid_data`: the feature matrix or target is malformed (wrong length, non-finite target).
 * - `shape_mismatch`: a prediction input does not have the model's feature count or enough rows.
 * - `invalid_model`: a serialised model (JSON or ONNX) cannot be read or breaks an invariant.
 * - `feature_order_mismatch`: an ONNX model's ordered feature names differ from the pipeline's.
 * - `feature_spec_hash_mismatch`: an ONNX model was trained on another feature spec.
 * - `missing_metadata`: an ONNX model lacks a required `metadata_props` entry.
 * - `onnx_runtime`: onnxruntime refused to load or run a model.
 */
export type ModelErrorCode =
  | 'invalid_params'
  | 'invalid_data'
  | 'shape_mismatch'
  | 'invalid_model'
  | 'feature_order_mismatch'
  | 'feature_spec_hash_mismatch'
  | 'missing_metadata'
  | 'onnx_runtime';

/** Expected failure of training, serialisation or inference in `models/`. */
export class ModelError extends AppError<ModelErrorCode> {}
