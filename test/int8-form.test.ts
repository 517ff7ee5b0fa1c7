import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { INT8_WEIGHTS, artifactInt8, checkInt8Form } from '../src/classifier/int8-form.js';
import { floatTensor } from '../src/core/tensor.js';
import { ExitCode, type LevitError } from '../src/core/errors.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { exportOnnx } from '../src/onnx/export.js';
import { serializeOnnx } from '../src/onnx/model.js';
import { lowerGraph } from '../src/onnx/export.js';
import { int8MachineHere } from '../src/quant/cpu-target.js';
import type { Backend } from '../src/runtime/backend.js';
import { runCli, tempDir } from './helpers/shared.js';

const VNNI_LABEL = 'int8 static, minmax calibration on 43 images, judged on 21 held-out (weights per channel, full range, for VNNI CPUs)';

test('an artifact says its int8 form: the metadata of this version, and the precision label of older ones', () => {
  assert.equal(artifactInt8({ precision: 'fp32' }), null);
  assert.equal(artifactInt8({}), null, 'a file without metadata is not known to be int8');
  const now = artifactInt8({ precision: VNNI_LABEL, int8_target: 'vnni: this CPU has avx512_vnni', int8_weights: INT8_WEIGHTS.full });
  assert.deepEqual(now, { target: 'vnni', fullRange: true, accuracy: null });
  assert.equal(artifactInt8({ precision: VNNI_LABEL.replace('full range', '7-bit range'), int8_weights: INT8_WEIGHTS.reduced })?.fullRange, false);
  // Before int8_weights existed: the label said it.
  assert.equal(artifactInt8({ precision: VNNI_LABEL, int8_target: 'vnni: x' })?.fullRange, true);
  assert.equal(artifactInt8({ precision: 'int8 dynamic (weights per channel, 7-bit range, for AVX2 CPUs; activations at run time)' })?.fullRange, false);
  assert.equal(artifactInt8({ precision: VNNI_LABEL, int8_target: 'arm: x' })?.target, null, 'a form levit does not know');
  const accuracy = { logits_sqnr_db: 21.6, top1_agreement: 1, images: 21, held_out: true, calibration_images: 43, layers: 51, float_layers: 1 };
  assert.deepEqual(artifactInt8({ precision: VNNI_LABEL, int8_accuracy: JSON.stringify(accuracy) })?.accuracy, accuracy);
  assert.equal(artifactInt8({ precision: VNNI_LABEL, int8_accuracy: '{not json' })?.accuracy, null, 'a broken report does not hide the form');
});

/** A backend whose int8 products come out as `sum` (the probe's exact 2,072,640, or saturated 32 x 32,767). */
function fakeBackend(sum: number): Backend {
  return {
    id: 'ort-cpu',
    artifact: 'onnx',
    probe: async () => ({ id: 'ort-cpu', artifact: 'onnx', available: true, version: 'fake', device: 'fake' }),
    load: async () => ({
      backend: 'ort-cpu',
      threads: 1,
      run: async (x) => floatTensor([x.shape[0], 4], new Float32Array(x.shape[0] * 4).fill(sum)),
      release: async () => {},
    }),
  };
}

function artifactFile(dir: string, name: string, metadata: Record<string, string>): string {
  const b = new GraphBuilder('tiny');
  b.output(b.mul(b.input('x', ['N', 4]), b.initializer('two', floatTensor([], Float32Array.of(2)), 'constant')));
  const path = join(dir, name);
  writeFileSync(path, serializeOnnx(lowerGraph(b.graph), metadata));
  return path;
}

