import type { OnnxModel, OnnxNode, OnnxTensor } from '../onnx/model.js';
import { toHalf } from '../util/numeric.js';

const FLOAT = 1;
const FLOAT16 = 10;

/**
 * float16 weights and activations behind float32 inputs and outputs: a Cast after each input
 * and before each output, every float32 initializer stored as float16. Where a runtime has no
 * float16 kernel for an operator (onnxruntime's CPU provider for most), it casts around it.
 */
export function toFloat16(model: OnnxModel): OnnxModel {
  const initializers = new Map<string, OnnxTensor>();
  for (const [name, t] of model.initializers) {
    initializers.set(name, t.dtype === 'float32' ? { dtype: 'float16', shape: t.shape, data: Uint16Array.from(t.data as Float32Array, toHalf) } : t);
  }
  const rename = new Map<string, string>();
  const head: OnnxNode[] = model.inputs.map((v) => {
    rename.set(v.name, `${v.name}:fp16`);
    return { op: 'Cast', name: `${v.name}/to_fp16`, inputs: [v.name], outputs: [`${v.name}:fp16`], attrs: [{ name: 'to', i: FLOAT16 }] };
  });
  const tail: OnnxNode[] = model.outputs.map((v) => ({
    op: 'Cast',
    name: `${v.name}/to_fp32`,
    inputs: [`${v.name}:fp16`],
    outputs: [v.name],
    attrs: [{ name: 'to', i: FLOAT }],
  }));
  for (const v of model.outputs) rename.set(v.name, `${v.name}:fp16`);
  const renamed = (names: string[]) => names.map((n) => rename.get(n) ?? n);
  const body = model.nodes.map((n) => ({ ...n, inputs: renamed(n.inputs), outputs: renamed(n.outputs), attrs: n.attrs?.map(castTarget) }));
  return { ...model, nodes: [...head, ...body, ...tail], initializers };
}

/** A Cast to float32 inside the graph becomes a Cast to float16. */
function castTarget(a: NonNullable<OnnxNode['attrs']>[number]): NonNullable<OnnxNode['attrs']>[number] {
  return a.name === 'to' && 'i' in a && a.i === FLOAT ? { ...a, i: FLOAT16 } : a;
}
