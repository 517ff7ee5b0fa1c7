/** Descriptive statistics of timing samples. Percentiles interpolate linearly, as NumPy's default. */

export function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

export function quantile(sortedXs: ArrayLike<number>, q: number): number {
  if (sortedXs.length === 0) return Number.NaN;
  const pos = (sortedXs.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sortedXs[lo] + (sortedXs[hi] - sortedXs[lo]) * (pos - lo);
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

export interface LatencySummary {
  mean: number;
  median: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

export interface Spread {
  /** (q3 - q1) / median: how noisy the run was. */
  relative_iqr: number;
  /** A distribution-free 95% confidence interval of the median (order statistics). */
  median_ci95: [number, number];
}

export function summarize(xs: readonly number[]): LatencySummary {
  const s = sorted(xs);
  return { mean: mean(s), median: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99), min: s[0], max: s[s.length - 1] };
}

export function spread(xs: readonly number[]): Spread {
  const s = sorted(xs);
  const n = s.length;
  const median = quantile(s, 0.5);
  // Ranks of the binomial(n, 1/2) interval around the median, by the normal approximation.
  const half = (1.96 * Math.sqrt(n)) / 2;
  const lo = Math.max(0, Math.floor(n / 2 - half) - 1);
  const hi = Math.min(n - 1, Math.ceil(n / 2 + half));
  return { relative_iqr: (quantile(s, 0.75) - quantile(s, 0.25)) / median, median_ci95: [s[lo], s[hi]] };
}

/** Sample standard deviation (n - 1), as hyperfine reports σ; 0 for fewer than two samples. */
export function stddev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}
