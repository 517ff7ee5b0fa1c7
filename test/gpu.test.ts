import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { floatTensor } from '../src/core/tensor.js';
import { gpuTable, renderGpuMarkdown } from '../src/render/gpu-table.js';
import { fingerprint } from '../src/results/fingerprint.js';
import { type BenchRecord, type BenchResults, RESULTS_SCHEMA } from '../src/results/types.js';
import { readResults } from '../src/results/read.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { getCard } from '../src/models/registry.js';
import { exportOnnx } from '../src/onnx/export.js';
import { countsOf } from '../src/classifier/zoo.js';
import { ortWebgpu } from '../src/runtime/ort-node.js';
import { adapterLabel, queryAdapter } from '../src/runtime/webgpu-adapter.js';
import { packageRoot } from '../src/util/paths.js';
import { runCli, tempDir } from './helpers/shared.js';

const H100 = 'NVIDIA H100 80GB HBM3';

function rec(model: string, backend: string, precision: BenchRecord['precision'], batch: number, ips: number, device: string): BenchRecord {
  const backend_version = backend === 'torch-cuda' ? '2.11.0' : '1.30.0';
  const times_ms = Array.from({ length: 10 }, () => (batch * 1000) / ips);
  return { model, backend, precision, threads: 1, batch, images_per_second: ips, times_ms, device, resolution: 224, backend_version } as BenchRecord;
}

function results(records: BenchRecord[]): BenchResults {
  return { schema: RESULTS_SCHEMA, system: { id: 'gpu-box x16 x64 linux' }, machine_check: null, records } as BenchResults;
}

const webgpuDevice = `${adapterLabel({ vendor: 'nvidia', architecture: 'hopper', device: '', description: H100 })}; WebGPU high-performance adapter`;
const fixture = [
  results([rec('levit_128s', 'ort-webgpu', 'fp32', 16, 4000, webgpuDevice), rec('levit_128s', 'ort-webgpu', 'fp32', 2048, 20000, webgpuDevice)]),
  results([
    rec('levit_128s', 'torch-cuda', 'fp32', 16, 8000, H100),
    rec('levit_128s', 'torch-cuda', 'amp', 16, 10000, H100),
    rec('levit_128s', 'torch-cuda', 'fp32', 2048, 40000, H100),
    rec('levit_128s', 'torch-cuda', 'amp', 2048, 80000, H100),
    rec('efficientnet_b0', 'torch-cuda', 'fp32', 16, 9000, H100),
  ]),
];

