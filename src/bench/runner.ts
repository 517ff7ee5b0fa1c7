import { freemem } from 'node:os';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageVersion } from '../util/paths.js';
import { matmulGflops, openMachineChecker } from './machine-check.js';
import { type Loaded, machineCheckArm, sessionArmOf } from './arms.js';
import { type ConfigurationPlan, type SessionPlan, type Skip, configurationLabel, openBackends, planSessions } from './configurations.js';
import { type SystemFingerprint, fingerprint } from '../results/fingerprint.js';
import { medianOf, seriesOf } from '../stats/paired-intervals.js';
import { buildRecord } from './record.js';
import type { MachineSpreads } from '../stats/machine-spread.js';
import { type BenchRecord, type BenchResults, type MachineCheck, type MachineCheckRounds, RESULTS_SCHEMA, type Schedule } from '../results/types.js';
import { runRounds } from './rounds.js';
import type { RoundSettings } from './schedule.js';
import { baselineWarning } from '../results/baseline-warning.js';

export { type ThreadSpec, benchInput, resolveThreads } from './configurations.js';

export interface BenchPlan extends ConfigurationPlan {
  rounds: RoundSettings;
  /** Run the machine check (a float32 MatMul) as one more arm of every round. */
  machineCheck: boolean;
  /** The machine check of this machine's baseline, to warn when this run's machine is far slower. */
  reference?: (system: SystemFingerprint) => { machineCheck: MachineCheck | null; file: string } | null;
  /**
   * How far figures move between runs on this machine, from its earlier runs (levit bench reads its
   * history: stats/run-history.ts, machineRunSpreads). Absent, or unknown for a configuration: its intervals are the rounds' own.
   */
  betweenRuns?: (system: SystemFingerprint) => MachineSpreads | null;
  /** A batch that fails (e.g. out of GPU memory) is skipped with its error instead of ending the run. */
  keepGoing?: boolean;
  /** Resident memory the loaded sessions may take together; past it they are measured in groups. Default: what is free at the start, less a margin. */
  memoryBudgetBytes?: number;
}

/** The models `levit bench` runs by default: LeViT against EfficientNet and DeiT, as in the paper. */
export const DEFAULT_MODELS = ['levit_128s', 'levit_192', 'levit_256', 'efficientnet_b0', 'efficientnet_b2', 'efficientnet_b3', 'deit_tiny_patch16_224'];

export interface BenchEvents {
  phase?(message: string): void;
  /** A group of sessions is loaded and about to be measured in its own rounds. */
  group?(index: number, configurations: number, groups: string): void;
  warmup?(label: string, index: number, total: number): void;
  round?(round: number, elapsedSeconds: number): void;
  configDone?(record: BenchRecord): void;
  skipped?(message: string): void;
  warning?(message: string): void;
}

/** A session's resident memory, guessed from its artifact before loading it: weights, their packed copies and the arena. */
function predictedBytes(s: SessionPlan): number {
  const size = (path: string): number => {
    const st = statSync(path);
    return st.isDirectory() ? readdirSync(path).reduce((n, f) => n + size(join(path, f)), 0) : st.size;
  };
  return 3 * size(s.artifact.path);
}

/** The default memory budget: this process's memory now and 60% of what the machine has free. */
const defaultBudget = () => process.memoryUsage.rss() + 0.6 * freemem();

const threadWord = (t: number) => `${t} thread${t > 1 ? 's' : ''}`;

/**
 * Measures the plan: its sessions loaded together (in groups when memory does not allow all at once),
 * every configuration and the machine check's MatMul timed in interleaved rounds (rounds.ts), and one
 * record per configuration. `signal` stops the run after the round in progress: what was measured is
 * kept, and the results say they were interrupted.
 */
