import { roundHalfEven, toHalf } from '../util/numeric.js';

/** TF.js graph models can store float weights quantized; the loader dequantizes them to float32. */
export type TfjsWeightQuantization = 'uint8' | 'float16';

export interface QuantizationSpec {
  dtype: TfjsWeightQuantization;
  /** uint8 only: value = q * scale + min. */
  min?: number;
  scale?: number;
  original_dtype: 'float32';
}

/**
 * One float32 tensor in TF.js's quantized weight encoding. uint8 is affine per tensor over
 * [min, max] widened to include 0, with min nudged so that 0 is exact (as tfjs-converter does).
 */
export function quantizeTfjsWeight(data: Float32Array, dtype: TfjsWeightQuantization): { bytes: Uint8Array | Uint16Array; quantization: QuantizationSpec } {
  if (dtype === 'float16') return { bytes: Uint16Array.from(data, toHalf), quantization: { dtype, original_dtype: 'float32' } };
  let lo = 0;
  let hi = 0;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const zero = roundHalfEven(-lo / scale);
  const min = -zero * scale;
  const bytes = Uint8Array.from(data, (v) => Math.min(255, Math.max(0, roundHalfEven(v / scale) + zero)));
  return { bytes, quantization: { dtype, min, scale, original_dtype: 'float32' } };
}
