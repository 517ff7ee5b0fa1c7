import type { BenchRecord, BenchResults } from '../bench/results.js';
import { recordKey } from '../bench/validate.js';
import { quantile, sorted } from '../bench/stats.js';
import { MIN_BATCHES, ratioOfMediansInterval } from './interval.js';
import { ExitCode, LevitError } from '../core/errors.js';

export { recordKey };

/**
 * regressed / improved: the interval of the change lies wholly past the threshold;
 * unchanged: wholly inside it; inconclusive: neither, or the evidence cannot be trusted
 * (too few batches, a record taken on a busy machine), and the note says why;
 * emulated: one side was timed under emulation, which is no speed figure, so nothing is decided.
 */
export type Verdict = 'improved' | 'unchanged' | 'regressed' | 'inconclusive' | 'missing' | 'new' | 'emulated';

/** compare's exit codes: a CI job passes only on 0. */
export const CompareExit = { noRegression: 0, regressed: 1, inconclusive: 6 } as const;

export interface CompareOptions {
  /** Relative change of the median batch time that matters, e.g. 0.10. */
  threshold: number;
  /** 1 - the confidence of the interval of the change. */
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
  /** The (1 - alpha) interval of that change, from a seeded bootstrap of the ratio of medians. */
  change_interval: [number, number] | null;
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
  /** Why every record is inconclusive (the machine itself changed speed), or null. */
  machine_note: string | null;
  comparisons: Comparison[];
  counts: Record<Verdict, number>;
}

/**
 * On the same machine the calibration should not move; when it does by more than this factor,
 * the machine was busy (or throttled) during one of the runs and no timing of it can be trusted.
 */
export const CALIBRATION_DRIFT = 0.15;

function machineNote(baseline: BenchResults, current: BenchResults, sameMachine: boolean): string | null {
  if (!sameMachine || !baseline.calibration || !current.calibration) return null;
  const ratio = current.calibration.matmul_gflops_1thread / baseline.calibration.matmul_gflops_1thread;
  if (Math.abs(Math.log(ratio)) <= Math.log(1 + CALIBRATION_DRIFT)) return null;
  const [from, to] = [baseline.calibration.matmul_gflops_1thread.toFixed(1), current.calibration.matmul_gflops_1thread.toFixed(1)];
  return `same machine, but its calibration moved from ${from} to ${to} GFLOP/s: one run was taken on a busy or throttled machine`;
}

