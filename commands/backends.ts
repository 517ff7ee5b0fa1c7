import { LevitCommand } from '../src/cli/base.js';
import { fitTable } from '../src/render/fit.js';
import type { BackendStatus } from '../src/runtime/backend.js';
import { probeAll } from '../src/runtime/registry.js';
import { prose } from '../src/cli/prose.js';

export default class Backends extends LevitCommand {
  static override summary = 'List the inference backends and whether each runs here (and why not).';
  static override description = prose(`Each backend is probed by starting it: onnxruntime CPU, WebGPU, CUDA and WebAssembly run
ONNX artifacts; TensorFlow.js node, wasm and cpu run TensorFlow.js graph models. Use an id
with --backend in bench and predict.`);
  static override examples = ['<%= config.bin %> backends', '<%= config.bin %> backends --json'];

  async run(): Promise<BackendStatus[]> {
    await this.parse(Backends);
    const all = await probeAll();
    const t = fitTable(
      [
        { header: 'backend' },
        { header: 'available', short: 'runs here' },
        { header: 'runs', short: 'format', drop: 2 },
        { header: 'version', drop: 1 },
        { header: 'device / reason', min: 40, max: 72 },
      ],
      { more: 'levit backends --json gives everything' },
    );
    for (const b of all) t.push([b.id, b.available ? 'yes' : 'no', b.artifact, b.version ?? '-', (b.available ? b.device : b.reason) ?? '']);
    this.log(t.toString());
    return all;
  }
}
