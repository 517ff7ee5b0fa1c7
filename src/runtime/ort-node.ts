import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { FloatTensor } from '../checkpoint/tensor.js';
import type { Backend, BackendId, BackendStatus, InferenceSession, SessionOptions } from './backend.js';

const ortVersion: string = createRequire(import.meta.url)('onnxruntime-node/package.json').version;

/** An onnxruntime session behind the common interface; shared by every onnxruntime backend. */
export class OrtSession implements InferenceSession {
  constructor(
    readonly backend: BackendId,
    private readonly session: ort.InferenceSession,
    readonly threads: number,
  ) {}

  async run(input: FloatTensor): Promise<FloatTensor> {
    const feeds = { [this.session.inputNames[0]]: new ort.Tensor('float32', input.data, [...input.shape]) };
    const result = await this.session.run(feeds);
    const out = result[this.session.outputNames[0]];
    return { dtype: 'float32', shape: [...out.dims], data: out.data as Float32Array };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export function ortSessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
}

export const ortCpu: Backend = {
  id: 'ort-cpu',
  artifact: 'onnx',
  async probe(): Promise<BackendStatus> {
    return { id: 'ort-cpu', artifact: 'onnx', available: true, version: ortVersion, device: cpus()[0]?.model.trim() ?? 'cpu' };
  },
  async load(path: string, options: SessionOptions): Promise<InferenceSession> {
    const session = await ort.InferenceSession.create(path, { ...ortSessionOptions(options.threads), executionProviders: ['cpu'] });
    return new OrtSession('ort-cpu', session, options.threads || availableParallelism());
  },
};
