#!/usr/bin/env node
// Every zoo model in int8 (static and dynamic) and fp16 against float32: logit SQNR and top-1
// agreement on real photos HELD OUT from calibration, artifact sizes, and with --speed the
// int8 speed-up over the model's float32 artifact and over the torch.onnx export where one exists
// (alternated batch by batch in one process, one thread); with --tfjs the TF.js weight storage's cost.
//
//   node scripts/precision-study.mjs [--models a,b] [--images DIR] [--validation DIR] [--siblings 2]
//        [--int8-target vnni|avx2] [--int8-attention] [--speed] [--seconds 40] [--tfjs] [--out study.json]
//
// Images: --images is split as levit convert splits --calibration (1 in 3 held out), unless
// --validation gives the held-out photos. SQNR pools signal and noise over the held-out images.
// Weights: the golden checkpoint in ../shared/golden where there is one (random but realistic
// values), synthetic otherwise; --siblings K adds K checkpoints of the same shape made from the
// golden one by shuffling each tensor's values (same statistics, other weights). The figures test
// the mechanism, not ImageNet accuracy (that is levit eval --precision int8 and its 99% gate).
// The CPU is recorded with the results: its flags decide the int8 form (--int8-target overrides).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { alternate, speedup } from './alternate.mjs';
import { writeFileAtomic } from '../dist/src/util/atomic.js';
import { getCard, listCards, buildGraph } from '../dist/src/models/registry.js';
import { convertModel } from '../dist/src/classifier/convert.js';
import { prepareModel } from '../dist/src/classifier/model.js';
import { FP32, PRECISION_DEFAULTS, lowerWithPrecision, precisionLabel, resolvePrecision } from '../dist/src/classifier/precision.js';
import { loadCalibrationSet } from '../dist/src/classifier/calibration-set.js';
import { readCheckpoint } from '../dist/src/checkpoint/index.js';
import { optimizeForInference } from '../dist/src/ir/passes.js';
import { CheckpointWeights } from '../dist/src/models/weights.js';
import { serializeOnnx } from '../dist/src/onnx/model.js';
import { cpuFlags } from '../dist/src/quant/cpu-target.js';
import { sqnr } from '../dist/src/quant/numeric.js';
import { forEachBatch } from '../dist/src/quant/run.js';
import { top1Agreement } from '../dist/src/quant/sensitivity.js';
import { requireBackend } from '../dist/src/runtime/registry.js';
import { seededRandom } from '../dist/src/util/random.js';
import { packageRoot } from '../dist/src/util/paths.js';

