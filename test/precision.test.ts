import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { type FloatTensor, floatTensor } from '../src/core/tensor.js';
import { judgePrecision } from '../src/eval/precision-gate.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { getCard } from '../src/models/registry.js';
import { lowerGraph } from '../src/onnx/export.js';
import { type OnnxModel, serializeOnnx } from '../src/onnx/model.js';
import { artifactPath } from '../src/classifier/convert.js';
import { type WeightsInfo, prepareModel } from '../src/classifier/model.js';
import { FP32, PRECISION_DEFAULTS, precisionKey, resolvePrecision } from '../src/classifier/precision.js';
import { int8MachineHere } from '../src/quant/cpu-target.js';
import { calibrateRanges } from '../src/quant/calibrate.js';
import { chooseCalibrationFiles, loadCalibrationSet } from '../src/classifier/calibration-set.js';
import { quantizeDynamic } from '../src/quant/dynamic.js';
import { toFloat16 } from '../src/quant/fp16.js';
import { calibratedValues, quantLayers, siluUnits } from '../src/quant/layers.js';
import { PAIR_LIMIT, activationQuant, quantizeActivation, quantizeWeights, roundHalfEven, signedActivationQuant, sqnr } from '../src/quant/numeric.js';
import { fromHalf, toHalf } from '../src/util/numeric.js';
import { hardswishQuant, hardswishUnits } from '../src/quant/hardswish.js';
import { SIGMOID_QUANT, quantizeStatic } from '../src/quant/qdq.js';
import { splitHeads } from '../src/quant/split-heads.js';
import { forEachBatch } from '../src/quant/run.js';
import { quantizeWithFallback, top1Agreement } from '../src/quant/sensitivity.js';
import { renderSensitivity } from '../src/quant/report.js';
import { getBackend } from '../src/runtime/registry.js';
import { skipUnlessRuns } from './helpers/backends.js';
import { quantizeTfjsWeight } from '../src/tfjs/quantize.js';
import { golden, hasShared, needsShared, runCli, tempDir } from './helpers/shared.js';

/** Deterministic values in [-1, 1). */
function noise(n: number, seed: number): Float32Array {
  let x = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 31 - 1;
  });
}

/** x [N, 2, 6, 6] -> conv 3x3 (3 channels) -> flatten -> linear 48 -> 5: one QLinearConv, one QGemm. */
/** A parameter of seeded noise (times gain) in the builder's graph. */
const noiseParam =
  (b: GraphBuilder) =>
  (name: string, shape: number[], seed: number, gain = 1): string =>
    b.initializer(
      name,
      floatTensor(
        shape,
        noise(
          shape.reduce((m, d) => m * d),
          seed,
        ).map((v) => v * gain),
      ),
      'param',
    );

function smallModel(): OnnxModel {
  const b = new GraphBuilder('small');
  const x = b.input('x', ['N', 2, 6, 6]);
  const cw = b.initializer('conv.weight', floatTensor([3, 2, 3, 3], noise(54, 1)), 'param');
  const cb = b.initializer('conv.bias', floatTensor([3], noise(3, 2)), 'param');
  const y = b.reshape(b.conv2d(x, cw, cb, { stride: 1, pad: 0 }), ['N', 48]);
  const w = b.initializer(
    'fc.weight',
    floatTensor(
      [5, 48],
      noise(240, 3).map((v, i) => v * (1 + (i % 5))),
    ),
    'param',
  );
  const bias = b.initializer('fc.bias', floatTensor([5], noise(5, 4)), 'param');
  b.output(b.linear(y, w, bias));
  return lowerGraph(b.graph);
}

async function run(model: OnnxModel, x: FloatTensor, optimizedPath?: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(serializeOnnx(model), {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    ...(optimizedPath ? { optimizedModelFilePath: optimizedPath } : {}),
  });
  const out = await s.run({ [model.inputs[0].name]: new ort.Tensor('float32', x.data, [...x.shape]) });
  await s.release();
  return out[model.outputs[0].name].data as Float32Array;
}

