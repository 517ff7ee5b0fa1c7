import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floatTensor } from '../checkpoint/tensor.js';
import { GraphBuilder } from '../ir/builder.js';
import { exportOnnx } from '../onnx/export.js';

let path: string | undefined;

/** A one-node ONNX model (x * 2): enough to see whether an execution provider starts at all. */
export function probeOnnxPath(): string {
  if (path) return path;
  const b = new GraphBuilder('probe');
  const x = b.input('x', ['N', 4]);
  b.output(b.mul(x, b.initializer('two', floatTensor([], Float32Array.of(2)), 'constant')));
  path = join(mkdtempSync(join(tmpdir(), 'levit-probe-')), 'probe.onnx');
  writeFileSync(path, exportOnnx(b.graph));
  return path;
}
