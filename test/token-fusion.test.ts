import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { readCheckpoint } from '../src/checkpoint/index.js';
import { artifactPath } from '../src/classifier/convert.js';
import { countsOf } from '../src/classifier/zoo.js';
import { type FloatTensor, floatTensor } from '../src/core/tensor.js';
import { LevitError } from '../src/core/errors.js';
import { checkFlopsClaims, loadFlopsClaims } from '../src/claims/flops-claims.js';
import type { Graph } from '../src/ir/graph.js';
import { optimizeForInference } from '../src/ir/passes.js';
import { NO_FUSION, type TokenFusion, fusionKey, fusionSchedule, parseTokenFusion } from '../src/models/fusion/spec.js';
import { buildGraph, getCard, withTokenFusion } from '../src/models/registry.js';
import { CheckpointWeights, ZeroWeights } from '../src/models/weights.js';
import { exportOnnx } from '../src/onnx/export.js';
import { readNpy, writeNpy } from '../src/util/npy.js';
import { checkerSkip, onnxCheck } from './helpers/onnx-checker.js';
import { GOLDEN_IMAGES, golden, needsShared, maxAbsDiff, runCli, runCliAsync, tempDir } from './helpers/shared.js';
import { type BenchRecord, type BenchResults, RESULTS_SCHEMA } from '../src/results/types.js';
import { validateResults } from '../src/results/read.js';
import { recordKey } from '../src/results/keys.js';
import { speedUps } from '../src/stats/speedups.js';
import { renderMarkdown } from '../src/render/bench.js';
import { renderPlot } from '../src/render/plot.js';
import { checkClaims, loadClaims } from '../src/claims/speed-claims.js';
import { imagenetClasses } from '../src/imagenet/classes.js';
import { type ReferenceSetting, type ReferenceTrace, referenceForward } from './helpers/token-fusion-reference.js';
import { randomVitWeights } from './helpers/vit-weights.js';

/**
 * Token fusion (MCTF, ToMe) for DeiT and ViT: the settings, the static schedule, the graph against the
 * official code's golden outputs (../shared/golden/deit_tiny_mctf, made by mlvlab/MCTF and
 * facebookresearch/ToMe) and against an independent float64 reference (test/helpers/token-fusion-reference.ts)
 * where no golden data exists (DeiT-Small, distilled models), FLOPs, and the command line.
 */

const GOLDEN = (...p: string[]) => golden('deit_tiny_mctf', ...p);
const TOLERANCE = 1e-3;
const IMAGE = 3 * 224 * 224;

/** The golden files per setting, and the images the golden README calls fragile (decisions ~1e-6 apart). */
const SETTINGS: { name: string; fusion: string; file: string; fragile: number[] }[] = [
  { name: 'plain', fusion: 'none', file: 'logits.npy', fragile: [] },
  { name: 'MCTF r16', fusion: 'mctf', file: 'logits_mctf_r16.npy', fragile: [4] },
  { name: 'MCTF fast', fusion: 'mctf-fast', file: 'logits_mctf_fast.npy', fragile: [1, 3] },
  { name: 'ToMe r13', fusion: 'tome', file: 'logits_tome_r13.npy', fragile: [] },
];

const goldenInput = () => readNpy(golden('input_224.npy'));
const images = (x: FloatTensor, from: number, count: number) => floatTensor([count, 3, 224, 224], x.data.slice(from * IMAGE, (from + count) * IMAGE));
const card = (id: string, fusion: string) => withTokenFusion(getCard(id), parseTokenFusion(fusion));

/** The inference graph of a model with weights from a map (checkpoint layout). */
function inferenceGraph(id: string, fusion: string, weights: ReadonlyMap<string, FloatTensor>): Graph {
  return optimizeForInference(buildGraph(card(id, fusion), new CheckpointWeights(new Map(weights))));
}

/** Runs an exported graph on one onnxruntime CPU thread; every graph output by name. */
async function run(graph: Graph, x: FloatTensor): Promise<Record<string, FloatTensor>> {
  const session = await ort.InferenceSession.create(exportOnnx(graph), { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  try {
    const out = await session.run({ [graph.inputs[0]]: new ort.Tensor('float32', x.data, [...x.shape]) });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, floatTensor([...v.dims], v.data as Float32Array)]));
  } finally {
    await session.release();
  }
}

const perImageMaxDiff = (a: FloatTensor, b: FloatTensor, classes = 1000) =>
  Array.from({ length: a.data.length / classes }, (_, i) => {
    let m = 0;
    for (let j = 0; j < classes; j++) m = Math.max(m, Math.abs(a.data[i * classes + j] - b.data[i * classes + j]));
    return m;
  });