export async function runBench(plan: BenchPlan, events: BenchEvents = {}, signal?: AbortSignal): Promise<BenchResults> {
  const opened = await openBackends(plan);
  events.phase?.('fingerprinting the system');
  const system = await fingerprint();
  const spreads = plan.betweenRuns?.(system) ?? null;
  const { sessions, skipped: notRun, warnings: planned } = await planSessions(plan, opened, events.phase);
  const skipped: Skip[] = [...notRun];
  const skip = (s: Skip) => {
    skipped.push(s);
    events.skipped?.(`${s.model} ${s.backend} ${threadWord(s.threads)}${s.batch === undefined ? '' : ` batch ${s.batch}`}: skipped, ${s.reason}`);
  };
  for (const s of notRun) events.skipped?.(`${s.model} ${s.backend} ${threadWord(s.threads)}: skipped, ${s.reason}`);

  const budget = plan.memoryBudgetBytes ?? defaultBudget();
  const checker = plan.machineCheck ? await openMachineChecker() : null;
  const checkTimes: MachineCheckRounds | null = checker ? { matmul_size: checker.size, times_ms: [], rounds: [] } : null;
  const records: BenchRecord[] = [];
  const warnings: string[] = [...planned];
  for (const w of planned) events.warning?.(w);
  let [round, groups, seconds, peak] = [0, 0, 0, process.memoryUsage.rss()];
  let stopped: Schedule['stopped'] = 'precise';
  let loaded: Loaded[] = [];
  try {
    let next = 0;
    while (next < sessions.length && !signal?.aborted) {
      for (; next < sessions.length; next++) {
        const s = sessions[next];
        if (loaded.length && process.memoryUsage.rss() + predictedBytes(s) > budget) break;
        const start = performance.now();
        const session = await s.backend.load(s.artifact.path, { threads: s.threads });
        if (session.threads !== s.threads) {
          await session.release();
          skip({ model: s.card.id, backend: s.backend.id, threads: s.threads, reason: `${s.backend.id} runs ${threadWord(session.threads)} here` });
          continue;
        }
        loaded.push({ plan: s, session, seconds: (performance.now() - start) / 1000 });
      }
      if (!loaded.length) continue;
      groups++;
      const configs = loaded.flatMap((l) => l.plan.batches.map((batch) => ({ l, batch })));
      events.group?.(groups, configs.length, next < sessions.length ? `group ${groups}, memory allowing` : `group ${groups}`);
      const arms = [...(checker ? [machineCheckArm(checker)] : []), ...configs.map((c) => sessionArmOf(c.l.plan, c.l.session, c.batch))];
      const dropped = (key: string, error: Error) => {
        const c = configs.find((x) => configurationLabel(x.l.plan, x.batch) === key)!;
        skip({
          model: c.l.plan.card.id,
          backend: c.l.plan.backend.id,
          threads: c.l.plan.threads,
          batch: c.batch,
          reason: `batch ${c.batch} failed: ${error.message.split('\n')[0]}`,
        });
      };
      const result = await runRounds(
        arms,
        plan.rounds,
        { warmup: (key, i, n) => events.warmup?.(key, i, n), round: (r, elapsed) => events.round?.(round + r, elapsed) },
        { signal, firstRound: round, onError: plan.keepGoing ? dropped : undefined },
      );
      round += result.rounds;
      seconds += result.seconds;
      stopped = result.stopped;
      const byKey = new Map(result.arms.map((a) => [a.key, a]));
      if (checkTimes) {
        const check = byKey.get(arms[0].key)!;
        checkTimes.times_ms.push(...check.times_ms);
        checkTimes.rounds.push(...check.rounds);
      }
      for (const { l, batch } of configs) {
        const arm = byKey.get(configurationLabel(l.plan, batch));
        if (!arm || arm.times_ms.length === 0) continue;
        peak = Math.max(peak, arm.peakRssBytes);
        const record = buildRecord({
          session: l.plan,
          batch,
          arm,
          group: groups,
          sessionSeconds: l.seconds,
          emulated: system.emulation !== null,
          machineCheck: checkTimes,
          betweenRuns: spreads ? (r) => spreads.of(r) : undefined,
        });
        records.push(record);
        events.configDone?.(record);
      }
      for (const l of loaded) await l.session.release();
      loaded = [];
    }
  } finally {
    for (const l of loaded) await l.session.release();
    await checker?.release();
  }
  if (groups > 1) {
    const mib = Math.round(budget / 2 ** 20);
    const w = `the sessions did not fit in memory together (budget ${mib} MiB): measured in ${groups} groups; speed-ups between groups are not paired`;
    warnings.push(w);
    events.warning?.(w);
  }
  const machineCheck: MachineCheck | null =
    checkTimes && checkTimes.times_ms.length
      ? {
          matmul_gflops_1thread: matmulGflops(checkTimes.matmul_size, medianOf(seriesOf(checkTimes).values)),
          matmul_size: checkTimes.matmul_size,
          seconds: checkTimes.times_ms.reduce((a, b) => a + b, 0) / 1000,
        }
      : null;
  const reference = machineCheck ? plan.reference?.(system) : null;
  const warning = reference && machineCheck ? baselineWarning(machineCheck, reference.machineCheck, reference.file) : null;
  if (warning) {
    warnings.push(warning);
    events.warning?.(warning);
  }
  const interrupted = signal?.aborted ?? false;
  const s = plan.rounds;
  return {
    schema: RESULTS_SCHEMA,
    created: new Date().toISOString(),
    levit_version: packageVersion,
    system,
    machine_check: machineCheck,
    machine_check_rounds: machineCheck ? checkTimes : null,
    schedule: {
      seed: s.seed,
      slice_seconds: s.sliceSeconds,
      min_rounds: s.minRounds,
      rounds: round,
      groups,
      memory_budget_bytes: Math.round(budget),
      peak_rss_bytes: peak,
      seconds,
      stopped: interrupted ? 'interrupted' : stopped,
    },
    ...(interrupted ? { interrupted: true } : {}),
    settings: {
      warmup_seconds: s.warmupSeconds,
      duration_seconds: s.durationSeconds,
      min_iterations: s.minIterations,
      max_iterations: s.maxIterations,
      max_duration_seconds: s.maxDurationSeconds,
      target_ci: s.targetCi,
    },
    records,
    ...(skipped.length ? { skipped } : {}),
    ...(warnings.length ? { warnings } : {}),
  };
}