test('numerics: half floats round to nearest even; weights per channel; activations cover zero', () => {
  for (const v of [0, 1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8]) assert.equal(fromHalf(toHalf(v)), v);
  assert.equal(toHalf(1 + 2 ** -11), toHalf(1)); // a tie rounds to the even mantissa
  assert.equal(toHalf(1 + 3 * 2 ** -11), toHalf(1 + 2 ** -9));
  assert.equal(fromHalf(toHalf(1e6)), Infinity);
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(-3.5), -4);
  const w = quantizeWeights(Float32Array.of(0.5, -1, 0.25, 4, -2, 1), [2, 3], 0);
  assert.deepEqual([...w.data], [64, -127, 32, 127, -64, 32]);
  assert.equal(Math.max(...quantizeWeights(Float32Array.of(0.5, -1, 0.25), [1, 3], 0, 'reduced').data.map(Math.abs)), 63);
  // Paired ([K, N], pairs of rows 2j, 2j+1 per column): 8 bits, but no pair of one sign over 128 in magnitude.
  const wide = quantizeWeights(Float32Array.of(1, 0.02, 0.9, -0.9, 0.1, 0.3, 0.1, 0.5), [4, 2], 1, 'paired');
  for (let c = 0; c < 2; c++)
    for (let r = 0; r < 4; r += 2) {
      const [p, q] = [wide.data[r * 2 + c], wide.data[(r + 1) * 2 + c]];
      assert.ok(p * q <= 0 || Math.abs(p) + Math.abs(q) <= PAIR_LIMIT, `column ${c} rows ${r}, ${r + 1}: ${p} + ${q}`);
    }
  // On weights of a usual spread, paired keeps most of 8 bits' precision: far closer than 7 bits.
  const [u1, u2, u3, u4] = [3, 4, 5, 6].map((seed) => noise(256 * 64, seed));
  const normal = Float32Array.from(u1, (v, i) => (v + u2[i] + u3[i] + u4[i]) * 0.05); // near-normal, as trained weights are
  const error = (range: 'full' | 'reduced' | 'paired') => {
    const q = quantizeWeights(normal, [256, 64], 1, range);
    return normal.reduce((e, v, i) => e + (v - q.data[i] * q.scales[i % 64]) ** 2, 0);
  };
  assert.ok(error('paired') < 0.5 * error('reduced'), `paired ${error('paired')}, 7-bit ${error('reduced')}`);
  assert.ok(error('paired') >= error('full'));
  assert.throws(() => quantizeWeights(Float32Array.of(1, 2, 3, 4), [1, 1, 2, 2], 0, 'paired'), /need a \[K, N\] matrix/);
  assert.deepEqual(signedActivationQuant(-0.5, 2), { scale: Math.fround(2 / 127), zeroPoint: 0 });
  assert.deepEqual(signedActivationQuant(-4, 2, true), { scale: Math.fround(4 / 63), zeroPoint: 0 }, '7 bits, as weights, on AVX2');
  const a = activationQuant(0.5, 2);
  assert.equal(quantizeActivation(0, a), a.zeroPoint);
  assert.equal(quantizeActivation(2, a), 255);
});

