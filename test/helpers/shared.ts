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

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'levit-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
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
