import type { FloatTensor } from '../core/tensor.js';
import type { OnnxModel } from '../onnx/model.js';
import type { Range } from './qdq.js';
import { forEachBatch } from './run.js';

/**
 * How an activation's uint8 range is chosen from the calibration images: minmax covers every value
 * seen; percentile clips the rarest tails; mse picks the range whose quantization (clipping plus
 * rounding) has the least squared error over the values seen; entropy picks the clipping threshold whose
 * 8-bit histogram diverges least from the full one (KL divergence, as TensorRT's and onnxruntime's
 * entropy calibrators do).
 */
export type CalibrationMethod = 'minmax' | 'percentile' | 'mse' | 'entropy';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'mse', 'entropy'];

/** Two-sided: the lowest and highest (100 - P)% of values are clipped. */
export const DEFAULT_PERCENTILE = 99.99;
const BINS = 4096;

/** Activation ranges of `values` over the calibration batches, by the method's rule. */
export async function calibrateRanges(
  model: OnnxModel,
  values: readonly string[],
  batches: readonly FloatTensor[],
  method: CalibrationMethod,
  percentile = DEFAULT_PERCENTILE,
): Promise<Map<string, Range>> {
  const ranges = new Map(values.map((v) => [v, { min: Infinity, max: -Infinity }]));
  await forEachBatch(model, values, batches, (got) => {
    for (const [v, data] of got) {
      const r = ranges.get(v)!;
      for (let i = 0; i < data.length; i++) {
        if (data[i] < r.min) r.min = data[i];
        if (data[i] > r.max) r.max = data[i];
      }
    }
  });
  if (method === 'minmax') return ranges;
  // A second pass fills a histogram over each value's full range, then clips its tails.
  const histograms = new Map(values.map((v) => [v, new Float64Array(BINS)]));
  await forEachBatch(model, values, batches, (got) => {
    for (const [v, data] of got) {
      const { min, max } = ranges.get(v)!;
      const h = histograms.get(v)!;
      const k = max > min ? BINS / (max - min) : 0;
      for (let i = 0; i < data.length; i++) h[Math.min(BINS - 1, Math.floor((data[i] - min) * k))]++;
    }
  });
  const choose = (full: Range, h: Float64Array): Range =>
    method === 'percentile' ? clipTails(full, h, percentile) : method === 'mse' ? leastSquaredError(full, h) : leastDivergence(full, h);
  return new Map(values.map((v) => [v, choose(ranges.get(v)!, histograms.get(v)!)]));
}

const LEVELS = 255;
/** Shrink factors of the range tried by mse: 1 down to 1/32, in steps of 2^(1/16). */
const SHRINKS = Array.from({ length: 81 }, (_, i) => 2 ** (-i / 16));

/**
 * The range [min, max] x f (f from SHRINKS) with the least squared quantization error over the
 * histogram: values inside cost a rounding error (step^2 / 12), values outside their distance to it.
 */
function leastSquaredError(full: Range, h: Float64Array): Range {
  const width = (full.max - full.min) / h.length;
  if (!(width > 0)) return full;
  let best = { error: Infinity, range: full };
  for (const f of SHRINKS) {
    const lo = Math.min(full.min * f, 0);
    const hi = Math.max(full.max * f, 0);
    const rounding = ((hi - lo) / LEVELS) ** 2 / 12;
    let error = 0;
    for (let i = 0; i < h.length; i++) {
      if (h[i] === 0) continue;
      const c = full.min + (i + 0.5) * width;
      error += h[i] * (c > hi ? (c - hi) ** 2 : c < lo ? (lo - c) ** 2 : rounding);
    }
    if (error < best.error) best = { error, range: { min: lo, max: hi } };
  }
  return best.range;
}

/** Bins of the histogram entropy calibration quantizes into: the levels of uint8. */
const ENTROPY_FIRST = LEVELS;

/**
 * The clipping of the histogram's upper side (where activations spread: the lower side of LeViT's and
 * EfficientNet's is a HardSwish's or SiLU's small negative lobe) whose LEVELS-level version keeps
 * the most information: for each candidate end bin i, P is the histogram up to i with the clipped
 * tail added to its last bin, Q is P merged into LEVELS equal groups and spread back over each group's
 * non-empty bins, and the i with the least KL(P || Q) wins.
 */
function leastDivergence(full: Range, h: Float64Array): Range {
  const width = (full.max - full.min) / h.length;
  const zero = Math.max(0, Math.min(h.length, Math.floor(-full.min / width)));
  if (!(width > 0) || h.length - zero <= ENTROPY_FIRST) return full;
  let best = { kl: Infinity, end: h.length };
  for (let end = zero + ENTROPY_FIRST; end <= h.length; end += 8) {
    const p = Array.from(h.subarray(0, end));
    for (let i = end; i < h.length; i++) p[end - 1] += h[i];
    // Q is made from the clipped histogram without its tail: the information clipping loses is what KL measures.
    const q = new Float64Array(end);
    const group = (end - zero) / LEVELS;
    for (let g = 0; g < LEVELS; g++) {
      const [a, b] = [zero + Math.floor(g * group), zero + Math.floor((g + 1) * group)];
      let sum = 0;
      let nonzero = 0;
      for (let i = a; i < b; i++) if (h[i] > 0) [sum, nonzero] = [sum + h[i], nonzero + 1];
      for (let i = a; i < b; i++) if (h[i] > 0) q[i] = sum / nonzero;
    }
    for (let i = 0; i < zero; i++) q[i] = h[i];
    const [ps, qs] = [p.reduce((x, y) => x + y, 0), q.reduce((x, y) => x + y, 0)];
    let kl = 0;
    for (let i = 0; i < end; i++) if (p[i] > 0) kl += (p[i] / ps) * Math.log(p[i] / ps / (Math.max(q[i], 1e-12) / qs));
    if (kl < best.kl) best = { kl, end };
  }
  return { min: full.min, max: full.min + best.end * width };
}

function clipTails(full: Range, h: Float64Array, percentile: number): Range {
  const total = h.reduce((a, b) => a + b, 0);
  const tail = (total * (100 - percentile)) / 100;
  const width = (full.max - full.min) / h.length;
  let lo = 0;
  for (let seen = 0; lo < h.length - 1 && seen + h[lo] <= tail; lo++) seen += h[lo];
  let hi = h.length - 1;
  for (let seen = 0; hi > lo && seen + h[hi] <= tail; hi--) seen += h[hi];
  return { min: full.min + lo * width, max: full.min + (hi + 1) * width };
}