test('static int8 matches a reference integer computation, in the form onnxruntime fuses', async (t) => {
  const dir = tempDir(t);
  const model = smallModel();
  const x = floatTensor([4, 2, 6, 6], noise(288, 9));
  const layers = quantLayers(model);
  assert.deepEqual(
    layers.map((l) => l.op),
    ['Conv', 'Gemm'],
  );
  const ranges = await calibrateRanges(model, calibratedValues(layers), [x], 'minmax');
  const quantized = quantizeStatic(model, { ranges, keepFloat: new Set(), reduceRange: true, products: false });
  const optimized = join(dir, 'optimized.onnx');
  const got = await run(quantized, x, optimized);
  const ops = readFileSync(optimized).toString('latin1');
  assert.match(ops, /QLinearConv/);
  assert.match(ops, /QGemm/);

  // The same arithmetic by hand: uint8 activations, int8 weights per channel, int32 sums.
  const conv = layers[0];
  const fc = layers[1];
  const qx = activationQuant(ranges.get(conv.input)!.min, ranges.get(conv.input)!.max);
  const qy = activationQuant(ranges.get(conv.output)!.min, ranges.get(conv.output)!.max);
  const cw = quantizeWeights(model.initializers.get(conv.weight)!.data as Float32Array, [3, 2, 3, 3], 0, 'reduced');
  const cb = model.initializers.get(conv.bias!)!.data as Float32Array;
  const fw = quantizeWeights(model.initializers.get(fc.weight)!.data as Float32Array, [48, 5], 1, 'paired');
  const fb = model.initializers.get(fc.bias!)!.data as Float32Array;
  const qh = activationQuant(ranges.get(fc.input)!.min, ranges.get(fc.input)!.max);
  assert.deepEqual(qh, qy, 'the flatten between them keeps the conv output range');
  const expected = new Float32Array(4 * 5);
  for (let n = 0; n < 4; n++) {
    const hidden = new Int32Array(48); // requantized conv output, uint8
    for (let o = 0; o < 3; o++) {
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          let acc = roundHalfEven(cb[o] / (qx.scale * cw.scales[o]));
          for (let c = 0; c < 2; c++) {
            for (let ki = 0; ki < 3; ki++) {
              for (let kj = 0; kj < 3; kj++) {
                const q = quantizeActivation(x.data[n * 72 + c * 36 + (i + ki) * 6 + (j + kj)], qx);
                acc += (q - qx.zeroPoint) * cw.data[o * 18 + c * 9 + ki * 3 + kj];
              }
            }
          }
          hidden[o * 16 + i * 4 + j] = quantizeActivation(acc * qx.scale * cw.scales[o], qy);
        }
      }
    }
    for (let o = 0; o < 5; o++) {
      let acc = roundHalfEven(fb[o] / (qy.scale * fw.scales[o]));
      for (let k = 0; k < 48; k++) acc += (hidden[k] - qy.zeroPoint) * fw.data[k * 5 + o];
      expected[n * 5 + o] = acc * qy.scale * fw.scales[o];
    }
  }
  // onnxruntime requantizes with a float multiplier: a hidden value may land one step away.
  const step = qy.scale * Math.max(...fw.scales) * 48;
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(got[i] - expected[i]) <= step, `logit ${i}: ${got[i]} vs ${expected[i]}`);
  assert.ok(sqnr(expected, got) > 30, `SQNR against the reference ${sqnr(expected, got)}`);
});

test('int8 for VNNI: HardSwish after an int8 convolution runs on uint8, hardswish of the same uint8 value', async (t) => {
  // The arithmetic: x = (q - k) * 3/k, and Clip(q, 0, 2k) read at scale (3/k) / 6 is hsig(x), for every q.
  for (const max of [0.5, 2.9, 13.3, 700]) {
    const q = hardswishQuant(max)!;
    const k = q.zeroPoint;
    assert.ok(Math.abs(q.scale * k - 3) < 1e-5 && (255 - k) * q.scale >= max * (1 - 1e-6), `[-3, ${max}] is covered`);
    for (let v = 0; v < 256; v++) {
      const x = (v - k) * q.scale;
      const hsig = Math.min(v, Math.min(255, 2 * k)) * Math.fround(q.scale / 6);
      assert.ok(Math.abs(hsig - Math.min(1, Math.max(0, x / 6 + 0.5))) < 1e-6, `q ${v} of k ${k}`);
    }
  }
  assert.equal(hardswishQuant(-3), null, 'hardswish is 0 throughout');

  // x -> conv -> HardSwish -> conv -> flatten -> linear: the HardSwish between the int8 convolutions.
  const b = new GraphBuilder('swish');
  const param = noiseParam(b);
  const x = b.input('x', ['N', 2, 6, 6]);
  // Weights large enough that the convolution's output reaches well beyond [-3, 3].
  const h = b.hardswish(b.conv2d(x, param('c1.w', [3, 2, 3, 3], 1, 8), param('c1.b', [3], 2), { stride: 1, pad: 1 }));
  const y = b.reshape(b.conv2d(h, param('c2.w', [4, 3, 3, 3], 4), param('c2.b', [4], 5), { stride: 1, pad: 0 }), ['N', 64]);
  b.output(b.linear(y, param('fc.w', [5, 64], 6), param('fc.b', [5], 7)));
  const model = lowerGraph(b.graph);
  const input = floatTensor([8, 2, 6, 6], noise(576, 8));
  const layers = quantLayers(model);
  const ranges = await calibrateRanges(model, calibratedValues(layers), [input], 'minmax');
  assert.deepEqual(
    hardswishUnits(model, new Map(layers.map((l) => [l.node, l]))).map((u) => u.conv),
    [layers[0].node],
  );
  const plan = { ranges, keepFloat: new Set<string>(), reduceRange: false, products: false };
  const dir = tempDir(t);
  const reference = await run(model, input);
  const plain = await run(quantizeStatic(model, plan), input);
  const vnni = await run(quantizeStatic(model, { ...plan, vnni: true }), input, join(dir, 'vnni.onnx'));
  const ops = readFileSync(join(dir, 'vnni.onnx')).toString('latin1');
  assert.match(ops, /QLinearMul/, 'x * hsig(x) fuses into QLinearMul');
  assert.match(ops, /Clip/);
  assert.doesNotMatch(ops, /HardSigmoid/, 'no float32 HardSwish is left');
  assert.equal(ops.split('QLinearConv').length - 1, 2);
  // Its range [-3, max] is finer than the convolution's own [min, max].
  assert.ok(sqnr(reference, vnni) > sqnr(reference, plain), `uint8 HardSwish ${sqnr(reference, vnni)} dB, float ${sqnr(reference, plain)} dB`);
});

