import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchRecord, BenchResults } from '../src/results/types.js';
import { type Claim, checkClaims, claimedFactor, deviceKindOf, loadClaims } from '../src/claims/speed-claims.js';
import { renderClaims, renderClaimsMarkdown } from '../src/render/claims.js';

/** Batch times around `ms` with a small deterministic jitter (±2%). */
function times(ms: number, n = 30): number[] {
  return Array.from({ length: n }, (_, i) => ms * (1 + 0.02 * Math.sin(i * 1.7)));
}

function record(model: string, ms: number, over: Partial<BenchRecord> = {}): BenchRecord {
  const base = { model, family: model.split('_')[0], backend: 'ort-cpu', device: null, threads: 1, batch: 16, resolution: 224, precision: 'fp32' };
  return { ...base, times_ms: times(ms), ...over } as BenchRecord;
}

function run(records: BenchRecord[], arch = 'x64'): BenchResults {
  return { system: { os: { arch } }, records } as unknown as BenchResults;
}

const claim: Claim = {
  id: 'c',
  statement: 'A is 4 times as fast as B',
  model: 'levit_192',
  than: 'efficientnet_b2',
  factor: 4,
  device: { kind: 'cpu', arch: 'x64', name: 'a Xeon, 1 thread' },
  batch: [16],
  threads: 1,
  resolution: { model: 224, than: 224 },
  source: 'a paper',
};

test('a measured speed-up whose interval clears the factor less the tolerance holds; below it does not; straddling is inconclusive', () => {
  const verdict = (rivalMs: number) => checkClaims(run([record('levit_192', 100), record('efficientnet_b2', rivalMs)]), [claim])[0];
  const holds = verdict(450);
  assert.equal(holds.verdict, 'holds');
  assert.equal(holds.column, 'ort-cpu 1t b16');
  assert.ok(Math.abs(holds.measured!.speedup - 4.5) < 0.05 && holds.measured!.low < holds.measured!.speedup && holds.measured!.high > holds.measured!.speedup);
  assert.ok(holds.measured!.low > 3.6 && holds.measured!.low < 4.1, 'the interval includes the spread between runs (about ±11% on one thread)');
  assert.equal(verdict(370).verdict, 'inconclusive', '3.7x is within 10% of 4x, but a rerun could land under 3.6x');
  assert.equal(verdict(270).verdict, 'does not hold');
  const close = verdict(360);
  assert.equal(close.verdict, 'inconclusive', 'the interval of 3.6x straddles 3.6x');
  assert.match(close.notes[0], /interval straddles 3\.60×/);
});

test('the interval is deterministic (seeded) and widens with the evidence', () => {
  const results = run([record('levit_192', 100), record('efficientnet_b2', 300, { times_ms: [...times(300, 15), ...times(600, 15)] })]);
  const a = checkClaims(results, [claim])[0];
  assert.deepEqual(checkClaims(results, [claim])[0], a);
  assert.ok(a.measured!.high - a.measured!.low > 0.5, 'a bimodal rival gives a wide interval');
});

test('measured in the same rounds, a claim is decided on a machine whose speed swings; unpaired, the same timings cannot decide', () => {
  // The host runs 1x, then 1.5x slower in spells of several rounds; the true speed-up is 4.5x.
  const host = Array.from({ length: 30 }, (_, r) => (Math.floor(r / 4) % 2 ? 1.5 : 1) * (1 + 0.01 * Math.sin(r * 5.3)));
  const rounds = host.map((_, r) => r);
  const timed = (ms: number) => ({ times_ms: host.map((h, r) => ms * h * (1 + 0.005 * Math.cos(r * 3.1 + ms))), rounds });
  const paired = checkClaims(run([record('levit_192', 100, timed(100)), record('efficientnet_b2', 450, timed(450))]), [claim])[0];
  assert.equal(paired.verdict, 'holds');
  assert.equal(paired.measured!.paired, true);
  const unpaired = (r: BenchRecord) => ({ ...r, rounds: undefined });
  const apart = checkClaims(run([unpaired(record('levit_192', 100, timed(100))), unpaired(record('efficientnet_b2', 450, timed(450)))]), [claim])[0];
  assert.equal(apart.verdict, 'inconclusive');
  assert.equal(apart.measured!.paired, false);
  assert.ok(apart.measured!.high - apart.measured!.low > 2 * (paired.measured!.high - paired.measured!.low), JSON.stringify([apart.measured, paired.measured]));
  assert.ok(apart.notes.some((n) => /not measured in the same rounds/.test(n)));
});

