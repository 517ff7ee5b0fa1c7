import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { cpuKind, composeId, kindInId, legacyId, machineId, sameMachine } from '../src/results/machine-id.js';
import { fingerprint } from '../src/results/fingerprint.js';
import {
  type ConfigSummary,
  type LogFigure,
  type RunSummary,
  MIN_RUNS,
  SUMMARY_VERSION,
  excessSpread,
  machineSpreads,
  parseRunSummary,
  summarizeRun,
} from '../src/stats/machine-spread.js';
import { buildRecord } from '../src/bench/record.js';
import { medianInterval, seriesOf } from '../src/stats/paired-intervals.js';
import { widened, zOf } from '../src/stats/rerun-spread.js';
import { type BenchRecord, type BenchResults, RECORD_CONFIDENCE, RESULTS_SCHEMA } from '../src/results/types.js';
import type { SessionPlan } from '../src/bench/configurations.js';
import type { ArmTimes } from '../src/bench/rounds.js';
import { getCard } from '../src/models/registry.js';
import { FP32 } from '../src/classifier/precision.js';
import { renderRecordLine, renderMarkdown } from '../src/render/bench.js';
import { speedUpSpread } from '../src/stats/speedups.js';
import { runSpreadOf } from '../src/compare/compare.js';
import { RERUN_SPREAD, rerunSpread } from '../src/stats/rerun-spread.js';
import { findBaseline, machineBaseline, saveBaseline } from '../src/results/store.js';
import { RUN_HISTORY_KEPT, appendRunHistory, readRunHistory, runHistoryPath } from '../src/stats/run-history.js';
import { recordKey } from '../src/results/keys.js';
import { packageRoot } from '../src/util/paths.js';
import { tempDir } from './helpers/shared.js';

const ZEN3 = ['avx', 'avx2', 'f16c', 'fma'];
const ZEN5 = ['avx', 'avx2', 'avx512_bf16', 'avx512_vnni', 'avx512bw', 'avx512f', 'avx512vl', 'avx_vnni', 'f16c', 'fma'];

/** Sets an environment variable for the test, restoring it after. */
function setEnv(t: { after(fn: () => void): void }, name: string, value: string): void {
  const saved = process.env[name];
  process.env[name] = value;
  t.after(() => (saved === undefined ? delete process.env[name] : (process.env[name] = saved)));
}

test('the CPU kind comes from the instruction-set flags: VNNI, AVX-512 and AVX2 machines behind one model string are told apart', () => {
  assert.equal(cpuKind(ZEN3, 'x64'), 'avx2');
  assert.equal(cpuKind(ZEN5, 'x64'), 'avx512-vnni');
  assert.equal(cpuKind(['avx', 'avx2', 'avx_vnni', 'fma'], 'x64'), 'avx-vnni');
  assert.equal(cpuKind(['avx', 'avx2', 'avx512f', 'avx512bw'], 'x64'), 'avx512');
  assert.equal(cpuKind(['amx_tile', 'avx512_vnni', 'avx512f'], 'x64'), 'amx');
  assert.equal(cpuKind(['sse4_2', 'avx'], 'x64'), 'avx');
  assert.equal(cpuKind(['fp16'], 'x64'), 'sse', 'a CPU with flags but none of the vector ones');
  assert.equal(cpuKind(['asimd', 'asimddp', 'i8mm'], 'arm64'), 'asimd-dot');
  assert.equal(cpuKind(['asimd', 'fp16'], 'arm64'), 'neon');
  assert.equal(cpuKind(['sve', 'asimd', 'asimddp'], 'arm64'), 'sve');
  assert.equal(cpuKind([], 'x64'), null, 'no flags reported: the kind is unknown, not guessed');
  const id = composeId({ model: 'AMD EPYC', kind: 'avx512-vnni', cores: 2, arch: 'x64', platform: 'linux', emulated: false });
  assert.equal(id, 'AMD EPYC avx512-vnni x2 x64 linux');
  assert.equal(kindInId(id), 'avx512-vnni');
  assert.equal(kindInId('AMD EPYC x2 x64 linux'), null);
});