test('the GPU table puts WebGPU beside PyTorch per model and batch, with the ratio, published figures once per model', () => {
  const t = gpuTable(fixture);
  assert.equal(t.same_card, true);
  assert.equal(t.torch_version, '2.11.0');
  assert.deepEqual(
    t.rows.map((r) => [r.model, r.batch, r.webgpu, r.torch_fp32, r.torch_amp, r.ratio_fp32, r.ratio_amp, r.paper_v100, r.timm_rtx4090_amp]),
    [
      ['levit_128s', 16, 4000, 8000, 10000, 0.5, 0.4, null, null],
      ['levit_128s', 2048, 20000, 40000, 80000, 0.5, 0.25, 12880, 28916],
      ['efficientnet_b0', 16, null, 9000, null, null, null, 4754, 8926],
    ],
  );
  const md = renderGpuMarkdown(t);
  assert.match(md, /\| levit_128s \| 224 \| 2048 \| 20,000 \| 40,000 \| 0\.50× \| 80,000 \| 0\.25× \| 12,880 \| 28,916 \|/);
  assert.match(md, /Same card: levit's WebGPU adapter is NVIDIA H100 80GB HBM3 \(nvidia hopper\)/);
});

test('the GPU table does not claim one card when the device names differ', () => {
  const other = [fixture[0], results(fixture[1].records.map((r) => ({ ...r, device: 'NVIDIA A100-SXM4-40GB' })))];
  const t = gpuTable(other);
  assert.equal(t.same_card, false);
  assert.match(renderGpuMarkdown(t), /Not shown to be the same card/);
});

test('levit report --gpu reads results files and refuses files without GPU records', (t) => {
  const dir = tempDir(t);
  const files = fixture.map((r, i) => {
    const f = join(dir, `r${i}.json`);
    writeFileSync(f, JSON.stringify(r));
    return f;
  });
  const ok = runCli(['report', '--gpu', ...files, '--markdown']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /WebGPU ÷ PyTorch fp32/);
  const cpuOnly = join(dir, 'cpu.json');
  writeFileSync(cpuOnly, JSON.stringify(results([rec('levit_128s', 'ort-cpu', 'fp32', 16, 100, 'AMD EPYC')])));
  const none = runCli(['report', '--gpu', cpuOnly]);
  assert.equal(none.status, 3);
  assert.match(none.stderr, /no ort-webgpu or torch-cuda records/);
});

const python = spawnSync('python3', ['--version']).status === 0;
const script = join(packageRoot, 'scripts', 'torch_reference.py');

test("the PyTorch reference writes records that levit reads, with levit's exact counts (dry run, no torch)", { skip: !python && 'no python3' }, async (t) => {
  const dir = tempDir(t);
  const zoo = join(dir, 'zoo.json');
  const zooRun = runCli(['zoo', '--json']);
  assert.equal(zooRun.status, 0, zooRun.stderr);
  writeFileSync(zoo, zooRun.stdout);
  const out = join(dir, 'torch.json');
  const args = ['--zoo', zoo, '--models', 'levit_128s,efficientnet_b2', '--batch', '1,4', '--warmup', '0', '--duration', '0', '--min-iterations', '3'];
  const r = spawnSync('python3', [script, ...args, '--dry-run', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const res = readResults(out);
  assert.equal(res.records.length, 8);
  for (const x of res.records) {
    const card = getCard(x.model);
    assert.equal(x.backend, 'torch-cuda');
    assert.deepEqual({ params: x.params, flops: x.flops }, countsOf(card));
    assert.equal(x.resolution, card.preprocessing.resolution);
    assert.equal(x.iterations, 3);
    assert.equal(x.times_ms.length, 3);
    assert.ok(Math.abs(x.images_per_second - (x.batch * 1000) / x.latency_ms.median) < 1e-9);
  }
  assert.deepEqual([...new Set(res.records.map((x) => x.precision))], ['fp32', 'amp']);
  assert.match(res.records[0].device!, /dry-run/);
  assert.equal(res.system.id, (await fingerprint()).id, 'the same machine id as levit bench, so levit report sees one machine');
  const report = runCli(['report', '--gpu', out]);
  assert.equal(report.status, 0, report.stderr);
  assert.match(report.stdout, /efficientnet_b2 +│ +288/);

  const bad = (extra: string[]) => spawnSync('python3', [script, ...extra, '--dry-run', '--out', join(dir, 'bad.json')], { encoding: 'utf8' });
  for (const [extra, message] of [
    [['--zoo', zoo, '--models', 'resnet50'], /unknown model\(s\) resnet50/],
    [['--zoo', zoo, '--models', 'levit_128s', '--batch', '0'], /--batch: expected comma-separated positive integers/],
    [['--zoo', zoo, '--models', 'levit_128s', '--precision', 'int8'], /--precision: expected fp32 and\/or amp/],
    [['--zoo', join(dir, 'none.json'), '--models', 'levit_128s'], /not the output of `levit zoo --json`/],
  ] as const) {
    const b = bad([...extra]);
    assert.equal(b.status, 2, b.stderr);
    assert.match(b.stderr, message);
  }
  const noTorch = spawnSync('python3', [script, '--zoo', zoo, '--models', 'levit_128s', '--out', join(dir, 'x.json')], { encoding: 'utf8' });
  if (spawnSync('python3', ['-c', 'import torch']).status !== 0) {
    assert.equal(noTorch.status, 5);
    assert.match(noTorch.stderr, /needs PyTorch with CUDA and timm/);
  }
});

test('bench --keep-going skips a batch that fails, saying why; without it the run stops', (t) => {
  const dir = tempDir(t);
  const b = new GraphBuilder('fixed-batch');
  // Batch 1 only; about LeViT-128S's parameter count, so that bench --onnx accepts it as that model.
  const x = b.slice(b.reshape(b.input('x', [1, 3, 224, 224]), [1, 3 * 224 * 224]), 1, 0, 7680);
  b.output(b.linear(x, b.initializer('w', floatTensor([1000, 7680], new Float32Array(1000 * 7680)), 'param')));
  const onnx = join(dir, 'fixed.onnx');
  writeFileSync(onnx, exportOnnx(b.graph));
  const quick = ['--duration', '0', '--warmup', '0', '--min-iterations', '1', '--no-machine-check'];
  const args = ['bench', 'levit_128s', '--onnx', onnx, '--threads', '1', '--batch', '1,2', ...quick];
  const kept = runCli([...args, '--keep-going', '--json'], { LEVIT_CACHE_DIR: dir });
  assert.equal(kept.status, 0, kept.stderr);
  const res = JSON.parse(kept.stdout) as BenchResults;
  assert.deepEqual(
    res.records.map((r) => r.batch),
    [1],
  );
  assert.equal(res.skipped?.length, 1);
  assert.equal(res.skipped![0].batch, 2);
  assert.match(res.skipped![0].reason, /^batch 2 failed: /);
  const stopped = runCli(args, { LEVIT_CACHE_DIR: dir });
  assert.notEqual(stopped.status, 0);
});

test("the GPU bundle prints run commands within the device tool's limits", async () => {
  const { runCommands } = (await import(pathToFileURL(join(packageRoot, 'scripts', 'gpu-bundle.mjs')).href)) as { runCommands: (dir: string) => string[] };
  const commands = runCommands(join(packageRoot, '.gpu-bundle'));
  assert.equal(commands.length, 3);
  for (const [i, c] of commands.entries()) {
    assert.ok(c.length <= 2000, `${c.length} characters`);
    assert.match(c, /dpkg -x \$f \/; done; ldconfig/);
    assert.match(c, /tar -xJf \.gpu-bundle\/levit-gpu\.tar\.xz/);
    assert.match(c, new RegExp(`gpu-run\\.sh ${['webgpu-levit', 'webgpu-rivals', 'torch'][i]} .*\\$OUT/`));
  }
});

test('ort-webgpu names the adapter that a high-performance WebGPU request gets here', async (t) => {
  const status = await ortWebgpu.probe();
  if (!status.available) return t.skip(`ort-webgpu is not available here: ${status.reason}`);
  const info = await queryAdapter();
  if (!info) return t.skip('the optional package webgpu is not installed or found no adapter');
  assert.ok(info.description || info.device, 'an adapter with a name');
  assert.equal(status.device, `${adapterLabel(info)}; WebGPU high-performance adapter`);
});

test('the GPU table keeps the digits of small figures', () => {
  const t = gpuTable([results([rec('levit_128s', 'ort-webgpu', 'fp32', 1, 0.6, 'llvmpipe'), rec('levit_128s', 'torch-cuda', 'fp32', 1, 7039, H100)])]);
  assert.match(renderGpuMarkdown(t), /\| levit_128s \| 224 \| 1 \| 0\.6 \| 7,039 \| 0\.000085× \|/);
});

test('runs of one machine join into one results file; another machine is refused', (t) => {
  const dir = tempDir(t);
  const machine = { id: 'GPU box x16 x64 linux' } as BenchResults['system'];
  const run = (model: string, check: BenchResults['machine_check'], skipped?: BenchResults['skipped']) =>
    ({ ...results([rec(model, 'ort-webgpu', 'fp32', 16, 100, H100)]), system: machine, machine_check: check, ...(skipped ? { skipped } : {}) }) as BenchResults;
  const failed = { model: 'levit_192', backend: 'ort-webgpu', threads: 16, batch: 2048, reason: 'batch 2048 failed: out of memory' };
  const files = [run('levit_128s', { matmul_gflops_1thread: 90 } as BenchResults['machine_check']), run('levit_192', null, [failed])].map((r, i) => {
    const f = join(dir, `run${i}.json`);
    writeFileSync(f, JSON.stringify(r));
    return f;
  });
  const script = join(packageRoot, 'scripts', 'join-results.mjs');
  const out = join(dir, 'joined.json');
  const ok = spawnSync(process.execPath, [script, out, ...files], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  const joined = readResults(out);
  assert.deepEqual(
    joined.records.map((r) => r.model),
    ['levit_128s', 'levit_192'],
  );
  assert.equal(joined.machine_check?.matmul_gflops_1thread, 90);
  assert.equal(joined.skipped?.[0].batch, 2048);
  const elsewhere = join(dir, 'elsewhere.json');
  writeFileSync(elsewhere, JSON.stringify({ ...run('levit_256', null), system: { id: 'laptop x8 arm64 darwin' } }));
  const refused = spawnSync(process.execPath, [script, join(dir, 'x.json'), files[0], elsewhere], { encoding: 'utf8' });
  assert.equal(refused.status, 3);
  assert.match(refused.stderr, /comes from another machine/);
  assert.equal(spawnSync(process.execPath, [script, out], { encoding: 'utf8' }).status, 2);
});
