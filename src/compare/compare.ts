import type { BenchRecord, BenchResults } from '../results/types.js';
import { recordKey } from '../results/keys.js';
import { MIN_ROUNDS, type Series, medianOf, ratioInterval, seriesOf } from '../stats/paired-intervals.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { rerunSpread, widened, zOf } from '../stats/rerun-spread.js';
import { machineId, sameMachine } from '../results/machine-id.js';

export { recordKey };

/**
 * regressed / improved: the interval of the change lies wholly past the threshold;
 * unchanged: wholly inside it (or the two timings are identical); inconclusive: neither, or too
 * few rounds for an interval, and the note says why;
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
  /**
   * Results files: how far one configuration's speed moves between two runs on this machine beyond
   * what its rounds show (sd of the log). Absent: as measured on a shared host (stats/rerun-spread.ts), or
   * the machine's own from its history where the records carry a larger one; 0 on a dedicated machine.
   */
  runSpread?: number;
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
  /** The (1 - alpha) interval of that change, from a seeded block bootstrap of the rounds (stats/paired-intervals.ts). */
  change_interval: [number, number] | null;
  note?: string;
}

/**
 * How the two sides' times were put on one scale before comparing:
 *   machine-check  different machines: the current times scaled by the ratio of the two runs'
 *                  machine checks (float32 MatMul GFLOP/s);
 *   time           raw batch times (one machine, or no machine check to scale by);
 *   interleaved    a live comparison (live.ts): both sides in the same rounds, paired round by round.
 * On one machine the times are not divided by the machine check timed in the same rounds: measured
 * here, a busy neighbour slowed the compute-bound MatMul and the models by different factors (its
 * round-by-round share moved by 40% where the models' times did not), which made false alarms.
 */
export type Basis = 'machine-check' | 'time' | 'interleaved';

export interface CompareReport {
  threshold: number;
  alpha: number;
  same_machine: boolean;
  baseline_machine: string;
  current_machine: string;
  /** The current machine check's GFLOP/s over the baseline's, applied to current times when the basis is machine-check. */
  machine_check_ratio: number | null;
  basis: Basis;
  /**
   * Results files: the run-to-run spread their intervals include, as given (runSpread), or 'measured':
   * stats/rerun-spread.ts's by thread count, or the machine's own (the records' between_runs.speed) where larger.
   */
  run_spread?: number | 'measured';
  comparisons: Comparison[];
  counts: Record<Verdict, number>;
}

