import { availableParallelism } from 'node:os';
import type { FloatTensor } from '../checkpoint/tensor.js';
import type { Backend, BackendStatus, InferenceSession, SessionOptions } from './backend.js';
import { probeOnnxPath } from './probe-model.js';

type OrtWeb = typeof import('onnxruntime-web');

let module: Promise<OrtWeb> | undefined;
let initialisedThreads: number | undefined;

/** onnxruntime-web fixes its thread pool when its WebAssembly starts: once per process. */
async function ortWeb(threads: number): Promise<OrtWeb> {
  const wanted = threads || availableParallelism();
  if (initialisedThreads !== undefined && initialisedThreads !== wanted) {
    throw new Error(`ort-wasm started with ${initialisedThreads} threads in this process and cannot change: run one thread count per levit invocation`);
  }
  module ??= import('onnxruntime-web').then((ort) => {
    ort.env.wasm.numThreads = wanted;
    ort.env.logLevel = 'error';
    return ort;
  });
  initialisedThreads = wanted;
  return module;
}

class OrtWebSession implements InferenceSession {
  readonly backend = 'ort-wasm';
  constructor(
    private readonly ort: OrtWeb,
    private readonly session: import('onnxruntime-web').InferenceSession,
    readonly threads: number,
  ) {}

  async run(input: FloatTensor): Promise<FloatTensor> {
    const result = await this.session.run({ [this.session.inputNames[0]]: new this.ort.Tensor('float32', input.data, [...input.shape]) });
    const out = result[this.session.outputNames[0]];
    return { dtype: 'float32', shape: [...out.dims], data: out.data as Float32Array };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export const ortWasm: Backend = {
  id: 'ort-wasm',
  artifact: 'onnx',
  async probe(): Promise<BackendStatus> {
    try {
      const ort = await ortWeb(initialisedThreads ?? 0);
      const s = await ort.InferenceSession.create(probeOnnxPath(), { executionProviders: ['wasm'] });
      await s.release();
      return { id: 'ort-wasm', artifact: 'onnx', available: true, version: ort.env.versions.web ?? null, device: `CPU (WebAssembly, SIMD, ${ort.env.wasm.numThreads} threads)` };
    } catch (e) {
      return { id: 'ort-wasm', artifact: 'onnx', available: false, version: null, device: null, reason: (e as Error).message };
    }
  },
  async load(path: string, options: SessionOptions): Promise<InferenceSession> {
    const ort = await ortWeb(options.threads);
    const session = await ort.InferenceSession.create(path, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    return new OrtWebSession(ort, session, initialisedThreads!);
  },
};
