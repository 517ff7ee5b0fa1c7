import type { OnnxModel, OnnxNode, OnnxTensor } from '../onnx/model.js';
import { hardswishQuant, hardswishUnits } from './hardswish.js';
import { type ProductLayer, type QuantLayer, activationProducts, quantLayers, siluUnits } from './layers.js';
import { type ActivationQuant, type WeightRange, activationQuant, quantizeWeights, roundHalfEven, signedActivationQuant } from './numeric.js';

export interface Range {
  min: number;
  max: number;
}

export interface StaticPlan {
  /** Calibrated range of every value in calibratedValues(). */
  ranges: ReadonlyMap<string, Range>;
  /** Layers (node names) kept in float32: the sensitivity fallback's choice. */
  keepFloat: ReadonlySet<string>;
  /** Weights no int16 pair sum can saturate, for AVX2 machines without VNNI: paired matrices, 7-bit convolutions (see WeightRange). */
  reduceRange: boolean;
  /** Activation products (attention) in int8 too, except those in keepFloat. */
  products: boolean;
  /** The VNNI form: HardSwish, Sigmoid and SiLU after int8 convolutions on uint8 (hardswish.ts, SIGMOID_QUANT, siluUnits). */
  vnni?: boolean;
}

const scalar = (v: number): OnnxTensor => ({ dtype: 'float32', shape: [], data: Float32Array.of(v) });

/**
 * A Sigmoid's output over (0, 1) in uint8 steps of 1/255. Where the Sigmoid reads an int8
 * convolution's output, onnxruntime then runs it as QLinearSigmoid (a table over the 256 input
 * bytes) and SiLU's x * sigmoid(x) as QLinearMul: EfficientNet's SiLUs, which in float32 are fused
 * into its convolutions and in int8 were three passes over float32 (Dequantize, Sigmoid, Mul).
 */
export const SIGMOID_QUANT: ActivationQuant = { scale: Math.fround(1 / 255), zeroPoint: 0 };

/**
 * Static int8 in the QDQ form onnxruntime's graph optimizer fuses into integer kernels
 * (QLinearConv, QGemm, MatMulIntegerToFloat), following its Python quantizer's conventions:
 * activations uint8 asymmetric per tensor, weights int8 symmetric per output channel,
 * biases int32 with scale = input scale x weight scale and zero point 0.
 */
export function quantizeStatic(model: OnnxModel, plan: StaticPlan): OnnxModel {
  const rewrite = new QdqRewrite(model, plan.reduceRange);
  const layers = new Map(
    quantLayers(model)
      .filter((l) => !plan.keepFloat.has(l.node))
      .map((l) => [l.node, l]),
  );
  const products = new Map((plan.products ? activationProducts(model) : []).filter((p) => !plan.keepFloat.has(p.node)).map((p) => [p.node, p]));
  const folded = new Set([...products.values()].flatMap((p) => (p.scale ? [p.scale.node] : [])));
  // uint8 HardSwishes by node, and the quantization of the convolution outputs they read.
  const swishes = new Map<string, ActivationQuant>();
  const swishInputs = new Map<string, ActivationQuant>();
  for (const h of plan.vnni ? hardswishUnits(model, layers) : []) {
    const q = hardswishQuant(rangeOf(plan.ranges, h.input).max);
    if (!q) continue;
    swishes.set(h.node, q);
    swishInputs.set(h.input, q);
  }
  const convOutputs = new Set([...layers.values()].filter((l) => l.op === 'Conv').map((l) => l.output));
  const uint8Sigmoid = (n: OnnxNode) => plan.vnni && n.op === 'Sigmoid' && convOutputs.has(n.inputs[0]);
  // Their SiLUs' outputs quantized too (calibrated where the VNNI form was asked for): x * sigmoid(x) is then
  // QLinearMul even where a float reader (EfficientNet's squeeze-and-excitation) would have kept it float32.
  const silus = new Map((plan.vnni ? siluUnits(model, [...layers.values()]) : []).filter((u) => plan.ranges.has(u.output)).map((u) => [u.node, u]));
  for (const n of model.nodes) {
    const layer = layers.get(n.name);
    const product = products.get(n.name);
    const swish = swishes.get(n.name);
    if (layer) rewrite.layer(n, layer, plan.ranges, swishInputs.get(layer.output));
    else if (product) rewrite.product(n, product, plan.ranges);
    else if (swish) rewrite.hardswish(n, swish);
    else if (uint8Sigmoid(n)) rewrite.sigmoid(n);
    else if (silus.has(n.name)) rewrite.silu(n, rangeOf(plan.ranges, n.outputs[0]));
    else if (!folded.has(n.name)) rewrite.keep(n);
  }
  return rewrite.result();
}

