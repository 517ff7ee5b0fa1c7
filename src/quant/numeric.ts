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
 * How int8 weights are drawn, for the CPU that runs them:
 * - full: 8 bits ([-127, 127]), exact where int8 products are summed in 32 bits (VNNI, ARM);
 * - reduced: 7 bits ([-63, 63]): onnxruntime's U8S8 kernels on AVX2 without VNNI sum each pair of
 *   u8 x s8 products into int16 (vpmaddubsw), and 255 x 63 x 2 cannot saturate that;
 * - paired: 8 bits where no pair can saturate: those kernels pair rows 2j and 2j+1 of a [K, N] matrix
 *   (measured: scripts/x86-avx2 runs such weights exactly), so each pair of one sign is limited to
 *   |a| + |b| <= 128 (255 x 128 = 32,640 < 32,767). For the few pairs over it the two values move
 *   toward each other, and each channel's scale is chosen between the 8- and 7-bit ones to make the
 *   least squared error; matrices only (convolutions pair other elements: they take `reduced`).
 */
export type WeightRange = 'full' | 'reduced' | 'paired';

/** The largest sum of one pair's magnitudes (same sign) that int16 holds times 255. */
export const PAIR_LIMIT = 128;
/** Scales tried for a paired channel: absmax/127 times these (1 is 8-bit; 2, 7-bit: nothing to limit). */
const PAIR_STRETCH = Array.from({ length: 21 }, (_, i) => 1 + i / 20);

/**
 * Quantizes a weight tensor per output channel along `axis` (symmetric, zero point 0) in the given
 * range; `paired` needs a [K, N] matrix with axis 1.
 */
export function quantizeWeights(data: Float32Array, shape: readonly number[], axis: number, range: WeightRange = 'full'): WeightQuant {
  if (range === 'paired') {
    if (shape.length !== 2 || axis !== 1) throw new Error(`paired weights need a [K, N] matrix quantized along axis 1, not ${shape.join('x')} along ${axis}`);
    return pairedWeights(data, shape[0], shape[1]);
  }
  const channels = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const qmax = range === 'reduced' ? 63 : 127;
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

/** One pair of a channel at a scale: the two int8 values, within PAIR_LIMIT when they share a sign. */
function limitPair(a: number, b: number, scale: number): [number, number] {
  const qa = Math.min(127, Math.max(-127, roundHalfEven(a / scale)));
  const qb = Math.min(127, Math.max(-127, roundHalfEven(b / scale)));
  if (qa * qb <= 0 || Math.abs(qa) + Math.abs(qb) <= PAIR_LIMIT) return [qa, qb];
  // The nearest point of |a| + |b| = PAIR_LIMIT: both move by half the excess, then rounded on that line.
  const [x, y] = [Math.abs(a) / scale, Math.abs(b) / scale];
  const excess = (x + y - PAIR_LIMIT) / 2;
  const first = Math.min(127, Math.max(PAIR_LIMIT - 127, roundHalfEven(x - excess)));
  const sign = Math.sign(qa);
  return [sign * first, sign * (PAIR_LIMIT - first)];
}

function pairedWeights(data: Float32Array, k: number, n: number): WeightQuant {
  const q = new Int8Array(data.length);
  const scales = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    let absMax = 0;
    for (let r = 0; r < k; r++) absMax = Math.max(absMax, Math.abs(data[r * n + c]));
    if (absMax === 0) {
      scales[c] = 1;
      continue;
    }
    let best = { error: Infinity, scale: 1 };
    for (const stretch of PAIR_STRETCH) {
      const scale = Math.fround((absMax * stretch) / 127);
      let error = 0;
      for (let r = 0; r < k; r += 2) {
        const [a, b] = [data[r * n + c], r + 1 < k ? data[(r + 1) * n + c] : 0];
        const [qa, qb] = limitPair(a, b, scale);
        error += (a - qa * scale) ** 2 + (b - qb * scale) ** 2;
      }
      if (error < best.error) best = { error, scale };
    }
    scales[c] = best.scale;
    for (let r = 0; r < k; r += 2) {
      const [qa, qb] = limitPair(data[r * n + c], r + 1 < k ? data[(r + 1) * n + c] : 0, best.scale);
      q[r * n + c] = qa;
      if (r + 1 < k) q[(r + 1) * n + c] = qb;
    }
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
