import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Backend, BackendId, BackendStatus, InferenceSession, SessionOptions } from './backend.js';
import { OrtSession, createSession } from './ort-session.js';
import { probeOnnx } from './probe-model.js';
import { adapterLabel, queryAdapter } from './webgpu-adapter.js';

const require = createRequire(import.meta.url);
const ortVersion: string = require('onnxruntime-node/package.json').version;

export function ortSessionOptions(threads: number, spinning = true): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Idle intra-op threads spin by default: fastest alone, but it starves other work sharing the cores.
    ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
}

export const ortCpu: Backend = {
  id: 'ort-cpu',
  artifact: 'onnx',
  async probe(): Promise<BackendStatus> {
    return { id: 'ort-cpu', artifact: 'onnx', available: true, version: ortVersion, device: cpus()[0]?.model.trim() ?? 'cpu' };
  },
  async load(model: string | Uint8Array, options: SessionOptions): Promise<InferenceSession> {
    const session = await createSession(ort, model, { ...ortSessionOptions(options.threads, options.spinning), executionProviders: ['cpu'] });
    return new OrtSession('ort-cpu', ort.Tensor, session, options.threads || availableParallelism());
  },
};

/** Where onnxruntime-node keeps its native binaries for this platform. */
function binaryDir(): string | null {
  const root = join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin');
  for (const napi of existsSync(root) ? readdirSync(root) : []) {
    const dir = join(root, napi, process.platform, process.arch);
    if (existsSync(dir)) return dir;
  }
  return null;
}

/**
 * onnxruntime's error in words: its first line without the C++ source location, function and
 * failed condition that precede the message ("/onnxruntime_src/...cc:136 ... was false. Failed to get ...").
 */
export function ortReason(message: string): string {
  const first = message.split('\n')[0];
  const m = /^\S+\.(?:cc|cpp|h):\d+ .*? was false\. (.+)$/.exec(first);
  return (m ? m[1] : first).replace(/\.$/, '');
}

/** An onnxruntime-node execution provider other than the CPU: probed by starting it on a tiny model. */
function providerBackend(id: BackendId, provider: string, device: () => Promise<string>, precondition: () => string | null, hint: string): Backend {
  let status: Promise<BackendStatus> | undefined;
  const probe = () =>
    (status ??= (async () => {
      const base = { id, artifact: 'onnx' as const, version: ortVersion };
      const missing = precondition();
      if (missing) return { ...base, available: false, device: null, reason: `${missing}. ${hint}` };
      try {
        const s = await ort.InferenceSession.create(probeOnnx(), { executionProviders: [provider] });
        await s.release();
        return { ...base, available: true, device: await device() };
      } catch (e) {
        return { ...base, available: false, device: null, reason: `${ortReason((e as Error).message)}. ${hint}` };
      }
    })());
  return {
    id,
    artifact: 'onnx',
    probe,
    async load(model: string | Uint8Array, options: SessionOptions): Promise<InferenceSession> {
      const session = await createSession(ort, model, { ...ortSessionOptions(options.threads), executionProviders: [provider] });
      return new OrtSession(id, ort.Tensor, session, options.threads || availableParallelism());
    },
  };
}

/** Dawn looks for a runtime directory; a headless machine often has none. */
function ensureRuntimeDir(): null {
  process.env.XDG_RUNTIME_DIR ||= tmpdir();
  return null;
}

/** The adapter's name where the optional `webgpu` package can read it (see webgpu-adapter.ts). */
async function webgpuDevice(): Promise<string> {
  const info = await queryAdapter();
  return info
    ? `${adapterLabel(info)}; WebGPU high-performance adapter`
    : 'WebGPU (Dawn; the high-performance Vulkan, Metal or D3D12 adapter; install the optional package webgpu to name it)';
}

export const ortWebgpu = providerBackend(
  'ort-webgpu',
  'webgpu',
  webgpuDevice,
  ensureRuntimeDir,
  'WebGPU needs a GPU driver with Vulkan (Linux), Metal (macOS) or D3D12 (Windows); ' +
    'without a GPU on Debian, mesa-vulkan-drivers 25 from bookworm-backports provides lavapipe on the CPU.',
);

export const ortCuda = providerBackend(
  'ort-cuda',
  'cuda',
  async () => 'CUDA (first NVIDIA GPU)',
  () => {
    const dir = binaryDir();
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return dir && existsSync(join(dir, lib)) ? null : `onnxruntime-node's CUDA provider is not installed (${lib} is missing)`;
  },
  'On Linux x64 with an NVIDIA driver, CUDA 12 and cuDNN 9: ' +
    `ONNXRUNTIME_NODE_INSTALL=cuda12 node ${join(dirname(require.resolve('onnxruntime-node/package.json')), 'script', 'install.js')} ` +
    "(onnxruntime-node's install script, which downloads them from NuGet; levit's package.json does not let npm run it at install).",
);
