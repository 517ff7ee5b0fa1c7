import * as ort from 'onnxruntime-node';
import type { FloatTensor } from '../checkpoint/tensor.js';

export interface OrtOptions {
  threads?: number;
}

/** An onnxruntime CPU session over an ONNX model held in memory. */
export class OrtCpuSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly threads: number,
  ) {}

  static async create(model: Uint8Array, options: OrtOptions = {}): Promise<OrtCpuSession> {
    const threads = options.threads ?? 0;
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    return new OrtCpuSession(session, threads);
  }

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