/** An int32 .npy (the golden token sources): levit's reader takes floats only. */
function readInt32Npy(file: string): Int32Array {
  const buf = readFileSync(file);
  const headerLength = buf.readUInt16LE(8);
  assert.match(buf.subarray(10, 10 + headerLength).toString('latin1'), /'descr': '<i4'/);
  return new Int32Array(buf.buffer.slice(buf.byteOffset + 10 + headerLength));
}

test('--token-fusion settings: METHOD[:R], defaults as the official scripts, clear usage errors otherwise', () => {
  assert.deepEqual(parseTokenFusion('mctf'), { method: 'mctf', r: 16 });
  assert.deepEqual(parseTokenFusion('mctf-fast'), { method: 'mctf-fast', r: 0.35 });
  assert.deepEqual(parseTokenFusion('TOME'), { method: 'tome', r: 13 });
  assert.deepEqual(parseTokenFusion('tome:8'), { method: 'tome', r: 8 });
  assert.deepEqual(parseTokenFusion('mctf:0.5'), { method: 'mctf', r: 0.5 });
  assert.deepEqual(parseTokenFusion('none'), NO_FUSION);
  assert.equal(fusionKey(parseTokenFusion('mctf')), 'mctf-r16');
  assert.equal(fusionKey(NO_FUSION), '');
  for (const bad of ['mctf:-1', 'tome:0.5', 'tome:x', 'none:3', 'dtm', 'mctf:16:2', 'mctf:1.5', 'mctf:']) {
    assert.throws(
      () => parseTokenFusion(bad),
      (e: unknown) => e instanceof LevitError && e.exitCode === 2 && e.message.includes(bad) && /METHOD:R/.test(e.hint ?? ''),
      bad,
    );
  }
});

test("the schedule: tokens after each block as the official code leaves them (the golden README's counts)", () => {
  const after = (fusion: string, tokens = 197, protectedTokens = 1) =>
    fusionSchedule(parseTokenFusion(fusion), { tokens, protectedTokens, depth: 12 }).map((p) => p.tokensOut);
  assert.deepEqual(after('mctf'), [197, 181, 165, 149, 133, 117, 101, 85, 69, 53, 37, 21]);
  assert.deepEqual(after('mctf-fast'), [197, 197, 197, 129, 129, 129, 85, 85, 85, 56, 56, 56]);
  assert.deepEqual(after('tome'), [184, 171, 158, 145, 132, 119, 106, 93, 80, 67, 54, 41]);
  // MCTF fast splits r = int(0.35 (N - 1)) into r // 2 and the rest: 34 + 34, 22 + 22, 14 + 15.
  const fast = fusionSchedule(parseTokenFusion('mctf-fast'), { tokens: 197, protectedTokens: 1, depth: 12 }).filter((p) => p.kind === 'mctf');
  assert.deepEqual(
    fast.map((p) => [p.r1, p.r2]),
    [
      [34, 34],
      [22, 22],
      [14, 15],
    ],
  );
  // At most half of the unprotected tokens, at least 10 kept (MCTF), and nothing merged once r reaches 0.
  assert.deepEqual(after('mctf:100'), [197, 99, 50, 26, 14, 10, 10, 10, 10, 10, 10, 10]);
  assert.deepEqual(after('tome:100'), [99, 50, 26, 14, 8, 5, 3, 2, 2, 2, 2, 2]);
  // A distilled model protects two tokens.
  assert.deepEqual(after('tome', 198, 2).slice(0, 2), [185, 172]);
});

