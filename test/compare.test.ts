import assert from 'node:assert/strict';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchRecord, BenchResults } from '../src/results/types.js';
import { RESULTS_SCHEMA } from '../src/results/types.js';
import { MAX_RESULTS_BYTES, readResults } from '../src/results/read.js';
import { type CompareOptions, type CompareReport, compareExitCode, compareResults, parseThreshold, separationIsEvidence } from '../src/compare/compare.js';
import { RERUN_SPREAD } from '../src/stats/rerun-spread.js';
import { ratioInterval, seriesOf } from '../src/stats/paired-intervals.js';
import { mergeResults } from '../src/results/merge-machines.js';
import { saveBaseline } from '../src/results/store.js';
import { renderMarkdown, renderTable } from '../src/render/bench.js';
import { summarizeRun } from '../src/stats/machine-spread.js';
import { runCli, tempDir } from './helpers/shared.js';

/** Deterministic timing-like samples: a median with a right-skewed jitter. */
function samples(median: number, n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const u = x / 2 ** 32;
    return median * (1 + 0.02 * (u - 0.5) + 0.03 * u ** 8);
  });
}

function rec(model: string, times: number[], over: Partial<BenchRecord> = {}): BenchRecord {
  const sortedTimes = [...times].sort((a, b) => a - b);
  const median = sortedTimes[Math.floor(times.length / 2)];
  return {
    model,
    family: 'levit',
    backend: 'ort-cpu',
    threads: 1,
    batch: 16,
    resolution: 224,
    precision: 'fp32',
    params: 7_777_058,
    flops: 305_108_946,
    times_ms: times,
    images_per_second: 16000 / median,
    spread: { relative_iqr: 0.01, median_ci95: [median, median] },
    ...over,
  } as BenchRecord;
}

function results(id: string, gflops: number | null, records: BenchRecord[]): BenchResults {
  return {
    schema: RESULTS_SCHEMA,
    system: { id, os: { arch: 'x64' } },
    machine_check: gflops ? { matmul_gflops_1thread: gflops } : null,
    records,
  } as BenchResults;
}

// The mechanism on a dedicated machine (no drift between runs); the shared-host default has its own test.
const options = { threshold: 0.05, alpha: 0.01, runSpread: 0 };

test('the interval of the change is seeded: the same files always get the same verdict', () => {
  const interval = () =>
    ratioInterval(seriesOf({ times_ms: samples(120, 30, 2) }), seriesOf({ times_ms: samples(100, 30, 1) }), { confidence: 0.99, sameRun: false });
  const a = interval();
  assert.deepEqual(a, interval());
  assert.ok(a.low < a.value && a.value < a.high, JSON.stringify(a));
  assert.ok(Math.abs(a.value - 1.2) < 0.01);
  assert.ok(a.low > 1.15 && a.high < 1.25, JSON.stringify(a));
});

test('records are matched by configuration; missing and new ones are reported', () => {
  const base = results('m', 80, [rec('a', samples(100, 30, 1)), rec('b', samples(50, 30, 2)), rec('a', samples(60, 30, 3), { threads: 2 })]);
  const cur = results('m', 80, [rec('a', samples(100, 30, 4)), rec('c', samples(10, 30, 5)), rec('a', samples(60, 30, 6), { threads: 2 })]);
  const r = compareResults(base, cur, options);
  assert.deepEqual(
    r.comparisons.map((c) => [c.key, c.verdict]),
    [
      ['a ort-cpu 1t b16 224px fp32', 'unchanged'],
      ['b ort-cpu 1t b16 224px fp32', 'missing'],
      ['a ort-cpu 2t b16 224px fp32', 'unchanged'],
      ['c ort-cpu 1t b16 224px fp32', 'new'],
    ],
  );
  assert.equal(r.same_machine, true);
});

