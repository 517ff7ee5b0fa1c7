import { existsSync, readFileSync } from 'node:fs';
import { CorruptFileError, ExitCode, LevitError } from '../core/errors.js';
import type { ModelCard } from '../models/families.js';
import { onnxParameterCount, onnxSignature } from '../onnx/inspect.js';
import type { Backend } from '../runtime/backend.js';
import { sha256File } from '../util/hash.js';
import type { Artifact } from './convert.js';

/*
 * An ONNX file made elsewhere (a torch.onnx export, or an artifact levit convert wrote) run as the model
 * named, instead of the artifact levit builds from weights: bench, predict and eval's --onnx.
 */

/** How far an external export's parameter count may stray from the card's (folded BatchNorm, expanded attention biases). */
const EXTERNAL_PARAMS_TOLERANCE = 0.1;

/**
 * An external ONNX file must be the model it is run as: the card's input [N, 3, R, R], 1000 classes out,
 * and a parameter count near the card's.
 */
export function checkExternalOnnx(path: string, card: ModelCard, params: number): void {
  const r = card.preprocessing.resolution;
  let found: number;
  let signature: ReturnType<typeof onnxSignature>;
  try {
    const bytes = readFileSync(path);
    found = onnxParameterCount(bytes);
    signature = onnxSignature(bytes);
  } catch (e) {
    throw new CorruptFileError(path, `is not an ONNX model (${(e as Error).message})`, 'Give --onnx an .onnx file of the model named.');
  }
  const hint = 'Name the model the file was exported from (levit zoo lists them with their parameter counts and resolutions).';
  const fixedIs = (d: number | string | null | undefined, v: number) => typeof d !== 'number' || d === v;
  const [input] = signature.inputs;
  const [output] = signature.outputs;
  const shape = (s: readonly unknown[] | undefined) => `[${(s ?? []).map((d) => d ?? '?').join(', ')}]`;
  if (signature.inputs.length !== 1 || input.length !== 4 || !fixedIs(input[1], 3) || !fixedIs(input[2], r) || !fixedIs(input[3], r)) {
    throw new LevitError(
      `--onnx ${path} takes ${signature.inputs.map(shape).join(' and ')}; ${card.id} takes [N, 3, ${r}, ${r}]: it is another model`,
      ExitCode.badInput,
      hint,
    );
  }
  if (signature.outputs.length !== 1 || output.length !== 2 || !fixedIs(output[1], 1000)) {
    throw new LevitError(`--onnx ${path} gives ${signature.outputs.map(shape).join(' and ')}; ${card.id} gives logits [N, 1000]`, ExitCode.badInput, hint);
  }
  if (Math.abs(found / params - 1) > EXTERNAL_PARAMS_TOLERANCE) {
    throw new LevitError(
      `--onnx ${path} has ${found.toLocaleString('en-US')} parameters; ${card.id} has ${params.toLocaleString('en-US')}: it is another model`,
      ExitCode.badInput,
      hint,
    );
  }
}

/** An external ONNX file as an artifact, identified by its hash. */
export async function externalArtifact(path: string, backend: Backend): Promise<Artifact> {
  if (backend.artifact !== 'onnx') throw new LevitError(`--onnx needs an ONNX backend; ${backend.id} runs ${backend.artifact}`, ExitCode.usage);
  if (!existsSync(path)) throw new LevitError(`--onnx: no such file ${path}`, ExitCode.notFound);
  const sha256 = await sha256File(path);
  return {
    path,
    built: false,
    seconds: 0,
    weights: { kind: 'checkpoint', id: `external-${sha256.slice(0, 12)}`, label: `external ONNX ${path}`, source: path, sha256 },
  };
}
