import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchRecord, BenchResults } from '../src/bench/results.js';
import { RESULTS_SCHEMA } from '../src/bench/results.js';
import { compareResults, parseThreshold } from '../src/compare/compare.js';
import { mannWhitney, normalCdf } from '../src/compare/mann-whitney.js';
import { mergeResults } from '../src/bench/merge-machines.js';
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
    model, family: 'levit', backend: 'ort-cpu', threads: 1, batch: 16, resolution: 224, precision: 'fp32', params: 7_777_058, flops: 305_108_946,
    times_ms: times, images_per_second: 16000 / median, spread: { relative_iqr: 0.01, median_ci95: [median, median] }, ...over,
  } as BenchRecord;
}

function results(id: string, gflops: number | null, records: BenchRecord[]): BenchResults {
  return {
    schema: RESULTS_SCHEMA,
    system: { id, os: { arch: 'x64' } },
    calibration: gflops ? { matmul_gflops_1thread: gflops } : null,
    records,
  } as BenchResults;
}

const options = { threshold: 0.05, alpha: 0.01 };

test('Mann-Whitney U matches the textbook values', () => {
  const r = mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
  assert.equal(r.u, 0);
  assert.ok(Math.abs(r.p - 0.0122) < 5e-4, `p = ${r.p}`); // scipy: asymptotic, continuity-corrected
  assert.equal(mannWhitney([1, 1, 1], [1, 1, 1]).p, 1);
  assert.ok(Math.abs(normalCdf(1.96) - 0.975) < 1e-4);
  assert.ok(mannWhitney(samples(100, 40, 1), samples(100, 40, 2)).p > 0.01);
  assert.ok(mannWhitney(samples(100, 40, 1), samples(110, 40, 2)).p < 1e-6);
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
  ]);
  const cur = results('m', 80, [
    rec('slow', samples(120, 30, 5)),
    rec('small', samples(103, 30, 6)),
    rec('fast', samples(80, 30, 7)),
    rec('few', samples(130, 3, 8)),
  ]);
  const verdicts = Object.fromEntries(compareResults(base, cur, options).comparisons.map((c) => [c.model, c]));
  assert.equal(verdicts.slow.verdict, 'regressed');
  assert.ok(Math.abs(verdicts.slow.change! - 0.2) < 0.01);
  assert.equal(verdicts.small.verdict, 'unchanged'); // significant, but under 5%
  assert.equal(verdicts.fast.verdict, 'improved');
  assert.equal(verdicts.few.verdict, 'unchanged'); // 30% slower, but 3 samples cannot show it
  assert.match(verdicts.few.note!, /not significant/);
});

test('on different machines the calibration ratio is applied before comparing', () => {
  // The current machine is twice as fast at MatMul and runs the model twice as fast: no change.
  const base = results('slow machine', 80, [rec('a', samples(100, 30, 1))]);
  const same = results('fast machine', 160, [rec('a', samples(50, 30, 2))]);
  const r = compareResults(base, same, options);
  assert.equal(r.same_machine, false);
  assert.equal(r.normalisation, 2);
  assert.equal(r.comparisons[0].verdict, 'unchanged');
  // Twice as fast at MatMul but only as fast on the model: the code got slower.
  const worse = compareResults(base, results('fast machine', 160, [rec('a', samples(100, 30, 3))]), options);
  assert.equal(worse.comparisons[0].verdict, 'regressed');
  // Without calibration the raw times are compared, and the report says it cannot normalise.
  assert.equal(compareResults(base, results('other', null, [rec('a', samples(100, 30, 4))]), options).normalisation, null);
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
  const r = runCli(['compare', base, cur, '--markdown']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /### levit compare: :x: 1 regression/);
  assert.match(r.stderr, /regressed: levit_128s ort-cpu 1t b16 224px fp32 \(30\.\d% slower/);
  assert.equal(runCli(['compare', base, base]).status, 0);
  const bad = runCli(['compare', base, join(dir, 'nope.json')]);
  assert.equal(bad.status, 3);
});

test('levit report merges machines into one table', (t) => {
  const a = results('x64 box', 80, [rec('levit_128s', samples(100, 5, 1), { published_top1: 76.6 })]);
  const b = results('arm box', 40, [rec('levit_128s', samples(200, 5, 2), { published_top1: 76.6 })]);
  const merged = mergeResults([{ file: 'a', results: a }, { file: 'b', results: b }]);
  assert.deepEqual(merged.machines.map((m) => [m.label, m.id]), [['m1', 'x64 box'], ['m2', 'arm box']]);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.json'), JSON.stringify({ ...a, system: { ...a.system, cpu: { flags: [] } } }));
  writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...b, system: { ...b.system, cpu: { flags: [] } } }));
  const r = runCli(['report', join(dir, 'a.json'), join(dir, 'b.json'), '--plot', join(dir, 'p.svg')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /m1 ort-cpu 1t b16/);
  assert.match(r.stdout, /m2 ort-cpu 1t b16/);
  assert.match(r.stdout, /m1 = x64 box \(calibration 80\.0 GFLOP\/s\); m2 = arm box/);
});

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

const needsTaskset = { skip: !hasTaskset && 'taskset is not available' };

test('a genuine slowdown (a competing process on the same core) fails compare; a re-run passes', needsTaskset, async (t) => {
  const dir = tempDir(t);
  const bench = (out: string) =>
    runCli(['bench', 'levit_128s', '--threads', '1', '--batch', '4', '--duration', '1.5', '--warmup', '0.3', '--no-calibration', '--out', out], {
      LEVIT_CACHE_DIR: dir,
    });
  // Every run pinned to core 0 (the test process's children inherit the affinity).
  spawnSync('taskset', ['-cp', '0', String(process.pid)]);
  t.after(() => spawnSync('taskset', ['-cp', '0-1023', String(process.pid)]));
  for (const name of ['warm', 'base', 'rerun']) assert.equal(bench(join(dir, `${name}.json`)).status, 0);
  const hog = spawn(process.execPath, ['-e', 'for(;;){}']);
  try {
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(bench(join(dir, 'slow.json')).status, 0);
  } finally {
    hog.kill();
  }
  const rerun = runCli(['compare', join(dir, 'base.json'), join(dir, 'rerun.json')]);
  assert.equal(rerun.status, 0, rerun.stdout);
  const slow = runCli(['compare', join(dir, 'base.json'), join(dir, 'slow.json')]);
  assert.equal(slow.status, 1, slow.stdout);
  assert.match(slow.stderr, /regressed: levit_128s ort-cpu 1t b4 224px fp32/);
});
