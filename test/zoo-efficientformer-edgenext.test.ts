import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GraphBuilder } from '../src/ir/builder.js';
import { foldConstantNodes, foldScalesIntoProducers } from '../src/ir/passes.js';
import { chunkSizes, fourierFeatures } from '../src/models/edgenext/build.js';
import { blockLayout } from '../src/models/efficientformer/build.js';
import { getCard } from '../src/models/registry.js';
import type { FloatTensor } from '../src/core/tensor.js';
import type { Graph } from '../src/ir/graph.js';
import type { ModelCard } from '../src/models/families.js';
import { exportOnnx } from '../src/onnx/export.js';
import { prepareModel } from '../src/classifier/model.js';
import { countsOf } from '../src/classifier/zoo.js';
import type { BackendId } from '../src/runtime/backend.js';
import { getBackend } from '../src/runtime/registry.js';
import { exportTfjs } from '../src/tfjs/export.js';
import { readNpy } from '../src/util/npy.js';
import { checkerSkip, onnxCheck } from './helpers/onnx-checker.js';
import { mustRun } from './helpers/backends.js';
import { golden, needsShared, maxAbsDiff, runCli, tempDir } from './helpers/shared.js';

/** The golden logits are timm's at 224 px; EdgeNeXt's card evaluates at 288 (its positional encoding depends on the size). */
test('per-channel scales fold into the convolution or linear layer before them, wider constants do not', () => {
  const b = new GraphBuilder('scales');
  const x = b.input('x', ['N', 1, 1, 2]);
  const w = b.initializer('w', { dtype: 'float32', shape: [2, 1, 1, 1], data: Float32Array.of(1, 2) }, 'param');
  const bias = b.initializer('b', { dtype: 'float32', shape: [2], data: Float32Array.of(1, 1) }, 'param');
  const gamma = b.initializer('gamma', { dtype: 'float32', shape: [2, 1, 1], data: Float32Array.of(3, 5) }, 'param');
  const along = b.initializer('along_width', { dtype: 'float32', shape: [2], data: Float32Array.of(7, 11) }, 'param');
  const scaled = b.mul(b.conv2d(x, w, bias, { stride: 1, pad: 0 }), gamma);
  const identity = b.initializer('w2', { dtype: 'float32', shape: [2, 2, 1, 1], data: Float32Array.of(1, 0, 0, 1) }, 'param');
  b.output(b.mul(b.conv2d(scaled, identity, undefined, { stride: 1, pad: 0 }), along));
  foldScalesIntoProducers(b.graph);
  assert.deepEqual(
    b.graph.nodes.map((n) => n.op),
    ['conv2d', 'conv2d', 'mul'],
  );
  const [first] = b.graph.nodes;
  assert.deepEqual(Array.from(b.graph.tensor(first.inputs[1]).data as Float32Array), [3, 10]);
  assert.deepEqual(Array.from(b.graph.tensor(first.inputs[2]).data as Float32Array), [3, 5]);
});

const at224 = (card: ModelCard): ModelCard => ({ ...card, preprocessing: { ...card.preprocessing, resolution: 224 } });

test("parameter counts are timm's, FLOPs counted as LeViT's code counts them", () => {
  // timm: efficientformer_l1 12.29M, edgenext_x_small 2.34M (results-imagenet.csv's param_count).
  assert.deepEqual(countsOf(getCard('efficientformer_l1')), { params: 12_289_928, flops: 1_291_303_944 });
  const edgenext = getCard('edgenext_x_small');
  assert.equal(edgenext.preprocessing.resolution, 288);
  assert.deepEqual(countsOf(edgenext), { params: 2_336_804, flops: 674_783_108 });
  // At the paper's 256 px: 533.2M multiply-adds against the paper's 538M (its counter also counts normalisations).
  assert.equal(countsOf({ ...edgenext, preprocessing: { ...edgenext.preprocessing, resolution: 256 } }).flops, 533_204_932);
});

test('levit info shows the licence of the weights; every card has one', () => {
  const cli = runCli(['info', 'edgenext_x_small']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /licence\s+MIT/);
  const zoo = JSON.parse(runCli(['zoo', '--json']).stdout) as { id: string; license: string }[];
  const licences = Object.fromEntries(zoo.map((e) => [e.id, e.license]));
  assert.equal(licences.efficientformer_l1, 'Apache-2.0');
  assert.equal(licences.levit_128s, 'Apache-2.0');
  assert.ok(
    zoo.every((e) => /^[\w.-]+$/.test(e.license)),
    JSON.stringify(licences),
  );
});

