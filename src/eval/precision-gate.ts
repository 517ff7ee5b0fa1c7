/**
 * MLPerf's rule for a quantized model: it keeps at least 99% of the float32 model's accuracy.
 * Both run on the same images in the same run, so the comparison is paired: only the images
 * where exactly one of them is right carry information about the change.
 */
export const GATE_FRACTION = 0.99;
const Z95 = 1.96;

export interface PairedCounts {
  images: number;
  /** Top-1 right in float32 only, and in the reduced precision only. */
  lostRight: number;
  gainedRight: number;
  /** Top-1 right in float32 (either way). */
  fp32Right: number;
}

export interface PrecisionVerdict {
  verdict: 'passes' | 'fails' | 'inconclusive';
  /** Change in top-1 against float32, points, and its 95% interval. */
  change: number;
  interval: [number, number];
  /** How far top-1 may fall and pass: 1% of float32's top-1, points. */
  margin: number;
  reason: string;
}

/**
 * The change in top-1 (points) of a model against its reference on the same images, with a 95% interval
 * from the images where exactly one of them is right.
 */
export function pairedChange(c: Pick<PairedCounts, 'images' | 'lostRight' | 'gainedRight'>): { change: number; interval: [number, number] } {
  const n = Math.max(1, c.images);
  const change = (100 * (c.gainedRight - c.lostRight)) / n;
  // Standard error of a paired difference of proportions; at least one discordant pair's worth,
  // so that a small run with no disagreement is not taken for certainty.
  const discordant = c.lostRight + c.gainedRight;
  const variance = Math.max(1, discordant - (c.gainedRight - c.lostRight) ** 2 / n);
  const halfWidth = (Z95 * 100 * Math.sqrt(variance)) / n;
  return { change, interval: [change - halfWidth, change + halfWidth] };
}

export function judgePrecision(c: PairedCounts, synthetic: boolean): PrecisionVerdict {
  const n = Math.max(1, c.images);
  const { change, interval } = pairedChange(c);
  const margin = (100 * (1 - GATE_FRACTION) * c.fp32Right) / n;
  const ci = `95% interval ${interval[0].toFixed(2)} to ${interval[1].toFixed(2)}`;
  const basis = `${c.images} images, change ${change.toFixed(2)} points (${ci}), gate -${margin.toFixed(2)} points`;
  if (synthetic) return { verdict: 'inconclusive', change, interval, margin, reason: `synthetic weights: accuracy means nothing (${basis})` };
  if (c.fp32Right === 0)
    return { verdict: 'inconclusive', change, interval, margin, reason: `float32 gets no image right, so 99% of it is no test (${basis})` };
  if (interval[0] >= -margin) return { verdict: 'passes', change, interval, margin, reason: `keeps at least 99% of float32's top-1 (${basis})` };
  if (interval[1] < -margin) return { verdict: 'fails', change, interval, margin, reason: `loses more than 1% of float32's top-1 (${basis})` };
  return {
    verdict: 'inconclusive',
    change,
    interval,
    margin,
    reason: `too few images to tell: the interval straddles the gate; evaluate more images (${basis})`,
  };
}
