import { availableParallelism } from 'node:os';
import { ExitCode, LevitError } from '../core/errors.js';
import type { Backend, BackendStatus, InferenceSession, SessionOptions } from './backend.js';
import { OrtSession, createSession } from './ort-session.js';

type OrtWeb = typeof import('onnxruntime-web');

let module: Promise<OrtWeb> | undefined;
let initialisedThreads: number | undefined;

/** onnxruntime-web fixes its thread pool when its WebAssembly starts: once per process. */
async function ortWeb(threads: number): Promise<OrtWeb> {
  const wanted = threads || availableParallelism();
  if (initialisedThreads !== undefined && initialisedThreads !== wanted) {
    throw new LevitError(
      `ort-wasm started with ${initialisedThreads} threads in this process and cannot change`,
      ExitCode.usage,
      'onnxruntime-web fixes its threads when it starts: run one levit command per thread count.',
    );
  }
  module ??= import('onnxruntime-web').then((ort) => {
    ort.env.wasm.numThreads = wanted;
    ort.env.logLevel = 'error';
    return ort;
  });
  initialisedThreads = wanted;
  return module;
}

/** The smallest module with a SIMD instruction (i32x4.splat): onnxruntime-web's build needs SIMD. */
const SIMD_PROBE = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 17, 11]);

export const ortWasm: Backend = {
  id: 'ort-wasm',
  artifact: 'onnx',
  threadsFixedPerProcess: true,
  // Probing does not start a session: that would fix the thread count before the first real load.
  async probe(): Promise<BackendStatus> {
    const base = { id: 'ort-wasm' as const, artifact: 'onnx' as const };
    if (!WebAssembly.validate(SIMD_PROBE))
      return { ...base, available: false, version: null, device: null, reason: 'this JavaScript engine has no WebAssembly SIMD' };
    try {
      const ort = await import('onnxruntime-web');
      const threads = initialisedThreads ? `${initialisedThreads} threads` : 'threads set at first use';
      return { ...base, available: true, version: ort.env.versions.web ?? null, device: `CPU (WebAssembly, SIMD, ${threads})` };
    } catch (e) {
      return { ...base, available: false, version: null, device: null, reason: (e as Error).message };
    }
  },
  async load(model: string | Uint8Array, options: SessionOptions): Promise<InferenceSession> {
    const ort = await ortWeb(options.threads);
    const sessionOptions: import('onnxruntime-web').InferenceSession.SessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
    const session = await createSession(ort, model, sessionOptions);
    return new OrtSession('ort-wasm', ort.Tensor, session, initialisedThreads!);
  },
};
