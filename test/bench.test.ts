import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { speedUps } from '../src/bench/speedups.js';
import { measure } from '../src/bench/measure.js';
import { renderPlot } from '../src/render/plot.js';
import { type BenchRecord, type BenchResults, RESULTS_SCHEMA, readResults } from '../src/bench/results.js';
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
  const m = await measure(call, { warmupSeconds: 0, durationSeconds: 0, minIterations: 7, maxIterations: 100 });
  assert.equal(m.warmupIterations, 1);
  assert.equal(m.times.length, 7);
  assert.equal(calls, 8);
  const capped = await measure(call, { warmupSeconds: 0, durationSeconds: 60, minIterations: 1, maxIterations: 12 });
  assert.equal(capped.times.length, 12);
  assert.ok(capped.peakRssBytes > 0);
});

function record(model: string, family: string, top1: number, ips: number, threads = 1): BenchRecord {
  return { model, family, published_top1: top1, images_per_second: ips, backend: 'ort-cpu', threads, batch: 16 } as BenchRecord;
}

test('speed-ups compare each LeViT with the rival of the closest published top-1, per configuration', () => {
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
  assert.deepEqual(results.records.map((r) => [r.model, r.backend, r.threads, r.batch]), [
    ['levit_128s', 'ort-cpu', 1, 2],
    ['efficientnet_b0', 'ort-cpu', 1, 2],
  ]);
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
  }
  assert.deepEqual(readResults(out).records.length, 2);
  const svg = readFileSync(plot, 'utf8');
  assert.match(svg, /^<svg[\s\S]*LeViT[\s\S]*EfficientNet[\s\S]*<\/svg>\n$/);

  // A second run finds the artifacts in the cache, and says so.
  const again = JSON.parse(runCli([...args, '--json', '--no-calibration'], { LEVIT_CACHE_DIR: dir }).stdout) as BenchResults;
  assert.ok(again.records.every((r) => r.setup_seconds.artifact_cached));
  assert.equal(again.calibration, null);
});

test('the table and Markdown say the weights are synthetic', (t) => {
  const dir = tempDir(t);
  const cli = runCli(
    ['bench', 'levit_128s', '--threads', '1', '--batch', '1', '--duration', '0', '--warmup', '0', '--min-iterations', '2', '--markdown', '--no-calibration'],
    { LEVIT_CACHE_DIR: dir },
  );
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /^\| model \| top-1 \| params \| FLOPs \| ort-cpu 1t b1 img\/s/m);
  assert.match(cli.stdout, /\| levit_128s \| 76\.6 \| 7\.8M \| 305M \|/);
  assert.match(cli.stdout, /Weights: synthetic \(untrained\)/);
});

test('bad bench arguments fail fast with usage errors', () => {
  const unknownBackend = runCli(['bench', 'levit_128s', '--backend', 'tpu']);
  assert.equal(unknownBackend.status, 2);
  assert.match(unknownBackend.stderr, /unknown backend tpu/);
  const badThreads = runCli(['bench', 'levit_128s', '--threads', 'many']);
  assert.equal(badThreads.status, 2);
  assert.match(badThreads.stderr, /--threads: cannot use 'many'/);
  const twoWithOnnx = runCli(['bench', 'levit_128s', 'levit_192', '--onnx', 'x.onnx']);
  assert.equal(twoWithOnnx.status, 2);
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
      '--no-calibration',
      '--json',
    ],
    { LEVIT_CACHE_DIR: dir },
  );
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(r.stdout) as BenchResults;
  assert.deepEqual(results.records.map((x) => [x.backend, x.threads]), [['tfjs-cpu', 1]]);
  assert.deepEqual(results.skipped, [{ model: 'levit_128s', backend: 'tfjs-cpu', threads: 2, reason: 'tfjs-cpu runs 1 thread here' }]);
  assert.match(r.stderr, /note: levit_128s tfjs-cpu 2 threads: skipped/);
});