test('int8 for VNNI: a fused projection split per head into one QGemm per part, exactly', async (t) => {
  // Tokens [N, 4, 8] -> linear to 2 heads x (2 + 2 + 4) interleaved per head -> Split -> attention.
  const b = new GraphBuilder('heads');
  const x = b.input('x', ['N', 4, 8]);
  const w = b.initializer('qkv.w', floatTensor([16, 8], noise(128, 1)), 'param');
  const qkv = b.reshape(b.linear(x, w, b.initializer('qkv.b', floatTensor([16], noise(16, 2)), 'param')), ['N', 4, 2, 8]);
  const [q, k, v] = b.split(qkv, 3, [2, 2, 4]);
  const scores = b.matmul(b.transpose(q, [0, 2, 1, 3]), b.transpose(k, [0, 2, 3, 1]));
  b.output(b.reshape(b.matmul(scores, b.transpose(v, [0, 2, 1, 3])), ['N', 32]));
  const model = lowerGraph(b.graph);
  const input = floatTensor([3, 4, 8], noise(96, 3));
  const ranges = await calibrateRanges(model, calibratedValues(quantLayers(model)), [input], 'minmax');
  const fused = quantizeStatic(model, { ranges, keepFloat: new Set(), reduceRange: false, products: false, vnni: true });
  const split = splitHeads(fused);
  assert.equal(split.nodes.filter((n) => n.op === 'Split').length, 0);
  assert.equal(split.nodes.filter((n) => n.op === 'Gemm').length, 3);
  const dir = tempDir(t);
  assert.deepEqual(await run(split, input, join(dir, 'split.onnx')), await run(fused, input), 'the same integers, column by column');
  const ops = readFileSync(join(dir, 'split.onnx')).toString('latin1');
  assert.equal(ops.split('QGemm').length - 1, 3, 'each part is a QGemm');
  const float = quantizeStatic(model, { ranges, keepFloat: new Set(quantLayers(model).map((l) => l.node)), reduceRange: false, products: false });
  assert.equal(splitHeads(float), float, 'a projection kept in float32 stays as it is');
});

