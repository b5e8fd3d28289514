import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
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

/**
 * How calls reach the onnxruntime-node session:
 * - `direct`: onnxruntime-node's native session object (its `dist/binding.js`, the object its public
 *   `InferenceSession` wraps) is called in place, synchronously;
 * - `deferred`: through the public `InferenceSession.run`, which defers the very same synchronous native call to a
 *   `setImmediate` callback and wraps it in promises (~3-4 µs per call: a third of a single-row call).
 * Both run the same native code on the calling thread with the same session options: the values are identical.
 */
export type OnnxDispatch = 'direct' | 'deferred';

/** Session controls of {@link loadOnnxModel}. */
export interface OnnxLoadOptions {
  /** onnxruntime intra-op threads; default 1 (lowest single-row latency, no oversubscription). */
  readonly intraOpThreads?: number;
  /**
   * Default `direct` (falls back to `deferred`, see {@link OnnxModel.dispatch}, when the installed
   * onnxruntime-node does not expose its native session the way 1.30 does).
   */
  readonly dispatch?: OnnxDispatch;
}

/** onnxruntime-node's native session (the object behind its public `InferenceSession`; `dist/binding.d.ts`). */
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: ort.InferenceSession.SessionOptions): void;
  readonly inputMetadata: readonly NativeValueMetadata[];
  readonly outputMetadata: readonly NativeValueMetadata[];
  /** Without run options: the session's default ones (no per-call options object parsed). */
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, null>): Record<string, ort.Tensor>;
  dispose(): void;
}
interface NativeValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  /** ONNX TensorProto element type (1 = float32). */
  readonly type: number;
  /** -1 = a symbolic dimension. */
  readonly shape: readonly number[];
}
type NativeSessionConstructor = new () => NativeSession;

let nativeConstructor: NativeSessionConstructor | null | undefined;

/** onnxruntime-node's native session class, initialised as its public API does; null when it is not where 1.30 has it. */
function nativeSessionClass(): NativeSessionConstructor | null {
  if (nativeConstructor !== undefined) return nativeConstructor;
  nativeConstructor = null;
  try {
    const module = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js') as { binding?: { InferenceSession?: unknown }; initOrt?: unknown };
    const ctor = module.binding?.InferenceSession;
    if (typeof module.initOrt === 'function' && typeof ctor === 'function' && typeof (ctor.prototype as { run?: unknown }).run === 'function') {
      (module.initOrt as () => void)();
      nativeConstructor = ctor as NativeSessionConstructor;
    }
  } catch {
    nativeConstructor = null;
  }
  return nativeConstructor;
}

/** The session behind an {@link OnnxModel}: exactly one of the two is set. */
type Session = { readonly native: NativeSession; readonly deferred?: undefined } | { readonly native?: undefined; readonly deferred: ort.InferenceSession };

/** What {@link checkSignature} reads of a session. */
interface Signature {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The first input: element type name (`float32`, ...) and shape (strings = symbolic dimensions). */
  readonly input?: { readonly name: string; readonly isTensor: boolean; readonly type: string; readonly shape: readonly (number | string)[] };
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
  /** How calls reach the session (see {@link OnnxDispatch}). */
  readonly dispatch: OnnxDispatch;
  /**
   * {@link predictOne} without a promise: present when {@link dispatch} is `direct` (the signal stage then runs a
   * bar without any await).
   */
  readonly predictOneNow?: (row: ArrayLike<number>) => number;
  private readonly session: Session;
  private readonly rowBuffer: Float32Array;
  private readonly rowFeeds: Record<string, ort.Tensor>;
  /** `{ [outputName]: null }`: fetch the output, let onnxruntime allocate it (reused every call). */
  private readonly fetches: Record<string, null>;

  /** Use {@link loadOnnxModel}. */
  constructor(session: Session, signature: Signature, metadata: Record<string, string>, featureNames: readonly string[]) {
    this.session = session;
    this.dispatch = session.native !== undefined ? 'direct' : 'deferred';
    this.metadata = Object.freeze({ ...metadata });
    this.featureNames = Object.freeze([...featureNames]);
    this.featureSpecHash = metadata['feature_spec_hash']!;
    this.inputName = signature.inputNames[0]!;
    this.outputName = signature.outputNames[0]!;
    this.rowBuffer = new Float32Array(featureNames.length);
    this.rowFeeds = { [this.inputName]: new ort.Tensor('float32', this.rowBuffer, [1, featureNames.length]) };
    this.fetches = { [this.outputName]: null };
    if (session.native !== undefined) this.predictOneNow = (row) => this.runNow(this.fillRow(row), 1)[0]!;
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
    const feeds = { [this.inputName]: new ort.Tensor('float32', rows, [n, d]) };
    return this.session.native !== undefined ? this.runNow(feeds, n) : this.runDeferred(feeds, n);
  }

