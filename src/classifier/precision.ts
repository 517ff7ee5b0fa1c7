import type { Graph } from '../ir/graph.js';
import type { ModelCard } from '../models/families.js';
import { lowerGraph } from '../onnx/export.js';
import type { OnnxModel } from '../onnx/model.js';
import { type CalibrationMethod, calibrateRanges } from '../quant/calibrate.js';
import { type CalibrationFiles, chooseCalibrationFiles, loadCalibrationSet } from './calibration-set.js';
import { quantizeDynamic } from '../quant/dynamic.js';
import { toFloat16 } from '../quant/fp16.js';
import { calibratedValues, quantLayers } from '../quant/layers.js';
import { type FallbackProgress, type SensitivityReport, quantizeWithFallback } from '../quant/sensitivity.js';
import { ExitCode, LevitError } from '../core/errors.js';

export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];
export type Int8Method = CalibrationMethod | 'dynamic';

/** What an artifact's arithmetic is: the third part of its identity, after model and weights. */
export type PrecisionSpec =
  | { precision: 'fp32' }
  | { precision: 'fp16' }
  | { precision: 'int8'; method: 'dynamic'; reduceRange: boolean }
  | { precision: 'int8'; method: CalibrationMethod; calibration: CalibrationFiles; targetSqnr: number; maxFallback: number; reduceRange: boolean };

export const FP32: PrecisionSpec = { precision: 'fp32' };

/** The options a user gives (flags of convert, bench and eval). */
export interface PrecisionOptions {
  calibration?: string;
  calibrationSize: number;
  method?: Int8Method;
  targetSqnr: number;
  maxFallback: number;
  reduceRange: boolean;
}

export const PRECISION_DEFAULTS = { calibrationSize: 100, targetSqnr: 20, maxFallback: 16, reduceRange: true } as const;

/** Checks the options and identifies the calibration images (hashing them) for one precision. */
export function resolvePrecision(precision: Precision, o: PrecisionOptions): PrecisionSpec {
  if (precision !== 'int8') {
    if (o.calibration) throw new LevitError(`--calibration applies to --precision int8, not ${precision}`, ExitCode.usage);
    return { precision };
  }
  const method = o.method ?? (o.calibration ? 'minmax' : 'dynamic');
  if (method === 'dynamic') {
    if (o.calibration) throw new LevitError('--calibration-method dynamic uses no calibration images; drop the calibration folder', ExitCode.usage);
    return { precision, method, reduceRange: o.reduceRange };
  }
  if (!o.calibration) {
    throw new LevitError(
      `--calibration-method ${method} needs --calibration DIR`,
      ExitCode.usage,
      'Give a folder of representative images, or use --calibration-method dynamic.',
    );
  }
  if (!(o.calibrationSize > 0)) throw new LevitError('--calibration-size must be at least 1', ExitCode.usage);
  const calibration = chooseCalibrationFiles(o.calibration, o.calibrationSize);
  return { precision, method, calibration, targetSqnr: o.targetSqnr, maxFallback: o.maxFallback, reduceRange: o.reduceRange };
}

/**
 * The precision's part of an artifact's cache key and file name: empty for float32 (so float32
 * artifacts keep their names), else precision, method, calibration-set hash and size, target.
 */
export function precisionKey(spec: PrecisionSpec): string {
  if (spec.precision !== 'int8') return spec.precision === 'fp32' ? '' : spec.precision;
  const rr = spec.reduceRange ? '-rr' : '';
  if (spec.method === 'dynamic') return `int8-dynamic${rr}`;
  return `int8-${spec.method}-${spec.calibration.hash.slice(0, 12)}-n${spec.calibration.files.length}-t${spec.targetSqnr}-f${spec.maxFallback}${rr}`;
}

export function precisionLabel(spec: PrecisionSpec): string {
  if (spec.precision !== 'int8') return spec.precision;
  const weights = spec.reduceRange ? '7-bit range' : 'full range';
  if (spec.method === 'dynamic') return `int8 dynamic (weights per channel, ${weights}; activations at run time)`;
  return `int8 static, ${spec.method} calibration on ${spec.calibration.files.length} images (weights per channel, ${weights})`;
}

export interface PrecisionResult {
  model: OnnxModel;
  /** int8 static: per-layer SQNR and the fallback's choice. */
  sensitivity?: SensitivityReport;
  notes: string[];
}

export type PrecisionProgress = { phase: 'calibrating' } | FallbackProgress;

/** The inference graph as ONNX in the asked precision (calibrating first for static int8). */
export async function lowerWithPrecision(
  graph: Graph,
  card: ModelCard,
  spec: PrecisionSpec,
  onProgress?: (p: PrecisionProgress) => void,
): Promise<PrecisionResult> {
  const model = lowerGraph(graph);
  if (spec.precision === 'fp32') return { model, notes: [] };
  if (spec.precision === 'fp16') return { model: toFloat16(model), notes: [] };
  if (spec.method === 'dynamic') return { model: quantizeDynamic(model, spec.reduceRange), notes: ['dynamic int8: convolutions stay float32'] };
  const set = await loadCalibrationSet(spec.calibration, card.preprocessing);
  const notes = set.skipped.map((s) => `calibration: left out ${s.reason}`);
  onProgress?.({ phase: 'calibrating' });
  const layers = quantLayers(model);
  const ranges = await calibrateRanges(model, calibratedValues(layers), set.batches, spec.method);
  const plan = { ranges, keepFloat: new Set<string>(), reduceRange: spec.reduceRange };
  const { model: quantized, report } = await quantizeWithFallback(model, layers, plan, set.batches, spec.targetSqnr, spec.maxFallback, onProgress);
  if (!report.met)
    notes.push(
      `logits SQNR ${report.logitsSqnr.toFixed(1)} dB is below the target ${spec.targetSqnr} dB ` +
        `with ${report.layers.filter((l) => l.float).length} layers in float32 (--max-fallback ${spec.maxFallback})`,
    );
  return { model: quantized, sensitivity: report, notes };
}

export function precisionProgressLine(model: string, p: PrecisionProgress): string {
  if (p.phase === 'calibrating') return `${model}: measuring activation ranges on the calibration images`;
  if (p.phase === 'sensitivity') return `${model}: logits SQNR below target; measuring layer ${p.done}/${p.total} alone in int8`;
  return `${model}: ${p.floatLayers} layers kept in float32, logits SQNR ${p.logitsSqnr.toFixed(1)} dB`;
}
