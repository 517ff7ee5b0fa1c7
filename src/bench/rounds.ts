import { medianOf, seriesOf } from '../stats/paired-intervals.js';
import { type ArmProgress, type RoundSettings, type Stopped, roundOrder, sliceBatches, stopAfter } from './schedule.js';

/**
 * One configuration as the rounds see it: something that runs a number of batches and says how long
 * each took. In bench it is an inference session in this process; in a live comparison, a worker
 * process of another checkout (compare/live.ts). Only the batches are timed, by whoever runs them.
 */
export interface Arm {
  readonly key: string;
  /** Untimed work before each slice (e.g. selecting the runtime's backend). */
  prepare?(): Promise<void>;
  /** Runs this many batches back to back; the wall time of each, in milliseconds. */
  slice(batches: number): Promise<number[]>;
}

/** Every timed batch of one arm and the round it ran in. */
export interface ArmTimes {
  key: string;
  warmupBatches: number;
  /** Batches per slice, set after the warm-up. */
  sliceBatches: number;
  times_ms: number[];
  rounds: number[];
  /** Peak resident memory of this process while the arm ran (bytes). */
  peakRssBytes: number;
}

export interface RoundsResult {
  arms: ArmTimes[];
  rounds: number;
  /** Wall time of the rounds, warm-up excluded. */
  seconds: number;
  stopped: Stopped;
}

export interface RoundEvents {
  warmup?(key: string, index: number, total: number): void;
  round?(round: number, elapsedSeconds: number): void;
}

async function warmUp(arm: Arm, seconds: number): Promise<number[]> {
  const times: number[] = [];
  const start = performance.now();
  do {
    await arm.prepare?.();
    times.push(...(await arm.slice(1)));
  } while (performance.now() - start < seconds * 1000);
  return times;
}

export interface RoundOptions {
  /** Stops after the round in progress (which is finished first, so that every round holds every arm). */
  signal?: AbortSignal;
  /** The first round's id: the groups of one run never share a round id. */
  firstRound?: number;
  /** Where given, an arm whose batch fails is dropped (and reported here) instead of ending the rounds. */
  onError?: (key: string, error: Error) => void;
}

/** Warms every arm up in turn, then runs rounds until the stopping rule says enough, or the signal. */
export async function runRounds(arms: readonly Arm[], s: RoundSettings, events: RoundEvents = {}, o: RoundOptions = {}): Promise<RoundsResult> {
  const { signal, firstRound = 0, onError } = o;
  const live: { arm: Arm; times: ArmTimes }[] = [];
  const attempt = async <T>(arm: Arm, work: () => Promise<T>): Promise<T | null> => {
    try {
      return await work();
    } catch (e) {
      if (!onError) throw e;
      onError(arm.key, e as Error);
      return null;
    }
  };
  for (const [i, arm] of arms.entries()) {
    if (signal?.aborted) break;
    events.warmup?.(arm.key, i, arms.length);
    const warm = await attempt(arm, () => warmUp(arm, s.warmupSeconds));
    if (!warm) continue;
    const sliced = sliceBatches(medianOf(warm), s.sliceSeconds);
    live.push({
      arm,
      times: { key: arm.key, warmupBatches: warm.length, sliceBatches: sliced, times_ms: [], rounds: [], peakRssBytes: process.memoryUsage.rss() },
    });
  }
  const start = performance.now();
  let round = 0;
  let stopped: Stopped | null = signal?.aborted ? 'interrupted' : null;
  while (!stopped && live.length) {
    const id = firstRound + round;
    for (const entry of roundOrder(live.length, id, s.seed).map((i) => live[i])) {
      const { arm, times: t } = entry;
      const times = await attempt(arm, async () => {
        await arm.prepare?.();
        return arm.slice(t.sliceBatches);
      });
      if (!times) {
        live.splice(live.indexOf(entry), 1);
        continue;
      }
      t.times_ms.push(...times);
      t.rounds.push(...times.map(() => id));
      t.peakRssBytes = Math.max(t.peakRssBytes, process.memoryUsage.rss());
    }
    round++;
    const elapsed = (performance.now() - start) / 1000;
    events.round?.(round, elapsed);
    const progress: ArmProgress[] = live.map(({ times: a }) => ({ batches: a.times_ms.length, seconds: sum(a.times_ms) / 1000, series: seriesOf(a) }));
    stopped = signal?.aborted ? 'interrupted' : stopAfter(round, elapsed, progress, s);
  }
  return { arms: live.map((l) => l.times), rounds: round, seconds: (performance.now() - start) / 1000, stopped: stopped ?? 'precise' };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
