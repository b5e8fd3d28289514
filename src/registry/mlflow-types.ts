import { z } from 'zod';

/**
 * zod schemas of the MLflow REST responses this client reads (MLflow 2.x/3.x, `/api/2.0/mlflow/...`), and the
 * typed values they parse into. Unknown response fields are dropped (servers add fields across versions);
 * missing required fields fail with `RegistryError('bad_response')`.
 * int64 fields arrive as JSON numbers from MLflow's server but as strings from proto3 JSON; both are accepted.
 */

const Int64 = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform(Number);

const KeyValue = z.object({ key: z.string(), value: z.string().default('') });

/** `[{key, value}]` → `{key: value}` (a later duplicate key wins). */
const TagList = z
  .array(KeyValue)
  .default([])
  .transform((tags) => Object.freeze(Object.fromEntries(tags.map((t) => [t.key, t.value]))) as Readonly<Record<string, string>>);

export const ExperimentSchema = z.object({
  experiment_id: z.string(),
  name: z.string(),
  artifact_location: z.string().optional(),
  lifecycle_stage: z.string().optional(),
  tags: TagList,
});
export type Experiment = z.infer<typeof ExperimentSchema>;

export const GetExperimentResponse = z.object({ experiment: ExperimentSchema });
export const CreateExperimentResponse = z.object({ experiment_id: z.string() });
export const SearchExperimentsResponse = z.object({ experiments: z.array(ExperimentSchema).default([]), next_page_token: z.string().optional() });

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RunInfoSchema = z.object({
  run_id: z.string(),
  experiment_id: z.string(),
  run_name: z.string().optional(),
  status: z.enum(RUN_STATUSES),
  start_time: Int64.optional(),
  end_time: Int64.optional(),
  /** e.g. `mlflow-artifacts:/1/<run_id>/artifacts` when the server proxies artifacts. */
  artifact_uri: z.string(),
  lifecycle_stage: z.string().optional(),
});
export type RunInfo = z.infer<typeof RunInfoSchema>;

const MetricSchema = z.object({ key: z.string(), value: z.union([z.number(), z.string()]).transform(Number), timestamp: Int64.optional(), step: Int64.default(0) });
export type Metric = z.infer<typeof MetricSchema>;

export const RunSchema = z.object({
  info: RunInfoSchema,
  data: z
    .object({
      metrics: z.array(MetricSchema).default([]),
      params: TagList,
      tags: TagList,
    })
    .default({ metrics: [], params: {}, tags: {} }),
});
export type Run = z.infer<typeof RunSchema>;

export const RunResponse = z.object({ run: RunSchema });
export const UpdateRunResponse = z.object({ run_info: RunInfoSchema });
export const SearchRunsResponse = z.object({ runs: z.array(RunSchema).default([]), next_page_token: z.string().optional() });

export const FileInfoSchema = z.object({ path: z.string(), is_dir: z.boolean().default(false), file_size: Int64.optional() });
export type FileInfo = z.infer<typeof FileInfoSchema>;
export const ListArtifactsResponse = z.object({
  root_uri: z.string().optional(),
  files: z.array(FileInfoSchema).default([]),
  next_page_token: z.string().optional(),
});

export const MODEL_VERSION_STATUSES = ['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY'] as const;
export type ModelVersionStatus = (typeof MODEL_VERSION_STATUSES)[number];

export const ModelVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  creation_timestamp: Int64.optional(),
  last_updated_timestamp: Int64.optional(),
  description: z.string().optional(),
  source: z.string(),
  run_id: z.string().optional(),
  status: z.enum(MODEL_VERSION_STATUSES).default('READY'),
  status_message: z.string().optional(),
  tags: TagList,
  /** Present on get/alias responses; MLflow's search omits it. */
  aliases: z.array(z.string()).default([]),
});
export type ModelVersion = z.infer<typeof ModelVersionSchema>;

export const ModelVersionResponse = z.object({ model_version: ModelVersionSchema });
export const SearchModelVersionsResponse = z.object({ model_versions: z.array(ModelVersionSchema).default([]), next_page_token: z.string().optional() });

export const RegisteredModelSchema = z.object({
  name: z.string(),
  creation_timestamp: Int64.optional(),
  last_updated_timestamp: Int64.optional(),
  description: z.string().optional(),
  latest_versions: z.array(ModelVersionSchema).default([]),
  tags: TagList,
  aliases: z
    .array(z.object({ alias: z.string(), version: z.string() }))
    .default([])
    .transform((a) => Object.freeze(Object.fromEntries(a.map((x) => [x.alias, x.version]))) as Readonly<Record<string, string>>),
});
/** A registered model; `aliases` maps alias → version. */
export type RegisteredModel = z.infer<typeof RegisteredModelSchema>;

export const RegisteredModelResponse = z.object({ registered_model: RegisteredModelSchema });
export const SearchRegisteredModelsResponse = z.object({ registered_models: z.array(RegisteredModelSchema).default([]), next_page_token: z.string().optional() });

/** Responses whose body carries nothing this client reads (`{}`). */
export const EmptyResponse = z.object({});

/** MLflow's error body. */
export const MlflowErrorBody = z.object({ error_code: z.string(), message: z.string().default('') });

/** One page of a paged search. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Absent on the last page. */
  readonly nextPageToken?: string;
}
