import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import type { FloatTensor } from '../../src/core/tensor.js';
import { ortCpu } from '../../src/runtime/ort-node.js';

/** ../shared beside the checkout (as CI places it), or LEVIT_SHARED_DIR. */
export const sharedDir = resolve(process.env.LEVIT_SHARED_DIR ?? join(packageRoot, '..', 'shared'));
export const golden = (...parts: string[]) => join(sharedDir, 'golden', ...parts);
export const hasShared = existsSync(golden('input_224.npy'));
/** The images behind golden/input_224.npy, in its order. */
export const GOLDEN_IMAGES = ['chelsea.jpg', 'coffee.jpg', 'astronaut.jpg', 'rocket.jpg', 'camera_gray.jpg', 'coffee_cmyk.jpg', 'motorcycle_png.JPEG'];

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'levit-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Mean and largest |a - b| over `length` values from the given offsets. */
export function absDiffStats(a: Float32Array, b: Float32Array, length = a.length, offsetA = 0, offsetB = 0): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let j = 0; j < length; j++) {
    const d = Math.abs(a[offsetA + j] - b[offsetB + j]);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / length, max };
}

export function maxAbsDiff(a: FloatTensor, b: FloatTensor): number {
  if (a.data.length !== b.data.length) throw new Error(`sizes differ: ${a.data.length} vs ${b.data.length}`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** Runs the levit CLI as a user would, returning its exit code and output. */
export { runCli, runCliAsync } from './cli.js';

/** Logits of an ONNX file on one onnxruntime CPU thread. */
export async function onnxLogits(onnxPath: string, input: FloatTensor): Promise<FloatTensor> {
  const session = await ortCpu.load(onnxPath, { threads: 1 });
  try {
    return await session.run(input);
  } finally {
    await session.release();
  }
}
