import type { FloatTensor } from '../core/tensor.js';
import type { OnnxModel } from '../onnx/model.js';
import type { ProductLayer, QuantLayer } from './layers.js';
import { sqnr } from './numeric.js';
import { type StaticPlan, quantizeStatic } from './qdq.js';
import { quantLayers } from './layers.js';
import { type Values, forEachBatch } from './run.js';

/** SQNR is capped here in reports: an exact value would be Infinity. */
const SQNR_CAP = 120;

/** What the fallback can keep in float32: a layer with weights, or an activation product. */
export type FallbackUnit = Pick<QuantLayer | ProductLayer, 'node' | 'op' | 'output'>;

/**
 * The images of each step: calibration images set the ranges (and rank the layers), selection images
 * decide when the fallback stops, validation images judge the result and were seen by neither.
 */
export interface JudgedBatches {
  calibration: readonly FloatTensor[];
  /** Null when too few images: the fallback then stops on the calibration images. */
  selection: readonly FloatTensor[] | null;
  /** Null when too few images: the report is then on the images the fallback stopped on, and says so. */
  validation: readonly FloatTensor[] | null;
}

export interface LayerSensitivity {
  node: string;
  op: FallbackUnit['op'];
  /** SQNR (dB) of the layer's output in the final model against float32, on the validation images. */
  sqnr: number;
  /**
   * SQNR (dB) of the logits when this layer alone is int8: how much accuracy it costs by itself.
   * Null when not measured (the fully quantized model met the target at once).
   */
  alone: number | null;
  /** Its share of the int8 layers' multiply-adds: what keeping it in float32 costs in speed. */
  share: number;
  /** Kept in float32 by the fallback. */
  float: boolean;
}

export interface SensitivityReport {
  layers: LayerSensitivity[];
  /** SQNR (dB) of the logits against float32 on the validation images, with the layers kept in float as listed. */
  logitsSqnr: number;
  /** Fraction of validation images whose top-1 class matches float32. */
  top1Agreement: number;
  /** Validation images. */
  images: number;
  /** False when no image was left for validation: the figures are then on images a step saw (the selection's, or the calibration's). */
  heldOut: boolean;
  calibrationImages: number;
  /** The same logits SQNR on the calibration images: how much better int8 does on what it was fitted to. */
  calibrationSqnr: number;
  /** Where the fallback stopped: the logits SQNR on its selection images (the calibration images when there were none). */
  selectionImages: number;
  selectionSqnr: number;
  /** Layers the fallback kept float one by one before it stopped; short of the target, those that bought less than WORTH_DB were given back. */
  fallbackTried: number;
  targetSqnr: number;
  /** Whether the logits reached the target on the validation images (with at most the allowed fallbacks). */
  met: boolean;
}

/** Short of the target, the fallback keeps the fewest float layers that come this close (dB) to the best it reached. */
export const WORTH_DB = 0.5;

/** The model quantized with these layers kept float, and its logits SQNR on the selection images. */
async function measured(model: OnnxModel, plan: StaticPlan, keepFloat: Set<string>, onSelection: (q: OnnxModel) => Promise<number>) {
  const quantized = quantizeStatic(model, { ...plan, keepFloat });
  return { keepFloat, quantized, selectionSqnr: await onSelection(quantized) };
}

/** Per-layer sensitivity is measured on this many images at most: one full pass per layer. */
const SENSITIVITY_BATCHES = 2;

const capped = (v: number) => Math.min(SQNR_CAP, v);

function concatValues(model: OnnxModel, names: readonly string[], batches: readonly FloatTensor[]): Promise<Map<string, Float32Array>> {
  const parts = new Map<string, Float32Array[]>(names.map((n) => [n, []]));
  return forEachBatch(model, names, batches, (v: Values) => {
    for (const [n, data] of v) parts.get(n)!.push(data.slice());
  }).then(() => new Map([...parts].map(([n, list]) => [n, concat(list)])));
}

function concat(list: Float32Array[]): Float32Array {
  const out = new Float32Array(list.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of list) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function argmaxRows(logits: Float32Array, classes: number): number[] {
  const rows: number[] = [];
  for (let r = 0; r * classes < logits.length; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + best]) best = c;
    rows.push(best);
  }
  return rows;
}

export function top1Agreement(reference: Float32Array, test: Float32Array, classes: number): number {
  const a = argmaxRows(reference, classes);
  const b = argmaxRows(test, classes);
  return a.filter((c, i) => c === b[i]).length / a.length;
}

export type FallbackProgress = { phase: 'sensitivity'; done: number; total: number } | { phase: 'fallback'; floatLayers: number; logitsSqnr: number };

const batchImages = (batches: readonly FloatTensor[]) => batches.reduce((n, b) => n + b.shape[0], 0);

/**
 * Each layer's multiply-adds per image, from its weight and its output: the weight's elements times the
 * positions it is applied at (output elements over output channels). Activation products have no weight:
 * their output elements stand in (an undercount, so they are cheap to keep float, the cautious side).
 */
