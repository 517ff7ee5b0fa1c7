import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import type { FloatTensor } from '../../src/core/tensor.js';
import { ortCpu } from '../../src/runtime/ort-node.js';

/** ../shared beside the checkout (as CI places it), or LEVIT_SHARED_DIR. */
export const sharedDir = resolve(process.env.LEVIT_SHARED_DIR ?? join(packageRoot, '..', 'shared'));
export const goldenDir = join(sharedDir, 'golden');
export const hasShared = existsSync(join(goldenDir, 'input_224.npy'));

/** Why a test that reads the golden data cannot run where ../shared is missing. */
export const SHARED_REASON = 'needs ../shared (golden data) beside the checkout, or LEVIT_SHARED_DIR';

/**
 * CI sets LEVIT_REQUIRE_SHARED=1 (.ci/run), so that a missing ../shared fails the tests that need
 * it instead of skipping them.
 */
export const sharedRequired = process.env.LEVIT_REQUIRE_SHARED === '1';

/**
 * The skip value of a test that reads the golden data: false where ../shared is here (or CI
 * requires it), else the reason. `{ skip: needsShared }`, or `needsShared || otherReason`.
 */
export const needsShared: string | false = hasShared || sharedRequired ? false : SHARED_REASON;

/**
 * The path of a golden file. Where ../shared is missing it throws, saying so: a test that reads
 * the golden data without `needsShared` (or one that LEVIT_REQUIRE_SHARED=1 runs) fails with the reason.
 */
export function golden(...parts: string[]): string {
  if (!hasShared) throw new Error(`${SHARED_REASON} (no ${join(goldenDir, 'input_224.npy')})`);
  return join(goldenDir, ...parts);
}
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
