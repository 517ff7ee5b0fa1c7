import { createHash } from 'node:crypto';
import { type Tensor, asFloat } from '../core/tensor.js';
import { GELU, batchNormAffine, transposeLinearWeight, unhandledOp } from '../ir/arithmetic.js';
import type { Graph, Node } from '../ir/graph.js';
import { packageVersion } from '../util/paths.js';
import { type QuantizationSpec, type TfjsWeightQuantization, quantizeTfjsWeight } from './quantize.js';

/**
 * Writes a graph as a TensorFlow.js graph model: a TensorFlow GraphDef in JSON (model.json)
 * plus little-endian weight shards, loadable by a stock tf.loadGraphModel. The input and
 * output contract is the ONNX artifact's: NCHW float32 in, logits out. Convolutions run in
 * NHWC (the only layout every TF.js backend supports), with transposes around them.
 */

type AttrValue =
  | { type: string }
  | { s: string }
  | { i: string }
  | { f: number }
  | { b: boolean }
  | { list: { i?: string[]; s?: string[] } }
  | { shape: { dim: { size: string }[] } };

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: QuantizationSpec;
}

export interface TfjsModel {
  modelJson: object;
  shards: { name: string; data: Buffer }[];
}

const SHARD_BYTES = 4 * 1024 * 1024;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const F32: AttrValue = { type: 'DT_FLOAT' };
const ints = (xs: readonly number[]): AttrValue => ({ list: { i: xs.map(String) } });

class TfjsLowering {
  readonly nodes: TfNode[] = [];
  readonly weights: { spec: WeightSpec; data: Float32Array | Int32Array }[] = [];
  private count = 0;

  constructor(private readonly graph: Graph) {}

  private fresh(base: string): string {
    return `${base.replace(/[^\w./-]/g, '_')}__${this.count++}`;
  }

  private node(op: string, base: string, input: string[], attr: Record<string, AttrValue> = {}): string {
    const name = this.fresh(base);
    this.nodes.push({ name, op, input, attr });
    return name;
  }

