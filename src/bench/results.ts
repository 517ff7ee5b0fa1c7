import type { Calibration } from './calibration.js';
import type { SystemFingerprint } from './fingerprint.js';
import type { LatencySummary, Spread } from './stats.js';

/**
 * The results file format. Versioned: readers accept every major version up to their own,
 * upgrade older ones in memory, and say so clearly otherwise. Documented field by field in
 * docs/results-schema.md.
 */
export const RESULTS_SCHEMA = 'levit-bench/2';
/** Versions readResults understands; older ones lack the fields 2 added (read as unknown). */
export const READABLE_SCHEMAS = ['levit-bench/1', RESULTS_SCHEMA] as const;

/**
 * How quiet the machine was around one record: the calibration just before and just after
 * it. A record is flagged (unstable says why) when they disagree or fall far below the run's
 * first calibration; compare treats flagged records as inconclusive.
 */
export interface Stability {
  gflops_before: number;
  gflops_after: number;
  unstable: string | null;
}
export interface BenchRecord {
  model: string;
  family: string;
  backend: string;
  backend_version: string | null;
  device: string | null;
  threads: number;
  batch: number;
  resolution: number;
  precision: 'fp32';
  weights: string;
  weights_kind: 'synthetic' | 'checkpoint';
  params: number;
  flops: number;
  published_top1: number | null;
  /** Building the artifact (0 when cached) and creating the session: outside the timings. */
  setup_seconds: { artifact: number; artifact_cached: boolean; session: number };
  warmup_iterations: number;
  iterations: number;
  images_per_second: number;
  latency_ms: LatencySummary;
  spread: Spread;
  peak_rss_bytes: number;
  /** Raw wall time of every timed batch, ms: what levit compare tests on. */
  times_ms: number[];
  /** Why timing stopped (schema 2): the median precise enough, the time cap or the iteration cap. */
  stopped?: 'precise' | 'time-cap' | 'iteration-cap';
  /** null in files of schema 1, and with --no-calibration. */
  stability: Stability | null;
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA;
  created: string;
  levit_version: string;
  system: SystemFingerprint;
  calibration: Calibration | null;
  /** The calibration again after the last record (null: not measured, or a schema-1 file). */
  calibration_after: Calibration | null;
  settings: {
    warmup_seconds: number;
    duration_seconds: number;
    min_iterations: number;
    max_iterations: number;
    /** Schema 2: the time cap of one configuration, and the precision adaptive stopping aims at. */
    max_duration_seconds?: number;
    target_ci?: number;
  };
  records: BenchRecord[];
  /** Configurations that were asked for but not run, and why (e.g. a runtime's fixed thread count). */
  skipped?: { model: string; backend: string; threads: number; reason: string }[];
  /** Things the reader of the figures should know, e.g. a machine far slower than its baseline. */
  warnings?: string[];
}
