import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { z } from 'zod';
import { DeadlineError, withDeadline } from '../core/deadline.js';
import { redactText, remoteBodyExcerpt } from '../core/redact.js';
import type { MlflowClientConfig } from './registry-config.js';
import { RegistryError, type RegistryErrorCode } from './registry-error.js';
import {
  CreateExperimentResponse,
  SearchExperimentsResponse,
  EmptyResponse,
  GetExperimentResponse,
  ListArtifactsResponse,
  MlflowErrorBody,
  ModelVersionResponse,
  RegisteredModelResponse,
  RunResponse,
  SearchModelVersionsResponse,
  SearchRegisteredModelsResponse,
  SearchRunsResponse,
  UpdateRunResponse,
  type Experiment,
  type FileInfo,
  type ModelVersion,
  type Page,
  type RegisteredModel,
  type Run,
  type RunInfo,
  type RunStatus,
} from './mlflow-types.js';

/** What the client needs from its caller besides the config: the time source (epoch ms) and a sleep for back-off. */
export interface MlflowClientDeps {
  readonly now: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A metric point; `step` defaults to 0 and `timestamp` to `deps.now()`. */
export interface MetricPoint {
  readonly key: string;
  readonly value: number;
  readonly step?: number;
  readonly timestamp?: number;
}

export interface LogBatchRequest {
  readonly runId: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly metrics?: readonly MetricPoint[];
  readonly tags?: Readonly<Record<string, string>>;
}

export interface CreateRunRequest {
  readonly experimentId: string;
  readonly runName?: string;
  /** epoch ms; default `deps.now()`. */
  readonly startTime?: number;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface SearchRunsRequest {
  readonly experimentIds: readonly string[];
  /** MLflow search filter, e.g. `tags.model = 'btc'`. */
  readonly filter?: string;
  readonly orderBy?: readonly string[];
  readonly maxResults?: number;
  readonly pageToken?: string;
}

export interface CreateModelVersionRequest {
  readonly name: string;
  /** Where the package lives, e.g. `mlflow-artifacts:/1/<run_id>/artifacts/model` (must lie inside the run's artifact root). */
  readonly source: string;
  readonly runId: string;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface SearchModelVersionsRequest {
  /** MLflow filter, e.g. `name = 'btc'` or `run_id = '...'`. */
  readonly filter?: string;
  readonly orderBy?: readonly string[];
  readonly maxResults?: number;
  readonly pageToken?: string;
}

export interface SearchRegisteredModelsRequest {
  readonly filter?: string;
  readonly maxResults?: number;
  readonly pageToken?: string;
}

// MLflow's log-batch limits (mlflow/utils/validation.py).
const MAX_ENTITIES_PER_BATCH = 1000;
const MAX_PARAMS_PER_BATCH = 100;
const MAX_TAGS_PER_BATCH = 100;

const ERROR_CODES: Readonly<Record<string, RegistryErrorCode>> = {
  RESOURCE_DOES_NOT_EXIST: 'not_found',
  NOT_FOUND: 'not_found',
  ENDPOINT_NOT_FOUND: 'not_found',
  RESOURCE_ALREADY_EXISTS: 'already_exists',
  INVALID_PARAMETER_VALUE: 'invalid',
  BAD_REQUEST: 'invalid',
  MALFORMED_REQUEST: 'invalid',
  INVALID_STATE: 'invalid',
  PERMISSION_DENIED: 'invalid',
  UNAUTHENTICATED: 'invalid',
  RESOURCE_LIMIT_EXCEEDED: 'invalid',
  REQUEST_LIMIT_EXCEEDED: 'unavailable',
  TEMPORARILY_UNAVAILABLE: 'unavailable',
  INTERNAL_ERROR: 'server',
};

function codeForStatus(status: number): RegistryErrorCode {
  if (status === 404) return 'not_found';
  if (status === 409) return 'already_exists';
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'unavailable';
  if (status >= 500) return 'server';
  return 'invalid';
}

const ARTIFACT_PROXY_ROUTE = '/api/2.0/mlflow-artifacts/artifacts/';

/**
 * Path of an artifact under the tracking server's artifact proxy, relative to `/api/2.0/mlflow-artifacts/artifacts/`,
 * for an artifact root served by the proxy: `mlflow-artifacts:/1/<run>/artifacts`, `mlflow-artifacts://host/1/...`
 * or `http(s)://host/api/2.0/mlflow-artifacts/artifacts/1/...`.
 * @throws RegistryError `invalid` when the root is not proxied (e.g. `s3://...`: start the server with `--serve-artifacts`).
 * @example proxiedArtifactPath('mlflow-artifacts:/1/abc/artifacts', 'model/card.json') // '1/abc/artifacts/model/card.json'
 */
export function proxiedArtifactPath(artifactRoot: string, path = ''): string {
  let rest: string | undefined;
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(artifactRoot);
  if (m) rest = m[1];
  else if (/^https?:\/\//.test(artifactRoot)) {
    const i = artifactRoot.indexOf(ARTIFACT_PROXY_ROUTE);
    if (i >= 0) rest = artifactRoot.slice(i + ARTIFACT_PROXY_ROUTE.length);
  }
  if (rest === undefined) {
    throw new RegistryError(
      'invalid',
      `artifact root must be served by the tracking server's artifact proxy (mlflow-artifacts:/...), was ${JSON.stringify(artifactRoot)}; start \`mlflow server\` with --serve-artifacts`,
      { artifactRoot },
    );
  }
  const parts = [...rest.split('/'), ...path.split('/')].filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p === '.')) {
    throw new RegistryError('invalid', `artifact path must not contain '.' or '..' segments, was ${JSON.stringify(path)}`, { artifactRoot, path });
  }
  return parts.join('/');
}

/**
 * The artifact proxy reports a missing file as INTERNAL_ERROR (HTTP 500) whose message carries the store's 404
 * ("An error occurred (404) when calling the HeadObject operation", or a local FileNotFoundError): map it to `not_found`.
 */
function artifactNotFound(e: RegistryError): RegistryError {
  const message = String(e.context['mlflowMessage'] ?? '');
  if (e.code === 'server' && /\(404\)|NoSuchKey|Not Found|No such file|FileNotFoundError/i.test(message)) {
    return new RegistryError('not_found', e.message, e.context);
  }
  return e;
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/** Plain summary of a transport error: safe to log (no headers, no request config, secrets redacted). */
function transportSummary(e: unknown, secrets: readonly string[]): Error {
  if (axios.isAxiosError(e)) return new Error(redactText(`${e.code ?? 'ERR_NETWORK'}: ${e.message}`, secrets));
  return new Error(redactText(e instanceof Error ? e.message : String(e), secrets));
}

/**
 * Typed client of the MLflow REST API (tracking, artifacts through the server's proxy, model registry).
 * Every response is zod-parsed; every failure is a {@link RegistryError}. Only idempotent GETs are retried
 * (`getRetries`, exponential back-off) on `unavailable`/`server`; POST/PUT/PATCH/DELETE are sent once.
 *
 * @example
 * const client = new MlflowClient(parseMlflowClientConfig({ trackingUri: 'http://127.0.0.1:15000' }), { now: () => clock.now() });
 * const version = await client.getModelVersionByAlias('btc-4h', 'production');
 */
export class MlflowClient {
  /** The tracking server URL without credentials (safe to log). */
  readonly trackingUri: string;
  private readonly http: AxiosInstance;
  private readonly config: MlflowClientConfig;
  private readonly deps: Required<MlflowClientDeps>;
  /** Values never to echo (the token): remote bodies and transport messages are redacted with them. */
  private readonly secrets: readonly string[];

  constructor(config: MlflowClientConfig, deps: MlflowClientDeps) {
    this.config = config;
    const baseURL = config.trackingUri.replace(/\/+$/, '');
    this.trackingUri = withoutCredentials(baseURL);
    this.secrets = config.token ? [config.token] : [];
    this.deps = { sleep: (ms) => new Promise((r) => setTimeout(r, ms)), ...deps };
    this.http = axios.create({
      baseURL,
      timeout: config.timeoutMs,
      proxy: false,
      validateStatus: () => true,
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
      paramsSerializer: { indexes: null },
      headers: config.token ? { Authorization: `Bearer ${config.token}` } : {},
    });
  }

  // ------------------------------------------------------------------ experiments

  /** Returns the experiment named `name`. @throws RegistryError `not_found` when there is none. */
  async getExperimentByName(name: string): Promise<Experiment> {
    const r = await this.get('/api/2.0/mlflow/experiments/get-by-name', { experiment_name: name }, GetExperimentResponse);
    return r.experiment;
  }

  /** Every active experiment, following `next_page_token` (read-only search, retried like a GET). */
  async searchAllExperiments(): Promise<Experiment[]> {
    return collectPages(async (pageToken) => {
      const body = { max_results: 1000, view_type: 'ACTIVE_ONLY', ...(pageToken ? { page_token: pageToken } : {}) };
      const r = await this.request('POST', '/api/2.0/mlflow/experiments/search', { body, schema: SearchExperimentsResponse, retry: true });
      return page(r.experiments, r.next_page_token);
    });
  }

  /** Creates an experiment and returns its id. @throws RegistryError `already_exists`. */
  async createExperiment(name: string, tags: Readonly<Record<string, string>> = {}): Promise<string> {
    const r = await this.send('POST', '/api/2.0/mlflow/experiments/create', { name, tags: toKeyValues(tags) }, CreateExperimentResponse);
    return r.experiment_id;
  }

  /** Returns the id of experiment `name`, creating it when absent (safe against a concurrent create). */
  async ensureExperiment(name: string): Promise<string> {
    try {
      return (await this.getExperimentByName(name)).experiment_id;
    } catch (e) {
      if (!(e instanceof RegistryError) || e.code !== 'not_found') throw e;
    }
    try {
      return await this.createExperiment(name);
    } catch (e) {
      if (e instanceof RegistryError && e.code === 'already_exists') return (await this.getExperimentByName(name)).experiment_id;
      throw e;
    }
  }

  // ------------------------------------------------------------------ runs

  /** Creates a run (status RUNNING). */
  async createRun(req: CreateRunRequest): Promise<Run> {
    const body = {
      experiment_id: req.experimentId,
      start_time: req.startTime ?? this.deps.now(),
      tags: toKeyValues(req.tags ?? {}),
      ...(req.runName !== undefined ? { run_name: req.runName } : {}),
    };
    return (await this.send('POST', '/api/2.0/mlflow/runs/create', body, RunResponse)).run;
  }

  /** Sets a run's status; a terminal status (FINISHED, FAILED, KILLED) also sets `end_time` (default now). */
  async updateRun(runId: string, status: RunStatus, endTime?: number): Promise<RunInfo> {
    const terminal = status === 'FINISHED' || status === 'FAILED' || status === 'KILLED';
    const body = { run_id: runId, status, ...(terminal ? { end_time: endTime ?? this.deps.now() } : {}) };
    return (await this.send('POST', '/api/2.0/mlflow/runs/update', body, UpdateRunResponse)).run_info;
  }

  /**
   * Logs params, metrics (with steps) and tags, split into as many log-batch calls as MLflow's limits require
   * (100 params, 100 tags, 1000 entities in all per call). Params are write-once in MLflow: re-logging a different value fails `invalid`.
   */
  async logBatch(req: LogBatchRequest): Promise<void> {
    const now = this.deps.now();
    const metrics = (req.metrics ?? []).map((m) => ({ key: m.key, value: m.value, step: m.step ?? 0, timestamp: m.timestamp ?? now }));
    const params = toKeyValues(req.params ?? {});
    const tags = toKeyValues(req.tags ?? {});
    let [mi, pi, ti] = [0, 0, 0];
    while (mi < metrics.length || pi < params.length || ti < tags.length) {
      const batchParams = params.slice(pi, pi + MAX_PARAMS_PER_BATCH);
      const batchTags = tags.slice(ti, ti + MAX_TAGS_PER_BATCH);
      const batchMetrics = metrics.slice(mi, mi + MAX_ENTITIES_PER_BATCH - batchParams.length - batchTags.length);
      await this.send('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: req.runId, metrics: batchMetrics, params: batchParams, tags: batchTags }, EmptyResponse);
      [mi, pi, ti] = [mi + batchMetrics.length, pi + batchParams.length, ti + batchTags.length];
    }
  }

  /** Sets one run tag. */
  async setRunTag(runId: string, key: string, value: string): Promise<void> {
    await this.send('POST', '/api/2.0/mlflow/runs/set-tag', { run_id: runId, key, value }, EmptyResponse);
  }

  /** Returns a run. @throws RegistryError `not_found`. */
  async getRun(runId: string): Promise<Run> {
    return (await this.get('/api/2.0/mlflow/runs/get', { run_id: runId }, RunResponse)).run;
  }

  /** One page of runs (search is read-only, so it is retried like a GET although MLflow serves it as POST). */
  async searchRuns(req: SearchRunsRequest): Promise<Page<Run>> {
    const body = {
      experiment_ids: req.experimentIds,
      max_results: req.maxResults ?? 1000,
      ...(req.filter !== undefined ? { filter: req.filter } : {}),
      ...(req.orderBy !== undefined ? { order_by: req.orderBy } : {}),
      ...(req.pageToken !== undefined ? { page_token: req.pageToken } : {}),
    };
    const r = await this.request('POST', '/api/2.0/mlflow/runs/search', { body, schema: SearchRunsResponse, retry: true });
    return page(r.runs, r.next_page_token);
  }

  /** Every run matching `req`, following `next_page_token`. */
  async searchAllRuns(req: Omit<SearchRunsRequest, 'pageToken'>): Promise<Run[]> {
    return collectPages((pageToken) => this.searchRuns({ ...req, ...(pageToken ? { pageToken } : {}) }));
  }

  // ------------------------------------------------------------------ artifacts (through the server's proxy)

  /** Uploads `bytes` to `<artifactRoot>/<path>` (PUT, not retried). `artifactRoot` is a run's `artifact_uri`. */
  async uploadArtifact(artifactRoot: string, path: string, bytes: Uint8Array): Promise<void> {
    const url = ARTIFACT_PROXY_ROUTE + encodePath(proxiedArtifactPath(artifactRoot, path));
    await this.request('PUT', url, {
      body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      headers: { 'Content-Type': 'application/octet-stream' },
      schema: EmptyResponse,
      retry: false,
    });
  }

  /** Downloads `<artifactRoot>/<path>`. @throws RegistryError `not_found` when absent. */
  async downloadArtifact(artifactRoot: string, path: string): Promise<Uint8Array> {
    const url = ARTIFACT_PROXY_ROUTE + encodePath(proxiedArtifactPath(artifactRoot, path));
    return this.request('GET', url, { binary: true, retry: true, remap: artifactNotFound });
  }

  /** Files directly under `path` of a run's artifacts (paths are relative to the run's root), all pages. */
  async listArtifacts(runId: string, path?: string): Promise<FileInfo[]> {
    return collectPages(async (pageToken) => {
      const params = { run_id: runId, ...(path !== undefined ? { path } : {}), ...(pageToken ? { page_token: pageToken } : {}) };
      const r = await this.get('/api/2.0/mlflow/artifacts/list', params, ListArtifactsResponse);
      return page(r.files, r.next_page_token);
    });
  }

  // ------------------------------------------------------------------ registered models

  /** Creates a registered model. @throws RegistryError `already_exists`. */
  async createRegisteredModel(name: string, description?: string, tags: Readonly<Record<string, string>> = {}): Promise<RegisteredModel> {
    const body = { name, tags: toKeyValues(tags), ...(description !== undefined ? { description } : {}) };
    return (await this.send('POST', '/api/2.0/mlflow/registered-models/create', body, RegisteredModelResponse)).registered_model;
  }

  /** Returns the registered model `name` (with its aliases). @throws RegistryError `not_found`. */
  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return (await this.get('/api/2.0/mlflow/registered-models/get', { name }, RegisteredModelResponse)).registered_model;
  }

  /** Creates registered model `name` unless it exists; returns it. */
  async ensureRegisteredModel(name: string): Promise<RegisteredModel> {
    try {
      return await this.createRegisteredModel(name);
    } catch (e) {
      if (e instanceof RegistryError && e.code === 'already_exists') return this.getRegisteredModel(name);
      throw e;
    }
  }

  /** Deletes registered model `name` with all its versions and aliases. */
  async deleteRegisteredModel(name: string): Promise<void> {
    await this.send('DELETE', '/api/2.0/mlflow/registered-models/delete', { name }, EmptyResponse);
  }

  /** One page of registered models. */
  async searchRegisteredModels(req: SearchRegisteredModelsRequest = {}): Promise<Page<RegisteredModel>> {
    const params = {
      max_results: req.maxResults ?? 1000,
      ...(req.filter !== undefined ? { filter: req.filter } : {}),
      ...(req.pageToken !== undefined ? { page_token: req.pageToken } : {}),
    };
    const r = await this.get('/api/2.0/mlflow/registered-models/search', params, SearchRegisteredModelsResponse);
    return page(r.registered_models, r.next_page_token);
  }

  /** Every registered model matching `req.filter`, all pages. */
  async searchAllRegisteredModels(req: Omit<SearchRegisteredModelsRequest, 'pageToken'> = {}): Promise<RegisteredModel[]> {
    return collectPages((pageToken) => this.searchRegisteredModels({ ...req, ...(pageToken ? { pageToken } : {}) }));
  }

  // ------------------------------------------------------------------ model versions

  /** Registers a new version of `name` from `source` (which must lie inside run `runId`'s artifact root). */
  async createModelVersion(req: CreateModelVersionRequest): Promise<ModelVersion> {
    const body = {
      name: req.name,
      source: req.source,
      run_id: req.runId,
      tags: toKeyValues(req.tags ?? {}),
      ...(req.description !== undefined ? { description: req.description } : {}),
    };
    return (await this.send('POST', '/api/2.0/mlflow/model-versions/create', body, ModelVersionResponse)).model_version;
  }

  /** Returns version `version` of `name` (with tags and aliases). @throws RegistryError `not_found`. */
  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return (await this.get('/api/2.0/mlflow/model-versions/get', { name, version }, ModelVersionResponse)).model_version;
  }

  /** One page of model versions. MLflow's search does not return aliases: use {@link getRegisteredModel} for those. */
  async searchModelVersions(req: SearchModelVersionsRequest = {}): Promise<Page<ModelVersion>> {
    const params = {
      max_results: req.maxResults ?? 1000,
      ...(req.filter !== undefined ? { filter: req.filter } : {}),
      ...(req.orderBy !== undefined ? { order_by: req.orderBy } : {}),
      ...(req.pageToken !== undefined ? { page_token: req.pageToken } : {}),
    };
    const r = await this.get('/api/2.0/mlflow/model-versions/search', params, SearchModelVersionsResponse);
    return page(r.model_versions, r.next_page_token);
  }

  /** Every model version matching `req`, all pages. */
  async searchAllModelVersions(req: Omit<SearchModelVersionsRequest, 'pageToken'> = {}): Promise<ModelVersion[]> {
    return collectPages((pageToken) => this.searchModelVersions({ ...req, ...(pageToken ? { pageToken } : {}) }));
  }

  /** Updates a version's description. */
  async updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion> {
    return (await this.send('PATCH', '/api/2.0/mlflow/model-versions/update', { name, version, description }, ModelVersionResponse)).model_version;
  }

  /** Deletes a model version (its aliases go with it). */
  async deleteModelVersion(name: string, version: string): Promise<void> {
    await this.send('DELETE', '/api/2.0/mlflow/model-versions/delete', { name, version }, EmptyResponse);
  }

  /** Sets a tag on a model version. */
  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.send('POST', '/api/2.0/mlflow/model-versions/set-tag', { name, version, key, value }, EmptyResponse);
  }

