import { quantile, sorted } from '../bench/stats.js';
import { seededRandom } from '../util/random.js';

/**
 * The fewest timed batches a side for compare to decide on an interval: with fewer, the
 * bootstrap distribution of a median has too few distinct values to mean anything. bench
 * never stops before this many (its --min-iterations default).
 */
export const MIN_BATCHES = 10;

function resampledMedian(xs: readonly number[], random: () => number, scratch: Float64Array): number {
  for (let i = 0; i < xs.length; i++) scratch[i] = xs[Math.floor(random() * xs.length)];
  scratch.sort();
  return quantile(scratch, 0.5);
}

export interface RatioInterval {
  /** median(current) / median(baseline): above 1 is slower. */
  ratio: number;
  low: number;
  high: number;
  confidence: number;
}

/**
 * Percentile bootstrap interval of the ratio of medians, current over baseline: each side is
 * resampled on its own (the runs are independent), seeded so that a file pair always gets the
 * same verdict.
 */
export function ratioOfMediansInterval(baseline: readonly number[], current: readonly number[], confidence: number, resamples = 4000, seed = 1): RatioInterval {
  const random = seededRandom(seed);
  const sb = new Float64Array(baseline.length);
  const sc = new Float64Array(current.length);
  const ratios = new Float64Array(resamples);
  for (let i = 0; i < resamples; i++) ratios[i] = resampledMedian(current, random, sc) / resampledMedian(baseline, random, sb);
  ratios.sort();
  const tail = (1 - confidence) / 2;
  return {
    ratio: quantile(sorted(current), 0.5) / quantile(sorted(baseline), 0.5),
    low: quantile(ratios, tail),
    high: quantile(ratios, 1 - tail),
    confidence,
  };
}
