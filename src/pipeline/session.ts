import type { ModelCard } from '../models/card.js';
import type { InferenceSession } from '../runtime/backend.js';
import { requireBackend } from '../runtime/registry.js';
import { type Artifact, ensureArtifact } from './convert.js';
import type { ResolvedWeights } from './model.js';
import { FP32, type PrecisionProgress, type PrecisionSpec } from './precision.js';

/** The model as the backend runs it: its artifact built or taken from the cache, and a session on it. */
export async function openSession(
  card: ModelCard,
  weights: ResolvedWeights,
  backendId: string,
  threads = 0,
  spinning = true,
  precision: PrecisionSpec = FP32,
  onProgress?: (p: PrecisionProgress) => void,
): Promise<{ session: InferenceSession; artifact: Artifact }> {
  const backend = await requireBackend(backendId);
  const artifact = await ensureArtifact(card, weights, backend.artifact, undefined, precision, onProgress);
  return { session: await backend.load(artifact.path, { threads, spinning }), artifact };
}
