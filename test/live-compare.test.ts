import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { compareLive, type LiveOptions, sideOf } from '../src/compare/live.js';
import { selfTestLine } from '../src/render/compare.js';
import { sharedCores } from '../src/compare/affinity.js';
import { allowedCpus } from '../src/util/cpus.js';
import type { RoundSettings } from '../src/bench/schedule.js';
import { floatTensor } from '../src/core/tensor.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { exportOnnx } from '../src/onnx/export.js';
import { packageRoot } from '../src/util/paths.js';
import { runCli, tempDir } from './helpers/shared.js';

/**
 * A stand-in checkout whose worker reports simulated batch times for `work` units, with a seeded noise
 * and outliers (test/fixtures/spinning-checkout): the same on any machine, however loaded. Each
 * checkout's seed comes from its name, so that two sides never report the same times.
 */
function spinningCheckout(dir: string, name: string, settings: { work: number; protocol?: number; dieAfter?: number }): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(join(packageRoot, 'test', 'fixtures', 'spinning-checkout', 'bin', 'run.js'), join(root, 'bin', 'run.js'));
  const seed = [...name].reduce((h, ch) => (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0, 7);
  writeFileSync(join(root, 'spin.json'), JSON.stringify({ seed, ...settings }));
  return root;
}

/**
 * Deterministic rounds: one warm-up batch (no warm-up time to fill), and no time cap within reach, so
 * that the rounds stop on the precision of the simulated times alone, never on this machine's clock.
 */
const rounds: RoundSettings = {
  warmupSeconds: 0,
  sliceSeconds: 0.01,
  minRounds: 12,
  durationSeconds: 0,
  minIterations: 1,
  targetCi: 0.01,
  maxDurationSeconds: 120,
  maxIterations: 1e6,
  seed: 1,
};
const options: LiveOptions = { models: ['m'], backends: ['ort-cpu'], threads: [1], batches: [1], rounds, threshold: 0.1, alpha: 0.01 };

test('a live comparison interleaves two checkouts: identical ones pass the A/A self-test, a slower one regresses, a faster one improves', async (t) => {
  const dir = tempDir(t);
  const base = sideOf(spinningCheckout(dir, 'base', { work: 800_000 }), 'baseline');
  const live = async (name: string, work: number) => {
    const r = await compareLive(base, sideOf(spinningCheckout(dir, name, { work }), 'current'), options);
    const [c] = r.comparisons;
    t.diagnostic(`${name}: ${c.verdict}, change ${c.change!.toFixed(3)}, interval ${c.change_interval!.map((x) => x.toFixed(3))}, ${r.rounds} rounds`);
    assert.equal(r.stopped, 'precise', 'the rounds stop on the simulated times, not on the clock');
    return r;
  };
  const same = await live('same', 800_000);
  assert.equal(same.basis, 'interleaved');
  if (process.platform === 'linux') assert.match(same.cores, /both workers pinned to CPU/);
  assert.ok(same.rounds >= 12);
  const [c] = same.comparisons;
  assert.ok(c.change_interval![0] <= 0 && c.change_interval![1] >= 0, `A/A interval ${c.change_interval}`);
  assert.equal(c.verdict, 'unchanged');
  assert.equal(selfTestLine(same).ok, true);

  const slower = await live('slow', 1_040_000);
  assert.equal(slower.comparisons[0].verdict, 'regressed', JSON.stringify(slower.comparisons[0]));
  assert.ok(Math.abs(slower.comparisons[0].change! - 0.3) < 0.02);
  const faster = await live('fast', 400_000);
  assert.equal(faster.comparisons[0].verdict, 'improved');
  assert.ok(Math.abs(faster.comparisons[0].change! + 0.5) < 0.02);
  assert.equal(selfTestLine(faster).ok, false, 'an A/A test whose sides differ fails');
  // 10% slower against a 10% threshold: never called unchanged; its interval straddles the threshold.
  const tenth = await live('tenth', 880_000);
  assert.equal(tenth.comparisons[0].verdict, 'inconclusive');
});

test('a live comparison says what went wrong with a side: not a checkout, another protocol, a worker that dies, a model it lacks', async (t) => {
  const dir = tempDir(t);
  const good = sideOf(spinningCheckout(dir, 'good', { work: 400_000 }), 'baseline');
  await assert.rejects(compareLive(good, sideOf(dir, 'current'), options), /is not a levit checkout \(no bin\/run\.js\)/);
  await assert.rejects(
    compareLive(good, sideOf(spinningCheckout(dir, 'old', { work: 400_000, protocol: 0 }), 'current'), options),
    /speaks worker protocol 0, this one 1/,
  );
  await assert.rejects(compareLive(good, sideOf(spinningCheckout(dir, 'dies', { work: 400_000, dieAfter: 3 }), 'current'), options), /worker exited/);
  await assert.rejects(
    compareLive(good, sideOf(spinningCheckout(dir, 'lacks', { work: 400_000 }), 'current'), { ...options, models: ['nonexistent'] }),
    /baseline \(.*good\): nonexistent ort-cpu 1t b1: unknown model nonexistent/,
  );
  assert.throws(() => sideOf(join(dir, 'nowhere'), 'current'), /no such checkout or ONNX file/);
});

