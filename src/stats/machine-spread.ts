import { MIN_ROUNDS, type Series, medianInterval, ratioInterval, seriesOf } from './paired-intervals.js';
import { type BenchRecord, type BenchResults, RECORD_CONFIDENCE, type RunSpread } from '../results/types.js';
import { recordKey } from '../results/keys.js';
import { machineId, speedFlags } from '../results/machine-id.js';
import { zOf } from './rerun-spread.js';

/**
 * How far figures move between runs on THIS machine, from its own earlier runs. Every completed
 * `levit bench` leaves a summary of its run in levit's cache (run-history.ts: appendRunHistory): per
 * configuration its median batch time and the precision its rounds gave it, and the same for the
 * ratios a run pairs (two configurations of one column, a configuration and the machine check's MatMul).
 * From three such runs on, the spread between runs is known: the standard deviation of the log of a
 * figure from run to run, less the part each run's own rounds already account for (as rerun-spread.ts
 * explains its constants, which were measured so on the project's VM). Until then it is unknown, and
 * a record's interval is its rounds' own: on a quiet dedicated machine that is the whole truth.
 */

/** Runs of a configuration (or a pair) before its between-run spread is estimated. */
export const MIN_RUNS = 3;
/** The most recent runs an estimate uses: a machine's neighbours change over weeks. */
export const MAX_RUNS_USED = 20;
/** Pairs kept per run summary (levit bench --all has thousands): the first, in record order. */
export const MAX_PAIRS = 300;
/** Version of the summary line; readers skip lines of other versions. */
export const SUMMARY_VERSION = 1;

/** A log figure of one run with its standard error from that run's rounds: [log value, se]. */
export type LogFigure = [number, number];

export interface ConfigSummary {
  /** recordKey: model, backend, threads, batch, resolution, precision, token fusion. */
  key: string;
  threads: number;
  backend_version: string | null;
  rounds: number;
  /** Median over rounds of the batch time (ms), and the log of it with its se. */
  median_ms: number;
  log_ms: LogFigure;
  /** log(batch time / the machine check MatMul's), paired round by round; absent without the machine check. */
  share?: LogFigure;
}

export interface RunSummary {
  v: typeof SUMMARY_VERSION;
  created: string;
  levit_version: string;
  /** machineId of the run's system, and its speed-relevant flags. */
  machine: string;
  flags: string[];
  configs: ConfigSummary[];
  /** Pairs of configurations of one backend, thread count and batch measured in the same rounds: [i, j, log(ms_i / ms_j), se]. */
  pairs: [number, number, number, number][];
}

const round6 = (x: number) => Number(x.toPrecision(6));
const seOf = (low: number, high: number, confidence: number) => Math.log(high / low) / (2 * zOf(confidence));
const logFigure = (e: { value: number; low: number; high: number; confidence: number }): LogFigure => [
  round6(Math.log(e.value)),
  round6(seOf(e.low, e.high, e.confidence)),
];

/** A record's rounds as its own interval sees them (schema 3; null for records timed one after another). */
const roundSeries = (r: BenchRecord): Series | null => (r.rounds ? seriesOf(r) : null);

/**
 * What levit keeps of a run: null for a run that says nothing of this machine's speed from run to run
 * (emulated, interrupted, or with no configuration of MIN_ROUNDS rounds).
 */
export function summarizeRun(results: BenchResults): RunSummary | null {
  if (results.interrupted || results.system.emulation) return null;
  const check = results.machine_check_rounds ? seriesOf(results.machine_check_rounds) : null;
  const kept = results.records.flatMap((r) => {
    const series = roundSeries(r);
    return series && !r.emulated && series.values.length >= MIN_ROUNDS ? [{ r, series }] : [];
  });
  if (kept.length === 0) return null;
  const configs = kept.map(({ r, series }): ConfigSummary => {
    const own = medianInterval(series, RECORD_CONFIDENCE);
    const share = check ? ratioInterval(series, check, { confidence: RECORD_CONFIDENCE, sameRun: true }) : null;
    return {
      key: recordKey(r),
      threads: r.threads,
      backend_version: r.backend_version ?? null,
      rounds: series.values.length,
      median_ms: round6(own.value),
      log_ms: logFigure(own),
      ...(share?.paired ? { share: logFigure(share) } : {}),
    };
  });
  const pairs: RunSummary['pairs'] = [];
  const column = (r: BenchRecord) => `${r.backend} ${r.threads} ${r.batch}`;
  for (let i = 0; i < kept.length && pairs.length < MAX_PAIRS; i++) {
    for (let j = i + 1; j < kept.length && pairs.length < MAX_PAIRS; j++) {
      if (column(kept[i].r) !== column(kept[j].r)) continue;
      const ratio = ratioInterval(kept[i].series, kept[j].series, { confidence: RECORD_CONFIDENCE, sameRun: true });
      if (ratio.paired) pairs.push([i, j, ...logFigure(ratio)]);
    }
  }
  return {
    v: SUMMARY_VERSION,
    created: results.created,
    levit_version: results.levit_version,
    machine: machineId(results.system),
    flags: speedFlags(results.system),
    configs,
    pairs,
  };
}

const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isLogFigure = (x: unknown): x is LogFigure => Array.isArray(x) && x.length === 2 && isFiniteNumber(x[0]) && isFiniteNumber(x[1]) && x[1] >= 0;