test('FLOPs per setting as levit counts them, and the MCTF repository figures they are checked against', () => {
  const flops = (id: string, fusion: string) => countsOf(card(id, fusion)).flops;
  assert.equal(flops('deit_tiny_patch16_224', 'none'), 1_255_080_324);
  assert.equal(flops('deit_tiny_patch16_224', 'mctf'), 713_456_868);
  assert.equal(flops('deit_tiny_patch16_224', 'mctf-fast'), 752_466_870);
  assert.equal(flops('deit_tiny_patch16_224', 'tome'), 735_200_726);
  assert.equal(flops('deit_small_patch16_224', 'mctf'), 2_610_100_680);
  assert.equal(flops('deit_small_patch16_224', 'tome'), 2_707_390_700);
  // The plain count is the card's, and fusion leaves the parameters alone.
  assert.deepEqual(countsOf(card('deit_small_patch16_224', 'none')), countsOf(getCard('deit_small_patch16_224')));
  assert.equal(countsOf(card('deit_small_patch16_224', 'mctf')).params, countsOf(getCard('deit_small_patch16_224')).params);

  const checks = checkFlopsClaims(loadFlopsClaims());
  assert.equal(checks.length, 6);
  for (const c of checks) assert.equal(c.verdict, 'agrees', `${c.claim}: levit ${c.levit_gflops.toFixed(3)} G, published ${c.published_gflops} G`);
  assert.ok(
    checks.every((c) => /fvcore/.test(c.convention) && /softmax/.test(c.convention)),
    'the file states both counting conventions',
  );
  // A figure off by more than 1% differs; the speed claims loader does not read the FLOPs file.
  const [first] = loadFlopsClaims();
  assert.equal(checkFlopsClaims([{ ...first, gflops: first.gflops * 1.02 }])[0].verdict, 'differs');
  assert.ok(loadClaims().every((c) => !c.id.startsWith('mctf-')));
});

test('ViT-Tiny takes token fusion with the same graph as DeiT-Tiny; other families refuse it with a usage error', () => {
  const describe = (id: string) => buildGraph(card(id, 'mctf'), new ZeroWeights()).nodes.map((n) => `${n.op} ${n.inputs.length}`);
  assert.deepEqual(describe('vit_tiny_patch16_224'), describe('deit_tiny_patch16_224'));
  assert.throws(
    () => card('levit_128s', 'tome'),
    (e: unknown) => e instanceof LevitError && e.exitCode === 2 && /levit_128s is a LeViT model/.test(e.message) && /deit_tiny_patch16_224/.test(e.hint ?? ''),
  );
});

test('the artifact cache key holds the token fusion setting', () => {
  const weights = { kind: 'synthetic' as const, id: 'synthetic-s0', label: 'synthetic' };
  const paths = ['none', 'mctf', 'mctf:8', 'tome'].map((f) => artifactPath('deit_tiny_patch16_224', weights, 'onnx', undefined, parseTokenFusion(f)));
  assert.equal(new Set(paths).size, 4);
  assert.match(paths[1], /\.mctf-r16\.onnx$/);
  assert.equal(paths[0], artifactPath('deit_tiny_patch16_224', weights, 'onnx'));
});

for (const s of SETTINGS) {
  test(`DeiT-Tiny ${s.name}: the official code's logits within ${TOLERANCE} on ort-cpu (batch 7, golden checkpoint)`, { skip: needsShared }, async (t) => {
    const weights = readCheckpoint(GOLDEN('model.safetensors')).weights as Map<string, FloatTensor>;
    const graph = inferenceGraph('deit_tiny_patch16_224', s.fusion, weights);
    const logits = Object.values(await run(graph, goldenInput()))[0];
    const diffs = perImageMaxDiff(logits, readNpy(GOLDEN(s.file)));
    t.diagnostic(`max |logit - official| per image: ${diffs.map((d) => d.toExponential(1)).join(' ')}`);
    // The README's fragile decisions (score gaps ~1e-6) may flip under float32 rounding: only they may differ.
    const off = diffs.map((d, i) => (d > TOLERANCE ? i : -1)).filter((i) => i >= 0);
    for (const i of off) t.diagnostic(`image ${i} differs by ${diffs[i].toFixed(3)}: ${s.fragile.includes(i) ? 'a fragile decision (README)' : 'NOT fragile'}`);
    assert.deepEqual(
      off.filter((i) => !s.fragile.includes(i)),
      [],
    );
    if (s.fusion !== 'none') {
      // Fusion did happen: the official fused logits are far from the plain ones (the README: >= 0.02 on every image).
      const plain = perImageMaxDiff(logits, readNpy(GOLDEN('logits.npy')));
      assert.ok(Math.min(...plain) > 0.01, `${plain}`);
    }
  });
}

