import { floatTensor } from '../core/tensor.js';
import type { ModelCard } from '../models/families.js';
import { PreprocessPool } from '../preprocess/pool.js';
import type { PreprocessReply } from '../preprocess/worker.js';
import type { InferenceSession } from '../runtime/backend.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { AtomicLineWriter } from '../util/atomic.js';
import { type Dataset, type Sample, realLabels } from './dataset.js';
import { type PrecisionVerdict, judgePrecision, pairedChange } from './precision-gate.js';
import { type Verdict, judge, topIndices } from './score.js';
import type { PublishedAccuracy } from '../models/card.js';
import { type TokenFusion, fusionName, isFused } from '../models/fusion/spec.js';

export interface EvalOptions {
  batch: number;
  limit?: number;
  strict: boolean;
  real: boolean;
  workers: number;
  predictionsOut?: string;
  synthetic: boolean;
  /**
   * A second model run on the same batches for a paired comparison: the float32 model against a reduced
   * precision, or the plain model against token fusion (`name`: the precision or the fusion setting).
   */
  reference?: { session: InferenceSession; kind: 'precision' | 'fusion'; name: string };
  /** Stops the run (Ctrl-C): the summary covers the images evaluated so far, and no predictions file is written. */
  signal?: AbortSignal;
}

/** A reduced precision against float32 on the same images. */
export interface PrecisionComparison extends PrecisionVerdict {
  precision: string;
  fp32: { top1: number; top5: number };
  /** Points, reduced precision minus float32. */
  top1_change: number;
  top5_change: number;
  /** Images whose top-1 class is the same in both, percent. */
  top1_agreement: number;
}

/** A model with token fusion against the plain model (same weights, backend and images). */
export interface FusionComparison {
  /** The setting, as --token-fusion takes it ('mctf:16'). */
  token_fusion: string;
  plain: { top1: number; top5: number };
  /** Points, fused minus plain, and the top-1 change's 95% interval (paired on the same images). */
  top1_change: number;
  top5_change: number;
  top1_change_interval: [number, number];
  /** Images whose top-1 class is the same with and without fusion, percent: the cost visible without labels. */
  top1_agreement: number;
}

export interface EvalProgress {
  done: number;
  total: number;
  imagesPerSecond: number;
  top1: number;
  failed: number;
}

export interface EvalSummary extends Verdict {
  model: string;
  backend: string;
  /** `skipped`: folder entries that could not be listed (the text output prints them; --json has them here). */
  dataset: { root: string; layout: string; images: number; skipped: Dataset['skipped'] };
  evaluated: number;
  failed: number;
  failures: { file: string; error: string }[];
  top1: number;
  top5: number;
  real: { top1: number; images: number } | null;
  seconds: number;
  images_per_second: number;
  workers: number;
  /** Why --predictions-out could not be written (the summary is complete all the same), or null. */
  predictions_error: string | null;
  /** Stopped before the end (Ctrl-C): the figures cover the images evaluated so far. */
  interrupted: boolean;
  /** What makes these figures unlike the model's (an int8 artifact run although it saturates here); absent when nothing does. */
  warnings?: string[];
  /** With a reduced precision: the comparison against float32 and its verdict on the 99% gate. */
  precision: PrecisionComparison | null;
  /** With token fusion: the comparison against the plain model. */
  fusion: FusionComparison | null;
}

/**
 * Whether the images evaluated are a fair sample of ImageNet validation: a flat folder is in
 * file-name order, which is random across classes; an ImageFolder is sorted by class, so only
 * all of it (all 1000 classes) is.
 */
function isRandomSample(dataset: Dataset, evaluated: number): boolean {
  if (dataset.layout !== 'imagefolder') return true;
  return evaluated === dataset.samples.length && new Set(dataset.samples.map((s) => s.label)).size === 1000;
}

/**
 * Runs a model over a dataset: worker threads decode and preprocess a bounded window of images
 * ahead while the model runs on full batches, so memory stays flat whatever the dataset size.
 * Unreadable images are reported and counted (fatal with strict) and the run goes on.
 */
