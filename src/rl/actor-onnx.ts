import { onnxSchema, readOnnxMetadata } from '../models/index.js';
import type { ActorWeights, DenseWeights } from './actor-network.js';
import { RlError } from './rl-error.js';

/** ONNX IR version written (8 = ONNX 1.10+). */
export const ACTOR_ONNX_IR_VERSION = 8;
/** Default-domain opset (Gemm-13, Relu-14, Tanh-13, Clip-13 with min/max as inputs). */
export const ACTOR_ONNX_OPSET = 17;
/** Graph input: float [N, observationSize]. */
export const ACTOR_INPUT_NAME = 'observation';
/** First graph output: the deterministic action tanh(μ(s)), float [N, actionSize] in [−1, 1]. */
export const ACTOR_ACTION_NAME = 'action';
/** Second graph output: the clipped log σ(s) of the pre-tanh Gaussian, float [N, actionSize] (for the confidence). */
export const ACTOR_LOG_STD_NAME = 'log_std';
/** `metadata_props.format` of an exported actor. */
export const ACTOR_FORMAT = 'trade-matrix/sac-actor@1';

const FLOAT = 1; // TensorProto.DataType.FLOAT
const RESERVED = ['format', 'feature_names', 'feature_spec_hash', 'hidden_sizes', 'action_size', 'trained_at'];

/** What {@link exportActorOnnx} writes besides the weights. */
export interface ActorOnnxOptions {
  /** Observation names in column order; stored as `metadata_props.feature_names` (JSON array). */
  readonly observationNames: readonly string[];
  /** Hash of the observation spec (how the columns are computed); stored as `feature_spec_hash`. */
  readonly observationSpecHash: string;
  /** Training time (ISO 8601) from the caller's clock; omitted when absent. */
  readonly trainedAt?: string;
  /** Extra `metadata_props` entries (seed, config JSON, ...); must not override the built-in keys. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Serialises a SAC actor as an ONNX ModelProto (protobufjs over the official schema, as the tree-ensemble export):
 *
 *   observation → [Gemm → Relu] × hidden → Gemm(mean) → Tanh → `action`
 *                                      ↘ Gemm(log_std) → Clip(logStdMin, logStdMax) → `log_std`
 *
 * Weights are float32 initializers in raw little-endian bytes (`hidden_<i>_weight` [in, out], `hidden_<i>_bias`,
 * `mean_weight`, `mean_bias`, `log_std_weight`, `log_std_bias`, `log_std_min`, `log_std_max`), so
 * {@link readActorOnnx} gives back the exact weights. The output is deterministic for the same inputs.
 * @throws RlError `invalid_model` when the names do not match the observation size, are repeated or empty, the
 *   hash is empty, or `metadata` reuses a built-in key.
 * @example
 * const bytes = exportActorOnnx(agent.actorWeights(), { observationNames: OBSERVATION_NAMES, observationSpecHash });
 */
export function exportActorOnnx(weights: ActorWeights, options: ActorOnnxOptions): Uint8Array {
  const { observationNames, observationSpecHash } = options;
  if (observationNames.length !== weights.observationSize) {
    throw new RlError('invalid_model', `observationNames.length must equal the actor's observationSize = ${weights.observationSize}, was ${observationNames.length}`, { length: observationNames.length });
  }
  if (new Set(observationNames).size !== observationNames.length || observationNames.some((n) => typeof n !== 'string' || n.length === 0)) {
    throw new RlError('invalid_model', `observationNames must be non-empty names used once, was ${JSON.stringify(observationNames)}`, { observationNames });
  }
  if (observationSpecHash.length === 0) throw new RlError('invalid_model', 'observationSpecHash must be non-empty, was ""', {});
  for (const key of Object.keys(options.metadata ?? {})) {
    if (RESERVED.includes(key)) throw new RlError('invalid_model', `metadata key must not be one of ${RESERVED.join(', ')}, was ${JSON.stringify(key)}`, { key });
  }
  const initializer: object[] = [];
  const node: object[] = [];
  const tensor = (name: string, dims: number[], values: Float32Array) => {
    initializer.push({ name, dims, data_type: FLOAT, raw_data: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) });
  };
  const gemm = (name: string, input: string, layer: DenseWeights, output: string) => {
    tensor(`${name}_weight`, [layer.inputSize, layer.outputSize], layer.weight);
    tensor(`${name}_bias`, [layer.outputSize], layer.bias);
    node.push({ input: [input, `${name}_weight`, `${name}_bias`], output: [output], name, op_type: 'Gemm' });
  };
  let last = ACTOR_INPUT_NAME;
  weights.hidden.forEach((layer, i) => {
    gemm(`hidden_${i}`, last, layer, `hidden_${i}_linear`);
    node.push({ input: [`hidden_${i}_linear`], output: [`hidden_${i}_relu`], name: `hidden_${i}_relu`, op_type: 'Relu' });
    last = `hidden_${i}_relu`;
  });
  gemm('mean', last, weights.mean, 'mean_linear');
  node.push({ input: ['mean_linear'], output: [ACTOR_ACTION_NAME], name: 'tanh', op_type: 'Tanh' });
  gemm('log_std', last, weights.logStd, 'log_std_linear');
  tensor('log_std_min', [], Float32Array.of(weights.logStdMin));
  tensor('log_std_max', [], Float32Array.of(weights.logStdMax));
  node.push({ input: ['log_std_linear', 'log_std_min', 'log_std_max'], output: [ACTOR_LOG_STD_NAME], name: 'log_std_clip', op_type: 'Clip' });