test('a significant slowdown past the threshold regresses; a small or noisy one does not', () => {
  const base = results('m', 80, [
    rec('slow', samples(100, 30, 1)),
    rec('small', samples(100, 30, 2)),
    rec('fast', samples(100, 30, 3)),
    rec('few', samples(100, 3, 4)),
    rec('few2x', samples(100, 5, 9)),
  ]);
  const cur = results('m', 80, [
    rec('slow', samples(120, 30, 5)),
    rec('small', samples(103, 30, 6)),
    rec('fast', samples(80, 30, 7)),
    rec('few', samples(104, 3, 8)),
    rec('few2x', samples(200, 5, 10)),
  ]);
  const verdicts = Object.fromEntries(compareResults(base, cur, options).comparisons.map((c) => [c.model, c]));
  assert.equal(verdicts.slow.verdict, 'regressed');
  assert.ok(Math.abs(verdicts.slow.change! - 0.2) < 0.01);
  assert.ok(verdicts.slow.change_interval![0] > 0.05);
  assert.equal(verdicts.small.verdict, 'unchanged'); // the whole interval is under 5%
  assert.equal(verdicts.fast.verdict, 'improved');
  assert.equal(verdicts.few.verdict, 'inconclusive'); // 3 batches cannot tell 4% from nothing
  assert.match(verdicts.few.note!, /too few rounds \(3 and 3; an interval needs 10 a side\)/);
  // 5 batches a side (EfficientNet-B3 at the old default), twice as slow: every batch is slower, which is evidence.
  assert.equal(verdicts.few2x.verdict, 'regressed');
  assert.match(verdicts.few2x.note!, /every current one/);
  // One or three batches a side separate by chance too often (1 in 2, 1 in 20): no verdict from them.
  assert.ok(!separationIsEvidence(1, 1, 0.01) && !separationIsEvidence(3, 3, 0.01) && separationIsEvidence(5, 5, 0.01));
  const one = compareResults(results('m', 80, [rec('x', [100])]), results('m', 80, [rec('x', [200])]), options);
  assert.equal(one.comparisons[0].verdict, 'inconclusive');
});

test("on different machines the machine checks' ratio is applied before comparing", () => {
  // The current machine is twice as fast at MatMul and runs the model twice as fast: no change.
  const base = results('slow machine', 80, [rec('a', samples(100, 30, 1))]);
  const same = results('fast machine', 160, [rec('a', samples(50, 30, 2))]);
  const r = compareResults(base, same, options);
  assert.equal(r.same_machine, false);
  assert.equal(r.machine_check_ratio, 2);
  assert.equal(r.basis, 'machine-check');
  assert.equal(r.comparisons[0].verdict, 'unchanged');
  // Twice as fast at MatMul but only as fast on the model: the code got slower.
  const worse = compareResults(base, results('fast machine', 160, [rec('a', samples(100, 30, 3))]), options);
  assert.equal(worse.comparisons[0].verdict, 'regressed');
  // Without a machine check the raw times are compared, and the report says it cannot scale them.
  assert.equal(compareResults(base, results('other', null, [rec('a', samples(100, 30, 4))]), options).machine_check_ratio, null);
});

test("files whose id lacks the CPU kind are one machine only where their CPU flags agree; compare auto never takes another CPU's baseline", (t) => {
  const withFlags = (r: BenchResults, flags: string[]) => ({ ...r, system: { ...r.system, cpu: { flags } } }) as BenchResults;
  const zen3 = ['avx', 'avx2', 'f16c', 'fma'];
  const zen5 = [...zen3, 'avx512_vnni', 'avx512f', 'avx_vnni'];
  const base = withFlags(results('AMD EPYC x2 x64 linux', 80, [rec('a', samples(100, 30, 1))]), zen3);
  const cur = withFlags(results('AMD EPYC avx512-vnni x2 x64 linux', 160, [rec('a', samples(50, 30, 2))]), zen5);
  const r = compareResults(base, cur, options);
  assert.equal(r.same_machine, false);
  assert.equal(r.basis, 'machine-check', 'two kinds of CPU: put on one scale by their machine checks');
  assert.deepEqual([r.baseline_machine, r.current_machine], ['AMD EPYC avx2 x2 x64 linux', 'AMD EPYC avx512-vnni x2 x64 linux']);
  const again = withFlags(results('AMD EPYC avx2 x2 x64 linux', 80, [rec('a', samples(100, 30, 3))]), zen3);
  assert.equal(compareResults(base, again, options).same_machine, true, 'an old file of the same CPU is still the same machine');
  const dir = tempDir(t);
  const env = { LEVIT_RESULTS_DIR: join(dir, 'results') };
  mkdirSync(join(dir, 'results', 'baselines'), { recursive: true });
  writeResults(join(dir, 'results', 'baselines'), 'amd-epyc-x2-x64-linux.json', base);
  const current = writeResults(dir, 'current.json', cur);
  const refused = runCli(['compare', 'auto', current], env);
  assert.equal(refused.status, 4, refused.stderr);
  assert.match(
    refused.stderr.replace(/\s+/g, ' '),
    /no baseline for machine 'AMD EPYC avx512-vnni x2 x64 linux' .*amd-epyc-x2-x64-linux\.json is from another CPU/,
  );
  const same = runCli(['compare', 'auto', writeResults(dir, 'again.json', again), '--json'], env);
  assert.equal(JSON.parse(same.stdout).same_machine, true, same.stderr);
});

