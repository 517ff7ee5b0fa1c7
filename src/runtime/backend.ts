import type { FloatTensor } from '../core/tensor.js';

export const BACKEND_IDS = ['ort-cpu', 'ort-webgpu', 'ort-cuda', 'ort-wasm', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu'] as const;
export type BackendId = (typeof BACKEND_IDS)[number];

/** The artifact a backend runs: an ONNX file or a TensorFlow.js graph-model directory. */
export type ArtifactFormat = 'onnx' | 'tfjs';

export interface BackendStatus {
  id: BackendId;
  artifact: ArtifactFormat;
  available: boolean;
  version: string | null;
  device: string | null;
  /** Why it is unavailable, and what to do about it. */
  reason?: string;
}

export interface SessionOptions {
  /** Intra-op threads; 0 lets the runtime choose (all cores). */
  threads: number;
  /**
   * Whether idle runtime threads may spin-wait (the default: lowest latency). Off when other
   * work shares the cores, such as evaluation's preprocessing workers.
   */
  spinning?: boolean;
}

/** A loaded model: float32 NCHW in, float32 logits out. */
export interface InferenceSession {
  readonly backend: BackendId;
  /** Threads actually in use, as far as the runtime tells. */
  readonly threads: number;
  run(input: FloatTensor): Promise<FloatTensor>;
  /** Untimed work that makes the next run() time the model alone (e.g. selecting a shared runtime's backend). */
  prepare?(): Promise<void>;
  release(): Promise<void>;
}

export interface Backend {
  readonly id: BackendId;
  readonly artifact: ArtifactFormat;
  /** The runtime fixes its thread count when it starts: one thread count per process. */
  readonly threadsFixedPerProcess?: boolean;
  /**
   * Whether it can run here; never throws. `threads`: where the runtime fixes its thread count when it
   * starts, the count to start with if this probe starts it (0: the runtime's default, all cores).
   */
  probe(threads?: number): Promise<BackendStatus>;
  /** Opens a session on an artifact: its path, or (ONNX backends) the model's bytes. */
  load(artifact: string | Uint8Array, options: SessionOptions): Promise<InferenceSession>;
}
