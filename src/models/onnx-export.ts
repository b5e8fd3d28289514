import { ModelError } from './model-error.js';
import { ATTRIBUTE_TYPE, ONNX_FLOAT, onnxSchema } from './onnx-schema.js';
import type { TreeEnsembleModel } from './tree-ensemble.js';

/** ONNX IR version written (8 = ONNX 1.10+, the first IR with ai.onnx.ml opset 3). */
export const ONNX_IR_VERSION = 8;
/** Default-domain (ai.onnx) opset imported; the graph uses no default-domain operator. */
export const ONNX_OPSET = 17;
/** `ai.onnx.ml` opset imported: TreeEnsembleRegressor-3 with float attributes. */
export const ONNX_ML_OPSET = 3;
/** Name of the graph input: float [N, featureCount]. */
export const ONNX_INPUT_NAME = 'features';
/** Name of the graph output: float [N, 1]. */
export const ONNX_OUTPUT_NAME = 'prediction';

/** What {@link exportOnnx} writes besides the trees. */
export interface OnnxExportOptions {
  /** Feature names in column order; stored as `metadata_props.feature_names` (JSON array). */
  readonly featureNames: readonly string[];
  /** Hash of the feature pipeline spec; stored as `metadata_props.feature_spec_hash`. */
  readonly featureSpecHash: string;
  /** Training time (ISO 8601), from the caller's clock; omitted from the metadata when absent. */
  readonly trainedAt?: string;
  /** Extra `metadata_props` entries (must not override the built-in keys). */
  readonly metadata?: Readonly<Record<string, string>>;
}

const RESERVED_KEYS = ['feature_names', 'feature_spec_hash', 'model_kind', 'seed', 'params', 'tree_count', 'trained_at', 'format'];

/**
 * Serialises `model` as an ONNX ModelProto with one `ai.onnx.ml.TreeEnsembleRegressor` node
 * (`aggregate_function` SUM for boosting, AVERAGE for a forest; `post_transform` NONE; thresholds
 * `BRANCH_LEQ`; learning rate folded into `target_weights`; `base_values` = the model's base score).
 * `metadata_props` holds feature_names (JSON), feature_spec_hash, model_kind, seed, params (JSON),
 * tree_count, format and, when given, trained_at. The output is deterministic for the same inputs.
 * @throws ModelError `invalid_params` when `featureNames` does not name every feature once, the hash is
 * empty, or `metadata` reuses a built-in key.
 * @example
 * const bytes = exportOnnx(model, { featureNames, featureSpecHash: 'sha256:…' });
 * writeFileSync('model.onnx', bytes);
 */
