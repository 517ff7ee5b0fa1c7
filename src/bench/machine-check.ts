import { floatTensor } from '../core/tensor.js';
import { GraphBuilder } from '../ir/builder.js';
import { exportOnnx } from '../onnx/export.js';
import { ortCpu } from '../runtime/ort-node.js';
import type { MachineCheck } from '../results/types.js';
import { quantile, sorted } from '../stats/summary.js';

/** The machine check's MatMul, opened: timed once or for a while. */
export interface MachineChecker {
  readonly size: number;
  /** Times the product for about this many seconds (at least 5 runs). */
  measure(seconds: number): Promise<MachineCheck>;
  /** One product, timed: milliseconds. */
  time(): Promise<number>;
  release(): Promise<void>;
}

/** GFLOP/s of a size³ product that took this many milliseconds. */
export const matmulGflops = (size: number, ms: number) => (2 * size ** 3) / (ms / 1000) / 1e9;

/**
 * The machine check measures the machine, not the model: a square float32 MatMul on one onnxruntime
 * thread. Results from different machines are put side by side through this figure, it is the
 * roofline a single-threaded float32 model cannot pass, and bench times it as one more arm of every
 * round, beside the configurations.
 */
export async function openMachineChecker(size = 1024): Promise<MachineChecker> {
  const b = new GraphBuilder('machine-check');
  const a = b.input('a', [size, size]);
  const w = b.initializer('b', floatTensor([size, size], new Float32Array(size * size).fill(0.5)), 'constant');
  b.output(b.matmul(a, w));
  const session = await ortCpu.load(exportOnnx(b.graph), { threads: 1 });
  const input = floatTensor([size, size], new Float32Array(size * size).fill(1));
  await session.run(input);
  const time = async () => {
    const t0 = performance.now();
    await session.run(input);
    return performance.now() - t0;
  };
  return {
    size,
    time,
    async measure(seconds: number): Promise<MachineCheck> {
      const times: number[] = [];
      const start = performance.now();
      while (performance.now() - start < seconds * 1000 || times.length < 5) times.push(await time());
      const median = quantile(sorted(times), 0.5);
      return { matmul_gflops_1thread: matmulGflops(size, median), matmul_size: size, seconds: (performance.now() - start) / 1000 };
    },
    release: () => session.release(),
  };
}

/** One machine check of about `seconds`. */
export async function checkMachine(size = 1024, seconds = 1): Promise<MachineCheck> {
  const c = await openMachineChecker(size);
  try {
    return await c.measure(seconds);
  } finally {
    await c.release();
  }
}
