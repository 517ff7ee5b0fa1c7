import { quantile } from './summary.js';
import { seededRandom } from '../util/random.js';

/**
 * What the timings mean: statistics over interleaved rounds.
 *
 * bench runs every configuration of a run once per round, in a fresh random order (bench/schedule.ts), so
 * whatever the machine did during a round, every configuration saw it. The unit of evidence is the
 * round: each configuration's median batch time in that round. A record's figure is the median over
 * rounds; a ratio of two records is the ratio of those medians; and an interval comes from resampling
 * whole rounds, jointly for the two sides of a ratio when they ran in the same rounds (paired: drift
 * between rounds moves both and cancels), each side on its own otherwise (unpaired: two runs, two
 * files). Rounds are resampled in circular blocks of consecutive rounds (a moving-block bootstrap), so
 * that a slow spell lasting several rounds counts as one piece of evidence, not several.
 */

/** Timings as a record holds them: every timed batch and, from schema 3 on, the round it ran in. */
export interface Timed {
  times_ms: readonly number[];
  /** The round of every batch (same length as times_ms); absent in files written before rounds. */
  rounds?: readonly number[];
}

/** One value per round, in time order. */
export interface Series {
  /** Round ids, ascending. */
  ids: number[];
  values: number[];
  /** The ids are rounds shared with the other configurations of its run; false: one batch per "round", unpaired. */
  interleaved: boolean;
}

/** The fewest rounds a side for an interval that means anything. */
export const MIN_ROUNDS = 10;
/** Resamples of every bootstrap. */
export const RESAMPLES = 2000;
/**
 * The most units a bootstrap resamples: beyond, consecutive rounds are merged into bins (the median of
 * their values), which keeps the work linear in the size of the file and the bins in time order.
 */
export const MAX_UNITS = 2000;

export const medianOf = (xs: ArrayLike<number>) => quantile(Float64Array.from(xs).sort(), 0.5);

/** A record's timings as one median a round, in time order. */
export function seriesOf(r: Timed): Series {
  if (!r.rounds) return { ids: r.times_ms.map((_, i) => i), values: [...r.times_ms], interleaved: false };
  const byRound = new Map<number, number[]>();
  r.times_ms.forEach((t, i) => {
    const id = r.rounds![i];
    const list = byRound.get(id);
    if (list) list.push(t);
    else byRound.set(id, [t]);
  });
  const ids = [...byRound.keys()].sort((a, b) => a - b);
  return { ids, values: ids.map((id) => medianOf(byRound.get(id)!)), interleaved: true };
}

/** Merges consecutive units so that at most MAX_UNITS remain; every column is binned the same way. */
function binned(columns: number[][]): number[][] {
  const n = columns[0].length;
  if (n <= MAX_UNITS) return columns;
  const size = Math.ceil(n / MAX_UNITS);
  return columns.map((c) => {
    const out: number[] = [];
    for (let i = 0; i < n; i += size) out.push(medianOf(c.slice(i, i + size)));
    return out;
  });
}

/** Block length for n rounds: the cube root, the rate the moving-block bootstrap's variance estimate is best at. */
export const blockLength = (n: number) => Math.max(1, Math.round(Math.cbrt(n)));

/** Fills `draw` with unit indices drawn as blocks of consecutive units (circular: a block may wrap at the end). */
function drawBlocks(draw: Int32Array, random: () => number): Int32Array {
  const n = draw.length;
  const length = blockLength(n);
  for (let i = 0; i < n;) {
    const start = Math.floor(random() * n);
    for (let j = 0; j < length && i < n; j++, i++) draw[i] = (start + j) % n;
  }
  return draw;
}

/** Circular moving-block bootstrap: the percentile interval of `stat` over `resamples` draws of unit indices. */
export function blockBootstrap(stat: (random: () => number) => number, confidence: number, random: () => number, resamples = RESAMPLES): [number, number] {
  const results = new Float64Array(resamples);
  for (let k = 0; k < resamples; k++) results[k] = stat(random);
  results.sort();
  const tail = (1 - confidence) / 2;
  return [quantile(results, tail), quantile(results, 1 - tail)];
}

function drawnMedian(values: readonly number[], draw: Int32Array, scratch: Float64Array): number {
  for (let i = 0; i < draw.length; i++) scratch[i] = values[draw[i]];
  scratch.sort();
  return quantile(scratch, 0.5);
}

export interface Estimate {
  value: number;
  low: number;
  high: number;
  confidence: number;
  /** Units (rounds, or bins of them) the interval rests on: the fewer side's. */
  rounds: number;
}

/** The median over rounds with its interval. */
export function medianInterval(s: Series, confidence: number, seed = 1, resamples = RESAMPLES): Estimate {
  const [values] = binned([s.values]);
  const [draw, scratch] = [new Int32Array(values.length), new Float64Array(values.length)];
  const [low, high] = blockBootstrap((random) => drawnMedian(values, drawBlocks(draw, random), scratch), confidence, seededRandom(seed), resamples);
  return { value: medianOf(s.values), low, high, confidence, rounds: s.values.length };
}

export interface RatioEstimate extends Estimate {
  /** Resampled jointly, round by round (both sides ran in the same rounds). */
  paired: boolean;
}

export interface RatioOptions {
  confidence: number;
  /** Both series come from one run, whose round ids they share (two files' round ids mean nothing to each other). */
  sameRun: boolean;
  seed?: number;
  resamples?: number;
}

/**
 * median(numerator) / median(denominator) with its interval. Paired when both series come from the
 * same interleaved rounds of one run (only rounds both ran in count); otherwise each side is resampled
 * on its own.
 */
export function ratioInterval(numerator: Series, denominator: Series, o: RatioOptions): RatioEstimate {
  const { confidence, seed = 1, resamples = RESAMPLES } = o;
  const random = seededRandom(seed);
  if (o.sameRun && numerator.interleaved && denominator.interleaved) {
    const den = new Map(denominator.ids.map((id, i) => [id, denominator.values[i]]));
    const common = numerator.ids.map((id, i) => [numerator.values[i], den.get(id)] as const).filter((p): p is [number, number] => p[1] !== undefined);
    if (common.length > 1 && common.length >= Math.min(numerator.ids.length, denominator.ids.length) / 2) {
      const [a, b] = binned([common.map((p) => p[0]), common.map((p) => p[1])]);
      const [draw, sa, sb] = [new Int32Array(a.length), new Float64Array(a.length), new Float64Array(b.length)];
      const joint = (random: () => number) => {
        drawBlocks(draw, random);
        return drawnMedian(a, draw, sa) / drawnMedian(b, draw, sb);
      };
      const [low, high] = blockBootstrap(joint, confidence, random, resamples);
      const value = medianOf(common.map((p) => p[0])) / medianOf(common.map((p) => p[1]));
      return { value, low, high, confidence, rounds: common.length, paired: true };
    }
  }
  const [a] = binned([numerator.values]);
  const [b] = binned([denominator.values]);
  const [da, db, sa, sb] = [new Int32Array(a.length), new Int32Array(b.length), new Float64Array(a.length), new Float64Array(b.length)];
  const apart = (random: () => number) => drawnMedian(a, drawBlocks(da, random), sa) / drawnMedian(b, drawBlocks(db, random), sb);
  const [low, high] = blockBootstrap(apart, confidence, random, resamples);
  const value = medianOf(numerator.values) / medianOf(denominator.values);
  return { value, low, high, confidence, rounds: Math.min(numerator.values.length, denominator.values.length), paired: false };
}
