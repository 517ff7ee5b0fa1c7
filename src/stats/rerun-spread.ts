import { normalQuantile } from './summary.js';

/**
 * How far a figure moves from one run to the next on a shared host, beyond what the run's own rounds
 * show: the standard deviation of its logarithm between runs, less the part the rounds account for.
 *
 * Rounds cancel what the host does for seconds at a time, but a whole run (two minutes) can fall in
 * one state of the host's neighbours. Measured on this project's 2-core VM over 13 back-to-back
 * default runs (docs/compare-error-rates.md#reruns), for the configuration or pair that moved most:
 *
 * - a speed-up between two configurations of one run: models of different kinds do not slow down
 *   alike (EfficientNet's depthwise convolutions are bound by memory, LeViT's products by
 *   arithmetic). LeViT-256 over EfficientNet-B3 went from 2.66x to 3.06x on one thread, each run's
 *   rounds giving ±4%, so the intervals of the rounds alone did not overlap from run to run; the
 *   excess was at most 0.04 on one thread (0.055 kept, from the first 8 runs) and 0.13 on two
 *   (LeViT-128S over EfficientNet-B0, 1.49x to 2.63x);
 * - one configuration's own images/s, which two results files compare: 8-10% on one thread
 *   (DeiT-Tiny, EfficientNet-B3), 16% for LeViT-128S on two threads.
 */
export const RERUN_SPREAD = {
  speedUp: { oneThread: 0.055, multiThread: 0.13 },
  speed: { oneThread: 0.095, multiThread: 0.16 },
} as const;

export const rerunSpread = (figure: keyof typeof RERUN_SPREAD, threads: number) =>
  threads > 1 ? RERUN_SPREAD[figure].multiThread : RERUN_SPREAD[figure].oneThread;

/**
 * The same for a live comparison of two codes (compare/live.ts), where both sides run in the same
 * rounds. Identical code moves alike (A/A: 0 false alarms in 80, docs/compare-error-rates.md), and so
 * does a change that adds more of the same work (an injected 1.10x read +10.0% and +10.3%); codes
 * that differ in kind do not (int8 LeViT-128S over its float32 torch.onnx export, one thread, batch 16:
 * 1.72x, 1.77x and 1.89x live on two days, a log sd of about 0.04, as much as a speed-up between
 * models). The size of the change is all a comparison knows, so the speed-up spread above is taken
 * in full from a 1.75x difference on and in proportion to |ln ratio| below it: nothing for identical
 * code, about a fifth of it at 10%.
 */
export const FULL_SPREAD_FROM = 1.75;

export const liveRerunSpread = (ratio: number, threads: number) =>
  rerunSpread('speedUp', threads) * Math.min(1, Math.abs(Math.log(ratio)) / Math.log(FULL_SPREAD_FROM));

/** The two-sided normal quantile of a confidence (0.95: 1.96). */
export const zOf = (confidence: number) => normalQuantile(1 - (1 - confidence) / 2);

/** Widens a ratio's interval by a between-run spread (sd of its logarithm), added in quadrature on each side. */
export function widened<T extends { value: number; low: number; high: number; confidence: number }>(r: T, spread: number): T {
  const z = zOf(r.confidence);
  const add = (halfWidth: number) => Math.sqrt(halfWidth ** 2 + (z * spread) ** 2);
  const below = add(Math.log(r.value / r.low));
  const above = add(Math.log(r.high / r.value));
  return { ...r, low: r.value * Math.exp(-below), high: r.value * Math.exp(above) };
}
