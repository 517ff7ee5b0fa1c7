import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { chooseImageSplit, loadCalibrationSet } from '../src/classifier/calibration-set.js';
import { prepareModel } from '../src/classifier/model.js';
import { PRECISION_DEFAULTS, type StaticInt8, lowerWithPrecision, precisionLabel, resolvePrecision } from '../src/classifier/precision.js';
import { getCard } from '../src/models/registry.js';
import { lowerGraph } from '../src/onnx/export.js';
import { type OnnxModel, serializeOnnx } from '../src/onnx/model.js';
import { type Int8Machine, chooseInt8Target, cpuFlags, detectInt8Target, int8MachineHere, readProbe } from '../src/quant/cpu-target.js';
import { activationProducts } from '../src/quant/layers.js';
import { sqnr } from '../src/quant/numeric.js';
import { forEachBatch } from '../src/quant/run.js';
import { GOLDEN_IMAGES, golden, needsShared, runCli, tempDir } from './helpers/shared.js';

const x86 = (flags: string) => cpuFlags(`processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse sse2 ${flags}\n\nprocessor\t: 1\n`);
const ZEN5: Int8Machine = { flags: x86('avx avx2 fma avx512f avx512bw avx512_vnni avx_vnni avx512_bf16'), saturates: false };
const ZEN3: Int8Machine = { flags: x86('avx avx2 fma'), saturates: true };
const ALDER_LAKE: Int8Machine = { flags: x86('avx avx2 fma avx_vnni'), saturates: false };
/** A VNNI host running Node under qemu -cpu Haswell: /proc/cpuinfo shows the host's flags, onnxruntime the guest's kernels. */
const EMULATED_HASWELL: Int8Machine = { ...ZEN5, saturates: true };
const NEOVERSE: Int8Machine = {
  flags: cpuFlags('processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\n'),
  saturates: false,
};