test('EfficientFormer stage layout: pooling blocks, Flat, attention blocks', () => {
  assert.deepEqual(blockLayout(4, 1), ['pool', 'pool', 'pool', 'flat', 'attention']);
  assert.deepEqual(blockLayout(3, 0), ['pool', 'pool', 'pool']);
  assert.deepEqual(blockLayout(2, 4), ['flat', 'attention', 'attention']);
});

test("EdgeNeXt channel groups follow torch.chunk; the Fourier features are PyTorch's", () => {
  assert.deepEqual(chunkSizes(100, 3), [34, 34, 32]);
  assert.deepEqual(chunkSizes(64, 2), [32, 32]);
  assert.deepEqual(chunkSizes(192, 4), [48, 48, 48, 48]);
  const f = fourierFeatures(2, 3, 4, 10000);
  assert.deepEqual(f.shape, [1, 8, 2, 3]);
  const at = (c: number, y: number, x: number) => f.data[(c * 2 + y) * 3 + x];
  const coord = (i: number, n: number) => ((i + 1) / (n + 1e-6)) * 2 * Math.PI;
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-5, `${a} vs ${b}`);
  // Channels 0-3: the row coordinate, as sin(c / 1), cos(c / 1), sin(c / 100), cos(c / 100); 4-7: the column's.
  near(at(0, 0, 2), Math.sin(coord(0, 2)));
  near(at(1, 1, 0), Math.cos(coord(1, 2)));
  near(at(2, 1, 1), Math.sin(coord(1, 2) / 100));
  near(at(3, 0, 0), Math.cos(coord(0, 2) / 100));
  near(at(4, 1, 1), Math.sin(coord(1, 3)));
  near(at(7, 0, 2), Math.cos(coord(2, 3) / 100));
});

test('constant nodes fold: a convolution, reshape and transpose of initializers become one constant', () => {
  const b = new GraphBuilder('fold');
  const x = b.input('x', ['N', 2, 2]);
  const feat = b.initializer('feat', { dtype: 'float32', shape: [1, 2, 1, 2], data: Float32Array.of(1, 2, 3, 4) }, 'constant');
  const w = b.initializer('w', { dtype: 'float32', shape: [2, 2, 1, 1], data: Float32Array.of(1, 0, 1, 1) }, 'param');
  const bias = b.initializer('b', { dtype: 'float32', shape: [2], data: Float32Array.of(0, 10) }, 'param');
  const projected = b.transpose(b.reshape(b.conv2d(feat, w, bias, { stride: 1, pad: 0 }), [1, 2, 2]), [0, 2, 1]);
  b.output(b.add2(x, projected));
  foldConstantNodes(b.graph);
  assert.deepEqual(
    b.graph.nodes.map((n) => n.op),
    ['add'],
  );
  const folded = b.graph.tensor(b.graph.nodes[0].inputs[1]);
  // conv: channel 0 = feat0 = [1, 2]; channel 1 = feat0 + feat1 + 10 = [14, 16]; transposed to [[1, 14], [2, 16]].
  assert.deepEqual(Array.from(folded.data as Float32Array), [1, 14, 2, 16]);
});

/** Writes both artifacts of a graph into `dir`: model.onnx and the TF.js graph model in tfjs/. */
function writeArtifacts(graph: Graph, dir: string): { onnx: string; tfjs: string } {
  const onnx = join(dir, 'model.onnx');
  writeFileSync(onnx, exportOnnx(graph));
  const tfjs = join(dir, 'tfjs');
  mkdirSync(tfjs);
  const model = exportTfjs(graph);
  writeFileSync(join(tfjs, 'model.json'), JSON.stringify(model.modelJson));
  for (const shard of model.shards) writeFileSync(join(tfjs, shard.name), shard.data);
  return { onnx, tfjs };
}

/** Runs an artifact on a backend (one thread), or says why it cannot run here. */
async function runOn(backendId: BackendId, artifacts: { onnx: string; tfjs: string }, input: FloatTensor): Promise<FloatTensor | string> {
  const backend = getBackend(backendId);
  const status = await backend.probe();
  if (!status.available) {
    assert.ok(!mustRun(backendId), `ort-webgpu: ${status.reason}`);
    return status.reason ?? 'unavailable';
  }
  const session = await backend.load(backend.artifact === 'onnx' ? artifacts.onnx : artifacts.tfjs, { threads: 1 });
  return session.run(input).finally(() => session.release());
}

