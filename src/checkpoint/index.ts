import { readFileSync } from 'node:fs';
import { CorruptFileError, ExitCode, LevitError } from '../util/errors.js';
import type { WeightsMap } from './tensor.js';
import { readTorchZip } from './torch.js';
import { ZipArchive } from './zip.js';

export type CheckpointFormat = 'torch-zip';

export interface Checkpoint {
  readonly source: string;
  readonly format: CheckpointFormat;
  readonly weights: WeightsMap;
  /** Things the user should know about, e.g. inert globals such as argparse.Namespace. */
  readonly notes: string[];
}

/** Reads a checkpoint file of any supported format into a name -> tensor map. */
export function readCheckpoint(file: string): Checkpoint {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LevitError(
      `cannot read checkpoint ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      ExitCode.notFound,
    );
  }
  if (ZipArchive.isZip(buf)) {
    const ckpt = readTorchZip(buf, file);
    const notes = ckpt.unknownGlobals.map((g) => `kept ${g} as an inert placeholder (not needed for the weights)`);
    return { source: file, format: 'torch-zip', weights: ckpt.weights, notes };
  }
  throw new CorruptFileError(file, 'is not a checkpoint format levit reads (PyTorch zip .pth)');
}
