import { type Tensor, asFloat } from '../core/tensor.js';
import { GELU, batchNormAffine, transposeLinearWeight, unhandledOp } from '../ir/arithmetic.js';
import type { Graph, Node } from '../ir/graph.js';
import { type Attr, ELEMENT_TYPE, type ExportMetadata, type OnnxModel, type OnnxNode, type OnnxTensor, serializeOnnx } from './model.js';

export { ONNX_OPSET, type ExportMetadata } from './model.js';

/** Writes a graph as an ONNX ModelProto with a free batch dimension. */
export function exportOnnx(graph: Graph, metadata: ExportMetadata = {}): Buffer {
  return serializeOnnx(lowerGraph(graph), metadata);
}

/** The graph as ONNX operators, before serialization: what precision rewrites work on. */
export function lowerGraph(graph: Graph): OnnxModel {
  const lowering = new Lowering(graph);
  for (const node of graph.nodes) lowering.lower(node);
  const read = new Set(lowering.nodes.flatMap((n) => n.inputs));
  const initializers = new Map<string, OnnxTensor>();
  for (const [name, init] of graph.initializers) if (read.has(name)) initializers.set(name, lowering.stored(name, init.tensor));
  for (const [name, t] of lowering.extraInitializers) initializers.set(name, t);
  return {
    name: graph.name,
    nodes: lowering.nodes,
    initializers,
    inputs: graph.inputs.map((v) => ({ name: v, elemType: 'float32', shape: graph.shape(v) })),
    outputs: graph.outputs.map((v) => ({ name: v, elemType: 'float32', shape: graph.shape(v) })),
  };
}

const int64s = (values: readonly number[]): Tensor => ({
  dtype: 'int64',
  shape: [values.length],
  data: BigInt64Array.from(values, (v) => BigInt(v)),
});

/** Maps IR nodes to ONNX operators, adding the small constant inputs ONNX wants. */
class Lowering {
  readonly nodes: OnnxNode[] = [];
  readonly extraInitializers = new Map<string, Tensor>();
  /** Linear weights are stored [in, out] for MatMul; PyTorch's layout is [out, in]. */
  private readonly transposed = new Set<string>();

  constructor(private readonly graph: Graph) {}

  stored(name: string, t: Tensor): Tensor {
    if (!this.transposed.has(name)) return t;
    return transposeLinearWeight(asFloat(t, name));
  }

  private constant(base: string, t: Tensor): string {
    const name = `${base}:const${this.extraInitializers.size}`;
    this.extraInitializers.set(name, t);
    return name;
  }

  private emit(op: string, name: string, inputs: string[], outputs: string[], attrs?: Attr[]): void {
    this.nodes.push({ op, name, inputs, outputs, attrs });
  }

