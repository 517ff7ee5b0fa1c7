import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { rivalFamilies, speedUps } from '../src/bench/speedups.js';
import { renderMarkdown } from '../src/render/bench.js';
import { measure, medianPrecision } from '../src/bench/measure.js';
import { getCard } from '../src/models/registry.js';
import { exportOnnx } from '../src/onnx/export.js';
import { onnxParameterCount, onnxSignature } from '../src/onnx/inspect.js';
import { prepareModel } from '../src/classifier/model.js';
import { baselineWarning, judgeStability } from '../src/bench/stability.js';
import { renderPlot } from '../src/render/plot.js';
import { type BenchRecord, type BenchResults, RESULTS_SCHEMA } from '../src/bench/results.js';
import { readResults } from '../src/bench/validate.js';
import { quantile, sorted, spread, summarize } from '../src/bench/stats.js';
import { runCli, tempDir } from './helpers/shared.js';

test('percentiles interpolate as NumPy does; spread is the relative IQR', () => {
  const xs = [10, 1, 4, 3, 2, 5, 6, 7, 8, 9];
  assert.equal(quantile(sorted(xs), 0.5), 5.5);
  assert.equal(quantile(sorted(xs), 0.9), 9.1);
  assert.deepEqual(summarize(xs), { mean: 5.5, median: 5.5, p90: 9.1, p99: 9.91, min: 1, max: 10 });
  const s = spread(xs);
  assert.equal(s.relative_iqr, (7.75 - 3.25) / 5.5);
  assert.ok(s.median_ci95[0] <= 5.5 && s.median_ci95[1] >= 5.5);
});

test('measure warms up at least once and honours min and max iterations', async () => {
  let calls = 0;
  const call = async () => {
    calls++;
  };
  const m = await measure(call, { warmupSeconds: 0, durationSeconds: 0, maxDurationSeconds: 60, targetCi: 1, minIterations: 7, maxIterations: 100 });
  assert.equal(m.warmupIterations, 1);
  assert.equal(m.times.length, 7);
  assert.equal(calls, 8);
  const capped = await measure(call, { warmupSeconds: 0, durationSeconds: 60, maxDurationSeconds: 60, targetCi: 1, minIterations: 1, maxIterations: 12 });
  assert.equal(capped.times.length, 12);
  assert.equal(capped.stopped, 'iteration-cap');
  assert.ok(capped.peakRssBytes > 0);
});

test('measure goes on past the minimum until the median is precise enough, or the time cap', async () => {
  // Calls that alternate 1 ms and 6 ms: the median's interval stays wide until many samples pin it.
  let i = 0;
  const jittery = () => new Promise((r) => setTimeout(r, i++ % 2 ? 6 : 1));
  const capped = await measure(jittery, {
    warmupSeconds: 0,
    durationSeconds: 0,
    maxDurationSeconds: 0.3,
    targetCi: 0.001,
    minIterations: 3,
    maxIterations: 1e6,
  });
  assert.equal(capped.stopped, 'time-cap');
  assert.ok(capped.times.length > 3);
  // Any precision will do: timing stops at the minimum, and says it stopped because precise.
  const precise = await measure(async () => {}, {
    warmupSeconds: 0,
    durationSeconds: 0,
    maxDurationSeconds: 30,
    targetCi: 100,
    minIterations: 10,
    maxIterations: 1e6,
  });
  assert.equal(precise.stopped, 'precise');
  assert.equal(precise.times.length, 10);
  assert.ok(medianPrecision(capped.times) > 0.001);
});