  /**
   * Predicts one row through a preallocated input tensor (the low-latency path): copies `row` into it and runs.
   * @throws ModelError `shape_mismatch` when `row.length !== featureCount`; `onnx_runtime` when the run fails.
   */
  async predictOne(row: ArrayLike<number>): Promise<number> {
    const feeds = this.fillRow(row);
    return (this.session.native !== undefined ? this.runNow(feeds, 1) : await this.runDeferred(feeds, 1))[0]!;
  }

  /** Releases the onnxruntime session. */
  async close(): Promise<void> {
    if (this.session.native !== undefined) this.session.native.dispose();
    else await this.session.deferred.release();
  }

  /** Copies `row` into the preallocated input tensor; returns the feeds holding it. */
  private fillRow(row: ArrayLike<number>): Record<string, ort.Tensor> {
    const buffer = this.rowBuffer;
    if (row.length !== buffer.length) {
      throw new ModelError('shape_mismatch', `row.length must equal featureCount = ${buffer.length}, was ${row.length}`, { length: row.length });
    }
    for (let f = 0; f < buffer.length; f++) buffer[f] = row[f]!;
    return this.rowFeeds;
  }

  private runNow(feeds: Record<string, ort.Tensor>, n: number): Float32Array {
    let output: ort.Tensor;
    try {
      output = this.session.native!.run(feeds, this.fetches)[this.outputName]!;
    } catch (e) {
      throw runFailed(e, n);
    }
    return this.checkOutput(output, n);
  }

  private async runDeferred(feeds: Record<string, ort.Tensor>, n: number): Promise<Float32Array> {
    let output: ort.Tensor;
    try {
      output = (await this.session.deferred!.run(feeds))[this.outputName]!;
    } catch (e) {
      throw runFailed(e, n);
    }
    return this.checkOutput(output, n);
  }

  private checkOutput(output: ort.Tensor, n: number): Float32Array {
    if (output.data.length !== n) {
      throw new ModelError('invalid_model', `output ${this.outputName} must hold one value per row (${n}), held ${output.data.length}`, { rows: n, length: output.data.length });
    }
    return output.data instanceof Float32Array ? output.data : Float32Array.from(output.data as ArrayLike<number>);
  }
}

function runFailed(e: unknown, n: number): ModelError {
  return new ModelError('onnx_runtime', `onnxruntime run failed for ${n} rows: ${(e as Error).message}`, { rows: n }, { cause: e });
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
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.intraOpThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const Native = (options.dispatch ?? 'direct') === 'direct' ? nativeSessionClass() : null;
  let session: Session;
  let signature: Signature;
  try {
    if (Native !== null) {
      const native = new Native();
      native.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, sessionOptions);
      session = { native };
      signature = nativeSignature(native);
    } else {
      const deferred = await ort.InferenceSession.create(bytes, sessionOptions);
      session = { deferred };
      const input = deferred.inputMetadata[0];
      signature = { inputNames: deferred.inputNames, outputNames: deferred.outputNames, ...(input ? { input: input.isTensor ? input : { ...input, type: '', shape: [] } } : {}) };
    }
  } catch (e) {
    throw new ModelError('onnx_runtime', `onnxruntime could not load the model: ${(e as Error).message}`, {}, { cause: e });
  }
  try {
    checkSignature(signature, featureNames.length);
  } catch (e) {
    if (session.native !== undefined) session.native.dispose();
    else await session.deferred.release();
    throw e;
  }
  return new OnnxModel(session, signature, metadata, featureNames);
}

/** ONNX TensorProto element types by number, as onnxruntime-node names them. */
const ELEMENT_TYPES: Readonly<Record<number, string>> = { 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64' };

function nativeSignature(native: NativeSession): Signature {
  const first = native.inputMetadata[0];
  return {
    inputNames: native.inputMetadata.map((m) => m.name),
    outputNames: native.outputMetadata.map((m) => m.name),
    ...(first ? { input: { name: first.name, isTensor: first.isTensor, type: ELEMENT_TYPES[first.type] ?? `type ${first.type}`, shape: first.shape.map((d) => (d < 0 ? '?' : d)) } } : {}),
  };
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

function checkSignature(session: Signature, featureCount: number): void {
  if (session.inputNames.length !== 1) {
    throw new ModelError('invalid_model', `model must have exactly 1 input, had ${session.inputNames.length} (${session.inputNames.join(', ')})`, { inputs: session.inputNames });
  }
  if (session.outputNames.length !== 1) {
    throw new ModelError('invalid_model', `model must have exactly 1 output, had ${session.outputNames.length} (${session.outputNames.join(', ')})`, { outputs: session.outputNames });
  }
  const input = session.input;
  if (input && input.isTensor) {
    if (input.type !== 'float32') throw new ModelError('invalid_model', `model input ${input.name} must be float32, was ${input.type}`, { type: input.type });
    const last = input.shape[input.shape.length - 1];
    if (input.shape.length !== 2 || (typeof last === 'number' && last !== featureCount)) {
      throw new ModelError('invalid_model', `model input ${input.name} must have shape [N, ${featureCount}], was [${input.shape.join(', ')}]`, { shape: input.shape });
    }
  }
}