test('emulated or reduced-precision runs are not measured', () => {
  const emulated = checkClaims(run([record('levit_192', 100, { emulated: true }), record('efficientnet_b2', 900, { emulated: true })]), [claim])[0];
  assert.deepEqual([emulated.verdict, emulated.notes[0]], ['not measured', 'the run is emulated: its times are not a speed figure']);
  const int8 = checkClaims(run([record('levit_192', 100, { precision: 'int8' }), record('efficientnet_b2', 900, { precision: 'int8' })]), [claim])[0];
  assert.equal(int8.verdict, 'not measured');
  assert.match(int8.notes[0], /float32/);
});

test('too few rounds are inconclusive, whatever the ratio', () => {
  const r = checkClaims(run([record('levit_192', 100, { times_ms: times(100, 4) }), record('efficientnet_b2', 900)]), [claim])[0];
  assert.equal(r.verdict, 'inconclusive');
  assert.match(r.notes[0], /too few rounds \(4 and 30/);
});

test('a claim the run cannot test says why: a missing model, another architecture, device kind, batch or threads', () => {
  const why = (records: BenchRecord[], arch = 'x64', c: Claim = claim) => {
    const [r] = checkClaims(run(records, arch), [c]);
    assert.equal(r.verdict, 'not measured');
    assert.equal(r.measured, null);
    return r.notes[0];
  };
  assert.match(why([record('levit_192', 100)]), /lacks efficientnet_b2/);
  assert.match(why([record('levit_192', 100), record('efficientnet_b2', 400)], 'arm64'), /needs an x64 CPU; this run is on arm64/);
  const lavapipe = { backend: 'ort-webgpu', device: 'llvmpipe (LLVM 19)' };
  const gpu = [record('levit_192', 100, lavapipe), record('efficientnet_b2', 400, lavapipe)];
  assert.match(why(gpu, 'x64', { ...claim, device: { kind: 'gpu', name: 'V100' }, threads: null }), /needs a GPU backend/);
  const batch1 = [record('levit_192', 100, { batch: 1 }), record('efficientnet_b2', 400, { batch: 1 })];
  assert.match(why(batch1), /batch 16 and 1 thread .* this run has ort-cpu 1t b1/);
  assert.match(why([record('levit_192', 100, { threads: 2 }), record('efficientnet_b2', 400, { threads: 2 })]), /1 thread/);
  const iphone: Claim = { ...claim, model: 'efficientformer_l1', than: 'levit_256', device: { kind: 'npu', name: 'iPhone 12' } };
  assert.match(why([record('efficientformer_l1', 100), record('levit_256', 400)], 'x64', iphone), /levit has no backend/);
});

test("a claim is checked on every configuration that fits it; resolutions other than the claim's never decide a verdict in their favour", () => {
  const records = [
    record('levit_192', 100),
    record('efficientnet_b2', 480, { resolution: 288 }),
    record('levit_192', 100, { backend: 'ort-wasm' }),
    record('efficientnet_b2', 200, { backend: 'ort-wasm', resolution: 288 }),
  ];
  const checks = checkClaims(run(records), [claim]);
  assert.deepEqual(
    checks.map((c) => [c.column, c.verdict]),
    [
      ['ort-cpu 1t b16', 'inconclusive'],
      ['ort-wasm 1t b16', 'does not hold'],
    ],
  );
  assert.match(checks[0].notes[0], /holds only with resolutions that favour the claim \(1\.65× the rival's relative pixels\)/);
  assert.match(checks[0].notes[1], /measured at 224 and 288 px; the claim at 224 and 224 px/);
  const smaller = checkClaims(run([record('levit_192', 100), record('efficientnet_b2', 200, { resolution: 200 })]), [claim])[0];
  assert.equal(smaller.verdict, 'inconclusive', 'a rival at fewer pixels than the claim cannot disprove it');
});

test('direction-only claims hold above 1x and fail below; factors come from published images/s when not given', () => {
  const direction = { ...claim, factor: null };
  assert.equal(checkClaims(run([record('levit_192', 100), record('efficientnet_b2', 130)]), [direction])[0].verdict, 'holds');
  assert.equal(checkClaims(run([record('levit_192', 100), record('efficientnet_b2', 75)]), [direction])[0].verdict, 'does not hold');
  assert.equal(claimedFactor({ ...claim, factor: undefined, published_images_per_second: { model: 65, than: 13 } }), 5);
});

test('GPU backends (PyTorch reference included) count as GPUs unless WebGPU runs on a software renderer', () => {
  assert.equal(deviceKindOf({ backend: 'ort-cuda', device: 'NVIDIA H100' }), 'gpu');
  assert.equal(deviceKindOf({ backend: 'ort-webgpu', device: 'NVIDIA H100' }), 'gpu');
  assert.equal(deviceKindOf({ backend: 'ort-webgpu', device: 'llvmpipe' }), 'cpu');
  assert.equal(deviceKindOf({ backend: 'tfjs-wasm', device: null }), 'cpu');
  assert.equal(deviceKindOf({ backend: 'torch-cuda', device: 'NVIDIA H100' }), 'gpu');
  assert.equal(deviceKindOf({ backend: 'something-else', device: null }), null);
});

test("the shipped claims load: the paper's headline and Table 3 on three devices, and EfficientFormer's", () => {
  const claims = loadClaims();
  const headline = claims.find((c) => c.id === 'headline-cpu-5x')!;
  assert.deepEqual([headline.model, headline.than, claimedFactor(headline), headline.batch, headline.threads], ['levit_192', 'efficientnet_b2', 5, [16], 1]);
  const table3 = claims.filter((c) => c.id.startsWith('table3-'));
  assert.deepEqual([...new Set(table3.map((c) => `${c.device.kind} ${c.device.arch ?? ''}`))].sort(), ['cpu arm64', 'cpu x64', 'gpu ']);
  const b2cpu = table3.find((c) => c.model === 'levit_192' && c.than === 'efficientnet_b2' && c.device.arch === 'x64')!;
  assert.ok(Math.abs(claimedFactor(b2cpu)! - 65.0 / 13.2) < 1e-12);
  assert.ok(claims.some((c) => c.model === 'efficientformer_l1' && c.device.kind === 'npu'));
});

test('a broken claims file is refused with the file and the claim named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'levit-claims-'));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ claims: [{ ...claim, batch: [] }] }));
  assert.throws(() => loadClaims(dir), /bad\.json: invalid claims file: claim c: batch must list positive integers/);
  writeFileSync(join(dir, 'bad.json'), '{');
  assert.throws(() => loadClaims(dir), /bad\.json: invalid claims file: not JSON/);
});

test('the claims table and Markdown give the published and measured factors, the interval and the verdict', () => {
  const checks = checkClaims(run([record('levit_192', 100), record('efficientnet_b2', 450)]), [claim, { ...claim, id: 'd', than: 'deit_small' }]);
  const text = renderClaims(checks);
  assert.match(text, /4\.00×/);
  assert.match(text, /holds/);
  assert.match(text, /not measured/);
  const md = renderClaimsMarkdown(checks);
  assert.match(md, /^\| claim \| device \(claim\) \| measured on \| published \| measured \[95%\] \| verdict \| notes \|$/m);
  assert.match(md, /\| ort-cpu 1t b16 \| 4\.00× \| 4\.5\d× \[\d\.\d\d×, \d\.\d\d×\] \| \*\*holds\*\* \|/);
  assert.match(md, /\| - \| 4\.00× \| - \| \*\*not measured\*\* \| the run lacks deit_small/);
});
