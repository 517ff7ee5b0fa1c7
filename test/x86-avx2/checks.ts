/**
 * levit's int8 on an x86-64 CPU with AVX2 and without VNNI: what `npm run test:avx2` runs under
 * scripts/x86-avx2/node.sh (emulated by qemu-user on a VNNI machine, native on an AVX2-only one), on the
 * artifacts and outputs that reference.ts made on this machine (LEVIT_AVX2_REFERENCE). It is no
 * dist/test/*.test.js: the x64 suite runs on whatever CPU the machine has.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { detectEmulation } from '../../src/results/emulation.js';
import { PRECISION_DEFAULTS, resolvePrecision } from '../../src/classifier/precision.js';
import { int8MachineHere } from '../../src/quant/cpu-target.js';
import { sqnr } from '../../src/quant/numeric.js';
import { ortCpu } from '../../src/runtime/ort-node.js';
import { readNpy } from '../../src/util/npy.js';
import { maxAbsDiff, runCli } from '../helpers/shared.js';
import { MODEL, files } from './forms.js';

const dir = process.env.LEVIT_AVX2_REFERENCE;
if (!dir) throw new Error('LEVIT_AVX2_REFERENCE is not set: run npm run test:avx2');
const f = files(dir);
/** Whether the reference outputs are exact (made on a VNNI machine): then the VNNI form's can be told apart from saturated ones. */
const referenceExact = (JSON.parse(readFileSync(f.machine, 'utf8')) as { exact: boolean }).exact;
const input = readNpy(f.input);

async function logitsHere(path: string) {
  const session = await ortCpu.load(path, { threads: 1 });
  try {
    return await session.run(input);
  } finally {
    await session.release();
  }
}

test("onnxruntime's int8 products saturate here, and levit makes the AVX2 form for this machine", async () => {
  const machine = await int8MachineHere();
  assert.equal(machine.saturates, true, 'this Node must see AVX2 int8 kernels (scripts/x86-avx2/node.sh)');
  const spec = await resolvePrecision('int8', { ...PRECISION_DEFAULTS, method: 'dynamic' });
  assert.ok(spec.precision === 'int8' && spec.target === 'avx2' && spec.reduceRange, JSON.stringify(spec));
  if (detectEmulation()) assert.match(spec.targetReason, /in 16 bits .*although \/proc\/cpuinfo lists/);
  console.log(`  int8 form here: ${spec.targetReason}`);
});

test('the AVX2 form gives here the outputs it gives on a VNNI machine: pair-limited weights never saturate', async () => {
  const here = await logitsHere(f.artifact('avx2'));
  const fp32 = readNpy(f.logits('fp32'));
  console.log(`  avx2 form here: logits SQNR ${sqnr(fp32.data, here.data).toFixed(1)} dB against float32`);
  if (!referenceExact) return;
  const diff = maxAbsDiff(here, readNpy(f.logits('avx2')));
  console.log(`  avx2 form: max |logit here - logit on the VNNI machine| = ${diff.toExponential(2)}`);
  // The integer products are exact on both; only float32 rounding (other kernels) differs.
  assert.ok(diff < 1e-3, `max |Δ| ${diff}`);
});

test(
  'the VNNI form saturates here: its outputs move away from those it gives on a VNNI machine',
  { skip: !referenceExact && 'the reference was made on a CPU without VNNI' },
  async () => {
    const here = await logitsHere(f.artifact('vnni'));
    const exact = readNpy(f.logits('vnni'));
    const db = sqnr(exact.data, here.data);
    console.log(`  vnni form: logits here against the same file's on the VNNI machine: SQNR ${db.toFixed(1)} dB`);
    assert.ok(db < 40, `${db} dB: saturation should show`);
  },
);

test('predict, bench and compare refuse the VNNI form here (exit 5), naming both forms; --allow-int8-saturation runs it, marked', () => {
  const vnni = f.artifact('vnni');
  const refused = runCli(['predict', MODEL, f.input, '--onnx', vnni]);
  assert.equal(refused.status, 5, refused.stderr);
  assert.match(refused.stderr, /is int8 in the VNNI form \(full-range 8-bit weights\).*16 bits \(AVX2 without VNNI\)/s);
  assert.match(refused.stderr, /Make the AVX2 form .*levit convert levit_128s --precision int8 --int8-target avx2/s);
  assert.doesNotMatch(refused.stderr, /at .*\.js:\d+/, 'no stack trace');
  const allowed = runCli(['predict', MODEL, f.input, '--onnx', vnni, '--allow-int8-saturation']);
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.match(allowed.stderr, /warning: .*not those of the model/);
  const json = runCli(['predict', MODEL, f.input, '--onnx', vnni, '--allow-int8-saturation', '--json']);
  assert.match(JSON.parse(json.stdout).warnings[0], /saturate/);
  const avx2 = runCli(['predict', MODEL, f.input, '--onnx', f.artifact('avx2'), '--json']);
  assert.equal(avx2.status, 0, avx2.stderr);
  assert.equal(JSON.parse(avx2.stdout).warnings, undefined, 'the AVX2 form runs as made');
  const bench = runCli(['bench', MODEL, '--onnx', vnni, '--threads', '1', '--batch', '1', '--duration', '0.1', '--no-machine-check']);
  assert.equal(bench.status, 5, bench.stderr);
  const compare = runCli(['compare', f.artifact('avx2'), vnni, '--model', MODEL, '--batch', '1', '--duration', '0.1']);
  assert.equal(compare.status, 5, compare.stderr + compare.stdout);
  assert.match(compare.stderr, /VNNI form/);
});

test('levit info says which form a file is and whether this CPU runs it exactly', () => {
  const info = (form: 'avx2' | 'vnni') => JSON.parse(runCli(['info', f.artifact(form), '--json']).stdout);
  assert.equal(info('vnni').int8.target, 'vnni');
  assert.equal(info('vnni').int8.saturates_here, true);
  assert.equal(info('avx2').int8.fullRange, false);
  assert.equal(info('avx2').int8.runs_here, true);
});
