import { existsSync } from 'node:fs';
import { floatTensor } from '../core/tensor.js';
import { getCard, requireTokenFusion, withTokenFusion } from '../models/registry.js';
import { familyOf } from '../models/families.js';
import { NO_FUSION, type TokenFusion, fusionKey, fusionName, isFused } from '../models/fusion/spec.js';
import { type Artifact, ensureArtifact } from '../classifier/convert.js';
import { checkExternalOnnx, externalArtifact } from '../classifier/external.js';
import { checkInt8Form } from '../classifier/int8-form.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { type WeightsChoice, describeWeights, resolveWeights } from '../classifier/model.js';
import type { ModelCard } from '../models/families.js';
import { type ThreadSpec, resolveThreads } from '../util/cpus.js';
import type { DownloadOptions } from '../download/checkpoints.js';
import { countsOf } from '../classifier/zoo.js';
import type { Backend, BackendStatus } from '../runtime/backend.js';
import { requireBackend } from '../runtime/registry.js';
import { FP32, type PrecisionSpec, precisionProgressLine } from '../classifier/precision.js';

export { type ThreadSpec, resolveThreads };

/**
 * What to measure: the configurations of a run (model, backend, precision, threads, batch), with
 * their artifacts built before anything is timed. One session serves the batches of a model,
 * backend, precision and thread count.
 */

export interface ConfigurationPlan {
  models: string[];
  backends: string[];
  threads: ThreadSpec[];
  batches: number[];
  weights: WeightsChoice;
  download: DownloadOptions;
  /** Time this ONNX file instead of levit's own artifact (one model only): e.g. a torch.onnx export. */
  externalOnnx?: string;
  /** Precisions of levit's artifacts (default float32 only). */
  precisions?: PrecisionSpec[];
  /** Token fusion settings, each its own configuration (default none); models that cannot take one are skipped for it. */
  fusions?: TokenFusion[];
  /** Time int8 artifacts whose full-range weights saturate on this backend (int8-form.ts), marked, instead of refusing them. */
  allowInt8Saturation?: boolean;
}

/** One session to load: a model's artifact on a backend at a thread count, and the batches it is timed at. */
export interface SessionPlan {
  /** The model's card, with its token fusion setting (card.token_fusion) when it has one. */
  card: ModelCard;
  backend: Backend;
  status: BackendStatus;
  precision: PrecisionSpec;
  threads: number;
  artifact: Artifact;
  batches: number[];
  /** An int8 artifact timed although its products saturate here (--allow-int8-saturation): not the model's arithmetic. */
  int8Saturated?: boolean;
}

export interface Skip {
  model: string;
  backend: string;
  threads: number;
  batch?: number;
  reason: string;
}

/** A deterministic input batch in the range normalized images take. */
export function benchInput(batch: number, resolution: number) {
  const t = floatTensor([batch, 3, resolution, resolution]);
  let x = 0x2545f491;
  for (let i = 0; i < t.data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    t.data[i] = ((x >>> 0) / 4294967296) * 4 - 2;
  }
  return t;
}

/** The settings in order, each once (mctf and mctf:16 are one). */
const uniqueFusions = (list: readonly TokenFusion[]) => list.filter((f, i) => list.findIndex((g) => fusionKey(g) === fusionKey(f)) === i);

/** The card with the setting, or undefined for a model whose family cannot merge tokens (skipped, not an error, in a mixed run). */
function fusedCard(card: ModelCard, fusion: TokenFusion): ModelCard | undefined {
  if (isFused(fusion) && !familyOf(card.family)?.tokenFusion) return undefined;
  return withTokenFusion(card, fusion);
}

