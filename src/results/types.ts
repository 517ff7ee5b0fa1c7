import type { SystemFingerprint } from './fingerprint.js';

/**
 * The results file format. Versioned: readers accept every major version up to their own,
 * upgrade older ones in memory (upgrade.ts), and say so clearly otherwise. Documented field by field in
 * docs/results-schema.md.
 */
export const RESULTS_SCHEMA = 'levit-bench/4';

/** Confidence of a record's own interval and of the paired figures bench prints. */
export const RECORD_CONFIDENCE = 0.95;

/** A record's batch times summarized (stats/summary.ts: summarize). */
export interface LatencySummary {
  mean: number;
  median: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

export interface Spread {
  /** (q3 - q1) / median: how noisy the run was. */
  relative_iqr: number;
  /** A distribution-free 95% confidence interval of the median (order statistics). */
  median_ci95: [number, number];
}

/** An interval of a figure, with the confidence it was computed at and whether it was paired round by round. */
export interface Interval {
  value: number;
  low: number;
  high: number;
  confidence: number;
}

/**
 * How far a configuration's figures move between runs on the machine that measured it, beyond what
 * its rounds show, from that machine's earlier runs (stats/machine-spread.ts): standard deviations of the log.
 */
export interface RunSpread {
  /** Earlier runs of this configuration the machine's history had (the spreads need 3). */
  runs: number;
  /** Of its images/s: included in images_per_second_ci95; null: unknown, and that interval is the rounds' own. */
  speed: number | null;
  /** Of its matmul_share: included in that interval; null: unknown, the rounds' own. */
  matmul_share: number | null;
  /**
   * The largest of a speed-up between two configurations of its thread count on this machine; null:
   * unknown. Speed-ups and claims take it where it is larger than the spread measured on levit's VM (stats/rerun-spread.ts).
   */
  speed_up: number | null;
}

/** The machine check: the machine's float32 MatMul speed over the run (bench/machine-check.ts). */
export interface MachineCheck {
  /** Single-thread float32 matrix product throughput of onnxruntime on this machine. */
  matmul_gflops_1thread: number;
  matmul_size: number;
  seconds: number;
}

/** The machine check as one more arm of the rounds: the float32 MatMul's timings, round by round. */
export interface MachineCheckRounds {
  matmul_size: number;
  times_ms: number[];
  rounds: number[];
}

/** How the rounds ran (schema 3). */
export interface Schedule {
  seed: number;
  slice_seconds: number;
  min_rounds: number;
  /** Rounds run, over all groups. */
  rounds: number;
  /** Sessions loaded together, measured in their own rounds: 1 unless memory did not allow. */
  groups: number;
  memory_budget_bytes: number;
  peak_rss_bytes: number;
  /** Wall time of the rounds (warm-ups excluded). */
  seconds: number;
  stopped: 'precise' | 'time-cap' | 'iteration-cap' | 'interrupted';
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
  /** How a reduced precision was made (method, the hash of its int8 calibration images): its artifact's cache key. */
  precision_key?: string;
  /** Token fusion built into the model timed ('mctf:16', 'tome:13'); absent for the plain model. Its flops are the fused model's. */
  token_fusion?: string;
  weights: string;
  weights_kind: 'synthetic' | 'checkpoint';
  params: number;
  flops: number;
  published_top1: number | null;
  /** Building the artifact (0 when cached) and creating the session: outside the timings. */
  setup_seconds: { artifact: number; artifact_cached: boolean; session: number };
  warmup_iterations: number;
  iterations: number;
  /** batch / the median over rounds of each round's median batch time. */
  images_per_second: number;
  /**
   * Schema 3: images/s's 95% interval, from resampling whole rounds, widened by this machine's spread
   * between runs where known (between_runs.speed; files without between_runs: by stats/rerun-spread.ts's constants).
   */
  images_per_second_ci95?: [number, number];
  latency_ms: LatencySummary;
  spread: Spread;
  peak_rss_bytes: number;
  /** Raw wall time of every timed batch, ms: what levit compare tests on. */
  times_ms: number[];
  /** Schema 3: the round of every timed batch (same length as times_ms). Absent: timed one configuration after another. */
  rounds?: number[];
  /** Schema 3: batches this configuration ran in each round, and the group of sessions it was loaded with. */
  slice_batches?: number;
  group?: number;
  /** Schema 3: this configuration's float32 GFLOP/s over one thread's float32 MatMul's, paired round by round (null without the machine check). */
  matmul_share?: Interval | null;
  /** This machine's spreads between runs that the intervals include (absent in older files). */
  between_runs?: RunSpread;
  /** Timed under emulation (see system.emulation): the times are the translator's, never a speed figure. Absent in older files. */
  emulated?: boolean;
  /** An int8 artifact timed where its full-range products saturate (--allow-int8-saturation): not the model's arithmetic. Absent otherwise. */
  int8_saturated?: boolean;
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA;
  created: string;
  levit_version: string;
  system: SystemFingerprint;
  /** The machine check: its float32 MatMul speed over the run (schema 3: the median over rounds); null with --no-machine-check. */
  machine_check: MachineCheck | null;
  /** Schema 3: the machine check's timings, round by round; null with --no-machine-check or in older files. */
  machine_check_rounds?: MachineCheckRounds | null;
  /** Schema 3: how the rounds ran; absent in older files. */
  schedule?: Schedule;
  /** Schema 3: the run was interrupted (Ctrl-C): the records hold the rounds finished before it. */
  interrupted?: boolean;
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
