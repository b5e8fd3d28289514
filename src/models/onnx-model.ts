import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { ModelError } from './model-error.js';
import { onnxSchema } from './onnx-schema.js';

/** What the feature pipeline feeding a model produces; a loaded model must match it exactly. */
export interface OnnxModelExpectation {
  /** The pipeline's feature names in column order. */
  readonly featureNames: readonly string[];
  /** The pipeline's feature spec hash. */
  readonly featureSpecHash: string;
}

/** Session controls of {@link loadOnnxModel}. */
export interface OnnxLoadOptions {
  /** onnxruntime intra-op threads; default 1 (lowest single-row latency, no oversubscription). */
  readonly intraOpThreads?: number;
}

/**
 * A validated ONNX regression model in an onnxruntime-node session: one float input [N, featureCount],
 * one tensor output with one value per row. Created by {@link loadOnnxModel}; call {@link OnnxModel.close}.
 */
export class OnnxModel {
  /** Ordered feature names from the model's metadata (equal to the pipeline's). */
  readonly featureNames: readonly string[];
  readonly featureSpecHash: string;
  /** Every `metadata_props` entry. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly inputName: string;
  readonly outputName: string;
  private readonly session: ort.InferenceSession;
  private readonly rowBuffer: Float32Array;
  private readonly rowFeeds: Record<string, ort.Tensor>;

  /** Use {@link loadOnnxModel}. */
  constructor(session: ort.InferenceSession, metadata: Record<string, string>, featureNames: readonly string[]) {
    this.session = session;
    this.metadata = Object.freeze({ ...metadata });
    this.featureNames = Object.freeze([...featureNames]);
    this.featureSpecHash = metadata['feature_spec_hash']!;
    this.inputName = session.inputNames[0]!;
    this.outputName = session.outputNames[0]!;
    this.rowBuffer = new Float32Array(featureNames.length);
    this.rowFeeds = { [this.inputName]: new ort.Tensor('float32', this.rowBuffer, [1, featureNames.length]) };
  }

  /** Number of input features. */
  get featureCount(): number {
    return this.featureNames.length;
  }

  /**
   * Predicts every row of the row-major float32 matrix `rows` (`featureCount` columns); returns one value per row.
   * @throws ModelError `shape_mismatch` when `rows.length` is not a multiple of `featureCount`; `onnx_runtime` when the run fails.
   */
  async predict(rows: Float32Array): Promise<Float32Array> {
    const d = this.featureNames.length;
    const n = rows.length / d;
    if (!Number.isInteger(n)) throw new ModelError('shape_mismatch', `rows.length must be a multiple of featureCount = ${d}, was ${rows.length}`, { length: rows.length, featureCount: d });
    return this.run({ [this.inputName]: new ort.Tensor('float32', rows, [n, d]) }, n);
  }

  /**
   * Predicts one row through a preallocated input tensor (the low-latency path): copies `row` into it and runs.
   * @throws ModelError `shape_mismatch` when `row.length !== featureCount`; `onnx_runtime` when the run fails.
   */
  async predictOne(row: ArrayLike<number>): Promise<number> {
    if (row.length !== this.rowBuffer.length) {
      throw new ModelError('shape_mismatch', `row.length must equal featureCount = ${this.rowBuffer.length}, was ${row.length}`, { length: row.length });
    }
    const buffer = this.rowBuffer;
    for (let f = 0; f < buffer.length; f++) buffer[f] = row[f]!;
    return (await this.run(this.rowFeeds, 1))[0]!;
  }

  /** Releases the onnxruntime session. */
  async close(): Promise<void> {
    await this.session.release();
  }

  private async run(feeds: Record<string, ort.Tensor>, n: number): Promise<Float32Array> {
    let output: ort.Tensor;
    try {
      output = (await this.session.run(feeds))[this.outputName]!;
    } catch (e) {
      throw new ModelError('onnx_runtime', `onnxruntime run failed for ${n} rows: ${(e as Error).message}`, { rows: n }, { cause: e });
    }
    if (output.data.length !== n) {
      throw new ModelError('invalid_model', `output ${this.outputName} must hold one value per row (${n}), held ${output.data.length}`, { rows: n, length: output.data.length });
    }
    return output.data instanceof Float32Array ? output.data : Float32Array.from(output.data as ArrayLike<number>);
  }
}

/**
 * Loads an ONNX model (bytes or file path) into an onnxruntime-node session and validates it against the
 * pipeline: `metadata_props.feature_names` (JSON array) must equal `expected.featureNames` in order
 * ("feature order validation"), `metadata_props.feature_spec_hash` must equal `expected.featureSpecHash`, and
 * the graph must have exactly one float input with `featureNames.length` columns and exactly one output
 * (whatever their names: skl2onnx and onnxmltools models load as well as `exportOnnx` ones).
 * @throws ModelError `feature_order_mismatch` naming the first differing index, expected and found name;
 * `feature_spec_hash_mismatch`; `missing_metadata`; `invalid_model` (unreadable bytes, wrong inputs/outputs);
 * `onnx_runtime` (session creation failed).
 * @example
 * const model = await loadOnnxModel('models/gbdt.onnx', { featureNames, featureSpecHash });
 * const y = await model.predictOne(latestRow);
 */