  const value = (name: string, columns: number) => ({ name, type: { tensor_type: { elem_type: FLOAT, shape: { dim: [{ dim_param: 'N' }, { dim_value: columns }] } } } });
  const metadata: [string, string][] = [
    ['format', ACTOR_FORMAT],
    ['feature_names', JSON.stringify(observationNames)],
    ['feature_spec_hash', observationSpecHash],
    ['hidden_sizes', JSON.stringify(weights.hidden.map((l) => l.outputSize))],
    ['action_size', String(weights.actionSize)],
    ...(options.trainedAt !== undefined ? ([['trained_at', options.trainedAt]] as [string, string][]) : []),
    ...Object.entries(options.metadata ?? {}),
  ];
  const ModelProto = onnxSchema().lookupType('onnx.ModelProto');
  const message = ModelProto.fromObject({
    ir_version: ACTOR_ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ACTOR_ONNX_OPSET }],
    producer_name: 'trade-matrix',
    producer_version: '1',
    model_version: 1,
    doc_string: `SAC actor: ${weights.observationSize} observations → ${weights.hidden.map((l) => l.outputSize).join('-')} ReLU → tanh mean action and clipped log std (${weights.actionSize} each)`,
    graph: {
      name: 'sac_actor',
      node,
      initializer,
      input: [value(ACTOR_INPUT_NAME, weights.observationSize)],
      output: [value(ACTOR_ACTION_NAME, weights.actionSize), value(ACTOR_LOG_STD_NAME, weights.actionSize)],
    },
    metadata_props: metadata.map(([key, v]) => ({ key, value: v })),
  });
  return ModelProto.encode(message).finish();
}

