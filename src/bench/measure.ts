import { spread } from './stats.js';

/** How long to warm up and to measure one configuration. */
export interface MeasureSettings {
  warmupSeconds: number;
  /** Timed for at least this long... */
  durationSeconds: number;
  /** ...and then until the median is known to targetCi, but not past this time cap (minIterations come first). */
  maxDurationSeconds: number;
  /** Relative half-width of the median's 95% interval to reach, e.g. 0.02. */
  targetCi: number;
  minIterations: number;
  maxIterations: number;
}

export interface Measurement {
  /** Wall time of every timed iteration, in milliseconds, in the order they ran. */
  times: number[];
  warmupIterations: number;
  peakRssBytes: number;
  /** Why timing stopped: precise enough, the time cap, or the iteration cap. */
  stopped: 'precise' | 'time-cap' | 'iteration-cap';
}

/** Relative half-width of the distribution-free 95% interval of the median. */
export function medianPrecision(times: readonly number[]): number {
  const s = spread(times);
  return (s.median_ci95[1] - s.median_ci95[0]) / 2 / ((s.median_ci95[1] + s.median_ci95[0]) / 2);
}

/** Checking the precision sorts the samples: do it every time while few, then every few percent. */
const checkNow = (n: number) => n < 64 || n % Math.ceil(n / 32) === 0;

/**
 * Warm-up by time (at least one call, so lazy initialisation is never timed), then timed calls
 * for durationSeconds and minIterations at least (the minimum compare needs comes before the
 * time cap), then on until the median's interval is as narrow as targetCi asks (adaptive
 * stopping), the time cap or maxIterations.
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
  for (;;) {
    const t0 = performance.now();
    await call();
    const t1 = performance.now();
    times.push(t1 - t0);
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
    onIteration?.(times.length, (t1 - start) / 1000);
    const elapsed = (t1 - start) / 1000;
    if (times.length >= s.maxIterations) return { times, warmupIterations, peakRssBytes, stopped: 'iteration-cap' };
    const enough = times.length >= s.minIterations;
    if (enough && elapsed >= Math.max(s.maxDurationSeconds, s.durationSeconds)) return { times, warmupIterations, peakRssBytes, stopped: 'time-cap' };
    if (enough && elapsed >= s.durationSeconds && checkNow(times.length) && medianPrecision(times) <= s.targetCi) {
      return { times, warmupIterations, peakRssBytes, stopped: 'precise' };
    }
  }
}
