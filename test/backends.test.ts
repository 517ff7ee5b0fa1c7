import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { getCard } from '../src/models/registry.js';
import { ensureArtifact } from '../src/classifier/convert.js';
import type { BackendStatus } from '../src/runtime/backend.js';
import { readNpy, writeNpy } from '../src/util/npy.js';
import { packageRoot } from '../src/util/paths.js';
import { ortReason } from '../src/runtime/ort-node.js';
import { TestServer } from './helpers/http-server.js';
import { skipUnlessRuns, webgpuRequired } from './helpers/backends.js';
import { golden, needsShared, maxAbsDiff, runCli, runCliAsync, tempDir } from './helpers/shared.js';

const checkpoint = () => golden('levit_128s', 'LeViT-128S-golden.pth');
const statuses = (): BackendStatus[] => JSON.parse(runCli(['backends', '--json']).stdout);
const all = statuses();
const statusOf = (id: string) => all.find((b) => b.id === id);
const available = (id: string) => statusOf(id)?.available ?? false;

test('levit backends lists every backend with its status; unavailable ones say why', () => {
  assert.deepEqual(
    all.map((b) => b.id),
    ['ort-cpu', 'ort-webgpu', 'ort-cuda', 'ort-wasm', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu'],
  );
  for (const id of ['ort-cpu', 'ort-wasm', 'tfjs-wasm', 'tfjs-cpu']) assert.ok(available(id), `${id} must run on this machine`);
  for (const b of all.filter((x) => !x.available)) assert.ok(b.reason && b.reason.length > 20, `${b.id} says why: ${b.reason}`);
  const cuda = all.find((b) => b.id === 'ort-cuda')!;
  if (!cuda.available) assert.match(cuda.reason!, /ONNXRUNTIME_NODE_INSTALL=cuda12 node \S+onnxruntime-node\/script\/install\.js/);
  if (webgpuRequired) assert.ok(available('ort-webgpu'), `ort-webgpu: ${all.find((b) => b.id === 'ort-webgpu')!.reason}`);
});

const cases: [string, number][] = [
  ['ort-cpu', 1e-3],
  ['ort-wasm', 1e-3],
  ['tfjs-wasm', 1e-3],
  ['tfjs-cpu', 1e-3],
  ['ort-webgpu', 2e-3],
];
for (const [backend, tolerance] of cases) {
  const skip = needsShared || skipUnlessRuns(statusOf(backend), backend);
  test(`levit predict --backend ${backend} reproduces the golden logits within ${tolerance}`, { skip }, async (t) => {
    const dir = tempDir(t);
    const out = join(dir, 'y.npy');
    const r = await runCliAsync(
      ['predict', 'levit_128s', golden('input_224.npy'), '--checkpoint', checkpoint(), '--backend', backend, '--logits-out', out, '--json'],
      { LEVIT_CACHE_DIR: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    const diff = maxAbsDiff(readNpy(out), readNpy(golden('levit_128s', 'logits.npy')));
    t.diagnostic(`${backend}: max |logit - golden| = ${diff.toExponential(2)}`);
    assert.ok(diff <= tolerance, `${diff}`);
    const json = JSON.parse(r.stdout);
    assert.equal(json.predictions.length, 7);
    assert.equal(json.predictions[0].top.length, 5);
    assert.ok(json.predictions[0].top[0].probability >= json.predictions[0].top[1].probability);
  });
}

test('the TF.js artifact runs in a stock @tensorflow/tfjs, loaded over HTTP, with the ONNX logits', { skip: needsShared }, async (t) => {
  const dir = tempDir(t);
  const tfjsDir = join(dir, 'model');
  const convert = runCli(['convert', 'levit_128s', '--checkpoint', checkpoint(), '--to', 'tfjs', '--out', tfjsDir]);
  assert.equal(convert.status, 0, convert.stderr);
  const files = Object.fromEntries(readdirSync(tfjsDir).map((f) => [`/${f}`, { kind: 'file' as const, body: readFileSync(join(tfjsDir, f)) }]));
  const server = new TestServer(files);
  const url = await server.start();
  t.after(() => server.stop());
  // A script that knows nothing of levit: the published @tensorflow/tfjs package and a URL.
  const script = join(dir, 'plain.cjs');
  writeFileSync(
    script,
    `const tf = require(${JSON.stringify(createRequire(join(packageRoot, 'package.json')).resolve('@tensorflow/tfjs'))});
     const fs = require('fs');
     (async () => {
       const model = await tf.loadGraphModel(process.argv[2] + '/model.json');
       const buf = fs.readFileSync(process.argv[3]);
       const header = buf.readUInt16LE(8);
       const x = tf.tensor(new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + header)), [7, 3, 224, 224]);
       const y = model.predict(x);
       fs.writeFileSync(process.argv[4], Buffer.from((await y.data()).buffer));
     })();`,
  );
  const out = join(dir, 'y.f32');
  // Asynchronously: this process serves the model to the child.
  const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [script, url, golden('input_224.npy'), out], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stderr }));
  });
  assert.equal(r.status, 0, r.stderr);
  const y = new Float32Array(readFileSync(out).buffer.slice(0));
  const diff = maxAbsDiff({ dtype: 'float32', shape: [7, 1000], data: y }, readNpy(golden('levit_128s', 'logits.npy')));
  t.diagnostic(`stock tfjs: max |logit - golden| = ${diff.toExponential(2)}`);
  assert.ok(diff <= 1e-3);
});

