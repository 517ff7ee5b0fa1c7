import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchRecord } from '../src/results/types.js';
import { packageRoot } from '../src/util/paths.js';
import { renderMarkdown, renderRecordLine, renderTable } from '../src/render/bench.js';
import type { BenchResults } from '../src/results/types.js';
import type { EvalSummary } from '../src/eval/run-eval.js';
import { resize } from '../src/preprocess/resize.js';
import { resizeSize } from '../src/preprocess/transform.js';
import { stddev } from '../src/stats/summary.js';
import { csvField } from '../src/render/csv.js';
import { golden, needsShared, runCli, tempDir } from './helpers/shared.js';

// The package as a user imports it: by its name, through package.json's exports.
const levit = await import('levit');

test('the package entry is importable by name and offers convert, sessions, bench and eval', () => {
  for (const name of [
    'getCard',
    'convertModel',
    'openClassifier',
    'runBench',
    'evaluate',
    'openDataset',
    'evalTransform',
    'decodeRgb',
    'benchCsv',
    'evalCsv',
    'withTokenFusion',
    'parseTokenFusion',
  ]) {
    assert.equal(typeof (levit as Record<string, unknown>)[name], 'function', name);
  }
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
  assert.equal(pkg.exports['.'].import, pkg.main);
  assert.equal(pkg.exports['.'].types, pkg.types);
});

test('from code: convert a model to ONNX, open a session on it and get logits', async (t) => {
  const dir = tempDir(t);
  process.env.LEVIT_CACHE_DIR = dir;
  t.after(() => delete process.env.LEVIT_CACHE_DIR);
  const card = levit.getCard('LeViT_128S');
  const out = join(dir, 'levit_128s.onnx');
  const converted = await levit.convertModel(card, { kind: 'synthetic' }, 'onnx', out);
  assert.equal(converted.out, out);
  assert.ok(readFileSync(out).length === converted.bytes);
  const { session } = await levit.openClassifier(card, { weights: { kind: 'synthetic' }, backend: 'ort-cpu', threads: 1 });
  try {
    const logits = await session.run(levit.floatTensor([1, 3, 224, 224]));
    assert.deepEqual(logits.shape, [1, 1000]);
    assert.ok(logits.data.every(Number.isFinite));
  } finally {
    await session.release();
  }
});

test('the npm package ships the library and the commands, and no tests', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: packageRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
  for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/commands/eval.js', 'bin/run.js', 'zoo/levit_128s.json']) assert.ok(files.includes(f), f);
  assert.deepEqual(
    files.filter((f) => f.startsWith('dist/test/') || f.startsWith('test/')),
    [],
  );
});

test("model names as timm and the official repositories spell them are aliases of the zoo's ids", () => {
  const cases: [string, string][] = [
    ['levit_128s', 'levit_128s'],
    ['LeViT_128S', 'levit_128s'],
    ['LeViT-256', 'levit_256'],
    ['levit_128s.fb_dist_in1k', 'levit_128s'],
    ['timm/levit_192.fb_dist_in1k', 'levit_192'],
    ['efficientnet_b0.ra_in1k', 'efficientnet_b0'],
    ['EfficientNet-B3', 'efficientnet_b3'],
    ['deit_tiny_distilled_patch16_224.fb_in1k', 'deit_tiny_distilled_patch16_224'],
  ];
  for (const [name, id] of cases) assert.equal(levit.getCard(name).id, id, name);
  // Derived from the cards, so no two cards may share a spelling.
  for (const card of levit.listCards()) {
    for (const name of [card.id, card.name, card.name.toUpperCase(), `timm/${card.id}.some_tag`]) assert.equal(levit.getCard(name).id, card.id, name);
  }
  assert.throws(
    () => levit.getCard('levit_999'),
    (e: InstanceType<typeof levit.LevitError>) => e.exitCode === levit.ExitCode.usage,
  );
  const r = runCli(['info', 'LeViT_128S', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).id ?? JSON.parse(r.stdout).model, 'levit_128s');
});

test("eval's --crop-pct and --interpolation change the transform and the published figure compared; --img-size is checked", () => {
  const card = levit.getCard('levit_128s');
  const timm = levit.withPreprocessing(card, { crop_pct: 0.9 });
  assert.equal(resizeSize(timm.preprocessing), 248, 'int(224 / 0.9), as timm and torchvision');
  assert.equal(timm.published.find((p) => p.crop_pct === timm.preprocessing.crop_pct)?.top1, 76.52);
  assert.equal(levit.withPreprocessing(card, {}).published.find((p) => p.crop_pct === card.preprocessing.crop_pct)?.top1, 76.6);
  assert.equal(levit.withPreprocessing(card, { interpolation: 'bilinear' }).preprocessing.interpolation, 'bilinear');
  assert.equal(levit.withPreprocessing(card, { resolution: 224 }).preprocessing.resolution, 224);
  for (const bad of [{ resolution: 256 }, { crop_pct: 1.5 }, { crop_pct: Number.NaN }]) {
    assert.throws(
      () => levit.withPreprocessing(card, bad),
      (e: InstanceType<typeof levit.LevitError>) => e.exitCode === levit.ExitCode.usage,
    );
  }
});

