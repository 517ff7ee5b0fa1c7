import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { countFlops, countParams } from '../src/ir/count.js';
import { attentionBiasIndices } from '../src/models/layers.js';
import { buildGraph, getCard } from '../src/models/registry.js';
import { SyntheticWeights } from '../src/models/synthetic.js';
import { exportOnnx } from '../src/onnx/export.js';
import { convertModel } from '../src/classifier/convert.js';
import { writeFileSync } from 'node:fs';
import { readNpy } from '../src/util/npy.js';
import { packageRoot } from '../src/util/paths.js';
import { checkerSkip, onnxCheck } from './helpers/onnx-checker.js';
import { RecordingWeights } from './helpers/recording-weights.js';
import { golden, needsShared, maxAbsDiff, onnxLogits, runCli, tempDir } from './helpers/shared.js';
import { torchSave } from './helpers/torch-save.js';
import { floatTensor } from '../src/core/tensor.js';
import type { LevitCard } from '../src/models/levit/card.js';

const OFFICIAL_COUNTS: Record<string, [number, number]> = {
  levit_128s: [7_777_058, 305_108_946],
  levit_128: [9_213_936, 406_114_880],
  levit_192: [10_947_069, 657_601_916],
  levit_256: [18_893_876, 1_128_024_056],
  levit_384: [39_128_836, 2_352_935_380],
};

/** A small deterministic batch of normalized-looking images. */
function randomBatch(n: number, res: number) {
  const t = floatTensor([n, 3, res, res]);
  let x = 12345;
  for (let i = 0; i < t.data.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    t.data[i] = (x / 2 ** 32) * 4 - 2;
  }
  return t;
}

test('levit zoo --json reports the official parameter and FLOP counts, computed from the graphs', () => {
  const cli = runCli(['zoo', '--json']);
  assert.equal(cli.status, 0, cli.stderr);
  const zoo = JSON.parse(cli.stdout) as { id: string; params: number; flops: number; checkpoint: { sha256: string } }[];
  for (const [id, [params, flops]] of Object.entries(OFFICIAL_COUNTS)) {
    const entry = zoo.find((e) => e.id === id);
    assert.ok(entry, `${id} listed`);
    assert.equal(entry.params, params, `${id} params`);
    assert.equal(entry.flops, flops, `${id} flops`);
    assert.match(entry.checkpoint.sha256, /^[0-9a-f]{8,64}$/);
  }
});

test('counts follow the architecture, not a table: changing the card changes them', () => {
  const card = getCard('levit_128s') as LevitCard;
  const wider = { ...card, architecture: { ...card.architecture, X: [3, 3, 4] } };
  const g = buildGraph(wider, new SyntheticWeights());
  assert.ok(countParams(g) > OFFICIAL_COUNTS.levit_128s[0]);
  assert.ok(countFlops(g) > OFFICIAL_COUNTS.levit_128s[1]);
});

test('attention-bias indices follow the official offsets, subsampled grids included', () => {
  const full = attentionBiasIndices(14, 14, 1);
  assert.equal(full.offsets, 196);
  assert.deepEqual(full.idxs.slice(0, 3), [0, 1, 2]);
  const sub = attentionBiasIndices(14, 7, 2);
  assert.equal(sub.idxs.length, 49 * 196);
  assert.equal(sub.offsets, 196);
  // query (0, 1) sits at full-grid column 2: key (0, 0) is 2 columns away, first seen as offset 2.
  assert.equal(sub.idxs[196], 2);
});

test('levit convert of the golden checkpoint reproduces the official logits within 1e-3', { skip: needsShared }, async (t) => {
  const out = join(tempDir(t), 'levit_128s.onnx');
  const cli = runCli(['convert', 'levit_128s', '--checkpoint', golden('levit_128s', 'LeViT-128S-golden.pth'), '--to', 'onnx', '--out', out]);
  assert.equal(cli.status, 0, cli.stderr);
  const y = await onnxLogits(out, readNpy(golden('input_224.npy')));
  const reference = readNpy(golden('levit_128s', 'logits.npy'));
  assert.deepEqual(y.shape, [7, 1000]);
  const diff = maxAbsDiff(y, reference);
  t.diagnostic(`max |logit - golden| = ${diff.toExponential(2)}`);
  assert.ok(diff <= 1e-3, `max abs diff ${diff}`);
});

for (const model of Object.keys(OFFICIAL_COUNTS)) {
  test(`${model}: an official-format checkpoint converts to the same model as its weights, and folding is exact`, async (t) => {
    const card = getCard(model);
    const recording = new RecordingWeights(3);
    const reference = buildGraph(card, recording);
    const dir = tempDir(t);
    const file = join(dir, `${model}.pth`);
    torchSave(file, recording.stateDict);
    const referencePath = join(dir, 'reference.onnx');
    writeFileSync(referencePath, exportOnnx(reference));

    const converted = await convertModel(card, { kind: 'checkpoint', path: file }, 'onnx', join(dir, `${model}.onnx`));
    assert.deepEqual([converted.counts.params, converted.counts.flops], OFFICIAL_COUNTS[model]);
    const input = randomBatch(2, card.preprocessing.resolution);
    const fused = await onnxLogits(converted.out, input);
    const unfused = await onnxLogits(referencePath, input);
    const scale = Math.max(...Array.from(unfused.data, Math.abs));
    const diff = maxAbsDiff(fused, unfused);
    t.diagnostic(`max |fused - reference graph| = ${diff.toExponential(2)} (logits up to ${scale.toFixed(1)})`);
    assert.ok(diff <= 1e-3 * Math.max(1, scale / 10), `fused and reference graphs differ by ${diff}`);
    assert.ok(Number.isFinite(scale) && scale > 0);
  });
}

test('the exported ONNX passes the ONNX checker (full check)', { skip: checkerSkip }, async (t) => {
  const { out } = await convertModel(getCard('levit_192'), { kind: 'synthetic' }, 'onnx', join(tempDir(t), 'levit_192.onnx'));
  const check = onnxCheck(out);
  assert.ok(check.ok, check.output);
});

test('exporting LeViT-384 stays under 1.5 GB of memory (time reported, not asserted)', (t) => {
  const script = `
    const { convertModel } = await import(${JSON.stringify(join(packageRoot, 'dist/src/classifier/convert.js'))});
    const { getCard } = await import(${JSON.stringify(join(packageRoot, 'dist/src/models/registry.js'))});
    const t0 = performance.now();
    await convertModel(getCard('levit_384'), { kind: 'synthetic' }, 'onnx', process.argv[1]);
    console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRssKb: process.resourceUsage().maxRSS }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, join(tempDir(t), 'l384.onnx')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { seconds, maxRssKb } = JSON.parse(r.stdout);
  t.diagnostic(`LeViT-384 export: ${seconds.toFixed(2)} s, peak RSS ${(maxRssKb / 1024).toFixed(0)} MiB`);
  assert.ok(maxRssKb * 1024 < 1.5 * 2 ** 30, `peak RSS ${maxRssKb} kB`);
});
