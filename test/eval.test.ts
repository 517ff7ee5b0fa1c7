import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { folderImages, openDataset, realLabels } from '../src/eval/dataset.js';
import { judge, topIndices } from '../src/eval/score.js';
import { imagenetClasses } from '../src/imagenet/classes.js';
import { getCard } from '../src/models/registry.js';
import { decodeRgb } from '../src/preprocess/decode.js';
import { resize } from '../src/preprocess/resize.js';
import { evalTransform, resizedSize } from '../src/preprocess/transform.js';
import { readNpy } from '../src/util/npy.js';
import { GOLDEN_IMAGES, absDiffStats, golden, needsShared, runCli, tempDir } from './helpers/shared.js';

const checkpoint = () => golden('levit_128s', 'LeViT-128S-golden.pth');

/** Each golden image's reference top-5, from the official model's logits. */
function referenceTop5(): number[][] {
  const logits = readNpy(golden('levit_128s', 'logits.npy'));
  return GOLDEN_IMAGES.map((_, i) => topIndices(logits.data.subarray(i * 1000, (i + 1) * 1000), 5));
}

for (const [i, file] of GOLDEN_IMAGES.entries()) {
  test(`preprocessing of ${file} equals torchvision on PIL (mean |Δ| ≤ 0.01)`, { skip: needsShared }, async (t) => {
    const reference = readNpy(golden('input_224.npy'));
    const x = evalTransform(await decodeRgb(golden('images', file)), getCard('levit_128s').preprocessing);
    const n = 3 * 224 * 224;
    const { mean, max } = absDiffStats(x.data, reference.data, n, 0, i * n);
    t.diagnostic(`mean |Δ| ${mean.toExponential(2)}, max ${max.toExponential(2)}`);
    assert.ok(mean <= 0.01, `mean ${mean}`);
    assert.ok(max < 1e-5, 'pixel-exact: only float rounding of the normalisation remains');
  });
}

test('resizing follows torchvision: short side to the size, long side truncated; identity when equal', () => {
  assert.deepEqual(resizedSize(500, 375, 256), [341, 256]);
  assert.deepEqual(resizedSize(375, 500, 256), [256, 341]);
  const img = { width: 4, height: 4, data: new Uint8Array(48).map((_, i) => i) };
  assert.deepEqual(resize(img, 4, 4, 'bicubic'), img);
  const flat = { width: 10, height: 8, data: new Uint8Array(240).fill(77) };
  assert.ok(
    resize(flat, 5, 3, 'bicubic').data.every((v) => v === 77),
    'a flat image stays flat',
  );
});

function goldenImageFolder(dir: string): string {
  const root = join(dir, 'val');
  const wnids = imagenetClasses().map((c) => c.wnid);
  referenceTop5().forEach((top5, i) => {
    mkdirSync(join(root, wnids[top5[0]]), { recursive: true });
    copyFileSync(golden('images', GOLDEN_IMAGES[i]), join(root, wnids[top5[0]], GOLDEN_IMAGES[i]));
  });
  mkdirSync(join(root, wnids[0]), { recursive: true });
  copyFileSync(golden('images', 'truncated.jpg'), join(root, wnids[0], 'truncated.jpg'));
  return root;
}

test('eval on an ImageFolder of the golden images agrees with the reference image by image', { skip: needsShared }, (t) => {
  const dir = tempDir(t);
  const root = goldenImageFolder(dir);
  const preds = join(dir, 'preds.jsonl');
  const r = runCli(['eval', 'levit_128s', root, '--checkpoint', checkpoint(), '--batch', '3', '--predictions-out', preds, '--json'], { LEVIT_CACHE_DIR: dir });
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.evaluated, 7);
  assert.equal(summary.failed, 1);
  assert.equal(summary.top1, 100);
  assert.equal(summary.top5, 100);
  assert.equal(summary.dataset.layout, 'imagefolder');
  assert.match(summary.failures[0].file, /truncated\.jpg$/);
  const lines = readFileSync(preds, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 8);
  const reference = referenceTop5();
  for (const line of lines) {
    const name = line.file.split('/').pop();
    if (name === 'truncated.jpg') {
      // libvips's reason, or (when a concurrent decode cleared libvips's process-wide error buffer twice) ours.
      assert.match(line.error, /premature end of JPEG|corrupt or truncated image data/);
      assert.doesNotMatch(line.error, /:$/, 'never a message that stops at the colon');
      assert.deepEqual(line.top5, []);
    } else {
      assert.deepEqual(line.top5, reference[GOLDEN_IMAGES.indexOf(name)], name);
    }
  }
  const strict = runCli(['eval', 'levit_128s', root, '--checkpoint', checkpoint(), '--strict'], { LEVIT_CACHE_DIR: dir });
  assert.equal(strict.status, 3);
  assert.match(strict.stderr, /truncated\.jpg.*--strict/);
});

