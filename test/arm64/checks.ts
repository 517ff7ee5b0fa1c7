/**
 * levit on linux-arm64: what `npm run test:arm64` runs under arm64 Node (scripts/arm64/node.sh),
 * natively on an ARM machine or emulated by qemu-user on x86-64. It lives outside the x64 suite
 * (it is no dist/test/*.test.js) because it requires arm64. Each check prints what it measured;
 * the summary at the end says where it ran.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { detectEmulation } from '../../src/results/emulation.js';
import type { BenchResults } from '../../src/results/types.js';
import { type FloatTensor, floatTensor } from '../../src/core/tensor.js';
import { getCard } from '../../src/models/registry.js';
import { ensureArtifact } from '../../src/classifier/convert.js';
import { ImageDecodeError, decodeRgb } from '../../src/preprocess/decode.js';
import { evalTransform } from '../../src/preprocess/transform.js';
import type { BackendStatus } from '../../src/runtime/backend.js';
import { requireBackend } from '../../src/runtime/registry.js';
import { readNpy } from '../../src/util/npy.js';
import { GOLDEN_IMAGES, absDiffStats, golden, goldenDir, hasShared, maxAbsDiff, runCli } from '../helpers/shared.js';

/** Set by scripts/arm64/node.sh when this Node runs under qemu-user. */
const emulator = process.env.LEVIT_EMULATOR;
const BACKENDS = ['ort-cpu', 'ort-wasm', 'tfjs-wasm'] as const;
// Paths only: the first check says, in words, when ../shared is missing.
const MODELS = [
  { model: 'levit_128s', checkpoint: join(goldenDir, 'levit_128s', 'LeViT-128S-golden.pth'), logits: join(goldenDir, 'levit_128s', 'logits.npy') },
  {
    model: 'efficientnet_b0',
    checkpoint: join(goldenDir, 'efficientnet_b0', 'efficientnet_b0-golden.pth'),
    logits: join(goldenDir, 'efficientnet_b0', 'logits.npy'),
  },
  {
    model: 'deit_tiny_distilled_patch16_224',
    checkpoint: join(goldenDir, 'deit_tiny_distilled', 'model.safetensors'),
    logits: join(goldenDir, 'deit_tiny_distilled', 'logits.npy'),
  },
];
/** Golden images per logits check: two, so that batches run too; emulated, each costs seconds to a minute. */
const IMAGES = 2;
const TOLERANCE = 1e-3;

const cache = mkdtempSync(join(tmpdir(), 'levit-arm64-'));
process.env.LEVIT_CACHE_DIR = cache;
const summary: string[] = [];
after(() => {
  rmSync(cache, { recursive: true, force: true });
  const text = ['levit on linux-arm64, summary:', ...summary.map((s) => `  ${s}`)].join('\n');
  // A file for scripts/arm64/test.sh to print last: the spec reporter's own output comes later than this hook.
  if (process.env.LEVIT_ARM64_SUMMARY) writeFileSync(process.env.LEVIT_ARM64_SUMMARY, `${text}\n`);
  else console.log(text);
});