test('the VNNI form runs a Sigmoid after an int8 convolution on uint8 (QLinearSigmoid), and SiLU as QLinearMul; AVX2 keeps it float', async (t) => {
  // x -> conv -> SiLU -> conv -> flatten -> linear, as in EfficientNet's blocks.
  const b = new GraphBuilder('silu');
  const param = noiseParam(b);
  const x = b.input('x', ['N', 2, 6, 6]);
  const h = b.silu(b.conv2d(x, param('c1.w', [3, 2, 3, 3], 1), param('c1.b', [3], 2), { stride: 1, pad: 1 }));
  // A squeeze-and-excitation-like float reader of the SiLU's output (a mean), as in EfficientNet.
  const gated = b.mul(h, b.sigmoid(b.mean(h, [2, 3], true)));
  const y = b.reshape(b.conv2d(gated, param('c2.w', [4, 3, 3, 3], 4), param('c2.b', [4], 5), { stride: 1, pad: 0 }), ['N', 64]);
  b.output(b.linear(y, param('fc.w', [5, 64], 6), param('fc.b', [5], 7)));
  const model = lowerGraph(b.graph);
  const input = floatTensor([8, 2, 6, 6], noise(576, 8));
  const silus = siluUnits(model, quantLayers(model));
  assert.deepEqual(
    silus.map((u) => u.conv),
    [quantLayers(model)[0].node],
    'the SiLU over the first convolution (the gate multiplies by a Sigmoid of a mean, not of the convolution)',
  );
  const ranges = await calibrateRanges(model, calibratedValues(quantLayers(model), [], [silus[0].output]), [input], 'minmax');
  const plan = { ranges, keepFloat: new Set<string>(), reduceRange: false, products: false };
  const dir = tempDir(t);
  const reference = await run(model, input);
  const vnni = await run(quantizeStatic(model, { ...plan, vnni: true }), input, join(dir, 'vnni.onnx'));
  const ops = readFileSync(join(dir, 'vnni.onnx')).toString('latin1');
  assert.match(ops, /QLinearSigmoid/);
  assert.equal(ops.split('QLinearMul').length - 1, 1, 'x * sigmoid(x) on uint8: its output is quantized although a float mean reads it');
  // Full-range weights are exact where onnxruntime's int8 products are (VNNI, ARM); where they sum pairs in int16
  // (AVX2 alone, or emulated: scripts/x86-avx2) they saturate, which is why a VNNI-form artifact is refused there.
  if ((await int8MachineHere()).saturates) assert.ok(sqnr(reference, vnni) < 25, `saturated: ${sqnr(reference, vnni)} dB`);
  else assert.ok(sqnr(reference, vnni) > 30, `${sqnr(reference, vnni)} dB`);
  await run(quantizeStatic(model, plan), input, join(dir, 'avx2.onnx'));
  assert.doesNotMatch(readFileSync(join(dir, 'avx2.onnx')).toString('latin1'), /QLinearSigmoid/, 'the AVX2 form is as before');
  // Kept in float32 by the fallback, the convolution's Sigmoid stays float32 too.
  const kept = quantizeStatic(model, { ...plan, vnni: true, keepFloat: new Set([quantLayers(model)[0].node]) });
  assert.equal(
    kept.nodes.filter((n) => n.op === 'QuantizeLinear' && n.inputs[1] && kept.initializers.get(n.inputs[1])?.data[0] === SIGMOID_QUANT.scale).length,
    0,
  );
});

test('dynamic int8 and fp16 keep the small model close to float32', async () => {
  const model = smallModel();
  const x = floatTensor([4, 2, 6, 6], noise(288, 9));
  const reference = await run(model, x);
  assert.ok(sqnr(reference, await run(quantizeDynamic(model), x)) > 25);
  const half = toFloat16(model);
  assert.equal(half.initializers.get('conv.weight')!.dtype, 'float16');
  assert.ok(sqnr(reference, await run(half, x)) > 50);
});