  const(base: string, data: Float32Array | Int32Array, shape: readonly number[]): string {
    const name = this.fresh(base);
    const dtype = data instanceof Int32Array ? 'int32' : 'float32';
    const tfType = dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
    this.nodes.push({
      name,
      op: 'Const',
      attr: {
        dtype: { type: tfType },
        value: { tensor: { dtype: tfType, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } as unknown as AttrValue,
      },
    });
    this.weights.push({ spec: { name, shape: [...shape], dtype }, data });
    return name;
  }

  private i32(base: string, values: readonly number[]): string {
    return this.const(base, Int32Array.from(values), [values.length]);
  }

  private scalar(base: string, v: number): string {
    return this.const(base, Float32Array.of(v), []);
  }

  /** A value of the IR: an activation (already lowered) or an initializer (lowered on first use). */
  private readonly values = new Map<string, string>();

  value(name: string): string {
    const v = this.values.get(name);
    if (v) return v;
    if (!this.graph.isInitializer(name)) throw new Error(`tfjs export: ${name} used before it is computed`);
    const t = this.graph.tensor(name);
    const c = this.const(name, toTfData(t), t.shape);
    this.values.set(name, c);
    return c;
  }

  input(name: string): void {
    const shape = this.graph.shape(name).map((d) => ({ size: d === 'N' ? '-1' : String(d) }));
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: F32, shape: { shape: { dim: shape } } } });
    this.values.set(name, name);
  }

  output(name: string, as: string): void {
    this.nodes.push({ name: as, op: 'Identity', input: [this.value(name)], attr: { T: F32 } });
  }

  private set(n: Node, out: string): void {
    this.values.set(n.outputs[0], out);
  }

  lower(n: Node): void {
    const x = () => this.value(n.inputs[0]);
    const shapeOf = (v: string) => this.graph.shape(v);
    switch (n.op) {
      case 'conv2d':
        return this.set(n, this.conv2d(n, x()));
      case 'linear':
        return this.set(n, this.linear(n, x()));
      case 'matmul':
        return this.set(n, this.node('BatchMatMulV2', n.name, [x(), this.value(n.inputs[1])], { T: F32, adj_x: { b: false }, adj_y: { b: false } }));
      case 'add':
        return this.set(n, this.node('AddV2', n.name, [x(), this.value(n.inputs[1])], { T: F32 }));
      case 'sub':
        return this.set(n, this.node('Sub', n.name, [x(), this.value(n.inputs[1])], { T: F32 }));
      case 'mul':
        return this.set(n, this.node('Mul', n.name, [x(), this.value(n.inputs[1])], { T: F32 }));
      case 'concat': {
        const axis = n.axis < 0 ? shapeOf(n.inputs[0]).length + n.axis : n.axis;
        const inputs = [...n.inputs.map((v) => this.value(v)), this.const(n.name, Int32Array.of(axis), [])];
        return this.set(n, this.node('ConcatV2', n.name, inputs, { T: F32, N: { i: String(n.inputs.length) }, Tidx: { type: 'DT_INT32' } }));
      }
      case 'avgpool2d':
        return this.set(n, this.avgPool(n, x()));
      case 'l2normalize': {
        // x * rsqrt(max(sum(x^2), eps^2)) = x / max(||x||, eps)
        const axis = this.i32(n.name, [n.axis]);
        const sumSq = this.node('Sum', `${n.name}/sumsq`, [this.node('Square', `${n.name}/sq`, [x()], { T: F32 }), axis], { T: F32, keep_dims: { b: true } });
        const clamped = this.node('Maximum', `${n.name}/clamp`, [sumSq, this.scalar(n.name, n.eps * n.eps)], { T: F32 });
        return this.set(n, this.node('Mul', n.name, [x(), this.node('Rsqrt', `${n.name}/rsqrt`, [clamped], { T: F32 })], { T: F32 }));
      }
      case 'relu':
        return this.set(n, this.node('Relu', n.name, [x()], { T: F32 }));
      case 'hardswish': {
        // x * relu6(x + 3) / 6
        const r = this.node('Relu6', `${n.name}/relu6`, [this.node('AddV2', `${n.name}/plus3`, [x(), this.scalar(n.name, 3)], { T: F32 })], { T: F32 });
        return this.set(n, this.node('Mul', n.name, [this.node('Mul', `${n.name}/gate`, [x(), r], { T: F32 }), this.scalar(n.name, 1 / 6)], { T: F32 }));
      }
      case 'silu':
        return this.set(n, this.node('Mul', n.name, [x(), this.node('Sigmoid', `${n.name}/sigmoid`, [x()], { T: F32 })], { T: F32 }));
      case 'sigmoid':
        return this.set(n, this.node('Sigmoid', n.name, [x()], { T: F32 }));
      case 'gelu': {
        const scaled = this.node('Mul', `${n.name}/scale`, [x(), this.scalar(n.name, GELU.inputScale)], { T: F32 });
        const erf = this.node('Erf', `${n.name}/erf`, [scaled], { T: F32 });
        const half = this.node('Mul', `${n.name}/half`, [x(), this.scalar(n.name, GELU.half)], { T: F32 });
        return this.set(n, this.node('Mul', n.name, [half, this.node('AddV2', `${n.name}/plus1`, [erf, this.scalar(n.name, 1)], { T: F32 })], { T: F32 }));
      }
      case 'layernorm':
        return this.set(n, this.layerNorm(n, x()));
      case 'softmax':
        if (n.axis !== -1 && n.axis !== shapeOf(n.inputs[0]).length - 1) throw new Error('tfjs export: softmax over the last axis only');
        return this.set(n, this.node('Softmax', n.name, [x()], { T: F32 }));
      case 'reshape':
        return this.set(
          n,
          this.reshape(
            n.name,
            x(),
            n.shape.map((d) => (d === 'N' ? -1 : d)),
          ),
        );
      case 'transpose':
        return this.set(n, this.transpose(n.name, x(), n.perm));
      case 'slice': {
        const rank = shapeOf(n.inputs[0]).length;
        const axis = n.axis < 0 ? rank + n.axis : n.axis;
        const at = (v: number, other: number) => Array.from({ length: rank }, (_, i) => (i === axis ? v : other));
        const mask = ((1 << rank) - 1) & ~(1 << axis);
        return this.set(
          n,
          this.node('StridedSlice', n.name, [x(), this.i32(n.name, at(n.start, 0)), this.i32(n.name, at(n.end, 0)), this.i32(n.name, at(n.step, 1))], {
            T: F32,
            Index: { type: 'DT_INT32' },
            begin_mask: { i: String(mask) },
            end_mask: { i: String(mask) },
            ellipsis_mask: { i: '0' },
            new_axis_mask: { i: '0' },
            shrink_axis_mask: { i: '0' },
          }),
        );
      }
      case 'split': {
        const split = this.node('SplitV', n.name, [x(), this.i32(n.name, n.sizes), this.const(n.name, Int32Array.of(n.axis), [])], {
          T: F32,
          num_split: { i: String(n.sizes.length) },
        });
        n.outputs.forEach((o, i) => this.values.set(o, i === 0 ? split : `${split}:${i}`));
        return;
      }
      case 'mean':
        return this.set(n, this.node('Mean', n.name, [x(), this.i32(n.name, n.axes)], { T: F32, keep_dims: { b: n.keepdims } }));
      case 'batchnorm':
        return this.set(n, this.batchNorm(n, x()));
      case 'gather_bias':
        return this.set(n, this.node('GatherV2', n.name, [x(), this.value(n.inputs[1]), this.const(n.name, Int32Array.of(1), [])], { batch_dims: { i: '0' } }));
      case 'prepend_tokens':
        return this.set(n, this.prependTokens(n));
      case 'div':
        return this.set(n, this.node('RealDiv', n.name, [x(), this.value(n.inputs[1])], { T: F32 }));
      case 'pow':
        return this.set(n, this.node('Pow', n.name, [x(), this.scalar(n.name, n.exponent)], { T: F32 }));
      case 'log':
        return this.set(n, this.node('Log', n.name, [x()], { T: F32 }));
      case 'reduce':
        return this.set(
          n,
          this.node(n.reduction === 'max' ? 'Max' : 'Sum', n.name, [x(), this.i32(n.name, [n.axis])], { T: F32, keep_dims: { b: n.keepdims } }),
        );
      case 'argmax': {
        const index = this.node('ArgMax', `${n.name}/argmax`, [x(), this.const(n.name, Int32Array.of(n.axis), [])], {
          T: F32,
          output_type: { type: 'DT_INT32' },
        });
        return this.set(n, this.toFloat(n.name, index, 'DT_INT32'));
      }
      case 'compare': {
        const holds = this.node(n.relation === 'greater' ? 'Greater' : 'Equal', `${n.name}/${n.relation}`, [x(), this.value(n.inputs[1])], { T: F32 });
        return this.set(n, this.toFloat(n.name, holds, 'DT_BOOL'));
      }
      case 'cumsum':
        return this.set(
          n,
          this.node('Cumsum', n.name, [x(), this.const(n.name, Int32Array.of(n.axis), [])], { T: F32, exclusive: { b: false }, reverse: { b: false } }),
        );
      case 'segment_sum':
        return this.set(n, this.segmentSum(n, x()));
      case 'gather_rows':
        return this.set(n, this.gatherRows(n, x()));
      default:
        return unhandledOp(n, 'tfjs export');
    }
  }

  private toFloat(base: string, x: string, from: 'DT_INT32' | 'DT_BOOL'): string {
    return this.node('Cast', base, [x], { SrcT: { type: from }, DstT: F32 });
  }

  /**
   * A one-hot matrix of float ids [N, L] over `classes`: [N, classes, L] (onehot[n, c, l] = ids[n, l] == c), or
   * [N, L, classes] when `transposed`; made once for every product by the same ids.
   */
  private readonly oneHots = new Map<string, string>();

  private oneHot(base: string, ids: string, tokens: number, classes: number, transposed: boolean): string {
    const key = `${ids}\u0000${classes}\u0000${transposed}`;
    const known = this.oneHots.get(key);
    if (known) return known;
    const made = this.makeOneHot(base, ids, tokens, classes, transposed);
    this.oneHots.set(key, made);
    return made;
  }

  private makeOneHot(base: string, ids: string, tokens: number, classes: number, transposed: boolean): string {
    const column = this.reshape(`${base}/ids`, ids, transposed ? [-1, tokens, 1] : [-1, 1, tokens]);
    const range = this.const(
      `${base}/classes`,
      Float32Array.from({ length: classes }, (_, c) => c),
      transposed ? [1, classes] : [classes, 1],
    );
    return this.toFloat(`${base}/onehot`, this.node('Equal', `${base}/same`, [column, range], { T: F32 }), 'DT_BOOL');
  }

  private batchMatMul(base: string, a: string, b: string): string {
    return this.node('BatchMatMulV2', base, [a, b], { T: F32, adj_x: { b: false }, adj_y: { b: false } });
  }

  /** Rows summed by group as onehot x, onehot[n, g, l] = (ids[n, l] == g): the ONNX export's form (a batched matrix product). */
  private segmentSum(n: Node & { op: 'segment_sum' }, x: string): string {
    const [, tokens] = this.graph.shape(n.inputs[1]) as number[];
    return this.batchMatMul(n.name, this.oneHot(n.name, this.value(n.inputs[1]), tokens, n.groups, false), x);
  }

  /**
   * Rows picked by index as onehot x, onehot[n, l, m] = (ids[n, l] == m). Not GatherV2 with batch_dims: TF.js's
   * WebAssembly backend (4.22) gathers from the wrong image with it.
   */
  private gatherRows(n: Node, x: string): string {
    const [, rows] = this.graph.shape(n.inputs[0]) as number[];
    const [, tokens] = this.graph.shape(n.inputs[1]) as number[];
    return this.batchMatMul(n.name, this.oneHot(n.name, this.value(n.inputs[1]), tokens, rows, true), x);
  }

  private reshape(base: string, x: string, shape: readonly number[]): string {
    return this.node('Reshape', base, [x, this.i32(base, shape)], { T: F32 });
  }

  private transpose(base: string, x: string, perm: readonly number[]): string {
    return this.node('Transpose', base, [x, this.i32(base, perm)], { T: F32 });
  }

  private conv2d(n: Node & { op: 'conv2d' }, x: string): string {
    const w = asFloat(this.graph.tensor(n.inputs[1]), n.inputs[1]);
    const [cout, cinPerGroup, kh, kw] = w.shape;
    const depthwise = n.groups > 1;
    if (depthwise && (cinPerGroup !== 1 || n.groups !== cout)) throw new Error(`tfjs export: ${n.name}: only plain and depthwise convolutions`);
    // PyTorch [out, in, kh, kw] -> TensorFlow [kh, kw, in, out], or [kh, kw, channels, 1] for depthwise.
    const filter = new Float32Array(w.data.length);
    const inC = depthwise ? cout : cinPerGroup;
    const outC = depthwise ? 1 : cout;
    for (let o = 0; o < cout; o++) {
      for (let i = 0; i < cinPerGroup; i++) {
        for (let y = 0; y < kh; y++) {
          for (let xx = 0; xx < kw; xx++) {
            const src = ((o * cinPerGroup + i) * kh + y) * kw + xx;
            const [ci, co] = depthwise ? [o, 0] : [i, o];
            filter[((y * kw + xx) * inC + ci) * outC + co] = w.data[src];
          }
        }
      }
    }
    const f = this.const(`${n.name}/filter`, filter, [kh, kw, inC, outC]);
    const nhwc = this.transpose(`${n.name}/to_nhwc`, x, [0, 2, 3, 1]);
    const p = n.pad;
    const attrs: Record<string, AttrValue> = {
      T: F32,
      strides: ints([1, n.stride, n.stride, 1]),
      dilations: ints([1, 1, 1, 1]),
      data_format: { s: b64('NHWC') },
      padding: { s: b64(p ? 'EXPLICIT' : 'VALID') },
      explicit_paddings: ints(p ? [0, 0, p, p, p, p, 0, 0] : []),
    };
    let y = this.node(depthwise ? 'DepthwiseConv2dNative' : 'Conv2D', n.name, [nhwc, f], attrs);
    if (n.inputs[2]) y = this.node('BiasAdd', `${n.name}/bias`, [y, this.value(n.inputs[2])], { T: F32, data_format: { s: b64('NHWC') } });
    return this.transpose(`${n.name}/to_nchw`, y, [0, 3, 1, 2]);
  }

  /**
   * TensorFlow pads a pooling window only as 'SAME', and then averages over the in-image cells:
   * that is PyTorch's count_include_pad=False with stride 1 and padding (kernel - 1) / 2.
   */
  private avgPool(n: Node & { op: 'avgpool2d' }, x: string): string {
    const same = n.stride === 1 && n.kernel === 2 * n.pad + 1 && !n.countIncludePad;
    if (n.pad !== 0 && !same) throw new Error(`tfjs export: ${n.name}: average pooling with this padding has no TensorFlow equivalent`);
    const nhwc = this.transpose(`${n.name}/to_nhwc`, x, [0, 2, 3, 1]);
    const y = this.node('AvgPool', n.name, [nhwc], {
      T: F32,
      ksize: ints([1, n.kernel, n.kernel, 1]),
      strides: ints([1, n.stride, n.stride, 1]),
      padding: { s: b64(same ? 'SAME' : 'VALID') },
      data_format: { s: b64('NHWC') },
    });
    return this.transpose(`${n.name}/to_nchw`, y, [0, 3, 1, 2]);
  }

  /** x W^T + b over the last axis, as a 2-D fused product between reshapes. */
  private linear(n: Node, x: string): string {
    const w = transposeLinearWeight(asFloat(this.graph.tensor(n.inputs[1]), n.inputs[1]));
    const [inF, outF] = w.shape;
    const inShape = this.graph.shape(n.inputs[0]);
    const flat = inShape.length === 2 ? x : this.reshape(`${n.name}/flatten`, x, [-1, inF]);
    // Stored [in, out]: TF.js's wasm backend gets _FusedMatMul with transpose_b wrong.
    const weight = this.const(`${n.name}/weight`, w.data, [inF, outF]);
    const mm = n.inputs[2]
      ? this.node('_FusedMatMul', n.name, [flat, weight, this.value(n.inputs[2])], {
          T: F32,
          transpose_a: { b: false },
          transpose_b: { b: false },
          num_args: { i: '1' },
          fused_ops: { list: { s: [b64('BiasAdd')] } },
          epsilon: { f: 0 },
        })
      : this.node('MatMul', n.name, [flat, weight], { T: F32, transpose_a: { b: false }, transpose_b: { b: false } });
    if (inShape.length === 2) return mm;
    const out = this.graph.shape(n.outputs[0]).map((d) => (d === 'N' ? -1 : d));
    return this.reshape(`${n.name}/unflatten`, mm, out);
  }

  private layerNorm(n: Node & { op: 'layernorm' }, x: string): string {
    const axis = this.i32(n.name, [-1]);
    const mean = this.node('Mean', `${n.name}/mean`, [x, axis], { T: F32, keep_dims: { b: true } });
    const centred = this.node('Sub', `${n.name}/centre`, [x, mean], { T: F32 });
    const variance = this.node('Mean', `${n.name}/var`, [this.node('Square', `${n.name}/sq`, [centred], { T: F32 }), axis], { T: F32, keep_dims: { b: true } });
    const inv = this.node('Rsqrt', `${n.name}/rsqrt`, [this.node('AddV2', `${n.name}/eps`, [variance, this.scalar(n.name, n.eps)], { T: F32 })], { T: F32 });
    const scaled = this.node('Mul', `${n.name}/scale`, [this.node('Mul', `${n.name}/norm`, [centred, inv], { T: F32 }), this.value(n.inputs[1])], { T: F32 });
    return this.node('AddV2', n.name, [scaled, this.value(n.inputs[2])], { T: F32 });
  }

  private batchNorm(n: Node & { op: 'batchnorm' }, x: string): string {
    const { scale, shift } = batchNormAffine(this.graph, n);
    const rank = this.graph.shape(n.inputs[0]).length;
    const axis = n.axis < 0 ? rank + n.axis : n.axis;
    const shape = Array.from({ length: rank - axis }, (_, i) => (i === 0 ? scale.length : 1));
    const scaled = this.node('Mul', `${n.name}/scale`, [x, this.const(`${n.name}/s`, scale, shape)], { T: F32 });
    return this.node('AddV2', n.name, [scaled, this.const(`${n.name}/t`, shift, shape)], { T: F32 });
  }

  private prependTokens(n: Node): string {
    const [tokens, x] = [this.value(n.inputs[0]), this.value(n.inputs[1])];
    const shape = this.node('Shape', `${n.name}/shape`, [x], { T: F32, out_type: { type: 'DT_INT32' } });
    const batch = this.node('StridedSlice', `${n.name}/batch`, [shape, this.i32(n.name, [0]), this.i32(n.name, [1]), this.i32(n.name, [1])], {
      T: { type: 'DT_INT32' },
      Index: { type: 'DT_INT32' },
      begin_mask: { i: '0' },
      end_mask: { i: '0' },
      ellipsis_mask: { i: '0' },
      new_axis_mask: { i: '0' },
      shrink_axis_mask: { i: '0' },
    });
    const reps = this.node('ConcatV2', `${n.name}/reps`, [batch, this.i32(n.name, [1, 1]), this.const(n.name, Int32Array.of(0), [])], {
      T: { type: 'DT_INT32' },
      N: { i: '2' },
      Tidx: { type: 'DT_INT32' },
    });
    const tiled = this.node('Tile', `${n.name}/tile`, [tokens, reps], { T: F32, Tmultiples: { type: 'DT_INT32' } });
    return this.node('ConcatV2', n.name, [tiled, x, this.const(n.name, Int32Array.of(1), [])], { T: F32, N: { i: '2' }, Tidx: { type: 'DT_INT32' } });
  }
}

