import { appendFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { makeDirs } from '../util/files.js';
import { refuseEmulated } from './emulation.js';
import { type MachineFacts, legacyId, machineDifference, machineId } from './machine-id.js';
import type { BenchResults, MachineCheck } from './types.js';
import { readResults } from './read.js';
import { recordKey } from './keys.js';
import { ExitCode, LevitError } from '../core/errors.js';

/**
 * The committed results folder: results/baselines/<machine>.json, one baseline per machine
 * fingerprint, and results/history/<machine>.jsonl, every recorded run appended as a line. <machine>
 * is the machine's id with its CPU kind (machine-id.ts); files saved before levit named kinds are
 * under the id without it, and are used only where their CPU flags are this machine's.
 */
export function resultsDir(): string {
  return resolve(process.env.LEVIT_RESULTS_DIR || join(process.cwd(), 'results'));
}

const slugOf = (id: string) =>
  id
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** The machine's id (its CPU kind included), file-safe: "amd-epyc-avx512-vnni-x2-x64-linux". */
export const machineSlug = (system: MachineFacts): string => slugOf(machineId(system));

export function baselinePath(system: MachineFacts): string {
  return join(resultsDir(), 'baselines', `${machineSlug(system)}.json`);
}

export function historyPath(system: MachineFacts): string {
  return join(resultsDir(), 'history', `${machineSlug(system)}.jsonl`);
}

/** A baseline found for a machine, or where levit looked and, when a file was there but from another CPU, why it was not used. */
export type BaselineLookup = { file: string; results: BenchResults } | { file: null; looked: string[]; refused: string | null };

/**
 * This machine's baseline: results/baselines/<machine>.json, or the file older levit saved under the
 * id without the CPU kind, when its flags are this machine's. A file from another kind of CPU is never
 * used: its speed says nothing of this one's.
 */
export function findBaseline(system: MachineFacts): BaselineLookup {
  const paths = [...new Set([baselinePath(system), join(resultsDir(), 'baselines', `${slugOf(legacyId(system))}.json`)])];
  let refused: string | null = null;
  for (const file of paths.filter((p) => existsSync(p))) {
    const results = readResults(file);
    const difference = machineDifference(results.system, system);
    if (!difference) return { file, results };
    refused ??= `${file} is from another CPU (${difference})`;
  }
  return { file: null, looked: paths, refused };
}

/** Results fit for a baseline or the history: no emulated timing passes for a speed. */
function assertStorable(results: BenchResults, what: string): void {
  const emulated = results.system.emulation ?? (results.records.some((r) => r.emulated) ? { evidence: ['its records are marked emulated'] } : null);
  refuseEmulated(emulated, what);
}

/** Appends the run to its machine's history: one JSON line, never rewriting earlier ones. */
export function appendHistory(results: BenchResults): string {
  assertStorable(results, '--record');
  const path = historyPath(results.system);
  makeDirs(join(resultsDir(), 'history'));
  appendFileSync(path, `${JSON.stringify(results)}\n`);
  return path;
}

/**
 * Makes the results this machine's baseline. A baseline is never shrunk by accident: when the
 * new results lack configurations the old baseline has, it is refused unless `force`.
 */
export function saveBaseline(results: BenchResults, force = false): string {
  assertStorable(results, '--save-baseline');
  const path = baselinePath(results.system);
  if (!force && existsSync(path)) {
    const old = readResults(path);
    const kept = new Set(results.records.map(recordKey));
    const lost = old.records.map(recordKey).filter((k) => !kept.has(k));
    if (lost.length) {
      throw new LevitError(
        `--save-baseline: ${path} has ${lost.length} configuration${lost.length > 1 ? 's' : ''} this run did not measure ` +
          `(${lost.slice(0, 3).join('; ')}${lost.length > 3 ? '; ...' : ''})`,
        ExitCode.usage,
        'Bench the same configurations as the baseline, or add --force to replace it with this smaller one.',
      );
    }
  }
  writeFileAtomic(path, `${JSON.stringify(results, null, 1)}\n`);
  return path;
}

/** This machine's baseline's machine check, for bench to warn when the machine is far slower now; null without a readable baseline of this CPU. */
export function machineBaseline(system: MachineFacts): { machineCheck: MachineCheck | null; file: string } | null {
  try {
    const found = findBaseline(system);
    return found.file === null ? null : { machineCheck: found.results.machine_check, file: found.file };
  } catch {
    return null;
  }
}
