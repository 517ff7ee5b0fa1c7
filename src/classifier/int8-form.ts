import { readFileSync } from 'node:fs';
import { floatTensor } from '../core/tensor.js';
import { CorruptFileError, ExitCode, LevitError } from '../core/errors.js';
import { serializeOnnx } from '../onnx/model.js';
import { type DeclaredShape, onnxMetadata, onnxParameterCount, onnxSignature } from '../onnx/inspect.js';
import { INT8_TARGETS, type Int8Target, PROBE_INPUT, SATURATION_WORDS, int8ProbeModel, readProbe } from '../quant/cpu-target.js';
import type { Backend } from '../runtime/backend.js';
import type { SensitivityReport } from '../quant/sensitivity.js';
import type { PrecisionSpec } from './precision.js';

/**
 * The CPU form of an int8 ONNX artifact, as its metadata states it (artifactMetadata in convert.ts
 * writes it; artifacts of older levit versions say it in their precision label), and whether it is
 * exact on a given backend: full-range weights are not where the backend's int8 kernels sum pairs of
 * products in 16 bits.
 */
export interface ArtifactInt8 {
  /** The CPU it was made for; null where the file does not say (not a levit artifact). */
  target: Int8Target | null;
  /** 8-bit weights (and int8 attention operands), which can saturate int16 pair sums; pair-limited ones cannot. */
  fullRange: boolean;
  /** convert's report on it, where the file keeps one (static int8 of this levit version). */
  accuracy: Int8Accuracy | null;
}

/** METADATA.int8_weights: the two weight ranges, as the metadata spells them. */
export const INT8_WEIGHTS = { full: 'full range (8-bit)', reduced: 'pair-limited (8-bit matrices, 7-bit convolutions)' } as const;

/** An int8 ONNX artifact's form and why, the images that calibrated and judged it, and how close it came (int8-form.ts reads it). */
export function int8Metadata(p: PrecisionSpec, sensitivity: SensitivityReport | null): Record<string, string> {
  if (p.precision !== 'int8') return {};
  const form = { int8_target: `${p.target}: ${p.targetReason}`, int8_weights: p.reduceRange ? INT8_WEIGHTS.reduced : INT8_WEIGHTS.full };
  if (p.method === 'dynamic') return form;
  return {
    ...form,
    calibration_sha256: p.calibration.hash,
    ...(p.validation ? { validation_sha256: p.validation.hash } : {}),
    ...(sensitivity ? { int8_accuracy: JSON.stringify(int8Accuracy(sensitivity)) } : {}),
  };
}

/** What the artifact's metadata keeps of convert's report (JSON): enough for `levit info FILE` to say how close it came, and on what. */
export interface Int8Accuracy {
  logits_sqnr_db: number;
  top1_agreement: number;
  images: number;
  held_out: boolean;
  calibration_images: number;
  layers: number;
  float_layers: number;
}

const int8Accuracy = (r: SensitivityReport): Int8Accuracy => ({
  logits_sqnr_db: Math.round(r.logitsSqnr * 10) / 10,
  top1_agreement: r.top1Agreement,
  images: r.images,
  held_out: r.heldOut,
  calibration_images: r.calibrationImages,
  layers: r.layers.length,
  float_layers: r.layers.filter((l) => l.float).length,
});

/** The int8 form an artifact's metadata describes, or null for one that is not int8 (or says nothing). */
export function artifactInt8(metadata: Record<string, string>): ArtifactInt8 | null {
  const label = metadata.precision ?? '';
  if (!label.startsWith('int8')) return null;
  const targetWord = (metadata.int8_target ?? '').split(':')[0];
  const target = (INT8_TARGETS as readonly string[]).includes(targetWord) ? (targetWord as Int8Target) : null;
  // Older artifacts: the label says "full range" or "7-bit range" (both ranges below full are exact everywhere).
  const fullRange = metadata.int8_weights ? metadata.int8_weights === INT8_WEIGHTS.full : /full range/.test(label);
  return { target, fullRange, accuracy: parseAccuracy(metadata.int8_accuracy) };
}

