import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { rivalFamilies, speedUps } from '../src/stats/speedups.js';
import { renderMarkdown } from '../src/render/bench.js';
import { type Arm, runRounds } from '../src/bench/rounds.js';
import { type RoundSettings, roundOrder, sliceBatches, stopAfter } from '../src/bench/schedule.js';
import { MAX_UNITS, blockLength, medianInterval, medianOf, ratioInterval, seriesOf } from '../src/stats/paired-intervals.js';
import { getCard } from '../src/models/registry.js';
import { exportOnnx } from '../src/onnx/export.js';
import { onnxParameterCount, onnxSignature } from '../src/onnx/inspect.js';
import { prepareModel } from '../src/classifier/model.js';
import { baselineWarning } from '../src/results/baseline-warning.js';
import { renderPlot } from '../src/render/plot.js';
import { type BenchRecord, type BenchResults, RESULTS_SCHEMA } from '../src/results/types.js';
import { readResults } from '../src/results/read.js';
import { normalQuantile, quantile, sorted, spread, summarize } from '../src/stats/summary.js';
import { runCli, tempDir } from './helpers/shared.js';
import { RERUN_SPREAD, liveRerunSpread, rerunSpread, widened, zOf } from '../src/stats/rerun-spread.js';
import { packageRoot } from '../src/util/paths.js';
import { machineSlug } from '../src/results/store.js';

test('percentiles interpolate as NumPy does; spread is the relative IQR', () => {
  const xs = [10, 1, 4, 3, 2, 5, 6, 7, 8, 9];
  assert.equal(quantile(sorted(xs), 0.5), 5.5);
  assert.equal(quantile(sorted(xs), 0.9), 9.1);
  assert.deepEqual(summarize(xs), { mean: 5.5, median: 5.5, p90: 9.1, p99: 9.91, min: 1, max: 10 });
  const s = spread(xs);
  assert.equal(s.relative_iqr, (7.75 - 3.25) / 5.5);
  assert.ok(s.median_ci95[0] <= 5.5 && s.median_ci95[1] >= 5.5);
});

