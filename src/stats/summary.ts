import type { LatencySummary, Spread } from '../results/types.js';

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

/**
 * The standard normal quantile (inverse CDF) at p in (0, 1): Acklam's rational approximation (relative
 * error under 1.2e-9), ample for interval widths. Hand-written: one function does not
 * justify a statistics package in the install.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p = ${p} is outside (0, 1)`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  let x: number;
  if (p < 0.02425) x = tail(Math.sqrt(-2 * Math.log(p)));
  else if (p > 1 - 0.02425) x = -tail(Math.sqrt(-2 * Math.log(1 - p)));
  else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  return x;
}
