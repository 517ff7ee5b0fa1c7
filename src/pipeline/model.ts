import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readCheckpoint } from '../checkpoint/index.js';
import { countFlops, countParams } from '../ir/count.js';
import type { Graph } from '../ir/graph.js';
import { optimizeForInference } from '../ir/passes.js';
import type { ModelCard } from '../models/card.js';
import { buildGraph } from '../models/registry.js';
import { CheckpointWeights, SyntheticWeights, type WeightSource } from '../models/weights.js';

/** Which weights a model is built with. */
export type WeightsChoice = { kind: 'synthetic'; seed?: number } | { kind: 'checkpoint'; path: string };

/** What the weights of a built model are, carried into every artifact and result. */
export interface WeightsInfo {
  kind: 'synthetic' | 'checkpoint';
  /** Short, stable identity: 'synthetic-s0' or the checkpoint's sha256 prefix. */
  id: string;
  /** Human-readable: says plainly when the weights are made up. */
  label: string;
  source?: string;
  sha256?: string;
  notes: string[];
}

export interface ModelCounts {
  params: number;
  flops: number;
}

export interface PreparedModel {
  card: ModelCard;
  /** The inference graph: BatchNorm folded, constant tables computed. */
  graph: Graph;
  counts: ModelCounts;
  weights: WeightsInfo;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function weightSource(choice: WeightsChoice): { source: WeightSource; info: WeightsInfo } {
  if (choice.kind === 'synthetic') {
    const seed = choice.seed ?? 0;
    return {
      source: new SyntheticWeights(seed),
      info: { kind: 'synthetic', id: `synthetic-s${seed}`, label: `synthetic (seed ${seed}, not trained)`, notes: [] },
    };
  }
  const checkpoint = readCheckpoint(choice.path);
  const sha256 = sha256File(choice.path);
  return {
    source: new CheckpointWeights(checkpoint.weights),
    info: { kind: 'checkpoint', id: sha256.slice(0, 12), label: choice.path, source: choice.path, sha256, notes: checkpoint.notes },
  };
}

/** Builds a model with its weights, counts it on the reference graph, and optimizes it for inference. */
export function prepareModel(card: ModelCard, choice: WeightsChoice): PreparedModel {
  const { source, info } = weightSource(choice);
  const graph = buildGraph(card, source);
  const counts = countModel(graph);
  return { card, graph: optimizeForInference(graph), counts, weights: info };
}

export function countModel(referenceGraph: Graph): ModelCounts {
  return { params: countParams(referenceGraph), flops: countFlops(referenceGraph) };
}
