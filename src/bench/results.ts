import { readFileSync } from 'node:fs';
import { CorruptFileError } from '../core/errors.js';
import type { Calibration } from './calibration.js';
import type { SystemFingerprint } from './fingerprint.js';
import type { LatencySummary, Spread } from './stats.js';

/**
 * The results file format. Versioned: readers accept their own major version and say so
 * clearly otherwise. Documented field by field in docs/results-schema.md.
 */
export const RESULTS_SCHEMA = 'levit-bench/1';

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
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA;
  created: string;
  levit_version: string;
  system: SystemFingerprint;
  calibration: Calibration | null;
  settings: { warmup_seconds: number; duration_seconds: number; min_iterations: number; max_iterations: number };
  records: BenchRecord[];
  /** Configurations that were asked for but not run, and why (e.g. a runtime's fixed thread count). */
  skipped?: { model: string; backend: string; threads: number; reason: string }[];
}

export function readResults(file: string): BenchResults {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CorruptFileError(file, 'is not a results file (not JSON)', 'Write results with levit bench --out FILE.');
  }
  const r = parsed as BenchResults;
  if (r?.schema !== RESULTS_SCHEMA || !Array.isArray(r.records)) {
    throw new CorruptFileError(file, `is not a ${RESULTS_SCHEMA} results file (schema: ${String(r?.schema)})`, 'Write results with levit bench --out FILE.');
  }
  return r;
}
