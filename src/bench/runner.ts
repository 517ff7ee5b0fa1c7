import { availableParallelism } from 'node:os';
import { floatTensor } from '../core/tensor.js';
import { getCard, requireTokenFusion, withTokenFusion } from '../models/registry.js';
import { familyOf } from '../models/families.js';
import { NO_FUSION, type TokenFusion, fusionKey, fusionName, isFused } from '../models/fusion/spec.js';
import { existsSync, readFileSync } from 'node:fs';
import { type Artifact, ensureArtifact } from '../classifier/convert.js';
import { CorruptFileError, ExitCode, LevitError } from '../core/errors.js';
import { type WeightsChoice, describeWeights, resolveWeights } from '../classifier/model.js';
import type { ModelCard } from '../models/families.js';
import { onnxParameterCount, onnxSignature } from '../onnx/inspect.js';
import { sha256File } from '../util/hash.js';
import type { DownloadOptions } from '../download/checkpoints.js';
import { countsOf } from '../classifier/zoo.js';
import type { Backend, BackendStatus } from '../runtime/backend.js';
import { requireBackend } from '../runtime/registry.js';
import { packageVersion } from '../util/paths.js';
import { FP32, type PrecisionSpec, precisionKey, precisionProgressLine } from '../classifier/precision.js';
import { type Calibration, type Calibrator, openCalibrator } from './calibration.js';
import { type SystemFingerprint, fingerprint } from './fingerprint.js';
import { type MeasureSettings, measure } from './measure.js';
import { type BenchRecord, type BenchResults, RESULTS_SCHEMA } from './results.js';
import { baselineWarning, judgeStability } from './stability.js';
import { spread, summarize } from './stats.js';

export type ThreadSpec = number | 'all';

export interface BenchPlan {
  models: string[];
  backends: string[];
  threads: ThreadSpec[];
  batches: number[];
  weights: WeightsChoice;
  download: DownloadOptions;
  measure: MeasureSettings;
  calibrate: boolean;
  /** The calibration of this machine's baseline, to warn when this run's machine is far slower. */
  reference?: (system: SystemFingerprint) => { calibration: Calibration | null; file: string } | null;
  /** Time this ONNX file instead of levit's own artifact (one model only): e.g. a torch.onnx export. */
  externalOnnx?: string;
  /** Precisions of levit's artifacts (default float32 only). */
  precisions?: PrecisionSpec[];
  /** A batch that fails (e.g. out of GPU memory) is skipped with its error instead of ending the run. */
  keepGoing?: boolean;
  /** Token fusion settings, each its own configuration (default none); models that cannot take one are skipped for it. */
  fusions?: TokenFusion[];
}

/** The models `levit bench` runs by default: LeViT against EfficientNet and DeiT, as in the paper. */
export const DEFAULT_MODELS = ['levit_128s', 'levit_192', 'levit_256', 'efficientnet_b0', 'efficientnet_b2', 'efficientnet_b3', 'deit_tiny_patch16_224'];

export interface BenchEvents {
  configStart?(index: number, total: number, label: string): void;
  iteration?(done: number, elapsedSeconds: number): void;
  configDone?(record: BenchRecord): void;
  phase?(message: string): void;
  skipped?(message: string): void;
  warning?(message: string): void;
}

/** Seconds of the short calibration taken between configurations. */
const CHECK_SECONDS = 0.3;