const pctText = (v: number) => `${v > 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;

/** Whether every one of n2 batches falling beyond every one of n1 is unlikely by chance: 1 / C(n1 + n2, n1) <= alpha / 2. */
export function separationIsEvidence(n1: number, n2: number, alpha: number): boolean {
  let ways = 1;
  for (let k = 1; k <= n1; k++) ways = (ways * (n2 + k)) / k;
  return 1 / ways <= alpha / 2;
}

/** The verdict on one pair of records whose evidence is trustworthy. */
function decide(b: BenchRecord, currentTimes: number[], o: CompareOptions): Pick<Comparison, 'verdict' | 'change' | 'change_interval' | 'note'> {
  const interval = ratioOfMediansInterval(b.times_ms, currentTimes, 1 - o.alpha);
  const change = interval.ratio - 1;
  const [low, high] = [interval.low - 1, interval.high - 1];
  const t = o.threshold;
  if (b.times_ms.length < MIN_BATCHES || currentTimes.length < MIN_BATCHES) {
    // Too few for an interval; a complete separation past the threshold is still evidence, when
    // chance alone would separate that many batches with probability under alpha / 2.
    if (separationIsEvidence(b.times_ms.length, currentTimes.length, o.alpha)) {
      const [slowest, fastest] = [Math.max(...b.times_ms), Math.min(...b.times_ms)];
      if (Math.min(...currentTimes) > slowest * (1 + t)) {
        const note = `few batches, but every current batch is over ${pctText(t)} slower than every baseline one`;
        return { verdict: 'regressed', change, change_interval: null, note };
      }
      if (Math.max(...currentTimes) < fastest * (1 - t)) {
        const note = `few batches, but every current batch is over ${pctText(t)} faster than every baseline one`;
        return { verdict: 'improved', change, change_interval: null, note };
      }
    }
    const note = `too few batches (${b.times_ms.length} and ${currentTimes.length}; an interval needs ${MIN_BATCHES} a side): bench with a longer --duration`;
    return { verdict: 'inconclusive', change, change_interval: null, note };
  }
  const change_interval: [number, number] = [low, high];
  if (low > t) return { verdict: 'regressed', change, change_interval };
  if (high < -t) return { verdict: 'improved', change, change_interval };
  if (low >= -t && high <= t) return { verdict: 'unchanged', change, change_interval };
  const confidence = Math.round((1 - o.alpha) * 100);
  const note = `the ${confidence}% interval ${pctText(low)} to ${pctText(high)} crosses the ±${(t * 100).toFixed(1)}% threshold: too noisy to tell`;
  return { verdict: 'inconclusive', change, change_interval, note };
}

/**
 * How much slower, and how much faster, the machine itself may have been during the current record than
 * during the baseline one, from the calibrations measured around both: the most of a change that the
 * machine rather than the code can explain. null without those calibrations.
 */
export function machineSwing(b: BenchRecord, c: BenchRecord): { slower: number; faster: number } | null {
  if (!b.stability || !c.stability) return null;
  const around = (r: BenchRecord) => [r.stability!.gflops_before, r.stability!.gflops_after];
  const [sb, sc] = [around(b), around(c)];
  return { slower: Math.max(...sb) / Math.min(...sc), faster: Math.max(...sc) / Math.min(...sb) };
}

/**
 * On a busy machine a verdict still stands when the whole interval lies past the threshold compounded with
 * the machine's own swing: a 2x slowdown is not explained by a machine that slowed by 20%.
 */
function beyondSwing(interval: [number, number] | null, swing: { slower: number; faster: number } | null, t: number): 'regressed' | 'improved' | null {
  if (!interval || !swing) return null;
  if (1 + interval[0] > (1 + t) * swing.slower) return 'regressed';
  if (1 + interval[1] < (1 - t) / swing.faster) return 'improved';
  return null;
}

/**
 * What the machine's state leaves of a verdict of the timings: on a flagged record, only a change past the
 * machine's own swing; on unflagged ones, a regression or improvement that the swing could explain is
 * inconclusive too (the calibrations around the two records differed that much).
 */
function trusted(
  decided: Pick<Comparison, 'verdict' | 'change_interval'>,
  b: BenchRecord,
  c: BenchRecord,
  distrust: string | null,
  threshold: number,
): Partial<Pick<Comparison, 'verdict' | 'note'>> {
  const swing = machineSwing(b, c);
  const beyond = beyondSwing(decided.change_interval, swing, threshold);
  const swingText = swing ? `${swing.slower.toFixed(2)}x slower to ${swing.faster.toFixed(2)}x faster` : '';
  if (distrust) {
    if (beyond) return { verdict: beyond, note: `${distrust}, but the change is past what the machine's own swing (${swingText}) explains` };
    return { verdict: 'inconclusive', note: `${distrust} (the timings alone said ${decided.verdict})` };
  }
  const decisive = decided.verdict === 'regressed' || decided.verdict === 'improved';
  if (decisive && decided.change_interval && swing && !beyond) {
    const note = `the machine's own speed around the two records differed (${swingText}), which could explain the change`;
    return { verdict: 'inconclusive', note: `${note} (the timings alone said ${decided.verdict})` };
  }
  return {};
}

function untrusted(b: BenchRecord, c: BenchRecord): string | null {
  if (b.stability?.unstable) return `baseline record flagged: ${b.stability.unstable}`;
  if (c.stability?.unstable) return `current record flagged: ${c.stability.unstable}`;
  return null;
}

