/**
 * registry/: MLflow REST client, model packages (ONNX + card) published to MLflow and S3, the 4-tier model loader,
 * and promotion by alias. Clients (MLflow, S3) are created by the caller and passed in.
 */
export { MlflowClient, proxiedArtifactPath } from './mlflow-client.js';
export type { CreateModelVersionRequest, CreateRunRequest, LogBatchRequest, MetricPoint, MlflowClientDeps, SearchModelVersionsRequest, SearchRunsRequest } from './mlflow-client.js';
export type { Experiment, FileInfo, ModelVersion, ModelVersionStatus, Page, RegisteredModel, Run, RunInfo, RunStatus } from './mlflow-types.js';
export { ModelPackageError, PromotionError, RegistryError } from './registry-error.js';
export type { ModelPackageErrorCode, PromotionErrorCode, RegistryErrorCode } from './registry-error.js';
export {
  MlflowClientConfig,
  MODEL_TIERS,
  mlflowClientConfigFromEnv,
  ModelSourceConfig,
  modelSourceConfigFromEnv,
  parseMlflowClientConfig,
  parseModelSourceConfig,
  parseS3Config,
  REGISTRY_DEFAULTS,
  REGISTRY_ENV,
  RegistryConfigError,
  S3Config,
  s3ConfigFromEnv,
  s3CredentialsFromEnv,
} from './registry-config.js';
export type { ModelTier, S3Credentials } from './registry-config.js';
export { featureValidator, formatModelCard, GateCheck, ModelCard, PACKAGE_FILES, parseModelCard, sha256Hex, verifyChecksum } from './model-card.js';
export type { CardValidator, ExpectedFeatures } from './model-card.js';
export { createS3Client, createS3ObjectStore, objectStoreBudget, ObjectStoreError, S3ObjectStore } from './object-store.js';
export type { ObjectStore, ObjectStoreBudget, ObjectStoreErrorCode } from './object-store.js';
export { LINEAGE_TAGS, lineageTags, publishModel } from './model-artifact.js';
export type { PublishCleanup, PublishedModel, PublishOptions, PublishRequest } from './model-artifact.js';
export { loadModel, verifyPackage } from './model-loader.js';
export type { LoadedModel, ModelLoaderDeps, RawPackage, TierAttempt } from './model-loader.js';
export { gateVerdict, promoteVersion, PROMOTION_TAGS } from './promotion.js';
export type { GateVerdict, PromoteRequest, PromotionResult } from './promotion.js';
export { memoryLogger, silentLogger } from './registry-logger.js';
export type { LogRecord, RegistryLogger } from './registry-logger.js';
export { loadModelPackage, type LoadedPackage } from './model-package-files.js';