test('the bench worker answers the protocol: hello, load, run, errors as messages, quit', async (t) => {
  const dir = tempDir(t);
  const child = spawn(process.execPath, [join(packageRoot, 'bin', 'run.js'), 'bench-worker'], { env: { ...process.env, LEVIT_CACHE_DIR: dir } });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const ask = async (o: object | string) => {
    child.stdin.write(`${typeof o === 'string' ? o : JSON.stringify(o)}\n`);
    return JSON.parse((await lines.next()).value as string);
  };
  assert.deepEqual(await ask({ op: 'hello' }), { ok: true, protocol: 1, levit_version: '0.1.0', node: process.version });
  const loaded = await ask({ op: 'load', id: 'a', model: 'levit_128s', backend: 'ort-cpu', threads: 1, batch: 1 });
  assert.deepEqual(loaded, { ok: true, label: 'levit_128s ort-cpu fp32 1 thread batch 1', weights: 'synthetic-s0' });
  const ran = await ask({ op: 'run', id: 'a', batches: 3 });
  assert.equal(ran.times_ms.length, 3);
  assert.ok(ran.times_ms.every((x: number) => x > 0));
  assert.deepEqual(await ask({ op: 'run', id: 'b', batches: 1 }), { ok: false, error: "no configuration 'b' is loaded" });
  assert.deepEqual(await ask('{not json'), { ok: false, error: 'not a JSON line' });
  assert.match((await ask({ op: 'load', id: 'c', model: 'levit_12', backend: 'ort-cpu', threads: 1, batch: 1 })).error, /unknown model levit_12/);
  const exited = new Promise((r) => child.once('exit', r));
  child.stdin.write('{"op":"quit"}\n');
  assert.equal(await exited, 0);
});

/** A model of LeViT-128S's input, output and parameter count that runs its one linear layer `repeats` times (on copies of its input). */
function linearModel(repeats: number): Uint8Array {
  const b = new GraphBuilder(`linear-x${repeats}`);
  const x = b.slice(b.reshape(b.input('x', [1, 3, 224, 224]), [1, 3 * 224 * 224]), 1, 0, 7680);
  const w = b.initializer('w', floatTensor([1000, 7680], new Float32Array(1000 * 7680).fill(1e-4)), 'param');
  const copies = repeats > 1 ? b.concat(Array(repeats).fill(x), 0) : x;
  b.output(b.mean(b.linear(copies, w), [0], true));
  return exportOnnx(b.graph);
}

test('levit compare A.onnx B.onnx times two files live as the model named: a graph doing more work regresses', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.onnx'), linearModel(1));
  writeFileSync(join(dir, 'b.onnx'), linearModel(8));
  const quick = ['--batch', '1', '--warmup', '0.1', '--duration', '0.1', '--max-duration', '0.5', '--min-rounds', '12', '--slice', '0.02'];
  const r = runCli(['compare', join(dir, 'a.onnx'), join(dir, 'b.onnx'), '--model', 'levit_128s', ...quick, '--json'], { LEVIT_CACHE_DIR: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.basis, 'interleaved');
  assert.equal(report.comparisons[0].verdict, 'regressed');
  assert.ok(report.comparisons[0].change > 0.3, String(report.comparisons[0].change));
  const two = runCli(['compare', join(dir, 'a.onnx'), join(dir, 'b.onnx'), '--model', 'levit_128s,levit_192']);
  assert.equal(two.status, 2);
  assert.match(two.stderr, /an ONNX file is timed as one model/);
  const mixed = runCli(['compare', join(dir, 'a.onnx'), join(dir, 'results.json')]);
  assert.equal(mixed.status, 2);
  assert.match(mixed.stderr, /both must be results files, or both levit checkouts \/ \.onnx files/);
  const selfWithArgs = runCli(['compare', '--self-test', join(dir, 'a.onnx')]);
  assert.equal(selfWithArgs.status, 2);
});

test('both workers are pinned to the same cores where taskset exists: the first the process may use', () => {
  assert.deepEqual(
    allowedCpus(() => 'Name:\tnode\nCpus_allowed_list:\t0-3,8,10-11\n'),
    [0, 1, 2, 3, 8, 10, 11],
  );
  assert.equal(
    allowedCpus(() => {
      throw new Error('no /proc');
    }),
    null,
  );
  assert.deepEqual(sharedCores(1, [2, 3], true), { prefix: ['taskset', '-c', '2'], description: 'both workers pinned to CPU 2', pinned: true });
  assert.deepEqual(sharedCores(2, [2, 3], true).prefix, ['taskset', '-c', '2,3']);
  const unpinned = sharedCores(1, [0], false);
  assert.equal(unpinned.pinned, false);
  assert.deepEqual(unpinned.prefix, []);
  assert.match(unpinned.description, /not pinned/);
});
