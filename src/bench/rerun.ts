/**
 * How far a speed-up between two different models moves from one run to the next on a shared host,
 * beyond what the run's own rounds show: the standard deviation of its logarithm between runs, less
 * the part the rounds already account for.
 *
 * Rounds cancel what the host does for seconds at a time, but a whole run (two minutes) can fall in
 * one state of the host's neighbours, and two models of different kinds do not slow down alike in it
 * (EfficientNet's depthwise convolutions are bound by memory, LeViT's products by arithmetic). Eight
 * back-to-back default runs on this project's 2-core VM (docs/compare-error-rates.md#reruns) put
 * LeViT-192 over EfficientNet-B2 at 2.43x to 2.82x on one thread, with each run's rounds giving ±6%:
 * intervals from the rounds alone did not overlap from run to run. The excess, for the pair of the
 * default run that moved most: 0.055 on one thread (LeViT-256 over EfficientNet-B3), 0.104 on two.
 * It is added to every speed-up's interval between two configurations, so that a rerun lands inside it.
 */
export const RERUN_SPREAD = { oneThread: 0.055, multiThread: 0.105 } as const;

export const rerunSpread = (threads: number) => (threads > 1 ? RERUN_SPREAD.multiThread : RERUN_SPREAD.oneThread);

/** Two-sided normal quantiles of the confidences levit reports. */
const Z: Record<number, number> = { 0.9: 1.645, 0.95: 1.96, 0.99: 2.576 };

/** Widens a ratio's interval by a between-run spread (sd of its logarithm), added in quadrature on each side. */
export function widened<T extends { value: number; low: number; high: number; confidence: number }>(r: T, spread: number): T {
  const z = Z[r.confidence];
  if (z === undefined) throw new Error(`no normal quantile for confidence ${r.confidence}`);
  const add = (halfWidth: number) => Math.sqrt(halfWidth ** 2 + (z * spread) ** 2);
  const below = add(Math.log(r.value / r.low));
  const above = add(Math.log(r.high / r.value));
  return { ...r, low: r.value * Math.exp(-below), high: r.value * Math.exp(above) };
}
