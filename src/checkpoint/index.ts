import { createHash } from 'node:crypto';
import { CorruptFileError } from '../core/errors.js';
import { readRegularFile } from '../util/files.js';
import { isSafetensors, readSafetensors } from './safetensors.js';
import type { WeightsMap } from '../core/tensor.js';
import { isTorchLegacy, readTorchLegacy, readTorchZip } from './torch.js';
import { ZipArchive } from './zip.js';

export type CheckpointFormat = 'torch-zip' | 'torch-legacy' | 'safetensors';

export interface Checkpoint {
  readonly source: string;
  readonly format: CheckpointFormat;
  readonly weights: WeightsMap;
  /** sha256 of the file's bytes: the checkpoint's identity in artifact names and results. */
  readonly sha256: string;
  /** Things the user should know about, e.g. inert globals such as argparse.Namespace. */
  readonly notes: string[];
}

const inertNotes = (globals: string[]) => globals.map((g) => `kept ${g} as an inert placeholder (not needed for the weights)`);

/**
 * Reads a checkpoint of any supported format, told apart by content, not by file name.
 * `sha256`: the file's hash when the caller has just computed it (no second pass over the bytes).
 */
export function readCheckpoint(file: string, sha256?: string): Checkpoint {
  return readCheckpointBytes(readRegularFile(file, 'checkpoint'), file, sha256);
}

/** Reads checkpoint bytes already in memory; `file` names them in messages. */
export function readCheckpointBytes(buf: Buffer, file: string, sha256?: string): Checkpoint {
  sha256 ??= createHash('sha256').update(buf).digest('hex');
  if (ZipArchive.isZip(buf)) {
    const c = readTorchZip(buf, file);
    return { source: file, format: 'torch-zip', weights: c.weights, sha256, notes: inertNotes(c.unknownGlobals) };
  }
  if (isTorchLegacy(buf)) {
    const c = readTorchLegacy(buf, file);
    return { source: file, format: 'torch-legacy', weights: c.weights, sha256, notes: inertNotes(c.unknownGlobals) };
  }
  if (isSafetensors(buf)) return { source: file, format: 'safetensors', weights: readSafetensors(buf, file), sha256, notes: [] };
  throw new CorruptFileError(file, 'is not a checkpoint format levit reads (PyTorch .pth zip or legacy, safetensors)', notCheckpointHint(buf, file));
}

/** An ONNX model (by name, or by the ir_version field a ModelProto opens with) is run with --onnx, not read as weights. */
function notCheckpointHint(buf: Buffer, file: string): string | undefined {
  if (buf.length === 0) return 'The file is empty: download it again.';
  if (/\.onnx$/i.test(file) || buf[0] === 0x08) return 'It looks like an ONNX model: run it with --onnx FILE (predict, eval and bench take one).';
  return undefined;
}
