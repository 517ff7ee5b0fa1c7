import { ExitCode, LevitError } from '../core/errors.js';
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
  /**
   * Arithmetic of the artifact timed (TF.js: how its weights were stored; it computes in float32);
   * 'amp': mixed precision (PyTorch autocast to float16), written by the PyTorch reference (scripts/torch_reference.py).
   */
  precision: 'fp32' | 'fp16' | 'int8' | 'amp';
  /** How a reduced precision was made (method, calibration-set hash): its artifact's cache key. */
  precision_key?: string;
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
  /** Timed under emulation (see system.emulation): the times are the translator's, never a speed figure. Absent in older files. */
  emulated?: boolean;
  /** Why timing stopped (schema 2): the median precise enough, the time cap or the iteration cap. */
  stopped?: 'precise' | 'time-cap' | 'iteration-cap';
  /** null in files of schema 1, and with --no-machine-check. */
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
  skipped?: { model: string; backend: string; threads: number; batch?: number; reason: string }[];
  /** Things the reader of the figures should know, e.g. a machine far slower than its baseline. */
  warnings?: string[];
}

/**
 * One results file from several runs on one machine (e.g. one `levit bench` process per model, so that a model
 * that crashes its process loses only its own records): records and skipped entries in order, the first run's
 * header and the first calibration. Runs from different machines are refused: levit report puts those side by side.
 */
export function concatResults(runs: readonly { file: string; results: BenchResults }[]): BenchResults {
  if (runs.length === 0) throw new LevitError('no results to join', ExitCode.usage);
  const first = runs[0].results;
  const other = runs.find((r) => r.results.system.id !== first.system.id);
  if (other) {
    const which = `${other.file} comes from another machine (${other.results.system.id}, not ${first.system.id})`;
    throw new LevitError(which, ExitCode.badInput, 'Put machines side by side with levit report instead.');
  }
  const skipped = runs.flatMap((r) => r.results.skipped ?? []);
  return {
    ...first,
    calibration: runs.find((r) => r.results.calibration)?.results.calibration ?? null,
    records: runs.flatMap((r) => r.results.records),
    ...(skipped.length ? { skipped } : {}),
  };
}