test(
  "MCTF r16's token order: the graph's group ids give the official sources and sizes of image 0, and its hidden states",
  { skip: needsShared },
  async (t) => {
    const weights = readCheckpoint(GOLDEN('model.safetensors')).weights as Map<string, FloatTensor>;
    const graph = inferenceGraph('deit_tiny_patch16_224', 'mctf', weights);
    const inScope = (block: number) => graph.nodes.filter((n) => n.name.startsWith(`blocks.${block}/`));
    // Each merging block's group ids (the input of its segment sums) and each block's output (its last add).
    const ids = Array.from({ length: 12 }, (_, i) => inScope(i).find((n) => n.op === 'segment_sum')?.inputs[1]);
    const hidden = [0, 1, 2, 11].map(
      (i) =>
        inScope(i)
          .filter((n) => n.op === 'add')
          .at(-1)!.outputs[0],
    );
    graph.outputs.push(...ids.filter((v): v is string => !!v), ...hidden);
    const out = await run(graph, images(goldenInput(), 0, 1));

    const sources = readInt32Npy(GOLDEN('source_mctf_r16_img0.npy'));
    const sizes = readNpy(GOLDEN('size_mctf_r16_img0.npy'));
    let owner = Array.from({ length: 197 }, (_, j) => j);
    for (let block = 0; block < 12; block++) {
      if (ids[block]) owner = owner.map((o) => out[ids[block]!].data[o]);
      assert.deepEqual(owner, Array.from(sources.subarray(block * 197, (block + 1) * 197)), `sources after block ${block}`);
      const tokens = Math.max(...owner) + 1;
      const counted = Array.from({ length: tokens }, (_, k) => owner.filter((o) => o === k).length);
      assert.deepEqual(counted, Array.from(sizes.data.subarray(block * 197, block * 197 + tokens)), `sizes after block ${block}`);
    }
    [0, 1, 2, 11].forEach((block, k) => {
      const expected = readNpy(GOLDEN(`hidden_mctf_r16_block${block}.npy`));
      const diff = maxAbsDiff(out[hidden[k]], floatTensor([1, ...expected.shape], expected.data));
      t.diagnostic(`hidden state after block ${block}: max |Δ| ${diff.toExponential(1)}`);
      assert.ok(diff < 1e-4, `block ${block}: ${diff}`);
    });
  },
);

test(
  'the float64 reference reproduces the golden data: logits of image 0 for every setting, MCTF r16 hidden states, sizes and sources',
  { skip: needsShared },
  (t) => {
    const weights = readCheckpoint(GOLDEN('model.safetensors')).weights as Map<string, FloatTensor>;
    const arch = { dim: 192, heads: 3, depth: 12, distilled: false, eps: 1e-6 };
    const image = goldenInput().data.subarray(0, IMAGE);
    for (const s of SETTINGS) {
      const f = parseTokenFusion(s.fusion);
      const trace: ReferenceTrace = { hidden: [], sizes: [], sources: [], gaps: [] };
      const y = referenceForward(weights, arch, image, 224, f as ReferenceSetting, trace);
      const diff = maxAbsDiff(floatTensor([1000], Float32Array.from(y)), floatTensor([1000], readNpy(GOLDEN(s.file)).data.slice(0, 1000)));
      t.diagnostic(`${s.name}: max |Δ| ${diff.toExponential(1)}`);
      assert.ok(diff < 1e-5, `${s.name}: ${diff}`);
      if (f.method !== 'mctf') continue;
      const sources = readInt32Npy(GOLDEN('source_mctf_r16_img0.npy'));
      const sizes = readNpy(GOLDEN('size_mctf_r16_img0.npy'));
      trace.sources.forEach((row, b) => assert.deepEqual(row, Array.from(sources.subarray(b * 197, (b + 1) * 197)), `sources ${b}`));
      trace.sizes.forEach((row, b) => assert.deepEqual(row, Array.from(sizes.data.subarray(b * 197, b * 197 + row.length)), `sizes ${b}`));
      for (const block of [0, 1, 2, 11]) {
        const expected = readNpy(GOLDEN(`hidden_mctf_r16_block${block}.npy`));
        const got = floatTensor(expected.shape, Float32Array.from(trace.hidden[block].flatMap((row) => Array.from(row))));
        assert.ok(maxAbsDiff(got, expected) < 1e-4, `hidden ${block}`);
      }
    }
  },
);

/**
 * No golden data exists for DeiT-Small or for distilled models: random weights drawn as the golden script
 * draws them, the graph on onnxruntime against the independent float64 reference, on one golden image.
 * The reference reports how far apart the closest merge decisions were; a seed whose decisions are
 * nearly tied would make the comparison a coin toss, so the test says so instead of passing by luck.
 */
