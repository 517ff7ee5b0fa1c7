import type { FloatTensor } from '../core/tensor.js';
import type { BackendId, InferenceSession } from './backend.js';

/** What onnxruntime-node and onnxruntime-web sessions have in common (each package brings its own copy of the types). */
interface OrtInferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, never>): Promise<Record<string, { readonly dims: readonly number[]; readonly data: unknown }>>;
  release(): Promise<void>;
}
/** onnxruntime's InferenceSession.create, in either package: it takes a path or a model's bytes (two overloads). */
interface OrtModule<S, O> {
  InferenceSession: { create(path: string, options?: O): Promise<S>; create(bytes: Uint8Array, options?: O): Promise<S> };
}
export function createSession<S, O>(ort: OrtModule<S, NoInfer<O>>, model: string | Uint8Array, options: O): Promise<S> {
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

type OrtTensorClass = new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;

/** An onnxruntime session (node or web) behind the common interface: float32 NCHW in, logits out. */
export class OrtSession implements InferenceSession {
  constructor(
    readonly backend: BackendId,
    private readonly Tensor: OrtTensorClass,
    private readonly session: OrtInferenceSession,
    readonly threads: number,
  ) {}

  async run(input: FloatTensor): Promise<FloatTensor> {
    const feeds = { [this.session.inputNames[0]]: new this.Tensor('float32', input.data, [...input.shape]) as never };
    const result = await this.session.run(feeds);
    const out = result[this.session.outputNames[0]];
    return { dtype: 'float32', shape: [...out.dims], data: out.data as Float32Array };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
