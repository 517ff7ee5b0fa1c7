import * as ort from 'onnxruntime-node';
import type { FloatTensor } from '../core/tensor.js';
import { type OnnxModel, serializeOnnx } from '../onnx/model.js';

export type Values = Map<string, Float32Array>;

/**
 * Runs a model on each batch with some intermediate values exposed as outputs, and hands each
 * batch's values to `visit`. The model is passed as bytes: nothing is written to disk.
 */
export async function forEachBatch(
  model: OnnxModel,
  values: readonly string[],
  batches: readonly FloatTensor[],
  visit: (v: Values, batch: number) => void,
): Promise<void> {
  const exposed = values.filter((v) => !model.outputs.some((o) => o.name === v));
  const probe: OnnxModel = { ...model, outputs: [...model.outputs, ...exposed.map((name) => ({ name, elemType: 'float32' as const }))] };
  const session = await ort.InferenceSession.create(serializeOnnx(probe), { graphOptimizationLevel: 'all', executionProviders: ['cpu'] });
  try {
    for (const [i, batch] of batches.entries()) {
      const result = await session.run({ [model.inputs[0].name]: new ort.Tensor('float32', batch.data, [...batch.shape]) }, [...values]);
      visit(new Map(values.map((v) => [v, result[v].data as Float32Array])), i);
    }
  } finally {
    await session.release();
  }
}