test('thresholds read as percentages or fractions', () => {
  assert.equal(parseThreshold('5%'), 0.05);
  assert.equal(parseThreshold('0.1'), 0.1);
  assert.throws(() => parseThreshold('five'), /not a number or a percentage/);
});

test('levit compare exits 1 and names the regression; Markdown for job summaries', (t) => {
  const dir = tempDir(t);
  const base = join(dir, 'base.json');
  const cur = join(dir, 'cur.json');
  writeFileSync(base, JSON.stringify(results('m', 80, [rec('levit_128s', samples(100, 30, 1))])));
  writeFileSync(cur, JSON.stringify(results('m', 80, [rec('levit_128s', samples(130, 30, 2))])));
  const r = runCli(['compare', base, cur, '--markdown', '--run-spread', '0']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /### levit compare: :x: 1 regression/);
  assert.match(r.stderr, /regressed: levit_128s ort-cpu 1t b16 224px fp32 \(30\.\d% slower/);
  assert.equal(runCli(['compare', base, base]).status, 0);
  const bad = runCli(['compare', base, join(dir, 'nope.json')]);
  assert.equal(bad.status, 4);
});

test('levit report merges machines into one table', (t) => {
  const a = results('x64 box', 80, [rec('levit_128s', samples(100, 5, 1), { published_top1: 76.6 })]);
  const b = results('arm box', 40, [rec('levit_128s', samples(200, 5, 2), { published_top1: 76.6 })]);
  const merged = mergeResults([
    { file: 'a', results: a },
    { file: 'b', results: b },
  ]);
  assert.deepEqual(
    merged.machines.map((m) => [m.label, m.id]),
    [
      ['m1', 'x64 box'],
      ['m2', 'arm box'],
    ],
  );
  // Two runs of one machine stay apart, by file.
  const twice = mergeResults([
    { file: 'a', results: a },
    { file: 'a2', results: a },
  ]);
  assert.deepEqual(
    twice.machines.map((m) => [m.label, m.files]),
    [
      ['m1', ['a']],
      ['m2', ['a2']],
    ],
  );
  assert.deepEqual(
    twice.merged.records.map((r) => r.backend),
    ['m1 ort-cpu', 'm2 ort-cpu'],
  );
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.json'), JSON.stringify({ ...a, system: { ...a.system, cpu: { flags: [] } } }));
  writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...b, system: { ...b.system, cpu: { flags: [] } } }));
  const r = runCli(['report', join(dir, 'a.json'), join(dir, 'b.json'), '--plot', join(dir, 'p.svg')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /m1 ort-cpu 1t b16/);
  assert.match(r.stdout, /m2 ort-cpu 1t b16/);
  assert.match(r.stdout, /m1 = x64 box \(machine check 80\.0 GFLOP\/s\); m2 = arm box/);
});

