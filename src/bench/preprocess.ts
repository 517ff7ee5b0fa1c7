import type { Preprocessing } from '../models/card.js';
import { PreprocessPool } from '../preprocess/pool.js';

export interface PreprocessThroughput {
  workers: number;
  images: number;
  failed: number;
  seconds: number;
  images_per_second: number;
}

/**
 * Decoding and preprocessing alone, as levit eval runs them (worker threads, a bounded window),
 * with no model: the rate the input pipeline can feed a model at.
 */
export async function measurePreprocess(files: readonly string[], p: Preprocessing, workers: number): Promise<PreprocessThroughput> {
  const pool = new PreprocessPool(workers);
  try {
    await Promise.all(files.slice(0, pool.size * 2).map((f) => pool.preprocess(f, p))); // warm up JIT and libvips
    const start = performance.now();
    let failed = 0;
    const window = pool.size * 4;
    const inFlight: Promise<unknown>[] = [];
    for (const f of files) {
      inFlight.push(pool.preprocess(f, p).then((r) => void ('error' in r && failed++)));
      if (inFlight.length >= window) await inFlight.shift();
    }
    await Promise.all(inFlight);
    const seconds = (performance.now() - start) / 1000;
    return { workers: pool.size, images: files.length, failed, seconds, images_per_second: files.length / seconds };
  } finally {
    await pool.close();
  }
}
