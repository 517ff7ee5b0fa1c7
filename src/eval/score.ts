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
  verdict: 'agrees' | 'differs' | 'not comparable';
  published: PublishedAccuracy | null;
  /** Measured minus published top-1, in points. */
  difference: number | null;
  tolerance: number | null;
  reason: string;
}

const FULL_VALIDATION = 50_000;

/**
 * Does a measured top-1 agree with the published one? On the full 50,000 validation images the
 * same weights see the same images, so only numerics and decoding can differ: 0.1 points (50
 * images). On a subset, sampling adds a binomial error: 2.58 standard errors (99%) on top.
 */
export function judge(top1: number, evaluated: number, published: PublishedAccuracy | undefined, synthetic: boolean): Verdict {
  if (synthetic) return { verdict: 'not comparable', published: published ?? null, difference: null, tolerance: null, reason: 'synthetic weights' };
  if (!published)
    return { verdict: 'not comparable', published: null, difference: null, tolerance: null, reason: 'no published figure for this preprocessing' };
  // Under the hypothesis that the published accuracy is the true one.
  const p = published.top1 / 100;
  const standardError = Math.sqrt((p * (1 - p)) / Math.max(1, evaluated)) * 100;
  const tolerance = evaluated >= FULL_VALIDATION ? 0.1 : 0.1 + 2.58 * standardError;
  const difference = top1 - published.top1;
  const agrees = Math.abs(difference) <= tolerance;
  const basis =
    evaluated >= FULL_VALIDATION ? 'the full validation set: numerics and decoding only' : `${evaluated} images: 0.1 + 2.58 standard errors of sampling`;
  return { verdict: agrees ? 'agrees' : 'differs', published, difference, tolerance, reason: `tolerance ±${tolerance.toFixed(2)} points (${basis})` };
}
