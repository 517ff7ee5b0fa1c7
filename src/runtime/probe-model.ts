import { floatTensor } from '../core/tensor.js';
import { GraphBuilder } from '../ir/builder.js';
import { exportOnnx } from '../onnx/export.js';

let model: Uint8Array | undefined;

/** A one-node ONNX model (x * 2): enough to see whether an execution provider starts at all. */
export function probeOnnx(): Uint8Array {
  if (!model) {
    const b = new GraphBuilder('probe');
    const x = b.input('x', ['N', 4]);
    b.output(b.mul(x, b.initializer('two', floatTensor([], Float32Array.of(2)), 'constant')));
    model = exportOnnx(b.graph);
  }
  return model;
}
