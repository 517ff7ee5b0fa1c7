/**
 * Step one of scripts/x86-avx2/test.sh, on this machine natively: both int8 forms of LeViT-128S, and
 * their outputs on a fixed input as this machine's onnxruntime computes them (exact where it has VNNI).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel } from '../../src/classifier/convert.js';
import { PRECISION_DEFAULTS, resolvePrecision, FP32 } from '../../src/classifier/precision.js';
import { benchInput } from '../../src/bench/configurations.js';
import { getCard } from '../../src/models/registry.js';
import { int8MachineHere } from '../../src/quant/cpu-target.js';
import { ortCpu } from '../../src/runtime/ort-node.js';
import { writeNpy } from '../../src/util/npy.js';
import { smallImageFolder } from '../helpers/images.js';
import { golden, hasShared } from '../helpers/shared.js';
import { CHECKPOINT, FORMS, MODEL, files } from './forms.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: reference.js DIR');
const f = files(dir);
const card = getCard(MODEL);
const weights = CHECKPOINT ? { kind: 'checkpoint' as const, path: CHECKPOINT } : { kind: 'synthetic' as const, seed: 0 };
const images = hasShared ? golden('images') : await smallImageFolder(mkdtempSync(join(tmpdir(), 'levit-avx2-')), 12, 12);
const input = benchInput(4, card.preprocessing.resolution);
writeNpy(f.input, input);
const machine = await int8MachineHere();
writeFileSync(f.machine, JSON.stringify({ exact: !machine.saturates }));
for (const form of ['fp32', ...FORMS] as const) {
  // --target-sqnr 0: no fallback; the checks are about the arithmetic, not the accuracy target.
  const spec =
    form === 'fp32' ? FP32 : await resolvePrecision('int8', { ...PRECISION_DEFAULTS, calibration: images, targetSqnr: 0, int8Target: form, machine });
  await convertModel(card, weights, 'onnx', f.artifact(form), undefined, spec);
  const session = await ortCpu.load(f.artifact(form), { threads: 1 });
  writeNpy(f.logits(form), await session.run(input));
  await session.release();
  console.log(`  ${form}: ${f.artifact(form)}${form === 'fp32' ? '' : machine.saturates ? ' (outputs saturated here: no reference)' : ''}`);
}
