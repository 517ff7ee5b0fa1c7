import type { OnnxModel, OnnxNode, OnnxTensor } from '../onnx/model.js';
import { type QuantLayer, quantLayers } from './layers.js';
import { quantizeWeights } from './numeric.js';
import { weightRange } from './qdq.js';

/**
 * Dynamic int8, for users without calibration images: matrix-product weights int8 per output
 * channel, activations quantized at run time (DynamicQuantizeLinear -> MatMulInteger -> scale),
 * the pattern onnxruntime fuses into DynamicQuantizeMatMul. Convolutions stay float32, as
 * onnxruntime's integer convolution takes only per-tensor weights.
 */
export function quantizeDynamic(model: OnnxModel, reduceRange = false): OnnxModel {
  const layers = new Map(
    quantLayers(model)
      .filter((l) => l.op !== 'Conv')
      .map((l) => [l.node, l]),
  );
  const nodes: OnnxNode[] = [];
  const initializers = new Map(model.initializers);
  for (const n of model.nodes) {
    const layer = layers.get(n.name);
    if (layer) nodes.push(...dynamicLayer(layer, initializers, reduceRange));
    else nodes.push(n);
  }
  const read = new Set(nodes.flatMap((n) => n.inputs));
  for (const name of [...initializers.keys()]) if (!read.has(name)) initializers.delete(name);
  return { ...model, nodes, initializers };
}

function dynamicLayer(layer: QuantLayer, initializers: Map<string, OnnxTensor>, reduceRange: boolean): OnnxNode[] {
  const w = initializers.get(layer.weight)!;
  const q = quantizeWeights(w.data as Float32Array, w.shape, layer.axis, weightRange(layer, reduceRange));
  const base = layer.node;
  const v = (s: string) => `${base}:${s}`;
  initializers.set(v('weight_int8'), { dtype: 'int8', shape: w.shape, data: q.data });
  initializers.set(v('weight_scale'), { dtype: 'float32', shape: [q.scales.length], data: q.scales });
  const product = layer.bias ? v('scaled') : layer.output;
  const nodes: OnnxNode[] = [
    { op: 'DynamicQuantizeLinear', name: `${base}/quantize`, inputs: [layer.input], outputs: [v('x_uint8'), v('x_scale'), v('x_zero_point')] },
    { op: 'MatMulInteger', name: `${base}/matmul`, inputs: [v('x_uint8'), v('weight_int8'), v('x_zero_point')], outputs: [v('int32')] },
    { op: 'Cast', name: `${base}/cast`, inputs: [v('int32')], outputs: [v('float')], attrs: [{ name: 'to', i: 1 }] },
    { op: 'Mul', name: `${base}/scales`, inputs: [v('x_scale'), v('weight_scale')], outputs: [v('scale')] },
    { op: 'Mul', name: `${base}/rescale`, inputs: [v('float'), v('scale')], outputs: [product] },
  ];
  if (layer.bias) nodes.push({ op: 'Add', name: `${base}/bias`, inputs: [product, layer.bias], outputs: [layer.output] });
  return nodes;
}
