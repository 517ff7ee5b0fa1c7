import { extname } from 'node:path';
import { type FloatTensor, floatTensor, formatShape } from '../core/tensor.js';
import type { ModelCard } from '../models/families.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { readNpy } from '../util/npy.js';
import { ImageDecodeError, decodeRgb } from '../preprocess/decode.js';
import { evalTransform } from '../preprocess/transform.js';

/** One batch row's origin, so that results can be reported per file and per row. */
export interface InputItem {
  file: string;
  row: number;
}

/** An input that could not be read, and the exit code its error carries (bad input, not found). */
export interface InputFailure {
  file: string;
  error: string;
  exitCode: ExitCode;
}

/** One input as a tensor [N, 3, R, R]: an image through the evaluation transform, or a .npy as it is. */
async function readInput(file: string, card: ModelCard): Promise<FloatTensor> {
  const r = card.preprocessing.resolution;
  if (extname(file).toLowerCase() !== '.npy') {
    return evalTransform(await decodeRgb(file), card.preprocessing);
  }
  const t = readNpy(file);
  const shape = t.shape.length === 3 ? [1, ...t.shape] : t.shape;
  if (shape.length !== 4 || shape[1] !== 3 || shape[2] !== r || shape[3] !== r) {
    throw new LevitError(`${file}: holds a tensor of shape ${formatShape(t.shape)}; ${card.id} takes [N, 3, ${r}, ${r}] (normalized)`, ExitCode.badInput);
  }
  if (shape[0] === 0) {
    throw new LevitError(`${file}: holds no images (shape ${formatShape(t.shape)}); give at least one, [N, 3, ${r}, ${r}] with N ≥ 1`, ExitCode.badInput);
  }
  return { ...t, shape };
}

/**
 * Reads inputs into one batch: .npy tensors [N, 3, R, R] already preprocessed, or image files
 * through the model's evaluation transform (the same as levit eval). An input that cannot be
 * read is reported in `failures` and the others still make the batch.
 */
export async function readInputs(files: readonly string[], card: ModelCard): Promise<{ batch: FloatTensor; items: InputItem[]; failures: InputFailure[] }> {
  const r = card.preprocessing.resolution;
  const parts: FloatTensor[] = [];
  const items: InputItem[] = [];
  const failures: InputFailure[] = [];
  for (const file of files) {
    let t: FloatTensor;
    try {
      t = await readInput(file, card);
    } catch (e) {
      const exitCode = e instanceof LevitError ? e.exitCode : e instanceof ImageDecodeError && e.missing ? ExitCode.notFound : ExitCode.badInput;
      failures.push({ file, error: (e as Error).message, exitCode });
      continue;
    }
    parts.push(t);
    for (let i = 0; i < t.shape[0]; i++) items.push({ file, row: i });
  }
  const batch = floatTensor([items.length, 3, r, r]);
  let at = 0;
  for (const p of parts) {
    batch.data.set(p.data, at);
    at += p.data.length;
  }
  return { batch, items, failures };
}

/** Inputs that could not be read as --json reports them, each with its reason (the message without the file name it starts with). */
export function unreadableDetails(failures: readonly { file: string; error: string }[]): { path: string; reason: string }[] {
  return failures.map((f) => ({ path: f.file, reason: f.error.startsWith(`${f.file}: `) ? f.error.slice(f.file.length + 2) : f.error }));
}