test("levit report: the footer describes each file's run, and each comparison column says whose file it holds", (t) => {
  const schedule = (rounds: number, peak: number) => ({ rounds, groups: 1, peak_rss_bytes: peak, memory_budget_bytes: 4e9 }) as BenchResults['schedule'];
  const levit = (n: number) => rec('levit_128s', samples(100, 20, n), { published_top1: 76.6 });
  const effnet = (ms: number, n: number) => rec('efficientnet_b0', samples(ms, 20, n), { family: 'efficientnet', published_top1: 77.7 });
  const a = { ...results('x64 box', 80, [levit(1), effnet(200, 2)]), schedule: schedule(14, 730.9e6), warnings: ['a is slow'] };
  const b = { ...results('arm box', 40, [levit(3), effnet(300, 4)]), schedule: schedule(11, 512e6) };
  const report = mergeResults([
    { file: 'a.json', results: a },
    { file: 'b.json', results: b },
  ]);
  // (the terminal table's footer is wrapped: read it as one line)
  for (const text of [renderMarkdown(report), renderTable(report)].map((t) => t.replace(/\s+/g, ' '))) {
    assert.match(text, /m1: measured in 14 interleaved rounds .*peak memory 730\.9 MB/);
    assert.match(text, /m2: measured in 11 interleaved rounds .*peak memory 512\.0 MB/);
    assert.match(text, /Warning \(m1\): a is slow\./);
    assert.doesNotMatch(text, /Measured in 14/);
    assert.match(text, /Machines: m1 = x64 box \(machine check 80\.0 GFLOP\/s\); m2 = arm box \(machine check 40\.0 GFLOP\/s\)\./);
  }
  const [head, , row] = renderMarkdown(report).split('\n');
  const cells = (line: string) => line.split('|').map((c) => c.trim());
  const vs = (label: string) => cells(row)[cells(head).indexOf(`${label} vs EfficientNet`)];
  assert.match(vs('m1'), /^2\.0\d× \[[^\]]+\] \(efficientnet_b0\)$/);
  assert.match(vs('m2'), /^3\.0\d× \[[^\]]+\] \(efficientnet_b0\)$/);
  assert.ok(!cells(head).includes('vs EfficientNet'), head);
  // The command, from the files.
  const dir = tempDir(t);
  const cpu = (r: BenchResults) => ({ ...r, system: { ...r.system, cpu: { flags: [] } } });
  writeFileSync(join(dir, 'a.json'), JSON.stringify(cpu(a)));
  writeFileSync(join(dir, 'b.json'), JSON.stringify(cpu(b)));
  const cli = runCli(['report', join(dir, 'a.json'), join(dir, 'b.json'), '--markdown']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /m2: measured in 11 interleaved rounds/);
  assert.match(cli.stdout, /\| m1 vs EfficientNet \| m2 vs EfficientNet \|/);
  // levit bench's one file: unchanged, unlabelled.
  const single = renderMarkdown({ ...a, system: { ...a.system, cpu: { flags: [] } } as unknown as BenchResults['system'] });
  assert.match(single, /\| vs EfficientNet \|/);
  assert.match(single, /Measured in 14 interleaved rounds/);
  assert.match(single, /Warning: a is slow\./);
});

/** A copy of a results file with every batch time multiplied by `factor` (and images/s and latency to match). */
function slowedBy(r: BenchResults, factor: number): BenchResults {
  const latency = ({ mean, median, p90, p99, min, max }: BenchRecord['latency_ms']) => ({
    mean: mean * factor,
    median: median * factor,
    p90: p90 * factor,
    p99: p99 * factor,
    min: min * factor,
    max: max * factor,
  });
  const records = r.records.map((x) => ({
    ...x,
    times_ms: x.times_ms.map((v) => v * factor),
    images_per_second: x.images_per_second / factor,
    ...(x.images_per_second_ci95 ? { images_per_second_ci95: x.images_per_second_ci95.map((v) => v / factor) as [number, number] } : {}),
    latency_ms: latency(x.latency_ms),
  }));
  return { ...r, records };
}

/** The same batches in another order within each round: a re-run that measured exactly the same, round by round. */
function reorderedWithinRounds(r: BenchResults): BenchResults {
  const records = r.records.map((x) => {
    const byRound = new Map<number, number[]>();
    x.times_ms.forEach((v, i) => byRound.set(x.rounds![i], [...(byRound.get(x.rounds![i]) ?? []), v]));
    return { ...x, times_ms: [...byRound.keys()].flatMap((id) => byRound.get(id)!.reverse()) };
  });
  return { ...r, records };
}

/**
 * A real levit bench run, then a slowdown injected into a copy of its file: no assertion rests on how
 * loaded this machine is. Every batch is made slower by twice the spread of the run's own rounds (at
 * least 2x, what a competing process on the same core did), so that every slow round lies beyond
 * twice every base round, whatever noise the run had: a regression on any machine.
 */
test('a genuine slowdown (injected into the file of a real run) fails compare; a re-run passes', (t) => {
  const dir = tempDir(t);
  const args = ['bench', 'levit_128s', '--threads', '1', '--batch', '4', '--duration', '1.5', '--max-duration', '3', '--warmup', '0.3', '--no-machine-check'];
  const baseFile = join(dir, 'base.json');
  const run = runCli([...args, '--out', baseFile], { LEVIT_CACHE_DIR: dir });
  assert.equal(run.status, 0, run.stderr);
  const base = readResults(baseFile);
  assert.equal(base.records.length, 1);
  const rounds = seriesOf(base.records[0]).values;
  assert.ok(rounds.length >= 10, `${rounds.length} rounds`);
  const factor = 2 * (Math.max(...rounds) / Math.min(...rounds));
  // Compare in the test's own cache: no history of this machine's other runs widens the verdict.
  const slow = runCli(['compare', baseFile, writeResults(dir, 'slow.json', slowedBy(base, factor))], { LEVIT_CACHE_DIR: dir });
  assert.equal(slow.status, 1, slow.stdout);
  assert.match(slow.stderr, /regressed: levit_128s ort-cpu 1t b4 224px fp32/);
  // A re-run: the file itself (identical timings), and the same batches in another order in each round.
  const same = runCli(['compare', baseFile, baseFile], { LEVIT_CACHE_DIR: dir });
  assert.equal(same.status, 0, same.stdout);
  const rerun = runCli(['compare', baseFile, writeResults(dir, 'rerun.json', reorderedWithinRounds(base)), '--json'], { LEVIT_CACHE_DIR: dir });
  assert.notEqual(rerun.status, 1, rerun.stdout); // unchanged (0), or inconclusive (6) where the run's rounds were noisy: never a regression
  const [c] = (JSON.parse(rerun.stdout) as CompareReport).comparisons;
  assert.notEqual(c.verdict, 'regressed');
  assert.equal(c.change, 0);
  t.diagnostic(`${rounds.length} rounds, slowed ${factor.toFixed(2)}x; re-run: ${c.verdict}${c.note ? ` (${c.note})` : ''}`);
});