/** An actor read back from ONNX bytes: its weights and metadata. */
export interface ActorOnnx {
  readonly weights: ActorWeights;
  readonly observationNames: readonly string[];
  readonly observationSpecHash: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Reads an actor written by {@link exportActorOnnx} back into {@link ActorWeights} (the exact float32 values), after
 * checking that its observation names equal `expected.observationNames` in order and its spec hash equals
 * `expected.observationSpecHash` (a model trained on other observations is refused, as `loadOnnxModel` does).
 * @throws ModelError `invalid_model` for bytes that are not an ONNX ModelProto; RlError `invalid_model` for a model
 *   that is not such an actor (format, metadata, missing or misshapen initializer), an observation-name mismatch
 *   (naming the first differing index) or a hash mismatch.
 */
export function readActorOnnx(bytes: Uint8Array, expected: { readonly observationNames: readonly string[]; readonly observationSpecHash: string }): ActorOnnx {
  const metadata = readOnnxMetadata(bytes);
  if (metadata['format'] !== ACTOR_FORMAT) throw new RlError('invalid_model', `ONNX metadata_props.format must be ${JSON.stringify(ACTOR_FORMAT)}, was ${JSON.stringify(metadata['format'] ?? null)}`, { format: metadata['format'] ?? null });
  const names = parseJsonArray(metadata, 'feature_names') as string[];
  const length = Math.max(names.length, expected.observationNames.length);
  for (let i = 0; i < length; i++) {
    if (names[i] !== expected.observationNames[i]) {
      throw new RlError('invalid_model', `observation order mismatch at index ${i}: the environment expects ${JSON.stringify(expected.observationNames[i] ?? null)}, the actor has ${JSON.stringify(names[i] ?? null)}`, { index: i, expected: expected.observationNames[i] ?? null, found: names[i] ?? null });
    }
  }
  const hash = metadata['feature_spec_hash'];
  if (hash !== expected.observationSpecHash) {
    throw new RlError('invalid_model', `observation spec hash mismatch: the environment expects ${JSON.stringify(expected.observationSpecHash)}, the actor has ${JSON.stringify(hash ?? null)}`, { expected: expected.observationSpecHash, found: hash ?? null });
  }
  const ModelProto = onnxSchema().lookupType('onnx.ModelProto');
  const model = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Uint8Array as unknown as StringConstructor }) as { graph?: { initializer?: { name: string; dims?: number[]; raw_data?: Uint8Array }[] } };
  const tensors = new Map((model.graph?.initializer ?? []).map((t) => [t.name, t]));
  const read = (name: string, dims: number[]): Float32Array => {
    const t = tensors.get(name);
    const found = t?.dims ?? [];
    if (t?.raw_data === undefined || found.length !== dims.length || found.some((d, i) => d !== dims[i])) {
      throw new RlError('invalid_model', `ONNX initializer ${name} must be float32 of shape [${dims.join(', ')}], was ${t === undefined ? 'absent' : `[${found.join(', ')}]`}`, { name });
    }
    const raw = t.raw_data;
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  };
  const hiddenSizes = parseJsonArray(metadata, 'hidden_sizes') as number[];
  const actionSize = Number(metadata['action_size']);
  if (!Number.isInteger(actionSize) || actionSize < 1 || !hiddenSizes.every((h) => Number.isInteger(h) && h >= 1)) {
    throw new RlError('invalid_model', `ONNX metadata_props action_size and hidden_sizes must be positive integers, were ${JSON.stringify(metadata['action_size'])} and ${JSON.stringify(metadata['hidden_sizes'])}`, {});
  }
  const observationSize = names.length;
  const layer = (name: string, inputSize: number, outputSize: number): DenseWeights => ({ inputSize, outputSize, weight: read(`${name}_weight`, [inputSize, outputSize]), bias: read(`${name}_bias`, [outputSize]) });
  const hidden = hiddenSizes.map((size, i) => layer(`hidden_${i}`, i === 0 ? observationSize : hiddenSizes[i - 1]!, size));
  const last = hiddenSizes[hiddenSizes.length - 1] ?? observationSize;
  const weights: ActorWeights = {
    observationSize,
    actionSize,
    hidden,
    mean: layer('mean', last, actionSize),
    logStd: layer('log_std', last, actionSize),
    logStdMin: read('log_std_min', [])[0]!,
    logStdMax: read('log_std_max', [])[0]!,
  };
  return { weights, observationNames: names, observationSpecHash: hash, metadata };
}

/** `metadata_props[key]` parsed as a JSON array. @throws RlError `invalid_model` when absent or not an array. */
function parseJsonArray(metadata: Readonly<Record<string, string>>, key: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(metadata[key] ?? 'null');
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value)) throw new RlError('invalid_model', `ONNX metadata_props.${key} must be a JSON array, was ${JSON.stringify(metadata[key] ?? null)}`, { key });
  return value;
}