const pctText = (v: number) => `${v > 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;

/** Whether every one of n2 batches falling beyond every one of n1 is unlikely by chance: 1 / C(n1 + n2, n1) <= alpha / 2. */
export function separationIsEvidence(n1: number, n2: number, alpha: number): boolean {
  let ways = 1;
  for (let k = 1; k <= n1; k++) ways = (ways * (n2 + k)) / k;
  return 1 / ways <= alpha / 2;
}

type Decided = Pick<Comparison, 'verdict' | 'change' | 'change_interval' | 'note'>;

/** Too few rounds for an interval: a complete separation past the threshold is still evidence, when chance alone would rarely produce it. */
function decideFew(b: Series, c: Series, o: CompareOptions, hostFactor: number): Decided {
  const change = medianOf(c.values) / medianOf(b.values) - 1;
  const t = o.threshold;
  if (separationIsEvidence(b.values.length, c.values.length, o.alpha)) {
    if (Math.min(...c.values) > Math.max(...b.values) * (1 + t) * hostFactor) {
      return {
        verdict: 'regressed',
        change,
        change_interval: null,
        note: `few rounds, but every current one is over ${pctText(t)} slower than every baseline one, beyond how far two runs on a shared host drift apart`,
      };
    }
    if (Math.max(...c.values) < (Math.min(...b.values) * (1 - t)) / hostFactor) {
      return {
        verdict: 'improved',
        change,
        change_interval: null,
        note: `few rounds, but every current one is over ${pctText(t)} faster than every baseline one, beyond how far two runs on a shared host drift apart`,
      };
    }
  }
  const note = `too few rounds (${b.values.length} and ${c.values.length}; an interval needs ${MIN_ROUNDS} a side): bench with a longer --duration`;
  return { verdict: 'inconclusive', change, change_interval: null, note };
}

/** The verdict on the interval of the change (current over baseline, minus 1). */
export function verdictOf(low: number, high: number, threshold: number, alpha: number): Pick<Comparison, 'verdict' | 'note'> {
  if (low > threshold) return { verdict: 'regressed' };
  if (high < -threshold) return { verdict: 'improved' };
  if (low >= -threshold && high <= threshold) return { verdict: 'unchanged' };
  const confidence = Math.round((1 - alpha) * 100);
  const note = `the ${confidence}% interval ${pctText(low)} to ${pctText(high)} crosses the ±${(threshold * 100).toFixed(1)}% threshold: too noisy to tell`;
  return { verdict: 'inconclusive', note };
}

/**
 * Two files are two runs: each fell in its own state of a shared host, which moves a configuration's
 * speed by more than its rounds show (stats/rerun-spread.ts). Their ratio carries both runs' spread. Unless
 * given (--run-spread), it is never taken below the spread measured on levit's shared VM: a verdict
 * must hold on a rerun, and a machine's own spread from a few earlier runs is itself uncertain; a
 * machine whose history shows more (records' between_runs.speed) gets its own.
 */
export function runSpreadOf(b: BenchRecord, c: BenchRecord, o: CompareOptions): number {
  if (o.runSpread !== undefined) return o.runSpread;
  return Math.max(rerunSpread('speed', b.threads), b.between_runs?.speed ?? 0, c.between_runs?.speed ?? 0);
}

/** The verdict on one pair of series on a common scale: an interval of median(current) / median(baseline), widened by the spread between runs. */
function decide(b: Series, c: Series, spread: number, o: CompareOptions, seed: number): Decided {
  const margin = Math.SQRT2 * spread;
  if (b.values.length < MIN_ROUNDS || c.values.length < MIN_ROUNDS) return decideFew(b, c, o, Math.exp(zOf(1 - o.alpha) * margin));
  const r = widened(ratioInterval(c, b, { confidence: 1 - o.alpha, sameRun: false, seed }), margin);
  const change_interval: [number, number] = [r.low - 1, r.high - 1];
  const decided = verdictOf(change_interval[0], change_interval[1], o.threshold, o.alpha);
  if (decided.verdict === 'inconclusive' && margin > 0) {
    decided.note += `, with the drift between two runs included (--run-spread): to decide a change this small, compare live (levit compare --help)`;
  }
  return { change: r.value - 1, change_interval, ...decided };
}

/** A record timed under emulation: marked itself, or from a file whose system says so. */
const isEmulated = (r: BenchRecord, of: BenchResults) => r.emulated === true || (of.system.emulation ?? null) !== null;

const sameTimes = (a: BenchRecord, b: BenchRecord) =>
  a.times_ms.length === b.times_ms.length && a.times_ms.every((t, i) => t === b.times_ms[i]) && (a.rounds ?? []).every((r, i) => r === b.rounds?.[i]);

function basisOf(baseline: BenchResults, current: BenchResults, oneMachine: boolean): { basis: Basis; machine_check_ratio: number | null } {
  if (!oneMachine && baseline.machine_check && current.machine_check) {
    return { basis: 'machine-check', machine_check_ratio: current.machine_check.matmul_gflops_1thread / baseline.machine_check.matmul_gflops_1thread };
  }
  return { basis: 'time', machine_check_ratio: null };
}

/** A record's series, its times multiplied by `scale` (the current side's, on the machine-check basis). */
function scaled(r: BenchRecord, scale = 1): Series {
  const s = seriesOf(r);
  return scale === 1 ? s : { ...s, values: s.values.map((v) => v * scale) };
}

/**
 * Compares two result files record by record: each side's median over rounds, on one scale (basisOf),
 * with an interval from resampling each side's rounds on its own (two runs share no rounds).
 * Identical timings are unchanged, whatever their noise: a file compared with itself always passes.
 */
export function compareResults(baseline: BenchResults, current: BenchResults, o: CompareOptions): CompareReport {
  // One machine: the same id, its CPU kind included, and the same CPU flags (files older than the kind in the id are judged by their flags).
  const same = sameMachine(baseline.system, current.system);
  const { basis, machine_check_ratio: ratio } = basisOf(baseline, current, same);
  const cur = new Map(current.records.map((r) => [recordKey(r), r]));
  const comparisons: Comparison[] = [];
  const base = new Set<string>();
  baseline.records.forEach((b, i) => {
    const key = recordKey(b);
    base.add(key);
    const c = cur.get(key);
    const common = { key, model: b.model, backend: b.backend, threads: b.threads, batch: b.batch, baseline_images_per_second: b.images_per_second };
    if (!c) {
      const absent = { current_images_per_second: null, change: null, change_interval: null };
      comparisons.push({ ...common, verdict: 'missing', ...absent, note: 'not in the current results' });
      return;
    }
    const emulated = [isEmulated(b, baseline) && 'baseline', isEmulated(c, current) && 'current'].filter(Boolean);
    if (emulated.length) {
      const note = `${emulated.join(' and ')} timed under emulation: not a speed figure, not compared`;
      comparisons.push({ ...common, verdict: 'emulated', current_images_per_second: c.images_per_second, change: null, change_interval: null, note });
      return;
    }
    if (sameTimes(b, c)) {
      const note = 'identical timings';
      comparisons.push({ ...common, verdict: 'unchanged', current_images_per_second: c.images_per_second, change: 0, change_interval: [0, 0], note });
      return;
    }
    const decided = decide(scaled(b), scaled(c, ratio ?? 1), runSpreadOf(b, c, o), o, 1 + i);
    const currentIps = ratio && basis === 'machine-check' ? c.images_per_second / ratio : c.images_per_second;
    comparisons.push({ ...common, current_images_per_second: currentIps, ...decided });
  });
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
  return reportOf(comparisons, o, {
    same_machine: same,
    baseline_machine: machineId(baseline.system),
    current_machine: machineId(current.system),
    machine_check_ratio: ratio,
    basis,
    run_spread: o.runSpread ?? 'measured',
  });
}

/** A report from its comparisons: the verdicts counted. */
export function reportOf(
  comparisons: Comparison[],
  o: CompareOptions,
  about: Omit<CompareReport, 'threshold' | 'alpha' | 'comparisons' | 'counts'>,
): CompareReport {
  const counts: Record<Verdict, number> = { improved: 0, unchanged: 0, regressed: 0, inconclusive: 0, missing: 0, new: 0, emulated: 0 };
  for (const c of comparisons) counts[c.verdict]++;
  return { threshold: o.threshold, alpha: o.alpha, ...about, comparisons, counts };
}

/** The exit code of a comparison: a regression wins over an inconclusive record. */
export function compareExitCode(r: CompareReport): number {
  if (r.counts.regressed) return CompareExit.regressed;
  if (r.counts.inconclusive) return CompareExit.inconclusive;
  return CompareExit.noRegression;
}

/** '5%' or '0.05' -> 0.05. */
export const parseThreshold = (s: string) => parseFraction(s, '--threshold', false);

/** A fraction given as '10%' or '0.1': over 0 and under 1 (0 allowed when `zero`). */
export function parseFraction(s: string, flag: string, zero: boolean): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(s.trim());
  const range = zero ? 'from 0 to under 100%' : 'between 0 and 100%';
  if (!m) throw new LevitError(`${flag}: '${s}' is not a number or a percentage ${range} (e.g. 5% or 0.05)`, ExitCode.usage);
  const v = m[2] ? Number(m[1]) / 100 : Number(m[1]);
  if (!((zero ? v >= 0 : v > 0) && v < 1)) throw new LevitError(`${flag}: '${s}' must lie ${range}`, ExitCode.usage);
  return v;
}