test('a round runs every configuration once, in a seeded order that changes from round to round', () => {
  const orders = Array.from({ length: 20 }, (_, r) => roundOrder(6, r, 1));
  for (const o of orders) assert.deepEqual([...o].sort(), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(
    orders,
    Array.from({ length: 20 }, (_, r) => roundOrder(6, r, 1)),
    'the same seed, the same order',
  );
  assert.ok(new Set(orders.map((o) => o.join())).size > 15, 'a fresh order every round');
  assert.ok(new Set(orders.map((o) => o[0])).size === 6, 'no configuration always goes first');
  assert.notDeepEqual(roundOrder(6, 0, 1), roundOrder(6, 0, 2));
  assert.equal(sliceBatches(40, 0.15), 4);
  assert.equal(sliceBatches(800, 0.15), 1, 'at least one batch');
});

const settings = (over: Partial<RoundSettings> = {}): RoundSettings => ({
  warmupSeconds: 0,
  sliceSeconds: 0,
  minRounds: 10,
  durationSeconds: 0,
  minIterations: 1,
  targetCi: 100,
  maxDurationSeconds: 60,
  maxIterations: 1e6,
  seed: 1,
  ...over,
});

/** An arm whose every batch "takes" the time `at` gives for the n-th batch overall, logging what ran when. */
function fakeArm(key: string, log: string[], at: (n: number) => number = () => 1): Arm {
  let n = 0;
  return {
    key,
    async slice(batches) {
      log.push(key);
      return Array.from({ length: batches }, () => at(n++));
    },
  };
}

test('runRounds interleaves the arms round by round and records the round of every batch', async () => {
  const log: string[] = [];
  const arms = ['a', 'b', 'c'].map((k) => fakeArm(k, log));
  const r = await runRounds(arms, settings({ minRounds: 12 }), {}, { firstRound: 100 });
  assert.equal(r.rounds, 12);
  assert.equal(r.stopped, 'precise');
  // After one warm-up batch each, every round holds each arm once.
  const timed = log.slice(3);
  for (let k = 0; k < 12; k++) assert.deepEqual([...timed.slice(3 * k, 3 * k + 3)].sort(), ['a', 'b', 'c']);
  assert.ok(new Set(Array.from({ length: 12 }, (_, k) => timed.slice(3 * k, 3 * k + 3).join())).size > 1, 'orders differ');
  for (const a of r.arms) {
    assert.equal(a.times_ms.length, a.rounds.length);
    assert.deepEqual(
      [...new Set(a.rounds)],
      Array.from({ length: 12 }, (_, k) => 100 + k),
    );
  }
});

test('runRounds stops at the time cap when precision is out of reach, drops a failing arm where asked, and stops on a signal', async () => {
  const noisy = (n: number) => (Math.sin(n * n * 0.37) > 0 ? 1 : 5);
  const capped = await runRounds([fakeArm('x', [], noisy), fakeArm('y', [], noisy)], settings({ targetCi: 1e-6, maxDurationSeconds: 0.05 }));
  assert.equal(capped.stopped, 'time-cap');
  assert.ok(capped.rounds >= 10);

  const failing: Arm = { key: 'oom', slice: async () => Promise.reject(new Error('out of memory\nat the device')) };
  const dropped: string[] = [];
  const kept = await runRounds([fakeArm('ok', []), failing], settings(), {}, { onError: (k, e) => dropped.push(`${k}: ${e.message}`) });
  assert.deepEqual(
    kept.arms.map((a) => a.key),
    ['ok'],
  );
  assert.deepEqual(dropped, ['oom: out of memory\nat the device']);
  await assert.rejects(runRounds([failing], settings()), /out of memory/);

  const controller = new AbortController();
  const stopped = await runRounds(
    [fakeArm('s', [])],
    settings({ minRounds: 1000 }),
    { round: (r) => r === 3 && controller.abort() },
    { signal: controller.signal },
  );
  assert.equal(stopped.stopped, 'interrupted');
  assert.equal(stopped.rounds, 3, 'the round in progress is finished, no further one started');
});

/** Batch times of two models whose speed ratio is fixed while the machine drifts by up to 50% between rounds. */
function drifting(rounds: number, seed: number) {
  let x = seed;
  const u = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const host = Array.from({ length: rounds }, (_, r) => 1 + 0.5 * (Math.sin(r / 3 + seed) > 0.3 ? 1 : 0) + 0.05 * u());
  const timed = (ms: number) => ({ times_ms: host.map((h) => ms * h * (1 + 0.01 * (u() - 0.5))), rounds: host.map((_, r) => r) });
  return { fast: timed(10), slow: timed(25) };
}

test('a paired interval divides the drift out; unpaired, the same timings give a much wider one', () => {
  const { fast, slow } = drifting(40, 3);
  const paired = ratioInterval(seriesOf(slow), seriesOf(fast), { confidence: 0.95, sameRun: true });
  const apart = ratioInterval(seriesOf(slow), seriesOf(fast), { confidence: 0.95, sameRun: false });
  assert.ok(paired.paired && !apart.paired);
  assert.ok(paired.low <= 2.5 && 2.5 <= paired.high, JSON.stringify(paired));
  assert.ok(paired.high - paired.low < 0.05, `paired width ${paired.high - paired.low}`);
  assert.ok(apart.high - apart.low > 5 * (paired.high - paired.low), `unpaired ${apart.low}..${apart.high}`);
  // Seeded: the same timings, the same interval.
  assert.deepEqual(paired, ratioInterval(seriesOf(slow), seriesOf(fast), { confidence: 0.95, sameRun: true }));
  // Series without rounds (files before schema 3) are never paired, even within one run.
  const old = ratioInterval(seriesOf({ times_ms: slow.times_ms }), seriesOf({ times_ms: fast.times_ms }), { confidence: 0.95, sameRun: true });
  assert.equal(old.paired, false);
});

test('intervals from resampling rounds cover the drift: a rerun of a drifting machine lands inside', () => {
  // The machine's slow spells last several rounds: resampling blocks of rounds sees them as such.
  let inside = 0;
  const runs = Array.from({ length: 30 }, (_, k) => medianInterval(seriesOf(drifting(40, 100 + k).fast), 0.95));
  for (let k = 1; k < runs.length; k++) if (runs[k].value >= runs[0].low && runs[k].value <= runs[0].high) inside++;
  assert.ok(inside >= 0.8 * (runs.length - 1), `${inside} of ${runs.length - 1} reruns inside the first interval`);
  assert.equal(blockLength(40), 3);
  assert.equal(blockLength(1), 1);
});

test('a very long series is binned, keeping the work bounded and the median', () => {
  const n = 1_000_000;
  const times = Array.from({ length: n }, (_, i) => 10 + (i % 7));
  const e = medianInterval(seriesOf({ times_ms: times }), 0.99);
  assert.ok(e.value === 13 && e.low <= 13 && e.high >= 13);
  // The work is bounded because the bootstrap resamples MAX_UNITS bins (medians of consecutive rounds),
  // not a million rounds: a drifting series' interval is exactly the one of its bins (checked, not timed).
  const drifting = times.map((x, i) => x + i * 1e-5);
  const size = Math.ceil(n / MAX_UNITS);
  const bins = Array.from({ length: Math.ceil(n / size) }, (_, k) => medianOf(drifting.slice(k * size, (k + 1) * size)));
  assert.equal(bins.length, MAX_UNITS);
  const [whole, ofBins] = [medianInterval(seriesOf({ times_ms: drifting }), 0.99), medianInterval(seriesOf({ times_ms: bins }), 0.99)];
  assert.deepEqual([whole.low, whole.high], [ofBins.low, ofBins.high]);
  assert.equal(whole.value, medianOf(drifting));
});

test('the stopping rule waits for the minimums, then stops when precise or at the cap', () => {
  const steady = { batches: 20, seconds: 5, series: seriesOf({ times_ms: Array(20).fill(10), rounds: Array.from({ length: 20 }, (_, i) => i) }) };
  const s = settings({ minRounds: 15, durationSeconds: 3, targetCi: 0.02, maxDurationSeconds: 10 });
  assert.equal(stopAfter(14, 5, [steady], s), null, 'not before min rounds');
  assert.equal(stopAfter(15, 5, [steady], s), 'precise');
  assert.equal(stopAfter(15, 5, [{ ...steady, seconds: 1 }], s), null, 'not before --duration');
  const wild = { ...steady, series: seriesOf({ times_ms: Array.from({ length: 20 }, (_, i) => (i % 2 ? 5 : 50)), rounds: steady.series.ids }) };
  assert.equal(stopAfter(15, 5, [wild], s), null);
  assert.equal(stopAfter(15, 10, [wild], s), 'time-cap');
  assert.equal(stopAfter(3, 10, [wild], s), null, 'never under the rounds an interval needs');
  assert.equal(stopAfter(1, 0, [{ ...steady, batches: 7 }], { ...s, maxIterations: 7 }), 'iteration-cap');
});

test("bench warns when this machine's check runs far below its baseline's", () => {
  const cal = (g: number) => ({ matmul_gflops_1thread: g, matmul_size: 1024, seconds: 0.3 });
  assert.equal(baselineWarning(cal(80), cal(85), 'b.json'), null);
  assert.match(baselineWarning(cal(29), cal(85), 'b.json')!, /this machine's check runs at 29\.0 GFLOP\/s, 66% below its baseline's 85\.0 \(b\.json\)/);
});

/** A record of `ips` images/s at batch 16 over 12 rounds of steady times. */
function record(model: string, family: string, top1: number, ips: number, threads = 1): BenchRecord {
  const ms = 16000 / ips;
  const rounds = Array.from({ length: 12 }, (_, i) => i);
  return {
    model,
    family,
    published_top1: top1,
    images_per_second: ips,
    backend: 'ort-cpu',
    threads,
    batch: 16,
    times_ms: rounds.map(() => ms),
    rounds,
  } as BenchRecord;
}

test('speed-ups compare each LeViT with the rival of the nearest published top-1 at or above its own, per configuration', () => {
  const records = [
    record('levit_128s', 'levit', 76.6, 120),
    record('levit_256', 'levit', 81.6, 36),
    record('efficientnet_b0', 'efficientnet', 77.7, 60),
    record('efficientnet_b3', 'efficientnet', 82.3, 12),
    record('levit_128s', 'levit', 76.6, 200, 2),
    record('efficientnet_b0', 'efficientnet', 77.7, 100, 2),
  ];
  const ups = speedUps(records, 'efficientnet');
  assert.deepEqual(
    ups.map((u) => [u.model, u.column, u.against, Number(u.speedup.toFixed(9))]),
    [
      ['levit_128s', 'ort-cpu 1t b16', 'efficientnet_b0', 2],
      ['levit_256', 'ort-cpu 1t b16', 'efficientnet_b3', 3],
      ['levit_128s', 'ort-cpu 2t b16', 'efficientnet_b0', 2],
    ],
  );
});

test('matched accuracy takes the nearest rival at or above, never a less accurate one, and none when all are below', () => {
  const records = [
    record('levit_192', 'levit', 80.0, 60),
    record('levit_384', 'levit', 82.6, 20),
    record('deit_tiny', 'deit', 79.9, 50),
    record('deit_small', 'deit', 81.2, 15),
    record('deit_small_dup', 'deit', 81.2, 16),
  ];
  assert.deepEqual(
    speedUps(records, 'deit').map((u) => [u.model, u.against, Number(u.speedup.toFixed(9))]),
    [['levit_192', 'deit_small_dup', Number((60 / 16).toFixed(9))]],
  );
});

test('the table has a speed-up column for every other family the run measured, unknown ones by their tag', () => {
  const records = [
    record('levit_128s', 'levit', 76.6, 120),
    record('mobilenet_x', 'mobilenet', 80.5, 40),
    record('deit_small', 'deit', 81.2, 15),
    record('resnet50', 'resnet', 80.4, 30),
  ].map((r) => {
    const shown = { precision: 'fp32', params: 1e6, flops: 1e8, spread: { relative_iqr: 0.02, median_ci95: [1, 1] }, weights_kind: 'synthetic' };
    return { ...r, ...shown } as BenchRecord;
  });
  assert.deepEqual(rivalFamilies(records), ['deit', 'mobilenet', 'resnet'], 'known families in FAMILIES order, then the rest by name');
  const results = { records, system: { id: 'm', cpu: { flags: [] } }, machine_check: null } as unknown as BenchResults;
  const head = renderMarkdown(results).split('\n')[0];
  assert.match(head, /\| vs DeiT \| vs mobilenet \| vs resnet \|$/);
  const svg = renderPlot({ ...results, records: records.map((r) => ({ ...r, images_per_second: r.images_per_second })) });
  for (const label of ['LeViT', 'DeiT', 'mobilenet', 'resnet']) {
    assert.match(svg, new RegExp(`<text [^>]*>${label}</text>`), `the plot's legend names ${label}`);
  }
  assert.match(
    renderMarkdown(results),
    // Identical batch times: the interval is the spread between runs alone (stats/rerun-spread.ts), ±11% on one thread.
    /\| levit_128s \|.*\| 8\.00× \[7\.18, 8\.91\] \(deit_small\) \| 3\.00× \[2\.69, 3\.34\] \(mobilenet_x\) \| 4\.00× \[3\.59, 4\.46\] \(resnet50\) \|/,
  );
});

test('a family with no model as accurate as a LeViT of the run gets no speed-up column, and the footer says why; emulated records keep theirs', () => {
  const shown = { precision: 'fp32', params: 1e6, flops: 1e8, spread: { relative_iqr: 0.02, median_ci95: [1, 1] }, weights_kind: 'synthetic' };
  const records = [record('levit_128s', 'levit', 76.6, 120), record('efficientnet_b0', 'efficientnet', 77.7, 60), record('deit_tiny', 'deit', 72.2, 30)].map(
    (r) => ({ ...r, ...shown }) as BenchRecord,
  );
  const results = { records, system: { id: 'm', cpu: { flags: [] } }, machine_check: null } as unknown as BenchResults;
  const md = renderMarkdown(results);
  assert.match(md.split('\n')[0], /\| vs EfficientNet \|$/);
  assert.match(md, /No vs DeiT column: no DeiT model of this run has a published top-1 at or above a LeViT's in a configuration both ran\./);
  // Emulated times give no ratio, but their models still match: the column stays (empty), with no such note.
  const emulated = { ...results, records: records.map((r) => ({ ...r, emulated: true })) } as BenchResults;
  const em = renderMarkdown(emulated);
  assert.match(em.split('\n')[0], /\| vs EfficientNet \|$/);
  assert.doesNotMatch(em, /No vs EfficientNet column/);
});

test('levit bench --json prints records with latency percentiles and the system fingerprint', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'results.json');
  const plot = join(dir, 'plot.svg');
  const args = [
    'bench',
    'levit_128s',
    'efficientnet_b0',
    '--backend',
    'ort-cpu',
    '--threads',
    '1',
    '--batch',
    '2',
    '--duration',
    '0.1',
    '--max-duration',
    '1',
    '--warmup',
    '0',
    '--min-rounds',
    '10',
  ];
  const cli = runCli([...args, '--json', '--out', out, '--plot', plot], { LEVIT_CACHE_DIR: dir });
  assert.equal(cli.status, 0, cli.stderr);
  const results = JSON.parse(cli.stdout) as BenchResults;
  assert.equal(results.schema, RESULTS_SCHEMA);
  assert.ok(results.system.cpu.cores > 0 && results.system.id.length > 0);
  assert.ok(results.machine_check!.matmul_gflops_1thread > 0); // a measured speed: only its sign is the same on any machine, however loaded
  assert.deepEqual(
    results.records.map((r) => [r.model, r.backend, r.threads, r.batch]),
    [
      ['levit_128s', 'ort-cpu', 1, 2],
      ['efficientnet_b0', 'ort-cpu', 1, 2],
    ],
  );
  for (const r of results.records) {
    assert.ok(r.images_per_second > 0);
    assert.ok(
      r.latency_ms.min <= r.latency_ms.median &&
        r.latency_ms.median <= r.latency_ms.p90 &&
        r.latency_ms.p90 <= r.latency_ms.p99 &&
        r.latency_ms.p99 <= r.latency_ms.max,
    );
    assert.equal(r.times_ms.length, r.iterations);
    assert.equal(r.rounds!.length, r.iterations);
    assert.equal(r.iterations, results.schedule!.rounds * r.slice_batches!, 'every round ran every configuration for its slice');
    assert.equal(r.weights_kind, 'synthetic');
    assert.equal(r.setup_seconds.artifact_cached, false);
    const [low, high] = r.images_per_second_ci95!;
    assert.ok(low <= r.images_per_second && r.images_per_second <= high);
    assert.ok(r.matmul_share!.value > 0 && r.matmul_share!.low <= r.matmul_share!.value);
    // No earlier run of this machine in this cache: the intervals are the rounds' own, and the table says reruns may move more.
    assert.deepEqual(r.between_runs, { runs: 0, speed: null, matmul_share: null, speed_up: null });
    const own = medianInterval(seriesOf(r), 0.95);
    assert.ok(Math.abs(low - (r.batch * 1000) / own.high) < 1e-9 && Math.abs(high - (r.batch * 1000) / own.low) < 1e-9, "the rounds' own interval");
  }
  assert.ok(results.schedule!.rounds >= 10 && ['precise', 'time-cap'].includes(results.schedule!.stopped));
  assert.equal(results.schedule!.groups, 1);
  assert.deepEqual([...new Set(results.machine_check_rounds!.rounds)], [...new Set(results.records[0].rounds)], 'the machine check is an arm of every round');
  assert.deepEqual(readResults(out).records.length, 2);
  const svg = readFileSync(plot, 'utf8');
  assert.match(svg, /^<svg[\s\S]*LeViT[\s\S]*EfficientNet[\s\S]*<\/svg>\n$/);
  // Every claim gets a check; this run (batch 2) can test none, and says why.
  const claims = (results as BenchResults & { claims: { claim: string; verdict: string; notes: string[] }[] }).claims;
  const b0 = claims.find((c) => c.claim === 'table3-cpu-levit_128s-vs-efficientnet_b0')!;
  assert.equal(b0.verdict, 'not measured');
  assert.match(b0.notes[0], process.arch === 'x64' ? /batch 16 and 1 thread on one backend; this run has ort-cpu 1t b2/ : /needs an x64 CPU/);
  assert.ok(claims.every((c) => c.verdict === 'not measured'));

  // A second run finds the artifacts in the cache, and says so.
  const again = JSON.parse(runCli([...args, '--json', '--no-machine-check'], { LEVIT_CACHE_DIR: dir }).stdout) as BenchResults;
  assert.ok(again.records.every((r) => r.setup_seconds.artifact_cached));
  assert.equal(again.machine_check, null);
  // Each completed run left its summary in levit's history of this machine; the second saw the first.
  const history = readFileSync(join(dir, 'bench-history', `${machineSlug(results.system)}.jsonl`), 'utf8')
    .trim()
    .split('\n');
  assert.equal(history.length, 2);
  assert.ok(
    again.records.every((r) => r.between_runs!.runs === 1 && r.between_runs!.speed === null),
    'one earlier run: the spread is not known yet',
  );
});

