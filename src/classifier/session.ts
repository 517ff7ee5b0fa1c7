import { type DownloadOptions, defaultDownloadOptions } from '../download/checkpoints.js';
import type { TransferProgress } from '../download/http.js';
import { type ThreadSpec, resolveThreads } from '../util/cpus.js';
import type { ModelCard } from '../models/families.js';
import type { InferenceSession } from '../runtime/backend.js';
import { requireBackend } from '../runtime/registry.js';
import { type Artifact, ensureArtifact } from './convert.js';
import { checkExternalOnnx, externalArtifact } from './external.js';
import { checkInt8Form } from './int8-form.js';
import { countsOf } from './zoo.js';
import { type ResolvedWeights, type WeightsChoice, resolveWeights } from './model.js';
import type { PrecisionProgress, PrecisionSpec } from './precision.js';

export interface OpenOptions {
  weights: WeightsChoice;
  /** How an official checkpoint may be fetched (default: the environment's, LEVIT_OFFLINE / LEVIT_MIRROR). */
  download?: DownloadOptions;
  backend: string;
  /** Intra-op threads (default: all cores). */
  threads?: ThreadSpec;
  /** Let idle runtime threads spin (off when other work shares the cores). */
  spinning?: boolean;
  onDownload?: (p: TransferProgress) => void;
  /** Called once the weights are at hand, before the artifact is built or taken from the cache. */
  onBuild?: () => void;
  /** Arithmetic of the artifact (default float32), and progress while a reduced one is made. */
  precision?: PrecisionSpec;
  onPrecision?: (p: PrecisionProgress) => void;
  /** An ONNX file of this model to run instead of building levit's own (weights and precision then do not apply). */
  onnx?: string;
  /** Run an int8 artifact whose full-range products saturate on this backend, with a warning, instead of refusing it. */
  allowInt8Saturation?: boolean;
}

export interface Classifier {
  card: ModelCard;
  /** Null for an external --onnx file, whose weights are its own. */
  weights: ResolvedWeights | null;
  artifact: Artifact;
  session: InferenceSession;
  /** What the user must know about these outputs (an int8 artifact run although it saturates here). */
  warnings: string[];
}

/** The weights resolved (official ones downloaded when allowed), in one call: what convert needs. */
export function resolveClassifierWeights(card: ModelCard, o: Pick<OpenOptions, 'weights' | 'download' | 'onDownload'>): Promise<ResolvedWeights> {
  return resolveWeights(card, o.weights, o.download ?? defaultDownloadOptions({}), o.onDownload);
}

/**
 * Opens a model to run: its weights resolved, its artifact built or taken from the cache, and a
 * session on the backend with the given threads. Release `session` when done.
 */
export async function openClassifier(card: ModelCard, o: OpenOptions): Promise<Classifier> {
  const [threads] = resolveThreads([o.threads ?? 'all']);
  const { backend } = await requireBackend(o.backend, threads);
  let artifact: Artifact;
  let weights: ResolvedWeights | null = null;
  if (o.onnx) {
    artifact = await externalArtifact(o.onnx, backend);
    checkExternalOnnx(o.onnx, card, countsOf(card).params);
  } else {
    weights = await resolveClassifierWeights(card, o);
    o.onBuild?.();
    artifact = await ensureArtifact(card, weights, backend.artifact, undefined, o.precision, o.onPrecision);
  }
  const saturated = await checkInt8Form(artifact.path, card.id, backend, o.allowInt8Saturation);
  const session = await backend.load(artifact.path, { threads, spinning: o.spinning ?? true });
  return { card, weights, artifact, session, warnings: saturated ? [saturated] : [] };
}
