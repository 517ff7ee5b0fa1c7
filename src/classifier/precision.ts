import type { Graph } from '../ir/graph.js';
import type { ModelCard } from '../models/families.js';
import { lowerGraph } from '../onnx/export.js';
import type { OnnxModel } from '../onnx/model.js';
import { type CalibrationMethod, calibrateRanges } from '../quant/calibrate.js';
import { type CalibrationFiles, type CalibrationSet, chooseImageSplit, loadCalibrationSet } from './calibration-set.js';
import { type Int8Machine, type Int8Target, chooseInt8Target, int8MachineHere } from '../quant/cpu-target.js';
import { quantizeDynamic } from '../quant/dynamic.js';
import { hardswishUnits } from '../quant/hardswish.js';
import { splitHeads } from '../quant/split-heads.js';
import { toFloat16 } from '../quant/fp16.js';
import { type QuantLayer, activationProducts, calibratedValues, quantLayers, siluUnits } from '../quant/layers.js';
import { type FallbackProgress, type SensitivityReport, quantizeWithFallback } from '../quant/sensitivity.js';
import { ExitCode, LevitError } from '../core/errors.js';

export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];
export type Int8Method = CalibrationMethod | 'dynamic';

/** The CPU an int8 artifact is made for, why, and the weight range that follows (or the user's). */
export interface Int8Form {
  target: Int8Target;
  targetReason: string;
  /** Pair-limited weights (numeric.ts WeightRange): the avx2 target's, unless --reduce-range / --no-reduce-range said otherwise. */
  reduceRange: boolean;
}

/** Static int8: calibration images, the held-out images that judge it, and the fallback's target. */
export interface StaticInt8 extends Int8Form {
  precision: 'int8';
  method: CalibrationMethod;
  /** Set the activation ranges. */
  calibration: CalibrationFiles;
  /** Decide when the fallback stops (held out from calibration); null when too few images. */
  selection: CalibrationFiles | null;
  /** Judge the result, seen by no step of the conversion; null when too few images. */
  validation: CalibrationFiles | null;
  /** How the images were split, in words. */
  splitHow: string;
  targetSqnr: number;
  maxFallback: number;
  /** Attention's activation products in int8 too (uint8 x int8, MatMulIntegerToFloat). */
  int8Attention: boolean;
}

/** What an artifact's arithmetic is: the third part of its identity, after model and weights. */
export type PrecisionSpec = { precision: 'fp32' } | { precision: 'fp16' } | ({ precision: 'int8'; method: 'dynamic' } & Int8Form) | StaticInt8;

export const FP32: PrecisionSpec = { precision: 'fp32' };

/** The options a user gives (flags of convert, bench and eval). */
export interface PrecisionOptions {
  calibration?: string;
  /** Held-out images; without it, part of the --calibration images are held out. */
  validation?: string;
  calibrationSize: number;
  method?: Int8Method;
  targetSqnr: number;
  maxFallback: number;
  /** Unset: the target's (pair-limited for avx2, full range for vnni). */
  reduceRange?: boolean;
  /** Unset: this machine's, from its CPU flags. */
  int8Target?: Int8Target;
  int8Attention?: boolean;
  /** The machine int8 is made on (default: this one's flags and onnxruntime's measured behaviour; tests inject one). */
  machine?: Int8Machine;
}

export const PRECISION_DEFAULTS = { calibrationSize: 100, targetSqnr: 20, maxFallback: 16 } as const;

async function int8Form(o: PrecisionOptions): Promise<Int8Form> {
  const choice = chooseInt8Target(o.int8Target, o.machine ?? (await int8MachineHere()));
  return { target: choice.target, targetReason: choice.reason, reduceRange: o.reduceRange ?? choice.target === 'avx2' };
}

