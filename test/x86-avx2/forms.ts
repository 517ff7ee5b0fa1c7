/**
 * What scripts/x86-avx2/test.sh hands from this machine (reference.ts) to the AVX2 checks (checks.ts):
 * the artifacts of both int8 forms, an input, and each artifact's outputs as this machine computed them.
 */
import { join } from 'node:path';
import { golden, hasShared } from '../helpers/shared.js';

export const FORMS = ['avx2', 'vnni'] as const;
export type Form = (typeof FORMS)[number];

export const MODEL = 'levit_128s';
/** The golden checkpoint where ../shared is beside the checkout; synthetic weights otherwise. */
export const CHECKPOINT = hasShared ? golden('levit_128s', 'LeViT-128S-golden.pth') : null;

export const files = (dir: string) => ({
  input: join(dir, 'input.npy'),
  artifact: (form: Form | 'fp32') => join(dir, `${MODEL}.${form}.onnx`),
  logits: (form: Form | 'fp32') => join(dir, `${MODEL}.${form}.logits.npy`),
  /** { exact: boolean }: whether this machine's int8 products are exact, so that its outputs are the reference. */
  machine: join(dir, 'machine.json'),
});
