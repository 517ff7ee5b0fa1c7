import { type FloatTensor, asFloat, floatTensor, numel } from '../core/tensor.js';
import type { Graph, Node } from './graph.js';

/**
 * Computes a node whose inputs are all initializers, for the ops that build constants which
 * depend on the resolution only (e.g. EdgeNeXt's projected Fourier positional encoding).
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

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}