/** Checks the options and identifies the calibration images (hashing them) for one precision. */
export async function resolvePrecision(precision: Precision, o: PrecisionOptions): Promise<PrecisionSpec> {
  if (precision !== 'int8') {
    if (o.validation) throw new LevitError(`--validation applies to --precision int8, not ${precision}`, ExitCode.usage);
    if (o.calibration) throw new LevitError(`--calibration applies to --precision int8, not ${precision}`, ExitCode.usage);
    return { precision };
  }
  const method = o.method ?? (o.calibration ? 'minmax' : 'dynamic');
  if (method === 'dynamic') {
    if (o.calibration) throw new LevitError('--calibration-method dynamic uses no calibration images; drop the calibration folder', ExitCode.usage);
    if (o.validation) throw new LevitError('--validation judges static int8; dynamic int8 has no calibration to hold images out from', ExitCode.usage);
    if (o.int8Attention) throw new LevitError('--int8-attention applies to static int8 (it needs calibrated ranges): give --calibration DIR', ExitCode.usage);
    return { precision, method, ...(await int8Form(o)) };
  }
  if (!o.calibration) {
    throw new LevitError(
      `--calibration-method ${method} needs --calibration DIR`,
      ExitCode.usage,
      'Give a folder of representative images, or use --calibration-method dynamic.',
    );
  }
  if (!(o.calibrationSize > 0)) throw new LevitError('--calibration-size must be at least 1', ExitCode.usage);
  const split = chooseImageSplit(o.calibration, o.calibrationSize, o.validation);
  return {
    precision,
    method,
    calibration: split.calibration,
    selection: split.selection,
    validation: split.validation,
    splitHow: split.how,
    targetSqnr: o.targetSqnr,
    maxFallback: o.maxFallback,
    int8Attention: o.int8Attention ?? false,
    ...(await int8Form(o)),
  };
}

/** Bump when the static int8 VNNI graph changes (2: uint8 HardSwish after int8 convolutions, one QGemm per projection part). */
const VNNI_STATIC_GRAPH = 2;

/**
 * The precision's part of an artifact's cache key and file name: empty for float32 (so float32
 * artifacts keep their names), else precision, method, calibration-set hash and size, target.
 */
export function precisionKey(spec: PrecisionSpec): string {
  if (spec.precision !== 'int8') return spec.precision === 'fp32' ? '' : spec.precision;
  // -rp: pair-limited weights (before them, 7-bit ones were -rr).
  const form = `${spec.target === 'vnni' ? '-vnni' : ''}${spec.reduceRange ? '-rp' : ''}`;
  if (spec.method === 'dynamic') return `int8-dynamic${form}`;
  // Static int8 for VNNI has its own graph form (uint8 HardSwish, split projections): its revision, so cached artifacts of an older form are rebuilt.
  const graph = spec.target === 'vnni' ? `-g${VNNI_STATIC_GRAPH}` : '';
  const part = (tag: string, f: CalibrationFiles | null) => (f ? `-${tag}${f.hash.slice(0, 12)}-n${f.files.length}` : '');
  const validation = `${part('s', spec.selection)}${part('v', spec.validation)}`;
  const attention = spec.int8Attention ? '-qattn' : '';
  const images = `${spec.calibration.hash.slice(0, 12)}-n${spec.calibration.files.length}${validation}`;
  return `int8-${spec.method}-${images}-t${spec.targetSqnr}-f${spec.maxFallback}${attention}${form}${graph}`;
}

