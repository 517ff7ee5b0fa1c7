import { appendFileSync, closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { makeDirs, pidAlive } from '../util/files.js';
import { cacheDir, packageVersion } from '../util/paths.js';
import { type MachineSpreads, type RunSummary, machineSpreads, parseRunSummary, summarizeRun } from './machine-spread.js';
import { type MachineFacts, machineId, speedFlags } from '../results/machine-id.js';
import type { BenchResults } from '../results/types.js';
import { machineSlug } from '../results/store.js';

/**
 * levit's own history of this machine's runs (machine-spread.ts), kept by every completed levit bench:
 * <cache>/bench-history/<machine>.jsonl, one summary line a run. Not results/history (--record), which
 * keeps whole results files for committing.
 */
export function runHistoryPath(system: MachineFacts): string {
  return join(cacheDir(), 'bench-history', `${machineSlug(system)}.jsonl`);
}

/** Runs a machine's history keeps: the most recent ones; older lines are dropped as new ones come. */
export const RUN_HISTORY_KEPT = 50;

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Runs `fn` holding `<file>.lock` (created exclusively, with this process's id), so that two benches
 * finishing at once do not trim each other's lines away. A lock left by a dead process, or older than
 * 30 s, is taken over; one still held after `waitMs` is given up: `fn` runs with `locked` false.
 */
function withLock<T>(file: string, fn: (locked: boolean) => T, waitMs = 3000): T {
  const lock = `${file}.lock`;
  const start = Date.now();
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return fn(false);
      try {
        const pid = Number(readFileSync(lock, 'utf8'));
        if ((Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) || Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, { force: true });
      } catch {
        // removed meanwhile by its owner: try again
      }
      if (Date.now() - start > waitMs) return fn(false);
      sleep(20);
    }
  }
  try {
    return fn(true);
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Adds the run's summary to its machine's history: one line, appended whole in one write (a reader or
 * another writer never sees half of it); past twice RUN_HISTORY_KEPT lines, the file is rewritten with
 * the last RUN_HISTORY_KEPT (atomically, under the lock). Returns the file, or null when the run says
 * nothing of the machine from run to run (emulated, interrupted, too few rounds).
 */
export function appendRunHistory(results: BenchResults): string | null {
  const summary = summarizeRun(results);
  if (!summary) return null;
  const file = runHistoryPath(results.system);
  makeDirs(join(cacheDir(), 'bench-history'));
  withLock(file, (locked) => {
    appendFileSync(file, `${JSON.stringify(summary)}\n`);
    if (!locked) return;
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    if (lines.length > 2 * RUN_HISTORY_KEPT) writeFileAtomic(file, `${lines.slice(-RUN_HISTORY_KEPT).join('\n')}\n`);
  });
  return file;
}

/** This machine's earlier runs, oldest first; lines that are not summaries (torn, edited, of another version) are skipped. Empty when there is no history. */
export function readRunHistory(system: MachineFacts): RunSummary[] {
  let text: string;
  try {
    text = readFileSync(runHistoryPath(system), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    const s = line.trim() ? parseRunSummary(line) : null;
    return s ? [s] : [];
  });
}

/** This machine's spreads between runs, from its history (machine-spread.ts), for this levit version. */
export function machineRunSpreads(system: MachineFacts): MachineSpreads {
  return machineSpreads(readRunHistory(system), { machine: machineId(system), flags: speedFlags(system), levit_version: packageVersion });
}
