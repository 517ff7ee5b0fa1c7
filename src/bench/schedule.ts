import { medianInterval, MIN_ROUNDS, type Series } from '../stats/paired-intervals.js';
import { seededRandom } from '../util/random.js';

/**
 * When to measure: interleaved rounds (randomized multiple interleaved trials, Abedi and Brecht,
 * ICPE 2017). Every round runs every configuration for one slice, in an order drawn afresh from a
 * seeded generator, so that no configuration always follows another and a slow spell of the machine
 * falls on all of them alike. A slice is a whole number of batches, fixed per configuration after its
 * warm-up, so that every round weighs the same in each configuration's figures.
 */

export interface RoundSettings {
  /** Seconds of warm-up per configuration before the rounds (at least one batch). */
  warmupSeconds: number;
  /** Seconds a configuration runs in one round, at least one batch. */
  sliceSeconds: number;
  /** Rounds at least. */
  minRounds: number;
  /** Timed seconds per configuration at least... */
  durationSeconds: number;
  /** ...and timed batches per configuration at least... */
  minIterations: number;
  /** ...then on until every configuration's median is known to this relative half-width (95%)... */
  targetCi: number;
  /** ...but the rounds stop once they have taken this many seconds per configuration on average, or a configuration maxIterations batches. */
  maxDurationSeconds: number;
  maxIterations: number;
  /** Seeds the order of the rounds: the same seed, the same order. */
  seed: number;
}

export const ROUND_DEFAULTS = { sliceSeconds: 0.15, minRounds: 15, seed: 1 } as const;

/** Why the rounds stopped. */
export type Stopped = 'precise' | 'time-cap' | 'iteration-cap' | 'interrupted';

/** The order of the configurations in one round: a seeded shuffle, different every round. */
export function roundOrder(arms: number, round: number, seed: number): number[] {
  const random = seededRandom((seed * 0x9e3779b1 + round * 0x85ebca6b) >>> 0);
  const order = Array.from({ length: arms }, (_, i) => i);
  for (let i = arms - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Batches in one slice, from the configuration's median warm-up batch time. */
export const sliceBatches = (batchMs: number, sliceSeconds: number) => Math.max(1, Math.round((sliceSeconds * 1000) / batchMs));

/** What the stopping rule looks at: per configuration, its timed batches, their seconds and its rounds. */
export interface ArmProgress {
  batches: number;
  seconds: number;
  series: Series;
}

/** Resamples of the interval the stopping rule checks after every round (a cheaper bootstrap than the figures'). */
const CHECK_RESAMPLES = 400;

export function relativeHalfWidth(s: Series): number {
  const e = medianInterval(s, 0.95, 1, CHECK_RESAMPLES);
  return (e.high - e.low) / 2 / e.value;
}

/**
 * Whether to stop after this round, and why; null: go on. Not before the minimum rounds, batches and
 * timed seconds of every configuration; then once every configuration's median is precise enough, or
 * the rounds have taken maxDurationSeconds per configuration (a run of slow and fast models shares one
 * budget: every round gives each at least one batch).
 */
export function stopAfter(rounds: number, elapsedSeconds: number, arms: readonly ArmProgress[], s: RoundSettings): Exclude<Stopped, 'interrupted'> | null {
  if (arms.some((a) => a.batches >= s.maxIterations)) return 'iteration-cap';
  const minimum = rounds >= Math.max(s.minRounds, MIN_ROUNDS) && arms.every((a) => a.batches >= s.minIterations && a.seconds >= s.durationSeconds);
  const capped = elapsedSeconds >= Math.max(s.maxDurationSeconds, s.durationSeconds) * arms.length;
  if (capped && rounds >= MIN_ROUNDS) return 'time-cap';
  if (!minimum) return null;
  return arms.every((a) => relativeHalfWidth(a.series) <= s.targetCi) ? 'precise' : null;
}