test("this machine's fingerprint id names its CPU kind", async () => {
  const fp = await fingerprint();
  const kind = cpuKind(fp.cpu.flags, fp.os.arch);
  if (kind) assert.match(fp.id, new RegExp(` ${kind} x${fp.cpu.cores} ${fp.os.arch} `));
  assert.equal(machineId(fp), fp.id);
});

test("an old file's id gets the kind its own flags imply; machines of one id but other flags are not one machine", () => {
  const old = { id: 'AMD EPYC x2 x64 linux', cpu: { flags: ZEN3 }, os: { arch: 'x64' } };
  const now = { id: 'AMD EPYC avx512-vnni x2 x64 linux', cpu: { flags: ZEN5 }, os: { arch: 'x64' } };
  assert.equal(machineId(old), 'AMD EPYC avx2 x2 x64 linux');
  assert.equal(legacyId(now), 'AMD EPYC x2 x64 linux');
  assert.equal(sameMachine(old, now), false);
  assert.equal(sameMachine({ ...old, cpu: { flags: ZEN5 } }, now), true, 'an old file of the same CPU is still this machine');
  const zen4 = { ...now, cpu: { flags: ZEN5.filter((f) => f !== 'avx_vnni') } };
  assert.equal(machineId(zen4), machineId(now));
  assert.equal(sameMachine(zen4, now), false, 'one kind, one model string, other flags: another CPU');
  assert.equal(sameMachine({ id: 'gpu-box x16 x64 linux' }, { id: 'gpu-box x16 x64 linux' }), true, 'files without flags: by their id');
  assert.equal(machineId({ id: 'AMD EPYC x2 x64 linux emulated', cpu: { flags: ZEN3 }, os: { arch: 'x64' } }), 'AMD EPYC avx2 x2 x64 linux emulated');
});

