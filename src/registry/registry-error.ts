import { AppError } from '../core/app-error.js';

/**
 * Codes of MLflow REST failures.
 *
 * - `not_found`: MLflow `RESOURCE_DOES_NOT_EXIST` / `NOT_FOUND` / `ENDPOINT_NOT_FOUND` (or HTTP 404 without a body).
 * - `already_exists`: `RESOURCE_ALREADY_EXISTS`.
 * - `invalid`: `INVALID_PARAMETER_VALUE`, `BAD_REQUEST`, `MALFORMED_REQUEST`, `INVALID_STATE`, `PERMISSION_DENIED`,
 *   `UNAUTHENTICATED`, `RESOURCE_LIMIT_EXCEEDED`, other 4xx; also a request this client refuses to send.
 * - `unavailable`: no HTTP response (connection refused or reset, DNS, timeout), `TEMPORARILY_UNAVAILABLE`, HTTP 502/503/504.
 * - `server`: `INTERNAL_ERROR` and any other 5xx.
 * - `bad_response`: a 2xx response whose body does not fit the expected schema (zod issues in `context.issues`).
 */
export type RegistryErrorCode = 'not_found' | 'already_exists' | 'invalid' | 'unavailable' | 'server' | 'bad_response';

/**
 * A failed MLflow call. `context` holds `method`, `path` (without query string), `status` (HTTP, when there was a
 * response), `errorCode` (MLflow's `error_code`, when it sent one) and `mlflowMessage`. It never holds headers,
 * tokens or request bodies. `cause` is a plain summary of the transport error, never the raw axios error (whose
 * config would carry the Authorization header).
 */
export class RegistryError extends AppError<RegistryErrorCode> {}

/** Codes of model-package failures (publishing, loading, validating a card). */
export type ModelPackageErrorCode =
  /** The card does not fit the schema, or disagrees with the package it came with (name, registry tag). */
  | 'invalid_card'
  /** sha256 of model.onnx differs from the card's `onnxSha256`. */
  | 'checksum_mismatch'
  /** The card's feature names/order or feature-spec hash differ from the running pipeline's. */
  | 'feature_mismatch'
  /** A file of the package (model.onnx, card.json) is absent at a location. */
  | 'missing_file'
  /** Publishing failed mid-way; `context.cleanup` says what was rolled back. */
  | 'publish_failed'
  /** No configured tier served a model; `context.attempts` lists every tier's reason. */
  | 'no_model_available'
  /** A pinned `name/version` the registry does not have; `context.versions` lists the ones it has. */
  | 'version_not_found'
  /** A tier could not be reached (network, S3 error, MLflow unavailable). */
  | 'unavailable';

/** A model package that cannot be published, loaded or trusted. */
export class ModelPackageError extends AppError<ModelPackageErrorCode> {}

/** Codes of refused promotions. */
export type PromotionErrorCode = 'gate_failed' | 'gate_unknown' | 'reason_required' | 'version_not_ready' | 'version_failed';

/** A promotion (`tm promote`) that was refused; nothing was written. */
export class PromotionError extends AppError<PromotionErrorCode> {}
