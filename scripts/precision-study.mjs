#!/usr/bin/env node
// Fidelity and size of every zoo model in int8 (static and dynamic) and fp16 against float32, on
// real photos: logit SQNR, top-1 agreement, artifact bytes; and the TF.js uint8/float16 weight
// storage's logit cost. Speed is levit bench's job (see docs/PERFORMANCE.md for the commands).
//
//   node scripts/precision-study.mjs [--models a,b] [--images DIR] [--target-sqnr 20] [--tfjs] [--out study.json]
//
// Weights: the golden checkpoints in ../shared/golden where there is one (random but realistic
// values), synthetic otherwise: the figures test the mechanism, not ImageNet accuracy.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../dist/src/util/atomic.js';
import { getCard, listCards } from '../dist/src/models/registry.js';
import { convertModel } from '../dist/src/classifier/convert.js';
import { FP32, PRECISION_DEFAULTS, resolvePrecision } from '../dist/src/classifier/precision.js';
import { chooseCalibrationFiles, loadCalibrationSet } from '../dist/src/classifier/calibration-set.js';
import { sqnr } from '../dist/src/quant/numeric.js';
import { top1Agreement } from '../dist/src/quant/sensitivity.js';
import { requireBackend } from '../dist/src/runtime/registry.js';
import { packageRoot } from '../dist/src/util/paths.js';

const { values: flags } = parseArgs({
  options: {
    models: { type: 'string' },
    images: { type: 'string', default: join(packageRoot, '..', 'shared', 'golden', 'images') },
    'target-sqnr': { type: 'string', default: String(PRECISION_DEFAULTS.targetSqnr) },
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
const models = flags.models ? flags.models.split(',') : listCards().map((c) => c.id);
const options = { ...PRECISION_DEFAULTS, targetSqnr: Number(flags['target-sqnr']) };
const specs = {
  fp32: FP32,
  'int8 static': resolvePrecision('int8', { ...options, calibration: flags.images }),
  'int8 dynamic': resolvePrecision('int8', { ...options, method: 'dynamic' }),
  fp16: resolvePrecision('fp16', options),
};
const dir = mkdtempSync(join(tmpdir(), 'levit-precision-'));
const rows = [];
try {
  for (const id of models) {
    const card = getCard(id);
    const path = GOLDEN[id] && join(golden, GOLDEN[id]);
    const weights = path && existsSync(path) ? { kind: 'checkpoint', path } : { kind: 'synthetic', seed: 0 };
    const { batches } = await loadCalibrationSet(chooseCalibrationFiles(flags.images, 100), card.preprocessing);
    const logits = async (backendId, artifact) => {
      const session = await (await requireBackend(backendId)).backend.load(artifact, { threads: 0 });
      const parts = [];
      for (const b of batches) parts.push(...(await session.run(b)).data);
      await session.release();
      return Float32Array.from(parts);
    };
    const row = { model: id, weights: weights.kind, images: batches.reduce((n, b) => n + b.shape[0], 0), onnx: {}, tfjs: {} };
    let reference;
    for (const [name, spec] of Object.entries(specs)) {
      const out = join(dir, `${id}.${name.replace(' ', '-')}.onnx`);
      process.stderr.write(`${id}: ${name}\n`);
      const r = await convertModel(card, weights, 'onnx', out, undefined, spec);
      const l = await logits('ort-cpu', out);
      reference ??= l;
      row.onnx[name] = {
        bytes: r.bytes,
        sqnr: sqnr(reference, l),
        top1_agreement: top1Agreement(reference, l, card.num_classes),
        float_layers: r.sensitivity?.layers.filter((x) => x.float).length ?? null,
      };
    }
    if (flags.tfjs) {
      let tfReference;
      for (const [name, spec] of Object.entries({ float32: FP32, uint8: specs['int8 dynamic'], float16: specs.fp16 })) {
        const out = join(dir, `${id}.${name}.tfjs`);
        process.stderr.write(`${id}: tfjs ${name} weights\n`);
        const r = await convertModel(card, weights, 'tfjs', out, undefined, spec);
        const l = await logits('tfjs-wasm', out);
        tfReference ??= l;
        row.tfjs[name] = { bytes: r.bytes, sqnr: sqnr(tfReference, l), top1_agreement: top1Agreement(tfReference, l, card.num_classes) };
      }
    }
    rows.push(row);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const db = (v) => (Number.isFinite(v) ? v.toFixed(1) : 'exact');
const head = [
  'model',
  'weights',
  ...Object.keys(specs)
    .slice(1)
    .map((n) => `${n} SQNR dB / top-1 agree / size vs fp32`),
];
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
for (const r of rows) {
  const cell = (n) =>
    `${db(r.onnx[n].sqnr)} / ${(100 * r.onnx[n].top1_agreement).toFixed(0)}% / ${(r.onnx.fp32.bytes / r.onnx[n].bytes).toFixed(2)}× smaller` +
    `${r.onnx[n].float_layers ? ` (${r.onnx[n].float_layers} layers float)` : ''}`;
  lines.push(`| ${[r.model, r.weights, ...Object.keys(specs).slice(1).map(cell)].join(' | ')} |`);
}
if (flags.tfjs) {
  lines.push('', '| model | TF.js uint8 weights: SQNR dB / top-1 agree / size vs fp32 | TF.js float16 weights |', '| --- | --- | --- |');
  for (const r of rows) {
    const cell = (n) =>
      `${db(r.tfjs[n].sqnr)} / ${(100 * r.tfjs[n].top1_agreement).toFixed(0)}% / ${(r.tfjs.float32.bytes / r.tfjs[n].bytes).toFixed(2)}× smaller`;
    lines.push(`| ${r.model} | ${cell('uint8')} | ${cell('float16')} |`);
  }
}
console.log(lines.join('\n'));
if (flags.out) writeFileAtomic(flags.out, `${JSON.stringify(rows, null, 1)}\n`);
