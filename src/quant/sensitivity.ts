import type { FloatTensor } from '../core/tensor.js';
import type { OnnxModel } from '../onnx/model.js';
import type { ProductLayer, QuantLayer } from './layers.js';
import { sqnr } from './numeric.js';
import { type StaticPlan, quantizeStatic } from './qdq.js';
import { type Values, forEachBatch } from './run.js';

/** SQNR is capped here in reports: an exact value would be Infinity. */
const SQNR_CAP = 120;

/** What the fallback can keep in float32: a layer with weights, or an activation product. */
export type FallbackUnit = Pick<QuantLayer | ProductLayer, 'node' | 'op' | 'output'>;

/** The images that set the ranges and rank the layers, and the held-out ones that judge the result. */
export interface JudgedBatches {
  calibration: readonly FloatTensor[];
  /** The calibration batches themselves when nothing was held out. */
  validation: readonly FloatTensor[];
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
  /** False when the validation images are the calibration images (nothing could be held out). */
  heldOut: boolean;
  calibrationImages: number;
  /** The same logits SQNR on the calibration images: how much better int8 does on what it was fitted to. */
  calibrationSqnr: number;
  targetSqnr: number;
  /** Whether the logits reached the target (with at most the allowed fallbacks). */
  met: boolean;
  /**
   * The fallback kept layers in float32 until these same validation images met the target: the
   * figure then decided where to stop, so it is the first one to pass, not an independent measure.
   */
  stoppedOnValidation: boolean;
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
 * Quantizes every layer; if the logits miss `targetSqnr` on the validation images, measures each
 * layer's cost alone (on calibration images) and keeps the costliest in float32, one at a time,
 * until the validation logits meet the target or `maxFallback` layers are float.
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
  const batches = images.validation;
  const reference = await concatValues(model, watched, batches);
  const keepFloat = new Set(plan.keepFloat);
  const measure = async () => {
    const quantized = quantizeStatic(model, { ...plan, keepFloat });
    const got = await concatValues(quantized, watched, batches);
    return { quantized, got, logitsSqnr: capped(sqnr(reference.get(logits)!, got.get(logits)!)) };
  };
  let current = await measure();
  let stoppedOnValidation = false;
  const alone = new Map<string, number>();
  if (current.logitsSqnr < targetSqnr && maxFallback > 0) {
    const few = images.calibration.slice(0, SENSITIVITY_BATCHES);
    const fewReference = (await concatValues(model, [logits], few)).get(logits)!;
    const candidates = layers.filter((l) => !keepFloat.has(l.node));
    for (const [i, layer] of candidates.entries()) {
      const others = new Set(layers.map((l) => l.node).filter((n) => n !== layer.node));
      const got = await concatValues(quantizeStatic(model, { ...plan, keepFloat: others }), [logits], few);
      alone.set(layer.node, capped(sqnr(fewReference, got.get(logits)!)));
      onProgress?.({ phase: 'sensitivity', done: i + 1, total: candidates.length });
    }
    const order = [...candidates].sort((a, b) => alone.get(a.node)! - alone.get(b.node)!);
    for (const layer of order.slice(0, maxFallback)) {
      keepFloat.add(layer.node);
      current = await measure();
      onProgress?.({ phase: 'fallback', floatLayers: keepFloat.size, logitsSqnr: current.logitsSqnr });
      if (current.logitsSqnr >= targetSqnr) {
        stoppedOnValidation = true;
        break;
      }
    }
  }
  const report: SensitivityReport = {
    layers: layers.map((l) => ({
      node: l.node,
      op: l.op,
      sqnr: capped(sqnr(reference.get(l.output)!, current.got.get(l.output)!)),
      alone: alone.get(l.node) ?? null,
      float: keepFloat.has(l.node),
    })),
    logitsSqnr: current.logitsSqnr,
    top1Agreement: top1Agreement(reference.get(logits)!, current.got.get(logits)!, classes),
    images: batchImages(batches),
    heldOut: images.validation !== images.calibration,
    calibrationImages: batchImages(images.calibration),
    calibrationSqnr:
      images.validation === images.calibration
        ? current.logitsSqnr
        : capped(
            sqnr(
              (await concatValues(model, [logits], images.calibration)).get(logits)!,
              (await concatValues(current.quantized, [logits], images.calibration)).get(logits)!,
            ),
          ),
    targetSqnr,
    met: current.logitsSqnr >= targetSqnr,
    stoppedOnValidation,
  };
  return { model: current.quantized, report };
}