test('the table and Markdown say the weights are synthetic', (t) => {
  const dir = tempDir(t);
  const cli = runCli(['bench', 'levit_128s', '--threads', '1', '--batch', '1', '--duration', '0', '--warmup', '0', '--markdown', '--no-machine-check'], {
    LEVIT_CACHE_DIR: dir,
  });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /^\| model \| top-1 \| params \| FLOPs \| ort-cpu 1t b1 img\/s/m);
  assert.match(cli.stdout, /\| levit_128s \| 76\.6 \| 7\.8M \| 305M \|/);
  assert.match(cli.stdout, /Weights: synthetic \(untrained\)/);
});

test('bad bench arguments fail fast with usage errors', (t) => {
  const unknownBackend = runCli(['bench', 'levit_128s', '--backend', 'tpu']);
  assert.equal(unknownBackend.status, 2);
  assert.match(unknownBackend.stderr, /unknown backend tpu/);
  const badThreads = runCli(['bench', 'levit_128s', '--threads', 'many']);
  assert.equal(badThreads.status, 2);
  assert.match(badThreads.stderr, /--threads: cannot use 'many'/);
  const twoWithOnnx = runCli(['bench', 'levit_128s', 'levit_192', '--onnx', 'x.onnx']);
  assert.equal(twoWithOnnx.status, 2);
  const onnxAndCheckpoint = runCli(['bench', 'levit_128s', '--onnx', 'x.onnx', '--checkpoint', 'package.json']);
  assert.equal(onnxAndCheckpoint.status, 2);
  assert.match(onnxAndCheckpoint.stderr, /--onnx runs a file with its own weights: drop --checkpoint/, 'as in predict and eval');
  const oneCheckpointTwoModels = runCli(['bench', 'levit_128s', 'efficientnet_b0', '--checkpoint', 'package.json']);
  assert.equal(oneCheckpointTwoModels.status, 2);
  assert.match(oneCheckpointTwoModels.stderr, /--checkpoint is one model's weights: name exactly that model \(this run has 2\)/);
  // An external export is checked against the card it is timed as: a LeViT is not an EfficientNet.
  const levit = exportOnnx(prepareModel(getCard('levit_128s'), { kind: 'synthetic', seed: 0 }).graph);
  assert.ok(Math.abs(onnxParameterCount(levit) / 7_777_058 - 1) < 0.01);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'levit.onnx'), levit);
  const mislabelled = runCli(['bench', 'efficientnet_b0', '--onnx', join(dir, 'levit.onnx'), '--no-machine-check']);
  assert.equal(mislabelled.status, 3);
  assert.match(mislabelled.stderr, /has 7,8\d\d,\d\d\d parameters; efficientnet_b0 has 5,288,548: it is another model/);
  // ... nor a model of another resolution: its declared input says so before anything runs.
  assert.deepEqual(onnxSignature(levit), { inputs: [['batch', 3, 224, 224]], outputs: [['batch', 1000]] });
  const otherResolution = runCli(['bench', 'efficientnet_b2', '--onnx', join(dir, 'levit.onnx'), '--no-machine-check']);
  assert.equal(otherResolution.status, 3);
  assert.match(otherResolution.stderr, /takes \[batch, 3, 224, 224\]; efficientnet_b2 takes \[N, 3, 288, 288\]: it is another model/);
});