test('a record is flagged when the calibrations around it disagree or fall far below the run start; bench warns against the baseline', () => {
  const cal = (g: number) => ({ matmul_gflops_1thread: g, matmul_size: 1024, seconds: 0.3 });
  assert.equal(judgeStability(cal(80), cal(84), cal(82)).unstable, null);
  assert.match(judgeStability(cal(80), cal(50), cal(82)).unstable!, /moved from 80\.0 to 50\.0 GFLOP\/s/);
  assert.match(judgeStability(cal(40), cal(41), cal(82)).unstable!, /ran at 40\.0 GFLOP\/s against 82\.0 at the start/);
  assert.equal(baselineWarning(cal(80), cal(85), 'b.json'), null);
  assert.match(baselineWarning(cal(29), cal(85), 'b.json')!, /calibrates at 29\.0 GFLOP\/s, 66% below its baseline's 85\.0 \(b\.json\)/);
});

function record(model: string, family: string, top1: number, ips: number, threads = 1): BenchRecord {
  return { model, family, published_top1: top1, images_per_second: ips, backend: 'ort-cpu', threads, batch: 16 } as BenchRecord;
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
    ups.map((u) => [u.model, u.column, u.against, u.speedup]),
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
    speedUps(records, 'deit').map((u) => [u.model, u.against, u.speedup]),
    [['levit_192', 'deit_small_dup', 60 / 16]],
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
  const results = { records, system: { id: 'm', cpu: { flags: [] } }, calibration: null } as unknown as BenchResults;
  const head = renderMarkdown(results).split('\n')[0];
  assert.match(head, /\| vs DeiT \| vs mobilenet \| vs resnet \|$/);
  const svg = renderPlot({ ...results, records: records.map((r) => ({ ...r, images_per_second: r.images_per_second })) });
  for (const label of ['LeViT', 'DeiT', 'mobilenet', 'resnet']) {
    assert.match(svg, new RegExp(`<text [^>]*>${label}</text>`), `the plot's legend names ${label}`);
  }
  assert.match(renderMarkdown(results), /\| levit_128s \|.*\| 8\.0× \(deit_small\) \| 3\.0× \(mobilenet_x\) \| 4\.0× \(resnet50\) \|/);
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
    '0.2',
    '--max-duration',
    '1',
    '--warmup',
    '0',
    '--min-iterations',
    '3',
  ];
  const cli = runCli([...args, '--json', '--out', out, '--plot', plot], { LEVIT_CACHE_DIR: dir });
  assert.equal(cli.status, 0, cli.stderr);
  const results = JSON.parse(cli.stdout) as BenchResults;
  assert.equal(results.schema, RESULTS_SCHEMA);
  assert.ok(results.system.cpu.cores > 0 && results.system.id.length > 0);
  assert.ok(results.calibration!.matmul_gflops_1thread > 1);
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
    assert.ok(r.iterations >= 3);
    assert.equal(r.weights_kind, 'synthetic');
    assert.equal(r.setup_seconds.artifact_cached, false);
    assert.ok(Math.abs(r.images_per_second - (2 * 1000) / r.latency_ms.median) < 1e-9);
    assert.ok(r.stability!.gflops_before > 1 && r.stability!.gflops_after > 1);
    assert.ok(['precise', 'time-cap'].includes(r.stopped!));
  }
  assert.equal(results.calibration_after!.matmul_gflops_1thread, results.records[1].stability!.gflops_after);
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
  assert.equal(again.calibration, null);
});

test('the table and Markdown say the weights are synthetic', (t) => {
  const dir = tempDir(t);
  const cli = runCli(
    ['bench', 'levit_128s', '--threads', '1', '--batch', '1', '--duration', '0', '--warmup', '0', '--min-iterations', '2', '--markdown', '--no-machine-check'],
    { LEVIT_CACHE_DIR: dir },
  );
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
    [
      'bench',
      'levit_128s',
      '--backend',
      'tfjs-cpu',
      '--threads',
      '1,2',
      '--batch',
      '1',
      '--duration',
      '0',
      '--warmup',
      '0',
      '--min-iterations',
      '1',
      '--no-machine-check',
      '--json',
    ],
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
  const started = Date.now();
  const intoFolder = runCli(['bench', 'levit_128s', '--out', dir, '--json']);
  assert.equal(intoFolder.status, 2);
  assert.match(JSON.parse(intoFolder.stdout).error.message, /--out .* is a folder; a file goes there/);
  writeFileSync(join(dir, 'a-file'), 'x');
  const plotInFile = runCli(['bench', 'levit_128s', '--plot', join(dir, 'a-file', 'nested', 'p.svg')]);
  assert.equal(plotInFile.status, 2, plotInFile.stderr);
  assert.match(plotInFile.stderr, /a-file is a file, not a folder/);
  assert.ok(Date.now() - started < 20_000, 'refused before benchmarking');
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
