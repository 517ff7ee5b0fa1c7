import { countsOf } from '../classifier/zoo.js';
import { precisionKey } from '../classifier/precision.js';
import { fusionName, isFused } from '../models/fusion/spec.js';
import type { SessionPlan } from './configurations.js';
import { type Series, medianInterval, ratioInterval, seriesOf } from '../stats/paired-intervals.js';
import type { ArmTimes } from './rounds.js';
import { type BenchRecord, type MachineCheckRounds, type Interval, RECORD_CONFIDENCE, type RunSpread } from '../results/types.js';
import { spread, summarize } from '../stats/summary.js';
import { widened } from '../stats/rerun-spread.js';

/**
 * The configuration's float32 GFLOP/s over the machine check MatMul's, round by round: (flops · batch /
 * size³) · machine check time / batch time, with the interval of that ratio paired over rounds, widened
 * by how far that ratio moves between runs on this machine when its history knows (`spread`).
 */
function matmulShare(flops: number, batch: number, times: Series, check: Series | null, size: number, spread: number | null): Interval | null {
  if (!check) return null;
  const k = (flops * batch) / size ** 3;
  const r = widened(ratioInterval(check, times, { confidence: RECORD_CONFIDENCE, sameRun: true }), spread ?? 0);
  return { value: k * r.value, low: k * r.low, high: k * r.high, confidence: RECORD_CONFIDENCE };
}

/** Nothing known of the machine's spread between runs: intervals are the rounds' own. */
export const UNKNOWN_SPREAD: RunSpread = { runs: 0, speed: null, matmul_share: null, speed_up: null };

export interface RecordContext {
  session: SessionPlan;
  batch: number;
  arm: ArmTimes;
  group: number;
  sessionSeconds: number;
  emulated: boolean;
  /** The machine check's timings in the same rounds; null without it. */
  machineCheck: MachineCheckRounds | null;
  /**
   * This machine's spreads between runs for the record (stats/machine-spread.ts, from its earlier runs);
   * absent or unknown: the record's intervals are its rounds' own.
   */
  betweenRuns?: (r: BenchRecord) => RunSpread;
}

/** One configuration's record from its timings in the rounds. */
export function buildRecord(c: RecordContext): BenchRecord {
  const { session, batch, arm } = c;
  const { card, backend, status, precision, artifact } = session;
  const counts = countsOf(card);
  const series = seriesOf(arm);
  const median = medianInterval(series, RECORD_CONFIDENCE);
  const ips = (ms: number) => (batch * 1000) / ms;
  const record: BenchRecord = {
    model: card.id,
    family: card.family,
    backend: backend.id,
    backend_version: status.version,
    device: status.device,
    threads: session.threads,
    batch,
    resolution: card.preprocessing.resolution,
    precision: precision.precision,
    ...(precision.precision === 'fp32' ? {} : { precision_key: precisionKey(precision) }),
    ...(isFused(card.token_fusion) ? { token_fusion: fusionName(card.token_fusion) } : {}),
    weights: artifact.weights.id,
    weights_kind: artifact.weights.kind,
    ...counts,
    published_top1: card.published[0]?.top1 ?? null,
    setup_seconds: { artifact: artifact.seconds, artifact_cached: !artifact.built, session: c.sessionSeconds },
    warmup_iterations: arm.warmupBatches,
    iterations: arm.times_ms.length,
    images_per_second: ips(median.value),
    images_per_second_ci95: [ips(median.high), ips(median.low)],
    latency_ms: summarize(arm.times_ms),
    spread: spread(arm.times_ms),
    peak_rss_bytes: arm.peakRssBytes,
    times_ms: arm.times_ms,
    rounds: arm.rounds,
    slice_batches: arm.sliceBatches,
    group: c.group,
    matmul_share: null,
    emulated: c.emulated,
    ...(session.int8Saturated ? { int8_saturated: true } : {}),
  };
  // On a shared host a whole run can fall in one state of it, which its rounds cannot see: where this
  // machine's earlier runs tell how far a figure moves from run to run, its interval includes that;
  // until they do, the interval is the rounds' own (the output says reruns may move more).
  const between = c.betweenRuns?.(record) ?? UNKNOWN_SPREAD;
  const wide = widened(median, between.speed ?? 0);
  const check = c.machineCheck ? seriesOf(c.machineCheck) : null;
  return {
    ...record,
    images_per_second_ci95: [ips(wide.high), ips(wide.low)],
    matmul_share: matmulShare(counts.flops, batch, series, check, c.machineCheck?.matmul_size ?? 1, between.matmul_share),
    between_runs: between,
  };
}
