import type { FloatTensor } from '../core/tensor.js';
import type { OnnxModel } from '../onnx/model.js';
import type { Range } from './qdq.js';
import { forEachBatch } from './run.js';

export type CalibrationMethod = 'minmax' | 'percentile';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile'];

/** Two-sided: the lowest and highest (100 - P)% of values are clipped. */
export const DEFAULT_PERCENTILE = 99.99;
const BINS = 4096;

/** Activation ranges of `values` over the calibration batches, by min-max or by percentile. */
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
  return new Map(values.map((v) => [v, clipTails(ranges.get(v)!, histograms.get(v)!, percentile)]));
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