const independent: { model: string; dim: number; heads: number; distilled: boolean; fusions: string[] }[] = [
  { model: 'deit_small_patch16_224', dim: 384, heads: 6, distilled: false, fusions: ['mctf', 'mctf-fast', 'tome'] },
  { model: 'deit_tiny_distilled_patch16_224', dim: 192, heads: 3, distilled: true, fusions: ['mctf', 'tome'] },
];
for (const m of independent) {
  test(`${m.model} with ${m.fusions.join(', ')}: the graph against the independent reference (random weights)`, { skip: needsShared }, async (t) => {
    const weights = randomVitWeights({ dim: m.dim, depth: 12, distilled: m.distilled, seed: 1 });
    const x = images(goldenInput(), 2, 1);
    const arch = { dim: m.dim, heads: m.heads, depth: 12, distilled: m.distilled, eps: 1e-6 };
    const plain = referenceForward(weights, arch, x.data, 224, { method: 'none', r: 0 });
    for (const fusion of m.fusions) {
      const f = parseTokenFusion(fusion) as TokenFusion & ReferenceSetting;
      const trace: ReferenceTrace = { hidden: [], sizes: [], sources: [], gaps: [] };
      const reference = Float32Array.from(referenceForward(weights, arch, x.data, 224, f, trace));
      const logits = Object.values(await run(inferenceGraph(m.model, fusion, weights), x))[0];
      const diff = maxAbsDiff(logits, floatTensor([1, 1000], reference));
      const moved = maxAbsDiff(floatTensor([1000], reference), floatTensor([1000], Float32Array.from(plain)));
      const gap = Math.min(...trace.gaps);
      t.diagnostic(`${fusion}: max |Δ| ${diff.toExponential(1)}; fusion moved the logits by ${moved.toFixed(3)}; closest decision ${gap.toExponential(1)}`);
      // Float32 moves MCTF's scores by up to ~4e-7 (golden README): 5 times that is a decision rounding cannot flip.
      assert.ok(gap > 2e-6, `${fusion}: decisions only ${gap} apart: choose another seed`);
      assert.equal(
        trace.hidden.at(-1)!.length,
        fusionSchedule(f, { tokens: 196 + (m.distilled ? 2 : 1), protectedTokens: m.distilled ? 2 : 1, depth: 12 }).at(-1)!.tokensOut,
      );
      assert.ok(moved > 100 * TOLERANCE, `${fusion} barely changed the logits (${moved})`);
      assert.ok(diff < TOLERANCE, `${fusion}: ${diff}`);
    }
  });
}

test('the fused ONNX graph passes the ONNX checker (full_check: shape inference through the new operators)', { skip: checkerSkip }, (t) => {
  const dir = tempDir(t);
  for (const fusion of ['mctf', 'tome']) {
    const file = join(dir, `${fusion}.onnx`);
    writeFileSync(file, exportOnnx(optimizeForInference(buildGraph(card('deit_tiny_distilled_patch16_224', fusion), new ZeroWeights()))));
    const r = onnxCheck(file);
    assert.ok(r.ok, r.output);
  }
});

const backendStatus = JSON.parse(runCli(['backends', '--json']).stdout) as { id: string; available: boolean; reason?: string }[];
const unavailable = (id: string) => {
  const b = backendStatus.find((s) => s.id === id);
  return b?.available ? false : `${id} is not available here (levit backends says why)`;
};

/**
 * Other runtimes: ort-wasm runs the ONNX graph, tfjs-wasm and tfjs-cpu the TF.js export (its own lowering of
 * every new operator), ort-webgpu where a WebGPU adapter exists (lavapipe on CI). Two images, so that a
 * lowering that mixes up images in a batch shows (TF.js's GatherV2 with batch_dims did, on wasm).
 */
const FIRST = 5; // images 5 and 6: no fragile decision in any setting (golden README)
const runtimes: [string, string[], number][] = [
  ['ort-wasm', ['mctf', 'tome'], 2],
  ['tfjs-wasm', ['mctf', 'mctf-fast', 'tome'], 2],
  ['tfjs-cpu', ['mctf'], 2],
  ['ort-webgpu', ['mctf', 'tome'], 2],
];
for (const [backend, fusions, count] of runtimes) {
  const skip = needsShared || unavailable(backend);
  test(`${backend} runs the fused graphs (${fusions.join(', ')}): golden logits within ${TOLERANCE}`, { skip }, async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'x.npy');
    writeNpy(input, images(goldenInput(), FIRST, count));
    for (const fusion of fusions) {
      const out = join(dir, `${fusion}.npy`);
      const args = ['predict', 'deit_tiny_patch16_224', input, '--checkpoint', GOLDEN('model.safetensors'), '--backend', backend, '--token-fusion', fusion];
      const r = await runCliAsync([...args, '--logits-out', out], { LEVIT_CACHE_DIR: dir });
      assert.equal(r.status, 0, r.stderr);
      const file = SETTINGS.find((s) => s.fusion === fusion)!.file;
      const expected = floatTensor([count, 1000], readNpy(GOLDEN(file)).data.slice(FIRST * 1000, (FIRST + count) * 1000));
      const diffs = perImageMaxDiff(readNpy(out), expected);
      t.diagnostic(`${fusion}: max |Δ| per image ${diffs.map((d) => d.toExponential(1)).join(' ')}`);
      assert.ok(Math.max(...diffs) <= (backend === 'ort-webgpu' ? 2e-3 : TOLERANCE), `${fusion}: ${diffs}`);
    }
  });
}

