import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ModelCard } from '../models/families.js';
import { TFJS_LAYOUT, exportTfjs } from '../tfjs/export.js';
import type { TfjsWeightQuantization } from '../tfjs/quantize.js';
import { ONNX_OPSET, type OnnxModel, serializeOnnx } from '../onnx/model.js';
import type { SensitivityReport } from '../quant/sensitivity.js';
import { int8Metadata } from './int8-form.js';
import type { ArtifactFormat } from '../runtime/backend.js';
import { writeDirAtomic, writeFileAtomic } from '../util/atomic.js';
import type { Graph } from '../ir/graph.js';
import { CACHE_HINT, cacheDir } from '../util/paths.js';
import { makeDirs } from '../util/files.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { NO_FUSION, type TokenFusion, fusionKey, fusionLabel, fusionName, isFused } from '../models/fusion/spec.js';
import { type ModelCounts, type ResolvedWeights, type WeightsInfo, describeWeights, prepareModel } from './model.js';
import { FP32, type PrecisionProgress, type PrecisionSpec, lowerWithPrecision, precisionKey, precisionLabel } from './precision.js';

/** Bump when exported graphs change, so that cached artifacts from older versions are rebuilt. */
export const EXPORTER_VERSION = 3;

export interface ConvertResult {
  model: string;
  format: ArtifactFormat;
  out: string;
  bytes: number;
  seconds: { build: number; export: number };
  counts: ModelCounts;
  weights: WeightsInfo;
  notes: string[];
  /** ONNX opset of an ONNX artifact. */
  opset: number | null;
  /** The token fusion setting built in ('none', 'mctf:16', ...). */
  token_fusion: string;
  /** 'fp32', 'fp16' or 'int8', and how (calibration, method). */
  precision: { precision: PrecisionSpec['precision']; key: string; label: string };
  /** Static int8: each layer's SQNR against float32 and which stayed float. */
  sensitivity: SensitivityReport | null;
}

/**
 * TF.js has no integer kernels: int8 and fp16 there mean weights stored in uint8 or float16 for
 * smaller downloads, dequantized to float32 when the model loads.
 */
const TFJS_WEIGHTS: Record<PrecisionSpec['precision'], TfjsWeightQuantization | undefined> = { fp32: undefined, fp16: 'float16', int8: 'uint8' };

/** TF.js artifacts differ only in how weights are stored, so calibration is no part of their key. */
function artifactKey(format: ArtifactFormat, precision: PrecisionSpec): string {
  if (format === 'onnx') return precisionKey(precision);
  const stored = TFJS_WEIGHTS[precision.precision];
  return stored ? `weights-${stored}` : '';
}

function artifactLabel(format: ArtifactFormat, precision: PrecisionSpec): string {
  if (format === 'onnx') return precisionLabel(precision);
  const stored = TFJS_WEIGHTS[precision.precision];
  return stored ? `float32 arithmetic, weights stored as ${stored}` : 'fp32';
}

/**
 * Where an artifact lives in the cache: one per model, weights, exporter version, token fusion,
 * precision and format.
 */
export function artifactPath(
  model: string,
  weights: WeightsInfo,
  format: ArtifactFormat,
  precision: PrecisionSpec = FP32,
  fusion: TokenFusion = NO_FUSION,
): string {
  const keys = [fusionKey(fusion), artifactKey(format, precision)].filter(Boolean).map((k) => `.${k}`);
  return join(cacheDir(), 'artifacts', `${model}.${weights.id}.v${EXPORTER_VERSION}${keys.join('')}.${format}`);
}

/**
 * Token fusion graphs are float32: their group ids, masks and rank tables are constants that must stay
 * exact, which int8 and fp16 weight storage (and fp16 arithmetic) would not keep.
 */
export function checkFusionPrecision(card: ModelCard, precision: PrecisionSpec): void {
  if (!isFused(card.token_fusion) || precision.precision === 'fp32') return;
  throw new LevitError(
    `--token-fusion ${fusionName(card.token_fusion)} with --precision ${precision.precision}: token fusion is built in float32 only`,
    ExitCode.usage,
    'Use --precision fp32 with --token-fusion (or no --token-fusion with int8 / fp16).',
  );
}

