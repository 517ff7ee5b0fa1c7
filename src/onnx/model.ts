import { endianness } from 'node:os';
import type { DType, Tensor } from '../core/tensor.js';
import type { Shape } from '../ir/graph.js';
import { packageVersion } from '../util/paths.js';
import { ProtoWriter } from './protobuf.js';

/** ONNX opset and IR version: opset 17 is understood by onnxruntime and by onnx >= 1.12's checker. */
export const ONNX_OPSET = 17;
const IR_VERSION = 8;
const BATCH_DIM = 'batch';

/** Element types an ONNX artifact may hold: the checkpoint's, plus the reduced precisions. */
export type OnnxDType = DType | 'int8' | 'float16';

/** An initializer as stored: float16 as raw IEEE half bits. */
export type OnnxTensor =
  Tensor | { dtype: 'int8'; shape: readonly number[]; data: Int8Array } | { dtype: 'float16'; shape: readonly number[]; data: Uint16Array };

export const ELEMENT_TYPE: Record<OnnxDType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10 };
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;

export type Attr = { name: string } & ({ f: number } | { i: number } | { ints: readonly number[] });

export interface OnnxNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attr[];
  /** Operator domain; empty for the standard one. */
  domain?: string;
}

export interface OnnxValue {
  name: string;
  elemType: OnnxDType;
  /** Unknown for intermediate values exposed as outputs (calibration). */
  shape?: Shape;
}

/** An ONNX graph before serialization. */
export interface OnnxModel {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
}

export interface ExportMetadata {
  [key: string]: string;
}

export function serializeOnnx(m: OnnxModel, metadata: ExportMetadata = {}): Buffer {
  if (endianness() !== 'LE') throw new Error('ONNX export needs a little-endian machine');
  const g = new ProtoWriter();
  for (const n of m.nodes) g.message(1, nodeProto(n));
  g.string(2, m.name);
  for (const [name, t] of m.initializers) g.message(5, tensorProto(name, t));
  for (const v of m.inputs) g.message(11, valueInfo(v));
  for (const v of m.outputs) g.message(12, valueInfo(v));

  const model = new ProtoWriter();
  model.int(1, IR_VERSION);
  model.string(2, 'levit');
  model.string(3, packageVersion);
  model.message(7, g);
  model.message(8, new ProtoWriter().string(1, '').int(2, ONNX_OPSET));
  if (m.nodes.some((n) => n.domain === 'com.microsoft')) model.message(8, new ProtoWriter().string(1, 'com.microsoft').int(2, 1));
  for (const [key, value] of Object.entries(metadata)) {
    model.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return model.toBuffer();
}

function nodeProto(n: OnnxNode): ProtoWriter {
  const p = new ProtoWriter();
  for (const i of n.inputs) p.string(1, i);
  for (const o of n.outputs) p.string(2, o);
  p.string(3, n.name);
  p.string(4, n.op);
  for (const a of n.attrs ?? []) {
    const attr = new ProtoWriter().string(1, a.name);
    if ('f' in a) attr.float(2, a.f).int(20, ATTR.FLOAT);
    else if ('i' in a) attr.int(3, a.i).int(20, ATTR.INT);
    else attr.ints(8, a.ints).int(20, ATTR.INTS);
    p.message(5, attr);
  }
  if (n.domain) p.string(7, n.domain);
  return p;
}

function tensorProto(name: string, t: OnnxTensor): ProtoWriter {
  const data = t.data;
  return new ProtoWriter()
    .ints(1, t.shape)
    .int(2, ELEMENT_TYPE[t.dtype])
    .string(8, name)
    .bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function valueInfo(v: OnnxValue): ProtoWriter {
  const tensorType = new ProtoWriter().int(1, ELEMENT_TYPE[v.elemType]);
  if (v.shape) {
    const dims = new ProtoWriter();
    for (const d of v.shape) dims.message(1, d === 'N' ? new ProtoWriter().string(2, BATCH_DIM) : new ProtoWriter().int(1, d));
    tensorType.message(2, dims);
  }
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}