test('convert --token-fusion: the fused model, its FLOPs, the setting in the cache name and the metadata', (t) => {
  const dir = tempDir(t);
  const r = runCli(['convert', 'deit_tiny_patch16_224', '--weights', 'synthetic', '--token-fusion', 'mctf', '--json'], { LEVIT_CACHE_DIR: dir });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.token_fusion, 'mctf:16');
  assert.equal(out.counts.flops, 713_456_868);
  assert.match(out.out, /deit_tiny_patch16_224\.synthetic-s0\.v\d+\.mctf-r16\.onnx$/);
  assert.match(readFileSync(out.out).toString('latin1'), /token_fusion.{1,4}mctf:16: MCTF r=16/);
  const text = runCli(['convert', 'deit_tiny_patch16_224', '--weights', 'synthetic', '--token-fusion', 'tome:8', '-o', join(dir, 'tome8.onnx')], {
    LEVIT_CACHE_DIR: dir,
  });
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /fusion\s+tome:8: ToMe r=8/);
});

test('--token-fusion errors: a non-DeiT model, an unknown setting, a reduced precision: exit 2, said plainly, no stack trace', (t) => {
  const env = { LEVIT_CACHE_DIR: tempDir(t) };
  const cases: [string[], RegExp][] = [
    [
      ['convert', 'levit_128s', '--weights', 'synthetic', '--token-fusion', 'mctf'],
      /levit_128s is a LeViT model; token fusion \(MCTF, ToMe\) applies to DeiT and ViT only/,
    ],
    [['predict', 'efficientnet_b0', 'x.npy', '--weights', 'synthetic', '--token-fusion', 'tome'], /efficientnet_b0 is a EfficientNet model/],
    [['convert', 'deit_tiny_patch16_224', '--weights', 'synthetic', '--token-fusion', 'dtm'], /--token-fusion: unknown setting 'dtm'/],
    [['bench', 'deit_tiny_patch16_224', '--token-fusion', 'none,tome:0.5', '--no-machine-check'], /R in 'tome:0.5' must be a whole number/],
    [['bench', 'levit_128s', '--token-fusion', 'mctf', '--no-machine-check'], /levit_128s is a LeViT model/],
    [['convert', 'deit_tiny_patch16_224', '--weights', 'synthetic', '--token-fusion', 'mctf', '--precision', 'fp16'], /token fusion is built in float32 only/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args, env);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.match(r.stderr, /Hint: /, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const json = runCli(['convert', 'levit_128s', '--token-fusion', 'mctf', '--json'], env);
  assert.equal(JSON.parse(json.stdout).error.exitCode, 2);
});

test('--help teaches the settings', () => {
  for (const command of ['convert', 'predict', 'eval', 'bench', 'info']) {
    const r = runCli([command, '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--token-fusion/, command);
  }
  assert.match(runCli(['convert', '--help']).stdout, /mctf-fast \(35% of the\s+tokens in blocks 4, 7 and 10\)/);
  assert.match(runCli(['bench', '--help']).stdout, /none,mctf,tome:8,tome:13/);
});

test('bench --token-fusion: each setting its own record with its own FLOPs; a model that cannot merge tokens runs plain and the rest is said', (t) => {
  const quick = ['--threads', '1', '--batch', '1', '--duration', '0', '--warmup', '0', '--min-iterations', '1', '--no-machine-check'];
  const r = runCli(['bench', 'deit_tiny_patch16_224', 'levit_128s', '--token-fusion', 'none,mctf,mctf:16', ...quick, '--json'], {
    LEVIT_CACHE_DIR: tempDir(t),
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { records: BenchRecord[]; skipped: { model: string; reason: string }[] };
  assert.deepEqual(
    out.records.map((x) => [x.model, x.token_fusion, x.flops]),
    [
      ['deit_tiny_patch16_224', undefined, 1_255_080_324],
      ['deit_tiny_patch16_224', 'mctf:16', 713_456_868],
      ['levit_128s', undefined, 305_108_946],
    ],
  );
  assert.deepEqual(
    out.skipped.map((s) => [s.model, s.reason]),
    [['levit_128s', 'token fusion mctf:16 applies to DeiT and ViT models only']],
  );
  assert.equal(new Set(out.records.map(recordKey)).size, 3);
});

function benchRecord(model: string, family: string, ips: number, fusion?: string, flops = 1e9): BenchRecord {
  const times_ms = Array.from({ length: 12 }, () => 16_000 / ips);
  return {
    model,
    family,
    backend: 'ort-cpu',
    threads: 1,
    batch: 16,
    resolution: 224,
    precision: 'fp32',
    ...(fusion ? { token_fusion: fusion } : {}),
    weights_kind: 'synthetic',
    params: 22e6,
    flops,
    published_top1: family === 'levit' ? 79 : 79.8,
    images_per_second: ips,
    times_ms,
    latency_ms: { mean: 16_000 / ips, median: 16_000 / ips, min: 1, max: 2, p90: 2, p99: 2 },
    spread: { relative_iqr: 0.02, median_ci95: [1, 1] },
    stability: null,
  } as unknown as BenchRecord;
}

test('the table, plot and claims: fused rows with their FLOPs and speed-up over the plain model, never a rival at the plain top-1', () => {
  const records = [
    benchRecord('levit_192', 'levit', 60),
    benchRecord('deit_small_patch16_224', 'deit', 10, undefined, 4.6e9),
    benchRecord('deit_small_patch16_224', 'deit', 17, 'mctf:16', 2.61e9),
    benchRecord('deit_small_patch16_224', 'deit', 15, 'tome:13', 2.71e9),
  ];
  const results = {
    schema: RESULTS_SCHEMA,
    records,
    system: { id: 'm', cpu: { flags: [] }, os: { arch: 'x64' } },
    machine_check: null,
  } as unknown as BenchResults;
  const table = renderMarkdown(results);
  // Identical batch times: each interval is the spread between runs alone (stats/rerun-spread.ts).
  assert.match(table, /\| deit_small_patch16_224 mctf:16 \| \(79\.8\) \| 22\.0M \| 2610M \| 17\.0 ±0\.0% \| {2}\| mctf:16 1\.70× \[1\.53, 1\.89\] \|/);
  assert.match(table, /\| deit_small_patch16_224 tome:13 \| \(79\.8\) \| 22\.0M \| 2710M \| 15\.0 ±0\.0% \| {2}\| tome:13 1\.50× \[1\.35, 1\.67\] \|/);
  assert.match(table, /\| levit_192 \| 79\.0 \| 22\.0M \| 1000M \| 60\.0 ±0\.0% \| 6\.00× \[5\.39, 6\.68\] \(deit_small_patch16_224\) \| {2}\|/);
  assert.match(table, /vs plain: its speed-up over the plain model/);
  // Fused records are no one's match at matched accuracy: DeiT-Small plain stays LeViT-192's rival.
  assert.deepEqual(
    speedUps(records, 'deit').map((u) => u.against),
    ['deit_small_patch16_224'],
  );
  assert.ok(Math.abs(speedUps(records, 'deit')[0].speedup - 6) < 1e-9);
  const svg = renderPlot(results);
  assert.equal((svg.match(/fill="white" stroke="#2ca02c"/g) ?? []).length, 2 + 2, 'two hollow points and two hollow legend markers');
  assert.match(svg, />deit_small_patch16_224 mctf:16</);
  assert.match(svg, /Hollow: with token fusion, at/);
  // Speed claims never rest on a fused record.
  const claim = {
    id: 'x',
    statement: 's',
    model: 'levit_192',
    than: 'deit_small_patch16_224',
    factor: 2,
    device: { kind: 'cpu' as const, name: 'c' },
    batch: [16],
    threads: 1,
    source: 's',
  };
  const onlyFused = { ...results, records: records.filter((r) => r.model === 'levit_192' || r.token_fusion) };
  const [check] = checkClaims(onlyFused, [claim]);
  assert.equal(check.verdict, 'not measured');
  assert.match(check.notes[0], /the run has deit_small_patch16_224 only with token fusion/);
  assert.equal(checkClaims(results, [claim])[0].verdict, 'holds', 'with the plain record, it is tested (6x against 2x)');
  // A results file keeps fused and plain records apart, and says which setting a bad record has.
  assert.equal(validateResults(JSON.parse(JSON.stringify(results)), 'r.json').records.length, 4);
  const twice = { ...results, records: [records[2], records[2]] };
  assert.throws(() => validateResults(JSON.parse(JSON.stringify(twice)), 'r.json'), /repeats the configuration of records\[0\] \(.* mctf:16\)/);
});

test('eval --token-fusion: the plain model on the same images, the change and the top-1 agreement (golden images, MCTF r16)', { skip: needsShared }, (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'val');
  const plainTop1 = JSON.parse(readFileSync(GOLDEN('summary.json'), 'utf8')).plain.top1 as number[];
  const wnids = imagenetClasses().map((c) => c.wnid);
  plainTop1.forEach((label, i) => {
    mkdirSync(join(root, wnids[label]), { recursive: true });
    copyFileSync(golden('images', GOLDEN_IMAGES[i]), join(root, wnids[label], GOLDEN_IMAGES[i]));
  });
  const r = runCli(['eval', 'deit_tiny_patch16_224', root, '--checkpoint', GOLDEN('model.safetensors'), '--token-fusion', 'mctf', '--json'], {
    LEVIT_CACHE_DIR: dir,
  });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.evaluated, 7);
  // The official code keeps every top-1 class with MCTF r16 on these images (summary.json: 7 of 7).
  assert.deepEqual([s.top1, s.fusion.plain.top1, s.fusion.top1_agreement, s.fusion.top1_change], [100, 100, 100, 0]);
  assert.equal(s.fusion.token_fusion, 'mctf:16');
  assert.equal(s.precision, null);
  assert.equal(s.verdict, 'not comparable');
  assert.match(s.reason, /the published top-1 is the plain model's/);
  const text = runCli(['eval', 'deit_tiny_patch16_224', root, '--checkpoint', GOLDEN('model.safetensors'), '--token-fusion', 'mctf'], {
    LEVIT_CACHE_DIR: dir,
  });
  assert.match(text.stdout, /agreement\s+top-1 class the same as the plain model's on 100\.00% of the images/);
  assert.match(text.stdout, /plain\s+top-1 100\.000%/);
});

test("levit info lists the FLOPs of each setting beside the published figures; --token-fusion gives one setting's counts", () => {
  const r = runCli(['info', 'deit_tiny_patch16_224', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.deepEqual(
    info.token_fusion.map((f: { token_fusion: string; flops: number; claims: { verdict: string }[] }) => [
      f.token_fusion,
      f.flops,
      f.claims.map((c) => c.verdict),
    ]),
    [
      ['none', 1_255_080_324, ['agrees']],
      ['mctf:16', 713_456_868, ['agrees']],
      ['mctf-fast:0.35', 752_466_870, ['agrees']],
      ['tome:13', 735_200_726, []],
    ],
  );
  const one = runCli(['info', 'deit_tiny_patch16_224', '--token-fusion', 'tome:8']);
  assert.match(one.stdout, /FLOPs\s+929,863,460 multiply-adds per image/);
  assert.match(one.stdout, /tome:8\s+929,863,460/);
  assert.equal(JSON.parse(runCli(['info', 'levit_128s', '--json']).stdout).token_fusion, undefined);
  // The stages table: the tokens a fused model ends with beside the ones it starts with (197 - 8 x 12).
  assert.deepEqual(
    JSON.parse(runCli(['info', 'deit_tiny_patch16_224', '--token-fusion', 'tome:8', '--json']).stdout).stages.map((s: Record<string, number>) => [
      s.tokens,
      s.tokens_out,
    ]),
    [[197, 101]],
  );
  assert.equal(info.stages[0].tokens_out, undefined, 'no fusion, no second count');
});

test('a FLOPs claim naming a setting or model levit does not know is refused as a broken claims file, not as a usage error later', () => {
  const dir = mkdtempSync(join(tmpdir(), 'levit-flops-claims-'));
  const claim = { id: 'x', statement: 's', model: 'deit_tiny_patch16_224', token_fusion: 'mctf:16', gflops: 0.71, source: 's' };
  const write = (c: object) => writeFileSync(join(dir, 'f.json'), JSON.stringify({ kind: 'flops', convention: 'c', claims: [c] }));
  write(claim);
  assert.equal(loadFlopsClaims(dir).length, 1);
  write({ ...claim, token_fusion: 'mctff' });
  assert.throws(() => loadFlopsClaims(dir), /f\.json: invalid claims file: claim x: .*mctff/);
  write({ ...claim, model: 'deit_tiny_patch16_225' });
  assert.throws(() => loadFlopsClaims(dir), /f\.json: invalid claims file: claim x: .*deit_tiny_patch16_225/);
});