test('the plot refuses to draw nothing', () => {
  assert.throws(() => renderPlot({ records: [] } as unknown as BenchResults), /nothing to plot/);
});

test('configurations a backend cannot honour are skipped and said, never mislabelled', (t) => {
  const dir = tempDir(t);
  const r = runCli(
    ['bench', 'levit_128s', '--backend', 'tfjs-cpu', '--threads', '1,2', '--batch', '1', '--duration', '0', '--warmup', '0', '--no-machine-check', '--json'],
    { LEVIT_CACHE_DIR: dir },
  );
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(r.stdout) as BenchResults;
  assert.deepEqual(
    results.records.map((x) => [x.backend, x.threads]),
    [['tfjs-cpu', 1]],
  );
  assert.deepEqual(results.skipped, [{ model: 'levit_128s', backend: 'tfjs-cpu', threads: 2, reason: 'tfjs-cpu runs 1 thread here' }]);
  assert.match(r.stderr, /note: levit_128s tfjs-cpu 2 threads: skipped/);
});

test('output paths are checked before any work; a mistyped flag or a bad number is a usage error in the documented shape', (t) => {
  const dir = tempDir(t);
  const cache = join(dir, 'cache');
  const intoFolder = runCli(['bench', 'levit_128s', '--out', dir, '--json'], { LEVIT_CACHE_DIR: cache });
  assert.equal(intoFolder.status, 2);
  assert.match(JSON.parse(intoFolder.stdout).error.message, /--out .* is a folder; a file goes there/);
  writeFileSync(join(dir, 'a-file'), 'x');
  const plotInFile = runCli(['bench', 'levit_128s', '--plot', join(dir, 'a-file', 'nested', 'p.svg')], { LEVIT_CACHE_DIR: cache });
  assert.equal(plotInFile.status, 2, plotInFile.stderr);
  assert.match(plotInFile.stderr, /a-file is a file, not a folder/);
  assert.equal(existsSync(cache), false, 'refused before benchmarking: no model was built');
  const typo = runCli(['bench', 'levit_128s', '--thread', '1', '--json']);
  assert.equal(typo.status, 2);
  const error = JSON.parse(typo.stdout).error;
  assert.deepEqual(Object.keys(error).sort(), ['exitCode', 'hint', 'message', 'name']);
  assert.match(error.message, /Nonexistent flag: --thread/);
  assert.match(error.hint, /Did you mean --threads\?/);
  assert.ok(typo.stdout.length < 1000, 'no parser internals');
  for (const [args, message] of [
    [['bench', 'levit_128s', '--max-iterations', '0'], /--max-iterations: Expected an integer greater than or equal to 1/],
    [['bench', 'levit_128s', '--duration', '-1'], /--duration: '-1' is not a number of at least 0/],
    [['bench', 'levit_128s', '--warmup', 'soon'], /--warmup: 'soon' is not a number/],
    [['eval', 'levit_128s', dir, '--batch', '0'], /--batch: Expected an integer greater than or equal to 1/],
    [['eval', 'levit_128s', dir, '--limit', '-1'], /--limit/],
    [['predict', 'levit_128s', 'x.jpg', '--top', '1001'], /--top: Expected an integer less than or equal to 1000/],
    [['info', 'levit_12'], /unknown model levit_12: did you mean levit_128\?/],
  ] as [string[], RegExp][]) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('sessions that do not fit in memory together are measured in groups, each in its own rounds, and the output says so', (t) => {
  const dir = tempDir(t);
  const args = ['bench', 'levit_128s', 'levit_192', '--threads', '1', '--batch', '1', '--duration', '0', '--warmup', '0', '--max-duration', '0.2'];
  const r = runCli([...args, '--max-memory', '1', '--json'], { LEVIT_CACHE_DIR: dir });
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(r.stdout) as BenchResults;
  assert.equal(results.schedule!.groups, 2);
  assert.equal(results.schedule!.memory_budget_bytes, 2 ** 20);
  assert.deepEqual(
    results.records.map((x) => x.group),
    [1, 2],
  );
  const [a, b] = results.records.map((x) => new Set(x.rounds));
  assert.ok(![...a].some((id) => b.has(id)), 'two groups never share a round');
  assert.match(results.warnings!.join('\n'), /measured in 2 groups; speed-ups between groups are not paired/);
  assert.ok(results.schedule!.peak_rss_bytes > 0);
});

test('Ctrl-C during bench keeps the rounds finished so far: written to --out marked interrupted, printed, exit 130', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'cc.json');
  const args = [join(packageRoot, 'bin', 'run.js'), 'bench', 'levit_128s', '--threads', '1', '--batch', '1', '--warmup', '0', '--min-rounds', '100000'];
  // A progress line every round (LEVIT_PROGRESS_SECONDS=0): Ctrl-C once 10 rounds are done, however fast this machine is.
  const env = { ...process.env, LEVIT_CACHE_DIR: dir, LEVIT_PROGRESS_SECONDS: '0' };
  const child = spawn(process.execPath, [...args, '--duration', '1000', '--out', out, '--no-machine-check'], { env });
  let stderr = '';
  let stdout = '';
  let interrupted = false;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    if (/^round 10 \(/m.test(stderr) && !interrupted) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.ok(interrupted, stderr);
  assert.equal(code, 130, stderr);
  const results = readResults(out);
  assert.equal(results.interrupted, true);
  assert.equal(results.schedule!.stopped, 'interrupted');
  assert.ok(results.records[0].iterations >= 10, `${results.records[0].iterations} batches kept`);
  assert.match(stdout, /Interrupted: these records hold the rounds finished before Ctrl-C/);
  assert.match(stderr, /interrupted after \d+ rounds: what was measured is in/);
});

test('a speed-up between two configurations is widened by the spread measured between runs, in quadrature on each side', () => {
  const r = { value: 2, low: 1.9, high: 2.1, confidence: 0.95 };
  const w = widened(r, RERUN_SPREAD.speedUp.oneThread);
  const z = zOf(0.95) * RERUN_SPREAD.speedUp.oneThread;
  assert.ok(Math.abs(Math.log(2 / w.low) - Math.hypot(Math.log(2 / 1.9), z)) < 1e-12);
  assert.ok(Math.abs(Math.log(w.high / 2) - Math.hypot(Math.log(2.1 / 2), z)) < 1e-12);
  assert.equal(w.value, 2);
  assert.ok(Math.abs(widened(r, 0).low - r.low) < 1e-12 && Math.abs(widened(r, 0).high - r.high) < 1e-12);
  assert.ok(rerunSpread('speedUp', 2) > rerunSpread('speedUp', 1) && rerunSpread('speed', 1) > rerunSpread('speedUp', 1));
  assert.ok(Math.abs(zOf(0.95) - 1.959963984540054) < 1e-8 && Math.abs(zOf(0.99) - 2.5758293035489) < 1e-8 && Math.abs(zOf(0.98) - 2.326347874040841) < 1e-8);
  assert.ok(Math.abs(normalQuantile(1e-6) + 4.753424308822899) < 1e-7 && Math.abs(normalQuantile(0.5)) < 1e-12);
});

test("a live comparison's between-run spread grows with the size of the change: none for identical code, bench's from 1.75x on", () => {
  assert.equal(liveRerunSpread(1, 1), 0);
  assert.equal(liveRerunSpread(1.75, 1), RERUN_SPREAD.speedUp.oneThread);
  assert.equal(liveRerunSpread(3, 1), RERUN_SPREAD.speedUp.oneThread);
  assert.equal(liveRerunSpread(1 / 3, 2), RERUN_SPREAD.speedUp.multiThread, 'a speed-up and a slowdown alike');
  assert.ok(Math.abs(liveRerunSpread(1.1, 1) - (RERUN_SPREAD.speedUp.oneThread * Math.log(1.1)) / Math.log(1.75)) < 1e-12);
  // The gate's scale: a real 10% slowdown measured to ±1.5% stays clear of the 5% threshold.
  const tenPercent = { value: 1.1, low: 1.1 / 1.015, high: 1.1 * 1.015, confidence: 0.99 };
  const w = widened(tenPercent, liveRerunSpread(1.1, 1));
  assert.ok(w.low > 1.065 && w.high < 1.14, JSON.stringify(w));
});