export async function evaluate(
  card: ModelCard,
  backend: string,
  session: InferenceSession,
  dataset: Dataset,
  o: EvalOptions,
  onProgress?: (p: EvalProgress) => void,
): Promise<EvalSummary> {
  const samples = dataset.samples.slice(0, o.limit ?? dataset.samples.length);
  if (samples.length === 0) throw new LevitError(`${dataset.root}: no images found`, ExitCode.badInput);
  const r = card.preprocessing.resolution;
  const imageSize = 3 * r * r;
  const pool = new PreprocessPool(o.workers);
  const window = Math.max(o.batch * 2, pool.size * 4);
  const predictions = o.predictionsOut ? new AtomicLineWriter(o.predictionsOut) : undefined;
  const started = performance.now();
  let correct1 = 0;
  let correct5 = 0;
  let realCorrect = 0;
  let realImages = 0;
  let evaluated = 0;
  const ref = { correct1: 0, correct5: 0, agree: 0, lostRight: 0, gainedRight: 0 };
  const failures: { file: string; error: string }[] = [];

  const inFlight: Promise<PreprocessReply>[] = [];
  let submitted = 0;
  const topUp = () => {
    while (submitted < samples.length && inFlight.length < window) inFlight.push(pool.preprocess(samples[submitted++].file, card.preprocessing));
  };

  const batch = floatTensor([o.batch, 3, r, r]);
  const members: Sample[] = [];
  const runBatch = async () => {
    if (members.length === 0) return;
    const input = members.length === o.batch ? batch : { ...batch, shape: [members.length, 3, r, r], data: batch.data.subarray(0, members.length * imageSize) };
    const logits = await session.run(input);
    const refLogits = o.reference ? await o.reference.session.run(input) : undefined;
    const classes = logits.shape[1];
    members.forEach((s, i) => {
      const top5 = topIndices(logits.data.subarray(i * classes, (i + 1) * classes), 5);
      if (refLogits) tallyReference(ref, topIndices(refLogits.data.subarray(i * classes, (i + 1) * classes), 5), top5, s.label);
      correct1 += top5[0] === s.label ? 1 : 0;
      correct5 += top5.includes(s.label) ? 1 : 0;
      if (o.real) {
        const labels = realLabels(s.file);
        if (labels && labels.length) {
          realImages++;
          realCorrect += labels.includes(top5[0]) ? 1 : 0;
        }
      }
      predictions?.write(JSON.stringify({ file: s.file, label: s.label, top5 }));
    });
    evaluated += members.length;
    members.length = 0;
  };

  let interrupted = false;
  let predictionsError: string | null = null;
  try {
    topUp();
    for (let i = 0; i < samples.length; i++) {
      if (o.signal?.aborted) {
        interrupted = true;
        members.length = 0; // a batch not yet run is not waited for
        break;
      }
      const reply = await inFlight.shift()!;
      topUp();
      const sample = samples[i];
      if ('error' in reply) {
        if (o.strict) throw new LevitError(`${reply.error} (--strict stops at the first unreadable image)`, ExitCode.badInput);
        failures.push({ file: sample.file, error: reply.error });
        predictions?.write(JSON.stringify({ file: sample.file, label: sample.label, top5: [], error: reply.error }));
      } else {
        batch.data.set(reply.data, members.length * imageSize);
        members.push(sample);
        if (members.length === o.batch) await runBatch();
      }
      const seconds = (performance.now() - started) / 1000;
      onProgress?.({
        done: i + 1,
        total: samples.length,
        imagesPerSecond: (i + 1) / seconds,
        top1: evaluated ? (100 * correct1) / evaluated : 0,
        failed: failures.length,
      });
    }
    await runBatch();
    if (interrupted) predictions?.discard();
    else predictionsError = (await predictions?.commit()) ?? null;
  } catch (e) {
    predictions?.discard();
    throw e;
  } finally {
    await pool.close();
  }

  const seconds = (performance.now() - started) / 1000;
  const top1 = evaluated ? (100 * correct1) / evaluated : 0;
  const published = card.published.find((p) => p.crop_pct === undefined || p.crop_pct === card.preprocessing.crop_pct);
  return {
    model: card.id,
    backend,
    dataset: { root: dataset.root, layout: dataset.layout, images: samples.length, skipped: dataset.skipped },
    interrupted,
    evaluated,
    failed: failures.length,
    failures,
    top1,
    top5: evaluated ? (100 * correct5) / evaluated : 0,
    real: o.real ? { top1: realImages ? (100 * realCorrect) / realImages : 0, images: realImages } : null,
    seconds,
    images_per_second: (evaluated + failures.length) / seconds,
    workers: pool.size,
    ...(isFused(card.token_fusion)
      ? fusedVerdict(card.token_fusion, top1, published)
      : judge(top1, evaluated, published, o.synthetic, isRandomSample(dataset, evaluated + failures.length))),
    predictions_error: predictionsError,
    ...compareWithReference(o.reference, ref, evaluated, top1, (100 * correct5) / Math.max(1, evaluated), o.synthetic),
  };
}

/** A published top-1 is the plain model's: a model with token fusion is compared with the plain one on the same images instead. */
function fusedVerdict(fusion: TokenFusion, top1: number, published: PublishedAccuracy | undefined): Verdict {
  const reason = `the published top-1 is the plain model's; with token fusion (${fusionName(fusion)}) compare with the plain model on the same images`;
  return { verdict: 'not comparable', published: published ?? null, difference: published ? top1 - published.top1 : null, tolerance: null, reason };
}

type ReferenceTally = { correct1: number; correct5: number; agree: number; lostRight: number; gainedRight: number };

function tallyReference(t: ReferenceTally, refTop5: number[], top5: number[], label: number): void {
  const refRight = refTop5[0] === label;
  const right = top5[0] === label;
  t.correct1 += refRight ? 1 : 0;
  t.correct5 += refTop5.includes(label) ? 1 : 0;
  t.agree += refTop5[0] === top5[0] ? 1 : 0;
  t.lostRight += refRight && !right ? 1 : 0;
  t.gainedRight += right && !refRight ? 1 : 0;
}

function compareWithReference(
  reference: EvalOptions['reference'],
  t: ReferenceTally,
  images: number,
  top1: number,
  top5: number,
  synthetic: boolean,
): Pick<EvalSummary, 'precision' | 'fusion'> {
  if (!reference) return { precision: null, fusion: null };
  const pct = (k: number) => (100 * k) / Math.max(1, images);
  const base = { top1: pct(t.correct1), top5: pct(t.correct5) };
  const changes = { top1_change: top1 - base.top1, top5_change: top5 - base.top5, top1_agreement: pct(t.agree) };
  if (reference.kind === 'fusion') {
    const { interval } = pairedChange({ images, lostRight: t.lostRight, gainedRight: t.gainedRight });
    return { precision: null, fusion: { token_fusion: reference.name, plain: base, ...changes, top1_change_interval: interval } };
  }
  const gate = judgePrecision({ images, lostRight: t.lostRight, gainedRight: t.gainedRight, fp32Right: t.correct1 }, synthetic);
  return { precision: { precision: reference.name, fp32: base, ...changes, ...gate }, fusion: null };
}