test('artifacts are cached per model, weights and format', async (t) => {
  const dir = tempDir(t);
  process.env.LEVIT_CACHE_DIR = dir;
  t.after(() => delete process.env.LEVIT_CACHE_DIR);
  const card = getCard('levit_128s');
  const first = await ensureArtifact(card, { kind: 'synthetic', seed: 0 }, 'tfjs');
  const again = await ensureArtifact(card, { kind: 'synthetic', seed: 0 }, 'tfjs');
  const other = await ensureArtifact(card, { kind: 'synthetic', seed: 1 }, 'tfjs');
  const onnx = await ensureArtifact(card, { kind: 'synthetic', seed: 0 }, 'onnx');
  assert.deepEqual([first.built, again.built, other.built, onnx.built], [true, false, true, true]);
  assert.equal(first.path, again.path);
  assert.notEqual(first.path, other.path);
  assert.match(onnx.path, /\.onnx$/);
});

test('predict refuses inputs that do not fit the model, saying what it takes', (t) => {
  const dir = tempDir(t);
  // Synthetic tensors, so that this runs on a fresh clone without ../shared.
  const logits = join(dir, 'logits.npy');
  writeNpy(logits, { dtype: 'float32', shape: [7, 1000], data: new Float32Array(7 * 1000) });
  const input = join(dir, 'input.npy');
  writeNpy(input, { dtype: 'float32', shape: [1, 3, 224, 224], data: new Float32Array(3 * 224 * 224) });
  const r = runCli(['predict', 'levit_128s', logits, '--weights', 'synthetic'], { LEVIT_CACHE_DIR: dir });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /holds a tensor of shape \[7, 1000\]; levit_128s takes \[N, 3, 224, 224\]/);
  const unknown = runCli(['predict', 'levit_128s', input, '--backend', 'ort-cuda', '--weights', 'synthetic'], { LEVIT_CACHE_DIR: dir });
  if (!available('ort-cuda')) {
    assert.equal(unknown.status, 5);
    assert.match(unknown.stderr, /backend ort-cuda is not available here/);
  }
});

test("onnxruntime's errors are given in words, without its C++ source location", () => {
  const raw =
    '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize() ' +
    'adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters.\nmore';
  assert.equal(ortReason(raw), 'Failed to get a WebGPU adapter: No supported adapters');
  assert.equal(ortReason('plain failure.'), 'plain failure');
});