test('the int8 target follows the CPU: VNNI whose products onnxruntime runs exactly gets full-range weights, the rest pair-limited', async () => {
  assert.equal(detectInt8Target(ZEN5).target, 'vnni');
  assert.match(detectInt8Target(ZEN5).reason, /avx512_vnni and avx_vnni/);
  assert.equal(detectInt8Target(ALDER_LAKE).target, 'vnni');
  assert.equal(detectInt8Target(ZEN3).target, 'avx2');
  assert.match(detectInt8Target(ZEN3).reason, /AVX2 without VNNI/);
  assert.equal(detectInt8Target(EMULATED_HASWELL).target, 'avx2', 'the measured behaviour wins over the flags');
  assert.match(detectInt8Target(EMULATED_HASWELL).reason, /in 16 bits .*although \/proc\/cpuinfo lists avx512_vnni/);
  assert.equal(detectInt8Target(NEOVERSE).target, 'avx2', 'no x86 flags: the safe pair-limited weights');
  assert.equal(detectInt8Target({ flags: null, saturates: false }).target, 'avx2');
  assert.deepEqual(chooseInt8Target('vnni', ZEN5), { target: 'vnni', reason: '--int8-target vnni' });
  const elsewhere = chooseInt8Target('vnni', ZEN3);
  assert.equal(elsewhere.target, 'vnni');
  assert.match(elsewhere.reason, /this machine's would be avx2 .*the SQNR and the fallback measured here are this CPU's, not the target's/);
  const o = { ...PRECISION_DEFAULTS, method: 'dynamic' as const };
  assert.equal(
    precisionLabel(await resolvePrecision('int8', { ...o, machine: ZEN5 })),
    'int8 dynamic (weights per channel, full range, for VNNI CPUs; activations at run time)',
  );
  const range = async (extra: object) => {
    const spec = await resolvePrecision('int8', { ...o, ...extra });
    return spec.precision === 'int8' ? spec.reduceRange : null;
  };
  assert.equal(await range({ machine: ZEN5 }), false);
  assert.equal(await range({ machine: ZEN3 }), true);
  assert.equal(await range({ machine: ZEN5, reduceRange: true }), true, '--reduce-range overrides the target');
  assert.equal(await range({ machine: ZEN3, int8Target: 'vnni' }), false);
  await assert.rejects(resolvePrecision('int8', { ...o, int8Attention: true }), /--int8-attention applies to static int8/);
});

test("the probe measures onnxruntime's int8 products here: exact where the CPU has VNNI (or no x86 flags), saturated on AVX2 alone", async () => {
  assert.equal(readProbe(new Float32Array(16).fill(64 * 255 * 127)), 'exact');
  assert.equal(readProbe(new Float32Array(16).fill(32 * 32767)), 'saturates');
  assert.equal(readProbe(new Float32Array(16).fill(7)), 'unexpected');
  const here = await int8MachineHere();
  const vnni = here.flags && (here.flags.has('avx512_vnni') || here.flags.has('avx_vnni'));
  const avx2Only = here.flags && here.flags.has('avx2') && !vnni;
  // Where the flags say AVX2 alone, the products saturate; where there are none (ARM), they are exact. Under an
  // emulator that hides VNNI (scripts/x86-avx2) the flags say VNNI and the probe is what tells.
  if (avx2Only) assert.equal(here.saturates, true, 'AVX2 without VNNI sums pairs in int16');
  if (!here.flags) assert.equal(here.saturates, false, 'ARM sdot/udot sum in int32');
  if (process.env.LEVIT_EXPECT_INT8_SATURATION) assert.equal(here.saturates, process.env.LEVIT_EXPECT_INT8_SATURATION === '1');
});

test('calibration, selection and validation images: disjoint, deterministic, by turns; --validation must not repeat them', { skip: needsShared }, (t) => {
  const split = chooseImageSplit(golden('images'), 100);
  const names = (f: { files: string[] } | null) => (f?.files ?? []).map((p) => basename(p));
  // By turns in name order: calibration, selection, validation, calibration.
  assert.deepEqual(names(split.calibration), ['astronaut.jpg', 'coffee.jpg', 'coffee_cmyk.jpg', 'truncated.jpg']);
  assert.deepEqual(names(split.selection), ['camera_gray.jpg', 'motorcycle_png.JPEG']);
  assert.deepEqual(names(split.validation), ['chelsea.jpg', 'rocket.jpg']);
  const all = [...names(split.calibration), ...names(split.selection), ...names(split.validation)];
  assert.equal(new Set(all).size, 8, 'no image in two roles');
  // One photo in two encodings (coffee, coffee_cmyk) falls on one side here.
  assert.deepEqual(chooseImageSplit(golden('images'), 100), split);

  const dir = tempDir(t);
  const [cal, val, one, two] = ['cal', 'val', 'one', 'two'].map((d) => join(dir, d));
  for (const d of [cal, val, one, two]) mkdirSync(d);
  GOLDEN_IMAGES.slice(0, 5).forEach((f) => copyFileSync(golden('images', f), join(cal, f)));
  GOLDEN_IMAGES.slice(5).forEach((f) => copyFileSync(golden('images', f), join(val, f)));
  copyFileSync(golden('images', 'rocket.jpg'), join(one, 'rocket.jpg'));
  GOLDEN_IMAGES.slice(0, 2).forEach((f) => copyFileSync(golden('images', f), join(two, f)));
  const given = chooseImageSplit(cal, 100, val);
  assert.deepEqual(names(given.validation), ['coffee_cmyk.jpg', 'motorcycle_png.JPEG']);
  assert.equal(given.selection?.files.length, 1, '1 in 3 of --calibration decides the fallback');
  assert.equal(given.calibration.files.length, 4);
  const single = chooseImageSplit(one, 100);
  assert.deepEqual([single.selection, single.validation], [null, null], 'a single image cannot be split');
  const pair = chooseImageSplit(two, 100);
  assert.deepEqual([pair.calibration.files.length, pair.selection, pair.validation?.files.length], [1, null, 1], 'two: one calibrates, one judges');
  copyFileSync(golden('images', 'chelsea.jpg'), join(val, 'same-bytes-other-name.jpg'));
  assert.throws(() => chooseImageSplit(cal, 100, val), /1 of its images are also calibration images \(same-bytes-other-name\.jpg\)/);
});

async function optimizedOps(model: OnnxModel, file: string): Promise<string> {
  const s = await ort.InferenceSession.create(serializeOnnx(model), { graphOptimizationLevel: 'all', intraOpNumThreads: 1, optimizedModelFilePath: file });
  await s.release();
  return readFileSync(file).toString('latin1');
}

const count = (text: string, op: string) => text.split(op).length - 1;

test('int8 for VNNI on LeViT-128S: the image convolution stays float32 (fused), the rest fuse into integer kernels', { skip: needsShared }, async (t) => {
  const dir = tempDir(t);
  const card = getCard('levit_128s');
  const graph = prepareModel(card, { kind: 'synthetic', seed: 0 }).graph;
  const o = { ...PRECISION_DEFAULTS, calibration: golden('images'), targetSqnr: 0 };
  const vnni = await lowerWithPrecision(graph, card, await resolvePrecision('int8', { ...o, int8Target: 'vnni' }));
  const ops = await optimizedOps(vnni.model, join(dir, 'vnni.onnx'));
  assert.match(ops, /patch_embed\/conv2d_0_nchwc/, 'the image convolution runs as a float32 NCHWc convolution');
  assert.equal(count(ops, 'QLinearConv'), 3, 'the three later patch-embedding convolutions are integer');
  assert.equal(count(ops, 'QGemm'), 67, 'every linear layer is a QGemm; the 9 qkv and 2 kv projections one per part');
  assert.equal(count(ops, 'Split'), 0, 'no Split copies the projections apart');
  assert.equal(count(ops, 'QLinearMul'), 2, 'the HardSwishes between the int8 convolutions run on uint8');
  assert.equal(count(ops, 'MatMulIntegerToFloat'), 0, 'attention products stay float32 by default');
  assert.ok(vnni.notes.some((n) => /kept in float32 for speed on VNNI: patch_embed\/conv2d_0/.test(n)));
  assert.equal(vnni.sensitivity?.layers.find((l) => l.node === 'patch_embed/conv2d_0')?.float, true);

  const attention = await lowerWithPrecision(graph, card, await resolvePrecision('int8', { ...o, int8Target: 'vnni', int8Attention: true }));
  const withAttention = await optimizedOps(attention.model, join(dir, 'attention.onnx'));
  const products = activationProducts(lowerGraph(graph)).length;
  assert.equal(products, 22, 'LeViT-128S: queries x keys and probabilities x values in 11 attentions');
  assert.equal(count(withAttention, 'MatMulIntegerToFloat'), products, 'every attention product fuses into MatMulIntegerToFloat');
  assert.equal(count(withAttention, 'MatMulScaleFusion'), 0, 'the attention scale is folded into the queries’ dequantization');
  assert.equal(attention.model.nodes.filter((n) => n.op === 'Mul' && /\.scale$/.test(n.inputs[1])).length, 0, 'no Mul by the attention scale is left');

  const avx2 = await lowerWithPrecision(graph, card, await resolvePrecision('int8', { ...o, int8Target: 'avx2' }));
  const avx2Ops = await optimizedOps(avx2.model, join(dir, 'avx2.onnx'));
  assert.equal(count(avx2Ops, 'QLinearConv'), 4, 'the AVX2 form is as it was: every convolution int8');
  assert.equal(count(avx2Ops, 'QLinearMul') + count(avx2Ops, 'Split') + count(avx2Ops, 'QGemm'), 0 + 11 + 47, 'and its projections and HardSwishes too');
});

/**
 * Judged on this machine's onnxruntime, in the form this CPU runs exactly. The golden weights are random:
 * how close int8 comes on them is a study (docs/PERFORMANCE.md, "int8 on images no step saw"), not a test;
 * what is tested is that the figure convert reports is the one of images neither step saw.
 */
test(
  'the golden LeViT-128S in int8 for this CPU: the reported SQNR is that of photos neither the ranges nor the fallback saw',
  { skip: needsShared },
  async () => {
    const card = getCard('levit_128s');
    const graph = prepareModel(card, { kind: 'checkpoint', path: golden('levit_128s', 'LeViT-128S-golden.pth') }).graph;
    const o = { ...PRECISION_DEFAULTS, calibration: golden('images') };
    const int8Target = chooseInt8Target(undefined, await int8MachineHere()).target;
    for (const int8Attention of [false, true]) {
      const spec = (await resolvePrecision('int8', { ...o, int8Target, int8Attention })) as StaticInt8;
      const r = await lowerWithPrecision(graph, card, spec);
      const report = r.sensitivity!;
      assert.equal(report.heldOut, true);
      assert.deepEqual([report.calibrationImages, report.selectionImages, report.images], [3, 2, 2], 'truncated.jpg left out of calibration');
      // Recomputed here on the validation photos alone, not taken from the report.
      const held = await loadCalibrationSet(spec.validation!, card.preprocessing);
      const logits = async (m: OnnxModel) => {
        const out: number[] = [];
        await forEachBatch(m, [m.outputs[0].name], held.batches, (v) => out.push(...v.get(m.outputs[0].name)!));
        return Float32Array.from(out);
      };
      const unseen = sqnr(await logits(lowerGraph(graph)), await logits(r.model));
      assert.ok(Math.abs(unseen - report.logitsSqnr) < 0.01, `the report gives the unseen photos' figure (${unseen.toFixed(1)} dB)`);
      assert.equal(report.met, unseen >= report.targetSqnr);
      assert.ok(
        report.selectionSqnr >= report.targetSqnr || report.fallbackTried === PRECISION_DEFAULTS.maxFallback,
        'the fallback stops at the target on its own images, or after trying its limit',
      );
    }
  },
);

test('levit convert --validation DIR and --int8-target, as a user runs them', { skip: needsShared }, (t) => {
  const dir = tempDir(t);
  const [cal, val] = ['cal', 'val'].map((d) => join(dir, d));
  for (const d of [cal, val]) mkdirSync(d);
  GOLDEN_IMAGES.slice(0, 5).forEach((f) => copyFileSync(golden('images', f), join(cal, f)));
  GOLDEN_IMAGES.slice(5).forEach((f) => copyFileSync(golden('images', f), join(val, f)));
  const args = ['convert', 'levit_128s', '--weights', 'synthetic', '--precision', 'int8', '--calibration', cal];
  // --target-sqnr 0: a full-range artifact saturates on an AVX2-only CPU, where the fallback would work long.
  const r = runCli([...args, '--validation', val, '--int8-target', 'vnni', '--target-sqnr', '0', '--out', join(dir, 'a.onnx'), '--json'], {
    LEVIT_CACHE_DIR: dir,
  });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.sensitivity.images, 2);
  assert.deepEqual([result.sensitivity.calibrationImages, result.sensitivity.selectionImages], [4, 1], '1 in 3 of --calibration decide the fallback');
  assert.equal(result.sensitivity.heldOut, true);
  assert.match(result.precision.label, /judged on 2 unseen .*full range, for VNNI CPUs/);
  assert.ok(
    result.notes.some((n: string) => /int8 for VNNI CPUs \(--int8-target vnni[;)]/.test(n)),
    'on any CPU: a choice other than its own says so',
  );
  const metadata = readFileSync(join(dir, 'a.onnx')).toString('latin1');
  assert.match(metadata, /int8_target.*vnni: --int8-target vnni/s, 'the artifact says which form it is, and why');
  assert.match(metadata, /validation_sha256/);
  const text = runCli([...args, '--validation', val, '--int8-target', 'avx2', '--target-sqnr', '0', '--out', join(dir, 'b.onnx')], { LEVIT_CACHE_DIR: dir });
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /on 2 images no step of the conversion saw/);
  assert.match(text.stdout, /on the 4 calibration images, .* on the 1 selection images that decide the fallback/);
  assert.match(text.stdout, /pair-limited, for AVX2 CPUs/);
  const fp16 = runCli(['convert', 'levit_128s', '--precision', 'fp16', '--validation', val], { LEVIT_CACHE_DIR: dir });
  assert.equal(fp16.status, 2);
  assert.match(fp16.stderr, /--validation applies to --precision int8, not fp16/);
  const target = runCli([...args, '--int8-target', 'arm'], { LEVIT_CACHE_DIR: dir });
  assert.equal(target.status, 2);
  assert.doesNotMatch(target.stderr, /at .*\.js:\d+/, 'no stack trace');
});
