/** How long to warm up and to measure one configuration. */
export interface MeasureSettings {
  warmupSeconds: number;
  durationSeconds: number;
  minIterations: number;
  maxIterations: number;
}

export interface Measurement {
  /** Wall time of every timed iteration, in milliseconds, in the order they ran. */
  times: number[];
  warmupIterations: number;
  peakRssBytes: number;
}

/**
 * Warm-up by time (at least one call, so lazy initialisation is never timed), then timed
 * calls until the duration is spent (but at least minIterations) or maxIterations are done.
 */
export async function measure(call: () => Promise<unknown>, s: MeasureSettings, onIteration?: (done: number, elapsed: number) => void): Promise<Measurement> {
  let peakRssBytes = process.memoryUsage.rss();
  let warmupIterations = 0;
  const warmupStart = performance.now();
  do {
    await call();
    warmupIterations++;
  } while (performance.now() - warmupStart < s.warmupSeconds * 1000);

  const times: number[] = [];
  const start = performance.now();
  while (times.length < s.maxIterations) {
    const t0 = performance.now();
    await call();
    const t1 = performance.now();
    times.push(t1 - t0);
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
    onIteration?.(times.length, (t1 - start) / 1000);
    if (t1 - start >= s.durationSeconds * 1000 && times.length >= s.minIterations) break;
  }
  return { times, warmupIterations, peakRssBytes };
}