test('noise is inconclusive, never a verdict; identical timings are unchanged however noisy', () => {
  // A third of the batches 40% slow, at positions no block length lines up with.
  const noisy = (median: number, seed: number) => samples(median, 30, seed).map((v, i) => v * (Math.sin(i * i * 0.7 + seed) > 0.45 ? 1.4 : 1));
  const base = results('m', 80, [rec('noisy', noisy(100, 1))]);
  const cur = results('m', 80, [rec('noisy', noisy(108, 3))]);
  const [v] = compareResults(base, cur, options).comparisons;
  assert.equal(v.verdict, 'inconclusive');
  assert.match(v.note!, /crosses the ±5\.0% threshold: too noisy/);
  const wild = results('m', 80, [
    rec(
      'noisy',
      samples(100, 30, 5).map((x, i) => x * (1 + (i % 5))),
    ),
  ]);
  const self = compareResults(wild, wild, options);
  assert.equal(self.comparisons[0].verdict, 'unchanged');
  assert.equal(self.comparisons[0].note, 'identical timings');
  assert.equal(compareExitCode(self), 0);
});

function writeResults(dir: string, name: string, r: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(r));
  return file;
}

test('result files are validated on read: the error names the field, exit 3; a missing file exits 4', (t) => {
  const dir = tempDir(t);
  const good = results('m', 80, [rec('levit_128s', samples(100, 30, 1))]);
  const ok = writeResults(dir, 'ok.json', good);
  const cases: [string, unknown, RegExp][] = [
    ['negative', { ...good, records: [rec('levit_128s', [10, -1, 12])] }, /records\[0\]\.times_ms\[1\] -1 is not a positive, finite time/],
    ['empty', { ...good, records: [rec('levit_128s', [])] }, /records\[0\]\.times_ms is missing or empty/],
    ['duplicate', { ...good, records: [rec('a', [10, 11]), rec('b', [10]), rec('a', [20, 21])] }, /records\[2\] repeats the configuration of records\[0\]/],
    [
      'machine check',
      { ...good, machine_check: { matmul_gflops_1thread: 1e-6 } },
      /machine_check\.matmul_gflops_1thread 0\.000001 is not a plausible machine check/,
    ],
    ['threads', { ...good, records: [rec('a', [10], { threads: 0 })] }, /records\[0\]\.threads 0 is not a positive integer/],
    [
      'spread',
      { ...good, records: [rec('a', [10], { between_runs: { runs: 3, speed: -1, matmul_share: null, speed_up: null } })] },
      /records\[0\]\.between_runs\.speed -1 is not null or a standard deviation/,
    ],
    ['schema', { ...good, schema: 'other/9' }, /schema is "other\/9", not one this levit reads/],
    ['machine', { ...good, system: {} }, /system\.id is missing/],
  ];
  for (const [name, content, message] of cases) {
    const r = runCli(['compare', ok, writeResults(dir, `${name}.json`, content), '--json']);
    assert.equal(r.status, 3, `${name}: ${r.stdout}`);
    assert.match(JSON.parse(r.stdout).error.message, message, name);
  }
  writeFileSync(join(dir, 'text.json'), 'hello');
  assert.equal(runCli(['compare', ok, join(dir, 'text.json')]).status, 3);
  const missing = runCli(['compare', ok, join(dir, 'nope.json'), '--json']);
  assert.equal(missing.status, 4);
  assert.match(JSON.parse(missing.stdout).error.message, /no such results file/);
  const auto = runCli(['compare', 'auto', ok], { LEVIT_RESULTS_DIR: join(dir, 'results') });
  assert.equal(auto.status, 4);
  assert.match(auto.stderr, /no baseline for machine 'm'[\s\S]*--save-baseline/);
});

