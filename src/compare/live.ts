import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, LevitError } from '../core/errors.js';
import { packageRoot } from '../util/paths.js';
import { resolveThreads, type ThreadSpec } from '../bench/configurations.js';
import { medianOf, ratioInterval, seriesOf } from '../stats/paired-intervals.js';
import { liveRerunSpread, widened } from '../stats/rerun-spread.js';
import { type Arm, type ArmTimes, type RoundEvents, runRounds } from '../bench/rounds.js';
import type { RoundSettings, Stopped } from '../bench/schedule.js';
import { type CompareOptions, type CompareReport, type Comparison, reportOf, verdictOf } from './compare.js';
import { WorkerClient } from '../worker/client.js';
import { sharedCores } from './affinity.js';

/**
 * A live comparison: baseline and current measured in one process tree, in the same interleaved
 * rounds, and decided on the paired interval of the change. Each side is a levit checkout (its own
 * levit, onnxruntime and graphs: the pull-request gate, or two runtime versions) or an ONNX file
 * (run by this checkout); a long-lived worker process serves each side, both pinned to the same
 * cores (affinity.ts), and this coordinator alternates their slices in a fresh random order every
 * round. Drift between rounds falls on both sides alike and divides out of the ratio.
 */

/** What a side is: a checkout's root, or an ONNX file timed by this checkout as the model named. */
export interface Side {
  root: string;
  onnx?: string;
  label: string;
}

/** A command-line argument as a side: a folder is a levit checkout, a file an ONNX model. */
export function sideOf(arg: string, label: string): Side {
  const path = resolve(arg);
  if (!existsSync(path)) throw new LevitError(`${arg}: no such checkout or ONNX file`, ExitCode.notFound);
  return statSync(path).isDirectory() ? { root: path, label } : { root: packageRoot, onnx: path, label };
}

export interface LiveOptions extends CompareOptions {
  models: string[];
  backends: string[];
  threads: ThreadSpec[];
  batches: number[];
  rounds: RoundSettings;
  /** Time int8 ONNX files whose full-range products saturate here (--allow-int8-saturation), instead of refusing them. */
  allowInt8Saturation?: boolean;
}

export interface LiveEvents extends RoundEvents {
  phase?(message: string): void;
}

export interface LiveReport extends CompareReport {
  baseline_source: string;
  current_source: string;
  /** Where the workers ran: pinned to the same cores, or why not (affinity.ts). */
  cores: string;
  rounds: number;
  stopped: Stopped;
  /** What the workers said while loading, e.g. an int8 file timed although its products saturate here (--allow-int8-saturation). */
  warnings?: string[];
}

const describe = (s: Side) => s.onnx ?? s.root;

interface Config {
  model: string;
  backend: string;
  threads: number;
  batch: number;
  key: string;
}

function configurations(o: LiveOptions): Config[] {
  return o.models.flatMap((model) =>
    o.backends.flatMap((backend) =>
      resolveThreads(o.threads).flatMap((threads) =>
        o.batches.map((batch) => ({ model, backend, threads, batch, key: `${model} ${backend} ${threads}t b${batch}` })),
      ),
    ),
  );
}

function remoteArm(worker: WorkerClient, id: string, key: string): Arm {
  return {
    key,
    async slice(batches) {
      const reply = await worker.request({ op: 'run', id, batches });
      return reply.times_ms as number[];
    },
  };
}

function comparison(c: Config, base: ArmTimes, cur: ArmTimes, o: CompareOptions, seed: number): Comparison {
  const [b, k] = [seriesOf(base), seriesOf(cur)];
  const ips = (s: typeof b) => (c.batch * 1000) / medianOf(s.values);
  const paired = ratioInterval(k, b, { confidence: 1 - o.alpha, sameRun: true, seed });
  const r = widened(paired, liveRerunSpread(paired.value, c.threads));
  const change_interval: [number, number] = [r.low - 1, r.high - 1];
  return {
    key: c.key,
    model: c.model,
    backend: c.backend,
    threads: c.threads,
    batch: c.batch,
    baseline_images_per_second: ips(b),
    current_images_per_second: ips(k),
    change: r.value - 1,
    change_interval,
    ...verdictOf(change_interval[0], change_interval[1], o.threshold, o.alpha),
  };
}

/** Starts a worker for each side, loads every configuration in both, runs the rounds, decides each configuration. */
export async function compareLive(baseline: Side, current: Side, o: LiveOptions, events: LiveEvents = {}, signal?: AbortSignal): Promise<LiveReport> {
  if ((baseline.onnx || current.onnx) && o.models.length !== 1) {
    throw new LevitError('an ONNX file is timed as one model: name exactly one with --model (its input contract)', ExitCode.usage);
  }
  const configs = configurations(o);
  const cores = sharedCores(Math.max(...configs.map((c) => c.threads)));
  const workers: WorkerClient[] = [];
  try {
    for (const side of [baseline, current]) {
      events.phase?.(`starting the ${side.label}'s worker (${side.root})`);
      workers.push(await WorkerClient.start(side.root, cores.prefix));
    }
    const arms: Arm[] = [];
    const saturation = o.allowInt8Saturation ? { allow_int8_saturation: true } : {};
    const warnings: string[] = [];
    for (const [i, c] of configs.entries()) {
      for (const [s, side] of [baseline, current].entries()) {
        events.phase?.(`loading ${c.key} in the ${side.label}'s worker`);
        const id = `c${i}`;
        const loaded = await workers[s]
          .request({ op: 'load', id, model: c.model, backend: c.backend, threads: c.threads, batch: c.batch, onnx: side.onnx, ...saturation })
          .catch((e: Error) => {
            const refused = e instanceof LevitError ? e : null;
            throw new LevitError(`${side.label} (${describe(side)}): ${c.key}: ${e.message}`, refused?.exitCode ?? ExitCode.failure, refused?.hint);
          });
        for (const w of (loaded.warnings as string[] | undefined) ?? []) warnings.push(`${side.label}: ${w}`);
        arms.push(remoteArm(workers[s], id, `${side.label}: ${c.key}`));
      }
    }
    const result = await runRounds(arms, o.rounds, events, { signal });
    const byKey = new Map(result.arms.map((a) => [a.key, a]));
    const comparisons = configs.map((c, i) => comparison(c, byKey.get(`${baseline.label}: ${c.key}`)!, byKey.get(`${current.label}: ${c.key}`)!, o, 1 + i));
    return {
      ...reportOf(comparisons, o, {
        same_machine: true,
        baseline_machine: 'this machine',
        current_machine: 'this machine',
        machine_check_ratio: null,
        basis: 'interleaved',
      }),
      baseline_source: describe(baseline),
      current_source: describe(current),
      cores: cores.description,
      rounds: result.rounds,
      stopped: result.stopped,
      ...(warnings.length ? { warnings } : {}),
    };
  } finally {
    for (const w of workers) await w.close();
  }
}