const firstImages = (x: FloatTensor, n: number): FloatTensor => {
  const per = x.data.length / x.shape[0];
  return { dtype: 'float32', shape: [n, ...x.shape.slice(1)], data: x.data.subarray(0, n * per) };
};

/**
 * The full models on the backends that run them in seconds (ort-wasm on two images). TF.js's
 * pure-JS backend and WebGPU on lavapipe take minutes for these models on 2 cores: the small
 * graph below checks them on every operator these families added.
 */
const goldenCases: { backend: BackendId; images: number }[] = [
  { backend: 'ort-cpu', images: 7 },
  { backend: 'tfjs-wasm', images: 7 },
  { backend: 'ort-wasm', images: 2 },
];

for (const id of ['efficientformer_l1', 'edgenext_x_small']) {
  test(`${id}: timm's golden checkpoint reproduces timm's logits within 1e-3 (ONNX and TF.js exports)`, { skip: needsShared }, async (t) => {
    const prepared = prepareModel(at224(getCard(id)), { kind: 'checkpoint', path: golden(id, 'model.safetensors') });
    const artifacts = writeArtifacts(prepared.graph, tempDir(t));
    if (!checkerSkip) {
      const check = onnxCheck(artifacts.onnx);
      assert.ok(check.ok, check.output);
    }
    const input = readNpy(golden('input_224.npy'));
    const expected = readNpy(golden(id, 'logits.npy'));
    for (const { backend, images } of goldenCases) {
      const logits = await runOn(backend, artifacts, firstImages(input, images));
      if (typeof logits === 'string') {
        t.diagnostic(`${backend}: not available here (${logits})`);
        continue;
      }
      const diff = maxAbsDiff(logits, firstImages(expected, images));
      t.diagnostic(`${backend}: max |logit - golden| = ${diff.toExponential(2)} over ${images} images`);
      assert.ok(diff <= 1e-3, `${backend}: ${diff}`);
    }
  });
}

/** relu, average pooling without the padded cells, sub, split, concat and L2 normalisation, on pseudo-random weights. */
function newOperatorsGraph(): Graph {
  const b = new GraphBuilder('new_operators');
  let seed = 1;
  const random = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 48271) % 2147483647) / 2147483647) * 2 - 1);
  const init = (name: string, shape: number[]) => b.initializer(name, { dtype: 'float32', shape, data: random(shape.reduce((m, d) => m * d, 1)) }, 'param');
  const conv = b.relu(b.conv2d(b.input('input', ['N', 3, 8, 8]), init('w', [8, 3, 3, 3]), init('b', [8]), { stride: 1, pad: 1 }));
  const mixed = b.sub(b.avgPool2d(conv, { kernel: 3, stride: 1, pad: 1, countIncludePad: false }), conv);
  const [left, right] = b.split(mixed, 1, [5, 3]);
  const tokens = b.l2Normalize(b.reshape(b.concat([right, left], 1), ['N', 8, 64]), -1);
  const pooled = b.avgPool2d(left, { kernel: 2, stride: 2, pad: 0, countIncludePad: true });
  b.output(b.linear(b.concat([b.mean(tokens, [2]), b.mean(pooled, [2, 3])], 1), init('fc', [10, 13])));
  return b.graph;
}

test('the new operators agree on every backend that runs here, the TF.js export included', async (t) => {
  const artifacts = writeArtifacts(newOperatorsGraph(), tempDir(t));
  const input = { dtype: 'float32' as const, shape: [2, 3, 8, 8], data: Float32Array.from({ length: 384 }, (_, i) => Math.sin(i * 0.37) * 2) };
  const reference = await runOn('ort-cpu', artifacts, input);
  assert.ok(typeof reference !== 'string', 'ort-cpu runs everywhere');
  assert.ok(reference.data.some((v) => v !== 0));
  for (const backend of ['ort-wasm', 'tfjs-wasm', 'tfjs-cpu', 'ort-webgpu'] as const) {
    const logits = await runOn(backend, artifacts, input);
    if (typeof logits === 'string') {
      t.diagnostic(`${backend}: not available here (${logits})`);
      continue;
    }
    const diff = maxAbsDiff(logits, reference);
    t.diagnostic(`${backend}: max |y - ort-cpu| = ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-5, `${backend}: ${diff}`);
  }
});
