import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelCard } from '../models/families.js';
import { ONNX_OPSET, exportOnnx } from '../onnx/export.js';
import type { ArtifactFormat } from '../runtime/backend.js';
import { writeDirAtomic, writeFileAtomic } from '../util/atomic.js';
import { exportTfjs } from '../tfjs/export.js';
import type { Graph } from '../ir/graph.js';
import { cacheDir } from '../util/paths.js';
import { type ModelCounts, type ResolvedWeights, type WeightsInfo, describeWeights, prepareModel } from './model.js';

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
}

/** Where an artifact lives in the cache: one per model, weights, exporter version and format. */
export function artifactPath(model: string, weights: WeightsInfo, format: ArtifactFormat): string {
  return join(cacheDir(), 'artifacts', `${model}.${weights.id}.v${EXPORTER_VERSION}.${format}`);
}

/** The metadata every artifact carries, so that nobody mistakes synthetic weights for trained ones. */
export function artifactMetadata(card: ModelCard, weights: WeightsInfo): Record<string, string> {
  const r = card.preprocessing.resolution;
  return {
    model: card.id,
    weights: weights.kind,
    weights_id: weights.id,
    weights_label: weights.label,
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
): Promise<ConvertResult> {
  const t0 = performance.now();
  const prepared = prepareModel(card, choice, known);
  const { weights } = prepared;
  const t1 = performance.now();
  const target = out ?? artifactPath(card.id, weights, format);
  const bytes = writeArtifact(prepared.graph, format, target, artifactMetadata(card, weights));
  const t2 = performance.now();
  return {
    model: card.id,
    format,
    out: target,
    bytes,
    seconds: { build: (t1 - t0) / 1000, export: (t2 - t1) / 1000 },
    counts: prepared.counts,
    weights,
    notes: prepared.notes,
    opset: format === 'onnx' ? ONNX_OPSET : null,
  };
}

/** Writes the artifact (an .onnx file, or a TF.js graph-model directory) atomically; returns its size. */
function writeArtifact(graph: Graph, format: ArtifactFormat, target: string, metadata: Record<string, string>): number {
  if (format === 'onnx') {
    const bytes = exportOnnx(graph, metadata);
    writeFileAtomic(target, bytes);
    return bytes.length;
  }
  const model = exportTfjs(graph, metadata);
  const json = JSON.stringify(model.modelJson);
  writeDirAtomic(target, [{ name: 'model.json', data: json }, ...model.shards.map((s) => ({ name: s.name, data: s.data }))]);
  return json.length + model.shards.reduce((n, s) => n + s.data.length, 0);
}

export interface Artifact {
  path: string;
  weights: WeightsInfo;
  /** False when it came from the cache. */
  built: boolean;
  seconds: number;
}

/** The cached artifact for this model, weights and format, built first if missing. */
export async function ensureArtifact(card: ModelCard, choice: ResolvedWeights, format: ArtifactFormat, known?: WeightsInfo): Promise<Artifact> {
  const t0 = performance.now();
  const weights = known ?? (await describeWeights(choice));
  const path = artifactPath(card.id, weights, format);
  if (existsSync(path)) return { path, weights, built: false, seconds: (performance.now() - t0) / 1000 };
  await convertModel(card, choice, format, path, weights);
  return { path, weights, built: true, seconds: (performance.now() - t0) / 1000 };
}
