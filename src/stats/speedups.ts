import { FAMILIES } from '../models/families.js';
import { type RatioEstimate, ratioInterval, seriesOf } from './paired-intervals.js';
import type { BenchRecord } from '../results/types.js';
import { columnKey, columnsOf, rowKey } from '../results/keys.js';
import { rerunSpread, widened } from './rerun-spread.js';

/**
 * How far a speed-up between `fast` and `slow` is taken to move between runs (sd of its log): the
 * spread measured on levit's shared VM (rerun-spread.ts), or the machine's own from its history where that is
 * larger. Never less than the VM's, even on a machine whose history shows less: a speed-up is what
 * claims and the table's verdicts rest on, and a spread estimated from a handful of runs is itself
 * uncertain (from 3 runs, its sd could well be twice what it reads). The printed images/s, which
 * decide nothing, follow the machine's own (bench/record.ts).
 */
export function speedUpSpread(fast: BenchRecord, slow: BenchRecord): number {
  const measured = Math.max(fast.between_runs?.speed_up ?? 0, slow.between_runs?.speed_up ?? 0);
  return Math.max(rerunSpread('speedUp', Math.max(fast.threads, slow.threads)), measured);
}

/**
 * How many times as many images a second `fast` runs as `slow`: the ratio of their images/s (medians
 * over rounds), with an interval from resampling the rounds both ran in jointly (paired), or each
 * side's own rounds where they ran in different rounds or runs, widened by how far such a ratio moves
 * between runs (speedUpSpread).
 */
export function speedUpInterval(fast: BenchRecord, slow: BenchRecord, confidence: number, seed = 1): RatioEstimate {
  const rounds = ratioInterval(seriesOf(slow), seriesOf(fast), { confidence, sameRun: true, seed });
  const r = widened(rounds, speedUpSpread(fast, slow));
  const perImage = fast.batch / slow.batch;
  return { ...r, value: r.value * perImage, low: r.low * perImage, high: r.high * perImage };
}

/** The family the comparisons are about: every other family is its rival. */
export const SUBJECT = 'levit';

export interface SpeedUp {
  model: string;
  column: string;
  against: string;
  against_family: string;
  /** Published top-1 of both, in percent. */
  top1: number;
  against_top1: number;
  speedup: number;
  /** Its 95% interval; paired when both ran in the same rounds. */
  low: number;
  high: number;
  paired: boolean;
}

/** Confidence of the speed-ups in the tables (the claims' too). */
export const SPEEDUP_CONFIDENCE = 0.95;

const withInterval = (fast: BenchRecord, slow: BenchRecord) => {
  const r = speedUpInterval(fast, slow, SPEEDUP_CONFIDENCE);
  return { speedup: r.value, low: r.low, high: r.high, paired: r.paired };
};

type Rated = BenchRecord & { published_top1: number };
const rated = (r: BenchRecord): r is Rated => r.published_top1 !== null;

/**
 * The model matched in accuracy to one with top-1 `top1`: among `candidates`, the one with the
 * lowest published top-1 at or above it (ties: the faster). None when every candidate is less accurate.
 */
export function matchedRival<R extends Rated>(top1: number, candidates: readonly R[]): R | undefined {
  return candidates
    .filter((c) => c.published_top1 >= top1)
    .reduce<R | undefined>((best, c) => {
      if (!best || c.published_top1 < best.published_top1) return c;
      return c.published_top1 === best.published_top1 && c.images_per_second > best.images_per_second ? c : best;
    }, undefined);
}

/** The families LeViT is compared with in these records (every family but LeViT), in the order FAMILIES lists them. */
export function rivalFamilies(records: readonly BenchRecord[]): string[] {
  const present = new Set(records.map((r) => r.family));
  const known = FAMILIES.map((f) => f.id as string).filter((id) => present.has(id));
  const unknown = [...present].filter((id) => !known.includes(id)).sort();
  return [...known, ...unknown].filter((id) => id !== SUBJECT);
}

/**
 * LeViT's speed-up over one other family at matched accuracy: for every LeViT model and
 * configuration, the measured model of that family with the nearest published top-1 at or
 * above LeViT's (matchedRival). A LeViT model more accurate than the whole family gets none.
 */
export function speedUps(records: readonly BenchRecord[], family: string): SpeedUp[] {
  const out: SpeedUp[] = [];
  for (const column of columnsOf(records)) {
    // A model with token fusion has no published top-1 of its own: it is no one's match.
    const here = records.filter((r) => columnKey(r) === column.key && !r.token_fusion).filter(rated);
    const rivals = here.filter((r) => r.family === family);
    for (const r of here.filter((x) => x.family === SUBJECT)) {
      const rival = matchedRival(r.published_top1, rivals);
      if (!rival) continue;
      out.push({
        model: r.model,
        column: column.key,
        against: rival.model,
        against_family: family,
        top1: r.published_top1,
        against_top1: rival.published_top1,
        ...withInterval(r, rival),
      });
    }
  }
  return out;
}

export interface VariantSpeedUp {
  /** The row (rowKey) of the variant. */
  row: string;
  model: string;
  column: string;
  /** The variant: a reduced precision ('int8'), or a token fusion setting ('mctf:16'). */
  variant: string;
  /** Images/s against the base record of the same model, backend, threads and batch (float32, no fusion), with its 95% interval. */
  speedup: number;
  low: number;
  high: number;
  paired: boolean;
}

const sameConfiguration = (a: BenchRecord, b: BenchRecord) => a.model === b.model && a.backend === b.backend && a.threads === b.threads && a.batch === b.batch;
const isBase = (r: BenchRecord) => r.precision === 'fp32' && !r.token_fusion;

function againstBase(records: readonly BenchRecord[], variantOf: (r: BenchRecord) => string | undefined): VariantSpeedUp[] {
  const out: VariantSpeedUp[] = [];
  for (const r of records) {
    const variant = variantOf(r);
    const base = variant && records.find((x) => isBase(x) && sameConfiguration(x, r));
    if (variant && base) out.push({ row: rowKey(r), model: r.model, column: columnKey(r), variant, ...withInterval(r, base) });
  }
  return out;
}

/** Each reduced-precision record's speed-up over float32 in the same configuration. */
export const precisionSpeedUps = (records: readonly BenchRecord[]) => againstBase(records, (r) => (r.precision !== 'fp32' ? r.precision : undefined));

/** Each token fusion record's speed-up over the plain model in the same configuration. */
export const fusionSpeedUps = (records: readonly BenchRecord[]) => againstBase(records, (r) => r.token_fusion);
