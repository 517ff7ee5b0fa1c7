import type { Family, ModelCard, PublishedAccuracy } from '../models/card.js';
import { checkpointPath, isCached } from '../download/checkpoints.js';
import { efficientNetStages } from '../models/efficientnet.js';
import { levitStages } from '../models/levit.js';
import { buildGraph, familyOrder, listCards } from '../models/registry.js';
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

export interface StageInfo {
  stage: number;
  resolution: number;
  channels: number;
  [detail: string]: number;
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
    checkpoint: card.checkpoint
      ? { url: card.checkpoint.url, sha256: card.checkpoint.sha256, cached: isCached(card), path: checkpointPath(card) }
      : null,
  };
}

/** Every model, LeViT first, each family from the fewest FLOPs to the most. */
export function listZoo(): ZooEntry[] {
  const rank = (e: ZooEntry) => familyOrder.indexOf(e.family as Family);
  return listCards()
    .map(zooEntry)
    .sort((a, b) => rank(a) - rank(b) || a.flops - b.flops);
}

export function stagesOf(card: ModelCard): StageInfo[] {
  switch (card.family) {
    case 'levit':
      return levitStages(card.architecture, card.preprocessing.resolution);
    case 'efficientnet':
      return efficientNetStages(card);
    case 'deit':
    case 'vit': {
      const a = card.architecture;
      const grid = card.preprocessing.resolution / a.patch_size;
      return [{ stage: 1, resolution: grid, tokens: grid * grid + (a.distilled ? 2 : 1), channels: a.embed_dim, heads: a.num_heads, blocks: a.depth }];
    }
    case 'cait': {
      const a = card.architecture;
      const grid = card.preprocessing.resolution / a.patch_size;
      return [
        { stage: 1, resolution: grid, tokens: grid * grid, channels: a.embed_dim, heads: a.num_heads, blocks: a.depth },
        { stage: 2, resolution: grid, tokens: grid * grid + 1, channels: a.embed_dim, heads: a.num_heads, blocks: a.depth_token_only },
      ];
    }
    case 'convit': {
      const a = card.architecture;
      const grid = card.preprocessing.resolution / a.patch_size;
      return [
        { stage: 1, resolution: grid, tokens: grid * grid, channels: a.embed_dim, heads: a.num_heads, blocks: a.local_up_to_layer },
        { stage: 2, resolution: grid, tokens: grid * grid + 1, channels: a.embed_dim, heads: a.num_heads, blocks: a.depth - a.local_up_to_layer },
      ];
    }
  }
}