/** The first n items of a batch. */
function firstOf(t: FloatTensor, n: number): FloatTensor {
  const per = t.data.length / t.shape[0];
  return floatTensor([n, ...t.shape.slice(1)], t.data.slice(0, n * per));
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(0)} s`;

test('this is linux-arm64 Node, and levit knows whether it is emulated', () => {
  assert.equal(`${process.platform}-${process.arch}`, 'linux-arm64');
  assert.ok(hasShared, `the golden files are missing (${goldenDir}): clone ../shared beside the checkout or set LEVIT_SHARED_DIR`);
  const emulation = detectEmulation();
  if (emulator) {
    assert.ok(emulation, 'qemu-user runs this process: bench must know');
    assert.ok(
      emulation.evidence.some((e) => e.startsWith('the kernel runs ')),
      emulation.evidence.join('; '),
    );
  } else {
    assert.equal(emulation, null, emulation?.evidence.join('; '));
  }
  const how = emulation ? `EMULATED by ${emulator} (${emulation.evidence.join('; ')})` : 'natively';
  summary.unshift(`ran on linux-arm64 Node ${process.version}, ${how}`);
});

test("sharp's arm64 build decodes the golden images; the transform equals torchvision on PIL", async (t) => {
  const start = performance.now();
  const reference = readNpy(golden('input_224.npy'));
  const n = 3 * 224 * 224;
  let worst = 0;
  for (const [i, file] of GOLDEN_IMAGES.entries()) {
    const x = evalTransform(await decodeRgb(golden('images', file)), getCard('levit_128s').preprocessing);
    const { mean, max } = absDiffStats(x.data, reference.data, n, 0, i * n);
    t.diagnostic(`${file}: mean |Δ| ${mean.toExponential(2)}, max ${max.toExponential(2)}`);
    assert.ok(mean <= 0.01, `${file}: mean |Δ| ${mean}`);
    worst = Math.max(worst, max);
  }
  await assert.rejects(decodeRgb(golden('images', 'truncated.jpg')), ImageDecodeError);
  const binary = Object.keys(createRequire(import.meta.url).cache).find((k) => /sharp-[a-z0-9-]+\.node$/.test(k));
  assert.match(binary ?? 'no sharp binary loaded', /sharp-linux-arm64\.node$/);
  summary.push(`preprocessing: ${GOLDEN_IMAGES.length} golden images through ${binary}: max |Δ| against PIL ${worst.toExponential(1)} (${seconds(start)})`);
});

for (const m of MODELS) {
  for (const id of BACKENDS) {
    test(`${m.model} on ${id}: the golden logits of ${IMAGES} images within ${TOLERANCE}`, async (t) => {
      const start = performance.now();
      const { backend } = await requireBackend(id);
      // Converted here, on arm64: the exporter is part of what runs on ARM.
      const artifact = await ensureArtifact(getCard(m.model), { kind: 'checkpoint', path: m.checkpoint }, backend.artifact);
      const session = await backend.load(artifact.path, { threads: 1 });
      try {
        const y = await session.run(firstOf(readNpy(golden('input_224.npy')), IMAGES));
        const diff = maxAbsDiff(y, firstOf(readNpy(m.logits), IMAGES));
        t.diagnostic(`max |logit - golden| = ${diff.toExponential(2)}`);
        summary.push(`${m.model.padEnd(32)} ${id.padEnd(9)} max |logit - golden| ${diff.toExponential(1)} (${seconds(start)})`);
        assert.ok(diff <= TOLERANCE, `${diff}`);
      } finally {
        await session.release();
      }
    });
  }
}

test('levit backends: onnxruntime (CPU and WebAssembly) and TF.js run on arm64', (t) => {
  const r = runCli(['backends', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const all = JSON.parse(r.stdout) as BackendStatus[];
  for (const b of all) t.diagnostic(`${b.id}: ${b.available ? `yes, ${b.version}, ${b.device}` : `no: ${b.reason}`}`);
  for (const id of [...BACKENDS, 'tfjs-cpu']) assert.ok(all.find((b) => b.id === id)?.available, `${id} runs on arm64`);
  summary.push(`levit backends: ${all.map((b) => `${b.id} ${b.available ? 'yes' : 'no'}`).join(', ')}`);
});

test('a short levit bench runs, and says emulated when it is; --record refuses emulated time', (t) => {
  const start = performance.now();
  const out = join(cache, 'bench.json');
  const resultsDir = join(cache, 'results');
  const env = { LEVIT_CACHE_DIR: cache, LEVIT_RESULTS_DIR: resultsDir };
  const args = ['bench', 'levit_128s', '--checkpoint', MODELS[0].checkpoint, '--backend', 'ort-cpu', '--threads', '1', '--batch', '1'];
  const timing = ['--duration', '0', '--warmup', '0', '--min-iterations', '3', '--no-machine-check'];
  const r = runCli([...args, ...timing, '--out', out], env);
  assert.equal(r.status, 0, r.stderr);
  for (const line of r.stdout.trimEnd().split('\n')) t.diagnostic(line);
  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  assert.equal(results.system.os.arch, 'arm64');
  assert.equal(results.records.length, 1);
  if (emulator) {
    assert.ok(results.system.emulation && results.records[0].emulated, 'the results say emulated');
    assert.match(r.stdout, /±\d+(\.\d+)?% emulated/);
    assert.match(r.stdout, /^Emulated \(the kernel runs /m);
    const refused = runCli([...args, ...timing, '--record'], env);
    assert.equal(refused.status, 5, refused.stderr);
    assert.match(refused.stderr, /--record: this run is emulated/);
    assert.equal(existsSync(resultsDir), false, 'nothing recorded');
  } else {
    assert.equal(results.system.emulation, null);
  }
  const ips = results.records[0].images_per_second.toFixed(2);
  const said = emulator ? `${ips} images/s EMULATED (not a speed), --record refused` : `${ips} images/s`;
  summary.push(`levit bench levit_128s ort-cpu 1 thread batch 1: ${said} (${seconds(start)})`);
});