test('eval and predict run an ONNX file given with --onnx (the official torch.onnx export) as the model named', { skip: needsShared }, (t) => {
  const dir = tempDir(t);
  const exported = golden('levit_128s', 'torch_export.onnx');
  const root = goldenImageFolder(dir);
  const r = runCli(['eval', 'levit_128s', root, '--onnx', exported, '--batch', '3', '--json'], { LEVIT_CACHE_DIR: dir });
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.evaluated, 7);
  assert.equal(summary.top1, 100, 'the official model agrees with its own reference top-1');
  const p = runCli(['predict', 'levit_128s', golden('images', 'chelsea.jpg'), '--onnx', exported, '--json'], { LEVIT_CACHE_DIR: dir });
  assert.equal(p.status, 0, p.stderr);
  const out = JSON.parse(p.stdout);
  assert.match(out.weights, /^external ONNX .*torch_export\.onnx$/);
  assert.deepEqual(
    out.predictions[0].top.map((x: { index: number }) => x.index),
    referenceTop5()[0],
  );
  // An ONNX file given as a checkpoint is pointed to --onnx; --onnx does not mix with weights, precision or another model.
  const asCheckpoint = runCli(['predict', 'levit_128s', golden('images', 'chelsea.jpg'), '--checkpoint', exported], { LEVIT_CACHE_DIR: dir });
  assert.equal(asCheckpoint.status, 3);
  assert.match(asCheckpoint.stderr, /Hint: It looks like an ONNX model: run it with --onnx FILE/);
  const both = runCli(['predict', 'levit_128s', golden('images', 'chelsea.jpg'), '--onnx', exported, '--checkpoint', checkpoint()]);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--onnx runs a file with its own weights: drop --checkpoint/);
  const int8 = runCli(['eval', 'levit_128s', root, '--onnx', exported, '--precision', 'int8']);
  assert.equal(int8.status, 2);
  assert.match(int8.stderr, /--onnx runs the file in its own precision/);
  const other = runCli(['predict', 'levit_192', golden('images', 'chelsea.jpg'), '--onnx', exported], { LEVIT_CACHE_DIR: dir });
  assert.equal(other.status, 3);
  assert.match(other.stderr, /has 7,\d{3},\d{3} parameters; levit_192 has .*: it is another model/);
});

test('predict on image files uses the same preprocessing', { skip: needsShared }, (t) => {
  const dir = tempDir(t);
  const r = runCli(['predict', 'levit_128s', golden('images', 'chelsea.jpg'), golden('images', 'coffee_cmyk.jpg'), '--checkpoint', checkpoint(), '--json'], {
    LEVIT_CACHE_DIR: dir,
  });
  assert.equal(r.status, 0, r.stderr);
  const reference = referenceTop5();
  const out = JSON.parse(r.stdout).predictions as { top: { index: number }[] }[];
  assert.deepEqual(
    out[0].top.map((p) => p.index),
    reference[0],
  );
  assert.deepEqual(
    out[1].top.map((p) => p.index),
    reference[5],
  );
});

