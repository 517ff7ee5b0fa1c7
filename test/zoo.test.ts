import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../src/checkpoint/index.js';
import { makeDivisible, parseBlock } from '../src/models/efficientnet/build.js';
import { buildGraph, getCard, listCards } from '../src/models/registry.js';
import { exportOnnx } from '../src/onnx/export.js';
import { convertModel } from '../src/classifier/convert.js';
import { readNpy } from '../src/util/npy.js';
import { CorruptFileError } from '../src/core/errors.js';
import { benchInput } from '../src/bench/runner.js';
import { RecordingWeights } from './helpers/recording-weights.js';
import { safetensorsBuffer } from './helpers/safetensors-save.js';
import { golden, needsShared, maxAbsDiff, onnxLogits, runCli, tempDir } from './helpers/shared.js';
import { torchSave } from './helpers/torch-save.js';

test('levit zoo --json lists all 18 models with counts computed from their graphs', () => {
  const cli = runCli(['zoo', '--json']);
  assert.equal(cli.status, 0, cli.stderr);
  const zoo = JSON.parse(cli.stdout) as { id: string; family: string; license: string; params: number; flops: number }[];
  assert.equal(zoo.length, 18);
  const params = Object.fromEntries(zoo.map((e) => [e.id, e.params]));
  // timm's counts of its own models: efficientnet_b0 5.29M, b1 7.79M, b2 9.11M, b3 12.23M, deit_tiny 5.72M, deit_small 22.05M
  assert.equal(params.efficientnet_b0, 5_288_548);
  assert.equal(params.efficientnet_b1, 7_794_184);
  assert.equal(params.efficientnet_b2, 9_109_994);
  assert.equal(params.efficientnet_b3, 12_233_232);
  assert.equal(params.deit_tiny_patch16_224, 5_717_416);
  assert.equal(params.deit_tiny_distilled_patch16_224, 5_910_800);
  assert.equal(params.deit_small_patch16_224, 22_050_664);
  assert.equal(params.deit_small_distilled_patch16_224, 22_436_432);
  // timm: efficientformer_l1 12.29M, edgenext_x_small 2.34M, cait_xxs24_224 11.96M, convit_tiny 5.71M, vit_tiny_patch16_224 5.72M
  assert.equal(params.efficientformer_l1, 12_289_928);
  assert.equal(params.edgenext_x_small, 2_336_804);
  assert.equal(params.cait_xxs24_224, 11_956_264);
  assert.equal(params.convit_tiny, 5_710_512);
  assert.equal(params.vit_tiny_patch16_224, 5_717_416);
  const families = ['levit', 'efficientnet', 'deit', 'efficientformer', 'edgenext', 'vit', 'cait', 'convit'];
  assert.deepEqual([...new Set(zoo.map((e) => e.family))], families);
  for (const e of zoo) assert.match(e.license, /^(Apache-2\.0|MIT|CC-BY-NC-4\.0)$/, e.id);
});

test("timm's channel rounding and block strings", () => {
  assert.equal(makeDivisible(32 * 1.2), 40);
  assert.equal(makeDivisible(112 * 1.1), 120);
  assert.equal(makeDivisible(1280 * 1.1), 1408);
  assert.deepEqual(parseBlock('ir_r2_k5_s2_e6_c40_se0.25'), { type: 'ir', repeats: 2, kernel: 5, stride: 2, expand: 6, channels: 40, seRatio: 0.25 });
  assert.throws(() => parseBlock('xx_r1'), /unknown type xx/);
});

const goldens = [
  { model: 'efficientnet_b0', file: ['efficientnet_b0', 'efficientnet_b0-golden.pth'], logits: ['efficientnet_b0', 'logits.npy'], format: 'torch-legacy' },
  {
    model: 'deit_tiny_distilled_patch16_224',
    file: ['deit_tiny_distilled', 'model.safetensors'],
    logits: ['deit_tiny_distilled', 'logits.npy'],
    format: 'safetensors',
  },
  { model: 'cait_xxs24_224', file: ['cait_xxs24_224', 'model.safetensors'], logits: ['cait_xxs24_224', 'logits.npy'], format: 'safetensors' },
  { model: 'convit_tiny', file: ['convit_tiny', 'model.safetensors'], logits: ['convit_tiny', 'logits.npy'], format: 'safetensors' },
];

