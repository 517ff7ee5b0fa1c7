import { type FloatTensor, asFloat } from '../core/tensor.js';
import type { Graph, Node } from './graph.js';

/**
 * The arithmetic that the inference passes and both exporters share, so that a folded graph and an
 * exported one compute the same float32 constants.
 */

/** Per-channel affine form of an inference BatchNorm: y = x * scale + shift. */
export function batchNormAffine(graph: Graph, bn: Node & { op: 'batchnorm' }): { scale: Float32Array; shift: Float32Array } {
  const [, w, b, m, v] = bn.inputs.map((name, i) => (i === 0 ? undefined : asFloat(graph.tensor(name), name).data));
  const scale = new Float32Array(w!.length);
  const shift = new Float32Array(w!.length);
  for (let c = 0; c < scale.length; c++) {
    scale[c] = w![c] / Math.sqrt(v![c] + bn.eps);
    shift[c] = b![c] - m![c] * scale[c];
  }
  return { scale, shift };
}

/** A linear layer's weight, PyTorch's [out, in], as the [in, out] matrix that MatMul multiplies by. */
export function transposeLinearWeight(w: FloatTensor): FloatTensor {
  const [outF, inF] = w.shape;
  const data = new Float32Array(w.data.length);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) data[i * outF + o] = w.data[o * inF + i];
  return { dtype: 'float32', shape: [inF, outF], data };
}

/** GELU as opset 17 and TensorFlow graphs spell it: 0.5 x (1 + erf(x / sqrt 2)). */
export const GELU = { inputScale: Math.SQRT1_2, half: 0.5 } as const;

/** For the default of a switch over IR ops: a new op is a compile error there, and an error at run time. */
export function unhandledOp(n: never, where: string): never {
  throw new Error(`${where}: no lowering for IR op ${(n as Node).op}`);
}
