import { producersOf, readersOf } from '../onnx/graph-index.js';
import type { OnnxModel, OnnxNode, OnnxTensor } from '../onnx/model.js';

/**
 * Attention's fused projection (LeViT's qkv, and kv in its subsampling blocks), written per head
 * as [h0: q k v | h1: q k v | ...], then Reshape [N, L, H, p] and Split on the last axis: in int8,
 * one QGemm per part instead, over the weight columns of that part in head order. Each then
 * writes its part contiguously ([N*L, H*d], reshaped to [N, L, H, d] for free) and the Split's
 * copy of every activation goes. Exact: per-channel weight scales and int32 biases are sliced
 * with their columns, and the input is quantized once for all parts.
 *
 * Matches the QDQ form quantizeStatic writes: DequantizeLinear weights [K, N] (axis 1) and
 * biases -> Gemm -> Reshape [N, L, C] -> Reshape [N, L, H, p] -> Split(axis 3), L and H given.
 */
export function splitHeads(model: OnnxModel): OnnxModel {
  const producer = producersOf(model);
  const readers = readersOf(model);
  const initializers = new Map(model.initializers);
  const only = (value: string, op: string, reader: OnnxNode): OnnxNode | undefined => {
    const p = producer.get(value);
    const r = readers.get(value);
    return p?.op === op && r?.length === 1 && r[0] === reader ? p : undefined;
  };
  const ints = (name: string | undefined): number[] | undefined => {
    const t = name === undefined ? undefined : initializers.get(name);
    return t?.dtype === 'int64' ? Array.from(t.data as BigInt64Array, Number) : undefined;
  };
  const removed = new Set<OnnxNode>();
  const replaced = new Map<OnnxNode, OnnxNode[]>();
  for (const split of model.nodes) {
    const axis = split.op === 'Split' ? split.attrs?.find((a) => a.name === 'axis') : undefined;
    if (!axis || !('i' in axis) || axis.i !== 3) continue;
    const sizes = ints(split.inputs[1]);
    const heads = only(split.inputs[0], 'Reshape', split);
    const shape = ints(heads?.inputs[1]);
    const tokens = heads && only(heads.inputs[0], 'Reshape', heads);
    const gemm = tokens && only(tokens.inputs[0], 'Gemm', tokens);
    const weight = gemm && only(gemm.inputs[1], 'DequantizeLinear', gemm);
    const bias = gemm?.inputs[2] ? only(gemm.inputs[2], 'DequantizeLinear', gemm) : undefined;
    if (!sizes || shape?.length !== 4 || !gemm || gemm.attrs?.length || !weight || !bias) continue;
    const [tokenCount, h, p] = shape.slice(1);
    const w = initializers.get(weight.inputs[0]);
    if (w?.dtype !== 'int8' || w.shape.length !== 2 || w.shape[1] !== h * p || sizes.reduce((a, b) => a + b, 0) !== p || !(tokenCount > 0)) continue;
    const nodes: OnnxNode[] = [];
    let offset = 0;
    sizes.forEach((size, part) => {
      const columns = Array.from({ length: h * size }, (_, i) => Math.floor(i / size) * p + offset + (i % size));
      offset += size;
      const name = `${gemm.name}/part${part}`;
      const slice = (dq: OnnxNode, suffix: string): string => {
        const inputs = dq.inputs.map((input) => {
          const sliced = `${name}:${suffix}:${input.split(':').at(-1)}`;
          initializers.set(sliced, columnsOf(initializers.get(input)!, columns));
          return sliced;
        });
        nodes.push({ ...dq, name: `${name}/${suffix}`, inputs, outputs: [`${name}:${suffix}`] });
        return `${name}:${suffix}`;
      };
      const out = `${name}:out`;
      nodes.push({ ...gemm, name, inputs: [gemm.inputs[0], slice(weight, 'weight'), slice(bias, 'bias')], outputs: [out] });
      const target = `${name}:shape`;
      initializers.set(target, { dtype: 'int64', shape: [4], data: BigInt64Array.from([-1, tokenCount, h, size], BigInt) });
      nodes.push({ op: 'Reshape', name: `${name}/heads`, inputs: [out, target], outputs: [split.outputs[part]] });
    });
    for (const n of [weight, bias, gemm, tokens, heads]) removed.add(n);
    replaced.set(split, nodes);
  }
  if (!replaced.size) return model;
  const nodes = model.nodes.flatMap((n) => replaced.get(n) ?? (removed.has(n) ? [] : [n]));
  const read = new Set(nodes.flatMap((n) => n.inputs));
  for (const name of [...initializers.keys()]) if (!read.has(name)) initializers.delete(name);
  return { ...model, nodes, initializers };
}

/** The given columns of a [K, N] matrix, or entries of an [N] vector (a per-channel scale, zero point or bias). */
function columnsOf(t: OnnxTensor, columns: readonly number[]): OnnxTensor {
  const n = t.shape.at(-1)!;
  const size = (t.data.length / n) * columns.length;
  const data = t.data.slice(0, size); // the same element type
  const [from, to] = [t.data as unknown as ArrayLike<unknown>, data as unknown as Record<number, unknown>];
  for (let i = 0; i < size; i++) to[i] = from[Math.floor(i / columns.length) * n + columns[i % columns.length]];
  return { ...t, shape: [...t.shape.slice(0, -1), columns.length], data } as OnnxTensor;
}
