import { join } from 'node:path';
import { ONNX_OPSET, exportOnnx } from '../onnx/export.js';
import { writeFileAtomic } from '../util/atomic.js';
import { cacheDir } from '../util/paths.js';
import { type ModelCard } from '../models/card.js';
import { type ModelCounts, type WeightsChoice, type WeightsInfo, prepareModel } from './model.js';

export type ArtifactFormat = 'onnx';

export interface ConvertResult {
  model: string;
  format: ArtifactFormat;
  out: string;
  bytes: number;
  seconds: { build: number; export: number };
  counts: ModelCounts;
  weights: WeightsInfo;
  opset: number;
}

/** Where an artifact lives in the cache: one file per model, weights and format. */
export function artifactPath(model: string, weightsId: string, format: ArtifactFormat): string {
  return join(cacheDir(), 'artifacts', `${model}.${weightsId}.${format}`);
}

/** The metadata every artifact carries, so that nobody mistakes synthetic weights for trained ones. */
export function artifactMetadata(card: ModelCard, weights: WeightsInfo): Record<string, string> {
  return {
    model: card.id,
    weights: weights.kind,
    weights_id: weights.id,
    weights_label: weights.label,
    input: `float32 NCHW [batch, 3, ${card.preprocessing.resolution}, ${card.preprocessing.resolution}], normalized`,
    output: `float32 logits [batch, ${card.num_classes}]`,
  };
}

export function convertModel(card: ModelCard, choice: WeightsChoice, format: ArtifactFormat, out?: string): ConvertResult {
  const t0 = performance.now();
  const prepared = prepareModel(card, choice);
  const t1 = performance.now();
  const bytes = exportOnnx(prepared.graph, artifactMetadata(card, prepared.weights));
  const target = out ?? artifactPath(card.id, prepared.weights.id, format);
  writeFileAtomic(target, bytes);
  const t2 = performance.now();
  return {
    model: card.id,
    format,
    out: target,
    bytes: bytes.length,
    seconds: { build: (t1 - t0) / 1000, export: (t2 - t1) / 1000 },
    counts: prepared.counts,
    weights: prepared.weights,
    opset: ONNX_OPSET,
  };
}