function toTfData(t: Tensor): Float32Array | Int32Array {
  if (t.dtype === 'float32') return t.data as Float32Array;
  if (t.dtype === 'int64') return Int32Array.from(t.data as BigInt64Array, (v) => Number(v));
  return Int32Array.from(t.data as ArrayLike<number>);
}

export const TFJS_INPUT = 'input';
/** A graph-model folder: model.json names the weight shards; levit's shards carry a hash of the weights in their names. */
export const TFJS_LAYOUT = { index: 'model.json', isPart: (name: string) => /^group\d+-shard\d+of\d+(\.[0-9a-f]+)?\.bin$/.test(name) };
export const TFJS_OUTPUT = 'logits';

/** With `quantization`, float weights are stored in uint8 or float16 (smaller downloads); arithmetic stays float32. */
export function exportTfjs(graph: Graph, metadata: Record<string, string> = {}, quantization?: TfjsWeightQuantization): TfjsModel {
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) throw new Error('tfjs export: one input and one output');
  const l = new TfjsLowering(graph);
  l.input(graph.inputs[0]);
  for (const n of graph.nodes) l.lower(n);
  l.output(graph.outputs[0], TFJS_OUTPUT);

  const stored = l.weights.map((w) => {
    if (!quantization || !(w.data instanceof Float32Array)) return { spec: w.spec, bytes: w.data };
    const q = quantizeTfjsWeight(w.data, quantization);
    return { spec: { ...w.spec, quantization: q.quantization }, bytes: q.bytes };
  });
  const all = Buffer.concat(stored.map((w) => Buffer.from(w.bytes.buffer, w.bytes.byteOffset, w.bytes.byteLength)));
  const count = Math.max(1, Math.ceil(all.length / SHARD_BYTES));
  // Named by their bytes, so that a folder is updated without ever overwriting a shard a reader may be using.
  const tag = createHash('sha256').update(all).digest('hex').slice(0, 10);
  const shards = Array.from({ length: count }, (_, i) => ({
    name: `group1-shard${i + 1}of${count}.${tag}.bin`,
    data: all.subarray(i * SHARD_BYTES, Math.min(all.length, (i + 1) * SHARD_BYTES)),
  }));
  const tensorInfo = (name: string, shape: readonly (number | 'N')[]) => ({
    name: `${name}:0`,
    dtype: 'DT_FLOAT',
    tensorShape: { dim: shape.map((d) => ({ size: d === 'N' ? '-1' : String(d) })) },
  });
  const modelJson = {
    format: 'graph-model',
    generatedBy: `levit ${packageVersion}`,
    convertedBy: `levit ${packageVersion}`,
    userDefinedMetadata: metadata,
    signature: {
      inputs: { [TFJS_INPUT]: tensorInfo(graph.inputs[0], graph.shape(graph.inputs[0])) },
      outputs: { [TFJS_OUTPUT]: tensorInfo(TFJS_OUTPUT, graph.shape(graph.outputs[0])) },
    },
    modelTopology: { node: l.nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [{ paths: shards.map((s) => s.name), weights: stored.map((w) => w.spec) }],
  };
  return { modelJson, shards };
}
