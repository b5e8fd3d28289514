import protobuf from 'protobufjs';
import { ONNX_ML_PROTO } from './onnx-ml-proto.js';

/** ONNX `TensorProto.DataType.FLOAT`. */
export const ONNX_FLOAT = 1;

/** ONNX `AttributeProto.AttributeType` values used here. */
export const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

let root: protobuf.Root | undefined;

/**
 * Returns the protobufjs root of the official ONNX schema (snake_case field names as in onnx-ml.proto), parsed
 * once. It also holds `onnx.ModelHeaderView`: a ModelProto view with only the header fields (ir_version,
 * producer_name, opset_import, metadata_props: same field numbers), so metadata reads skip the graph.
 */
export function onnxSchema(): protobuf.Root {
  if (root) return root;
  const parsed = protobuf.parse(ONNX_ML_PROTO, { keepCase: true }).root;
  const header = new protobuf.Type('ModelHeaderView')
    .add(new protobuf.Field('ir_version', 1, 'int64'))
    .add(new protobuf.Field('producer_name', 2, 'string'))
    .add(new protobuf.Field('opset_import', 8, 'OperatorSetIdProto', 'repeated'))
    .add(new protobuf.Field('metadata_props', 14, 'StringStringEntryProto', 'repeated'));
  (parsed.lookup('onnx') as protobuf.Namespace).add(header);
  parsed.resolveAll();
  root = parsed;
  return root;
}