test('predict reports each unreadable input by name, predicts the rest, and exits with the error of the failed ones', { skip: needsShared }, (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'missing.jpg');
  const inputs = [golden('images', 'truncated.jpg'), golden('images', 'chelsea.jpg'), missing];
  const r = runCli(['predict', 'levit_128s', ...inputs, '--checkpoint', checkpoint(), '--json'], { LEVIT_CACHE_DIR: dir });
  assert.equal(r.status, 3, r.stderr);
  const out = JSON.parse(r.stdout) as { predictions: { file: string; top: { index: number }[] }[]; failures: { file: string; exitCode: number }[] };
  assert.deepEqual(
    out.predictions.map((p) => p.file),
    [golden('images', 'chelsea.jpg')],
  );
  assert.deepEqual(
    out.predictions[0].top.map((p) => p.index),
    referenceTop5()[0],
  );
  assert.deepEqual(
    out.failures.map((f) => [f.file, f.exitCode]),
    [
      [golden('images', 'truncated.jpg'), 3],
      [missing, 4],
    ],
  );
  const none = runCli(['predict', 'levit_128s', missing, '--checkpoint', checkpoint()], { LEVIT_CACHE_DIR: dir });
  assert.equal(none.status, 4);
  assert.match(none.stderr, /missing\.jpg: cannot decode image: no such file[\s\S]*none of the 1 input could be read/);
});

test('predict --json with no readable input: the JSON error lists each input with its reason, and its hint points there', (t) => {
  const dir = tempDir(t);
  const broken = join(dir, 'broken.jpg');
  writeFileSync(broken, 'not a jpeg');
  const missing = join(dir, 'missing.jpg');
  const r = runCli(['predict', 'levit_128s', broken, missing, '--weights', 'synthetic', '--json'], { LEVIT_CACHE_DIR: dir });
  assert.equal(r.status, 3, r.stderr);
  const { error } = JSON.parse(r.stdout) as { error: { message: string; hint: string; unreadable: { path: string; reason: string }[] } };
  assert.match(error.message, /none of the 2 inputs could be read/);
  assert.deepEqual(
    error.unreadable.map((u) => u.path),
    [broken, missing],
  );
  assert.match(error.unreadable[0].reason, /^cannot decode image: /);
  assert.match(error.unreadable[1].reason, /^cannot decode image: no such file/);
  assert.doesNotMatch(error.hint, /above/, 'nothing is printed above a JSON error');
  assert.match(error.hint, /error\.unreadable/);
  // Without --json the reasons are printed before the error, as the hint says.
  const text = runCli(['predict', 'levit_128s', broken, '--weights', 'synthetic'], { LEVIT_CACHE_DIR: dir });
  assert.match(text.stderr, /^unreadable: .*broken\.jpg: cannot decode image[\s\S]*Hint: The reasons are listed above\./);
});

test('eval and bench-decode given an image file, not a folder: a usage error (exit 2) that says so and what takes single images', (t) => {
  const dir = tempDir(t);
  const image = join(dir, 'chelsea.jpg');
  writeFileSync(image, 'x');
  const evalFile = runCli(['eval', 'levit_128s', image, '--weights', 'synthetic'], { LEVIT_CACHE_DIR: dir });
  assert.equal(evalFile.status, 2, evalFile.stderr);
  assert.match(
    evalFile.stderr,
    /^Error: .*chelsea\.jpg is a file, not a folder\nHint: levit eval evaluates a folder .*levit predict <model> <images\.\.\.> classifies single images/,
  );
  const decode = runCli(['bench-decode', image, '--json']);
  assert.equal(decode.status, 2, decode.stderr);
  const { error } = JSON.parse(decode.stdout) as { error: { message: string; hint: string; exitCode: number } };
  assert.equal(error.exitCode, 2);
  assert.match(error.message, /chelsea\.jpg is a file, not a folder/);
  assert.ok(error.hint.endsWith(`give it the folder, e.g. ${dir}.`), error.hint);
  // A path that is not there at all is still "not found" (exit 4).
  assert.equal(runCli(['bench-decode', join(dir, 'nope')]).status, 4);
});