/**
 * A schema-4 results object as an older levit wrote it: the machine check under its old names
 * (`calibration`, `calibration_rounds`), everything else as it is.
 */
function inOldSchema(r: BenchResults, schema: string): Record<string, unknown> {
  const { machine_check, machine_check_rounds, ...rest } = r;
  return { ...rest, schema, calibration: machine_check, ...(machine_check_rounds === undefined ? {} : { calibration_rounds: machine_check_rounds }) };
}

test('files of schema 1 and 2 are read (their busy flags dropped) and compared, never paired', (t) => {
  const dir = tempDir(t);
  const v1 = inOldSchema(results('m', 80, [rec('levit_128s', samples(100, 30, 1))]), 'levit-bench/1');
  const flagged = { gflops_before: 80, gflops_after: 40, unstable: 'the machine slowed down' };
  const v2 = {
    ...inOldSchema(results('m', 80, [{ ...rec('levit_128s', samples(100, 30, 2)), stability: flagged, stopped: 'precise' } as BenchRecord]), 'levit-bench/2'),
    calibration_after: { matmul_gflops_1thread: 41, matmul_size: 1024, seconds: 0.3 },
  };
  const [f1, f2] = [writeResults(dir, 'v1.json', v1), writeResults(dir, 'v2.json', v2)];
  const r = readResults(f2);
  assert.ok(!('stability' in r.records[0]) && !('calibration_after' in r));
  assert.deepEqual([r.schema, r.machine_check?.matmul_gflops_1thread, 'calibration' in r], [RESULTS_SCHEMA, 80, false], 'read as schema 4');
  assert.equal(r.records[0].rounds, undefined);
  assert.equal(runCli(['compare', f1, f1]).status, 0);
  const across = runCli(['compare', f1, f2, '--json', '--run-spread', '0']);
  assert.equal(across.status, 0, across.stdout);
  assert.equal(JSON.parse(across.stdout).comparisons[0].verdict, 'unchanged', 'the old busy flag no longer vetoes');
});

test('a schema-3 file (the machine check as calibration, calibration_rounds) reads, compares and reports as its schema-4 form', (t) => {
  const dir = tempDir(t);
  const n = 24;
  const rounds = Array.from({ length: n }, (_, i) => i);
  const inRounds = (model: string, median: number, seed: number) => rec(model, samples(median, n, seed), { rounds });
  const run = (id: string, gflops: number, shift: number): BenchResults => ({
    ...results(id, gflops, [inRounds('levit_128s', 100 * shift, 1), inRounds('efficientnet_b0', 150 * shift, 2)]),
    created: '2027-01-01T00:00:00Z',
    levit_version: '0.1.0',
    machine_check: { matmul_gflops_1thread: gflops, matmul_size: 1024, seconds: 1.2 },
    machine_check_rounds: { matmul_size: 1024, times_ms: samples(20, n, 3), rounds },
    schedule: {
      seed: 1,
      slice_seconds: 0.15,
      min_rounds: 15,
      rounds: n,
      groups: 1,
      memory_budget_bytes: 4e9,
      peak_rss_bytes: 5e8,
      seconds: 9,
      stopped: 'precise',
    },
  });
  const base = run('slow box', 40, 2);
  const current = writeResults(dir, 'current.json', run('fast box', 80, 1.05));
  // The same file name for both forms: levit report lists the files.
  const outputs = (content: unknown) => {
    const file = writeResults(dir, 'baseline.json', content);
    const cli = (args: string[]) => {
      const r = runCli(args);
      assert.ok(args[0] === 'compare' ? [0, 1, 6].includes(r.status!) : r.status === 0, `${args.join(' ')}: ${r.stderr}`);
      return [r.status, r.stdout];
    };
    return {
      read: readResults(file),
      summary: summarizeRun(readResults(file)),
      compare: [cli(['compare', file, current, '--json']), cli(['compare', file, current]), cli(['compare', file, current, '--markdown'])],
      report: [[], ['--markdown'], ['--json']].map((format) => cli(['report', file, current, ...format])),
    };
  };
  const [old, now] = [outputs(inOldSchema(base, 'levit-bench/3')), outputs(base)];
  assert.deepEqual(now.read, base);
  assert.deepEqual(old, now, 'one shape in memory, whichever schema the file has: the same comparisons and reports');
  assert.ok(
    old.summary!.configs.every((c) => c.share),
    "the machine check's rounds are read: every record has its share",
  );
  const report = JSON.parse(old.compare[0][1] as string) as CompareReport;
  assert.deepEqual([report.basis, report.machine_check_ratio], ['machine-check', 2], "two machines: put on one scale by their machine checks' ratio");
  assert.match((old.report[0][1] as string).replace(/\s+/g, ' '), /m1 = slow box \(machine check 40\.0 GFLOP\/s\)/);

  // A bad field of an older file is named as that file names it.
  const bad = writeResults(dir, 'bad.json', { ...inOldSchema(base, 'levit-bench/3'), calibration: { matmul_gflops_1thread: 1e-6 } });
  const refused = runCli(['compare', bad, current, '--json']);
  assert.equal(refused.status, 3);
  assert.match(JSON.parse(refused.stdout).error.message, /calibration\.matmul_gflops_1thread 0\.000001 is not a plausible machine check/);
  const badRounds = writeResults(dir, 'bad-rounds.json', { ...inOldSchema(base, 'levit-bench/3'), calibration_rounds: { matmul_size: 0 } });
  assert.match(JSON.parse(runCli(['compare', badRounds, current, '--json']).stdout).error.message, /calibration_rounds needs matmul_size/);
});