export function exportOnnx(model: TreeEnsembleModel, options: OnnxExportOptions): Uint8Array {
  const { featureNames, featureSpecHash } = options;
  if (featureNames.length !== model.featureCount) {
    throw new ModelError('invalid_params', `featureNames.length must equal the model's featureCount = ${model.featureCount}, was ${featureNames.length}`, { length: featureNames.length });
  }
  const seen = new Set<string>();
  featureNames.forEach((name, i) => {
    if (typeof name !== 'string' || name.length === 0 || seen.has(name)) {
      throw new ModelError('invalid_params', `featureNames[${i}] must be a non-empty name used once, was ${JSON.stringify(name)}`, { index: i, name });
    }
    seen.add(name);
  });
  if (featureSpecHash.length === 0) throw new ModelError('invalid_params', 'featureSpecHash must be non-empty, was ""', {});
  for (const key of Object.keys(options.metadata ?? {})) {
    if (RESERVED_KEYS.includes(key)) throw new ModelError('invalid_params', `metadata key must not be one of ${RESERVED_KEYS.join(', ')}, was ${JSON.stringify(key)}`, { key });
  }

  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: Uint8Array[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const targetTreeIds: number[] = [];
  const targetNodeIds: number[] = [];
  const targetIds: number[] = [];
  const targetWeights: number[] = [];
  const encoder = new TextEncoder();
  const branch = encoder.encode('BRANCH_LEQ');
  const leaf = encoder.encode('LEAF');
  model.trees.forEach((tree, t) => {
    for (let j = 0; j < tree.feature.length; j++) {
      const isLeaf = tree.feature[j]! < 0;
      treeIds.push(t);
      nodeIds.push(j);
      featureIds.push(isLeaf ? 0 : tree.feature[j]!);
      modes.push(isLeaf ? leaf : branch);
      values.push(isLeaf ? 0 : tree.threshold[j]!);
      trueIds.push(isLeaf ? 0 : tree.left[j]!);
      falseIds.push(isLeaf ? 0 : tree.right[j]!);
      if (isLeaf) {
        targetTreeIds.push(t);
        targetNodeIds.push(j);
        targetIds.push(0);
        targetWeights.push(tree.value[j]!);
      }
    }
  });

  const ints = (name: string, v: number[]) => ({ name, type: ATTRIBUTE_TYPE.INTS, ints: v });
  const floats = (name: string, v: number[]) => ({ name, type: ATTRIBUTE_TYPE.FLOATS, floats: v });
  const string = (name: string, v: string) => ({ name, type: ATTRIBUTE_TYPE.STRING, s: encoder.encode(v) });
  const node = {
    input: [ONNX_INPUT_NAME],
    output: [ONNX_OUTPUT_NAME],
    name: 'tree_ensemble',
    op_type: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    attribute: [
      string('aggregate_function', model.aggregate),
      floats('base_values', [model.baseScore]),
      { name: 'n_targets', type: ATTRIBUTE_TYPE.INT, i: 1 },
      ints('nodes_falsenodeids', falseIds),
      ints('nodes_featureids', featureIds),
      { name: 'nodes_modes', type: ATTRIBUTE_TYPE.STRINGS, strings: modes },
      ints('nodes_nodeids', nodeIds),
      ints('nodes_treeids', treeIds),
      ints('nodes_truenodeids', trueIds),
      floats('nodes_values', values),
      string('post_transform', 'NONE'),
      ints('target_ids', targetIds),
      ints('target_nodeids', targetNodeIds),
      ints('target_treeids', targetTreeIds),
      floats('target_weights', targetWeights),
    ],
  };
  const tensor = (name: string, dims: object[]) => ({ name, type: { tensor_type: { elem_type: ONNX_FLOAT, shape: { dim: dims } } } });
  const params = model.params;
  const metadata: [string, string][] = [
    ['format', 'trade-matrix/tree-ensemble@1'],
    ['model_kind', model.kind],
    ['feature_names', JSON.stringify(featureNames)],
    ['feature_spec_hash', featureSpecHash],
    ['seed', String(params['seed'])],
    ['params', JSON.stringify(params)],
    ['tree_count', String(model.treeCount)],
    ...(options.trainedAt !== undefined ? ([['trained_at', options.trainedAt]] as [string, string][]) : []),
    ...Object.entries(options.metadata ?? {}),
  ];
  const root = onnxSchema();
  const ModelProto = root.lookupType('onnx.ModelProto');
  const message = ModelProto.fromObject({
    ir_version: ONNX_IR_VERSION,
    opset_import: [
      { domain: '', version: ONNX_OPSET },
      { domain: 'ai.onnx.ml', version: ONNX_ML_OPSET },
    ],
    producer_name: 'trade-matrix',
    producer_version: '1',
    model_version: 1,
    doc_string: `${model.kind} regressor, ${model.treeCount} trees over ${model.featureCount} features`,
    graph: {
      name: model.kind.replace('-', '_'),
      node: [node],
      input: [tensor(ONNX_INPUT_NAME, [{ dim_param: 'N' }, { dim_value: model.featureCount }])],
      output: [tensor(ONNX_OUTPUT_NAME, [{ dim_param: 'N' }, { dim_value: 1 }])],
    },
    metadata_props: metadata.map(([key, value]) => ({ key, value })),
  });
  return ModelProto.encode(message).finish();
}