test('the fallback keeps float the layers costing most accuracy per share of the work, stops on the selection images, is judged on others', async () => {
  const model = smallModel();
  const x = floatTensor([4, 2, 6, 6], noise(288, 9));
  const unseen = floatTensor([4, 2, 6, 6], noise(288, 10));
  const layers = quantLayers(model);
  const ranges = await calibrateRanges(model, calibratedValues(layers), [x], 'minmax');
  const plan = { ranges, keepFloat: new Set<string>(), reduceRange: true, products: false };
  const images = { calibration: [x], selection: [x], validation: [unseen] };
  const easy = await quantizeWithFallback(model, layers, plan, images, 0, 4);
  assert.ok(easy.report.met);
  assert.deepEqual(
    easy.report.layers.map((l) => [l.float, l.alone]),
    [
      [false, null],
      [false, null],
    ],
  );
  assert.ok(Math.abs(easy.report.layers.reduce((n, l) => n + l.share, 0) - 1) < 1e-9, 'shares of the multiply-adds add up to 1');
  assert.equal(easy.report.images, 4);
  assert.equal(easy.report.heldOut, true);
  const strict = await quantizeWithFallback(model, layers, plan, images, 200, 1);
  assert.equal(strict.report.met, false);
  assert.equal(strict.report.layers.filter((l) => l.float).length, 1);
  const [kept] = strict.report.layers.filter((l) => l.float);
  const harm = (l: { alone: number | null; share: number }) => 10 ** (-l.alone! / 10) / l.share;
  assert.equal(harm(kept), Math.max(...strict.report.layers.map(harm)), 'the most noise per share of the work goes first');
  assert.ok(strict.report.logitsSqnr > easy.report.logitsSqnr);
  // The stop is decided on the selection images; the report is on the validation images, which decided nothing.
  const target = (easy.report.selectionSqnr + strict.report.selectionSqnr) / 2;
  const between = await quantizeWithFallback(model, layers, plan, images, target, 2);
  assert.ok(between.report.selectionSqnr >= target);
  assert.equal(between.report.layers.filter((l) => l.float).length, 1);
  assert.equal(between.report.met, between.report.logitsSqnr >= target, 'met is judged on the unseen images');
  assert.notEqual(between.report.logitsSqnr, between.report.selectionSqnr);
  assert.match(renderSensitivity(between.report).join('\n'), /on 4 images no step of the conversion saw/);
  assert.match(renderSensitivity(between.report).join('\n'), /on the 4 selection images that decide the fallback/);
  const none = await quantizeWithFallback(model, layers, plan, { calibration: [x], selection: null, validation: null }, 0, 0);
  assert.equal(none.report.heldOut, false);
  assert.match(renderSensitivity(none.report).join('\n'), /none left unseen: this flatters int8/);
});

test('calibration is deterministic; percentile ranges lie within min-max ranges', async () => {
  const model = smallModel();
  const x = floatTensor([4, 2, 6, 6], noise(288, 9));
  const values = calibratedValues(quantLayers(model));
  const minmax = await calibrateRanges(model, values, [x], 'minmax');
  const pct = await calibrateRanges(model, values, [x], 'percentile', 99);
  assert.deepEqual([...(await calibrateRanges(model, values, [x], 'percentile', 99))], [...pct]);
  for (const v of values) {
    assert.ok(pct.get(v)!.min >= minmax.get(v)!.min && pct.get(v)!.max <= minmax.get(v)!.max, v);
    assert.ok(pct.get(v)!.max - pct.get(v)!.min < minmax.get(v)!.max - minmax.get(v)!.min, v);
  }
});

