import { type FloatTensor, asFloat, floatTensor, numel } from '../core/tensor.js';
import type { Graph, Node } from './graph.js';

/**
 * Computes a node whose inputs are all initializers, for the ops that build constants which
 * depend on the resolution only (e.g. EdgeNeXt's projected Fourier positional encoding, ConViT's
 * positional attention and its gates), and parts of weights (token fusion's query-key and value rows of qkv).
 * Returns undefined for ops it does not evaluate. Float64 accumulation, float32 results.
 */
export function evaluateConstantNode(graph: Graph, node: Node): FloatTensor | undefined {
  const input = (i: number) => asFloat(graph.tensor(node.inputs[i]), node.inputs[i]);
  const outShape = graph.shape(node.outputs[0]);
  if (outShape.includes('N')) return undefined;
  const shape = outShape as number[];
  switch (node.op) {
    case 'conv2d':
      return conv2d(input(0), input(1), node.inputs[2] ? input(2) : undefined, node, shape);
    case 'reshape':
      return floatTensor(shape, input(0).data.slice());
    case 'transpose':
      return transpose(input(0), node.perm, shape);
    case 'slice':
      return slice(input(0), node, shape);
    case 'add':
      return broadcast(input(0), input(1), shape, (a, b) => a + b);
    case 'mul':
      return broadcast(input(0), input(1), shape, (a, b) => a * b);
    case 'sigmoid':
      return floatTensor(
        shape,
        input(0).data.map((v) => 1 / (1 + Math.exp(-v))),
      );
    case 'linear':
      return linear(input(0), input(1), node.inputs[2] ? input(2) : undefined, shape);
    case 'softmax':
      return node.axis === -1 || node.axis === shape.length - 1 ? softmaxLastAxis(input(0)) : undefined;
    default:
      return undefined;
  }
}

function conv2d(x: FloatTensor, w: FloatTensor, bias: FloatTensor | undefined, o: { stride: number; pad: number; groups: number }, shape: number[]) {
  const [n, cin, h, wd] = x.shape;
  const [cout, cinPerGroup, kh, kw] = w.shape;
  const [, , oh, ow] = shape;
  const outPerGroup = cout / o.groups;
  const out = new Float32Array(numel(shape));
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      const g = Math.floor(co / outPerGroup);
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          let acc = bias ? bias.data[co] : 0;
          for (let ci = 0; ci < cinPerGroup; ci++) {
            const c = g * cinPerGroup + ci;
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * o.stride - o.pad + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = xx * o.stride - o.pad + kx;
                if (ix < 0 || ix >= wd) continue;
                acc += x.data[((b * cin + c) * h + iy) * wd + ix] * w.data[((co * cinPerGroup + ci) * kh + ky) * kw + kx];
              }
            }
          }
          out[((b * cout + co) * oh + y) * ow + xx] = acc;
        }
      }
    }
  }
  return floatTensor(shape, out);
}

function transpose(x: FloatTensor, perm: readonly number[], shape: number[]): FloatTensor {
  const rank = x.shape.length;
  const inStrides = strides(x.shape);
  const out = new Float32Array(x.data.length);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += index[d] * inStrides[perm[d]];
    out[i] = x.data[src];
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return floatTensor(shape, out);
}

/** Every step-th index from start along one axis. */
function slice(x: FloatTensor, o: { axis: number; start: number; step: number }, shape: number[]): FloatTensor {
  const axis = o.axis < 0 ? x.shape.length + o.axis : o.axis;
  const outer = numel(x.shape.slice(0, axis));
  const inner = numel(x.shape.slice(axis + 1));
  const [size, kept] = [x.shape[axis], shape[axis]];
  const out = new Float32Array(numel(shape));
  for (let a = 0; a < outer; a++) {
    for (let k = 0; k < kept; k++) {
      const from = (a * size + o.start + k * o.step) * inner;
      out.set(x.data.subarray(from, from + inner), (a * kept + k) * inner);
    }
  }
  return floatTensor(shape, out);
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
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
