import { appendFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { makeDirs } from '../util/files.js';
import { refuseEmulated } from './emulation.js';
import type { Calibration } from './calibration.js';
import type { SystemFingerprint } from './fingerprint.js';
import type { BenchResults } from './results.js';
import { readResults, recordKey } from './validate.js';
import { ExitCode, LevitError } from '../core/errors.js';

/**
 * The committed results folder: results/baselines/<machine>.json, one baseline per machine
 * fingerprint, and results/history/<machine>.jsonl, every recorded run appended as a line.
 */
export function resultsDir(): string {
  return resolve(process.env.LEVIT_RESULTS_DIR || join(process.cwd(), 'results'));
}

export function machineSlug(system: Pick<SystemFingerprint, 'id'>): string {
  return system.id
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

export function baselinePath(system: Pick<SystemFingerprint, 'id'>): string {
  return join(resultsDir(), 'baselines', `${machineSlug(system)}.json`);
}

export function historyPath(system: Pick<SystemFingerprint, 'id'>): string {
  return join(resultsDir(), 'history', `${machineSlug(system)}.jsonl`);
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

/** This machine's baseline calibration, for bench to warn when the machine is far slower now; null without a readable baseline. */
export function machineBaseline(system: Pick<SystemFingerprint, 'id'>): { calibration: Calibration | null; file: string } | null {
  const file = baselinePath(system);
  if (!existsSync(file)) return null;
  try {
    return { calibration: readResults(file).calibration, file };
  } catch {
    return null;
  }
}
