import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { FloatTensor } from '../core/tensor.js';
import { recoverAtomic } from '../util/atomic.js';
import { TFJS_INPUT, TFJS_OUTPUT } from '../tfjs/export.js';
import type { Backend, BackendId, BackendStatus, InferenceSession, SessionOptions } from './backend.js';

const require = createRequire(import.meta.url);
type Tf = typeof TfCore;

/** Reads a graph-model directory into what tf.loadGraphModel expects from an IOHandler. */
function fileHandler(dir: string): TfCore.io.IOHandler {
  return {
    async load() {
      recoverAtomic(dir); // a conversion killed mid-swap leaves the previous model as *.partial.old
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const groups = json.weightsManifest as { paths: string[]; weights: TfCore.io.WeightsManifestEntry[] }[];
      const data = Buffer.concat(groups.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
      return {
        modelTopology: json.modelTopology,
        weightSpecs: groups.flatMap((g) => g.weights),
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
}

interface Flavour {
  id: BackendId;
  /** The TF.js backend name registered by the import. */
  tfBackend: string;
  setup(tf: Tf, threads: number): Promise<void>;
  /** Its thread count is set when the runtime starts and cannot change afterwards. */
  threadsFixedPerProcess: boolean;
  /** The threads a session runs on, given the count asked for (0: the runtime's default). */
  threadsInUse(tf: Tf, requested: number): number;
}

let tfCore: Promise<Tf> | undefined;
const loadCore = () => (tfCore ??= import('@tensorflow/tfjs-core') as Promise<Tf>);

class TfjsSession implements InferenceSession {
  constructor(
    readonly backend: BackendId,
    private readonly tf: Tf,
    private readonly tfBackend: string,
    private readonly model: GraphModel,
    readonly threads: number,
  ) {}

  async prepare(): Promise<void> {
    if (this.tf.getBackend() !== this.tfBackend) await this.tf.setBackend(this.tfBackend);
  }

  async run(input: FloatTensor): Promise<FloatTensor> {
    await this.prepare();
    const x = this.tf.tensor(input.data, [...input.shape], 'float32');
    try {
      const y = this.model.execute({ [TFJS_INPUT]: x }, TFJS_OUTPUT) as TfCore.Tensor;
      const data = (await y.data()) as Float32Array;
      const shape = [...y.shape];
      y.dispose();
      return { dtype: 'float32', shape, data };
    } finally {
      x.dispose();
    }
  }

  async release(): Promise<void> {
    this.model.dispose();
  }
}

function tfjsBackend(f: Flavour, version: () => string | null, device: string): Backend {
  let ready: Promise<{ tf: Tf; error?: string }> | undefined;
  /** The thread count the runtime started with: the first probe's or load's, for the whole process. */
  let started: number | undefined;
  const init = (threads: number) =>
    (ready ??= (async () => {
      const tf = await loadCore();
      started = threads;
      try {
        await f.setup(tf, threads);
        if (!(await tf.setBackend(f.tfBackend))) return { tf, error: `the ${f.tfBackend} backend did not initialise` };
        await tf.ready();
        return { tf };
      } catch (e) {
        return { tf, error: (e as Error).message.split('\n')[0] };
      }
    })());
  return {
    id: f.id,
    artifact: 'tfjs',
    threadsFixedPerProcess: f.threadsFixedPerProcess,
    async probe(threads = 0): Promise<BackendStatus> {
      const { error } = await init(threads);
      return { id: f.id, artifact: 'tfjs', available: !error, version: version(), device: error ? null : device, reason: error };
    },
    async load(path: string | Uint8Array, options: SessionOptions): Promise<InferenceSession> {
      if (typeof path !== 'string') throw new Error(`${f.id} loads a TensorFlow.js graph-model directory by its path, not bytes`);
      const { tf, error } = await init(options.threads);
      if (error) throw new Error(`${f.id} is not available: ${error}`);
      if (!existsSync(join(path, 'model.json'))) throw new Error(`${path} is not a TensorFlow.js graph model (no model.json)`);
      await tf.setBackend(f.tfBackend);
      const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
      const model = await loadGraphModel(fileHandler(path));
      // What the runtime started with, not what this load asks for: a record must not claim threads it did not use.
      return new TfjsSession(f.id, tf, f.tfBackend, model, f.threadsInUse(tf, f.threadsFixedPerProcess ? started! : options.threads));
    },
  };
}

const versionOf = (pkg: string) => () => {
  try {
    return require(`${pkg}/package.json`).version as string;
  } catch {
    return null;
  }
};

export const tfjsCpu = tfjsBackend(
  {
    id: 'tfjs-cpu',
    tfBackend: 'cpu',
    async setup() {
      await import('@tensorflow/tfjs-backend-cpu');
    },
    threadsFixedPerProcess: false,
    threadsInUse: () => 1,
  },
  versionOf('@tensorflow/tfjs-backend-cpu'),
  'CPU (pure JavaScript, 1 thread)',
);

export const tfjsWasm = tfjsBackend(
  {
    id: 'tfjs-wasm',
    tfBackend: 'wasm',
    async setup(_tf, threads) {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      wasm.setWasmPaths(`${dist}/`);
      if (threads > 0) wasm.setThreadsCount(threads);
    },
    threadsFixedPerProcess: true,
    threadsInUse: (tf, requested) => (tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? requested || 1 : 1),
  },
  versionOf('@tensorflow/tfjs-backend-wasm'),
  'CPU (WebAssembly, SIMD)',
);

export const tfjsNode = tfjsBackend(
  {
    id: 'tfjs-node',
    tfBackend: 'tensorflow',
    async setup(_tf, threads) {
      if (threads > 0) process.env.TF_NUM_INTRAOP_THREADS = String(threads);
      try {
        await import('@tensorflow/tfjs-node' as string);
      } catch (e) {
        const missing = (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
        throw new Error(
          missing
            ? '@tensorflow/tfjs-node is not installed (optional: npm install @tensorflow/tfjs-node, which downloads libtensorflow)'
            : `@tensorflow/tfjs-node does not load: ${(e as Error).message.split('\n')[0]}`,
          { cause: e },
        );
      }
    },
    threadsFixedPerProcess: true,
    threadsInUse: (_tf, requested) => requested || availableParallelism(),
  },
  versionOf('@tensorflow/tfjs-node'),
  'CPU (libtensorflow)',
);
