import { countsOf } from '../classifier/zoo.js';
import { precisionKey } from '../classifier/precision.js';
import { fusionName, isFused } from '../models/fusion/spec.js';
import type { SessionPlan } from './configurations.js';
import { type Series, medianInterval, ratioInterval, seriesOf } from './paired.js';
import type { ArmTimes } from './rounds.js';
import type { BenchRecord, CalibrationRounds, Interval } from './results.js';
import { spread, summarize } from './stats.js';
import { rerunSpread, widened } from './rerun.js';

/** Confidence of a record's own interval and of the paired figures bench prints. */
export const RECORD_CONFIDENCE = 0.95;

/** A round-by-round timing as a series of the calibration arm (null without one). */
export const calibrationSeries = (c: CalibrationRounds | null | undefined): Series | null => (c ? seriesOf(c) : null);

/**
 * The configuration's float32 GFLOP/s over the calibration MatMul's, round by round: (flops · batch /
 * size³) · calibration time / batch time, with the interval of that ratio paired over rounds.
 */
function matmulShare(flops: number, batch: number, times: Series, calibration: Series | null, size: number, threads: number): Interval | null {
  if (!calibration) return null;
  const k = (flops * batch) / size ** 3;
  // A model and the MatMul are work of different kinds: between runs their ratio moves as a speed-up between models does.
  const r = widened(ratioInterval(calibration, times, { confidence: RECORD_CONFIDENCE, sameRun: true }), rerunSpread('speedUp', threads));
  return { value: k * r.value, low: k * r.low, high: k * r.high, confidence: RECORD_CONFIDENCE };
}

export interface RecordContext {
  session: SessionPlan;
  batch: number;
  arm: ArmTimes;
  group: number;
  sessionSeconds: number;
  emulated: boolean;
  calibration: CalibrationRounds | null;
}

/** One configuration's record from its timings in the rounds. */
export function buildRecord(c: RecordContext): BenchRecord {
  const { session, batch, arm } = c;
  const { card, backend, status, precision, artifact } = session;
  const counts = countsOf(card);
  const series = seriesOf(arm);
  // The rounds' own interval would not survive a rerun on a shared host: a whole run falls in one state of it.
  const median = widened(medianInterval(series, RECORD_CONFIDENCE), rerunSpread('speed', session.threads));
  const ips = (ms: number) => (batch * 1000) / ms;
  return {
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
    matmul_share: matmulShare(counts.flops, batch, series, calibrationSeries(c.calibration), c.calibration?.matmul_size ?? 1, session.threads),
    emulated: c.emulated,
    ...(session.int8Saturated ? { int8_saturated: true } : {}),
  };
}
