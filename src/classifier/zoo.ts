import type { ModelCard } from '../models/families.js';
import type { PublishedAccuracy } from '../models/card.js';
import { checkpointPath, isCached } from '../download/checkpoints.js';
import { buildGraph, familyRank, listCards } from '../models/registry.js';
import { ZeroWeights } from '../models/weights.js';
import { type ModelCounts, countModel } from './model.js';

export interface ZooEntry {
  id: string;
  name: string;
  family: string;
  license: string;
  params: number;
  flops: number;
  resolution: number;
  crop_pct: number;
  interpolation: string;
  mean: readonly number[];
  std: readonly number[];
  published: readonly PublishedAccuracy[];
  checkpoint: { url: string; sha256: string | null; cached: boolean; path: string } | null;
}

/** Counts come from the model's graph (built on zero weights), never from the card. */
export function countsOf(card: ModelCard): ModelCounts {
  return countModel(buildGraph(card, new ZeroWeights()));
}

export function zooEntry(card: ModelCard): ZooEntry {
  const p = card.preprocessing;
  return {
    id: card.id,
    name: card.name,
    family: card.family,
    license: card.license,
    ...countsOf(card),
    resolution: p.resolution,
    crop_pct: p.crop_pct,
    interpolation: p.interpolation,
    mean: p.mean,
    std: p.std,
    published: card.published,
    checkpoint: card.checkpoint ? { url: card.checkpoint.url, sha256: card.checkpoint.sha256, cached: isCached(card), path: checkpointPath(card) } : null,
  };
}

/** Every model, LeViT first, each family from the fewest FLOPs to the most. */
export function listZoo(): ZooEntry[] {
  const rank = (e: ZooEntry) => familyRank(e.family);
  return listCards()
    .map(zooEntry)
    .sort((a, b) => rank(a) - rank(b) || a.flops - b.flops);
}