/** convert's report as the metadata keeps it; null where there is none, or it does not parse (a hand-edited file: the form still reads). */
function parseAccuracy(text: string | undefined): Int8Accuracy | null {
  try {
    return text ? (JSON.parse(text) as Int8Accuracy) : null;
  } catch {
    return null;
  }
}

/** An ONNX file's int8 form, or null (not int8, or not readable as ONNX: other checks say why). */
export function readArtifactInt8(path: string): ArtifactInt8 | null {
  try {
    return artifactInt8(onnxMetadata(readFileSync(path)));
  } catch {
    return null;
  }
}

const probes = new WeakMap<Backend, Promise<boolean>>();

/** Whether the backend's int8 products saturate here (the probe of cpu-target.ts, run on it; once per backend and process). */
export function backendSaturates(backend: Backend): Promise<boolean> {
  let known = probes.get(backend);
  if (!known) {
    known = (async () => {
      const session = await backend.load(serializeOnnx(int8ProbeModel()), { threads: 1 });
      try {
        const shape = [...PROBE_INPUT.shape];
        const y = await session.run(floatTensor(shape, new Float32Array(shape[0] * shape[1]).fill(PROBE_INPUT.value)));
        return readProbe(y.data) === 'saturates';
      } catch {
        return false; // a backend without integer kernels cannot saturate them
      } finally {
        await session.release();
      }
    })().catch(() => false);
    probes.set(backend, known);
  }
  return known;
}

/**
 * Refuses an int8 artifact whose arithmetic is not exact on this backend (full-range weights where
 * the kernels saturate), or, with `allow`, returns the warning to print and record. Null when it fits.
 */
export async function checkInt8Form(path: string, model: string, backend: Backend, allow = false): Promise<string | null> {
  if (backend.artifact !== 'onnx') return null;
  const form = readArtifactInt8(path);
  if (!form?.fullRange || !(await backendSaturates(backend))) return null;
  const made = form.target === 'vnni' ? 'the VNNI form (full-range 8-bit weights)' : 'full-range 8-bit weights (--no-reduce-range)';
  const problem = `${path} is int8 in ${made}, but ${backend.id} on this CPU ${SATURATION_WORDS}, where such weights saturate`;
  if (allow) return `${problem}: its outputs are not those of the model it was made from (run anyway: --allow-int8-saturation)`;
  throw new LevitError(
    `${problem}: its outputs would be silently wrong`,
    ExitCode.unavailable,
    `Make the AVX2 form (pair-limited weights, exact on every CPU): levit convert ${model} --precision int8 --int8-target avx2 --calibration DIR; ` +
      'or run this file on a CPU with VNNI. ' +
      '--allow-int8-saturation runs it anyway, marked in the output and the results.',
  );
}

/** What an ONNX file says of itself, for `levit info FILE.onnx`, and whether it runs exactly on this machine's CPU backend. */
export interface ArtifactDescription {
  file: string;
  bytes: number;
  /** The metadata levit convert writes (model, weights, precision, int8 form, ...); empty for other files. */
  metadata: Record<string, string>;
  parameters: number;
  inputs: DeclaredShape[];
  outputs: DeclaredShape[];
  /** Null when the file is not int8. */
  int8: (ArtifactInt8 & { saturates_here: boolean; runs_here: boolean }) | null;
}

export async function describeArtifact(path: string, cpu: Backend): Promise<ArtifactDescription> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new LevitError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, ExitCode.notFound);
  }
  try {
    const metadata = onnxMetadata(bytes);
    const { inputs, outputs } = onnxSignature(bytes);
    const form = artifactInt8(metadata);
    const saturates = form?.fullRange ? await backendSaturates(cpu) : false;
    return {
      file: path,
      bytes: bytes.length,
      metadata,
      parameters: onnxParameterCount(bytes),
      inputs,
      outputs,
      int8: form && { ...form, saturates_here: saturates, runs_here: !saturates },
    };
  } catch (e) {
    if (e instanceof LevitError) throw e;
    throw new CorruptFileError(path, `is not an ONNX model (${(e as Error).message})`, 'levit info takes a model id or an .onnx file.');
  }
}
