import { readersOf } from '../onnx/graph-index.js';
import type { OnnxModel, OnnxNode } from '../onnx/model.js';

/** The operators whose weights are quantized to int8: onnxruntime has integer kernels for each. */
export type QuantOp = 'Conv' | 'Gemm' | 'MatMul';

/** A layer with a constant weight: a convolution or a matrix product. */
export interface QuantLayer {
  /** The ONNX node's name: what the sensitivity report and --keep-float refer to. */
  node: string;
  op: QuantOp;
  /** The activation it reads (quantized to uint8). */
  input: string;
  weight: string;
  bias?: string;
  output: string;
  /** The weight axis of the output channels: 0 for Conv [O, I, kh, kw], 1 for a [K, N] matrix. */
  axis: number;
}

const hasAttr = (n: OnnxNode, name: string) => n.attrs?.some((a) => a.name === name) ?? false;

/**
 * Every layer int8 can serve. Attention's activation-by-activation products, softmax, the
 * attention-bias add, normalisations and residual adds stay in float32: they carry little of
 * the arithmetic and are where quantization loses accuracy.
 */
export function quantLayers(model: OnnxModel): QuantLayer[] {
  const layers: QuantLayer[] = [];
  for (const n of model.nodes) {
    const weight = n.inputs[1];
    const w = weight ? model.initializers.get(weight) : undefined;
    if (!w || w.dtype !== 'float32') continue;
    const bias = n.inputs[2] && model.initializers.has(n.inputs[2]) ? n.inputs[2] : undefined;
    const base = { node: n.name, input: n.inputs[0], weight, bias, output: n.outputs[0] };
    if (n.op === 'Conv') layers.push({ ...base, op: 'Conv', axis: 0 });
    else if (n.op === 'Gemm' && !hasAttr(n, 'transB') && !hasAttr(n, 'alpha') && w.shape.length === 2) layers.push({ ...base, op: 'Gemm', axis: 1 });
    else if (n.op === 'MatMul' && w.shape.length === 2) layers.push({ ...base, op: 'MatMul', axis: 1, bias: undefined });
  }
  return layers;
}

/**
 * A product of two activations (attention's queries by keys, and its probabilities by values):
 * int8 as uint8 (first operand, asymmetric) by int8 (second, symmetric), the U8S8 form VNNI
 * multiplies directly; onnxruntime fuses it into MatMulIntegerToFloat.
 */
export interface ProductLayer {
  node: string;
  op: 'MatMul';
  inputs: [string, string];
  /** The product's value, after `scale` when there is one. */
  output: string;
  /**
   * A Mul by a constant scalar that is the product's only reader (attention's 1/sqrt(d)): int8
   * folds it into the first operand's dequantization scale and drops it, as onnxruntime folds it
   * into FusedMatMul for float32 but not into MatMulIntegerToFloat.
   */
  scale?: { node: string; factor: number };
}

/** Every MatMul whose operands are both computed values, not weights. */
export function activationProducts(model: OnnxModel): ProductLayer[] {
  const readers = readersOf(model);
  const graphOutputs = new Set(model.outputs.map((o) => o.name));
  return model.nodes
    .filter((n) => n.op === 'MatMul' && n.inputs.length === 2 && n.inputs.every((v) => !model.initializers.has(v)))
    .map((n) => {
      const product: ProductLayer = { node: n.name, op: 'MatMul', inputs: [n.inputs[0], n.inputs[1]], output: n.outputs[0] };
      const only = readers.get(n.outputs[0]);
      const mul = only?.length === 1 && only[0].op === 'Mul' && only[0].inputs[0] === n.outputs[0] ? only[0] : undefined;
      const c = mul && model.initializers.get(mul.inputs[1]);
      if (!mul || c?.dtype !== 'float32' || c.data.length !== 1 || graphOutputs.has(n.outputs[0])) return product;
      return { ...product, output: mul.outputs[0], scale: { node: mul.name, factor: Number(c.data[0]) } };
    });
}

/**
 * The values whose ranges static quantization needs: each layer's input, each convolution's
 * output (onnxruntime fuses a QDQ Conv into QLinearConv only with a QuantizeLinear after it),
 * and both operands of each activation product.
 */
export function calibratedValues(layers: readonly QuantLayer[], products: readonly ProductLayer[] = [], extra: readonly string[] = []): string[] {
  return [...new Set([...layers.flatMap((l) => (l.op === 'Conv' ? [l.input, l.output] : [l.input])), ...products.flatMap((p) => p.inputs), ...extra])];
}

/** A SiLU, x * sigmoid(x), over a convolution's output: the Mul node and its output. */
export interface SiluUnit {
  node: string;
  conv: string;
  output: string;
}

/** SiLUs (Sigmoid of a convolution's output, multiplied by that output) after the given convolutions. */
export function siluUnits(model: OnnxModel, convs: readonly QuantLayer[]): SiluUnit[] {
  const byOutput = new Map(convs.filter((l) => l.op === 'Conv').map((l) => [l.output, l]));
  const sigmoids = new Map(model.nodes.filter((n) => n.op === 'Sigmoid' && byOutput.has(n.inputs[0])).map((n) => [n.outputs[0], n.inputs[0]]));
  return model.nodes.flatMap((n) => {
    if (n.op !== 'Mul' || n.inputs.length !== 2) return [];
    const [a, b] = n.inputs;
    const x = sigmoids.get(b) === a ? a : sigmoids.get(a) === b ? b : undefined;
    return x ? [{ node: n.name, conv: byOutput.get(x)!.node, output: n.outputs[0] }] : [];
  });
}
