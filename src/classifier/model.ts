import { readCheckpoint } from '../checkpoint/index.js';
import { type Verification, verificationText } from '../download/cache-record.js';
import { type DownloadOptions, ensureCheckpoint } from '../download/checkpoints.js';
import { ExitCode, LevitError } from '../core/errors.js';
import type { TransferProgress } from '../download/http.js';
import { countFlops, countParams } from '../ir/count.js';
import type { Graph } from '../ir/graph.js';
import { optimizeForInference } from '../ir/passes.js';
import type { ModelCard } from '../models/families.js';
import { buildGraph } from '../models/registry.js';
import { SyntheticWeights } from '../models/synthetic.js';
import { CheckpointWeights, type WeightSource } from '../models/weights.js';
import { checkRegularFile } from '../util/files.js';
import { sha256File } from '../util/hash.js';

/** Weights a model can be built with, once resolved. */
export type ResolvedWeights =
  | { kind: 'synthetic'; seed?: number }
  /** `recorded`: the cache's record of a verified download, which the bytes read must match. */
  | { kind: 'checkpoint'; path: string; recorded?: { sha256: string; verifiedBy: Verification } };
/** What the user asked for: 'official' is resolved to the cached (or downloaded) checkpoint. */
export type WeightsChoice = ResolvedWeights | { kind: 'official' };

/** What the weights of a built model are, carried into every artifact and result. */
export interface WeightsInfo {
  kind: 'synthetic' | 'checkpoint';
  /** Short, stable identity: 'synthetic-s0' or the checkpoint's sha256 prefix. */
  id: string;
  /** Human-readable: says plainly when the weights are made up. */
  label: string;
  source?: string;
  sha256?: string;
  /** How the checkpoint's bytes were verified, in words (absent for synthetic weights). */
  verification?: string;
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
  /** Things the user should know about the checkpoint, e.g. inert globals. */
  notes: string[];
}

function syntheticInfo(seed = 0): WeightsInfo {
  return { kind: 'synthetic', id: `synthetic-s${seed}`, label: `synthetic (seed ${seed}, untrained)` };
}

/**
 * The checkpoint's identity and how it was verified. A cached official file must still hash to
 * what was recorded when it was verified; a user's own file is taken as given, and said so.
 */
function checkpointInfo(choice: Extract<ResolvedWeights, { kind: 'checkpoint' }>, sha256: string): WeightsInfo {
  const { path, recorded } = choice;
  if (recorded && recorded.sha256 !== sha256) {
    throw new LevitError(
      `${path} changed since it was verified: sha256 ${sha256}, recorded ${recorded.sha256}`,
      ExitCode.badInput,
      'Delete it and download it again (levit download), or check it with levit download --verify.',
    );
  }
  const verification = recorded
    ? `sha256 ${sha256} as recorded on download, which ${verificationText[recorded.verifiedBy]}`
    : `sha256 ${sha256}, a file you gave: not checked against any pin`;
  const label = `${path} (${recorded ? `verified: ${recorded.verifiedBy}` : 'your file, unverified'})`;
  return { kind: 'checkpoint', id: sha256.slice(0, 12), label, source: path, sha256, verification };
}

/** Identifies the weights without building anything (hashing a checkpoint's bytes): for cache lookups. */
export async function describeWeights(choice: ResolvedWeights): Promise<WeightsInfo> {
  if (choice.kind === 'synthetic') return syntheticInfo(choice.seed);
  checkRegularFile(choice.path, 'checkpoint'); // the same error as reading it would give, before hashing
  return checkpointInfo(choice, await sha256File(choice.path));
}

/**
 * Builds a model with its weights, counts it on the reference graph, and optimizes it for inference.
 * `known`: the weights' identity when describeWeights already hashed them.
 */
export function prepareModel(card: ModelCard, choice: ResolvedWeights, known?: WeightsInfo): PreparedModel {
  let source: WeightSource;
  let weights: WeightsInfo;
  let notes: string[] = [];
  if (choice.kind === 'synthetic') {
    source = new SyntheticWeights(choice.seed ?? 0);
    weights = syntheticInfo(choice.seed);
  } else {
    // One read: the identity is hashed from the bytes the reader holds (unless describeWeights just hashed the file).
    const checkpoint = readCheckpoint(choice.path, known?.sha256);
    source = new CheckpointWeights(checkpoint.weights);
    weights = checkpointInfo(choice, checkpoint.sha256);
    notes = checkpoint.notes;
  }
  const graph = buildGraph(card, source);
  const counts = countModel(graph);
  return { card, graph: optimizeForInference(graph), counts, weights, notes };
}

export function countModel(referenceGraph: Graph): ModelCounts {
  return { params: countParams(referenceGraph), flops: countFlops(referenceGraph) };
}

/** Turns 'official' into the cached checkpoint's path, downloading it first when allowed. */
export async function resolveWeights(
  card: ModelCard,
  choice: WeightsChoice,
  download: DownloadOptions,
  onProgress?: (p: TransferProgress) => void,
): Promise<ResolvedWeights> {
  if (choice.kind !== 'official') return choice;
  const r = await ensureCheckpoint(card, download, onProgress);
  return { kind: 'checkpoint', path: r.path, recorded: { sha256: r.sha256, verifiedBy: r.verified } };
}
