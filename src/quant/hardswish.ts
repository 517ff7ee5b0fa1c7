import { readersOf } from '../onnx/graph-index.js';
import type { OnnxModel } from '../onnx/model.js';
import type { QuantLayer } from './layers.js';
import type { ActivationQuant } from './numeric.js';

/**
 * HardSwish after an int8 convolution, on uint8 in operators onnxruntime fuses.
 *
 * hardswish(x) = x * hsig(x), hsig(x) = clip(x / 6 + 1/2, 0, 1). The convolution's output x is
 * quantized anyway (QLinearConv writes uint8). Quantize it with zero point k and scale 3 / k (k an
 * integer): then x / 6 + 1/2 = q * (3/k) / 6, so hsig(x) is the same uint8 q clipped to [0, 2k]
 * and read with scale (3/k) / 6, zero point 0: no new rounding. DequantizeLinear x,
 * DequantizeLinear Clip(q) -> Mul -> QuantizeLinear is what onnxruntime fuses into QLinearMul, and
 * a Clip on uint8 is one pass over bytes: in place of DequantizeLinear, HardSigmoid, Mul and
 * QuantizeLinear passes over float32.
 *
 * The range starts at -3: below it hardswish is 0, so every lower value is as well represented by
 * q = 0, and the 255 steps go to [-3, max] alone (finer than the convolution's own range).
 */
export interface HardswishUnit {
  node: string;
  /** The convolution whose output the HardSwish reads. */
  conv: string;
  /** That output: quantized with hardswishQuant. */
  input: string;
  output: string;
}

/**
 * HardSwishes that are the only reader of an int8 convolution's output and whose own output only
 * int8 layers read (so it is quantized next, and the Mul fuses into QLinearMul).
 */
export function hardswishUnits(model: OnnxModel, int8Layers: ReadonlyMap<string, QuantLayer>): HardswishUnit[] {
  const readers = new Map([...readersOf(model)].map(([v, nodes]) => [v, nodes.map((n) => n.name)]));
  const convs = new Map([...int8Layers.values()].filter((l) => l.op === 'Conv').map((l) => [l.output, l]));
  const int8Reader = (name: string) => int8Layers.has(name);
  const graphOutputs = new Set(model.outputs.map((o) => o.name));
  return model.nodes.flatMap((n) => {
    const conv = n.op === 'HardSwish' ? convs.get(n.inputs[0]) : undefined;
    const read = readers.get(n.outputs[0]) ?? [];
    if (!conv || readers.get(conv.output)?.length !== 1 || graphOutputs.has(conv.output) || graphOutputs.has(n.outputs[0])) return [];
    return read.length && read.every(int8Reader) ? [{ node: n.name, conv: conv.node, input: conv.output, output: n.outputs[0] }] : [];
  });
}

/** x's uint8 quantization over [-3, max] with scale 3/k; null where hardswish is 0 throughout, or max > 762 (k < 1). */
export function hardswishQuant(max: number): ActivationQuant | null {
  if (!(max > -3)) return null;
  const k = Math.min(255, Math.floor(765 / (max + 3)));
  return k >= 1 ? { scale: Math.fround(3 / k), zeroPoint: k } : null;
}