export async function loadOnnxModel(source: Uint8Array | string, expected: OnnxModelExpectation, options: OnnxLoadOptions = {}): Promise<OnnxModel> {
  const bytes = typeof source === 'string' ? await readBytes(source) : source;
  const metadata = readOnnxMetadata(bytes);
  const featureNames = checkFeatureNames(metadata, expected.featureNames);
  const hash = metadata['feature_spec_hash'];
  if (hash === undefined) throw new ModelError('missing_metadata', 'ONNX metadata_props must contain "feature_spec_hash", was absent', { key: 'feature_spec_hash' });
  if (hash !== expected.featureSpecHash) {
    throw new ModelError('feature_spec_hash_mismatch', `feature spec hash mismatch: the pipeline expects ${JSON.stringify(expected.featureSpecHash)}, the model has ${JSON.stringify(hash)}`, {
      expected: expected.featureSpecHash,
      found: hash,
    });
  }
  const threads = options.intraOpThreads ?? 1;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new ModelError('onnx_runtime', `onnxruntime could not load the model: ${(e as Error).message}`, {}, { cause: e });
  }
  try {
    checkSignature(session, featureNames.length);
  } catch (e) {
    await session.release();
    throw e;
  }
  return new OnnxModel(session, metadata, featureNames);
}

/**
 * Reads `metadata_props` of an ONNX ModelProto (header fields only; the graph is skipped).
 * @throws ModelError `invalid_model` when the bytes are not a ModelProto.
 */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  let header: { metadata_props?: { key?: string; value?: string }[] };
  try {
    const View = onnxSchema().lookupType('onnx.ModelHeaderView');
    header = View.toObject(View.decode(bytes), { longs: Number, defaults: false }) as typeof header;
  } catch (e) {
    throw new ModelError('invalid_model', `bytes must be an ONNX ModelProto (${bytes.length} bytes): ${(e as Error).message}`, { length: bytes.length }, { cause: e });
  }
  const out: Record<string, string> = {};
  for (const entry of header.metadata_props ?? []) if (entry.key !== undefined) out[entry.key] = entry.value ?? '';
  return out;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new ModelError('invalid_model', `ONNX model file ${path} could not be read: ${(e as Error).message}`, { path }, { cause: e });
  }
}

/** Returns the model's feature names after checking they equal `expected` in order. */
function checkFeatureNames(metadata: Record<string, string>, expected: readonly string[]): string[] {
  const raw = metadata['feature_names'];
  if (raw === undefined) throw new ModelError('missing_metadata', 'ONNX metadata_props must contain "feature_names" (JSON array of strings), was absent', { key: 'feature_names' });
  let found: unknown;
  try {
    found = JSON.parse(raw);
  } catch {
    found = undefined;
  }
  if (!Array.isArray(found) || !found.every((n) => typeof n === 'string')) {
    throw new ModelError('invalid_model', `ONNX metadata_props.feature_names must be a JSON array of strings, was ${JSON.stringify(raw.slice(0, 200))}`, { value: raw });
  }
  const names = found as string[];
  const length = Math.max(names.length, expected.length);
  for (let i = 0; i < length; i++) {
    if (names[i] !== expected[i]) {
      const show = (n: string | undefined) => (n === undefined ? '(no feature)' : JSON.stringify(n));
      throw new ModelError(
        'feature_order_mismatch',
        `feature order mismatch at index ${i}: the pipeline expects ${show(expected[i])}, the model has ${show(names[i])} (pipeline ${expected.length} features, model ${names.length})`,
        { index: i, expected: expected[i] ?? null, found: names[i] ?? null },
      );
    }
  }
  return names;
}

function checkSignature(session: ort.InferenceSession, featureCount: number): void {
  if (session.inputNames.length !== 1) {
    throw new ModelError('invalid_model', `model must have exactly 1 input, had ${session.inputNames.length} (${session.inputNames.join(', ')})`, { inputs: session.inputNames });
  }
  if (session.outputNames.length !== 1) {
    throw new ModelError('invalid_model', `model must have exactly 1 output, had ${session.outputNames.length} (${session.outputNames.join(', ')})`, { outputs: session.outputNames });
  }
  const input = session.inputMetadata[0];
  if (input && input.isTensor) {
    if (input.type !== 'float32') throw new ModelError('invalid_model', `model input ${input.name} must be float32, was ${input.type}`, { type: input.type });
    const last = input.shape[input.shape.length - 1];
    if (input.shape.length !== 2 || (typeof last === 'number' && last !== featureCount)) {
      throw new ModelError('invalid_model', `model input ${input.name} must have shape [N, ${featureCount}], was [${input.shape.join(', ')}]`, { shape: input.shape });
    }
  }
}
