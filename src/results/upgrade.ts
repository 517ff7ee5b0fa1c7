import { RESULTS_SCHEMA } from './types.js';

/**
 * Older results files, read into the current shape: the one place that knows the earlier schemas and
 * their field names (docs/results-schema.md, "Older files"). Every other reader sees schema 4 only.
 *
 * 1: before `warnings`; 2: configurations timed one after another, with busy flags; 3: interleaved
 * rounds, the machine check under the name `calibration`; 4: the machine check named so.
 */
export const READABLE_SCHEMAS = ['levit-bench/1', 'levit-bench/2', 'levit-bench/3', RESULTS_SCHEMA] as const;

/** Fields schema 4 renamed: their name in older files, and now. */
const RENAMED: readonly (readonly [string, string])[] = [
  ['calibration', 'machine_check'],
  ['calibration_rounds', 'machine_check_rounds'],
];

/**
 * Fields older files have that nothing reads any more, dropped on read: schema 2's busy flags. Those
 * files flagged busy records and timed the machine check again after them; the verdicts no longer rest
 * on those, so they are dropped here, once, rather than ignored everywhere.
 */
const DROPPED = ['calibration_after'];
const DROPPED_IN_RECORDS = ['stability', 'stopped'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const without = (o: Json, keys: readonly string[]): Json => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

/**
 * A parsed results object of a readable schema in the current shape (its fields not yet checked): the
 * machine check's fields under their schema-4 names, schema 2's busy flags gone, `schema` the current
 * one. A current file is returned as it is.
 */
export function upgradeResults(o: Json): Json {
  if (o.schema === RESULTS_SCHEMA) return o;
  const out: Json = {};
  for (const [key, value] of Object.entries(o)) {
    if (DROPPED.includes(key)) continue;
    out[RENAMED.find(([old]) => old === key)?.[1] ?? key] = value;
  }
  if (Array.isArray(o.records)) out.records = o.records.map((r) => (isObject(r) ? without(r, DROPPED_IN_RECORDS) : r));
  return { ...out, schema: RESULTS_SCHEMA };
}

/**
 * The name a field of the current shape has in a file of `schema` ('machine_check.matmul_gflops_1thread'
 * is 'calibration.matmul_gflops_1thread' in a schema-3 file): error messages point into the file as written.
 */
export function fieldInFile(field: string, schema: unknown): string {
  if (schema === RESULTS_SCHEMA) return field;
  const head = /^[a-z0-9_]+/.exec(field)?.[0] ?? '';
  const old = RENAMED.find(([, now]) => now === head)?.[0];
  return old ? old + field.slice(head.length) : field;
}