test('flat layouts: Kaggle LOC_val_solution.csv and a labels file give the same samples', (t) => {
  const dir = tempDir(t);
  const flat = join(dir, 'flat');
  mkdirSync(flat);
  for (const n of [1, 2, 3]) writeFileSync(join(flat, `ILSVRC2012_val_0000000${n}.JPEG`), 'x');
  writeFileSync(
    join(dir, 'LOC_val_solution.csv'),
    'ImageId,PredictionString\nILSVRC2012_val_00000001,n01751748 1 2 3 4\n' +
      'ILSVRC2012_val_00000002,n09193705 1 2 3 4 n09193705 5 6 7 8\nILSVRC2012_val_00000003,n02105855 0 0 9 9\n',
  );
  const kaggle = openDataset(flat);
  assert.equal(kaggle.layout, 'kaggle-csv');
  const labels = join(dir, 'labels.txt');
  writeFileSync(labels, 'ILSVRC2012_val_00000001.JPEG\tn01751748\nILSVRC2012_val_00000002.JPEG 970\nILSVRC2012_val_00000003.JPEG\t230\n');
  const listed = openDataset(flat, labels);
  assert.equal(listed.layout, 'labels-file');
  assert.deepEqual(
    kaggle.samples.map((s) => s.label),
    [65, 970, 230],
  );
  assert.deepEqual(listed.samples, kaggle.samples);
  writeFileSync(labels, 'a.JPEG tench\n');
  assert.throws(() => openDataset(flat, labels), /labels.txt:1: 'a.JPEG tench' is not "file wnid" or "file class-index"/);
  assert.throws(() => openDataset(dir + '/nope'), /no such folder/);
});

test('ReaL labels are looked up by validation file number', () => {
  assert.deepEqual(realLabels('/x/ILSVRC2012_val_00000001.JPEG'), []);
  assert.deepEqual(realLabels('ILSVRC2012_val_00000002.JPEG'), [970, 795]);
  assert.equal(realLabels('cat.jpg'), null);
});

test('the verdict: 0.1 points on the full set, sampling error on a subset, nothing for synthetic weights', () => {
  const published = { top1: 76.6, source: 'paper' };
  assert.equal(judge(76.55, 50_000, published, false).verdict, 'agrees');
  assert.equal(judge(76.3, 50_000, published, false).verdict, 'differs');
  // 1000 random images: ±3.5 points, too wide to claim agreement; a 6.6-point gap still differs.
  const subset = judge(75.0, 1000, published, false);
  assert.equal(subset.verdict, 'inconclusive');
  assert.ok(subset.tolerance! > 3 && subset.tolerance! < 4, `${subset.tolerance}`);
  assert.match(subset.reason, /a ±0\.5-point verdict needs 29\d\d\d random images/);
  assert.equal(judge(70, 1000, published, false).verdict, 'differs');
  assert.equal(judge(76.4, 40_000, published, false).verdict, 'agrees');
  // --limit 3 at a 76-point gap: differs, never "agrees".
  assert.equal(judge(0, 3, published, false).verdict, 'differs');
  assert.equal(judge(0, 0, published, false).verdict, 'inconclusive');
  // The first images of an ImageFolder are whole classes: no verdict but on the full set.
  assert.match(judge(76.6, 10_000, published, false, false).reason, /not a random sample/);
  assert.equal(judge(76.6, 50_000, published, true).verdict, 'not comparable');
  assert.equal(judge(76.6, 50_000, undefined, false).verdict, 'not comparable');
});

test('top-k indices are the largest logits, best first', () => {
  assert.deepEqual(topIndices(Float32Array.from([0.1, 5, -2, 3, 9, 5.5]), 3), [4, 5, 1]);
  assert.deepEqual(topIndices(Float32Array.from([1, 2]), 5), [1, 0]);
});

test('the WebAssembly SIMD resampler is bit-identical to the JavaScript one', () => {
  let x = 7;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  for (let trial = 0; trial < 25; trial++) {
    const w = 3 + rand(300);
    const h = 3 + rand(300);
    const img = { width: w, height: h, data: new Uint8Array(w * h * 3).map(() => rand(256)) };
    const W = 2 + rand(350);
    const H = 2 + rand(350);
    const bw = 1 + rand(W);
    const bh = 1 + rand(H);
    const box = { left: rand(W - bw + 1), top: rand(H - bh + 1), width: bw, height: bh };
    for (const filter of ['bicubic', 'bilinear'] as const) {
      const simd = resize(img, W, H, filter, box, 'wasm');
      const js = resize(img, W, H, filter, box, 'js');
      assert.deepEqual(simd, js, `${w}x${h} -> ${W}x${H} box ${JSON.stringify(box)} ${filter}`);
    }
  }
});