test('precision is part of the artifact cache key: precision, method, calibration set', async (t) => {
  const dir = tempDir(t);
  const weights: WeightsInfo = { kind: 'synthetic', id: 'synthetic-s0', label: 'synthetic' };
  // An AVX2 machine's defaults keep the keys they had before the CPU chose them.
  const o = { ...PRECISION_DEFAULTS, int8Target: 'avx2' as const };
  assert.equal(artifactPath('levit_128s', weights, 'onnx', FP32), artifactPath('levit_128s', weights, 'onnx'));
  assert.doesNotMatch(artifactPath('levit_128s', weights, 'onnx'), /fp32|int8/);
  const dynamic = await resolvePrecision('int8', o);
  assert.equal(precisionKey(dynamic), 'int8-dynamic-rp');
  assert.equal(precisionKey(await resolvePrecision('int8', { ...o, reduceRange: false })), 'int8-dynamic');
  assert.equal(precisionKey(await resolvePrecision('int8', { ...o, int8Target: 'vnni' })), 'int8-dynamic-vnni');
  if (hasShared) {
    const a = await resolvePrecision('int8', { ...o, calibration: golden('images') });
    const again = await resolvePrecision('int8', { ...o, calibration: golden('images') });
    const pct = await resolvePrecision('int8', { ...o, calibration: golden('images'), method: 'percentile' });
    const fewer = await resolvePrecision('int8', { ...o, calibration: golden('images'), calibrationSize: 3 });
    const vnni = await resolvePrecision('int8', { ...o, calibration: golden('images'), int8Target: 'vnni' });
    const attention = await resolvePrecision('int8', { ...o, calibration: golden('images'), int8Attention: true });
    assert.equal(precisionKey(a), precisionKey(again), 'deterministic');
    const keys = [FP32, await resolvePrecision('fp16', o), dynamic, a, pct, fewer, vnni, attention].map((p) => artifactPath('levit_128s', weights, 'onnx', p));
    assert.equal(new Set(keys).size, keys.length);
    assert.match(precisionKey(a), /^int8-minmax-[0-9a-f]{12}-n4-s[0-9a-f]{12}-n2-v[0-9a-f]{12}-n2-t20-f16-rp$/);
    assert.match(precisionKey(vnni), /-t20-f16-vnni-g2$/, 'the VNNI graph form has a revision of its own');
  }
  await assert.rejects(resolvePrecision('fp16', { ...o, calibration: dir }), /--calibration applies to --precision int8/);
  await assert.rejects(resolvePrecision('int8', { ...o, method: 'percentile' }), /needs --calibration DIR/);
  await assert.rejects(resolvePrecision('int8', { ...o, calibration: join(dir, 'missing') }), /no such folder/);
  writeFileSync(join(dir, 'calib.txt'), 'not a folder');
  await assert.rejects(
    resolvePrecision('int8', { ...o, calibration: join(dir, 'calib.txt') }),
    (e: Error & { exitCode?: number }) => /calib\.txt is a file, not a folder/.test(e.message) && e.exitCode === 2,
  );
  await assert.rejects(resolvePrecision('int8', { ...o, calibration: dir }), /no images in this folder/);
});

test('the 99% gate is paired and says inconclusive when the images are too few', () => {
  assert.equal(judgePrecision({ images: 50_000, lostRight: 300, gainedRight: 250, fp32Right: 38_000 }, false).verdict, 'passes');
  assert.equal(judgePrecision({ images: 50_000, lostRight: 1200, gainedRight: 300, fp32Right: 38_000 }, false).verdict, 'fails');
  const few = judgePrecision({ images: 200, lostRight: 2, gainedRight: 1, fp32Right: 150 }, false);
  assert.equal(few.verdict, 'inconclusive');
  assert.match(few.reason, /too few images/);
  assert.equal(judgePrecision({ images: 20, lostRight: 0, gainedRight: 0, fp32Right: 15 }, false).verdict, 'inconclusive');
  assert.equal(judgePrecision({ images: 50_000, lostRight: 0, gainedRight: 0, fp32Right: 38_000 }, true).verdict, 'inconclusive');
});

test('TF.js uint8 weights: dequantized within half a step, zero exact', () => {
  const w = Float32Array.of(-0.3, 0, 0.1, 0.7, 0.05);
  const { bytes, quantization } = quantizeTfjsWeight(w, 'uint8');
  const back = [...bytes].map((q) => q * quantization.scale! + quantization.min!);
  w.forEach((v, i) => assert.ok(Math.abs(back[i] - v) <= quantization.scale! / 2 + 1e-7));
  assert.equal(back[1], 0);
  const half = quantizeTfjsWeight(w, 'float16');
  assert.equal(half.bytes.length, 5);
  assert.equal(half.quantization.dtype, 'float16');
});