test('a full-range int8 artifact is refused where the int8 products saturate (exit 5, both forms named), and runs marked when allowed', async (t) => {
  const dir = tempDir(t);
  const vnni = artifactFile(dir, 'vnni.onnx', { precision: VNNI_LABEL, int8_target: 'vnni: this CPU has avx512_vnni', int8_weights: INT8_WEIGHTS.full });
  const avx2 = artifactFile(dir, 'avx2.onnx', {
    precision: VNNI_LABEL.replace('full range, for VNNI', '7-bit range, for AVX2'),
    int8_weights: INT8_WEIGHTS.reduced,
  });
  const fp32 = artifactFile(dir, 'fp32.onnx', { precision: 'fp32' });
  const saturating = fakeBackend(32 * 32767);
  await assert.rejects(checkInt8Form(vnni, 'levit_128s', saturating), (e: LevitError) => {
    assert.equal(e.exitCode, ExitCode.unavailable);
    assert.match(e.message, /is int8 in the VNNI form \(full-range 8-bit weights\), but ort-cpu on this CPU sums pairs .* in 16 bits/);
    assert.match(e.message, /silently wrong/);
    assert.match(e.hint!, /Make the AVX2 form .*levit convert levit_128s --precision int8 --int8-target avx2 --calibration DIR/);
    assert.match(e.hint!, /--allow-int8-saturation runs it anyway/);
    return true;
  });
  assert.match((await checkInt8Form(vnni, 'levit_128s', saturating, true))!, /saturate: its outputs are not those of the model/);
  assert.equal(await checkInt8Form(avx2, 'levit_128s', saturating), null, '7-bit weights are exact everywhere');
  assert.equal(await checkInt8Form(fp32, 'levit_128s', saturating), null);
  assert.equal(await checkInt8Form(vnni, 'levit_128s', fakeBackend(64 * 255 * 127)), null, 'exact products: the VNNI form runs as made');
  const tfjs = { ...saturating, artifact: 'tfjs' as const };
  assert.equal(await checkInt8Form(vnni, 'levit_128s', tfjs), null, 'TF.js has no integer kernels: nothing to saturate');
});

test('levit info FILE.onnx: the model, precision, int8 form, calibration and whether this CPU runs it exactly', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'dyn.onnx');
  const made = runCli(['convert', 'levit_128s', '--weights', 'synthetic', '--precision', 'int8', '--int8-target', 'vnni', '--out', out], {
    LEVIT_CACHE_DIR: dir,
  });
  assert.equal(made.status, 0, made.stderr);
  const info = runCli(['info', out, '--json']);
  assert.equal(info.status, 0, info.stderr);
  const a = JSON.parse(info.stdout);
  assert.equal(a.metadata.model, 'levit_128s');
  assert.match(a.metadata.precision, /^int8 dynamic .*full range, for VNNI CPUs/);
  assert.equal(a.int8.target, 'vnni');
  assert.equal(a.int8.fullRange, true);
  assert.equal(a.int8.runs_here, !(await int8MachineHere()).saturates, 'exact here unless this CPU saturates full-range products');
  assert.equal(a.parameters > 7_000_000, true);
  const text = runCli(['info', out]);
  assert.match(text.stdout, /dyn\.onnx: levit_128s, int8 dynamic/);
  assert.match(text.stdout, /int8 form +vnni: --int8-target vnni/);
  assert.match(text.stdout, /on this CPU +(exact: runs as made|its products saturate here)/);
  const plain = join(dir, 'plain.onnx');
  const b = new GraphBuilder('tiny');
  b.output(b.mul(b.input('x', ['N', 4]), b.initializer('two', floatTensor([], Float32Array.of(2)), 'constant')));
  writeFileSync(plain, exportOnnx(b.graph));
  assert.match(runCli(['info', plain]).stdout, /not written by levit convert/);
  writeFileSync(join(dir, 'junk.onnx'), 'not protobuf at all \u0001\u0002');
  const junk = runCli(['info', join(dir, 'junk.onnx')]);
  assert.equal(junk.status, 3, junk.stderr);
  assert.match(junk.stderr, /is not an ONNX model/);
  const missing = runCli(['info', join(dir, 'missing.onnx')]);
  assert.equal(missing.status, 4);
});