  lower(n: Node): void {
    const [x] = n.inputs;
    const out = n.outputs;
    switch (n.op) {
      case 'conv2d': {
        const [, , kh, kw] = this.graph.shape(n.inputs[1]) as number[];
        this.emit('Conv', n.name, n.inputs, out, [
          { name: 'kernel_shape', ints: [kh, kw] },
          { name: 'strides', ints: [n.stride, n.stride] },
          { name: 'pads', ints: [n.pad, n.pad, n.pad, n.pad] },
          { name: 'group', i: n.groups },
        ]);
        return;
      }
      case 'linear': {
        if (this.graph.consumers(n.inputs[1]).length > 1) throw new Error(`${n.inputs[1]} is shared between layers`);
        this.transposed.add(n.inputs[1]);
        if (n.inputs.length === 2) {
          this.emit('MatMul', n.name, [x, n.inputs[1]], out);
          return;
        }
        const inShape = this.graph.shape(x);
        if (inShape.length >= 2) {
          // Gemm (2-D) fuses the bias into the matrix product; MatMul over rank 3 would add it in a second pass.
          const outShape = this.graph.shape(out[0]);
          const flat = inShape.length === 2 ? x : `${n.name}:flat`;
          if (inShape.length > 2) this.emit('Reshape', `${n.name}/flatten`, [x, this.constant(n.name, int64s([-1, inShape.at(-1) as number]))], [flat]);
          const gemmOut = inShape.length === 2 ? out[0] : `${n.name}:gemm`;
          this.emit('Gemm', `${n.name}/gemm`, [flat, n.inputs[1], n.inputs[2]], [gemmOut]);
          if (inShape.length > 2) {
            const target = outShape.map((d, i) => (d === 'N' ? (i === 0 ? 0 : -1) : d));
            this.emit('Reshape', `${n.name}/unflatten`, [gemmOut, this.constant(n.name, int64s(target.map((d, i) => (i === 0 ? -1 : d))))], out);
          }
          return;
        }
        const product = `${n.name}:matmul`;
        this.emit('MatMul', `${n.name}/matmul`, [x, n.inputs[1]], [product]);
        this.emit('Add', `${n.name}/bias`, [product, n.inputs[2]], out);
        return;
      }
      case 'batchnorm':
        this.lowerBatchNorm(n);
        return;
      case 'gather_bias':
        this.emit('Gather', n.name, n.inputs, out, [{ name: 'axis', i: 1 }]);
        return;
      case 'matmul':
        this.emit('MatMul', n.name, n.inputs, out);
        return;
      case 'add':
        this.emit('Add', n.name, n.inputs, out);
        return;
      case 'sub':
        this.emit('Sub', n.name, n.inputs, out);
        return;
      case 'mul':
        this.emit('Mul', n.name, n.inputs, out);
        return;
      case 'concat':
        this.emit('Concat', n.name, n.inputs, out, [{ name: 'axis', i: n.axis }]);
        return;
      case 'avgpool2d':
        this.emit('AveragePool', n.name, n.inputs, out, [
          { name: 'kernel_shape', ints: [n.kernel, n.kernel] },
          { name: 'strides', ints: [n.stride, n.stride] },
          { name: 'pads', ints: [n.pad, n.pad, n.pad, n.pad] },
          { name: 'count_include_pad', i: n.countIncludePad ? 1 : 0 },
        ]);
        return;
      case 'l2normalize': {
        const [norm, clamped] = [`${n.name}:norm`, `${n.name}:clamped`];
        this.emit(
          'ReduceL2',
          `${n.name}/norm`,
          [x],
          [norm],
          [
            { name: 'axes', ints: [n.axis] },
            { name: 'keepdims', i: 1 },
          ],
        );
        this.emit('Max', `${n.name}/clamp`, [norm, this.scalar(n.name, n.eps)], [clamped]);
        this.emit('Div', n.name, [x, clamped], out);
        return;
      }
      case 'relu':
        this.emit('Relu', n.name, n.inputs, out);
        return;
      case 'hardswish':
        this.emit('HardSwish', n.name, n.inputs, out);
        return;
      case 'silu': {
        const gate = `${n.name}:sigmoid`;
        this.emit('Sigmoid', `${n.name}/sigmoid`, [x], [gate]);
        this.emit('Mul', n.name, [x, gate], out);
        return;
      }
      case 'sigmoid':
        this.emit('Sigmoid', n.name, n.inputs, out);
        return;
      case 'gelu':
        this.lowerGelu(n);
        return;
      case 'layernorm':
        this.emit('LayerNormalization', n.name, n.inputs, out, [
          { name: 'axis', i: -1 },
          { name: 'epsilon', f: n.eps },
        ]);
        return;
      case 'prepend_tokens':
        this.lowerPrependTokens(n);
        return;
      case 'softmax':
        this.emit('Softmax', n.name, n.inputs, out, [{ name: 'axis', i: n.axis }]);
        return;
      case 'reshape': {
        // 0 copies the batch dimension from the input, whatever its size.
        const target = n.shape.map((d, i) => (d === 'N' ? (i === 0 ? 0 : -1) : d));
        this.emit('Reshape', n.name, [x, this.constant(n.name, int64s(target))], out);
        return;
      }
      case 'transpose':
        this.emit('Transpose', n.name, n.inputs, out, [{ name: 'perm', ints: n.perm }]);
        return;
      case 'slice':
        this.emit(
          'Slice',
          n.name,
          [
            x,
            this.constant(n.name, int64s([n.start])),
            this.constant(n.name, int64s([n.end])),
            this.constant(n.name, int64s([n.axis])),
            this.constant(n.name, int64s([n.step])),
          ],
          out,
        );
        return;
      case 'split':
        this.emit('Split', n.name, [x, this.constant(n.name, int64s(n.sizes))], out, [{ name: 'axis', i: n.axis }]);
        return;
      case 'mean':
        this.emit('ReduceMean', n.name, n.inputs, out, [
          { name: 'axes', ints: n.axes },
          { name: 'keepdims', i: n.keepdims ? 1 : 0 },
        ]);
        return;
      case 'div':
        this.emit('Div', n.name, n.inputs, out);
        return;
      case 'pow':
        this.emit('Pow', n.name, [x, this.scalar(n.name, n.exponent)], out);
        return;
      case 'log':
        this.emit('Log', n.name, n.inputs, out);
        return;
      case 'reduce':
        if (n.reduction === 'max') {
          this.emit('ReduceMax', n.name, n.inputs, out, [
            { name: 'axes', ints: [n.axis] },
            { name: 'keepdims', i: n.keepdims ? 1 : 0 },
          ]);
        } else {
          // Since opset 13 ReduceSum takes its axes as an input.
          this.emit('ReduceSum', n.name, [x, this.constant(n.name, int64s([n.axis]))], out, [{ name: 'keepdims', i: n.keepdims ? 1 : 0 }]);
        }
        return;
      case 'argmax': {
        const index = `${n.name}:int64`;
        this.emit(
          'ArgMax',
          `${n.name}/argmax`,
          [x],
          [index],
          [
            { name: 'axis', i: n.axis },
            { name: 'keepdims', i: 0 },
          ],
        );
        this.emit('Cast', n.name, [index], out, [{ name: 'to', i: ELEMENT_TYPE.float32 }]);
        return;
      }
      case 'compare': {
        const holds = `${n.name}:bool`;
        this.emit(n.relation === 'greater' ? 'Greater' : 'Equal', `${n.name}/${n.relation}`, n.inputs, [holds]);
        this.emit('Cast', n.name, [holds], out, [{ name: 'to', i: ELEMENT_TYPE.float32 }]);
        return;
      }
      case 'cumsum':
        this.emit('CumSum', n.name, [x, this.constant(n.name, { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(n.axis)) })], out);
        return;
      case 'segment_sum':
        this.lowerSegmentSum(n);
        return;
      case 'gather_rows':
        this.lowerGatherRows(n);
        return;
      default:
        unhandledOp(n, 'ONNX export');
    }
  }

  private scalar(base: string, v: number): string {
    return this.constant(base, { dtype: 'float32', shape: [], data: new Float32Array([v]) });
  }

  /**
   * Rows summed by group as a product with a one-hot matrix built from the ids: onehot[n, g, l] = (ids[n, l] == g),
   * then onehot x. A matrix product, so every runtime runs it at its GEMM speed, without scatter kernels.
   */
  private lowerSegmentSum(n: Node & { op: 'segment_sum' }): void {
    const [x, ids] = n.inputs;
    this.emit('MatMul', n.name, [this.oneHot(n.name, ids, n.groups), x], n.outputs);
  }

  /** The one-hot matrix of ids over `groups`, [N, groups, L]: made once for every segment sum by the same ids. */
  private readonly oneHots = new Map<string, string>();

  private oneHot(base: string, ids: string, groups: number): string {
    const key = `${ids}\u0000${groups}`;
    const known = this.oneHots.get(key);
    if (known) return known;
    const range = this.constant(base, { dtype: 'float32', shape: [groups, 1], data: Float32Array.from({ length: groups }, (_, g) => g) });
    const steps = ['ids', 'same', 'onehot'].map((s) => `${base}:${s}`);
    this.emit('Unsqueeze', `${base}/ids`, [ids, this.constant(base, int64s([1]))], [steps[0]]);
    this.emit('Equal', `${base}/same`, [steps[0], range], [steps[1]]);
    this.emit('Cast', `${base}/onehot`, [steps[1]], [steps[2]], [{ name: 'to', i: ELEMENT_TYPE.float32 }]);
    this.oneHots.set(key, steps[2]);
    return steps[2];
  }

  /** GatherElements along the tokens, its index the ids as int64 expanded over the channels. */
  private lowerGatherRows(n: Node): void {
    const [x, ids] = n.inputs;
    const channels = this.graph.shape(x)[2] as number;
    const steps = ['int64', 'column', 'shape', 'target', 'index'].map((s) => `${n.name}:${s}`);
    this.emit('Cast', `${n.name}/int64`, [ids], [steps[0]], [{ name: 'to', i: ELEMENT_TYPE.int64 }]);
    this.emit('Unsqueeze', `${n.name}/column`, [steps[0], this.constant(n.name, int64s([2]))], [steps[1]]);
    this.emit('Shape', `${n.name}/shape`, [ids], [steps[2]]);
    this.emit('Concat', `${n.name}/target`, [steps[2], this.constant(n.name, int64s([channels]))], [steps[3]], [{ name: 'axis', i: 0 }]);
    this.emit('Expand', `${n.name}/expand`, [steps[1], steps[3]], [steps[4]]);
    this.emit('GatherElements', n.name, [x, steps[4]], n.outputs, [{ name: 'axis', i: 1 }]);
  }

  /** 0.5 x (1 + erf(x / sqrt 2)): opset 17 has no Gelu; onnxruntime fuses this pattern back into one. */
  private lowerGelu(n: Node): void {
    const [x] = n.inputs;
    const scalar = (v: number) => this.scalar(n.name, v);
    const steps = ['scaled', 'erf', 'plus1', 'half'].map((s) => `${n.name}:${s}`);
    this.emit('Mul', `${n.name}/scale`, [x, scalar(GELU.inputScale)], [steps[0]]);
    this.emit('Erf', `${n.name}/erf`, [steps[0]], [steps[1]]);
    this.emit('Add', `${n.name}/plus1`, [steps[1], scalar(1)], [steps[2]]);
    this.emit('Mul', `${n.name}/half`, [x, scalar(GELU.half)], [steps[3]]);
    this.emit('Mul', n.name, [steps[3], steps[2]], n.outputs);
  }

  /** Expands the [1, k, D] tokens to the batch of x, then concatenates along the sequence. */
  private lowerPrependTokens(n: Node): void {
    const [tokens, x] = n.inputs;
    const [, k, d] = this.graph.shape(tokens) as number[];
    const steps = ['shape', 'batch', 'target', 'expanded'].map((s) => `${n.name}:${s}`);
    this.emit('Shape', `${n.name}/shape`, [x], [steps[0]]);
    this.emit('Slice', `${n.name}/batch`, [steps[0], this.constant(n.name, int64s([0])), this.constant(n.name, int64s([1]))], [steps[1]]);
    this.emit('Concat', `${n.name}/target`, [steps[1], this.constant(n.name, int64s([k, d]))], [steps[2]], [{ name: 'axis', i: 0 }]);
    this.emit('Expand', `${n.name}/expand`, [tokens, steps[2]], [steps[3]]);
    this.emit('Concat', n.name, [steps[3], x], n.outputs, [{ name: 'axis', i: 1 }]);
  }

  /** A BatchNorm that no pass could fold: an affine map along its axis. */
  private lowerBatchNorm(n: Node & { op: 'batchnorm' }): void {
    const [x] = n.inputs;
    const rank = this.graph.shape(x).length;
    const axis = n.axis < 0 ? rank + n.axis : n.axis;
    if (axis === 1) {
      this.emit('BatchNormalization', n.name, n.inputs, n.outputs, [{ name: 'epsilon', f: n.eps }]);
      return;
    }
    if (axis !== rank - 1) throw new Error(`${n.name}: BatchNorm over axis ${n.axis} of a rank-${rank} tensor`);
    const { scale, shift } = batchNormAffine(this.graph, n);
    const scaled = `${n.name}:scaled`;
    this.emit('Mul', `${n.name}/scale`, [x, this.constant(n.name, { dtype: 'float32', shape: [scale.length], data: scale })], [scaled]);
    this.emit('Add', `${n.name}/shift`, [scaled, this.constant(n.name, { dtype: 'float32', shape: [shift.length], data: shift })], n.outputs);
  }
}
