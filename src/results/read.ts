import { readFileSync, statSync } from 'node:fs';
import { CorruptFileError, ExitCode, LevitError } from '../core/errors.js';
import type { BenchRecord, BenchResults } from './types.js';
import { READABLE_SCHEMAS, fieldInFile, upgradeResults } from './upgrade.js';
import { recordKey } from './keys.js';

/**
 * A machine check outside this range (float32 MatMul GFLOP/s on one thread) is not a measurement
 * of a real machine: an emulated core does ~1, a fast one ~200. Scaling times by a bogus one
 * would turn any slowdown into an "improvement".
 */
export const SANE_GFLOPS: readonly [number, number] = [0.1, 10_000];

const HINT = 'Give a results file written by levit bench --out FILE (docs/results-schema.md describes the format).';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const isPositiveFinite = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

function checkMachineCheck(value: unknown, field: string, fail: (field: string, what: string) => never): void {
  if (value === null || value === undefined) return;
  if (!isObject(value)) fail(field, 'is not an object or null');
  const g = value.matmul_gflops_1thread;
  if (!isPositiveFinite(g) || (g as number) < SANE_GFLOPS[0] || (g as number) > SANE_GFLOPS[1]) {
    fail(`${field}.matmul_gflops_1thread`, `${String(g)} is not a plausible machine check (${SANE_GFLOPS[0]} to ${SANE_GFLOPS[1]} GFLOP/s)`);
  }
}

function checkRecord(r: unknown, at: string, fail: (field: string, what: string) => never): void {
  if (!isObject(r)) fail(at, 'is not an object');
  for (const f of ['model', 'backend', 'precision'] as const) if (typeof r[f] !== 'string' || !r[f]) fail(`${at}.${f}`, 'is missing or not a string');
  if (r.token_fusion !== undefined && (typeof r.token_fusion !== 'string' || !r.token_fusion)) fail(`${at}.token_fusion`, 'is not a setting name');
  for (const f of ['threads', 'batch', 'resolution'] as const) {
    if (!isPositiveInt(r[f])) fail(`${at}.${f}`, `${JSON.stringify(r[f])} is not a positive integer`);
  }
  const times = r.times_ms;
  if (!Array.isArray(times) || times.length === 0) fail(`${at}.times_ms`, 'is missing or empty: compare needs every timed batch');
  const bad = times.findIndex((t) => !isPositiveFinite(t));
  if (bad >= 0) fail(`${at}.times_ms[${bad}]`, `${JSON.stringify(times[bad])} is not a positive, finite time`);
  if (!isPositiveFinite(r.images_per_second)) fail(`${at}.images_per_second`, `${JSON.stringify(r.images_per_second)} is not a positive number`);
  checkRounds(r.rounds, times.length, `${at}.rounds`, fail);
  checkBetweenRuns(r.between_runs, `${at}.between_runs`, fail);
}

/** A machine's spreads between runs, where present: the intervals and verdicts take them as standard deviations. */
function checkBetweenRuns(value: unknown, field: string, fail: (field: string, what: string) => never): void {
  if (value === undefined) return;
  if (!isObject(value) || !Number.isInteger(value.runs) || (value.runs as number) < 0) fail(field, 'needs runs (a count) and speed, matmul_share, speed_up');
  for (const key of ['speed', 'matmul_share', 'speed_up']) {
    const v = (value as Json)[key];
    if (v !== null && !(typeof v === 'number' && Number.isFinite(v) && v >= 0))
      fail(`${field}.${key}`, `${JSON.stringify(v)} is not null or a standard deviation`);
  }
}

/** Rounds, where present: one non-negative integer per timed batch, never decreasing (rounds run in order). */
function checkRounds(rounds: unknown, batches: number, field: string, fail: (field: string, what: string) => never): void {
  if (rounds === undefined) return;
  if (!Array.isArray(rounds) || rounds.length !== batches) fail(field, `must list the round of each of the ${batches} timed batches`);
  for (let i = 0; i < rounds.length; i++) {
    const r = rounds[i];
    if (!Number.isInteger(r) || r < 0 || (i > 0 && r < rounds[i - 1])) fail(`${field}[${i}]`, `${JSON.stringify(r)} is not a round id in order`);
  }
}

function checkMachineCheckRounds(value: unknown, fail: (field: string, what: string) => never): void {
  if (value === null || value === undefined) return;
  const field = 'machine_check_rounds';
  if (!isObject(value) || !isPositiveInt(value.matmul_size)) fail(field, 'needs matmul_size (a positive integer), times_ms and rounds');
  const times = value.times_ms;
  if (!Array.isArray(times) || times.length === 0 || !times.every(isPositiveFinite)) fail(`${field}.times_ms`, 'must be positive, finite times');
  checkRounds(value.rounds ?? null, times.length, `${field}.rounds`, fail);
}

/**
 * Upgrades an older file to the current shape (upgrade.ts; fields it lacks read as "not measured") and
 * checks what compare and report rely on, naming the first bad field as the file names it.
 */
export function validateResults(parsed: unknown, file: string): BenchResults {
  const schema = isObject(parsed) ? parsed.schema : undefined;
  const fail = (field: string, what: string): never => {
    throw new CorruptFileError(file, `${fieldInFile(field, schema)} ${what}`, HINT);
  };
  if (!isObject(parsed)) fail('the file', 'is not a JSON object');
  if (!(READABLE_SCHEMAS as readonly unknown[]).includes(schema)) {
    fail('schema', `is ${JSON.stringify(schema)}, not one this levit reads (${READABLE_SCHEMAS.join(', ')})`);
  }
  const o = upgradeResults(parsed as Json);
  if (!isObject(o.system) || typeof o.system.id !== 'string' || !o.system.id) fail('system.id', 'is missing: the machine cannot be identified');
  checkMachineCheck(o.machine_check, 'machine_check', fail);
  checkMachineCheckRounds(o.machine_check_rounds, fail);
  if (!Array.isArray(o.records)) fail('records', 'is missing or not an array');
  const seen = new Map<string, number>();
  (o.records as unknown[]).forEach((r, i) => {
    checkRecord(r, `records[${i}]`, fail);
    const key = recordKey(r as BenchRecord);
    const first = seen.get(key);
    if (first !== undefined) fail(`records[${i}]`, `repeats the configuration of records[${first}] (${key}): one of the two would hide the other`);
    seen.set(key, i);
  });
  const results = o as unknown as BenchResults;
  return { ...results, machine_check: results.machine_check ?? null };
}

/**
 * The largest results file read: far above what bench writes (10,000 batches a configuration at most by
 * default, a few hundred kB), and under what one JavaScript string can hold.
 */
export const MAX_RESULTS_BYTES = 256 * 2 ** 20;

/** Reads and validates a results file (validateResults); a missing file is "not found". */
export function readResults(file: string): BenchResults {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_RESULTS_BYTES) {
      const mb = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;
      throw new CorruptFileError(file, `is ${mb(size)}, over the ${mb(MAX_RESULTS_BYTES)} a results file may take: not read`, HINT);
    }
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof LevitError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LevitError(`${file}: no such results file`, ExitCode.notFound, 'Write results with levit bench --out FILE.');
    throw new CorruptFileError(file, `cannot be read (${code ?? (e as Error).message})`, 'Give a results file written by levit bench --out FILE.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CorruptFileError(file, 'is not a results file (not JSON)', 'Write results with levit bench --out FILE.');
  }
  return validateResults(parsed, file);
}