export function resolveThreads(specs: readonly ThreadSpec[]): number[] {
  const all = availableParallelism();
  return [...new Set(specs.map((t) => (t === 'all' ? all : t)))];
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

/** How far an external export's parameter count may stray from the card's (folded BatchNorm, expanded attention biases). */
const EXTERNAL_PARAMS_TOLERANCE = 0.1;

/**
 * An external ONNX file must be the model it is timed as: the card's input [N, 3, R, R], 1000 classes out,
 * and a parameter count near the card's.
 */
function checkExternalOnnx(path: string, card: ModelCard, params: number): void {
  const r = card.preprocessing.resolution;
  let found: number;
  let signature: ReturnType<typeof onnxSignature>;
  try {
    const bytes = readFileSync(path);
    found = onnxParameterCount(bytes);
    signature = onnxSignature(bytes);
  } catch (e) {
    throw new CorruptFileError(path, `is not an ONNX model (${(e as Error).message})`, 'Give --onnx an .onnx file exported from the model named.');
  }
  const hint = 'Name the model the file was exported from (levit zoo lists them with their parameter counts and resolutions).';
  const fixedIs = (d: number | string | null | undefined, v: number) => typeof d !== 'number' || d === v;
  const [input] = signature.inputs;
  const [output] = signature.outputs;
  const shape = (s: readonly unknown[] | undefined) => `[${(s ?? []).map((d) => d ?? '?').join(', ')}]`;
  if (signature.inputs.length !== 1 || input.length !== 4 || !fixedIs(input[1], 3) || !fixedIs(input[2], r) || !fixedIs(input[3], r)) {
    throw new LevitError(
      `--onnx ${path} takes ${signature.inputs.map(shape).join(' and ')}; ${card.id} takes [N, 3, ${r}, ${r}]: it is another model`,
      ExitCode.badInput,
      hint,
    );
  }
  if (signature.outputs.length !== 1 || output.length !== 2 || !fixedIs(output[1], 1000)) {
    throw new LevitError(`--onnx ${path} gives ${signature.outputs.map(shape).join(' and ')}; ${card.id} gives logits [N, 1000]`, ExitCode.badInput, hint);
  }
  if (Math.abs(found / params - 1) > EXTERNAL_PARAMS_TOLERANCE) {
    throw new LevitError(
      `--onnx ${path} has ${found.toLocaleString('en-US')} parameters; ${card.id} has ${params.toLocaleString('en-US')}: it is another model`,
      ExitCode.badInput,
      hint,
    );
  }
}

async function externalArtifact(path: string, backend: Backend): Promise<Artifact> {
  if (backend.artifact !== 'onnx') throw new LevitError(`--onnx needs an ONNX backend; ${backend.id} runs ${backend.artifact}`, ExitCode.usage);
  if (!existsSync(path)) throw new LevitError(`--onnx: no such file ${path}`, ExitCode.notFound);
  const sha256 = await sha256File(path);
  return {
    path,
    built: false,
    seconds: 0,
    weights: { kind: 'checkpoint', id: `external-${sha256.slice(0, 12)}`, label: `external ONNX ${path}`, source: path, sha256 },
  };
}

/** The settings in order, each once (mctf and mctf:16 are one). */
const uniqueFusions = (list: readonly TokenFusion[]) => list.filter((f, i) => list.findIndex((g) => fusionKey(g) === fusionKey(f)) === i);

/** The card with the setting, or undefined for a model whose family cannot merge tokens (skipped, not an error, in a mixed run). */
function fusedCard(card: ModelCard, fusion: TokenFusion): ModelCard | undefined {
  if (isFused(fusion) && !familyOf(card.family)?.tokenFusion) return undefined;
  return withTokenFusion(card, fusion);
}

export async function runBench(plan: BenchPlan, events: BenchEvents = {}): Promise<BenchResults> {
  const cards = plan.models.map(getCard);
  if (plan.externalOnnx && cards.length !== 1) {
    throw new LevitError('--onnx times one external file: name exactly one model (its input contract)', ExitCode.usage);
  }
  const precisions = plan.precisions ?? [FP32];
  if (plan.externalOnnx && precisions.some((p) => p.precision !== 'fp32')) {
    throw new LevitError("--onnx times the external file as it is: drop --precision (or bench levit's own artifacts with it)", ExitCode.usage);
  }
  const fusions = uniqueFusions(plan.fusions ?? [NO_FUSION]);
  if (plan.externalOnnx && fusions.some(isFused)) throw new LevitError('--onnx times the external file as it is: drop --token-fusion', ExitCode.usage);
  if (fusions.some(isFused) && !cards.some((c) => fusedCard(c, fusions.find(isFused)!))) {
    requireTokenFusion(cards[0], fusions.find(isFused)!); // no model of the run takes it: the usage error, before any work
  }
  if (plan.externalOnnx && existsSync(plan.externalOnnx)) checkExternalOnnx(plan.externalOnnx, cards[0], countsOf(cards[0]).params);
  const threads = resolveThreads(plan.threads);
  const backends: Backend[] = [];
  const statuses = new Map<Backend, BackendStatus>();
  for (const id of plan.backends) {
    const { backend, status } = await requireBackend(id, threads[0]);
    backends.push(backend);
    statuses.set(backend, status);
  }

  events.phase?.('fingerprinting the system');
  const system = await fingerprint();
  let calibration: Calibration | null = null;
  let calibrator: Calibrator | null = null;
  let lastCheck: Calibration | null = null;
  const warnings: string[] = [];
  if (plan.calibrate) {
    events.phase?.('calibrating: single-thread float32 matrix product');
    calibrator = await openCalibrator();
    calibration = await calibrator.measure(1);
    lastCheck = calibration;
    const reference = plan.reference?.(system);
    const warning = reference ? baselineWarning(calibration, reference.calibration, reference.file) : null;
    if (warning) {
      warnings.push(warning);
      events.warning?.(warning);
    }
  }

  // Each model with each token fusion setting: one more axis, flattened.
  const variants = cards.flatMap((plain) => fusions.map((fusion) => ({ plain, fusion })));
  const total = variants.length * backends.length * precisions.length * threads.length * plan.batches.length;
  const records: BenchRecord[] = [];
  const skipped: NonNullable<BenchResults['skipped']> = [];
  const skip = (card: { id: string }, backend: Backend, t: number, reason: string, batch?: number) => {
    skipped.push({ model: card.id, backend: backend.id, threads: t, ...(batch === undefined ? {} : { batch }), reason });
    events.skipped?.(`${card.id} ${backend.id} ${t} thread${t > 1 ? 's' : ''}${batch === undefined ? '' : ` batch ${batch}`}: skipped, ${reason}`);
  };
  try {
    for (const { plain, fusion } of variants) {
      const card = fusedCard(plain, fusion);
      if (!card) {
        for (const backend of backends)
          for (const t of threads) skip(plain, backend, t, `token fusion ${fusionName(fusion)} applies to DeiT and ViT models only`);
        continue;
      }
      const counts = countsOf(card);
      const rowName = isFused(fusion) ? `${card.id} ${fusionName(fusion)}` : card.id;
      const weights = plan.externalOnnx ? undefined : await resolveWeights(card, plan.weights, plan.download);
      const identity = weights ? await describeWeights(weights) : undefined;
      for (const backend of backends)
        for (const precision of precisions) {
          if (isFused(fusion) && precision.precision !== 'fp32') {
            for (const t of threads) skip(card, backend, t, `token fusion ${fusionName(fusion)} is float32 only, not ${precision.precision}`);
            continue;
          }
          const artifact =
            weights && identity
              ? await ensureArtifact(card, weights, backend.artifact, identity, precision, (p) => events.phase?.(precisionProgressLine(card.id, p)))
              : await externalArtifact(plan.externalOnnx!, backend);
          for (const t of threads) {
            if (backend.threadsFixedPerProcess && t !== threads[0]) {
              skip(card, backend, t, `${backend.id} fixes its thread count when it starts (${threads[0]} in this run)`);
              continue;
            }
            const sessionStart = performance.now();
            const session = await backend.load(artifact.path, { threads: t });
            const sessionSeconds = (performance.now() - sessionStart) / 1000;
            if (session.threads !== t) {
              await session.release();
              skip(card, backend, t, `${backend.id} runs ${session.threads} thread${session.threads > 1 ? 's' : ''} here`);
              continue;
            }
            const status = statuses.get(backend)!;
            try {
              for (const batch of plan.batches) {
                events.configStart?.(
                  records.length + 1,
                  total,
                  `${rowName} ${backend.id} ${precision.precision} ${t} thread${t > 1 ? 's' : ''} batch ${batch}`,
                );
                const input = benchInput(batch, card.preprocessing.resolution);
                const before = lastCheck;
                let m: Awaited<ReturnType<typeof measure>>;
                try {
                  m = await measure(() => session.run(input), plan.measure, events.iteration);
                } catch (e) {
                  if (!plan.keepGoing) throw e;
                  skip(card, backend, t, `batch ${batch} failed: ${(e as Error).message.split('\n')[0]}`, batch);
                  continue;
                }
                lastCheck = calibrator ? await calibrator.measure(CHECK_SECONDS) : null;
                const latency = summarize(m.times);
                const record: BenchRecord = {
                  model: card.id,
                  family: card.family,
                  backend: backend.id,
                  backend_version: status.version,
                  device: status.device,
                  threads: t,
                  batch,
                  resolution: card.preprocessing.resolution,
                  precision: precision.precision,
                  ...(precision.precision === 'fp32' ? {} : { precision_key: precisionKey(precision) }),
                  ...(isFused(fusion) ? { token_fusion: fusionName(fusion) } : {}),
                  weights: artifact.weights.id,
                  weights_kind: artifact.weights.kind,
                  ...counts,
                  published_top1: card.published[0]?.top1 ?? null,
                  setup_seconds: { artifact: artifact.seconds, artifact_cached: !artifact.built, session: sessionSeconds },
                  warmup_iterations: m.warmupIterations,
                  iterations: m.times.length,
                  images_per_second: (batch * 1000) / latency.median,
                  latency_ms: latency,
                  spread: spread(m.times),
                  peak_rss_bytes: m.peakRssBytes,
                  times_ms: m.times,
                  emulated: system.emulation !== null,
                  stopped: m.stopped,
                  stability: before && lastCheck && calibration ? judgeStability(before, lastCheck, calibration) : null,
                };
                records.push(record);
                events.configDone?.(record);
              }
            } finally {
              await session.release();
            }
          }
        }
    }
  } finally {
    await calibrator?.release();
  }
  return {
    schema: RESULTS_SCHEMA,
    created: new Date().toISOString(),
    levit_version: packageVersion,
    system,
    calibration,
    calibration_after: records.length ? lastCheck : null,
    settings: {
      warmup_seconds: plan.measure.warmupSeconds,
      duration_seconds: plan.measure.durationSeconds,
      min_iterations: plan.measure.minIterations,
      max_iterations: plan.measure.maxIterations,
      max_duration_seconds: plan.measure.maxDurationSeconds,
      target_ci: plan.measure.targetCi,
    },
    records,
    ...(skipped.length ? { skipped } : {}),
    ...(warnings.length ? { warnings } : {}),
  };
}