test('rounds are validated on read: one per batch, in order', (t) => {
  const dir = tempDir(t);
  const good = results('m', 80, [rec('levit_128s', [10, 11, 12], { rounds: [0, 1, 1] })]);
  assert.equal(readResults(writeResults(dir, 'ok.json', good)).records[0].rounds!.length, 3);
  for (const [rounds, message] of [
    [[0, 1], /records\[0\]\.rounds must list the round of each of the 3 timed batches/],
    [[0, 2, 1], /records\[0\]\.rounds\[2\] 1 is not a round id in order/],
    [[0, -1, 1], /records\[0\]\.rounds\[1\] -1 is not a round id in order/],
  ] as [number[], RegExp][]) {
    const file = writeResults(dir, 'bad.json', results('m', 80, [rec('levit_128s', [10, 11, 12], { rounds })]));
    assert.throws(() => readResults(file), message);
  }
});

test('compare exits 6 when some configuration is inconclusive and none regressed', (t) => {
  const dir = tempDir(t);
  const base = writeResults(dir, 'b.json', results('m', 80, [rec('levit_128s', samples(100, 4, 1))]));
  const cur = writeResults(dir, 'c.json', results('m', 80, [rec('levit_128s', samples(101, 4, 2))]));
  const r = runCli(['compare', base, cur]);
  assert.equal(r.status, 6, r.stdout);
  assert.match(r.stdout, /INCONCLUSIVE/);
  assert.match(r.stderr, /inconclusive: levit_128s .*too few rounds/);
});

test('--save-baseline refuses to shrink a baseline without --force', (t) => {
  const dir = tempDir(t);
  const saved = process.env.LEVIT_RESULTS_DIR;
  process.env.LEVIT_RESULTS_DIR = dir;
  t.after(() => (saved === undefined ? delete process.env.LEVIT_RESULTS_DIR : (process.env.LEVIT_RESULTS_DIR = saved)));
  const full = results('m', 80, [rec('levit_128s', samples(100, 12, 1)), rec('efficientnet_b3', samples(900, 12, 2))]);
  const path = saveBaseline(full);
  const one = results('m', 80, [rec('levit_128s', samples(100, 12, 3))]);
  assert.throws(() => saveBaseline(one), /has 1 configuration this run did not measure \(efficientnet_b3 ort-cpu 1t b16 224px fp32\)/);
  assert.equal(readResults(path).records.length, 2, 'the baseline is untouched');
  saveBaseline(one, true);
  assert.equal(readResults(path).records.length, 1);
});

test('a results file of a million batches a side is compared (its rounds binned); one too large to be real is refused', (t) => {
  const dir = tempDir(t);
  const n = 1_000_000;
  const huge = (seed: number) => results('m', 80, [rec('levit_128s', samples(100, n, seed), { rounds: Array.from({ length: n }, (_, i) => i) })]);
  const [a, b] = [writeResults(dir, 'a.json', huge(1)), writeResults(dir, 'b.json', huge(2))];
  // The work is bounded by binning the rounds (bench.test.ts checks it), not asserted as a time here.
  const r = runCli(['compare', a, b, '--json', '--run-spread', '0']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).comparisons[0].verdict, 'unchanged');
  const big = join(dir, 'big.json');
  writeFileSync(big, '');
  truncateSync(big, MAX_RESULTS_BYTES + 1);
  const refused = runCli(['compare', a, big]);
  assert.equal(refused.status, 3);
  assert.match(refused.stderr, /is 256 MiB, over the 256 MiB a results file may take: not read/);
});