function layerCosts(model: OnnxModel, layers: readonly FallbackUnit[], outputs: ReadonlyMap<string, Float32Array>, images: number): Map<string, number> {
  const weights = new Map(quantLayers(model).map((l) => [l.node, l]));
  const costs = new Map<string, number>();
  for (const l of layers) {
    const out = outputs.get(l.output)!.length / images;
    const q = weights.get(l.node);
    const w = q && model.initializers.get(q.weight);
    costs.set(l.node, w ? (w.data.length * out) / w.shape[q.op === 'Conv' ? 0 : 1] : out);
  }
  const total = [...costs.values()].reduce((x, y) => x + y, 0);
  return new Map([...costs].map(([n, c]) => [n, c / total]));
}

/**
 * Quantizes every layer; if the logits miss `targetSqnr` on the selection images, measures each layer's
 * cost alone (on selection images too) and keeps layers in float32, one at a time, until the selection
 * images meet the target or `maxFallback` layers are float: first the layers that cost the most accuracy
 * for the least speed (the noise a layer adds alone, over its share of the multiply-adds). The result is
 * judged on the validation images, which neither the ranges nor the stopping rule saw.
 */
export async function quantizeWithFallback(
  model: OnnxModel,
  layers: readonly FallbackUnit[],
  plan: StaticPlan,
  images: JudgedBatches,
  targetSqnr: number,
  maxFallback: number,
  onProgress?: (p: FallbackProgress) => void,
): Promise<{ model: OnnxModel; report: SensitivityReport }> {
  const logits = model.outputs[0].name;
  const classes = Number(model.outputs[0].shape?.at(-1) ?? 1000);
  const watched = [...new Set([logits, ...layers.map((l) => l.output)])];
  const selection = images.selection ?? images.calibration;
  const judging = images.validation ?? selection;
  const reference = await concatValues(model, watched, judging);
  const selectionReference = (await concatValues(model, [logits], selection)).get(logits)!;
  const share = layerCosts(model, layers, reference, batchImages(judging));
  const onSelection = async (quantized: OnnxModel) => capped(sqnr(selectionReference, (await concatValues(quantized, [logits], selection)).get(logits)!));
  const start = await measured(model, plan, new Set(plan.keepFloat), onSelection);
  let chosen = start;
  let tried = 0;
  const alone = new Map<string, number>();
  if (start.selectionSqnr < targetSqnr && maxFallback > 0) {
    // Ranked on images the ranges were not fitted to: on those a layer's cost is the one it will have.
    const few = selection.slice(0, SENSITIVITY_BATCHES);
    const fewReference = (await concatValues(model, [logits], few)).get(logits)!;
    const candidates = layers.filter((l) => !start.keepFloat.has(l.node));
    for (const [i, layer] of candidates.entries()) {
      const others = new Set(layers.map((l) => l.node).filter((n) => n !== layer.node));
      const got = await concatValues(quantizeStatic(model, { ...plan, keepFloat: others }), [logits], few);
      alone.set(layer.node, capped(sqnr(fewReference, got.get(logits)!)));
      onProgress?.({ phase: 'sensitivity', done: i + 1, total: candidates.length });
    }
    // Noise power a layer adds alone, per share of the work it would take back from int8.
    const harm = (l: FallbackUnit) => 10 ** (-alone.get(l.node)! / 10) / Math.max(share.get(l.node)!, 1e-6);
    const order = [...candidates].sort((a, b) => harm(b) - harm(a)).slice(0, maxFallback);
    const steps = [start];
    for (const layer of order) {
      steps.push(await measured(model, plan, new Set([...steps.at(-1)!.keepFloat, layer.node]), onSelection));
      onProgress?.({ phase: 'fallback', floatLayers: steps.at(-1)!.keepFloat.size, logitsSqnr: steps.at(-1)!.selectionSqnr });
      if (steps.at(-1)!.selectionSqnr >= targetSqnr) break;
    }
    tried = steps.length - 1;
    // Short of the target, float layers that bought almost nothing are given back: they would cost speed for nothing.
    const best = Math.max(...steps.map((x) => x.selectionSqnr));
    chosen = steps.at(-1)!.selectionSqnr >= targetSqnr ? steps.at(-1)! : steps.find((x) => x.selectionSqnr >= best - WORTH_DB)!;
  }
  const { keepFloat, quantized, selectionSqnr } = chosen;
  const got = await concatValues(quantized, watched, judging);
  const logitsSqnr = capped(sqnr(reference.get(logits)!, got.get(logits)!));
  const calibrationSqnr = capped(
    sqnr((await concatValues(model, [logits], images.calibration)).get(logits)!, (await concatValues(quantized, [logits], images.calibration)).get(logits)!),
  );
  const report: SensitivityReport = {
    layers: layers.map((l) => ({
      node: l.node,
      op: l.op,
      sqnr: capped(sqnr(reference.get(l.output)!, got.get(l.output)!)),
      alone: alone.get(l.node) ?? null,
      share: share.get(l.node)!,
      float: keepFloat.has(l.node),
    })),
    logitsSqnr,
    top1Agreement: top1Agreement(reference.get(logits)!, got.get(logits)!, classes),
    images: batchImages(judging),
    heldOut: images.validation !== null,
    calibrationImages: batchImages(images.calibration),
    calibrationSqnr,
    selectionImages: batchImages(selection),
    selectionSqnr,
    fallbackTried: tried,
    targetSqnr,
    met: logitsSqnr >= targetSqnr,
  };
  return { model: quantized, report };
}
