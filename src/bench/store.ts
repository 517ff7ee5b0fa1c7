import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { SystemFingerprint } from './fingerprint.js';
import type { BenchResults } from './results.js';

/**
 * The committed results folder: results/baselines/<machine>.json, one baseline per machine
 * fingerprint, and results/history/<machine>.jsonl, every recorded run appended as a line.
 */
export function resultsDir(): string {
  return resolve(process.env.LEVIT_RESULTS_DIR || join(process.cwd(), 'results'));
}

export function machineSlug(system: Pick<SystemFingerprint, 'id'>): string {
  return system.id.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export function baselinePath(system: Pick<SystemFingerprint, 'id'>): string {
  return join(resultsDir(), 'baselines', `${machineSlug(system)}.json`);
}

export function historyPath(system: Pick<SystemFingerprint, 'id'>): string {
  return join(resultsDir(), 'history', `${machineSlug(system)}.jsonl`);
}

/** Appends the run to its machine's history: one JSON line, never rewriting earlier ones. */
export function appendHistory(results: BenchResults): string {
  const path = historyPath(results.system);
  mkdirSync(join(resultsDir(), 'history'), { recursive: true });
  appendFileSync(path, `${JSON.stringify(results)}\n`);
  return path;
}

export function saveBaseline(results: BenchResults): string {
  const path = baselinePath(results.system);
  writeFileAtomic(path, `${JSON.stringify(results, null, 1)}\n`);
  return path;
}
