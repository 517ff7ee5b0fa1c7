import { allowedCpus, hasTaskset } from '../util/cpus.js';

/**
 * Where a live comparison's workers run. Two processes left to the scheduler land on different cores,
 * and on a shared host two cores are not equally fast (their neighbours differ): measured here, a
 * worker compared with an identical one read 1-3% apart, with intervals that excluded "no change",
 * and a real 10% slowdown read as 7%. Pinned to the same cores (only one worker runs at a time),
 * the same comparisons read 0% and 10%. So both workers are pinned to one set: the first `count`
 * cores this process may use. Linux only (taskset, from util-linux); elsewhere they run unpinned.
 */

export interface Pinning {
  /** The command that starts a worker on the shared cores ([] when unpinned). */
  prefix: string[];
  /** What the report says: "CPU 0", "CPUs 0,1", or why the workers are not pinned. */
  description: string;
  pinned: boolean;
}

/** Both workers on the first `count` allowed cores, when this machine can pin them. */
export function sharedCores(count: number, cpus = allowedCpus(), taskset = hasTaskset()): Pinning {
  if (!cpus || !cpus.length || !taskset) {
    return { prefix: [], description: 'workers not pinned (no taskset here): the scheduler may put the two sides on different cores', pinned: false };
  }
  const chosen = cpus.slice(0, Math.max(1, count));
  const list = chosen.join(',');
  return { prefix: ['taskset', '-c', list], description: `both workers pinned to CPU${chosen.length > 1 ? 's' : ''} ${list}`, pinned: true };
}
