/** The integer arithmetic of int8 quantization, shared by the rewrites and their tests. */
import { roundHalfEven } from '../util/numeric.js';

export { roundHalfEven };

/** An activation's quantization: uint8, asymmetric (U8S8: unsigned activations, signed weights). */
export interface ActivationQuant {
  scale: number;
  zeroPoint: number;
}

/** Per-channel symmetric int8 weights: q = round(w / scale[c]), zero point 0. */
export interface WeightQuant {
  data: Int8Array;
  scales: Float32Array;
}

/**
 * The uint8 scale and zero point covering [min, max]; the range is widened to include 0 so that
 * zero (padding, ReLU-like outputs) is exact.
 */
export function activationQuant(min: number, max: number): ActivationQuant {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = hi > lo ? Math.fround((hi - lo) / 255) : 1;
  const zeroPoint = Math.min(255, Math.max(0, roundHalfEven(-lo / scale)));
  return { scale, zeroPoint };
}

/**
 * A signed activation's quantization: int8, symmetric (zero point 0), covering [-max|x|, max|x|];
 * with `reduceRange` 7 bits, for the same reason as weights (it is the second, signed operand).
 */
export function signedActivationQuant(min: number, max: number, reduceRange = false): ActivationQuant {
  const m = Math.max(Math.abs(min), Math.abs(max));
  return { scale: m > 0 ? Math.fround(m / (reduceRange ? 63 : 127)) : 1, zeroPoint: 0 };
}

export function quantizeActivation(x: number, q: ActivationQuant): number {
  return Math.min(255, Math.max(0, roundHalfEven(x / q.scale) + q.zeroPoint));
}

/**
 * Quantizes a weight tensor per output channel along `axis`. With `reduceRange` the weights use
 * 7 bits ([-64, 63]): onnxruntime's U8S8 kernels on AVX2 without VNNI sum pairs of u8*s8 products
 * into int16 (vpmaddubsw), which can saturate with full-range weights.
 */
export function quantizeWeights(data: Float32Array, shape: readonly number[], axis: number, reduceRange = false): WeightQuant {
  const channels = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const qmax = reduceRange ? 63 : 127;
  const absMax = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    absMax[c] = Math.max(absMax[c], Math.abs(data[i]));
  }
  const scales = absMax.map((m) => (m > 0 ? Math.fround(m / qmax) : 1));
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    q[i] = Math.min(qmax, Math.max(-qmax, roundHalfEven(data[i] / scales[c])));
  }
  return { data: q, scales };
}

/** Signal-to-quantization-noise ratio in dB of `test` against `reference` (Infinity when equal). */
export function sqnr(reference: ArrayLike<number>, test: ArrayLike<number>): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    signal += reference[i] * reference[i];
    noise += (reference[i] - test[i]) ** 2;
  }
  if (noise === 0) return Infinity;
  return 10 * Math.log10(signal / noise);
}
