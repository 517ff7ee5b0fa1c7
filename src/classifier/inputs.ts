import { extname } from 'node:path';
import { type FloatTensor, floatTensor, formatShape } from '../core/tensor.js';
import type { ModelCard } from '../models/families.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { readNpy } from '../util/npy.js';
import { decodeRgb } from '../preprocess/decode.js';
import { evalTransform } from '../preprocess/transform.js';

/** One batch row's origin, so that results can be reported per file and per row. */
export interface InputItem {
  file: string;
  row: number;
}

/**
 * Reads inputs into one batch: .npy tensors [N, 3, R, R] already preprocessed, or image files
 * through the model's evaluation transform (the same as levit eval).
 */
export async function readInputs(files: readonly string[], card: ModelCard): Promise<{ batch: FloatTensor; items: InputItem[] }> {
  const r = card.preprocessing.resolution;
  const parts: FloatTensor[] = [];
  const items: InputItem[] = [];
  for (const file of files) {
    if (extname(file).toLowerCase() !== '.npy') {
      try {
        parts.push(evalTransform(await decodeRgb(file), card.preprocessing));
      } catch (e) {
        throw new LevitError((e as Error).message, ExitCode.badInput);
      }
      items.push({ file, row: 0 });
      continue;
    }
    const t = readNpy(file);
    const shape = t.shape.length === 3 ? [1, ...t.shape] : t.shape;
    if (shape.length !== 4 || shape[1] !== 3 || shape[2] !== r || shape[3] !== r) {
      throw new LevitError(`${file}: holds a tensor of shape ${formatShape(t.shape)}; ${card.id} takes [N, 3, ${r}, ${r}] (normalized)`, ExitCode.badInput);
    }
    parts.push({ ...t, shape });
    for (let i = 0; i < shape[0]; i++) items.push({ file, row: i });
  }
  const batch = floatTensor([items.length, 3, r, r]);
  let at = 0;
  for (const p of parts) {
    batch.data.set(p.data, at);
    at += p.data.length;
  }
  return { batch, items };
}