export function precisionLabel(spec: PrecisionSpec): string {
  if (spec.precision !== 'int8') return spec.precision;
  const weights = `${spec.reduceRange ? 'pair-limited' : 'full range'}, for ${spec.target === 'vnni' ? 'VNNI' : 'AVX2'} CPUs`;
  if (spec.method === 'dynamic') return `int8 dynamic (weights per channel, ${weights}; activations at run time)`;
  const held = spec.validation ? `, judged on ${spec.validation.files.length} unseen` : ', judged on the calibration image itself (none held out)';
  const attention = spec.int8Attention ? '; attention products int8' : '';
  return `int8 static, ${spec.method} calibration on ${spec.calibration.files.length} images${held} (weights per channel, ${weights}${attention})`;
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
  const target = `int8 for ${spec.target === 'vnni' ? 'VNNI' : 'AVX2'} CPUs (${spec.targetReason})`;
  if (spec.method === 'dynamic') return { model: quantizeDynamic(model, spec.reduceRange), notes: [target, 'dynamic int8: convolutions stay float32'] };
  const set = await loadCalibrationSet(spec.calibration, card.preprocessing);
  const selection = spec.selection && (await loadCalibrationSet(spec.selection, card.preprocessing, 'selection'));
  const held = spec.validation && (await loadCalibrationSet(spec.validation, card.preprocessing, 'validation'));
  const notes = [target, ...leftOut('calibration', set), ...(selection ? leftOut('selection', selection) : []), ...(held ? leftOut('validation', held) : [])];
  if (!held) notes.push('no image held out: the SQNR is measured on the calibration image itself, which flatters it');
  onProgress?.({ phase: 'calibrating' });
  const layers = quantLayers(model);
  const products = spec.int8Attention ? activationProducts(model) : [];
  const silus = spec.target === 'vnni' ? siluUnits(model, layers).map((u) => u.output) : [];
  const ranges = await calibrateRanges(model, calibratedValues(layers, products, silus), set.batches, spec.method);
  const keepFloat = spec.target === 'vnni' ? imageLayers(model, layers) : new Set<string>();
  if (keepFloat.size) notes.push(`kept in float32 for speed on VNNI: ${[...keepFloat].join(', ')} (convolution over the image's 3 channels)`);
  const plan = { ranges, keepFloat, reduceRange: spec.reduceRange, products: spec.int8Attention, vnni: spec.target === 'vnni' };
  // A convolution's output read by a uint8 HardSwish is clipped at -3, where HardSwish is 0: judge it after the HardSwish.
  const swishes = new Map(plan.vnni ? hardswishUnits(model, new Map(layers.map((l) => [l.node, l]))).map((h) => [h.conv, h.output]) : []);
  const units = [...layers.map((l) => ({ ...l, output: swishes.get(l.node) ?? l.output })), ...products];
  const judge = { calibration: set.batches, selection: selection?.batches ?? null, validation: held?.batches ?? null };
  const { model: measured, report } = await quantizeWithFallback(model, units, plan, judge, spec.targetSqnr, spec.maxFallback, onProgress);
  // Exact, so the report (measured on the fused projections, whose outputs it names) holds for it.
  const quantized = plan.vnni ? splitHeads(measured) : measured;
  if (!report.met)
    notes.push(
      `logits SQNR ${report.logitsSqnr.toFixed(1)} dB is below the target ${spec.targetSqnr} dB ` +
        `with ${report.layers.filter((l) => l.float).length} layers in float32 (--max-fallback ${spec.maxFallback})`,
    );
  return { model: quantized, sensitivity: report, notes };
}

/** The chosen images that could not be read, and how many of them remain: the counts in the label are of those chosen. */
function leftOut(role: string, set: CalibrationSet): string[] {
  if (set.skipped.length === 0) return [];
  const chosen = set.files.length;
  return [
    ...set.skipped.map((s) => `${role}: left out ${s.reason}`),
    `${role}: ${chosen - set.skipped.length} of the ${chosen} chosen images used (${set.skipped.length} unreadable)`,
  ];
}

/**
 * Layers that read the image itself. On VNNI, onnxruntime's float32 convolution over 3 input
 * channels runs with its activation fused (NCHWc), while its QLinearConv is slower there and
 * leaves Dequantize, HardSigmoid and Mul passes over the largest activation of the network.
 */
function imageLayers(model: OnnxModel, layers: readonly QuantLayer[]): Set<string> {
  return new Set(layers.filter((l) => l.op === 'Conv' && model.inputs.some((i) => i.name === l.input)).map((l) => l.node));
}

export function precisionProgressLine(model: string, p: PrecisionProgress): string {
  if (p.phase === 'calibrating') return `${model}: measuring activation ranges on the calibration images`;
  if (p.phase === 'sensitivity') return `${model}: logits SQNR below target; measuring layer ${p.done}/${p.total} alone in int8`;
  return `${model}: ${p.floatLayers} layers kept in float32, logits SQNR ${p.logitsSqnr.toFixed(1)} dB`;
}