/** A record timed under emulation: marked itself, or from a file whose system says so. */
const isEmulated = (r: BenchRecord, of: BenchResults) => r.emulated === true || (of.system.emulation ?? null) !== null;

/**
 * Compares two result files record by record. On different machines the current times are
 * scaled by the ratio of the two calibrations, so that a faster runner does not hide a slower
 * graph (and a slower one does not fake a regression).
 */
export function compareResults(baseline: BenchResults, current: BenchResults, o: CompareOptions): CompareReport {
  const sameMachine = baseline.system.id === current.system.id;
  const calibrations = baseline.calibration && current.calibration;
  const normalisation = !sameMachine && calibrations ? current.calibration!.matmul_gflops_1thread / baseline.calibration!.matmul_gflops_1thread : null;
  const busy = machineNote(baseline, current, sameMachine);
  const cur = new Map(current.records.map((r) => [recordKey(r), r]));
  const comparisons: Comparison[] = [];
  const base = new Set<string>();
  for (const b of baseline.records) {
    const key = recordKey(b);
    base.add(key);
    const c = cur.get(key);
    const common = { key, model: b.model, backend: b.backend, threads: b.threads, batch: b.batch, baseline_images_per_second: b.images_per_second };
    if (!c) {
      const absent = { current_images_per_second: null, change: null, change_interval: null };
      comparisons.push({ ...common, verdict: 'missing', ...absent, note: 'not in the current results' });
      continue;
    }
    const emulated = [isEmulated(b, baseline) && 'baseline', isEmulated(c, current) && 'current'].filter(Boolean);
    if (emulated.length) {
      comparisons.push({
        ...common,
        verdict: 'emulated',
        current_images_per_second: c.images_per_second,
        change: null,
        change_interval: null,
        note: `${emulated.join(' and ')} timed under emulation: not a speed figure, not compared`,
      });
      continue;
    }
    const currentTimes = normalisation ? c.times_ms.map((t) => t * normalisation) : c.times_ms;
    const currentIps = (c.batch * 1000) / quantile(sorted(currentTimes), 0.5);
    const decided = decide(b, currentTimes, o);
    comparisons.push({ ...common, current_images_per_second: currentIps, ...decided, ...trusted(decided, b, c, busy ?? untrusted(b, c), o.threshold) });
  }
  for (const c of current.records) {
    const key = recordKey(c);
    if (base.has(key)) continue;
    comparisons.push({
      key,
      model: c.model,
      backend: c.backend,
      threads: c.threads,
      batch: c.batch,
      verdict: 'new',
      baseline_images_per_second: null,
      current_images_per_second: c.images_per_second,
      change: null,
      change_interval: null,
      note: 'not in the baseline',
    });
  }
  const counts: Record<Verdict, number> = { improved: 0, unchanged: 0, regressed: 0, inconclusive: 0, missing: 0, new: 0, emulated: 0 };
  for (const c of comparisons) counts[c.verdict]++;
  return {
    threshold: o.threshold,
    alpha: o.alpha,
    same_machine: sameMachine,
    baseline_machine: baseline.system.id,
    current_machine: current.system.id,
    normalisation,
    machine_note: busy,
    comparisons,
    counts,
  };
}

/** The exit code of a comparison: a regression wins over an inconclusive record. */
export function compareExitCode(r: CompareReport): number {
  if (r.counts.regressed) return CompareExit.regressed;
  if (r.counts.inconclusive) return CompareExit.inconclusive;
  return CompareExit.noRegression;
}

/** '5%' or '0.05' -> 0.05. */
export function parseThreshold(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(s.trim());
  if (!m) throw new LevitError(`--threshold: '${s}' is not a number or a percentage`, ExitCode.usage);
  const v = m[2] ? Number(m[1]) / 100 : Number(m[1]);
  if (!(v > 0 && v < 1)) throw new LevitError(`--threshold: '${s}' must lie between 0 and 100%`, ExitCode.usage);
  return v;
}