/** A layer's weight range: full, or where pairs must not saturate, paired for a [K, N] matrix and 7-bit otherwise (a convolution). */
export function weightRange(layer: Pick<QuantLayer, 'op'>, reduceRange: boolean): WeightRange {
  if (!reduceRange) return 'full';
  return layer.op === 'Conv' ? 'reduced' : 'paired';
}

function rangeOf(ranges: ReadonlyMap<string, Range>, value: string): Range {
  const r = ranges.get(value);
  if (!r) throw new Error(`no calibrated range for ${value}`);
  return r;
}

class QdqRewrite {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: Map<string, OnnxTensor>;
  /** Quantized copies of activations already made: value -> its dequantized name and scale. */
  private readonly dequantized = new Map<string, { name: string; scale: number }>();

  constructor(
    private readonly model: OnnxModel,
    private readonly reduceRange: boolean,
  ) {
    this.initializers = new Map(model.initializers);
  }

  keep(n: OnnxNode): void {
    this.nodes.push(n);
  }

  /** `output`: a convolution's output quantization where a uint8 HardSwish reads it (else its range's). */
  layer(n: OnnxNode, layer: QuantLayer, ranges: ReadonlyMap<string, Range>, output?: ActivationQuant): void {
    const x = this.activation(layer.input, rangeOf(ranges, layer.input));
    const w = this.weight(layer);
    const inputs = [x.name, w.name];
    if (layer.bias) inputs.push(this.bias(layer, x.scale, w.scales));
    if (layer.op !== 'Conv') {
      this.nodes.push({ ...n, inputs });
      return;
    }
    const float = `${layer.output}:float`;
    this.nodes.push({ ...n, inputs, outputs: [float] });
    if (output) this.quantized(float, layer.output, output, 'uint8');
    else this.qdq(float, layer.output, rangeOf(ranges, layer.output));
  }

  /** hardswish(x) = x * hsig(x) from x's uint8 q (zero point k, scale 3/k): hsig is Clip(q, 0, 2k) read at scale 3/k / 6. */
  hardswish(n: OnnxNode, q: ActivationQuant): void {
    const [x, out] = [n.inputs[0], n.outputs[0]];
    const byte = (v: number): OnnxTensor => ({ dtype: 'uint8', shape: [], data: Uint8Array.of(v) });
    const [lo, hi] = [this.add(`${out}:clip_min`, byte(0)), this.add(`${out}:clip_max`, byte(Math.min(255, 2 * q.zeroPoint)))];
    const scale = this.add(`${out}:hsig_scale`, scalar(Math.fround(q.scale / 6)));
    const zp = this.add(`${out}:hsig_zero_point`, byte(0));
    this.nodes.push({ op: 'Clip', name: `${n.name}/clip`, inputs: [`${x}:uint8`, lo, hi], outputs: [`${out}:hsig_uint8`] });
    this.nodes.push({ op: 'DequantizeLinear', name: `${n.name}/hsig`, inputs: [`${out}:hsig_uint8`, scale, zp], outputs: [`${out}:hsig`] });
    this.nodes.push({ op: 'Mul', name: n.name, inputs: [x, `${out}:hsig`], outputs: [out] });
  }

  /** Sigmoid of a dequantized convolution output, its own output quantized (SIGMOID_QUANT): QLinearSigmoid in onnxruntime. */
  sigmoid(n: OnnxNode): void {
    const out = n.outputs[0];
    this.nodes.push({ ...n, outputs: [`${out}:float`] });
    this.quantized(`${out}:float`, out, SIGMOID_QUANT, 'uint8');
  }

  /** A SiLU's product with its output quantized; layers reading it reuse that quantization. */
  silu(n: OnnxNode, range: Range): void {
    const out = n.outputs[0];
    this.nodes.push({ ...n, outputs: [`${out}:float`] });
    this.dequantized.set(out, { name: out, scale: this.qdq(`${out}:float`, out, range) });
  }