/** A line of the history as a summary, or null for a line that is not one (torn, edited, another version): it is skipped. */
export function parseRunSummary(line: string): RunSummary | null {
  let o: Partial<RunSummary>;
  try {
    o = JSON.parse(line);
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object' || o.v !== SUMMARY_VERSION || typeof o.machine !== 'string' || typeof o.levit_version !== 'string') return null;
  if (!Array.isArray(o.flags) || !Array.isArray(o.configs) || !Array.isArray(o.pairs)) return null;
  const configsOk = o.configs.every(
    (c) =>
      c &&
      typeof c.key === 'string' &&
      Number.isInteger(c.threads) &&
      isLogFigure(c.log_ms) &&
      (c.share === undefined || isLogFigure(c.share)) &&
      (c.backend_version === null || typeof c.backend_version === 'string'),
  );
  const n = o.configs.length;
  const pairsOk = o.pairs.every(
    (p) => Array.isArray(p) && p.length === 4 && [p[0], p[1]].every((i) => Number.isInteger(i) && i >= 0 && i < n) && isLogFigure([p[2], p[3]]),
  );
  return configsOk && pairsOk ? (o as RunSummary) : null;
}

/**
 * The spread between runs of a log figure beyond what each run's rounds explain: sqrt(max(0, the
 * sample variance of the runs' values - the mean of their squared standard errors)). Null below
 * MIN_RUNS runs: two runs say little of a spread.
 */
export function excessSpread(points: readonly LogFigure[]): number | null {
  if (points.length < MIN_RUNS) return null;
  const mean = points.reduce((s, [v]) => s + v, 0) / points.length;
  const between = points.reduce((s, [v]) => s + (v - mean) ** 2, 0) / (points.length - 1);
  const own = points.reduce((s, [, se]) => s + se ** 2, 0) / points.length;
  return Math.sqrt(Math.max(0, between - own));
}

/** A spread with the number of runs it comes from. */
export interface Spread {
  sd: number;
  runs: number;
}

export interface MachineSpreads {
  /** The earlier runs of this machine and levit version that were read. */
  runs: number;
  /** What a record of this machine gets: its fields of the results (results/types.ts, RunSpread). */
  of(
    r: Pick<BenchRecord, 'model' | 'backend' | 'threads' | 'batch' | 'resolution' | 'precision' | 'precision_key' | 'token_fusion' | 'backend_version'>,
  ): RunSpread;
}

const figureKey = (key: string, backendVersion: string | null | undefined) => `${key} @${backendVersion ?? '-'}`;

/** Each key's figures over the runs (most recent last), the last MAX_RUNS_USED of them. */
function collect(entries: Iterable<[string, LogFigure]>): Map<string, LogFigure[]> {
  const by = new Map<string, LogFigure[]>();
  for (const [key, figure] of entries) {
    const list = by.get(key);
    if (list) list.push(figure);
    else by.set(key, [figure]);
  }
  for (const [key, list] of by) if (list.length > MAX_RUNS_USED) by.set(key, list.slice(-MAX_RUNS_USED));
  return by;
}

const spreadOf = (points: readonly LogFigure[] | undefined): Spread | null => {
  const sd = points ? excessSpread(points) : null;
  return sd === null ? null : { sd, runs: points!.length };
};

/**
 * This machine's between-run spreads from its earlier runs (oldest first): those of the same machine
 * (id and CPU flags) and levit version, each configuration counted with the same runtime version only
 * (a new onnxruntime moves a speed for good, not from run to run).
 * - speed: per configuration, of its median batch time;
 * - matmul_share: per configuration, of its time over the machine check MatMul's;
 * - speed_up: per thread count, the largest over the pairs of configurations of one column (as rerun-spread.ts
 *   keeps the pair that moved most): a record does not know which pair it will be part of.
 */
export function machineSpreads(history: readonly RunSummary[], current: { machine: string; flags: readonly string[]; levit_version: string }): MachineSpreads {
  const runs = history.filter(
    (h) => h.machine === current.machine && h.flags.join(' ') === current.flags.join(' ') && h.levit_version === current.levit_version,
  );
  const speed = collect(runs.flatMap((h) => h.configs.map((c): [string, LogFigure] => [figureKey(c.key, c.backend_version), c.log_ms])));
  const share = collect(
    runs.flatMap((h) => h.configs.flatMap((c): [string, LogFigure][] => (c.share ? [[figureKey(c.key, c.backend_version), c.share]] : []))),
  );
  const pairs = collect(
    runs.flatMap((h) =>
      h.pairs.map(([i, j, value, se]): [string, LogFigure] => {
        const [a, b] = [h.configs[i], h.configs[j]];
        const [ka, kb] = [figureKey(a.key, a.backend_version), figureKey(b.key, b.backend_version)];
        // One orientation for every run: the ratio of the key that sorts first over the other.
        return ka < kb ? [`${a.threads}\n${ka}\n${kb}`, [value, se]] : [`${a.threads}\n${kb}\n${ka}`, [-value, se]];
      }),
    ),
  );
  const speedUp = new Map<number, Spread>();
  for (const [key, points] of pairs) {
    const s = spreadOf(points);
    const threads = Number(key.split('\n')[0]);
    if (s && s.sd >= (speedUp.get(threads)?.sd ?? -1)) speedUp.set(threads, s);
  }
  return {
    runs: runs.length,
    of(r) {
      const key = figureKey(recordKey(r), r.backend_version);
      const s = spreadOf(speed.get(key));
      return {
        runs: speed.get(key)?.length ?? 0,
        speed: s?.sd ?? null,
        matmul_share: spreadOf(share.get(key))?.sd ?? null,
        speed_up: speedUp.get(r.threads)?.sd ?? null,
      };
    },
  };
}