  /** Deletes a tag of a model version. */
  async deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
    await this.send('DELETE', '/api/2.0/mlflow/model-versions/delete-tag', { name, version, key }, EmptyResponse);
  }

  // ------------------------------------------------------------------ aliases

  /** Points `name@alias` at `version` (moving it if it pointed elsewhere). */
  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.send('POST', '/api/2.0/mlflow/registered-models/alias', { name, alias, version }, EmptyResponse);
  }

  /**
   * Returns the version `name@alias` points at.
   * @throws RegistryError `not_found` when the model or the alias does not exist (MLflow reports a missing alias as
   * INVALID_PARAMETER_VALUE "... alias X not found"; this client maps it to `not_found`, keeping `errorCode`).
   */
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    try {
      return (await this.get('/api/2.0/mlflow/registered-models/alias', { name, alias }, ModelVersionResponse)).model_version;
    } catch (e) {
      if (e instanceof RegistryError && e.code === 'invalid' && /alias .* not found/i.test(String(e.context['mlflowMessage'] ?? ''))) {
        throw new RegistryError('not_found', `registered model ${JSON.stringify(name)} has no alias ${JSON.stringify(alias)}`, { ...e.context, name, alias });
      }
      throw e;
    }
  }

  /** Removes `name@alias`. */
  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.send('DELETE', '/api/2.0/mlflow/registered-models/alias', { name, alias }, EmptyResponse);
  }

  // ------------------------------------------------------------------ transport

  private get<S extends z.ZodType>(path: string, params: Record<string, unknown>, schema: S): Promise<z.infer<S>> {
    return this.request('GET', path, { params, schema, retry: true });
  }

  private send<S extends z.ZodType>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, schema: S): Promise<z.infer<S>> {
    return this.request(method, path, { body, schema, retry: false });
  }

  private request(
    method: string,
    path: string,
    opts: { params?: Record<string, unknown>; body?: unknown; headers?: Record<string, string>; binary: true; retry: boolean; remap?: (e: RegistryError) => RegistryError },
  ): Promise<Uint8Array>;
  private request<S extends z.ZodType>(method: string, path: string, opts: { params?: Record<string, unknown>; body?: unknown; headers?: Record<string, string>; schema: S; retry: boolean }): Promise<z.infer<S>>;
  private async request(
    method: string,
    path: string,
    opts: {
      params?: Record<string, unknown>;
      body?: unknown;
      headers?: Record<string, string>;
      schema?: z.ZodType;
      binary?: boolean;
      retry: boolean;
      remap?: (e: RegistryError) => RegistryError;
    },
  ): Promise<unknown> {
    const attempts = opts.retry ? 1 + this.config.getRetries : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.exchange(method, path, opts);
        if (opts.binary) return new Uint8Array(response.data as ArrayBuffer);
        return this.parse(method, path, response, opts.schema!);
      } catch (caught) {
        const e = caught instanceof RegistryError && opts.remap ? opts.remap(caught) : caught;
        // A timeout is not retried: a peer that hung once likely hangs again, and the caller's budget is spent.
        const retriable = e instanceof RegistryError && (e.code === 'unavailable' || e.code === 'server') && e.context['transport'] !== 'timeout';
        if (!retriable || attempt >= attempts) throw e;
        await this.deps.sleep(this.config.retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  private async exchange(
    method: string,
    path: string,
    opts: { params?: Record<string, unknown>; body?: unknown; headers?: Record<string, string>; binary?: boolean },
  ): Promise<AxiosResponse> {
    let response: AxiosResponse;
    const operation = `MLflow ${method} ${path}`;
    try {
      response = await withDeadline(operation, this.trackingUri, this.config.timeoutMs, (signal) =>
        this.http.request({
          method,
          url: path,
          ...(opts.params ? { params: opts.params } : {}),
          ...(opts.body !== undefined ? { data: opts.body } : {}),
          ...(opts.headers ? { headers: opts.headers } : {}),
          responseType: 'arraybuffer',
          signal,
        }),
      );
    } catch (e) {
      const timedOut = e instanceof DeadlineError || (axios.isAxiosError(e) && (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT'));
      if (timedOut) {
        const elapsedMs = e instanceof DeadlineError ? e.context['elapsedMs'] : this.config.timeoutMs;
        throw new RegistryError(
          'unavailable',
          `${operation} timed out: tracking server ${this.trackingUri} did not answer within ${this.config.timeoutMs} ms (gave up after ${String(elapsedMs)} ms)`,
          { method, path, trackingUri: this.trackingUri, transport: 'timeout', deadlineMs: this.config.timeoutMs, elapsedMs },
          { cause: transportSummary(e, this.secrets) },
        );
      }
      const reason = axios.isAxiosError(e) ? (e.code ?? 'ERR_NETWORK') : 'ERR_UNKNOWN';
      throw new RegistryError('unavailable', `${operation} failed: tracking server ${this.trackingUri} unreachable (${reason})`, {
        method,
        path,
        trackingUri: this.trackingUri,
        transport: reason,
      }, { cause: transportSummary(e, this.secrets) });
    }
    if (response.status >= 200 && response.status < 300) return response;
    const text = Buffer.from(response.data as ArrayBuffer).toString('utf8');
    let body: z.infer<typeof MlflowErrorBody> | undefined;
    try {
      const parsed = MlflowErrorBody.safeParse(JSON.parse(text));
      if (parsed.success) body = parsed.data;
    } catch {
      body = undefined;
    }
    const code = (body && ERROR_CODES[body.error_code]) ?? codeForStatus(response.status);
    // The server's words are quoted only redacted and truncated: a proxy or server may echo request headers.
    const mlflowMessage = body ? remoteBodyExcerpt(body.message, this.secrets) : undefined;
    const excerpt = body ? undefined : remoteBodyExcerpt(text, this.secrets);
    const detail = body ? `${body.error_code}: ${mlflowMessage}` : `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ''}`;
    throw new RegistryError(code, `${operation} failed with ${detail}`, {
      method,
      path,
      status: response.status,
      ...(body ? { errorCode: body.error_code, mlflowMessage } : { body: excerpt }),
    });
  }

  private parse<S extends z.ZodType>(method: string, path: string, response: AxiosResponse, schema: S): z.infer<S> {
    const text = Buffer.from(response.data as ArrayBuffer).toString('utf8');
    let json: unknown;
    try {
      json = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new RegistryError('bad_response', `MLflow ${method} ${path} returned a body that is not JSON: ${JSON.stringify(remoteBodyExcerpt(text, this.secrets, 200))}`, { method, path, status: response.status });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      throw new RegistryError('bad_response', `MLflow ${method} ${path} returned an unexpected body: \`${first.path.join('.') || '$'}\` ${first.message}`, {
        method,
        path,
        status: response.status,
        issues: parsed.error.issues,
      });
    }
    return parsed.data;
  }
}

/** `https://user:pass@host/x` → `https://host/x`. */
function withoutCredentials(uri: string): string {
  try {
    const u = new URL(uri);
    if (!u.username && !u.password) return uri;
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return uri;
  }
}

function toKeyValues(record: Readonly<Record<string, string>>): { key: string; value: string }[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

function page<T>(items: readonly T[], nextPageToken: string | undefined): Page<T> {
  return nextPageToken ? { items, nextPageToken } : { items };
}

async function collectPages<T>(fetchPage: (pageToken: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const p = await fetchPage(token);
    all.push(...p.items);
    token = p.nextPageToken;
  } while (token);
  return all;
}