  /** uint8 by int8: the first operand asymmetric, the second symmetric. */
  product(n: OnnxNode, p: ProductLayer, ranges: ReadonlyMap<string, Range>): void {
    const [a, b] = p.inputs;
    const ra = rangeOf(ranges, a);
    const rb = rangeOf(ranges, b);
    const second = this.quantized(b, `${b}:dq_s8`, signedActivationQuant(rb.min, rb.max, this.reduceRange), 'int8');
    if (!p.scale) {
      this.nodes.push({ ...n, inputs: [this.activation(a, ra).name, second] });
      return;
    }
    const q = activationQuant(ra.min, ra.max);
    const first = this.quantized(a, `${a}:dq`, q, 'uint8');
    // The scaled product reads the same uint8 values through its own dequantization.
    const s = this.add(`${p.output}:a_scale`, scalar(Math.fround(q.scale * p.scale.factor)));
    const name = `${p.output}:a_scaled`;
    this.nodes.push({ op: 'DequantizeLinear', name: `${name}/dequantize`, inputs: [`${first}:uint8`, s, `${first}:zero_point`], outputs: [name] });
    this.nodes.push({ ...n, inputs: [name, second], outputs: [p.output] });
  }

  result(): OnnxModel {
    const read = new Set(this.nodes.flatMap((n) => n.inputs));
    for (const name of [...this.initializers.keys()]) if (!read.has(name)) this.initializers.delete(name);
    return { ...this.model, nodes: this.nodes, initializers: this.initializers };
  }

  /** QuantizeLinear then DequantizeLinear: `from` as onnxruntime sees it after uint8 rounding. */
  private qdq(from: string, to: string, range: Range): number {
    const q = activationQuant(range.min, range.max);
    this.quantized(from, to, q, 'uint8');
    return q.scale;
  }

  /** `from` quantized to uint8 or int8 and dequantized again, as `to`; once per value and type. */
  private quantized(from: string, to: string, q: ActivationQuant, dtype: 'uint8' | 'int8'): string {
    if (this.initializers.has(`${to}:scale`)) return to;
    const s = this.add(`${to}:scale`, scalar(q.scale));
    const zp = this.add(
      `${to}:zero_point`,
      dtype === 'uint8' ? { dtype, shape: [], data: Uint8Array.of(q.zeroPoint) } : { dtype, shape: [], data: Int8Array.of(q.zeroPoint) },
    );
    this.nodes.push({ op: 'QuantizeLinear', name: `${to}/quantize`, inputs: [from, s, zp], outputs: [`${to}:${dtype}`] });
    this.nodes.push({ op: 'DequantizeLinear', name: `${to}/dequantize`, inputs: [`${to}:${dtype}`, s, zp], outputs: [to] });
    return to;
  }

  private activation(value: string, range: Range): { name: string; scale: number } {
    let dq = this.dequantized.get(value);
    if (!dq) {
      const name = `${value}:dq`;
      dq = { name, scale: this.qdq(value, name, range) };
      this.dequantized.set(value, dq);
    }
    return dq;
  }

  private weight(layer: QuantLayer): { name: string; scales: Float32Array } {
    const w = this.initializers.get(layer.weight)!;
    const q = quantizeWeights(w.data as Float32Array, w.shape, layer.axis, weightRange(layer, this.reduceRange));
    const channels = q.scales.length;
    const data = this.add(`${layer.weight}:int8`, { dtype: 'int8', shape: w.shape, data: q.data });
    const s = this.add(`${layer.weight}:scale`, { dtype: 'float32', shape: [channels], data: q.scales });
    const zp = this.add(`${layer.weight}:zero_point`, { dtype: 'int8', shape: [channels], data: new Int8Array(channels) });
    const name = `${layer.weight}:dq`;
    this.nodes.push({
      op: 'DequantizeLinear',
      name: `${layer.weight}/dequantize`,
      inputs: [data, s, zp],
      outputs: [name],
      attrs: [{ name: 'axis', i: layer.axis }],
    });
    return { name, scales: q.scales };
  }

  private bias(layer: QuantLayer, inputScale: number, weightScales: Float32Array): string {
    const b = this.initializers.get(layer.bias!)!.data as Float32Array;
    const scales = weightScales.map((s) => inputScale * s);
    const q = Int32Array.from(b, (v, c) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundHalfEven(v / scales[c]))));
    const data = this.add(`${layer.bias}:int32`, { dtype: 'int32', shape: [b.length], data: q });
    const s = this.add(`${layer.bias}:scale`, { dtype: 'float32', shape: [b.length], data: scales });
    const zp = this.add(`${layer.bias}:zero_point`, { dtype: 'int32', shape: [b.length], data: new Int32Array(b.length) });
    const name = `${layer.bias}:dq`;
    this.nodes.push({ op: 'DequantizeLinear', name: `${layer.bias}/dequantize`, inputs: [data, s, zp], outputs: [name], attrs: [{ name: 'axis', i: 0 }] });
    return name;
  }

  private add(name: string, t: OnnxTensor): string {
    this.initializers.set(name, t);
    return name;
  }
}