test('two files are two runs: by default their interval includes how far runs drift apart on a shared host', (t) => {
  const base = results('m', 80, [rec('a', samples(100, 30, 1)), rec('b', samples(100, 30, 2)), rec('c', samples(100, 30, 3), { threads: 2 })]);
  const cur = results('m', 80, [rec('a', samples(103, 30, 4)), rec('b', samples(125, 30, 5)), rec('c', samples(200, 30, 6), { threads: 2 })]);
  const verdicts = (o: Partial<CompareOptions>) => compareResults(base, cur, { threshold: 0.1, alpha: 0.01, ...o }).comparisons.map((c) => c.verdict);
  assert.deepEqual(verdicts({ runSpread: 0 }), ['unchanged', 'regressed', 'regressed']);
  // A shared host moves a run's speed by ~10% (one thread) to ~16% (two): 3% and 25% cannot be told from that; 2x can.
  const shared = compareResults(base, cur, { threshold: 0.1, alpha: 0.01 });
  assert.deepEqual(
    shared.comparisons.map((c) => c.verdict),
    ['inconclusive', 'inconclusive', 'regressed'],
  );
  assert.equal(shared.run_spread, 'measured');
  assert.match(shared.comparisons[1].note!, /the drift between two runs included \(--run-spread\): to decide a change this small, compare live/);
  const [a] = shared.comparisons;
  const z = 2.576 * Math.SQRT2 * RERUN_SPREAD.speed.oneThread;
  assert.ok(a.change_interval![1] > Math.exp(z) * 1.03 - 1 - 0.02, JSON.stringify(a.change_interval));
  assert.equal(compareResults(base, base, { threshold: 0.1, alpha: 0.01 }).comparisons[0].verdict, 'unchanged', 'a file against itself');
  const dir = tempDir(t);
  const [fb, fc] = [writeResults(dir, 'b.json', base), writeResults(dir, 'c.json', cur)];
  const r = runCli(['compare', fb, fc]);
  assert.equal(r.status, 1);
  const footer = r.stdout.replace(/\s+/g, ' ');
  assert.match(
    footer,
    /intervals include how far two runs drift apart on a shared host \(sd as measured, stats\/rerun-spread\.ts: 9\.5% on one thread, 16% on more,/,
  );
  assert.match(footer, /or the machine's own from its earlier runs where larger; --run-spread 0 on a dedicated machine\)/);
  // A file whose records carry a larger spread of their machine (its history) gets it: never narrower, wider where the machine is noisier.
  const noisy = (r: BenchResults) => ({
    ...r,
    records: r.records.map((x) => ({ ...x, between_runs: { runs: 5, speed: 0.4, matmul_share: null, speed_up: null } })),
  });
  const wider = compareResults(base, noisy(cur), { threshold: 0.1, alpha: 0.01 });
  assert.deepEqual(
    wider.comparisons.map((c) => c.verdict),
    ['inconclusive', 'inconclusive', 'inconclusive'],
  );
  const quiet = (r: BenchResults) => ({
    ...r,
    records: r.records.map((x) => ({ ...x, between_runs: { runs: 5, speed: 0.001, matmul_share: null, speed_up: null } })),
  });
  assert.deepEqual(compareResults(quiet(base), quiet(cur), { threshold: 0.1, alpha: 0.01 }).comparisons, shared.comparisons, 'a quiet history: the constants');
  assert.equal(runCli(['compare', fb, fc, '--alpha', '0.02']).status, 1, 'any --alpha gets its normal quantile');
  const liveFlag = runCli(['compare', fb, fc, '--model', 'levit_128s', '--slice', '1']);
  assert.equal(liveFlag.status, 2);
  assert.match(liveFlag.stderr, /--model, --slice: for a live comparison; two results files are compared as they were measured/);
  const bad = runCli(['compare', fb, fc, '--run-spread', 'lots']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--run-spread: 'lots' is not a number or a percentage/);
});

test('a live comparison checks its models before starting any worker: a typo is a usage error (exit 2), not a failed run (exit 1)', () => {
  const r = runCli(['compare', '--self-test', '--model', 'levit_128z']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /levit_128z/);
  assert.doesNotMatch(r.stderr, /worker/);
});