const { values: flags } = parseArgs({
  options: {
    models: { type: 'string' },
    images: { type: 'string', default: join(packageRoot, '..', 'shared', 'golden', 'images') },
    validation: { type: 'string' },
    siblings: { type: 'string', default: '0' },
    'target-sqnr': { type: 'string', default: String(PRECISION_DEFAULTS.targetSqnr) },
    'int8-target': { type: 'string' },
    'int8-attention': { type: 'boolean', default: false },
    speed: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '40' },
    tfjs: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const golden = join(packageRoot, '..', 'shared', 'golden');
const GOLDEN = {
  levit_128s: 'levit_128s/LeViT-128S-golden.pth',
  efficientnet_b0: 'efficientnet_b0/efficientnet_b0-golden.pth',
  deit_tiny_distilled_patch16_224: 'deit_tiny_distilled/model.safetensors',
  efficientformer_l1: 'efficientformer_l1/model.safetensors',
  edgenext_x_small: 'edgenext_x_small/model.safetensors',
  cait_xxs24_224: 'cait_xxs24_224/model.safetensors',
  convit_tiny: 'convit_tiny/model.safetensors',
};
/** The official model exported by torch.onnx: the speed a user without levit gets. */
const TORCH_EXPORT = { levit_128s: 'levit_128s/torch_export.onnx' };

const models = flags.models ? flags.models.split(',') : listCards().map((c) => c.id);
const options = {
  ...PRECISION_DEFAULTS,
  targetSqnr: Number(flags['target-sqnr']),
  int8Target: flags['int8-target'],
  int8Attention: flags['int8-attention'],
};
const specs = {
  fp32: FP32,
  'int8 static': await resolvePrecision('int8', { ...options, calibration: flags.images, validation: flags.validation }),
  'int8 dynamic': await resolvePrecision('int8', { ...options, method: 'dynamic' }),
  fp16: await resolvePrecision('fp16', options),
};
const staticSpec = specs['int8 static'];
if (!staticSpec.validation) throw new Error(`${flags.images}: a single image; nothing can be held out`);
const flagsHere = cpuFlags(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : null);
const cpu = {
  int8: precisionLabel(staticSpec),
  reason: staticSpec.targetReason,
  flags: flagsHere ? ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni'].filter((f) => flagsHere.has(f)) : [],
};
process.stderr.write(`int8 form: ${cpu.int8}\n  because ${cpu.reason}\n  held out: ${staticSpec.validationHow}\n`);

/** A checkpoint of the same shape: each tensor's values shuffled (seeded), so its statistics stay realistic. */
function siblingGraph(card, path, seed) {
  const random = seededRandom(seed);
  const weights = new Map();
  for (const [name, t] of readCheckpoint(path).weights) {
    if (t.dtype !== 'float32' || t.data.length < 2) {
      weights.set(name, t);
      continue;
    }
    const data = Float32Array.from(t.data);
    for (let i = data.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [data[i], data[j]] = [data[j], data[i]];
    }
    weights.set(name, { ...t, data });
  }
  return optimizeForInference(buildGraph(card, new CheckpointWeights(weights)));
}

const dir = mkdtempSync(join(tmpdir(), 'levit-precision-'));
const rows = [];
try {
  for (const id of models) {
    const card = getCard(id);
    const path = GOLDEN[id] && join(golden, GOLDEN[id]);
    const real = path && existsSync(path);
    const variants = [
      { weights: real ? 'golden' : 'synthetic', graph: prepareModel(card, real ? { kind: 'checkpoint', path } : { kind: 'synthetic', seed: 0 }).graph },
    ];
    if (real) for (let k = 1; k <= Number(flags.siblings); k++) variants.push({ weights: `golden, shuffled (seed ${k})`, graph: siblingGraph(card, path, k) });
    const held = await loadCalibrationSet(staticSpec.validation, card.preprocessing);
    const logits = async (m) => {
      const parts = [];
      await forEachBatch(m, [m.outputs[0].name], held.batches, (v) => parts.push(...v.get(m.outputs[0].name)));
      return Float32Array.from(parts);
    };
    for (const [v, variant] of variants.entries()) {
      const row = { model: id, weights: variant.weights, held_out_images: held.batches.reduce((n, b) => n + b.shape[0], 0), onnx: {}, tfjs: {} };
      let reference;
      const files = {};
      for (const [name, spec] of Object.entries(specs)) {
        process.stderr.write(`${id} (${variant.weights}): ${name}\n`);
        const r = await lowerWithPrecision(variant.graph, card, spec);
        const bytes = serializeOnnx(r.model);
        files[name] = join(dir, `${id}.${v}.${name.replace(' ', '-')}.onnx`);
        writeFileSync(files[name], bytes);
        const l = await logits(r.model);
        reference ??= l;
        row.onnx[name] = {
          bytes: bytes.length,
          sqnr: sqnr(reference, l),
          top1_agreement: top1Agreement(reference, l, card.num_classes),
          float_layers: r.sensitivity?.layers.filter((x) => x.float).map((x) => x.node) ?? null,
          calibration_sqnr: r.sensitivity?.calibrationSqnr ?? null,
        };
      }
      if (flags.speed && v === 0) {
        const torch = TORCH_EXPORT[id] && join(golden, TORCH_EXPORT[id]);
        const timed = [files.fp32, files['int8 static'], files['int8 dynamic'], ...(torch && existsSync(torch) ? [torch] : [])];
        row.speed = {};
        for (const batch of [16, 1]) {
          process.stderr.write(`${id}: timing fp32, int8 static, int8 dynamic${timed.length > 3 ? ', torch export' : ''} alternated at batch ${batch}\n`);
          const t = await alternate(timed, { batch, seconds: Number(flags.seconds) / 2 });
          const ratio = ({ value, low, high }) => ({ value, low, high });
          row.speed[`batch_${batch}`] = {
            rounds: t[0].rounds,
            ms: Object.fromEntries(['fp32', 'int8 static', 'int8 dynamic', 'torch export'].slice(0, t.length).map((n, i) => [n, t[i].ms])),
            static_vs_fp32: ratio(t[1].speedup),
            dynamic_vs_fp32: ratio(t[2].speedup),
            static_vs_torch: t[3] ? ratio(speedup(t[3], t[1])) : null,
          };
        }
      }
      if (flags.tfjs && v === 0) {
        let tfReference;
        const weights = real ? { kind: 'checkpoint', path } : { kind: 'synthetic', seed: 0 };
        for (const [name, spec] of Object.entries({ float32: FP32, uint8: specs['int8 dynamic'], float16: specs.fp16 })) {
          const out = join(dir, `${id}.${name}.tfjs`);
          process.stderr.write(`${id}: tfjs ${name} weights\n`);
          const r = await convertModel(card, weights, 'tfjs', out, undefined, spec);
          const session = await (await requireBackend('tfjs-wasm')).backend.load(out, { threads: 0 });
          const parts = [];
          for (const b of held.batches) parts.push(...(await session.run(b)).data);
          await session.release();
          const l = Float32Array.from(parts);
          tfReference ??= l;
          row.tfjs[name] = { bytes: r.bytes, sqnr: sqnr(tfReference, l), top1_agreement: top1Agreement(tfReference, l, card.num_classes) };
        }
      }
      rows.push(row);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const db = (v) => (Number.isFinite(v) ? v.toFixed(1) : 'exact');
const x = (v) => (v == null ? '—' : `${v.value.toFixed(2)}× [${v.low.toFixed(2)}, ${v.high.toFixed(2)}]`);
const pct = (v) => `${(100 * v).toFixed(0)}%`;
const lines = [
  `int8 form: ${cpu.int8} (${cpu.reason}); CPU flags: ${cpu.flags.join(', ') || 'none read'}.`,
  `Held out: ${staticSpec.validationHow}. SQNR and top-1 agreement against float32 on those images only.`,
  '',
  '| model | weights | int8 static: held-out SQNR dB / top-1 agree (calibration SQNR) | layers float | int8 dynamic | fp16 | int8 size vs fp32 |',
  '| --- | --- | --- | --- | --- | --- | --- |',
];
for (const r of rows) {
  const s = r.onnx['int8 static'];
  lines.push(
    `| ${[
      r.model,
      r.weights,
      `${db(s.sqnr)} / ${pct(s.top1_agreement)} (${db(s.calibration_sqnr)})`,
      s.float_layers.length,
      `${db(r.onnx['int8 dynamic'].sqnr)} / ${pct(r.onnx['int8 dynamic'].top1_agreement)}`,
      `${db(r.onnx.fp16.sqnr)} / ${pct(r.onnx.fp16.top1_agreement)}`,
      `${(r.onnx.fp32.bytes / s.bytes).toFixed(2)}× smaller`,
    ].join(' | ')} |`,
  );
}
if (flags.speed) {
  lines.push(
    '',
    'Speed, one thread, interleaved rounds in one process (ratios of median ms a batch, paired 99% intervals with the between-run spread;' +
      ` int8 form as above; CPU flags: ${cpu.flags.join(', ')}):`,
    '',
    '| model | static vs fp32, batch 16 / 1 | static vs torch.onnx export, batch 16 / 1 | dynamic vs fp32, batch 16 | fp32 ms a batch of 16 |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const r of rows.filter((r) => r.speed)) {
    const [b16, b1] = [r.speed.batch_16, r.speed.batch_1];
    const cells = [
      `${x(b16.static_vs_fp32)} / ${x(b1.static_vs_fp32)}`,
      `${x(b16.static_vs_torch)} / ${x(b1.static_vs_torch)}`,
      x(b16.dynamic_vs_fp32),
      b16.ms.fp32.toFixed(1),
    ];
    lines.push(`| ${r.model} | ${cells.join(' | ')} |`);
  }
}
if (flags.tfjs) {
  lines.push('', '| model | TF.js uint8 weights: SQNR dB / top-1 agree / size vs fp32 | TF.js float16 weights |', '| --- | --- | --- |');
  for (const r of rows.filter((r) => r.tfjs.float32)) {
    const cell = (n) => `${db(r.tfjs[n].sqnr)} / ${pct(r.tfjs[n].top1_agreement)} / ${(r.tfjs.float32.bytes / r.tfjs[n].bytes).toFixed(2)}× smaller`;
    lines.push(`| ${r.model} | ${cell('uint8')} | ${cell('float16')} |`);
  }
}
console.log(lines.join('\n'));
if (flags.out) writeFileAtomic(flags.out, `${JSON.stringify({ cpu, held_out: staticSpec.validationHow, rows }, null, 1)}\n`);