for (const g of goldens) {
  test(`${g.model}: the golden ${g.format} checkpoint reproduces the reference logits within 1e-3`, { skip: needsShared }, async (t) => {
    assert.equal(readCheckpoint(golden(...g.file)).format, g.format);
    const out = join(tempDir(t), 'model.onnx');
    const cli = runCli(['convert', g.model, '--checkpoint', golden(...g.file), '--out', out]);
    assert.equal(cli.status, 0, cli.stderr);
    const diff = maxAbsDiff(await onnxLogits(out, readNpy(golden('input_224.npy'))), readNpy(golden(...g.logits)));
    t.diagnostic(`max |logit - golden| = ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-3, `max abs diff ${diff}`);
  });
}

const comparison = listCards().filter((c) => c.family !== 'levit');
for (const card of comparison) {
  test(`${card.id}: an official-layout checkpoint converts, folded graph equal to the reference graph`, async (t) => {
    const recording = new RecordingWeights(5);
    const reference = buildGraph(card, recording);
    const dir = tempDir(t);
    // Official layouts: the DeiT releases are {'model': ...} .pth files, timm's hub weights safetensors.
    const file = join(dir, card.family === 'deit' ? 'model.pth' : 'model.safetensors');
    if (card.family === 'deit') torchSave(file, recording.stateDict);
    else writeFileSync(file, safetensorsBuffer(recording.stateDict));
    writeFileSync(join(dir, 'reference.onnx'), exportOnnx(reference));

    const converted = await convertModel(card, { kind: 'checkpoint', path: file }, 'onnx', join(dir, 'model.onnx'));
    const input = benchInput(2, card.preprocessing.resolution);
    const [fused, unfused] = [await onnxLogits(converted.out, input), await onnxLogits(join(dir, 'reference.onnx'), input)];
    const scale = Math.max(...Array.from(unfused.data, Math.abs));
    const diff = maxAbsDiff(fused, unfused);
    t.diagnostic(`max |fused - reference| = ${diff.toExponential(2)} (logits up to ${scale.toFixed(2)})`);
    assert.ok(Number.isFinite(scale) && scale > 0);
    assert.ok(diff <= 1e-3 * Math.max(1, scale / 10), `differ by ${diff}`);
  });
}

test('truncated legacy and safetensors checkpoints are reported, not half-read', { skip: needsShared }, (t) => {
  const dir = tempDir(t);
  for (const file of [golden('efficientnet_b0', 'efficientnet_b0-golden.pth'), golden('deit_tiny_distilled', 'model.safetensors')]) {
    const whole = readFileSync(file);
    const cut = join(dir, 'cut');
    writeFileSync(cut, whole.subarray(0, whole.length - 1000));
    assert.throws(
      () => readCheckpoint(cut),
      (e: Error) => e instanceof CorruptFileError && /truncated/.test(e.message),
      file,
    );
  }
});

test('a checkpoint of one family loaded into another is refused with the names', () => {
  const rec = new RecordingWeights();
  buildGraph(getCard('deit_tiny_patch16_224'), rec);
  const file = join(tempDir({ after: () => undefined }), 'deit.safetensors');
  writeFileSync(file, safetensorsBuffer(rec.stateDict));
  const cli = runCli(['convert', 'efficientnet_b0', '--checkpoint', file, '--out', `${file}.onnx`]);
  assert.equal(cli.status, 3);
  assert.match(cli.stderr, /missing tensor conv_stem.weight \[32, 3, 3, 3\]/);
  assert.match(cli.stderr, /unexpected tensor cls_token \[1, 1, 192\]/);
});
