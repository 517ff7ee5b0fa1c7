import { type FloatTensor, asFloat, floatTensor, numel } from '../checkpoint/tensor.js';
import { type Graph, type Node, staticDims } from './graph.js';

/**
 * Computes once, at conversion, every node whose inputs are all initializers: parts of a model
 * that depend only on its weights and its resolution (e.g. ConViT's positional attention), so
 * that no runtime recomputes them per image. Ops it cannot evaluate are left in the graph.
 */
export function foldConstantNodes(graph: Graph): void {
  for (const node of [...graph.nodes]) {
    if (node.outputs.length !== 1 || !node.inputs.every((v) => graph.isInitializer(v))) continue;
    const inputs = node.inputs.map((v) => asFloatOrNull(graph, v));
    if (inputs.some((t) => t === null)) continue;
    const value = evaluate(node, inputs as FloatTensor[], staticDims(graph.shape(node.outputs[0])));
    if (!value) continue;
    graph.removeNode(node);
    const name = graph.freshName(`${node.name}.folded`);
    graph.addInitializer(name, value, 'constant');
    graph.rewire(node.outputs[0], name);
  }
}

function asFloatOrNull(graph: Graph, name: string): FloatTensor | null {
  const t = graph.tensor(name);
  return t.dtype === 'float32' ? asFloat(t, name) : null;
}

/** The value of one node on constant inputs, or undefined for an op this evaluator does not know. */
function evaluate(node: Node, [x, y, z]: FloatTensor[], outShape: number[]): FloatTensor | undefined {
  switch (node.op) {
    case 'add':
      return broadcast(x, y, outShape, (a, b) => a + b);
    case 'mul':
      return broadcast(x, y, outShape, (a, b) => a * b);
    case 'sigmoid':
      return floatTensor(outShape, x.data.map((v) => 1 / (1 + Math.exp(-v))));
    case 'reshape':
      return floatTensor(outShape, x.data.slice());
    case 'transpose':
      return transpose(x, node.perm, outShape);
    case 'linear':
      return linear(x, y, z, outShape);
    case 'softmax':
      return node.axis === -1 || node.axis === x.shape.length - 1 ? softmaxLastAxis(x) : undefined;
    default:
      return undefined;
  }
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** The flat index into `shape` (right-aligned, size-1 dimensions broadcast) of each output element. */
function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const offset = outShape.length - shape.length;
  const inStrides = strides(shape);
  const outStrides = strides(outShape);
  const index = new Int32Array(numel(outShape));
  for (let i = 0; i < index.length; i++) {
    let at = 0;
    for (let d = offset; d < outShape.length; d++) {
      const coord = Math.floor(i / outStrides[d]) % outShape[d];
      if (shape[d - offset] !== 1) at += coord * inStrides[d - offset];
    }
    index[i] = at;
  }
  return index;
}

function broadcast(x: FloatTensor, y: FloatTensor, outShape: number[], f: (a: number, b: number) => number): FloatTensor {
  const [ix, iy] = [broadcastIndex(x.shape, outShape), broadcastIndex(y.shape, outShape)];
  const out = new Float32Array(ix.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[ix[i]], y.data[iy[i]]);
  return floatTensor(outShape, out);
}

function transpose(x: FloatTensor, perm: readonly number[], outShape: number[]): FloatTensor {
  const inStrides = strides(x.shape);
  const outStrides = strides(outShape);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    let at = 0;
    for (let d = 0; d < outShape.length; d++) at += (Math.floor(i / outStrides[d]) % outShape[d]) * inStrides[perm[d]];
    out[i] = x.data[at];
  }
  return floatTensor(outShape, out);
}

/** x W^T + b over the last axis, accumulated in double precision. */
function linear(x: FloatTensor, w: FloatTensor, b: FloatTensor | undefined, outShape: number[]): FloatTensor {
  const [outF, inF] = w.shape;
  const rows = x.data.length / inF;
  const out = new Float32Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let acc = b ? b.data[o] : 0;
      for (let i = 0; i < inF; i++) acc += x.data[r * inF + i] * w.data[o * inF + i];
      out[r * outF + o] = acc;
    }
  }
  return floatTensor(outShape, out);
}

function softmaxLastAxis(x: FloatTensor): FloatTensor {
  const n = x.shape.at(-1)!;
  const out = new Float32Array(x.data.length);
  for (let r = 0; r < out.length; r += n) {
    let max = -Infinity;
    for (let i = 0; i < n; i++) max = Math.max(max, x.data[r + i]);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(x.data[r + i] - max);
    for (let i = 0; i < n; i++) out[r + i] = Math.exp(x.data[r + i] - max) / sum;
  }
  return floatTensor(x.shape, out);
}