/** The metadata every artifact carries, so that nobody mistakes synthetic weights for trained ones. */
export function artifactMetadata(
  card: ModelCard,
  weights: WeightsInfo,
  format: ArtifactFormat = 'onnx',
  precision: PrecisionSpec = FP32,
  sensitivity: SensitivityReport | null = null,
): Record<string, string> {
  const r = card.preprocessing.resolution;
  return {
    model: card.id,
    weights: weights.kind,
    weights_id: weights.id,
    weights_label: weights.label,
    precision: artifactLabel(format, precision),
    ...(format === 'onnx' ? int8Metadata(precision, sensitivity) : {}),
    ...(isFused(card.token_fusion) ? { token_fusion: `${fusionName(card.token_fusion)}: ${fusionLabel(card.token_fusion)}` } : {}),
    input: `float32 NCHW [batch, 3, ${r}, ${r}], normalized with the card's mean and std`,
    output: `float32 logits [batch, ${card.num_classes}]`,
  };
}

export async function convertModel(
  card: ModelCard,
  choice: ResolvedWeights,
  format: ArtifactFormat,
  out?: string,
  known?: WeightsInfo,
  precision: PrecisionSpec = FP32,
  onProgress?: (p: PrecisionProgress) => void,
): Promise<ConvertResult> {
  checkFusionPrecision(card, precision);
  const t0 = performance.now();
  // Into the cache (no --out): a read-only cache says so before the model is built.
  if (!out) makeDirs(join(cacheDir(), 'artifacts'), CACHE_HINT);
  const prepared = prepareModel(card, choice, known);
  const { weights } = prepared;
  const notes = [...prepared.notes];
  let onnx: OnnxModel | undefined;
  let sensitivity: SensitivityReport | null = null;
  if (format === 'onnx') {
    const lowered = await lowerWithPrecision(prepared.graph, card, precision, onProgress);
    onnx = lowered.model;
    sensitivity = lowered.sensitivity ?? null;
    notes.push(...lowered.notes);
  }
  const t1 = performance.now();
  const target = out ?? artifactPath(card.id, weights, format, precision, card.token_fusion);
  const metadata = artifactMetadata(card, weights, format, precision, sensitivity);
  const bytes = onnx ? writeOnnx(onnx, target, metadata) : writeTfjs(prepared.graph, target, metadata, TFJS_WEIGHTS[precision.precision]);
  const t2 = performance.now();
  return {
    model: card.id,
    format,
    out: target,
    bytes,
    seconds: { build: (t1 - t0) / 1000, export: (t2 - t1) / 1000 },
    counts: prepared.counts,
    weights,
    notes,
    opset: format === 'onnx' ? ONNX_OPSET : null,
    token_fusion: fusionName(card.token_fusion ?? NO_FUSION),
    precision: { precision: precision.precision, key: artifactKey(format, precision) || 'fp32', label: artifactLabel(format, precision) },
    sensitivity,
  };
}

function writeOnnx(model: OnnxModel, target: string, metadata: Record<string, string>): number {
  const bytes = serializeOnnx(model, metadata);
  writeFileAtomic(target, bytes);
  return bytes.length;
}

/** A TF.js graph-model directory, written atomically; returns its size. */
function writeTfjs(graph: Graph, target: string, metadata: Record<string, string>, quantization?: TfjsWeightQuantization): number {
  const model = exportTfjs(graph, metadata, quantization);
  const json = JSON.stringify(model.modelJson);
  writeDirAtomic(target, [{ name: TFJS_LAYOUT.index, data: json }, ...model.shards.map((s) => ({ name: s.name, data: s.data }))], TFJS_LAYOUT);
  return json.length + model.shards.reduce((n, s) => n + s.data.length, 0);
}

export interface Artifact {
  path: string;
  weights: WeightsInfo;
  /** False when it came from the cache. */
  built: boolean;
  seconds: number;
}

/** The cached artifact for this model, weights, precision and format, built first if missing. */
export async function ensureArtifact(
  card: ModelCard,
  choice: ResolvedWeights,
  format: ArtifactFormat,
  known?: WeightsInfo,
  precision: PrecisionSpec = FP32,
  onProgress?: (p: PrecisionProgress) => void,
): Promise<Artifact> {
  checkFusionPrecision(card, precision);
  const t0 = performance.now();
  const weights = known ?? (await describeWeights(choice));
  const path = artifactPath(card.id, weights, format, precision, card.token_fusion);
  if (existsSync(path)) return { path, weights, built: false, seconds: (performance.now() - t0) / 1000 };
  makeDirs(dirname(path), CACHE_HINT); // a read-only cache says so before the model is built
  await convertModel(card, choice, format, path, weights, precision, onProgress);
  return { path, weights, built: true, seconds: (performance.now() - t0) / 1000 };
}