test("a baseline from another kind of CPU is never applied: bench does not warn that its check runs below its baseline's", (t) => {
  const dir = tempDir(t);
  setEnv(t, 'LEVIT_RESULTS_DIR', dir);
  // A Zen 3's baseline under the id older levit saved it as (no kind), and the committed one, renamed.
  const zen3 = JSON.parse(readFileSync(join(packageRoot, 'results', 'baselines', 'amd-epyc-avx2-x2-x64-linux.json'), 'utf8')) as BenchResults;
  assert.deepEqual(zen3.system.cpu.flags, ZEN3, 'the committed baseline is an AVX2-only CPU');
  assert.equal(zen3.system.id, 'AMD EPYC avx2 x2 x64 linux');
  mkdirSync(join(dir, 'baselines'));
  writeFileSync(join(dir, 'baselines', 'amd-epyc-x2-x64-linux.json'), JSON.stringify({ ...zen3, system: { ...zen3.system, id: 'AMD EPYC x2 x64 linux' } }));
  const zen5 = { ...zen3.system, id: 'AMD EPYC avx512-vnni x2 x64 linux', cpu: { ...zen3.system.cpu, flags: ZEN5 } };
  assert.equal(machineBaseline(zen5), null);
  const lookup = findBaseline(zen5);
  assert.equal(lookup.file, null);
  assert.match(
    lookup.file === null ? lookup.refused! : '',
    /amd-epyc-x2-x64-linux\.json is from another CPU \(AMD EPYC avx2 x2 x64 linux, not AMD EPYC avx512-vnni/,
  );
  // The same old file still serves the CPU it was saved on.
  const zen3Now = { ...zen3.system, id: 'AMD EPYC avx2 x2 x64 linux' };
  assert.equal(machineBaseline(zen3Now)?.file, join(dir, 'baselines', 'amd-epyc-x2-x64-linux.json'));
  // A baseline saved now goes under the id with the kind, and is this machine's from then on.
  saveBaseline({ ...zen3, system: zen5 } as BenchResults);
  assert.equal(machineBaseline(zen5)?.file, join(dir, 'baselines', 'amd-epyc-avx512-vnni-x2-x64-linux.json'));
});

test('the between-run spread: unknown under 3 runs, about 0 for identical runs, the sd beyond the rounds for noisy ones', () => {
  assert.equal(MIN_RUNS, 3);
  assert.equal(excessSpread([]), null);
  assert.equal(excessSpread([[2.6, 0.01]]), null);
  assert.equal(
    excessSpread([
      [2.6, 0.01],
      [2.7, 0.01],
    ]),
    null,
    'two runs: unknown',
  );
  assert.equal(
    excessSpread([
      [2.6, 0.01],
      [2.6, 0.01],
      [2.6, 0.01],
    ]),
    0,
  );
  // Runs that differ by what their rounds explain (se 0.02, values moving by ~0.02): nothing beyond.
  assert.equal(
    excessSpread([
      [2.6, 0.02],
      [2.62, 0.02],
      [2.58, 0.02],
      [2.6, 0.02],
    ]),
    0,
  );
  // Values with an sd of 0.1 between runs, each run precise to 0.01: about 0.1.
  const noisy: LogFigure[] = [0.1, -0.1, 0.1, -0.1, 0, 0.05, -0.05, 0.15, -0.15].map((d) => [Math.log(14) + d, 0.01]);
  const sd = Math.sqrt(noisy.reduce((s, [v]) => s + (v - Math.log(14)) ** 2, 0) / (noisy.length - 1));
  assert.ok(Math.abs(excessSpread(noisy)! - Math.sqrt(sd ** 2 - 0.01 ** 2)) < 1e-12);
  assert.ok(excessSpread(noisy)! > 0.09 && excessSpread(noisy)! < 0.11);
});

/** A session plan of levit_128s on ort-cpu, for buildRecord. */
const session = (threads = 1): SessionPlan =>
  ({
    card: getCard('levit_128s'),
    backend: { id: 'ort-cpu' },
    status: { version: '1.0.0-test', device: null },
    precision: FP32,
    threads,
    artifact: { weights: { id: 'synthetic-s0', kind: 'synthetic' }, seconds: 0, built: true },
    batches: [1],
  }) as unknown as SessionPlan;

/** A quiet run: 24 rounds of one batch each, round medians within [13.85, 14.19] ms. */
function quietArm(shift = 1): ArmTimes {
  const times = Array.from({ length: 24 }, (_, i) => shift * (13.85 + (0.34 * ((i * 7) % 24)) / 23));
  return { key: 'k', warmupBatches: 1, sliceBatches: 1, times_ms: times, rounds: times.map((_, i) => i), peakRssBytes: 1 };
}

const checkRounds = (n = 24) => ({
  matmul_size: 512,
  times_ms: Array.from({ length: n }, (_, i) => 2 + 0.01 * (i % 5)),
  rounds: Array.from({ length: n }, (_, i) => i),
});

test("on a quiet machine with no history, a record's interval is its rounds' own, and says reruns may move more", () => {
  const arm = quietArm();
  const r = buildRecord({ session: session(), batch: 1, arm, group: 1, sessionSeconds: 0, emulated: false, machineCheck: checkRounds() });
  const own = medianInterval(seriesOf(arm), RECORD_CONFIDENCE);
  assert.ok(own.low >= 13.85 && own.high <= 14.19, JSON.stringify(own));
  const [low, high] = r.images_per_second_ci95!;
  // The printed interval is the rounds' precision: within a few percent of it (here exactly it).
  const width = (high - low) / r.images_per_second;
  const ownWidth = (1000 / own.low - 1000 / own.high) / r.images_per_second;
  assert.ok(Math.abs(width / ownWidth - 1) < 0.03, `${width} vs ${ownWidth}`);
  assert.ok(width < 0.03, `±${(width * 50).toFixed(1)}%: a quiet run reads as precise as it is`);
  // The constant of a shared VM would have made it ±19% ([78.7, 115.1] for 95.5 images/s): not applied.
  assert.ok(width < widened(own, RERUN_SPREAD.speed.oneThread).high / widened(own, RERUN_SPREAD.speed.oneThread).low - 1);
  assert.deepEqual(r.between_runs, { runs: 0, speed: null, matmul_share: null, speed_up: null });
  assert.match(renderRecordLine(r), /^levit_128s ort-cpu 1t b1: 71\.\d images\/s \[7[01]\.\d, 7[12]\.\d\], \d+% of the MatMul's GFLOP\/s/);
  const results = { schema: RESULTS_SCHEMA, system: { id: 'm', cpu: { flags: [] }, os: { arch: 'x64' } }, machine_check: null, records: [r] };
  const md = renderMarkdown({ ...results, schedule: { rounds: 24, groups: 1, peak_rss_bytes: 1, memory_budget_bytes: 2 } } as unknown as BenchResults);
  assert.match(
    md.replace(/\s+/g, ' '),
    /Images\/s intervals are this run's own rounds': reruns on a shared host may move more\. To measure how much, bench the same/,
  );
  assert.equal((md.match(/may move more/g) ?? []).length, 1, 'said once');
});

/** A history line with one configuration's log median per run. */
function run(configs: ConfigSummary[], pairs: RunSummary['pairs'] = [], over: Partial<RunSummary> = {}): RunSummary {
  return { v: SUMMARY_VERSION, created: '2027-01-01T00:00:00Z', levit_version: '0.1.0', machine: 'm', flags: ['avx2'], configs, pairs, ...over };
}

test("with 3 or more earlier runs of a configuration, its record's interval includes this machine's spread, and the output says so", () => {
  const arm = quietArm();
  const probe = buildRecord({ session: session(), batch: 1, arm, group: 1, sessionSeconds: 0, emulated: false, machineCheck: null });
  const key = recordKey(probe);
  const config = (logMs: number, share: number): ConfigSummary => ({
    key,
    threads: 1,
    backend_version: '1.0.0-test',
    rounds: 24,
    median_ms: Math.exp(logMs),
    log_ms: [logMs, 0.004],
    share: [share, 0.004],
  });
  const other = (logMs: number): ConfigSummary => ({ ...config(logMs, 0), key: 'efficientnet_b0 ort-cpu 1t b1 224px fp32', share: undefined });
  const moves = [0, 0.06, -0.06, 0.03];
  const history = moves.map((d) => run([config(Math.log(14) + d, d / 2), other(Math.log(30) - d)], [[0, 1, Math.log(14 / 30) + 2 * d, 0.004]]));
  const current = { machine: 'm', flags: ['avx2'], levit_version: '0.1.0' };
  const spreads = machineSpreads(history, current);
  assert.equal(spreads.runs, 4);
  const expected = excessSpread(moves.map((d): LogFigure => [Math.log(14) + d, 0.004]))!;
  const r = buildRecord({
    session: session(),
    batch: 1,
    arm,
    group: 1,
    sessionSeconds: 0,
    emulated: false,
    machineCheck: checkRounds(),
    betweenRuns: (x) => spreads.of(x),
  });
  assert.equal(r.between_runs!.runs, 4);
  assert.ok(Math.abs(r.between_runs!.speed! - expected) < 1e-6, `${r.between_runs!.speed} vs ${expected}`);
  assert.ok(r.between_runs!.matmul_share! > 0.02 && r.between_runs!.matmul_share! < r.between_runs!.speed!);
  assert.ok(Math.abs(r.between_runs!.speed_up! - excessSpread(moves.map((d): LogFigure => [2 * d, 0.004]))!) < 1e-6, 'the pair moved twice as much');
  const own = medianInterval(seriesOf(arm), RECORD_CONFIDENCE);
  const wide = widened(own, r.between_runs!.speed!);
  assert.ok(Math.abs(r.images_per_second_ci95![0] - 1000 / wide.high) < 1e-9 && Math.abs(r.images_per_second_ci95![1] - 1000 / wide.low) < 1e-9);
  assert.ok(r.images_per_second_ci95![1] / r.images_per_second > 1 + zOf(0.95) * expected * 0.9, 'wider than the rounds alone');
  const results = { schema: RESULTS_SCHEMA, system: { id: 'm', cpu: { flags: [] }, os: { arch: 'x64' } }, machine_check: null, records: [r] };
  const md = renderMarkdown({ ...results, schedule: { rounds: 24, groups: 1, peak_rss_bytes: 1, memory_budget_bytes: 2 } } as unknown as BenchResults);
  assert.match(md.replace(/\s+/g, ' '), /Images\/s intervals include the between-run spread on this machine: ±5\.\d% \(sd, from 4 runs\)\./);
  assert.doesNotMatch(md, /may move more/);

  // Two runs: unknown again; runs of another levit version, machine or CPU flags do not count.
  assert.equal(machineSpreads(history.slice(0, 2), current).of(r).speed, null);
  assert.equal(machineSpreads(history, { ...current, levit_version: '0.2.0' }).runs, 0);
  assert.equal(machineSpreads(history, { ...current, flags: ['avx2', 'avx512f'] }).runs, 0);
  assert.equal(machineSpreads(history, { ...current, machine: 'n' }).runs, 0);
  // Another runtime version of the same configuration is another configuration.
  assert.equal(spreads.of({ ...r, backend_version: '2.0.0' }).speed, null);
  assert.equal(spreads.of({ ...r, threads: 2 }).speed_up, null);
});

test("verdicts stay conservative: speed-ups and two files' comparisons take at least the shared VM's spread, this machine's where larger", () => {
  const rec = (speedUp: number | null, speed: number | null, threads = 1) =>
    ({ threads, between_runs: { runs: 5, speed, matmul_share: null, speed_up: speedUp } }) as BenchRecord;
  const old = { threads: 1 } as BenchRecord;
  assert.equal(speedUpSpread(old, old), RERUN_SPREAD.speedUp.oneThread, 'older files: the constants');
  assert.equal(speedUpSpread(rec(null, null), rec(null, null)), RERUN_SPREAD.speedUp.oneThread, 'unknown: the constants');
  assert.equal(speedUpSpread(rec(0.01, 0.01), rec(0.01, 0.01)), RERUN_SPREAD.speedUp.oneThread, 'a quiet history does not narrow a verdict');
  assert.equal(speedUpSpread(rec(0.2, null), rec(0.01, null)), 0.2, 'a noisier machine widens it');
  assert.equal(speedUpSpread(rec(null, null, 2), old), RERUN_SPREAD.speedUp.multiThread);
  const o = { threshold: 0.1, alpha: 0.01 };
  assert.equal(runSpreadOf(old, old, o), rerunSpread('speed', 1));
  assert.equal(runSpreadOf(rec(null, 0.01), rec(null, 0.02), o), rerunSpread('speed', 1));
  assert.equal(runSpreadOf(rec(null, 0.01), rec(null, 0.3), o), 0.3);
  assert.equal(runSpreadOf(rec(null, 0.3), rec(null, 0.3), { ...o, runSpread: 0 }), 0, '--run-spread wins');
});

/** Results of a synthetic run: `n` rounds of two configurations and the machine check, `shift` scaling levit_128s. */
function synthetic(shift: number, n = 16, over: Partial<BenchResults> = {}): BenchResults {
  const rounds = Array.from({ length: n }, (_, i) => i);
  const record = (model: string, ms: number) =>
    ({
      model,
      backend: 'ort-cpu',
      backend_version: '1.0.0-test',
      threads: 1,
      batch: 16,
      resolution: 224,
      precision: 'fp32',
      times_ms: rounds.map((i) => ms * (1 + 0.01 * Math.sin(i * 2.1))),
      rounds,
    }) as BenchRecord;
  return {
    schema: RESULTS_SCHEMA,
    created: '2027-01-01T00:00:00Z',
    levit_version: '0.1.0',
    system: { id: 'Test CPU avx2 x2 x64 linux', cpu: { flags: ZEN3 }, os: { arch: 'x64' }, emulation: null },
    machine_check: null,
    machine_check_rounds: { matmul_size: 512, times_ms: rounds.map((i) => 2 * (1 + 0.01 * Math.cos(i))), rounds },
    settings: {},
    records: [record('levit_128s', 14 * shift), record('efficientnet_b0', 30)],
    ...over,
  } as BenchResults;
}

test('a run is kept as a compact summary line: medians, their own precision, paired ratios; emulated, interrupted and short runs are not', () => {
  const s = summarizeRun(synthetic(1))!;
  assert.equal(s.machine, 'Test CPU avx2 x2 x64 linux');
  assert.deepEqual(s.flags, ZEN3);
  assert.deepEqual(
    s.configs.map((c) => [c.key, c.rounds, c.backend_version]),
    [
      ['levit_128s ort-cpu 1t b16 224px fp32', 16, '1.0.0-test'],
      ['efficientnet_b0 ort-cpu 1t b16 224px fp32', 16, '1.0.0-test'],
    ],
  );
  assert.ok(Math.abs(s.configs[0].log_ms[0] - Math.log(14)) < 0.01 && s.configs[0].log_ms[1] > 0 && s.configs[0].log_ms[1] < 0.01);
  assert.ok(s.configs[0].share && s.configs[1].share);
  assert.equal(s.pairs.length, 1);
  assert.ok(Math.abs(s.pairs[0][2] - Math.log(14 / 30)) < 0.01);
  assert.deepEqual(parseRunSummary(JSON.stringify(s)), s);
  assert.ok(JSON.stringify(s).length < 1000, 'compact: no batch times');
  assert.equal(summarizeRun(synthetic(1, 16, { interrupted: true })), null);
  assert.equal(summarizeRun(synthetic(1, 16, { system: { ...synthetic(1).system, emulation: { evidence: ['x'] } } })), null);
  assert.equal(summarizeRun(synthetic(1, 5)), null, 'under the rounds an interval needs');
  for (const bad of ['', '{', 'null', '{"v":1}', JSON.stringify({ ...s, v: 2 }), JSON.stringify({ ...s, pairs: [[0, 9, 1, 0.1]] })]) {
    assert.equal(parseRunSummary(bad), null, bad);
  }
});

test("levit's history of a machine: appended run by run, a torn line skipped, bounded, and safe from concurrent benches", async (t) => {
  const dir = tempDir(t);
  setEnv(t, 'LEVIT_CACHE_DIR', dir);
  const base = synthetic(1);
  assert.deepEqual(readRunHistory(base.system), [], 'no history yet');
  const file = appendRunHistory(base)!;
  assert.equal(file, runHistoryPath(base.system));
  assert.match(file, /bench-history\/test-cpu-avx2-x2-x64-linux\.jsonl$/);
  appendFileSync(file, '{"v":1,"machine":"torn');
  appendFileSync(file, '\n');
  for (const shift of [1.05, 0.95]) appendRunHistory(synthetic(shift));
  const runs = readRunHistory(base.system);
  assert.equal(runs.length, 3, 'the torn line is skipped');
  const spreads = machineSpreads(runs, { machine: base.system.id, flags: ZEN3, levit_version: '0.1.0' });
  const levit = spreads.of(base.records[0]);
  assert.ok(levit.speed! > 0.03 && levit.speed! < 0.07, `${levit.speed}: LeViT moved by 5% between runs`);
  assert.ok(spreads.of(base.records[1]).speed! < 0.005, 'EfficientNet did not move');
  assert.ok(levit.speed_up! > 0.03, 'nor did their ratio stay put');
  assert.equal(appendRunHistory(synthetic(1, 16, { interrupted: true })), null);

  for (let i = 0; i < 2 * RUN_HISTORY_KEPT; i++) appendRunHistory(base);
  const kept = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  assert.ok(kept >= RUN_HISTORY_KEPT && kept <= 2 * RUN_HISTORY_KEPT, `${kept} lines kept`);

  // Four processes appending at once: every line whole, none lost.
  const other = tempDir(t);
  const store = pathToFileURL(join(packageRoot, 'dist', 'src', 'stats', 'run-history.js')).href;
  const script = `const { appendRunHistory } = await import(${JSON.stringify(store)});
const results = JSON.parse(process.argv[1]);
for (let i = 0; i < 15; i++) appendRunHistory(results);`;
  const children = Array.from(
    { length: 4 },
    () =>
      new Promise<number>((resolve) =>
        spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(base)], { env: { ...process.env, LEVIT_CACHE_DIR: other } }).on(
          'exit',
          resolve,
        ),
      ),
  );
  assert.deepEqual(await Promise.all(children), [0, 0, 0, 0]);
  const lines = readFileSync(join(other, 'bench-history', 'test-cpu-avx2-x2-x64-linux.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean);
  assert.ok(
    lines.every((l) => parseRunSummary(l) !== null),
    'no torn line',
  );
  assert.equal(lines.length, 60, 'none lost (under the bound: nothing trimmed)');
});
