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
 * The values whose ranges static quantization needs: each layer's input, and each convolution's
 * output (onnxruntime fuses a QDQ Conv into QLinearConv only with a QuantizeLinear after it).
 */
export function calibratedValues(layers: readonly QuantLayer[]): string[] {
  return [...new Set(layers.flatMap((l) => (l.op === 'Conv' ? [l.input, l.output] : [l.input])))];
}