test('at crop 0.9 the transform is the resize to 248 then the centre 224 crop, as torchvision composes them', { skip: needsShared }, async () => {
  const img = await levit.decodeRgb(golden('images', 'chelsea.jpg'));
  const p = levit.withPreprocessing(levit.getCard('levit_128s'), { crop_pct: 0.9 }).preprocessing;
  // chelsea.jpg is 451x300: short side 248, long side int(248 * 451 / 300) = 372; crop offsets round((h - 224) / 2).
  assert.deepEqual([img.width, img.height], [451, 300]);
  const full = resize(img, 372, 248, p.interpolation);
  const x = levit.evalTransform(img, p);
  const [top, left] = [12, 74];
  let max = 0;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 224; y++) {
      for (let i = 0; i < 224; i++) {
        const expected = (full.data[((y + top) * 372 + i + left) * 3 + c] / 255 - p.mean[c]) / p.std[c];
        max = Math.max(max, Math.abs(x.data[c * 224 * 224 + y * 224 + i] - expected));
      }
    }
  }
  assert.ok(max < 1e-5, `max |Δ| ${max}`);
});

test('levit eval --crop-pct 0.9 --csv: the transform, the figure compared and the CSV row follow the crop', { skip: needsShared }, (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'val', 'n02123045');
  mkdirSync(root, { recursive: true });
  copyFileSync(golden('images', 'chelsea.jpg'), join(root, 'chelsea.jpg'));
  const out = join(dir, 'eval.csv');
  const checkpoint = golden('levit_128s', 'LeViT-128S-golden.pth');
  const r = runCli(['eval', 'LeViT_128S', join(dir, 'val'), '--checkpoint', checkpoint, '--crop-pct', '0.9', '--csv', out, '--json'], { LEVIT_CACHE_DIR: dir });
  assert.equal(r.status, 0, r.stderr);
  const published = JSON.parse(r.stdout).published;
  assert.equal(published.crop_pct, 0.9);
  assert.match(published.source, /^timm /);
  const [head, row] = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(head.split(',').slice(6, 9).join(), 'img_size,crop_pct,interpolation');
  assert.equal(row.split(',').slice(6, 9).join(), '224,0.9,bicubic');
  const bad = runCli(['eval', 'levit_128s', join(dir, 'val'), '--img-size', '256', '--weights', 'synthetic']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /built for 224x224/);
});

test("CSV: eval and bench rows carry timm's columns; fields are quoted as RFC 4180 says", () => {
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField(null), '');
  const card = levit.getCard('levit_128s');
  const summary = { model: 'levit_128s', top1: 76.5234, top5: 92.8712, backend: 'ort-cpu', evaluated: 50000, failed: 0 } as EvalSummary;
  const [head, row] = levit
    .evalCsv(summary, 7_834_096, levit.withPreprocessing(card, { crop_pct: 0.9 }).preprocessing)
    .trim()
    .split('\n');
  assert.equal(head, 'model,top1,top1_err,top5,top5_err,param_count,img_size,crop_pct,interpolation,backend,images,unreadable');
  assert.equal(row, 'levit_128s,76.523,23.477,92.871,7.129,7.83,224,0.9,bicubic,ort-cpu,50000,0');
  const lines = levit
    .benchCsv([benchRecord(1, [2, 4, 6])])
    .trim()
    .split('\n');
  assert.match(lines[0], /^model,infer_samples_per_sec,infer_step_time,infer_batch_size,infer_img_size,param_count,/);
  assert.equal(lines[1], 'levit_128s,250,4,1,224,7.83,ort-cpu,1,fp32,4,2,6');
});

function benchRecord(batch: number, times: number[]): BenchRecord {
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  return {
    model: 'levit_128s',
    family: 'levit',
    backend: 'ort-cpu',
    threads: 1,
    batch,
    resolution: 224,
    precision: 'fp32',
    params: 7_834_096,
    flops: 305_000_000,
    published_top1: 76.6,
    images_per_second: (1000 * batch) / median,
    iterations: times.length,
    latency_ms: {
      mean: times.reduce((s, x) => s + x, 0) / times.length,
      median,
      p90: Math.max(...times),
      p99: Math.max(...times),
      min: Math.min(...times),
      max: Math.max(...times),
    },
    spread: { relative_iqr: 0.1, median_ci95: [Math.min(...times), Math.max(...times)] },
    peak_rss_bytes: 1e8,
    times_ms: times,
  } as BenchRecord;
}

test('bench prints mean ± σ and min … max as hyperfine does, and batch-1 latency in the table', () => {
  assert.equal(stddev([2, 4, 6]), 2);
  assert.equal(stddev([5]), 0);
  const line = renderRecordLine(benchRecord(1, [2, 4, 6]));
  assert.match(line, /time \(mean ± σ\) 4\.00 ± 2\.00 ms, range \(min … max\) 2\.00 … 6\.00 ms/);
  const results = {
    records: [benchRecord(1, [2, 4, 6]), benchRecord(16, [40, 41, 42])],
    system: { id: 'test', cpu: { flags: [] } },
    machine_check: null,
  } as unknown as BenchResults;
  const tableText = renderTable(results);
  const [heads, units] = tableText
    .split('\n')
    .slice(1, 3)
    .map((l) => l.split('│').map((c) => c.trim()));
  assert.deepEqual([heads[7], units[7]], ['ort-cpu 1t b1', 'latency']);
  assert.match(tableText, /Latency \(batch 1\): mean ± σ/);
  assert.match(tableText, /4\.00 ± 2\.00 ms/);
  assert.equal(units.filter((u) => u === 'latency').length, 1, 'latency columns only for batch 1');
  assert.match(renderMarkdown(results), /\| ort-cpu 1t b1 latency \|/);
});