test('LeViT-128S on the golden photos: int8 and fp16 logits against float32, artifacts smaller', { skip: needsShared }, async () => {
  const card = getCard('levit_128s');
  const model = lowerGraph(prepareModel(card, { kind: 'checkpoint', path: golden('levit_128s', 'LeViT-128S-golden.pth') }).graph);
  const set = await loadCalibrationSet(chooseCalibrationFiles(golden('images'), 100), card.preprocessing);
  assert.deepEqual(
    set.skipped.map((s) => s.file.split('/').pop()),
    ['truncated.jpg'],
  );
  const logitsOf = async (m: OnnxModel) => {
    const parts: number[] = [];
    await forEachBatch(m, [m.outputs[0].name], set.batches, (v) => parts.push(...v.get(m.outputs[0].name)!));
    return Float32Array.from(parts);
  };
  const reference = await logitsOf(model);
  const layers = quantLayers(model);
  assert.equal(layers.length, 51);
  const ranges = await calibrateRanges(model, calibratedValues(layers), set.batches, 'minmax');
  const int8 = quantizeStatic(model, { ranges, keepFloat: new Set(), reduceRange: true, products: false });
  const int8Logits = await logitsOf(int8);
  // Measured: 14.3 dB, top-1 agreement 5 of 7 (random-but-realistic weights; AVX2 machine).
  assert.ok(sqnr(reference, int8Logits) > 10, `int8 SQNR ${sqnr(reference, int8Logits)}`);
  assert.ok(top1Agreement(reference, int8Logits, 1000) >= 4 / 7);
  const fp16Logits = await logitsOf(toFloat16(model));
  assert.ok(sqnr(reference, fp16Logits) > 40, `fp16 SQNR ${sqnr(reference, fp16Logits)}`);
  assert.equal(top1Agreement(reference, fp16Logits, 1000), 1);
  const fp32Bytes = serializeOnnx(model).length;
  assert.ok(serializeOnnx(int8).length < 0.35 * fp32Bytes);
  assert.ok(serializeOnnx(toFloat16(model)).length < 0.51 * fp32Bytes);
});

test('levit convert --precision int8 and bench --precision, as a user runs them', { skip: needsShared }, (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'levit.int8.onnx');
  const r = runCli(
    ['convert', 'levit_128s', '--weights', 'synthetic', '--precision', 'int8', '--calibration', golden('images'), '--target-sqnr', '0', '--out', out, '--json'],
    { LEVIT_CACHE_DIR: dir },
  );
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.precision.precision, 'int8');
  assert.equal(result.sensitivity.layers.length, 51);
  assert.ok(
    result.notes.some((n: string) => /left out .*truncated\.jpg/.test(n)),
    result.notes.join('\n'),
  );
  // The label counts the chosen images; a note says how many of them could be read, as the report counts them.
  assert.match(result.precision.label, /calibration on 4 images, judged on 2 unseen/);
  assert.ok(result.notes.includes('calibration: 3 of the 4 chosen images used (1 unreadable)'), result.notes.join('\n'));
  assert.equal(result.sensitivity.calibrationImages, 3);
  const bad = runCli(['convert', 'levit_128s', '--precision', 'fp16', '--calibration', golden('images')], { LEVIT_CACHE_DIR: dir });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /calibration images apply to --precision int8, not fp16/);
  const bench = runCli(
    [
      'bench',
      'levit_128s',
      '--precision',
      'fp32,int8',
      '--threads',
      '1',
      '--batch',
      '1',
      '--duration',
      '0',
      '--warmup',
      '0',
      '--min-iterations',
      '1',
      '--no-machine-check',
      '--int8-target',
      'avx2',
      '--json',
    ],
    { LEVIT_CACHE_DIR: dir },
  );
  assert.equal(bench.status, 0, bench.stderr);
  const records = JSON.parse(bench.stdout).records as { precision: string; precision_key?: string }[];
  assert.deepEqual(
    records.map((x) => [x.precision, x.precision_key]),
    [
      ['fp32', undefined],
      ['int8', 'int8-dynamic-rp'],
    ],
  );
});

test('fp16 runs on ort-webgpu (float32 in and out) close to float32', async (t) => {
  const webgpu = getBackend('ort-webgpu');
  const skip = skipUnlessRuns(await webgpu.probe());
  if (skip) return t.skip(skip);
  const dir = tempDir(t);
  const model = smallModel();
  const x = floatTensor([4, 2, 6, 6], noise(288, 9));
  const file = join(dir, 'small.fp16.onnx');
  writeFileSync(file, serializeOnnx(toFloat16(model)));
  const session = await webgpu.load(file, { threads: 1 });
  const got = await session.run(x);
  await session.release();
  assert.ok(sqnr(await run(model, x), got.data) > 50, `SQNR ${sqnr(await run(model, x), got.data)}`);
});