test("Kaggle's download layout, its CSV as --labels, and bench-decode accept the same folders as eval", (t) => {
  const dir = tempDir(t);
  const val = join(dir, 'ILSVRC', 'Data', 'CLS-LOC', 'val');
  mkdirSync(val, { recursive: true });
  for (const n of [1, 2]) writeFileSync(join(val, `ILSVRC2012_val_0000000${n}.JPEG`), 'x');
  const csv = join(dir, 'LOC_val_solution.csv');
  writeFileSync(csv, 'ImageId,PredictionString\nILSVRC2012_val_00000001,n01751748 1 2 3 4\nILSVRC2012_val_00000002,n09193705 1 2 3 4\n');
  const found = openDataset(val);
  assert.equal(found.layout, 'kaggle-csv');
  assert.deepEqual(
    found.samples.map((s) => s.label),
    [65, 970],
  );
  const other = join(dir, 'copy');
  mkdirSync(other);
  for (const n of [1, 2]) writeFileSync(join(other, `ILSVRC2012_val_0000000${n}.JPEG`), 'x');
  assert.deepEqual(
    openDataset(other, csv).samples.map((s) => s.label),
    [65, 970],
  );
  // A layout that labels none of the images is an error, not an empty evaluation.
  writeFileSync(csv, 'ImageId,PredictionString\nILSVRC2012_val_00000009,n01751748 1 2 3 4\n');
  assert.throws(() => openDataset(val), /kaggle-csv layout, but no image in it has a label/);
  // bench-decode: an ImageFolder (images one level down) is found as eval finds it.
  const folder = join(dir, 'imagefolder', 'n01440764');
  mkdirSync(folder, { recursive: true });
  if (!needsShared) copyFileSync(golden('images', 'chelsea.jpg'), join(folder, 'a.JPEG'));
  assert.deepEqual(folderImages(join(dir, 'imagefolder')), needsShared ? [] : [join(folder, 'a.JPEG')]);
  assert.deepEqual(folderImages(other), [join(other, 'ILSVRC2012_val_00000001.JPEG'), join(other, 'ILSVRC2012_val_00000002.JPEG')]);
});

test('eval where no image is readable fails (exit 3) with no verdict; --predictions-out is checked before the work', (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'val', 'n01440764');
  mkdirSync(root, { recursive: true });
  for (const n of [1, 2]) writeFileSync(join(root, `broken${n}.JPEG`), 'not a jpeg');
  const intoFolder = runCli(['eval', 'levit_128s', join(dir, 'val'), '--weights', 'synthetic', '--predictions-out', dir]);
  assert.equal(intoFolder.status, 2);
  assert.match(intoFolder.stderr, /--predictions-out .* is a folder/);
  const r = runCli(['eval', 'levit_128s', join(dir, 'val'), '--weights', 'synthetic', '--json'], { LEVIT_CACHE_DIR: dir });
  assert.equal(r.status, 3, r.stdout);
  const { error } = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('{\n  "error"'))) as {
    error: { message: string; hint: string; unreadable: { path: string; reason: string }[] };
  };
  assert.match(error.message, /no image of 2 could be evaluated/);
  assert.doesNotMatch(r.stdout, /agrees/);
  // Nothing is printed above a JSON error: the unreadable files are in it, and the hint says so.
  assert.deepEqual(
    error.unreadable.map((u) => u.path),
    [1, 2].map((n) => join(root, `broken${n}.JPEG`)),
  );
  assert.match(error.unreadable[0].reason, /^cannot decode image: /);
  assert.doesNotMatch(error.hint, /above/);
  assert.match(error.hint, /error\.unreadable/);
});

test('convert, like predict and eval, defaults to the official weights: never untrained ones unasked; tfjs never replaces a file', (t) => {
  const dir = tempDir(t);
  const env = { LEVIT_CACHE_DIR: dir };
  const out = join(dir, 'model.onnx');
  const r = runCli(['convert', 'levit_128s', '--offline', '--out', out, '--json'], env);
  assert.notEqual(r.status, 0);
  assert.match(JSON.parse(r.stdout).error.message, /offline|not cached|official/i);
  assert.ok(!existsSync(out), 'nothing written');
  const file = join(dir, 'model_tfjs');
  writeFileSync(file, 'an existing file');
  const tfjs = runCli(['convert', 'levit_128s', '--weights', 'synthetic', '--to', 'tfjs', '--out', file], env);
  assert.equal(tfjs.status, 2);
  assert.match(tfjs.stderr, /is a file; a folder goes there[\s\S]*--force/);
  assert.equal(readFileSync(file, 'utf8'), 'an existing file');
});
