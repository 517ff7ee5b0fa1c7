import type { BenchRecord, BenchResults } from '../bench/results.js';
import { quantile, sorted } from '../bench/stats.js';
import { mannWhitney } from './mann-whitney.js';
import { ExitCode, LevitError } from '../core/errors.js';

export type Verdict = 'improved' | 'unchanged' | 'regressed' | 'missing' | 'new';

export interface CompareOptions {
  /** Relative change of the median batch time that matters, e.g. 0.05. */
  threshold: number;
  /** Significance level of the Mann-Whitney test. */
  alpha: number;
}

export interface Comparison {
  key: string;
  model: string;
  backend: string;
  threads: number;
  batch: number;
  verdict: Verdict;
  baseline_images_per_second: number | null;
  current_images_per_second: number | null;
  /** Median batch time, current / baseline - 1: positive is slower. */
  change: number | null;
  p_value: number | null;
  note?: string;
}

export interface CompareReport {
  threshold: number;
  alpha: number;
  same_machine: boolean;
  baseline_machine: string;
  current_machine: string;
  /** current calibration / baseline calibration, applied to current times when machines differ. */
  normalisation: number | null;
  comparisons: Comparison[];
  counts: Record<Verdict, number>;
}

/** The identity of a configuration: records with the same key are the same benchmark. */
export const recordKey = (r: BenchRecord) => `${r.model} ${r.backend} ${r.threads}t b${r.batch} ${r.resolution}px ${r.precision_key ?? r.precision}`;

function byKey(results: BenchResults): Map<string, BenchRecord> {
  return new Map(results.records.map((r) => [recordKey(r), r]));
}

/**
 * Compares two result files record by record. On different machines the current times are
 * scaled by the ratio of the two calibrations, so that a faster runner does not hide a slower
 * graph (and a slower one does not fake a regression).
 */
export function compareResults(baseline: BenchResults, current: BenchResults, o: CompareOptions): CompareReport {
  const sameMachine = baseline.system.id === current.system.id;
  const calibrations = baseline.calibration && current.calibration;
  const normalisation = !sameMachine && calibrations ? current.calibration!.matmul_gflops_1thread / baseline.calibration!.matmul_gflops_1thread : null;
  const base = byKey(baseline);
  const cur = byKey(current);
  const comparisons: Comparison[] = [];
  for (const [key, b] of base) {
    const c = cur.get(key);
    const common = { key, model: b.model, backend: b.backend, threads: b.threads, batch: b.batch, baseline_images_per_second: b.images_per_second };
    if (!c) {
      comparisons.push({ ...common, verdict: 'missing', current_images_per_second: null, change: null, p_value: null, note: 'not in the current results' });
      continue;
    }
    const currentTimes = normalisation ? c.times_ms.map((t) => t * normalisation) : c.times_ms;
    const medianB = quantile(sorted(b.times_ms), 0.5);
    const medianC = quantile(sorted(currentTimes), 0.5);
    const change = medianC / medianB - 1;
    const { p } = mannWhitney(b.times_ms, currentTimes);
    const significant = p < o.alpha;
    const verdict: Verdict = significant && change > o.threshold ? 'regressed' : significant && change < -o.threshold ? 'improved' : 'unchanged';
    const note =
      !significant && Math.abs(change) > o.threshold
        ? `not significant (p = ${p.toFixed(3)}, ${b.times_ms.length} and ${c.times_ms.length} samples)`
        : undefined;
    comparisons.push({ ...common, verdict, current_images_per_second: (c.batch * 1000) / medianC, change, p_value: p, note });
  }
  for (const [key, c] of cur) {
    if (!base.has(key)) {
      comparisons.push({
        key, model: c.model, backend: c.backend, threads: c.threads, batch: c.batch, verdict: 'new',
        baseline_images_per_second: null, current_images_per_second: c.images_per_second, change: null, p_value: null, note: 'not in the baseline',
      });
    }
  }
  const counts: Record<Verdict, number> = { improved: 0, unchanged: 0, regressed: 0, missing: 0, new: 0 };
  for (const c of comparisons) counts[c.verdict]++;
  return {
    threshold: o.threshold,
    alpha: o.alpha,
    same_machine: sameMachine,
    baseline_machine: baseline.system.id,
    current_machine: current.system.id,
    normalisation,
    comparisons,
    counts,
  };
}

/** '5%' or '0.05' -> 0.05. */
export function parseThreshold(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(s.trim());
  if (!m) throw new LevitError(`--threshold: '${s}' is not a number or a percentage`, ExitCode.usage);
  return m[2] ? Number(m[1]) / 100 : Number(m[1]);
}
