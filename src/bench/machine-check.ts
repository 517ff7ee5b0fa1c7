import { floatTensor } from '../core/tensor.js';
import { GraphBuilder } from '../ir/builder.js';
import { exportOnnx } from '../onnx/export.js';
import { ortCpu } from '../runtime/ort-node.js';
import type { Calibration } from '../results/types.js';
import { quantile, sorted } from '../stats/summary.js';

export interface Calibrator {
  readonly size: number;
  /** Times the product for about this many seconds (at least 5 runs). */
  measure(seconds: number): Promise<Calibration>;
  /** One product, timed: milliseconds. */
  time(): Promise<number>;
  release(): Promise<void>;
}

/** GFLOP/s of a size³ product that took this many milliseconds. */
export const matmulGflops = (size: number, ms: number) => (2 * size ** 3) / (ms / 1000) / 1e9;

/**
 * Measures the machine, not the model: a square float32 MatMul on one onnxruntime thread.
 * Results from different machines are put side by side through this figure, it is the
 * roofline a single-threaded float32 model cannot pass, and bench repeats it around every
 * configuration to see whether the machine stayed quiet.
 */
export async function openCalibrator(size = 1024): Promise<Calibrator> {
  const b = new GraphBuilder('calibration');
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
    async measure(seconds: number): Promise<Calibration> {
      const times: number[] = [];
      const start = performance.now();
      while (performance.now() - start < seconds * 1000 || times.length < 5) times.push(await time());
      const median = quantile(sorted(times), 0.5);
      return { matmul_gflops_1thread: matmulGflops(size, median), matmul_size: size, seconds: (performance.now() - start) / 1000 };
    },
    release: () => session.release(),
  };
}

/** One calibration of about `seconds`. */
export async function calibrate(size = 1024, seconds = 1): Promise<Calibration> {
  const c = await openCalibrator(size);
  try {
    return await c.measure(seconds);
  } finally {
    await c.release();
  }
}
