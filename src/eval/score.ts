import type { PublishedAccuracy } from '../models/card.js';

/** Indices of the k largest logits, best first. */
export function topIndices(logits: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    if (best.length < k || logits[i] > logits[best[best.length - 1]]) {
      let at = Math.min(best.length, k - 1);
      if (best.length < k) best.push(i);
      while (at > 0 && logits[best[at - 1]] < logits[i]) {
        best[at] = best[at - 1];
        at--;
      }
      best[at] = i;
    }
  }
  return best;
}

export interface Verdict {
  verdict: 'agrees' | 'differs' | 'inconclusive' | 'not comparable';
  published: PublishedAccuracy | null;
  /** Measured minus published top-1, in points. */
  difference: number | null;
  tolerance: number | null;
  reason: string;
}

const FULL_VALIDATION = 50_000;
/** Numerics and decoding alone: the tolerance on the full validation set, in points. */
const NUMERICS = 0.1;
/** The widest tolerance a verdict of agreement may rest on, in points. */
export const AGREEMENT_BAR = 0.5;
const Z99 = 2.58;

/**
 * Sampling error of top-1 on n of the 50,000 validation images, in points, under the
 * hypothesis that the published figure is the true one (without replacement: the finite
 * population correction makes it vanish on the full set).
 */
function samplingError(p: number, n: number): number {
  return Math.sqrt(((p * (1 - p)) / n) * ((FULL_VALIDATION - n) / (FULL_VALIDATION - 1))) * 100;
}

/** The fewest images for which numerics plus 2.58 sampling errors stay within AGREEMENT_BAR. */
export function imagesForAgreement(p: number): number {
  const allowed = ((AGREEMENT_BAR - NUMERICS) / Z99 / 100) ** 2;
  return Math.ceil(1 / (allowed / (p * (1 - p)) + 1 / FULL_VALIDATION));
}

/**
 * Does a measured top-1 agree with the published one? On the full 50,000 validation images the
 * same weights see the same images, so only numerics and decoding can differ: 0.1 points. On
 * a random subset, 2.58 sampling errors (99%) are added. A gap past the tolerance "differs";
 * agreement is claimed only when the tolerance is within ±0.5 points, otherwise the verdict is
 * "inconclusive" and says how many images it needs. `sample` is false when the images are not
 * a random subset (the first classes of an ImageFolder): only the full set then counts.
 */
export function judge(top1: number, evaluated: number, published: PublishedAccuracy | undefined, synthetic: boolean, sample = true): Verdict {
  if (synthetic) return { verdict: 'not comparable', published: published ?? null, difference: null, tolerance: null, reason: 'synthetic weights' };
  if (!published)
    return { verdict: 'not comparable', published: null, difference: null, tolerance: null, reason: 'no published figure for this preprocessing' };
  const difference = top1 - published.top1;
  if (evaluated === 0) return { verdict: 'inconclusive', published, difference: null, tolerance: null, reason: 'no image was evaluated' };
  const full = evaluated >= FULL_VALIDATION;
  if (!full && !sample) {
    const reason = `${evaluated} images are whole classes, not a random sample: only the full set can be judged`;
    return { verdict: 'inconclusive', published, difference, tolerance: null, reason };
  }
  const p = published.top1 / 100;
  const tolerance = full ? NUMERICS : NUMERICS + Z99 * samplingError(p, evaluated);
  const basis = full ? 'the full validation set: numerics and decoding only' : `${evaluated} images: 0.1 + 2.58 standard errors of sampling`;
  const reason = `tolerance ±${tolerance.toFixed(2)} points (${basis})`;
  if (Math.abs(difference) > tolerance) return { verdict: 'differs', published, difference, tolerance, reason };
  if (tolerance > AGREEMENT_BAR) {
    const needed = imagesForAgreement(p);
    const why = `${reason}: too wide to call agreement; a ±${AGREEMENT_BAR}-point verdict needs ${needed} random images`;
    return { verdict: 'inconclusive', published, difference, tolerance, reason: why };
  }
  return { verdict: 'agrees', published, difference, tolerance, reason };
}