/** Checks the plan and opens its backends; fails before any artifact is built. */
export async function openBackends(plan: ConfigurationPlan): Promise<{ threads: number[]; backends: { backend: Backend; status: BackendStatus }[] }> {
  const cards = plan.models.map(getCard);
  if (plan.externalOnnx && cards.length !== 1) {
    throw new LevitError('--onnx times one external file: name exactly one model (its input contract)', ExitCode.usage);
  }
  if (plan.weights.kind === 'checkpoint' && cards.length !== 1) {
    throw new LevitError(`--checkpoint is one model's weights: name exactly that model (this run has ${cards.length})`, ExitCode.usage);
  }
  if (plan.externalOnnx && (plan.precisions ?? [FP32]).some((p) => p.precision !== 'fp32')) {
    throw new LevitError("--onnx times the external file as it is: drop --precision (or bench levit's own artifacts with it)", ExitCode.usage);
  }
  const fusions = uniqueFusions(plan.fusions ?? [NO_FUSION]);
  if (plan.externalOnnx && plan.weights.kind === 'checkpoint')
    throw new LevitError('--onnx runs a file with its own weights: drop --checkpoint', ExitCode.usage);
  if (plan.externalOnnx && fusions.some(isFused)) throw new LevitError('--onnx times the external file as it is: drop --token-fusion', ExitCode.usage);
  const fused = fusions.find(isFused);
  // No model of the run takes the setting: the usage error, before any work.
  if (fused && !cards.some((c) => fusedCard(c, fused))) requireTokenFusion(cards[0], fused);
  if (plan.externalOnnx && existsSync(plan.externalOnnx)) checkExternalOnnx(plan.externalOnnx, cards[0], countsOf(cards[0]).params);
  const threads = resolveThreads(plan.threads);
  const backends = [];
  for (const id of plan.backends) backends.push(await requireBackend(id, threads[0]));
  return { threads, backends };
}

/**
 * Every session of the plan, artifacts built (or found in the cache), in the order model, backend,
 * precision, threads; and what cannot run here (a runtime's fixed thread count), with the reason.
 */
export async function planSessions(
  plan: ConfigurationPlan,
  opened: Awaited<ReturnType<typeof openBackends>>,
  phase?: (message: string) => void,
): Promise<{ sessions: SessionPlan[]; skipped: Skip[]; warnings: string[] }> {
  const sessions: SessionPlan[] = [];
  const skipped: Skip[] = [];
  const warnings: string[] = [];
  const [first] = opened.threads;
  const skipAll = (model: string, reason: string) => {
    for (const { backend } of opened.backends) for (const threads of opened.threads) skipped.push({ model, backend: backend.id, threads, reason });
  };
  // Each model with each token fusion setting: one more axis, flattened.
  const variants = plan.models.map(getCard).flatMap((plain) => uniqueFusions(plan.fusions ?? [NO_FUSION]).map((fusion) => ({ plain, fusion })));
  for (const { plain, fusion } of variants) {
    const card = fusedCard(plain, fusion);
    if (!card) {
      skipAll(plain.id, `token fusion ${fusionName(fusion)} applies to DeiT and ViT models only`);
      continue;
    }
    const weights = plan.externalOnnx ? undefined : await resolveWeights(card, plan.weights, plan.download);
    const identity = weights ? await describeWeights(weights) : undefined;
    for (const { backend, status } of opened.backends)
      for (const precision of plan.precisions ?? [FP32]) {
        if (isFused(fusion) && precision.precision !== 'fp32') {
          for (const threads of opened.threads) {
            skipped.push({
              model: card.id,
              backend: backend.id,
              threads,
              reason: `token fusion ${fusionName(fusion)} is float32 only, not ${precision.precision}`,
            });
          }
          continue;
        }
        const artifact =
          weights && identity
            ? await ensureArtifact(card, weights, backend.artifact, identity, precision, (p) => phase?.(precisionProgressLine(card.id, p)))
            : await externalArtifact(plan.externalOnnx!, backend);
        const saturated = await checkInt8Form(artifact.path, card.id, backend, plan.allowInt8Saturation);
        if (saturated) warnings.push(saturated);
        for (const threads of opened.threads) {
          if (backend.threadsFixedPerProcess && threads !== first) {
            skipped.push({
              model: card.id,
              backend: backend.id,
              threads,
              reason: `${backend.id} fixes its thread count when it starts (${first} in this run)`,
            });
            continue;
          }
          sessions.push({ card, backend, status, precision, threads, artifact, batches: plan.batches, ...(saturated ? { int8Saturated: true } : {}) });
        }
      }
  }
  return { sessions, skipped, warnings };
}

/** The model as a row of the tables: its id, and its token fusion setting when it has one ("deit_small_patch16_224 mctf:16"). */
export const variantName = (card: ModelCard) => (isFused(card.token_fusion) ? `${card.id} ${fusionName(card.token_fusion)}` : card.id);

/** "levit_128s ort-cpu fp32 1 thread batch 16": unique within a run. */
export const configurationLabel = (s: Pick<SessionPlan, 'card' | 'backend' | 'precision' | 'threads'>, batch: number) =>
  `${variantName(s.card)} ${s.backend.id} ${s.precision.precision} ${s.threads} thread${s.threads > 1 ? 's' : ''} batch ${batch}`;
