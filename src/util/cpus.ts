import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** A thread count as the user gives it: a positive number, or 'all' for every core. */
export type ThreadSpec = number | 'all';

/** The counts the specs stand for, 'all' as this machine's core count, each once. */
export function resolveThreads(specs: readonly ThreadSpec[]): number[] {
  const all = availableParallelism();
  return [...new Set(specs.map((t) => (t === 'all' ? all : t)))];
}

/** The CPUs this process may run on, in order, from /proc/self/status (null where it cannot be read). */
export function allowedCpus(status = (): string => readFileSync('/proc/self/status', 'utf8')): number[] | null {
  let text: string;
  try {
    text = status();
  } catch {
    return null;
  }
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(text)?.[1];
  if (!list) return null;
  return list.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return Number.isInteger(b) ? Array.from({ length: b - a + 1 }, (_, i) => a + i) : [a];
  });
}

/** Whether `taskset` (util-linux) can set CPU affinity here: Linux with util-linux installed. */
export const hasTaskset = (): boolean => process.platform === 'linux' && spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
